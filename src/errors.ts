/**
 * Typed errors of the core. A `UserError` is a mistake in what the user gave
 * (expression, values, options): the CLI prints its message after `error:` and
 * exits 2. Anything else that escapes is an internal failure (exit 1).
 */

/** The limits a message may tell the user to raise, by their names in the library. */
export type LimitName = 'maxExpressionLength' | 'maxNodes' | 'maxDepth' | 'maxMemoryBytes';

/** A result too large to hold; `vector` stands for any result of a value, a gradient or a product. */
export type LargeResult = 'jacobian' | 'sparseJacobian' | 'hessian' | 'sparseHessian' | 'vector';

/**
 * How a front end speaks of what the user gives. The library's messages name
 * its arguments and options (`v`, `maxMemoryBytes`); the CLI words the same
 * mistakes with its flags (`--v`, `--max-memory`).
 */
export interface Wording {
  /** A seed vector and its length, as "v has 2 entries". */
  seedLength(seed: 'v' | 'u', length: number): string;
  /** How to raise a limit, as "raise it with maxMemoryBytes"; null where the caller cannot. */
  raise(limit: LimitName): string | null;
  /** How to give a variable a value, as "give x a value". */
  bind(name: string): string;
  /** How to stop giving a variable a value, as "leave x out of the values". */
  unbind(name: string): string;
  /** What to compute instead of a result too large to hold, as "use sparseJacobian, vjp or jvp instead". */
  instead(result: LargeResult): string;
  /** That there is no variable to differentiate, and how to give one. */
  noVariables(): string;
}

export const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

/** The library's words: `compile`, `jacobian`, … take the expression, values and options as arguments. */
export const LIBRARY_WORDING: Wording = {
  seedLength: (seed, length) => `${seed} has ${plural(length, 'entry', 'entries')}`,
  // The expression's length and the graph's size have fixed limits in the library.
  raise: (limit) => (limit === 'maxMemoryBytes' ? 'raise it with the option maxMemoryBytes' : null),
  bind: (name) => `give ${name} a value`,
  unbind: (name) => `leave ${name} out of the values`,
  instead: (result) =>
    `use ${{ jacobian: 'sparseJacobian, vjp or jvp', sparseJacobian: 'vjp or jvp', hessian: 'sparseHessian or hvp', sparseHessian: 'hvp', vector: 'smaller values or fewer variables (wrt)' }[result]} instead`,
  noVariables: () => 'there is no variable to differentiate: give one a value',
};

/** A message followed by what to do about it in parentheses, when there is something to do. */
export const withRemedy = (message: string, remedy: string | null): string =>
  remedy === null ? message : `${message} (${remedy})`;

/**
 * The control characters a terminal would act on (C0 but tab and line
 * breaks, DEL, C1: ESC starts a colour or moves the cursor, BEL rings) as
 * escapes such as `\x1b`, so that text from the user is shown, not obeyed.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/** A short prefix of text from an input (a file's cell or string), so that a message stays one readable line. */
export function brief(text: string, max = 40): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  // Never half a surrogate pair: the lone half would show as a replacement character.
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/** A message, or how to write it in a front end's words. */
export type Message = string | ((wording: Wording) => string);

export class UserError extends Error {
  override readonly name: string = 'UserError';
  private readonly wordedBy: ((wording: Wording) => string) | null;

  constructor(message: Message) {
    super(typeof message === 'string' ? message : message(LIBRARY_WORDING));
    this.wordedBy = typeof message === 'string' ? null : message;
  }

  /** The message in a front end's words (the CLI's flags); `message` is in the library's. */
  messageIn(wording: Wording): string {
    return this.wordedBy === null ? this.message : this.wordedBy(wording);
  }
}

/** A syntax error, with the expression and the 0-based column it points at (null when the parser does not say). */
export class ParseError extends UserError {
  override readonly name = 'ParseError';
  constructor(
    message: Message,
    readonly expression: string,
    readonly column: number | null,
  ) {
    super(message);
  }
}

/** Operand shapes that do not fit an operator, found when the expression is compiled, before any number is computed. */
export class ShapeError extends UserError {
  override readonly name = 'ShapeError';
}

/** A construct or function outside the language. */
export class UnsupportedError extends UserError {
  override readonly name = 'UnsupportedError';
}

/** A value, option or file given by the user that cannot be used as it is. */
export class InputError extends UserError {
  override readonly name = 'InputError';
}

/** A name that the expression uses but that has no value. */
export class UnboundNameError extends UserError {
  override readonly name = 'UnboundNameError';
  constructor(readonly variable: string) {
    super((wording) => `no value for ${variable}: ${wording.bind(variable)}`);
  }
}

/** Work that would exceed a limit (memory, size), refused before it starts. */
export class LimitError extends UserError {
  override readonly name = 'LimitError';
}
