/**
 * plainJsonVector reads a value file that is an array of JSON numbers from its text: it must give what JSON.parse
 * and tensorFromJson give, to the bit, and give up (null) on every other text, so that the general way gives its
 * value or its error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainJsonVector, tensorFromJson, type Tensor } from '../src/values.js';

const DOUBLE = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.constantFrom(-0, 0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1e21, 1e-7),
);
/** JSON's white space, or none. */
const WHITE = fc.stringMatching(/^[ \t\n\r]{0,3}$/);
/** A number as JSON may write it: as JSON.stringify does, or with an exponent of its own. */
const NUMBER_TEXT = fc.oneof(
  DOUBLE.map((x) => JSON.stringify(x)),
  fc
    .tuple(fc.integer({ min: -999, max: 999 }), fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.nat(400))
    .map(([m, e, sign, exponent]) => `${m}${e}${sign}${exponent}`),
  fc.tuple(fc.integer({ min: -99, max: 99 }), fc.nat(99999)).map(([a, b]) => `${a}.${b}`),
  // Digits either side of 2⁵³ and powers either side of 10^±22: where exact reading gives way to Number's.
  fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: -26, max: 26 }), fc.nat(19))
    .map(([digits, power, point]) => {
      const text = digits.toString();
      const cut = Math.max(1, text.length - point);
      return `${text.slice(0, cut)}${cut < text.length ? `.${text.slice(cut)}` : ''}e${power}`;
    }),
  fc.constantFrom('9007199254740993', '9007199254740992.0', '-0.0', '1.50000000000000000000', '4.35e-22', '8e22'),
);

/** Numbers joined as JSON with white space around every token. */
const list = (items: readonly string[], white: readonly string[]): string =>
  `[${white[0]}${items.map((item, k) => `${item}${white[(k + 1) % white.length]}`).join(`,${white[1 % white.length]}`)}]`;

const VECTOR = fc
  .tuple(fc.array(NUMBER_TEXT, { minLength: 1, maxLength: 40 }), fc.array(WHITE, { minLength: 1, maxLength: 4 }))
  .map(([items, white]) => list(items, white));
/** A matrix of numbers: left to the general way. */
const MATRIX = fc
  .tuple(
    fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 1, max: 6 }),
    fc.array(WHITE, { minLength: 1, maxLength: 4 }),
  )
  .chain(([rows, cols, white]) =>
    fc.array(fc.array(NUMBER_TEXT, { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows }).map(
      (matrix) =>
        `${white[0]}${list(
          matrix.map((row) => list(row, white)),
          white,
        )}${white[0]}`,
    ),
  );

/** The general way's tensor, or null where it throws. */
function generalWay(text: string): Tensor | null {
  try {
    return tensorFromJson(JSON.parse(text), 'x');
  } catch {
    return null;
  }
}

function expectSame(plain: Tensor | null, general: Tensor | null, text: string): void {
  expect(plain, text).not.toBeNull();
  expect(plain!.shape, text).toEqual(general!.shape);
  expect(plain!.data.length, text).toBe(general!.data.length);
  plain!.data.forEach((x, k) => expect(Object.is(x, general!.data[k]), `${text}: entry ${k}`).toBe(true));
}

describe('value files of plain numbers, read from their text', () => {
  it('vectors of many short numbers, past the first guess of their count: as JSON.parse gives them', () => {
    for (const text of [
      `[${Array.from({ length: 5000 }, (_, k) => k % 10).join(',')}]`,
      `[${'0,'.repeat(99_999)}0]`,
      `[${Array.from({ length: 3000 }, (_, k) => (k % 3 === 0 ? '-1' : '7')).join(' , ')}]`,
    ])
      expectSame(plainJsonVector(text), generalWay(text), text.slice(0, 40));
  });

  it('vectors of JSON numbers, white space anywhere between tokens: as JSON.parse gives them', () => {
    fc.assert(
      fc.property(VECTOR, (text) => {
        const plain = plainJsonVector(text);
        expectSame(plain, generalWay(text), text);
        // The text `at` repeats: the file's, on one line.
        expect(plain!.json).toBe(text.replace(/\s+/g, ''));
      }),
      { numRuns: 1500, seed: 20261202 },
    );
  });

  it('matrices are left to the general way', () => {
    fc.assert(
      fc.property(MATRIX, (text) => {
        expect(generalWay(text), text).not.toBeNull();
        expect(plainJsonVector(text), text).toBeNull();
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it('any other text is left to the general way', () => {
    for (const text of [
      '',
      '[]',
      '[[]]',
      '[1,]',
      '[,1]',
      '[1 2]',
      '[01]',
      '[1.]',
      '[.5]',
      '[+1]',
      '[1e]',
      '[1e+]',
      '[0x10]',
      '[Infinity]',
      '["NaN", 1]',
      '[1, [2]]',
      '[[1, 2], [3]]',
      '[[[1]]]',
      '[1]x',
      '[1',
      '1',
      '{"a": [1]}',
      '\u00a0[1]',
      '[1_000]',
      '[-]',
      '[--1]',
    ])
      expect(plainJsonVector(text), JSON.stringify(text)).toBeNull();
  });

  it('random texts of JSON array characters: read alike when it reads one, and reads every vector', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\][0-9.eE+\-, \n]{1,24}$/), (text) => {
        const plain = plainJsonVector(text);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          expect(plain, text).toBeNull();
          return;
        }
        const isPlain = Array.isArray(parsed) && parsed.length > 0 && parsed.every((y) => typeof y === 'number');
        if (isPlain) expectSame(plain, generalWay(text), text);
        else expect(plain, text).toBeNull();
      }),
      { numRuns: 5000, seed: 7 },
    );
  });
});
