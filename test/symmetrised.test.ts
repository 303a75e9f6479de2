/** A Hessian's detected pattern made symmetric: the sorted pattern itself when already symmetric, else with pᵀ. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { symmetrised, type Pattern } from '../src/engine/sparsity.js';

/** A pattern from rows of distinct columns, in the order given. */
function pattern(n: number, rows: readonly (readonly number[])[]): Pattern {
  const rowStart = new Int32Array(n + 1);
  rows.forEach((row, i) => (rowStart[i + 1] = rowStart[i]! + row.length));
  return { m: n, n, rowStart, colIndex: Int32Array.from(rows.flat()) };
}

/** The plain union: every (i, j) and (j, i), rows sorted. */
function reference(n: number, rows: readonly (readonly number[])[]): number[][] {
  const sets = Array.from({ length: n }, () => new Set<number>());
  rows.forEach((row, i) =>
    row.forEach((j) => {
      sets[i]!.add(j);
      sets[j]!.add(i);
    }),
  );
  return sets.map((set) => [...set].sort((a, b) => a - b));
}

function rowsOf(p: Pattern): number[][] {
  return Array.from({ length: p.m }, (_, i) => Array.from(p.colIndex.subarray(p.rowStart[i]!, p.rowStart[i + 1]!)));
}

const rowsArbitrary = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.array(fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }), { minLength: n, maxLength: n }),
    ),
  );

describe('symmetrised', () => {
  it('is the union of the pattern and its transpose, rows sorted', () => {
    fc.assert(
      fc.property(rowsArbitrary, ([n, rows]) => {
        expect(rowsOf(symmetrised(pattern(n, rows)))).toEqual(reference(n, rows));
      }),
      { numRuns: 300, seed: 15 },
    );
  });

  it('sorts the rows of a pattern already symmetric, unsorted', () => {
    const rows = [[1, 0], [2, 0, 1], [1]];
    expect(rowsOf(symmetrised(pattern(3, rows)))).toEqual([[0, 1], [0, 1, 2], [1]]);
  });

  it('adds the mirror of a one-sided entry', () => {
    expect(rowsOf(symmetrised(pattern(3, [[0, 2], [], [2]])))).toEqual([[0, 2], [], [0, 2]]);
  });

  it('adds the mirrors in a long row, past the look-ups symmetry checks', () => {
    const n = 200;
    const rows = Array.from({ length: n }, (_, i) => (i === 0 ? Array.from({ length: n }, (_, j) => j) : [0, i]));
    rows[n - 1] = [n - 1];
    expect(rowsOf(symmetrised(pattern(n, rows)))).toEqual(reference(n, rows));
  });
});
