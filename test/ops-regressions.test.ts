/**
 * Bugs of the operation table found against PyTorch and mathjs (issue 10),
 * each with the command that showed it.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { Program } from '../src/engine/program.js';
import { GraphBuilder } from '../src/graph/index.js';
import { fakeIo } from './helpers/cli.js';
import { firstMismatch } from './helpers/numeric.js';

interface Output {
  readonly value: unknown;
  readonly jacobian?: readonly (readonly unknown[])[];
  readonly hessian?: readonly (readonly unknown[])[];
  readonly warnings: readonly { readonly kind: string; readonly source: string }[];
}

/** `jacobian ...args --json`, in-process. */
async function run(...args: string[]): Promise<Output> {
  const io = fakeIo();
  const status = await main([...args, '--json'], io);
  expect(status, io.err()).toBe(0);
  return JSON.parse(io.out()) as Output;
}

const SQRT_HALF = Math.SQRT1_2;

describe('x.^y: a symmetric Hessian on the line y = 0', () => {
  it('hessian "x^y" --at x=2 --at y=0: both mixed entries are x^(y-1)·(1 + y·log x) = 0.5', async () => {
    const out = await run('hessian', 'x^y', '--at', 'x=2', '--at', 'y=0');
    expect(out.value).toBe(1);
    expect(out.hessian).toEqual([
      [0, 0.5],
      [0.5, Math.LN2 ** 2],
    ]);
    // The smooth point raises no warning (the old `where` formula reported a comparison at its threshold).
    expect(out.warnings).toEqual([]);
  });

  it('x = 0, y = 2 keeps the conventions of SPEC §6, and H is symmetric', async () => {
    const out = await run('hessian', 'x^y', '--at', 'x=0', '--at', 'y=2');
    expect(out.hessian).toEqual([
      [2, 0],
      [0, 0],
    ]);
  });
});

describe('dot takes n×1 column matrices, as mathjs does', () => {
  it('"dot(a, b)" --at "a=[[1],[2]]" --at "b=[[3],[4]]" is 11, with J = [b, a]', async () => {
    const out = await run('dot(a, b)', '--at', 'a=[[1],[2]]', '--at', 'b=[[3],[4]]');
    expect(out.value).toBe(11);
    expect(out.jacobian).toEqual([[3, 4, 1, 2]]);
  });

  it('a vector with a column, and its Hessian', async () => {
    const out = await run('hessian', 'dot(a, b)', '--at', 'a=[1,2]', '--at', 'b=[[3],[4]]');
    expect(out.value).toBe(11);
    expect(out.hessian).toEqual([
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ]);
  });

  it('refuses a row matrix, as mathjs does', async () => {
    const io = fakeIo();
    expect(await main(['dot(a, b)', '--at', 'a=[[1,2]]', '--at', 'b=[[3],[4]]'], io)).toBe(2);
    expect(io.err()).toMatch(/dot product of matrix\[1×2\] and matrix\[2×1\].*column matrices/);
  });
});

describe('norm rescales what would underflow or overflow', () => {
  it('"norm(x)" --at 1e-200,1e-200: the value, the gradient [0.7071, 0.7071], no false kink', async () => {
    const out = await run('norm(x)', '--at', '1e-200,1e-200');
    expect(out.value).toBe(Math.SQRT2 * 1e-200);
    expect(firstMismatch(out.jacobian!.flat() as number[], [SQRT_HALF, SQRT_HALF], 1e-15)).toBeNull();
    expect(out.warnings).toEqual([]);
  });

  it('norm([1e200, 1e200]) is finite, and so are the derivatives at that point', async () => {
    expect((await run('norm([1e200, 1e200])')).value).toBe(Math.SQRT2 * 1e200);
    const out = await run('norm(x)', '--at', '1e200,1e200');
    expect(firstMismatch(out.jacobian!.flat() as number[], [SQRT_HALF, SQRT_HALF], 1e-15)).toBeNull();
  });

  it('second derivatives at both scales: (I − uuᵀ)/‖x‖', async () => {
    for (const scale of [1e-200, 1e200]) {
      const out = await run('hessian', 'norm(x)', '--at', `${scale},${scale}`);
      const d = 0.5 / (Math.SQRT2 * scale);
      expect(firstMismatch(out.hessian!.flat() as number[], [d, -d, -d, d], 1e-12)).toBeNull();
    }
  });

  // norm(x, 3) reaches normP once the parser lowers norm(x, p) to it; the operation itself, built as that
  // lowering would build it, here.
  it.each([1e-200, 1e200])('normP(x, 3) at [%d, %d]: value, gradient and Hessian', (scale) => {
    const b = new GraphBuilder();
    const x = b.input('x', [2]);
    const program = new Program(b, b.apply('normP', [x, b.scalar(3)]), [{ name: 'x', shape: [2] }]);
    const at = new Map([['x', Float64Array.of(scale, scale)]]);
    const y = Math.cbrt(2) * scale;
    expect(firstMismatch(program.evaluate(at), [y], 1e-15)).toBeNull();
    const { jacobian, warnings } = program.jacobian(at, ['x']);
    expect(firstMismatch(jacobian, [2 ** (-2 / 3), 2 ** (-2 / 3)], 1e-15)).toBeNull();
    expect(warnings).toEqual([]);
    // ∂²‖x‖₃/∂xᵢ∂xⱼ = (p − 1)/y · (uᵢ^(p-2)·δᵢⱼ − uᵢ^(p-1)·uⱼ^(p-1)), u = |x|/y = 2^(-1/3) here.
    const u = 2 ** (-1 / 3);
    const [diagonal, off] = [(2 / y) * (u - u ** 4), (-2 / y) * u ** 4];
    expect(firstMismatch(program.hessian(at, ['x']).jacobian, [diagonal, off, off, diagonal], 1e-12)).toBeNull();
  });
});

describe('ties of max and min: one comparison for the value, the weights and the report', () => {
  it('max(x) with k tied entries gives each 1/k', async () => {
    const out = await run('max(x)', '--at', '3,1,3,3');
    expect(out.jacobian).toEqual([[1 / 3, 0, 1 / 3, 1 / 3]]);
    expect(out.warnings.map((w) => w.kind)).toEqual(['tie']);
  });

  it('min(x) with a tie within mathjs tolerance: the first entry is the value, the split is even', async () => {
    const out = await run('min(x)', '--at', '2,1,1.0000000000001');
    expect(out.value).toBe(1);
    expect(out.jacobian).toEqual([[0, 0.5, 0.5]]);
    expect(out.warnings.map((w) => w.kind)).toEqual(['tie']);
  });

  it('max(a, b) with a tie within tolerance: value a, 0.5 to each, reported', async () => {
    const out = await run('max(a, b)', '--at', 'a=1', '--at', 'b=1.0000000000001');
    expect(out.value).toBe(1);
    expect(out.jacobian).toEqual([[0.5, 0.5]]);
    expect(out.warnings.map((w) => w.kind)).toEqual(['tie']);
  });

  it('max(a, b) and min(a, b) without a tie', async () => {
    expect((await run('max(a, b)', '--at', 'a=1', '--at', 'b=1.001')).jacobian).toEqual([[0, 1]]);
    expect((await run('min(a, b)', '--at', 'a=1', '--at', 'b=1.001')).jacobian).toEqual([[1, 0]]);
  });
});
