/**
 * A batch's JSON Lines as UTF-8 bytes, each line written straight into one
 * growing buffer: the line of a dense Jacobian number by number (no text of
 * the line, its fields or its rows is made), any other report through
 * jsonLine. Both give the same bytes.
 */
import {
  jsonLine,
  keyJson,
  kinkWarningJson,
  numberJson,
  repeatedFields,
  SHARED_TEXT_MAX,
  type RepeatedFields,
} from './json.js';
import type { Binding, MatrixReport, Report } from './report.js';

/** Room for a number: its JSON (24 bytes at most, as `-1.2345678901234567e-308`) and a comma. */
const NUMBER_BYTES = 25;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;

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
  /** `"command":"jacobian","expr":…,"at":{` */
  readonly head: Uint8Array;
  /** `"x":` or `,"x":` for each `at` name, then its value's JSON when it was given as JSON text. */
  readonly atKeys: readonly Uint8Array[];
  readonly atTexts: readonly (Uint8Array | null)[];
  /** `},"wrt":…,"inputs":…,"value":` */
  readonly middle: Uint8Array;
  /** `,"valueShape":…,"shape":…,"mode":…,"method":…,"passes":…,"jacobian":` */
  readonly tail: Uint8Array;
  /** `,"blocks":{"x":` then `,"y":` … for each differentiated variable, and its block's dimensions. */
  readonly blockKeys: readonly Uint8Array[];
  readonly blockDims: readonly (readonly number[])[];
}

export class JsonLines {
  private buffer = new Uint8Array(1 << 16);
  private length = 0;
  private readonly encoder = new TextEncoder();
  private frame: Frame | null = null;

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

  private encoded(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
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
    if (line === null) this.text('{');
    else this.text(`{"line":${line},`);
    this.encoded(frame.head);
    for (let k = 0; k < report.at.length; k++) {
      const given = report.at[k]!.value;
      this.encoded(frame.atKeys[k]!);
      // A value given as JSON text (fixed on the command line) is the frame's, whose text it holds.
      const fixed = frame.atTexts[k]!;
      if (fixed !== null) this.encoded(fixed);
      else this.nested(given.shape, 0, 0, given.data, 1, 0, 1);
    }
    this.encoded(frame.middle);
    this.nested(value.shape, 0, 0, value.data, 1, 0, 1);
    this.encoded(frame.tail);
    this.nested([report.m, n], 0, 0, matrix, 1, 0, 1);
    // Each variable's block: its columns of J, shaped (value's shape) + (variable's shape).
    let offset = 0;
    for (let k = 0; k < report.inputs.length; k++) {
      const size = entries(report.inputs[k]!.shape);
      this.encoded(frame.blockKeys[k]!);
      this.nested(frame.blockDims[k]!, 0, 0, matrix, size, offset, n);
      offset += size;
    }
    this.text(
      report.warnings.length === 0
        ? '},"warnings":[]}\n'
        : `},"warnings":[${report.warnings.map(kinkWarningJson).join(',')}]}\n`,
    );
    return true;
  }

  /**
   * Nested arrays in `dims` of the entries t = 0, 1, … (row-major) from `depth` on, starting at entry `t`;
   * entry t is data[⌊t/size⌋·stride + offset + t mod size]: the columns [offset, offset + size) of rows
   * `stride` apart (size 1 and stride 1 read data in order). Returns the entry after the last written.
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
      this.reserve(NUMBER_BYTES);
      this.number(data[at]!);
      return t + 1;
    }
    const count = dims[depth]!;
    if (depth === dims.length - 1) {
      // The innermost arrays in one loop, in room reserved for the whole array: a run along a variable's last
      // dimension lies in one row of data, and a scalar variable's entries lie a row apart.
      this.reserve(2 + NUMBER_BYTES * count);
      const step = size === 1 ? stride : 1;
      this.buffer[this.length++] = OPEN;
      for (let i = 0; i < count; i++) {
        if (i > 0) this.buffer[this.length++] = COMMA;
        this.number(data[at + i * step]!);
      }
      this.buffer[this.length++] = CLOSE;
      return t + count;
    }
    this.byte(OPEN);
    let next = t;
    for (let i = 0; i < count; i++) {
      if (i > 0) this.byte(COMMA);
      next = this.nested(dims, depth + 1, next, data, size, offset, stride);
    }
    this.byte(CLOSE);
    return next;
  }

  /** A number as JSON writes it (all ASCII), in room reserved for it. */
  private number(x: number): void {
    const text = numberJson(x);
    const { buffer } = this;
    let at = this.length;
    for (let k = 0; k < text.length; k++) buffer[at++] = text.charCodeAt(k);
    this.length = at;
  }

  /** The repeating text of the report's line: the last one made, while it fits. */
  private frameOf(report: MatrixReport): Frame {
    const fields = repeatedFields(report);
    const frame = this.frame;
    if (frame !== null && fits(frame, fields, report)) return frame;
    const encode = (text: string) => this.encoder.encode(text);
    const inputs = report.inputs;
    const made: Frame = {
      fields,
      at: report.at.slice(),
      valueShape: report.value.shape.slice(),
      mode: report.mode,
      method: report.method,
      passes: report.passes,
      head: encode(`"command":"jacobian","expr":${fields.expr},"at":{`),
      atKeys: report.at.map(({ name }, k) => encode(`${k === 0 ? '' : ','}${keyJson(name)}`)),
      atTexts: report.at.map(({ value }) => (value.json === undefined ? null : encode(value.json))),
      middle: encode(`},"wrt":${fields.wrt},"inputs":${fields.inputs},"value":`),
      tail: encode(
        `,"valueShape":[${report.value.shape.join(',')}],"shape":[${report.m},${report.n}],` +
          `"mode":"${report.mode}","method":"${report.method}","passes":${report.passes},"jacobian":`,
      ),
      blockKeys: inputs.map(({ name }, k) => encode(`${k === 0 ? ',"blocks":{' : ','}${keyJson(name)}`)),
      blockDims: inputs.map(({ shape }) => [...report.value.shape, ...shape]),
    };
    this.frame = made;
    return made;
  }
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
    // A value given as JSON text is written as that text: the frame holds it for that value only.
    const text = frame.atTexts[k] !== null;
    if (before.name !== now.name || text !== (now.value.json !== undefined) || (text && before.value !== now.value))
      return false;
  }
  return true;
}

function entries(shape: readonly number[]): number {
  let size = 1;
  for (let k = 0; k < shape.length; k++) size *= shape[k]!;
  return size;
}
