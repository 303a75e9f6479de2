/** out = D · in, with D an [outSize, inSize] matrix. */
import { sizeOf } from '../../shape.js';
import { reshape, transposeNode } from './nodes.js';
import { addTimes, column, middleSize, product, runProducts } from './product.js';
import type { LinearKind } from './types.js';

export const dense: LinearKind<'dense'> = {
  reads: (partial) => [partial.d],
  step(partial, out, arg, operand) {
    const d = operand(partial.d);
    const m = out.size;
    const n = arg.size;
    const D = { offset: d.offset, rowStride: n, colStride: 1 };
    const cotangentRow = { offset: out.offset, rowStride: m, colStride: 1 };
    return {
      kind: 'dense',
      out,
      arg,
      d,
      reverse: [product(cotangentRow, D, arg.offset, [1, m, n], 'left')], // Ā (1×n) += Ȳ (1×m) · D
      forward: [product(D, column(arg.offset), out.offset, [m, n, 1], 'right')], // Ẏ (m×1) += D · Ȧ (n×1)
    };
  },
  transpose(b, partial, node, arg, cotangent) {
    const m = sizeOf(b.shapeOf(node));
    const product = b.apply('matmul', [transposeNode(b, partial.d), reshape(b, cotangent, [m, 1])]);
    return reshape(b, product, b.shapeOf(arg));
  },

  pullback: (step, v, cotangent, scratch) => runProducts(step.reverse, v, cotangent, scratch),
  pushforward: (step, v, tangent, scratch) => runProducts(step.forward, v, tangent, scratch),
  pullEntry(step, v, k, g, acc) {
    const n = step.arg.size;
    const rowAt = step.d.offset + k * n;
    for (let t = 0; t < n; t++) {
      addTimes(acc, t, g, v[rowAt + t]!);
    }
  },
  pushEntry(step, v, k, t, acc) {
    const n = step.arg.size;
    for (let o = 0; o < step.out.size; o++) {
      addTimes(acc, o, v[step.d.offset + o * n + k]!, t);
    }
  },
  spreads: () => true,
  sumsEntries: () => false,
  diagonal: () => null,
  // Every entry reaches every entry: a dense partial is dense by structure.
  reach(step, direction, _v, _k, _cutAtZeros, acc) {
    const size = direction === 'forward' ? step.out.size : step.arg.size;
    for (let t = 0; t < size; t++) acc.add(t, 1);
  },
  scratchSize: (step) => Math.max(middleSize(step.reverse), middleSize(step.forward)),
};
