/**
 * A batch's JSON Lines as UTF-8 bytes, each line written straight into one
 * growing buffer: the line of a dense Jacobian number by number (no text of
 * the line, its fields or its rows is made), any other report through
 * jsonLine. Both give the same bytes.
 */
import {
  CACHE_BITS,
  jsonLine,
  keyJson,
  kinkWarningJson,
  numberJson,
  repeatedFields,
  SHARED_TEXT_MAX,
  slotOf,
  type RepeatedFields,
} from './json.js';
import { sizeOf } from '../shape.js';
import { exactNumber } from './number.js';
import { writeShortest } from './shortest.js';
import type { Binding, MatrixReport, Report } from './report.js';

/** The longest JSON of a number: 25 bytes, as `-0.0000012345678901234567` (`-1.2345678901234567e-308` has 24). */
const MAX_NUMBER_BYTES = 25;
/** Room for a number: its JSON and a comma. */
const NUMBER_BYTES = MAX_NUMBER_BYTES + 1;
const MINUS = 0x2d;
/** Copies shorter than this go byte by byte: a typed array's set costs more for a few bytes. */
const SHORT_COPY = 32;

// Recently written numbers, by a hash of their bits, as bytes: a batch's results repeat their inputs and constants
// (the Lorenz Jacobian holds x, y, -x, -10), and formatting a double costs more than copying its bytes again.
const SLOT_BYTES = MAX_NUMBER_BYTES;
const cachedValues = new Float64Array(1 << CACHE_BITS).fill(NaN);
const cachedLengths = new Uint8Array(1 << CACHE_BITS);
const cachedBytes = new Uint8Array(SLOT_BYTES << CACHE_BITS);

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
/** The end of a line without warnings, as bytes: most lines end so. */
const NO_WARNINGS = Uint8Array.from('},"warnings":[]}\n', (c) => c.charCodeAt(0));

/**
 * The text of a dense Jacobian's line that repeats from point to point, encoded once: everything but the
 * numbers of the point (values fixed on the command line included), for the fields, names and shapes it was
 * made for.
 */
interface Frame {
  readonly fields: RepeatedFields;
  /** The `at` names, and the value each had (a fixed value is the same object at every point). */
  readonly at: readonly Binding[];
  readonly valueShape: readonly number[];
  readonly mode: string;
  readonly method: string;
  readonly passes: number;
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
   * The bytes of the text above and of the arrays' brackets and commas of the value, J and the blocks: what a line
   * writes besides its numbers, the `at` values of the point, the line number and the warnings.
   */
  readonly bytes: number;
  /** `,"valueShape":…,"shape":…,"mode":…,"method":…,"passes":…,"jacobian":` */
  readonly tail: Uint8Array;
  /** J's dimensions, m × n. */
  readonly jacobianDims: readonly number[];
  /** `,"blocks":{"x":` then `,"y":` … for each differentiated variable, and its block's dimensions. */
  readonly blockKeys: readonly Uint8Array[];
  readonly blockDims: readonly (readonly number[])[];
  /** The entries of each differentiated variable: its block's columns of J. */
  readonly blockSizes: readonly number[];
}

export class JsonLines {
  private buffer: Uint8Array<ArrayBuffer>;
  private length = 0;
  private readonly encoder = new TextEncoder();
  private frame: Frame | null = null;

  /**
   * `room`: the bytes to start with, the size of the output expected, or a buffer to write into from its start
   * (one whose bytes were written already, reused); either grows as needed.
   */
  constructor(room: number | Uint8Array<ArrayBuffer>) {
    this.buffer = typeof room === 'number' ? new Uint8Array(Math.max(64, Math.ceil(room))) : room;
  }

  /** Appends the report's line, as jsonLine makes it; with `line`, the line number comes first. */
  report(report: Report, line: number | null = null): void {
    if (!this.denseJacobian(report, line)) this.text(jsonLine(report, line));
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

  /** The bytes so far, in a buffer of their own, so that they can move to another thread. */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(2 * this.buffer.length, needed));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
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

