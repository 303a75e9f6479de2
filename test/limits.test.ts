/**
 * Hostile and broken input (issue 7): limits refuse work before it starts,
 * non-finite numbers are refused or reported, and output is never cut short.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo, ROOT } from './helpers/cli.js';

async function timed(args: string[], options: Parameters<typeof fakeIo>[0] = {}) {
  const io = fakeIo(options);
  const start = performance.now();
  const status = await main(args, io);
  return { status, out: io.out(), err: io.err(), ms: performance.now() - start };
}

const oneErrorLine = (err: string) => err.split('\n').filter((line) => line.startsWith('error:'));

describe('limits', () => {
  it('a 1 MB expression is refused within a second, naming --max-expr-length', async () => {
    const { status, out, err, ms } = await timed(['--at', 'x=1'], { stdin: 'x+'.repeat(500_000) + 'x' });
    expect([status, out]).toEqual([2, '']);
    expect(oneErrorLine(err)).toEqual([
      expect.stringMatching(/more than the limit of 100000 \(raise it with --max-expr-length\)/),
    ]);
    expect(ms).toBeLessThan(1000);
  });

  it('10 000 nested parentheses are refused within a second', async () => {
    const expr = `${'('.repeat(10_000)}x${')'.repeat(10_000)}`;
    const { status, err, ms } = await timed([expr, '--at', '1', '--max-expr-length', '100000']);
    expect(status).toBe(2);
    expect(oneErrorLine(err)).toEqual([expect.stringMatching(/nested too deeply/)]);
    expect(ms).toBeLessThan(1000);
  });

  it('--max-nodes bounds the compute graph', async () => {
    const { status, err } = await timed(['sin(x)+cos(x)+tan(x)+exp(x)', '--at', '1', '--max-nodes', '4']);
    expect(status).toBe(2);
    expect(oneErrorLine(err)).toEqual([
      expect.stringMatching(/more than 4 nodes \(raise the limit with --max-nodes\)/),
    ]);
    expect((await timed(['sin(x)+cos(x)', '--at', '1', '--max-nodes', '100'])).status).toBe(0);
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
    const { status, err, ms } = await timed([
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
    expect(ms).toBeLessThan(1000);
  });
});

describe('numbers', () => {
  it.each([
    ['--at', 'x=1,NaN,3'],
    ['--at', 'x=[1,"Infinity"]'],
    ['--at', 'x=-inf'],
  ])('refuses %s %s without --allow-nonfinite', async (...args) => {
    const refused = await timed(['x.^2', ...args]);
    expect(refused.status).toBe(2);
    expect(oneErrorLine(refused.err)).toEqual([expect.stringMatching(/give finite numbers, or add --allow-nonfinite/)]);
    expect((await timed(['x.^2', ...args, '--allow-nonfinite'])).status).toBe(0);
  });

  it('refuses a non-finite seed', async () => {
    const { status, err } = await timed(['vjp', 'x', '--at', '1,2', '--v', '1,NaN']);
    expect(status).toBe(2);
    expect(oneErrorLine(err)).toEqual([expect.stringMatching(/^error: --v has NaN at entry 2/)]);
  });

  it('reports an overflow as the SPEC string in JSON and flags it in the table', async () => {
    const json = JSON.parse((await timed(['exp(x)', '--at', '800', '--json'])).out) as {
      value: unknown;
      jacobian: unknown;
    };
    expect(json).toMatchObject({ value: 'Infinity', jacobian: [['Infinity']] });
    const table = (await timed(['exp(x)', '--at', '800'])).out;
    expect(table).toContain('! 1 entry is not finite');
  });

  it('a domain error gives NaN and a warning on standard error that names the operation, not a crash', async () => {
    const { status, out, err } = await timed(['x + log(c)', '--at', 'x=1', '--at', 'c=-1', '--wrt', 'x', '--json']);
    expect(status).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      value: 'NaN',
      jacobian: [[1]],
      warnings: [{ kind: 'domain', operation: 'log', source: 'log(c)' }],
    });
    expect(err).toBe(
      'warning: log(c): outside the domain: the value is NaN (no real result); the derivative is what its formula gives there\n',
    );
    const sqrt = await timed(['sqrt(x)', '--at', '-4,4', '--json']);
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
    const lines = Array.from({ length: 400_000 }, (_, i) => JSON.stringify({ x: i, y: 1, z: 2 })).join('\n');
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
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.length > 200_000) child.kill('SIGINT');
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
