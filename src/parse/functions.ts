/**
 * The language functions: those beyond the element-wise functions of the
 * operation table (reductions, linear algebra, mathjs's operators called by
 * name), each lowered to operations of the table.
 */
import type { MathNode } from 'mathjs';
import { ShapeError, UnsupportedError } from '../errors.js';
import type { NodeId, OpName } from '../ops/index.js';
import { describeShape, isMatrix, isScalar, isVector, sizeOf, type Shape } from '../shape.js';
import { ARRAY_FUNCTIONS, orAlongDimension } from './array-functions.js';
import type { Lowerer } from './lowerer.js';

export interface LanguageFunction {
  /** Usage, as `jacobian functions` shows it. */
  readonly usage: string;
  readonly doc: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  lower(c: Lowerer, args: readonly MathNode[]): NodeId;
}

const shapeOf = (c: Lowerer, id: NodeId): Shape => c.b.shapeOf(id);

/** The arguments of an n-ary call, which mathjs takes only as scalars, as in `max(1, 2, 3)` or `sum(1, 2, 3)`. */
function scalarArguments(c: Lowerer, name: string, ids: readonly NodeId[]): readonly NodeId[] {
  for (const id of ids) {
    if (!isScalar(shapeOf(c, id))) {
      throw new ShapeError(
        `${name} with ${ids.length} arguments takes scalars, ` +
          `got ${ids.map((i) => describeShape(shapeOf(c, i))).join(', ')}`,
      );
    }
  }
  return ids;
}

/** Folds an n-ary call of scalars with a binary operation: ((a op b) op c) op …. */
function foldScalars(c: Lowerer, name: string, op: OpName, label: string, ids: readonly NodeId[]): NodeId {
  const scalars = scalarArguments(c, name, ids);
  return scalars.slice(1).reduce((acc, id) => c.elementwise(op, label, [acc, id]), scalars[0]!);
}

function ones(c: Lowerer, shape: Shape): NodeId {
  return c.b.constant(new Float64Array(sizeOf(shape)).fill(1), shape);
}

/** mathjs's sum(M, dim): dim 1 sums down the rows (one result per column), dim 2 across. */
function sumAlong(c: Lowerer, x: NodeId, dim: number): NodeId {
  const s = shapeOf(c, x);
  if (isVector(s) && dim === 1) return c.b.apply('sum', [x]);
  if (!isMatrix(s) || (dim !== 1 && dim !== 2)) {
    throw new ShapeError(
      `cannot sum ${describeShape(s)} along dimension ${dim}: a matrix has dimensions 1 and 2, a vector only 1`,
    );
  }
  const [r, k] = s;
  return dim === 1
    ? c.b.apply('reshape', [c.b.apply('matmul', [ones(c, [1, r]), x])], { kind: 'reshape', shape: [k] })
    : c.b.apply('reshape', [c.b.apply('matmul', [x, ones(c, [k, 1])])], { kind: 'reshape', shape: [r] });
}

export function dimension(c: Lowerer, node: MathNode): number {
  const d = c.staticArgument(node, 'the dimension');
  if (d !== 1 && d !== 2) throw new ShapeError(`the dimension must be 1 or 2, got ${String(d)}`);
  return d;
}

function reduce(op: 'sum' | 'prod', fold: OpName, foldLabel: string): LanguageFunction['lower'] {
  return (c, args) => {
    // An empty range, as x[3:2], sums to 0 (mathjs; its prod of nothing is an error).
    if (op === 'sum' && args.length === 1 && c.isEmptySelection(args[0]!)) return c.b.scalar(0);
    if (args.length === 1) {
      const x = c.lower(args[0]!);
      return isScalar(shapeOf(c, x)) ? x : c.b.apply(op, [x]);
    }
    const ids = args.map((a) => c.lower(a));
    if (op === 'sum' && args.length === 2 && !isScalar(shapeOf(c, ids[0]!)))
      return sumAlong(c, ids[0]!, dimension(c, args[1]!));
    return foldScalars(c, op, fold, foldLabel, ids);
  };
}

