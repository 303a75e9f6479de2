import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonLine, jsonText, nestedJson, replayable, SHARED_TEXT_MAX } from '../src/format/json.js';
import type { MatrixReport, VectorReport } from '../src/format/report.js';
import type { Shape } from '../src/shape.js';
import type { Tensor } from '../src/values.js';
import { textOf } from '../src/format/chunks.js';
import { joinedNumbers } from '../src/format/joined.js';
import { exactNumber, jsonNumber } from '../src/format/number.js';

/** The plain writer: every number formatted on its own by jsonNumber. */
const plain = (data: ArrayLike<number>): string => `[${Array.from(data, jsonNumber).join(',')}]`;

/** Deterministic numbers with runs of repeats, signed zeros and non-finite entries. */
function mixed(n: number): Float64Array {
  const special = [NaN, Infinity, -Infinity, 0, -0, 1e-310, 5e-324, Number.MAX_VALUE, 0.1 + 0.2];
  const data = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    if (k % 7 === 3) data[k] = data[k - 1]!;
    else if (k % 11 === 5) data[k] = special[((k / 11) % special.length) | 0]!;
    else data[k] = Math.cos(k) * 10 ** ((k % 9) - 4);
  }
  return data;
}

describe('JSON numbers', () => {
  it.each([1, 16, 17, 8191, 8192, 8193, 30000])('a vector of %i numbers is written as each number alone', (n) => {
    const data = mixed(n);
    expect(nestedJson([n], data)).toBe(plain(data));
  });

  it('any doubles, the widest texts among them, are written as JSON.stringify writes them', () => {
    const widest = ['-0.0000012345678901234567', '-1.2345678901234568e-300', '-2.2250738585072014e-308'].map(Number);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double(), fc.constantFrom(...widest)), { minLength: 17, maxLength: 9000 }),
        (xs) => {
          const data = Float64Array.from(xs);
          expect(nestedJson([data.length], data)).toBe(plain(data));
        },
      ),
      { seed: 20261202, numRuns: 60 },
    );
  });

  it('a whole chunk of the widest texts is written whole', () => {
    // Two neighbouring doubles whose texts take 25 characters each (the widest any number's takes).
    const widest = [Number('-0.0000012345678901234567'), Number('-0.0000012345678901234574')];
    expect(widest.map((x) => JSON.stringify(x).length)).toEqual([25, 25]);
    const data = Float64Array.from({ length: 8192 * 2 + 3 }, (_, k) => widest[k % 2]!);
    expect(nestedJson([data.length], data)).toBe(plain(data));
  });

  it('repeated neighbours, NaN after NaN and -0 after 0 keep their own texts', () => {
    const data = Float64Array.of(NaN, NaN, Infinity, Infinity, 0, -0, -0, 2.5, 2.5, -Infinity, 1, 1, 1, 1, 1, 1, 1, 3);
    const text = nestedJson([data.length], data);
    expect(text).toBe(plain(data));
    expect(text).toBe('["NaN","NaN","Infinity","Infinity",0,0,0,2.5,2.5,"-Infinity",1,1,1,1,1,1,1,3]');
  });

  it('indices are written as integers', () => {
    const rows = Int32Array.from({ length: 20000 }, (_, k) => (k * 7919) % 100003);
    expect(nestedJson([rows.length], rows)).toBe(plain(rows));
  });
});

describe('the at object', () => {
  /** A grad report binding x (large) and y, each given as JSON text or not. */
  function report(x: Tensor, y: Tensor): VectorReport {
    return {
      command: 'grad',
      expr: 'sum(x) + y',
      at: [
        { name: 'x', value: x },
        { name: 'y', value: y },
      ],
      wrt: ['y'],
      inputs: [{ name: 'y', shape: [] }],
      value: { shape: [], data: Float64Array.of(1) },
      title: 'sum(x) + y',
      m: 1,
      n: 1,
      warnings: [],
      seed: null,
      vector: Float64Array.of(1),
    };
  }

  it.each<[Shape, string]>([
    [[SHARED_TEXT_MAX + 5], 'a large vector'],
    [[300, 300], 'a large matrix'],
  ])('%j (%s) read from a binary file is written as its JSON text would be', (shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = mixed(size);
    const y: Tensor = { shape: [], data: Float64Array.of(2.5) };
    const json = nestedJson(shape, data);
    const fromBinary = textOf(jsonText(report({ shape, data }, y)));
    const fromJson = textOf(jsonText(report({ shape, data, json }, y)));
    expect(fromBinary).toBe(fromJson);
    expect(jsonLine(report({ shape, data }, y))).toBe(fromJson);
    expect(JSON.parse(fromBinary).at.y).toBe(2.5);
  });
});

