/**
 * Value files from other tools (issue 12, item 6): text tables as
 * `numpy.savetxt` writes them, CSV with pandas' header row and index column,
 * one column by name (`@data.csv:price`), and errors that say which line and
 * column could not be read. The files are written here exactly as NumPy 1.x
 * and pandas 2.x write them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo, runChild, runInProcess } from './helpers/cli.js';

const FILES: Readonly<Record<string, string>> = {
  // np.savetxt('W.txt', np.array([[1, 2], [3, 4.5]]))
  'W.txt': '1.000000000000000000e+00 2.000000000000000000e+00\n3.000000000000000000e+00 4.500000000000000000e+00\n',
  // np.savetxt('Wh.txt', W, header='first second')
  'Wh.txt':
    '# first second\n1.000000000000000000e+00 2.000000000000000000e+00\n' +
    '3.000000000000000000e+00 4.500000000000000000e+00\n',
  // np.savetxt('Wc.txt', W, delimiter=',', fmt='%g', header='a,b')
  'Wc.txt': '# a,b\n1,2\n3,4.5\n',
  // np.savetxt('x.txt', np.array([0.5, -1e-3, 2]))
  'x.txt': '5.000000000000000000e-01\n-1.000000000000000021e-03\n2.000000000000000000e+00\n',
  // Comments after numbers, blank lines, and a tab between them.
  'notes.txt': '# measured\n1 2   # first\n\n3\t4\n',
  // df.to_csv('data.csv'): a header whose first cell is empty, and the index column.
  'data.csv': ',price,volume\n0,1.5,10\n1,2.5,20\n2,3.5,30\n',
  // df.to_csv('plain.csv', index=False)
  'plain.csv': 'price,volume\n1.5,10\n2.5,20\n3.5,30\n',
  // A file read back without index_col and written again: pandas names the old index "Unnamed: 0".
  'unnamed.csv': 'Unnamed: 0,a,b\n0,1,2\n1,3,4\n',
  // Dates as the index, and a label with a comma, quoted.
  'dated.csv': 'date,"W[1,2]",b\n2024-01-01,1,2\n2024-01-02,3,4\n',
  'data.tsv': 'a\tb\n1\t2\n3\t4\n',
  'bad.txt': '1 2\n3 4\n5 abc\n',
  'ragged.csv': 'a,b\n1,2\n3\n',
  'empty-cell.csv': 'a,b\n1,2\n3,\n',
  'nan.txt': '1.000000000000000000e+00 nan\n-inf 2.000000000000000000e+00\n',
  'header-only.csv': 'a,b\n',
  'W.json': '[[1, 2],\n [3, 4.5]]\n',
  'scalar.txt': '2.5\n',
  'json.txt': '[[1, 2], [3, 4.5]]',
};

const run = async (args: string[]) => {
  const io = fakeIo({ files: FILES });
  const status = await main(args, io);
  return { status, out: io.out(), err: io.err() };
};

/** The value bound to `x` (read back from the JSON output of `sum(x)`). */
async function valueOf(binding: string, ...flags: string[]): Promise<unknown> {
  const { status, out, err } = await run(['sum(x)', '--at', `x=${binding}`, '--json', ...flags]);
  expect(err).toBe('');
  expect(status).toBe(0);
  return (JSON.parse(out) as { at: { x: unknown } }).at.x;
}

async function errorOf(binding: string): Promise<string> {
  const { status, out, err } = await run(['sum(x)', '--at', `x=${binding}`]);
  expect(status).toBe(2);
  expect(out).toBe('');
  expect(err).toMatch(/^error: [^\n]+\n$/);
  return err.trimEnd();
}

