/**
 * mathjs's array and statistics functions, and the model functions softmax
 * and logsumexp, lowered to operations of the table: constants, gathers,
 * placements (concat), sums, products and the reductions. Dimensions are
 * one-based, as mathjs's expression parser reads them.
 */
import type { MathNode } from 'mathjs';
import { LimitError, ShapeError, UnsupportedError } from '../errors.js';
import { transposeMap } from '../graph/index-maps.js';
import { nearlyEqual } from '../ops/elementwise.js';
import { composeMaps, identityMap } from '../graph/index-maps.js';
import type { IndexMap, NodeId, OpName } from '../ops/index.js';
import { SCALAR, asRowMajor, describeShape, isMatrix, isScalar, isVector, sizeOf, type Shape } from '../shape.js';
import { sourceOf, view } from './ast.js';
import type { Lowerer } from './lowerer.js';
import { dimension as readDimension, type LanguageFunction } from './functions.js';

/** range(…) makes a constant vector: up to this many entries (as a literal range). */
const MAX_RANGE_ENTRIES = 1_000_000;

/** A one-based dimension known when compiling: 1 or 2. */
const dimension = (c: Lowerer, node: MathNode): 1 | 2 => (readDimension(c, node) === 1 ? 1 : 2);
const shapeOf = (c: Lowerer, id: NodeId): Shape => c.b.shapeOf(id);
const lowerAll = (c: Lowerer, args: readonly MathNode[]): NodeId[] => args.map((a) => c.lower(a));
/** A shape from a list of one or two sizes (or none: a scalar). */
const shapeFrom = (d: readonly number[]): Shape =>
  d.length === 0 ? SCALAR : d.length === 1 ? [d[0]!] : [d[0]!, d[1]!];
function iota(n: number, f: (k: number) => number = (k) => k): Int32Array {
  const list = new Int32Array(n);
  for (let k = 0; k < n; k++) list[k] = f(k);
  return list;
}

/** A string argument written as a literal ('unbiased'), or null. */
function literalString(node: MathNode): string | null {
  const n = view(node);
  return n.type === 'ConstantNode' && typeof n.value === 'string' ? n.value : null;
}

/** The numbers of an argument that must be known when compiling (a size, a list of sizes). */
function knownNumbers(c: Lowerer, node: MathNode, what: string): { values: Float64Array; shape: Shape } {
  if (literalString(node) !== null) throw new UnsupportedError(`${what} must be a number, got ${sourceOf(node)}`);
  const id = c.lower(node);
  const values = c.b.constantValues(id);
  if (values === null)
    throw new UnsupportedError(
      `${what} must be known before evaluation, got ${sourceOf(node)} (it depends on a variable)`,
    );
  return { values, shape: shapeOf(c, id) };
}

function integer(c: Lowerer, node: MathNode, what: string): number {
  const { values, shape } = knownNumbers(c, node, what);
  if (!isScalar(shape) || !Number.isInteger(values[0]))
    throw new ShapeError(`${what} must be an integer, got ${sourceOf(node)}`);
  return values[0]!;
}

/** Sizes given as arguments, `zeros(2, 3)`, or as one array, `zeros([2, 3])`: one or two positive integers. */
function sizes(c: Lowerer, name: string, args: readonly MathNode[]): number[] {
  const given = args.map((a) => knownNumbers(c, a, `the size in ${name}(…)`));
  const list = given.length === 1 && isVector(given[0]!.shape) ? [...given[0]!.values] : given.map((g) => g.values[0]!);
  if (given.some((g) => isMatrix(g.shape)) || (given.length > 1 && given.some((g) => !isScalar(g.shape))))
    throw new ShapeError(`${name} takes sizes as numbers or as one vector, as ${name}(2, 3) or ${name}([2, 3])`);
  if (list.length === 0 || list.length > 2)
    throw new UnsupportedError(
      `${name} makes a vector or a matrix: give one or two sizes, as ${name}(n) or ${name}(m, n), not ${list.length}`,
    );
  for (const n of list) {
    if (!Number.isInteger(n) || n < 1)
      throw new ShapeError(`the sizes of ${name} must be positive integers, got ${list.join(', ')}`);
  }
  return list;
}

