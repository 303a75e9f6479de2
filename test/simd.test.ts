/**
 * Fused forward loops as WebAssembly SIMD (src/engine/simd.ts): every rule gives its operation's scalar numbers to
 * the bit (−0, NaN, ±∞, subnormals, the ends of exp's table), two entries at a time and for an odd count's last
 * entry; sums add the entries in ascending order from −0; a chunk with an entry beyond a rule's reach is run by the
 * loop's JavaScript kernel instead, and a chunk without one never is; and the engine's lse, whose loop is SIMD, gives
 * the plan without fused loops' numbers.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_ENTRIES } from '../src/engine/compiled.js';
import { compile } from '../src/index.js';
import type { FusedForwardKernel } from '../src/engine/fusion.js';
import { Plan } from '../src/engine/plan.js';
import {
  SIMD_RULES,
  type SimdLoop,
  type SimdOp,
  type SimdPass,
  simdKernel,
  simdLoopsForTests,
  simdPassKernel,
  simdPassSource,
  simdSource,
} from '../src/engine/simd.js';
import { times } from '../src/engine/linear/product.js';
import { OPS } from '../src/ops/index.js';
import { lowerExpression, parseExpression, type VariableInfo } from '../src/parse/index.js';
import { firstBitDifference, prng } from './helpers/numeric.js';

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  0.5,
  -2.5,
  3.7,
  1e-20,
  -1e-20,
  5e-324,
  -1e-310,
  1e308,
  -1e308,
  Infinity,
  -Infinity,
  NaN,
  707.9,
  -707.9,
  708,
  -708,
  709.7,
  710,
  -745,
  -746,
  0.6931471805599453,
  1e-300,
];

const OPS_WITH_RULES = Object.keys(SIMD_RULES) as SimdOp[];
const arity = (op: SimdOp): number => OPS[op].scalar!.length;

/** The entries a scalar JavaScript loop gives: `out` and the sum from −0 in ascending k. */
function scalarLoop(op: SimdOp, a: Float64Array, b: Float64Array | number): { out: Float64Array; sum: number } {
  const f = OPS[op].scalar!;
  const out = a.map((x, k) => (arity(op) === 1 ? f(x) : f(x, typeof b === 'number' ? b : b[k]!)));
  let sum = -0;
  for (const x of out) sum += x;
  return { out, sum };
}

/**
 * One step of `op` over vectors a (and b, or the scalar b), stored and summed, run by the SIMD kernel in chunks of
 * `chunk` entries; how many chunks it gave to the fallback, which counts them and writes nothing.
 */
function simdLoop(op: SimdOp, a: Float64Array, b: Float64Array | number, chunk = CHUNK_ENTRIES) {
  const n = a.length;
  // Places: a, b, the stored output, the sum.
  const loop: SimdLoop = {
    places: 4,
    steps: [
      {
        op,
        args:
          arity(op) === 1 ? [{ vector: 0 }] : [{ vector: 0 }, typeof b === 'number' ? { scalar: 1 } : { vector: 1 }],
        store: 2,
      },
      { sumOf: { local: 0 }, into: 3 },
    ],
  };
  const offsets = [0, n, 2 * n, 3 * n];
  const v = new Float64Array(3 * n + 1).fill(NaN);
  v.set(a, 0);
  if (typeof b === 'number') v[n] = b;
  else v.set(b, n);
  let fallbacks = 0;
  const fallback: FusedForwardKernel = () => void fallbacks++;
  const kernel = simdKernel(simdSource(loop), false, fallback);
  expect(kernel).not.toBeNull();
  for (let from = 0; from < n; from += chunk) kernel!(v, offsets, from, Math.min(from + chunk, n), new Float64Array(0));
  return { out: v.subarray(2 * n, 3 * n), sum: v[3 * n]!, fallbacks };
}

/** Whether exp's table computes x (else its chunk goes to the JavaScript kernel). */
const inTable = (x: number): boolean => Math.abs(x) < 708;

