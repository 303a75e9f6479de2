/**
 * Indexing by a vector of positions known before evaluation (a compile constant, a variable given with
 * its value, arithmetic on them), as mathjs indexes with a matrix of positions: values against mathjs's
 * evaluate, derivatives (a gather: one 1 a row), and one-line errors for positions out of range, not
 * integers, a matrix, a mask, or not known before evaluation.
 */
import { evaluate, matrix } from 'mathjs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { main } from '../src/cli/main.js';
import { fakeIo } from './helpers/cli.js';

const M = [
  [1.5, -2, 3],
  [4, 5.25, -6],
  [7, 8, 9.5],
  [-10, 11, 12],
];
const x = [10, 20.5, -30, 40];
const CONSTANTS = {
  v: [3, 1, 3],
  w: [2],
  rows: [4, 2],
  triangles: [
    [2, 0],
    [1, 3],
  ],
  picks: [1, 0],
};

const CASES: readonly string[] = [
  'M[v, :]',
  'M[:, v]',
  'x[v]',
  'x[w]',
  'M[w, :]',
  'M[v - 1 + 1, 2]',
  'M[v, [3, 1]]',
  'M[rows, v]',
  'x[2 * w]',
  'x[v][2:3]',
  'sum(x[v] .* x[v])',
  'M[triangles[picks + 1, :][:, 1] + 1, :]',
];

/** What mathjs's evaluate gives, as plain arrays. */
function mathjsValue(expr: string): unknown {
  const scope = Object.fromEntries(
    Object.entries({ M, x, ...CONSTANTS }).map(([name, value]) => [name, matrix(value as number[])]),
  );
  const value = evaluate(expr, scope) as unknown;
  return typeof value === 'number' ? value : (value as { valueOf(): unknown }).valueOf();
}

describe('indexing by a vector of positions', () => {
  describe.each(CASES)('%s', (expr) => {
    const compiled = api.compile(expr, { M: [4, 3], x: [4] }, { constants: CONSTANTS });

    it('has mathjs’s value', () => {
      expect(compiled.evaluate({ M, x })).toEqual(mathjsValue(expr));
    });

    it('moves entries: forward and reverse agree, with finite differences too', () => {
      const reverse = compiled.jacobian({ M, x }, { mode: 'reverse' }).jacobian;
      expect(compiled.jacobian({ M, x }, { mode: 'forward' }).jacobian).toEqual(reverse);
      expect(compiled.check({ M, x }).agree).toBe(true);
    });
  });

  it('is a gather: each output entry reads one entry, repeated positions reading it again', () => {
    const { jacobian } = api.compile('x[v]', { x: [4] }, { constants: CONSTANTS }).jacobian({ x });
    expect(jacobian).toEqual([
      [0, 0, 1, 0],
      [1, 0, 0, 0],
      [0, 0, 1, 0],
    ]);
    const picked = api.compile('sum(M[v, :])', { M: [4, 3] }, { constants: CONSTANTS }).grad({ M });
    expect(picked.grad).toEqual([1, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0]);
  });

  it('takes a variable given with its value as positions, as a number is taken', () => {
    const { value, jacobian } = api.jacobian('x[v] .* 2', { x, v: [3, 1] });
    expect(value).toEqual([-60, 20]);
    expect(jacobian).toEqual([
      [0, 0, 2, 0, 0, 0],
      [2, 0, 0, 0, 0, 0],
    ]);
  });

  it('keeps a one-entry vector of positions a vector, as mathjs does', () => {
    expect(api.compile('x[w]', { x: [4] }, { constants: CONSTANTS }).evaluate({ x })).toEqual([20.5]);
  });
});

describe('indexing errors: exit 2 and one line', () => {
  const ERRORS: readonly { argv: string[]; says: RegExp }[] = [
    {
      argv: ['x[v + 1]', '--at', 'x=[1,2,3]', '--at', 'v=[3,1]'],
      says: /index 4 is out of range for x \(vector\[3\]\)/,
    },
    { argv: ['x[v - 1]', '--at', 'x=[1,2,3]', '--at', 'v=[3,1]'], says: /index 0 is out of range/ },
    { argv: ['x[v / 2]', '--at', 'x=[1,2,3]', '--at', 'v=[3,1]'], says: /index 1\.5 of x is not an integer/ },
    { argv: ['x[v]', '--at', 'x=[1,2,3]', '--at', 'v=[[1,2],[3,1]]'], says: /vector of positions, got the matrix/ },
    { argv: ['x[v == 3]', '--at', 'x=[1,2,3]', '--at', 'v=[3,1,3]'], says: /mask \(v == 3\) is not supported/ },
  ];
  it.each(ERRORS)('$argv.0', async ({ argv, says }) => {
    const io = fakeIo();
    expect(await main(argv, io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toMatch(/^error: [^\n]*\n$/);
    expect(io.err()).toMatch(says);
  });

  it('positions that are an input of compile(), not known before evaluation', () => {
    expect(() => api.compile('x[v]', { x: [3], v: [2] })).toThrow(
      /^an index must be a number known before evaluation, got v$/,
    );
  });

  it('a constant of compile() out of range, in the library', () => {
    expect(() => api.compile('x[v]', { x: [2] }, { constants: { v: [1, 3] } })).toThrow(
      /index 3 is out of range for x \(vector\[2\]\): indices run from 1 to 2/,
    );
  });
});
