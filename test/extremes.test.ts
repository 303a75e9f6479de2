/**
 * max and min as reductions (ops/extremes.ts, the `extreme` kind of linear map): of all entries and
 * along a dimension, with ties within mathjs's tolerance, NaN and ±Infinity. Values are mathjs's
 * evaluate of max or min of each line's entries (NaN for a line with a NaN, as mathjs's max(x); mathjs's
 * max(M, dim) passes over a NaN that is not a row's first entry, where ours keeps it); derivatives follow SPEC §6 (1 at the extreme entry, split evenly among tied entries, 0 for
 * a line with a NaN) in every mode and method, agree with finite differences away from ties, and have
 * second derivatives through the weights alone; a tie is reported once per tied line.
 */
import { equal, evaluate } from 'mathjs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { compileAt } from './helpers/compile.js';

type Rows = readonly (readonly number[])[];

const POINTS: Readonly<Record<string, Rows>> = {
  distinct: [
    [0.3, -1.2, 2.5, 0.7],
    [1.1, 0.4, -0.6, 2.2],
    [-0.9, 1.8, 0.05, -2.4],
  ],
  ties: [
    [1, 3, 3, 0],
    [2, 2 + 1e-13, -1, 2],
    [5, 5, 5, 5],
  ],
  infinite: [
    [Infinity, 1, Infinity, 0],
    [-Infinity, -Infinity, 2, 3],
    [1, 2, -Infinity, 4],
  ],
  nan: [
    [1, NaN, 3, 0],
    [2, 1, 0, -1],
    [NaN, NaN, NaN, NaN],
  ],
};

/** The lines each expression reduces, as lists of positions in M (row-major, 3×4). */
const ROWS = [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => i * 4 + j));
const COLUMNS = [0, 1, 2, 3].map((j) => [0, 1, 2].map((i) => i * 4 + j));
const ALL = [[...ROWS.flat()]];
const EXPRESSIONS: readonly { expr: string; lines: number[][]; sign: 1 | -1 }[] = [
  { expr: 'max(M)', lines: ALL, sign: 1 },
  { expr: 'min(M)', lines: ALL, sign: -1 },
  { expr: 'max(M, 1)', lines: COLUMNS, sign: 1 },
  { expr: 'min(M, 1)', lines: COLUMNS, sign: -1 },
  { expr: 'max(M, 2)', lines: ROWS, sign: 1 },
  { expr: 'min(M, 2)', lines: ROWS, sign: -1 },
];

/** Entries as the JSON values take them (non-finite numbers as strings). */
const json = (rows: Rows) => rows.map((row) => row.map((x) => (Number.isFinite(x) ? x : String(x))));

/** SPEC §6's weights of each line: 1/count at the entries mathjs finds equal to the extreme; none with a NaN. */
function conventionJacobian(M: Rows, lines: number[][], extremes: readonly number[]): number[] {
  const entries = M.flat();
  const J = new Array<number>(lines.length * entries.length).fill(0);
  lines.forEach((line, i) => {
    const tied = line.filter((k) => !Number.isNaN(extremes[i]!) && (equal(entries[k]!, extremes[i]!) as boolean));
    for (const k of tied) J[i * entries.length + k] = 1 / tied.length;
  });
  return J;
}

/** mathjs's max or min of each line's entries, as a vector. */
const lineExtremes = (M: Rows, lines: number[][], fn: string): number[] =>
  lines.map((line) => evaluate(`${fn}(v)`, { v: line.map((k) => M.flat()[k]!) }) as number);

