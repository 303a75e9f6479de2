/**
 * Every operation of the table, one row each: its partial derivatives
 * against central finite differences at points of its domain. A new
 * operation without a row here fails the first test.
 */
import { describe, expect, it } from 'vitest';
import { Program } from '../src/engine/program.js';
import { GraphBuilder } from '../src/graph/index.js';
import { OP_NAMES, type NodeId, type OpName } from '../src/ops/index.js';
import type { Shape } from '../src/shape.js';
import { finiteDifferenceJacobian, firstMismatch } from './helpers/numeric.js';

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
};

const shapeOf = (value: readonly number[] | readonly (readonly number[])[]): Shape =>
  Array.isArray(value[0]) ? [value.length, (value[0] as readonly number[]).length] : [value.length];

function compileRow(op: OpName, row: Row) {
  const b = new GraphBuilder();
  const variables = Object.entries(row.at).map(([name, value]) => ({ name, shape: shapeOf(value) }));
  const out = row.build(b, (name) => b.input(name, variables.find((v) => v.name === name)!.shape), op);
  const program = new Program(b, out, variables);
  const point = new Map(Object.entries(row.at).map(([name, value]) => [name, Float64Array.from(value.flat())]));
  return { program, point, wrt: variables.map((v) => v.name) };
}

describe('operation table', () => {
  it('has a test row for every operation', () => {
    expect(OP_NAMES.filter((op) => !(op in ROWS))).toEqual([]);
  });

  const differentiable = OP_NAMES.filter(
    (op) => ROWS[op] !== 'leaf' && op !== 'prodPairs' && op !== 'cofactorJacobian',
  );
  it.each(differentiable)('%s: partials agree with central finite differences', (op) => {
    const row = ROWS[op] as Row;
    const { program, point, wrt } = compileRow(op, row);
    const { jacobian } = program.jacobian(point, wrt);
    const reference = finiteDifferenceJacobian(program, point, wrt);
    expect(firstMismatch(jacobian, reference, 1e-6, 1e-7)).toBeNull();
    if (row.piecewiseConstant) expect(jacobian.every((x) => x === 0)).toBe(true);
  });

  it.each(['prodPairs', 'cofactorJacobian'] as const)('%s has no derivative of its own (a third derivative)', (op) => {
    const { program, point, wrt } = compileRow(op, ROWS[op] as Row);
    expect(() => program.jacobian(point, wrt)).toThrow(/third derivatives/);
  });
});
