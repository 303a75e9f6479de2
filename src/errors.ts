/**
 * Typed errors of the core. A `UserError` is a mistake in what the user gave
 * (expression, values, flags): the CLI prints its message after `error:` and
 * exits 2. Anything else that escapes is an internal failure (exit 1).
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
}

/** A syntax error, with the expression and the 0-based column it points at (null when the parser does not say). */
export class ParseError extends UserError {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    readonly expression: string,
    readonly column: number | null,
  ) {
    super(message);
  }
}

/** Operand shapes that do not fit an operator, found at compile time. */
export class ShapeError extends UserError {
  override readonly name = 'ShapeError';
}

/** A construct or function outside the language. */
export class UnsupportedError extends UserError {
  override readonly name = 'UnsupportedError';
}

/** A value, flag or file given by the user that cannot be used as it is. */
export class InputError extends UserError {
  override readonly name = 'InputError';
}

/** Work that would exceed a limit (memory, size), refused before it starts. */
export class LimitError extends UserError {
  override readonly name = 'LimitError';
}
