/**
 * Sparse Jacobians: the detected pattern holds every nonzero of J (and
 * equals it where nothing can cancel), compressed passes give the same J as
 * uncompressed ones, and banded Jacobians need as many colours as their band
 * is wide, whatever n is.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Program } from '../src/engine/program.js';
import type { SparseJacobian } from '../src/engine/sparsity.js';
import { fakeIo } from './helpers/cli.js';
import { compileAt } from './helpers/compile.js';
import { expressions, points, VARIABLES } from './helpers/expressions.js';
import { casesOf } from './helpers/fuzz.js';
import { firstMismatch, flat } from './helpers/numeric.js';
import { ORACLE } from './helpers/oracle.js';

function densify(J: SparseJacobian): Float64Array {
  const dense = new Float64Array(J.m * J.n);
  for (let k = 0; k < J.values.length; k++) dense[J.rows[k]! * J.n + J.cols[k]!] = J.values[k]!;
  return dense;
}

/** Entries (row·n + column) of the pattern, and of the nonzeros of a dense J (a loop: J may have millions). */
const patternOf = (J: SparseJacobian) => new Set(Array.from(J.rows, (i, k) => i * J.n + J.cols[k]!));
function nonzerosOf(dense: ArrayLike<number>): Set<number> {
  const nonzeros = new Set<number>();
  for (let k = 0; k < dense.length; k++) if (dense[k] !== 0) nonzeros.add(k);
  return nonzeros;
}

function compare(program: Program, point: Map<string, Float64Array>, wrt: readonly string[], context: string): void {
  const dense = program.jacobian(point, wrt, { mode: 'reverse' }).jacobian;
  for (const mode of ['auto', 'forward', 'reverse'] as const) {
    const sparse = program.sparseJacobian(point, wrt, { mode }).jacobian;
    const pattern = patternOf(sparse);
    for (const k of nonzerosOf(dense))
      expect(pattern.has(k), `${context} (${mode}): nonzero ${k} outside the pattern`).toBe(true);
    // Forward and reverse passes add an entry's terms in other orders: where they cancel (terms near 1, an entry of
    // 1e-4) the last bits differ by a few ε of the terms, not of the entry (1.1e-15 in a case at 32× the budget).
    expect(firstMismatch(densify(sparse), dense, 1e-12, 1e-14), `${context} (${mode})`).toBeNull();
  }
}

