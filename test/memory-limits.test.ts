/**
 * --max-memory bounds the whole run: the forward plan's values, the passes'
 * buffers and the result are estimated and refused before they are
 * allocated, for Jacobians and for vector results alike, and large outputs
 * are written in chunks instead of being built as one text. The cases where
 * allocating first (or building the whole text) would crash run in a child
 * process under a 4 GB address-space limit (or a 24 MB heap); those whose
 * sizes are small run main in-process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grad, hvp, jvp, LimitError, vjp } from '../src/index.js';
import { runInProcess, type ChildResult } from './helpers/cli.js';
import { sh, type Shell } from './helpers/shell.js';

/** A user error: exit 2, nothing on standard output, one `error:` line matching `pattern`, no stack trace. */
function expectRefusal(result: Shell | ChildResult, pattern: RegExp): void {
  if ('signal' in result) expect(result.signal).toBeNull();
  expect(result.stderr).not.toMatch(/\n\s+at |internal error|RangeError|heap out of memory/);
  expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(pattern)]);
  expect(result.stderr).toMatch(/^error: /);
  expect(result.stdout).toBe('');
  expect(result.status).toBe(2);
}

const dir = mkdtempSync(join(tmpdir(), 'jacobian-memory-'));
/** A file of `count` numbers as a JSON list, in the temporary directory; its path. */
function numbersFile(name: string, count: number): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(Array.from({ length: count }, (_, k) => (k % 7) / 7)));
  return path;
}

const X100K = numbersFile('x100k.json', 100_000);
const X20K = numbersFile('x20k.json', 20_000);
const X700 = numbersFile('x700.json', 700);

/** `sum(sin(x*1.5)+sin(x*2.5)+…)`: `terms` intermediates the size of x, each with its partial. */
function manyIntermediates(terms: number): string {
  const path = join(dir, `terms${terms}.txt`);
  writeFileSync(path, `sum(${Array.from({ length: terms }, (_, k) => `sin(x*${k + 1}.5)`).join('+')})`);
  return path;
}

const PARTS = /\(values [\d.]+ [KMG]iB, passes [\d.]+ [KMG]iB, result [\d.]+ [KMG]iB\)/;

