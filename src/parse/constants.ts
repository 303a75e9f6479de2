/** The named constants of the language, as mathjs defines them (booleans are 1 and 0). */
export const CONSTANTS: Readonly<Record<string, number>> = {
  pi: Math.PI,
  PI: Math.PI,
  e: Math.E,
  E: Math.E,
  tau: 2 * Math.PI,
  phi: (1 + Math.sqrt(5)) / 2,
  Infinity,
  Inf: Infinity,
  NaN,
  true: 1,
  false: 0,
  LN2: Math.LN2,
  LN10: Math.LN10,
  LOG2E: Math.LOG2E,
  LOG10E: Math.LOG10E,
  SQRT2: Math.SQRT2,
  SQRT1_2: Math.SQRT1_2,
};

/** Whether a name is one of the constants (own keys only: "constructor" is not a constant). */
export const isConstantName = (name: string): boolean => Object.hasOwn(CONSTANTS, name);

/**
 * Words that mathjs's parser reads as values, not names: `Infinity` in an
 * expression is the number whatever the scope says (math.evaluate ignores a
 * scope entry for it), unlike `pi` or `Inf`, which are names a value shadows.
 * A binding of one could never be used, so it is refused by name.
 */
export const LITERAL_WORDS: readonly string[] = ['true', 'false', 'Infinity', 'NaN', 'null', 'undefined'];

/** The message for a binding of a literal word, or null for a name that can be bound. */
export function literalBindingProblem(name: string): string | null {
  if (!LITERAL_WORDS.includes(name)) return null;
  const instead = name === 'Infinity' ? ' (Inf is a name and can be bound)' : '';
  return `${name} is a literal of the language, not a name, so it cannot be given a value${instead}: rename the variable`;
}
