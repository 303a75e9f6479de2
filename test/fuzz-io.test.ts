/**
 * The fuzz contract at the edges of the process (issue 13): devices and
 * endless streams as inputs, a full disk for every output path, and signals
 * at random points of a batch whose reader is slow. Child processes of the
 * built bundle under `ulimit -v 4000000`, run a few at a time; the seeded
 * choices (the command, --max-input, how many lines or bytes the reader
 * takes, the signal) replay.
 *
 * - Every input path (`--at x=@FILE`, `-f FILE`, `--batch FILE`, EXPR on
 *   standard input, EXPR `-`, `-f -`, `--at x=@/dev/stdin`, `--batch -`) fed
 *   /dev/zero, /dev/urandom, an endless pipe (`yes 1,`) and a FIFO whose
 *   writer never closes it ends with one `error:` line and exit 2, or, for a
 *   batch, an error line per bad line until its reader stops reading.
 * - Every output path (standard output of each command and format, `--svg
 *   FILE`, a batch, help, `functions`, `completion`) written to /dev/full and
 *   to a full tmpfs (when one can be mounted: the tests run as root) gives one
 *   `error: cannot write …` line, exit 1, and no partial or temporary file.
 * - SIGINT or SIGTERM after the reader has taken a random number of bytes:
 *   every line it receives is a whole JSON line, in order; exit 130 or 143.
 */
import fc from 'fast-check';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { casesOf, contractViolation } from './helpers/fuzz.js';

const BIN = join(ROOT, 'bin', 'jacobian.cjs');
const work = mkdtempSync(join(tmpdir(), 'jacobian-fuzz-io-'));
const POINTS = join(work, 'points.jsonl');
writeFileSync(POINTS, '{"x":[1,2]}\n{"x":[3,4]}\n');

const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

interface ShellRun {
  readonly status: number | null;
  readonly out: string;
  readonly err: string;
}

/**
 * `script` in sh under `ulimit -v 4000000`, `$J` the command (killed after 20 s: a run that does not end
 * is status 137). With `maxLines`, standard output is closed once it has given that many lines, and `out`
 * is those lines.
 */
function shell(script: string, maxLines = Infinity): Promise<ShellRun> {
  const child = spawn('sh', ['-c', `ulimit -v 4000000; J="timeout -s KILL 20 ${process.execPath} ${BIN}"; ${script}`], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let enough = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (enough) return;
    out += chunk.toString('utf8');
    const lines = maxLines === Infinity ? [] : out.split('\n');
    if (lines.length > maxLines) {
      out = `${lines.slice(0, maxLines).join('\n')}\n`;
      enough = true;
      child.stdout.destroy();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, out, err })));
}

