/** The plain product the kernels match, for the product tests. */
import type { MatrixLayout } from '../../src/ops/product-kernel.js';

/**
 * d(D) += a(A)·b(B) for A R×K and B K×C, entry by entry: each sum from D's entry over ascending k, every term
 * with an exact zero on either side skipped (so 0·∞ adds nothing), as the kernels give to the last bit.
 */
export function plainProduct(
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  [R, K, C]: readonly [number, number, number],
): void {
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < C; j++) {
      const at = D.offset + i * D.rowStride + j * D.colStride;
      let sum = d[at]!;
      for (let k = 0; k < K; k++) {
        const x = a[A.offset + i * A.rowStride + k * A.colStride]!;
        const y = b[B.offset + k * B.rowStride + j * B.colStride]!;
        if (x !== 0 && y !== 0) sum += x * y;
      }
      d[at] = sum;
    }
  }
}

/** A matrix in a buffer, as the kernels read it. */
export interface StoredMatrix {
  readonly buffer: Float64Array;
  readonly layout: MatrixLayout;
}

/**
 * An r×c matrix by rows or by columns at `at` in a buffer of `size` entries padded with 7s (which a kernel must
 * neither read as an entry nor write), entry (i, j) = entry(i, j).
 */
export function storedMatrix(
  r: number,
  c: number,
  byColumns: boolean,
  at: number,
  entry: (i: number, j: number) => number,
  size = at + r * c + 3,
): StoredMatrix {
  const layout: MatrixLayout = byColumns
    ? { offset: at, rowStride: 1, colStride: r }
    : { offset: at, rowStride: c, colStride: 1 };
  const buffer = new Float64Array(size).fill(7);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < c; j++) buffer[at + i * layout.rowStride + j * layout.colStride] = entry(i, j);
  return { buffer, layout };
}

/** D's buffer as the plain product leaves it (D itself untouched): what a kernel run on D must give, bit for bit. */
export function plainResult(
  A: StoredMatrix,
  B: StoredMatrix,
  D: StoredMatrix,
  shape: readonly [number, number, number],
): Float64Array {
  const expected = D.buffer.slice();
  plainProduct(A.buffer, A.layout, B.buffer, B.layout, expected, D.layout, shape);
  return expected;
}
