/**
 * Flags that mean what they say (issue 12, items 4 and 5): --wrt accumulates,
 * --json and --format may not disagree, a batch writes JSON Lines or CSV, a
 * name bound twice is refused, `spy --svg -` writes to standard output, and
 * names are those of the language, Unicode letters included. The installed
 * command (a child process) where the process is the point (a UTF-8 name in
 * argv); in-process runs, the same main, for the rest.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo, ROOT, runChild, runInProcess } from './helpers/cli.js';

const run = async (args: string[], options: Parameters<typeof fakeIo>[0] = {}) => {
  const io = fakeIo(options);
  const status = await main(args, io);
  return { status, out: io.out(), err: io.err() };
};

const json = (text: string) => JSON.parse(text) as { wrt: string[]; shape: number[]; at: Record<string, unknown> };

/** A user error: status 2, nothing on standard output, one `error:` line. */
function expectUserError(result: {
  status: number | null;
  out?: string;
  stdout?: string;
  err?: string;
  stderr?: string;
}) {
  expect(result.status).toBe(2);
  expect(result.out ?? result.stdout).toBe('');
  const err = result.err ?? result.stderr ?? '';
  expect(err).toMatch(/^error: [^\n]+\n$/);
  return err;
}

const dir = mkdtempSync(join(tmpdir(), 'jacobian-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--wrt accumulates, as --at does', () => {
  it('--wrt x --wrt y differentiates both, in that order', async () => {
    const result = await runInProcess(['x.*y', '--at', 'x=1,2', '--at', 'y=3,4', '--wrt', 'y', '--wrt', 'x', '--json']);
    expect(result.status).toBe(0);
    const report = json(result.stdout);
    expect(report.wrt).toEqual(['y', 'x']);
    expect(report.shape).toEqual([2, 4]);
  });

  it('mixes with lists: --wrt x,y --wrt z', async () => {
    const { status, out } = await run([
      'x+y+z',
      '--at',
      'x=1',
      '--at',
      'y=2',
      '--at',
      'z=3',
      '--wrt',
      'x,y',
      '--wrt',
      'z',
      '--json',
    ]);
    expect(status).toBe(0);
    expect(json(out).wrt).toEqual(['x', 'y', 'z']);
  });

  it('still refuses a name given twice, across flags', async () => {
    const err = expectUserError(await run(['x+y', '--at', 'x=1', '--at', 'y=2', '--wrt', 'x', '--wrt', 'x,y']));
    expect(err).toContain('--wrt names a variable twice: x,x,y');
  });
});

describe('--json and --format', () => {
  it.each([
    [['--json', '--format', 'csv'], '--json and --format csv disagree: give one of them'],
    [['--format', 'table', '--json'], '--json and --format table disagree'],
    [['--format', 'jsonl'], '--format jsonl is for --batch'],
  ])('%j is refused', async (flags, message) => {
    const err = expectUserError(await runInProcess(['x*2', '--at', '1,2', ...flags]));
    expect(err).toContain(message);
  });

  it('--json --format json agree', async () => {
    const { status, out } = await run(['x*2', '--at', '1,2', '--json', '--format', 'json']);
    expect(status).toBe(0);
    expect(json(out).shape).toEqual([2, 2]);
  });
});

describe('--batch --format', () => {
  const stdin = '{"x":[1,2]}\n{"at":{"x":[0.5,-1]}}\n';

  it('csv: a header, then one row per point: its line number, the value, then J row-major', async () => {
    const result = await runInProcess(['x.^2', '--batch', '-', '--format', 'csv'], { stdin });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      'line,f[1],f[2],df[1]/dx[1],df[1]/dx[2],df[2]/dx[1],df[2]/dx[2]\n1,1,4,2,0,0,4\n2,0.25,1,1,0,0,-2\n',
    );
  });

  it('jsonl is the default, and --json and --format json say the same', async () => {
    const plain = await run(['x.^2', '--batch', '-'], { stdin });
    expect(plain.status).toBe(0);
    expect(plain.out.trimEnd().split('\n')).toHaveLength(2);
    for (const flags of [['--format', 'jsonl'], ['--json'], ['--format', 'json'], ['--json', '--format', 'jsonl']])
      expect((await run(['x.^2', '--batch', '-', ...flags], { stdin })).out).toBe(plain.out);
  });

  it.each(['table', 'tsv', 'markdown', 'latex', 'mathjs', 'mtx'])(
    '--format %s is refused with what a batch writes',
    async (format) => {
      const err = expectUserError(await runInProcess(['x.^2', '--batch', '-', '--format', format], { stdin }));
      expect(err).toBe(
        `error: --batch writes --format jsonl (one JSON result a line, the default) or csv, not ${format}\n`,
      );
    },
  );

  it('--json --format csv is refused in a batch too', async () => {
    expect(expectUserError(await run(['x', '--batch', '-', '--json', '--format', 'csv'], { stdin }))).toContain(
      'disagree',
    );
  });

  it('csv: columns of each command, labels with commas quoted', async () => {
    const cases: [string[], string, string][] = [
      [['grad', 'sum(x.^2)'], '{"x":[1,2]}', 'line,f,df/dx[1],df/dx[2]\n1,5,2,4\n'],
      [['vjp', 'x*2', '--v', '1,0'], '{"x":[1,2]}', 'line,f[1],f[2],vjp x[1],vjp x[2]\n1,2,4,2,0\n'],
      [['jvp', 'x*2', '--u', '0,1'], '{"x":[1,2]}', 'line,f[1],f[2],jvp f[1],jvp f[2]\n1,2,4,0,2\n'],
      [['hvp', 'sum(x.^3)', '--u', '1,0'], '{"x":[1,2]}', 'line,f,hvp x[1],hvp x[2]\n1,9,6,0\n'],
      [
        ['hessian', 'x[1]*x[2]'],
        '{"x":[1,2]}',
        'line,f,d2f/dx[1]dx[1],d2f/dx[1]dx[2],d2f/dx[2]dx[1],d2f/dx[2]dx[2]\n1,2,0,1,1,0\n',
      ],
      [['sum(W)'], '{"W":[[1,2]]}', 'line,f,"df/dW[1,1]","df/dW[1,2]"\n1,3,1,1\n'],
      [['x.^2', '--sparse'], '{"x":[1,2]}', 'line,f[1],f[2],df[1]/dx[1],df[2]/dx[2]\n1,1,4,2,4\n'],
    ];
    for (const [args, points, expected] of cases) {
      const { status, out, err } = await run([...args, '--batch', '-', '--format', 'csv'], { stdin: points });
      expect({ args, status, out, err }).toEqual({ args, status: 0, out: expected, err: '' });
    }
  });

  it('csv: a bad line is left out of the table, said on standard error, and the exit status is 1', async () => {
    const points = '{"x":[1,2]}\nnot json\n{"x":[1,2,3]}\n{"x":[3,4]}\n';
    const { status, out, err } = await run(['x.^2', '--batch', '-', '--format', 'csv'], { stdin: points });
    expect(status).toBe(1);
    expect(out.split('\n').map((line) => line.split(',')[0])).toEqual(['line', '1', '4', '']);
    const warnings = err.trimEnd().split('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^warning: line 2 left out: not valid JSON/);
    expect(warnings[1]).toBe(
      'warning: line 3 left out: its result has 13 columns where the header has 7: ' +
        'a CSV batch needs the same shapes on every line; use --format jsonl',
    );
  });

  it('csv: check is refused, it reports errors rather than numbers', async () => {
    const err = expectUserError(await run(['check', 'x', '--batch', '-', '--format', 'csv'], { stdin }));
    expect(err).toContain('--format jsonl');
  });
});

describe('--at given twice', () => {
  it('is an error that names both values', async () => {
    const err = expectUserError(await runInProcess(['x*2', '--at', 'x=1,2', '--at', 'x=3']));
    expect(err).toBe('error: --at x is given twice, as 1,2 and as 3: give one value\n');
  });

  it('counts the unnamed form as the name it stands for', async () => {
    const err = expectUserError(await run(['x*2', '--at', '1,2', '--at', 'x=3']));
    expect(err).toBe('error: --at x is given twice, as 1,2 and as 3: give one value\n');
  });

  it('cuts a long value short in the message', async () => {
    const long = Array.from({ length: 100 }, (_, i) => i).join(',');
    const err = expectUserError(await run(['x*2', '--at', `x=${long}`, '--at', 'x=1']));
    expect(err).toContain(`as ${long.slice(0, 39)}… and as 1`);
  });

  it('--at still wins over the values piped on standard input', async () => {
    const stdin = '{"expr":"x*2","at":{"x":[1,2]}}';
    const { status, out } = await run(['--at', 'x=5', '--json'], { stdin });
    expect(status).toBe(0);
    expect(json(out).at).toEqual({ x: 5 });
  });
});

describe('spy --svg', () => {
  const args = ['spy', 'x[2:end]-x[1:end-1]', '--at', 'x=1:6'];

  it('- writes the SVG to standard output, and no file named -', async () => {
    const result = await runInProcess([...args, '--svg', '-']);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^<\?xml[^\n]*\n<svg [\s\S]*<\/svg>\n$/);
    expect(result.stdout).toContain('5×6, 10 nonzeros');
    expect(existsSync(join(ROOT, '-'))).toBe(false);
  });

  it('FILE writes the same SVG to the file, and the picture to standard output', async () => {
    const path = join(dir, 'pattern.svg');
    const toFile = await runInProcess([...args, '--svg', path]);
    expect(toFile.status).toBe(0);
    expect(toFile.stdout).toContain('⠙');
    const toStdout = await runInProcess([...args, '--svg', '-']);
    expect(toStdout.stdout).toBe(readFileSync(path, 'utf8'));
  });
});

