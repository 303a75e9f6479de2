/**
 * `--batch FILE` (or `-`): one point a line in JSON Lines, one JSON result a
 * line out, in order, each written as soon as it is done. The expression is
 * compiled once per shape; values fixed on the command line are given once.
 * A bad line gets an error object on its output line and the rest go on.
 */
import { InputError, UserError } from '../errors.js';
import { jsonChunks, nestedJson } from '../format/json.js';
import { compute, type CommandName } from './commands.js';
import { linesOf, OutputError, type Io } from './io.js';
import { CLI_WORDING, type OutputOptions } from './options.js';
import { Progress } from './progress.js';
import {
  bindRequest,
  collectBindings,
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

/** Runs the batch; the exit status is 0, or 1 when a line failed. */
export async function runBatch(
  command: CommandName,
  exprArg: string | undefined,
  options: OutputOptions & { readonly batch: string },
  io: Io,
): Promise<{ readonly status: number; readonly points: number; readonly failed: number }> {
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
  io.onInterrupt?.(flush);
  const progress = new Progress(io, 'batch');
  let failed = 0;
  let lineNumber = 0;
  let points = 0;
  try {
    for await (const text of linesOf(io, options.batch)) {
      lineNumber++;
      if (text.trim() === '') continue;
      let output: string;
      try {
        const line = parseLine(text);
        const bindings = [...fixed];
        for (const binding of jsonBindings(line.at, `line ${lineNumber}: `)) mergeBinding(bindings, binding);
        const piped = {
          ...source.piped,
          ...(line.v === undefined ? {} : { v: line.v }),
          ...(line.u === undefined ? {} : { u: line.u }),
        };
        const request = bindRequest({ ...source, piped }, bindings, wrt, options);
        output = jsonChunks(compute(command, request, options).report).join('');
      } catch (error) {
        failed++;
        const message =
          error instanceof UserError
            ? error.messageIn(CLI_WORDING)
            : `internal error: ${error instanceof Error ? error.message : String(error)}`;
        output = `${JSON.stringify({ line: lineNumber, error: message })}\n`;
      }
      pending += output;
      if (pending.length >= FLUSH_BYTES) flush();
      progress.update(++points, null, 'points');
      // Lines already read arrive without a turn of the event loop; give one now and then, so Ctrl-C is heard.
      if (points % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    if (error instanceof OutputError) throw error;
    flush();
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InputError(`--batch: cannot read ${options.batch}: ${reason}`);
  }
  flush();
  progress.finish();
  return { status: failed > 0 ? 1 : 0, points, failed };
}
