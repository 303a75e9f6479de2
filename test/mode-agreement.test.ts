/**
 * The same answer in every mode (issue 13, item 9): one-hot backward and
 * forward passes, block passes, auto, the compressed passes of a sparse
 * Jacobian, vjp and jvp give the sum over paths of the products of partials,
 * with an exact zero wherever no path with nonzero partials goes, and NaN
 * where an infinite partial meets paths of both signs (`log(x - x)`, `s - s`
 * at sqrt's 0), whichever order a mode multiplies and adds in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAt } from './helpers/compile.js';
import { expressions, type Kind } from './helpers/expressions.js';
import { casesOf } from './helpers/fuzz.js';
import { disagreement, everyMode, modeAgreement, withDomainErrors } from './helpers/modes.js';
import { firstMismatch } from './helpers/numeric.js';

/** Every mode gives `expected` exactly (NaN = NaN, and 0 and −0 apart only as numbers). */
function expectEveryMode(expr: string, at: Record<string, unknown>, wrt: readonly string[], expected: number[]) {
  const { program, point } = compileAt(expr, at);
  for (const [mode, J] of everyMode(program, point, wrt))
    expect(firstMismatch(J, expected, 1e-15), `${expr}: ${mode}: ${Array.from(J).join(', ')}`).toBeNull();
}

describe('cancelled paths that meet an infinite partial are NaN in every mode', () => {
  it('log(x - x) + y: forward adds 1 − 1 before 1/0, reverse multiplies first', () => {
    expectEveryMode('log(x - x) + y', { x: 1, y: 2 }, ['x', 'y'], [NaN, 1]);
  });

  it('s = sqrt(x); s - s at 0: reverse adds 1 − 1 before ∞, forward multiplies first', () => {
    expectEveryMode('s = sqrt(x); s - s', { x: 0 }, ['x'], [NaN]);
  });

  it('log(M - M[1,:]): the first row is NaN on the diagonal, exact zeros beside it', () => {
    const expected = [NaN, 0, 0, 0, 0, NaN, 0, 0, -0.5, 0, 0.5, 0, 0, -0.5, 0, 0.5];
    expectEveryMode(
      'log(M - M[1,:])',
      {
        M: [
          [1, 2],
          [3, 4],
        ],
      },
      ['M'],
      expected,
    );
  });

  it('paths of both signs need not cancel: log(2x - x) at 0 is +∞ − ∞, log(x + x) is +∞', () => {
    expectEveryMode('log(2*x - x)', { x: 0 }, ['x'], [NaN]);
    expectEveryMode('log(x + x)', { x: 0 }, ['x'], [Infinity]);
    expectEveryMode('s = sqrt(x); 2*s - s', { x: 0 }, ['x'], [NaN]);
  });

  it('a block-sized Jacobian (auto) at such a point runs one-hot passes in the careful form', () => {
    const x = Array.from({ length: 20 }, (_, k) => k + 1);
    const { program, point } = compileAt('log(x - x[1] + y)', { x, y: 0 });
    const careful = program.jacobian(point, ['x']);
    expect([careful.method, careful.passes]).toEqual(['one-hot', 20]);
    expect(careful.jacobian[0]).toBeNaN();
    expect(careful.jacobian.slice(1, 20).every((entry) => entry === 0)).toBe(true);
    // Row i: ∂log(xᵢ − x₁) is 1/(xᵢ − x₁) = 1/(i − 1) on xᵢ and its negative on x₁.
    expect([careful.jacobian[20 * 3], careful.jacobian[20 * 3 + 3]]).toEqual([-1 / 3, 1 / 3]);
    const ordinary = program.jacobian(new Map([...point, ['y', Float64Array.of(1)]]), ['x']);
    expect(ordinary.method).toBe('block');
  });

  it('the Hessian and hvp of log(x - x) + y are NaN for x in both modes', () => {
    const { program, point } = compileAt('log(x - x) + y', { x: 1, y: 2 });
    for (const mode of ['forward', 'reverse'] as const)
      expect(firstMismatch(program.hessian(point, ['x', 'y'], { mode }).jacobian, [NaN, 0, 0, 0], 0), mode).toBeNull();
    expect(firstMismatch(program.hvp(point, [1, 1], ['x', 'y']).hvp, [NaN, 0], 0)).toBeNull();
  });

  it('the Hessian of s - s agrees between modes: its gradient graph folds the cancelled 1 − 1 to the constant 0', () => {
    const { program, point } = compileAt('s = sqrt(x); s - s', { x: 0 });
    for (const mode of ['forward', 'reverse'] as const)
      expect(Array.from(program.hessian(point, ['x'], { mode }).jacobian), mode).toEqual([0]);
  });
});

