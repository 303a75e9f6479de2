/**
 * max and min as reductions: of all entries (maxReduce, minReduce: a scalar) and of each row of a matrix
 * (rowMax, rowMin: a vector; max(M, 1) reduces the rows of the transpose). A line's value is found in one
 * pass, as mathjs finds it; its derivative is an `extreme` partial, which reads extremeIndex: per line, the
 * position of the extreme entry, so that a derivative pass touches one entry a line, not all of them.
 */
import { ShapeError } from '../errors.js';
import { SCALAR, describeShape, isMatrix, type Shape } from '../shape.js';
import { countNearlyEqual, extremeEntry, nearBound, nearlyEqual, nearlyEqualShares } from './elementwise.js';
import { ZERO, extreme } from './rules.js';
import type { Builder, ExtremeName, NodeView, Operand, OpSpec, SpecialPoint } from './types.js';

/**
 * extremeIndex's codes for a line without one extreme entry: NO_EXTREME for a line with a NaN (its extreme
 * is NaN, the derivative 0); −count for a tie of count ≥ 2 entries nearly equal to the extreme (mathjs's
 * tolerance), each of which takes 1/count of the derivative (SPEC §6).
 */
export const NO_EXTREME = -1;

/** The share of the derivative that each tied entry of a line with extremeIndex code `code` (< −1) takes. */
export const tieShare = (code: number): number => 1 / -code;

/** Whether x is one of the tied entries of a line whose extreme is t: equal to it within mathjs's tolerance. */
export const tiesWith = nearlyEqual;

const REDUCTION_TIE: SpecialPoint = {
  kind: 'tie',
  convention: 'a tie for the extreme: the derivative is split evenly among the tied entries',
};

/**
 * The extremeIndex code of the n entries of v from `offset`, whose extreme is t: the position of the one entry
 * nearly equal to t, NO_EXTREME when t is NaN, or −count for a tie. One comparison an entry: only an entry
 * within nearBound of t (or at a NaN distance) is asked nearlyEqual.
 */
function extremeCode(v: Float64Array, offset: number, n: number, t: number): number {
  if (Number.isNaN(t)) return NO_EXTREME;
  const bound = nearBound(t);
  const end = offset + n;
  let count = 0;
  let first = -1;
  for (let k = nextNear(v, offset, end, t, bound); k < end; k = nextNear(v, k + 1, end, t, bound)) {
    if (nearlyEqual(v[k]!, t)) {
      if (count === 0) first = k - offset;
      count++;
    }
  }
  return count === 1 ? first : -count;
}

/** The first index from k below `end` whose entry is within `bound` of t (or at a NaN distance); else `end`. */
function nextNear(v: Float64Array, k: number, end: number, t: number, bound: number): number {
  // One comparison an entry in a loop without calls, which keeps it all in registers.
  for (; k < end; k++) if (!(Math.abs(v[k]! - t) > bound)) return k;
  return end;
}

/** How many lines an operand of `lines` outputs splits `x` into, and their length. */
const linesOf = (x: Operand, lines: Operand): readonly [number, number] => [lines.size, x.size / lines.size];

const matrixRows = (label: string, [a]: readonly Shape[]): Shape => {
  if (!isMatrix(a!)) throw new ShapeError(`${label} takes a matrix, got ${describeShape(a!)}`);
  return [a[0]];
};

/** The partial of every extreme: through the index of each line's extreme entry. */
const throughIndex = (b: Builder, _i: number, node: NodeView) =>
  extreme(b.apply('extremeIndex', [node.args[0]!, node.out]));

/** Reports each line of more than one entry equal to its extreme (the node's value) within mathjs's tolerance. */
function tieSpecial(
  v: Float64Array,
  out: Operand,
  [x]: readonly Operand[],
  found: (entry: number, point: SpecialPoint) => void,
): void {
  const [lines, length] = linesOf(x!, out);
  for (let i = 0; i < lines; i++)
    if (countNearlyEqual(v, x!.offset + i * length, length, v[out.offset + i]!, 2) > 1) found(i, REDUCTION_TIE);
}

/** The extreme of each line, the largest (sign 1) or the smallest (sign −1). */
function lineExtremes(v: Float64Array, out: Operand, x: Operand, sign: 1 | -1): void {
  const [lines, length] = linesOf(x, out);
  for (let i = 0; i < lines; i++) v[out.offset + i] = extremeEntry(v, x.offset + i * length, length, sign);
}

export const EXTREMES: Record<ExtremeName, OpSpec> = {
  maxReduce: {
    label: 'max',
    arity: 1,
    shape: () => SCALAR,
    value: (v, out, [a]) => lineExtremes(v, out, a!, 1),
    partial: throughIndex,
    special: tieSpecial,
  },
  minReduce: {
    label: 'min',
    arity: 1,
    shape: () => SCALAR,
    value: (v, out, [a]) => lineExtremes(v, out, a!, -1),
    partial: throughIndex,
    special: tieSpecial,
  },
  /** max(M, 2): the largest entry of each row. */
  rowMax: {
    label: 'max',
    arity: 1,
    shape: (args) => matrixRows('max', args),
    value: (v, out, [a]) => lineExtremes(v, out, a!, 1),
    partial: throughIndex,
    special: tieSpecial,
  },
  rowMin: {
    label: 'min',
    arity: 1,
    shape: (args) => matrixRows('min', args),
    value: (v, out, [a]) => lineExtremes(v, out, a!, -1),
    partial: throughIndex,
    special: tieSpecial,
  },
  /** Of x and its lines' extremes y: per line, the position of the extreme entry, or a code (NO_EXTREME, −count). */
  extremeIndex: {
    label: 'extremeIndex',
    arity: 2,
    shape: (args) => args[1]!,
    value(v, out, [x, y]) {
      const [lines, length] = linesOf(x!, y!);
      for (let i = 0; i < lines; i++)
        v[out.offset + i] = extremeCode(v, x!.offset + i * length, length, v[y!.offset + i]!);
    },
    partial: () => ZERO,
  },
  /**
   * Of x and its lines' extremes y: where an entry ties with its line's extreme (equal within mathjs's
   * tolerance), 1/count of such entries of the line (SPEC §6); else 0. The extreme partial as numbers of x's
   * shape, for the gradient graph.
   */
  tieWeights: {
    label: 'tieWeights',
    arity: 2,
    shape: (args) => args[0]!,
    value(v, out, [x, y]) {
      const [lines, length] = linesOf(x!, y!);
      for (let i = 0; i < lines; i++)
        nearlyEqualShares(v, x!.offset + i * length, out.offset + i * length, length, v[y!.offset + i]!);
    },
    partial: () => ZERO,
  },
};