  /** The line of a dense Jacobian small enough to be formatted whole; false for any other report. */
  private denseJacobian(report: Report, line: number | null): boolean {
    if (report.command !== 'jacobian') return false;
    const { matrix, value, n } = report;
    if (!(matrix instanceof Float64Array) || matrix.length > SHARED_TEXT_MAX || value.data.length > SHARED_TEXT_MAX)
      return false;
    const frame = this.frameOf(report);
    if (line === null) this.byte(OPEN_BRACE);
    else this.text(`{"line":${line},`);
    // Room for the whole line but its warnings, reserved once: the frame, and each number in its array.
    let room = frame.bytes + NUMBER_BYTES * (value.data.length + 2 * matrix.length);
    for (const variable of frame.atVariables) {
      const { shape, data } = report.at[variable]!.value;
      room += NUMBER_BYTES * data.length + arrayBytes(shape);
    }
    this.reserve(room);
    for (let r = 0; r < frame.atRuns.length; r++) {
      this.put(frame.atRuns[r]!);
      const given = report.at[frame.atVariables[r]!]!.value;
      this.nested(given.shape, 0, 0, given.data, 1, 0, 1);
    }
    this.put(frame.middle);
    this.nested(value.shape, 0, 0, value.data, 1, 0, 1);
    this.put(frame.tail);
    this.nested(frame.jacobianDims, 0, 0, matrix, 1, 0, 1);
    // Each variable's block: its columns of J, shaped (value's shape) + (variable's shape).
    let offset = 0;
    for (let k = 0; k < frame.blockSizes.length; k++) {
      const size = frame.blockSizes[k]!;
      this.put(frame.blockKeys[k]!);
      this.nested(frame.blockDims[k]!, 0, 0, matrix, size, offset, n);
      offset += size;
    }
    if (report.warnings.length === 0) {
      this.reserve(NO_WARNINGS.length);
      this.put(NO_WARNINGS);
    } else this.text(`},"warnings":[${report.warnings.map(kinkWarningJson).join(',')}]}\n`);
    return true;
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
      const end = from + cachedLengths[slot]!;
      for (; from < end; from++) buffer[at++] = cachedBytes[from]!;
      this.length = at;
      return;
    }
    // -x is written as x with its sign flipped, so a negated number is found too.
    const negated = x === 0 ? -1 : slotOf(-x);
    const start = at;
    if (negated >= 0 && cachedValues[negated] === -x) {
      let other = negated * SLOT_BYTES;
      const end = other + cachedLengths[negated]!;
      if (x < 0) buffer[at++] = MINUS;
      else other++;
      for (; other < end; other++) buffer[at++] = cachedBytes[other]!;
      for (let k = start; k < at; k++) cachedBytes[from++] = buffer[k]!;
    } else {
      // Written as bytes where the digits are proved, else by JSON.stringify.
      const end = writeShortest(x, buffer, at);
      if (end >= 0) {
        for (; at < end; at++) cachedBytes[from++] = buffer[at]!;
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
  private frameOf(report: MatrixReport): Frame {
    const fields = repeatedFields(report);
    const frame = this.frame;
    // Made apart (once per shape), so that V8 optimizes this check, which runs per line, without it.
    if (frame === null || !fits(frame, fields, report))
      return (this.frame = newFrame(report, fields, (text) => this.encoder.encode(text)));
    return frame;
  }
}

/** The repeating text of the report's line, for the fields, names and shapes it has. */
function newFrame(report: MatrixReport, fields: RepeatedFields, encode: (text: string) => Uint8Array): Frame {
  const inputs = report.inputs;
  const atRuns: Uint8Array[] = [];
  const atVariables: number[] = [];
  let run = `"command":"jacobian","expr":${fields.expr},"at":{`;
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
  const tail = encode(
    `,"valueShape":[${report.value.shape.join(',')}],"shape":[${report.m},${report.n}],` +
      `"mode":"${report.mode}","method":"${report.method}","passes":${report.passes},"jacobian":`,
  );
  const blockKeys = inputs.map(({ name }, k) => encode(`${k === 0 ? ',"blocks":{' : ','}${keyJson(name)}`));
  const blockDims = inputs.map(({ shape }) => [...report.value.shape, ...shape]);
  return {
    fields,
    at: report.at.slice(),
    valueShape: report.value.shape.slice(),
    mode: report.mode,
    method: report.method,
    passes: report.passes,
    atRuns,
    atVariables,
    middle,
    bytes:
      [...atRuns, middle, tail, ...blockKeys].reduce((sum, bytes) => sum + bytes.length, 0) +
      arrayBytes(report.value.shape) +
      arrayBytes([report.m, report.n]) +
      blockDims.reduce((sum, dims) => sum + arrayBytes(dims), 0),
    tail,
    blockKeys,
    jacobianDims: [report.m, report.n],
    blockDims,
    blockSizes: inputs.map(({ shape }) => sizeOf(shape)),
  };
}

/** Whether `frame` is the text of the report's line: the same fields, names, fixed values, shapes and method. */
function fits(frame: Frame, fields: RepeatedFields, report: MatrixReport): boolean {
  if (frame.fields !== fields || frame.at.length !== report.at.length) return false;
  if (frame.mode !== report.mode || frame.method !== report.method || frame.passes !== report.passes) return false;
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