/** Runs `jobs` two at a time (the machine is shared); their results in the order of the jobs. */
async function inTurn<T>(jobs: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const k = next++;
      results[k] = await jobs[k]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/** A seeded sample of `arbitrary`, one value per case. */
const sample = <T>(arbitrary: fc.Arbitrary<T>, count: number, seed: number): T[] =>
  fc.sample(arbitrary, { seed, numRuns: count });

// --- Inputs ----------------------------------------------------------------------

/** An input source: a path that names it, and how it becomes standard input; `setup` and `cleanup` around. */
interface Source {
  readonly name: string;
  readonly path: string;
  readonly stdin: (command: string) => string;
  readonly setup?: string;
  readonly cleanup?: string;
}

const SOURCES: readonly Source[] = [
  { name: '/dev/zero', path: '/dev/zero', stdin: (command) => `${command} < /dev/zero` },
  { name: '/dev/urandom', path: '/dev/urandom', stdin: (command) => `${command} < /dev/urandom` },
  { name: 'an endless pipe (yes 1,)', path: '/dev/stdin', stdin: (command) => `yes 1, | ${command}` },
  {
    name: 'a FIFO whose writer never closes it',
    path: '"$F"',
    stdin: (command) => `${command} < "$F"`,
    // The writer writes for as long as the FIFO is read; a reader that never opened it leaves it to `kill`.
    setup: 'F=$(mktemp -u -p .); mkfifo "$F"; yes 1, > "$F" & W=$!;',
    cleanup: 'kill $W 2>/dev/null; rm -f "$F";',
  },
];

/** An input path: the arguments, with PATH where the source's path goes; whether it reads standard input. */
interface InputPath {
  readonly name: string;
  readonly args: readonly string[];
  readonly fromStdin: boolean;
  readonly batch: boolean;
}

const INPUT_PATHS: readonly InputPath[] = [
  { name: '--at x=@FILE', args: ['x*2', '--at', 'x=@PATH'], fromStdin: false, batch: false },
  { name: '-f FILE', args: ['-f', 'PATH', '--at', 'x=1'], fromStdin: false, batch: false },
  { name: '--batch FILE', args: ['x*2', '--batch', 'PATH'], fromStdin: false, batch: true },
  { name: 'EXPR on standard input', args: ['--at', 'x=1'], fromStdin: true, batch: false },
  { name: 'EXPR -', args: ['-', '--at', 'x=1'], fromStdin: true, batch: false },
  { name: '-f -', args: ['-f', '-', '--at', 'x=1'], fromStdin: true, batch: false },
  { name: '--at x=@/dev/stdin', args: ['x*2', '--at', 'x=@/dev/stdin'], fromStdin: true, batch: false },
  { name: '--batch -', args: ['x*2', '--batch', '-'], fromStdin: true, batch: true },
];

/** The lines a batch reader takes from an endless batch before it stops reading. */
const BATCH_LINES = 20;

/**
 * A batch of an endless input: whole JSON lines numbered from 1 (a bad line's error object, or a result), as
 * many as the reader took; then exit 1 (lines failed, and the reader stopped reading), or exit 2 with one
 * `error:` line (a line longer than --max-input). Never a stack trace or an internal error.
 */
function batchViolation(run: ShellRun): string | null {
  if (/internal error|\n\s+at /.test(run.err)) return `internal error or stack trace: ${run.err}`;
  if (run.out !== '' && !run.out.endsWith('\n')) return `a cut line: ${JSON.stringify(run.out.slice(-100))}`;
  const lines = run.out === '' ? [] : run.out.slice(0, -1).split('\n');
  for (const [k, line] of lines.entries()) {
    let parsed: { line?: unknown; error?: unknown };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch {
      return `line ${k + 1} is not JSON: ${line.slice(0, 200)}`;
    }
    if (parsed.error !== undefined && parsed.line !== k + 1) return `line ${k + 1} says line ${String(parsed.line)}`;
    if (String(parsed.error).startsWith('internal error')) return `internal error on line ${k + 1}`;
  }
  if (run.status === 1) return run.err === '' ? null : `status 1 with stderr: ${run.err}`;
  if (run.status === 2)
    return /^error: --batch: line \d+ is longer than --max-input \([^)]*\)[^\n]*\n$/.test(run.err)
      ? null
      : `status 2 without one error line: ${JSON.stringify(run.err)}`;
  return `status ${run.status}: ${run.err}`;
}

describe('the batch judge', () => {
  // The endless batches below are only as well checked as this judge: it must reject each way of failing.
  const judge = (status: number, out: string, err = '') => batchViolation({ status, out, err });
  const bad = (line: number) => `${JSON.stringify({ line, error: 'not valid JSON (…)' })}\n`;
  const limit = 'error: --batch: line 3 is longer than --max-input (1 KiB): give less, or raise the limit\n';

  it('accepts error lines in order, then the reader gone (1) or a line too long (2)', () => {
    expect(judge(1, bad(1) + bad(2))).toBeNull();
    expect(judge(2, bad(1) + bad(2), limit)).toBeNull();
    expect(judge(2, '', limit.replace('line 3', 'line 1'))).toBeNull();
  });

  it.each([
    ['a cut line', 1, bad(1) + bad(2).slice(0, 10), ''],
    ['a line that is not JSON', 1, `${bad(1)}1,\n`, ''],
    ['lines out of order', 1, bad(2) + bad(1), ''],
    ['an internal error on a line', 1, `${JSON.stringify({ line: 1, error: 'internal error: x' })}\n`, ''],
    ['an internal error on stderr', 1, bad(1), 'error: internal error: x\n'],
    ['a stack trace', 2, '', `${limit}    at f (file.js:1:1)\n`],
    ['two error lines', 2, '', limit + limit],
    ['status 1 with an error line', 1, bad(1), limit],
    ['status 0', 0, bad(1), ''],
    ['killed (timeout)', 137, bad(1), ''],
  ])('rejects %s', (_what, status, out, err) => {
    expect(judge(status, out, err)).not.toBeNull();
  });
});

