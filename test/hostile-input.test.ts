/**
 * Hostile input, as issue 13 found it: control characters echoed to the
 * terminal, files with a byte order mark, messages that said `[object
 * Object]` or repeated themselves, and batches cut mid-line by a signal.
 * Child processes for signals and for one escaped error line; the rest runs
 * main in-process with files on disk and the process's own line reader.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runChildAsync, runInProcess, spawnUnread } from './helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'jacobian-hostile-'));
afterAll(() => spawnSync('rm', ['-rf', work]));

/** A file in the work folder, by its bytes. */
function file(name: string, content: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

// C0 (but tab and line breaks), DEL and C1: what a terminal acts on.
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

/** The lines of standard error, each checked to hold no control character. */
function errorLines(stderr: string): string[] {
  expect(stderr.endsWith('\n')).toBe(true);
  const lines = stderr.slice(0, -1).split('\n');
  for (const line of lines) expect(line, JSON.stringify(line)).not.toMatch(CONTROL);
  return lines;
}

describe.concurrent('control characters from the input are escaped on standard error', () => {
  it.each([
    ['ESC', 'x + "\x1b[31m" + )', '\\x1b'],
    ['BEL', 'x + "\x07" + )', '\\x07'],
    ['a C1 control (CSI)', 'x + "\u009b2J" + )', '\\x9b'],
  ])('%s in a syntax error, with the caret under the escaped column', async (_what, expr, escape) => {
    // The ESC case as a child too: the bytes that reach a real standard error are the escaped ones.
    const child = expr.includes('\x1b') ? await runChildAsync([expr, '--at', 'x=1']) : null;
    const run = await runInProcess([expr, '--at', 'x=1']);
    if (child !== null) expect(child).toEqual(run);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    const lines = errorLines(run.stderr);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^error: syntax error/);
    expect(lines[1]).toContain(escape);
    // The caret points at the ) of the echoed (escaped) expression, as mathjs's column does in the raw one.
    expect(lines[1]!.slice(lines[2]!.indexOf('^'))).toBe(')');
  });

  it('NUL, which only standard input can give', async () => {
    const run = await runInProcess(['--at', 'x=1'], { stdin: JSON.stringify({ expr: 'x + "\x00" + )' }) });
    const lines = errorLines(run.stderr);
    expect(lines[1]).toBe('  x + "\\x00" + )');
    expect(lines[1]!.slice(lines[2]!.indexOf('^'))).toBe(')');
  });

  it('a control character mathjs stops at is where the caret points', async () => {
    const lines = errorLines((await runInProcess(['x + \x1b[2J', '--at', 'x=1'])).stderr);
    expect(lines[1]!.slice(lines[2]!.indexOf('^'))).toMatch(/^\\x1b/);
  });

  it('an unbound name with ESC in it, and NUL in an --at value', async () => {
    const unbound = await runInProcess(['x + y\x1b[2J']);
    expect(unbound.status).toBe(2);
    errorLines(unbound.stderr);
    const value = await runInProcess(['x*2', '--at', 'x=1\x1b[2J,2']);
    expect(value.status).toBe(2);
    expect(errorLines(value.stderr)[0]).toContain('\\x1b');
  });

  it('a CSV batch warns of a bad line without its control characters', async () => {
    const batch = file('controls.jsonl', '{"x":1}\n{"x":"\\u001b[2J\\u0007"}\n');
    const run = await runInProcess(['x*2', '--batch', batch, '--format', 'csv']);
    expect(run.status).toBe(1);
    const [warning] = errorLines(run.stderr);
    expect(warning).toMatch(/^warning: line 2 left out: "x" must be numbers, got "\\u001b/);
  });

  it("a file's content is quoted as a short prefix", async () => {
    const long = file('long.csv', `1,${'a'.repeat(5000)}\x1b\n1,2\n`);
    const cell = await runInProcess(['x*2', '--at', `x=@${long}`]);
    expect(cell.status).toBe(2);
    expect(errorLines(cell.stderr)[0]!.length).toBeLessThan(200);
    const string = file('string.json', JSON.stringify(['\x1b'.repeat(3) + 'b'.repeat(5000)]));
    const run = await runInProcess(['x*2', '--at', `x=@${string}`]);
    expect(run.status).toBe(2);
    const [line] = errorLines(run.stderr);
    expect(line!.length).toBeLessThan(200);
    expect(line).toContain('…');
    const token = file('token.txt', `1 ${'c'.repeat(5000)}\n`);
    const number = await runInProcess(['x*2', '--at', `x=@${token}`]);
    expect(number.status).toBe(2);
    expect(errorLines(number.stderr)[0]!.length).toBeLessThan(200);
  });
});

describe.concurrent('a byte order mark opens any text input', () => {
  const BOM = '\ufeff';

  it.each([
    ['a JSON value file', 'bom.json', `${BOM}[1,2]`],
    ['a CSV value file', 'bom.csv', `${BOM}1,2\n`],
    ['a text value file', 'bom.txt', `${BOM}1 2\n`],
  ])('%s', async (_what, name, content) => {
    const run = await runInProcess(['x*2', '--at', `x=@${file(name, content)}`, '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ at: { x: [1, 2] } });
  });

  it('-f FILE, JSON on standard input and a batch', async () => {
    const program = await runInProcess(['-f', file('bom.jx', `${BOM}x*2`), '--at', 'x=1', '--json']);
    expect(program.stderr).toBe('');
    expect(JSON.parse(program.stdout)).toMatchObject({ jacobian: [[2]] });
    const piped = await runInProcess(['--json'], { stdin: `${BOM}{"expr": "x*2", "at": {"x": 1}}` });
    expect(piped.stderr).toBe('');
    expect(JSON.parse(piped.stdout)).toMatchObject({ jacobian: [[2]] });
    for (const args of [
      ['--batch', file('bom.jsonl', `${BOM}{"x":1}\n`)],
      ['--batch', '-'],
    ]) {
      const batch = await runInProcess(['x*2', ...args], { stdin: `${BOM}{"x":3}\n` });
      expect(batch.stderr).toBe('');
      expect(batch.status).toBe(0);
      expect(JSON.parse(batch.stdout)).toMatchObject({ jacobian: [[2]] });
    }
  });
});

describe.concurrent('messages that say what is wrong', () => {
  it('a JSON object where numbers go is shown as JSON, not [object Object]', async () => {
    const run = await runInProcess(['x*2', '--at', `x=@${file('object.json', '{"a":1}')}`]);
    expect(run.stderr).toMatch(/^error: .* must be numbers, got an object \{"a":1\}\n$/);
    const batch = await runInProcess(['x*2', '--batch', '-'], { stdin: '{"x":{"a":1}}\n' });
    expect(batch.stdout).not.toContain('[object Object]');
    expect(JSON.parse(batch.stdout)).toEqual({ line: 1, error: '"x" must be numbers, got an object {"a":1}' });
  });

  it('a bad batch line says its line number once', async () => {
    const batch = file('bad.jsonl', '{"x":1}\n{"x":1}\n{"x":1}\n{"x":1}\n{"x":"a"}\n');
    const run = await runInProcess(['x*2', '--batch', batch, '--format', 'csv']);
    expect(run.stderr).toBe('warning: line 5 left out: "x" must be numbers, got "a"\n');
  });

  it.each([';', '# c', ' ; ; ', '# one\n# two'])('the program %j has no expression', async (expr) => {
    // The ESC case as a child too: the bytes that reach a real standard error are the escaped ones.
    const child = expr.includes('\x1b') ? await runChildAsync([expr, '--at', 'x=1']) : null;
    const run = await runInProcess([expr, '--at', 'x=1']);
    if (child !== null) expect(child).toEqual(run);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^error: the program has no expression/);
    expect(run.stderr).not.toContain('undefined');
  });

  it('rows of unequal length say so', async () => {
    const run = await runInProcess(['[x; y]', '--at', 'x=1,2', '--at', 'y=1,2,3']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('the rows of an array literal have different lengths, 2 and 3 entries');
    expect(run.stderr).not.toContain('dimensions');
  });
});

describe('a signal mid-batch with a slow reader', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s leaves only complete lines, and exits %d', async (signal, status) => {
    const { child, output } = spawnUnread(['x*2', '--batch', '-']);
    child.stdin.on('error', () => {});
    // Standard output is not read until after the signal: the pipe fills and the rest waits in the child. Long
    // lines (blanks after the point) and few of them: their 500 KB of output stays below the 1 MiB at which a
    // batch stops reading for its reader, so the child reads them all.
    const points = Array.from({ length: 2_000 }, (_, i) => `{"x":${i}}${' '.repeat(1000)}\n`).join('');
    // The callback comes once the pipe has taken the input: the child has read (and so worked through) most of it.
    // Standard input stays open until the child has exited: the signal is all that ends the batch (closed before the
    // child had handled the signal, the batch could end at the end of its input first, with exit 0).
    await new Promise<void>((resolve) => child.stdin.write(points, () => resolve()));
    child.kill(signal);
    const { out, status: exitStatus } = await output();
    child.stdin.end();
    expect(exitStatus).toBe(status);
    // More than a pipe holds: the case where a write was cut at 65 536 bytes.
    expect(out.length).toBeGreaterThan(1 << 17);
    expect(out.endsWith('\n')).toBe(true);
    const lines = out.slice(0, -1).split('\n');
    lines.forEach((line, k) => expect(JSON.parse(line), line).toMatchObject({ at: { x: k } }));
  });
});
