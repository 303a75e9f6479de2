/**
 * Every operation of the table, one row each: its partial derivatives
 * against central finite differences at points of its domain, and its second
 * derivatives (the Hessian of a weighted sum of its output) against central
 * finite differences of the gradient, symmetric, there and at the special
 * points of SPEC §6. A new operation without a row here fails the first test;
 * one without second derivatives fails unless it is listed, with the reason.
 */
import { describe, expect, it } from 'vitest';
import { linearize } from '../src/engine/linearize.js';
import { Program } from '../src/engine/program.js';
import { GraphBuilder } from '../src/graph/index.js';
import { OP_NAMES, OPS, type NodeId, type OpName } from '../src/ops/index.js';
import { sizeOf, type Shape } from '../src/shape.js';
import { finiteDifferenceHessian, finiteDifferenceJacobian, firstMismatch } from './helpers/numeric.js';

interface Row {
  /** Values of the inputs, by name; their shapes follow from the arrays. */
  readonly at: Readonly<Record<string, readonly number[] | readonly (readonly number[])[]>>;
  readonly build: (b: GraphBuilder, x: (name: string) => NodeId, op: OpName) => NodeId;
  /** The derivative is exactly zero everywhere (steps, comparisons, weights). */
  readonly piecewiseConstant?: boolean;
}

const GRID = [-1.3, -0.4, 0.6, 1.7];
const unary = (values: readonly number[] = GRID, piecewiseConstant = false): Row => ({
  at: { a: values },
  build: (b, x, op) => b.apply(op, [x('a')]),
  piecewiseConstant,
});
const binary = (a: readonly number[], c: readonly number[], piecewiseConstant = false): Row => ({
  at: { a, c },
  build: (b, x, op) => b.apply(op, [x('a'), x('c')]),
  piecewiseConstant,
});
const matrix = [
  [2, 0.5, -1],
  [0.3, 1.5, 0.2],
  [-0.4, 0.1, 3],
];
const IDENTITY_MAP = { to: Int32Array.of(0, 1, 2), from: Int32Array.of(2, 0, 1) };