function filled(c: Lowerer, shape: Shape, value: number): NodeId {
  return c.b.constant(new Float64Array(sizeOf(shape)).fill(value), shape);
}

function identity(c: Lowerer, rows: number, cols: number): NodeId {
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < Math.min(rows, cols); i++) values[i * cols + i] = 1;
  return c.b.constant(values, [rows, cols]);
}

/** Entries of x at flat positions `to` of a new array of `shape`, zeros elsewhere. */
function place(c: Lowerer, x: NodeId, shape: Shape, to: Int32Array): NodeId {
  const taken = new Uint8Array(sizeOf(shape));
  for (const k of to) taken[k] = 1;
  const rest = Int32Array.from(taken.keys()).filter((k) => taken[k] === 0);
  const maps: IndexMap[] = [{ to, from: iota(to.length) }];
  // The zeros come from a constant 0, not from the -0 that an unfilled entry of concat starts at.
  if (rest.length > 0) maps.push({ to: rest, from: new Int32Array(rest.length) });
  const args = rest.length > 0 ? [x, c.b.scalar(0)] : [x];
  return c.b.apply('concat', args, { kind: 'concat', shape, maps });
}

/** Pieces (scalars or vectors) laid at their flat positions of a new array of `shape`. */
function stack(c: Lowerer, pieces: readonly NodeId[], positions: readonly Int32Array[], shape: Shape): NodeId {
  const maps = positions.map((to) => ({ to, from: iota(to.length) }));
  return c.b.apply('concat', pieces, { kind: 'concat', shape, maps });
}

/**
 * The lines of x along a one-based dimension, with their flat positions in x:
 * a vector is one line (dimension 1); a matrix's lines along 1 are its
 * columns, along 2 its rows.
 */
function lines(c: Lowerer, x: NodeId, dim: 1 | 2): { id: NodeId; at: Int32Array }[] {
  const s = shapeOf(c, x);
  if (isVector(s) && dim === 1) return [{ id: x, at: iota(s[0]) }];
  if (!isMatrix(s)) throw new ShapeError(`${describeShape(s)} has no dimension ${dim}: a vector has only dimension 1`);
  const [r, k] = s;
  const count = dim === 1 ? k : r;
  const length = dim === 1 ? r : k;
  return Array.from({ length: count }, (_, j) => {
    const at = iota(length, (i) => (dim === 1 ? i * k + j : j * k + i));
    return { id: c.gather(x, [...at], [length]), at };
  });
}

/** One scalar per line of x along `dim`: a scalar for a vector, a vector for a matrix (as mathjs's sum(M, dim)). */
function reduceLines(c: Lowerer, x: NodeId, dim: 1 | 2, reduce: (line: NodeId, n: number) => NodeId): NodeId {
  const all = lines(c, x, dim);
  if (isVector(shapeOf(c, x))) return reduce(x, all[0]!.at.length);
  const pieces = all.map((line) => reduce(line.id, line.at.length));
  return stack(
    c,
    pieces,
    pieces.map((_, k) => Int32Array.of(k)),
    [pieces.length],
  );
}

/** Each line of x along `dim` replaced by a vector of its length, in place. */
function mapLines(c: Lowerer, x: NodeId, dim: 1 | 2, f: (line: NodeId, n: number) => NodeId): NodeId {
  const all = lines(c, x, dim);
  if (isVector(shapeOf(c, x))) return f(x, all[0]!.at.length);
  return stack(
    c,
    all.map((line) => f(line.id, line.at.length)),
    all.map((line) => line.at),
    shapeOf(c, x),
  );
}

/** Scalars given as separate arguments, as mathjs's variance(a, b, c), gathered into one vector. */
function vectorOfScalars(c: Lowerer, name: string, ids: readonly NodeId[]): NodeId {
  for (const id of ids) {
    if (!isScalar(shapeOf(c, id)))
      throw new ShapeError(
        `${name} with ${ids.length} arguments takes scalars, ` +
          `got ${ids.map((i) => describeShape(shapeOf(c, i))).join(', ')}`,
      );
  }
  return stack(
    c,
    ids,
    ids.map((_, k) => Int32Array.of(k)),
    [ids.length],
  );
}

