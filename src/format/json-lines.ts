/**
 * A batch's JSON Lines as UTF-8 bytes, each line written straight into one
 * growing buffer: the line of a dense J, ∇f, vᵀJ or J·u number by number (no
 * text of the line, its fields or its rows is made), any other report through
 * jsonLine. Both give the same bytes.
 */
import {
  CACHE_BITS,
  jsonLine,
  keyJson,
  kinkWarningJson,
  nestedJson,
  numberJson,
  repeatedFields,
  SHARED_TEXT_MAX,
  slotOf,
  type RepeatedFields,
} from './json.js';
import { sizeOf } from '../shape.js';
import { exactNumber } from './number.js';
import { writeShortest } from './shortest.js';
import type { Binding, MatrixReport, Report, VectorReport } from './report.js';

/** The longest JSON of a number: 25 bytes, as `-0.0000012345678901234567` (`-1.2345678901234567e-308` has 24). */
const MAX_NUMBER_BYTES = 25;
/** Room for a number: its JSON and a comma. */
const NUMBER_BYTES = MAX_NUMBER_BYTES + 1;
/** The bytes past a text's end that copyWords may write: room a line reserves once, at its end. */
const WORD_SLACK = 3;
const MINUS = 0x2d;
/** Copies shorter than this go byte by byte: a typed array's set costs more for a few bytes. */
const SHORT_COPY = 32;

// Recently written numbers, by a hash of their bits, as bytes: a batch's results repeat their inputs and constants
// (the Lorenz Jacobian holds x, y, -x, -10), and formatting a double costs more than copying its bytes again.
// A slot holds its text and the bytes that copyWords writes past it (28 bytes); copyWords reads up to 4 bytes past
// the last slot (a negated number's text from its second byte).
const SLOT_BYTES = MAX_NUMBER_BYTES + WORD_SLACK;
const cachedValues = new Float64Array(1 << CACHE_BITS).fill(NaN);
const cachedLengths = new Uint8Array(1 << CACHE_BITS);
const cachedBytes = new Uint8Array((SLOT_BYTES << CACHE_BITS) + 4);
const cachedWords = new DataView(cachedBytes.buffer);

/**
 * Copies `length` bytes from `source` at `from` to `target` at `at` four at a time, writing up to 3 bytes past
 * them (room the caller has): a number's text is 1 to 25 bytes, which a loop of single bytes copied at about 2 ns
 * a byte, most of a batch line's writing.
 */
function copyWords(source: DataView, from: number, target: DataView, at: number, length: number): void {
  for (let k = 0; k < length; k += 4) target.setInt32(at + k, source.getInt32(from + k));
}

/**
 * Puts `codes[from, end)` in the cache as the bytes of `x`: the caller knows them to be exactly what JSON writes
 * for `x` (a batch line's number, repeated by its output line).
 */
export function rememberNumberText(x: number, codes: Uint16Array, from: number, end: number): void {
  const slot = slotOf(x);
  let at = slot * SLOT_BYTES;
  for (let k = from; k < end; k++) cachedBytes[at++] = codes[k]!;
  cachedValues[slot] = x;
  cachedLengths[slot] = end - from;
}

const COMMA = 0x2c;
const OPEN = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE = 0x5d;
const CLOSE_BRACE = 0x7d;
/** The end of a line without warnings, as bytes: most lines end so. */
const NO_WARNINGS = Uint8Array.from(',"warnings":[]}\n', (c) => c.charCodeAt(0));

/** The reports whose lines JsonLines writes number by number: a dense J, ∇f, vᵀJ or J·u. */
type DenseReport =
  | (MatrixReport & { readonly command: 'jacobian'; readonly matrix: Float64Array })
  | (VectorReport & { readonly command: VectorCommand });
type VectorCommand = 'grad' | 'vjp' | 'jvp';

/**
 * The text of a dense result's line that repeats from point to point, encoded once: everything but the
 * numbers of the point (values fixed on the command line, and a vector's seed, included), for the command,
 * fields, names, shapes and seed it was made for.
 */
