/** The outside world as the CLI sees it, so tests can run it in-process. */
import { isAscii } from 'node:buffer';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isatty } from 'node:tty';

export interface Io {
  /** Writes to standard output. */
  write(text: string): void;
  /** Writes to standard error. */
  error(text: string): void;
  readStdin(): Promise<string>;
  readFile(path: string): string;
  /** Writes a file the user asked for (spy --svg). */
  writeFile?(path: string, text: string): void;
  /** The size of a file in bytes, to refuse one before reading it (undefined: unknown). */
  fileSize?(path: string): number | undefined;
  /** The lines of a file, or of standard input for '-', as they arrive (default: read whole, then split). */
  readLines?(source: string): AsyncIterable<string>;
  /** Runs `flush` when the user interrupts (Ctrl-C), before the process ends. */
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

/** The lines of `source` through `io`, streaming where the Io can. */
export async function* linesOf(io: Io, source: string): AsyncIterable<string> {
  if (io.readLines !== undefined) {
    yield* io.readLines(source);
    return;
  }
  const text = source === '-' ? await io.readStdin() : io.readFile(source);
  yield* text.split(/\r?\n/);
}

export function processIo(): Io {
  // A reader that closed the pipe (`| head -1`) has what it wanted: end quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  return {
    write: (text) => void process.stdout.write(text),
    error: (text) => void process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    readFile: (path) => {
      const bytes = readFileSync(path);
      // Number files are ASCII, which decodes several times faster as latin1 than as UTF-8.
      return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
    },
    writeFile: (path, text) => writeFileSync(path, text),
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
      let interrupted = false;
      process.on('SIGINT', () => {
        // A second Ctrl-C while the first is handled changes nothing.
        if (interrupted) return;
        interrupted = true;
        flush();
        // 128 + SIGINT, as shells report it; writes to pipes and files are synchronous, so nothing is lost.
        process.exit(130);
      });
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
