/**
 * A batch whose reader is slow: the batch stops reading and computing while
 * standard output holds about 1 MiB its reader has not taken, so memory stays
 * bounded however many lines there are; the output is still complete and in
 * order. A child process on a pipe the test does not read until the batch
 * has stopped reading its input (or, before back-pressure, has read all of
 * it, with 24 MB of output piled up and over 300 MiB resident for 100 000
 * lines).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnUnread } from './helpers/cli.js';
import { peakMiB, untilInputStops } from './helpers/proc.js';

const work = mkdtempSync(join(tmpdir(), 'jacobian-backpressure-'));
afterAll(() => spawnSync('rm', ['-rf', work]));

const POINTS = 60_000;
const BOUND_MIB = 200;

// Each test's child waits on its own pipe, so the three run side by side.
describe.concurrent('--batch with a reader that does not read', () => {
  it(`${POINTS} points: the batch stops reading, peak memory stays under ${BOUND_MIB} MiB, and every line comes in order`, async () => {
    const points = join(work, 'points.jsonl');
    writeFileSync(points, Array.from({ length: POINTS }, (_, k) => `{"x":${k}}\n`).join(''));
    const { child, output } = spawnUnread(['x*2', '--batch', points, '--stats']);

    const offset = await untilInputStops(child, points);
    const stalledPeak = peakMiB(child.pid!);
    // Stopped well before the end of its input: about 1 MiB of output waits, a few thousand lines of the 60 000
    // (two to four 64 KiB chunks of input read, of the 700 KiB, depending on how far the threads got).
    expect(offset).toBeLessThan(statSync(points).size / 2);
    expect(stalledPeak).toBeLessThan(BOUND_MIB);

    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const { out, status } = await output();
    expect(status).toBe(0);
    const stats = JSON.parse(stderr) as { points: number; maxRssMiB: number };
    expect(stats.points).toBe(POINTS);
    // Once read, the batch runs to its end within the bound too.
    expect(stats.maxRssMiB).toBeLessThan(BOUND_MIB);
    const lines = out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(POINTS);
    lines.forEach((line, k) => {
      if (!line.startsWith(`{"command":"jacobian","expr":"x*2","at":{"x":${k}},`)) expect(line).toBe(`point ${k}`);
    });
    expect(JSON.parse(lines[POINTS - 1]!)).toMatchObject({ at: { x: POINTS - 1 }, jacobian: [[2]] });
  });

  // SIGTERM, and signals at other points, are in hostile-input.test.ts and fuzz-io.test.ts.
  it.each([['SIGINT', 130]] as const)(
    '%s while the batch waits for its reader: the lines handed over are whole, then exit %d',
    async (signal, status) => {
      const points = join(work, `signal-${signal}.jsonl`);
      writeFileSync(points, Array.from({ length: 20_000 }, (_, k) => `{"x":${k}}\n`).join(''));
      const { child, output } = spawnUnread(['x*2', '--batch', points]);
      expect(await untilInputStops(child, points)).toBeLessThan(statSync(points).size);
      child.kill(signal);
      const { out, status: exitStatus } = await output();
      expect(exitStatus).toBe(status);
      // More than a pipe holds: what waited in the child came out whole once the reader read.
      expect(out.length).toBeGreaterThan(1 << 20);
      expect(out.endsWith('\n')).toBe(true);
      const lines = out.slice(0, -1).split('\n');
      expect(lines.length).toBeLessThan(20_000);
      lines.forEach((line, k) => expect(JSON.parse(line), line).toMatchObject({ at: { x: k } }));
    },
  );

  it('a second signal ends it at once, though the reader never reads', async () => {
    const points = join(work, 'second.jsonl');
    writeFileSync(points, Array.from({ length: 20_000 }, (_, k) => `{"x":${k}}\n`).join(''));
    const { child, exited } = spawnUnread(['x*2', '--batch', points]);
    await untilInputStops(child, points);
    // Two different signals, which the kernel cannot merge into one as it can two of the same.
    child.kill('SIGINT');
    child.kill('SIGTERM');
    expect([130, 143]).toContain(await exited);
    child.stdout.destroy();
  });
});
