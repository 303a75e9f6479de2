/** out = L · in · R for matrices, either factor maybe absent. */
import type { Operand } from '../../ops/index.js';
import { asRowMajor } from '../../shape.js';
import { transposeNode } from './nodes.js';
import {
  addTimes,
  middleSize,
  product,
  productAccumulate,
  rowMajor,
  runProducts,
  transposed,
  type MatrixLayout,
} from './product.js';
import {
  DenseRowAccumulator,
  type Accumulator,
  type Direction,
  type LinearKind,
  type MatmulStep,
  type Products,
} from './types.js';

/** The products of both passes, with the cotangent or tangent of out (r×c) and of in (p×q) row-major. */
function products(out: Operand, arg: Operand, left: Operand | null, right: Operand | null): Products {
  const [r, c] = asRowMajor(out.shape);
  const [p, q] = asRowMajor(arg.shape);
  const outRows = rowMajor(out);
  const argRows = rowMajor(arg);
  if (left === null) {
    const R = rowMajor(right!);
    return {
      reverse: [product(outRows, transposed(R), arg.offset, [r, c, q], 'left')], // Ā += Ȳ·Rᵀ
      forward: [product(argRows, R, out.offset, [r, q, c], 'left')], // Ẏ += Ȧ·R
    };
  }
  const L = rowMajor(left);
  if (right === null) {
    return {
      reverse: [product(transposed(L), outRows, arg.offset, [p, r, c], 'right')], // Ā += Lᵀ·Ȳ
      forward: [product(L, argRows, out.offset, [r, p, c], 'right')], // Ẏ += L·Ȧ
    };
  }
  const R = rowMajor(right);
  // Two-sided: the middle product goes through the scratch buffer, row-major from 0.
  const middle = (cols: number): MatrixLayout => ({ offset: 0, rowStride: cols, colStride: 1 });
  return {
    reverse: [
      product(transposed(L), outRows, 0, [p, r, c], 'right'),
      product(middle(c), transposed(R), arg.offset, [p, c, q], 'left'),
    ],
    forward: [product(L, argRows, 0, [r, p, q], 'right'), product(middle(q), R, out.offset, [r, q, c], 'left')],
  };
}

/**
 * target[at + a·stride] += value·v[from + a] for a < count, skipping zeros of v: a function of its own, small, so
 * that V8 optimises it within the first calls of a cold process (inside applyEntry it waited for a 15 ms compile).
 */
function addScaledRow(
  target: Float64Array,
  at: number,
  stride: number,
  v: Float64Array,
  from: number,
  count: number,
  value: number,
): void {
  for (let a = 0; a < count; a++) {
    const l = v[from + a]!;
    if (l !== 0) target[at + a * stride]! += value * l;
  }
}

/**
 * Source entry k with `value` (a cotangent of out in reverse, a tangent of in forward) into the target's
 * entries. Between out entry (i, j) and in entry (a, b) the partial is L[i, a]·R[b, j], a factor that is
 * absent being the identity; `structural` counts every factor entry as 1.
 */
function applyEntry(
  step: MatmulStep,
  direction: Direction,
  v: Float64Array,
  k: number,
  value: number,
  acc: Accumulator,
  structural: boolean,
): void {
  const [r, c] = asRowMajor(step.out.shape);
  const [p, q] = asRowMajor(step.arg.shape);
  const { left, right } = step;
  const reverse = direction === 'reverse';
  const [sourceCols, targetRows, targetCols] = reverse ? [c, p, q] : [q, r, c];
  const i = Math.floor(k / sourceCols);
  const j = k % sourceCols;
  if (reverse && !structural && acc instanceof DenseRowAccumulator && right === null && left !== null) {
    // The common dense case (a matrix times a vector): one row of L, scaled, straight into the block.
    addScaledRow(acc.data, acc.base + j, q, v, left.offset + i * p, p, value);
    return;
  }
  // Without a left factor only row i is reached; without a right one only column j.
  const [xFrom, xTo] = left === null ? [i, i + 1] : [0, targetRows];
  const [yFrom, yTo] = right === null ? [j, j + 1] : [0, targetCols];
  for (let x = xFrom; x < xTo; x++) {
    const l = left === null || structural ? 1 : v[left.offset + (reverse ? i * p + x : x * p + i)]!;
    if (l === 0) continue;
    for (let y = yFrom; y < yTo; y++) {
      const rr = right === null || structural ? 1 : v[right.offset + (reverse ? y * c + j : j * c + y)]!;
      addTimes(acc, x * targetCols + y, value * l, rr);
    }
  }
}

export const matmul: LinearKind<'matmul'> = {
  reads: (partial) => [partial.left, partial.right].filter((id) => id !== null),
  step(partial, out, arg, operand) {
    const left = partial.left === null ? null : operand(partial.left);
    const right = partial.right === null ? null : operand(partial.right);
    const rows = left === null || right === null ? null : products(at0(out), at0(arg), left, right);
    return { kind: 'matmul', out, arg, left, right, rows, ...products(out, arg, left, right) };
  },
  transpose(b, partial, _node, _arg, cotangent) {
    let product = cotangent;
    if (partial.left !== null) product = b.apply('matmul', [transposeNode(b, partial.left), product]);
    if (partial.right !== null) product = b.apply('matmul', [product, transposeNode(b, partial.right)]);
    return product;
  },

  pullback: (step, v, cotangent, scratch) => runProducts(step.reverse, v, cotangent, scratch),
  pushforward: (step, v, tangent, scratch) => runProducts(step.forward, v, tangent, scratch),
  pullEntry: (step, v, k, g, acc) => applyEntry(step, 'reverse', v, k, g, acc, false),
  pushEntry: (step, v, k, t, acc) => applyEntry(step, 'forward', v, k, t, acc, false),
  spreads: (step) => step.left !== null || step.right !== null,
  sumsEntries: () => false,
  diagonal: () => null,
  // Dependence through a product is structural: only element-wise and row partials cut at zeros.
  reach: (step, direction, v, k, _cutAtZeros, acc) => applyEntry(step, direction, v, k, 1, acc, true),
  scratchSize: (step) => Math.max(middleSize(step.reverse), middleSize(step.forward)),
  denseRow(step, direction, v, source, target, scratch) {
    if (step.rows === null) return false;
    const [first, second] = direction === 'reverse' ? step.rows.reverse : step.rows.forward;
    scratch.fill(0, 0, first!.rows * first!.cols);
    productAccumulate(first!, v, source, scratch);
    productAccumulate(second!, v, scratch, target);
    return true;
  },
};

/** The operand's layout at offset 0: a row view of a block instead of the pass buffer. */
const at0 = (operand: Operand): Operand => ({ ...operand, offset: 0 });
