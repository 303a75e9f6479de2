/**
 * A batch line's number text taken as the output's text of its value only when it is exactly
 * JSON.stringify's. Checked against JSON.stringify over random doubles, random decimal texts and texts a digit
 * away from JSON.stringify's (the cases where a text reads as the value but is not its shortest or closest).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactDecimal, FlatLine } from '../src/cli/batch-line.js';
import { DecimalForm } from '../src/cli/batch-numbers.js';
import { CACHE_BITS, jsonLine, slotOf } from '../src/format/json.js';
import { JsonLines, LineFrames } from '../src/format/json-lines.js';
import type { MatrixReport, Report } from '../src/format/report.js';
import type { Shape } from '../src/shape.js';

const reader = new FlatLine();
const form = new DecimalForm();

/** Whether a batch line's reader takes `text` (a JSON number) as the text of its value: read as FlatLine reads it. */
function taken(text: string): boolean {
  // Thrown, not expected: thousands of texts a test, and an expect per text cost most of its time.
  if (!reader.read(`{"v":${text}}`)) throw new Error(`the batch line's reader does not read ${text}`);
  const codes = Uint16Array.from(text, (c) => c.charCodeAt(0));
  const exact = exactDecimal(codes, 0, codes.length, form);
  return form.isShortest(Number.isNaN(exact) ? Number(text) : exact);
}

/** A JSON number's syntax. */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Asserts what isShortestText promises: taken means equal to JSON.stringify of the value. */
function check(text: string): boolean {
  if (!JSON_NUMBER.test(text)) return false;
  const x = Number(text);
  if (!Number.isFinite(x)) return false;
  const ok = taken(text);
  if (ok && JSON.stringify(x) !== text) throw new Error(`${text} is taken, but JSON writes ${JSON.stringify(x)}`);
  return ok;
}

/** A random double from its 64 bits. */
const anyDouble = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((bits) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
});

/** Texts a digit away from `text`: the last digit one or two up or down, a digit more or fewer. */
function neighbours(text: string): string[] {
  const out: string[] = [];
  const last = text.charCodeAt(text.length - 1) - 0x30;
  for (const d of [-2, -1, 1, 2]) {
    const digit = last + d;
    if (digit >= 0 && digit <= 9) out.push(text.slice(0, -1) + String(digit));
  }
  out.push(text.slice(0, -1), `${text}1`, `${text}5`, `${text}9`, `${text}0`);
  return out;
}

