/** The outside world as the CLI sees it, so tests can run it in-process. */
import { constants as bufferConstants, isAscii } from 'node:buffer';
import {
  chmodSync,
  closeSync,
  createReadStream,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isatty } from 'node:tty';
import { getSystemErrorMap } from 'node:util';
import { escapeControls } from '../errors.js';

export interface Io {
  /** Writes to standard output. */
  write(text: string): void;
  /**
   * Writes bytes (UTF-8 text) to standard output, as `write` writes text: true when they are written (or
   * dropped) already, so that their memory may be written again; false when a stream holds them until later.
   */
  writeBytes?(bytes: Uint8Array): boolean;
  /** Writes to standard error. */
  error(text: string): void;
  /** All of standard input as text; past `limit`, throws its refusal before reading further. */
  readStdin(limit?: ReadLimit): Promise<string>;
  /** A file as text; past `limit`, throws its refusal before reading further. */
  readFile(path: string, limit?: ReadLimit): string;
  /** A file as bytes (NumPy's .npy); past `limit`, throws its refusal before reading further. */
  readBytes?(path: string, limit?: ReadLimit): Uint8Array;
  /**
   * Writes a file the user asked for (spy --svg, -o): text, bytes, or bytes in parts written one after the
   * other (a header and a matrix's own memory, never copied into one buffer); throws an OutputError when it cannot.
   */
  writeFile?(path: string, content: FileContent): void;
  /** Waits until standard output has taken everything written; throws an OutputError if it failed. */
  flush?(): Promise<void>;
  /**
   * Waits while standard output holds more than OUTPUT_HIGH_WATER bytes its reader has not taken yet (at once
   * when it holds less); throws an OutputError if it failed. Absent: writes never pile up.
   */
  whenWritable?(): Promise<void>;
  /** Whether standard output's reader has closed it (`| head -1`): nothing written from now on is read. */
  outputClosed?(): boolean;
  /** The size of a regular file in bytes, to refuse one before reading it (undefined: unknown, or a pipe or device). */
  fileSize?(path: string): number | undefined;
  /**
   * The lines of a file, or of standard input for '-', as they arrive, a run of them at a time (default: read
   * whole, then split); a line longer than `limit` throws its refusal, with the line's number.
   */
  readLines?(source: string, limit: ReadLimit): AsyncIterable<readonly string[]>;
  /**
   * Runs `flush` when the user interrupts (Ctrl-C) or the process is told to end (SIGTERM); the process ends
   * once standard output has taken everything written before, and ignores writes after.
   */
  onInterrupt?(flush: () => void): void;
  /** A script that runs a batch thread (it calls serveBatch): absent, a batch runs on this thread only. */
  readonly workerEntry?: string;
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY?: boolean;
  /** The terminal's width in columns, when standard output is a terminal. */
  readonly columns?: number;
  /** The terminal's height in lines, when standard output is a terminal. */
  readonly rows?: number;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Whether the terminal shows ASCII only: TERM=dumb, or a locale whose
 * character set is not UTF-8 (the first of LC_ALL, LC_CTYPE and LANG that is
 * set: C, POSIX, en_US.ISO-8859-1). With none set, output is UTF-8, as Node writes it.
 */
export function asciiOnly(env: Io['env']): boolean {
  if (env.TERM === 'dumb') return true;
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((value) => value !== undefined && value !== '');
  return locale !== undefined && !/utf-?8/i.test(locale);
}

/** How many bytes an input may have, and what to throw when it has more. */
export interface ReadLimit {
  readonly bytes: number;
  /**
   * The refusal, given the limit that held: `bytes`, or less when that is more than a string can hold.
   * `line` is the 1-based number of a line that is too long.
   */
  readonly refuse: (bytes: number, line?: number) => Error;
  /**
   * A smaller limit chosen by how the input begins (plain text or JSON on standard input), given the bytes read
   * so far; undefined until they tell.
   */
  readonly narrow?: (head: Buffer) => number | undefined;
}

/** Text longer than this cannot be a string in Node (about 512 MiB): a limit above it is held here instead. */
const MAX_TEXT_BYTES = Math.min(bufferConstants.MAX_STRING_LENGTH, bufferConstants.MAX_LENGTH);

const effectiveBytes = (limit: ReadLimit | undefined): number =>
  Math.max(0, Math.min(Math.floor(limit?.bytes ?? Infinity), MAX_TEXT_BYTES));

const CHUNK_BYTES = 1 << 16;

// Something to wait on while a non-blocking standard input has nothing yet: Atomics.wait sleeps without spinning.
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads all of a file, a device or a pipe (a path, or an open descriptor such
 * as 0 for standard input), counting the bytes as they arrive: stat says 0
 * for devices and pipes, so only the count holds a limit on an endless or
 * unsized input. Past `limit`, throws its refusal having read at most one
 * byte more; memory grows with what was read, never beyond the limit.
 */
export function readBounded(source: string | number, limit?: ReadLimit): Buffer {
  let bytes = effectiveBytes(limit);
  let narrow = limit?.narrow;
  const fd = typeof source === 'number' ? source : openSync(source, 'r');
  try {
    // A file says its size (0 for a device or a pipe): read into one buffer that large, and a byte to see the end.
    const size = typeof source === 'number' ? 0 : fstatSync(fd).size;
    let buffer = Buffer.allocUnsafe(Math.min(Math.max(CHUNK_BYTES, size + 1), bytes + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > bytes) throw (limit?.refuse ?? tooLarge)(bytes);
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, bytes + 1));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const read = readWaiting(fd, buffer, length);
      if (read === 0) return buffer.subarray(0, length);
      length += read;
      const narrowed = narrow?.(buffer.subarray(0, length));
      if (narrowed !== undefined) {
        narrow = undefined;
        bytes = Math.min(bytes, Math.max(0, Math.floor(narrowed)));
      }
      if (length > bytes) throw (limit?.refuse ?? tooLarge)(bytes);
    }
  } finally {
    if (typeof source !== 'number') closeSync(fd);
  }
}

