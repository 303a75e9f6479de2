/**
 * What a batch does with its points, on whichever thread runs them: a line
 * of JSON in, its result (or its error) out. The main thread runs it for
 * `--jobs 1` and while worker threads start; each worker thread runs one.
 */
import { InputError, UserError } from '../errors.js';
import { denseOf, isSparse } from '../format/dense.js';
import { delimitedCell } from '../format/formats.js';
import { JsonLines, LineFrames, lineBuffer } from '../format/json-lines.js';
import { columnLabels, entryLabels } from '../format/labels.js';
import { exactNumber as exact } from '../format/number.js';
import type { Binding, Report } from '../format/report.js';
import type { Tensor } from '../values.js';
import { PointLane } from './batch-lane.js';
import { FlatLine } from './batch-line.js';
import { compute, type CommandName } from './commands.js';
import { withoutBom, type Io } from './io.js';
import { CLI_WORDING, type BatchFormat, type OutputOptions } from './options.js';
import {
  bindRequest,
  isRecord,
  jsonBindings,
  mergeBinding,
  readSource,
  type PipedInput,
  type Request,
  type Source,
} from './request.js';

/** Everything a thread needs to run a batch's points: plain data, as a worker thread receives it. */
export interface BatchSetup {
  readonly command: CommandName;
  readonly expr: string;
  readonly piped: PipedInput;
  /** Values fixed on the command line, their JSON text made once. */
  readonly fixed: readonly Binding[];
  readonly wrt: readonly string[] | undefined;
  readonly options: OutputOptions;
  readonly format: BatchFormat;
  /** Each result line carries its input line number (`--shard`), so that shards merge back in order. */
  readonly numbered: boolean;
}

/** Lines of a batch: `lines[k]` is input line `first + k·step` (step > 1 for a shard). */
export interface Chunk {
  readonly first: number;
  readonly step: number;
  readonly lines: readonly string[];
}

/** One point of a CSV batch: its row and the header it needs, or why it failed. */
export type CsvPoint =
  | { readonly line: number; readonly header: string; readonly columns: number; readonly row: string }
  | { readonly line: number; readonly error: string };

/** A chunk's output: JSON Lines (results and error lines, in order), or the CSV points for the table to check. */
export type ChunkOutput =
  | {
      readonly kind: 'jsonl';
      readonly bytes: Buffer;
      readonly failed: number;
      /** Gives the bytes' buffer back to the thread that wrote them, once they are written, for a later chunk. */
      readonly release?: () => void;
    }
  | { readonly kind: 'csv'; readonly points: readonly CsvPoint[] };

interface BatchLine {
  readonly at: Readonly<Record<string, unknown>>;
  readonly v?: unknown;
  readonly u?: unknown;
}

/**
 * Starts a line that stands for a row of a batch table that is no point (batch-table.ts): the rest of the line
 * says why. No JSON starts with it.
 */
export const NOT_A_POINT = '\u0000';