describe('devices and endless streams on every input path', () => {
  // CI's share feeds each input path one source, rotated from a seeded start so that each source serves two
  // paths; npm test feeds a seeded half of the paths, each source one of them; FUZZ_BUDGET=full feeds every
  // path every source (as do its multiples: there are no more paths to take).
  const every = casesOf({ test: 1, ci: 1, full: 2 }) > 1;
  const paths = Math.min(
    INPUT_PATHS.length,
    casesOf({ test: SOURCES.length, ci: INPUT_PATHS.length, full: INPUT_PATHS.length }),
  );
  const [start] = sample(fc.nat({ max: SOURCES.length - 1 }), 1, 0x5eed13);
  const [chosen] = sample(fc.shuffledSubarray([...INPUT_PATHS], { minLength: paths, maxLength: paths }), 1, 0x5eed15);
  const cases = chosen!.flatMap((input, k) =>
    (every ? SOURCES : [SOURCES[(k + start!) % SOURCES.length]!]).map((source) => ({ input, source })),
  );
  const choices = sample(
    fc.record({
      command: fc.constantFrom('jac', 'grad', 'hessian', 'check'),
      maxInput: fc.constantFrom('1KiB', '64KiB', '1MiB'),
    }),
    cases.length,
    0x5eed10,
  );

  it(`each of the ${cases.length} ends with one error: line and exit 2, or a batch's error lines`, async () => {
    const runs = await inTurn(
      cases.map(({ input, source }, k) => async () => {
        const { command, maxInput } = choices[k]!;
        const args = [command, ...input.args, '--max-input', maxInput];
        const words = args.map((arg) => (arg === 'PATH' ? source.path : arg.replace('PATH', source.path)));
        const line = words.map((word) => (word.includes('"$F"') ? word : quote(word))).join(' ');
        // A path input reads its file; an endless pipe as a path is /dev/stdin, fed by the pipe.
        const invocation =
          input.fromStdin || source.path === '/dev/stdin' ? source.stdin(`$J ${line}`) : `$J ${line} < /dev/null`;
        const script = `${source.setup ?? ''} ${invocation}; s=$?; ${source.cleanup ?? ''} exit $s`;
        const result = await shell(script, input.batch ? BATCH_LINES : Infinity);
        const problem = input.batch ? batchViolation(result) : refusalViolation(args, result);
        return problem === null ? null : `${input.name} from ${source.name} (${args.join(' ')}): ${problem}`;
      }),
    );
    expect(runs.filter((problem) => problem !== null)).toEqual([]);
  });
});

/** A refusal of the contract checker of fuzz.test.ts: exit 2, nothing on stdout, one `error:` line. */
function refusalViolation(args: readonly string[], run: ShellRun): string | null {
  if (run.status !== 2) return `status ${run.status}: ${run.err}`;
  return contractViolation({ args }, { status: 2, out: run.out, err: run.err });
}

// --- Outputs ---------------------------------------------------------------------

/**
 * A 64 KiB tmpfs filled to the last page (but for an old picture, written first), or null where none can be
 * mounted (not root, no mount): mounted as the file is collected, so that the tests' names say which.
 */
function mountFullDisk(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'jacobian-full-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status !== 0) {
    spawnSync('rm', ['-rf', dir]);
    return null;
  }
  writeFileSync(join(dir, 'old.svg'), OLD_PICTURE);
  const fd = openSync(join(dir, 'filler'), 'w');
  const page = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, page);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return dir;
}

const OLD_PICTURE = 'the old picture\n';
const fullDisk = mountFullDisk();

afterAll(() => {
  if (fullDisk !== null) spawnSync('umount', [fullDisk]);
  spawnSync('rm', ['-rf', work, ...(fullDisk === null ? [] : [fullDisk])]);
});