function needsArray(c: Lowerer, name: string, x: NodeId, what = 'a vector or a matrix'): void {
  if (isScalar(shapeOf(c, x))) throw new ShapeError(`${name} takes ${what}, got a scalar`);
}

function diag(c: Lowerer, args: readonly MathNode[]): NodeId {
  const x = c.lower(args[0]!);
  const k = args.length > 1 ? integer(c, args[1]!, 'the diagonal offset k of diag(x, k)') : 0;
  const s = shapeOf(c, x);
  const [down, right] = [Math.max(-k, 0), Math.max(k, 0)];
  if (isVector(s)) {
    const n = s[0];
    const cols = n + right;
    return place(
      c,
      x,
      [n + down, cols],
      iota(n, (i) => (i + down) * cols + i + right),
    );
  }
  if (isMatrix(s)) {
    const [r, cols] = s;
    const length = Math.min(r - down, cols - right);
    if (length < 1) throw new ShapeError(`diag(M, ${k}): ${describeShape(s)} has no diagonal ${k}`);
    return c.gather(
      x,
      Array.from({ length }, (_, i) => (i + down) * cols + i + right),
      [length],
    );
  }
  throw new ShapeError(
    'diag takes a vector (to make a diagonal matrix) or a matrix (to take its diagonal), got a scalar',
  );
}

function reshape(c: Lowerer, args: readonly MathNode[]): NodeId {
  const x = c.lower(args[0]!);
  needsArray(c, 'reshape', x);
  const { values, shape } = knownNumbers(c, args[1]!, 'the sizes of reshape(x, sizes)');
  if (!isVector(shape) || values.length > 2)
    throw new UnsupportedError('reshape(x, sizes) takes one or two sizes in a vector, as reshape(x, [2, 3])');
  const size = sizeOf(shapeOf(c, x));
  const known = [...values].filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const target = [...values].map((d) => (d === -1 ? size / known : d));
  if (values.filter((d) => d === -1).length > 1 || target.some((d) => !Number.isInteger(d) || d < 1) || known === 0)
    throw new ShapeError(
      `the sizes of reshape must be positive integers (one of them may be -1), got [${values.join(', ')}]`,
    );
  if (target.reduce((p, d) => p * d, 1) !== size)
    throw new ShapeError(
      `cannot reshape ${describeShape(shapeOf(c, x))} (${size} entries) to [${values.join(', ')}]: ` +
        `the sizes must multiply to ${size}`,
    );
  return c.b.apply('reshape', [x], { kind: 'reshape', shape: shapeFrom(target) });
}

function squeeze(c: Lowerer, x: NodeId): NodeId {
  const s = shapeOf(c, x);
  const kept = s.filter((d) => d !== 1);
  if (kept.length === s.length) return x;
  return c.b.apply('reshape', [x], { kind: 'reshape', shape: shapeFrom(kept) });
}

/** concat(A, B, …, dim): a last scalar argument is the dimension (default: the last one), as in mathjs. */
function concat(c: Lowerer, args: readonly MathNode[]): NodeId {
  const ids = lowerAll(c, args);
  const last = ids[ids.length - 1]!;
  const hasDim = isScalar(shapeOf(c, last));
  const arrays = hasDim ? ids.slice(0, -1) : ids;
  if (arrays.length === 0 || arrays.some((id) => isScalar(shapeOf(c, id))))
    throw new ShapeError('concat joins vectors or matrices, with an optional dimension last: concat(A, B, dim)');
  const shapes = arrays.map((id) => shapeOf(c, id));
  const rank = shapes[0]!.length;
  const dim = hasDim ? dimension(c, args[args.length - 1]!) : rank;
  const problem =
    shapes.some((s) => s.length !== rank) || dim > rank
      ? `dimension ${dim} of ${shapes.map(describeShape).join(', ')} (vectors join only along 1)`
      : rank === 2 && shapes.some((s) => s[2 - dim] !== shapes[0]![2 - dim])
        ? `${shapes.map(describeShape).join(', ')} along dimension ${dim}: ` +
          `their ${dim === 1 ? 'columns' : 'rows'} differ`
        : null;
  if (problem !== null) throw new ShapeError(`cannot concat ${problem}`);
  if (rank === 1) {
    const pieces: NodeId[] = [];
    const maps: IndexMap[] = [];
    let length = 0;
    arrays.forEach((id, i) => {
      const map = identityMap(shapes[i]![0]!, length);
      length += shapes[i]![0]!;
      // A slice (any select taking one entry per entry) goes in as the entries it takes: the slice is not computed.
      const param = c.b.tape.param(id);
      const direct = param.kind === 'select' ? composeMaps(map, param.map, sizeOf(param.shape)) : null;
      pieces.push(direct === null ? id : c.b.tape.args(id)[0]!);
      maps.push(direct ?? map);
    });
    return c.b.apply('concat', pieces, { kind: 'concat', shape: [length], maps });
  }
  const outRows = dim === 1 ? shapes.reduce((n, s) => n + s[0]!, 0) : shapes[0]![0]!;
  const outCols = dim === 2 ? shapes.reduce((n, s) => n + s[1]!, 0) : shapes[0]![1]!;
  let offset = 0;
  const positions = shapes.map((s) => {
    const [r, k] = s as readonly [number, number];
    const at = iota(r * k, (e) =>
      dim === 1 ? (offset + Math.floor(e / k)) * outCols + (e % k) : Math.floor(e / k) * outCols + offset + (e % k),
    );
    offset += dim === 1 ? r : k;
    return at;
  });
  return stack(c, arrays, positions, [outRows, outCols]);
}

