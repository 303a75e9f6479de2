/**
 * Matrix products of the matmul and dense partials, and the rule every
 * kernel follows: an exact zero on either side of a product contributes
 * exactly nothing (SPEC §6), so a structural zero never meets an infinite or
 * NaN partial.
 */
import type { Operand } from '../../ops/index.js';
import { asRowMajor } from '../../shape.js';

/** a·b, but exactly 0 when either is exactly 0: never 0·∞ = NaN. */
export const times = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : a * b);

/** Where entry (i, j) of a matrix sits in a buffer: offset + i·rowStride + j·colStride. */
export interface MatrixLayout {
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** An operand read as a row-major matrix (a vector as one row). */
export function rowMajor(m: Operand): MatrixLayout {
  return { offset: m.offset, rowStride: asRowMajor(m.shape)[1], colStride: 1 };
}

/** The same entries read as the transposed matrix. */
export function transposed(m: MatrixLayout): MatrixLayout {
  return { offset: m.offset, rowStride: m.colStride, colStride: m.rowStride };
}

/** A column of `size` entries (m×1) starting at `offset`. */
export const column = (offset: number): MatrixLayout => ({ offset, rowStride: 1, colStride: 1 });

/**
 * dst(i, j) += Σₖ left(i, k)·right(k, j) for a rows×inner left factor and an
 * inner×cols right factor; dst is row-major at `out`. One factor is the
 * carried (co)tangent, the other the partial's values.
 */
export interface Product {
  readonly left: MatrixLayout;
  readonly right: MatrixLayout;
  readonly out: number;
  readonly rows: number;
  readonly inner: number;
  readonly cols: number;
  /** The factor read from the carried buffer: the loops visit its nonzeros only. */
  readonly carried: 'left' | 'right';
}

/** Runs `p` with the partial's values in `values` and the (co)tangent in `carried`, into `dst`. */
export function productAccumulate(p: Product, values: Float64Array, carried: Float64Array, dst: Float64Array): void {
  const { rows, inner, cols, out } = p;
  const { offset: aAt, rowStride: aRs, colStride: aCs } = p.left;
  const { offset: bAt, rowStride: bRs, colStride: bCs } = p.right;
  if (p.carried === 'left') {
    const A = carried;
    const B = values;
    for (let i = 0; i < rows; i++) {
      for (let k = 0; k < inner; k++) {
        const a = A[aAt + i * aRs + k * aCs]!;
        if (a === 0) continue;
        for (let j = 0; j < cols; j++) {
          const b = B[bAt + k * bRs + j * bCs]!;
          if (b !== 0) dst[out + i * cols + j]! += a * b;
        }
      }
    }
  } else {
    const A = values;
    const B = carried;
    for (let k = 0; k < inner; k++) {
      for (let j = 0; j < cols; j++) {
        const b = B[bAt + k * bRs + j * bCs]!;
        if (b === 0) continue;
        for (let i = 0; i < rows; i++) {
          const a = A[aAt + i * aRs + k * aCs]!;
          if (a !== 0) dst[out + i * cols + j]! += a * b;
        }
      }
    }
  }
}

/**
 * Runs a pass's products: one straight from `buffer` back into it, or two
 * through `scratch` (cleared first), which holds the middle product.
 */
export function runProducts(
  products: readonly Product[],
  v: Float64Array,
  buffer: Float64Array,
  scratch: Float64Array,
): void {
  const [first, second] = products;
  if (second === undefined) {
    productAccumulate(first!, v, buffer, buffer);
    return;
  }
  scratch.fill(0, 0, first!.rows * first!.cols);
  productAccumulate(first!, v, buffer, scratch);
  productAccumulate(second, v, scratch, buffer);
}

/** Scratch entries a pass's products need: the middle product, if there is one. */
export const middleSize = (products: readonly Product[]): number =>
  products.length === 2 ? products[0]!.rows * products[0]!.cols : 0;
