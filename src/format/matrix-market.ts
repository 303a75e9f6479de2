/**
 * MatrixMarket text (https://math.nist.gov/MatrixMarket/formats.html), which
 * SciPy's mmread, Julia's MatrixMarket.jl and MATLAB read: a sparse J in
 * coordinate form (1-based), a dense one in array form (column by column).
 */
import { CHUNK_CHARACTERS, chunked } from './chunks.js';
import { exactNumber as number } from './number.js';
import { entryReader, isDiagonal, isSparse } from './dense.js';
import { joinedNumbers } from './joined.js';
import type { MatrixReport } from './report.js';

const NEWLINE = 0x0a;
/** Lines made as one piece: a tall J's column is written in pieces, never held whole. */
const PIECE_ENTRIES = 8192;

/** The MatrixMarket text of J or H, in chunks: the entries are formatted as they are written. */
export function formatMatrixMarket(report: MatrixReport): Iterable<string> {
  return chunked(matrixMarketPieces(report));
}

/** The text as pieces of whole lines, each ended by a newline, of about CHUNK_CHARACTERS each. */
function* matrixMarketPieces(report: MatrixReport): Generator<string> {
  const what =
    report.command === 'jacobian'
      ? `J = d(${report.title})/d(${report.wrt.join(', ')})`
      : `H = d2(${report.title})/d(${report.wrt.join(', ')})2`;
  const [rows, cols] = report.command === 'jacobian' ? [report.m, report.n] : [report.n, report.n];
  const { matrix } = report;
  const dense = !isSparse(matrix);
  yield `%%MatrixMarket matrix ${dense ? 'array' : 'coordinate'} real general\n`;
  yield `% ${what.replace(/\n/g, ' ')}\n`;
  const axes = report.command === 'jacobian' ? 'rows: outputs, columns: inputs' : 'rows and columns: inputs';
  yield `% ${axes} (${report.wrt.join(', ')} flattened row-major)\n`;
  if (dense) {
    yield `${rows} ${cols}\n`;
    if (!isDiagonal(matrix)) {
      // A column at a time, a line per entry, in pieces of at most PIECE_ENTRIES lines.
      for (let j = 0; j < cols; j++)
        for (let i = 0; i < rows; i += PIECE_ENTRIES) {
          const count = Math.min(PIECE_ENTRIES, rows - i);
          yield `${joinedNumbers(matrix, i * cols + j, count, cols, NEWLINE, number)}\n`;
        }
      return;
    }
    const entry = entryReader(matrix);
    let text = '';
    for (let j = 0; j < cols; j++)
      for (let i = 0; i < rows; i++) {
        text += `${number(entry(i * cols + j))}\n`;
        if (text.length >= CHUNK_CHARACTERS) {
          yield text;
          text = '';
        }
      }
    if (text !== '') yield text;
    return;
  }
  const { values } = matrix;
  yield `${rows} ${cols} ${values.length}\n`;
  // Entries come row by row, and a symmetric H's a(i,j) often follows its equal a(j,i): a row or a value the same
  // as the line before reuses its text (NaN, never equal, is formatted each time).
  let row = -1;
  let rowText = '';
  let value = NaN;
  let valueText = '';
  let text = '';
  for (let k = 0; k < values.length; k++) {
    if (matrix.rows[k] !== row) {
      row = matrix.rows[k]!;
      rowText = `${row + 1} `;
    }
    if (values[k] !== value) {
      value = values[k]!;
      valueText = number(value);
    }
    text += `${rowText}${matrix.cols[k]! + 1} ${valueText}\n`;
    if (text.length >= CHUNK_CHARACTERS) {
      yield text;
      text = '';
    }
  }
  if (text !== '') yield text;
}
