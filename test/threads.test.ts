/**
 * Large fused loops on two threads (src/engine/threads.ts): the value, vᵀJ and J·u of the one-thread loops to the
 * bit (sums in blocks, paired kernels, copies in two segments, vectors written, the derivative passes' loops and
 * their sums), the helper taking part; a loop that keeps a local from one chunk to the next stays on one thread.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { CHUNK_ENTRIES } from '../src/engine/compiled.js';
import {
  LOOP_CONTROL,
  loopThreadsForTests,
  REDUCTION_PIECE,
  SHARED_LOOP_CHUNKS,
  SHARED_LOOP_WORK,
  SHARED_REDUCTION_FROM,
  useLoopHelperFrom,
} from '../src/engine/threads.js';
import { firstBitDifference, prng } from './helpers/numeric.js';

/** What a helper that finishes no unit may take, as the module sets it. */
const STALLED_FOR_TESTS = loopThreadsForTests.stalledMs;

/** The built helper module: the tests run the sources, whose helper is the build's .js. */
const BUILT_HELPER = new URL('../dist/src/engine/loop-worker.js', import.meta.url);

afterAll(() => {
  loopThreadsForTests.joinFirst = false;
  loopThreadsForTests.minWork = SHARED_LOOP_WORK;
  loopThreadsForTests.minReduction = SHARED_REDUCTION_FROM;
  useLoopHelperFrom(null);
});

/**
 * `results` on this thread alone, then with the built helper (each job waiting for the helper to take a unit, so
 * that both threads compute), and how many units the helper took.
 */
function oneThreadThenTwo<T>(results: () => T): { serial: T; shared: T; helperUnits: number } {
  useLoopHelperFrom(null);
  const serial = results();
  useLoopHelperFrom(BUILT_HELPER);
  loopThreadsForTests.joinFirst = true;
  const before = loopThreadsForTests.helperUnits;
  try {
    return { serial, shared: results(), helperUnits: loopThreadsForTests.helperUnits - before };
  } finally {
    loopThreadsForTests.joinFirst = false;
  }
}

/** Past SHARED_LOOP_CHUNKS chunks, an odd number of them, the last one part of a chunk. */
const n = (SHARED_LOOP_CHUNKS + 4) * CHUNK_ENTRIES + 77;

const CASES: readonly { expr: string; shapes: Record<string, number[]> }[] = [
  // GradBench's lse: the max, then a loop of exp and a sum (paired).
  { expr: 'a = max(x)\na + log(sum(exp(x - a)))', shapes: { x: [n] } },
  // Two sums in one loop, a scalar operand.
  { expr: '[sum(sin(x) .* y + c), sum(exp(-x .* x))]', shapes: { x: [n], y: [n], c: [] } },
  // A vector result, no sum: the loop writes its entries.
  { expr: 'tanh(x .* y) + c * x', shapes: { x: [n], y: [n], c: [] } },
  // Copies in two segments (halves of two arguments), then a sum over them.
  { expr: `w = concat(x[1:${(n - 1) / 2}], y[${(n + 1) / 2}:end])\nsum(sin(w) .* w)`, shapes: { x: [n], y: [n] } },
];

