/**
 * Fused element-wise loops (engine/fusion.ts): a plan and passes that fuse every run of entry-wise steps give
 * the unfused plan's values and cotangents to the last bit (-0, NaN and ±∞ included), on chains written to
 * exercise each kind of fused step and on random expressions; and the fused loops' sources hold no user text.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyPieces, FUSE_FROM } from '../src/engine/fusion.js';
import { CHUNK_ENTRIES } from '../src/engine/compiled.js';
import { compileProgram } from '../src/compile.js';
import { linearize, type WrtInput } from '../src/engine/linearize.js';
import { Passes } from '../src/engine/passes.js';
import { Plan } from '../src/engine/plan.js';
import { findKinkWarnings, valueDomainKinkWarnings } from '../src/engine/special.js';
import { OPS } from '../src/ops/index.js';
import { lowerExpression, parseExpression, type VariableInfo } from '../src/parse/index.js';
import type { Operand } from '../src/ops/index.js';
import type { Shape } from '../src/shape.js';
import { expressions, points } from './helpers/expressions.js';
import { casesOf } from './helpers/fuzz.js';
import { bits, firstBitDifference, prng } from './helpers/numeric.js';

const lowered = (source: string, variables: ReadonlyMap<string, VariableInfo>) =>
  lowerExpression(parseExpression(source), variables, undefined, source);

type Inputs = Readonly<Record<string, { shape: Shape; data: Float64Array }>>;

/** The plan and passes Program.prepare builds for the expression, fusing from `fuseFrom` entries. */
function prepared(expr: string, inputs: Inputs, fuseFrom: number) {
  const variables = new Map<string, VariableInfo>(
    Object.entries(inputs).map(([name, { shape, data }]) => [name, { shape, value: data }]),
  );
  const { builder, output } = lowerExpression(parseExpression(expr), variables, undefined, expr);
  let n = 0;
  const columns: WrtInput[] = Object.entries(inputs).map(([name, { shape, data }]) => {
    const column = { node: builder.input(name, shape), offset: n, size: data.length };
    n += data.length;
    return column;
  });
  const lin = linearize(builder, output, columns);
  const plan = new Plan(builder.tape, [output, ...lin.partialNodes], undefined, { fuseFrom });
  const passes = new Passes(plan, lin, fuseFrom);
  for (const [name, { shape, data }] of Object.entries(inputs)) plan.setInput(builder.input(name, shape), data);
  return { builder, plan, passes, output, roots: [output, ...lin.partialNodes], m: plan.operand(output).size, columns };
}

