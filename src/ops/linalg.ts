/** Reductions and linear algebra: whole-array functions with row, matmul or dense partials (max and min: extremes.ts). */
import { ShapeError } from '../errors.js';
import { SCALAR, describeShape, isMatrix, isScalar, isVector, sizeOf, type Shape } from '../shape.js';
import { addProduct, denseProduct, type MatrixLayout } from './product-kernel.js';
import { algebra, dense, elementwise, matmulPartial, row, unsupported } from './rules.js';
import { sumOfEntries } from './sums.js';
import type { Operand, OpSpec, ReductionName, SpecialPoint } from './types.js';

function squareMatrix(label: string, s: Shape): number {
  if (!isMatrix(s) || s[0] !== s[1]) throw new ShapeError(`${label} needs a square matrix, got ${describeShape(s)}`);
  return s[0];
}

/**
 * Determinant of the n×n row-major matrix in `a` (overwritten) by LU with partial pivoting; 2×2 as mathjs computes
 * it, a·d − c·b (as `inverse` does), so that det's value is mathjs's to the bit: where the matrix is nearly singular
 * the two differ by the rounding of the cancellation, of the same size either way, which a function such as
 * atan2(det(M), 1e-3) magnifies.
 */
export function determinant(a: Float64Array, n: number): number {
  if (n === 2) return a[0]! * a[3]! - a[2]! * a[1]!;
  let det = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]!) > Math.abs(a[pivot * n + col]!)) pivot = r;
    const p = a[pivot * n + col]!;
    if (p === 0) return 0;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) {
        const t = a[col * n + k]!;
        a[col * n + k] = a[pivot * n + k]!;
        a[pivot * n + k] = t;
      }
      det = -det;
    }
    det *= p;
    for (let r = col + 1; r < n; r++) {
      const factor = a[r * n + col]! / p;
      if (factor === 0) continue;
      for (let k = col + 1; k < n; k++) a[r * n + k]! -= factor * a[col * n + k]!;
    }
  }
  return det;
}

/** Determinant of X (n×n at `src`) with the rows and columns in `skipRows`/`skipCols` left out. */
function minorDeterminant(
  v: Float64Array,
  src: number,
  n: number,
  skipRows: readonly number[],
  skipCols: readonly number[],
): number {
  const m = n - skipRows.length;
  const a = new Float64Array(m * m);
  let idx = 0;
  for (let r = 0; r < n; r++) {
    if (skipRows.includes(r)) continue;
    for (let c = 0; c < n; c++) if (!skipCols.includes(c)) a[idx++] = v[src + r * n + c]!;
  }
  return determinant(a, m);
}

/**
 * Inverse of the n×n row-major matrix `x` as mathjs's inv computes it, so that its entries, the signs of their zeros
 * too, are mathjs's: 1×1 and 2×2 by formula, larger by its Gauss-Jordan elimination (partial pivoting, the first
 * largest; each other row eliminated with −a/pivot, before or after the pivot row is divided as the loop reaches it).
 * Singular gives non-finite entries, where mathjs throws.
 */
function invert(x: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n * n);
  if (n === 1) {
    b[0] = 1 / x[0]!;
    return b;
  }
  if (n === 2) {
    // determinant's 2×2 formula, which leaves x as it is.
    const det = determinant(x, 2);
    b[0] = x[3]! / det;
    b[1] = -x[1]! / det;
    b[2] = -x[2]! / det;
    b[3] = x[0]! / det;
    return b;
  }
  const a = Float64Array.from(x);
  for (let r = 0; r < n; r++) b[r * n + r] = 1;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[pivot * n + c]!)) pivot = r;
    if (pivot !== c) {
      for (let s = 0; s < n; s++) {
        [a[c * n + s], a[pivot * n + s]] = [a[pivot * n + s]!, a[c * n + s]!];
        [b[c * n + s], b[pivot * n + s]] = [b[pivot * n + s]!, b[c * n + s]!];
      }
    }
    for (let r = 0; r < n; r++) {
      if (r === c) {
        const p = a[c * n + c]!;
        for (let s = c; s < n; s++) a[c * n + s]! /= p;
        for (let s = 0; s < n; s++) b[c * n + s]! /= p;
      } else if (a[r * n + c] !== 0) {
        const f = -a[r * n + c]! / a[c * n + c]!;
        for (let s = c; s < n; s++) a[r * n + s] = a[r * n + s]! + f * a[c * n + s]!;
        for (let s = 0; s < n; s++) b[r * n + s] = b[r * n + s]! + f * b[c * n + s]!;
      }
    }
  }
  return b;
}

// Up to this size cofactors come from minors, exact for singular matrices too; above it from det·inv.
const COFACTOR_BY_MINORS_MAX_N = 8;

const toScalar = (): Shape => SCALAR;

