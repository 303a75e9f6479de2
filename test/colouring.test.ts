/**
 * Vertex orders of the greedy colourings (issue 15 item 5): every order gives
 * a valid colouring (structurally orthogonal columns or rows; a star
 * colouring for symmetric patterns), the fewest colours of the orders are
 * kept when the pattern is small enough, never fewer than the lower bound,
 * and past ORDERINGS_WORK_LIMIT the first order is used alone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import {
  colour,
  colourColumnsInOrder,
  COLUMN_ORDERINGS,
  ORDERINGS_WORK_LIMIT,
  STAR_ORDERINGS,
  starColour,
  starColourInOrder,
  transposePattern,
  type Ordering,
  type Pattern,
} from '../src/engine/colouring.js';
import { fakeIo } from './helpers/cli.js';
import { rowOf, starFault } from './helpers/colouring.js';

const SEED = 1515;

function patternOf(rows: readonly (readonly number[])[], n: number): Pattern {
  const rowStart = new Int32Array(rows.length + 1);
  const colIndex: number[] = [];
  rows.forEach((row, i) => {
    colIndex.push(...[...new Set(row)].sort((a, b) => a - b));
    rowStart[i + 1] = colIndex.length;
  });
  return { m: rows.length, n, rowStart, colIndex: Int32Array.from(colIndex) };
}

const coloursIn = (colourOf: Int32Array): number => Math.max(0, ...colourOf) + 1;

/** Why columns sharing a colour are not structurally orthogonal (two of one colour in a row), or null. */
function distance2Fault(p: Pattern, colourOf: Int32Array): string | null {
  if (colourOf.some((c) => c < 0)) return 'a column without a colour';
  for (let i = 0; i < p.m; i++) {
    const seen = new Map<number, number>();
    for (const j of rowOf(p, i)) {
      const other = seen.get(colourOf[j]!);
      if (other !== undefined) return `row ${i}: columns ${other} and ${j} share colour ${colourOf[j]}`;
      seen.set(colourOf[j]!, j);
    }
  }
  return null;
}

/**
 * The crown graph as a Jacobian pattern: columns u₀ v₀ u₁ v₁ …, one row for each pair uᵢ, vⱼ with i ≠ j.
 * Two colours suffice (all u, all v), but greedy in column order (equal sizes: largest-first keeps it)
 * gives u₀ v₀ one colour, u₁ v₁ the next, …: k colours.
 */
function crown(k: number, copies = 1): Pattern {
  const rows: number[][] = [];
  for (let c = 0; c < copies; c++)
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) if (i !== j) rows.push([2 * k * c + 2 * i, 2 * k * c + 2 * j + 1]);
  return patternOf(rows, 2 * k * copies);
}

/** A random pattern: m rows, each a few of n columns. */
const patterns = fc
  .tuple(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 14 }))
  .chain(([m, n]) =>
    fc
      .array(fc.uniqueArray(fc.nat(n - 1), { maxLength: Math.min(n, 5) }), { minLength: m, maxLength: m })
      .map((rows) => patternOf(rows, n)),
  );

/** A random symmetric pattern of n columns with a full diagonal. */
const symmetricPatterns = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }).map((pairs) => {
    const rows = Array.from({ length: n }, (_, i) => [i]);
    for (const [i, j] of pairs) {
      rows[i]!.push(j);
      rows[j]!.push(i);
    }
    return patternOf(rows, n);
  }),
);

