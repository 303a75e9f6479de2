/** What the .npy and .npz tests share: the fixtures of scripts/oracle/npy.py, a folder for -o, the CLI runs. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const fixture = (name: string): Uint8Array => readFileSync(join(ROOT, 'fixtures', 'npy', name));

// The formulas of scripts/oracle/npy.py: entry (i, j) of a matrix is i * 10 + j + 0.5, entry k of a vector k + 0.25.
export const matrix = (rows: number, cols: number): number[] =>
  Array.from({ length: rows * cols }, (_, k) => Math.floor(k / cols) * 10 + (k % cols) + 0.5);
export const vector = (n: number): number[] => Array.from({ length: n }, (_, k) => k + 0.25);

/** Runs `body` with a new temporary folder (`file` names a file in it), removed afterwards. */
export async function inTemporaryFolder(
  prefix: string,
  body: (file: (name: string) => string, folder: string) => Promise<void>,
): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  try {
    await body((name) => join(folder, name), folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The arguments writing, in `format` to `path`, J of polar coordinates at r = 2, t = 0.7 (3×2). */
export const polarJacobianArgs = (format: string, path: string): string[] => [
  '[r*cos(t), r*sin(t), r]',
  '--at',
  'r=2',
  '--at',
  't=0.7',
  '--format',
  format,
  '-o',
  path,
];

/** The arguments writing, in `format` to `path`, H of x₁²x₂ at x = (1, 3). */
export const hessianArgs = (format: string, path: string): string[] => [
  'hessian',
  'x[1]^2*x[2]',
  '--at',
  'x=1,3',
  '--format',
  format,
  '-o',
  path,
];
