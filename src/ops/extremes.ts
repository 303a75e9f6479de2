/**
 * max and min as reductions: of all entries (maxReduce, minReduce: a scalar) and of each row of a matrix
 * (rowMax, rowMin: a vector; max(M, 1) reduces the rows of the transpose). A line's value is found in one
 * pass, as mathjs finds it; its derivative is an `extreme` partial, which reads extremeIndex: per line, the
 * position of the extreme entry, so that a derivative pass touches one entry a line, not all of them.
 */
import { ShapeError } from '../errors.js';
import { SCALAR, describeShape, isMatrix, type Shape } from '../shape.js';
import {
  countNearlyEqual,
  extremeEntry,
  extremeFrom,
  extremeOfRecords,
  nearBound,
  nearlyEqual,
  nearlyEqualShares,
  nextNear,
  recordsOf,
} from './elementwise.js';
import { ZERO, extreme } from './rules.js';
import type {
  Builder,
  ExtremeName,
  NodeId,
  NodeView,
  Operand,
  OpSpec,
  Partial,
  PieceReduction,
  SpecialPoint,
} from './types.js';

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
 * How many of the entries from..to − 1 of v are nearly equal to t, and where the first of them is (−1 if none),
 * into ties[at] and ties[at + 1]. One comparison an entry: only an entry within nearBound of t (or at a NaN
 * distance) is asked nearlyEqual.
 */
function countTies(v: Float64Array, from: number, to: number, t: number, ties: Float64Array, at: number): void {
  const bound = nearBound(t);
  let count = 0;
  let first = -1;
  for (let k = nextNear(v, from, to, t, bound); k < to; k = nextNear(v, k + 1, to, t, bound)) {
    if (nearlyEqual(v[k]!, t)) {
      if (count === 0) first = k;
      count++;
    }
  }
  ties[at] = count;
  ties[at + 1] = first;
}

/** The extremeIndex code of a line whose entries tied with its extreme are `count`, the first at `first`. */
const codeOf = (count: number, first: number): number => (count === 1 ? first : -count);

/** countTies's answer for one line. */
const lineTies = new Float64Array(2);

/**
 * The extremeIndex code of the n entries of v from `offset`, whose extreme is t: the position of the one entry
 * nearly equal to t, NO_EXTREME when t is NaN, or −count for a tie.
 */
function extremeCode(v: Float64Array, offset: number, n: number, t: number): number {
  if (Number.isNaN(t)) return NO_EXTREME;
  countTies(v, offset, offset + n, t, lineTies, 0);
  return codeOf(lineTies[0]!, lineTies[1]! - offset);
}

/** The lines of x that an extreme with one output entry a line reduces: their count and their length. */
const linesOf = (x: Operand, lines: Operand): readonly [number, number] => [lines.size, x.size / lines.size];

function matrix(label: string, a: Shape): readonly [number, number] {
  if (!isMatrix(a)) throw new ShapeError(`${label} takes a matrix, got ${describeShape(a)}`);
  return a;
}

/** In each row of a matrix: 1/count at the entries that tie with the row's extreme, 0 elsewhere (all 0 with a NaN). */
function rowTieWeights(v: Float64Array, out: Operand, a: Operand, sign: 1 | -1): void {
  const [rows, cols] = a.shape as readonly [number, number];
  for (let i = 0; i < rows; i++) {
    const from = a.offset + i * cols;
    nearlyEqualShares(v, from, out.offset + i * cols, cols, extremeEntry(v, from, cols, sign));
  }
}

/** The partial of an extreme: through the index of each line's extreme entry; `weights` for the gradient graph. */
const throughIndex =
  (weights: (b: Builder, node: NodeView) => NodeId) =>
  (b: Builder, _i: number, node: NodeView): Partial =>
    extreme(b.apply('extremeIndex', [node.args[0]!, node.out]), weights(b, node));

// The weights of a row's extreme come from the matrix alone: a tie in one row does not reach the others' weights.
const ofWhole = throughIndex((b, node) => b.apply('tieWeights', [node.args[0]!, node.out]));
const ofRows = (weights: 'rowMaxWeights' | 'rowMinWeights') => throughIndex((b, node) => b.apply(weights, node.args));

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

/**
 * The records a piece's summary holds (random data has about ln n of them); a piece with more is scanned again
 * when the summaries are folded.
 */
const PIECE_RECORDS = 30;

/**
 * The extreme of all entries in pieces: a piece's summary is its record count (−1 for a NaN) and its records
 * (recordsOf), and the fold runs extremeEntry's scan over the records alone, which ends where the scan over every
 * entry ends.
 */
