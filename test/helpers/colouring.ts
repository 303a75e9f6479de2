/** Checks of colourings for the colouring and sparse Hessian tests. */
import type { Pattern } from '../../src/engine/sparsity.js';

/** Row i of a pattern: its columns, ascending. */
export const rowOf = (p: Pattern, i: number): number[] =>
  Array.from(p.colIndex.subarray(p.rowStart[i]!, p.rowStart[i + 1]!));

/**
 * Why a colouring of a symmetric pattern is no star colouring (a column without a colour, neighbours alike, a path
 * of four distinct columns alternating two colours), or null.
 */
export function starFault(p: Pattern, colourOf: Int32Array): string | null {
  if (colourOf.some((c) => c < 0)) return 'a column without a colour';
  const neighbours = (v: number) => rowOf(p, v).filter((w) => w !== v);
  for (let a = 0; a < p.n; a++)
    for (const b of neighbours(a)) {
      if (colourOf[a] === colourOf[b]) return `${a}–${b} share a colour`;
      for (const c of neighbours(b))
        for (const d of neighbours(c))
          if (new Set([a, b, c, d]).size === 4 && colourOf[a] === colourOf[c] && colourOf[b] === colourOf[d])
            return `${a}–${b}–${c}–${d} alternates two colours`;
    }
  return null;
}