const NORM_AT_ZERO: SpecialPoint = {
  kind: 'kink',
  convention: 'norm at the zero vector: the derivative is taken as 0',
};
const NORM_BELOW_ONE: SpecialPoint = {
  kind: 'kink',
  convention: 'norm(x, p) with p < 1 at a zero entry: its derivative is taken as 0',
};

// Entries whose square (or p-th power) underflowed lost less than 2^-1074 each: under 2^-114 of a sum this large.
const UNDERFLOW_SAFE = 2 ** -960;

const power = (a: number, p: number): number => (p === 2 ? a * a : Math.pow(a, p));
const root = (s: number, p: number): number => (p === 2 ? Math.sqrt(s) : Math.pow(s, 1 / p));

/**
 * ‖x‖_p. Summed as mathjs sums it where that is exact enough; where the sum
 * underflows or overflows, rescaled by the largest magnitude as hypot is,
 * so that norm([1e-200, 1e-200]) is 1.414e-200 and not 0.
 */
function pNorm(v: Float64Array, x: Operand, p: number): number {
  let sum = 0;
  for (let k = 0; k < x.size; k++) sum += power(Math.abs(v[x.offset + k]!), p);
  if (Number.isNaN(sum) || (sum >= UNDERFLOW_SAFE && sum < Infinity)) return root(sum, p);
  let scale = 0;
  for (let k = 0; k < x.size; k++) scale = Math.max(scale, Math.abs(v[x.offset + k]!));
  if (scale === 0 || scale === Infinity) return scale;
  let scaled = 0;
  for (let k = 0; k < x.size; k++) scaled += power(Math.abs(v[x.offset + k]!) / scale, p);
  return scale * root(scaled, p);
}

function hasZero(v: Float64Array, x: Operand): boolean {
  for (let k = 0; k < x.size; k++) if (v[x.offset + k] === 0) return true;
  return false;
}

const FINITE = 0;
const FINITE_WITH_ZEROS = 1;
const NOT_FINITE = 2;

/** Whether the entries are all finite, and whether some are zeros (terms a product kernel skips). */
function scanEntries(v: Float64Array, x: Operand): number {
  let zeros = false;
  for (let k = x.offset; k < x.offset + x.size; k++) {
    const e = v[k]!;
    // e − e is 0 for a finite e and NaN otherwise.
    if (e - e !== 0) return NOT_FINITE;
    if (e === 0) zeros = true;
  }
  return zeros ? FINITE_WITH_ZEROS : FINITE;
}

/** Entry (i, j) of the product of row-major A (·×p) and B (p×c), every term added in order from −0. */
function dot(v: Float64Array, a: Operand, b: Operand, i: number, j: number, p: number, c: number): number {
  let sum = -0;
  for (let k = 0; k < p; k++) sum += v[a.offset + i * p + k]! * v[b.offset + k * c + j]!;
  return sum;
}

