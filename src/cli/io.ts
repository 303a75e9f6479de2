/** The outside world as the CLI sees it, so tests can run it in-process. */
import { isAscii } from 'node:buffer';
import {
  chmodSync,
  createReadStream,
  fstatSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { isatty } from 'node:tty';
import { getSystemErrorMap } from 'node:util';
import { escapeControls } from '../errors.js';

export interface Io {
  /** Writes to standard output. */
  write(text: string): void;
  /** Writes to standard error. */
  error(text: string): void;
  readStdin(): Promise<string>;
  readFile(path: string): string;
  /** Writes a file the user asked for (spy --svg); throws an OutputError when it cannot. */
  writeFile?(path: string, text: string): void;
  /** Waits until standard output has taken everything written; throws an OutputError if it failed. */
  flush?(): Promise<void>;
  /** The size of a file in bytes, to refuse one before reading it (undefined: unknown). */
  fileSize?(path: string): number | undefined;
  /** The lines of a file, or of standard input for '-', as they arrive (default: read whole, then split). */
  readLines?(source: string): AsyncIterable<string>;
  /**
   * Runs `flush` when the user interrupts (Ctrl-C) or the process is told to end (SIGTERM); the process ends
   * once standard output has taken everything written before, and ignores writes after.
   */
  onInterrupt?(flush: () => void): void;
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

/**
 * Text from the user as one line of standard error: line breaks and tabs
 * become spaces (one for one, so a caret line of spaces still fits) and
 * control characters escapes (`\x1b`), so a message is one line that the
 * terminal shows rather than obeys.
 */
export const terminalLine = (text: string): string => escapeControls(text.replace(/[\r\n\t]/g, ' '));

/** The lines of `source` through `io`, streaming where the Io can. */
export async function* linesOf(io: Io, source: string): AsyncIterable<string> {
  if (io.readLines !== undefined) {
    yield* io.readLines(source);
    return;
  }
  const text = source === '-' ? await io.readStdin() : io.readFile(source);
  yield* text.split(/\r?\n/);
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

/** The reason for a failed system call in words, as `no space left on device` for ENOSPC. */
export function reasonOf(error: unknown): string {
  const { errno, message } = error as Partial<NodeJS.ErrnoException>;
  const described = typeof errno === 'number' ? getSystemErrorMap().get(errno)?.[1] : undefined;
  return described ?? message ?? String(error);
}

/**
 * Writes `text` to `path` through a temporary file in the same directory and
 * a rename, so that a failure never leaves a truncated file behind. A path
 * that is not a regular file (a device as /dev/full, a pipe) is written in place.
 */
export function writeFileAtomic(path: string, text: string): void {
  let target = path;
  let mode: number | null = null;
  try {
    // Through a symbolic link, the file it points to is replaced, not the link.
    target = realpathSync(path);
    const stats = statSync(target);
    if (!stats.isFile()) {
      writeFileSync(target, text);
      return;
    }
    mode = stats.mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new OutputError(path, error);
  }
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text, { flag: 'wx' });
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
function standardOutput(): Pick<Io, 'write' | 'flush'> {
  const stats = fstatSync(1);
  if (stats.isFile() || (stats.isCharacterDevice() && !isatty(1))) {
    return {
      write: (text) => {
        const bytes = Buffer.from(text, 'utf8');
        try {
          for (let offset = 0; offset < bytes.length;) offset += writeSync(1, bytes, offset);
        } catch (error) {
          throw new OutputError('standard output', error);
        }
      },
    };
  }
  return streamedOutput();
}

function streamedOutput(): Pick<Io, 'write' | 'flush'> {
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
    write: (text) => {
      check();
      if (!closed) process.stdout.write(text, record);
    },
    flush: async () => {
      if (!closed && failure === null) await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      check();
    },
  };
}

/**
 * Text without the byte order mark some editors (Notepad, Excel) put first:
 * JSON.parse refuses it, and it is no part of the content. Every text input
 * comes through here: value files, -f, standard input (a batch's first line is stripped where it is read).
 */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

export function processIo(): Io {
  // Nothing can be said about a failure to write standard error, but it must not end the program uncaught.
  process.stderr.on('error', () => {});
  const output = standardOutput();
  // After an interrupt, what was handed to standard output is whole lines: nothing more may follow it.
  let interrupted = false;
  return {
    write: (text) => {
      if (!interrupted) output.write(text);
    },
    ...(output.flush === undefined ? {} : { flush: output.flush }),
    error: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return withoutBom(Buffer.concat(chunks).toString('utf8'));
    },
    readFile: (path) => {
      const bytes = readFileSync(path);
      // Number files are ASCII, which decodes several times faster as latin1 than as UTF-8.
      return withoutBom(bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8'));
    },
    writeFile: writeFileAtomic,
    fileSize: (path) => {
      try {
        return statSync(path).size;
      } catch {
        // Reading it will say what is wrong.
        return undefined;
      }
    },
    readLines: (source) =>
      createInterface({ input: source === '-' ? process.stdin : createReadStream(source), crlfDelay: Infinity }),
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