/** Runs both forms at the inputs with the seed; the first difference in values or cotangents, or null. */
function firstDifference(expr: string, inputs: Inputs, seed: ArrayLike<number>, fuseFrom: number): string | null {
  const fused = prepared(expr, inputs, fuseFrom);
  const plain = prepared(expr, inputs, Infinity);
  expect(plain.plan.fusedLoops + loops(plain.passes, 'reverse') + loops(plain.passes, 'forward')).toBe(0);
  for (const form of [fused, plain]) {
    form.plan.run();
    form.passes.inspectPartials();
    form.passes.backwardPass(Array.from({ length: form.m }, (_, i) => seed[i % seed.length]!));
  }
  // A value-only plan (Program.evaluate's) writes nothing but what later steps and the output need.
  const valuePlan = new Plan(fused.plan.tape, [fused.output], undefined, { fuseFrom, readsRootsOnly: true });
  for (const c of fused.columns)
    if (fused.plan.operands[c.node] !== undefined) valuePlan.setInput(c.node, fused.plan.read(c.node));
  valuePlan.run();
  const value = firstBitDifference(valuePlan.read(fused.output), plain.plan.read(plain.output));
  if (value !== null) return `value-only plan, ${value}`;
  // What is read after a forward pass: the roots, the values the kink report looks at, and the report itself.
  const { tape } = plain.plan;
  const read = new Set(fused.roots);
  for (let id = 0; id < tape.length; id++)
    if (plain.plan.operands[id] !== undefined && OPS[tape.op(id)].special !== undefined)
      for (const node of [id, ...tape.args(id)]) read.add(node);
  for (const id of read) {
    const values = firstBitDifference(fused.plan.read(id), plain.plan.read(id));
    if (values !== null) return `values of node ${id} (${OPS[tape.op(id)].label}), ${values}`;
  }
  const report = (form: typeof fused) => {
    const wrt = form.columns.map((c) => c.node);
    const warnings = findKinkWarnings(
      form.builder,
      form.passes,
      wrt,
      form.columns.map((c) => c.offset),
      form.m,
    );
    return JSON.stringify([
      warnings,
      valueDomainKinkWarnings(form.builder, form.plan, new Set(form.passes.lin.active)),
    ]);
  };
  if (report(fused) !== report(plain)) return `kink reports ${report(fused)}, expected ${report(plain)}`;
  // What a caller reads of a backward pass: the inputs' cotangents (a fused loop's own nodes stay in its locals).
  const cotangents = (form: typeof fused): number[] =>
    form.columns.flatMap((c) => [...(form.passes.slice(form.passes.cotangent, c.node) ?? [])]);
  const difference = firstBitDifference(cotangents(fused), cotangents(plain));
  if (difference !== null) return `cotangents, ${difference}`;
  // Forward mode: the output's tangent for tangents of the inputs made from the seed's numbers.
  const tangent = (form: typeof fused): number[] => {
    form.passes.forwardPass(
      form.columns.map((c) => Array.from({ length: c.size }, (_, k) => seed[(c.offset + k) % seed.length]!)),
    );
    return [...(form.passes.slice(form.passes.tangent, form.output) ?? [])];
  };
  const tangents = firstBitDifference(tangent(fused), tangent(plain));
  return tangents === null ? null : `tangents, ${tangents}`;
}

/** Inputs x and y (vectors) and c (a scalar). */
const xyc = (x: Float64Array, y: Float64Array, c: number): Inputs => ({
  x: { shape: [x.length], data: x },
  y: { shape: [y.length], data: y },
  c: { shape: [], data: Float64Array.of(c) },
});

const loops = (passes: Passes, direction: 'reverse' | 'forward'): number => passes.fusedSources(direction).length;

const N = 40;
const vector = (random: () => number, special: readonly number[] = []): Float64Array =>
  Float64Array.from({ length: N }, (_, k) => (k < special.length ? special[k]! : 4 * random() - 2));

/** Chains with every kind of fused step: unary and binary, scalar operands, sums into a scalar, reductions. */
const CHAINS: readonly { expr: string; forward: number; reverse: number; tangent: number }[] = [
  // lse: x - a and exp fused; reverse: sum's row, exp, the sum into a, x - a (max's extreme kind: not fused)
  { expr: 'a = max(x)\na + log(sum(exp(x - a)))', forward: 1, reverse: 1, tangent: 1 },
  // the partials (cos, quotients), appended to the tape after the primal steps and the sum, join their loop
  { expr: 'sum(sin(x .* y + c) ./ (1 + y .^ 2))', forward: 1, reverse: 1, tangent: 1 },
  { expr: 'x .* y - 2 * sqrt(abs(x)) + c * y', forward: 1, reverse: 1, tangent: 1 },
  // the same node read twice, and a node read by two steps of one loop
  { expr: 'z = exp(x .* x)\nsum(z .* z + z ./ y)', forward: 1, reverse: 1, tangent: 1 },
  // a chain through a shift of what it computes: one forward loop, which reads z at k − 1 from a local; the
  // derivative passes are broken by the copy's own pass
  {
    expr: 'z = tanh(x + c * y)\nw = concat([1], z[1:end-1])\nsum(log1p(w .* w) .* y)',
    forward: 1,
    reverse: 2,
    tangent: 2,
  },
  // copies read in the loop where they are: a shift, a rotation (two pieces of one argument), halves of two
  // arguments; a reversal (not runs) keeps its own pass
  {
    expr: 'z = exp(x) .* y\nsum(concat([1], z[1:end-1]) .* x + 2 * concat(z[2:end], z[1:1]))',
    forward: 2,
    reverse: 3,
    tangent: 3,
  },
  { expr: 'w = concat(x[1:20], y[21:40])\nsum(sin(w) .* w[end:-1:1] + c * w)', forward: 2, reverse: 1, tangent: 1 },
  // sums in the loops, one over two segments of a copy; a step that reads a sum starts a loop after it
  {
    expr: 's = sum(exp(x) .* y)\nsum(concat([1], x[1:end-1]) .* (s * y + x)) + sum(tanh(y) .* x)',
    forward: 3,
    reverse: 2,
    tangent: 2,
  },
];

