/**
 * `--batch FILE` (or `-`): one point a line in JSON Lines, one JSON result a
 * line out, in order. The expression is compiled once per shape (and per
 * thread); values fixed on the command line are given once. A bad line gets
 * an error object on its output line and the rest go on. `--jobs N` runs
 * the points on N worker threads; `--shard K/N` takes the lines whose
 * number is K modulo N.
 */
import { availableParallelism } from 'node:os';
import { InputError, UserError } from '../errors.js';
import { nestedJson } from '../format/json.js';
import type { CommandName } from './commands.js';
import { linesOf, OutputError, readFailureReason, terminalLine, type Io } from './io.js';
import { batchFormat, type OutputOptions, type Shard } from './options.js';
import { Progress } from './progress.js';
import { collectBindings, inputLimit, readSource, requestedWrt } from './request.js';
import { batchTableSyntax, TablePoints } from './batch-table.js';
import { BatchThreads } from './workers.js';
import { BatchPoints, type BatchSetup, type Chunk, type ChunkOutput, type CsvPoint } from './workers-batch.js';

// Lines are handed out (to a thread, or run here) this many at a time, or fewer when they are long: few enough
// that the chunks in flight stay small next to the output a slow reader may leave waiting.
const CHUNK_LINES = 512;
const CHUNK_CHARACTERS = 1 << 16;
// A file this long (per shard) is likely to make several chunks: the threads --jobs asks for start at once.
export const EARLY_THREADS_BYTES = 4 * CHUNK_CHARACTERS;
// Without --jobs, a file this long (per shard) starts a thread per core at once too: its lines pay for them even at
// the least work a byte of input brings. Measured on 2 cores, started so: 50 000 Lorenz points (3.5 MB) took about
// as long on two threads as on one; 100 000 (7 MB), 0.50 s against 0.59.
export const DEFAULT_EARLY_THREADS_BYTES = 1 << 22;
// Without --jobs, a shorter file (or standard input) starts threads only when the work left on this thread alone is
// at least this long: a thread first costs the batch its loading and compiling, then takes a share of the points.
// Measured on 2 cores, started so (before threads shared their outputs' memory, which made them cheaper): 500 000
// Lorenz points took 1.47 s (1.74 s on one thread); two threads paid from about 200 000 points, 0.6 s of work left
// when the batch judges.
export const THREADS_PAY_SECONDS = 0.75;
// This thread's time per line is judged once it has worked this long: its first points run before V8 has
// optimised their code, ten times slower than the later ones.
export const JUDGED_AFTER_SECONDS = 0.15;
/** This thread's work, in ms, between turns of the event loop when it runs a batch alone. */
const TURN_EVERY_MS = 10;

/**
 * `--format csv`: a header, written with the first row, then one row per
 * point. Every row must have the header's columns: a point of other shapes is refused.
 */
class CsvTable {
  private header: string | null = null;
  private columns = 0;

  /** The rows of the points, in order; a failed point is left out and said on standard error. */
  rows(points: readonly CsvPoint[], io: Io): { text: string; failed: number } {
    let text = '';
    let failed = 0;
    for (const point of points) {
      let message: string;
      if ('error' in point) message = point.error;
      else if (this.header === null) {
        this.header = point.header;
        this.columns = point.columns;
        text += `${point.header}\n${point.row}`;
        continue;
      } else if (point.header === this.header) {
        text += point.row;
        continue;
      } else {
        const differ =
          point.columns === this.columns
            ? "its columns differ from the header's"
            : `its result has ${point.columns} columns where the header has ${this.columns}`;
        message = `${differ}: a CSV batch needs the same shapes on every line; use --format jsonl`;
      }
      failed++;
      // A CSV table holds numbers only: a failed line is left out of it, and said on standard error.
      io.error(`warning: line ${point.line} left out: ${terminalLine(message)}\n`);
    }
    return { text, failed };
  }
}

/**
 * Writes the chunks' outputs in input order as they come (a chunk that finishes early waits for those before
 * it), counting the failed lines. A write that fails is kept, for the batch to throw.
 */
class OrderedOutput {
  private readonly done = new Map<number, ChunkOutput>();
  private next = 0;
  failed = 0;
  failure: unknown = null;

  constructor(
    private readonly io: Io,
    private readonly csv: CsvTable | null,
  ) {}

  put(id: number, output: ChunkOutput): void {
    this.done.set(id, output);
    for (let ready = this.done.get(this.next); ready !== undefined; ready = this.done.get(this.next)) {
      this.done.delete(this.next++);
      if (this.failure === null) {
        try {
          this.write(ready);
        } catch (error) {
          this.failure = error;
        }
      }
    }
  }

  private write(output: ChunkOutput): void {
    if (output.kind === 'csv') {
      const { text, failed } = this.csv!.rows(output.points, this.io);
      this.failed += failed;
      if (text !== '') this.io.write(text);
      return;
    }
    this.failed += output.failed;
    // Bytes written at once (not held by a stream until later) leave their buffer free for another chunk.
    let written = true;
    if (output.bytes.length > 0) {
      if (this.io.writeBytes !== undefined) written = this.io.writeBytes(output.bytes);
      else this.io.write(output.bytes.toString('utf8'));
    }
    if (written) output.release?.();
  }
}