/**
 * max and min: of one array, its extreme entry; of two arguments, the extreme
 * element-wise (arrays broadcast); of three or more scalars, the extreme entry
 * of their vector, so that a tie splits the derivative evenly (SPEC §6), not
 * as nested pairs would (1/4, 1/4, 1/2).
 */
function extreme(name: 'max' | 'min', reduceOp: 'maxReduce' | 'minReduce'): LanguageFunction['lower'] {
  return (c, args) => {
    const ids = args.map((a) => c.lower(a));
    if (ids.length === 1) return isScalar(shapeOf(c, ids[0]!)) ? ids[0]! : c.b.apply(reduceOp, ids);
    if (ids.length === 2) return c.elementwise(name, name, ids);
    return c.b.apply(reduceOp, [c.literal(scalarArguments(c, name, ids))]);
  };
}

function squareOrScalar(c: Lowerer, x: NodeId, name: string): 'scalar' | number {
  const s = shapeOf(c, x);
  if (isScalar(s)) return 'scalar';
  if (isMatrix(s) && s[0] === s[1]) return s[0];
  throw new ShapeError(`${name} needs a square matrix, got ${describeShape(s)}`);
}

function norm(c: Lowerer, args: readonly MathNode[]): NodeId {
  const x = c.lower(args[0]!);
  const s = shapeOf(c, x);
  if (args.length === 1 && isMatrix(s)) {
    // mathjs's default for a matrix is the spectral norm, which is not supported: say which one.
    throw new UnsupportedError(
      'norm(M) of a matrix is its spectral norm in mathjs, which is not supported: ' +
        "write norm(M, 'fro'), norm(M, 1) or norm(M, Inf)",
    );
  }
  const p = args.length > 1 ? c.staticArgument(args[1]!, 'the norm type') : 2;
  const kind = typeof p === 'string' ? p.toLowerCase() : p;
  const abs = () => c.b.apply('abs', [x]);
  if (isScalar(s)) return abs();
  if (kind === 'fro' || (kind === 2 && isVector(s))) return c.b.apply('norm2', [x]);
  if (kind === 'inf' || kind === Infinity) {
    return isVector(s) ? c.b.apply('maxReduce', [abs()]) : c.b.apply('maxReduce', [sumAlong(c, abs(), 2)]);
  }
  if (kind === -Infinity && isVector(s)) return c.b.apply('minReduce', [abs()]);
  if (kind === 1) return isVector(s) ? c.b.apply('sum', [abs()]) : c.b.apply('maxReduce', [sumAlong(c, abs(), 1)]);
  if (typeof kind === 'number' && kind > 0 && isVector(s)) return c.b.apply('normP', [x, c.b.scalar(kind)]);
  throw new UnsupportedError(
    `norm(${isVector(s) ? 'x' : 'M'}, ${String(p)}) is not supported: ` +
      "a vector takes a positive p, Inf or -Inf; a matrix takes 'fro', 1 or Inf",
  );
}

/** mathjs's cross: of vectors a vector; when either is a 1×3 or 3×1 matrix, a 1×3 matrix. */
function cross(c: Lowerer, args: readonly MathNode[]): NodeId {
  const [a, b] = args.map((n) => c.lower(n)) as [NodeId, NodeId];
  const threeEntries = (s: Shape) => (isVector(s) || (isMatrix(s) && (s[0] === 1 || s[1] === 1))) && sizeOf(s) === 3;
  for (const id of [a, b]) {
    if (!threeEntries(shapeOf(c, id)))
      throw new ShapeError(
        `cross needs two vectors of 3 entries (or 1×3, 3×1 matrices), got ${describeShape(shapeOf(c, a))} and ${describeShape(shapeOf(c, b))}`,
      );
  }
  const asRow = isMatrix(shapeOf(c, a)) || isMatrix(shapeOf(c, b));
  const pick = (x: NodeId, order: readonly number[]) => c.gather(x, order, [3]);
  const first = c.b.apply('dotMultiply', [pick(a, [1, 2, 0]), pick(b, [2, 0, 1])]);
  const second = c.b.apply('dotMultiply', [pick(a, [2, 0, 1]), pick(b, [1, 2, 0])]);
  const product = c.b.apply('subtract', [first, second]);
  return asRow ? c.b.apply('reshape', [product], { kind: 'reshape', shape: [1, 3] }) : product;
}

