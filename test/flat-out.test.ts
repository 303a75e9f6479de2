/**
 * The flat methods' `out` option: the result written into the caller's Float64Array and returned as it, the
 * same numbers as a new array, whichever path computes them (the interpreter, fused loops, compiled passes),
 * every entry written whatever the array held; a wrong `out` refused.
 */
import { describe, expect, it } from 'vitest';
import { COMPILE_AFTER } from '../src/engine/compiled.js';
import { FUSE_FROM } from '../src/engine/fusion.js';
import { compile, InputError } from '../src/index.js';

/** The index of the first entry where the two differ (NaN equal to NaN, -0 not to +0), or -1. */
const firstDifference = (a: Float64Array, b: Float64Array): number =>
  a.length !== b.length ? 0 : a.findIndex((entry, k) => !Object.is(entry, b[k]));

/** An array of `length` NaNs: what `out` held before tells nothing. */
const stale = (length: number) => new Float64Array(length).fill(NaN);

describe('flat methods write into out', () => {
  // Long enough for the element-wise steps to run as fused loops.
  const n = FUSE_FROM + 44;
  const x = Float64Array.from({ length: n }, (_, k) => Math.sin(k) / 3);
  const y = Float64Array.of(0.5, -2);
  const lse = compile('a = max(x); a + log(sum(exp(x - a))) + sum(y.^2)', { x: [n], y: [2] });
  const scaled = compile('sin(x) * y[1] + y[2]', { x: [n], y: [2] });
  const v = Float64Array.from({ length: n }, (_, k) => 1 / (k + 1));
  const u = Float64Array.from({ length: n + 2 }, (_, k) => Math.cos(k));

  it('∇f, vᵀJ, J·u and H·u: the array given, holding what a new one holds', () => {
    const cases: [string, (out?: Float64Array) => Float64Array][] = [
      ['grad', (out) => lse.gradFlat({ x, y }, out && { out }).grad],
      ['vjp', (out) => scaled.vjpFlat({ x, y }, v, out && { out }).vjp],
      ['jvp', (out) => scaled.jvpFlat({ x, y }, u, out && { out }).jvp],
      ['hvp', (out) => lse.hvpFlat({ x, y }, u, out && { out }).hvp],
    ];
    for (const [name, result] of cases) {
      const fresh = result();
      const out = stale(fresh.length);
      expect(result(out), name).toBe(out);
      expect(firstDifference(out, fresh), name).toBe(-1);
    }
  });

  it('zeros for what the output does not reach, whatever out held', () => {
    const f = compile('sum(x)', { x: [3], y: [2] });
    const grad = stale(5);
    f.gradFlat({ x: Float64Array.of(1, 2, 3), y: Float64Array.of(4, 5) }, { out: grad });
    expect(Array.from(grad)).toEqual([1, 1, 1, 0, 0]);
    // No tangent reaches the output from y alone: J·u is all zeros.
    const jvp = stale(1);
    f.jvpFlat({ x: Float64Array.of(1, 2, 3), y: Float64Array.of(4, 5) }, [1, 1], { wrt: ['y'], out: jvp });
    expect(Array.from(jvp)).toEqual([0]);
  });

  it('from the compiled passes too, once a program has run often enough to compile them', () => {
    const f = compile('[x[1] * x[2], exp(x[2]) - x[1]]', { x: [2] });
    const out = new Float64Array(2);
    for (let call = 0; call <= COMPILE_AFTER; call++) f.vjpFlat({ x: Float64Array.of(call / 100, 1) }, [1, 2], { out });
    const at = { x: Float64Array.of(0.25, -1) };
    expect(f.vjpFlat(at, [1, 2], { out: out.fill(NaN) }).vjp).toBe(out);
    expect(firstDifference(out, f.vjpFlat(at, [1, 2]).vjp)).toBe(-1);
    expect(f.jvpFlat(at, [3, -1], { out: out.fill(NaN) }).jvp).toBe(out);
    expect(firstDifference(out, f.jvpFlat(at, [3, -1]).jvp)).toBe(-1);
  });

  it('refuses an out of another length or kind, and on the methods that return nested arrays', () => {
    const f = compile('sum(x .* y)', { x: [3], y: [] });
    const at = { x: Float64Array.of(1, 2, 3), y: 2 };
    expect(() => f.gradFlat(at, { out: new Float64Array(3) })).toThrow(
      new InputError('out has 3 entries, but the gradient has 4: give a Float64Array of 4'),
    );
    expect(() => f.gradFlat(at, { out: [0, 0, 0, 0] as never })).toThrow(/options.out must be a Float64Array/);
    expect(() => f.grad({ x: [1, 2, 3], y: 2 }, { out: new Float64Array(4) } as never)).toThrow(/unknown option "out"/);
  });
});