const ROWS: Readonly<Record<OpName, Row | 'leaf'>> = {
  input: 'leaf',
  constant: 'leaf',
  select: {
    at: { a: [1, 2, 3] },
    build: (b, x) => b.apply('select', [x('a')], { kind: 'select', shape: [3], map: IDENTITY_MAP }),
  },
  concat: {
    at: { a: [1, 2], c: [3, 4] },
    build: (b, x) =>
      b.apply('concat', [x('a'), x('c')], {
        kind: 'concat',
        shape: [2, 2],
        maps: [
          { to: Int32Array.of(0, 1), from: Int32Array.of(0, 1) },
          { to: Int32Array.of(2, 3), from: Int32Array.of(0, 1) },
        ],
      }),
  },
  reshape: {
    at: { a: [1, 2, 3, 4] },
    build: (b, x) => b.apply('reshape', [x('a')], { kind: 'reshape', shape: [2, 2] }),
  },
  where: {
    at: { k: [1, 0, 1, 0], a: GRID, c: [0.5, 0.25, -2, 3] },
    build: (b, x) => b.apply('where', [x('k'), x('a'), x('c')]),
  },
  unaryMinus: unary(),
  not: unary(GRID, true),
  isZero: unary(GRID, true),
  sin: unary(),
  cos: unary(),
  tan: unary(),
  sec: unary(),
  csc: unary(),
  cot: unary(),
  asin: unary([-0.9, -0.3, 0.2, 0.8]),
  acos: unary([-0.9, -0.3, 0.2, 0.8]),
  atan: unary(),
  asec: unary([-3, -1.5, 1.2, 2.5]),
  acsc: unary([-3, -1.5, 1.2, 2.5]),
  acot: unary(),
  atanSlope: unary([-3e5, -1.3, 0, 0.6, 40]),
  asinhSlope: unary([-3e5, -1.3, 0, 0.6, 40]),
  asechSlope: unary([0.1, 0.5, Math.SQRT1_2, 0.9]),
  oneLessTwiceSquare: unary([-1.3, -Math.SQRT1_2, 0, 0.6, 40]),
  sinh: unary(),
  cosh: unary(),
  tanh: unary(),
  sech: unary(),
  csch: unary(),
  coth: unary(),
  asinh: unary(),
  acosh: unary([1.1, 1.5, 2, 4]),
  atanh: unary([-0.9, -0.3, 0.2, 0.8]),
  asech: unary([0.1, 0.4, 0.7, 0.95]),
  acsch: unary(),
  acoth: unary([-3, -1.5, 1.2, 2.5]),
  exp: unary(),
  expm1: unary(),
  log: unary([0.1, 0.5, 2, 7]),
  log1p: unary([-0.5, 0.1, 2, 7]),
  log2: unary([0.1, 0.5, 2, 7]),
  log10: unary([0.1, 0.5, 2, 7]),
  sqrt: unary([0.1, 0.5, 2, 7]),
  cbrt: unary(),
  abs: unary(),
  sign: unary(GRID, true),
  square: unary(),
  cube: unary(),
  floor: unary(GRID, true),
  ceil: unary(GRID, true),
  round: unary(GRID, true),
  fix: unary(GRID, true),
  add: binary(GRID, [0.5, 0.25, -2, 3]),
  subtract: binary(GRID, [0.5, 0.25, -2, 3]),
  dotMultiply: binary(GRID, [0.5, 0.25, -2, 3]),
  dotDivide: binary(GRID, [0.5, 0.25, -2, 3]),
  pow: binary([0.5, 1.2, 2, 3], [-1.5, 0.5, 2, 3]),
  atan2: binary(GRID, [0.5, 0.25, -2, 3]),
  hypot: binary(GRID, [0.5, 0.25, -2, 3]),
  max: binary(GRID, [0.5, 0.25, -2, 3]),
  min: binary(GRID, [0.5, 0.25, -2, 3]),
  logBase: binary([0.5, 1.2, 2, 3], [2, 3, 10, 0.5]),
  nthRoot: binary([0.5, 1.2, 2, 8], [2, 3, 2.5, -3]),
  mod: binary([5.5, -1.2, 7.3, 8.1], [2, 3, 2.5, -3]),
  equal: binary(GRID, [0.5, -0.4, -2, 3], true),
  unequal: binary(GRID, [0.5, -0.4, -2, 3], true),
  smaller: binary(GRID, [0.5, 0.25, -2, 3], true),
  larger: binary(GRID, [0.5, 0.25, -2, 3], true),
  smallerEq: binary(GRID, [0.5, 0.25, -2, 3], true),
  largerEq: binary(GRID, [0.5, 0.25, -2, 3], true),
  and: binary(GRID, [0.5, 0, -2, 3], true),
  or: binary(GRID, [0.5, 0, -2, 3], true),
  xor: binary(GRID, [0.5, 0, -2, 3], true),
  strongMultiply: binary(GRID, [0.5, 0.25, -2, 3]),
  maxWeight: binary(GRID, [0.5, 0.25, -2, 3], true),
  minWeight: binary(GRID, [0.5, 0.25, -2, 3], true),
  sum: unary(),
  prod: unary(),
  prodOthers: unary(),
  prodPairs: unary(),
  maxReduce: unary(),
  minReduce: unary(),
  tieWeights: {
    at: { a: GRID, c: [0.6] },
    build: (b, x) => b.apply('tieWeights', [x('a'), b.apply('reshape', [x('c')], { kind: 'reshape', shape: [] })]),
    piecewiseConstant: true,
  },
  dot: binary(GRID, [0.5, 0.25, -2, 3]),
  norm2: unary(),
  normP: {
    at: { a: GRID, c: [3] },
    build: (b, x) => b.apply('normP', [x('a'), b.apply('reshape', [x('c')], { kind: 'reshape', shape: [] })]),
  },
  matmul: {
    at: {
      a: [
        [1, 2, -1],
        [0.5, 3, 2],
      ],
      c: [
        [1, 0.5],
        [-2, 1],
        [0.3, 4],
      ],
    },
    build: (b, x) => b.apply('matmul', [x('a'), x('c')]),
  },
  det: { at: { a: matrix }, build: (b, x) => b.apply('det', [x('a')]) },
  cofactor: { at: { a: matrix }, build: (b, x) => b.apply('cofactor', [x('a')]) },
  cofactorJacobian: { at: { a: matrix }, build: (b, x) => b.apply('cofactorJacobian', [x('a')]) },
  inv: { at: { a: matrix }, build: (b, x) => b.apply('inv', [x('a')]) },
  erf: unary([-2.5, -0.4, 0.3, 1.7]),
  gaussian: unary([-5.5, -0.4, 0, 0.3, 1.7, 26]),
  sigmoid: unary([-30, -0.4, 0.6, 25]),
  sigmoidSlope: unary([-30, -0.4, 0, 1e-9, 0.6, 25]),
  relu: unary(),
  heaviside: unary(GRID, true),
  softplus: unary([-30, -0.4, 0.6, 25]),
  logsumexp: {
    at: {
      a: [
        [1, 0.5],
        [-2, 3],
      ],
    },
    build: (b, x) => b.apply('logsumexp', [x('a')]),
  },
  // A constant for differentiation (softmax's shift): its partial is 0 by design, not the max's.
  stopMax: 'leaf',
  median: unary([0.3, -1.2, 2.5, 0.9, 1.4]),
  medianWeights: unary([0.3, -1.2, 2.5, 0.9], true),
  lusolve: {
    at: { a: matrix, c: [[1], [-2], [0.5]] },
    build: (b, x) => b.apply('lusolve', [x('a'), x('c')]),
  },
  // The numbers of the solve partial, never differentiated: lusolve's partials solve with them.
  luFactor: 'leaf',
  lgamma: unary([0.3, 1.7, 4.2, 12.5]),
  digamma: unary([0.3, 1.7, 4.2, 12.5]),
  trigamma: unary([0.3, 1.7, 4.2, 12.5]),
  rowMax: { at: { a: matrix }, build: (b, x, op) => b.apply(op, [x('a')]) },
  rowMin: { at: { a: matrix }, build: (b, x, op) => b.apply(op, [x('a')]) },
  rowMaxWeights: { at: { a: matrix }, build: (b, x, op) => b.apply(op, [x('a')]), piecewiseConstant: true },
  rowMinWeights: { at: { a: matrix }, build: (b, x, op) => b.apply(op, [x('a')]), piecewiseConstant: true },
  extremeIndex: {
    at: { a: matrix },
    build: (b, x) => b.apply('extremeIndex', [x('a'), b.apply('rowMax', [x('a')])]),
    piecewiseConstant: true,
  },
};

