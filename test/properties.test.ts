/**
 * Seeded property tests over random smooth expressions of x (3), y and A
 * (2×3) at random points: the Jacobian matches central finite differences,
 * vjp(v) is vᵀJ, J has the documented size, forward mode, block passes and
 * one-hot backward passes agree, ⟨J·u, v⟩ = ⟨u, Jᵀ·v⟩, and Hessians are
 * symmetric with hvp(u) = H·u. A failure prints the expression text, the
 * point and the variables differentiated. `npm test` runs 300 cases of each
 * (100 of the Hessians'); CI's `npm run fuzz` (FUZZ_BUDGET=ci) 1000 (300).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAt, type Compiled } from './helpers/compile.js';
import { expressions, points, SHAPE, VARIABLES, type Expr, type Point } from './helpers/expressions.js';
import { casesOf } from './helpers/fuzz.js';
import {
  extrapolatedDifferences,
  finiteDifferenceHessian,
  finiteDifferenceJacobian,
  firstMismatch,
} from './helpers/numeric.js';

const SMOOTH = expressions({ smooth: true, mathjs: false }, 3);
const NAMES = Object.keys(VARIABLES) as (keyof typeof VARIABLES)[];
/** The variables differentiated: a non-empty subset, in any column order. */
const WRT = fc.shuffledSubarray(NAMES, { minLength: 1 });
/** Enough cotangent entries for any output (at most 6). */
const COTANGENT = fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 });
/** Cases per property as the fuzz tests count them (helpers/fuzz.ts): a share in `npm test`, more in CI's fuzz run. */
const OPTIONS = { seed: 0x0a11_d1ff, numRuns: casesOf({ test: 300, ci: 1000, full: 5000 }) };
const HESSIAN_OPTIONS = { ...OPTIONS, numRuns: casesOf({ test: 100, ci: 300, full: 1500 }) };

/**
 * Programs by expression and point. The properties share a seed, so they draw the same cases: each is compiled
 * once and its program reused, as a program is meant to be (the first property meets every program fresh). Up to
 * KEPT programs, the oldest dropped first: a budget many times the full one (FUZZ_BUDGET=32) compiles again rather
 * than holding every program until its worker runs out of memory.
 */
const KEPT = 20_000;
const compiled = new Map<string, Compiled>();
function compileOnce(expr: string, at: Point): Compiled {
  const key = `${expr} at ${JSON.stringify(at)}`;
  let c = compiled.get(key);
  if (c === undefined) {
    compiled.set(key, (c = compileAt(expr, at)));
    if (compiled.size > KEPT) compiled.delete(compiled.keys().next().value!);
  }
  return c;
}

const columnsOf = (wrt: readonly string[]) =>
  wrt.reduce((n, name) => n + SHAPE[VARIABLES[name as keyof typeof VARIABLES]].reduce((a, b) => a * b, 1), 0);
const where = (e: Expr, at: Point, wrt: readonly string[]) => `${e.text} at ${JSON.stringify(at)} wrt ${wrt.join(',')}`;

