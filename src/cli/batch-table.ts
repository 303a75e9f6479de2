/**
 * `--batch FILE.csv` (or `.tsv`): a table of points, as pandas' `to_csv` writes it. Its header names the variables
 * (an index column, unnamed or `Unnamed: 0`, is left out), and each line after it is a point of scalars, handed on
 * as the JSON line of its numbers, so that the batch runs it as it runs JSON Lines. A line that is no point
 * (another count of cells, a cell that is no number) becomes a line that says why, and gets its error line.
 */
import { InputError } from '../errors.js';
import { isName } from './bindings.js';
import { parseNumber, splitCells, type Syntax } from './value-files.js';
import { NOT_A_POINT } from './workers-batch.js';

/** The table syntax of a batch file, by its name; null for JSON Lines. */
export function batchTableSyntax(path: string): Extract<Syntax, 'csv' | 'tsv'> | null {
  return /\.csv$/i.test(path) ? 'csv' : /\.tsv$/i.test(path) ? 'tsv' : null;
}

export class TablePoints {
  /** The JSON of each variable's key and colon, in the header's order; null until the header is read. */
  private keys: string[] | null = null;
  /** The cells before the variables': 1 with an index column. */
  private first = 0;

  constructor(
    private readonly syntax: Extract<Syntax, 'csv' | 'tsv'>,
    private readonly path: string,
  ) {}

  /** Whether the next line is the header. */
  get expectsHeader(): boolean {
    return this.keys === null;
  }

  /** Reads the header's names: each cell but an index column is a variable's. */
  header(text: string): void {
    const cells = splitCells(text.trim(), this.syntax);
    this.first = /^(|Unnamed: 0)$/.test(cells[0]!) && cells.length > 1 ? 1 : 0;
    const names = cells.slice(this.first);
    const bad = names.find((name) => !isName(name));
    if (bad !== undefined)
      throw new InputError(
        `--batch ${this.path}: its header's column ${JSON.stringify(bad)} is no variable name: ` +
          'each column of a batch table is one scalar variable, named in the first line',
      );
    if (new Set(names).size !== names.length)
      throw new InputError(`--batch ${this.path}: its header names a variable twice`);
    this.keys = names.map((name) => `${JSON.stringify(name)}:`);
  }

  /** The JSON line of the point on `text`, or a line that says why it is none (a blank line stays blank). */
  point(text: string): string {
    const keys = this.keys!;
    if (text.trim() === '') return text;
    const cells = splitCells(text.trim(), this.syntax);
    const count = cells.length - this.first;
    if (count !== keys.length)
      return `${NOT_A_POINT}it has ${count} cell${count === 1 ? '' : 's'} of values where the header names ${keys.length}`;
    let json = '{';
    for (let k = 0; k < keys.length; k++) {
      const cell = cells[this.first + k]!;
      let x: number;
      try {
        x = parseNumber(cell, `its cell ${JSON.stringify(keys[k]!.slice(1, -2))}`);
      } catch (error) {
        return `${NOT_A_POINT}${(error as Error).message}`;
      }
      // JSON holds NaN and ±Infinity as strings, which a point reads as those numbers.
      json += `${k === 0 ? '' : ','}${keys[k]}${Number.isFinite(x) ? String(x) : JSON.stringify(String(x))}`;
    }
    return `${json}}`;
  }
}