describe('large fused loops on two threads', () => {
  it(`give the one-thread numbers to the bit, the helper computing part of ${n} entries`, () => {
    // Shared from SHARED_LOOP_CHUNKS chunks whatever their work, so that the cases stay small.
    loopThreadsForTests.minWork = 0;
    const random = prng(31);
    for (const { expr, shapes } of CASES) {
      const program = compile(expr, shapes);
      const at = Object.fromEntries(
        Object.entries(shapes).map(([name, shape]) => [
          name,
          shape.length === 0 ? 0.75 : Float64Array.from({ length: shape[0]! }, () => 4 * random() - 2),
        ]),
      );
      const m = program.evaluateFlat(at).length;
      const size = Object.values(shapes).reduce((total, shape) => total + (shape[0] ?? 1), 0);
      // The value, vᵀJ (the reverse pass's loops) and J·u (the forward pass's), each a flat array.
      const results = () => [
        program.evaluateFlat(at),
        program.vjpFlat(
          at,
          Float64Array.from({ length: m }, (_, i) => 1 + i),
        ).vjp,
        program.jvpFlat(
          at,
          Float64Array.from({ length: size }, (_, k) => Math.cos(k)),
        ).jvp,
      ];
      const { serial, shared, helperUnits } = oneThreadThenTwo(results);
      shared.forEach((result, i) => expect(firstBitDifference(result, serial[i]!), `${expr}: ${i}`).toBeNull());
      expect(helperUnits, expr).toBeGreaterThan(0);
    }
  });

  it('runs each loop with its own functions on the helper: the sum of sin, then the sum of cos (one source)', () => {
    loopThreadsForTests.minWork = 0;
    const x = Float64Array.from({ length: n }, (_, k) => Math.sin(k) * 3);
    const programs = ['sum(sin(x))', 'sum(cos(x))', 'sum(tanh(x))', 'sum(exp(x))', 'sum(exp(x) .* x)'].map((expr) =>
      compile(expr, { x: [n] }),
    );
    const { serial, shared, helperUnits } = oneThreadThenTwo(() =>
      programs.map((program) => program.evaluateFlat({ x })[0]!),
    );
    expect(firstBitDifference(shared, serial)).toBeNull();
    expect(helperUnits).toBeGreaterThan(0);
  });

  it(`keeps a loop of little work on one thread: a few cheap steps over ${n} entries (an exp is not cheap)`, () => {
    loopThreadsForTests.minWork = SHARED_LOOP_WORK;
    expect(n * 3).toBeLessThan(SHARED_LOOP_WORK);
    const helperUnits = (expr: string): number => {
      const program = compile(expr, { x: [n] });
      useLoopHelperFrom(BUILT_HELPER);
      loopThreadsForTests.joinFirst = true;
      const before = loopThreadsForTests.helperUnits;
      program.evaluateFlat({ x: new Float64Array(n).fill(0.5) });
      loopThreadsForTests.joinFirst = false;
      return loopThreadsForTests.helperUnits - before;
    };
    expect(helperUnits('sum(x .* x - 1)')).toBe(0);
    // An exp weighs as many steps of arithmetic (simd.ts's loopWork): the same length of exp is shared.
    expect(helperUnits('sum(exp(x - 1))')).toBeGreaterThan(0);
    loopThreadsForTests.minWork = 0;
  });

  it('does the units of a helper that stopped in one again, then runs without it', () => {
    // A helper of the test's own: it takes the first unit, says it joined, and ends its thread.
    const dir = mkdtempSync(join(tmpdir(), 'jacobian-threads-'));
    const file = join(dir, 'stopping-helper.mjs');
    const { GENERATION, JOB, CLAIM, JOINED } = LOOP_CONTROL;
    writeFileSync(
      file,
      [
        "import { workerData } from 'node:worker_threads';",
        'const { control } = workerData;',
        `Atomics.wait(control, ${GENERATION}, 0);`,
        `for (;;) { const c = Atomics.load(control, ${CLAIM}); if (Atomics.compareExchange(control, ${CLAIM}, c, c + 1) === c) break; }`,
        `Atomics.store(control, ${JOINED}, Atomics.load(control, ${JOB}));`,
        `Atomics.notify(control, ${JOINED});`,
        'process.exit(0);',
      ].join('\n'),
    );
    loopThreadsForTests.minWork = 0;
    const program = compile('sum(exp(x) .* x)', { x: [n] });
    const x = Float64Array.from({ length: n }, (_, k) => Math.cos(k));
    useLoopHelperFrom(null);
    const serial = program.evaluateFlat({ x })[0];
    try {
      useLoopHelperFrom(pathToFileURL(file));
      loopThreadsForTests.joinFirst = true;
      loopThreadsForTests.stalledMs = 200;
      expect(program.evaluateFlat({ x })[0]).toBe(serial);
      // The helper is given up: the next run is on this thread alone, the same number.
      loopThreadsForTests.joinFirst = false;
      const before = loopThreadsForTests.helperUnits;
      expect(program.evaluateFlat({ x })[0]).toBe(serial);
      expect(loopThreadsForTests.helperUnits).toBe(before);
    } finally {
      loopThreadsForTests.joinFirst = false;
      loopThreadsForTests.stalledMs = STALLED_FOR_TESTS;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a loop on one thread when it carries a local from one chunk to the next (a shift)', () => {
    const program = compile('z = tanh(x)\nsum(concat([1], z[1:end-1]) .* x)', { x: [n] });
    const x = Float64Array.from({ length: n }, (_, k) => Math.sin(k));
    useLoopHelperFrom(BUILT_HELPER);
    loopThreadsForTests.joinFirst = true;
    const before = loopThreadsForTests.helperUnits;
    const value = program.evaluateFlat({ x })[0]!;
    loopThreadsForTests.joinFirst = false;
    expect(loopThreadsForTests.helperUnits).toBe(before);
    useLoopHelperFrom(null);
    expect(program.evaluateFlat({ x })[0]).toBe(value);
  });
});

describe('large max and min on two threads, in pieces', () => {
  // Several pieces, the last one part of a piece (shared from fewer entries than SHARED_REDUCTION_FROM, so that the
  // cases stay small).
  const size = 6 * REDUCTION_PIECE + 77;
  const random = prng(47);
  const uniform = (): Float64Array => Float64Array.from({ length: size }, () => random());
  const tied = uniform();
  // Two maxima at the ends of different pieces, one the other's neighbour within the tolerance: a tie, split by the
  // gradient.
  tied[2 * REDUCTION_PIECE] = 2;
  tied[5 * REDUCTION_PIECE - 1] = 2 + 1e-13;
  // Across two pieces, each entry within the tolerance of the one before: the one-pass scan's best moves along a
  // chain, and stops short of the largest entry.
  const creeping = uniform();
  for (let j = 0; j < 400; j++) creeping[4 * REDUCTION_PIECE - 200 + j] = 1 + j * 3e-13;
  const withNaN = uniform();
  withNaN[size - 40] = NaN;
  const withZero = uniform();
  withZero[3 * REDUCTION_PIECE + 5] = 0;
  const DATA: Record<string, Float64Array> = {
    uniform: uniform(),
    withZero,
    tied,
    withNaN,
    // Every entry a record of its piece (more than a summary holds: the piece is scanned again).
    ascending: Float64Array.from({ length: size }, (_, k) => k),
    creeping,
  };

  it(`give the one-thread value, gradient and warnings to the bit over ${size} entries`, () => {
    loopThreadsForTests.minReduction = 0;
    // The last has an infinite partial (sqrt's at 0) at one point: its check of the partials, in pieces, finds it,
    // and its passes run in their careful form.
    const exprs = ['max(x)', 'min(x)', 'a = max(x)\na + log(sum(exp(x - a)))', 'sum(sqrt(x) .* x)'];
    const programs = exprs.map((expr) => ({
      expr,
      program: compile(expr, { x: [size] }),
    }));
    // Not lse at the tie: its kink report traces every entry of J that the tie reaches (a quarter of a second), and
    // the max alone has the same tie.
    const cases = programs.flatMap(({ expr, program }) =>
      Object.entries(DATA)
        .filter(([name]) => name !== 'tied' || expr === 'max(x)')
        .map(([name, x]) => ({ label: `${expr} of ${name}`, program, x })),
    );
    const results = () =>
      cases.map(({ label, program, x }) => {
        const { grad, warnings } = program.gradFlat({ x });
        return { label, value: program.evaluateFlat({ x }), grad, warnings };
      });
    const { serial, shared, helperUnits } = oneThreadThenTwo(results);
    shared.forEach(({ label, value, grad, warnings }, i) => {
      expect(firstBitDifference(value, serial[i]!.value), label).toBeNull();
      expect(firstBitDifference(grad, serial[i]!.grad), label).toBeNull();
      expect(warnings, label).toEqual(serial[i]!.warnings);
    });
    // Each case's value and gradient shared three jobs at least (a reduction or a loop, and the passes' check).
    expect(helperUnits).toBeGreaterThanOrEqual(3 * serial.length);
    loopThreadsForTests.minReduction = SHARED_REDUCTION_FROM;
  });
});
