/**
 * Forms mathjs accepts that the language used to refuse or read differently,
 * with mathjs's `evaluate` as the oracle of values and shapes.
 */
import { evaluate, format } from 'mathjs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo } from './helpers/cli.js';
import { compileAt } from './helpers/compile.js';
import { finiteDifferenceJacobian, firstMismatch } from './helpers/numeric.js';

const A = [
  [1, 2],
  [3, 4],
];

describe('mathjs forms', () => {
  it.each([
    ['pow(A, 2)', { A }],
    ['pow(A, 3) + A^2', { A }],
    ['cross(a, b)', { a: [[1, 2, 3]], b: [[4, 5, 6]] }],
    ['cross(a, b)', { a: [[1], [2], [3]], b: [[4], [5], [6]] }],
    ['cross(a, b)', { a: [1, 2, 3], b: [[4, 5, 6]] }],
    ['cross(a, b)', { a: [1, 2, 3], b: [4, 5, 6] }],
    [
      'lusolve(A, b)',
      {
        A: [
          [2, 1, 0.5],
          [1, 3, 0.2],
          [0.1, 0.4, 5],
        ],
        b: [1, 2, 3],
      },
    ],
    [
      'lusolve(A, b)',
      {
        A: [
          [0.1, 2],
          [3, 0.5],
        ],
        b: [[1], [2]],
      },
    ],
    [
      'lsolve(A, b)',
      {
        A: [
          [2, 5],
          [1, 3],
        ],
        b: [1, 2],
      },
    ],
    [
      'usolve(A, b)',
      {
        A: [
          [2, 1],
          [7, 3],
        ],
        b: [1, 2],
      },
    ],
  ] as const)('%s has the value and shape mathjs gives', (expr, at) => {
    const { program, point } = compileAt(expr, at);
    const scope = Object.fromEntries(Object.entries(at).map(([k, v]) => [k, evaluate(JSON.stringify(v))]));
    const expected = JSON.parse(format(evaluate(expr, scope), { precision: 17 })) as unknown;
    const flatExpected = [expected].flat(3) as number[];
    // Equal to rounding: a solve may pivot and sum in another order than mathjs.
    expect(firstMismatch(program.evaluate(point), flatExpected, 1e-14, 1e-15)).toBeNull();
    expect(program.outputShape).toEqual(
      Array.isArray(expected)
        ? Array.isArray(expected[0])
          ? [expected.length, (expected[0] as []).length]
          : [expected.length]
        : [],
    );
    const variables = Object.keys(at);
    const { jacobian } = program.jacobian(point, variables);
    const numeric = finiteDifferenceJacobian(program, point, variables);
    expect(firstMismatch(jacobian, numeric, 1e-7, 1e-7)).toBeNull();
  });

  it('A^k with k given a value: the matrix power, and k fixes the graph', async () => {
    const io = fakeIo();
    expect(await main(['A^k', '--at', 'A=[[1,2],[3,4]]', '--at', 'k=3', '--wrt', 'A', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out()).value).toEqual(JSON.parse(format(evaluate('[[1,2],[3,4]]^3'))));
    const batch = fakeIo({ stdin: '{"at":{"k":2}}\n{"at":{"k":3}}\n' });
    expect(await main(['A^k', '--at', 'A=[[1,2],[3,4]]', '--wrt', 'A', '--batch', '-'], batch)).toBe(0);
    const values = batch
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).value);
    expect(values).toEqual([evaluate('[[1,2],[3,4]]^2').toArray(), evaluate('[[1,2],[3,4]]^3').toArray()]);
  });

  it('an empty range sums to 0, as in mathjs; elsewhere it is refused', () => {
    const { program, point } = compileAt('sum(x[3:2]) + x[1]', { x: [5, 6, 7] });
    expect(program.evaluate(point)[0]).toBe(evaluate('x = [5, 6, 7]; sum(x[3:2]) + x[1]').entries[0]);
    expect(Array.from(program.jacobian(point, ['x']).jacobian)).toEqual([1, 0, 0]);
    expect(() => compileAt('x[3:2]', { x: [5, 6, 7] })).toThrow(/x\[3:2\] is empty: an empty range only works/);
    expect(() => compileAt('prod(x[3:2])', { x: [5, 6, 7] })).toThrow(/is empty/);
    expect(() => evaluate('x = [5, 6, 7]; prod(x[3:2])')).toThrow(/empty/);
  });

  it('the factorial is refused with what to write instead', async () => {
    const io = fakeIo();
    expect(await main(['s!', '--at', 's=3'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: the factorial s! is not supported: .*prod\(1:n\)/);
  });
});