/** Without a limit of its own, an input is still bounded by what a string can hold. */
const tooLarge = (bytes: number): Error =>
  new RangeError(`the input has more than ${bytes} bytes, more than a string can hold`);

function readWaiting(fd: number, buffer: Buffer, offset: number): number {
  for (;;) {
    try {
      return readSync(fd, buffer, offset, buffer.length - offset, null);
    } catch (error) {
      // Standard input left non-blocking by whoever started us: no data yet, so wait for some.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(SLEEPER, 0, 0, 5);
    }
  }
}

/**
 * The chunks of a file by path: a regular file read here, with no round trip through the thread pool per chunk
 * (a file's next bytes are always there); a device or a pipe streamed, as it may have none yet.
 */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  // Told by stat, not by opening: opening a FIFO waits for its writer, which the stream does off this thread.
  if (!statSync(path).isFile()) {
    yield* createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>;
    return;
  }
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      // A new buffer each time: a line's start may be kept from one chunk while the next is read.
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (read === 0) return;
      yield chunk.subarray(0, read);
    }
  } finally {
    closeSync(fd);
  }
}

/** Bytes as text: number files are ASCII, which decodes several times faster as latin1 than as UTF-8. */
const decode = (bytes: Buffer): string => bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');

/**
 * The lines of a stream, split at \n (a \r before it dropped), each decoded
 * when it is complete, in runs: the lines each chunk read completes (a turn of
 * the event loop per chunk, not per line). A line longer than `limit` throws its
 * refusal as soon as the count passes it, after the run of the lines before
 * it: only the current line and run are held, never more than the limit and a chunk.
 */
export async function* boundedLines(input: AsyncIterable<Buffer>, limit: ReadLimit): AsyncGenerator<string[]> {
  const bytes = effectiveBytes(limit);
  const splitter = new LineSplitter(bytes);
  // The loop per line is the splitter's: this generator turns once per chunk, and V8 never optimizes it.
  for await (const chunk of input) {
    const run: string[] = [];
    const fits = splitter.split(chunk, run);
    if (run.length > 0) yield run;
    if (!fits) throw limit.refuse(bytes, splitter.line);
  }
  const last = splitter.rest();
  if (last !== null) yield [last];
}

