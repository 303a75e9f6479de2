/**
 * Programs (statements, intermediates, user functions, recursion ended when
 * compiling): the PyTorch cases of fixtures/torch-programs.jsonl that need
 * them, the same model written inline and as a program, and every error of
 * the statements with its caret.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { LimitError, ParseError, ShapeError, UnsupportedError } from '../src/errors.js';
import { fakeIo } from './helpers/cli.js';
import { compileAt } from './helpers/compile.js';
import { firstMismatch, flat } from './helpers/numeric.js';
import type { OracleCase } from './helpers/oracle.js';

const CASES: OracleCase[] = readFileSync(new URL('../fixtures/torch-programs.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as OracleCase);

const PROGRAM_CASES = ['two-layer-program', 'two-layer-inline', 'intermediate-reused', 'sigmoid-user', 'lorenz-rk4-10'];

describe('PyTorch reference programs', () => {
  it('has every program case', () => {
    expect(CASES.map((c) => c.id)).toEqual(expect.arrayContaining(PROGRAM_CASES));
  });

  describe.each(CASES.filter((c) => PROGRAM_CASES.includes(c.id)))('$id', (c) => {
    const { program, point } = compileAt(c.expr, c.at);
    // The Lorenz case integrates 10 steps: its derivatives are larger, and agree to 1e-9 as the issue asks.
    const rel = c.id.startsWith('lorenz') ? 1e-9 : 1e-10;

    it('value, Jacobian in both directions, VJP and JVP', () => {
      expect(firstMismatch(program.evaluate(point), c.value, rel, 1e-13)).toBeNull();
      for (const mode of ['reverse', 'forward'] as const) {
        const { jacobian } = program.jacobian(point, c.wrt, { mode });
        expect(firstMismatch(jacobian, flat(c.jacobian), rel, 1e-13)).toBeNull();
      }
      expect(firstMismatch(program.vjp(point, c.v, c.wrt).vjp, c.vjp, rel, 1e-13)).toBeNull();
      expect(firstMismatch(program.jvp(point, c.u, c.wrt).jvp, c.jvp, rel, 1e-13)).toBeNull();
    });
  });

  it.each(CASES.filter((c) => PROGRAM_CASES.includes(c.id) && c.hessian !== undefined))('$id: Hessian', (c) => {
    const { program, point } = compileAt(c.expr, c.at);
    expect(firstMismatch(program.hessian(point, c.wrt).jacobian, flat(c.hessian!), 1e-10, 1e-12)).toBeNull();
  });
});

describe('statements', () => {
  const at = {
    W: [
      [0.5, -1, 2],
      [1.5, 0.25, -0.5],
    ],
    x: [0.1, 0.2, 0.3],
    b: [0.1, -0.2],
    V: [
      [1, 2],
      [3, 4],
    ],
  };

  it('an intermediate is one node: the program builds no more than its inlined form', () => {
    const program = compileAt('h = tanh(W*x + b); V*h + h', at).program;
    const inline = compileAt('V*tanh(W*x + b) + tanh(W*x + b)', at).program;
    expect(program.tapeLength).toBeLessThanOrEqual(inline.tapeLength);
    const { point } = compileAt('x', at);
    expect(firstMismatch(program.evaluate(point), inline.evaluate(point), 1e-15, 0)).toBeNull();
  });

  it('statements on lines, with comments, and an assignment as the last statement', () => {
    const a = compileAt('# a comment\nh = W*x  # the layer\n\ny = sum(h.^2)', at);
    const b = compileAt('sum((W*x).^2)', at);
    expect(a.program.evaluate(a.point)).toEqual(b.program.evaluate(b.point));
  });

  it('functions call functions defined before them, with any shapes, and may shadow a built-in', () => {
    const { program, point } = compileAt(
      'sq(t) = t.^2; f(a, c) = sum(sq(a)) + sq(c); sin(t) = 2*t; f(x, b[1]) + sin(1)',
      at,
    );
    expect(program.evaluate(point)[0]).toBeCloseTo(0.01 + 0.04 + 0.09 + 0.01 + 2, 14);
  });

  it('a recursion ended by a constant condition is unrolled without using the stack', () => {
    const { program, point } = compileAt('twice(y, k) = k == 0 ? y : twice(2*y, k - 1); twice(x, 5000)', { x: [1, 2] });
    expect(Array.from(program.evaluate(point))).toEqual([Infinity, Infinity]);
    const small = compileAt('twice(y, k) = k == 0 ? y : twice(2*y, k - 1); twice(x, 10)', { x: [1, 2] });
    expect(Array.from(small.program.evaluate(small.point))).toEqual([1024, 2048]);
  });

  it('map applies a function to each entry of a vector or a range', () => {
    const { program, point } = compileAt('sq(t) = t^2; map(x, sq) + map(1:3, sq)', { x: [1, 2, 3] });
    expect(Array.from(program.evaluate(point))).toEqual([2, 8, 18]);
    expect(program.jacobian(point, ['x']).jacobian).toEqual(Float64Array.from([2, 0, 0, 0, 4, 0, 0, 0, 6]));
  });
});

describe('errors of programs', () => {
  const errorOf = (expr: string, at: Record<string, unknown> = { x: [1, 2] }): Error => {
    try {
      compileAt(expr, at);
    } catch (error) {
      return error as Error;
    }
    throw new Error(`${expr} compiled`);
  };

  it.each([
    ['h = x.^2; h = h + 1', ParseError, /h is assigned twice, in `h = x .\^ 2` and in `h = h \+ 1`/, 10],
    ['y = h + 1; h = x.^2; y', ParseError, /h is used before it is assigned/, 4],
    ['x = 3; x', ParseError, /x is an input with a given value and is assigned/, 0],
    ['f(a) = a; f(a) = 2*a; f(x)', UnsupportedError, /function f is defined twice/, null],
    ['f(a, b) = a + b; f(x)', ShapeError, /f\(a, b\) takes 2 arguments, got 1/, null],
    ['f(k) = f(k + 1); f(x)', LimitError, /f was expanded more than 100000 times/, null],
    ['f(t) = t', UnsupportedError, /ends with a function definition/, null],
    ['x + (y = 2)', UnsupportedError, /assignment inside an expression/, null],
    ['x[1] = 2; x', UnsupportedError, /assigning to x\[1\]/, null],
  ] as const)('%s', (expr, type, message, column) => {
    const error = errorOf(expr);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
    if (column !== null) expect((error as ParseError).column).toBe(column);
  });

  it('a caret on the line of a multi-line program', () => {
    const error = errorOf('h = x.^2\ny = g + h\ng = 1\ny') as ParseError;
    expect(error).toBeInstanceOf(ParseError);
    expect([error.expression, error.column]).toEqual(['y = g + h', 4]);
    expect(error.message).toMatch(/\(line 2\)$/);
  });

  it('the CLI: one error line with a caret, exit 2, nothing on standard output', async () => {
    const io = fakeIo();
    const status = await main(['y = h + 1; h = x.^2; y', '--at', 'x=1,2'], io);
    expect(status).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err().split('\n')).toEqual([
      expect.stringMatching(/^error: h is used before it is assigned/),
      '  y = h + 1; h = x.^2; y',
      '      ^',
      '',
    ]);
  });

  it('a call with the same arguments as an earlier one is its node, not a second expansion', async () => {
    // Without sharing, fib(60) would expand about 3·10¹² calls; with it, 60 (each below the limit of 100).
    const fib = 'fib(k) = k <= 2 ? x : fib(k - 1) + fib(k - 2); fib(60)';
    const io = fakeIo();
    expect(await main([fib, '--at', 'x=1', '--max-depth', '100', '--json'], io)).toBe(0);
    const fib60 = 1548008755920;
    expect(JSON.parse(io.out())).toMatchObject({ value: fib60, jacobian: [[fib60]] });
    // The minors of a 3×3 determinant by expansion along the first row, each built once.
    const minors = [
      'without(c, j) = j == 1 ? c[2:end] : (j == size(c)[1] ? c[1:end-1] : concat(c[1:j-1], c[j+1:end]))',
      'terms(A, r, c, j) = (-1)^(j+1)*A[r, c[j]]*minor(A, r+1, without(c, j)) + (j < size(c)[1] ? terms(A, r, c, j+1) : 0)',
      'minor(A, r, c) = r == size(A)[1] ? A[r, c[1]] : terms(A, r, c, 1)',
      'minor(A, 1, 1:3)',
    ].join('\n');
    const { program, point } = compileAt(minors, {
      A: [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 10],
      ],
    });
    expect(Array.from(program.evaluate(point))).toEqual([-3]);
    expect(Array.from(program.grad(point, ['A']).grad)).toEqual([2, 2, -3, 4, -11, 6, -3, 6, -3]);
  });

  it('the CLI: --max-depth bounds the expanded calls', async () => {
    const io = fakeIo();
    const program = 'twice(y, k) = k == 0 ? y : twice(2*y, k - 1); twice(x, 50)';
    expect(await main([program, '--at', 'x=1', '--max-depth', '10'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: twice was expanded more than 10 times/);
    const ok = fakeIo();
    expect(await main([program, '--at', 'x=1', '--max-depth', '51', '--json'], ok)).toBe(0);
    expect(JSON.parse(ok.out()).jacobian).toEqual([[2 ** 50]]);
  });

  it("the CLI: the two-layer model from a file with values from files equals PyTorch, W.grad in W's shape", async () => {
    const c = CASES.find((k) => k.id === 'two-layer-program')!;
    const at = c.at as { W: number[][]; V: number[][]; x: number[]; b: number[] };
    const files = { 'model.txt': c.expr, 'W.json': JSON.stringify(at.W), 'V.json': JSON.stringify(at.V) };
    const io = fakeIo({ files });
    const argv = ['grad', '-f', 'model.txt', '--at', 'W=@W.json', '--at', `x=${at.x.join(',')}`];
    expect(await main([...argv, '--at', `b=${at.b.join(',')}`, '--at', 'V=@V.json', '--json'], io)).toBe(0);
    const result = JSON.parse(io.out()) as { grad: number[]; blocks: { W: number[][] } };
    expect(firstMismatch(result.grad, flat(c.jacobian), 1e-10, 1e-13)).toBeNull();
    expect(result.blocks.W).toHaveLength(at.W.length);
    expect(result.blocks.W.map((row) => row.length)).toEqual(at.W.map((row) => row.length));
    expect(firstMismatch(flat(result.blocks.W), flat(c.jacobian).slice(0, 12), 1e-10, 1e-13)).toBeNull();
  });

  it('the CLI: a model in a file, lines and comments as mathjs reads them', async () => {
    const io = fakeIo({ files: { 'model.txt': '# a model\nh = tanh(W*x + b)\ny = V*h\nsum(y.^2)\n' } });
    const args = ['grad', '-f', 'model.txt', '--at', 'W=[[1,2],[3,4]]', '--at', 'x=0.1,0.2', '--at', 'b=0,0'];
    expect(await main([...args, '--at', 'V=[[1,0],[0,1]]', '--json'], io)).toBe(0);
    const inline = fakeIo();
    const inlineArgs = ['grad', 'sum((V*tanh(W*x + b)).^2)', ...args.slice(3), '--at', 'V=[[1,0],[0,1]]', '--json'];
    expect(await main(inlineArgs, inline)).toBe(0);
    expect(JSON.parse(io.out()).grad).toEqual(JSON.parse(inline.out()).grad);
  });
});
