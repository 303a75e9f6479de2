/**
 * The product kernel's register path (two rows of A against panels of four columns of B, every term added, a
 * zero or NaN sum summed again) and its four-row product by a column, against the naive triple loop that skips
 * every term with an exact zero factor: bit for bit, on shapes around the panel, pair and block edges.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPanelProduct, addProduct } from '../src/ops/product-kernel.js';
import { parkMiller, sameBits } from './helpers/numeric.js';
import { plainResult, storedMatrix as stored } from './helpers/products.js';

const OPTIONS = { seed: 0x5eed_3a1c, numRuns: 80 };

/** Rows 1 to 9 (pairs and a last odd row), inner sizes past the kernel's least rows and its blocks of B's rows. */
const R_SIZES = [1, 2, 3, 4, 5, 8, 9];
const K_SIZES = [16, 17, 31, 64, 65, 255, 256, 257, 300];
/** Columns at and past whole panels of four; 64 × 256 rows fill one block of B exactly. */
const C_SIZES = [4, 5, 6, 7, 8, 9, 63, 64, 65];

type Pattern = 'dense' | 'upper' | 'lower' | 'sprinkled' | 'special';

/** B's entry (k, j): nonzero, zero outside a triangle, or with zeros and non-finite numbers among them. */
function bEntry(pattern: Pattern, random: () => number): (k: number, j: number) => number {
  const value = (): number => (random() - 0.5) * 8 || 1;
  return (k, j) => {
    if (pattern === 'upper' && k > j) return 0;
    if (pattern === 'lower' && k < j) return 0;
    if (pattern === 'sprinkled' && random() < 0.1) return random() < 0.5 ? 0 : -0;
    if (pattern === 'special' && random() < 0.02) return [0, -0, Infinity, -Infinity, NaN][Math.floor(random() * 5)]!;
    return value();
  };
}

describe('the product kernel’s panels', () => {
  it('give the naive loop’s numbers on shapes around the panel, pair and block edges, any layout, to the last bit', () => {
    const cases = fc.record({
      R: fc.constantFrom(...R_SIZES),
      K: fc.constantFrom(...K_SIZES),
      C: fc.constantFrom(...C_SIZES),
      pattern: fc.constantFrom<Pattern>('dense', 'upper', 'lower', 'sprinkled', 'special'),
      aZeros: fc.boolean(),
      transposed: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    });
    fc.assert(
      fc.property(cases, ({ R, K, C, pattern, aZeros, transposed: [aT, bT, dT], seed }) => {
        const random = parkMiller(seed);
        const A = stored(R, K, aT, 3, () => (aZeros && random() < 0.05 ? 0 : (random() - 0.5) * 8));
        const B = stored(K, C, bT, 1, bEntry(pattern, random));
        const D = stored(R, C, dT, 2, () => [0, -0, 1.5, -2][Math.floor(random() * 4)]!);
        const expected = plainResult(A, B, D, [R, K, C]);
        addProduct(A.buffer, A.layout, B.buffer, B.layout, D.buffer, D.layout, R, K, C);
        expect(sameBits(D.buffer, expected)).toBe(true);
      }),
      OPTIONS,
    );
  });

  it('run dense and triangular products, and leave those with a sparse A or few rows per panel to the other kernels', () => {
    const random = parkMiller(11);
    const byRows = (r: number, c: number, entry: (i: number, j: number) => number) => stored(r, c, false, 0, entry);
    const run = (
      R: number,
      K: number,
      C: number,
      a: (i: number, k: number) => number,
      b: (k: number, j: number) => number,
    ) => {
      const A = byRows(R, K, a);
      const B = byRows(K, C, b);
      const D = byRows(R, C, () => 0);
      const expected = plainResult(A, B, D, [R, K, C]);
      const ran = addPanelProduct(A.buffer, A.layout, B.buffer, B.layout, D.buffer, D.layout, R, K, C);
      return { ran, same: sameBits(D.buffer, ran ? expected : byRows(R, C, () => 0).buffer) };
    };
    const value = (): number => random() + 0.5;
    expect(run(6, 40, 12, value, value)).toEqual({ ran: true, same: true });
    expect(run(6, 40, 40, value, (k, j) => (k > j ? 0 : value()))).toEqual({ ran: true, same: true });
    // One nonzero per row of A: the kernels skipping zeros do a fortieth of the work.
    expect(run(6, 40, 12, (i, k) => (k === i ? 1 : 0), value)).toEqual({ ran: false, same: true });
    expect(run(6, 8, 12, value, value)).toEqual({ ran: false, same: true });
  });

  it('keep a zero sum’s sign and skip 0·∞ where every term is added: such entries are summed again', () => {
    // Row 0 of A meets B's ∞ with a zero. Row 1's terms underflow to −0 but for one zero term, +0 if added.
    const K = 20;
    const A = stored(2, K, false, 0, (i, k) => (i === 0 ? (k === 3 ? 0 : 1) : k === 5 ? 0 : -1e-200));
    const B = stored(K, 4, false, 0, (k, j) => (k === 3 && j === 1 ? Infinity : 1e-200));
    const D = stored(2, 4, false, 0, (i) => (i === 0 ? 1 : -0));
    const expected = plainResult(A, B, D, [2, K, 4]);
    expect(addPanelProduct(A.buffer, A.layout, B.buffer, B.layout, D.buffer, D.layout, 2, K, 4)).toBe(true);
    expect(sameBits(D.buffer, expected)).toBe(true);
    expect(Number.isFinite(D.buffer[1])).toBe(true);
    expect(Object.is(D.buffer[4], -0)).toBe(true);
  });
});

describe('the product kernel by a column', () => {
  it('gives the naive loop’s numbers, four rows at a time and past them, to the last bit', () => {
    const cases = fc.record({
      R: fc.integer({ min: 1, max: 11 }),
      K: fc.integer({ min: 1, max: 40 }),
      aSpecial: fc.boolean(),
      bZeros: fc.boolean(),
      transposed: fc.tuple(fc.boolean(), fc.boolean()),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
    });
    fc.assert(
      fc.property(cases, ({ R, K, aSpecial, bZeros, transposed: [aT, dT], seed }) => {
        const random = parkMiller(seed);
        const special = (): number => [0, -0, 0, -0, Infinity, NaN][Math.floor(random() * 6)]!;
        // Odd rows of A may be all zeros: their sums, from D's −0, stay −0 only if the zero terms are skipped.
        const A = stored(R, K, aT, 2, (i) =>
          aSpecial && (i % 2 === 1 || random() < 0.1) ? special() : random() - 0.5,
        );
        const B = stored(K, 1, false, 1, () =>
          bZeros && random() < 0.2 ? 0 : random() < 0.1 ? Infinity : random() + 0.25,
        );
        const D = stored(R, 1, dT, 3, () => [0, -0, 3][Math.floor(random() * 3)]!);
        const expected = plainResult(A, B, D, [R, K, 1]);
        addProduct(A.buffer, A.layout, B.buffer, B.layout, D.buffer, D.layout, R, K, 1);
        expect(sameBits(D.buffer, expected)).toBe(true);
      }),
      OPTIONS,
    );
  });
});
