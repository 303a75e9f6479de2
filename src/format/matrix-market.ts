/**
 * MatrixMarket text (https://math.nist.gov/MatrixMarket/formats.html), which
 * SciPy's mmread, Julia's MatrixMarket.jl and MATLAB read: a sparse J in
 * coordinate form (1-based), a dense one in array form (column by column).
 */
import { nonFiniteText } from './number.js';
import type { MatrixReport } from './report.js';

const number = (x: number): string => (Number.isFinite(x) ? String(x) : nonFiniteText(x));

export function formatMatrixMarket(report: MatrixReport): string {
  const what =
    report.command === 'jacobian'
      ? `J = d(${report.title})/d(${report.wrt.join(', ')})`
      : `H = d2(${report.title})/d(${report.wrt.join(', ')})2`;
  const [rows, cols] = report.command === 'jacobian' ? [report.m, report.n] : [report.n, report.n];
  const { matrix } = report;
  const comment =
    `% ${what.replace(/\n/g, ' ')}\n` +
    `% rows: outputs, columns: inputs (${report.wrt.join(', ')} flattened row-major)\n`;
  if (matrix instanceof Float64Array) {
    const lines = [`%%MatrixMarket matrix array real general\n${comment}${rows} ${cols}`];
    for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) lines.push(number(matrix[i * cols + j]!));
    return `${lines.join('\n')}\n`;
  }
  const lines = [`%%MatrixMarket matrix coordinate real general\n${comment}${rows} ${cols} ${matrix.values.length}`];
  for (let k = 0; k < matrix.values.length; k++)
    lines.push(`${matrix.rows[k]! + 1} ${matrix.cols[k]! + 1} ${number(matrix.values[k]!)}`);
  return `${lines.join('\n')}\n`;
}
