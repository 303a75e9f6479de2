/**
 * Every kind of partial derivative (src/engine/linear), one block each, on
 * small graphs of random shapes built with GraphBuilder: the pullback is the
 * transpose of the pushforward (⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩, JAX's check_vjp), the
 * per-entry block kernels agree with the vector kernels, the symbolic
 * transpose (the gradient graph) agrees with the pullback, and `reach`
 * covers every nonzero.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '../src/errors.js';
import { adjointMap, broadcastMap, identityMap, transposeMap } from '../src/graph/index-maps.js';
import { GraphBuilder } from '../src/graph/index.js';
import { LINEAR, partialRulesOf, rulesOf, type Accumulator, type Step } from '../src/engine/linear/index.js';
import { linearize, type Edge } from '../src/engine/linearize.js';
import { Passes } from '../src/engine/passes.js';
import { Plan } from '../src/engine/plan.js';
import type { IndexMap, NodeId, OpName } from '../src/ops/index.js';
import { sizeOf, type Shape } from '../src/shape.js';
import { firstMismatch } from './helpers/numeric.js';

const OPTIONS = { seed: 0x11_7ea2, numRuns: 40 };

/** An edge of a one-operation graph, with everything the properties need. */
interface Case {
  readonly b: GraphBuilder;
  readonly edge: Edge;
  readonly step: Step;
  readonly plan: Plan;
  /** The values of every input, by node. */
  readonly inputs: ReadonlyMap<NodeId, Float64Array>;
}

/** Builds `build(input)` over inputs of the given shapes and values, differentiated with respect to the first. */
function edgeCase(
  inputs: readonly { shape: Shape; values: readonly number[] }[],
  build: (b: GraphBuilder, x: readonly NodeId[]) => NodeId,
): Case {
  const b = new GraphBuilder();
  const ids = inputs.map((input, k) => b.input(`x${k}`, input.shape));
  const output = build(b, ids);
  const lin = linearize(b, output, [{ node: ids[0]!, offset: 0, size: sizeOf(inputs[0]!.shape) }]);
  const plan = new Plan(b.tape, [output, ...lin.partialNodes]);
  const values = new Map(ids.map((id, k) => [id, Float64Array.from(inputs[k]!.values)]));
  for (const [id, data] of values) plan.setInput(id, data);
  plan.run();
  const passes = new Passes(plan, lin);
  expect(passes.edges).toHaveLength(1);
  return { b, edge: lin.edges[0]!, step: passes.steps[0]!, plan, inputs: values };
}

/** Numbers with exact zeros among them, since zeros are where the kernels take care. */
const entries = (size: number) =>
  fc.array(fc.oneof(fc.constant(0), fc.double({ min: -3, max: 3, noNaN: true })), {
    minLength: size,
    maxLength: size,
  });

const dims = fc.integer({ min: 1, max: 4 });
const shapes: fc.Arbitrary<Shape> = fc.oneof(
  fc.constant<Shape>([]),
  dims.map((n): Shape => [n]),
  fc.tuple(dims, dims).map(([r, c]): Shape => [r, c]),
);

class Dense implements Accumulator {
  constructor(readonly data: Float64Array) {}

  add(k: number, value: number): void {
    this.data[k]! += value;
  }
}

class Marks implements Accumulator {
  readonly marked = new Set<number>();

  add(k: number): void {
    this.marked.add(k);
  }
}

/** J·t through the step's pushforward, for the argument's tangent t. */
function pushforward({ step, plan }: Case, t: ArrayLike<number>): Float64Array {
  const tangent = new Float64Array(plan.values.length);
  tangent.set(t, step.arg.offset);
  rulesOf(step).pushforward(step, plan.values, tangent, new Float64Array(rulesOf(step).scratchSize(step)));
  return tangent.slice(step.out.offset, step.out.offset + step.out.size);
}