interface Frame {
  readonly command: DenseReport['command'];
  readonly fields: RepeatedFields;
  /** The `at` names, and the value each had (a fixed value is the same object at every point). */
  readonly at: readonly Binding[];
  readonly valueShape: readonly number[];
  /** J's: how it was accumulated; null for a vector. */
  readonly accumulation: { readonly mode: string; readonly method: string; readonly passes: number } | null;
  /** A vector's: its seed (v or u), written into `tail`; null for J and ∇f. */
  readonly seed: Float64Array | null;
  /**
   * The text before each `at` value of the point (not fixed), fixed values merged in: `"command":"jacobian",
   * "expr":…,"at":{"s":10,"x":` for the first, then `,"y":` and so on.
   */
  readonly atRuns: readonly Uint8Array[];
  /** Which `at` entry follows each run. */
  readonly atVariables: readonly number[];
  /** The rest of `at` (fixed values merged in), then `},"wrt":…,"inputs":…,"value":` */
  readonly middle: Uint8Array;
  /**
   * The bytes of the text above and of the arrays' brackets and commas of the value, the result and the blocks:
   * what a line writes besides its numbers, the `at` values of the point, the line number and the warnings.
   */
  readonly bytes: number;
  /**
   * `,"valueShape":…,"shape":…`, then `,"mode":…,"method":…,"passes":…,"jacobian":` for J, `,"grad":` for ∇f,
   * `,"v":[…],"vjp":` for vᵀJ, `,"u":[…],"jvp":` for J·u.
   */
  readonly tail: Uint8Array;
  /** The result's dimensions: m × n for J, n for ∇f and vᵀJ, m for J·u. */
  readonly resultDims: readonly number[];
  /**
   * `,"blocks":{"x":` then `,"y":` … for each differentiated variable, and its block's dimensions: J's columns
   * shaped (value's shape) + (variable's shape), a vector's entries shaped as the variable. None for J·u.
   */
  readonly blockKeys: readonly Uint8Array[];
  readonly blockDims: readonly (readonly number[])[];
  /** The entries of each differentiated variable: its block's columns of J. */
  readonly blockSizes: readonly number[];
  /** J·u's `,"tangent":` (its entries again, shaped as the value); null for the others. */
  readonly tangentKey: Uint8Array | null;
}

/**
 * The frame last made and the report last written with it, which a batch keeps from one chunk's JsonLines to the
 * next. A batch's lane hands the same report object at every point, its arrays refilled in place (its fields
 * are read-only), so that report's frame is known without checking its fields again.
 */
export class LineFrames {
  frame: Frame | null = null;
  report: DenseReport | null = null;
}

/**
 * A buffer for about `bytes` bytes of lines (64 at least); in shared memory for a worker thread's lines, which go to
 * the main thread without being moved (DEVELOPERS.md: never move a buffer between threads).
 */
export function lineBuffer(bytes: number, shared = false): Uint8Array {
  const size = Math.max(64, Math.ceil(bytes));
  return shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
}

export class JsonLines {
  private buffer!: Uint8Array;
  /** `buffer`'s bytes, for copyWords (set with it, by `hold`). */
  private words!: DataView;
  private length = 0;
  private readonly encoder = new TextEncoder();

  /**
   * `room`: the bytes to start with, the size of the output expected, or a buffer to write into from its start
   * (one whose bytes were written already, reused); either grows as needed. `frames`: those of the lines
   * written before, by another JsonLines.
   */
  constructor(
    room: number | Uint8Array,
    private readonly frames = new LineFrames(),
  ) {
    this.hold(typeof room === 'number' ? lineBuffer(room) : room);
  }

  /** Appends the report's line, as jsonLine makes it; with `line`, the line number comes first. */
  report(report: Report, line: number | null = null): void {
    // The report of the last dense line again (a batch's lane) is dense.
    const last = this.frames.report;
    if (report === last && last !== null) this.denseResult(last, line);
    else if (isDense(report)) this.denseResult(report, line);
    else this.text(jsonLine(report, line));
  }