const withoutCr = (text: string): string => (text.charCodeAt(text.length - 1) === 0x0d ? text.slice(0, -1) : text);

/** Splits chunks of bytes into lines, holding the start of a line that a chunk leaves unfinished. */
class LineSplitter {
  /** The start of the current line, from earlier chunks. */
  private parts: Buffer[] = [];
  private length = 0;
  /** The 1-based number of the current line. */
  line = 1;

  constructor(private readonly bytes: number) {}

  /** Appends the lines `chunk` completes to `run`; false when the current line passes the limit. */
  split(chunk: Buffer, run: string[]): boolean {
    // An ASCII chunk's lines that lie wholly within it are decoded at once (asciiLines); any other line here.
    let ascii = isAscii(chunk);
    let start = 0;
    for (;;) {
      if (ascii && this.length === 0) {
        ascii = false;
        start = this.asciiLines(chunk, start, run);
        if (start < 0) return false;
      }
      const newline = chunk.indexOf(10, start);
      const end = newline < 0 ? chunk.length : newline;
      if (this.length + end - start > this.bytes) return false;
      if (newline < 0) {
        if (end > start) this.parts.push(chunk.subarray(start, end));
        this.length += end - start;
        return true;
      }
      // Most lines lie within one chunk: decoded in place, not copied first.
      if (this.length === 0) run.push(withoutCr(chunk.toString('utf8', start, end)));
      else run.push(withoutCr(this.joined(chunk.subarray(start, end))));
      this.line++;
      start = newline + 1;
    }
  }

  /**
   * The lines of an ASCII chunk from `start` that end within it, decoded at once as latin1 (several times faster
   * than UTF-8, and the same text), each a slice of that text rather than a string decoded and copied on its own.
   * Returns where the rest of the chunk starts, or -1 when a line passes the limit.
   */
  private asciiLines(chunk: Buffer, start: number, run: string[]): number {
    const last = chunk.lastIndexOf(10);
    if (last < start) return start;
    const text = chunk.toString('latin1', start, last);
    for (let from = 0; ;) {
      const newline = text.indexOf('\n', from);
      const end = newline < 0 ? text.length : newline;
      // An ASCII line has a byte per character.
      if (end - from > this.bytes) return -1;
      run.push(withoutCr(text.slice(from, end)));
      this.line++;
      if (newline < 0) return last + 1;
      from = newline + 1;
    }
  }

  /** A last line without a newline (the end of the text after a newline is no line), or null. */
  rest(): string | null {
    return this.length > 0 ? withoutCr(this.joined(null)) : null;
  }

  /** The current line, its parts from earlier chunks and `end`, decoded whole (a character may span two chunks). */
  private joined(end: Buffer | null): string {
    if (end !== null) this.parts.push(end);
    const text = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    this.length = 0;
    return text;
  }
}

/**
 * Text from the user as one line of standard error: line breaks and tabs
 * become spaces (one for one, so a caret line of spaces still fits) and
 * control characters escapes (`\x1b`), so a message is one line that the
 * terminal shows rather than obeys.
 */
export const terminalLine = (text: string): string => escapeControls(text.replace(/[\r\n\t]/g, ' '));

/** The lines of `source` through `io`, streaming where the Io can (handed on as they are: no generator per line). */
export function linesOf(io: Io, source: string, limit: ReadLimit): AsyncIterable<readonly string[]> {
  return io.readLines !== undefined ? io.readLines(source, limit) : wholeLines(io, source);
}

async function* wholeLines(io: Io, source: string): AsyncIterable<readonly string[]> {
  const text = source === '-' ? await io.readStdin() : io.readFile(source);
  const lines = text.split(/\r?\n/);
  // The newline that ends the last line starts no line of its own.
  if (lines.at(-1) === '') lines.pop();
  yield lines;
}

