/**
 * Hostile and broken input (issue 7): limits refuse work before it starts,
 * non-finite numbers are refused or reported, and output is never cut short.
 * A limit is checked by its effect (which step refuses, what was built or
 * run before the refusal), never by the clock.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { compileProgram } from '../src/compile.js';
import { LimitError } from '../src/errors.js';
import { parseExpression } from '../src/parse/index.js';
import { fakeIo, ROOT } from './helpers/cli.js';
import { compileAt } from './helpers/compile.js';

async function run(args: string[], options: Parameters<typeof fakeIo>[0] = {}) {
  const io = fakeIo(options);
  const status = await main(args, io);
  return { status, out: io.out(), err: io.err() };
}

/** The error a function throws (fails if it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

const oneErrorLine = (err: string) => err.split('\n').filter((line) => line.startsWith('error:'));

describe('limits', () => {
  it('a 1 MB expression is refused before it is parsed, naming --max-expr-length', async () => {
    const { status, out, err } = await run(['--at', 'x=1'], { stdin: 'x+'.repeat(500_000) + 'x' });
    expect([status, out]).toEqual([2, '']);
    expect(oneErrorLine(err)).toEqual([
      expect.stringMatching(/more than the limit of 100000 \(raise it with --max-expr-length\)/),
    ]);
    // Before the parser: 1 MB that is no expression at all gets the same refusal, not a syntax error.
    const garbage = `${'x+'.repeat(500_000)})@`;
    const refused = await run(['--at', 'x=1'], { stdin: garbage });
    expect(oneErrorLine(refused.err)).toEqual([expect.stringMatching(/has 1000002 characters, more than the limit/)]);
    const error = thrown(() => parseExpression(garbage));
    expect(error).toBeInstanceOf(LimitError);
    expect((error as Error).message).toMatch(/more than the limit of 100000/);
  });

  it('10 000 nested parentheses are refused by the compile step, before the engine', async () => {
    const expr = `${'('.repeat(10_000)}x${')'.repeat(10_000)}`;
    const { status, err } = await run([expr, '--at', '1', '--max-expr-length', '100000']);
    expect(status).toBe(2);
    expect(oneErrorLine(err)).toEqual([expect.stringMatching(/nested too deeply/)]);
    // Parsing and lowering refuse it (a LimitError), so no program exists to run.
    const error = thrown(() => compileProgram(expr, new Map([['x', { shape: [] }]])));
    expect(error).toBeInstanceOf(LimitError);
    expect((error as Error).message).toMatch(/nested too deeply/);
  });

  it('--max-nodes bounds the compute graph', async () => {
    const { status, err } = await run(['sin(x)+cos(x)+tan(x)+exp(x)', '--at', '1', '--max-nodes', '4']);
    expect(status).toBe(2);
    expect(oneErrorLine(err)).toEqual([
      expect.stringMatching(/more than 4 nodes \(raise the limit with --max-nodes\)/),
    ]);
    expect((await run(['sin(x)+cos(x)', '--at', '1', '--max-nodes', '100'])).status).toBe(0);
  });

  it('--max-input refuses a value file before reading it', async () => {
    const io = { ...fakeIo({ files: { 'W.json': '[[1,2],[3,4]]' } }), fileSize: () => 13 };
    expect(await main(['W', '--at', 'W=@W.json', '--max-input', '12B'], io)).toBe(2);
    expect(oneErrorLine(io.err())).toEqual([
      expect.stringMatching(/W.json has 13 bytes, more than the limit of 12 \(raise it with --max-input\)/),
    ]);
    const roomy = { ...fakeIo({ files: { 'W.json': '[[1,2],[3,4]]' } }), fileSize: () => 13 };
    expect(await main(['W', '--at', 'W=@W.json', '--max-input', '13B'], roomy)).toBe(0);
  });

  it('--max-memory refuses a Jacobian before allocating it', async () => {
    const { status, err } = await run([
      'x',
      '--at',
      `x=${Array.from({ length: 5000 }, (_, i) => i).join(',')}`,
      '--max-memory',
      '1MB',
    ]);
    expect(status).toBe(2);
    expect(oneErrorLine(err)).toEqual([
      expect.stringMatching(/the 5000×5000 Jacobian needs 191 MiB, more than the limit of 977 KiB/),
    ]);
    // No pass runs before the refusal.
    const { program, point } = compileAt('x', { x: Array.from({ length: 5000 }, (_, i) => i) });
    let passes = 0;
    const refused = thrown(() =>
      program.jacobian(point, ['x'], { maxMemoryBytes: 1e6, onProgress: () => void passes++ }),
    );
    expect(refused).toBeInstanceOf(LimitError);
    expect(passes).toBe(0);
    // The counter counts: within the limit, the passes run.
    const small = compileAt('x', { x: [1, 2, 3] });
    small.program.jacobian(small.point, ['x'], { maxMemoryBytes: 1e6, onProgress: () => void passes++ });
    expect(passes).toBe(3);
    // A Jacobian of 10¹⁰ entries cannot be allocated at all (a RangeError if it were tried): it is a LimitError.
    const huge = compileAt('x', { x: new Array<number>(100_000).fill(1) });
    const tooLarge = thrown(() => huge.program.jacobian(huge.point, ['x']));
    expect(tooLarge).toBeInstanceOf(LimitError);
    expect((tooLarge as Error).message).toMatch(/100000×100000 Jacobian needs 74\.5 GiB/);
  });
});

describe('numbers', () => {
  it.each([
    ['--at', 'x=1,NaN,3'],
    ['--at', 'x=[1,"Infinity"]'],
    ['--at', 'x=-inf'],
  ])('refuses %s %s without --allow-nonfinite', async (...args) => {
    const refused = await run(['x.^2', ...args]);
    expect(refused.status).toBe(2);
    expect(oneErrorLine(refused.err)).toEqual([expect.stringMatching(/give finite numbers, or add --allow-nonfinite/)]);
    expect((await run(['x.^2', ...args, '--allow-nonfinite'])).status).toBe(0);
  });

  it('names the first entry that is not finite, of a long vector too (one scan, then the entry)', async () => {
    const x = Array.from({ length: 5000 }, (_, k) => (k === 4321 ? 'Infinity' : k === 4500 ? 'NaN' : String(k)));
    const { status, err } = await run(['sum(x)', '--at', `x=${x.join(',')}`]);
    expect(status).toBe(2);
    expect(oneErrorLine(err)).toEqual([expect.stringMatching(/^error: x has Infinity at entry 4322:/)]);
  });

  it('refuses a non-finite seed', async () => {
    const { status, err } = await run(['vjp', 'x', '--at', '1,2', '--v', '1,NaN']);
    expect(status).toBe(2);
    expect(oneErrorLine(err)).toEqual([expect.stringMatching(/^error: --v has NaN at entry 2/)]);
  });

  it('reports an overflow as the SPEC string in JSON and flags it in the table', async () => {
    const json = JSON.parse((await run(['exp(x)', '--at', '800', '--json'])).out) as {
      value: unknown;
      jacobian: unknown;
    };
    expect(json).toMatchObject({ value: 'Infinity', jacobian: [['Infinity']] });
    const table = (await run(['exp(x)', '--at', '800'])).out;
    expect(table).toContain('! 1 entry is not finite');
  });

  it('a domain error gives NaN and a warning on standard error that names the operation, not a crash', async () => {
    const { status, out, err } = await run(['x + log(c)', '--at', 'x=1', '--at', 'c=-1', '--wrt', 'x', '--json']);
    expect(status).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      value: 'NaN',
      jacobian: [[1]],
      warnings: [{ kind: 'domain', operation: 'log', source: 'log(c)' }],
    });
    expect(err).toBe(
      'warning: log(c): outside the domain: the value is NaN (no real result); the derivative is what its formula gives there\n',
    );
    const sqrt = await run(['sqrt(x)', '--at', '-4,4', '--json']);
    expect(JSON.parse(sqrt.out)).toMatchObject({
      value: ['NaN', 2],
      jacobian: [
        ['NaN', 0],
        [0, 0.25],
      ],
    });
    expect(sqrt.err).toMatch(/^warning: sqrt\(x\): outside the domain/);
  });
});

describe('output integrity', () => {
  it('an interrupted batch leaves every line it wrote complete, and exits 130', async () => {
    // 40 000 points: their output, 17 MB, is far more than the 200 KB after which the signal comes.
    const lines = Array.from({ length: 40_000 }, (_, i) => JSON.stringify({ x: i, y: 1, z: 2 })).join('\n');
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'jacobian.cjs'),
        '[s*(y-x), x*(r-z)-y, x*y-b*z]',
        '--at',
        's=10',
        '--at',
        'r=28',
        '--at',
        'b=2.6667',
        '--wrt',
        'x,y,z',
        '--batch',
        '-',
      ],
      { cwd: ROOT },
    );
    let out = '';
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      // One signal: a second, while the first waits for the pipe, ends the process at once, maybe mid-line.
      if (out.length > 200_000 && !signalled) signalled = child.kill('SIGINT');
    });
    child.stdin.on('error', () => {});
    child.stdin.end(lines);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (status) => resolve(status)));
    expect(code).toBe(130);
    expect(out.endsWith('\n')).toBe(true);
    const written = out.trimEnd().split('\n');
    expect(written.length).toBeGreaterThan(100);
    for (const line of written) expect(() => JSON.parse(line)).not.toThrow();
  });
});