/** Every way the program writes standard output: each command, each format, a batch, help, functions, completion. */
const OUTPUT_PATHS: readonly (readonly [string, readonly string[]])[] = [
  ['jac', ['x*2', '--at', '1,2,3']],
  ['vjp', ['vjp', 'x*2', '--at', '1,2,3', '--v', '1,1,1']],
  ['jvp', ['jvp', 'x*2', '--at', '1,2,3', '--u', '1,0,0']],
  ['grad', ['grad', 'sum(x.^2)', '--at', '1,2']],
  ['hessian', ['hessian', 'sum(x.^3)', '--at', '1,2']],
  ['hvp', ['hvp', 'sum(x.^3)', '--at', '1,2', '--u', '1,1']],
  ['check', ['check', 'sin(x)', '--at', '1,2']],
  ['spy', ['spy', 'x*2', '--at', '1,2,3']],
  ['spy --svg -', ['spy', 'x*2', '--at', '1,2,3', '--svg', '-']],
  ['--json', ['x*2', '--at', '1,2,3', '--json']],
  ...['csv', 'tsv', 'markdown', 'latex', 'mathjs', 'mtx'].map(
    (format) => [`--format ${format}`, ['x*2', '--at', '1,2,3', '--format', format]] as const,
  ),
  ['a batch', ['x*2', '--batch', POINTS]],
  ['a CSV batch', ['x*2', '--batch', POINTS, '--format', 'csv']],
  ['--help', ['--help']],
  ['help jac', ['help', 'jac']],
  ['help language', ['help', 'language']],
  ['--version', ['--version']],
  ['functions', ['functions']],
  ['functions --json', ['functions', '--json']],
  ...['bash', 'zsh', 'fish'].map((shell) => [`completion ${shell}`, ['completion', shell]] as const),
];

/** The standard output paths written to a full disk: a sixth in npm test, a third in CI's share, all under full. */
const STDOUT_SHARE = Math.min(
  OUTPUT_PATHS.length,
  casesOf({
    test: Math.ceil(OUTPUT_PATHS.length / 6),
    ci: Math.ceil(OUTPUT_PATHS.length / 3),
    full: OUTPUT_PATHS.length,
  }),
);

const cannotWrite = (target: string) => `error: cannot write ${target}: no space left on device\n`;

/** The files of a folder, but the filler. */
const filesIn = (dir: string) => readdirSync(dir).filter((name) => name !== 'filler');

