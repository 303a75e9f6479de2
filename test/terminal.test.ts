/**
 * Tables that fit the terminal: on a terminal, a table wider or taller than
 * the screen keeps its first and last rows and columns (as NumPy prints a
 * large array) with a hint to see the rest; pipes and --full get it whole.
 * Run in a real pseudo-terminal (util-linux `script`) and in-process.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo, ROOT, runInProcess } from './helpers/cli.js';

const HINT = 'summarised to fit the terminal: see all with --full, --json or --format csv';

/** Lines as a person sees them: ANSI escapes and carriage returns removed. */
const visibleLines = (text: string): string[] =>
  text

    .replace(/\x1b\[[0-9;]*m/g, '')
    .replace(/\r/g, '')
    .replace(/\n$/, '')
    .split('\n');

/** Characters, not bytes or UTF-16 units, as the terminal counts them. */
const widest = (lines: readonly string[]): number => Math.max(...lines.map((line) => [...line].length));

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** `jacobian ...args` on a pseudo-terminal of the given size; what it printed there. */
function inTerminal(
  args: readonly string[],
  { columns = 80, rows = 24, env = {} }: { columns?: number; rows?: number; env?: Record<string, string> } = {},
): string {
  const command = `stty cols ${columns} rows ${rows}; node bin/jacobian.cjs ${args.map(quote).join(' ')}`;
  const result = spawnSync('/usr/bin/script', ['-q', '-c', command, '/dev/null'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.error !== undefined) throw result.error;
  expect(result.status).toBe(0);
  return result.stdout;
}

/** An Io of a terminal `columns` wide and `rows` high. */
const terminalIo = (columns: number, rows: number) => ({ ...fakeIo({ stdoutIsTTY: true }), columns, rows });

async function onScreen(args: readonly string[], columns = 80, rows = 24): Promise<string[]> {
  const io = terminalIo(columns, rows);
  expect(await main(args, io), io.err()).toBe(0);
  return visibleLines(io.out());
}

describe('a 30×30 Jacobian on a terminal', () => {
  const args = ['x*sum(x)', '--at', 'x=1:30'];

  it('fits an 80×24 pseudo-terminal: first and last rows and columns, the shape, and the hint', () => {
    const lines = visibleLines(inTerminal(args));
    expect(widest(lines)).toBeLessThanOrEqual(80);
    // The shell's prompt keeps the last line.
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(lines[0]).toBe('J = ∂(x*sum(x))/∂x   30×30');
    expect(lines[2]).toMatch(/^\s+x\[1\]\s+x\[2\].*….*x\[29\]\s+x\[30\]$/);
    expect(lines[3]).toMatch(/^f\[1\]\s+466\s+1 .*….* 1$/);
    expect(lines.at(-3)).toMatch(/^f\[30\]\s+30 .*….*\s495$/);
    expect(lines.some((line) => /^⋮\s+⋮.*⋱.*⋮$/.test(line))).toBe(true);
    expect(lines.at(-1)).toBe(HINT);
  });

  it('is printed whole through a pipe, as before', async () => {
    const { stdout, status } = await runInProcess(args);
    expect(status).toBe(0);
    const lines = visibleLines(stdout);
    expect(lines).toHaveLength(33);
    expect(widest(lines)).toBeGreaterThan(200);
    expect(stdout).not.toContain('…');
    expect(stdout).not.toContain(HINT);
  });

  it('is printed whole on the terminal with --full', () => {
    const lines = visibleLines(inTerminal([...args, '--full']));
    expect(lines).toHaveLength(33);
    expect(lines.at(-1)).toMatch(/^f\[30\]\s+30\s+30 .* 495$/);
    expect(lines.join('\n')).not.toContain(HINT);
  });

  it('fits a short terminal: a tall column J·u keeps its first and last rows', () => {
    const u = Array.from({ length: 40 }, () => '1').join(',');
    const lines = visibleLines(inTerminal(['jvp', 'x.^2', '--at', 'x=1:40', '--u', u], { rows: 12 }));
    expect(lines).toEqual([
      'J·u = ∂(x.^2)/∂x·u   40×1',
      'u = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, …, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
      '',
      '       J·u',
      'f[1]     2',
      'f[2]     4',
      '⋮        ⋮',
      'f[39]   78',
      'f[40]   80',
      '',
      HINT,
    ]);
  });

  it('a table that fits is printed as it is, with no hint', async () => {
    const lines = await onScreen(['x*2', '--at', '1,2,3']);
    expect(lines).toEqual(
      ['J = ∂(x*2)/∂x   3×3', '', '      x[1]  x[2]  x[3]', 'f[1]     2     0     0'].concat([
        'f[2]     0     2     0',
        'f[3]     0     0     2',
      ]),
    );
  });
});

describe('every table fits the screen it is given', () => {
  const sizes: readonly (readonly [number, number])[] = [
    [80, 24],
    [60, 15],
    [40, 12],
    [120, 50],
  ];
  const cases: readonly (readonly string[])[] = [
    ['x*sum(x)', '--at', 'x=1:30'],
    ['hessian', 'sum(x.^3) * sum(x)', '--at', 'x=1:30'],
    ['grad', 'sum(x.^2)', '--at', 'x=1:200'],
    [
      'grad',
      'sum(W*x)',
      '--at',
      'W=[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30]]',
      '--at',
      'x=1:30',
    ],
    ['vjp', 'x.^2', '--at', 'x=1:100', '--v', Array.from({ length: 100 }, (_, i) => i / 7).join(',')],
    ['hvp', 'sum(x.^3)', '--at', 'x=1:60', '--u', Array.from({ length: 60 }, () => '1').join(',')],
    ['x.^2', '--at', 'x=1:500', '--sparse'],
    ['check', 'sin(x).*x', '--at', 'x=1:30'],
  ];

  it.each(cases)('%s %s %s', async (...args) => {
    for (const [columns, rows] of sizes) {
      const lines = await onScreen(args, columns, rows);
      const where = `${columns}×${rows}:\n${lines.join('\n')}`;
      expect(widest(lines), where).toBeLessThanOrEqual(columns);
      // The shell's prompt keeps the last line.
      expect(lines.length, where).toBeLessThan(rows);
    }
  });

  it('a large sparse J listed by entry keeps its first and last entries', async () => {
    const lines = await onScreen(['x.^2', '--at', 'x=1:500', '--sparse']);
    expect(lines[0]).toBe('J = ∂(x.^2)/∂x   500×500, 500 stored entries, 1 colour (forward, lower bound 1)');
    expect(lines[2]).toBe('f[1] / x[1]      2');
    expect(lines).toContain('⋮');
    expect(lines.at(-3)).toBe('f[500] / x[500]  1000');
    expect(lines.at(-1)).toBe(HINT);
  });

  it('a long vector keeps its first and last entries in one row', async () => {
    const lines = await onScreen(['grad', 'sum(x.^2)', '--at', 'x=1:200']);
    expect(lines[3]).toMatch(/^x\[1\]\s+x\[2\]\s.*\s…\s.*\sx\[199\]\s+x\[200\]$/);
    expect(lines[4]).toMatch(/^\s+2\s+4\s.*\s…\s.*\s398\s+400$/);
  });

  it('--full and a pipe print every entry', async () => {
    const full = await onScreen(['grad', 'sum(x.^2)', '--at', 'x=1:200', '--full']);
    expect(full[3]).toContain('x[100]');
    const piped = fakeIo();
    await main(['grad', 'sum(x.^2)', '--at', 'x=1:200'], piped);
    expect(piped.out()).toContain('x[100]');
    expect(piped.out()).not.toContain(HINT);
  });

  it('a long expression is cut in the header to fit', async () => {
    const expr = `x*${Array.from({ length: 30 }, (_, i) => `${i + 1}`).join('+')}`;
    const lines = await onScreen([expr, '--at', 'x=1:30'], 50, 24);
    expect(widest(lines)).toBeLessThanOrEqual(50);
    expect(lines[0]).toMatch(/^J = ∂\(x\*1\+2\+.*…\)\/∂x {3}30×30$/);
  });
});
