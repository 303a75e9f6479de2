/**
 * `--shard K/N` and the README's recipes for more than one machine: each
 * shard takes the lines whose number is K modulo N and numbers its results;
 * the shards merged as the README merges them (`sort -m` on the line number,
 * then the numbers taken out) are the one-process output, line for line;
 * blocks of whole lines run one after the other, as GNU parallel's
 * `--pipepart --keep-order` runs them, give it too. The shards and blocks run
 * in-process but for one, a child process of the built command on two threads;
 * the recipes merge their files with the shell's sort and sed (parallel itself
 * is not needed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo, ROOT, runInProcess } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'jacobian-shard-'));
afterAll(() => spawnSync('rm', ['-rf', work]));

const COMMAND = `node ${JSON.stringify(join(ROOT, 'bin', 'jacobian.cjs'))}`;
const EXPR = 'sin(x).*y';

/** The points: x and y of two entries, a bad line among them. */
const POINT_LINES = Array.from({ length: 1400 }, (_, k) =>
  k === 800 ? '{"x":[1,2]}' : JSON.stringify({ x: [k / 7, -k], y: [1 / (k + 1), k % 5] }),
);
const points = join(work, 'points.jsonl');
writeFileSync(points, `${POINT_LINES.join('\n')}\n`);
/** The one-process output, in-process. */
const single = await runInProcess([EXPR, '--batch', points, '--jobs', '1']);

/** Runs a shell script in the work directory, `jacobian` standing for the built command. */
function sh(script: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', script.replace(/\bjacobian\b/g, COMMAND)], {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('--shard K/N', () => {
  it('takes the lines whose number is K modulo N, each result carrying its line number first', async () => {
    expect(single.status).toBe(1);
    const shard = await runInProcess([EXPR, '--batch', points, '--shard', '1/3']);
    expect(shard.status).toBe(0);
    const lines = shard.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(467);
    lines.forEach((line, k) => expect(line.startsWith(`{"line":${3 * k + 1},"command":"jacobian",`), line).toBe(true));
    // Taken out, the line number leaves the one-process line.
    const all = single.stdout.split('\n');
    expect(lines[10]!.replace(/^\{"line":\d+,/, '{')).toBe(all[30]);
  });

  it('merged as the README merges them, with threads or without, the shards are the one-process output', async () => {
    const part1 = await runInProcess([EXPR, '--batch', points, '--shard', '1/2', '--jobs', '1']);
    writeFileSync(join(work, 'part1.jsonl'), part1.stdout);
    const merged = sh(
      'jacobian "sin(x).*y" --batch points.jsonl --shard 0/2 --jobs 2 --stats > part0.jsonl 2> stats0.txt; ' +
        `sort -m -t: -k2,2n part0.jsonl part1.jsonl | sed 's/^{"line":[0-9]*,"command"/{"command"/'`,
    );
    // The shard of 700 lines ran on two threads.
    expect(JSON.parse(readFileSync(join(work, 'stats0.txt'), 'utf8'))).toMatchObject({ points: 700, threads: 2 });
    expect(merged.stderr).toBe('');
    expect(merged.stdout === single.stdout).toBe(true);
  });

  it('CSV shards merge under one header', async () => {
    const one = await runInProcess([EXPR, '--batch', points, '--format', 'csv', '--jobs', '1']);
    for (const k of [0, 1]) {
      const part = await runInProcess([EXPR, '--batch', points, '--format', 'csv', '--shard', `${k}/2`]);
      writeFileSync(join(work, `part${k}.csv`), part.stdout);
    }
    const merged = sh('(head -n 1 part0.csv; tail -q -n +2 part0.csv part1.csv | sort -t, -k1,1n)');
    expect(merged.stdout === one.stdout).toBe(true);
  });

  it('is refused for anything but K/N with K from 0 to N-1, and without --batch', async () => {
    for (const shard of ['3/3', '1/0', '-1/2', 'a/b', '1', '1/2/3']) {
      const io = fakeIo({ stdin: '{"x":1}\n' });
      expect(await main(['x*2', '--batch', '-', '--shard', shard], io)).toBe(2);
      expect(io.err()).toBe(
        `error: --shard takes K/N with K from 0 to N-1 (the lines whose number is K modulo N), got "${shard}"\n`,
      );
    }
    const io = fakeIo();
    expect(await main(['x*2', '--at', 'x=1', '--shard', '0/2'], io)).toBe(2);
    expect(io.err()).toBe('error: --shard splits a batch: give --batch FILE\n');
  });
});

describe("GNU parallel's --pipepart --keep-order, as blocks of whole lines", () => {
  it('blocks run one after the other on standard input, joined in order, are the one-process output', async () => {
    // parallel cuts the file at line ends into blocks and runs `jacobian … --batch -` on each; --keep-order joins
    // the outputs in the blocks' order. Here: three blocks of uneven size, without the bad line (whose error
    // would number the line within its block).
    const good = POINT_LINES.filter((_, k) => k !== 800);
    const blocks = [good.slice(0, 333), good.slice(333, 1000), good.slice(1000)];
    let joined = '';
    for (const block of blocks) {
      const run = await runInProcess([EXPR, '--batch', '-'], { stdin: `${block.join('\n')}\n` });
      expect(run.status).toBe(0);
      joined += run.stdout;
    }
    writeFileSync(join(work, 'good.jsonl'), `${good.join('\n')}\n`);
    const whole = await runInProcess([EXPR, '--batch', join(work, 'good.jsonl')]);
    expect(whole.status).toBe(0);
    expect(joined === whole.stdout).toBe(true);
  });
});