describe('numpy.savetxt', () => {
  it.each([
    [
      '@W.txt',
      [
        [1, 2],
        [3, 4.5],
      ],
    ],
    [
      '@Wh.txt',
      [
        [1, 2],
        [3, 4.5],
      ],
    ],
    [
      '@Wc.txt',
      [
        [1, 2],
        [3, 4.5],
      ],
    ],
    ['@x.txt', [0.5, -1e-3, 2]],
    [
      '@notes.txt',
      [
        [1, 2],
        [3, 4],
      ],
    ],
    ['@scalar.txt', 2.5],
    [
      '@json.txt',
      [
        [1, 2],
        [3, 4.5],
      ],
    ],
  ])('%s', async (binding, expected) => {
    expect(await valueOf(binding)).toEqual(expected);
  });

  it('a column by the names of its header comment, or by number', async () => {
    expect(await valueOf('@Wh.txt:second')).toEqual([2, 4.5]);
    expect(await valueOf('@Wc.txt:a')).toEqual([1, 3]);
    expect(await valueOf('@W.txt:2')).toEqual([2, 4.5]);
  });

  it('nan and inf as NumPy writes them, with --allow-nonfinite', async () => {
    expect(await valueOf('@nan.txt', '--allow-nonfinite')).toEqual([
      [1, 'NaN'],
      ['-Infinity', 2],
    ]);
    expect(await errorOf('@nan.txt')).toContain('add --allow-nonfinite');
  });
});

describe('CSV with a header row, as pandas writes it', () => {
  it.each([
    [
      '@plain.csv',
      [
        [1.5, 10],
        [2.5, 20],
        [3.5, 30],
      ],
    ],
    ['@plain.csv:volume', [10, 20, 30]],
    [
      '@data.csv',
      [
        [1.5, 10],
        [2.5, 20],
        [3.5, 30],
      ],
    ],
    ['@data.csv:price', [1.5, 2.5, 3.5]],
    [
      '@unnamed.csv',
      [
        [1, 2],
        [3, 4],
      ],
    ],
    ['@dated.csv:W[1,2]', [1, 3]],
    ['@dated.csv:b', [2, 4]],
    ['@data.tsv:b', [2, 4]],
    [
      '@data.tsv',
      [
        [1, 2],
        [3, 4],
      ],
    ],
  ])('%s', async (binding, expected) => {
    expect(await valueOf(binding)).toEqual(expected);
  });

  it('a JSON file keeps its meaning, line breaks and all', async () => {
    expect(await valueOf('@W.json')).toEqual([
      [1, 2],
      [3, 4.5],
    ]);
  });
});

describe('errors say which line and column could not be read', () => {
  it.each([
    ['@bad.txt', 'error: --at x (bad.txt): line 3, column 2: "abc" is not a number'],
    ['@ragged.csv', 'error: --at x (ragged.csv): line 3 has 1 column where line 1 has 2'],
    ['@empty-cell.csv', 'error: --at x (empty-cell.csv): line 3, column 2 is empty: give a number'],
    ['@header-only.csv', 'error: --at x (header-only.csv) has a header row but no numbers under it'],
    ['@plain.csv:price2', 'error: --at x (plain.csv) has no column "price2": its columns are "price", "volume"'],
    [
      '@W.txt:name',
      'error: --at x (W.txt) has no header row to find the column "name" in: give its number, from 1 to 2',
    ],
    ['@dated.csv', 'error: --at x (dated.csv): line 2, column 1: "2024-01-01" is not a number'],
    ['@missing.csv:a', 'error: --at x: cannot read missing.csv: no such file'],
  ])('%s', async (binding, message) => {
    expect(await errorOf(binding)).toBe(message);
  });
});

// The first case as a child (the installed command); the others through the same main in-process.
describe('the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacobian-values-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ['W.txt', 'bad.txt', 'data.csv']) writeFileSync(join(dir, name), FILES[name]!);

  it('reads a numpy.savetxt matrix: W*x with W from W.txt', () => {
    const result = runChild(['W*x', '--at', `W=@${join(dir, 'W.txt')}`, '--at', 'x=1,1', '--wrt', 'x', '--json']);
    expect(result.stderr).toBe('');
    expect((JSON.parse(result.stdout) as { jacobian: number[][] }).jacobian).toEqual([
      [1, 2],
      [3, 4.5],
    ]);
  });

  it('reads one named column of a pandas CSV', async () => {
    const result = await runInProcess(['sum(x.^2)', '--at', `x=@${join(dir, 'data.csv')}:price`, '--json']);
    expect(result.stderr).toBe('');
    expect((JSON.parse(result.stdout) as { value: number }).value).toBe(1.5 ** 2 + 2.5 ** 2 + 3.5 ** 2);
  });

  it('says the line and column of a number it cannot read', async () => {
    const path = join(dir, 'bad.txt');
    const result = await runInProcess(['sum(W)', '--at', `W=@${path}`]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`error: --at W (${path}): line 3, column 2: "abc" is not a number\n`);
  });
});
