/**
 * Cliffs of issue 13: work that must be refused before it is done, and
 * choices that must not cost a user minutes. Checked by their effects
 * (passes run, the method chosen, the size of a graph), never by a clock.
 */
import { describe, expect, it, vi } from 'vitest';
import { LINEAR } from '../src/engine/linear/index.js';
import { LimitError } from '../src/errors.js';
import { compileAt } from './helpers/compile.js';
import { firstMismatch } from './helpers/numeric.js';
import { sh } from './helpers/shell.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * The CLI asked for a dense 30000×30000 sparse J at the default limit: started with the file, awaited by its
 * test. Counted before it is stored, the pattern is refused in well under a second and a hundred MB.
 */
const denseSparseChild = sh(`exec $J "x*sum(x)" --at x=1:30000 --sparse --json`);
denseSparseChild.catch(() => undefined);

describe('--sparse on a dense pattern', () => {
  // A small limit keeps this worker's memory small; the default is the one every refusal counts against.
  it('is refused while the pattern is detected, before any compressed pass (n = 30 000)', () => {
    const { program, point } = compileAt('x*sum(x)', { x: range(30_000) });
    let passes = 0;
    const refused = thrown(() =>
      program.sparseJacobian(point, ['x'], { maxMemoryBytes: 64 * 2 ** 20, onProgress: () => void passes++ }),
    );
    expect(refused).toBeInstanceOf(LimitError);
    expect((refused as LimitError).message).toMatch(
      /^detecting the pattern of the 30000×30000 sparse Jacobian passed \d+ entries, more than the limit of 64 MiB holds \(raise it with the option maxMemoryBytes, or use vjp or jvp instead\)$/,
    );
    expect(passes).toBe(0);
  });

  it('counts against --max-memory, and a pattern that fits is computed as before', () => {
    const { program, point } = compileAt('x*sum(x)', { x: range(300) });
    expect(thrown(() => program.sparseJacobian(point, ['x'], { maxMemoryBytes: 10_000 }))).toBeInstanceOf(LimitError);
    const { jacobian } = program.sparseJacobian(point, ['x'], { maxMemoryBytes: 16 * 300 * 300 });
    expect(jacobian.values.length).toBe(300 * 300);
    // ∂(x_i·Σx)/∂x_j = δ_ij·Σx + x_i.
    expect(jacobian.values[0]).toBe((300 * 301) / 2 + 1);
    expect(jacobian.values[1]).toBe(1);
    // Counted first (its n² bound passes the limit), a pattern that fits is computed, stored once at its size.
    const banded = compileAt('x.*sum(x[1:2])', { x: range(300) });
    const counted = banded.program.sparseJacobian(banded.point, ['x'], { maxMemoryBytes: 64_000 }).jacobian;
    expect(counted.values.length).toBe(3 * 300 - 2);
    const dense = banded.program.jacobian(banded.point, ['x']).jacobian;
    for (let k = 0; k < counted.values.length; k++)
      expect(counted.values[k]).toBe(dense[counted.rows[k]! * 300 + counted.cols[k]!]);
  });

  it('is one error line at the default 4 GiB naming --max-memory, exit 2, no crash, in 4 GB of address space', async () => {
    const result = await denseSparseChild;
    expect(result.signal).toBeNull();
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^error: detecting the pattern of the 30000×30000 sparse Jacobian passed \d+ entries, more than the limit of 4 GiB holds \(raise it with --max-memory, or use vjp or jvp instead\)$/,
      ),
    ]);
  });
});

