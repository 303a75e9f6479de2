/**
 * Forward loops that run on through a shift of what they compute (engine/fusion.ts, engine/plan.ts): a copy that
 * reads a vector of its own loop at entry k or k − 1 reads it from a local, kept across the iterations and the
 * segments. Random chains of element-wise steps, shifts and sums give the unfused plan's values to the last bit
 * (−0, NaN and ±∞ included, at the shifts' ends too), in value-only plans and in plans that keep their partials.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LOOP_STEPS } from '../src/engine/fusion.js';
import { linearize } from '../src/engine/linearize.js';
import { Plan } from '../src/engine/plan.js';
import { lowerExpression, parseExpression, type VariableInfo } from '../src/parse/index.js';
import { firstBitDifference, prng } from './helpers/numeric.js';

const N = 24;

/** The output of `expr` at x, y (N entries) and c, by a plan fusing from `fuseFrom` (a value-only one, or not). */
function valueOf(expr: string, x: Float64Array, y: Float64Array, c: number, fuseFrom: number, valueOnly: boolean) {
  const variables = new Map<string, VariableInfo>([
    ['x', { shape: [N], value: x }],
    ['y', { shape: [N], value: y }],
    ['c', { shape: [], value: [c] }],
  ]);
  const { builder, output } = lowerExpression(parseExpression(expr), variables, undefined, expr);
  const columns = [
    { node: builder.input('x', [N]), offset: 0, size: N },
    { node: builder.input('y', [N]), offset: N, size: N },
  ];
  const roots = valueOnly ? [output] : [output, ...linearize(builder, output, columns).partialNodes];
  const plan = new Plan(builder.tape, roots, undefined, { fuseFrom, readsRootsOnly: valueOnly });
  plan.setInput(columns[0]!.node, x);
  plan.setInput(columns[1]!.node, y);
  plan.setInput(builder.input('c', []), Float64Array.of(c));
  // Twice: a loop's locals start again on each run.
  plan.run();
  plan.run();
  return { value: plan.read(output), loops: plan.fusedSources };
}

/** A step of a random chain, over the names made so far (z0 … z{i−1}, x and y). */
const stepOf = (kind: number, a: string, b: string): string =>
  [
    `concat([1], ${a}[1:end-1])`,
    `concat(${a}[1:1], ${a}[1:end-1])`,
    `concat([c], ${a}[1:end-1]) .* ${b}`,
    `concat(${a}[1:2], ${a}[2:end-1])`,
    `${a} .* ${b} + c`,
    `sin(${a}) - ${b} ./ (1 + ${a} .^ 2)`,
    `${a} + c * concat([0], ${b}[1:end-1])`,
    `exp(-abs(${a})) + sum(${b}) * ${a}`,
  ][kind]!;

const chains = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.nat(), fc.nat()), { minLength: 2, maxLength: 9 })
  .map((steps) => {
    const lines = steps.map(([kind, i, j], s) => {
      const names = ['x', 'y', ...Array.from({ length: s }, (_, k) => `z${k}`)];
      return `z${s} = ${stepOf(kind, names[Math.max(0, names.length - 1 - (i % 3))]!, names[j % names.length]!)}`;
    });
    return `${lines.join('\n')}\nz${steps.length - 1} + sum(z0)`;
  });

/** Ordinary entries, then ±0, ±∞ and NaN at the ends (where a shift's pieces meet) and inside. */
const SPECIALS: readonly (readonly [number, number][])[] = [
  [],
  [
    [0, -0],
    [1, 0],
    [N - 1, -0],
  ],
  [
    [0, Infinity],
    [1, NaN],
    [5, -Infinity],
    [N - 1, NaN],
  ],
];

describe('a forward loop runs on through a shift of what it computes', () => {
  it('gives the unfused values to the last bit on random chains of steps, shifts and sums', () => {
    const random = prng(29);
    let throughShifts = 0;
    fc.assert(
      fc.property(chains, fc.integer({ min: 0, max: 2 }), fc.boolean(), (expr, special, valueOnly) => {
        const x = Float64Array.from({ length: N }, () => 4 * random() - 2);
        const y = Float64Array.from({ length: N }, () => 4 * random() - 2);
        for (const [k, value] of SPECIALS[special]!) x[k] = value;
        const c = special === 1 ? -0 : 0.75;
        const fused = valueOf(expr, x, y, c, 2, valueOnly);
        const plain = valueOf(expr, x, y, c, Infinity, valueOnly);
        expect(plain.loops).toEqual([]);
        expect(firstBitDifference(fused.value, plain.value), expr).toBeNull();
        if (fused.loops.some((source) => /= q\d+;/.test(source))) throughShifts++;
      }),
      { seed: 0x5_1f7, numRuns: 60 },
    );
    // Most chains hold a shift of a vector their loop computes.
    expect(throughShifts).toBeGreaterThan(20);
  });

  it(`runs GradBench's ode in loops of at most ${MAX_LOOP_STEPS} steps, each through its stages' shifts`, () => {
    const source = readFileSync(new URL('../bench/gradbench/models/ode.txt', import.meta.url), 'utf8');
    const random = prng(31);
    const n = 300;
    const x = Float64Array.from({ length: n }, random);
    const variables = new Map<string, VariableInfo>([
      ['x', { shape: [n] }],
      ['s', { shape: [], value: [10], constant: true }],
    ]);
    const { builder, output } = lowerExpression(parseExpression(source), variables, undefined, source);
    const fused = new Plan(builder.tape, [output], undefined, { fuseFrom: 2, readsRootsOnly: true });
    const plain = new Plan(builder.tape, [output], undefined, { fuseFrom: Infinity });
    for (const plan of [fused, plain]) {
      plan.setInput(builder.input('x', [n]), x);
      plan.run();
    }
    expect(firstBitDifference(fused.read(output), plain.read(output))).toBeNull();
    // 10 steps of 4 stages, about 20 element-wise steps and shifts a step: a few loops, each reading shifts of
    // its own vectors from locals, none longer than the limit.
    expect(fused.fusedLoops).toBeGreaterThanOrEqual(Math.ceil((10 * 20) / MAX_LOOP_STEPS));
    expect(fused.fusedLoops).toBeLessThan(10);
    for (const loop of fused.fusedSources) {
      expect(loop).toMatch(/const x\d+ = q\d+;/);
      const steps = new Set(loop.match(/const x\d+ =/g));
      expect(steps.size).toBeLessThanOrEqual(MAX_LOOP_STEPS);
    }
    // The vectors that only their loop reads take no entries of the buffer: x, y(0), the constants, a few
    // vectors between loops and the output.
    expect(fused.values.length).toBeLessThan(plain.values.length / 10);
  });
});
