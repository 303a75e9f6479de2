/**
 * Values as users give and get them: numbers, nested arrays (JSON), with
 * NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity" (SPEC §4).
 */
import { brief, InputError } from './errors.js';
import type { Shape } from './shape.js';

/** A dense array of doubles with its shape, row-major. */
export interface Tensor {
  readonly shape: Shape;
  readonly data: Float64Array;
  /** The value's JSON text as it was read, on one line: output repeats it without formatting every number again. */
  readonly json?: string;
}

/** A number, or nested arrays of numbers, as JSON holds them. */
export type Nested = number | readonly Nested[];

const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function scalarFrom(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && Object.hasOwn(NON_FINITE, value)) return NON_FINITE[value]!;
  throw new InputError(`${what} must be numbers, got ${shownJson(value)}`);
}

/** What a JSON value that is not a number is, with a short prefix of its text (a file may hold megabytes of it). */
function shownJson(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return brief(JSON.stringify(value));
  if (value !== null && typeof value === 'object') return `an object ${brief(JSON.stringify(value) ?? '{}')}`;
  return String(value);
}

/** Reads a number, vector or matrix from parsed JSON; ragged or deeper arrays are refused. */
export function tensorFromJson(value: unknown, what: string): Tensor {
  if (!Array.isArray(value)) return { shape: [], data: Float64Array.of(scalarFrom(value, what)) };
  if (value.length === 0) throw new InputError(`${what} is an empty array: give at least one number`);
  // Numbers first, in one loop (a large x, most often); the scan for nested arrays only once something else comes.
  const data = new Float64Array(value.length);
  let k = 0;
  for (let x: unknown = value[0]; typeof x === 'number'; x = value[++k]) data[k] = x;
  if (k < value.length && value.some(Array.isArray)) return matrixFromJson(value, what);
  for (; k < value.length; k++) data[k] = scalarFrom(value[k], what);
  return { shape: [value.length], data };
}

// Character codes of the JSON text that plainJsonVector reads.
const SPACE = 32;
const TAB = 9;
const NEWLINE = 10;
const RETURN = 13;
const OPEN = 91; // [
const CLOSE = 93; // ]
const COMMA = 44;
const MINUS = 45;
const PLUS = 43;
const POINT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;

const isWhite = (c: number): boolean => c === SPACE || c === NEWLINE || c === RETURN || c === TAB;
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;

/** 10⁰ … 10²², each a double exactly. */
export const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * (-1)^negative · digits · 10^power when that is exact to compute (Clinger's fast path): digits an integer below 2⁵³
 * and |power| ≤ 22 are doubles exactly, so one product or quotient rounds once, as Number does; NaN otherwise
 * (Number's to read). `digits` may have passed 2⁵³ while it was summed: it then stays at or above 2⁵³.
 */
export function exactDecimalValue(digits: number, power: number, negative: boolean): number {
  if (digits > Number.MAX_SAFE_INTEGER || power < -22 || power > 22) return NaN;
  const x = power < 0 ? digits / POWERS_OF_TEN[-power]! : digits * POWERS_OF_TEN[power]!;
  return negative ? -x : x;
}

/** The value of the number readJsonNumber read last. */
let numberRead = 0;

/**
 * Reads the JSON number (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?) at `i` of `text` into numberRead and returns the
 * index after it, or -1 if none is there: exactly from its digits where exactDecimalValue can, else by Number. A
 * file of 10⁶ numbers, 43% of them of 17 digits, read in 130–180 ms where Number read them all in 210–260.
 */
function readJsonNumber(text: string, i: number): number {
  const start = i;
  const negative = text.charCodeAt(i) === MINUS;
  if (negative) i++;
  let digits = 0;
  let c = text.charCodeAt(i);
  if (c === ZERO) c = text.charCodeAt(++i);
  else if (isDigit(c)) {
    do {
      digits = digits * 10 + (c - ZERO);
      c = text.charCodeAt(++i);
    } while (isDigit(c));
  } else return -1;
  let places = 0;
  if (c === POINT) {
    c = text.charCodeAt(++i);
    if (!isDigit(c)) return -1;
    do {
      digits = digits * 10 + (c - ZERO);
      places++;
      c = text.charCodeAt(++i);
    } while (isDigit(c));
  }
  let exponent = 0;
  if (c === LOWER_E || c === UPPER_E) {
    c = text.charCodeAt(++i);
    const sign = c === MINUS ? -1 : 1;
    if (c === PLUS || c === MINUS) c = text.charCodeAt(++i);
    if (!isDigit(c)) return -1;
    do {
      // Any exponent past 1000 is as far out of the fast path as 1000.
      if (exponent < 1000) exponent = exponent * 10 + (c - ZERO);
      c = text.charCodeAt(++i);
    } while (isDigit(c));
    exponent *= sign;
  }
  const exact = exactDecimalValue(digits, exponent - places, negative);
  numberRead = Number.isNaN(exact) ? Number(text.slice(start, i)) : exact;
  return i;
}

/**
 * What tensorFromJson(JSON.parse(text)) gives for a text that is one array of JSON numbers, read without building a
 * JavaScript array: JSON.parse grows one as long as the vector, copied into fresh memory as it grows; a whole
 * process read a file of 10⁶ numbers in 376–542 ms this way against 485–648 (a matrix's rows are short arrays,
 * which JSON.parse builds faster than this loop reads them). Its `json` is the text on one line. Null for any other
 * text (strings, nested arrays, an error), which takes the general way and its messages.
 */
export function plainJsonVector(text: string): Tensor | null {
  const end = text.length;
  let i = 0;
  let white = false;
  const skipWhite = (): void => {
    const from = i;
    while (i < end && isWhite(text.charCodeAt(i))) i++;
    if (i !== from) white = true;
  };
  skipWhite();
  if (text.charCodeAt(i++) !== OPEN) return null;
  skipWhite();
  // Another text (a matrix) is left at its first token, before the buffer.
  if (readJsonNumber(text, i) < 0) return null;
  // Each number and each comma take a character at least, so there are (length + 1) / 2 numbers at most. The buffer
  // starts at a number per 8 characters (JSON.stringify writes a double in 1 to 24) and doubles when full, up to
  // that bound; it is cut to the count at the end. Counting the commas first read the text twice.
  const most = Math.floor((end - i + 1) / 2);
  let data = new Float64Array(Math.min(most, Math.ceil((end - i) / 8) + 16));
  let count = 0;
  for (;;) {
    const numberEnd = readJsonNumber(text, i);
    if (numberEnd < 0) return null;
    if (count === data.length) {
      const grown = new Float64Array(Math.min(most, 2 * count));
      grown.set(data);
      data = grown;
    }
    data[count++] = numberRead;
    i = numberEnd;
    skipWhite();
    if (text.charCodeAt(i) !== COMMA) break;
    i++;
    skipWhite();
  }
  if (text.charCodeAt(i++) !== CLOSE) return null;
  skipWhite();
  if (i !== end) return null;
  // Numbers hold no white space: dropping it all leaves the same JSON on one line, the text `at` repeats.
  return { shape: [count], data: data.slice(0, count), json: white ? text.replace(/\s+/g, '') : text };
}

/** Reads a matrix (an array of rows) from parsed JSON; ragged or deeper arrays are refused. */
function matrixFromJson(value: readonly unknown[], what: string): Tensor {
  const rows = value.length;
  const cols = Array.isArray(value[0]) ? value[0].length : -1;
  const data = new Float64Array(rows * Math.max(cols, 0));
  value.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== cols) {
      throw new InputError(
        `${what} is a ragged matrix: ` +
          `row ${i + 1} has ${Array.isArray(row) ? (row.length === 1 ? '1 entry' : `${row.length} entries`) : 'no entries'} ` +
          `where row 1 has ${cols}`,
      );
    }
    for (let j = 0; j < cols; j++) {
      const x: unknown = row[j];
      if (Array.isArray(x))
        throw new InputError(`${what} has more than two dimensions: only scalars, vectors and matrices are supported`);
      data[i * cols + j] = typeof x === 'number' ? x : scalarFrom(x, what);
    }
  });
  if (cols === 0) throw new InputError(`${what} has empty rows: give at least one number`);
  return { shape: [rows, cols], data };
}

