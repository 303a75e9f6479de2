/**
 * out = ±A⁻¹ · in · R (R absent: the identity), for the derivatives of a
 * linear solve: every pass solves with the LU factors of A (Aᵀ in reverse),
 * never with an explicit inverse.
 */
import { luSolveColumn, luSolveTransposedColumn } from '../../ops/lu.js';
import { asRowMajor } from '../../shape.js';
import { transposeNode } from './nodes.js';
import { addTimes, times } from './product.js';
import type { Accumulator, Direction, LinearKind, SolveStep } from './types.js';

/** n (A is n×n), k (the columns of out) and q (the columns of in). */
function sizes(step: SolveStep): readonly [number, number, number] {
  const [n, k] = asRowMajor(step.out.shape);
  return [n, k, asRowMajor(step.arg.shape)[1]];
}

/** One column of A⁻¹ (or A⁻ᵀ) for the per-entry kernels, grown when a larger A comes: nothing allocated per entry. */
let unitColumn = new Float64Array(0);
function solveUnit(step: SolveStep, v: Float64Array, n: number, i: number, transposed: boolean): Float64Array {
  if (unitColumn.length < n) unitColumn = new Float64Array(n);
  unitColumn.fill(0, 0, n);
  unitColumn[i] = 1;
  (transposed ? luSolveTransposedColumn : luSolveColumn)(v, step.lu.offset, n, unitColumn, 0, 1);
  return unitColumn;
}

/**
 * One entry (`value` at `entry` of the source) through the solve: a cotangent of out (i, j) reaches in as
 * ±A⁻ᵀ·eᵢ in column j (through Rᵀ when present); a tangent of in (a, b) reaches out as ±A⁻¹·eₐ in column b
 * (through R).
 */
function throughSolve(
  step: SolveStep,
  direction: Direction,
  v: Float64Array,
  entry: number,
  value: number,
  acc: Accumulator,
): void {
  const [n, k, q] = sizes(step);
  const reverse = direction === 'reverse';
  const width = reverse ? k : q;
  const column = entry % width;
  const solved = solveUnit(step, v, n, Math.floor(entry / width), reverse);
  for (let r = 0; r < n; r++) {
    const weight = times(step.sign * value, solved[r]!);
    if (weight === 0) continue;
    if (step.right === null) acc.add(r * k + column, weight);
    else if (reverse)
      for (let t = 0; t < q; t++) addTimes(acc, r * q + t, weight, v[step.right.offset + t * k + column]!);
    else for (let j = 0; j < k; j++) addTimes(acc, r * k + j, weight, v[step.right.offset + column * k + j]!);
  }
}

export const solve: LinearKind<'solve'> = {
  reads: (partial) => (partial.right === null ? [partial.lu] : [partial.lu, partial.right]),
  step: (partial, out, arg, operand) => ({
    kind: 'solve',
    out,
    arg,
    lu: operand(partial.lu),
    right: partial.right === null ? null : operand(partial.right),
    sign: partial.negate ? -1 : 1,
  }),
  transpose(b, partial, _node, _arg, cotangent) {
    // in̄ = ±A⁻ᵀ · out̄ · Rᵀ, a solve with Aᵀ.
    const carried =
      partial.right === null ? cotangent : b.apply('matmul', [cotangent, transposeNode(b, partial.right)]);
    const solved = b.apply('lusolve', [transposeNode(b, partial.a), carried]);
    return partial.negate ? b.apply('unaryMinus', [solved]) : solved;
  },

  pushforward(step, v, tangent, scratch) {
    const [n, k, q] = sizes(step);
    const { right, sign } = step;
    const a = step.arg.offset;
    // The tangent times R, into the scratch buffer; an all-zero tangent contributes nothing.
    let nonzero = false;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        let sum = 0;
        if (right === null) sum = tangent[a + i * k + j]!;
        else for (let t = 0; t < q; t++) sum += times(tangent[a + i * q + t]!, v[right.offset + t * k + j]!);
        scratch[i * k + j] = sum;
        nonzero ||= sum !== 0;
      }
    }
    if (!nonzero) return;
    for (let j = 0; j < k; j++) luSolveColumn(v, step.lu.offset, n, scratch, j, k);
    const o = step.out.offset;
    for (let e = 0; e < n * k; e++) if (scratch[e] !== 0) tangent[o + e]! += sign * scratch[e]!;
  },
  pullback(step, v, cotangent, scratch) {
    const [n, k, q] = sizes(step);
    const { right, sign } = step;
    const o = step.out.offset;
    let nonzero = false;
    for (let e = 0; e < n * k; e++) {
      scratch[e] = cotangent[o + e]!;
      nonzero ||= scratch[e] !== 0;
    }
    if (!nonzero) return;
    for (let j = 0; j < k; j++) luSolveTransposedColumn(v, step.lu.offset, n, scratch, j, k);
    const a = step.arg.offset;
    for (let i = 0; i < n; i++) {
      if (right === null) {
        for (let j = 0; j < k; j++)
          if (scratch[i * k + j] !== 0) cotangent[a + i * k + j]! += sign * scratch[i * k + j]!;
        continue;
      }
      for (let t = 0; t < q; t++) {
        let sum = 0;
        for (let j = 0; j < k; j++) sum += times(scratch[i * k + j]!, v[right.offset + t * k + j]!);
        if (sum !== 0) cotangent[a + i * q + t]! += sign * sum;
      }
    }
  },
  pullEntry: (step, v, entry, g, acc) => throughSolve(step, 'reverse', v, entry, g, acc),
  pushEntry: (step, v, entry, t, acc) => throughSolve(step, 'forward', v, entry, t, acc),
  spreads: () => true,
  sumsEntries: () => false,
  diagonal: () => null,
  // A⁻¹ is dense by structure: an entry reaches its whole column (R absent), or everything.
  reach(step, direction, _v, entry, _cutAtZeros, acc) {
    const [n, k, q] = sizes(step);
    const target = direction === 'forward' ? step.out : step.arg;
    if (step.right !== null) {
      for (let t = 0; t < target.size; t++) acc.add(t, 1);
      return;
    }
    const column = entry % (direction === 'forward' ? q : k);
    for (let i = 0; i < n; i++) acc.add(i * k + column, 1);
  },
  scratchSize: (step) => step.out.size,
};
