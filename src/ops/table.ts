/**
 * The operation table: every operation of the graph, keyed by its code. The
 * type makes a missing entry a compile error.
 */
import { ACTIVATIONS } from './activations.js';
import { ELEMENTWISE_BINARY, ELEMENTWISE_UNARY } from './elementwise.js';
import { EXTREMES } from './extremes.js';
import { LINALG } from './linalg.js';
import { SOLVE } from './solve.js';
import { STRUCTURAL } from './structural.js';
import type { OpName, OpSpec } from './types.js';

export const OPS: Readonly<Record<OpName, OpSpec>> = {
  ...STRUCTURAL,
  ...ELEMENTWISE_UNARY,
  ...ELEMENTWISE_BINARY,
  ...LINALG,
  ...EXTREMES,
  ...ACTIVATIONS,
  ...SOLVE,
};

/** Operation codes as stored on the tape: the position of the name in this list. */
export const OP_NAMES: readonly OpName[] = Object.keys(OPS) as OpName[];
export const OP_CODE: Readonly<Record<OpName, number>> = Object.fromEntries(
  OP_NAMES.map((name, code) => [name, code]),
) as Record<OpName, number>;
