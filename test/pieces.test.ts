/**
 * Reductions in pieces (ops/types.ts PieceReduction): the summaries of a reduction's pieces, folded in order, give
 * the number that the one-pass `value` gives, to the bit, however the entries are cut. The pieces of max and min
 * keep only their records (entries beyond all before them in the piece), so the test draws entries from a few
 * values within mathjs's tolerance of each other, where the one-pass scan's choice depends on the order, and
 * cuts that leave many records in a piece (more than a summary holds).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPS, type OpName, type Operand, timesZeroInPieces, timesZeroSum } from '../src/ops/index.js';

/** Values that tie within the tolerance (1e-12 relative) or not, and the exceptional ones. */
const ENTRY = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 12 }).map((k) => 1 + k * 3e-13) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }).map((k) => k / 2) },
  { weight: 1, arbitrary: fc.constantFrom(-0, 0, Infinity, -Infinity, 2 ** -1074, -(2 ** -1074)) },
  { weight: 1, arbitrary: fc.constant(NaN) },
);
/** Mostly without NaN: a NaN decides the whole reduction. */
const ENTRIES = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(
      ENTRY.filter((x) => !Number.isNaN(x)),
      { minLength: 1, maxLength: 300 },
    ),
  },
  { weight: 1, arbitrary: fc.array(ENTRY, { minLength: 1, maxLength: 300 }) },
);
/** Ascending runs: every entry a record, so that a piece has more records than its summary holds. */
const ASCENDING = fc
  .integer({ min: 1, max: 300 })
  .map((n) => Array.from({ length: n }, (_, k) => 1 + k * 4e-13 * (k % 3 === 0 ? 1 : 3)));

/**
 * The reduction `op` of `entries` (after `lead` other entries in the buffer), one pass and in pieces of
 * `pieceEntries`, the pieces summarised in an order of their own.
 */
function bothWays(op: OpName, entries: readonly number[], pieceEntries: number, lead: number): [number, number] {
  const spec = OPS[op];
  const pieces = spec.pieces!;
  const n = entries.length;
  const v = new Float64Array(lead + n + 2);
  v.set(entries, lead);
  const x: Operand = { offset: lead, size: n, shape: [n] };
  const out: Operand = { offset: lead + n, size: 1, shape: [] };
  // extremeIndex reads the extreme as its second operand: the max, found by the one pass.
  const extreme: Operand = { offset: lead + n + 1, size: 1, shape: [] };
  if (op === 'extremeIndex') OPS.maxReduce.value(v, extreme, [x], { kind: 'none' });
  const args = op === 'extremeIndex' ? [x, extreme] : [x];
  spec.value(v, out, args, { kind: 'none' });
  const units = Math.ceil(n / pieceEntries);
  const summaries = new Float64Array(units * pieces.summaryEntries).fill(NaN);
  const operands = args.map((a) => a.offset);
  // Last piece first: a piece's summary does not depend on the ones before it.
  for (let unit = units - 1; unit >= 0; unit--) {
    const from = lead + unit * pieceEntries;
    pieces.summarise(
      v,
      operands,
      from,
      Math.min(lead + n, from + pieceEntries),
      summaries,
      unit * pieces.summaryEntries,
    );
  }
  return [pieces.fold(v, operands, n, pieceEntries, summaries), v[out.offset]!];
}

describe('reductions in pieces', () => {
  for (const op of ['maxReduce', 'minReduce', 'extremeIndex'] as const) {
    it(`${op}: the folded summaries are the one-pass value, to the bit`, () => {
      fc.assert(
        fc.property(
          fc.oneof(
            ENTRIES,
            ASCENDING,
            ASCENDING.map((a) => a.map((x) => -x)),
          ),
          fc.integer({ min: 1, max: 80 }),
          fc.integer({ min: 0, max: 5 }),
          (entries, pieceEntries, lead) => {
            const [folded, onePass] = bothWays(op, entries, pieceEntries, lead);
            expect(Object.is(folded, onePass), `${folded} against ${onePass}`).toBe(true);
          },
        ),
        { numRuns: 1500, seed: 20261202 },
      );
    });
  }

  it('the check of partials for a number that is not finite: in pieces as in one pass', () => {
    fc.assert(
      fc.property(ENTRIES, fc.integer({ min: 1, max: 80 }), (entries, pieceEntries) => {
        const v = Float64Array.from(entries);
        const units = Math.ceil(v.length / pieceEntries);
        const summaries = new Float64Array(units);
        for (let unit = 0; unit < units; unit++) {
          const from = unit * pieceEntries;
          timesZeroInPieces.summarise(v, [0], from, Math.min(v.length, from + pieceEntries), summaries, unit);
        }
        const folded = timesZeroInPieces.fold(v, [0], v.length, pieceEntries, summaries);
        expect(Number.isNaN(folded)).toBe(Number.isNaN(timesZeroSum(v, 0, v.length)));
        expect(Number.isNaN(folded)).toBe(entries.some((x) => !Number.isFinite(x)));
      }),
      { numRuns: 500, seed: 20261202 },
    );
  });

  it('max: a tie chain that crosses pieces ends where the one pass ends, not at the largest entry', () => {
    // Each entry is within the tolerance of the one before, not of the first: the one pass moves its best
    // along the chain only when an entry leaves the tolerance of the best so far.
    const entries = Array.from({ length: 65 }, (_, k) => 1 + k * 4e-13);
    const [folded, onePass] = bothWays('maxReduce', entries, 5, 1);
    expect(onePass).not.toBe(Math.max(...entries));
    expect(folded).toBe(onePass);
  });
});
