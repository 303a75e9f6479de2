/** MatrixMarket's sparse lines reuse the text of a repeated row or value: the same lines as each formatted alone. */
import { describe, expect, it } from 'vitest';
import { formatMatrixMarket } from '../src/format/matrix-market.js';
import { exactNumber } from '../src/format/number.js';
import type { MatrixReport } from '../src/format/report.js';

function report(rows: Int32Array, cols: Int32Array, values: Float64Array, n: number): MatrixReport {
  return {
    command: 'hessian',
    expr: 'f',
    at: [],
    wrt: ['x'],
    inputs: [{ name: 'x', shape: [n] }],
    value: { shape: [], data: Float64Array.of(0) },
    title: 'f',
    m: 1,
    n,
    warnings: [],
    matrix: { m: n, n, rows, cols, values },
    mode: 'forward',
    method: 'colored',
    passes: 3,
  };
}

describe('MatrixMarket sparse lines', () => {
  it('are each entry formatted alone, through repeats, NaN, ±Infinity and -0', () => {
    const special = [NaN, NaN, Infinity, Infinity, -Infinity, 0, -0, -0, 1e-310, 0.1 + 0.2, 0.1 + 0.2];
    const count = 10000;
    const rows = Int32Array.from({ length: count }, (_, k) => Math.floor(k / 3));
    const cols = Int32Array.from({ length: count }, (_, k) => Math.floor(k / 3) + (k % 3) - 1 + 1);
    const values = Float64Array.from({ length: count }, (_, k) =>
      k % 13 < special.length ? special[k % 13]! : k % 3 === 2 ? Math.cos(k - 1) : Math.cos(k),
    );
    const text = Array.from(formatMatrixMarket(report(rows, cols, values, count))).join('');
    const lines = text.split('\n');
    const body = lines.slice(4, -1);
    expect(lines[3]).toBe(`${count} ${count} ${count}`);
    expect(body).toEqual(Array.from(values, (x, k) => `${rows[k]! + 1} ${cols[k]! + 1} ${exactNumber(x)}`));
    expect(body.slice(0, 11).map((line) => line.split(' ')[2])).toEqual([
      'NaN',
      'NaN',
      'Infinity',
      'Infinity',
      '-Infinity',
      '0',
      '0',
      '0',
      '1e-310',
      '0.30000000000000004',
      '0.30000000000000004',
    ]);
  });
});

describe('MatrixMarket dense columns', () => {
  it.each([
    [20000, 1, 'a column longer than a piece'],
    [7, 5, 'a few columns'],
  ])('%i×%i (%s): each entry formatted alone, column by column', (m, n) => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 1e-310, 0.1 + 0.2];
    const matrix = Float64Array.from({ length: m * n }, (_, k) =>
      k % 9 < special.length ? special[k % 9]! : Math.cos(k),
    );
    const dense: MatrixReport = { ...report(new Int32Array(0), new Int32Array(0), new Float64Array(0), n), m, matrix };
    const lines = Array.from(formatMatrixMarket({ ...dense, command: 'jacobian' }))
      .join('')
      .split('\n');
    expect(lines[0]).toBe('%%MatrixMarket matrix array real general');
    expect(lines[3]).toBe(`${m} ${n}`);
    const byColumn = Array.from({ length: m * n }, (_, k) => exactNumber(matrix[(k % m) * n + Math.floor(k / m)]!));
    expect(lines.slice(4, -1)).toEqual(byColumn);
    expect(lines.at(-1)).toBe('');
  });
});
