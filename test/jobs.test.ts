/**
 * `--jobs N`: a batch's points on worker threads. The output is the one
 * thread's, line for line (results, error lines, CSV rows and warnings, in
 * input order); a reader that does not read stops the batch with the threads
 * running, and a signal then leaves whole lines. Child processes of the
 * built command: the threads start from its launcher. The one thread's
 * output they are compared with is main's in-process (`--jobs 1`), which
 * starts no threads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_EARLY_THREADS_BYTES,
  EARLY_THREADS_BYTES,
  JUDGED_AFTER_SECONDS,
  OwnWork,
  THREADS_PAY_SECONDS,
} from '../src/cli/batch.js';
import { main } from '../src/cli/main.js';
import { fakeIo, runChildAsync, runInProcess, spawnUnread } from './helpers/cli.js';
import { parkMiller } from './helpers/numeric.js';
import { untilInputStops } from './helpers/proc.js';

const work = mkdtempSync(join(tmpdir(), 'jacobian-jobs-'));
afterAll(() => spawnSync('rm', ['-rf', work]));

const LORENZ = ['[s*(y-x), x*(r-z)-y, x*y-b*z]', '--at', 's=10', '--at', 'r=28', '--at', 'b=2.6667', '--wrt', 'x,y,z'];

/**
 * `count` Lorenz points, enough for several chunks (so threads start), with bad lines among them: a blank
 * line, a line that is not JSON, a point without z, and a non-finite value.
 */
function lorenzPoints(count: number): string {
  const random = parkMiller(11);
  const lines = Array.from({ length: count }, () =>
    JSON.stringify({ x: 20 * random() - 10, y: 20 * random() - 10, z: 40 * random() }),
  );
  lines[5] = '';
  lines[700] = '{"x":1,';
  lines[1500] = '{"x":1,"y":2}';
  lines[2100] = '{"x":"NaN","y":2,"z":3}';
  return `${lines.join('\n')}\n`;
}

const points = join(work, 'lorenz.jsonl');
writeFileSync(points, lorenzPoints(2600));
/** Twice the Lorenz points: a file long enough that its threads start before the first chunk. */
const long = join(work, 'lorenz-long.jsonl');
writeFileSync(long, readFileSync(points, 'utf8').repeat(2));

/** The one-thread run of the Lorenz batch, which three tests compare with: in-process, run once. */
let oneThread: ReturnType<typeof runInProcess> | undefined;
const lorenzOnOneThread = () => (oneThread ??= runInProcess([...LORENZ, '--batch', points, '--jobs', '1', '--stats']));