const extremeInPieces = (sign: 1 | -1): PieceReduction => ({
  summaryEntries: 1 + PIECE_RECORDS,
  summarise: (v, _operands, from, to, summaries, at) => {
    summaries[at] = recordsOf(v, from, to, sign, summaries, at + 1, PIECE_RECORDS);
  },
  fold: (v, [offset], n, pieceEntries, summaries) => {
    const end = offset! + n;
    let best = v[offset!]!;
    for (let from = offset!, at = 0; from < end; from += pieceEntries, at += 1 + PIECE_RECORDS) {
      const count = summaries[at]!;
      if (count < 0) return NaN;
      best =
        count > PIECE_RECORDS
          ? extremeFrom(v, from, Math.min(end, from + pieceEntries), best, sign)
          : extremeOfRecords(summaries, at + 1, count, best, sign);
    }
    return best;
  },
});

/**
 * extremeCode in pieces: a piece's summary is how many of its entries are nearly equal to the extreme and where
 * the first of them is (−1 if none).
 */
const extremeCodeInPieces: PieceReduction = {
  summaryEntries: 2,
  summarise: (v, [, extreme], from, to, summaries, at) => countTies(v, from, to, v[extreme!]!, summaries, at),
  fold: (v, [offset, extreme], n, pieceEntries, summaries) => {
    if (Number.isNaN(v[extreme!]!)) return NO_EXTREME;
    let count = 0;
    let first = -1;
    for (let at = 0; at < 2 * Math.ceil(n / pieceEntries); at += 2) {
      if (count === 0) first = summaries[at + 1]!;
      count += summaries[at]!;
    }
    return codeOf(count, first - offset!);
  },
};

/** tieSpecial of one line in pieces: the line's extreme code, a tie where more than one entry ties with the extreme. */
const tieInPieces: OpSpec['specialInPieces'] = {
  pieces: extremeCodeInPieces,
  point: (code) => (code < NO_EXTREME ? REDUCTION_TIE : null),
};

export const EXTREMES: Record<ExtremeName, OpSpec> = {
  maxReduce: {
    label: 'max',
    arity: 1,
    shape: () => SCALAR,
    value: (v, out, [a]) => lineExtremes(v, out, a!, 1),
    partial: ofWhole,
    special: tieSpecial,
    pieces: extremeInPieces(1),
    specialInPieces: tieInPieces,
  },
  minReduce: {
    label: 'min',
    arity: 1,
    shape: () => SCALAR,
    value: (v, out, [a]) => lineExtremes(v, out, a!, -1),
    partial: ofWhole,
    special: tieSpecial,
    pieces: extremeInPieces(-1),
    specialInPieces: tieInPieces,
  },
  /** max(M, 2): the largest entry of each row. */
  rowMax: {
    label: 'max',
    arity: 1,
    shape: ([a]) => [matrix('max', a!)[0]],
    value: (v, out, [a]) => lineExtremes(v, out, a!, 1),
    partial: ofRows('rowMaxWeights'),
    special: tieSpecial,
  },
  rowMin: {
    label: 'min',
    arity: 1,
    shape: ([a]) => [matrix('min', a!)[0]],
    value: (v, out, [a]) => lineExtremes(v, out, a!, -1),
    partial: ofRows('rowMinWeights'),
    special: tieSpecial,
  },
  /** Of x and its lines' extremes y: per line, the position of the extreme entry, or a code (NO_EXTREME, −count). */
  extremeIndex: {
    label: 'extremeIndex',
    finiteValues: true,
    arity: 2,
    shape: (args) => args[1]!,
    value(v, out, [x, y]) {
      const [lines, length] = linesOf(x!, y!);
      for (let i = 0; i < lines; i++)
        v[out.offset + i] = extremeCode(v, x!.offset + i * length, length, v[y!.offset + i]!);
    },
    partial: () => ZERO,
    pieces: extremeCodeInPieces,
  },
  /** Where x ties with its extreme y (equal within mathjs's tolerance): 1/count of such entries (SPEC §6); else 0. */
  tieWeights: {
    label: 'tieWeights',
    finiteValues: true,
    arity: 2,
    shape: (args) => args[0]!,
    value(v, out, [x, y]) {
      nearlyEqualShares(v, x!.offset, out.offset, x!.size, v[y!.offset]!);
    },
    partial: () => ZERO,
  },
  /** tieWeights of each row of a matrix, with the row's largest entry. */
  rowMaxWeights: {
    label: 'rowMaxWeights',
    finiteValues: true,
    arity: 1,
    shape: ([a]) => matrix('rowMaxWeights', a!),
    value: (v, out, [a]) => rowTieWeights(v, out, a!, 1),
    partial: () => ZERO,
  },
  rowMinWeights: {
    label: 'rowMinWeights',
    finiteValues: true,
    arity: 1,
    shape: ([a]) => matrix('rowMinWeights', a!),
    value: (v, out, [a]) => rowTieWeights(v, out, a!, -1),
    partial: () => ZERO,
  },
};