/** Jᵀ·c through the step's pullback, for the node's cotangent c. */
function pullback({ step, plan }: Case, c: ArrayLike<number>): Float64Array {
  const cotangent = new Float64Array(plan.values.length);
  cotangent.set(c, step.out.offset);
  rulesOf(step).pullback(step, plan.values, cotangent, new Float64Array(rulesOf(step).scratchSize(step)));
  return cotangent.slice(step.arg.offset, step.arg.offset + step.arg.size);
}

const dot = (p: ArrayLike<number>, q: ArrayLike<number>): number => {
  let sum = 0;
  for (let k = 0; k < p.length; k++) sum += p[k]! * q[k]!;
  return sum;
};

/** The properties every kind with steps must have, on cases drawn by `cases`. */
function linearProperties(cases: fc.Arbitrary<Case>): void {
  const withVectors = cases.chain((c) => fc.tuple(fc.constant(c), entries(c.step.arg.size), entries(c.step.out.size)));

  it('pullback is the transpose of pushforward: ⟨J·t, c⟩ = ⟨t, Jᵀ·c⟩', () => {
    fc.assert(
      fc.property(withVectors, ([c, t, cotangent]) => {
        const left = dot(pushforward(c, t), cotangent);
        const right = dot(t, pullback(c, cotangent));
        expect(Math.abs(left - right)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(left)));
      }),
      OPTIONS,
    );
  });

  it('the per-entry block kernels agree with the vector kernels', () => {
    fc.assert(
      fc.property(withVectors, ([c, t, cotangent]) => {
        const rules = rulesOf(c.step);
        const pushed = new Dense(new Float64Array(c.step.out.size));
        t.forEach((tk, k) => tk !== 0 && rules.pushEntry(c.step, c.plan.values, k, tk, pushed));
        expect(firstMismatch(pushed.data, pushforward(c, t), 1e-12, 1e-12)).toBeNull();
        const pulled = new Dense(new Float64Array(c.step.arg.size));
        cotangent.forEach((g, k) => g !== 0 && rules.pullEntry(c.step, c.plan.values, k, g, pulled));
        expect(firstMismatch(pulled.data, pullback(c, cotangent), 1e-12, 1e-12)).toBeNull();
      }),
      OPTIONS,
    );
  });

  it('the whole-row block kernel, where a kind has one, agrees with the vector kernels', () => {
    fc.assert(
      fc.property(withVectors, ([c, t, cotangent]) => {
        const rules = rulesOf(c.step);
        if (rules.denseRow === undefined) return;
        const scratch = new Float64Array(rules.scratchSize(c.step));
        const pushed = new Float64Array(c.step.out.size);
        if (!rules.denseRow(c.step, 'forward', c.plan.values, Float64Array.from(t), pushed, scratch)) return;
        expect(firstMismatch(pushed, pushforward(c, t), 1e-12, 1e-12)).toBeNull();
        const pulled = new Float64Array(c.step.arg.size);
        expect(rules.denseRow(c.step, 'reverse', c.plan.values, Float64Array.from(cotangent), pulled, scratch)).toBe(
          true,
        );
        expect(firstMismatch(pulled, pullback(c, cotangent), 1e-12, 1e-12)).toBeNull();
      }),
      OPTIONS,
    );
  });

  it('the symbolic transpose (the gradient graph) agrees with the pullback', () => {
    fc.assert(
      fc.property(withVectors, ([c, , cotangent]) => {
        const { b, edge } = c;
        const seed = b.input('seed', b.shapeOf(edge.node));
        const node = partialRulesOf(edge.partial).transpose(b, edge.partial, edge.node, edge.arg, seed)!;
        expect(b.shapeOf(node)).toEqual(b.shapeOf(edge.arg));
        const plan = new Plan(b.tape, [node]);
        for (const [id, data] of c.inputs) plan.setInput(id, data);
        plan.setInput(seed, cotangent);
        plan.run();
        expect(firstMismatch(plan.read(node), pullback(c, cotangent), 1e-12, 1e-12)).toBeNull();
      }),
      OPTIONS,
    );
  });

  it('reach covers every nonzero of J, in both directions, cutting at zeros or not; reachTable is reach', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { step, plan } = c;
        const rules = rulesOf(step);
        // Forward from argument entry k reaches the nonzeros of J's column k; reverse from output entry k, of its row k.
        for (const [direction, size, image] of [
          ['forward', step.arg.size, pushforward],
          ['reverse', step.out.size, pullback],
        ] as const) {
          for (let k = 0; k < size; k++) {
            const reached = image(
              c,
              Array.from({ length: size }, (_, j) => (j === k ? 1 : 0)),
            );
            for (const cut of [true, false]) {
              const marks = new Marks();
              rules.reach(step, direction, plan.values, k, cut, marks);
              reached.forEach((value, i) => value !== 0 && expect(marks.marked.has(i)).toBe(true));
            }
            // A kind's reach as a table: row k holds what reach by structure gives for entry k.
            const table = rules.reachTable?.(step, direction);
            if (table !== undefined) {
              const marks = new Marks();
              rules.reach(step, direction, plan.values, k, false, marks);
              expect(new Set(table.targets.subarray(table.start[k], table.start[k + 1]))).toEqual(marks.marked);
            }
          }
        }
      }),
      OPTIONS,
    );
  });
}

