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
