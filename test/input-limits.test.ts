/**
 * Endless and unsized inputs (devices, pipes, standard input, batch lines)
 * hold --max-input and --max-expr-length: stat says 0 for them, so only a
 * count of the bytes read can. Standard input and pipes are read by a child
 * process under a 4 GB address-space limit, so that reading everything first
 * would crash (or never end, which the timeout turns into a failure) instead
 * of passing; files and devices by the same reader in-process.
 */
import { constants as bufferConstants } from 'node:buffer';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeIo, runInProcess, type ChildResult } from './helpers/cli.js';
import { sh, type Shell } from './helpers/shell.js';
import { boundedLines } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { DEFAULT_MAX_INPUT_BYTES } from '../src/cli/options.js';
import { inputLimit } from '../src/cli/request.js';

/** A user error: exit 2, nothing on standard output, one `error:` line matching `pattern`, no stack trace. */
function expectRefusal(result: Shell | ChildResult, pattern: RegExp): void {
  if ('signal' in result) expect(result.signal).toBeNull();
  expect(result.stderr).not.toMatch(/\n\s+at |internal error|RangeError/);
  expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(pattern)]);
  expect(result.stderr).toMatch(/^error: /);
  expect(result.status).toBe(2);
}

const LARGER = /is larger than --max-input \(1 MiB\)/;

describe.concurrent('--max-input holds for every input, counted as it is read', () => {
  it('value files that are devices: /dev/zero and /dev/urandom', async () => {
    // In-process: a file, even a device, is read by the process's own reader (readBounded), here as there.
    for (const device of ['/dev/zero', '/dev/urandom']) {
      const result = await runInProcess(['x*2', '--at', `x=@${device}`, '--max-input', '1MiB']);
      expectRefusal(result, LARGER);
      expect(result.stdout).toBe('');
    }
  });

  it('a value file that is an endless pipe', async () => {
    const result = await sh(`yes 1, | $J 'x*2' --at x=@/dev/stdin --max-input 1MiB`);
    expectRefusal(result, LARGER);
  });

  it('standard input holding the expression, from a device or an endless pipe', async () => {
    // Plain text is an expression: below --max-expr-length's 300 000 bytes, --max-input holds.
    expectRefusal(await sh(`$J --at x=1 --max-input 100KiB < /dev/zero`), /standard input is larger than --max-input/);
    expectRefusal(await sh(`yes x | $J --at x=1 --max-input 100KiB`), /standard input is larger than --max-input/);
  });

  it('-f FILE and -f - are bounded by --max-expr-length on the bytes read', async () => {
    const LONGER = /is longer than --max-expr-length \(100000 characters\)/;
    for (const device of ['/dev/zero', '/dev/urandom'])
      expectRefusal(await runInProcess(['-f', device, '--at', 'x=1']), LONGER);
    expectRefusal(await sh(`$J -f - --at x=1 < /dev/zero`), LONGER);
    expectRefusal(await sh(`yes x+ | $J -f - --at x=1`), /standard input is longer than --max-expr-length/);
    // The smaller of the two limits holds.
    expectRefusal(
      await runInProcess(['-f', '/dev/zero', '--at', 'x=1', '--max-input', '1KiB']),
      /is larger than --max-input \(1 KiB\)/,
    );
  });
});

/**
 * The default limit, without paging in 512 MiB per case (about 4 s of processor time each here): the counting
 * readers above hold any limit they are given; these show which one they are given by default and what it says.
 */
/** The options of a run without flags. */
const NO_FLAGS = { at: [] };

describe("the default --max-input is 512 MiB, held where Node's longest string is shorter", () => {
  it("is the README's 512 MiB, and a string holds less than that", () => {
    expect(DEFAULT_MAX_INPUT_BYTES).toBe(512 * 2 ** 20);
    expect(inputLimit('standard input', NO_FLAGS).bytes).toBe(DEFAULT_MAX_INPUT_BYTES);
    expect(Math.min(bufferConstants.MAX_STRING_LENGTH, bufferConstants.MAX_LENGTH)).toBeLessThan(
      DEFAULT_MAX_INPUT_BYTES,
    );
  });

  it('an endless line at the default limit is refused at the longest string, saying so', async () => {
    // One chunk of zeros given again and again: the line's parts share its memory, so nothing is paged in.
    const chunk = Buffer.alloc(1 << 20);
    let given = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        given += chunk.length;
        yield chunk;
      }
    }
    const lines = boundedLines(endless(), inputLimit('--batch', NO_FLAGS));
    await expect(lines.next()).rejects.toThrow(
      /^--batch: line 1 is longer than 512 MiB, the most text Node can hold: give less$/,
    );
    // Refused at the first chunk past the longest string, not at the end of the input.
    expect(given).toBe(512 * 2 ** 20);
    expect(inputLimit('standard input', NO_FLAGS).refuse(bufferConstants.MAX_STRING_LENGTH).message).toBe(
      'standard input is larger than 512 MiB, the most text Node can hold: give less',
    );
  });
});

describe.concurrent('batch lines', () => {
  it('a line without end is refused with exit 2, after the lines before it', async () => {
    expectRefusal(
      await runInProcess(['x*2', '--batch', '/dev/zero', '--max-input', '1MiB']),
      /--batch: line 1 is longer than --max-input/,
    );
    const result = await sh(`(printf '{"x":1}\\n'; cat /dev/zero) | $J 'x*2' --batch - --max-input 1MiB`);
    expectRefusal(result, /--batch: line 2 is longer than --max-input \(1 MiB\)/);
    expect(result.stdout.trimEnd().split('\n')).toEqual([expect.stringContaining('"jacobian":[[2]]')]);
  });

  it('every input line gets exactly one output line; a blank one an error line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jacobian-batch-'));
    const points = join(dir, 'points.jsonl');
    writeFileSync(points, '{"x":1}\n\n   \r\n{"x":3}\n');
    const result = await runInProcess(['x*2', '--batch', points]);
    expect(result.status).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('"jacobian":[[2]]');
    expect(JSON.parse(lines[1]!)).toEqual({ line: 2, error: expect.stringMatching(/^blank line/) });
    expect(JSON.parse(lines[2]!)).toEqual({ line: 3, error: expect.stringMatching(/^blank line/) });
    expect(lines[3]).toContain('"jacobian":[[2]]');
    // The same through standard input, and with a last line that has no newline.
    const piped = await runInProcess(['x*2', '--batch', '-'], { stdin: '\n{"x":2}' });
    expect(piped.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^\{"line":1,"error":"blank line/),
      expect.stringContaining('"jacobian":[[2]]'),
    ]);
  });

  it('in-process, a blank line is an error line and the final newline ends the last line', async () => {
    const io = fakeIo({ files: { 'p.jsonl': '{"x":1}\n\n{"x":2}\n' } });
    expect(await main(['x*2', '--batch', 'p.jsonl'], io)).toBe(1);
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[1]!)).toEqual({ line: 2, error: expect.stringMatching(/^blank line/) });
  });
});