/**
 * mathjs's lusolve, lsolve and usolve: A·x = b for a vector (or n×1 column) b,
 * the solution as an n×1 column, as mathjs returns it. lsolve and usolve read
 * only the lower or upper triangle, as mathjs's substitutions do.
 */
function linearSolve(name: string, triangle: 'lower' | 'upper' | null): LanguageFunction['lower'] {
  return (c, args) => {
    const [a, b] = args.map((n) => c.lower(n)) as [NodeId, NodeId];
    const [sa, sb] = [shapeOf(c, a), shapeOf(c, b)];
    if (!isMatrix(sa) || sa[0] !== sa[1])
      throw new ShapeError(`${name} needs a square matrix A, got ${describeShape(sa)}`);
    const n = sa[0];
    if (!((isVector(sb) && sb[0] === n) || (isMatrix(sb) && sb[0] === n && sb[1] === 1)))
      throw new ShapeError(
        `${name}(A, b) needs b of ${n} entries (a vector or an ${n}×1 column) for A ${describeShape(sa)}, ` +
          `got ${describeShape(sb)}`,
      );
    const column = c.b.apply('reshape', [b], { kind: 'reshape', shape: [n, 1] });
    const kept: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (triangle === null || (triangle === 'lower' ? j <= i : j >= i)) kept.push(i * n + j);
    const matrix =
      triangle === null
        ? a
        : c.b.apply('select', [a], {
            kind: 'select',
            shape: [n, n],
            map: { to: Int32Array.from(kept), from: Int32Array.from(kept) },
          });
    return c.b.apply('lusolve', [matrix, column]);
  };
}

const operatorFunction = (
  usage: string,
  doc: string,
  arity: number,
  lower: (c: Lowerer, ids: NodeId[]) => NodeId,
): LanguageFunction => ({
  usage,
  doc,
  minArgs: arity,
  maxArgs: arity,
  lower: (c, args) =>
    lower(
      c,
      args.map((a) => c.lower(a)),
    ),
});

const elementwiseFunction = (name: string, op: OpName, label: string, doc: string): LanguageFunction =>
  operatorFunction(`${name}(a, b)`, doc, 2, (c, ids) => c.elementwise(op, label, ids));

