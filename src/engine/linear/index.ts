/**
 * Every kind of partial derivative with its one implementation. The mapped
 * type makes a kind of `Partial` without an entry a compile error.
 */
import type { Partial } from '../../ops/index.js';
import { dense } from './dense.js';
import { elementwise } from './elementwise.js';
import { extreme } from './extreme.js';
import { matmul } from './matmul.js';
import { row } from './row.js';
import { select } from './select.js';
import { solve } from './solve.js';
import type { Kind, LinearKind, PartialRules, Step, StepRules } from './types.js';
import { unsupported } from './unsupported.js';
import { zero } from './zero.js';

export const LINEAR: { readonly [K in Kind]: LinearKind<K> } = {
  zero,
  elementwise,
  select,
  row,
  extreme,
  matmul,
  dense,
  solve,
  unsupported,
};

/** The implementation of a partial's kind (the table's type pairs each entry with its kind). */
export const partialRulesOf = (partial: Partial): PartialRules<Partial, Step> => LINEAR[partial.kind];

/** The kernels of a step's kind. */
export const rulesOf = (step: Step): StepRules<Step> => LINEAR[step.kind];

export { times } from './product.js';
export { DenseRowAccumulator } from './types.js';
export type { Accumulator, Direction, Step, StepRules } from './types.js';
