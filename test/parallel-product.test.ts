/**
 * Large matrix products on two threads (src/ops/parallel.ts): the same bits as the plain loop whatever the layouts
 * and entries (zeros, NaN, ±∞), a helper that cannot start gives the serial result, and a process that used the
 * helper exits by itself.
 */
import { execFile } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { helperForTests, PARALLEL_WORK, runnableIn, runningIn, useHelperFrom } from '../src/ops/parallel.js';
import { addProduct, denseProduct, type MatrixLayout } from '../src/ops/product-kernel.js';
import { ROOT, runInProcess } from './helpers/cli.js';
import { prng } from './helpers/numeric.js';
import { plainProduct } from './helpers/products.js';

/** The built helper module: the tests run the sources, whose helper is the build's .js. */
const BUILT_HELPER = new URL('../dist/src/ops/product-worker.js', import.meta.url);

const shared = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(n * 8));

/** Entries with exact zeros, and now and then NaN or ±∞ where `special`. */
function fill(x: Float64Array, random: () => number, special: boolean): void {
  for (let i = 0; i < x.length; i++) {
    const u = random();
    x[i] = u < 0.2 ? 0 : u < 0.21 && special ? [NaN, Infinity, -Infinity][i % 3]! : 2 * random() - 1;
  }
}

