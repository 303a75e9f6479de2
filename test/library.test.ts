/**
 * The library as a user imports it: by the package's name, from the built
 * package (npm run build), in a separate Node process. Its types, as a
 * TypeScript user's program resolves them through the package's "exports",
 * are checked by `npm run typecheck` (tsconfig.test.json references the
 * program's project, fixtures/library), not by a tsc of this file's own.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { CHUNK_ENTRIES } from '../src/engine/compiled.js';
import { SHARED_LOOP_CHUNKS, SHARED_LOOP_WORK } from '../src/engine/threads.js';
import { PARALLEL_WORK } from '../src/ops/parallel.js';
import { ROOT } from './helpers/cli.js';

/** Starts `work` now; the test calls what it returns. A rejection is the test's, not an unhandled one. */
function started<T>(work: () => Promise<T>): () => Promise<T> {
  const promise = work();
  promise.catch(() => undefined);
  return () => promise;
}

/** The side of the matrices of the products that start the helper threads: 130³ multiply-adds, past PARALLEL_WORK. */
const N = 130;

/** The entries of sum(exp(x)) that start the loop helper threads: past SHARED_LOOP_CHUNKS chunks and its work. */
const LOOP_N = Math.max((SHARED_LOOP_CHUNKS + 1) * CHUNK_ENTRIES, SHARED_LOOP_WORK / 2);

/** A point of fixtures/library/user.ts's layer, whose calls (with `wrt`) the checks make at run time. */
const LAYER_AT = {
  W: [
    [1, 2, 3],
    [4, 5, 6],
  ],
  x: [0.1, 0.2, 0.3],
  b: [0, 1],
};

/** The checks that read `extra`, in an ES module that imports the package by its name, and requires it. */
const EXTRAS = `
      import { check, compile, jacobian, jvp, grad, hessian, hvp, sparseJacobian, vjp, ShapeError, UserError } from 'jacobian';
      import { createRequire } from 'node:module';
      const f = compile('[x[1]*x[2], sin(x[3])]', { x: [3] });
      const at = { x: [1, 2, 3] };
      const layer = compile('tanh(W*x + b)', { W: [2, 3], x: [3], b: [2] });
      const layerAt = ${JSON.stringify(LAYER_AT)};
      let error = null;
      try { jacobian('x .* y', { x: [1, 2], y: [1, 2, 3] }); } catch (e) { error = { shape: e instanceof ShapeError, user: e instanceof UserError, message: e.message }; }
      const x = new Float64Array([1, 2]);
      const W = [new Float64Array([1, 2]), new Float64Array([3, 4])];
      const messages = [];
      for (const call of [
        () => jacobian('x', { x: [1, 2] }, { wrtt: ['x'] }),
        () => compile('x', { x: [2] }).vjp({ x: [1, 2] }, [1, 1], { tol: 1 }),
        () => check('x', { x: 1 }, { tol: 1e-3, mdoe: 'forward' }),
        () => jacobian('x', { x: new Int32Array([1, 2]) }),
      ]) {
        try { call(); messages.push(null); } catch (e) { messages.push(e.name + ': ' + e.message); }
      }
      console.log(JSON.stringify({
        reusable: { J: f.jacobian(at).jacobian, vjp: f.vjp(at, [1, 1]).vjp, jvp: f.jvp(at, [1, 1, 1]).jvp, value: f.evaluate(at) },
        layer: {
          rows: layer.jacobian(layerAt, { wrt: ['x'] }).jacobian,
          back: layer.vjp(layerAt, [1, 1], { wrt: ['x'] }).vjp,
          forward: layer.jvp(layerAt, [1, 0, 0], { wrt: ['x'] }).jvp,
        },
        oneShot: {
          J: jacobian('x*2', { x: [1, 2, 3] }).jacobian,
          vjp: vjp('x*2', { x: [1, 2, 3] }, [0.1, 1, 0.0001]).vjp,
          jvp: jvp('x*2', { x: [1, 2, 3] }, [1, 0, 0]).jvp,
          grad: grad('sum(x.^2)', { x: [1, 2, 3] }).grad,
          hessian: hessian('sum(x.^3)', { x: [1, 2, 3] }).hessian,
          hvp: hvp('sum(x.^3)', { x: [1, 2, 3] }, [1, 1, 1]).hvp,
          error,
        },
        typed: {
          J: jacobian('x.^2', { x: new Float64Array([1, 2, 3]) }).jacobian,
          Wx: compile('W*x', { W: [2, 2], x: [2] }).evaluate({ W, x }),
          vjp: vjp('x*2', { x }, [1, 1]).vjp,
          untouched: Array.from(x),
        },
        sparse: sparseJacobian('x.^2', { x: [1, 2, 3] }),
        sparseMethod: f.sparseJacobian({ x: [1, 2, 3] }, { mode: 'reverse' }),
        messages,
        // A product past PARALLEL_WORK in each library, which starts that library's helper thread (JACOBIAN_THREADS=2).
        products: [compile, createRequire(import.meta.url)('jacobian').compile].map((f) =>
          f('sum(X * X)', { X: [${N}, ${N}] }).evaluate({ X: Array.from({ length: ${N} }, (_, i) => Array.from({ length: ${N} }, (_, j) => Math.sin(i * ${N} + j))) }),
        ),
        // A fused loop past SHARED_LOOP_CHUNKS chunks in each library, which starts that library's loop helper thread.
        loops: [compile, createRequire(import.meta.url)('jacobian').compile].map((f) =>
          f('sum(exp(x))', { x: [${LOOP_N}] }).evaluate({ x: Array.from({ length: ${LOOP_N} }, (_, k) => Math.sin(k)) }),
        ),
        required: (() => {
          const { jacobian, compile, InputError } = createRequire(import.meta.url)('jacobian');
          let error = null;
          try { jacobian('x', { x: [1, 2] }, { wrtt: ['x'] }); } catch (e) { error = e instanceof InputError; }
          return { J: jacobian('x*2', { x: [1, 2] }).jacobian, compiled: typeof compile, error };
        })(),
      }));
`;

