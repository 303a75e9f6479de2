/**
 * `--batch FILE` (or `-`): one point a line in JSON Lines, one JSON result a
 * line out, in order, each written as soon as it is done. The expression is
 * compiled once per shape; values fixed on the command line are given once.
 * A bad line gets an error object on its output line and the rest go on.
 */
import { InputError, UserError } from '../errors.js';
import { jsonChunks, nestedJson } from '../format/json.js';
import { columnLabels, entryLabels } from '../format/labels.js';
import { nonFiniteText } from '../format/number.js';
import type { Report } from '../format/report.js';
import { compute, type CommandName } from './commands.js';
import { linesOf, OutputError, terminalLine, withoutBom, type Io } from './io.js';
import { batchFormat, CLI_WORDING, type OutputOptions } from './options.js';
import { Progress } from './progress.js';
import {
  bindRequest,
  collectBindings,
  inputLimit,
  isRecord,
  jsonBindings,
  mergeBinding,
  readSource,
  requestedWrt,
} from './request.js';

// Output is written in pieces of about this size: one write per line would cost a system call each.
const FLUSH_BYTES = 1 << 16;
const YIELD_EVERY = 256;

interface BatchLine {
  readonly at: Readonly<Record<string, unknown>>;
  readonly v?: unknown;
  readonly u?: unknown;
}

/** `{"at": {...}, "v": [...]}` or the bare `at` object. */
function parseLine(text: string): BatchLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UserError(`not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(parsed)) throw new UserError('a line must be a JSON object: {"at": {"x": [1, 2]}} or {"x": [1, 2]}');
  if (!isRecord(parsed.at)) return { at: parsed };
  return {
    at: parsed.at,
    ...(parsed.v === undefined ? {} : { v: parsed.v }),
    ...(parsed.u === undefined ? {} : { u: parsed.u }),
  };
}

/**
 * `--format csv`: one row per point, the point's line number, then the
 * value's entries, then the derivative's (J row-major, ∇f, vᵀJ, J·u, H or
 * H·u), under a header written with the first row. Every row must have the
 * header's columns: a point of other shapes is refused.
 */
class CsvRows {
  private header: string | null = null;
  private columns = 0;

  row(line: number, report: Report): string {
    const { labels, numbers } = derivativeColumns(report);
    const outputs = entryLabels('f', report.value.shape);
    const header = ['line', ...outputs, ...labels].map(csvCell).join(',');
    const cells = [String(line), ...Array.from(report.value.data, exact), ...Array.from(numbers, exact)];
    const row = `${cells.join(',')}\n`;
    if (this.header === null) {
      this.header = header;
      this.columns = cells.length;
      return `${header}\n${row}`;
    }
    if (header !== this.header) {
      const differ =
        cells.length === this.columns
          ? "its columns differ from the header's"
          : `its result has ${cells.length} columns where the header has ${this.columns}`;
      throw new UserError(`${differ}: a CSV batch needs the same shapes on every line; use --format jsonl`);
    }
    return row;
  }
}

/** The derivative's entries of one point, with their column labels. */
function derivativeColumns(report: Report): { labels: string[]; numbers: ArrayLike<number> } {
  const inputs = columnLabels(report.inputs);
  const outputs = entryLabels('f', report.value.shape);
  switch (report.command) {
    case 'jacobian': {
      const { matrix } = report;
      if (!(matrix instanceof Float64Array)) {
        // A sparse J: its stored entries, whose places are the same at every point of the same shapes.
        const labels = Array.from(matrix.rows, (i, k) => `d${outputs[i]!}/d${inputs[matrix.cols[k]!]!}`);
        return { labels, numbers: matrix.values };
      }
      return { labels: outputs.flatMap((o) => inputs.map((x) => `d${o}/d${x}`)), numbers: matrix };
    }
    case 'hessian':
      return {
        labels: inputs.flatMap((a) => inputs.map((b) => `d2f/d${a}d${b}`)),
        numbers: report.matrix as Float64Array,
      };
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

/** RFC 4180: a label holding a comma (as W[2,3] does) or a quote is quoted. */
const csvCell = (text: string): string =>
  text.includes(',') || text.includes('"') ? `"${text.replace(/"/g, '""')}"` : text;