describe.each(EXPRESSIONS)('$expr', ({ expr, lines }) => {
  const fn = expr.slice(0, 3);
  describe.each(Object.entries(POINTS))('at %s entries', (pointName, M) => {
    const { program, point } = compileAt(expr, { M: json(M) });
    const expected = lineExtremes(M, lines, fn);

    it('has mathjs’s value', () => {
      expect(Array.from(program.evaluate(point))).toEqual(expected);
    });

    it('has SPEC §6’s derivative in every mode and method, one tie warning per tied line', () => {
      const J = conventionJacobian(M, lines, expected);
      const tiedLines = lines.filter((_, i) => J.slice(i * 12, (i + 1) * 12).some((w) => w > 0 && w < 1)).length;
      for (const options of [
        { mode: 'reverse', method: 'one-hot' },
        { mode: 'forward', method: 'one-hot' },
        { mode: 'reverse', method: 'block' },
        { mode: 'forward', method: 'block' },
      ] as const) {
        const result = program.jacobian(point, ['M'], options);
        expect(Array.from(result.jacobian), `${pointName} ${options.mode} ${options.method}`).toEqual(J);
        const ties = result.warnings.filter((w) => w.kind === 'tie');
        expect(ties.map((w) => [w.operation, w.count])).toEqual(tiedLines === 0 ? [] : [[expr.slice(0, 3), tiedLines]]);
      }
      const sparse = program.sparseJacobian(point, ['M']);
      const dense = new Array<number>(J.length).fill(0);
      sparse.jacobian.rows.forEach((r, e) => (dense[r * 12 + sparse.jacobian.cols[e]!] = sparse.jacobian.values[e]!));
      expect(dense).toEqual(J);
    });
  });

  it('agrees with finite differences away from ties', () => {
    expect(api.check(expr, { M: POINTS.distinct! }).agree).toBe(true);
  });

  it('has the second derivatives of its weights: H of Σ wᵢ·yᵢ² is Σ 2wᵢ·pᵢpᵢᵀ, ties included', () => {
    for (const M of [POINTS.distinct!, POINTS.ties!]) {
      const weights = lines.map((_, i) => 0.5 + i);
      const w = `[${weights.join(', ')}]`;
      const objective = lines.length === 1 ? `${weights[0]} * ${expr}^2` : `sum(${w} .* ${expr}.^2)`;
      const { hessian } = api.hessian(objective, { M });
      const p = conventionJacobian(M, lines, lineExtremes(M, lines, fn));
      const expected = Array.from({ length: 12 }, (_, a) =>
        Array.from({ length: 12 }, (_, b) =>
          lines.reduce((sum, _, i) => sum + 2 * weights[i]! * p[i * 12 + a]! * p[i * 12 + b]!, 0),
        ),
      );
      hessian.forEach((row, a) => row.forEach((h, b) => expect(h).toBeCloseTo(expected[a]![b]!, 12)));
    }
  });
});

describe('max and min of a vector', () => {
  it('keep the tie convention on a long vector, touching the extreme alone otherwise', () => {
    // 65 536 entries: past the size from which buffers are shared memory (src/ops/parallel.ts), as a million were.
    const n = 1 << 16;
    const x = new Float64Array(n);
    for (let k = 0; k < n; k++) x[k] = Math.sin(k);
    x[777] = 2;
    let smallest = 0;
    for (let k = 1; k < n; k++) if (x[k]! < x[smallest]!) smallest = k;
    const range = api.compile('max(x) - min(x)', { x: [n] });
    // A loop, not Array.from(grad).flatMap: boxed numbers and empty arrays cost more than the gradient.
    const nonzero = (grad: Float64Array) => {
      const entries: [number, number][] = [];
      for (let k = 0; k < grad.length; k++) if (grad[k] !== 0) entries.push([k, grad[k]!]);
      return entries;
    };
    expect(nonzero(range.gradFlat({ x }).grad)).toEqual([
      [777, 1],
      [smallest, -1],
    ]);
    x[5] = 2;
    expect(nonzero(range.gradFlat({ x }).grad)).toEqual([
      [5, 0.5],
      [777, 0.5],
      [smallest, -1],
    ]);
  });

  it('report a tie with the entries of J it reaches, ascending, up to 10 000 of them', () => {
    // 30 000 entries: past the size from which the dependence trace tells entries apart by a mask.
    const n = 30_000;
    const x = Float64Array.from({ length: n }, (_, k) => Math.cos(k));
    x[29_000] = 2;
    x[3] = 2;
    const { warnings } = api.compile('max(x)', { x: [n] }).gradFlat({ x });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: 'tie', operation: 'max', count: 1 });
    // Every column feeds the max: the first 10 000 in order.
    expect(warnings[0]!.entries).toEqual(Array.from({ length: 10_000 }, (_, j) => [0, j]));
  });
});