describe('random smooth expressions', () => {
  it('the Jacobian agrees with central finite differences', () => {
    fc.assert(
      fc.property(SMOOTH, points, WRT, (e, at, wrt) => {
        const { program, point } = compileOnce(e.text, at);
        const automatic = program.jacobian(point, wrt, { mode: 'reverse' }).jacobian;
        // Central differences have truncation error O(h²) and rounding error O(ε/h): a loose tolerance, and where
        // they miss, extrapolated differences as second opinions, from the same step and from a hundredth of it
        // (for a function that turns within the step).
        const central = firstMismatch(automatic, finiteDifferenceJacobian(program, point, wrt), 1e-5, 1e-6);
        const extrapolated = (step: number) =>
          firstMismatch(
            automatic,
            extrapolatedDifferences(program, point, wrt, program.m, (p) => program.evaluate(p), step),
            1e-5,
            1e-6,
          );
        expect(central && extrapolated(6e-6) && extrapolated(6e-8), where(e, at, wrt)).toBeNull();
      }),
      OPTIONS,
    );
  });

  it('vjp(v) is vᵀJ', () => {
    fc.assert(
      fc.property(SMOOTH, points, WRT, COTANGENT, (e, at, wrt, cotangent) => {
        const { program, point } = compileOnce(e.text, at);
        const { jacobian: J, m, n } = program.jacobian(point, wrt, { mode: 'reverse' });
        const v = cotangent.slice(0, m);
        const expected = Array.from({ length: n }, (_, j) => v.reduce((s, vi, i) => s + vi * J[i * n + j]!, 0));
        // Norm-wise relative: the backward pass sums vᵢ·∂ᵢ in another order than vᵀJ, and rounding
        // follows the intermediate partials, not the (possibly cancelled) entries of J: x[3] - x[3],
        // or log(3 + sin(a), 3 + sin(a)) whose J is rounding noise. The generator keeps partials
        // moderate, so errors scale with ‖v‖₁·max(1, max|J|); 1e-300 absorbs subnormal products.
        const scale = v.reduce((s, vi) => s + Math.abs(vi), 0) * J.reduce((s, Jij) => Math.max(s, Math.abs(Jij)), 1);
        const { vjp } = program.vjp(point, v, wrt);
        expect(firstMismatch(vjp, expected, 1e-12, 1e-12 * scale + 1e-300), where(e, at, wrt)).toBeNull();
      }),
      OPTIONS,
    );
  });

  it('J has m rows (the output entries), n columns (the wrt entries) and takes m backward passes', () => {
    fc.assert(
      fc.property(SMOOTH, points, WRT, (e, at, wrt) => {
        const { program, point } = compileOnce(e.text, at);
        const result = program.jacobian(point, wrt, { mode: 'reverse' });
        const m = SHAPE[e.kind].reduce((a, b) => a * b, 1);
        const context = where(e, at, wrt);
        expect([...program.outputShape], context).toEqual(SHAPE[e.kind]);
        expect([program.m, result.m, result.n, program.columns(wrt), result.passes], context).toEqual([
          m,
          m,
          columnsOf(wrt),
          columnsOf(wrt),
          m,
        ]);
        expect([result.jacobian.length, result.value.length], context).toEqual([m * result.n, m]);
        expect(firstMismatch(result.value, program.evaluate(point), 0), context).toBeNull();
      }),
      OPTIONS,
    );
  });

  it('forward mode, block passes in either direction and auto agree with one-hot backward passes', () => {
    fc.assert(
      fc.property(SMOOTH, points, WRT, (e, at, wrt) => {
        const { program, point } = compileOnce(e.text, at);
        const reverse = program.jacobian(point, wrt, { mode: 'reverse' }).jacobian;
        const scale = reverse.reduce((s, x) => Math.max(s, Math.abs(x)), 1);
        for (const options of [
          { mode: 'forward' },
          { mode: 'reverse', method: 'block' },
          { mode: 'forward', method: 'block' },
          { mode: 'auto' },
        ] as const) {
          const other = program.jacobian(point, wrt, options).jacobian;
          expect(
            firstMismatch(other, reverse, 1e-12, 1e-13 * scale),
            `${JSON.stringify(options)}: ${where(e, at, wrt)}`,
          ).toBeNull();
        }
      }),
      OPTIONS,
    );
  });

  it('⟨J·u, v⟩ = ⟨u, Jᵀ·v⟩ for random directions (jvp against vjp)', () => {
    fc.assert(
      fc.property(SMOOTH, points, WRT, COTANGENT, COTANGENT, (e, at, wrt, cotangent, tangent) => {
        const { program, point } = compileOnce(e.text, at);
        const v = cotangent.slice(0, program.m);
        const u = Array.from({ length: program.columns(wrt) }, (_, k) => tangent[k % tangent.length]!);
        const jvp = program.jvp(point, u, wrt).jvp;
        const vjp = program.vjp(point, v, wrt).vjp;
        const left = jvp.reduce((s, x, i) => s + x * v[i]!, 0);
        const right = vjp.reduce((s, x, j) => s + x * u[j]!, 0);
        const scale = Math.max(1, ...Array.from(jvp, Math.abs), ...Array.from(vjp, Math.abs));
        expect(Math.abs(left - right), where(e, at, wrt)).toBeLessThanOrEqual(1e-11 * scale);
      }),
      OPTIONS,
    );
  });

  it('the Hessian of sum(f) is symmetric and hvp(u) = H·u', () => {
    fc.assert(
      fc.property(SMOOTH, points, WRT, COTANGENT, (e, at, wrt, tangent) => {
        const { program, point } = compileOnce(`sum(${e.text})`, at);
        const { jacobian: H, n } = program.hessian(point, wrt);
        const scale = H.reduce((s, x) => Math.max(s, Math.abs(x)), 1);
        const context = where(e, at, wrt);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < i; j++)
            expect(Math.abs(H[i * n + j]! - H[j * n + i]!), context).toBeLessThanOrEqual(1e-10 * scale);
        const u = Array.from({ length: n }, (_, k) => tangent[k % tangent.length]!);
        const Hu = Array.from({ length: n }, (_, i) => u.reduce((s, uj, j) => s + H[i * n + j]! * uj, 0));
        expect(firstMismatch(program.hvp(point, u, wrt).hvp, Hu, 1e-10, 1e-10 * scale), context).toBeNull();
      }),
      HESSIAN_OPTIONS,
    );
  });

  it('the Hessian agrees with central differences of the gradient', () => {
    fc.assert(
      fc.property(SMOOTH, points, WRT, (e, at, wrt) => {
        const { program, point } = compileOnce(`sum(${e.text})`, at);
        const { jacobian: H } = program.hessian(point, wrt);
        const central = firstMismatch(H, finiteDifferenceHessian(program, point, wrt, 1e-5), 1e-5, 1e-5);
        const extrapolated = (step: number) =>
          firstMismatch(
            H,
            extrapolatedDifferences(program, point, wrt, columnsOf(wrt), (p) => program.grad(p, wrt).grad, step),
            1e-5,
            1e-5,
          );
        expect(central && extrapolated(1e-5) && extrapolated(1e-7), where(e, at, wrt)).toBeNull();
      }),
      HESSIAN_OPTIONS,
    );
  });
});