describe('numbers taken as JSON writes them', () => {
  it('takes a text only when it is JSON.stringify of its value, for random doubles and texts next to theirs', () => {
    fc.assert(
      fc.property(anyDouble, (x) => {
        fc.pre(Number.isFinite(x));
        const text = JSON.stringify(x);
        check(text);
        for (const near of neighbours(text)) check(near);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes a text only when it is JSON.stringify of its value, for random decimal texts', () => {
    const decimal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^[0-9]{1,18}$/),
        fc.option(fc.stringMatching(/^[0-9]{1,22}$/), { nil: undefined }),
      )
      .map(
        ([negative, integer, fraction]) =>
          `${negative ? '-' : ''}${integer}${fraction === undefined ? '' : `.${fraction}`}`,
      );
    fc.assert(
      fc.property(decimal, (text) => {
        check(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the shortest texts without an exponent, refuses other spellings', () => {
    const shortest = [
      ...['0', '1', '-1', '10', '100', '120000', '1.5', '-2.6667', '0.1', '0.000001', '100000000000000000000'],
      // 16 and 17 digits (the prefix below 2⁵³); values as the Lorenz batch's, the longest JSON of a number.
      ...['8.415290340043274', '-5.065136754449987', '0.1000000000000001', '-9007199254740991'],
      ...['11.569490214609303', '0.30000000000000004', '-0.0000010858813352167062'],
    ];
    for (const text of shortest) expect([taken(text), JSON.stringify(Number(text))], text).toEqual([true, text]);
    const refused = [
      ...['-0', '1.50', '1.0', '0.3000000000000000', '0.0000001', '1000000000000000000000', '1e5', '1E+21'],
      // Read as the value of a shorter text, or not the closest of their length.
      ...['9.999999999999999', '1.0000000000000001', '0.30000000000000003', '12345678901234567'],
      // More digits than a double needs.
      '0.1234567890123456789',
    ];
    for (const text of refused) expect(taken(text), text).toBe(false);
  });

  it('takes most of the texts JSON.stringify gives for numbers such as a batch holds', () => {
    let count = 0;
    let took = 0;
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (x) => {
        const text = JSON.stringify(x);
        if (!/^-?\d+(\.\d+)?$/.test(text)) return;
        count++;
        if (taken(text)) took++;
      }),
      { numRuns: 5000 },
    );
    // Digits past 2⁵³ but the last are refused; so are the few texts whose shorter neighbours read as the value.
    expect(took / count).toBeGreaterThan(0.85);
  });
});

describe('a batch line whose numbers are copied', () => {
  it('writes for each number what JSON.stringify writes, its text taken or not', () => {
    fc.assert(
      fc.property(fc.array(anyDouble, { minLength: 1, maxLength: 4 }), (xs) => {
        fc.pre(xs.every(Number.isFinite));
        const texts = xs
          .flatMap((x) => [JSON.stringify(x), ...neighbours(JSON.stringify(x))])
          .filter((t) => JSON_NUMBER.test(t) && Number.isFinite(Number(t)));
        // Read (and so remembered) first, then written: the bytes must be JSON.stringify's of the values read.
        expect(reader.read(`{${texts.map((t, k) => `"v${k}":${t}`).join(',')}}`)).toBe(true);
        const values = reader.numbers.slice(0, reader.count);
        expect(writtenValue(values)).toBe(JSON.stringify(Array.from(values)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('JsonLines', () => {
  // -0.0000012345678901234567: 25 bytes, the longest JSON of a number.
  const longest = (k: number): number => -0.0000010858813352167062 - k * 1e-22;

  it('writes numbers of 25 bytes whole, many in a line', () => {
    const data = Float64Array.from({ length: 100 }, (_, k) => longest(k));
    expect(JSON.stringify(data[0])).toHaveLength(25);
    expect(writtenValue(data)).toBe(JSON.stringify(Array.from(data)));
  });

  it('keeps a cached number whole after a 25-byte one cached beside it', () => {
    const x = longest(0);
    // A number cached in the slot after x's.
    let y = 5e-324;
    while (slotOf(y) !== (slotOf(x) + 1) % (1 << CACHE_BITS)) y += 5e-324;
    for (const data of [[y], [x], [y]]) expect(writtenValue(Float64Array.from(data))).toBe(JSON.stringify(data));
  });
});

/** The `value` JsonLines writes for a Jacobian's line whose value is `data` (J is m × 1, the same numbers). */
function writtenValue(data: Float64Array): string {
  const report: MatrixReport = {
    command: 'jacobian',
    expr: 'v',
    title: 'v',
    at: [],
    wrt: ['v'],
    inputs: [{ name: 'v', shape: [] }],
    value: { shape: [data.length], data },
    m: data.length,
    n: 1,
    matrix: data.slice(),
    mode: 'reverse',
    method: 'one-hot',
    passes: 0,
    warnings: [],
  };
  const out = new JsonLines(64);
  out.report(report);
  const line = Buffer.from(out.bytes()).toString('latin1');
  // The whole line is JSON: no byte of it lost past the room reserved.
  expect((JSON.parse(line) as { jacobian: unknown[] }).jacobian).toHaveLength(data.length);
  return line.slice(line.indexOf('"value":') + 8, line.indexOf(',"valueShape"'));
}

describe("a batch's dense lines", () => {
  it('are jsonLine’s for the same report again with its arrays refilled, from one JsonLines to the next', () => {
    const x = Float64Array.of(1.5);
    const value = Float64Array.of(0.1, -2);
    const matrix = Float64Array.of(3, 0.25);
    const report: MatrixReport = {
      command: 'jacobian',
      expr: 'f(x)',
      title: 'f(x)',
      at: [{ name: 'x', value: { shape: [], data: x } }],
      wrt: ['x'],
      inputs: [{ name: 'x', shape: [] }],
      value: { shape: [2], data: value },
      m: 2,
      n: 1,
      matrix,
      mode: 'reverse',
      method: 'one-hot',
      passes: 2,
      warnings: [],
    };
    // The same frames for every chunk, as a batch keeps them; each point's numbers put in place, as a lane does.
    const frames = new LineFrames();
    for (const [point, first, second] of [
      [1.5, 0.1, 3],
      [-7, 1e21, 0],
      [0.5, 5e-324, -0.125],
    ] as const) {
      x[0] = point;
      value[0] = first;
      matrix[1] = second;
      const out = new JsonLines(16, frames);
      out.report(report, 4);
      out.report(report);
      expect(Buffer.from(out.bytes()).toString('latin1')).toBe(jsonLine(report, 4) + jsonLine(report));
    }
    // Another report of another way of computing gets its own frame.
    const forward: MatrixReport = { ...report, mode: 'forward', passes: 1 };
    const out = new JsonLines(16, frames);
    out.report(forward);
    expect(Buffer.from(out.bytes()).toString('latin1')).toBe(jsonLine(forward));
  });

  it('are jsonLine’s when the shape of a point’s value not differentiated changes, for J and each vector', () => {
    const frames = new LineFrames();
    const lines: Report[] = [];
    // x (differentiated) keeps its shape, so the frame stays; y's (only read) changes.
    for (const k of [2, 3, 1, 2]) {
      const x = Float64Array.of(-1, 0.25);
      const y = Float64Array.from({ length: k }, (_, j) => j * 0.7);
      const value = Float64Array.of(0.5, k);
      const base = {
        expr: 'f(x, y)',
        title: 'f(x, y)',
        at: [
          { name: 'x', value: { shape: [2] as Shape, data: x } },
          { name: 'y', value: { shape: [k] as Shape, data: y } },
        ],
        wrt: ['x'],
        inputs: [{ name: 'x', shape: [2] as Shape }],
        value: { shape: [2] as Shape, data: value },
        m: 2,
        n: 2,
        warnings: [],
      };
      lines.push(
        {
          ...base,
          command: 'jacobian',
          matrix: Float64Array.of(k, -2.25, 0, 1e-7),
          mode: 'reverse',
          method: 'one-hot',
          passes: 2,
        },
        { ...base, command: 'grad', m: 1, seed: null, vector: Float64Array.of(-k, 3) },
        { ...base, command: 'vjp', seed: Float64Array.of(2, 2), vector: Float64Array.of(k, 0.125) },
        { ...base, command: 'jvp', seed: Float64Array.of(1, 1), vector: value.map((v) => v * 3) },
      );
    }
    // Each command's lines together: its frame stays while the shapes change.
    lines.sort((a, b) => a.command.localeCompare(b.command));
    const out = new JsonLines(16, frames);
    for (const report of lines) out.report(report, 7);
    expect(Buffer.from(out.bytes()).toString('latin1')).toBe(lines.map((report) => jsonLine(report, 7)).join(''));
  });
});
