/**
 * Output that cannot be written: one `error:` line and exit 1, never Node's
 * dump of the bundle; a file result (--svg) replaced whole or not at all.
 * Child processes run the built bundle (npm run build) with standard output
 * redirected by a shell; each command's writes also run in-process, on the
 * device as the process writes to one. Tests run as root, where permissions stop no write:
 * failures come from /dev/full (ENOSPC), a read-only descriptor (EBADF), a
 * file size limit (`ulimit -f`: EFBIG, Node ignores SIGXFSZ), a directory
 * that does not exist, and a directory in the file's place.
 */
import { execFile, spawnSync } from 'node:child_process';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputError, type Io } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { fakeIo, ROOT, runInProcess } from './helpers/cli.js';

const BIN = join(ROOT, 'bin', 'jacobian.cjs');
const work = mkdtempSync(join(tmpdir(), 'jacobian-write-'));
afterAll(() => spawnSync('rm', ['-rf', work]));

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

/** `script` in sh in the work folder, without waiting: the tests that leave the folder alone run side by side. */
function shellAsync(script: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'sh',
      ['-c', script],
      { cwd: work, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, encoding: 'utf8', timeout: 20_000 },
      (error, _stdout, stderr) => {
        // An exit status is the result; a failure to start, or the timeout's kill, is not.
        if (error !== null && (error.killed === true || typeof error.code === 'string')) reject(error);
        else resolve({ status: child.exitCode, stderr });
      },
    );
  });
}

const FULL = 'error: cannot write standard output: no space left on device\n';

/** Standard output on the descriptor `fd` as the process has it on a file or a device: written at once, a failure an OutputError. */
function deviceOutput(fd: number): Partial<Io> {
  const write = (data: string | Uint8Array): void => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset);
    } catch (error) {
      throw new OutputError('standard output', error);
    }
  };
  return { write, writeBytes: (bytes) => (write(bytes), true) };
}
const numbers = (n: number) => Array.from({ length: n }, (_, k) => k + 1).join(',');

describe.concurrent('standard output that cannot be written', () => {
  writeFileSync(join(work, 'points.jsonl'), '{"x":[1,2]}\n{"x":[3,4]}\n');
  it.each([
    ['jac', ['x*2', '--at', '1,2,3']],
    ['jac --json', ['x*2', '--at', '1,2,3', '--json']],
    ['vjp', ['vjp', 'x*2', '--at', '1,2,3', '--v', '0.1,1,0.0001']],
    ['jvp', ['jvp', 'x*2', '--at', '1,2,3', '--u', '1,0,0']],
    ['grad', ['grad', 'sum(x.^2)', '--at', '1,2']],
    ['hessian', ['hessian', 'sum(x.^3)', '--at', '1,2']],
    ['hvp', ['hvp', 'sum(x.^3)', '--at', '1,2', '--u', '1,1']],
    ['check', ['check', 'sin(x)', '--at', '1,2']],
    ['spy', ['spy', 'x*2', '--at', '1,2,3']],
    ['a batch', ['x*2', '--batch', 'points.jsonl']],
    ['functions', ['functions']],
    ['--help', ['--help']],
  ])('> /dev/full: %s says so in one line and exits 1', async (what, args) => {
    // Each command in-process, writing to /dev/full as the process writes to a device; three as the process too.
    const full = openSync('/dev/full', 'w');
    try {
      const result = await runInProcess(args, { cwd: work, io: deviceOutput(full) });
      expect([result.status, result.stderr]).toEqual([1, FULL]);
    } finally {
      closeSync(full);
    }
    if (['jac', 'a batch', '--help'].includes(what)) {
      const result = await shellAsync(`node ${quote(BIN)} ${args.map(quote).join(' ')} > /dev/full`);
      expect(result.stderr).toBe(FULL);
      expect(result.status).toBe(1);
    }
  });

  it('a descriptor open for reading only: bad file descriptor', async () => {
    const result = await shellAsync(`node ${quote(BIN)} 'x*2' --at 1,2,3 1</dev/null`);
    expect(result.stderr).toBe('error: cannot write standard output: bad file descriptor\n');
    expect(result.status).toBe(1);
  });

  it('a file that stops growing (ulimit -f): the short write is an error, not a silently cut table', async () => {
    const limited = await shellAsync(`ulimit -f 1 && node ${quote(BIN)} "x*2" --at ${numbers(100)} > cut.txt`);
    expect(limited.stderr).toBe('error: cannot write standard output: file too large\n');
    expect(limited.status).toBe(1);
  });
});

