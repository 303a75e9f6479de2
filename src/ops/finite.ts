/**
 * Whether entries are all finite, in one pass or in pieces: x·0 is 0 for a finite x and NaN for ±∞ and NaN, so a
 * sum of x·0 over entries is NaN exactly where one of them is not finite (in any order of the terms).
 */
import type { PieceReduction } from './types.js';

/**
 * Σ x·0 over the entries from..to − 1 of v: 0, or NaN if one is not finite. Two entries a step, their products added
 * first, so that each addition to the sum need not wait for the one before. Nothing but `return` follows the loop:
 * V8 compiles a long loop while it runs, before code after it has run once, and that code's first operation then
 * sends every later call back to the interpreter (187 times in one Hessian's process).
 */
export function timesZeroSum(v: Float64Array, from: number, to: number): number {
  const odd = (to - from) % 2;
  let sum = odd === 1 ? v[from]! * 0 : 0;
  for (let k = from + odd; k < to; k += 2) sum += v[k]! * 0 + v[k + 1]! * 0;
  return sum;
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
