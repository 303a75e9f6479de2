/** Scalar out = Σₖ d[k]·in[k] (a reduction); `d` may be a scalar. */
import { sumInBlocks } from '../../ops/index.js';
import { broadcast } from './nodes.js';
import { addTimes, times } from './product.js';
import type { LinearKind, RowStep } from './types.js';

const dAt = (step: RowStep, v: Float64Array, k: number): number => v[step.d.offset + (step.d.size === 1 ? 0 : k)]!;

export const row: LinearKind<'row'> = {
  reads: (partial) => [partial.d],
  step: (partial, out, arg, operand) => ({ kind: 'row', out, arg, d: operand(partial.d) }),
  transpose: (b, partial, _node, arg, cotangent) =>
    broadcast(b, b.apply('strongMultiply', [cotangent, partial.d]), b.shapeOf(arg)),

  pullback(step, v, cotangent) {
    const g = cotangent[step.out.offset]!;
    if (g === 0) return;
    const { offset: a, size: n } = step.arg;
    const { offset: dd, size: dSize } = step.d;
    // A scalar partial gives every entry the same product: formed once, outside the loop.
    if (dSize === 1) {
      const product = times(g, v[dd]!);
      for (let k = 0; k < n; k++) cotangent[a + k]! += product;
    } else for (let k = 0; k < n; k++) cotangent[a + k]! += times(g, v[dd + k]!);
  },
  pushforward(step, v, tangent) {
    const a = step.arg.offset;
    // 0 + Σ in blocks, as ops/sums.ts adds entries.
    tangent[step.out.offset]! += sumInBlocks(step.arg.size, (from, end) => {
      let block = 0;
      for (let k = from; k < end; k++) block += times(dAt(step, v, k), tangent[a + k]!);
      return block;
    });
  },
  pullEntry(step, v, _k, g, acc) {
    for (let t = 0; t < step.arg.size; t++) {
      addTimes(acc, t, g, dAt(step, v, t));
    }
  },
  pushEntry(step, v, k, t, acc) {
    addTimes(acc, 0, dAt(step, v, k), t);
  },
  spreads: (_step, direction) => direction === 'reverse',
  sumsEntries: (_step, direction) => direction === 'forward',
  diagonal: () => null,
  reach(step, direction, v, k, cutAtZeros, acc) {
    if (direction === 'forward') {
      if (!cutAtZeros || dAt(step, v, k) !== 0) acc.add(0, 1);
      return;
    }
    for (let t = 0; t < step.arg.size; t++) if (!cutAtZeros || dAt(step, v, t) !== 0) acc.add(t, 1);
  },
  scratchSize: () => 0,
};