/** kron(A, B): every entry of A times all of B; a vector is a row, and two vectors give a vector (as mathjs). */
function kron(c: Lowerer, [a, b]: readonly NodeId[]): NodeId {
  const [sa, sb] = [shapeOf(c, a!), shapeOf(c, b!)];
  if (isScalar(sa) || isScalar(sb))
    throw new ShapeError(`kron takes two vectors or matrices, got ${describeShape(sa)} and ${describeShape(sb)}`);
  const [[r1, c1], [r2, c2]] = [asRowMajor(sa), asRowMajor(sb)];
  const [rows, cols] = [r1 * r2, c1 * c2];
  const fromA: number[] = [];
  const fromB: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      fromA.push(Math.floor(i / r2) * c1 + Math.floor(j / c2));
      fromB.push((i % r2) * c2 + (j % c2));
    }
  }
  const shape: Shape = isVector(sa) && isVector(sb) ? [cols] : [rows, cols];
  return c.b.apply('dotMultiply', [c.gather(a!, fromA, shape), c.gather(b!, fromB, shape)]);
}

/**
 * mathjs's forms f(x), f(x, dim) and f(a, b, …): an array and an optional
 * dimension (null: none given), or scalars gathered into a vector.
 */
function arrayAndDimension(c: Lowerer, name: string, args: readonly MathNode[]): { x: NodeId; dim: 1 | 2 | null } {
  const ids = lowerAll(c, args);
  const x = ids[0]!;
  if (ids.length === 2 && !isScalar(shapeOf(c, x))) return { x, dim: dimension(c, args[1]!) };
  if (ids.length === 1 && !isScalar(shapeOf(c, x))) return { x, dim: null };
  return { x: vectorOfScalars(c, name, ids), dim: null };
}

function cumsum(c: Lowerer, args: readonly MathNode[]): NodeId {
  const { x, dim } = arrayAndDimension(c, 'cumsum', args);
  // Running sums in mathjs's order: each entry is the previous one plus the next input.
  return mapLines(c, x, dim ?? 1, (line, n) => {
    const running: NodeId[] = [];
    for (let k = 0; k < n; k++) {
      const entry = c.gather(line, [k], SCALAR);
      running.push(k === 0 ? entry : c.b.apply('add', [running[k - 1]!, entry]));
    }
    return vectorOfScalars(c, 'cumsum', running);
  });
}

