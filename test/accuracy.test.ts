/**
 * The element-wise functions against exact values (mpmath at 200 bits, rounded to double; made by the scripts of
 * scripts/oracle/ into fixtures/functions/), in ulps of the exact value: at their zeros and poles and the ends of
 * their domains, where a formula that is exact in real numbers may keep only a few of its digits, and at random
 * points.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { digamma } from '../src/ops/activations.js';
import { ELEMENTWISE_UNARY, exp } from '../src/ops/elementwise.js';

interface Fixture {
  readonly x: readonly number[];
  readonly exact: readonly number[];
}
const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../fixtures/functions/${name}.json`, import.meta.url), 'utf8')) as Fixture;

const bits = new DataView(new ArrayBuffer(8));
/** The spacing of doubles at |v|: the gap to the next double away from 0. */
function ulp(v: number): number {
  bits.setFloat64(0, Math.abs(v));
  bits.setBigUint64(0, bits.getBigUint64(0) + 1n);
  return bits.getFloat64(0) - Math.abs(v);
}

/** Exact first and second derivatives of each function at its points x (fixtures/functions/derivatives.json). */
interface Derivatives {
  readonly x: readonly number[];
  readonly first: readonly number[];
  readonly second: readonly number[];
}
const derivatives = JSON.parse(
  readFileSync(new URL('../fixtures/functions/derivatives.json', import.meta.url), 'utf8'),
) as Record<string, Derivatives>;

/** A bound in ulps, checked where |x| ≤ upTo. */
interface Bound {
  readonly ulps: number;
  readonly upTo?: number;
}

/**
 * For each function, the points where the library's first derivative (order 1: ∇ of sum(f(x))) or second (order 2:
 * the Hessian's diagonal, H·1) is beyond its bound. One program for all: the sum of each function's sum over a
 * variable of its own.
 */
function derivativesBeyond(order: 1 | 2, bounds: Readonly<Record<string, Bound>>): Record<string, number[][]> {
  const names = Object.keys(bounds);
  const shapes = Object.fromEntries(names.map((name, k) => [`x${k}`, [derivatives[name]!.x.length]]));
  const program = compile(names.map((name, k) => `sum(${name}(x${k}))`).join(' + '), shapes);
  const at = Object.fromEntries(names.map((name, k) => [`x${k}`, Float64Array.from(derivatives[name]!.x)]));
  const size = names.reduce((n, name) => n + derivatives[name]!.x.length, 0);
  const values = order === 1 ? program.gradFlat(at).grad : program.hvpFlat(at, new Float64Array(size).fill(1)).hvp;
  let offset = 0;
  return Object.fromEntries(
    names.map((name) => {
      const { x, first, second } = derivatives[name]!;
      const exact = order === 1 ? first : second;
      const { ulps, upTo = Infinity } = bounds[name]!;
      const far = x.flatMap((point, i) =>
        Math.abs(point) > upTo || Math.abs(values[offset + i]! - exact[i]!) <= ulps * ulp(exact[i]!)
          ? []
          : [[point, values[offset + i]!, exact[i]!]],
      );
      offset += x.length;
      return [name, far];
    }),
  );
}
const noneBeyond = (found: Record<string, unknown>) => Object.fromEntries(Object.keys(found).map((name) => [name, []]));

/** The points (with the value there) where f is more than `bound` ulps from the exact value. */
function beyond(f: (x: number) => number, { x, exact }: Fixture, bound: number): number[][] {
  return x.flatMap((at, i) => {
    const value = f(at);
    return value === exact[i] || Math.abs(value - exact[i]!) <= bound * ulp(exact[i]!) ? [] : [[at, value, exact[i]!]];
  });
}

