/**
 * What the CLI takes as a file's size (its --max-input refusal before reading, a default batch's estimate of the
 * lines left): a regular file's bytes; nothing for a pipe or a device, whose size (0) says nothing of what it
 * will give, so that a batch read from a FIFO is judged as a stream.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { regularFileSize } from '../src/cli/io.js';

const dir = mkdtempSync(join(tmpdir(), 'jacobian-file-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('regularFileSize', () => {
  it("is a regular file's bytes, and undefined for a FIFO, a device or a missing file", () => {
    const file = join(dir, 'points.jsonl');
    writeFileSync(file, '{"x":1}\n{"x":2}\n');
    expect(regularFileSize(file)).toBe(16);
    const fifo = join(dir, 'points.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(regularFileSize(fifo)).toBeUndefined();
    expect(regularFileSize('/dev/null')).toBeUndefined();
    expect(regularFileSize(join(dir, 'missing.jsonl'))).toBeUndefined();
  });
});
