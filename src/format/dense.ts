/**
 * How a matrix result is read entry by entry, in each of its forms: dense row-major, a diagonal J kept as its
 * diagonal, or sparse (coordinates). Formatters read entries through here, so a new form fails tsc here first.
 */
import { denseDiagonal } from '../engine/diagonal.js';
import type { DiagonalJacobian, MatrixReport, SparseJacobian } from './report.js';

/** A matrix result in any of its forms. */
export type Matrix = MatrixReport['matrix'];

/** Numbers row-major (a vector, a dense matrix) or a diagonal matrix: what a grid of entries reads. */
export type Entries = ArrayLike<number> | DiagonalJacobian;

export const isSparse = (matrix: Matrix): matrix is SparseJacobian => 'rows' in matrix;

export const isDiagonal = (entries: Entries): entries is DiagonalJacobian => 'diagonal' in entries;

/** Entry k (row·columns + column) of the entries: a diagonal's are zero but at k = i·(n + 1). */
export function entryReader(entries: Entries): (k: number) => number {
  if (!isDiagonal(entries)) return (k) => entries[k]!;
  const { n, diagonal } = entries;
  return (k) => (k % (n + 1) === 0 ? diagonal[k / (n + 1)]! : 0);
}

/** The m×n matrix, row-major, zero outside the stored entries. */
export function denseMatrix(matrix: SparseJacobian): Float64Array {
  const dense = new Float64Array(matrix.m * matrix.n);
  for (let k = 0; k < matrix.values.length; k++)
    dense[matrix.rows[k]! * matrix.n + matrix.cols[k]!] = matrix.values[k]!;
  return dense;
}

/** Any form laid out dense, row-major: for a reader of every entry by index (NumPy's file, a batch's row). */
export function denseOf(matrix: Matrix): Float64Array {
  if (matrix instanceof Float64Array) return matrix;
  return isSparse(matrix) ? denseMatrix(matrix) : denseDiagonal(matrix);
}