describe('accuracy of the element-wise functions, in ulps of exact values', () => {
  it('exp is within 0.501 ulp at the 1743 points of fixtures/functions/exp.json, and nearest where Math.exp is not', () => {
    // The exact value is the nearest double plus a residual, so that an error below one ulp can be measured.
    const { x, exact, residual } = fixture('exp') as Fixture & { readonly residual: readonly number[] };
    const ulpsFromExact = (f: (x: number) => number, i: number): number =>
      Number.isFinite(exact[i]!) ? Math.abs(f(x[i]!) - exact[i]! - residual[i]!) / ulp(exact[i]!) : 0;
    const tableErrors = x.flatMap((at, i) => (Math.abs(at) < 708 ? [ulpsFromExact(exp, i)] : []));
    expect(tableErrors.length).toBeGreaterThan(1700);
    expect(Math.max(...tableErrors)).toBeLessThan(0.501);
    const notNearest = (f: (x: number) => number): number => x.filter((at, i) => f(at) !== exact[i]).length;
    expect(notNearest(exp)).toBeLessThanOrEqual(2);
    expect(notNearest(Math.exp)).toBeGreaterThan(100);
  });

  it('digamma is within 2 ulp at the 1638 points of fixtures/functions/digamma.json, its root 1.4616… included', () => {
    // Near its root ψ is a difference of terms near 1 (the recurrence's sum and the series): the relative error grew
    // without bound there (1e16 ulps at the double nearest the root); (x − x₀)·R(x) keeps ψ's relative precision.
    const points = fixture('digamma');
    expect(points.x.length).toBe(1638);
    expect(beyond(digamma, points, 2)).toEqual([]);
  });

  it('the functions of 1/x, and sech and csch, are within 2 ulp at the points of fixtures/functions/reciprocal.json', () => {
    // Near ±1 acos(1/x), asin(1/x), atanh(1/x) and acosh(1/x) fed the rounding of 1/x to a function infinitely steep
    // there (asec was 3e6 ulps off at 1 + 1e-9, acoth 3e5, acsc 100); asech and acsch of a subnormal x were
    // Infinity (1/x overflowed), sech and csch past 710 were 0 (cosh overflowed) where 2e^-|x| is not.
    const all = JSON.parse(
      readFileSync(new URL('../fixtures/functions/reciprocal.json', import.meta.url), 'utf8'),
    ) as Record<'asec' | 'acsc' | 'acoth' | 'asech' | 'acsch' | 'sech' | 'csch', Fixture>;
    const far = Object.entries(all).map(([name, points]) => [
      name,
      points.x.length > 250,
      beyond(ELEMENTWISE_UNARY[name as keyof typeof all].scalar, points, 2),
    ]);
    expect(far).toEqual(Object.keys(all).map((name) => [name, true, []]));
  });

  // 1 − x², x² − 1 with x² rounded kept none of their digits near |x| = 1 (asin′ was 1.5e6 ulps off at the double
  // below 1, atanh′ 4e6; asin′ at 1 − 1e-9 relative 3e-8), and x² overflowed from 1e154 on (asinh′, acosh′ were 0).
  const INVERSE = [
    'asin',
    'acos',
    'atan',
    'acot',
    'atanh',
    'acosh',
    'asinh',
    'asech',
    'acsch',
    'acoth',
    'asec',
    'acsc',
  ];
  it('the first derivatives of the inverse functions are within 2 ulp near ±1 and at huge x', () => {
    const found = derivativesBeyond(1, Object.fromEntries(INVERSE.map((name) => [name, { ulps: 2 }])));
    expect(found).toEqual(noneBeyond(found));
  });

  it('their second derivatives within 6 ulp, near ±1 and at huge x', () => {
    // Of (1 − x)(1 + x) near 0 the derivative −(1 + x) + (1 − x) would lose −2x: asin, acos and atanh take 1 − x²
    // there. The derivative of 1/u, −(1/u)², underflowed past |x| = 1e77 in atan″, acot″, acsch″, acoth″, asec″ and
    // acsc″ (0, or up to 1e4 ulps off, where the exact value is a normal number up to 1e102); asinh″ through them was
    // 6 ulps off. asech″, a difference of two terms near its zero 1/√2, was up to 1e15 ulps off there.
    const bounds: Record<string, Bound> = Object.fromEntries(INVERSE.map((name) => [name, { ulps: 6 }]));
    const found = derivativesBeyond(2, { ...bounds, asinh: { ulps: 3 } });
    expect(found).toEqual(noneBeyond(found));
  });

  it('their Hessians report no special point inside their domains, where their formulas choose at ±½', () => {
    const at = { x: [0, 0.5, -0.5, 0.25], y: [1.5, 2, -1.5, 1e10], z: [0.5, 0.25, 1e-5, 0.75] };
    const program = compile(
      'sum(asin(x) + acos(x) + atanh(x) + asinh(x)) + sum(asec(y) + acsc(y) + acoth(y)) + sum(asech(z) + acosh(1 + z))',
      { x: [4], y: [4], z: [4] },
    );
    expect(program.hessian(at).warnings).toEqual([]);
  });

  it('the derivatives of tanh and coth keep their precision far from 0', () => {
    // 1 − y² of the rounded y = tanh(x) or coth(x), near ±1 there, kept few of its digits (2800 ulps off at 5) and
    // none past 19, where y rounds to ±1 (0, not 4e^-2|x|): sech² and −csch² instead. Through 1/cosh² and −1/sinh²,
    // the second derivatives underflowed past 236 (0, where they are normal numbers up to 354).
    const first = derivativesBeyond(1, { tanh: { ulps: 4 }, coth: { ulps: 4 } });
    const second = derivativesBeyond(2, { tanh: { ulps: 6 }, coth: { ulps: 6 } });
    expect([first, second]).toEqual([noneBeyond(first), noneBeyond(second)]);
  });

  it("erf's derivatives keep their precision far out", () => {
    // exp(-x²) of the rounded x² put x²'s rounding error into the exponential: 480 ulps off near x = 26, as PyTorch's.
    const first = derivativesBeyond(1, { erf: { ulps: 2 } });
    const second = derivativesBeyond(2, { erf: { ulps: 3 } });
    expect([first, second]).toEqual([noneBeyond(first), noneBeyond(second)]);
  });

  it("sigmoid's second derivative keeps its precision near 0", () => {
    // s(x)·s(-x) differentiated as a product is s′(x)·s(-x) − s(x)·s′(-x): two rounded numbers near ¼ whose difference
    // is about x/8, relative error 1e-16/|x|; −s′(x)·tanh(x/2) instead.
    const first = derivativesBeyond(1, { sigmoid: { ulps: 2 } });
    const second = derivativesBeyond(2, { sigmoid: { ulps: 4 } });
    expect([first, second]).toEqual([noneBeyond(first), noneBeyond(second)]);
  });
});
