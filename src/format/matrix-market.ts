/**
 * MatrixMarket text (https://math.nist.gov/MatrixMarket/formats.html), which
 * SciPy's mmread, Julia's MatrixMarket.jl and MATLAB read: a sparse J in
 * coordinate form (1-based), a dense one in array form (column by column).
 */
import { chunkedLines } from './chunks.js';
import { exactNumber as number } from './number.js';
import type { MatrixReport } from './report.js';

/** The MatrixMarket text of J or H, in chunks: the entries are formatted as they are written. */
export function formatMatrixMarket(report: MatrixReport): Iterable<string> {
  return chunkedLines(matrixMarketLines(report));
}

function* matrixMarketLines(report: MatrixReport): Generator<string> {
  const what =
    report.command === 'jacobian'
      ? `J = d(${report.title})/d(${report.wrt.join(', ')})`
      : `H = d2(${report.title})/d(${report.wrt.join(', ')})2`;
  const [rows, cols] = report.command === 'jacobian' ? [report.m, report.n] : [report.n, report.n];
  const { matrix } = report;
  const dense = matrix instanceof Float64Array;
  yield `%%MatrixMarket matrix ${dense ? 'array' : 'coordinate'} real general`;
  yield `% ${what.replace(/\n/g, ' ')}`;
  yield `% rows: outputs, columns: inputs (${report.wrt.join(', ')} flattened row-major)`;
  if (dense) {
    yield `${rows} ${cols}`;
    for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) yield number(matrix[i * cols + j]!);
    return;
  }
  yield `${rows} ${cols} ${matrix.values.length}`;
  for (let k = 0; k < matrix.values.length; k++)
    yield `${matrix.rows[k]! + 1} ${matrix.cols[k]! + 1} ${number(matrix.values[k]!)}`;
}