function diff(c: Lowerer, args: readonly MathNode[]): NodeId {
  const x = c.lower(args[0]!);
  needsArray(c, 'diff', x);
  const dim = args.length > 1 ? dimension(c, args[1]!) : 1;
  const s = shapeOf(c, x);
  if (dim > s.length) throw new ShapeError(`diff(x, ${dim}): ${describeShape(s)} has only dimension 1`);
  if (s[dim - 1]! < 2)
    throw new ShapeError(`diff of ${describeShape(s)} along dimension ${dim} is empty: it needs 2 entries there`);
  // Entries k + 1 minus entries k along the dimension: two gathers of the same shape.
  const shape: Shape = isVector(s) ? [s[0] - 1] : dim === 1 ? [s[0]! - 1, s[1]!] : [s[0]!, s[1]! - 1];
  const [outRows, outCols] = asRowMajor(shape);
  const width = isMatrix(s) ? s[1] : 1;
  const from = (shift: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < outRows; i++)
      for (let j = 0; j < outCols; j++)
        out.push(isVector(s) ? j + shift : dim === 1 ? (i + shift) * width + j : i * width + j + shift);
    return out;
  };
  return c.b.apply('subtract', [c.gather(x, from(1), shape), c.gather(x, from(0), shape)]);
}

/** mathjs's range in its expression parser: the end is included unless a last `false` says otherwise. */
function range(c: Lowerer, args: readonly MathNode[]): NodeId {
  const last = view(args[args.length - 1]!);
  const flag = last.type === 'ConstantNode' && typeof last.value === 'boolean' ? last.value : null;
  const numbers = flag === null ? args : args.slice(0, -1);
  if (numbers.length < 2 || numbers.length > 3 || numbers.some((n) => literalString(n) !== null))
    throw new UnsupportedError(
      'range takes numbers: range(start, end), range(start, end, step), optionally includeEnd last',
    );
  const [start, end, step = 1] = numbers.map((n) => knownNumbers(c, n, 'an argument of range').values[0]!);
  if (step === 0 || !Number.isFinite(step) || !Number.isFinite(start!))
    throw new ShapeError(`range needs a finite start and a nonzero finite step, got ${start} and ${step}`);
  const includeEnd = flag ?? true;
  // mathjs adds the step repeatedly and compares with its tolerance: 0:0.1:1 ends at 0.9999999999999999.
  const before = (a: number, b: number): boolean =>
    includeEnd ? a < b || nearlyEqual(a, b) : a < b && !nearlyEqual(a, b);
  const ongoing = (x: number): boolean => (step > 0 ? before(x, end!) : before(end!, x));
  const values: number[] = [];
  for (let x = start!; ongoing(x); x += step) {
    if (values.length >= MAX_RANGE_ENTRIES)
      throw new LimitError(`range(${start}, ${end}, ${step}) has more than ${MAX_RANGE_ENTRIES} entries`);
    values.push(x);
  }
  if (values.length === 0) throw new ShapeError(`range(${start}, ${end}, ${step}) is empty`);
  return c.b.constant(Float64Array.from(values), [values.length]);
}

const NORMALIZATIONS: Readonly<Record<string, (n: number) => number>> = {
  unbiased: (n) => n - 1,
  uncorrected: (n) => n,
  biased: (n) => n + 1,
};

/**
 * variance and std: of all entries, or along a dimension; the divisor is
 * n - 1 ('unbiased', mathjs's default), n ('uncorrected') or n + 1
 * ('biased'). std is ‖x - mean‖/√divisor: its derivative where all entries
 * are equal is 0, the norm's convention (SPEC §6).
 */
function spread(name: 'variance' | 'std'): LanguageFunction['lower'] {
  return (c, args) => {
    const normalization = args.length === 2 ? literalString(args[1]!) : null;
    if (args.length > 2 && literalString(args[args.length - 1]!) !== null)
      throw new UnsupportedError(
        `${name}(M, dim, normalization) is not supported: ` +
          `mathjs's parser reads its dim zero-based, unlike ${name}(M, dim); ` +
          `write ${name}(M, dim) (unbiased) or ${name}(M[:, j], normalization) for one column`,
      );
    const divisorOf = NORMALIZATIONS[normalization ?? 'unbiased'];
    if (divisorOf === undefined)
      throw new UnsupportedError(
        `${name}'s normalization is 'unbiased', 'uncorrected' or 'biased', got '${normalization}'`,
      );
    const { x, dim } = normalization === null ? arrayAndDimension(c, name, args) : { x: c.lower(args[0]!), dim: null };
    const whole = (line: NodeId, n: number): NodeId => {
      const divisor = divisorOf(n);
      // mathjs: the unbiased variance of one number is 0.
      if (divisor === 0) return c.b.scalar(0);
      const mean = c.b.apply('dotDivide', [c.b.apply('sum', [line]), c.b.scalar(n)]);
      const deviation = c.b.apply('subtract', [line, mean]);
      return name === 'variance'
        ? c.b.apply('dotDivide', [c.b.apply('sum', [c.b.apply('square', [deviation])]), c.b.scalar(divisor)])
        : c.b.apply('dotDivide', [c.b.apply('norm2', [deviation]), c.b.scalar(Math.sqrt(divisor))]);
    };
    if (isScalar(shapeOf(c, x))) return c.b.scalar(0);
    return dim === null ? whole(x, sizeOf(shapeOf(c, x))) : reduceLines(c, x, dim, whole);
  };
}