const shapeOf = (value: readonly number[] | readonly (readonly number[])[]): Shape =>
  Array.isArray(value[0]) ? [value.length, (value[0] as readonly number[]).length] : [value.length];

/** Fixed weights, not all alike, so that every output entry counts with its own factor. */
const weight = (k: number): number => (k % 2 === 0 ? 1 : -1) * (0.75 + 0.5 * k);

/**
 * The row's graph at `at`; with `weighted`, the output is the scalar Σₖ wₖ·op(…)ₖ, whose Hessian
 * holds every second derivative of the operation.
 */
function compileRow(op: OpName, row: Row, at: Row['at'] = row.at, weighted = false) {
  const b = new GraphBuilder();
  const variables = Object.entries(at).map(([name, value]) => ({ name, shape: shapeOf(value) }));
  let out = row.build(b, (name) => b.input(name, variables.find((v) => v.name === name)!.shape), op);
  if (weighted) {
    const shape = b.shapeOf(out);
    const w = b.constant(
      Float64Array.from({ length: sizeOf(shape) }, (_, k) => weight(k)),
      shape,
    );
    out = b.apply('sum', [b.apply('dotMultiply', [w, out])]);
  }
  const program = new Program(b, out, variables);
  const point = new Map(Object.entries(at).map(([name, value]) => [name, Float64Array.from(value.flat())]));
  return { program, point, wrt: variables.map((v) => v.name) };
}

/** The first pair (i, j) with H[i][j] ≠ H[j][i] beyond rounding, or null. */
function asymmetry(hessian: Float64Array, n: number): string | null {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [hessian[i * n + j]!, hessian[j * n + i]!];
      if (Object.is(a, b)) continue;
      if (Number.isFinite(a - b) && Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b))) continue;
      return `H[${i}][${j}] = ${a} but H[${j}][${i}] = ${b}`;
    }
  }
  return null;
}

/** Operations that have no derivative of their own: the last derivatives the table provides. */
const NO_FIRST_ORDER: Readonly<Partial<Record<OpName, string>>> = {
  prodPairs: 'the second derivatives of prod; its derivative would be a third derivative of prod',
  cofactorJacobian: 'the second derivatives of det; its derivative would be a third derivative of det',
  trigamma: 'the second derivative of lgamma; its derivative would be a third derivative of lgamma',
};
/**
 * Operations whose second derivatives are deliberately not provided, and why. Only derivatives of
 * prod, det and lgamma are here: no command needs a third derivative.
 */
const NO_SECOND_ORDER: Readonly<Partial<Record<OpName, string>>> = {
  ...NO_FIRST_ORDER,
  prodOthers: 'the gradient of prod; its second derivatives (through prodPairs) are third derivatives of prod',
  cofactor: 'the gradient of det; its second derivatives (through cofactorJacobian) are third derivatives of det',
  digamma: 'the derivative of lgamma; its second derivatives (through trigamma) are third derivatives of lgamma',
};

