/** out[k] = d[k]·in[k]: a diagonal partial; `d` or `in` may be a scalar broadcast over the output. */
import { sumInBlocks } from '../../ops/index.js';
import { sizeOf } from '../../shape.js';
import { broadcast, reshape } from './nodes.js';
import { addTimes, times } from './product.js';
import type { ElementwiseStep, LinearKind } from './types.js';

/** The partial's number at entry k (a scalar partial broadcasts). */
const dAt = (step: ElementwiseStep, v: Float64Array, k: number): number =>
  v[step.d.offset + (step.d.size === 1 ? 0 : k)]!;

/** A scalar argument broadcast over a larger output: one argument entry feeds every output entry. */
const broadcasts = (step: ElementwiseStep): boolean => step.arg.size === 1 && step.out.size > 1;

/** cotangent[a + k] += times(cotangent[o + k], d) for k < n; times(c, 1) is c + 0 (0 for -0, as times gives). */
function pullScalar(cotangent: Float64Array, a: number, o: number, n: number, d: number): void {
  if (d === 1) for (let k = 0; k < n; k++) cotangent[a + k]! += cotangent[o + k]! + 0;
  else for (let k = 0; k < n; k++) cotangent[a + k]! += times(cotangent[o + k]!, d);
}

/** 0 + Σ times(cotangent[o + k], d) for k < n, in blocks as ops/sums.ts adds entries. */
function sumTimesScalar(cotangent: Float64Array, o: number, n: number, d: number): number {
  return sumInBlocks(n, (from, end) => {
    let block = 0;
    if (d === 1) for (let k = from; k < end; k++) block += cotangent[o + k]! + 0;
    else for (let k = from; k < end; k++) block += times(cotangent[o + k]!, d);
    return block;
  });
}

/** 0 + Σ times(cotangent[o + k], v[dd + k]) for k < n, in blocks. */
function sumTimes(cotangent: Float64Array, o: number, v: Float64Array, dd: number, n: number): number {
  return sumInBlocks(n, (from, end) => {
    let block = 0;
    for (let k = from; k < end; k++) block += times(cotangent[o + k]!, v[dd + k]!);
    return block;
  });
}

export const elementwise: LinearKind<'elementwise'> = {
  reads: (partial) => [partial.d],
  step: (partial, out, arg, operand) => ({ kind: 'elementwise', out, arg, d: operand(partial.d) }),
  transpose(b, partial, node, arg, cotangent) {
    const argShape = b.shapeOf(arg);
    const product = b.apply('strongMultiply', [cotangent, partial.d]);
    if (sizeOf(argShape) === 1 && sizeOf(b.shapeOf(product)) > 1)
      return reshape(b, b.apply('sum', [product]), argShape);
    return reshape(b, broadcast(b, product, b.shapeOf(node)), argShape);
  },

  // One loop per case (a scalar partial read once, a scalar argument summed), each a few operations per entry.
  pullback(step, v, cotangent, _scratch) {
    const { out, arg, d } = step;
    const o = out.offset;
    const n = out.size;
    const dd = d.offset;
    if (arg.size === n) {
      const a = arg.offset;
      if (d.size === 1 && n > 1) pullScalar(cotangent, a, o, n, v[dd]!);
      else for (let k = 0; k < n; k++) cotangent[a + k]! += times(cotangent[o + k]!, v[dd + k]!);
    } else if (d.size === 1) {
      cotangent[arg.offset]! += sumTimesScalar(cotangent, o, n, v[dd]!);
    } else cotangent[arg.offset]! += sumTimes(cotangent, o, v, dd, n);
  },
  pushforward(step, v, tangent, _scratch) {
    const { out, arg, d } = step;
    const o = out.offset;
    const a = arg.offset;
    const dd = d.offset;
    const sd = d.size === 1 ? 0 : 1;
    const sa = arg.size === 1 ? 0 : 1;
    for (let k = 0; k < out.size; k++) tangent[o + k]! += times(v[dd + sd * k]!, tangent[a + sa * k]!);
  },
  pullEntry(step, v, k, g, acc) {
    addTimes(acc, step.arg.size === 1 ? 0 : k, g, dAt(step, v, k));
  },
  pushEntry(step, v, k, t, acc) {
    const all = broadcasts(step);
    const to = all ? step.out.size : k + 1;
    for (let o = all ? 0 : k; o < to; o++) addTimes(acc, o, dAt(step, v, o), t);
  },
  spreads: (step, direction) => direction === 'forward' && broadcasts(step),
  sumsEntries: (step, direction) => direction === 'reverse' && broadcasts(step),
  diagonal: (step) => (step.arg.size === step.out.size ? step.d : null),
  reach(step, direction, v, k, cutAtZeros, acc) {
    if (direction === 'reverse') {
      if (!cutAtZeros || dAt(step, v, k) !== 0) acc.add(step.arg.size === 1 ? 0 : k, 1);
      return;
    }
    const all = broadcasts(step);
    const to = all ? step.out.size : k + 1;
    for (let o = all ? 0 : k; o < to; o++) if (!cutAtZeros || dAt(step, v, o) !== 0) acc.add(o, 1);
  },
  scratchSize: () => 0,
};