// In-process (the process's own file writer, on disk) but for a file size limit, which is the process's.
describe('--svg FILE: replaced whole or not at all', () => {
  const spy = (target: string) => runInProcess(['spy', 'x*2', '--at', numbers(200), '--svg', target]);

  it('/dev/full: one error line, exit 1, nothing on standard output', async () => {
    const result = await spy('/dev/full');
    expect(result).toEqual({
      status: 1,
      stdout: '',
      stderr: 'error: cannot write /dev/full: no space left on device\n',
    });
  });

  it('a folder that does not exist, or a file in a folder’s place: one error line, exit 1', async () => {
    writeFileSync(join(work, 'plain'), 'a file\n');
    const missing = join(work, 'missing/out.svg');
    expect(await spy(missing)).toEqual({
      status: 1,
      stdout: '',
      stderr: `error: cannot write ${missing}: no such file or directory\n`,
    });
    const plain = join(work, 'plain/out.svg');
    expect((await spy(plain)).stderr).toBe(`error: cannot write ${plain}: not a directory\n`);
    expect(readFileSync(join(work, 'plain'), 'utf8')).toBe('a file\n');
  });

  it('a rename that fails (a folder in the way) leaves the folder as it was and no temporary file', async () => {
    const folder = join(work, 'taken');
    mkdirSync(join(folder, 'inside'), { recursive: true });
    const before = readdirSync(work).sort();
    const result = await spy(folder);
    expect(result.stderr).toMatch(new RegExp(`^error: cannot write ${folder}: [a-z ]+\n$`));
    expect(result.status).toBe(1);
    expect(readdirSync(work).sort()).toEqual(before);
    expect(readdirSync(folder)).toEqual(['inside']);
  });

  it('a write that fails half-way (ulimit -f) leaves the old file whole and no temporary file', () => {
    const folder = join(work, 'limited');
    mkdirSync(folder);
    writeFileSync(join(folder, 'J.svg'), 'the old picture\n');
    const result = spawnSync(
      'sh',
      ['-c', `ulimit -f 1 && node ${quote(BIN)} spy "x*2" --at ${numbers(200)} --svg J.svg > /dev/null`],
      { cwd: folder, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, encoding: 'utf8', timeout: 20_000 },
    );
    expect(result.stderr).toBe('error: cannot write J.svg: file too large\n');
    expect(result.status).toBe(1);
    expect(readdirSync(folder)).toEqual(['J.svg']);
    expect(readFileSync(join(folder, 'J.svg'), 'utf8')).toBe('the old picture\n');
  });

  it('a success replaces the file, keeps its permissions, and writes through a symbolic link', async () => {
    const folder = join(work, 'ok');
    mkdirSync(folder);
    writeFileSync(join(folder, 'J.svg'), 'old\n', { mode: 0o600 });
    symlinkSync('J.svg', join(folder, 'link.svg'));
    const result = await spy(join(folder, 'link.svg'));
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(readFileSync(join(folder, 'J.svg'), 'utf8')).toMatch(/^<\?xml[^]*<\/svg>\n?$/);
    expect(lstatSync(join(folder, 'link.svg')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(folder, 'J.svg')).mode & 0o777).toBe(0o600);
    expect(readdirSync(folder).sort()).toEqual(['J.svg', 'link.svg']);
  });
});

describe('errors that escape', () => {
  // The bundle is loaded as bin/jacobian.cjs does; a timer then throws, as a bug in a callback would.
  const script = `require(${JSON.stringify(join(ROOT, 'scripts', 'launch.cjs'))}).start();
    setTimeout(() => { throw new Error('boom'); }, 0);`;
  const escape = (env: Readonly<Record<string, string>>) =>
    spawnSync(process.execPath, ['-e', script, '_', 'functions', '--json'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    });

  it('an uncaught error is one internal-error line with a hint to report it, exit 1', () => {
    const result = escape({});
    expect(result.stderr).toBe(
      'error: internal error: boom (a bug in jacobian: please report it with the command you ran; ' +
        '--debug or JACOBIAN_DEBUG=1 shows the stack trace)\n',
    );
    expect(result.status).toBe(1);
  });

  it('JACOBIAN_DEBUG=1 adds the stack trace', () => {
    const result = escape({ JACOBIAN_DEBUG: '1' });
    expect(result.stderr).toMatch(/^error: internal error: boom \(a bug in jacobian[^\n]*\)\nError: boom\n {4}at /);
    expect(result.status).toBe(1);
  });

  it('a program that cannot be loaded says so in one line', () => {
    const copy = join(work, 'copy');
    mkdirSync(join(copy, 'bin'), { recursive: true });
    mkdirSync(join(copy, 'scripts'));
    writeFileSync(join(copy, 'bin', 'jacobian.cjs'), readFileSync(BIN));
    writeFileSync(join(copy, 'scripts', 'launch.cjs'), readFileSync(join(ROOT, 'scripts', 'launch.cjs')));
    const result = spawnSync(process.execPath, [join(copy, 'bin', 'jacobian.cjs'), 'x', '--at', '1'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.stderr).toMatch(/^error: internal error: cannot load the program \([^\n]*\); rebuild it[^\n]*\n$/);
    expect(result.status).toBe(1);
  });
});

describe('in-process: the exit status and the words', () => {
  const failingIo = (error: unknown) => ({
    ...fakeIo(),
    write: () => {
      throw error;
    },
  });

  it('an OutputError from a write is exit 1 with its reason', async () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { errno: -28, code: 'ENOSPC' });
    const io = failingIo(new OutputError('standard output', enospc));
    expect(await main(['x*2', '--at', '1,2'], io)).toBe(1);
    expect(io.err()).toBe(FULL);
  });

  it('a plain error is an internal error, its stack only under JACOBIAN_DEBUG=1 or --debug', async () => {
    for (const [argv, env, stack] of [
      [['x*2', '--at', '1,2'], {}, false],
      [['x*2', '--at', '1,2'], { JACOBIAN_DEBUG: '1' }, true],
      [['x*2', '--at', '1,2', '--debug'], {}, true],
    ] as const) {
      const errors: string[] = [];
      const io = { ...failingIo(new Error('odd')), env, error: (text: string) => void errors.push(text) };
      expect(await main(argv, io)).toBe(1);
      expect(errors[0]).toMatch(/^error: internal error: odd \(a bug in jacobian: please report it/);
      expect(errors.length).toBe(stack ? 2 : 1);
    }
  });

  it('a failed flush after the last write is exit 1', async () => {
    const io = fakeIo();
    const flushing = {
      ...io,
      flush: async () => {
        throw new OutputError('standard output', Object.assign(new Error('EIO'), { errno: -5, code: 'EIO' }));
      },
    };
    expect(await main(['x*2', '--at', '1,2'], flushing)).toBe(1);
    expect(io.err()).toBe('error: cannot write standard output: i/o error\n');
  });
});