/**
 * Special points of SPEC §6 for second derivatives. `hessian` (from the weights w) is the exact
 * value where finite differences cannot see the convention (a kink, a tie, an infinite or one-sided
 * derivative); without it the point is smooth for the function, though not for a formula of its
 * derivative, and finite differences apply. H is symmetric at all of them.
 */
interface SpecialPointCase {
  readonly op: OpName;
  readonly name: string;
  readonly at: Row['at'];
  readonly build?: Row['build'];
  readonly hessian?: (w: (k: number) => number) => readonly number[];
}

const zeros = (n: number) => (): number[] => new Array<number>(n * n).fill(0);
const diagonal = (entries: readonly number[]): number[] => {
  const n = entries.length;
  return Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? entries[k / (n + 1)]! : 0));
};

const SPECIAL_POINTS: readonly SpecialPointCase[] = [
  // ∂/∂x = y·x^(y-1) is 0 on the line y = 0, but its ∂/∂y there is x^(y-1)·(1 + y·log x) = 1/x.
  { op: 'pow', name: 'y = 0, x > 0', at: { a: [2, 0.5, 3], c: [0, 0, 0] } },
  {
    op: 'pow',
    name: 'x = 0, y = 2 and y = 3',
    at: { a: [0, 0], c: [2, 3] },
    hessian: (w) => diagonal([2 * w(0), 0, 0, 0]),
  },
  // No second derivative has a limit at 0^0 (1/x along y = 0, 0 or ∞ along x = 0): 0, as the partials there.
  { op: 'pow', name: '0^0', at: { a: [0], c: [0] }, hessian: zeros(2) },
  { op: 'abs', name: 'x = 0', at: { a: [0, 2, -3] }, hessian: zeros(3) },
  { op: 'sign', name: 'x = 0', at: { a: [0, 1] }, hessian: zeros(2) },
  { op: 'floor', name: 'an integer', at: { a: [2, -1, 2.5] }, hessian: zeros(3) },
  // The structural zeros next to sqrt''(0) = -Infinity stay exact zeros.
  { op: 'sqrt', name: 'x = 0', at: { a: [0, 4] }, hessian: (w) => diagonal([-Infinity, -w(1) / 32]) },
  { op: 'max', name: 'a tie', at: { a: [2, 1], c: [2, 3] }, hessian: zeros(4) },
  { op: 'min', name: 'a tie', at: { a: [2, 1], c: [2, 3] }, hessian: zeros(4) },
  { op: 'maxReduce', name: 'a tie', at: { a: [1, 3, 3] }, hessian: zeros(3) },
  { op: 'minReduce', name: 'a three-way tie', at: { a: [2, 2, 2, 5] }, hessian: zeros(4) },
  { op: 'norm2', name: 'the zero vector', at: { a: [0, 0, 0] }, hessian: zeros(3) },
  { op: 'normP', name: 'the zero vector', at: { a: [0, 0, 0], c: [3] }, hessian: zeros(4) },
  { op: 'normP', name: 'p = 1.5', at: { a: GRID, c: [1.5] } },
  { op: 'dot', name: 'a column and a vector', at: { a: [[1], [-2], [0.5]], c: [3, 0.25, -1] } },
  { op: 'hypot', name: 'the origin', at: { a: [0], c: [0] }, hessian: zeros(2) },
  {
    op: 'where',
    name: 'the branch not taken at sqrt(0)',
    at: { k: [1], a: [1.5], c: [0] },
    build: (b, x) => b.apply('where', [x('k'), b.apply('square', [x('a')]), b.apply('sqrt', [x('c')])]),
    hessian: (w) => [0, 0, 0, 0, 2 * w(0), 0, 0, 0, 0],
  },
];

