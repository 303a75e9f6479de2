/**
 * Sums over a vector's entries (ops/sums.ts): up to SUM_BLOCK terms the plain left-to-right sum, mathjs's to the
 * bit; beyond, blocks of SUM_BLOCK terms, then the blocks' sums in order, in every kernel that adds entries (the sum's
 * value, a broadcast scalar's cotangent, a sum's tangent), fused or not. The numbers below tell the two orders apart:
 * 1 and then 1e-16s, which a plain sum drops one by one (1 + 1e-16 is 1), while a block of them adds up to 4e-13.
 */
import { sum } from 'mathjs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { SUM_BLOCK, sumOfEntries } from '../src/ops/index.js';
import { prng } from './helpers/numeric.js';

/** From `start`, left to right. */
const plainSum = (terms: ArrayLike<number>, start: number): number => {
  let s = start;
  for (let k = 0; k < terms.length; k++) s += terms[k]!;
  return s;
};
/** start + each block's sum from `start`, the blocks in order. */
const blockSum = (terms: ArrayLike<number>, start: number): number => {
  let total = start;
  for (let from = 0; from < terms.length; from += SUM_BLOCK)
    total += plainSum(Array.prototype.slice.call(terms, from, from + SUM_BLOCK) as number[], start);
  return total;
};

const n = 3 * SUM_BLOCK + 5;
const x = Float64Array.from({ length: n }, (_, k) => (k === 0 ? 1 : 1e-16));
const ones = new Float64Array(n).fill(1);

describe(`sums of more than ${SUM_BLOCK} entries add blocks of ${SUM_BLOCK}`, () => {
  it('tells the orders apart on these numbers, and the blocks are nearer the exact sum', () => {
    const exact = 1 + (n - 1) * 1e-16;
    expect(plainSum(x, -0)).toBe(1);
    // The first block still drops its 1e-16s; the other blocks' sums are kept.
    expect(Math.abs(blockSum(x, -0) - exact)).toBeLessThan(Math.abs(plainSum(x, -0) - exact) / 2);
  });

  it("up to SUM_BLOCK terms, mathjs's sum to the bit", () => {
    const random = prng(5);
    const terms = Float64Array.from({ length: SUM_BLOCK }, () => (random() - 0.5) * 10 ** (8 * random()));
    expect(Object.is(sumOfEntries(terms, 0, SUM_BLOCK), sum(Array.from(terms)))).toBe(true);
    expect(Object.is(sumOfEntries(Float64Array.of(-0, -0), 0, 2), -0)).toBe(true);
  });

  it("the sum's value, by the sum's kernel and in a fused loop", () => {
    const expected = blockSum(x, -0);
    expect(compile('sum(x)', { x: [n] }).evaluateFlat({ x })[0]).toBe(expected);
    // abs of positive numbers is each number: the loop of abs and the sum is one fused loop.
    expect(compile('sum(abs(x))', { x: [n] }).evaluateFlat({ x })[0]).toBe(expected);
  });

  it('sumOfEntries adds four blocks side by side, each from −0, in order: exact sums that tell orders apart', () => {
    // Groups of four blocks and a short tail, from an offset. The first four blocks sum exactly to 2^53, 1, −1 and 2,
    // whose total is 2^53 in this order and 2^53 + 2 with the second and third swapped; the others are random terms
    // at a scale of each block's own.
    const random = prng(13);
    const count = 24 * SUM_BLOCK + 77;
    const firstSums = [2 ** 53, 1, -1, 2];
    const scales = Array.from({ length: 25 }, () => 10 ** (2 * random()));
    const terms = Float64Array.from({ length: count + 3 }, (_, k) => {
      const block = Math.floor((k - 3) / SUM_BLOCK);
      if (k < 3) return NaN;
      return block < 4 ? firstSums[block]! / SUM_BLOCK : (random() - 0.5) * scales[block]!;
    });
    for (const n of [4 * SUM_BLOCK, 9 * SUM_BLOCK + 77, count])
      expect(Object.is(sumOfEntries(terms, 3, n), blockSum(terms.subarray(3, 3 + n), -0)), `${n}`).toBe(true);
  });

  it('the sum of a fused loop that runs two chunks at a time, over random numbers', () => {
    // Pairs of chunks from 0 and from 2·SUM_BLOCK: the second pair adds each of its blocks to the sum so far.
    const random = prng(11);
    const program = compile('sum(abs(x))', { x: [5 * SUM_BLOCK + 77] });
    for (let trial = 0; trial < 8; trial++) {
      // Each block's numbers at a scale of their own, so that the blocks' sums round when added together.
      const scales = Array.from({ length: 6 }, () => 10 ** (12 * random()));
      const terms = Float64Array.from(
        { length: 5 * SUM_BLOCK + 77 },
        (_, k) => random() * scales[Math.floor(k / SUM_BLOCK)]!,
      );
      expect(program.evaluateFlat({ x: terms })[0]).toBe(blockSum(terms, -0));
    }
  });

  it("a scalar's cotangent from the entries it was broadcast to, unfused and fused", () => {
    const expected = blockSum(x, 0);
    for (const expr of ['s .* x', 'abs(s .* x)']) {
      const program = compile(expr, { s: [], x: [n] });
      expect(program.vjpFlat({ s: 1, x }, ones, { wrt: ['s'] }).vjp[0], expr).toBe(expected);
    }
  });

  it('block passes (auto) add the blocks as the vector passes do', () => {
    const expected = blockSum(x, 0);
    for (const expr of ['sum(s .* x)', '[sum(s .* x), s]', 's * sum(x)']) {
      const program = compile(expr, { s: [], x: [n] });
      // J by s and x: n + 1 columns, which auto takes in block passes (forward mode's vector passes: the jvp test).
      for (const mode of ['auto', 'reverse'] as const) {
        const { jacobian } = program.jacobian({ s: 1, x: Array.from(x) }, { mode });
        expect(jacobian[0]![0], `${expr}, ${mode}`).toBe(expected);
      }
    }
  });

  it("a sum's tangent, unfused and fused", () => {
    const expected = blockSum(x, 0);
    for (const expr of ['sum(x)', 'sum(abs(x))']) {
      const program = compile(expr, { x: [n] });
      expect(program.jvpFlat({ x }, x).jvp[0], expr).toBe(expected);
    }
  });
});
