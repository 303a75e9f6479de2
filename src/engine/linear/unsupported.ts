/** A derivative the table does not provide: an error as soon as the linearisation needs it. */
import { UnsupportedError } from '../../errors.js';
import type { PartialOf, LinearKind } from './types.js';

function refuse(partial: PartialOf<'unsupported'>): never {
  throw new UnsupportedError(`cannot differentiate further: ${partial.reason} are not available`);
}

export const unsupported: LinearKind<'unsupported'> = {
  reads: refuse,
  step: refuse,
  transpose: (_b, partial) => refuse(partial),
};
