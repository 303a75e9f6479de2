/**
 * The element-wise functions against exact values (mpmath at 200 bits, rounded to double; made by the scripts of
 * scripts/oracle/ into fixtures/functions/), in ulps of the exact value: at their zeros and poles and the ends of
 * their domains, where a formula that is exact in real numbers may keep only a few of its digits, and at random
 * points.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { digamma } from '../src/ops/activations.js';
import { ELEMENTWISE_UNARY } from '../src/ops/elementwise.js';

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

/** The points (with the value there) where f is more than `bound` ulps from the exact value. */
function beyond(f: (x: number) => number, { x, exact }: Fixture, bound: number): number[][] {
  return x.flatMap((at, i) => {
    const value = f(at);
    return value === exact[i] || Math.abs(value - exact[i]!) <= bound * ulp(exact[i]!) ? [] : [[at, value, exact[i]!]];
  });
}

describe('accuracy of the element-wise functions, in ulps of exact values', () => {
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
});
