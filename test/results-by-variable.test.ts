/**
 * Results in the variables' own shapes (JSON `blocks`, `tangent`; the
 * library's `blocks`), seeds in nested or per-variable form, values given as
 * constant expressions, and expressions that start with `-` or come from `-`.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../src/api.js';
import { main } from '../src/cli/main.js';
import { fakeIo } from './helpers/cli.js';

async function json(argv: readonly string[], stdin?: string): Promise<Record<string, unknown>> {
  const io = fakeIo(stdin === undefined ? {} : { stdin });
  const status = await main([...argv, '--json'], io);
  expect(io.err()).toBe('');
  expect(status).toBe(0);
  return JSON.parse(io.out()) as Record<string, unknown>;
}

async function table(argv: readonly string[]): Promise<string> {
  const io = fakeIo();
  expect(await main(argv, io)).toBe(0);
  return io.out();
}

const W = '[[1,2,3],[4,5,6]]';

describe('results by variable', () => {
  it('jac: each block is shaped (output shape) + (variable shape), as torch.autograd.functional.jacobian', async () => {
    const r = await json(['W*x', '--at', `W=${W}`, '--at', 'x=1,2,3']);
    expect(r.blocks).toEqual({
      W: [
        [
          [1, 2, 3],
          [0, 0, 0],
        ],
        [
          [0, 0, 0],
          [1, 2, 3],
        ],
      ],
      x: JSON.parse(W),
    });
    // The flat fields stay as they were, so pipes keep working.
    expect(r.jacobian).toEqual([
      [1, 2, 3, 0, 0, 0, 1, 2, 3],
      [0, 0, 0, 1, 2, 3, 4, 5, 6],
    ]);
  });

  it('jac of a matrix output by a matrix: a four-dimensional block', async () => {
    const r = await json(['A*B', '--at', 'A=[[1,2],[3,4]]', '--at', 'B=[[5,6],[7,8]]', '--wrt', 'B']);
    const block = r.blocks as { B: number[][][][] };
    // ∂(AB)[i,j]/∂B[k,l] = A[i,k]·δ(j,l)
    expect(block.B[1]![0]![1]![0]).toBe(4);
    expect(block.B[1]![0]![0]![0]).toBe(3);
    expect(block.B[1]![0]![0]![1]).toBe(0);
  });

  it("grad, vjp and hvp: each variable's part in its own shape, as W.grad", async () => {
    const grad = await json(['grad', 'sum((W*x).^2)', '--at', `W=${W}`, '--at', 'x=1,2,3']);
    expect(grad.blocks).toEqual({
      W: [
        [28, 56, 84],
        [64, 128, 192],
      ],
      x: [284, 376, 468],
    });
    const vjp = await json(['vjp', 'W*x', '--at', `W=${W}`, '--at', 'x=1,2,3', '--v', '1,1']);
    expect(vjp.blocks).toEqual({
      W: [
        [1, 2, 3],
        [1, 2, 3],
      ],
      x: [5, 7, 9],
    });
    const hvp = await json(['hvp', 'sum(x.^3)', '--at', 'x=1,2', '--u', '1,1']);
    expect(hvp.blocks).toEqual({ x: [6, 12] });
  });

  it("jvp: the tangent in the output's shape", async () => {
    const r = await json(['jvp', 'A*x', '--at', 'A=[[1,2],[3,4]]', '--at', 'x=1,1', '--wrt', 'A', '--u', '1,0,0,0']);
    expect(r.tangent).toEqual([1, 0]);
    const matrixOut = await json(['jvp', 'x.*[[1,2],[3,4]]', '--at', 'x=2', '--u', '1']);
    expect(matrixOut.tangent).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('the library returns the same blocks', () => {
    const f = compile('sum((W*x).^2)', { W: [2, 3], x: [3] });
    const at = { W: JSON.parse(W) as number[][], x: [1, 2, 3] };
    expect(f.grad(at).blocks).toEqual({
      W: [
        [28, 56, 84],
        [64, 128, 192],
      ],
      x: [284, 376, 468],
    });
    const g = compile('W*x', { W: [2, 3], x: [3] });
    expect(g.jacobian(at, { wrt: ['x'] }).blocks).toEqual({ x: at.W });
    expect(g.vjp(at, [1, 1], { wrt: ['x'] }).blocks).toEqual({ x: [5, 7, 9] });
    expect(g.jvp(at, [1, 0, 0], { wrt: ['x'] }).tangent).toEqual([1, 4]);
  });

  it('the gradient table prints a matrix variable in its shape', async () => {
    const out = await table(['grad', 'sum((W*x).^2)', '--at', `W=${W}`, '--at', 'x=1,2,3']);
    expect(out).toContain('W[1,:]     28     56     84\n');
    expect(out).toContain('W[2,:]     64    128    192\n');
    expect(out).toMatch(/x\[1\] +x\[2\] +x\[3\]\n +284 +376 +468/);
  });
});

describe('seeds in shapes', () => {
  it("--v nested in the output's shape", async () => {
    const r = await json([
      'vjp',
      'A*B',
      '--at',
      'A=[[1,2],[3,4]]',
      '--at',
      'B=[[1,0],[0,1]]',
      '--wrt',
      'A',
      '--v',
      '[[1,0],[0,2]]',
    ]);
    expect(r.v).toEqual([1, 0, 0, 2]);
    expect(r.blocks).toEqual({
      A: [
        [1, 0],
        [0, 2],
      ],
    });
  });

  it('--u NAME=… for each variable, in its shape', async () => {
    const argv = ['jvp', 'W*x', '--at', 'W=[[1,2],[3,4]]', '--at', 'x=1,2'];
    const r = await json([...argv, '--u', 'x=1,0', '--u', 'W=[[0,0],[1,0]]']);
    expect(r.u).toEqual([0, 0, 1, 0, 1, 0]);
    expect(r.jvp).toEqual([1, 4]);
    const io = fakeIo();
    expect(await main([...argv, '--u', 'x=1,0'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: --u has no entry for W: add --u W=…/);
  });
});

describe('values as expressions', () => {
  it('--at takes ranges and constant expressions, computed by the engine', async () => {
    expect((await json(['x.^2', '--at', 'x=1:4'])).value).toEqual([1, 4, 9, 16]);
    expect((await json(['sum(x)', '--at', 'x=0:0.5:2'])).value).toBe(5);
    expect((await json(['x', '--at', 'x=pi/4'])).value).toBe(Math.PI / 4);
    expect((await json(['x', '--at', 'x=[1,2]*2'])).value).toEqual([2, 4]);
  });

  it('text that is neither numbers nor a constant expression keeps the message about numbers', async () => {
    const io = fakeIo();
    expect(await main(['x', '--at', 'x=abc'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: --at x: "abc" is not a number/);
  });

  it('the sparse example with a range works as written', async () => {
    const r = await json(['sin(x).*x', '--at', 'x=1:40', '--sparse']);
    expect(r.nonzeros).toBe(40);
  });
});

describe('a leading minus, and - for standard input', () => {
  it('an expression that starts with - is the expression, wherever it stands', async () => {
    expect((await json(['-x.*exp(-x)', '--at', '0.3'])).jacobian).toEqual([[-(1 - 0.3) * Math.exp(-0.3)]]);
    expect((await json(['grad', '--at', '1,2', '-sum(x.^2)'])).grad).toEqual([-2, -4]);
  });

  it('an unknown short option next to an expression is still an unknown option', async () => {
    const io = fakeIo();
    expect(await main(['x', '--at', '1', '-q'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: unknown option '-q'/);
  });

  it('- reads the expression from standard input, for EXPR and for -f', async () => {
    expect((await json(['-', '--at', '1,2'], 'x.^2')).jacobian).toEqual([
      [2, 0],
      [0, 4],
    ]);
    expect((await json(['grad', '-f', '-', '--at', '1,2'], 'h = x.^2\nsum(h)')).grad).toEqual([2, 4]);
  });
});
