/**
 * boundedLines: a batch's input split into lines, a run of them per chunk
 * read, whatever the chunks' boundaries (inside a line, between \r and \n,
 * inside a character of several bytes).
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedLines, fileChunks } from '../src/cli/io.js';

async function* chunks(bytes: Buffer, cuts: readonly number[]): AsyncGenerator<Buffer> {
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    yield bytes.subarray(start, Math.max(start, cut));
    start = Math.max(start, cut);
  }
  yield bytes.subarray(start);
}

const refusal = (bytes: number, line?: number) => new Error(`line ${line} over ${bytes}`);

async function read(text: string, cuts: readonly number[], bytes = 1 << 20): Promise<string[]> {
  const lines: string[] = [];
  for await (const run of boundedLines(chunks(Buffer.from(text), cuts), { bytes, refuse: refusal })) {
    expect(run.length).toBeGreaterThan(0);
    lines.push(...run);
  }
  return lines;
}

describe('boundedLines', () => {
  it('gives the lines of the text, wherever the chunks end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'é', '{"x":1}', '\r\n', '\n', '\r', '𝑥'), { maxLength: 30 }),
        fc.array(fc.nat({ max: 120 }), { maxLength: 8 }),
        async (pieces, cuts) => {
          const text = pieces.join('');
          const expected = text.split(/\r?\n/);
          if (expected.at(-1) === '') expected.pop();
          // A last line without a newline loses a \r that ends it too.
          else if (expected.length > 0) expected.push(expected.pop()!.replace(/\r$/, ''));
          expect(await read(text, cuts)).toEqual(expected);
        },
      ),
      { seed: 15, numRuns: 500 },
    );
  });

  it('gives the lines before the first line over the limit, then its refusal with its number, wherever the chunks end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'bcd', '{"x":1}', '\r\n', '\n', '\r', 'é'), { maxLength: 30 }),
        fc.array(fc.nat({ max: 120 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 12 }),
        async (pieces, cuts, bytes) => {
          const text = pieces.join('');
          // Each line's bytes, a \r before its \n included, as the limit counts them.
          const raw = text.split('\n');
          if (raw.at(-1) === '') raw.pop();
          const over = raw.findIndex((line) => Buffer.byteLength(line) > bytes);
          const expected = (over < 0 ? raw : raw.slice(0, over)).map((line) => line.replace(/\r$/, ''));
          const lines: string[] = [];
          const reading = (async () => {
            for await (const run of boundedLines(chunks(Buffer.from(text), cuts), { bytes, refuse: refusal }))
              lines.push(...run);
          })();
          if (over < 0) await reading;
          else await expect(reading).rejects.toThrow(`line ${over + 1} over ${bytes}`);
          expect(lines).toEqual(expected);
        },
      ),
      { seed: 16, numRuns: 500 },
    );
  });

  it('gives the lines before a line over the limit, then its refusal with its number', async () => {
    const lines: string[] = [];
    const source = boundedLines(chunks(Buffer.from('ab\ncd\nefghij\nk\n'), [4, 9]), { bytes: 3, refuse: refusal });
    await expect(
      (async () => {
        for await (const run of source) lines.push(...run);
      })(),
    ).rejects.toThrow('line 3 over 3');
    expect(lines).toEqual(['ab', 'cd']);
  });

  it('reads a file of several chunks whole, and a device by streaming it', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'jacobian-lines-'));
    try {
      // Lines of many lengths, so that chunks end inside lines and inside a character of several bytes.
      const expected = Array.from({ length: 4000 }, (_, k) => `{"x":${k},"é":"${'𝑥'.repeat(k % 23)}"}`);
      const path = join(folder, 'points.jsonl');
      writeFileSync(path, `${expected.join('\r\n')}\n`);
      const lines: string[] = [];
      let runs = 0;
      for await (const run of boundedLines(fileChunks(path), { bytes: 1 << 20, refuse: refusal })) {
        lines.push(...run);
        runs++;
      }
      expect(lines).toEqual(expected);
      expect(runs).toBeGreaterThan(2);
      const none: string[] = [];
      for await (const run of boundedLines(fileChunks('/dev/null'), { bytes: 1 << 20, refuse: refusal }))
        none.push(...run);
      expect(none).toEqual([]);
      await expect(fileChunks(join(folder, 'missing')).next()).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(folder, { recursive: true });
    }
  });
});