export const LANGUAGE_FUNCTIONS: Readonly<Record<string, LanguageFunction>> = {
  sum: {
    usage: 'sum(x), sum(M, dim), sum(a, b, …)',
    doc: 'sum of all entries (along a dimension; of scalars)',
    minArgs: 1,
    maxArgs: Infinity,
    lower: reduce('sum', 'add', '+'),
  },
  prod: {
    usage: 'prod(x), prod(M, dim), prod(a, b, …)',
    doc: 'product of all entries',
    minArgs: 1,
    maxArgs: Infinity,
    lower: orAlongDimension('prod', reduce('prod', 'dotMultiply', '*')),
  },
  mean: {
    usage: 'mean(x), mean(M, dim), mean(a, b, …)',
    doc: 'arithmetic mean of all entries',
    minArgs: 1,
    maxArgs: Infinity,
    lower(c, args) {
      const ids = args.map((a) => c.lower(a));
      const x = ids[0]!;
      const divide = (total: NodeId, count: number) => c.b.apply('dotDivide', [total, c.b.scalar(count)]);
      if (ids.length === 1) return isScalar(shapeOf(c, x)) ? x : divide(c.b.apply('sum', [x]), sizeOf(shapeOf(c, x)));
      if (ids.length === 2 && !isScalar(shapeOf(c, x))) {
        const total = sumAlong(c, x, dimension(c, args[1]!));
        return divide(total, sizeOf(shapeOf(c, x)) / sizeOf(shapeOf(c, total)));
      }
      return divide(foldScalars(c, 'mean', 'add', '+', ids), ids.length);
    },
  },
  max: {
    usage: 'max(x), max(M, dim), max(a, b), max(a, b, c, …)',
    doc: 'largest entry of x; larger of a and b element-wise',
    minArgs: 1,
    maxArgs: Infinity,
    lower: orAlongDimension('maxReduce', extreme('max', 'maxReduce')),
  },
  min: {
    usage: 'min(x), min(M, dim), min(a, b), min(a, b, c, …)',
    doc: 'smallest entry of x; smaller of a and b element-wise',
    minArgs: 1,
    maxArgs: Infinity,
    lower: orAlongDimension('minReduce', extreme('min', 'minReduce')),
  },
  norm: {
    usage: "norm(x), norm(x, p), norm(M, 'fro')",
    doc:
      "vector p-norm (2 by default, 1, Inf, -Inf, p > 0); matrix 'fro', 1, Inf " +
      "(mathjs's default spectral norm is not supported)",
    minArgs: 1,
    maxArgs: 2,
    lower: norm,
  },
  hypot: {
    usage: 'hypot(a, b), hypot(x), hypot(a, b, c, …)',
    doc: 'sqrt(a^2 + b^2) element-wise; of one array: its 2-norm',
    minArgs: 1,
    maxArgs: Infinity,
    lower(c, args) {
      const ids = args.map((a) => c.lower(a));
      if (ids.length === 1) return isScalar(shapeOf(c, ids[0]!)) ? c.b.apply('abs', ids) : c.b.apply('norm2', ids);
      if (ids.length === 2) return c.elementwise('hypot', 'hypot', ids);
      return foldScalars(c, 'hypot', 'hypot', 'hypot', ids);
    },
  },
  dot: operatorFunction('dot(a, b)', 'dot product of two vectors', 2, (c, ids) => c.b.apply('dot', ids)),
  cross: { usage: 'cross(a, b)', doc: 'cross product of two 3-vectors', minArgs: 2, maxArgs: 2, lower: cross },
  det: operatorFunction('det(M)', 'determinant of a square matrix', 1, (c, [x]) =>
    squareOrScalar(c, x!, 'det') === 'scalar' ? x! : c.b.apply('det', [x!]),
  ),
  inv: operatorFunction('inv(M)', 'inverse of a square matrix', 1, (c, [x]) =>
    squareOrScalar(c, x!, 'inv') === 'scalar' ? c.b.apply('dotDivide', [c.b.scalar(1), x!]) : c.b.apply('inv', [x!]),
  ),
  lusolve: {
    usage: 'lusolve(A, b)',
    doc: 'the solution x of A·x = b (LU with partial pivoting), an n×1 column; derivatives solve with the same factors',
    minArgs: 2,
    maxArgs: 2,
    lower: linearSolve('lusolve', null),
  },
  lsolve: {
    usage: 'lsolve(L, b)',
    doc: 'the solution of L·x = b for the lower triangle of L (forward substitution), an n×1 column',
    minArgs: 2,
    maxArgs: 2,
    lower: linearSolve('lsolve', 'lower'),
  },
  usolve: {
    usage: 'usolve(U, b)',
    doc: 'the solution of U·x = b for the upper triangle of U (back substitution), an n×1 column',
    minArgs: 2,
    maxArgs: 2,
    lower: linearSolve('usolve', 'upper'),
  },
  trace: operatorFunction('trace(M)', 'sum of the diagonal of a square matrix', 1, (c, [x]) => {
    const n = squareOrScalar(c, x!, 'trace');
    if (n === 'scalar') return x!;
    return c.b.apply('sum', [
      c.gather(
        x!,
        Array.from({ length: n }, (_, i) => i * n + i),
        [n],
      ),
    ]);
  }),
  transpose: operatorFunction('transpose(M)', "transpose, the same as M'", 1, (c, [x]) => c.transpose(x!)),
  ctranspose: operatorFunction('ctranspose(M)', "transpose (real numbers), the same as M'", 1, (c, [x]) =>
    c.transpose(x!),
  ),
  log: {
    usage: 'log(x), log(x, b)',
    doc: 'natural logarithm; logarithm to base b',
    minArgs: 1,
    maxArgs: 2,
    lower(c, args) {
      const ids = args.map((a) => c.lower(a));
      return ids.length === 1 ? c.b.apply('log', ids) : c.elementwise('logBase', 'log', ids);
    },
  },
  nthRoot: {
    usage: 'nthRoot(x), nthRoot(x, n)',
    doc: 'real n-th root (n = 2 by default; odd roots of negative numbers are real)',
    minArgs: 1,
    maxArgs: 2,
    lower(c, args) {
      const ids = args.map((a) => c.lower(a));
      return c.elementwise('nthRoot', 'nthRoot', ids.length === 1 ? [ids[0]!, c.b.scalar(2)] : ids);
    },
  },
  pow: elementwiseFunction('pow', 'pow', '.^', 'power a.^b, element-wise'),
  add: operatorFunction('add(a, b)', 'a + b', 2, (c, ids) => c.elementwise('add', '+', ids)),
  subtract: operatorFunction('subtract(a, b)', 'a - b', 2, (c, ids) => c.elementwise('subtract', '-', ids)),
  multiply: operatorFunction('multiply(a, b)', 'a * b (matrix product)', 2, (c, [a, b]) => c.multiply(a!, b!)),
  divide: operatorFunction('divide(a, b)', 'a / b', 2, (c, [a, b]) => c.divide(a!, b!)),
  dotMultiply: elementwiseFunction('dotMultiply', 'dotMultiply', '.*', 'a .* b'),
  dotDivide: elementwiseFunction('dotDivide', 'dotDivide', './', 'a ./ b'),
  dotPow: elementwiseFunction('dotPow', 'pow', '.^', 'a .^ b'),
  unaryMinus: operatorFunction('unaryMinus(x)', '-x', 1, (c, [x]) => c.b.apply('unaryMinus', [x!])),
  unaryPlus: operatorFunction('unaryPlus(x)', '+x', 1, (_c, [x]) => x!),
  equal: elementwiseFunction('equal', 'equal', '==', 'a == b (1 or 0)'),
  unequal: elementwiseFunction('unequal', 'unequal', '!=', 'a != b (1 or 0)'),
  smaller: elementwiseFunction('smaller', 'smaller', '<', 'a < b (1 or 0)'),
  larger: elementwiseFunction('larger', 'larger', '>', 'a > b (1 or 0)'),
  smallerEq: elementwiseFunction('smallerEq', 'smallerEq', '<=', 'a <= b (1 or 0)'),
  largerEq: elementwiseFunction('largerEq', 'largerEq', '>=', 'a >= b (1 or 0)'),
  and: elementwiseFunction('and', 'and', 'and', 'logical and (1 or 0)'),
  or: elementwiseFunction('or', 'or', 'or', 'logical or (1 or 0)'),
  xor: elementwiseFunction('xor', 'xor', 'xor', 'logical exclusive or (1 or 0)'),
  not: operatorFunction('not(x)', 'logical not (1 or 0)', 1, (c, [x]) => c.b.apply('not', [x!])),
  ...ARRAY_FUNCTIONS,
};
