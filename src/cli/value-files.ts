/**
 * `--at NAME=@FILE`: values from files other tools write. JSON (a number or
 * nested arrays); CSV and TSV, with pandas' header row and index column;
 * text tables as `numpy.savetxt` writes them (space-separated, `#` comments).
 * `@FILE:COLUMN` takes one column of a table, by its header name or number.
 * NumPy's `.npy` files are read as bytes (npy.ts), and `.npz` archives, one
 * array each, as `@data.npz:W` (npz.ts).
 */
import { brief, InputError, UserError } from '../errors.js';
import { plainJsonVector, tensorFromJson, type Tensor } from '../values.js';
import { readFailureReason } from './io.js';
import { readNpy } from './npy.js';
import { readNpz } from './npz.js';

/** Files whose columns `:COLUMN` may pick; `.txt` and `.dat` are what numpy.savetxt and many programs write. */
const TABLE_FILE = /\.(csv|tsv|txt|dat)$/i;

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE: Readonly<Record<string, number>> = {
  nan: NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
};

/** A number as people and programs write it: `1.5e-3`, and NaN and ±Infinity as NumPy and JavaScript spell them. */
export function parseNumber(token: string, what: string): number {
  if (NUMBER.test(token)) return Number(token);
  // Own keys only: a token such as "constructor" must not find Object's properties.
  const special = Object.hasOwn(NON_FINITE, token.toLowerCase()) ? NON_FINITE[token.toLowerCase()] : undefined;
  if (special !== undefined) return special;
  // A cell may be a whole line of a file without separators: its prefix says enough.
  throw new InputError(`${what}: "${brief(token)}" is not a number`);
}

/** How `--at` reads its files: as text, and (for `.npy` and `.npz`) as bytes. */
export interface ValueFileReader {
  readonly text: (path: string) => string;
  readonly bytes: (path: string) => Uint8Array;
}

export function readValueFile(spec: string, what: string, reader: ValueFileReader): Tensor {
  if (/\.npy$/i.test(spec)) return readNpy(readOrSay(spec, what, reader.bytes), `${what} (${spec})`);
  // `data.npz:W` names an array of the archive; a colon before `.npz` is part of the path.
  const npz = /^(.*\.npz)(?::([^:]*))?$/i.exec(spec);
  if (npz !== null) return readNpz(readOrSay(npz[1]!, what, reader.bytes), npz[1]!, npz[2] ?? null, what);
  const { path, column } = splitColumn(spec);
  const content = readOrSay(path, what, reader.text);
  const where = `${what} (${path})`;
  const syntax = column === null ? fileSyntax(path, content) : tableSyntax(path);
  if (syntax !== 'json') return readTable(content, syntax, where, column);
  // A vector of plain numbers, the usual large file, is read from the text directly.
  const plain = plainJsonVector(content);
  if (plain !== null) return plain;
  // Numbers and the strings "NaN", "Infinity" hold no white space: dropping it all leaves the same JSON on one line.
  const json = /\s/.test(content) ? content.replace(/\s+/g, '') : content;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw new InputError(`${what}: ${path} is not valid JSON (${(error as Error).message})`);
  }
  return { ...tensorFromJson(parsed, where), json };
}

/** What `read` returns, or an `error:` line naming the file. */
function readOrSay<T>(path: string, what: string, read: (path: string) => T): T {
  try {
    return read(path);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new InputError(`${what}: cannot read ${path}: ${readFailureReason(error)}`);
  }
}

/** `data.csv:price` names a column; a colon elsewhere is part of the path. */
function splitColumn(spec: string): { path: string; column: string | null } {
  const colon = spec.lastIndexOf(':');
  if (colon > 0 && TABLE_FILE.test(spec.slice(0, colon)))
    return { path: spec.slice(0, colon), column: spec.slice(colon + 1) };
  return { path: spec, column: null };
}

