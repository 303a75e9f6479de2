/**
 * Large JSON arrays formatted on two threads (shared-numbers.ts): the text is the one-thread text to the byte,
 * whichever thread made which chunk, with a helper that cannot start, and through the CLI, which still exits.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { textOf } from '../src/format/chunks.js';
import { JSON_CHUNK } from '../src/format/joined.js';
import { jsonNumber } from '../src/format/number.js';
import {
  formatAhead,
  jsonNumberChunks,
  numberHelperStarted,
  numberThreadsForTests,
  prepareNumberHelper,
  SHARED_NUMBER_CHUNKS,
  sharedView,
  useNumberHelperFrom,
} from '../src/format/shared-numbers.js';
import { ROOT } from './helpers/cli.js';

const BUILT_HELPER = new URL('../dist/src/format/number-worker.js', import.meta.url);

/** Numbers of every kind the writer meets: repeats, signed zeros, non-finite ones, integers, wide decimals. */
function mixed(n: number): Float64Array {
  const special = [NaN, Infinity, -Infinity, 0, -0, 5e-324, 1e21, -1.2345678901234568e-300, 0.1 + 0.2, 7];
  const data = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    if (k % 5 === 3) data[k] = data[k - 1]!;
    else if (k % 13 === 4) data[k] = special[k % special.length]!;
    else data[k] = Math.sin(k) * 10 ** ((k % 17) - 8);
  }
  return data;
}

const plain = (data: ArrayLike<number>, from: number, to: number): string =>
  Array.from({ length: to - from }, (_, k) => jsonNumber(data[from + k]!)).join(',');

describe('JSON numbers on two threads', () => {
  afterAll(() => {
    Object.assign(numberThreadsForTests, { always: false, joinFirst: false, aheadWhole: false });
    useNumberHelperFrom(null);
  });

  it('give the one-thread text of arrays given ahead, every chunk made by the helper, kept until written', () => {
    useNumberHelperFrom(BUILT_HELPER);
    Object.assign(numberThreadsForTests, { always: true, joinFirst: false, aheadWhole: true });
    const n = (SHARED_NUMBER_CHUNKS + 3) * JSON_CHUNK + 5;
    const chunks = Math.ceil(n / JSON_CHUNK);
    const rows = Int32Array.from({ length: n }, (_, k) => Math.floor(k / 3));
    const values = mixed(n);
    formatAhead(rows);
    formatAhead(values);
    // Written in the other order: the rows' chunks arrive while the values are written, and wait for their turn.
    const helped = numberThreadsForTests.helperChunks;
    expect(textOf(jsonNumberChunks(values, 0, n)) === plain(values, 0, n)).toBe(true);
    expect(textOf(jsonNumberChunks(rows, 0, n)) === plain(rows, 0, n)).toBe(true);
    expect(numberThreadsForTests.helperChunks - helped).toBe(2 * chunks);
    // Given ahead once: a second writing shares as usual.
    numberThreadsForTests.aheadWhole = false;
    expect(textOf(jsonNumberChunks(rows, 0, n)) === plain(rows, 0, n)).toBe(true);
  });

  it('give the one-thread text, the helper making some chunks', () => {
    useNumberHelperFrom(BUILT_HELPER);
    Object.assign(numberThreadsForTests, { always: true, joinFirst: true });
    const n = (SHARED_NUMBER_CHUNKS + 9) * JSON_CHUNK + 123;
    const floats = mixed(n);
    const ints = Int32Array.from(floats, (x, k) => (Number.isFinite(x) ? Math.trunc(x * 1000) : -k));
    for (const [data, from, to] of [
      [floats, 0, n],
      [floats, 77, n - 5],
      [ints, 0, n],
    ] as const) {
      const helped = numberThreadsForTests.helperChunks;
      expect(textOf(jsonNumberChunks(data, from, to)) === plain(data, from, to)).toBe(true);
      expect(numberThreadsForTests.helperChunks).toBeGreaterThan(helped);
    }
  });

  it('go to the helper in shared memory, copied unless they are there already, never moved', () => {
    // A moved (transferred) buffer is detached, and a thread's first one makes V8 drop its optimized code.
    const floats = mixed(1000);
    const ints = Int32Array.from(floats, (x) => (Number.isFinite(x) ? Math.trunc(x) : 0));
    for (const data of [floats, ints]) {
      const copy = sharedView(data, 10, 990);
      expect(copy.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(copy.constructor).toBe(data.constructor);
      expect(Array.from(copy)).toEqual(Array.from(data.subarray(10, 990)));
    }
    const shared = new Float64Array(new SharedArrayBuffer(8000)).fill(2.5);
    const view = sharedView(shared, 10, 990);
    expect(view.buffer).toBe(shared.buffer);
    expect([view.byteOffset, view.length]).toEqual([80, 980]);
  });

  it('start their helper ahead, for a result long enough to share, while the engine works', () => {
    useNumberHelperFrom(undefined);
    Object.assign(numberThreadsForTests, { always: true, joinFirst: false });
    prepareNumberHelper(SHARED_NUMBER_CHUNKS * JSON_CHUNK - 1);
    expect(numberHelperStarted()).toBe(false);
    prepareNumberHelper(SHARED_NUMBER_CHUNKS * JSON_CHUNK);
    expect(numberHelperStarted()).toBe(true);
    useNumberHelperFrom(null);
  });

  it('give the one-thread text when the helper cannot start', () => {
    useNumberHelperFrom(new URL('./no-such-helper.js', BUILT_HELPER));
    Object.assign(numberThreadsForTests, { always: true, joinFirst: false });
    const n = SHARED_NUMBER_CHUNKS * JSON_CHUNK + 1;
    const data = mixed(n);
    const helped = numberThreadsForTests.helperChunks;
    expect(textOf(jsonNumberChunks(data, 0, n)) === plain(data, 0, n)).toBe(true);
    expect(numberThreadsForTests.helperChunks).toBe(helped);
  });

  // ∇f of 300 000 entries (37 chunks) through the bundled CLI, with its helper and without: the same bytes, and the
  // process ends by itself (the helper never keeps it alive).
  it('leave the CLI free to exit, with the same text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jacobian-numbers-'));
    const file = join(dir, 'x.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: 300_000 }, (_, k) => Math.sin(k))));
    const run = (threads: string) =>
      new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['bin/jacobian.cjs', 'grad', 'sum(sin(x))', '--at', `x=@${file}`, '--json'],
          {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? '', JACOBIAN_THREADS: threads },
            encoding: 'utf8',
            maxBuffer: 1 << 26,
            timeout: 25_000,
          },
          (error, stdout) => (error === null ? resolve(stdout) : reject(error)),
        );
      });
    try {
      const [shared, alone] = await Promise.all([run('2'), run('1')]);
      expect(shared.length).toBeGreaterThan(300_000 * 10);
      expect(shared === alone).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