/**
 * Output that could not be written (a full disk, an I/O error, a file that
 * cannot be replaced): not the user's mistake, so the CLI exits 1.
 */
export class OutputError extends Error {
  constructor(
    readonly target: string,
    cause: unknown,
  ) {
    super(`cannot write ${target}: ${reasonOf(cause)}`);
  }
}

/** Why a file could not be read, as messages say it: "no such file", or the system's message. */
export const readFailureReason = (error: unknown): string =>
  (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;

/** The reason for a failed system call in words, as `no space left on device` for ENOSPC. */
export function reasonOf(error: unknown): string {
  const { errno, message } = error as Partial<NodeJS.ErrnoException>;
  const described = typeof errno === 'number' ? getSystemErrorMap().get(errno)?.[1] : undefined;
  return described ?? message ?? String(error);
}

/** What `writeFile` writes: text, bytes, or parts of bytes in order. */
export type FileContent = string | Uint8Array | readonly Uint8Array[];

/** Writes `content` to a new file or a device, every byte of every part. */
function writeContent(path: string, content: FileContent, flag: 'w' | 'wx'): void {
  if (typeof content === 'string' || content instanceof Uint8Array) {
    writeFileSync(path, content, { flag });
    return;
  }
  const fd = openSync(path, flag);
  try {
    for (const part of content) {
      for (let written = 0; written < part.length;) written += writeSync(fd, part, written, part.length - written);
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `content` to `path` through a temporary file in the same directory and
 * a rename, so that a failure never leaves a truncated file behind. A path
 * that is not a regular file (a device as /dev/full, a pipe) is written in place.
 */
export function writeFileAtomic(path: string, content: FileContent): void {
  let target = path;
  let mode: number | null = null;
  try {
    // Through a symbolic link, the file it points to is replaced, not the link.
    target = realpathSync(path);
    const stats = statSync(target);
    if (!stats.isFile()) {
      writeContent(target, content, 'w');
      return;
    }
    mode = stats.mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(path, error);
  }
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    writeContent(temporary, content, 'wx');
    if (mode !== null) chmodSync(temporary, mode);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new OutputError(path, error);
  }
}

/**
 * Standard output of the process. A file or a device other than a terminal
 * is written here, synchronously and to the last byte: Node's stream for
 * them drops what a short write (as at a file size limit) leaves over, and
 * reports a failure only a tick later. Pipes and terminals go through
 * Node's stream, whose writes may fail later still: the first failure is
 * kept, later writes throw it, and `flush` reports one that came after the
 * last write.
 */
type StandardOutput = Pick<Io, 'flush' | 'whenWritable' | 'outputClosed'> & {
  readonly write: (data: string | Uint8Array) => void;
  /** Whether `write` is done with the data when it returns (a stream holds it until it is written). */
  readonly synchronous: boolean;
};

function standardOutput(): StandardOutput {
  const stats = fstatSync(1);
  if (stats.isFile() || (stats.isCharacterDevice() && !isatty(1))) {
    return {
      write: (data) => {
        const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
        try {
          for (let offset = 0; offset < bytes.length;) offset += writeSync(1, bytes, offset);
        } catch (error) {
          throw new OutputError('standard output', error);
        }
      },
      synchronous: true,
    };
  }
  return streamedOutput();
}

/** Bytes standard output may hold for a slow reader before a batch stops computing (and reading) for it. */
const OUTPUT_HIGH_WATER = 1 << 20;

function streamedOutput(): StandardOutput {
  let failure: unknown = null;
  // A reader that closed the pipe (`| head -1`) has what it wanted: the rest is dropped, quietly.
  let closed = false;
  const record = (error: NodeJS.ErrnoException | null | undefined) => {
    if (error === null || error === undefined || failure !== null || closed) return;
    if (error.code === 'EPIPE') closed = true;
    // After a failure the stream is destroyed and refuses further writes: that is no reason of its own.
    else if (error.code !== 'ERR_STREAM_DESTROYED') failure = error;
  };
  process.stdout.on('error', record);
  const check = () => {
    if (failure !== null) throw new OutputError('standard output', failure);
  };
  return {
    write: (data) => {
      check();
      if (!closed) process.stdout.write(data, record);
    },
    synchronous: false,
    flush: async () => {
      if (!closed && failure === null) await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      check();
    },
    whenWritable: async () => {
      const stdout = process.stdout;
      if (!closed && failure === null && stdout.writableLength > OUTPUT_HIGH_WATER) {
        // 'drain' comes once the stream has handed everything to the pipe; 'close' once it failed.
        await new Promise<void>((resolve) => {
          const resume = () => {
            stdout.off('drain', resume);
            stdout.off('close', resume);
            resolve();
          };
          stdout.on('drain', resume);
          stdout.on('close', resume);
        });
      }
      check();
    },
    outputClosed: () => closed,
  };
}

/**
 * Text without the byte order mark some editors (Notepad, Excel) put first:
 * JSON.parse refuses it, and it is no part of the content. Every text input
 * comes through here: value files, -f, standard input (a batch's first line is stripped where it is read).
 */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** The size of a regular file in bytes; undefined for a pipe or a device (its size says nothing of what it will give). */
export function regularFileSize(path: string): number | undefined {
  try {
    const stat = statSync(path);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    // Reading it will say what is wrong.
    return undefined;
  }
}

/** The Io of this process; `workerEntry` is the script a batch thread starts from (the CLI's launcher). */
export function processIo(workerEntry?: string): Io {
  // Nothing can be said about a failure to write standard error, but it must not end the program uncaught.
  process.stderr.on('error', () => {});
  const output = standardOutput();
  // After an interrupt, what was handed to standard output is whole lines: nothing more may follow it.
  let interrupted = false;
  return {
    write: (text) => {
      if (!interrupted) output.write(text);
    },
    writeBytes: (bytes) => {
      if (interrupted) return true;
      output.write(bytes);
      return output.synchronous;
    },
    ...(workerEntry === undefined ? {} : { workerEntry }),
    ...(output.flush === undefined ? {} : { flush: output.flush }),
    ...(output.whenWritable === undefined ? {} : { whenWritable: output.whenWritable }),
    ...(output.outputClosed === undefined ? {} : { outputClosed: output.outputClosed }),
    error: (text) => void process.stderr.write(text),
    readStdin: async (limit) => {
      try {
        return withoutBom(decode(readBounded(0, limit)));
      } catch (error) {
        // A closed standard input (`<&-`) holds nothing.
        if ((error as NodeJS.ErrnoException).code === 'EBADF') return '';
        throw error;
      }
    },
    readFile: (path, limit) => withoutBom(decode(readBounded(path, limit))),
    readBytes: (path, limit) => readBounded(path, limit),
    writeFile: writeFileAtomic,
    fileSize: regularFileSize,
    readLines: (source, limit) =>
      boundedLines(source === '-' ? (process.stdin as AsyncIterable<Buffer>) : fileChunks(source), limit),
    onInterrupt: (flush) => {
      const stop = (status: number) => {
        // A second signal while the first waits for a reader that does not read ends at once.
        if (interrupted) process.exit(status);
        try {
          flush();
        } catch {
          // Standard output failed already: there is nothing more to keep.
        }
        interrupted = true;
        // A pipe takes what its reader has room for, maybe half a line: the rest is queued in the stream, and
        // leaving now would cut it. Wait until the reader has taken every line handed over.
        const drained = output.flush?.().catch(() => {}) ?? Promise.resolve();
        void drained.then(() => process.exit(status));
      };
      // 128 + the signal's number, as shells report it.
      process.on('SIGINT', () => stop(130));
      process.on('SIGTERM', () => stop(143));
    },
    // isatty does not create the stdin stream, which costs start-up time when it is not read.
    stdinIsTTY: isatty(0),
    stdoutIsTTY: isatty(1),
    stderrIsTTY: isatty(2),
    columns: process.stdout.columns ?? 80,
    ...(process.stdout.rows === undefined ? {} : { rows: process.stdout.rows }),
    env: process.env,
  };
}