describe('central differences', () => {
  // Cases the properties drew at 8× their full budget, where central differences missed and the derivatives were
  // right (checked against 80-digit differences of mathjs's BigNumbers: 1.8e-14 and 8e-12 relative).
  const A1 = [
    [-1.999558551667294, -1.9985308543445925, 0],
    [1.9999999999999953, 0, 0],
  ];
  const A2 = [
    [-1.9999999999826026, 1.999999999530235, -1.9995114132179672],
    [-1.9999999999779448, -1.9999990463256578, 1.9960327185671038],
  ];

  it('miss where a function turns fast, and the extrapolated ones do not', () => {
    const { program, point } = compileAt('atan((square((A[:, 1:2] .^ 2)) * dotMultiply(relu((1 + A .^ 2)), A)))', {
      A: A1,
    });
    const J = program.jacobian(point, ['A'], { mode: 'reverse' }).jacobian;
    expect(firstMismatch(J, finiteDifferenceJacobian(program, point, ['A']), 1e-6, 1e-7)).not.toBeNull();
    const extrapolated = extrapolatedDifferences(program, point, ['A'], program.m, (p) => program.evaluate(p), 6e-6);
    expect(firstMismatch(J, extrapolated, 1e-9, 1e-9)).toBeNull();
  });

  it('miss where a function turns within the step, and extrapolated ones from a hundredth of it do not', () => {
    // atan(prod(3A')) at an entry 0 of A: atan's argument moves by 13 255 per unit of that entry.
    const A = [
      [1.7046351632756673, 1.9999999999854465, 0],
      [-1.999999999999998, 1.999999999999997, 1.9999999999999964],
    ];
    const { program, point } = compileAt("(atan(prod((3 (A')))) .* subtract(A[:, 1:2], expm1(y)))", { A, y: 0 });
    const J = program.jacobian(point, ['A'], { mode: 'reverse' }).jacobian;
    const evaluate = (step: number) =>
      extrapolatedDifferences(program, point, ['A'], program.m, (p) => program.evaluate(p), step);
    expect(firstMismatch(J, evaluate(6e-6), 1e-5, 1e-6)).not.toBeNull();
    expect(firstMismatch(J, evaluate(6e-8), 1e-8, 1e-8)).toBeNull();
  });

  it('of the gradient miss a Hessian there, and the extrapolated ones do not', () => {
    const wrt = ['A', 'y'];
    const { program, point } = compileAt('sum(unaryPlus(atan((cube(A[:, 1:2]) * (A * y)))))', {
      A: A2,
      y: -0.8660813286045781,
    });
    const H = program.hessian(point, wrt).jacobian;
    expect(firstMismatch(H, finiteDifferenceHessian(program, point, wrt, 1e-5), 1e-5, 1e-5)).not.toBeNull();
    const extrapolated = extrapolatedDifferences(program, point, wrt, 7, (p) => program.grad(p, wrt).grad, 1e-5);
    expect(firstMismatch(H, extrapolated, 1e-7, 1e-9)).toBeNull();
  });
});

describe('fixed bugs', () => {
  it('the Hessian of sum((1.5 + a[1]) .^ a) at a = 0 is symmetric (pow at an exponent of 0)', () => {
    const { program, point } = compileAt('sum((1.5 + a[1]) .^ a)', { a: [0, 0] });
    const H = program.hessian(point, ['a']).jacobian;
    // By exp(b·log(a)), which has no guard: [[1.4977, 2/3], [2/3, 0.1644]].
    expect(H[1]).toBeCloseTo(2 / 3, 10);
    expect(H[2]).toBeCloseTo(2 / 3, 10);
  });
});