describe('operation table', () => {
  it('has a test row for every operation', () => {
    expect(OP_NAMES.filter((op) => !(op in ROWS))).toEqual([]);
  });

  const operations = OP_NAMES.filter((op) => ROWS[op] !== 'leaf');
  const differentiable = operations.filter((op) => NO_FIRST_ORDER[op] === undefined);
  it.each(differentiable)('%s: partials agree with central finite differences', (op) => {
    const row = ROWS[op] as Row;
    const { program, point, wrt } = compileRow(op, row);
    const { jacobian } = program.jacobian(point, wrt);
    const reference = finiteDifferenceJacobian(program, point, wrt);
    expect(firstMismatch(jacobian, reference, 1e-6, 1e-7)).toBeNull();
    if (row.piecewiseConstant) expect(jacobian.every((x) => x === 0)).toBe(true);
  });

  it.each(Object.keys(NO_FIRST_ORDER) as OpName[])('%s has no derivative of its own (a third derivative)', (op) => {
    const { program, point, wrt } = compileRow(op, ROWS[op] as Row);
    expect(() => program.jacobian(point, wrt)).toThrow(/third derivatives/);
  });

  // Every operation not listed in NO_SECOND_ORDER is checked here: a new one fails until it has them or is listed.
  const secondOrder = operations.filter((op) => NO_SECOND_ORDER[op] === undefined);
  it.each(secondOrder)('%s: second derivatives agree with finite differences of the gradient, symmetric', (op) => {
    const row = ROWS[op] as Row;
    const { program, point, wrt } = compileRow(op, row, row.at, true);
    const { jacobian: hessian, n } = program.hessian(point, wrt);
    expect(firstMismatch(hessian, finiteDifferenceHessian(program, point, wrt), 1e-6, 1e-7)).toBeNull();
    expect(asymmetry(hessian, n)).toBeNull();
    if (row.piecewiseConstant) expect(hessian.every((x) => x === 0)).toBe(true);
  });

  // The passes look at no partial of these for a number that is not finite: none must come out of them.
  const SPECIAL_ENTRIES = [NaN, Infinity, -Infinity, 0, -0, 1e308, -5e-324, 1, -1e-300];
  const finiteByConstruction = operations.filter((op) => OPS[op].finiteValues === true);
  it.each(finiteByConstruction)('%s: its values are finite at NaN, ±∞, ±0, extremes and ties', (op) => {
    const row = ROWS[op] as Row;
    for (let shift = 0; shift < SPECIAL_ENTRIES.length; shift++) {
      let k = shift;
      const special = (): number => SPECIAL_ENTRIES[k++ % SPECIAL_ENTRIES.length]!;
      const at = Object.fromEntries(
        Object.entries(row.at).map(([name, value]) => [
          name,
          value.map((entry) => (typeof entry === 'number' ? special() : entry.map(special))),
        ]),
      ) as Row['at'];
      const { program, point } = compileRow(op, row, at);
      expect(Array.from(program.evaluate(point)).every(Number.isFinite), `${op} at ${JSON.stringify(at)}`).toBe(true);
    }
  });

  it("the passes look at exp's partial for a number that is not finite, not at max's weights or index", () => {
    // sum(max(x, 0)) + sum(exp(x)) + max(x): max(x, 0) reads its weights, max(x) the index of its extreme.
    const b = new GraphBuilder();
    const x = b.input('x', [4]);
    const relu = b.apply('sum', [b.apply('max', [x, b.constant(Float64Array.of(0), [])])]);
    const exps = b.apply('sum', [b.apply('exp', [x])]);
    const out = b.apply('add', [b.apply('add', [relu, exps]), b.apply('maxReduce', [x])]);
    const lin = linearize(b, out, [{ node: x, offset: 0, size: 4 }]);
    const ops = (nodes: readonly NodeId[]) => nodes.map((node) => b.tape.op(node)).sort();
    expect(ops([...new Set(lin.partialNodes)]).filter((op) => op !== 'constant')).toEqual([
      'exp',
      'extremeIndex',
      'maxWeight',
    ]);
    expect(ops(lin.checkedPartials).filter((op) => op !== 'constant')).toEqual(['exp']);
  });

  it.each(Object.entries(NO_SECOND_ORDER))('%s has no second derivatives: %s', (op) => {
    const { program, point, wrt } = compileRow(op as OpName, ROWS[op as OpName] as Row, undefined, true);
    expect(() => program.hessian(point, wrt)).toThrow(/third derivatives/);
  });

  it.each(SPECIAL_POINTS)('$op at $name: second derivatives as SPEC §6 has them', (c) => {
    const row = { ...(ROWS[c.op] as Row), ...(c.build === undefined ? {} : { build: c.build }) };
    const { program, point, wrt } = compileRow(c.op, row, c.at, true);
    const { jacobian: hessian, n } = program.hessian(point, wrt);
    if (c.hessian === undefined) {
      expect(firstMismatch(hessian, finiteDifferenceHessian(program, point, wrt), 1e-6, 1e-7)).toBeNull();
    } else {
      // Compared exactly (a NaN where an exact zero belongs fails), with -0 as 0.
      expect(Array.from(hessian, (x) => x + 0)).toEqual(c.hessian(weight));
    }
    expect(asymmetry(hessian, n)).toBeNull();
  });
});