describe('a block pass through a product with both factors (inv, X^-k)', () => {
  const side = 8;
  // Diagonally dominant, so well conditioned.
  const X = Array.from({ length: side }, (_, i) =>
    Array.from({ length: side }, (_, j) => ((i * 7 + j * 3) % 5) / 5 + (i === j ? side : 0)),
  );

  it('takes each dense row as a whole: entry kernels run once per seed, not once per entry of a dense row', () => {
    const { program, point } = compileAt('inv(inv(X))', { X });
    const whole = vi.spyOn(LINEAR.matmul, 'denseRow');
    const entries = vi.spyOn(LINEAR.matmul, 'pullEntry');
    try {
      const auto = program.jacobian(point, ['X']);
      expect([auto.mode, auto.method]).toEqual(['reverse', 'block']);
      // The seeds reach the outer inv one entry a row; its block is dense, and the inner inv takes it row by row.
      expect(entries.mock.calls.length).toBe(side * side);
      expect(whole.mock.calls.length).toBe(side * side);
      const oneHot = program.jacobian(point, ['X'], { mode: 'reverse', method: 'one-hot' });
      expect(firstMismatch(auto.jacobian, oneHot.jacobian, 1e-12, 1e-12)).toBeNull();
      // inv(inv(X)) = X: J is the identity.
      const identity = Float64Array.from({ length: side ** 4 }, (_, k) => (k % (side * side + 1) === 0 ? 1 : 0));
      expect(firstMismatch(auto.jacobian, identity, 1e-9, 1e-9)).toBeNull();
    } finally {
      whole.mockRestore();
      entries.mockRestore();
    }
  });

  it('gives the one-hot answer in both directions for X^-3', () => {
    const { program, point } = compileAt('X^-3', { X });
    const reference = program.jacobian(point, ['X'], { mode: 'reverse', method: 'one-hot' }).jacobian;
    for (const mode of ['reverse', 'forward'] as const) {
      const block = program.jacobian(point, ['X'], { mode, method: 'block' }).jacobian;
      expect(firstMismatch(block, reference, 1e-12, 1e-10)).toBeNull();
    }
  });
});

describe('second derivatives of det above the size where cofactors come from minors', () => {
  /** det by cofactor expansion along the first row: the test's own, independent of the engine. */
  function det(a: readonly (readonly number[])[]): number {
    if (a.length === 1) return a[0]![0]!;
    return a[0]!.reduce((sum, x, j) => sum + (j % 2 === 0 ? 1 : -1) * x * det(minor(a, [0], [j])), 0);
  }
  const minor = (a: readonly (readonly number[])[], rows: number[], cols: number[]) =>
    a.filter((_, i) => !rows.includes(i)).map((r) => r.filter((_, j) => !cols.includes(j)));

  it('gives ∂²det/∂X[i,j]∂X[k,l] from minors without two rows and columns, exact zeros where they share one', () => {
    const n = 9;
    const X = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => Math.sin(1 + i * n + j) + (i === j ? 2 : 0)),
    );
    const { program, point } = compileAt('det(X)', { X });
    const { jacobian: H } = program.hessian(point, ['X']);
    const at = (i: number, j: number, k: number, l: number) => H[(i * n + j) * n * n + k * n + l]!;
    // Rows i, k and columns j, l of a few entries, the sign of the minor as the order of the removed lines says.
    for (const [i, j, k, l] of [
      [0, 0, 1, 1],
      [2, 5, 7, 1],
      [8, 3, 0, 6],
      [4, 4, 5, 2],
    ] as const) {
      const sign = ((i + j + k + l) % 2 === 0 ? 1 : -1) * (k > i ? 1 : -1) * (l > j ? 1 : -1);
      const expected = sign * det(minor(X, [i, k], [j, l]));
      expect(Math.abs(at(i, j, k, l) - expected)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(expected)));
    }
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let t = 0; t < n; t++) {
          expect(at(i, j, i, t)).toBe(0);
          expect(at(i, j, t, j)).toBe(0);
        }
  });

  it('hvp agrees with the Hessian at 12×12', () => {
    const n = 12;
    const X = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => Math.cos(i - 2 * j) + (i === j ? 3 : 0)),
    );
    const { program, point } = compileAt('det(X)', { X });
    const u = Float64Array.from({ length: n * n }, (_, k) => Math.sin(k));
    const { hvp } = program.hvp(point, u, ['X']);
    const { jacobian: H } = program.hessian(point, ['X']);
    const Hu = Float64Array.from({ length: n * n }, (_, r) => u.reduce((s, uk, k) => s + H[r * n * n + k]! * uk, 0));
    expect(firstMismatch(hvp, Hu, 1e-9, 1e-9)).toBeNull();
  });
});
