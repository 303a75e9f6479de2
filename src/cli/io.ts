/** The outside world as the CLI sees it, so tests can run it in-process. */
import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';

export interface Io {
  /** Writes to standard output. */
  write(text: string): void;
  /** Writes to standard error. */
  error(text: string): void;
  readStdin(): Promise<string>;
  readFile(path: string): string;
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
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
    // isatty does not create the stdin stream, which costs start-up time when it is not read.
    stdinIsTTY: isatty(0),
    stdoutIsTTY: isatty(1),
    env: process.env,
  };
}