describe('sparse Jacobians', () => {
  it.each(ORACLE)('$id: the pattern holds J, and compressed passes agree with one-hot ones', (c) => {
    const { program, point } = compileAt(c.expr, c.at);
    compare(program, point, c.wrt, c.expr);
    expect(
      firstMismatch(densify(program.sparseJacobian(point, c.wrt).jacobian), flat(c.jacobian), 1e-10, 1e-13),
    ).toBeNull();
  });

  it('random expressions: the pattern holds every nonzero and compressed J equals J', () => {
    fc.assert(
      fc.property(
        expressions({ smooth: true, mathjs: false }, 3),
        points,
        fc.shuffledSubarray(Object.keys(VARIABLES), { minLength: 1 }),
        (e, at, wrt) => {
          const { program, point } = compileAt(e.text, at);
          compare(program, point, wrt, `${e.text} at ${JSON.stringify(at)}`);
        },
      ),
      // Counted as the fuzz tests' cases: a share in npm test, the rest in CI's fuzz run.
      { seed: 0x5ba25e, numRuns: casesOf({ test: 100, ci: 300, full: 1500 }) },
    );
  });

  const vector = (n: number) => ({ x: Array.from({ length: n }, (_, i) => 0.5 + Math.sin(i + 1)) });
  const BANDED: readonly [string, string, number, number][] = [
    ['element-wise', 'sin(x).*x+x.^2', 1, 1],
    ['differences', 'x[2:end]-x[1:end-1]', 2, 2],
    ['Rosenbrock residuals', '100*(x[2:end]-x[1:end-1].^2).^2+(1-x[1:end-1]).^2', 2, 2],
    ['a three-point stencil', 'x[1:end-2]-2*x[2:end-1]+x[3:end]', 3, 3],
  ];
  it.each(BANDED)('%s: the pattern is exact and needs %i colours, whatever n is', (_name, expr, colours, width) => {
    for (const n of [10, 100, 2000]) {
      const { program, point } = compileAt(expr, vector(n));
      const result = program.sparseJacobian(point, ['x']);
      expect(result.colours).toBe(colours);
      // Nothing cancels in these: the pattern is exactly the nonzeros of J.
      expect(patternOf(result.jacobian)).toEqual(nonzerosOf(program.jacobian(point, ['x']).jacobian));
      expect(result.jacobian.values.length).toBe((n - width + 1) * width);
    }
  });

  it('a pattern no colouring compresses is taken from the block pass J takes without --sparse', async () => {
    // x·sum(x): J = sum(x)·I + x·1ᵀ, every entry a nonzero, so every column and every row needs its own colour.
    const n = 20;
    const { program, point } = compileAt('x*sum(x)', vector(n));
    const sparse = program.sparseJacobian(point, ['x']);
    expect([sparse.method, sparse.passes, sparse.colours, sparse.lowerBound]).toEqual(['block', 1, n, n]);
    expect(Array.from(densify(sparse.jacobian))).toEqual(Array.from(program.jacobian(point, ['x']).jacobian));
    // Asked for a direction, J is the colouring's: one compressed pass per colour.
    const forward = program.sparseJacobian(point, ['x'], { mode: 'forward' });
    expect([forward.method, forward.passes]).toEqual(['colored', n]);
    expect(firstMismatch(densify(forward.jacobian), densify(sparse.jacobian), 1e-12, 1e-14)).toBeNull();
    // Where a partial is infinite (sqrt at 0) the block pass does not run: the careful compressed passes do.
    const careful = compileAt('sqrt(x)*sum(x)', { x: [0, ...vector(n - 1).x] });
    expect(careful.program.sparseJacobian(careful.point, ['x']).method).toBe('colored');
    const io = fakeIo();
    expect(await main(['x*sum(x)', '--at', `x=1:${n}`, '--sparse'], io)).toBe(0);
    expect(io.out()).toContain(`${n} colours (reverse block pass, lower bound ${n})`);
    // A dense Hessian likewise, as `hessian` takes it, and its colouring is not looked for: a colour per column.
    const scalar = compileAt('sum(x)^2 + sum(x.^3)', vector(n));
    const hessian = scalar.program.sparseHessian(scalar.point, ['x']);
    expect([hessian.method, hessian.passes, hessian.colours, hessian.lowerBound]).toEqual(['block', 1, n, n]);
    const dense = scalar.program.hessian(scalar.point, ['x']).jacobian;
    expect(Array.from(densify(hessian.jacobian))).toEqual(Array.from(dense));
  });

  it('the ternary counts both branches in the pattern', () => {
    const { program, point } = compileAt('x[1] > 0 ? x[2] : x[3]', { x: [1, 2, 3] });
    const { jacobian } = program.sparseJacobian(point, ['x']);
    expect([...patternOf(jacobian)].sort()).toEqual([1, 2]);
    expect(Array.from(densify(jacobian))).toEqual([0, 1, 0]);
  });

  it('--stats reports nonzeros and colours, and spy --svg writes an SVG', async () => {
    let svg = '';
    const io = { ...fakeIo(), writeFile: (_path: string, text: string) => void (svg = text) };
    expect(await main(['spy', 'x[2:end]-x[1:end-1]', '--at', '1,2,3,4,5', '--svg', 'pattern.svg', '--stats'], io)).toBe(
      0,
    );
    expect(JSON.parse(io.err())).toMatchObject({ nonzeros: 8, colours: 2, method: 'colored' });
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
    expect(svg.match(/<rect [^>]*fill="#/g)?.length).toBeGreaterThanOrEqual(8);
  });
});