describe('the library, imported by its name', () => {
  // A user's project outside the package (nothing test-only lands in dist), with the package in its node_modules,
  // where one ES module process runs the checks that read `extra` (each start of Node with the library costs about
  // a second).
  const runs = started(async () => {
    const project = mkdtempSync(join(tmpdir(), 'jacobian-user-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules', 'jacobian'), 'dir');
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', EXTRAS], {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, JACOBIAN_THREADS: '2' },
        timeout: 60_000,
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
  const extra = async (key: string): Promise<unknown> => (await runs())[key];

  it('compile() returns a reusable function object; jacobian, vjp and jvp agree with each other', async () => {
    const result = (await extra('reusable')) as { J: number[][]; vjp: number[]; jvp: number[]; value: number[] };
    expect(result.J).toEqual([
      [2, 1, 0],
      [0, 0, Math.cos(3)],
    ]);
    expect(result.vjp).toEqual([2, 1, Math.cos(3)]);
    expect(result.jvp).toEqual([3, Math.cos(3)]);
    expect(result.value).toEqual([2, Math.sin(3)]);
  });

  it('one-shot functions and typed errors', async () => {
    const result = await extra('oneShot');
    expect(result).toMatchObject({
      J: [
        [2, 0, 0],
        [0, 2, 0],
        [0, 0, 2],
      ],
      vjp: [0.2, 2, 0.0002],
      jvp: [2, 0, 0],
      grad: [2, 4, 6],
      hessian: [
        [6, 0, 0],
        [0, 12, 0],
        [0, 0, 18],
      ],
      hvp: [6, 12, 18],
      error: { shape: true, user: true },
    });
  });

  it('a TypeScript program that imports it by name is type-checked by npm run typecheck, and its calls run', async () => {
    // tsconfig.test.json references the program's project, so that a type error there fails `npm run check`.
    const json = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Record<string, unknown>;
    expect(json('tsconfig.test.json')['references']).toContainEqual({ path: './fixtures/library' });
    expect(json('fixtures/library/tsconfig.json')).toMatchObject({
      compilerOptions: { strict: true, module: 'NodeNext', types: [] },
      files: ['user.ts'],
    });
    const program = readFileSync(join(ROOT, 'fixtures', 'library', 'user.ts'), 'utf8');
    expect(program).toMatch(/^import \{[^}]*\bcompile\b[^}]*\} from 'jacobian';$/m);
    // The program's layer and its calls with `wrt`, in the user's process, give this process's numbers.
    const layer = compile('tanh(W*x + b)', { W: [2, 3], x: [3], b: [2] });
    expect(await extra('layer')).toEqual({
      rows: layer.jacobian(LAYER_AT, { wrt: ['x'] }).jacobian,
      back: layer.vjp(LAYER_AT, [1, 1], { wrt: ['x'] }).vjp,
      forward: layer.jvp(LAYER_AT, [1, 0, 0], { wrt: ['x'] }).jvp,
    });
  });

  it('require() works as well as import, with the same functions and errors', async () => {
    expect(await extra('required')).toEqual({
      J: [
        [2, 0],
        [0, 2],
      ],
      compiled: 'function',
      error: true,
    });
  });

  it('takes Float64Arrays: a vector, or the rows of a matrix', async () => {
    expect(await extra('typed')).toEqual({
      J: [
        [2, 0, 0],
        [0, 4, 0],
        [0, 0, 6],
      ],
      Wx: [5, 11],
      vjp: [2, 2],
      untouched: [1, 2],
    });
  });

  it('sparseJacobian gives J in coordinate form, as the CLI does with --sparse --json', async () => {
    expect(await extra('sparse')).toEqual({
      value: [1, 4, 9],
      warnings: [],
      m: 3,
      n: 3,
      rows: [0, 1, 2],
      cols: [0, 1, 2],
      values: [2, 4, 6],
      colours: 1,
      method: 'colored',
      passes: 1,
      lowerBound: 1,
      ordering: 'largest-first',
      mode: 'forward',
    });
    const method = (await extra('sparseMethod')) as { rows: number[]; cols: number[]; values: number[] };
    expect(method).toMatchObject({ m: 2, n: 3, mode: 'reverse', colours: 1 });
    const entries = method.rows.map((i, k) => [i, method.cols[k], method.values[k]]);
    expect(entries).toEqual(
      expect.arrayContaining([
        [0, 0, 2],
        [0, 1, 1],
        [1, 2, Math.cos(3)],
      ]),
    );
    expect(entries).toHaveLength(3);
  });

  it('refuses unknown options and other typed arrays at run time, naming what it takes', async () => {
    expect(await extra('messages')).toEqual([
      'InputError: unknown option "wrtt": the options are wrt, mode, maxMemoryBytes',
      'InputError: unknown option "tol": the options are wrt, mode, maxMemoryBytes',
      'InputError: unknown option "mdoe": the options are wrt, mode, maxMemoryBytes, tol, directions',
      'InputError: x is a Int32Array: give a Float64Array, numbers or arrays of numbers',
    ]);
  });

  it('leaves a process free to exit after each library has shared a product and a loop with its helper threads', async () => {
    // The process of the checks exited by itself (runs() resolved, no timeout), with all four helpers started; the
    // products and the loops' sums are the serial ones, computed here on one thread.
    const products = await extra('products');
    const loops = await extra('loops');
    process.env['JACOBIAN_THREADS'] = '1';
    try {
      const X = Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => Math.sin(i * N + j)));
      const value = compile('sum(X * X)', { X: [N, N] }).evaluate({ X });
      expect(products).toEqual([value, value]);
      expect(Number.isFinite(value) && value !== 0).toBe(true);
      expect(N ** 3).toBeGreaterThan(PARALLEL_WORK);
      const x = Array.from({ length: LOOP_N }, (_, k) => Math.sin(k));
      const sum = compile('sum(exp(x))', { x: [LOOP_N] }).evaluate({ x });
      expect(loops).toEqual([sum, sum]);
      // Two steps an entry: exp and the sum.
      expect(2 * LOOP_N).toBeGreaterThanOrEqual(SHARED_LOOP_WORK);
    } finally {
      delete process.env['JACOBIAN_THREADS'];
    }
  });
});
