/** Running the CLI as a user does (a child process) or in-process with a fake Io. */
import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  boundedLines,
  fileChunks,
  readBounded,
  withoutBom,
  writeFileAtomic,
  type Io,
  type ReadLimit,
} from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/** The repository root: the working directory of every child process. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ChildOptions {
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string | null>>;
}

/** PATH and NO_COLOR=1, then `options.env` on top (a null value removes the variable). */
function childEnv(options: ChildOptions): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === null) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * `node bin/jacobian.cjs ...args` from the repository root, with `stdin` on
 * a pipe (never a terminal) and a clean environment: PATH, NO_COLOR=1, then
 * `env` on top (a null value removes the variable).
 */
export function runChild(args: readonly string[], options: ChildOptions = {}): ChildResult {
  const result = spawnSync(process.execPath, ['bin/jacobian.cjs', ...args], {
    cwd: ROOT,
    env: childEnv(options),
    input: options.stdin ?? '',
    encoding: 'utf8',
    timeout: 20_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * runChild's case in this process: the same main(argv, io), standard input a pipe holding `stdin` (empty by
 * default), the environment NO_COLOR=1 and `env`, files read and written on disk relative to `cwd` (the
 * repository root by default, as the child's); `io` replaces parts of that Io. For what is not about the process itself (its exit, signals, pipes, the bundle).
 */
export async function runInProcess(
  args: readonly string[],
  options: ChildOptions & { readonly cwd?: string; readonly io?: Partial<Io> } = {},
): Promise<ChildResult> {
  const env: Record<string, string> = { NO_COLOR: '1' };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === null) delete env[name];
    else env[name] = value;
  }
  const onDisk = (path: string): string => (isAbsolute(path) ? path : join(options.cwd ?? ROOT, path));
  const stdin = Buffer.from(options.stdin ?? '', 'utf8');
  const io: FakeIo = {
    ...fakeIo({ stdin: options.stdin ?? '', env }),
    readStdin: async (limit) => withoutBom(withinLimit(stdin, limit).toString('utf8')),
    readLines: (source, limit) => boundedLines(source === '-' ? oneChunk(stdin) : fileChunks(onDisk(source)), limit),
    readFile: (path, limit) => withoutBom(readBounded(onDisk(path), limit).toString('utf8')),
    readBytes: (path, limit) => readBounded(onDisk(path), limit),
    writeFile: (path, content) => writeFileAtomic(onDisk(path), content),
    fileSize: (path) => {
      try {
        return statSync(onDisk(path)).size;
      } catch {
        return undefined;
      }
    },
  };
  const status = await main([...args], { ...io, ...options.io });
  return { status, stdout: io.out(), stderr: io.err() };
}

/** Standard input as the process reads it: its bytes, refused past `limit` (as narrowed by how they begin). */
function withinLimit(bytes: Buffer, limit: ReadLimit | undefined): Buffer {
  if (limit === undefined) return bytes;
  const most = Math.min(limit.bytes, limit.narrow?.(bytes) ?? Infinity);
  if (bytes.length > most) throw limit.refuse(Math.floor(most));
  return bytes;
}

async function* oneChunk(bytes: Buffer): AsyncGenerator<Buffer> {
  if (bytes.length > 0) yield bytes;
}

/** runChild without waiting, so that children run side by side (Promise.all, describe.concurrent). */
export function runChildAsync(args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['bin/jacobian.cjs', ...args],
      {
        cwd: ROOT,
        env: childEnv(options),
        encoding: 'utf8',
        timeout: 20_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        // An exit status or a signal is the result; a failure to run, or the timeout's kill, is an error.
        if (error !== null && (error.killed === true || typeof error.code === 'string')) reject(error);
        else resolve({ status: child.exitCode, stdout, stderr });
      },
    );
    child.stdin?.end(options.stdin ?? '');
  });
}

/** The CLI as a child whose standard output nobody reads until `output()`: a reader that does not read. */
export interface UnreadChild {
  readonly child: ChildProcessWithoutNullStreams;
  /** The status the child exits with. */
  readonly exited: Promise<number | null>;
  /** Reads standard output to its end, then waits for the exit: all the child wrote, and its status. */
  output(): Promise<{ readonly out: string; readonly status: number | null }>;
}

/** `node bin/jacobian.cjs ...args` from the repository root, in runChild's clean environment, its output left unread. */
export function spawnUnread(args: readonly string[], options: Pick<ChildOptions, 'env'> = {}): UnreadChild {
  const child = spawn(process.execPath, ['bin/jacobian.cjs', ...args], { cwd: ROOT, env: childEnv(options) });
  child.stdout.pause();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const output = async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of child.stdout) chunks.push(chunk as Buffer);
    return { out: Buffer.concat(chunks).toString('utf8'), status: await exited };
  };
  return { child, exited, output };
}

export interface FakeIo extends Io {
  readonly out: () => string;
  readonly err: () => string;
}

/** An Io that records what the CLI writes; standard input is a terminal unless `stdin` is given. */
export function fakeIo(
  options: {
    stdin?: string;
    files?: Readonly<Record<string, string>>;
    stdoutIsTTY?: boolean;
    env?: Readonly<Record<string, string>>;
  } = {},
): FakeIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    write: (text) => void out.push(text),
    error: (text) => void err.push(text),
    readStdin: async () => options.stdin ?? '',
    readFile: (path) => {
      const content = options.files?.[path];
      if (content === undefined)
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return content;
    },
    stdinIsTTY: options.stdin === undefined,
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    env: options.env ?? {},
    out: () => out.join(''),
    err: () => err.join(''),
  };
}