/**
 * The lines of the chunk being gathered, taken from the runs read (the lines of the shard only). Its loop per
 * line is apart from runBatch's, which turns once per chunk: V8 optimizes a small function, not the batch's.
 */
class Gathered {
  lines: string[] = [];
  private characters = 0;
  /** The characters of every input line read so far (the other shards' too), with their line breaks. */
  private charactersRead = 0;
  private first = 0;
  private lineNumber = 0;
  /** The lines taken so far. */
  taken = 0;

  /** The input lines from one line of the shard to the next. */
  private readonly step: number;

  constructor(
    private readonly shard: Shard | undefined,
    /** A table's lines (a CSV or TSV file), read as points: its header first. */
    private readonly table: TablePoints | null,
  ) {
    this.step = shard?.count ?? 1;
  }

  /** Takes the lines of `run` from `from` on until a chunk is full: the index after it, or -1 when the run ends. */
  take(run: readonly string[], from: number): number {
    const { shard } = this;
    for (let k = from; k < run.length; k++) {
      const text = run[k]!;
      this.lineNumber++;
      this.charactersRead += text.length + 1;
      // A table's header is no point, and every shard reads it.
      if (this.table?.expectsHeader === true) {
        this.table.header(text);
        continue;
      }
      if (shard !== undefined && this.lineNumber % shard.count !== shard.index) continue;
      if (this.lines.length === 0) this.first = this.lineNumber;
      this.lines.push(this.table === null ? text : this.table.point(text));
      this.characters += text.length;
      this.taken++;
      if (this.lines.length >= CHUNK_LINES || this.characters >= CHUNK_CHARACTERS) return k + 1;
    }
    return -1;
  }

  /** The chunk of the lines gathered; the next starts empty. */
  chunk(): Chunk {
    const chunk: Chunk = { first: this.first, step: this.step, lines: this.lines };
    this.lines = [];
    this.characters = 0;
    return chunk;
  }

  /** The lines of the shard left in an input of `size` bytes, by the length of the lines read so far. */
  linesLeft(size: number): number {
    if (this.lineNumber === 0) return Infinity;
    return Math.max(0, size - this.charactersRead) / (this.charactersRead / this.lineNumber) / this.step;
  }
}

/** The chunks run on this thread: whether threads not started would pay for their start (without --jobs). */
export class OwnWork {
  private seconds = 0;
  /** The least time a line took in a chunk: its cost once V8 has optimised the code it runs. */
  private lineSeconds = Infinity;

  /** Counts a chunk of `lines` lines run in `seconds`. */
  add(lines: number, seconds: number): void {
    this.seconds += seconds;
    if (lines > 0) this.lineSeconds = Math.min(this.lineSeconds, seconds / lines);
  }

  /**
   * Whether the lines left (undefined: not known, a standard input) would take this thread THREADS_PAY_SECONDS;
   * a standard input's, once it has kept this thread working that long.
   */
  threadsPay(linesLeft: number | undefined): boolean {
    if (this.seconds < JUDGED_AFTER_SECONDS) return false;
    if (linesLeft === undefined) return this.seconds >= THREADS_PAY_SECONDS;
    return linesLeft * this.lineSeconds >= THREADS_PAY_SECONDS;
  }
}

/**
 * The most threads that run the batch's points, this one included: --jobs, else one per core (started when they
 * pay); one where Io starts none.
 */
const threadCount = (options: OutputOptions, io: Io): number =>
  io.workerEntry === undefined ? 1 : (options.jobs ?? availableParallelism());