  /** Appends text. */
  text(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    this.reserve(3 * text.length);
    const { buffer } = this;
    let at = this.length;
    for (let k = 0; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c >= 0x80) {
        at += this.encoder.encodeInto(text.slice(k), buffer.subarray(at)).written;
        break;
      }
      buffer[at++] = c;
    }
    this.length = at;
  }

  /** The bytes so far, in a buffer of their own, so that they can go to another thread. */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(2 * this.buffer.length, needed));
    grown.set(this.buffer.subarray(0, this.length));
    this.hold(grown);
  }

  private hold(buffer: Uint8Array): void {
    this.buffer = buffer;
    this.words = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  /** Appends bytes in room reserved for them. */
  private put(bytes: Uint8Array): void {
    const count = bytes.length;
    if (count >= SHORT_COPY) {
      this.buffer.set(bytes, this.length);
      this.length += count;
      return;
    }
    const { buffer } = this;
    let at = this.length;
    for (let k = 0; k < count; k++) buffer[at++] = bytes[k]!;
    this.length = at;
  }

  private byte(c: number): void {
    this.reserve(1);
    this.buffer[this.length++] = c;
  }

  /** The line of a dense J, ∇f, vᵀJ or J·u small enough to be formatted whole. */
  private denseResult(report: DenseReport, line: number | null): void {
    const { value, n } = report;
    const result = report.command === 'jacobian' ? report.matrix : report.vector;
    const frame = this.frameOf(report);
    if (line === null) this.byte(OPEN_BRACE);
    else this.text(`{"line":${line},`);
    // Room for the whole line but its warnings, reserved once: the frame, and each number in its array.
    let room = frame.bytes + NUMBER_BYTES * (value.data.length + 2 * result.length);
    for (const variable of frame.atVariables) {
      const { shape, data } = report.at[variable]!.value;
      room += NUMBER_BYTES * data.length + arrayBytes(shape);
    }
    this.reserve(room + WORD_SLACK);
    for (let r = 0; r < frame.atRuns.length; r++) {
      this.put(frame.atRuns[r]!);
      const given = report.at[frame.atVariables[r]!]!.value;
      this.nested(given.shape, 0, 0, given.data, 1, 0, 1);
    }
    this.put(frame.middle);
    this.nested(value.shape, 0, 0, value.data, 1, 0, 1);
    this.put(frame.tail);
    this.nested(frame.resultDims, 0, 0, result, 1, 0, 1);
    if (frame.tangentKey !== null) {
      this.put(frame.tangentKey);
      this.nested(value.shape, 0, 0, result, 1, 0, 1);
    } else {
      // Each variable's block: its columns of J (its entries of a vector), rows n apart.
      let offset = 0;
      for (let k = 0; k < frame.blockSizes.length; k++) {
        const size = frame.blockSizes[k]!;
        this.put(frame.blockKeys[k]!);
        this.nested(frame.blockDims[k]!, 0, 0, result, size, offset, n);
        offset += size;
      }
      this.buffer[this.length++] = CLOSE_BRACE;
    }
    if (report.warnings.length === 0) {
      this.reserve(NO_WARNINGS.length);
      this.put(NO_WARNINGS);
    } else this.text(`,"warnings":[${report.warnings.map(kinkWarningJson).join(',')}]}\n`);
  }

  /**
   * Nested arrays in `dims` of the entries t = 0, 1, … (row-major) from `depth` on, starting at entry `t`;
   * entry t is data[⌊t/size⌋·stride + offset + t mod size]: the columns [offset, offset + size) of rows
   * `stride` apart (size 1 and stride 1 read data in order), in room reserved for them. Returns the entry after
   * the last written.
   */
  private nested(
    dims: readonly number[],
    depth: number,
    t: number,
    data: ArrayLike<number>,
    size: number,
    offset: number,
    stride: number,
  ): number {
    const row = Math.floor(t / size);
    const at = row * stride + offset + (t - row * size);
    if (depth === dims.length) {
      this.number(data[at]!);
      return t + 1;
    }
    const count = dims[depth]!;
    if (depth === dims.length - 1) {
      // The innermost arrays in one loop: a run along a variable's last dimension lies in one row of data, and a
      // scalar variable's entries lie a row apart.
      const step = size === 1 ? stride : 1;
      this.buffer[this.length++] = OPEN;
      for (let i = 0; i < count; i++) {
        if (i > 0) this.buffer[this.length++] = COMMA;
        this.number(data[at + i * step]!);
      }
      this.buffer[this.length++] = CLOSE;
      return t + count;
    }
    this.buffer[this.length++] = OPEN;
    let next = t;
    for (let i = 0; i < count; i++) {
      if (i > 0) this.buffer[this.length++] = COMMA;
      next = this.nested(dims, depth + 1, next, data, size, offset, stride);
    }
    this.buffer[this.length++] = CLOSE;
    return next;
  }

  /** A number as JSON writes it (all ASCII), in room reserved for it: the cached bytes of a recent one. */
  private number(x: number): void {
    const { buffer } = this;
    let at = this.length;
    if (!Number.isFinite(x)) {
      const text = numberJson(x);
      for (let k = 0; k < text.length; k++) buffer[at++] = text.charCodeAt(k);
      this.length = at;
      return;
    }
    const slot = slotOf(x);
    let from = slot * SLOT_BYTES;
    if (cachedValues[slot] === x) {
      const length = cachedLengths[slot]!;
      copyWords(cachedWords, from, this.words, at, length);
      this.length = at + length;
      return;
    }
    // -x is written as x with its sign flipped, so a negated number is found too.
    const negated = x === 0 ? -1 : slotOf(-x);
    const start = at;
    if (negated >= 0 && cachedValues[negated] === -x) {
      let other = negated * SLOT_BYTES;
      let length = cachedLengths[negated]!;
      if (x < 0) buffer[at++] = MINUS;
      else {
        other++;
        length--;
      }
      copyWords(cachedWords, other, this.words, at, length);
      at += length;
      copyWords(this.words, start, cachedWords, from, at - start);
    } else {
      // Written as bytes where the digits are proved, else by JSON.stringify.
      const end = writeShortest(x, buffer, at);
      if (end >= 0) {
        copyWords(this.words, at, cachedWords, from, end - at);
        at = end;
      } else {
        const text = exactNumber(x);
        for (let k = 0; k < text.length; k++) {
          const c = text.charCodeAt(k);
          buffer[at++] = c;
          cachedBytes[from++] = c;
        }
      }
    }
    cachedValues[slot] = x;
    cachedLengths[slot] = at - start;
    this.length = at;
  }

  /** The repeating text of the report's line: the last one made, while it fits. */
  private frameOf(report: DenseReport): Frame {
    const { frames } = this;
    if (report === frames.report && frames.frame !== null) return frames.frame;
    const fields = repeatedFields(report);
    let frame = frames.frame;
    // Made apart (once per shape), so that V8 optimizes this check, which runs per line, without it.
    if (frame === null || !fits(frame, fields, report))
      frame = frames.frame = newFrame(report, fields, (text) => this.encoder.encode(text));
    frames.report = report;
    return frame;
  }
}