describe('--jobs', () => {
  it('writes what one thread writes, line for line, bad lines included, starting the threads at once for a long file', async () => {
    // Three threads here, on the long file (the launcher starts them before the CLI loads); two on the short file in
    // the tests of a CSV table and of vjp below.
    const [one, longOne, three] = await Promise.all([
      lorenzOnOneThread(),
      runInProcess([...LORENZ, '--batch', long, '--jobs', '1']),
      runChildAsync([...LORENZ, '--batch', long, '--jobs', '3', '--stats']),
    ]);
    expect(one.status).toBe(1);
    expect(JSON.parse(one.stderr)).toMatchObject({ points: 2600, failed: 4, threads: 1 });
    const lines = one.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2600);
    expect(JSON.parse(lines[1500]!)).toEqual({ line: 1501, error: expect.stringContaining('no value for z') });
    expect(lines.filter((line) => line.startsWith('{"line":'))).toHaveLength(4);
    expect(statSync(long).size).toBeGreaterThan(EARLY_THREADS_BYTES);
    expect(longOne.status).toBe(1);
    expect(longOne.stdout.split('\n')).toHaveLength(5201);
    expect(three.status).toBe(1);
    expect(JSON.parse(three.stderr)).toMatchObject({ points: 5200, failed: 8, threads: 3 });
    expect(three.stdout === longOne.stdout).toBe(true);
  });

  it('the launcher starts threads early from the sizes at which the batch takes them, with --jobs and without', () => {
    const launcher = readFileSync(new URL('../scripts/launch.cjs', import.meta.url), 'utf8');
    for (const [name, bytes] of [
      ['EARLY_THREADS_BYTES', EARLY_THREADS_BYTES],
      ['DEFAULT_EARLY_THREADS_BYTES', DEFAULT_EARLY_THREADS_BYTES],
    ] as const) {
      const shift = new RegExp(`const ${name} = 1 << (\\d+);`).exec(launcher);
      expect(shift, `scripts/launch.cjs states ${name} as 1 << k`).not.toBeNull();
      expect(2 ** Number(shift![1])).toBe(bytes);
    }
  });

  it('runs a long file of one chunk on the main thread, and ends when the expression is refused', async () => {
    // One line longer than the early start's size: one chunk, which the main thread runs.
    const wide = join(work, 'wide.jsonl');
    writeFileSync(wide, `${JSON.stringify({ x: Array.from({ length: 30000 }, (_, k) => k / 7) })}\n`);
    // The launcher starts a long file's threads before the CLI loads: one the batch never takes (one chunk, or an
    // expression refused first) does not hold the process.
    const [wideOne, wideTwo, refused] = await Promise.all([
      runInProcess(['sum(x)', '--batch', wide, '--jobs', '1']),
      runChildAsync(['sum(x)', '--batch', wide, '--jobs', '2', '--stats']),
      runChildAsync(['x*', `--batch=${long}`, '--jobs=2']),
    ]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^error: syntax error/);
    expect(statSync(long).size).toBeGreaterThan(EARLY_THREADS_BYTES);
    expect(statSync(wide).size).toBeGreaterThan(EARLY_THREADS_BYTES);
    expect(wideTwo.status).toBe(0);
    expect(JSON.parse(wideTwo.stderr)).toMatchObject({ points: 1, failed: 0, threads: 1 });
    expect(wideTwo.stdout === wideOne.stdout).toBe(true);
    expect(wideOne.stdout.split('\n')).toHaveLength(2);
  });

  it('without --jobs, runs a batch whose work left does not pay for threads on the main thread alone', async () => {
    // Two chunks (512 lines, then 88), where --jobs 2 would start a thread with the second. The batch judges by
    // its own times, so the file is short enough that no load could make them pay: 88 lines left would need
    // 8.5 ms a line, and the first chunk's lines take about 0.1 ms even before V8 optimises their code.
    const twoChunks = join(work, 'two-chunks.jsonl');
    writeFileSync(twoChunks, `${readFileSync(points, 'utf8').split('\n').slice(0, 600).join('\n')}\n`);
    const [byDefault, oneThread] = await Promise.all([
      runChildAsync([...LORENZ, '--batch', twoChunks, '--stats']),
      runInProcess([...LORENZ, '--batch', twoChunks, '--jobs', '1']),
    ]);
    expect(JSON.parse(byDefault.stderr)).toMatchObject({ points: 600, threads: 1 });
    expect(byDefault.stdout === oneThread.stdout).toBe(true);
  });

  it('without --jobs, starts a thread per core at once for a file long enough to pay for them surely', async () => {
    // Lines of 1 000 numbers each, past DEFAULT_EARLY_THREADS_BYTES in all: about three lines a chunk.
    const random = parkMiller(5);
    const line = () => JSON.stringify({ x: Array.from({ length: 1000 }, () => random()) });
    const wide = join(work, 'default-early.jsonl');
    writeFileSync(wide, `${Array.from({ length: 240 }, line).join('\n')}\n`);
    expect(statSync(wide).size).toBeGreaterThan(DEFAULT_EARLY_THREADS_BYTES);
    const [byDefault, oneThread] = await Promise.all([
      runChildAsync(['grad', 'sum(x.*x)', '--batch', wide, '--stats']),
      runInProcess(['grad', 'sum(x.*x)', '--batch', wide, '--jobs', '1']),
    ]);
    expect(byDefault.status).toBe(0);
    const { points: count, threads } = JSON.parse(byDefault.stderr) as { points: number; threads: number };
    expect(count).toBe(240);
    // One thread per core: more than one on a machine of two cores or more (as CI's).
    if (availableParallelism() > 1) expect(threads).toBeGreaterThan(1);
    else expect(threads).toBe(1);
    expect(byDefault.stdout === oneThread.stdout).toBe(true);
  });

  it('without --jobs, judges by the fastest line once warm whether the lines left pay for threads', () => {
    const linesThatPay = (lineSeconds: number) => Math.ceil(THREADS_PAY_SECONDS / lineSeconds);
    // A first chunk slow as code not yet optimised, then one at the steady pace.
    const file = new OwnWork();
    const steady = 4e-6;
    file.add(512, JUDGED_AFTER_SECONDS / 2);
    expect(file.threadsPay(1e9), 'not judged before it has worked JUDGED_AFTER_SECONDS').toBe(false);
    file.add(512, 512 * steady);
    file.add(512, JUDGED_AFTER_SECONDS / 2);
    expect(file.threadsPay(linesThatPay(steady) * 1.01)).toBe(true);
    expect(file.threadsPay(linesThatPay(steady) * 0.99), 'the slow chunks do not make the lines dearer').toBe(false);
    // A standard input's length is not known: threads start once it has kept this thread busy long enough.
    const stream = new OwnWork();
    stream.add(512, THREADS_PAY_SECONDS * 0.9);
    expect(stream.threadsPay(undefined)).toBe(false);
    stream.add(512, THREADS_PAY_SECONDS * 0.2);
    expect(stream.threadsPay(undefined)).toBe(true);
  });

  it('writes the CSV table one thread writes, its warnings in order, a change of shape refused as there', async () => {
    const csvPoints = join(work, 'shapes.jsonl');
    const lines = Array.from({ length: 1800 }, (_, k) => JSON.stringify({ x: k % 1000 === 999 ? [k, 1, 2] : [k, -k] }));
    lines[3] = '[]';
    writeFileSync(csvPoints, `${lines.join('\n')}\n`);
    const args = ['x.^2', '--batch', csvPoints, '--format', 'csv'];
    const [one, two] = await Promise.all([
      runInProcess([...args, '--jobs', '1']),
      runChildAsync([...args, '--jobs', '2']),
    ]);
    expect(one!.status).toBe(1);
    expect(one!.stderr.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^warning: line 4 left out: a line must be a JSON object/),
      'warning: line 1000 left out: its result has 13 columns where the header has 7: ' +
        'a CSV batch needs the same shapes on every line; use --format jsonl',
    ]);
    expect(two).toEqual(one);
  });

  it('runs vjp with a seed on each line as one thread does', async () => {
    const seeded = join(work, 'seeded.jsonl');
    const random = parkMiller(5);
    const lines = Array.from({ length: 1200 }, () =>
      JSON.stringify({ at: { x: [random(), random()] }, v: [random(), random()] }),
    );
    writeFileSync(seeded, `${lines.join('\n')}\n`);
    const args = ['vjp', 'sin(x).*x', '--batch', seeded];
    const [one, two] = await Promise.all([
      runInProcess([...args, '--jobs', '1']),
      runChildAsync([...args, '--jobs', '2']),
    ]);
    expect(one!.status).toBe(0);
    expect(two).toEqual(one);
  });

  it('is refused without --batch, and for a count that is not a whole number from 1', async () => {
    for (const [flags, message] of [
      [['--jobs', '2'], 'error: --jobs splits a batch: give --batch FILE\n'],
      [['--batch', '-', '--jobs', '0'], 'error: --jobs takes a whole number from 1 to 1024, got "0"\n'],
      [['--batch', '-', '--jobs', 'all'], 'error: --jobs takes a whole number from 1 to 1024, got "all"\n'],
    ] as const) {
      const io = fakeIo({ stdin: '{"x":1}\n' });
      expect(await main(['x*2', '--at', 'x=1', ...flags], io)).toBe(2);
      expect(io.err()).toBe(message);
    }
  });

  it('runs the chunks of a worker that cannot start on the main thread, with the same output', async () => {
    const stdin = readFileSync(points, 'utf8');
    const io = { ...fakeIo({ stdin }), workerEntry: join(work, 'no-such-launcher.cjs') };
    expect(await main([...LORENZ, '--batch', '-', '--jobs', '2', '--stats'], io)).toBe(1);
    expect(JSON.parse(io.err())).toMatchObject({ points: 2600, failed: 4, threads: 1 });
    expect(io.out() === (await lorenzOnOneThread()).stdout).toBe(true);
  });

  it('runs on this thread where the Io starts no threads (in-process), with the same output', async () => {
    const stdin = readFileSync(points, 'utf8');
    const io = fakeIo({ stdin });
    expect(await main([...LORENZ, '--batch', '-', '--jobs', '2'], io)).toBe(1);
    expect(io.out() === (await lorenzOnOneThread()).stdout).toBe(true);
  });
});

describe('--jobs 2 with a reader that does not read', () => {
  it('stops reading well before the end, then a signal leaves whole lines in order and exit 130', async () => {
    // 2.5 MB of lines: reading stops after a few 64 KiB reads (5 seen), however quick the points are.
    const points = 200_000;
    const path = join(work, 'slow.jsonl');
    writeFileSync(path, Array.from({ length: points }, (_, k) => `{"x":${k}}\n`).join(''));
    const { child, output } = spawnUnread(['x*2', '--batch', path, '--jobs', '2']);
    const offset = await untilInputStops(child, path);
    expect(offset).toBeLessThan(statSync(path).size / 4);
    child.kill('SIGINT');
    const { out, status } = await output();
    expect(status).toBe(130);
    expect(out.endsWith('\n')).toBe(true);
    const lines = out.slice(0, -1).split('\n');
    expect(lines.length).toBeGreaterThan(1000);
    expect(lines.length).toBeLessThan(points);
    lines.forEach((line, k) => {
      if (!line.startsWith(`{"command":"jacobian","expr":"x*2","at":{"x":${k}},`)) expect(line).toBe(`point ${k}`);
    });
  });
});