/** Whether two arrays hold the same numbers, -0 apart from 0 and NaN equal to NaN; the first difference otherwise. */
function firstDifference(x: Float64Array, y: Float64Array): number {
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

interface Case {
  readonly R: number;
  readonly K: number;
  readonly C: number;
  /** A stored by columns, B stored by columns, D stored by columns. */
  readonly layouts: readonly [boolean, boolean, boolean];
  readonly special: boolean;
  /** A in a plain (not shared) buffer: the kernel copies it. */
  readonly plainA: boolean;
}

/** Runs one case through addProduct and the plain loop, from the same D; the index of the first difference. */
function runCase({ R, K, C, layouts: [aByColumns, bByColumns, dByColumns], special, plainA }: Case, seed: number) {
  const random = prng(seed);
  const layout = (rows: number, cols: number, byColumns: boolean, offset: number): MatrixLayout =>
    byColumns ? { offset, rowStride: 1, colStride: rows } : { offset, rowStride: cols, colStride: 1 };
  // A padded offset and, for D, a stride wider than its rows: strided layouts inside larger buffers.
  const A = layout(R, K, aByColumns, 3);
  const B = layout(K, C, bByColumns, 5);
  const D: MatrixLayout = dByColumns
    ? { offset: 7, rowStride: 1, colStride: R + 2 }
    : { offset: 7, rowStride: C + 2, colStride: 1 };
  const a = plainA ? new Float64Array(3 + R * K) : shared(3 + R * K);
  const b = shared(5 + K * C);
  const d = shared(7 + (R + 2) * (C + 2));
  fill(a, random, special);
  fill(b, random, special);
  fill(d, random, false);
  const expected = Float64Array.from(d);
  plainProduct(a, A, b, B, expected, D, [R, K, C]);
  addProduct(a, A, b, B, d, D, R, K, C);
  return firstDifference(d, expected);
}

describe('matrix products on two threads', () => {
  afterAll(() => {
    helperForTests.joinFirst = false;
    useHelperFrom(null);
  });

  it('give the bits of the plain loop on random shapes, layouts and entries, the helper computing its share', () => {
    useHelperFrom(BUILT_HELPER);
    helperForTests.joinFirst = true;
    const helped = helperForTests.helperChunks;
    const random = prng(14);
    const cases: Case[] = [
      { R: 300, K: 100, C: 80, layouts: [false, false, false], special: false, plainA: false },
      { R: 40, K: 120, C: 500, layouts: [false, false, false], special: true, plainA: false },
      { R: 2100, K: 1000, C: 1, layouts: [false, false, false], special: true, plainA: false },
    ];
    for (let i = 0; i < 9; i++) {
      const R = 40 + Math.floor(random() * 400);
      const C = 1 + Math.floor(random() * 300);
      const K = Math.max(1, Math.ceil(PARALLEL_WORK / (R * C)) + Math.floor(random() * 20));
      const layouts = [random() < 0.5, random() < 0.5, random() < 0.5] as const;
      cases.push({ R, K, C, layouts, special: random() < 0.5, plainA: random() < 0.3 });
    }
    cases.forEach((c, i) => expect(runCase(c, 100 + i), JSON.stringify(c)).toBe(-1));
    expect(helperForTests.helperChunks - helped).toBeGreaterThan(0);
    // At the helper's own pace, the main thread taking back chunks the helper is slow with (however busy the machine),
    // on the three shapes above: the main thread spins while it waits, and a busy machine makes that long.
    helperForTests.joinFirst = false;
    process.env['JACOBIAN_THREADS'] = '2';
    try {
      cases.slice(0, 3).forEach((c, i) => expect(runCase(c, 200 + i), JSON.stringify(c)).toBe(-1));
    } finally {
      delete process.env['JACOBIAN_THREADS'];
    }
  });

  it("the dense kernel's (matmul's value): every term from −0, the same bits with the helper computing its share", () => {
    useHelperFrom(BUILT_HELPER);
    helperForTests.joinFirst = true;
    const helped = helperForTests.helperChunks;
    const random = prng(15);
    // By rows (R ≥ C) and by columns (C > R), odd sizes (rows and columns past the 4×2 register blocks), NaN and ±∞.
    for (const [R, K, C] of [
      [1003, 17, 201],
      [45, 130, 997],
    ] as const) {
      const [aAt, bAt, dAt] = [3, 4 + R * K, 5 + R * K + K * C];
      const v = shared(dAt + R * C + 2);
      fill(v, random, true);
      const expected = new Float64Array(R * C);
      for (let i = 0; i < R; i++)
        for (let j = 0; j < C; j++) {
          let sum = -0;
          for (let k = 0; k < K; k++) sum += v[aAt + i * K + k]! * v[bAt + k * C + j]!;
          expected[i * C + j] = sum;
        }
      const [before, after] = [v[dAt - 1], v[dAt + R * C]];
      denseProduct(v, aAt, v, bAt, v, dAt, R, K, C);
      expect(firstDifference(v.subarray(dAt, dAt + R * C), expected), `${R}×${K}×${C}`).toBe(-1);
      expect([v[dAt - 1], v[dAt + R * C]]).toEqual([before, after]);
    }
    expect(helperForTests.helperChunks - helped).toBeGreaterThan(0);
    helperForTests.joinFirst = false;
  });

  it('give the serial result when the helper cannot start', () => {
    useHelperFrom(new URL('./no-such-helper.js', BUILT_HELPER));
    helperForTests.joinFirst = false;
    const helped = helperForTests.helperChunks;
    expect(runCase({ R: 200, K: 110, C: 100, layouts: [false, true, false], special: true, plainA: false }, 7)).toBe(
      -1,
    );
    expect(helperForTests.helperChunks).toBe(helped);
  });

  // The product 130×130·130×130 (2.2 M multiply-adds, just past PARALLEL_WORK) starts the helper
  // (JACOBIAN_THREADS=2: whatever the machine's load); the process must still exit by itself.
  const N = 130;
  const point = Array.from({ length: N }, (_, i) => Math.sin(i).toFixed(3)).join(',');
  const expression = `sum((reshape(x, [${N}, 1]) * ones(1, ${N})) * ones(${N}, ${N}))`;
  const exits = (args: readonly string[], env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        args,
        { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 25_000 },
        (error, stdout) => (error === null ? resolve({ status: 0, stdout }) : reject(error)),
      );
    });
  // The CommonJS and the ES library, each with its own helper, in the process of library.test.ts's checks.
  it('leaves a process free to exit: the CLI', async () => {
    const args = [expression, '--at', point, '--json'];
    const cli = await exits(['bin/jacobian.cjs', ...args], { JACOBIAN_THREADS: '2' });
    useHelperFrom(null);
    process.env['JACOBIAN_THREADS'] = '1';
    try {
      // The serial product's output, in this process: the helper's share gives the same bits.
      const serial = await runInProcess(args);
      expect(cli.stdout).toBe(serial.stdout);
      expect(JSON.parse(cli.stdout)).toHaveProperty('jacobian');
      expect(N ** 3).toBeGreaterThan(PARALLEL_WORK);
    } finally {
      delete process.env['JACOBIAN_THREADS'];
    }
  });
});

describe('whether a core is free', () => {
  it("reads the threads ready to run from Linux's /proc/loadavg, and nothing from other text", () => {
    expect(runnableIn('0.52 0.61 0.70 2/80 3135\n')).toBe(2);
    expect(runnableIn('3.01 2.20 1.74 11/412 99')).toBe(11);
    expect(runnableIn('')).toBe(Infinity);
    expect(runnableIn('0.52 0.61 2/80')).toBe(Infinity);
  });

  it("reads a thread's state from its /proc stat text, whatever its name holds", () => {
    expect(runningIn('4321 (node) R 1 4321 4321 0 -1 4194560')).toBe(true);
    expect(runningIn('4322 (V8 Worker) S 1 4321 4321 0 -1')).toBe(false);
    expect(runningIn('4323 (a) R (b)) S 1 2')).toBe(false);
    expect(runningIn('4324 (a) S (b)) R 1 2')).toBe(true);
  });
});