describe.concurrent('--max-memory counts the buffers of the passes, before they are allocated', () => {
  it('intermediates of a long expression over a large x are refused at the limit given', async () => {
    const result = await runInProcess([
      'grad',
      '-f',
      manyIntermediates(300),
      '--at',
      `x=@${X100K}`,
      '--max-memory',
      '64MB',
    ]);
    expectRefusal(result, /^error: the gradient \(100000 entries\) needs [\d.]+ GiB /);
    expect(result.stderr).toMatch(PARTS);
    expect(result.stderr).toMatch(/more than the limit of 61 MiB \(raise it with --max-memory, or use smaller values/);
  });

  it('and at the default limit, under a 4 GB address space: refused, not crashed', async () => {
    // 1000 terms over 100 000 entries: gigabytes of values, more again for the passes.
    const result = await sh(`$J grad -f ${manyIntermediates(1000)} --at x=@${X100K}`);
    expectRefusal(result, /^error: the gradient \(100000 entries\) needs [\d.]+ GiB .*more than the limit of 4 GiB/);
  });

  it('a Jacobian counts its passes beside J', async () => {
    // J is 8 KB; the plan over 100 000-entry intermediates is not.
    const result = await runInProcess([
      'jac',
      'x[1:1000].*sum(x.^2)',
      '--at',
      `x=@${X100K}`,
      '--wrt',
      'x',
      '--max-memory',
      '2MB',
    ]);
    expectRefusal(result, /needs [\d.]+ [KMG]iB, more than the limit of 1.91 MiB|needs [\d.]+ MiB \(values/);
  });
});

describe.concurrent('vector results count against --max-memory', () => {
  it('grad and vjp of a 20 000-entry x are refused under 100 KB', async () => {
    expectRefusal(
      await runInProcess(['grad', 'sum(x.^2)', '--at', `x=@${X20K}`, '--max-memory', '100KB']),
      /^error: the gradient \(20000 entries\) needs [\d.]+ MiB \(values .*, result 156 KiB\), more than the limit of 97.7 KiB/,
    );
    expectRefusal(
      await runInProcess(['vjp', 'sum(x.^2)', '--v', '1', '--at', `x=@${X20K}`, '--max-memory', '100KB']),
      /^error: the vector-Jacobian product \(20000 entries\) needs [\d.]+ [KM]iB /,
    );
  });

  it('jvp and hvp, their values and seeds on standard input, are refused under 100 KB', async () => {
    const numbers = Array.from({ length: 20_000 }, () => 1);
    const piped = (expr: string) => ({ stdin: JSON.stringify({ expr, at: { x: numbers }, u: numbers }) });
    expectRefusal(
      await runInProcess(['jvp', '--max-memory', '100KB'], piped('x.^2')),
      /^error: the Jacobian-vector product \(20000 entries\) needs [\d.]+ [KM]iB /,
    );
    expectRefusal(
      await runInProcess(['hvp', '--max-memory', '100KB'], piped('sum(x.^3)')),
      /^error: the Hessian-vector product \(20000 entries\) needs [\d.]+ [KM]iB .*more than the limit of 97.7 KiB/,
    );
  });

  it('the same sizes pass at the default limit', async () => {
    const result = await runInProcess(['grad', 'sum(x.^2)', '--at', `x=@${X20K}`, '--json']);
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { grad: number[] }).grad).toHaveLength(20_000);
  });

  it('the library refuses the same with maxMemoryBytes', async () => {
    const x = Array.from({ length: 20_000 }, (_, k) => k / 20_000);
    const options = { maxMemoryBytes: 100_000 };
    const refusal =
      /needs [\d.]+ [KM]iB \(values .*\), more than the limit of 97.7 KiB \(raise it with the option maxMemoryBytes/;
    expect(() => grad('sum(x.^2)', { x }, options)).toThrow(LimitError);
    expect(() => grad('sum(x.^2)', { x }, options)).toThrow(refusal);
    expect(() => vjp('sum(x.^2)', { x }, [1], options)).toThrow(refusal);
    expect(() => jvp('x.^2', { x }, x, options)).toThrow(refusal);
    expect(() => hvp('sum(x.^3)', { x }, x, options)).toThrow(refusal);
    // Under the limit, the same call computes.
    expect(grad('sum(x.^2)', { x: x.slice(0, 10) }, options).grad).toHaveLength(10);
  });
});

describe.concurrent('large outputs are written in chunks, never held whole', () => {
  // A heap of 24 MB holds Node and the program, not 490 000 formatted entries at once: their text (6 MB as a table,
  // 8 MB as MatrixMarket or CSV, 16 MB as JSON) with the program's own does not fit (each of the four outputs,
  // written whole, ran out of heap at 24 MB in every run). At 16 MB the streamed outputs too ran out now and then on a
  // loaded machine (the suite's other files), the collector falling behind the garbage. The collector on the
  // process's own thread: its helper threads, slowed by such a machine, let garbage outrun them.
  const NODE_IN_24_MB = '$NODE --max-old-space-size=24 --single-threaded-gc';
  const run = (format: string) =>
    sh(`${NODE_IN_24_MB} bin/jacobian.cjs jac 'x*sum(x)' --at x=@${X700} ${format} | wc -l`);

  it('a 700×700 J as MatrixMarket', async () => {
    const result = await run('--format mtx');
    expect(result.stderr).toBe('');
    // The banner, two comments, the size line, then one line per entry.
    expect(Number(result.stdout.trim())).toBe(4 + 700 * 700);
  });

  it('a 700×700 J as a table', async () => {
    const result = await run('');
    expect(result.stderr).toBe('');
    // The header lines, the column labels, then a line per row.
    expect(Number(result.stdout.trim())).toBeGreaterThan(701);
  });

  it('a 700×700 J as CSV and as JSON, whole', async () => {
    const [csv, json] = await Promise.all(
      ['--format csv', '--json'].map((format) =>
        sh(`${NODE_IN_24_MB} bin/jacobian.cjs jac 'x*sum(x)' --at x=@${X700} ${format}`),
      ),
    );
    expect(csv!.stderr).toBe('');
    expect(csv!.stdout.split('\n')).toHaveLength(702);
    expect(json!.stderr).toBe('');
    const report = JSON.parse(json!.stdout) as { jacobian: number[][]; blocks: { x: number[][] } };
    expect(report.jacobian).toHaveLength(700);
    expect(report.blocks.x).toHaveLength(700);
    // Entry by entry in a loop: toEqual on 490 000 entries costs a quarter of a second.
    const differing = report.blocks.x.findIndex(
      (row, i) =>
        row.length !== 700 ||
        report.jacobian[i]!.length !== 700 ||
        row.some((entry, j) => !Object.is(entry, report.jacobian[i]![j])),
    );
    expect(differing).toBe(-1);
  });
});

describe.concurrent('the expression is bounded while it is read', () => {
  it('plain text on standard input is refused at --max-expr-length, not read whole', async () => {
    // An endless expression: reading it all would never end, and the timeout would fail the test.
    expectRefusal(
      await sh(`yes x+ | $J grad --at x=1`),
      /^error: standard input is longer than --max-expr-length \(100000 characters\)/,
    );
  });

  it('JSON on standard input may still hold values up to --max-input', async () => {
    const stdin = JSON.stringify({ expr: 'sum(x)', at: { x: Array.from({ length: 100_000 }, () => 1) } });
    const result = await runInProcess(['grad', '--json'], { stdin });
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { value: number }).value).toBe(100_000);
  });

  it('a many-term expression is refused by --max-nodes as the graph grows', async () => {
    const path = join(dir, 'many-terms.txt');
    // 2000 distinct terms, 6001 nodes: six times the limit.
    writeFileSync(path, Array.from({ length: 2000 }, (_, k) => `x*${k + 1}.5`).join('+'));
    expectRefusal(
      await runInProcess(['grad', '-f', path, '--at', 'x=1', '--max-nodes', '1000']),
      /^error: the compute graph needs more than 1000 nodes \(raise the limit with --max-nodes\)$/,
    );
  });
});