function median(c: Lowerer, args: readonly MathNode[]): NodeId {
  const ids = lowerAll(c, args);
  if (ids.length === 2 && !isScalar(shapeOf(c, ids[0]!)))
    throw new UnsupportedError(
      'median(M, dim) is not supported (nor by mathjs): take the median of a row or column, median(M[:, j])',
    );
  const x = ids.length === 1 ? ids[0]! : vectorOfScalars(c, 'median', ids);
  return isScalar(shapeOf(c, x)) ? x : c.b.apply('median', [x]);
}

/** logsumexp of all entries, or of each line along a dimension. */
function logsumexp(c: Lowerer, args: readonly MathNode[]): NodeId {
  const x = c.lower(args[0]!);
  if (isScalar(shapeOf(c, x))) return x;
  if (args.length === 1) return c.b.apply('logsumexp', [x]);
  return reduceLines(c, x, dimension(c, args[1]!), (line) => c.b.apply('logsumexp', [line]));
}

/**
 * softmax as exp(z - logsumexp(z)) with z = x - max(x): the shift keeps
 * x - logsumexp exact for large x and has derivative 0 (softmax does not
 * depend on it), so no maximum nor its ties enter the derivative. logsumexp's
 * gradient is exp(z - logsumexp(z)), this very node: the Jacobian is
 * diag(s) - s·sᵀ exactly.
 */
function softmax(c: Lowerer, args: readonly MathNode[]): NodeId {
  const x = c.lower(args[0]!);
  const s = shapeOf(c, x);
  const of = (line: NodeId): NodeId => {
    const z = c.b.apply('subtract', [line, c.b.apply('stopMax', [line])]);
    return c.b.apply('exp', [c.b.apply('subtract', [z, c.b.apply('logsumexp', [z])])]);
  };
  if (args.length === 1) {
    if (isMatrix(s))
      throw new ShapeError(
        'softmax of a matrix needs a dimension: softmax(M, 1) for each column, softmax(M, 2) for each row',
      );
    return isScalar(s) ? c.b.scalar(1) : of(x);
  }
  needsArray(c, 'softmax', x);
  return mapLines(c, x, dimension(c, args[1]!), of);
}

/** max(M, dim), min(M, dim), prod(M, dim): a matrix and a literal 1 or 2 name a dimension, as in mathjs. */
export function orAlongDimension(op: OpName, lower: LanguageFunction['lower']): LanguageFunction['lower'] {
  return (c, args) => {
    const second = args.length === 2 ? view(args[1]!) : null;
    const dim = second?.type === 'ConstantNode' ? second.value : null;
    if (dim !== 1 && dim !== 2) return lower(c, args);
    const x = c.lower(args[0]!);
    // A vector or a scalar with a literal 1 or 2 stays what it was: element-wise max(x, 1).
    if (!isMatrix(shapeOf(c, x))) return lower(c, args);
    if (op === 'maxReduce' || op === 'minReduce')
      return extremeAlong(c, x, dim, op === 'maxReduce' ? 'rowMax' : 'rowMin');
    return reduceLines(c, x, dim, (line) => c.b.apply(op, [line]));
  };
}

/** max(M, dim) and min(M, dim): one node, the extreme of each row of M (dim 2) or of its transpose (dim 1). */
function extremeAlong(c: Lowerer, x: NodeId, dim: 1 | 2, op: 'rowMax' | 'rowMin'): NodeId {
  const [r, k] = asRowMajor(shapeOf(c, x));
  const rows = dim === 2 ? x : c.b.apply('select', [x], { kind: 'select', shape: [k, r], map: transposeMap(r, k) });
  return c.b.apply(op, [rows]);
}

