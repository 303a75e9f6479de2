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
