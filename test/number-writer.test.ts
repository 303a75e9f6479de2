/**
 * writeShortest: JSON.stringify's text of a number written as bytes, proved or left to JSON.stringify. Checked
 * against JSON.stringify over random bit patterns, over the range it writes, near powers of ten and two (where
 * the decimal exponent and the gaps between doubles change), and on short decimals.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeShortest } from '../src/format/shortest.js';

const bytes = new Uint8Array(64);

/** What writeShortest writes for x (after 3 bytes of something else), or null when it leaves x. */
function written(x: number): string | null {
  bytes.fill(0x7e);
  const end = writeShortest(x, bytes, 3);
  if (end < 0) {
    // Nothing written.
    expect(bytes.every((b) => b === 0x7e)).toBe(true);
    return null;
  }
  expect(end - 3).toBeLessThanOrEqual(25);
  return Buffer.from(bytes.subarray(3, end)).toString('latin1');
}

/** Asserts writeShortest writes JSON.stringify(x) or nothing; true when it wrote. */
function check(x: number): boolean {
  const text = written(x);
  if (text !== null) expect(text, String(x)).toBe(JSON.stringify(x));
  return text !== null;
}

/** A random double from its 64 bits. */
const anyDouble = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((bits) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
});

/** A double in the range written, ±[10⁻⁶, 10¹⁵), spread evenly over its decimal exponents. */
const inRange = fc
  .tuple(fc.double({ min: -6, max: 15, noNaN: true }), fc.boolean())
  .map(([exponent, negative]) => (negative ? -1 : 1) * 10 ** exponent);

/** A double next to a power of ten or of two: k steps of 2⁻⁵² away. */
const nearPowers = fc
  .tuple(
    fc.integer({ min: -7, max: 16 }),
    fc.integer({ min: -20, max: 50 }),
    fc.integer({ min: -3, max: 3 }),
    fc.boolean(),
  )
  .map(([ten, two, steps, byTen]) => (byTen ? 10 ** ten : 2 ** two) * (1 + steps * 2 ** -52));

describe('writeShortest', () => {
  it('writes JSON.stringify(x) or nothing, for random bit patterns', () => {
    fc.assert(
      fc.property(anyDouble, (x) => void check(x)),
      { numRuns: 3000 },
    );
  });

  it('writes JSON.stringify(x) for most numbers of its range, for all of their lengths and signs', () => {
    let wrote = 0;
    fc.assert(
      fc.property(inRange, (x) => {
        if (check(x)) wrote++;
      }),
      { numRuns: 6000 },
    );
    // Left: exact ties (17 digits of a number past 10¹⁴, whose 18th is exactly 5, the most of them).
    expect(wrote).toBeGreaterThan(5800);
  });

  it('writes JSON.stringify(x) for 16 digits past 2⁵³ (9.007… to 9.999…), which are no doubles', () => {
    let wrote = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 2 ** 53 + 1, max: 10 ** 16 - 1 }),
        fc.integer({ min: 1, max: 22 }),
        fc.boolean(),
        (digits, places, negative) => {
          const x = (negative ? -1 : 1) * (digits / 10 ** places);
          if (Math.abs(x) >= 1e-6 && check(x)) wrote++;
        },
      ),
      { numRuns: 4000 },
    );
    expect(wrote).toBeGreaterThan(3000);
  });

  it('writes JSON.stringify(x) or nothing next to powers of ten and two, and for short decimals', () => {
    fc.assert(
      fc.property(nearPowers, (x) => void check(x)),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 9), max: 10 ** 9 }), fc.integer({ min: 0, max: 15 }), (digits, places) => {
        expect(check(digits / 10 ** places) || Math.abs(digits / 10 ** places) < 1e-6).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes every integer of 32 bits', () => {
    fc.assert(
      fc.property(fc.integer(), (x) => void expect(check(x)).toBe(true)),
      { numRuns: 3000 },
    );
    for (let power = 1; power <= 2 ** 31; power *= 10) for (const x of [power - 1, power, -power]) check(x);
  });

  it('writes the forms JSON.stringify writes without an exponent, leaves the others', () => {
    const cases: [number, string | null][] = [
      [1, '1'],
      [-2.6667, '-2.6667'],
      [0.1 + 0.2, '0.30000000000000004'],
      [1e-6, '0.000001'],
      [-0.0000010858813352167062, '-0.0000010858813352167062'],
      [123456789012345, '123456789012345'],
      [999999999999999, '999999999999999'],
      [184.14194648346955, '184.14194648346955'],
      [0, '0'],
      [-0, '0'],
      [7, '7'],
      [-40, '-40'],
      [2147483647, '2147483647'],
      [-2147483648, '-2147483648'],
      [2147483648, '2147483648'],
      [9.9e-7, null],
      [1e15, null],
      // 16 digits past 2⁵³.
      [999999999999999.9, '999999999999999.9'],
      [97.75126173676327, '97.75126173676327'],
      [Number.MIN_VALUE, null],
      [NaN, null],
      [-Infinity, null],
    ];
    for (const [x, text] of cases) expect(written(x), String(x)).toBe(text);
  });
});