/** `op(x, y)` element-wise with y fixed: the partial is elementwise(y); x may be a scalar broadcast over y. */
const elementwiseCases = fc
  .tuple(shapes, fc.boolean())
  .chain(([shape, scalarArg]) =>
    fc.tuple(
      fc.constant(shape),
      fc.constant(scalarArg),
      entries(scalarArg ? 1 : sizeOf(shape)),
      entries(sizeOf(shape)),
    ),
  )
  .map(([shape, scalarArg, x, y]) =>
    edgeCase(
      [
        { shape: scalarArg ? [] : shape, values: x },
        { shape, values: y },
      ],
      (b, [a, w]) => b.apply('dotMultiply', [a!, w!]),
    ),
  );

/** A random selection: some output entries take one input entry, some several, some none. */
const selectCases = fc
  .tuple(shapes, shapes)
  .chain(([inShape, outShape]) => {
    const pairs = fc.array(fc.tuple(fc.nat(sizeOf(outShape) - 1), fc.nat(sizeOf(inShape) - 1)), { maxLength: 12 });
    return fc.tuple(fc.constant(inShape), fc.constant(outShape), entries(sizeOf(inShape)), pairs);
  })
  .map(([inShape, outShape, x, pairs]) =>
    edgeCase([{ shape: inShape, values: x }], (b, [a]) =>
      b.apply('select', [a!], {
        kind: 'select',
        shape: outShape,
        map: { to: Int32Array.from(pairs, ([to]) => to), from: Int32Array.from(pairs, ([, from]) => from) },
      }),
    ),
  )
  .filter((c) => c.edge.partial.kind === 'select');

/** dot(x, y) with y fixed: the partial is row(y). */
const rowCases = dims
  .chain((n) => fc.tuple(fc.constant(n), entries(n), entries(n)))
  .map(([n, x, y]) =>
    edgeCase(
      [
        { shape: [n], values: x },
        { shape: [n], values: y },
      ],
      (b, [a, w]) => b.apply('dot', [a!, w!]),
    ),
  );

/** Entries that tie often (0, 1, 1 + 1e-13 within mathjs's tolerance of 1), and a NaN now and then. */
const tying = (size: number) =>
  fc.array(fc.oneof(fc.constantFrom(0, 1, 1 + 1e-13, -2), fc.double({ min: -3, max: 3, noNaN: true })), {
    minLength: size,
    maxLength: size,
  });

/** max(x), min(x) of a vector or matrix, and the row extremes rowMax(M), rowMin(M): the partial is extreme(index). */
const extremeCases = fc
  .tuple(
    dims,
    dims,
    fc.constantFrom('maxReduce', 'minReduce', 'rowMax', 'rowMin') as fc.Arbitrary<OpName>,
    fc.boolean(),
  )
  .chain(([r, c, op, nan]) => fc.tuple(fc.constant([r, c] as const), fc.constant(op), fc.constant(nan), tying(r * c)))
  .map(([[r, c], op, nan, x]) => {
    const values = nan ? x.map((e, k) => (k === x.length - 1 ? NaN : e)) : x;
    return edgeCase([{ shape: [r, c], values }], (b, [a]) => b.apply(op, [a!]));
  });