describe('SIMD rules', () => {
  it.each(OPS_WITH_RULES)('%s gives its scalar function’s numbers to the bit', (op) => {
    const values = Float64Array.from(SPECIAL);
    const random = prng(7);
    const ordinary = Float64Array.from({ length: 301 }, () => 40 * random() - 20);
    const cases: [Float64Array, Float64Array | number][] =
      arity(op) === 1
        ? [
            [values, 0],
            [ordinary, 0],
          ]
        : [
            // Every pair of special points, as two vectors and with a scalar second operand.
            [
              Float64Array.from(SPECIAL.flatMap((x) => SPECIAL.map(() => x))),
              Float64Array.from(SPECIAL.flatMap(() => SPECIAL)),
            ],
            ...SPECIAL.map((s) => [values, s] as [Float64Array, number]),
            [ordinary, ordinary.map((x) => x * 0.37 - 1)],
          ];
    for (const [a, b] of cases) {
      const expected = scalarLoop(op, a, b);
      // Only exp has entries beyond its rule: a chunk holding one goes to the fallback, which writes nothing here.
      const within = op !== 'exp' || a.every(inTable);
      const { out, sum, fallbacks } = simdLoop(op, a, b);
      if (!within) {
        expect(fallbacks, op).toBe(1);
        continue;
      }
      expect(fallbacks, op).toBe(0);
      expect(firstBitDifference(out, expected.out), `${op} ${String(b)}`).toBeNull();
      expect(firstBitDifference([sum], [expected.sum]), op).toBeNull();
    }
  });

  it('exp: within its table, every entry of a chunk, chunks of every parity; beyond it, only that chunk falls back', () => {
    const random = prng(11);
    const x = Float64Array.from({ length: 5 * 7 + 3 }, () => 1400 * random() - 700);
    for (const chunk of [1, 2, 3, 4, 5, 7]) {
      const { out, fallbacks } = simdLoop('exp', x, 0, chunk);
      expect(fallbacks).toBe(0);
      expect(firstBitDifference(out, scalarLoop('exp', x, 0).out), `chunks of ${chunk}`).toBeNull();
    }
    // One NaN, one 709 in the third and fifth chunks of 7: two chunks fall back.
    const beyond = x.slice();
    beyond[15] = NaN;
    beyond[30] = 709;
    expect(simdLoop('exp', beyond, 0, 7).fallbacks).toBe(2);
  });

  it('a sum of each lane from −0, in ascending order, with a scalar on either side', () => {
    // Sums whose order shows: large and small numbers that cancel.
    const a = Float64Array.from({ length: 1001 }, (_, k) => (k % 3 === 0 ? 1e16 : k % 3 === 1 ? -1e16 : 1 + k / 7));
    for (const op of ['add', 'subtract', 'dotMultiply', 'dotDivide'] as const) {
      const { sum } = simdLoop(op, a, 0.75);
      expect(firstBitDifference([sum], [scalarLoop(op, a, 0.75).sum]), op).toBeNull();
    }
    expect(Object.is(simdLoop('add', Float64Array.of(-0), -0).sum, -0)).toBe(true);
  });
});

describe('SIMD pass loops', () => {
  // Places: 0 a loaded and stored cotangent, 1 one started from +0 and stored, 2 a partial, 3 a scalar partial,
  // 4 a row's scalar cotangent (its step skipped where it is 0), 5 a scalar tangent, 6 a sum's target.
  const pass: SimdPass = {
    places: 7,
    carried: [
      { place: 0, load: true, store: true },
      { place: 1, load: false, store: true },
    ],
    steps: [
      { into: { carried: 1 }, a: { carried: 0 }, b: { partial: 2 }, unlessZero: null },
      { into: { carried: 0 }, a: { scalar: { array: 'c', place: 4 } }, b: { partial: 2 }, unlessZero: 4 },
      { into: { sum: 0 }, a: { carried: 1 }, b: { scalar: { array: 'v', place: 3 } }, unlessZero: null },
      { into: { carried: 1 }, a: { partial: 2 }, b: { scalar: { array: 'c', place: 5 } }, unlessZero: null },
    ],
    sums: [6],
  };

  /** The pass as fusePass's JavaScript kernel computes it, entry by entry, chunk by chunk. */
  function reference(v: Float64Array, c: Float64Array, p: readonly number[], n: number) {
    const [c0, c1, d, s, g, t, target] = p as [number, number, number, number, number, number, number];
    let carry = 0;
    for (let from = 0; from < n; from += CHUNK_ENTRIES) {
      let sum = 0;
      for (let k = from; k < Math.min(n, from + CHUNK_ENTRIES); k++) {
        let x0 = c[c0 + k]!;
        let x1 = 0;
        x1 += times(x0, v[d + k]!);
        if (c[g] !== 0) x0 += times(c[g]!, v[d + k]!);
        sum += times(x1, v[s]!);
        x1 += times(v[d + k]!, c[t]!);
        c[c0 + k] = x0;
        c[c1 + k] = x1;
      }
      carry = from === 0 ? sum : carry + sum;
    }
    c[target] = c[target]! + carry;
  }

  it.each([2, 0, -0, NaN])('give the JavaScript kernel’s numbers to the bit (row cotangent %s)', (g) => {
    const n = 2 * CHUNK_ENTRIES + 7;
    const random = prng(5);
    const pick = (): number => {
      const r = random();
      return r < 0.1 ? 0 : r < 0.2 ? -0 : r < 0.23 ? NaN : r < 0.26 ? -Infinity : 8 * random() - 4;
    };
    const p = [0, n, 0, n, 2 * n, 2 * n + 1, 2 * n + 2];
    const v = Float64Array.from({ length: n + 1 }, pick);
    v[n] = -0.75;
    // Every entry of the cotangents −0 at one of the two sums' starts: a sum of −0s from +0 is +0, added to −0.
    for (const zeros of [false, true]) {
      const c = Float64Array.from({ length: 2 * n + 3 }, pick);
      c[2 * n] = g;
      c[2 * n + 1] = zeros ? -0 : 1.5;
      c[2 * n + 2] = -0;
      if (zeros) for (let k = 0; k < n; k++) c[k] = -0;
      const expected = c.slice();
      reference(v, expected, p, n);
      const kernel = simdPassKernel(simdPassSource(pass), false)!;
      const carry = new Float64Array(1);
      for (let from = 0; from < n; from += CHUNK_ENTRIES)
        kernel(v, c, p, n, from, Math.min(n, from + CHUNK_ENTRIES), carry);
      expect(firstBitDifference(c, expected), `g = ${g}, zeros ${zeros}`).toBeNull();
    }
  });

  it('start a sum from +0, as the JavaScript kernel does: products that underflow to −0 sum to +0', () => {
    const n = 9;
    const p = [0, n, 0, n, 2 * n, 2 * n + 1, 2 * n + 2];
    // x1 = (−1e-150)(1e-150) = −1e-300 at every entry, and each term (−1e-300)(1e-300) is −0.
    const v = new Float64Array(n + 1).fill(1e-150);
    v[n] = 1e-300;
    const c = new Float64Array(2 * n + 3).fill(-1e-150);
    c.fill(0, 2 * n, 2 * n + 2);
    c[2 * n + 2] = -0;
    const expected = c.slice();
    reference(v, expected, p, n);
    expect(Object.is(expected[2 * n + 2], 0)).toBe(true);
    simdPassKernel(simdPassSource(pass), false)!(v, c, p, n, 0, n, new Float64Array(1));
    expect(firstBitDifference(c, expected)).toBeNull();
  });
});

