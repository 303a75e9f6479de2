/**
 * A batch writes each chunk's output into a buffer that it takes back once
 * the bytes are written (standard output a file: written at once), the main
 * thread's and each worker's (shared memory, given back). The bytes are those
 * of fresh buffers, to the byte; a stream that holds the bytes gets fresh ones.
 * FlatLine leaves a line too long for its copy to JSON.parse.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FlatLine } from '../src/cli/batch-line.js';
import { main } from '../src/cli/main.js';
import type { OutputOptions } from '../src/cli/options.js';
import { readSource } from '../src/cli/request.js';
import { BatchPoints, type BatchSetup, type ChunkOutput } from '../src/cli/workers-batch.js';
import { fakeIo, ROOT, runInProcess } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'jacobian-buffers-'));
afterAll(() => spawnSync('rm', ['-rf', work]));

/**
 * Points whose lines grow longer chunk after chunk (so a buffer kept is at times too small for the next chunk),
 * with a bad line and an `at` line among them.
 */
function points(count: number): string {
  const lines = Array.from({ length: count }, (_, k) => {
    const digits = 1 + Math.floor((16 * k) / count);
    return JSON.stringify({ x: Number((k / 7).toFixed(digits)), y: -k, z: 1 / (k + 1) });
  });
  lines[100] = '{"x":1,';
  lines[900] = JSON.stringify({ at: { x: 1, y: 2, z: 3 } });
  return `${lines.join('\n')}\n`;
}

const LORENZ = ['[s*(y-x), x*(r-z)-y, x*y-b*z]', '--at', 's=10', '--at', 'r=28', '--at', 'b=2.6667', '--wrt', 'x,y,z'];

/** The batch run in-process; `written`: what writeBytes says of the bytes (true: done with them, reusable). */
async function inProcess(stdin: string, written: boolean): Promise<{ out: string; buffers: Set<ArrayBufferLike> }> {
  const chunks: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const io = {
    ...fakeIo({ stdin }),
    writeBytes: (bytes: Uint8Array) => {
      buffers.add(bytes.buffer);
      // A copy: the batch may write the next chunk into these bytes.
      chunks.push(Buffer.from(bytes));
      return written;
    },
  };
  expect(await main([...LORENZ, '--batch', '-'], io)).toBe(1);
  return { out: Buffer.concat(chunks).toString('utf8'), buffers };
}

describe('the buffers of a batch', () => {
  it('are reused once written, with the bytes of fresh ones', async () => {
    const stdin = points(5000);
    const [reused, fresh] = await Promise.all([inProcess(stdin, true), inProcess(stdin, false)]);
    expect(reused.out === fresh.out).toBe(true);
    expect(reused.out.split('\n')).toHaveLength(5001);
    // Ten chunks: fresh buffers for each, a few (those grown) when they are given back.
    expect(fresh.buffers.size).toBe(10);
    expect(reused.buffers.size).toBeLessThan(5);
  });

  it('go back to the worker threads when standard output is a file, with the bytes one thread writes', async () => {
    const input = join(work, 'points.jsonl');
    writeFileSync(input, points(6000));
    // Three threads in a child, its standard output a file; one thread's bytes in-process.
    const run = (jobs: string) => {
      const path = join(work, `out-${jobs}.jsonl`);
      const fd = openSync(path, 'w');
      try {
        const result = spawnSync(
          process.execPath,
          ['bin/jacobian.cjs', ...LORENZ, '--batch', input, '--jobs', jobs, '--stats'],
          {
            cwd: ROOT,
            stdio: ['ignore', fd, 'pipe'],
            encoding: 'utf8',
            timeout: 20_000,
          },
        );
        expect(result.status).toBe(1);
        return { out: readFileSync(path), stats: JSON.parse(result.stderr) as unknown };
      } finally {
        closeSync(fd);
      }
    };
    const three = run('3');
    const single = await runInProcess([...LORENZ, '--batch', input, '--jobs', '1']);
    expect(single.status).toBe(1);
    const one = Buffer.from(single.stdout, 'utf8');
    expect(three.stats).toMatchObject({ points: 6000, failed: 1, threads: 3 });
    expect(one.length).toBeGreaterThan(6000 * 300);
    expect(three.out.equals(one)).toBe(true);
  });
});

describe("a worker thread's outputs", () => {
  it('are written into shared memory, which goes to the main thread and back without being moved', async () => {
    // Moving (transferring) a buffer detaches it, and a thread's first detached buffer makes V8 drop its optimized
    // code that reads typed arrays: a worker writes into shared memory, which is posted, not moved.
    const options = {
      at: [],
      precision: 6,
      maxMemory: 2 ** 32,
      color: false,
      maxInput: 2 ** 30,
    } satisfies OutputOptions;
    const setup: BatchSetup = {
      command: 'jacobian',
      expr: 'x*2',
      piped: {},
      fixed: [],
      wrt: undefined,
      options,
      format: 'jsonl',
      numbered: false,
    };
    const lines = Array.from({ length: 50 }, (_, k) => `{"x":${k / 3}}`);
    const bytesOf = (output: ChunkOutput) => {
      if (output.kind !== 'jsonl') throw new Error('a JSON Lines chunk');
      return output.bytes;
    };
    const worker = await BatchPoints.create(setup);
    // The first chunk learns how long a line is (its buffer may grow into one of its own, which is copied).
    worker.run({ first: 1, step: 1, lines });
    const firstBytes = bytesOf(worker.run({ first: 1, step: 1, lines }));
    expect(firstBytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    const text = firstBytes.toString('utf8');
    // Given back as the main thread posts it (a structured clone shares, not copies, shared memory), it is written
    // again by the next chunk.
    const { port1, port2 } = new MessageChannel();
    const given = new Promise<SharedArrayBuffer>((resolve) => port2.once('message', resolve));
    port1.postMessage(firstBytes.buffer);
    const back = await given;
    port1.close();
    expect(new Uint8Array(back)[0]).toBe(firstBytes[0]);
    worker.recycle(back);
    const second = bytesOf(worker.run({ first: 1, step: 1, lines }));
    expect(second.buffer).toBe(back);
    expect(second.toString('utf8')).toBe(text);
    // The main thread's own chunks keep their own memory, and the same bytes.
    const own = bytesOf(
      BatchPoints.of(setup, await readSource('x*2', options, fakeIo())).run({ first: 1, step: 1, lines }),
    );
    expect(own.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(own.toString('utf8')).toBe(text);
  });
});

describe('FlatLine', () => {
  it('leaves a flat line longer than its copy to JSON.parse, which the batch then takes', async () => {
    const name = 'x'.repeat(5000);
    const line = `{"${name}":2}`;
    expect(new FlatLine().read(line)).toBe(false);
    expect(new FlatLine().read(`{"x":2}`)).toBe(true);
    const io = fakeIo({ stdin: `${line}\n` });
    expect(await main([`3*${name}`, '--batch', '-'], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ value: 6, jacobian: [[3]] });
  });
});