describe('exact zeros stay exact in every mode', () => {
  it('the branch not taken: x > -1 ? 3*x : sqrt(x) at 0 is 3', () => {
    expectEveryMode('x > -1 ? 3*x : sqrt(x)', { x: 0 }, ['x'], [3]);
  });

  it('entries that do not depend on an input, next to sqrt(0)', () => {
    expectEveryMode('[sqrt(x), 2*y]', { x: 0, y: 1 }, ['x', 'y'], [Infinity, 0, 0, 2]);
    expectEveryMode('sqrt(x)', { x: [0, 1, 4] }, ['x'], [Infinity, 0, 0, 0, 0.5, 0, 0, 0, 0.25]);
  });

  it('a zero partial cuts an infinite one: max with a tie-free loser, a zero weight', () => {
    expectEveryMode('max(sqrt(x), 1) + y', { x: 0, y: 1 }, ['x', 'y'], [0, 1]);
    expectEveryMode('sqrt(x) .* 0 + y', { x: 0, y: 1 }, ['x', 'y'], [0, 1]);
  });

  it('the rule holds through a product with a matrix: W*sqrt(x) at x = 0', () => {
    const W = [
      [1, -1],
      [2, 0],
    ];
    // Row 1 is 1·∞ and −1·(the other column): no cancellation within one column; W[2,2] = 0 cuts ∞.
    expectEveryMode('W*sqrt(x)', { W, x: [0, 1] }, ['x'], [Infinity, -0.5, Infinity, 0]);
  });
});

const KINDS_HERE: readonly Kind[] = ['s', 'v2', 'v3', 'm23'];
const ROUGH = expressions({ smooth: false, mathjs: false }, 2, KINDS_HERE);
const pairs = ROUGH.chain((e) =>
  expressions({ smooth: false, mathjs: false }, 1, [e.kind]).chain((other) => withDomainErrors(e, other)),
);
/** Entries where sqrt and log meet 0 and negative numbers. */
const entry = fc.constantFrom(0, 0, 1, -1, 2, 0.5, -0.25);
const points = fc.record({
  x: fc.array(entry, { minLength: 3, maxLength: 3 }),
  y: entry,
  A: fc.array(fc.array(entry, { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 2 }),
});
const WRT = fc.shuffledSubarray(['x', 'y', 'A'], { minLength: 1 });
/** Cases of the properties below, counted as the fuzz tests' (a share in npm test, the rest in CI's fuzz run). */
const RUNS = casesOf({ test: 40, ci: 120, full: 600 });

describe('the careful form against the plain kernels', () => {
  it('where every partial on the paths is finite, it gives the plain J (every kind of partial)', () => {
    // sqrt(y) at y = 0 has an infinite partial whose weight is an exact 0: differentiated for y too, every pass
    // runs in the careful form; for x and A alone, in the plain one. Their columns of J must be the same.
    const smooth = expressions({ smooth: true, mathjs: false }, 3);
    fc.assert(
      fc.property(smooth, points, (e, at) => {
        const { program, point } = compileAt(`${e.text} + sqrt(y) * 0`, { ...at, y: 0 });
        const context = `${e.text} at ${JSON.stringify(at)}`;
        const plain = program.jacobian(point, ['x', 'A'], { mode: 'reverse' }).jacobian;
        // The careful form runs one-hot passes where a block pass is asked for: the sign that it runs.
        expect(program.jacobian(point, ['x', 'A'], { method: 'block' }).method).toBe('block');
        expect(program.jacobian(point, ['x', 'A', 'y'], { method: 'block' }).method).toBe('one-hot');
        const careful = everyMode(program, point, ['x', 'A', 'y']);
        const n = 9;
        for (const [mode, J] of careful) {
          const columns = J.filter((_, k) => k % (n + 1) < n);
          expect(disagreement(columns, plain), `${mode}: ${context}`).toBeNull();
        }
      }),
      { seed: 0x0ca1_ef01, numRuns: casesOf({ test: 30, ci: 80, full: 400 }) },
    );
  });
});

describe('random expressions with domain errors and structural zeros', () => {
  it('every mode gives the same J (NaN = NaN, exact or to 1e-12 relative)', () => {
    let nonFinite = 0;
    fc.assert(
      fc.property(pairs, points, WRT, (e, at, wrt) => {
        const { program, point } = compileAt(e.text, at);
        const { reference, problem } = modeAgreement(program, point, wrt);
        if (reference.some((entry) => !Number.isFinite(entry))) nonFinite++;
        expect(problem, `${e.text} at ${JSON.stringify(at)} wrt ${wrt.join(',')}`).toBeNull();
      }),
      { seed: 0x0a9_e1ee, numRuns: RUNS },
    );
    // The property is about special points: enough cases must meet them.
    expect(nonFinite).toBeGreaterThan(RUNS / 8);
  });

  it('the Hessian of sum(f) is the same in forward and reverse mode', () => {
    fc.assert(
      fc.property(pairs, points, WRT, (e, at, wrt) => {
        const { program, point } = compileAt(`sum(${e.text})`, at);
        const reverse = program.hessian(point, wrt, { mode: 'reverse' }).jacobian;
        const forward = program.hessian(point, wrt, { mode: 'forward' }).jacobian;
        expect(disagreement(forward, reverse), `${e.text} at ${JSON.stringify(at)}`).toBeNull();
      }),
      { seed: 0x0a9_e1ef, numRuns: casesOf({ test: 20, ci: 60, full: 300 }) },
    );
  });
});