describe('vertex orders of the colourings', () => {
  it('a crown: largest-first alone gives k colours, smallest-last 2 = the lower bound, and it is kept', () => {
    for (const k of [3, 5, 8]) {
      const p = crown(k);
      const t = transposePattern(p);
      expect(coloursIn(colourColumnsInOrder(p, t, 'largest-first'))).toBe(k);
      const kept = colour(p, 'forward');
      expect(kept).toMatchObject({ colours: 2, lowerBound: 2, ordering: 'smallest-last' });
      expect(distance2Fault(p, kept.colourOf)).toBeNull();
      // Rows of the transpose are the columns: the same graph, coloured as rows.
      const byRows = colour(transposePattern(p), 'reverse');
      expect(byRows).toMatchObject({ direction: 'reverse', colours: 2, ordering: 'smallest-last' });
    }
  });

  it('a star colouring: column order gives 4 colours on K₄ without one edge, largest-first 3 = the lower bound', () => {
    const p = patternOf(
      [
        [0, 1, 3],
        [0, 1, 2, 3],
        [1, 2, 3],
        [0, 1, 2, 3],
      ],
      4,
    );
    expect(coloursIn(starColourInOrder(p, 'natural')!)).toBe(4);
    const kept = starColour(p);
    expect(kept).toMatchObject({ colours: 3, lowerBound: 3, ordering: 'largest-first' });
    expect(starFault(p, kept.colourOf)).toBeNull();
  });

  it('past the work limit only the first order is tried: many crowns keep largest-first', () => {
    // Each crown of k = 3 has 6 rows of 2 entries: work 24.
    const copies = Math.ceil(ORDERINGS_WORK_LIMIT / 24) + 1;
    const kept = colour(crown(3, copies), 'forward');
    expect(kept).toMatchObject({ colours: 3, lowerBound: 2, ordering: 'largest-first' });
    expect(colour(crown(3, 2), 'forward')).toMatchObject({ colours: 2, ordering: 'smallest-last' });
  });

  it('every order colours random patterns validly; the fewest colours are kept, never below the bound', () => {
    fc.assert(
      fc.property(patterns, (p) => {
        const t = transposePattern(p);
        const counts = new Map<Ordering, number>();
        for (const ordering of COLUMN_ORDERINGS) {
          const colourOf = colourColumnsInOrder(p, t, ordering);
          expect(distance2Fault(p, colourOf), ordering).toBeNull();
          expect(distance2Fault(t, colourColumnsInOrder(t, p, ordering)), `rows, ${ordering}`).toBeNull();
          counts.set(ordering, coloursIn(colourOf));
        }
        const kept = colour(p, 'forward');
        expect(distance2Fault(p, kept.colourOf)).toBeNull();
        expect(kept.colours).toBeGreaterThanOrEqual(kept.lowerBound);
        if (kept.lowerBound === p.n) {
          // A full row: a colour per column, every order's count, without looking for an order.
          expect([kept.ordering, kept.colours, Math.min(...counts.values())]).toEqual(['natural', p.n, p.n]);
        } else {
          expect(kept.colours).toBe(counts.get(kept.ordering));
          const first = counts.get('largest-first')!;
          // The first order is enough when it meets the bound; otherwise no order does better than the one kept.
          expect(kept.colours).toBe(first <= kept.lowerBound ? first : Math.min(...counts.values()));
        }
        const rows = colour(p, 'reverse');
        expect(distance2Fault(t, rows.colourOf)).toBeNull();
        expect(rows.colours).toBeGreaterThanOrEqual(rows.lowerBound);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('every order star-colours random symmetric patterns; the fewest colours are kept, never below the bound', () => {
    fc.assert(
      fc.property(symmetricPatterns, (p) => {
        const counts = new Map<Ordering, number>();
        for (const ordering of STAR_ORDERINGS) {
          const colourOf = starColourInOrder(p, ordering)!;
          expect(starFault(p, colourOf), ordering).toBeNull();
          counts.set(ordering, coloursIn(colourOf));
        }
        const kept = starColour(p);
        expect(starFault(p, kept.colourOf)).toBeNull();
        expect(kept.colours).toBeGreaterThanOrEqual(kept.lowerBound);
        expect(kept.colours).toBe(counts.get(kept.ordering));
        const first = counts.get('natural')!;
        expect(kept.colours).toBe(first <= kept.lowerBound ? first : Math.min(...counts.values()));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('--stats and --json say which order was kept', async () => {
    const io = fakeIo();
    const status = await main(['x[2:end]-x[1:end-1]', '--at', 'x=1:6', '--sparse', '--json', '--stats'], io);
    expect(status).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ colours: 2, lowerBound: 2, ordering: 'largest-first' });
    expect(JSON.parse(io.err().trim().split('\n').pop()!)).toMatchObject({ colours: 2, ordering: 'largest-first' });
  });
});