/** `.json`, `.csv` and `.tsv` by name; any other file is JSON when it opens as JSON or is one number, else a table. */
function fileSyntax(path: string, content: string): Syntax | 'json' {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.(csv|tsv)$/i.test(path)) return tableSyntax(path);
  return /^\s*[[{"]/.test(content) || NUMBER.test(content.trim()) ? 'json' : 'text';
}

export type Syntax = 'csv' | 'tsv' | 'text';

const tableSyntax = (path: string): Syntax => (/\.csv$/i.test(path) ? 'csv' : /\.tsv$/i.test(path) ? 'tsv' : 'text');

/** A line of the file: its number (1-based, as an editor shows it) and its cells. */
interface Row {
  readonly line: number;
  readonly cells: readonly string[];
}

/**
 * A table of numbers: one line or one column is a vector, several of each a
 * matrix. A first line that is not all numbers is a header; a header whose
 * first cell is empty (or pandas' `Unnamed: 0`) marks an index column, left out.
 */
function readTable(content: string, syntax: Syntax, where: string, column: string | null): Tensor {
  const { rows, comment } = tableRows(content, syntax);
  if (rows.length === 0) throw new InputError(`${where} has no numbers`);
  // A header holds names only: a line with a number in it is data (and its other cells must be numbers too).
  const header = rows[0]!.cells.some(isNumber) ? null : rows[0]!;
  const data = header === null ? rows : rows.slice(1);
  if (data.length === 0) throw new InputError(`${where} has a header row but no numbers under it`);
  const indexed = header !== null && /^(|Unnamed: 0)$/.test(header.cells[0]!);
  const first = indexed ? 1 : 0;
  const width = (header ?? data[0]!).cells.length;
  for (const row of data) {
    if (row.cells.length !== width) {
      const model = header ?? data[0]!;
      throw new InputError(
        `${where}: line ${row.line} has ${row.cells.length} column${row.cells.length === 1 ? '' : 's'} ` +
          `where line ${model.line} has ${width}`,
      );
    }
  }
  if (column !== null) {
    // numpy.savetxt writes its header as a comment: its names may name the columns too.
    const names = header ?? (comment !== null && comment.cells.length === width ? comment : null);
    const k = columnIndex(names, width, column, where);
    return { shape: [data.length], data: Float64Array.from(data, (row) => cellNumber(row, k, where)) };
  }
  const cols = width - first;
  if (cols === 0) throw new InputError(`${where} has only its index column: no numbers`);
  const numbers = new Float64Array(data.length * cols);
  data.forEach((row, i) => {
    for (let j = 0; j < cols; j++) numbers[i * cols + j] = cellNumber(row, first + j, where);
  });
  if (data.length === 1 || cols === 1) return { shape: [numbers.length], data: numbers };
  return { shape: [data.length, cols], data: numbers };
}

/**
 * The lines that hold cells; blank lines and `#` comments are left out. The
 * comment just above the first of them is kept: numpy writes its header there.
 */
function tableRows(content: string, syntax: Syntax): { rows: Row[]; comment: Row | null } {
  const rows: Row[] = [];
  let comment: Row | null = null;
  const lines = content.split(/\r?\n/);
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) {
      if (rows.length === 0) comment = { line: k + 1, cells: splitCells(trimmed.slice(1).trim(), syntax) };
      continue;
    }
    // A comment runs to the end of the line in a space-separated file; in CSV and TSV only a whole line is one.
    const cells = syntax === 'text' ? line.replace(/#.*/, '').trim() : trimmed;
    if (cells !== '') rows.push({ line: k + 1, cells: splitCells(cells, syntax) });
  }
  return { rows, comment };
}

export function splitCells(line: string, syntax: Syntax): string[] {
  if (syntax === 'tsv') return line.split('\t').map((cell) => cell.trim());
  // numpy.savetxt writes spaces by default, commas when asked to.
  if (syntax === 'text' && !line.includes(',')) return line.split(/\s+/);
  return line.includes('"') ? quotedCells(line) : line.split(',').map((cell) => cell.trim());
}

/** RFC 4180 cells: a quoted cell may hold commas, and `""` for a quote. */
function quotedCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let k = 0; k < line.length; k++) {
    const c = line[k]!;
    if (quoted) {
      if (c === '"' && line[k + 1] === '"') {
        cell += '"';
        k++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

function isNumber(cell: string): boolean {
  try {
    parseNumber(cell, '');
    return true;
  } catch {
    return false;
  }
}

function cellNumber(row: Row, k: number, where: string): number {
  const cell = row.cells[k]!;
  const place = `${where}: line ${row.line}, column ${k + 1}`;
  if (cell === '') throw new InputError(`${place} is empty: give a number`);
  return parseNumber(cell, place);
}

/** The column `:NAME` (a header's name) or `:N` (1-based, as the file's columns are counted). */
function columnIndex(header: Row | null, width: number, column: string, where: string): number {
  const named = header === null ? -1 : header.cells.indexOf(column.trim());
  if (named >= 0) return named;
  if (/^\d+$/.test(column) && Number(column) >= 1 && Number(column) <= width) return Number(column) - 1;
  throw new InputError(
    header === null
      ? `${where} has no header row to find the column "${column}" in: give its number, from 1 to ${width}`
      : `${where} has no column "${column}": its columns are ${brief(header.cells.map((c) => JSON.stringify(c)).join(', '), 200)}`,
  );
}