/** Whether JsonLines writes the report's line number by number: a dense J, ∇f, vᵀJ or J·u, none of them large. */
function isDense(report: Report): report is DenseReport {
  // With no variable differentiated, the blocks are `{}`, which the frame (a key before each block) cannot write.
  if (report.value.data.length > SHARED_TEXT_MAX || report.inputs.length === 0) return false;
  switch (report.command) {
    case 'jacobian':
      return report.matrix instanceof Float64Array && report.matrix.length <= SHARED_TEXT_MAX;
    case 'grad':
    case 'vjp':
    case 'jvp':
      return report.vector.length <= SHARED_TEXT_MAX && (report.seed?.length ?? 0) <= SHARED_TEXT_MAX;
    default:
      return false;
  }
}

/** The repeating text of the report's line, for the command, fields, names, shapes and seed it has. */
function newFrame(report: DenseReport, fields: RepeatedFields, encode: (text: string) => Uint8Array): Frame {
  const inputs = report.inputs;
  const atRuns: Uint8Array[] = [];
  const atVariables: number[] = [];
  let run = `"command":"${report.command}","expr":${fields.expr},"at":{`;
  report.at.forEach(({ name, value }, k) => {
    run += `${k === 0 ? '' : ','}${keyJson(name)}`;
    if (value.json !== undefined) run += value.json;
    else {
      atRuns.push(encode(run));
      atVariables.push(k);
      run = '';
    }
  });
  const middle = encode(`${run}},"wrt":${fields.wrt},"inputs":${fields.inputs},"value":`);
  const shapes = `,"valueShape":[${report.value.shape.join(',')}],"shape":[${report.m},${report.n}]`;
  const jacobian = report.command === 'jacobian' ? report : null;
  const seed = report.command === 'jacobian' ? null : report.seed;
  const seedKey = report.command === 'vjp' ? 'v' : 'u';
  const tail = encode(
    jacobian !== null
      ? `${shapes},"mode":"${jacobian.mode}","method":"${jacobian.method}","passes":${jacobian.passes},"jacobian":`
      : `${shapes}${seed === null ? '' : `,"${seedKey}":${nestedJson([seed.length], seed)}`},"${report.command}":`,
  );
  const resultDims =
    jacobian !== null ? [report.m, report.n] : report.command === 'jvp' ? [report.vector.length] : [report.n];
  const tangent = report.command === 'jvp';
  const rowShape = jacobian !== null ? report.value.shape : [];
  const blockKeys = tangent
    ? []
    : inputs.map(({ name }, k) => encode(`${k === 0 ? ',"blocks":{' : ','}${keyJson(name)}`));
  const blockDims = tangent ? [] : inputs.map(({ shape }) => [...rowShape, ...shape]);
  const tangentKey = tangent ? encode(',"tangent":') : null;
  return {
    command: report.command,
    fields,
    at: report.at.slice(),
    valueShape: report.value.shape.slice(),
    accumulation: jacobian === null ? null : { mode: jacobian.mode, method: jacobian.method, passes: jacobian.passes },
    seed: seed === null ? null : seed.slice(),
    atRuns,
    atVariables,
    middle,
    bytes:
      [...atRuns, middle, tail, ...blockKeys, ...(tangentKey === null ? [] : [tangentKey])].reduce(
        (sum, bytes) => sum + bytes.length,
        0,
      ) +
      2 * arrayBytes(report.value.shape) +
      arrayBytes(resultDims) +
      blockDims.reduce((sum, dims) => sum + arrayBytes(dims), 0) +
      1,
    tail,
    resultDims,
    blockKeys,
    blockDims,
    blockSizes: inputs.map(({ shape }) => sizeOf(shape)),
    tangentKey,
  };
}

