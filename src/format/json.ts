/** The `--json` output of SPEC §4: one object on one line, numbers in full precision. */
import { getHeapStatistics } from 'node:v8';
import { columnBlock, type Tensor } from '../values.js';
import { chunked, textOf, type Chunk } from './chunks.js';
import { denseOf, isDiagonal, isSparse } from './dense.js';
import { JSON_CHUNK, joinedNumbers, NUMBER_CHARACTERS } from './joined.js';
import { jsonNumber } from './number.js';
import type { DiagonalJacobian, KinkWarning, MatrixReport, Report } from './report.js';
import { jsonNumberChunks } from './shared-numbers.js';

// Recently formatted numbers, by a hash of their bits: a batch's results repeat their inputs and constants (the
// Lorenz Jacobian holds x, y, -x, -10), and formatting a double costs more than finding its text again.
export const CACHE_BITS = 12;
const cachedValues = new Float64Array(1 << CACHE_BITS).fill(NaN);
const cachedTexts: string[] = new Array<string>(1 << CACHE_BITS).fill('');
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** The cache slot of a number: a hash of its bits (json-lines' cache of bytes takes the same). */
export const slotOf = (x: number): number => {
  bits[0] = x;
  return Math.imul(words[0]! ^ words[1]!, 0x9e3779b1) >>> (32 - CACHE_BITS);
};

/** jsonNumber, found again when it was made recently. */
export function numberJson(x: number): string {
  if (!Number.isFinite(x)) return jsonNumber(x);
  const slot = slotOf(x);
  if (cachedValues[slot] === x) return cachedTexts[slot]!;
  let text: string;
  // -x is written as x with its sign flipped, so a negated number is found too.
  const negated = x === 0 ? -1 : slotOf(-x);
  if (negated >= 0 && cachedValues[negated] === -x) {
    const other = cachedTexts[negated]!;
    text = x < 0 ? `-${other}` : other.slice(1);
  } else {
    text = jsonNumber(x);
  }
  cachedValues[slot] = x;
  cachedTexts[slot] = text;
  return text;
}

/** The numbers data[from … to) as comma-separated JSON, NaN and ±Infinity as strings. */
function numbersJson(data: ArrayLike<number>, from: number, to: number): string {
  if (to - from <= 16) {
    let text = '';
    for (let k = from; k < to; k++) text += (k > from ? ',' : '') + numberJson(data[k]!);
    return text;
  }
  const parts: string[] = [];
  for (let start = from; start < to; start += JSON_CHUNK)
    parts.push(runJson(data, start, Math.min(start + JSON_CHUNK, to)));
  return parts.join(',');
}

const COMMA = 0x2c;

/** The numbers data[from … to) as comma-separated JSON, non-finite ones as strings (jsonNumber). */
const runJson = (data: ArrayLike<number>, from: number, to: number): string =>
  joinedNumbers(data, from, to - from, 1, COMMA, jsonNumber);

/** Nested JSON arrays in the given shape, of any depth (a scalar is a plain number). */
export function nestedJson(shape: readonly number[], data: ArrayLike<number>, offset = 0): string {
  if (shape.length === 0) return numberJson(data[offset]!);
  if (shape.length === 1) return `[${numbersJson(data, offset, offset + shape[0]!)}]`;
  const inner = shape.slice(1);
  const stride = inner.reduce((size, d) => size * d, 1);
  let text = '[';
  for (let i = 0; i < shape[0]!; i++) text += `${i === 0 ? '' : ','}${nestedJson(inner, data, offset + i * stride)}`;
  return `${text}]`;
}

/**
 * nestedJson as pieces of at most JSON_CHUNK numbers each, made as they are read:
 * a large result is written without its text ever being held whole.
 */
function* nestedPieces(shape: readonly number[], data: ArrayLike<number>, offset = 0): Generator<Chunk> {
  if (shape.length === 0) {
    yield numberJson(data[offset]!);
    return;
  }
  const inner = shape.slice(1);
  const stride = inner.reduce((size, d) => size * d, 1);
  yield '[';
  if (inner.length === 0) {
    const end = offset + shape[0]!;
    yield* jsonNumberChunks(data, offset, end);
  } else {
    for (let i = 0; i < shape[0]!; i++) {
      if (i > 0) yield ',';
      yield* nestedPieces(inner, data, offset + i * stride);
    }
  }
  yield ']';
}

/** A field's text: a string, or pieces made each time they are read (a large result). */
type FieldText = string | Iterable<Chunk>;

const lazyNested = (shape: readonly number[], data: ArrayLike<number>): FieldText => ({
  [Symbol.iterator]: () => nestedPieces(shape, data),
});

/**
 * The text a replayable field keeps to write again: at most 64 MB (the numbers of a 1700 × 1700 J), and at most a
 * 64th of the heap, so that a process given a small heap (--max-old-space-size) still never holds a result's
 * text whole: it formats the numbers twice instead. Asked at the first large field, not at every start.
 */
const replayMaxCharacters = (): number => Math.min(1 << 26, Math.floor(getHeapStatistics().heap_size_limit / 64));

/**
 * A large field written twice (a result's flat form, then as its one variable's block): the pieces of its first
 * writing are kept, up to `maxCharacters`, and written again, so its numbers are formatted once (formatting is most
 * of the time of a large JSON output). Beyond that (expected from its count of numbers, or found) its pieces are made
 * again, and no more is held than one writing's.
 * Give it chunks (chunked): a few large strings, which the garbage collector keeps cheaply; kept as they come (a
 * row's text then held each number's string and their joins), a 1000 × 1000 J's output took 1.5 s instead of 1.2.
 */
export function replayable<Piece extends Chunk>(
  pieces: Iterable<Piece>,
  expectedCharacters: number,
  maxCharacters = replayMaxCharacters(),
): Iterable<Piece> {
  if (expectedCharacters > maxCharacters) return pieces;
  let kept: readonly Piece[] | null = null;
  return {
    *[Symbol.iterator]() {
      if (kept !== null) {
        yield* kept;
        return;
      }
      let record: Piece[] | null = [];
      let characters = 0;
      for (const piece of pieces) {
        if (record !== null) {
          characters += piece.length;
          if (characters <= maxCharacters) record.push(piece);
          else record = null;
        }
        yield piece;
      }
      kept = record;
    },
  };
}

/** The numbers of a large field (`count` of them), formatted once for the two places it is written. */
const formattedOnce = (field: Iterable<Chunk>, count: number): Iterable<Chunk> =>
  replayable({ [Symbol.iterator]: () => chunked(field) }, count * NUMBER_CHARACTERS);

// Results up to this many numbers format each number once for both their flat and their per-variable form.
export const SHARED_TEXT_MAX = 1 << 16;

/** Formatted numbers texts[at + k·stride], k < count, comma-separated. */
function joinTexts(texts: readonly string[], at: number, count: number, stride: number): string {
  let text = '';
  for (let k = 0; k < count; k++) text += (k === 0 ? '' : ',') + texts[at + k * stride]!;
  return text;
}

/** The entries of a shape. */
function entries(shape: readonly number[]): number {
  let size = 1;
  for (let k = 0; k < shape.length; k++) size *= shape[k]!;
  return size;
}

const sameDims = (p: readonly number[], q: readonly number[]): boolean =>
  p.length === q.length && p.every((d, k) => d === q[k]);

/**
 * One block of rows × n numbers already formatted: the columns [offset, offset + size) of each row,
 * nested as (row shape) + (variable's shape). Null for the shapes it does not cover (matrices on both sides).
 */
function blockText(
  texts: readonly string[],
  n: number,
  rowShape: readonly number[],
  shape: readonly number[],
  offset: number,
): string | null {
  const size = entries(shape);
  if (rowShape.length === 0) {
    if (shape.length === 0) return texts[offset]!;
    if (shape.length === 1) return `[${joinTexts(texts, offset, size, 1)}]`;
    const [r, c] = shape as readonly [number, number];
    return `[${rowsText(texts, offset, r, c)}]`;
  }
  if (rowShape.length !== 1 || shape.length > 1) return null;
  const m = rowShape[0]!;
  // A scalar variable's block is its column of J; a vector's, its columns in every row.
  if (shape.length === 0) return `[${joinTexts(texts, offset, m, n)}]`;
  let text = '[';
  for (let i = 0; i < m; i++) text += `${i === 0 ? '' : ','}[${joinTexts(texts, i * n + offset, size, 1)}]`;
  return `${text}]`;
}

/** Rows of `columns` formatted numbers each, from texts[offset], row after row: `[…],[…]`. */
function rowsText(texts: readonly string[], offset: number, rows: number, columns: number): string {
  let text = '';
  for (let i = 0; i < rows; i++) text += `${i === 0 ? '' : ','}[${joinTexts(texts, offset + i * columns, columns, 1)}]`;
  return text;
}

function numberTexts(data: ArrayLike<number>): string[] {
  const texts = new Array<string>(data.length);
  for (let k = 0; k < data.length; k++) texts[k] = numberJson(data[k]!);
  return texts;
}

/**
 * A result's flat form (nested in `flatDims`) and `{"x": …, "W": …}`: the same rows × n numbers by
 * differentiated variable, each block shaped (row shape) + (variable's shape), as PyTorch returns per
 * input. Each number is formatted once: a block that is the whole result reuses its text.
 */
function flatAndBlocks(
  report: Report,
  data: ArrayLike<number>,
  flatDims: readonly number[],
  rowShape: readonly number[],
): { flat: FieldText; blocks: FieldText } {
  const { inputs, n } = report;
  const only = inputs.length === 1 ? inputs[0]! : null;
  const single = only !== null && sameDims(rowShape.length === 0 ? only.shape : [...rowShape, ...only.shape], flatDims);
  // A large result is written as pieces: formatted once where its blocks are its flat form, else once for each.
  if (data.length > SHARED_TEXT_MAX) {
    if (single) {
      const flat = formattedOnce(lazyNested(flatDims, data), data.length);
      return { flat, blocks: { [Symbol.iterator]: () => wrapped(`{${JSON.stringify(only.name)}:`, flat, '}') } };
    }
    return {
      flat: lazyNested(flatDims, data),
      blocks: { [Symbol.iterator]: () => blockPieces(report, data, rowShape) },
    };
  }
  const texts = single ? null : numberTexts(data);
  // The flat form is rows × n (or n): the formatted numbers serve it too.
  const flat =
    texts === null
      ? nestedJson(flatDims, data)
      : `[${flatDims.length === 1 ? joinTexts(texts, 0, n, 1) : rowsText(texts, 0, flatDims[0]!, n)}]`;
  if (single) return { flat, blocks: `{${JSON.stringify(only.name)}:${flat}}` };
  let blocks = '{';
  let offset = 0;
  for (const { name, shape } of inputs) {
    const text =
      (texts === null ? null : blockText(texts, n, rowShape, shape, offset)) ??
      nestedJson([...rowShape, ...shape], columnBlock(data, n, rowShape, { name, shape, offset }));
    blocks += `${offset === 0 ? '' : ','}${keyJson(name)}${text}`;
    offset += entries(shape);
  }
  return { flat, blocks: `${blocks}}` };
}

/** Whether J maps one vector to a vector: its blocks field is `{"x": J}`, J's rows nested as they are. */
const vectorToVector = (report: MatrixReport): boolean =>
  report.value.shape.length === 1 && report.inputs.length === 1 && report.inputs[0]!.shape.length === 1;

/** flatAndBlocks of a diagonal J of one vector to a vector: its rows, made from the diagonal, and `{"x": rows}`. */
function diagonalFlatAndBlocks(report: MatrixReport, matrix: DiagonalJacobian): { flat: FieldText; blocks: FieldText } {
  const flat = diagonalRows(matrix);
  const before = `{${JSON.stringify(report.inputs[0]!.name)}:`;
  if (typeof flat === 'string') return { flat, blocks: `${before}${flat}}` };
  return { flat, blocks: { [Symbol.iterator]: () => wrapped(before, flat, '}') } };
}

/**
 * The nested JSON of a diagonal n×n matrix laid out dense, as nestedJson writes it: each row is zeros around its
 * one formatted entry, the zeros cut from one string, so the n² − n zeros are neither laid out nor formatted.
 */
function diagonalRows(matrix: DiagonalJacobian): FieldText {
  if (matrix.n * matrix.n > SHARED_TEXT_MAX) return { [Symbol.iterator]: () => diagonalRowPieces(matrix) };
  return Array.from(diagonalRowPieces(matrix)).join('');
}

function* diagonalRowPieces({ n, diagonal }: DiagonalJacobian): Generator<string> {
  const before = '0,'.repeat(n - 1);
  const after = ',0'.repeat(n - 1);
  yield '[';
  for (let i = 0; i < n; i++)
    yield `${i === 0 ? '' : ','}[${before.slice(0, 2 * i)}${numberJson(diagonal[i]!)}${after.slice(2 * i)}]`;
  yield ']';
}

function* wrapped(before: string, text: Iterable<Chunk>, after: string): Generator<Chunk> {
  yield before;
  yield* text;
  yield after;
}

/** The blocks of a large result by variable, as pieces: each block is copied out as it is written. */
function* blockPieces(report: Report, data: ArrayLike<number>, rowShape: readonly number[]): Generator<Chunk> {
  let offset = 0;
  for (const { name, shape } of report.inputs) {
    yield `${offset === 0 ? '{' : ','}${JSON.stringify(name)}:`;
    yield* nestedPieces([...rowShape, ...shape], columnBlock(data, report.n, rowShape, { name, shape, offset }));
    offset += shape.reduce((total: number, d) => total * d, 1);
  }
  yield offset === 0 ? '{}' : '}';
}

/**
 * A value given by the user: its own JSON text when it came as JSON, else formatted. A batch gives the
 * values fixed on the command line to every point as the same tensors: their text is made once.
 */
const givenTexts = new WeakMap<Tensor, string>();
function valueJson(value: Tensor): string {
  if (value.json !== undefined) return value.json;
  // A few numbers (a batch line's scalars) are formatted faster than they are found in a WeakMap.
  if (value.data.length <= 16) return nestedJson(value.shape, value.data);
  let text = givenTexts.get(value);
  if (text === undefined) givenTexts.set(value, (text = nestedJson(value.shape, value.data)));
  return text;
}

/** The text of a report's fields that a batch repeats on every line (expression, variables), made once a batch. */
export interface RepeatedFields {
  readonly exprSource: string;
  readonly wrtNames: readonly string[];
  readonly inputList: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly expr: string;
  readonly wrt: string;
  readonly inputs: string;
}
let repeated: RepeatedFields | null = null;

/** Whether the fields of `report` are those whose text `last` holds (compared entry by entry: no key is made). */
function sameFields(last: RepeatedFields, report: Report): boolean {
  const { wrtNames, inputList } = last;
  if (last.exprSource !== report.expr || wrtNames.length !== report.wrt.length) return false;
  if (inputList.length !== report.inputs.length) return false;
  for (let k = 0; k < wrtNames.length; k++) if (wrtNames[k] !== report.wrt[k]) return false;
  for (let k = 0; k < inputList.length; k++) {
    const input = report.inputs[k]!;
    if (inputList[k]!.name !== input.name || !sameDims(inputList[k]!.shape, input.shape)) return false;
  }
  return true;
}

export function repeatedFields(report: Report): RepeatedFields {
  if (repeated === null || !sameFields(repeated, report)) {
    const inputs = report.inputs.map(
      ({ name, shape }) => `{"name":${JSON.stringify(name)},"shape":${shapeJson(shape)}}`,
    );
    repeated = {
      exprSource: report.expr,
      wrtNames: [...report.wrt],
      inputList: report.inputs.map(({ name, shape }) => ({ name, shape: [...shape] })),
      expr: JSON.stringify(report.expr),
      wrt: JSON.stringify(report.wrt),
      inputs: `[${inputs.join(',')}]`,
    };
  }
  return repeated;
}

/** `"name":` of a variable, made once. */
const keyTexts = new Map<string, string>();
export function keyJson(name: string): string {
  let text = keyTexts.get(name);
  if (text === undefined) keyTexts.set(name, (text = `${JSON.stringify(name)}:`));
  return text;
}

/**
 * The `at` object. A large value read from a binary file (no JSON text) is written as pieces made as they are
 * written, as a large result is: held whole, its text would live through many collections of the young heap.
 */
function atJson(report: Report): FieldText {
  const pieces: FieldText[] = [];
  let text = '{';
  for (let k = 0; k < report.at.length; k++) {
    const { name, value } = report.at[k]!;
    text += `${k === 0 ? '' : ','}${keyJson(name)}`;
    if (value.json === undefined && value.data.length > SHARED_TEXT_MAX) {
      pieces.push(text, lazyNested(value.shape, value.data));
      text = '';
    } else {
      text += valueJson(value);
    }
  }
  if (pieces.length === 0) return `${text}}`;
  pieces.push(`${text}}`);
  return { [Symbol.iterator]: () => piecesOf(pieces) };
}

function* piecesOf(fields: readonly FieldText[]): Generator<Chunk> {
  for (const field of fields) {
    if (typeof field === 'string') yield field;
    else yield* field;
  }
}

const vector = (data: ArrayLike<number>): FieldText => numbersField([data.length], data);

export function kinkWarningJson(w: KinkWarning): string {
  const { kind, operation, source, convention, count, entries } = w;
  return JSON.stringify({ kind, operation, source, convention, count, entries });
}

/** The key of each vector result and of its seed. */
const VECTOR_KEYS = { vjp: ['vjp', 'v'], jvp: ['jvp', 'u'], grad: ['grad', null], hvp: ['hvp', 'u'] } as const;

/** Writes `{"key":value,…}` into pieces: small values join the current piece, large ones stand alone. */
class ObjectWriter {
  private readonly pieces: FieldText[] = [];
  private current = '{';

  field(key: string, value: FieldText): void {
    this.current += `${this.current === '{' ? '' : ','}"${key}":`;
    if (typeof value === 'string' && value.length < 1 << 16) {
      this.current += value;
    } else {
      this.pieces.push(this.current, value);
      this.current = '';
    }
  }

  /** The whole line, when no field is large (as for a batch's points). */
  line(): string | null {
    return this.pieces.length === 0 ? `${this.current}}\n` : null;
  }

  *finish(): Generator<Chunk> {
    for (const piece of this.pieces) {
      if (typeof piece === 'string') yield piece;
      else yield* chunked(piece);
    }
    yield `${this.current}}\n`;
  }
}

/** A field of numbers: its text, or for a large one, pieces made as they are written. */
const numbersField = (shape: readonly number[], data: ArrayLike<number>): FieldText =>
  data.length > SHARED_TEXT_MAX ? lazyNested(shape, data) : nestedJson(shape, data);

const shapeJson = (shape: readonly number[]): string => `[${shape.join(',')}]`;

/**
 * The JSON of a report as one line of text, as a batch writes it; with a `line` number (a shard's output)
 * the line number comes first, as in a failed line's `{"line": N, "error": …}`.
 */
export function jsonLine(report: Report, line: number | null = null): string {
  const out = reportWriter(report, line);
  return out.line() ?? textOf(out.finish());
}

/** The JSON of a report in chunks made as they are read: a large result's text is never held whole. */
export function jsonText(report: Report): Iterable<Chunk> {
  return reportWriter(report, null).finish();
}

function reportWriter(report: Report, line: number | null): ObjectWriter {
  const out = new ObjectWriter();
  if (line !== null) out.field('line', String(line));
  out.field('command', `"${report.command}"`);
  const fields = repeatedFields(report);
  out.field('expr', fields.expr);
  out.field('at', atJson(report));
  out.field('wrt', fields.wrt);
  out.field('inputs', fields.inputs);
  out.field('value', numbersField(report.value.shape, report.value.data));
  out.field('valueShape', shapeJson(report.value.shape));
  out.field('shape', `[${report.m},${report.n}]`);
  switch (report.command) {
    case 'jacobian':
    case 'hessian': {
      out.field('mode', `"${report.mode}"`);
      out.field('method', `"${report.method}"`);
      out.field('passes', String(report.passes));
      const { matrix } = report;
      if (!isSparse(matrix)) {
        if (report.command === 'jacobian') {
          const { flat, blocks } =
            isDiagonal(matrix) && vectorToVector(report)
              ? diagonalFlatAndBlocks(report, matrix)
              : flatAndBlocks(report, denseOf(matrix), [report.m, report.n], report.value.shape);
          out.field('jacobian', flat);
          out.field('blocks', blocks);
        } else {
          out.field('hessian', isDiagonal(matrix) ? diagonalRows(matrix) : numbersField([report.n, report.n], matrix));
        }
      } else {
        // Coordinate format, 0-based: entry k is (rows[k], cols[k]) = values[k].
        out.field('colours', String(report.colours ?? report.passes));
        if (report.lowerBound !== undefined) out.field('lowerBound', String(report.lowerBound));
        if (report.ordering !== undefined) out.field('ordering', `"${report.ordering}"`);
        out.field('nonzeros', String(matrix.values.length));
        out.field('format', '"coo"');
        out.field('rows', numbersField([matrix.rows.length], matrix.rows));
        out.field('cols', numbersField([matrix.cols.length], matrix.cols));
        out.field('values', numbersField([matrix.values.length], matrix.values));
      }
      break;
    }
    case 'vjp':
    case 'jvp':
    case 'grad':
    case 'hvp': {
      const [key, seedKey] = VECTOR_KEYS[report.command];
      if (seedKey !== null && report.seed !== null) out.field(seedKey, vector(report.seed));
      if (report.command === 'jvp') {
        // A vector's tangent is the jvp's text again.
        const jvp = vector(report.vector);
        const once = typeof jvp === 'string' ? jvp : formattedOnce(jvp, report.vector.length);
        out.field(key, once);
        out.field('tangent', report.value.shape.length === 1 ? once : numbersField(report.value.shape, report.vector));
      } else {
        const { flat, blocks } = flatAndBlocks(report, report.vector, [report.vector.length], []);
        out.field(key, flat);
        out.field('blocks', blocks);
      }
      break;
    }
    case 'check':
      out.field('agree', String(report.agree));
      out.field('tol', numberJson(report.tol));
      out.field('maxAbsError', numberJson(report.maxAbsError));
      out.field('maxRelError', numberJson(report.maxRelError));
      out.field(
        'worst',
        report.worst === null
          ? 'null'
          : `{"row":${report.worst.row},"column":${report.worst.column},` +
              `"automatic":${numberJson(report.worst.automatic)},"numeric":${numberJson(report.worst.numeric)}}`,
      );
      out.field('skipped', String(report.skipped));
      out.field('unresolved', String(report.unresolved));
      out.field('rounding', numberJson(report.rounding));
      out.field('directions', report.directions === null ? 'null' : String(report.directions));
      // Along directions: J·u for each (m × directions), as the numeric side.
      out.field(report.directions === null ? 'jacobian' : 'jvp', numbersField([report.m, report.n], report.jacobian));
      out.field('numeric', numbersField([report.m, report.n], report.numeric));
      break;
  }
  out.field('warnings', `[${report.warnings.map(kinkWarningJson).join(',')}]`);
  return out;
}
