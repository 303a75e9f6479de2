/**
 * Results as other programs read them: CSV and TSV (spreadsheets, pandas),
 * Markdown (notes), LaTeX (a bmatrix), and a mathjs literal that
 * `math.evaluate` reads back. Every result is first seen as a labelled grid.
 */
import { UserError } from '../errors.js';
import { chunked, chunkedLines } from './chunks.js';
import { denseMatrix, entryReader, isDiagonal, isSparse, type Entries } from './dense.js';
import { joinedNumbers } from './joined.js';
import { columnLabels, entryLabels } from './labels.js';
import { exactNumber as exact, formatNumber } from './number.js';
import type { Report } from './report.js';

export type GridFormat = 'csv' | 'tsv' | 'markdown' | 'latex' | 'mathjs';

/** A result as a grid: labels (rows may have none: a single row), entries row-major. */
interface LabelledGrid {
  readonly rowLabels: readonly string[] | null;
  readonly colLabels: readonly string[];
  readonly data: Entries;
  /** The grid is a vector: mathjs writes it as a flat list. */
  readonly vector: boolean;
}

// A printing limit: sparse results are laid out densely for these formats up to this many entries.
const MAX_PRINTED_GRID_ENTRIES = 10_000_000;

function gridOf(report: Report): LabelledGrid {
  const inputs = columnLabels(report.inputs);
  const outputs = entryLabels('f', report.value.shape);
  switch (report.command) {
    case 'jacobian':
    case 'hessian': {
      const { matrix } = report;
      const rowLabels = report.command === 'hessian' ? inputs : outputs;
      if (!isSparse(matrix)) return { rowLabels, colLabels: inputs, data: matrix, vector: false };
      if (matrix.m * matrix.n > MAX_PRINTED_GRID_ENTRIES) {
        const what = report.command === 'hessian' ? 'Hessian' : 'Jacobian';
        throw new UserError(
          `a sparse ${matrix.m}×${matrix.n} ${what} is too large to lay out as a grid: use --json or --format mtx`,
        );
      }
      return { rowLabels, colLabels: inputs, data: denseMatrix(matrix), vector: false };
    }
    case 'jvp':
      return { rowLabels: outputs, colLabels: ['J·u'], data: report.vector, vector: true };
    case 'vjp':
    case 'grad':
    case 'hvp':
      return { rowLabels: null, colLabels: inputs, data: report.vector, vector: true };
    case 'check':
      throw new UserError('check reports errors, not a matrix: use the table or --json');
  }
}

/** RFC 4180: a cell holding the separator (as W[2,3] does in CSV) or a quote is quoted. */
export const delimitedCell = (text: string, separator: ',' | '\t'): string =>
  text.includes(separator) || text.includes('"') ? `"${text.replace(/"/g, '""')}"` : text;

function* delimited(grid: LabelledGrid, separator: ',' | '\t'): Generator<string> {
  const cell = (text: string) => delimitedCell(text, separator);
  const { data } = grid;
  const cols = grid.colLabels.length;
  const entry = entryReader(data);
  const separatorCode = separator.charCodeAt(0);
  // A row's numbers: a diagonal J's entry by entry, a dense one's joined as bytes.
  const rowNumbers = isDiagonal(data)
    ? (i: number) => Array.from({ length: cols }, (_, j) => exact(entry(i * cols + j))).join(separator)
    : (i: number) => joinedNumbers(data, i * cols, cols, 1, separatorCode, exact);
  yield [...(grid.rowLabels === null ? [] : ['output']), ...grid.colLabels].map(cell).join(separator);
  const rows = grid.rowLabels?.length ?? 1;
  for (let i = 0; i < rows; i++) {
    const numbers = rowNumbers(i);
    yield grid.rowLabels === null ? numbers : `${cell(grid.rowLabels[i]!)}${separator}${numbers}`;
  }
}

function* markdown(grid: LabelledGrid, precision: number): Generator<string> {
  const entry = entryReader(grid.data);
  const cols = grid.colLabels.length;
  const head = [...(grid.rowLabels === null ? [] : ['']), ...grid.colLabels];
  yield `| ${head.join(' | ')} |`;
  yield `|${head.map((_, k) => (k === 0 && grid.rowLabels !== null ? '---' : '---:')).join('|')}|`;
  const rows = grid.rowLabels?.length ?? 1;
  for (let i = 0; i < rows; i++) {
    const numbers = Array.from({ length: cols }, (_, j) => formatNumber(entry(i * cols + j), precision));
    yield `| ${[...(grid.rowLabels === null ? [] : [grid.rowLabels[i]!]), ...numbers].join(' | ')} |`;
  }
}

function latexNumber(x: number, precision: number): string {
  if (Number.isNaN(x)) return '\\mathrm{NaN}';
  if (!Number.isFinite(x)) return x > 0 ? '\\infty' : '-\\infty';
  const [mantissa, exponent] = formatNumber(x, precision).split('e') as [string, string | undefined];
  return exponent === undefined ? mantissa : `${mantissa} \\times 10^{${Number(exponent)}}`;
}

function* latex(grid: LabelledGrid, precision: number): Generator<string> {
  const entry = entryReader(grid.data);
  const cols = grid.colLabels.length;
  const rows = grid.rowLabels?.length ?? 1;
  yield '\\begin{bmatrix}\n';
  for (let i = 0; i < rows; i++) {
    const numbers = Array.from({ length: cols }, (_, j) => latexNumber(entry(i * cols + j), precision));
    yield `  ${numbers.join(' & ')}${i < rows - 1 ? ' \\\\' : ''}\n`;
  }
  yield '\\end{bmatrix}\n';
}

function* mathjs(grid: LabelledGrid): Generator<string> {
  const entry = entryReader(grid.data);
  const cols = grid.colLabels.length;
  const rows = grid.rowLabels?.length ?? 1;
  if (grid.vector) {
    yield '[';
    for (let k = 0; k < rows * cols; k++) yield `${k > 0 ? ', ' : ''}${exact(entry(k))}`;
    yield ']\n';
    return;
  }
  yield '[';
  for (let i = 0; i < rows; i++)
    yield `${i > 0 ? ', ' : ''}[${Array.from({ length: cols }, (_, j) => exact(entry(i * cols + j))).join(', ')}]`;
  yield ']\n';
}

/** A result in one of the grid formats, in chunks: rows are formatted as they are written. */
export function formatGrid(report: Report, format: GridFormat, precision: number): Iterable<string> {
  const grid = gridOf(report);
  switch (format) {
    case 'csv':
      return chunkedLines(delimited(grid, ','));
    case 'tsv':
      return chunkedLines(delimited(grid, '\t'));
    case 'markdown':
      return chunkedLines(markdown(grid, precision));
    case 'latex':
      return chunked(latex(grid, precision));
    case 'mathjs':
      return chunked(mathjs(grid));
  }
}
