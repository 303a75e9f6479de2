/**
 * Whether entries are all finite, in one pass or in pieces: x·0 is 0 for a finite x and NaN for ±∞ and NaN, so a
 * sum of x·0 over entries is NaN exactly where one of them is not finite (in any order of the terms).
 */
import type { PieceReduction } from './types.js';

/** Σ x·0 over the entries from..to − 1 of v: 0, or NaN if one is not finite. Two sums, so that each addition need
 * not wait for the one before. */
export function timesZeroSum(v: Float64Array, from: number, to: number): number {
  let even = 0;
  let odd = 0;
  let k = from;
  for (; k + 1 < to; k += 2) {
    even += v[k]! * 0;
    odd += v[k + 1]! * 0;
  }
  if (k < to) even += v[k]! * 0;
  return even + odd;
}

/** timesZeroSum in pieces: a piece's summary is its own sum. */
export const timesZeroInPieces: PieceReduction = {
  summaryEntries: 1,
  summarise: (v, _operands, from, to, summaries, at) => {
    summaries[at] = timesZeroSum(v, from, to);
  },
  fold: (_v, _operands, n, pieceEntries, summaries) => {
    let sum = 0;
    for (let at = 0; at < Math.ceil(n / pieceEntries); at++) sum += summaries[at]!;
    return sum;
  },
};
