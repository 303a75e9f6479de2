/**
 * Regressions of the engine, each found by hand: a case that once failed,
 * checked against finite differences or against the kink report's contract.
 */
import { describe, expect, it } from 'vitest';
import { runInProcess } from './helpers/cli.js';
import { compileAt } from './helpers/compile.js';
import { finiteDifferenceHessian, firstMismatch } from './helpers/numeric.js';

describe('Hessians of an output that is a 1×1 matrix', () => {
  const CASES = [
    { expr: 'A*A', at: { A: [[-0.63]] } },
    { expr: 'M*N', at: { M: [[1, 2, 3]], N: [[1], [2], [3]] } },
    { expr: 'inv(A)', at: { A: [[2]] } },
    { expr: 'A/B', at: { A: [[1.5]], B: [[0.7]] } },
    {
      expr: "x'*W*x",
      at: {
        x: [[0.3], [-1.1]],
        W: [
          [2, 0.5],
          [-0.25, 1],
        ],
      },
    },
  ];

  it.each(CASES)('hessian and hvp of $expr agree with finite differences of the gradient', ({ expr, at }) => {
    const { program, point } = compileAt(expr, at);
    const wrt = Object.keys(at);
    const n = program.columns(wrt);
    const hessian = program.hessian(point, wrt).jacobian;
    expect(firstMismatch(hessian, finiteDifferenceHessian(program, point, wrt, 1e-5), 1e-6, 1e-7)).toBeNull();
    const u = Float64Array.from({ length: n }, (_, k) => 0.5 - k / n);
    const expected = Array.from({ length: n }, (_, i) => u.reduce((sum, uj, j) => sum + hessian[i * n + j]! * uj, 0));
    expect(firstMismatch(program.hvp(point, u, wrt).hvp, expected, 1e-12, 1e-14)).toBeNull();
  });

  it('the CLI gives the Hessian of A*A (exit 0)', async () => {
    const run = await runInProcess(['hessian', 'A*A', '--at', 'A=[[-0.63]]', '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ hessian: [[2]] });
  });
});

describe('the kink report names infinite partials that a zero multiplies away', () => {
  const CASES = [
    { expr: 'sqrt(x).*sqrt(x)', at: { x: 0 }, source: 'sqrt(x)', entries: [[0, 0]] },
    { expr: 'sqrt(x)^2', at: { x: 0 }, source: 'sqrt(x)', entries: [[0, 0]] },
    { expr: 'cbrt(x)^3', at: { x: 0 }, source: 'cbrt(x)', entries: [[0, 0]] },
    { expr: 'x[1]*sqrt(x[2])', at: { x: [0, 0] }, source: 'sqrt(x[2])', entries: [[0, 1]] },
    { expr: 'x.*log(x)', at: { x: 0 }, source: 'log(x)', entries: [[0, 0]] },
  ];

  it.each(CASES)('$expr: every J entry through the infinite partial is reported', ({ expr, at, source, entries }) => {
    const { program, point } = compileAt(expr, at);
    for (const mode of ['reverse', 'forward'] as const) {
      const infinite = program.jacobian(point, Object.keys(at), { mode }).warnings.filter((w) => w.kind === 'infinite');
      expect(infinite.map((w) => [w.source, w.entries])).toEqual([[source, entries]]);
    }
  });

  it.each(CASES)('$expr: --strict fails', async ({ expr, at }) => {
    const atArgs = Object.entries(at).flatMap(([name, value]) => ['--at', `${name}=${JSON.stringify(value)}`]);
    const run = await runInProcess([expr, ...atArgs, '--strict']);
    expect(run.stdout).toContain('infinite in');
    expect(run.status).toBe(1);
  });

  it.each([
    { expr: 'x > -1 ? 3 * x : sqrt(x)', at: { x: 0 } },
    { expr: 'max(sqrt(x), 1)', at: { x: 0 } },
  ])('$expr: a zero that selects (the branch not taken, the loser of max) still hides it', ({ expr, at }) => {
    const { program, point } = compileAt(expr, at);
    expect(program.jacobian(point, Object.keys(at)).warnings).toEqual([]);
  });
});
