/**
 * out[i] = the extreme of line i of the argument (L = arg.size / out.size entries a line): its derivative
 * is 1 at the line's one extreme entry, whose position the `index` node holds, so a pass moves one number a
 * line. A tie (index −count) splits it evenly among the entries nearly equal to the node's value, which the
 * kernels find in the line; a line with a NaN (NO_EXTREME) contributes nothing. The numbers are those of
 * the row-of-weights form Σⱼ w[j]·in[j] with the partial's weights, each product formed by `times`, in order.
 */
import { repeatMap } from '../../graph/index-maps.js';
import { NO_EXTREME, tieShare, tiesWith } from '../../ops/index.js';
import { isScalar, sizeOf } from '../../shape.js';
import { broadcast } from './nodes.js';
import { addTimes, times } from './product.js';
import type { Accumulator, ExtremeStep, LinearKind } from './types.js';

const lineLength = (step: ExtremeStep): number => step.arg.size / step.out.size;

/** The weight of entry j of line i (0 off the extreme, 1 at it, a share at a tie). */
function weightAt(step: ExtremeStep, v: Float64Array, i: number, j: number): number {
  const code = v[step.index.offset + i]!;
  if (code >= 0) return code === j ? 1 : 0;
  if (code === NO_EXTREME) return 0;
  return tiesWith(v[step.arg.offset + i * lineLength(step) + j]!, v[step.out.offset + i]!) ? tieShare(code) : 0;
}

/** Adds weight·value at every entry of line i whose weight is not 0 (the line's position j at i·L + j). */
function spreadLine(step: ExtremeStep, v: Float64Array, i: number, value: number, acc: Accumulator): void {
  const length = lineLength(step);
  const code = v[step.index.offset + i]!;
  if (code >= 0) addTimes(acc, i * length + code, value, 1);
  else if (code !== NO_EXTREME)
    for (let j = 0; j < length; j++) addTimes(acc, i * length + j, value, weightAt(step, v, i, j));
}

export const extreme: LinearKind<'extreme'> = {
  reads: (partial) => [partial.index],
  step: (partial, out, arg, operand) => ({ kind: 'extreme', out, arg, index: operand(partial.index) }),
  transpose(b, partial, node, arg, cotangent) {
    const argShape = b.shapeOf(arg);
    const lines = sizeOf(b.shapeOf(node));
    // Each line's cotangent beside each of its entries (a scalar's, broadcast by strongMultiply itself).
    const spread = isScalar(b.shapeOf(node))
      ? cotangent
      : b.apply('select', [cotangent], {
          kind: 'select',
          shape: argShape,
          map: repeatMap(lines, sizeOf(argShape) / lines),
        });
    return broadcast(b, b.apply('strongMultiply', [spread, partial.weights]), argShape);
  },

  pullback(step, v, cotangent) {
    const { out, arg, index } = step;
    const length = lineLength(step);
    for (let i = 0; i < out.size; i++) {
      const g = cotangent[out.offset + i]!;
      if (g === 0) continue;
      const code = v[index.offset + i]!;
      if (code >= 0) cotangent[arg.offset + i * length + code]! += g;
      else if (code !== NO_EXTREME) {
        const share = tieShare(code);
        const t = v[out.offset + i]!;
        for (let k = arg.offset + i * length; k < arg.offset + (i + 1) * length; k++)
          if (tiesWith(v[k]!, t)) cotangent[k]! += times(g, share);
      }
    }
  },
  pushforward(step, v, tangent) {
    const { out, arg, index } = step;
    const length = lineLength(step);
    for (let i = 0; i < out.size; i++) {
      const code = v[index.offset + i]!;
      let sum = 0;
      if (code >= 0) sum += times(1, tangent[arg.offset + i * length + code]!);
      else if (code !== NO_EXTREME) {
        const share = tieShare(code);
        const t = v[out.offset + i]!;
        for (let k = arg.offset + i * length; k < arg.offset + (i + 1) * length; k++)
          if (tiesWith(v[k]!, t)) sum += times(share, tangent[k]!);
      }
      tangent[out.offset + i]! += sum;
    }
  },
  pullEntry: (step, v, k, g, acc) => spreadLine(step, v, k, g, acc),
  pushEntry(step, v, k, t, acc) {
    const length = lineLength(step);
    const i = Math.floor(k / length);
    addTimes(acc, i, weightAt(step, v, i, k - i * length), t);
  },
  // A line's cotangent reaches its extreme entry alone (a few entries at a tie), not the whole line.
  spreads: () => false,
  sumsEntries: () => false,
  diagonal: () => null,
  reach(step, direction, v, k, cutAtZeros, acc) {
    const length = lineLength(step);
    if (direction === 'forward') {
      const i = Math.floor(k / length);
      if (!cutAtZeros || weightAt(step, v, i, k - i * length) !== 0) acc.add(i, 1);
      return;
    }
    for (let j = 0; j < length; j++) if (!cutAtZeros || weightAt(step, v, k, j) !== 0) acc.add(k * length + j, 1);
  },
  scratchSize: () => 0,
};
