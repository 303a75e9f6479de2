/** The node does not change with this input: no step, and nothing in the gradient graph. */
import type { LinearKind } from './types.js';

export const zero: LinearKind<'zero'> = {
  reads: () => [],
  step: () => null,
  transpose: () => null,
};