/** Runs the batch; the exit status is 0, or 1 when a line failed. */
export async function runBatch(
  command: CommandName,
  exprArg: string | undefined,
  options: OutputOptions & { readonly batch: string },
  io: Io,
): Promise<{ readonly status: number; readonly points: number; readonly failed: number; readonly threads: number }> {
  const format = batchFormat(options);
  if (format === 'csv' && command === 'check')
    throw new InputError('check reports errors, not numbers for a table: write its batch as --format jsonl');
  const source = await readSource(exprArg, options, io, options.batch === '-');
  // Values fixed for the whole batch are formatted once: every output line repeats them.
  const fixed = collectBindings({}, source.names, options, io).map(({ name, value }) => ({
    name,
    value: { ...value, json: value.json ?? nestedJson(value.shape, value.data) },
  }));
  const shard: Shard | undefined = options.shard;
  const setup: BatchSetup = {
    command,
    expr: source.expr,
    piped: source.piped,
    fixed,
    wrt: requestedWrt(options),
    options,
    format,
    numbered: shard !== undefined,
  };
  const points = BatchPoints.of(setup, source);
  const output = new OrderedOutput(io, format === 'csv' ? new CsvTable() : null);
  const jobs = threadCount(options, io);
  const startThreads = (): BatchThreads =>
    new BatchThreads(jobs - 1, io.workerEntry!, setup, (done, out) => output.put(done, out));
  // A long file starts its threads now: they load while this thread reads and runs the first chunks, rather than
  // from the second chunk on (or, without --jobs, from when this thread has judged that they pay).
  const step = shard?.count ?? 1;
  const size = jobs <= 1 || options.batch === '-' ? undefined : io.fileSize?.(options.batch);
  const earlyFrom = options.jobs !== undefined ? EARLY_THREADS_BYTES : DEFAULT_EARLY_THREADS_BYTES;
  const early = size !== undefined && size >= earlyFrom * step;
  let threads = early ? startThreads() : null;
  const own = new OwnWork();
  let interrupted = false;
  io.onInterrupt?.(() => {
    // Every output written is whole lines already: nothing is held back but chunks still running.
    interrupted = true;
  });
  const progress = new Progress(io, 'batch');
  const tableSyntax = batchTableSyntax(options.batch);
  const gathered = new Gathered(shard, tableSyntax === null ? null : new TablePoints(tableSyntax, options.batch));
  let chunks = 0;

  let lastTurn = performance.now();

  /** Chunks kept for the threads while they load, at most one per thread; the others run here meanwhile. */
  const kept: { readonly id: number; readonly chunk: Chunk }[] = [];

  /** Runs a chunk on the worker that holds fewest, or on this thread when none has room. */
  const run = async (id: number, chunk: Chunk): Promise<void> => {
    if (threads?.trySend(id, chunk) === true) return;
    const started = performance.now();
    const done = points.run(chunk);
    const finished = performance.now();
    own.add(chunk.lines.length, (finished - started) / 1000);
    output.put(id, done);
    // Lines already read arrive without a turn of the event loop; give one now and then, so Ctrl-C is heard and
    // the workers' outputs are taken: after every chunk while threads run, else after TURN_EVERY_MS of work (a
    // turn costs about as much as 20 Lorenz points).
    if (threads !== null || finished - lastTurn >= TURN_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      lastTurn = performance.now();
    }
  };

  /** Hands the kept chunks to the threads, once they have loaded (or could not). */
  const handOver = async (wait: boolean): Promise<void> => {
    if (threads === null || kept.length === 0 || (!wait && threads.loading)) return;
    await threads.loaded();
    for (const { id, chunk } of kept.splice(0)) await run(id, chunk);
  };

  /** Runs the lines gathered so far: on a worker, or on this thread. */
  const dispatch = async (): Promise<void> => {
    const chunk = gathered.chunk();
    const id = chunks++;
    // Workers not started with a long file are started by a second chunk (a small batch never waits for them to
    // load); without --jobs, by the first chunk after which the work left would pay for them. While they load,
    // this thread runs the chunks but the last one per worker, kept for them: it does not idle, and every thread
    // gets a chunk however soon the batch ends.
    if (threads === null && jobs > 1 && id > 0) {
      const linesLeft = size === undefined ? undefined : gathered.linesLeft(size);
      if (options.jobs !== undefined || own.threadsPay(linesLeft)) threads = startThreads();
    }
    await handOver(false);
    // The first chunk runs here: a batch of one chunk never waits for a thread to load.
    if (threads?.loading === true && id > 0) {
      kept.push({ id, chunk });
      const oldest = kept.length >= jobs ? kept.shift()! : null;
      if (oldest !== null) await run(oldest.id, oldest.chunk);
    } else {
      await run(id, chunk);
    }
    if (output.failure !== null) throw output.failure;
    progress.update(gathered.taken, null, 'points');
    // A slow reader: no more lines are read or computed until it has taken most of the output, so memory holds
    // at most about OUTPUT_HIGH_WATER bytes of it, besides the chunks in flight, however many lines there are.
    await io.whenWritable?.();
  };

  /** The last lines, then the kept chunks, then the threads' chunks. */
  const finish = async (): Promise<void> => {
    if (gathered.lines.length > 0) await dispatch();
    await handOver(true);
    await threads?.idle();
  };

  try {
    // A line is held whole to parse it: one longer than --max-input ends the batch, since finding the next
    // line would mean reading on without bound (an endless /dev/zero has none).
    reading: for await (const run of linesOf(io, options.batch, inputLimit('--batch', options))) {
      for (let next = gathered.take(run, 0); next >= 0; next = gathered.take(run, next)) {
        await dispatch();
        // Its reader gone (`| head`), the rest of the batch would be computed for no one: an endless input never
        // ends. (Both are told by events, heard only while a chunk is dispatched.)
        if (io.outputClosed?.() === true) break reading;
        // Interrupted: no more lines; the handler ends the process once standard output has taken what it has.
        if (interrupted) await new Promise<never>(() => {});
      }
    }
    await finish();
  } catch (error) {
    if (error instanceof OutputError || error === threads?.failed) throw error;
    // The lines before the one that ended the batch are written.
    await finish();
    if (error instanceof UserError) throw error;
    throw new InputError(`--batch: cannot read ${options.batch}: ${readFailureReason(error)}`);
  } finally {
    threads?.close();
  }
  if (output.failure !== null) throw output.failure;
  progress.finish();
  return {
    status: output.failed > 0 ? 1 : 0,
    points: gathered.taken,
    failed: output.failed,
    threads: 1 + (threads?.count ?? 0),
  };
}