describe('a full disk on every output path', () => {
  const dir = fullDisk ?? '/dev/full';
  const onDisk = fullDisk !== null;
  const disk = onDisk ? '/dev/full or a full 64 KiB tmpfs' : '/dev/full (no tmpfs could be mounted)';
  // npm test and CI write --svg FILE and a seeded share of the standard output paths, each to one of the two,
  // seeded; FUZZ_BUDGET=full writes every path to both.
  const both = casesOf({ test: 1, ci: 1, full: 2 }) > 1;
  const [chosen] = sample(
    fc.shuffledSubarray([...OUTPUT_PATHS], { minLength: STDOUT_SHARE, maxLength: STDOUT_SHARE }),
    1,
    0x5eed14,
  );
  const paths = [...(both ? OUTPUT_PATHS : chosen!), ['--svg FILE', []] as const];
  const onFull = sample(fc.boolean(), paths.length, 0x5eed11);
  const targets = paths.flatMap(([name, args], k) =>
    (both ? [true, false] : [onFull[k]!]).map((full) => ({
      name,
      args,
      file: full || !onDisk ? '/dev/full' : join(dir, `out-${k}`),
    })),
  );

  it(`${disk}: one error line, exit 1, no partial or temporary file`, async () => {
    const before = onDisk ? filesIn(dir) : [];
    const runs = await inTurn(
      targets.map(({ name, args, file }) => async () => {
        if (name === '--svg FILE') {
          const run = await shell(`$J spy 'x*2' --at 1,2,3 --svg ${quote(file)} > /dev/null`);
          return { name, file, expected: cannotWrite(file), run, stdout: false };
        }
        const run = await shell(`$J ${args.map(quote).join(' ')} > ${quote(file)}`);
        return { name, file, expected: cannotWrite('standard output'), run, stdout: true };
      }),
    );
    const shellFiles: string[] = [];
    for (const { name, file, expected, run, stdout } of runs) {
      expect([name, file, run.status, run.err]).toEqual([name, file, 1, expected]);
      if (file === '/dev/full' || !stdout) continue;
      // Standard output's file is the shell's, created empty: nothing of the output reached it.
      expect([name, statSync(file).size]).toEqual([name, 0]);
      shellFiles.push(file.slice(dir.length + 1));
    }
    // --svg FILE left neither the file nor its temporary file.
    if (onDisk) expect(filesIn(dir).sort()).toEqual([...before, ...shellFiles].sort());
  });

  // Without a tmpfs, a file size limit (ulimit -f, EFBIG) stops the file at the same size.
  it(`a file that stops growing after 8 KiB (${onDisk ? 'the tmpfs with two pages free' : 'ulimit -f 8'}): --svg FILE keeps the old file whole, and no temporary file`, async () => {
    const folder = onDisk ? dir : mkdtempSync(join(work, 'limited-'));
    if (onDisk) spawnSync('truncate', ['-s', '-8K', join(dir, 'filler')]);
    else writeFileSync(join(folder, 'old.svg'), OLD_PICTURE);
    const limit = onDisk ? '' : 'ulimit -f 8;';
    const reason = onDisk ? 'no space left on device' : 'file too large';
    const before = filesIn(folder);
    const at = Array.from({ length: 200 }, (_, k) => k + 1).join(',');
    const old = join(folder, 'old.svg');
    const run = await shell(`${limit} $J spy 'x*2' --at ${at} --svg ${quote(old)} > /dev/null`);
    expect([run.status, run.err]).toEqual([1, `error: cannot write ${old}: ${reason}\n`]);
    expect(readFileSync(old, 'utf8')).toBe(OLD_PICTURE);
    expect(filesIn(folder)).toEqual(before);
    const functions = await shell(`${limit} $J functions --json > ${quote(join(folder, 'functions.json'))}`);
    expect([functions.status, functions.err]).toEqual([1, `error: cannot write standard output: ${reason}\n`]);
  });
});

// --- Signals ---------------------------------------------------------------------

describe('signals at random points of a batch with a slow reader', () => {
  const LINES = 30_000;
  const points = join(work, 'signal.jsonl');
  writeFileSync(points, Array.from({ length: LINES }, (_, k) => `{"x":${k}}\n`).join(''));
  // The bytes the reader takes before the signal (the batch runs at most about 1 MiB ahead of it), and the signal.
  const cases = sample(
    fc.record({ bytes: fc.integer({ min: 1, max: 1_500_000 }), signal: fc.constantFrom('SIGINT', 'SIGTERM') }),
    casesOf({ test: 1, ci: 2, full: 16 }),
    0x5eed12,
  );

  it.each(cases.map((c) => [c.signal, c.bytes, c] as const))(
    '%s after the reader has taken %d bytes: whole JSON lines in order, then exit 130 (SIGINT) or 143 (SIGTERM)',
    async (_signal, _bytes, { bytes, signal }) => {
      // Under `ulimit -v 4000000`, as the other hostile inputs; exec keeps the pid the signal goes to.
      const script = 'ulimit -v 4000000; exec "$0" "$@"';
      const child = spawn('sh', ['-c', script, process.execPath, BIN, 'x*2', '--batch', points], {
        cwd: work,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const chunks: Buffer[] = [];
      let taken = 0;
      let signalled = false;
      for await (const chunk of child.stdout) {
        chunks.push(chunk as Buffer);
        taken += (chunk as Buffer).length;
        if (!signalled && taken >= bytes) {
          // The reader stops for the signal, then reads on to the end.
          child.stdout.pause();
          child.kill(signal);
          signalled = true;
          child.stdout.resume();
        }
      }
      expect(await exited).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(err).toBe('');
      const out = Buffer.concat(chunks).toString('utf8');
      expect(out.length).toBeGreaterThanOrEqual(bytes);
      expect(out.endsWith('\n')).toBe(true);
      const lines = out.slice(0, -1).split('\n');
      expect(lines.length).toBeLessThan(LINES);
      lines.forEach((line, k) => expect(JSON.parse(line), line).toMatchObject({ at: { x: k } }));
    },
  );
});