describe('a large field written twice', () => {
  /** Pieces that count how many times they are made. */
  function counted(pieces: readonly string[]): { source: Iterable<string>; made: () => number } {
    let made = 0;
    const source = {
      *[Symbol.iterator]() {
        made++;
        yield* pieces;
      },
    };
    return { source, made: () => made };
  }

  it('is made once and written again from its kept pieces', () => {
    const { source, made } = counted(['[1', ',2', ',3]']);
    const field = replayable(source, 7);
    expect(Array.from(field).join('')).toBe('[1,2,3]');
    expect(Array.from(field).join('')).toBe('[1,2,3]');
    expect(made()).toBe(1);
  });

  it.each([
    ['found', 7, 4],
    ['expected', 1000, 40],
  ])('is made again, the same, when its text is %s to be more than it keeps', (_, expected, most) => {
    const { source, made } = counted(['[1', ',2', ',3]']);
    const field = replayable(source, expected, most);
    expect(Array.from(field).join('')).toBe('[1,2,3]');
    expect(Array.from(field).join('')).toBe('[1,2,3]');
    expect(made()).toBe(2);
  });

  it('is made again when its first writing stopped before the end', () => {
    const { source, made } = counted(['[1', ',2', ',3]']);
    const field = replayable(source, 7);
    for (const piece of field) if (piece === ',2') break;
    expect(Array.from(field).join('')).toBe('[1,2,3]');
    expect(made()).toBe(2);
  });

  const base = { expr: 'f', at: [], wrt: ['x'], title: 'f', warnings: [] };

  it("a large J of one vector: its blocks' text is its flat text", () => {
    const [m, n] = [300, 301];
    const matrix = mixed(m * n);
    const report: MatrixReport = {
      ...base,
      command: 'jacobian',
      inputs: [{ name: 'x', shape: [n] }],
      value: { shape: [m], data: mixed(m) },
      m,
      n,
      matrix,
      mode: 'reverse',
      method: 'block',
      passes: 1,
    };
    const text = textOf(jsonText(report));
    const flat = `[${Array.from({ length: m }, (_, i) => plain(matrix.subarray(i * n, (i + 1) * n))).join(',')}]`;
    expect(text).toContain(`"jacobian":${flat},"blocks":{"x":${flat}}`);
  });

  it("a large jvp of a vector: its tangent's text is the jvp's", () => {
    const vector = mixed(SHARED_TEXT_MAX + 3);
    const report: VectorReport = {
      ...base,
      command: 'jvp',
      inputs: [{ name: 'x', shape: [2] }],
      value: { shape: [vector.length], data: vector },
      m: vector.length,
      n: 2,
      seed: Float64Array.of(1, 0),
      vector,
    };
    const text = textOf(jsonText(report));
    expect(text).toContain(`"jvp":${plain(vector)},"tangent":${plain(vector)}`);
  });
});

describe('numbers joined as CSV and TSV rows and MatrixMarket columns are', () => {
  it.each([
    [',', 10],
    ['\t', 5000],
    [',', 70000],
  ])(
    'each number as exactNumber writes it, joined by %j (%i numbers, the buffer grown past its first size)',
    (separator, n) => {
      const data = mixed(n);
      const row = joinedNumbers(data, 0, n, 1, separator.charCodeAt(0), exactNumber);
      expect(row).toBe(Array.from(data, exactNumber).join(separator));
      expect(row).toContain('NaN');
    },
  );

  it('a column of a row-major matrix, every third number from the second', () => {
    const data = mixed(3 * 400);
    const column = Array.from({ length: 400 }, (_, i) => exactNumber(data[3 * i + 1]!));
    expect(joinedNumbers(data, 1, 400, 3, 0x0a, exactNumber)).toBe(column.join('\n'));
  });
});