describe('names people use: every name the language reads', () => {
  it('jacobian "sin(θ)" --at θ=0.7 (child process)', () => {
    const result = runChild(['sin(θ)', '--at', 'θ=0.7', '--json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as { at: unknown; wrt: string[]; jacobian: number[][] };
    expect(report.at).toEqual({ θ: 0.7 });
    expect(report.wrt).toEqual(['θ']);
    expect(report.jacobian[0]![0]).toBeCloseTo(Math.cos(0.7), 14);
  });

  it('a vector for θ, beside another variable', async () => {
    const result = await runInProcess(['sin(θ)*x', '--at', 'θ=0.7,0.8', '--at', 'x=2', '--wrt', 'θ', '--json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(json(result.stdout).shape).toEqual([2, 2]);
  });

  it.each([
    ['Greek', 'Δt', '0.5'],
    ['Latin with accents', 'é', '2'],
    ['a letterlike symbol', 'ℓ', '3'],
    ['a mathematical alphanumeric symbol (a surrogate pair)', '𝑥', '4'],
    ['digits and underscores after a letter', 'α_1', '5'],
  ])('%s: %s', async (_what, name, value) => {
    const { status, out, err } = await run([`2*${name} + y`, '--at', `${name}=${value}`, '--at', 'y=1', '--json']);
    expect(err).toBe('');
    expect(status).toBe(0);
    expect(json(out).at).toEqual({ [name]: Number(value), y: 1 });
  });

  it('from standard input too, and in --wrt and --u', async () => {
    const stdin = JSON.stringify({ expr: 'θ.*φ', at: { θ: [1, 2], φ: [3, 4] } });
    const jac = await run(['--wrt', 'φ', '--json'], { stdin });
    expect(jac.status).toBe(0);
    expect(json(jac.out).wrt).toEqual(['φ']);
    const jvp = await run(['jvp', '--u', 'θ=1,0', '--u', 'φ=0,1', '--json'], { stdin });
    expect(jvp.err).toBe('');
    expect((JSON.parse(jvp.out) as { jvp: number[] }).jvp).toEqual([3, 2]);
  });

  it('a text that is no name stays an unnamed value', async () => {
    const err = expectUserError(await run(['x+y', '--at', '1x=2', '--at', 'y=1']));
    expect(err).toContain('--at 1x=2 has no name');
  });
});