/** Nested arrays in the shape of the tensor (a scalar is a plain number). */
export function nestedFrom(shape: Shape, data: ArrayLike<number>): Nested {
  return nestedOfDims(shape, data);
}

/** Nested arrays of any depth, row-major from `offset` of `data`; no dimensions is a plain number. */
export function nestedOfDims(dims: readonly number[], data: ArrayLike<number>, offset = 0): Nested {
  if (dims.length === 0) return data[offset]!;
  if (dims.length === 1) return Array.prototype.slice.call(data, offset, offset + dims[0]!) as number[];
  const inner = dims.slice(1);
  const stride = inner.reduce((size, d) => size * d, 1);
  return Array.from({ length: dims[0]! }, (_, i) => nestedOfDims(inner, data, offset + i * stride));
}

/** A differentiated variable: where its entries sit among the n columns of J, and its shape. */
export interface ColumnRange {
  readonly name: string;
  readonly shape: Shape;
  readonly offset: number;
}

/** The column ranges of variables taken in order, as the columns of J are. */
export function columnRanges(variables: readonly { readonly name: string; readonly shape: Shape }[]): ColumnRange[] {
  let offset = 0;
  return variables.map(({ name, shape }) => {
    const range = { name, shape, offset };
    offset += shape.reduce((size: number, d) => size * d, 1);
    return range;
  });
}

/**
 * The columns of `variable` in rows×n row-major `data`, as one array shaped
 * (row shape) + (variable's shape): the block `torch.autograd.functional.jacobian`
 * returns for that input. A vector result (one row, no row shape) gives the
 * variable's own shape, as `W.grad` holds it.
 */
export function columnBlock(
  data: ArrayLike<number>,
  n: number,
  rowShape: readonly number[],
  variable: ColumnRange,
): Float64Array {
  const rows = rowShape.reduce((size, d) => size * d, 1);
  const size = variable.shape.reduce((s: number, d) => s * d, 1);
  const block = new Float64Array(rows * size);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < size; k++) block[i * size + k] = data[i * n + variable.offset + k]!;
  }
  return block;
}

/** The result split by variable, each block shaped (row shape) + (variable's shape). */
export function blocksByVariable(
  data: ArrayLike<number>,
  n: number,
  rowShape: readonly number[],
  variables: readonly ColumnRange[],
): Record<string, Nested> {
  const blocks: Record<string, Nested> = Object.create(null) as Record<string, Nested>;
  for (const variable of variables)
    blocks[variable.name] = nestedOfDims([...rowShape, ...variable.shape], columnBlock(data, n, rowShape, variable));
  return blocks;
}