/** A number in full precision (shortest round-trip), NaN and ±Infinity spelled out. */
const exact = (x: number): string => (Number.isFinite(x) ? String(x) : nonFiniteText(x));

/** Runs the batch; the exit status is 0, or 1 when a line failed. */
export async function runBatch(
  command: CommandName,
  exprArg: string | undefined,
  options: OutputOptions & { readonly batch: string },
  io: Io,
): Promise<{ readonly status: number; readonly points: number; readonly failed: number }> {
  const format = batchFormat(options);
  if (format === 'csv' && command === 'check')
    throw new InputError('check reports errors, not numbers for a table: write its batch as --format jsonl');
  const csv = format === 'csv' ? new CsvRows() : null;
  const source = await readSource(exprArg, options, io, options.batch === '-');
  // Values fixed for the whole batch are formatted once: every output line repeats them.
  const fixed = collectBindings({}, source.names, options, io).map(({ name, value }) => ({
    name,
    value: { ...value, json: value.json ?? nestedJson(value.shape, value.data) },
  }));
  const wrt = requestedWrt(options);
  let pending = '';
  const flush = () => {
    if (pending !== '') io.write(pending);
    pending = '';
  };
  let interrupted = false;
  io.onInterrupt?.(() => {
    interrupted = true;
    flush();
  });
  const progress = new Progress(io, 'batch');
  let failed = 0;
  let lineNumber = 0;
  let points = 0;
  try {
    // A line is held whole to parse it: one longer than --max-input ends the batch, since finding the next
    // line would mean reading on without bound (an endless /dev/zero has none).
    for await (const read of linesOf(io, options.batch, inputLimit('--batch', options))) {
      lineNumber++;
      // A byte order mark can only open the first line; the lines are read as they come, not through readFile.
      const text = lineNumber === 1 ? withoutBom(read) : read;
      let output: string;
      try {
        // Every input line gets one output line, so that the two can be joined line by line (paste).
        if (text.trim() === '') throw new InputError('blank line: give a point on every line, or remove the line');
        const line = parseLine(text);
        const bindings = [...fixed];
        // No "line N: " in the message: the error line and the CSV warning already say which line.
        for (const binding of jsonBindings(line.at, '')) mergeBinding(bindings, binding);
        const piped = {
          ...source.piped,
          ...(line.v === undefined ? {} : { v: line.v }),
          ...(line.u === undefined ? {} : { u: line.u }),
        };
        const request = bindRequest({ ...source, piped }, bindings, wrt, options);
        const { report } = compute(command, request, options);
        output = csv === null ? jsonChunks(report).join('') : csv.row(lineNumber, report);
      } catch (error) {
        failed++;
        const message =
          error instanceof UserError
            ? error.messageIn(CLI_WORDING)
            : `internal error: ${error instanceof Error ? error.message : String(error)}`;
        // A CSV table holds numbers only: a failed line is left out of it, and said on standard error.
        if (csv !== null) io.error(`warning: line ${lineNumber} left out: ${terminalLine(message)}\n`);
        output = csv === null ? `${JSON.stringify({ line: lineNumber, error: message })}\n` : '';
      }
      pending += output;
      progress.update(++points, null, 'points');
      if (pending.length >= FLUSH_BYTES) {
        flush();
        // A slow reader: no more lines are read or computed until it has taken most of the output, so memory
        // holds at most about OUTPUT_HIGH_WATER bytes of it, however many lines there are.
        await io.whenWritable?.();
        // Its reader gone (`| head`), the rest of the batch would be computed for no one: an endless input never ends.
        if (io.outputClosed?.() === true) break;
      }
      // Lines already read arrive without a turn of the event loop; give one now and then, so Ctrl-C is heard.
      if (points % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
      // Interrupted: no more lines; the handler ends the process once standard output has taken what it has.
      if (interrupted) await new Promise<never>(() => {});
    }
  } catch (error) {
    if (error instanceof OutputError) throw error;
    flush();
    if (error instanceof UserError) throw error;
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InputError(`--batch: cannot read ${options.batch}: ${reason}`);
  }
  flush();
  progress.finish();
  return { status: failed > 0 ? 1 : 0, points, failed };
}
