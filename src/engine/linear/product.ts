/**
 * Matrix products of the matmul and dense partials, and the rule every
 * kernel follows: an exact zero on either side of a product contributes
 * exactly nothing (SPEC §6), so a structural zero never meets an infinite or
 * NaN partial.
 */
import type { Operand } from '../../ops/index.js';
import { addProduct, transposed, type MatrixLayout } from '../../ops/product-kernel.js';
import { asRowMajor } from '../../shape.js';
import type { Accumulator } from './types.js';

/** a·b, but exactly 0 when either is exactly 0: never 0·∞ = NaN. */
export const times = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : a * b);

/** acc[k] += a·b, where an exact zero on either side adds nothing (not even an entry to a sparse row). */
export function addTimes(acc: Accumulator, k: number, a: number, b: number): void {
  if (a !== 0 && b !== 0) acc.add(k, a * b);
}

export { transposed, type MatrixLayout };

/** An operand read as a row-major matrix (a vector as one row). */
export function rowMajor(m: Operand): MatrixLayout {
  return { offset: m.offset, rowStride: asRowMajor(m.shape)[1], colStride: 1 };
}

/** A column vector (n×1) starting at `offset`. */
export const column = (offset: number): MatrixLayout => ({ offset, rowStride: 1, colStride: 1 });

/**
 * dst(i, j) += Σₖ carried(i, k)·values(k, j): a rows×inner factor read from
 * the carried (co)tangent, whose nonzeros alone the loops visit, times an
 * inner×cols factor of the partial's values.
 */
export interface Product {
  readonly carried: MatrixLayout;
  readonly values: MatrixLayout;
  readonly out: MatrixLayout;
  readonly rows: number;
  readonly inner: number;
  readonly cols: number;
}

/**
 * The product out += left·right (rows×inner times inner×cols, out row-major at
 * `out`) with the (co)tangent on the side `carried`; a product carried on the
 * right is run as its transpose, outᵀ += rightᵀ·leftᵀ.
 */
export function product(
  left: MatrixLayout,
  right: MatrixLayout,
  out: number,
  [rows, inner, cols]: readonly [number, number, number],
  carried: 'left' | 'right',
): Product {
  const dst = { offset: out, rowStride: cols, colStride: 1 };
  if (carried === 'left') return { carried: left, values: right, out: dst, rows, inner, cols };
  return {
    carried: transposed(right),
    values: transposed(left),
    out: transposed(dst),
    rows: cols,
    inner,
    cols: rows,
  };
}

/** Runs `p` with the partial's values in `values` and the (co)tangent in `carried`, into `dst`. */
export function productAccumulate(p: Product, values: Float64Array, carried: Float64Array, dst: Float64Array): void {
  addProduct(carried, p.carried, values, p.values, dst, p.out, p.rows, p.inner, p.cols);
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