/** Whether `frame` is the text of the report's line: the same fields, names, fixed values, shapes and method. */
function fits(frame: Frame, fields: RepeatedFields, report: DenseReport): boolean {
  if (frame.command !== report.command || frame.fields !== fields || frame.at.length !== report.at.length) return false;
  if (report.command === 'jacobian') {
    const { accumulation } = frame;
    if (accumulation === null || accumulation.mode !== report.mode || accumulation.method !== report.method)
      return false;
    if (accumulation.passes !== report.passes) return false;
  } else if (!sameSeed(frame.seed, report.seed)) return false;
  const shape = report.value.shape;
  if (frame.valueShape.length !== shape.length) return false;
  for (let d = 0; d < shape.length; d++) if (frame.valueShape[d] !== shape[d]) return false;
  for (let k = 0; k < frame.at.length; k++) {
    const before = frame.at[k]!;
    const now = report.at[k]!;
    // A value given as JSON text (fixed on the command line) is written as that text: the frame holds it for that
    // value only.
    const text = before.value.json !== undefined;
    if (before.name !== now.name || text !== (now.value.json !== undefined) || (text && before.value !== now.value))
      return false;
  }
  return true;
}

/** Whether two seeds have the same numbers (a batch's general path reads its seed again at every point). */
function sameSeed(p: Float64Array | null, q: Float64Array | null): boolean {
  if (p === null || q === null) return p === q;
  if (p.length !== q.length) return false;
  for (let k = 0; k < p.length; k++) if (!Object.is(p[k], q[k])) return false;
  return true;
}

/** The most bytes the arrays of nested JSON in `dims` write besides their numbers: two brackets and a comma each. */
function arrayBytes(dims: readonly number[]): number {
  let arrays = 0;
  let count = 1;
  for (let d = 0; d < dims.length; d++) {
    arrays += count;
    count *= dims[d]!;
  }
  return 3 * arrays;
}