/** X·Y with respect to X (R = Y) or to Y (L = X), and inv(A) (L = −A⁻¹, R = A⁻¹: both factors). */
const matmulCases = fc.oneof(
  fc
    .tuple(dims, dims, dims, fc.boolean())
    .chain(([r, p, c, leftArg]) =>
      fc.tuple(fc.constant([r, p, c] as const), fc.constant(leftArg), entries(r * p), entries(p * c)),
    )
    .map(([[r, p, c], leftArg, x, y]) => {
      const left = { shape: [r, p] as Shape, values: x };
      const right = { shape: [p, c] as Shape, values: y };
      return leftArg
        ? edgeCase([left, right], (b, [a, w]) => b.apply('matmul', [a!, w!]))
        : edgeCase([right, left], (b, [a, w]) => b.apply('matmul', [w!, a!]));
    }),
  dims
    .chain((n) => fc.tuple(fc.constant(n), entries(n * n)))
    .map(([n, noise]) => {
      // Diagonally dominant, so the inverse is well conditioned.
      const a = noise.map((e, k) => (k % (n + 1) === 0 ? 4 + Math.abs(e) : e / 4));
      return edgeCase([{ shape: [n, n], values: a }], (b, [x]) => b.apply('inv', [x!]));
    }),
);

/** prodOthers(x): the partial is dense(prodPairs(x)). */
const denseCases = dims
  .chain((n) => entries(n))
  .map((x) => edgeCase([{ shape: [x.length], values: x }], (b, [a]) => b.apply('prodOthers', [a!])));

/** lusolve(A, B) with respect to A (out = −A⁻¹·in·X) or to B (out = A⁻¹·in), A diagonally dominant. */
const solveCases = fc
  .tuple(dims, fc.integer({ min: 1, max: 2 }), fc.boolean())
  .chain(([n, k, byMatrix]) =>
    fc.tuple(fc.constant([n, k] as const), fc.constant(byMatrix), entries(n * n), entries(n * k)),
  )
  .map(([[n, k], byMatrix, noise, rhs]) => {
    const a = { shape: [n, n] as Shape, values: noise.map((e, i) => (i % (n + 1) === 0 ? 4 + Math.abs(e) : e / 4)) };
    const right = { shape: [n, k] as Shape, values: rhs };
    return byMatrix
      ? edgeCase([a, right], (b, [x, y]) => b.apply('lusolve', [x!, y!]))
      : edgeCase([right, a], (b, [y, x]) => b.apply('lusolve', [x!, y!]));
  });