describe('fused element-wise loops give the unfused numbers to the last bit', () => {
  it(`fuses from ${FUSE_FROM} entries on, and not below`, () => {
    const random = prng(7);
    const small = prepared(CHAINS[1]!.expr, xyc(Float64Array.of(1, 2), Float64Array.of(3, 4), 0.5), FUSE_FROM);
    expect(small.plan.fusedLoops).toBe(0);
    const large = prepared(
      CHAINS[1]!.expr,
      {
        x: { shape: [FUSE_FROM], data: Float64Array.from({ length: FUSE_FROM }, random) },
        y: { shape: [FUSE_FROM], data: Float64Array.from({ length: FUSE_FROM }, random) },
        c: { shape: [], data: Float64Array.of(0.5) },
      },
      FUSE_FROM,
    );
    expect(large.plan.fusedLoops).toBe(1);
    expect(loops(large.passes, 'reverse')).toBe(1);
  });

  it.each(CHAINS)('$expr', ({ expr, forward, reverse, tangent }) => {
    const random = prng(expr.length);
    // Ordinary points, then ±0, ±∞ and NaN among the entries (the careful passes then run in both forms).
    const specials: readonly (readonly number[])[] = [[], [0, -0], [Infinity, -Infinity, NaN, 0, -0]];
    for (const special of specials) {
      const inputs = xyc(vector(random, special), vector(random), special.length > 2 ? -0 : 0.75);
      const fused = prepared(expr, inputs, 2);
      expect([fused.plan.fusedLoops, loops(fused.passes, 'reverse'), loops(fused.passes, 'forward')]).toEqual([
        forward,
        reverse,
        tangent,
      ]);
      for (const seed of [[1], [0.5, -0, 0, -3], [Infinity, 2]])
        expect(firstDifference(expr, inputs, seed, 2), `${expr} at ${special.map(bits).join(', ')}`).toBeNull();
    }
  });

  it(`runs loops of more than ${CHUNK_ENTRIES} entries chunk by chunk: sums and shifts carry across chunks`, () => {
    const random = prng(17);
    // A whole chunk and part of another.
    const n = CHUNK_ENTRIES + 77;
    const long = () => Float64Array.from({ length: n }, () => 4 * random() - 2);
    // Every chain but the one of fixed indices (x[1:20]).
    for (const { expr, forward } of CHAINS.filter((chain) => !chain.expr.includes('[1:20]'))) {
      const inputs = xyc(long(), long(), 0.75);
      const fused = prepared(expr, inputs, 2);
      expect(fused.plan.fusedLoops, expr).toBe(forward);
      expect(firstDifference(expr, inputs, [0.5, -0, 0, -3], 2), expr).toBeNull();
    }
  });

  it(`runs loops with sums two chunks at a time (paired kernels) from ${2 * CHUNK_ENTRIES} entries, same numbers`, () => {
    const random = prng(23);
    // Two pairs of chunks, a chunk and part of another: the paired kernel twice (the second adds to the sums so far),
    // then the single one after it.
    const n = 5 * CHUNK_ENTRIES + 77;
    const long = () => Float64Array.from({ length: n }, () => 4 * random() - 2);
    const paired = CHAINS.filter((chain) => !chain.expr.includes('[1:20]')).map(({ expr }) => {
      const inputs = xyc(long(), long(), 0.75);
      expect(firstDifference(expr, inputs, [0.5, -0, 0, -3], 2), expr).toBeNull();
      const loops = prepared(expr, inputs, 2).plan.fusedForwardLoops;
      return [loops.filter((loop) => loop.paired !== null).length, loops.filter((loop) => loop.simd).length];
    });
    // The loops that sum, except those with a shift or a copy in two segments (the fifth and sixth chains); a loop
    // of exp runs as SIMD code instead (engine/simd.ts), two entries at a time, and has no paired kernel.
    expect(paired).toEqual([
      [0, 1],
      [1, 0],
      [0, 0],
      [0, 1],
      [0, 0],
      [0, 0],
      [1, 0],
    ]);
  });

  it('reads copies with few runs where they are, in the loop, and copies other maps first', () => {
    const random = prng(13);
    const inputs = xyc(vector(random), vector(random), 0.5);
    /** The copies a forward pass reads inside its loops: value-only plans and the passes' plans both. */
    const foldedCopies = (expr: string): number[] => {
      const { plan, builder, output } = prepared(expr, inputs, 2);
      const valuePlan = new Plan(builder.tape, [output], undefined, { fuseFrom: 2, readsRootsOnly: true });
      const count = (sources: readonly string[]) =>
        sources.reduce((total, source) => total + (source.match(/= v\[r\d+ \+ k\];/g) ?? []).length, 0);
      return [count(plan.fusedSources), count(valuePlan.fusedSources)];
    };
    // The shift's first entry (the literal) and the rotation's two pieces are read from the buffer, one read a
    // segment; the shift's other entries are the loop's own local of z at k − 1.
    expect(foldedCopies(CHAINS[5]!.expr)).toEqual([3, 3]);
    // The concat of two halves is read in the loop, one half a segment; the reversal is not runs, and is copied by
    // its own pass.
    expect(foldedCopies(CHAINS[6]!.expr)).toEqual([2, 2]);
    // A copy of a vector that the loop computes reads it at k − 1 from a local kept across the iterations (and
    // across the segments); one that reads it ahead (a rotation left) starts the next loop.
    const shifted = prepared('z = exp(x) .* x\nsum(concat([1], z[1:end-1]) .* y)', inputs, 2).plan.fusedSources;
    expect(shifted.length).toBe(1);
    expect(shifted[0]!.match(/const x\d+ = q1;|q1 = x1;/g)).toEqual(['q1 = x1;', 'const x2 = q1;', 'q1 = x1;']);
    const ahead = prepared('z = exp(x) .* x\nsum(concat(z[2:end], z[1:1]) .* y)', inputs, 2).plan.fusedSources;
    expect(ahead.length).toBe(2);
  });

  it("finds a copy's pieces only where its maps write each entry once, in a few runs", () => {
    const map = (to: readonly number[], from: readonly number[]) => ({
      to: Int32Array.from(to),
      from: Int32Array.from(from),
    });
    // concat([1], y[1:end-1]) over 5 entries: entry 0 from the scalar, entries 1… from y's 0…
    expect(copyPieces([map([0], [0]), map([1, 2, 3, 4], [0, 1, 2, 3])], 5)).toEqual([
      { start: 0, end: 1, arg: 0, from: 0 },
      { start: 1, end: 5, arg: 1, from: 0 },
    ]);
    // a rotation of one argument: two pieces, listed by output entry
    expect(copyPieces([map([3, 0, 1, 2], [0, 1, 2, 3])], 4)).toEqual([
      { start: 0, end: 3, arg: 0, from: 1 },
      { start: 3, end: 4, arg: 0, from: 0 },
    ]);
    // an entry left at -0, an entry written twice (a sum), a reversal (one piece an entry), too short a cover
    expect(copyPieces([map([0, 1, 3], [0, 1, 2])], 4)).toBeNull();
    expect(copyPieces([map([0, 1], [0, 1]), map([1, 2], [0, 1])], 3)).toBeNull();
    expect(copyPieces([map([0, 1, 2, 3, 4], [4, 3, 2, 1, 0])], 5)).toBeNull();
    expect(copyPieces([map([0, 1], [0, 1])], 3)).toBeNull();
  });

  it('keeps what the kink report reads: the same warnings at a kink inside a fused loop', () => {
    const expr = CHAINS[2]!.expr;
    const random = prng(11);
    const inputs = xyc(vector(random, [0, -0]), vector(random), 0.75);
    const fused = prepared(expr, inputs, 2);
    fused.plan.run();
    fused.passes.inspectPartials();
    const wrt = fused.columns.map((c) => c.node);
    const warnings = findKinkWarnings(fused.builder, fused.passes, wrt, [0, N, 2 * N], fused.m);
    expect(warnings.length).toBeGreaterThan(0);
    expect(firstDifference(expr, inputs, [1], 2)).toBeNull();
  });

  it('one set of passes, careful and not in turn, one-hot and seeded: the unfused cotangents each time', () => {
    const expr = CHAINS[4]!.expr;
    const random = prng(5);
    const at = (special: readonly number[]) => xyc(vector(random, special), vector(random), 0.25);
    const fused = prepared(expr, at([]), 2);
    expect(loops(fused.passes, 'reverse') * loops(fused.passes, 'forward')).toBeGreaterThan(0);
    for (const special of [[], [NaN], [], [Infinity, 0], []]) {
      const inputs = at(special);
      const plain = prepared(expr, inputs, Infinity);
      for (const form of [fused, plain]) {
        for (const [name, { shape, data }] of Object.entries(inputs))
          form.plan.setInput(form.builder.input(name, shape), data);
        form.plan.run();
        form.passes.inspectPartials();
      }
      for (const pass of ['seeded', 'one-hot', 'non-finite seed'] as const) {
        for (const form of [fused, plain])
          if (pass === 'one-hot') form.passes.oneHotBackwardPass(0);
          else form.passes.backwardPass([pass === 'seeded' ? 2 : -Infinity]);
        const slices = (form: typeof fused) =>
          form.columns.flatMap((c) => [...(form.passes.slice(form.passes.cotangent, c.node) ?? [])]);
        expect(firstBitDifference(slices(fused), slices(plain)), `${pass} at ${special.join(', ')}`).toBeNull();
      }
      for (const pass of ['seeded', 'one-hot', 'non-finite seed'] as const) {
        for (const form of [fused, plain])
          if (pass === 'one-hot') form.passes.oneHotForwardPass(form.columns[0]!.node, 3);
          else
            form.passes.forwardPass(
              form.columns.map((c) => Array.from({ length: c.size }, (_, k) => (pass === 'seeded' ? k - 2 : NaN))),
            );
        const output = (form: typeof fused) => [...(form.passes.slice(form.passes.tangent, form.output) ?? [])];
        expect(firstBitDifference(output(fused), output(plain)), `forward ${pass} at ${special.join(', ')}`).toBeNull();
      }
    }
  });

  it('on random expressions of every operation', () => {
    const shapes = { x: [3], y: [], A: [2, 3] } as const;
    // Counted as the fuzz tests' cases: a share in npm test, the rest in CI's fuzz run.
    const RUNS = casesOf({ test: 60, ci: 150, full: 750 });
    let fusedRuns = 0;
    fc.assert(
      fc.property(expressions({ smooth: false, mathjs: false }, 3), points, (e, at) => {
        const inputs = Object.fromEntries(
          Object.entries(shapes).map(([name, shape]) => [
            name,
            { shape, data: Float64Array.from([at[name as keyof typeof shapes]].flat(2)) },
          ]),
        );
        const expr = e.kind === 's' ? e.text : `sum(${e.text})`;
        const message = firstDifference(expr, inputs, [1], 2);
        expect(message, expr).toBeNull();
        const { plan, passes } = prepared(expr, inputs, 2);
        if (plan.fusedLoops * loops(passes, 'reverse') * loops(passes, 'forward') > 0) fusedRuns++;
      }),
      { seed: 0x00f0_5e0d, numRuns: RUNS },
    );
    // Most expressions have a chain of element-wise steps over x or A in each pass.
    expect(fusedRuns).toBeGreaterThan(RUNS / 3);
  });

  it('a value-only plan shares places between nodes that are not alive together, and gives the same value', () => {
    // GradBench's ode at 300 points and 4 steps: each Runge–Kutta step makes about 20 arrays of 300 entries.
    const source = readFileSync(new URL('../bench/gradbench/models/ode.txt', import.meta.url), 'utf8');
    const random = prng(17);
    const x = Float64Array.from({ length: 300 }, random);
    const variables = new Map<string, VariableInfo>([
      ['x', { shape: [300] }],
      ['s', { shape: [], value: [4], constant: true }],
    ]);
    const program = compileProgram(source, variables);
    const point = new Map([['x', x]]);
    const seed = Float64Array.from({ length: 300 }, random);
    const { value } = program.vjp(point, seed, ['x']);
    expect(firstBitDifference(program.evaluate(point), value)).toBeNull();
    const { builder, output } = lowered(source, variables);
    const unique = new Plan(builder.tape, [output], undefined, { fuseFrom: Infinity });
    const reused = new Plan(builder.tape, [output], undefined, { readsRootsOnly: true });
    expect(reused.fusedLoops).toBeGreaterThan(0);
    // x, the constants and the output keep their places; the steps' arrays share a few.
    expect(reused.values.length).toBeLessThan(unique.values.length / 4);
    for (const plan of [unique, reused]) {
      plan.setInput(builder.input('x', [300]), x);
      plan.run();
    }
    expect(firstBitDifference(reused.read(output), unique.read(output))).toBeNull();
    expect(firstBitDifference(reused.read(output), value)).toBeNull();
  });

  it('in a value-only plan, a kernel that may leave entries unwritten keeps a place of its own', () => {
    const source = 'B = A * A\nC = exp(B) .* B - 1\nD = sin(C * A) + C\nsum(D .* D)';
    const variables = new Map<string, VariableInfo>([['A', { shape: [20, 20] }]]);
    const { builder, output } = lowered(source, variables);
    const plan = new Plan(builder.tape, [output], undefined, { readsRootsOnly: true });
    const { tape } = builder;
    const ranges = plan.operands.flatMap((operand, id) => (operand === undefined ? [] : [{ id, ...operand }]));
    const overlaps = (a: Operand, b: Operand) => a.offset < b.offset + b.size && b.offset < a.offset + a.size;
    const shared = ranges.filter((r) => ranges.some((other) => other.id !== r.id && overlaps(r, other)));
    // The element-wise arrays that only their loop reads live in its locals, at offsets past the buffer's end; the
    // products' own places overlap nothing.
    expect(ranges.filter((r) => r.offset >= plan.values.length).length).toBeGreaterThan(0);
    expect(ranges.filter((r) => tape.op(r.id) === 'matmul').length).toBe(2);
    expect(shared.filter((r) => tape.op(r.id) === 'matmul')).toEqual([]);
    const unique = new Plan(builder.tape, [output], undefined, { fuseFrom: Infinity });
    const A = Float64Array.from({ length: 400 }, prng(23));
    for (const form of [plan, unique]) {
      form.setInput(builder.input('A', [20, 20]), A);
      form.run();
      form.run();
    }
    expect(firstBitDifference(plan.read(output), unique.read(output))).toBeNull();
  });

  it('generates loop sources from generated names and numbers only', () => {
    const random = prng(3);
    const inputs = xyc(vector(random), vector(random), 1);
    const { plan, passes } = prepared(CHAINS[4]!.expr, inputs, 2);
    const sources = [...plan.fusedSources, ...passes.fusedSources('reverse'), ...passes.fusedSources('forward')];
    expect(sources.length).toBe(5);
    for (const source of sources) {
      const words = source.match(/[A-Za-z_][A-Za-z_0-9]*/g) ?? [];
      const vocabulary = new Set(['use', 'strict', 'return', 'function', 'const', 'let', 'for', 'if', 'Math', 'max']);
      const allowed = (w: string) =>
        vocabulary.has(w) ||
        /^(fused(Forward|Pullback|Pushforward)|[vcpkn]|from|to|end|min|carry|[fxpscdgtqr]\d+|sum\d+)$/.test(w);
      expect(words.filter((w) => !allowed(w))).toEqual([]);
    }
  });
});