export const LINALG: Record<ReductionName, OpSpec> = {
  sum: {
    label: 'sum',
    arity: 1,
    shape: toScalar,
    value(v, out, [a]) {
      // From -0, the identity of + that keeps the sign of a zero (as mathjs's sums do), in blocks (sums.ts).
      v[out.offset] = sumOfEntries(v, a!.offset, a!.size);
    },
    partial: (b) => row(b.scalar(1)),
  },
  prod: {
    label: 'prod',
    arity: 1,
    shape: toScalar,
    value(v, out, [a]) {
      let p = 1;
      for (let k = 0; k < a!.size; k++) p *= v[a!.offset + k]!;
      v[out.offset] = p;
    },
    partial: (b, _i, node) => row(b.apply('prodOthers', node.args)),
  },
  /** Entry k: the product of all other entries (exact with zeros, unlike prod/x). */
  prodOthers: {
    label: 'prodOthers',
    arity: 1,
    shape: (args) => args[0]!,
    value(v, out, [a]) {
      const n = a!.size;
      let prefix = 1;
      for (let k = 0; k < n; k++) {
        v[out.offset + k] = prefix;
        prefix *= v[a!.offset + k]!;
      }
      let suffix = 1;
      for (let k = n - 1; k >= 0; k--) {
        v[out.offset + k]! *= suffix;
        suffix *= v[a!.offset + k]!;
      }
    },
    partial: (b, _i, node) => dense(b.apply('prodPairs', node.args)),
  },
  /** Entry (k, j): the product of all entries but k and j; 0 on the diagonal. */
  prodPairs: {
    label: 'prodPairs',
    arity: 1,
    shape: (args) => [sizeOf(args[0]!), sizeOf(args[0]!)],
    value(v, out, [a]) {
      const n = a!.size;
      for (let k = 0; k < n; k++) {
        for (let j = 0; j < n; j++) {
          let p = 1;
          if (j !== k) for (let i = 0; i < n; i++) if (i !== k && i !== j) p *= v[a!.offset + i]!;
          v[out.offset + k * n + j] = j === k ? 0 : p;
        }
      }
    },
    partial: () => unsupported('third derivatives of prod'),
  },
  /** Vectors, or n×1 column matrices as mathjs's dot also takes, of one length. */
  dot: {
    label: 'dot',
    arity: 2,
    shape([a, b]) {
      const length = (s: Shape): number => (isVector(s) ? s[0] : isMatrix(s) && s[1] === 1 ? s[0] : -1);
      if (length(a!) < 0 || length(a!) !== length(b!)) {
        throw new ShapeError(
          `cannot take the dot product of ${describeShape(a!)} and ${describeShape(b!)}: ` +
            'it needs two vectors (or n×1 column matrices) of one length',
        );
      }
      return SCALAR;
    },
    value(v, out, [a, b]) {
      let s = -0;
      for (let k = 0; k < a!.size; k++) s += v[a!.offset + k]! * v[b!.offset + k]!;
      v[out.offset] = s;
    },
    // The other operand, in this one's shape (a vector and a column differ in shape, not in entries).
    partial: (b, i, node) =>
      row(b.apply('reshape', [node.args[1 - i]!], { kind: 'reshape', shape: b.shapeOf(node.args[i]!) })),
  },
  /** Euclidean norm of all entries; its derivative at the zero vector is taken as 0 (SPEC §6). */
  norm2: {
    label: 'norm',
    arity: 1,
    shape: toScalar,
    value(v, out, [a]) {
      v[out.offset] = pNorm(v, a!, 2);
    },
    // x/‖x‖ is bounded by 1 whatever the scale of x, once ‖x‖ itself neither underflows nor overflows. The
    // `where` acts at the zero vector only, where the gradient jumps: no second derivative to keep there.
    partial(b, _i, node) {
      const A = algebra(b);
      return row(A.where(A.isZero(node.out), A.c(0), A.div(node.args[0]!, node.out)));
    },
    special(v, out, _args, found) {
      if (v[out.offset] === 0) found(0, NORM_AT_ZERO);
    },
  },
  /** norm(x, p) for p other than 1, 2 and ±Infinity: (Σ|xₖ|^p)^(1/p), with p a scalar. */
  normP: {
    label: 'norm',
    arity: 2,
    shape([, p]) {
      if (!isScalar(p!)) throw new ShapeError(`norm(x, p) needs a scalar p, got ${describeShape(p!)}`);
      return SCALAR;
    },
    value(v, out, [x, p]) {
      v[out.offset] = pNorm(v, x!, v[p!.offset]!);
    },
    partial(b, i, node) {
      const A = algebra(b);
      const [x, p] = [node.args[0]!, node.args[1]!];
      const y = node.out;
      // uₖ = |xₖ|/y ≤ 1 at any scale. ∂y/∂xₖ = sign(xₖ)·uₖ^(p-1), exactly 0 for a zero entry (and so at
      // the zero vector, SPEC §6); ∂y/∂p = (y/p)·Σ uₖ^p·log uₖ, with 0·log 0 = 0.
      const u = A.div(A.abs(x), y);
      if (i === 0) return row(A.strongMul(A.call('sign', x), A.call('pow', u, A.sub(p, A.c(1)))));
      return elementwise(A.strongMul(A.div(y, p), A.call('sum', A.strongMul(A.call('pow', u, p), A.log(u)))));
    },
    special(v, out, [x, p], found) {
      if (v[out.offset] === 0) found(0, NORM_AT_ZERO);
      else if (v[p!.offset]! < 1 && hasZero(v, x!)) found(0, NORM_BELOW_ONE);
    },
  },
  /** Matrix product of two matrices (the lowerer turns vectors into 1-row or 1-column matrices). */
  matmul: {
    label: '*',
    arity: 2,
    shape([a, b]) {
      if (!isMatrix(a!) || !isMatrix(b!) || a[1] !== b[0]) {
        throw new ShapeError(
          `cannot multiply ${describeShape(a!)} by ${describeShape(b!)}: the columns of the left must equal the rows of the right`,
        );
      }
      return [a[0], b[1]];
    },
    value(v, out, [a, b]) {
      const [r, p] = a!.shape as readonly [number, number];
      const c = out.size / r;
      const entries = Math.max(scanEntries(v, a!), scanEntries(v, b!));
      if (entries !== FINITE_WITH_ZEROS) {
        // Every term counts (0·∞ is NaN), or no term is a zero to skip: the dense kernel, the plain loop's numbers.
        denseProduct(v, a!.offset, v, b!.offset, v, out.offset, r, p, c);
        return;
      }
      v.fill(-0, out.offset, out.offset + out.size);
      // Between finite factors a skipped zero term is ±0: it changes only the sign of a zero sum, restored below.
      const layout = (m: Operand, cols: number): MatrixLayout => ({ offset: m.offset, rowStride: cols, colStride: 1 });
      addProduct(v, layout(a!, p), v, layout(b!, c), v, layout(out, c), r, p, c);
      for (let e = 0; e < out.size; e++) {
        const x = v[out.offset + e]!;
        if (x === 0 && 1 / x < 0) v[out.offset + e] = dot(v, a!, b!, Math.floor(e / c), e % c, p, c);
      }
    },
    partial: (_b, i, node) => (i === 0 ? matmulPartial(null, node.args[1]!) : matmulPartial(node.args[0]!, null)),
  },
  det: {
    label: 'det',
    arity: 1,
    shape([a]) {
      squareMatrix('det', a!);
      return SCALAR;
    },
    value(v, out, [a]) {
      const n = a!.shape[0]!;
      v[out.offset] = determinant(v.slice(a!.offset, a!.offset + n * n), n);
    },
    partial: (b, _i, node) => row(b.apply('cofactor', node.args)),
  },
  /** C[i,j] = ∂det/∂X[i,j] = (-1)^(i+j)·det(X without row i and column j). */
  cofactor: {
    label: 'cofactor',
    arity: 1,
    shape: ([a]) => [squareMatrix('cofactor', a!), squareMatrix('cofactor', a!)],
    value(v, out, [a]) {
      const n = a!.shape[0]!;
      if (n <= COFACTOR_BY_MINORS_MAX_N) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const sign = (i + j) % 2 === 0 ? 1 : -1;
            v[out.offset + i * n + j] = sign * minorDeterminant(v, a!.offset, n, [i], [j]);
          }
        }
        return;
      }
      const x = v.subarray(a!.offset, a!.offset + n * n);
      const inverse = invert(x, n);
      const det = determinant(x.slice(), n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) v[out.offset + i * n + j] = det * inverse[j * n + i]!;
    },
    partial: (b, _i, node) => dense(b.apply('cofactorJacobian', node.args)),
  },
  /** ∂C[i,j]/∂X[k,l]: the second derivatives of det, from minors without two rows and two columns. */
  cofactorJacobian: {
    label: 'cofactorJacobian',
    arity: 1,
    shape([a]) {
      const n = squareMatrix('cofactorJacobian', a!);
      return [n * n, n * n];
    },
    value(v, out, [a]) {
      const n = a!.shape[0]!;
      const nn = n * n;
      if (n > COFACTOR_BY_MINORS_MAX_N) {
        // As the cofactors themselves at this size: from Y = X⁻¹, since C[i,j] = det·Y[j,i] gives
        // ∂C[i,j]/∂X[k,l] = det·(Y[l,k]·Y[j,i] − Y[j,k]·Y[l,i]): O(n⁴), where n⁴ minors cost O(n⁷).
        // Where i = k or j = l the two products are the same numbers, so the entry is exactly 0, as a minor's is.
        const x = v.subarray(a!.offset, a!.offset + nn);
        const y = invert(x, n);
        const det = determinant(x.slice(), n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            const yji = y[j * n + i]!;
            const row = out.offset + (i * n + j) * nn;
            for (let k = 0; k < n; k++) {
              const yjk = y[j * n + k]!;
              for (let l = 0; l < n; l++) v[row + k * n + l] = det * (y[l * n + k]! * yji - yjk * y[l * n + i]!);
            }
          }
        return;
      }
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          for (let k = 0; k < n; k++)
            for (let l = 0; l < n; l++) {
              let entry = 0;
              if (i !== k && j !== l) {
                const sign = ((i + j + k + l) % 2 === 0 ? 1 : -1) * (k > i ? 1 : -1) * (l > j ? 1 : -1);
                entry = sign * minorDeterminant(v, a!.offset, n, [i, k], [j, l]);
              }
              v[out.offset + (i * n + j) * nn + k * n + l] = entry;
            }
    },
    partial: () => unsupported('third derivatives of det'),
  },
  inv: {
    label: 'inv',
    arity: 1,
    shape([a]) {
      const n = squareMatrix('inv', a!);
      return [n, n];
    },
    value(v, out, [a]) {
      const n = a!.shape[0]!;
      v.set(invert(v.subarray(a!.offset, a!.offset + n * n), n), out.offset);
    },
    // d(X⁻¹) = -X⁻¹ · dX · X⁻¹
    partial: (b, _i, node) => matmulPartial(b.apply('unaryMinus', [node.out]), node.out),
    special(v, out, _args, found) {
      for (let k = 0; k < out.size; k++) {
        if (!Number.isFinite(v[out.offset + k]!)) {
          found(k, {
            kind: 'domain',
            convention: 'the matrix is singular: its inverse and the derivative are not finite',
          });
        }
      }
    },
  },
};