describe('linear kinds', () => {
  describe('elementwise', () => linearProperties(elementwiseCases));
  describe('select', () => linearProperties(selectCases));
  describe('row', () => linearProperties(rowCases));
  describe('matmul', () => {
    linearProperties(matmulCases);
    it('covers one-sided and two-sided products', () => {
      const kinds = fc.sample(matmulCases, { seed: OPTIONS.seed, numRuns: 40 }).map((c) => c.step);
      const sides = new Set(kinds.map((s) => s.kind === 'matmul' && `${s.left !== null}/${s.right !== null}`));
      expect([...sides].sort()).toEqual(['false/true', 'true/false', 'true/true']);
    });
  });
  describe('dense', () => linearProperties(denseCases));
  describe('extreme', () => {
    linearProperties(extremeCases);
    it('covers lines with one extreme entry, with a tie and with a NaN', () => {
      const codes = fc
        .sample(extremeCases, { seed: OPTIONS.seed, numRuns: 80 })
        .flatMap(({ step, plan }) =>
          step.kind === 'extreme'
            ? [...plan.values.subarray(step.index.offset, step.index.offset + step.index.size)]
            : [],
        );
      expect(new Set(codes.map((code) => (code >= 0 ? 'one' : code === -1 ? 'NaN' : 'tie')))).toEqual(
        new Set(['one', 'NaN', 'tie']),
      );
    });
  });
  describe('solve', () => {
    linearProperties(solveCases);
    it('covers both arguments: the matrix (negated, with a right factor) and the right-hand side', () => {
      const steps = fc.sample(solveCases, { seed: OPTIONS.seed, numRuns: 40 }).map((c) => c.step);
      const forms = new Set(steps.map((s) => s.kind === 'solve' && `${s.sign}/${s.right !== null}`));
      expect([...forms].sort()).toEqual(['-1/true', '1/false']);
    });
  });

  it('every kind of partial has its block here', () => {
    const covered = ['elementwise', 'select', 'row', 'extreme', 'matmul', 'dense', 'solve', 'zero', 'unsupported'];
    expect(Object.keys(LINEAR).sort()).toEqual(covered.sort());
  });

  describe('zero', () => {
    it('makes no step, reads nothing and adds nothing to the gradient graph', () => {
      const b = new GraphBuilder();
      const x = b.input('x', [3]);
      expect(LINEAR.zero.reads({ kind: 'zero' })).toEqual([]);
      expect(LINEAR.zero.transpose(b, { kind: 'zero' }, x, x, x)).toBeNull();
    });

    it('still carries value dependence: a comparison makes an edge but no step', () => {
      const b = new GraphBuilder();
      const x = b.input('x', [2]);
      const output = b.apply('larger', [x, b.scalar(0)]);
      const lin = linearize(b, output, [{ node: x, offset: 0, size: 2 }]);
      const plan = new Plan(b.tape, [output, ...lin.partialNodes]);
      const passes = new Passes(plan, lin);
      expect(lin.edges.map((e) => e.partial.kind)).toEqual(['zero']);
      expect(passes.edges).toEqual([]);
      expect(passes.stepGraph().edges.map((e) => e.step)).toEqual([null]);
    });
  });

  describe('unsupported', () => {
    it('refuses as soon as the linearisation meets it', () => {
      const b = new GraphBuilder();
      const x = b.input('x', [3]);
      const output = b.apply('prodPairs', [x]);
      expect(() => linearize(b, output, [{ node: x, offset: 0, size: 3 }])).toThrow(UnsupportedError);
      const partial = { kind: 'unsupported', reason: 'third derivatives' } as const;
      expect(() => LINEAR.unsupported.reads(partial)).toThrow(/third derivatives are not available/);
      expect(() => LINEAR.unsupported.transpose(b, partial, x, x, x)).toThrow(UnsupportedError);
    });
  });
});

describe('index maps', () => {
  /** The output of a map applied to `input`, with `size` entries. */
  const apply = (map: IndexMap, input: readonly number[], size: number): number[] => {
    const out = new Array<number>(size).fill(0);
    map.to.forEach((to, j) => (out[to]! += input[map.from[j]!]!));
    return out;
  };

  it('identityMap copies, at an offset', () => {
    expect(apply(identityMap(3), [1, 2, 3], 3)).toEqual([1, 2, 3]);
    expect(apply(identityMap(2, 1), [7, 8], 3)).toEqual([0, 7, 8]);
  });

  it('transposeMap transposes a row-major matrix, and twice is the identity', () => {
    fc.assert(
      fc.property(dims, dims, (rows, cols) => {
        const matrix = Array.from({ length: rows * cols }, (_, k) => k + 1);
        const transposed = apply(transposeMap(rows, cols), matrix, rows * cols);
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++) expect(transposed[j * rows + i]).toBe(matrix[i * cols + j]);
        expect(apply(transposeMap(cols, rows), transposed, rows * cols)).toEqual(matrix);
      }),
      OPTIONS,
    );
  });

  it('broadcastMap repeats a scalar; adjointMap of it sums back', () => {
    expect(apply(broadcastMap(3), [5], 3)).toEqual([5, 5, 5]);
    expect(apply(adjointMap(broadcastMap(3)), [1, 2, 3], 1)).toEqual([6]);
  });
});