describe('SIMD loops in the engine', () => {
  const lowered = (expr: string, n: number) => {
    const variables = new Map<string, VariableInfo>([['x', { shape: [n] }]]);
    return lowerExpression(parseExpression(expr), variables, undefined, expr);
  };

  it('run lse’s loop of exp and sum as WebAssembly, with the numbers of the plan without fused loops', () => {
    const n = 3 * CHUNK_ENTRIES + 5;
    const { builder, output } = lowered('a = max(x)\na + log(sum(exp(x - a)))', n);
    const random = prng(3);
    const x = Float64Array.from({ length: n }, () => 60 * random() - 30);
    const withNaN = x.slice();
    withNaN[CHUNK_ENTRIES + 9] = NaN;
    for (const data of [x, withNaN]) {
      const [fused, plain] = [256, Infinity].map((fuseFrom) => {
        const plan = new Plan(builder.tape, [output], undefined, { fuseFrom });
        plan.setInput(builder.input('x', [n]), data);
        plan.run();
        return plan;
      });
      expect(fused!.fusedForwardLoops.map((loop) => loop.simd)).toEqual([true]);
      expect(firstBitDifference(fused!.read(output), plain!.read(output))).toBeNull();
    }
  });

  it('give the value, gradient and J·u of JavaScript loops to the bit, through compile()', () => {
    const n = 3 * CHUNK_ENTRIES + 5;
    const random = prng(9);
    const x = Float64Array.from({ length: n }, () => 6 * random() - 3);
    x[17] = -0;
    x[CHUNK_ENTRIES + 1] = 0;
    const y = Float64Array.from({ length: n }, () => random() - 0.5);
    const u = Float64Array.from({ length: 2 * n }, (_, k) => Math.cos(k));
    const results = (off: boolean) => {
      simdLoopsForTests.off = off;
      try {
        return [
          'a = max(x)\na + log(sum(exp(x - a)))',
          'sum(exp(-x .* x) .* y + y .^ 2) / 3',
          'sum(sqrt(abs(x)) .* exp(y))',
        ].flatMap((expr) => {
          const f = compile(expr, { x: [n], y: [n] });
          return [f.evaluateFlat({ x, y }), f.gradFlat({ x, y }).grad, f.jvpFlat({ x, y }, u).jvp];
        });
      } finally {
        simdLoopsForTests.off = false;
      }
    };
    const plain = results(true);
    results(false).forEach((result, i) => expect(firstBitDifference(result, plain[i]!), `result ${i}`).toBeNull());
  });

  it('keep loops without exp in JavaScript', () => {
    const { builder, output } = lowered('sum(x .* x + 1)', 1000);
    const plan = new Plan(builder.tape, [output], undefined, { fuseFrom: 256 });
    expect(plan.fusedForwardLoops.map((loop) => loop.simd)).toEqual([false]);
  });
});