const fn = (
  usage: string,
  doc: string,
  minArgs: number,
  maxArgs: number,
  lower: LanguageFunction['lower'],
): LanguageFunction => ({ usage, doc, minArgs, maxArgs, lower });

const constantOf =
  (name: string, value: number): LanguageFunction['lower'] =>
  (c, args) =>
    filled(c, shapeFrom(sizes(c, name, args)), value);

export const ARRAY_FUNCTIONS: Readonly<Record<string, LanguageFunction>> = {
  zeros: fn('zeros(n), zeros(m, n), zeros([m, n])', 'a vector or matrix of zeros', 1, 2, constantOf('zeros', 0)),
  ones: fn('ones(n), ones(m, n), ones([m, n])', 'a vector or matrix of ones', 1, 2, constantOf('ones', 1)),
  identity: fn('identity(n), identity(m, n), identity([m, n])', 'the identity matrix', 1, 2, (c, args) => {
    const [rows, cols] = sizes(c, 'identity', args);
    return identity(c, rows!, cols ?? rows!);
  }),
  diag: fn(
    'diag(x), diag(x, k), diag(M), diag(M, k)',
    'diagonal matrix of a vector (on diagonal k); diagonal of a matrix',
    1,
    2,
    diag,
  ),
  reshape: fn(
    'reshape(x, [m, n]), reshape(x, [n])',
    'the entries, row by row, in another shape (one size may be -1)',
    2,
    2,
    reshape,
  ),
  flatten: fn('flatten(M)', 'the entries row by row, as a vector', 1, 1, (c, [a]) => {
    const x = c.lower(a!);
    needsArray(c, 'flatten', x);
    return c.b.apply('reshape', [x], { kind: 'reshape', shape: [sizeOf(shapeOf(c, x))] });
  }),
  squeeze: fn('squeeze(M)', 'drops dimensions of length 1 (a 1×n matrix becomes a vector)', 1, 1, (c, [a]) =>
    squeeze(c, c.lower(a!)),
  ),
  concat: fn(
    'concat(A, B, …), concat(A, B, …, dim)',
    'joins arrays along a dimension (default: the last)',
    1,
    Infinity,
    concat,
  ),
  kron: fn('kron(A, B)', 'Kronecker product', 2, 2, (c, args) => kron(c, lowerAll(c, args))),
  cumsum: fn(
    'cumsum(x), cumsum(M, dim), cumsum(a, b, …)',
    'cumulative sums (of a matrix: down the columns)',
    1,
    Infinity,
    cumsum,
  ),
  diff: fn('diff(x), diff(M, dim)', 'differences of neighbouring entries (of a matrix: down the columns)', 1, 2, diff),
  size: fn('size(x)', 'the sizes of x, as a constant vector', 1, 1, (c, [a]) => {
    const s = shapeOf(c, c.lower(a!));
    if (isScalar(s)) throw new ShapeError('size of a scalar is the empty vector [], which has no entries');
    return c.b.constant(Float64Array.from(s), [s.length]);
  }),
  range: fn(
    'range(a, b), range(a, b, step), range(a, b, step, includeEnd)',
    'a, a + step, … up to b (included, as in mathjs expressions)',
    2,
    4,
    range,
  ),
  variance: fn(
    "variance(x), variance(M, dim), variance(x, 'uncorrected')",
    "variance (divides by n - 1; 'uncorrected': n, 'biased': n + 1)",
    1,
    Infinity,
    spread('variance'),
  ),
  std: fn(
    "std(x), std(M, dim), std(x, 'uncorrected')",
    'standard deviation, the square root of variance',
    1,
    Infinity,
    spread('std'),
  ),
  median: fn(
    'median(x), median(a, b, …)',
    'middle entry (of an even count: mean of the two middle ones)',
    1,
    Infinity,
    median,
  ),
  logsumexp: fn('logsumexp(x), logsumexp(M, dim)', 'log(sum(exp(x))) without overflow', 1, 2, logsumexp),
  softmax: fn('softmax(x), softmax(M, dim)', 'exp(x) / sum(exp(x)) without overflow', 1, 2, softmax),
};
