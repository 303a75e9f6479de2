/**
 * What `npm pack` would ship, from the built tree (npm run build): what users
 * need and nothing else. The full check, an install of the tarball into an
 * empty project, is `npm run check:package` (slow: CI runs it from .ci/run).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

interface Manifest {
  readonly license: string;
  readonly main: string;
  readonly types: string;
  readonly bin: Readonly<Record<string, string>>;
  readonly exports: { readonly '.': Readonly<Record<string, string>> };
  readonly bundleDependencies?: unknown;
  readonly bundledDependencies?: unknown;
}

/** npm-packlist's entry: the paths `npm pack` ships from a package's tree (here, the root alone). */
type PackList = (tree: {
  path: string;
  package: Manifest;
  isProjectRoot: boolean;
  edgesOut: Map<string, unknown>;
  children: Map<string, unknown>;
}) => Promise<string[]>;

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
/**
 * The packed paths, as npm lists them: npm-packlist, the module `npm pack` lists them with, from the npm that runs
 * the tests, called in this process (`npm pack --dry-run` would load all of npm for the same list: 1.5 s of
 * processor time against 0.2). The package bundles no dependency, so the tree the list is made from is its root
 * alone. Where that npm's modules are not found, `npm pack --dry-run` lists them. In a hook rather than as the file
 * loads: vitest counts a hook in the file's time, by which it orders the files, and not the load.
 */
let files: string[] = [];
beforeAll(async () => {
  expect(manifest.bundleDependencies ?? manifest.bundledDependencies).toBeUndefined();
  const npm =
    process.env['npm_execpath'] ??
    join(dirname(realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  let packlist: PackList | undefined;
  try {
    packlist = createRequire(npm)('npm-packlist') as PackList;
  } catch {
    packlist = undefined;
  }
  if (packlist !== undefined) {
    files = await packlist({
      path: ROOT,
      package: manifest,
      isProjectRoot: true,
      edgesOut: new Map(),
      children: new Map(),
    });
    return;
  }
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
  ) as [{ files: { path: string }[] }];
  files = packed.files.map((f) => f.path);
});
const strip = (path: string) => path.replace(/^\.\//, '');

describe('the package tarball', () => {
  it('ships no test, fixture or source file, no source map, and not the CLI’s unbundled modules', () => {
    expect(files.filter((f) => /(^|\/)(test|fixtures|user-check)\/|^src\/|\.map$|^dist\/src\/cli\//.test(f))).toEqual(
      [],
    );
  });

  it('ships the command, the file of every entry point, and the LICENSE', () => {
    const entries = [
      ...Object.values(manifest.bin),
      manifest.main,
      manifest.types,
      ...Object.values(manifest.exports['.']),
    ].map(strip);
    expect(entries).toEqual(expect.arrayContaining(['dist/index.cjs', 'dist/index.mjs']));
    for (const file of [...entries, 'scripts/launch.cjs', 'dist/jacobian.cjs', 'LICENSE', 'README.md'])
      expect(files).toContain(file);
  });

  it('has an MIT LICENSE, as the manifest says', () => {
    expect(manifest.license).toBe('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) \d{4} jacobian contributors\n/,
    );
  });

  it('every declaration file it ships imports only modules it ships', () => {
    const imported = files
      .filter((f) => f.endsWith('.d.ts'))
      .flatMap((f) =>
        [...readFileSync(join(ROOT, f), 'utf8').matchAll(/from '(\.[^']+)\.js'/g)].map(
          (m) => `${join(f, '..', m[1]!)}.d.ts`,
        ),
      );
    expect(imported).toContain('dist/src/api.d.ts');
    expect(imported.filter((d) => !files.includes(d))).toEqual([]);
  });
});
