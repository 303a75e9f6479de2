/** A sparse result laid out densely, for the formats that show every entry. */
import type { SparseJacobian } from './report.js';

/** The m×n matrix, row-major, zero outside the stored entries. */
export function denseMatrix(matrix: SparseJacobian): Float64Array {
  const dense = new Float64Array(matrix.m * matrix.n);
  for (let k = 0; k < matrix.values.length; k++)
    dense[matrix.rows[k]! * matrix.n + matrix.cols[k]!] = matrix.values[k]!;
  return dense;
}
