/**
 * Scripting: batches of points, the output formats, expressions from files,
 * values from CSV, the list of functions, and the progress line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from 'mathjs';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { OPS, OP_NAMES } from '../src/ops/index.js';
import { LANGUAGE_FUNCTIONS } from '../src/parse/index.js';
import { fakeIo, ROOT } from './helpers/cli.js';

const run = async (args: string[], options: Parameters<typeof fakeIo>[0] = {}) => {
  const io = fakeIo(options);
  const status = await main(args, io);
  return { status, out: io.out(), err: io.err() };
};

const LORENZ = '[s*(y-x), x*(r-z)-y, x*y-b*z]';
const FIXED = ['--at', 's=10', '--at', 'r=28', '--at', 'b=2.6667', '--wrt', 'x,y,z'];
const POINTS = [
  { x: 1, y: 2, z: 3 },
  { x: 0.5, y: -1, z: 2 },
  { x: -3, y: 0.25, z: 10 },
];

describe('--batch', () => {
  it('writes, for each line, what the per-point command writes', async () => {
    const stdin = POINTS.map((p, i) => JSON.stringify(i % 2 === 0 ? { at: p } : p)).join('\n');
    const batch = await run([LORENZ, ...FIXED, '--batch', '-'], { stdin });
    expect(batch.status).toBe(0);
    const lines = batch.out.trimEnd().split('\n');
    expect(lines).toHaveLength(POINTS.length);
    for (const [i, p] of POINTS.entries()) {
      const single = await run([
        LORENZ,
        ...FIXED,
        ...Object.entries(p).flatMap(([k, v]) => ['--at', `${k}=${v}`]),
        '--json',
      ]);
      expect(lines[i]).toBe(single.out.trimEnd());
    }
  });

  it('answers a bad line with an error object on that line, goes on, and exits 1', async () => {
    const stdin = [
      JSON.stringify(POINTS[0]),
      'not json',
      JSON.stringify({ x: 1, y: 2 }),
      JSON.stringify({ x: [1, 2, 3], y: 'a', z: 1 }),
      JSON.stringify(POINTS[1]),
    ].join('\n');
    const { status, out } = await run([LORENZ, ...FIXED, '--batch', '-'], { stdin });
    expect(status).toBe(1);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { line?: number; error?: string; jacobian?: unknown });
    expect(lines).toHaveLength(5);
    expect(lines[0]!.jacobian).toBeDefined();
    expect(lines[1]).toMatchObject({ line: 2, error: expect.stringContaining('not valid JSON') });
    expect(lines[2]).toMatchObject({ line: 3, error: expect.stringContaining('no value for z') });
    expect(lines[3]).toMatchObject({ line: 4, error: expect.stringContaining('must be numbers') });
    expect(lines[4]!.jacobian).toBeDefined();
  });

  it('says of a row of a table in a file not named .csv or .tsv that a line is a JSON object', async () => {
    const { status, out } = await run([LORENZ, ...FIXED, '--batch', 'points.txt'], {
      files: { 'points.txt': 'x,y,z\n1,2,3\n' },
    });
    expect(status).toBe(1);
    const hint =
      '; a line is a JSON object, as {"x": 1, "y": 2}, not a row of a table (a file named .csv or .tsv is read as one)';
    for (const line of out.trimEnd().split('\n'))
      expect((JSON.parse(line) as { error: string }).error.endsWith(hint)).toBe(true);
  });

  it('reads a CSV or TSV file as a table of points: the lines JSON Lines of the same points give', async () => {
    const jsonl = POINTS.map((p) => JSON.stringify(p)).join('\n');
    const expected = await run([LORENZ, ...FIXED, '--batch', '-'], { stdin: jsonl });
    const csv = `x,y,z\n${POINTS.map((p) => `${p.x},${p.y},${p.z}`).join('\n')}\n`;
    // pandas' to_csv with its index: an unnamed first column, left out.
    const indexed = `,z,x,y\n${POINTS.map((p, i) => `${i},${p.z},${p.x},${p.y}`).join('\r\n')}`;
    const tsv = `x\ty\tz\n${POINTS.map((p) => `${p.x}\t${p.y}\t${p.z}`).join('\n')}\n`;
    const files = { 'p.csv': csv, 'i.CSV': indexed, 'p.tsv': tsv };
    for (const name of Object.keys(files)) {
      const table = await run([LORENZ, ...FIXED, '--batch', name], { files });
      // The indexed table names the variables in another order: the at object follows the columns.
      const lines = table.out
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { jacobian: unknown });
      expect(
        lines.map((line) => line.jacobian),
        name,
      ).toEqual(
        expected.out
          .trimEnd()
          .split('\n')
          .map((line) => (JSON.parse(line) as { jacobian: unknown }).jacobian),
      );
      if (name !== 'i.CSV') expect(table).toEqual(expected);
    }
  });

  it("says which lines of a table are no points, by the file's line numbers, and refuses a header of no names", async () => {
    const files = { 'p.csv': 'x,y,z\n1,2,3\n4,5\n7,abc,9\n\n-1.5,inf,2e3\n', 'bad.csv': 'x[1],y\n1,2\n' };
    const { status, out } = await run([LORENZ, ...FIXED, '--allow-nonfinite', '--batch', 'p.csv'], { files });
    expect(status).toBe(1);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { line?: number; error?: string });
    expect(lines.map((line) => [line.line, line.error])).toEqual([
      [undefined, undefined],
      [3, 'it has 2 cells of values where the header names 3'],
      [4, 'its cell "y": "abc" is not a number'],
      [5, 'blank line: give a point on every line, or remove the line'],
      [undefined, undefined],
    ]);
    expect((lines[4] as { at?: { y: unknown } }).at?.y).toBe('Infinity');
    expect(await run(['x', '--batch', 'bad.csv'], { files })).toEqual({
      status: 2,
      out: '',
      err:
        'error: --batch bad.csv: its header\'s column "x[1]" is no variable name: each column of a batch table ' +
        'is one scalar variable, named in the first line\n',
    });
  });

  it('shards a table by its lines, every shard reading the header', async () => {
    const csv = `x,y,z\n${POINTS.map((p) => `${p.x},${p.y},${p.z}`).join('\n')}\n`;
    const shards = await Promise.all(
      ['0/2', '1/2'].map((shard) =>
        run([LORENZ, ...FIXED, '--batch', 'p.csv', '--shard', shard], { files: { 'p.csv': csv } }),
      ),
    );
    const numbered = shards.flatMap(({ out }) =>
      out
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { line: number }),
    );
    expect(numbered.map((line) => line.line).sort()).toEqual([2, 3, 4]);
  });

  it('runs vjp with a seed per line, from a file', async () => {
    const { status, out } = await run(['vjp', 'x.*x', '--batch', 'points.jsonl'], {
      files: { 'points.jsonl': '{"at":{"x":[1,2]},"v":[1,0]}\n{"at":{"x":[3,4]},"v":[0,1]}\n' },
    });
    expect(status).toBe(0);
    expect(
      out
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { vjp: number[] }).vjp),
    ).toEqual([
      [2, 0],
      [0, 8],
    ]);
  });

  it('refuses an expression on standard input when the points are there too', async () => {
    const { status, err } = await run(['--batch', '-'], { stdin: '{"x":1}' });
    expect(status).toBe(2);
    expect(err).toMatch(/^error: missing expression: with --batch -/);
  });
});

describe('--format', () => {
  const W = ['W*x', '--at', 'x=1,-2.5,3', '--at', 'W=[[1,2,3],[4,5,6e-7]]'];
  const cases: [string, string[]][] = [
    ['jacobian.csv', [...W, '--format', 'csv']],
    ['jacobian.tsv', [...W, '--format', 'tsv']],
    ['jacobian.md', [...W, '--format', 'markdown', '--wrt', 'x']],
    ['jacobian.tex', [...W, '--format', 'latex', '--wrt', 'x']],
    ['jacobian.mathjs', [...W, '--format', 'mathjs', '--wrt', 'x']],
    ['vjp.csv', ['vjp', 'x*2', '--at', '1,2,3', '--v', '0.1,1,0.0001', '--format', 'csv']],
    ['jvp.mathjs', ['jvp', 'sqrt(x)', '--at', '0,4', '--u', '1,1', '--format', 'mathjs']],
    ['hessian.tex', ['hessian', 'sum(x.^3)', '--at', '1,2,3', '--format', 'latex']],
    ['sparse.mtx', ['x[2:end]-x[1:end-1]', '--at', '1,2,3,4', '--sparse', '--format', 'mtx']],
  ];
  it.each(cases)('%s matches its golden file', async (name, args) => {
    const { status, out } = await run(args);
    expect(status).toBe(0);
    const path = join(ROOT, 'fixtures', 'formats', name);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, out);
    expect(out).toBe(readFileSync(path, 'utf8'));
  });

  it('mathjs output reads back with math.evaluate to the same numbers', async () => {
    const args = ['x.^2 ./ y', '--at', 'x=0.1,-3,1e-9', '--at', 'y=7', '--format', 'mathjs'];
    const text = (await run(args)).out;
    const json = JSON.parse((await run([...args.slice(0, -2), '--json'])).out) as { jacobian: number[][] };
    const back = evaluate(text.trim()) as { toArray(): number[][] };
    expect(back.toArray()).toEqual(json.jacobian);
  });

  it('CSV parses back to the same numbers and labels', async () => {
    const args = ['[sin(x[1]), cos(x[2]), x[1]*y]', '--at', 'x=0.3,1.7', '--at', 'y=-2'];
    const csv = (await run([...args, '--format', 'csv'])).out;
    const json = JSON.parse((await run([...args, '--json'])).out) as { jacobian: number[][] };
    const [header, ...rows] = csv.trimEnd().split('\n');
    expect(header).toBe('output,x[1],x[2],y');
    expect(rows.map((row) => row.split(',').slice(1).map(Number))).toEqual(json.jacobian);
    expect(rows.map((row) => row.split(',')[0])).toEqual(['f[1]', 'f[2]', 'f[3]']);
  });

  it('refuses mtx for a vector result', async () => {
    const { status, err } = await run(['vjp', 'x*2', '--at', '1,2', '--v', '1,1', '--format', 'mtx']);
    expect(status).toBe(2);
    expect(err).toMatch(/^error: --format mtx writes a matrix/);
  });
});

describe('input from files', () => {
  it('-f reads the expression, with # comments and line breaks', async () => {
    const file = '# the Lorenz field\n[s*(y-x),        # dx/dt\n x*(r-z)-y,       # dy/dt\n x*y-b*z]         # dz/dt\n';
    const fromFile = await run(['-f', 'lorenz.txt', ...FIXED, '--at', 'x=1', '--at', 'y=2', '--at', 'z=3', '--json'], {
      files: { 'lorenz.txt': file },
    });
    const inline = await run([LORENZ, ...FIXED, '--at', 'x=1', '--at', 'y=2', '--at', 'z=3', '--json']);
    expect(fromFile.status).toBe(0);
    expect((JSON.parse(fromFile.out) as { jacobian: unknown }).jacobian).toEqual(
      (JSON.parse(inline.out) as { jacobian: unknown }).jacobian,
    );
  });

  it('--at NAME=@file.csv reads a vector (one line or one column) or a matrix', async () => {
    const files = { 'W.csv': '1,2,3\n4,5,6\n', 'x.csv': '1\n2\n3\n', 'b.tsv': '0.5\t-1\n' };
    const { status, out } = await run(
      ['W*x+b', '--at', 'W=@W.csv', '--at', 'x=@x.csv', '--at', 'b=@b.tsv', '--wrt', 'x', '--json'],
      { files },
    );
    expect(status).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      value: [14.5, 31],
      jacobian: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
  });
});

describe('jacobian functions', () => {
  it('lists every function of the operation table and of the compiler, once, with its arity', async () => {
    const { status, out } = await run(['functions', '--json']);
    expect(status).toBe(0);
    const entries = JSON.parse(out) as { name: string; arity: string; doc: string }[];
    const names = entries.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    const fromTable = OP_NAMES.flatMap((op) => (OPS[op].fn === undefined ? [] : [OPS[op].fn!.name]));
    expect(names).toEqual(expect.arrayContaining([...fromTable, ...Object.keys(LANGUAGE_FUNCTIONS)]));
    expect(names).toHaveLength(new Set([...fromTable, ...Object.keys(LANGUAGE_FUNCTIONS)]).size);
    expect(entries.find((e) => e.name === 'sin')).toMatchObject({ arity: '1', doc: 'sine, element-wise' });
    expect(entries.every((e) => e.doc.length > 0)).toBe(true);
  });

  it('lays the table out in a usage column of 24: a longer usage has a line of its own above', async () => {
    const { out } = await run(['functions']);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('abs(x)                      1  absolute value, element-wise');
    const range = lines.findIndex((line) => line.startsWith('range('));
    expect(lines[range]).toBe('range(a, b), range(a, b, step), range(a, b, step, includeEnd)');
    expect(lines[range + 1]).toMatch(/^ {26}2-4 {2}a, a \+ step/);
    // Every line is a usage of at most 24 characters padded to them, or a longer usage whose next line starts blank.
    for (let k = 0; k < lines.length; k++) {
      if (lines[k]!.slice(24, 26) === '  ' && lines[k]!.slice(0, 24).trim() !== '') continue;
      expect(lines[k + 1]!.slice(0, 26), lines[k]).toBe(' '.repeat(26));
      k++;
    }
  });
});

describe('progress', () => {
  /**
   * Runs `f` with a clock that advances `stepMs` at every reading: work "lasts" as many readings as it
   * takes, so the half-second delay passes after a few steps, without waiting and without reading the clock.
   */
  async function withSteppingClock<T>(stepMs: number, f: () => Promise<T>): Promise<T> {
    let now = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => (now += stepMs));
    try {
      return await f();
    } finally {
      clock.mockRestore();
    }
  }

  // Ten one-hot backward passes, each reported to the progress line.
  const passes = ['sin(x)', '--at', `x=${Array.from({ length: 10 }, (_, i) => i / 10).join(',')}`, '--json'];

  it('never writes a progress line when standard error is not a terminal', async () => {
    const pipe = fakeIo();
    expect(await withSteppingClock(100, () => main(passes, pipe))).toBe(0);
    expect(pipe.err()).toBe('');
    // The same work on a terminal does draw: the pipe, not the work, kept the line away.
    const terminal = { ...fakeIo(), stderrIsTTY: true };
    expect(await withSteppingClock(100, () => main(passes, terminal))).toBe(0);
    expect(terminal.err()).toMatch(/\rcomputing J .* \d+\/10 passes/);
    expect(pipe.out()).toBe(terminal.out());
  });

  it("draws check's finite differences, a column at a time, after its passes", async () => {
    const terminal = { ...fakeIo(), stderrIsTTY: true };
    const check = ['check', 'sum(x.^2)', '--at', `x=${Array.from({ length: 10 }, (_, i) => i).join(',')}`, '--json'];
    expect(await withSteppingClock(100, () => main(check, terminal))).toBe(0);
    expect(terminal.err()).toMatch(/\rcomputing check .* 10\/10 passes/);
  });

  it('draws nothing on a terminal for work that ends within the delay', async () => {
    const io = { ...fakeIo(), stderrIsTTY: true };
    expect(await withSteppingClock(0.001, () => main(passes, io))).toBe(0);
    expect(io.err()).toBe('');
  });

  it('draws on a terminal for work that lasts, and erases itself; standard output is untouched', async () => {
    const stdin = Array.from({ length: 50 }, (_, i) => JSON.stringify({ x: i / 1000, y: 1, z: 2 })).join('\n');
    const io = { ...fakeIo({ stdin }), stderrIsTTY: true };
    expect(await withSteppingClock(600, () => main([LORENZ, ...FIXED, '--batch', '-'], io))).toBe(0);
    expect(io.err()).toMatch(/\rbatch: \d+ points/);
    expect(io.err().endsWith('\r\u001b[K')).toBe(true);
    expect(io.out()).not.toContain('\r');
    expect(io.out().trimEnd().split('\n')).toHaveLength(50);
  });
});