/** `{"at": {...}, "v": [...]}` or the bare `at` object. */
function parseLine(text: string): BatchLine {
  if (text.startsWith(NOT_A_POINT)) throw new UserError(text.slice(1));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // A row of a table (a CSV file given to --batch, its header first) is no JSON: say what a line is.
    const hint = /^\s*[{["]/.test(text)
      ? ''
      : '; a line is a JSON object, as {"x": 1, "y": 2}, not a row of a table (a file named .csv or .tsv is read as one)';
    throw new UserError(`not valid JSON (${(error as Error).message})${hint}`);
  }
  if (!isRecord(parsed)) throw new UserError('a line must be a JSON object: {"at": {"x": [1, 2]}} or {"x": [1, 2]}');
  return isRecord(parsed.at) ? { at: parsed.at, v: parsed.v, u: parsed.u } : { at: parsed };
}

/** What standard output says of a failed line. */
const failureMessage = (error: unknown): string =>
  error instanceof UserError
    ? error.messageIn(CLI_WORDING)
    : `internal error: ${error instanceof Error ? error.message : String(error)}`;

/** An Io for a thread that reads nothing: the setup carries the expression and the values. */
const NO_INPUT: Io = {
  write: () => {},
  error: () => {},
  readStdin: () => Promise.reject(new Error('internal: a batch thread reads no input')),
  readFile: () => {
    throw new Error('internal: a batch thread reads no files');
  },
  stdinIsTTY: true,
  stdoutIsTTY: false,
  env: {},
};

/**
 * The request of the last flat line, `{"x": 1, "y": 2}`, kept for the lines with the same keys: each writes its
 * numbers into the values the request holds, so a point is bound without a binding, a map or a check.
 */
interface FlatRequest {
  readonly keys: readonly string[];
  /** The one-number value of each key, in the line's order. */
  readonly data: readonly Float64Array[];
  readonly request: Omit<Request, 'ms'>;
  /** The lane of its results (J, ∇f, vᵀJ, J·u): undefined until its first point is computed, null where none serves. */
  lane: PointLane | null | undefined;
}

/** Buffers of written chunks a thread keeps for its next ones: as many as it has chunks in flight, and one. */
const SPARE_BUFFERS = 3;

export class BatchPoints {
  private readonly flatLine = new FlatLine();
  private flat: FlatRequest | null = null;
  /** The bytes of output a line took in the last chunk run. */
  private lineBytes = 128;
  /**
   * Buffers whose bytes were written, for the next chunks to write into: memory touched once, not fresh pages
   * (zeroed, then faulted in) for every chunk.
   */
  private readonly spare: ArrayBufferLike[] = [];
  /** The frame of the dense lines written, from chunk to chunk. */
  private readonly frames = new LineFrames();

  private constructor(
    private readonly setup: BatchSetup,
    private readonly source: Source,
    /** Whether outputs are written into shared memory, to go to the main thread without being moved (a worker). */
    private readonly sharedOutput: boolean,
  ) {}

  /**
   * The points of `setup` on a worker thread, its expression parsed here (a thread shares no objects with
   * another). Its outputs are written into shared memory, to go to the main thread without being moved (lineBuffer).
   */
  static async create(setup: BatchSetup): Promise<BatchPoints> {
    // The expression comes as text: the file it may have come from (-f) is not read again.
    const { file: _file, ...options } = setup.options;
    const source = await readSource(setup.expr, options, NO_INPUT);
    return new BatchPoints(setup, { ...source, piped: setup.piped }, true);
  }

  /** A batch's points on the main thread, with the source it read already. */
  static of(setup: BatchSetup, source: Source): BatchPoints {
    return new BatchPoints(setup, source, false);
  }

  run(chunk: Chunk): ChunkOutput {
    const { first, step, lines } = chunk;
    if (this.setup.format === 'csv') {
      const points: CsvPoint[] = [];
      for (let k = 0; k < lines.length; k++) points.push(this.csvPoint(first + k * step, lines[k]!));
      return { kind: 'csv', points };
    }
    // Room for what the chunk is expected to write, by the bytes a line took in the last chunk, and an eighth
    // more: the buffer is made once, not grown by doubling (the bytes of each size made and dropped, per chunk).
    // A spare buffer with a sixteenth more serves, if there is one; a smaller one is dropped.
    const expected = this.lineBytes * lines.length;
    const spare = this.spare.pop();
    const out = new JsonLines(
      spare !== undefined && spare.byteLength >= expected * 1.0625
        ? new Uint8Array(spare)
        : lineBuffer(expected * 1.125, this.sharedOutput),
      this.frames,
    );
    let failed = 0;
    for (let k = 0; k < lines.length; k++) {
      const line = first + k * step;
      try {
        out.report(this.report(line, lines[k]!), this.setup.numbered ? line : null);
      } catch (error) {
        failed++;
        out.text(`${JSON.stringify({ line, error: failureMessage(error) })}\n`);
      }
    }
    const bytes = out.bytes();
    if (lines.length > 0) this.lineBytes = bytes.length / lines.length;
    return {
      kind: 'jsonl',
      bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length),
      failed,
      release: () => this.recycle(bytes.buffer),
    };
  }

  /** Takes back a buffer of a chunk's output whose bytes were written, for a later chunk to write into. */
  recycle(buffer: ArrayBufferLike): void {
    if (this.spare.length < SPARE_BUFFERS) this.spare.push(buffer);
  }

  private csvPoint(line: number, text: string): CsvPoint {
    try {
      return { line, ...csvCells(line, this.report(line, text)) };
    } catch (error) {
      return { line, error: failureMessage(error) };
    }
  }

  /** The report of one input line; a bad line throws why. */
  private report(lineNumber: number, read: string): Report {
    // A byte order mark can only open the first line; the lines are read as they come, not through readFile.
    const text = lineNumber === 1 ? withoutBom(read) : read;
    if (this.flatLine.read(text)) {
      const request = this.flatRequest();
      if (request !== null) return this.flatReport(this.flat!, request);
    }
    // Every input line gets one output line, so that the two can be joined line by line (paste).
    if (text.trim() === '') throw new InputError('blank line: give a point on every line, or remove the line');
    const line = parseLine(text);
    const { setup } = this;
    const bindings = setup.fixed.slice();
    // No "line N: " in the message: the error line and the CSV warning already say which line.
    for (const binding of jsonBindings(line.at, '')) mergeBinding(bindings, binding);
    const source =
      line.v === undefined && line.u === undefined
        ? this.source
        : {
            ...this.source,
            piped: {
              ...this.source.piped,
              ...(line.v === undefined ? {} : { v: line.v }),
              ...(line.u === undefined ? {} : { u: line.u }),
            },
          };
    return this.computed(bindRequest(source, bindings, setup.wrt, setup.options));
  }

  /**
   * The report of a bound point; its small results may share memory, as each is written before the next, and its
   * passes are not timed (a batch writes no timings).
   */
  private computed(request: Omit<Request, 'ms'>): Report {
    request.program.pooledResults = true;
    request.program.timed = false;
    return compute(this.setup.command, request, this.setup.options).report;
  }

  /** The report of a flat line's point: by the lane of its request where it serves, else the general way. */
  private flatReport(flat: FlatRequest, request: Omit<Request, 'ms'>): Report {
    const { lane } = flat;
    if (lane !== undefined && lane !== null && lane.program === request.program) {
      const report = lane.report();
      if (report !== null) return report;
      if (!lane.serves) flat.lane = null;
    }
    const report = this.computed(request);
    if (flat.lane === undefined && request === flat.request)
      flat.lane = PointLane.of(request, report, this.setup.options.mode);
    return report;
  }

  /** The request of the flat line just read, its numbers in place; null when its names cannot be bound as given. */
  private flatRequest(): Omit<Request, 'ms'> | null {
    const line = this.flatLine;
    let flat = this.flat;
    if (flat === null || !sameKeys(line, flat.keys)) {
      flat = this.flat = this.newFlatRequest();
      if (flat === null) return null;
    }
    for (let k = 0; k < line.count; k++) flat.data[k]![0] = line.numbers[k]!;
    // A name read by an index (x[k]) compiles a program per value: the cache says which program these numbers take.
    const program = this.source.programs.get(flat.request.bindings);
    return program === flat.request.program ? flat.request : { ...flat.request, program };
  }

  private newFlatRequest(): FlatRequest | null {
    const line = this.flatLine;
    const keys: string[] = [];
    const data: Float64Array[] = [];
    const bindings = this.setup.fixed.slice();
    for (let k = 0; k < line.count; k++) {
      const value: Tensor = { shape: [], data: Float64Array.of(line.numbers[k]!) };
      keys.push(line.key(k));
      data.push(value.data);
      mergeBinding(bindings, { name: keys[k]!, value });
    }
    try {
      const request = bindRequest(this.source, bindings, this.setup.wrt, this.setup.options);
      return { keys, data, request, lane: undefined };
    } catch {
      // The general path reads the line again and reports the problem.
      return null;
    }
  }
}

const sameKeys = (line: FlatLine, keys: readonly string[]): boolean => {
  if (line.count !== keys.length) return false;
  for (let k = 0; k < keys.length; k++) if (!line.keyIs(k, keys[k]!)) return false;
  return true;
};

/**
 * `--format csv`: one row per point, the point's line number, then the
 * value's entries, then the derivative's (J row-major, ∇f, vᵀJ, J·u, H or
 * H·u), with the header it needs.
 */
function csvCells(line: number, report: Report): { header: string; columns: number; row: string } {
  const outputs = entryLabels('f', report.value.shape);
  const { labels, numbers } = derivativeColumns(report, outputs);
  const header = ['line', ...outputs, ...labels].map(csvCell).join(',');
  const cells = [String(line), ...Array.from(report.value.data, exact), ...Array.from(numbers, exact)];
  return { header, columns: cells.length, row: `${cells.join(',')}\n` };
}

/** The derivative's entries of one point, with their column labels; `outputs` labels the value's entries. */
function derivativeColumns(
  report: Report,
  outputs: readonly string[],
): { labels: string[]; numbers: ArrayLike<number> } {
  const inputs = columnLabels(report.inputs);
  switch (report.command) {
    case 'jacobian': {
      const { matrix } = report;
      if (isSparse(matrix)) {
        // A sparse J: its stored entries, whose places are the same at every point of the same shapes.
        const labels = Array.from(matrix.rows, (i, k) => `d${outputs[i]!}/d${inputs[matrix.cols[k]!]!}`);
        return { labels, numbers: matrix.values };
      }
      return { labels: outputs.flatMap((o) => inputs.map((x) => `d${o}/d${x}`)), numbers: denseOf(matrix) };
    }
    case 'hessian': {
      const { matrix } = report;
      if (isSparse(matrix)) {
        const labels = Array.from(matrix.rows, (i, k) => `d2f/d${inputs[i]!}d${inputs[matrix.cols[k]!]!}`);
        return { labels, numbers: matrix.values };
      }
      return { labels: inputs.flatMap((a) => inputs.map((b) => `d2f/d${a}d${b}`)), numbers: denseOf(matrix) };
    }
    case 'grad':
      return { labels: inputs.map((x) => `df/d${x}`), numbers: report.vector };
    case 'jvp':
      return { labels: outputs.map((o) => `jvp ${o}`), numbers: report.vector };
    case 'vjp':
    case 'hvp':
      return { labels: inputs.map((x) => `${report.command} ${x}`), numbers: report.vector };
    case 'check':
      throw new InputError('check reports errors, not numbers for a table: write its batch as --format jsonl');
  }
}

const csvCell = (text: string): string => delimitedCell(text, ',');
