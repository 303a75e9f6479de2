/**
 * Golden tests of the command line: the cases run main in-process (standard
 * input a pipe holding the case's); a real pipe and the colour variables run
 * as a user runs them, `node bin/jacobian.cjs` in a child process (so build
 * first: npm run build).
 *
 * Each case is fixtures/cli/NAME.json:
 *   { "description": "...", "args": [...], "stdin": "optional", "env": { optional, null removes } }
 * and its expected standard output is fixtures/cli/NAME.out, byte for byte.
 * Every case runs with NO_COLOR=1 unless its env says otherwise, must exit 0
 * and write nothing on standard error. Data files the cases read live in
 * fixtures/cli/data/ (paths are relative to the repository root).
 *
 * To add a case, write NAME.json; to accept new output after a deliberate
 * change, regenerate the .out files and review them with git diff:
 *
 *   npm run build && UPDATE_GOLDEN=1 npx vitest run test/cli.golden.test.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo, ROOT, runChild, runInProcess } from './helpers/cli.js';

interface GoldenCase {
  readonly description: string;
  readonly args: readonly string[];
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string | null>>;
}

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const DIR = join(ROOT, 'fixtures', 'cli');
const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();
const ESC = '\u001b';

function loadCase(name: string): GoldenCase {
  return JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as GoldenCase;
}

describe('golden CLI output (fixtures/cli)', () => {
  it('has the cases and every .out belongs to a case', () => {
    expect(NAMES.length).toBeGreaterThanOrEqual(12);
    const orphans = readdirSync(DIR).filter((f) => f.endsWith('.out') && !NAMES.includes(f.slice(0, -'.out'.length)));
    expect(orphans).toEqual([]);
  });

  for (const name of NAMES) {
    const golden = loadCase(name);
    // The same main in-process, standard input a pipe holding the case's (the real pipe below is a child process).
    // Each reads and writes only its own files: they run side by side.
    it.concurrent(`${name}: ${golden.description}`, async () => {
      const result = await runInProcess(golden.args, {
        ...(golden.stdin === undefined ? {} : { stdin: golden.stdin }),
        ...(golden.env === undefined ? {} : { env: golden.env }),
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const outPath = join(DIR, `${name}.out`);
      if (UPDATE) {
        writeFileSync(outPath, result.stdout);
      } else {
        expect(existsSync(outPath), `${name}.out is missing: run with UPDATE_GOLDEN=1 to write it`).toBe(true);
        expect(result.stdout).toBe(readFileSync(outPath, 'utf8'));
      }
      expect(result.stdout.endsWith('\n')).toBe(true);
      if (golden.env?.FORCE_COLOR === undefined) expect(result.stdout).not.toContain(ESC);
      if (golden.args.includes('--json')) {
        expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
        expect(() => JSON.parse(result.stdout) as unknown).not.toThrow();
      }
    });
  }

  it('the real pipe `jacobian … --json | jacobian vjp … --json` gives what vjp gives directly', () => {
    const pipe = 'node bin/jacobian.cjs "x*2" --at 1,2,3 --json | node bin/jacobian.cjs vjp --v 0.1,1,0.0001 --json';
    const shell = spawnSync('bash', ['--norc', '--noprofile', '-c', pipe], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(shell.stderr).toBe('');
    expect(shell.status).toBe(0);
    expect(shell.stdout).toBe(readFileSync(join(DIR, 'vjp-json.out'), 'utf8'));
  });
});

describe('colours', () => {
  const args = ['x*2', '--at', '1,2'];

  it('FORCE_COLOR=1 dims the zeros (ANSI dim, ESC[2m) even through a pipe', () => {
    const result = runChild(args, { env: { NO_COLOR: null, FORCE_COLOR: '1' } });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    // Both off-diagonal zeros, and only they, are dimmed.
    const dimmed = [...result.stdout.matchAll(/\u001b\[2m\s*([^\u001b]*?)\u001b\[22m/g)].map((m) => m[1]);
    expect(dimmed).toEqual(['0', '0']);
  });

  it('NO_COLOR=1 output has no escape codes', () => {
    const result = runChild(args, { env: { NO_COLOR: '1' } });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('x[1]');
    expect(result.stdout).not.toContain(ESC);
  });

  it('NO_COLOR=1 turns colours off even on a terminal (in-process, stdout a TTY)', async () => {
    const coloured = fakeIo({ stdoutIsTTY: true });
    expect(await main(args, coloured)).toBe(0);
    expect(coloured.out()).toContain(`${ESC}[2m`);
    const plain = fakeIo({ stdoutIsTTY: true, env: { NO_COLOR: '1' } });
    expect(await main(args, plain)).toBe(0);
    expect(plain.out()).not.toContain(ESC);
    // Colours change nothing but the escape codes.
    expect(coloured.out().replace(/\u001b\[\d+m/g, '')).toBe(plain.out());
  });
});
