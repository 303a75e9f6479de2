// npm run check:package: the package as a user gets it. Packs the tarball (which builds it), checks
// what it ships, installs it into an empty project, and there runs require('jacobian'), import and
// the `jacobian` command; then checks that `npm install` would not rewrite package-lock.json.
// Slow (an npm install), so CI runs it from .ci/run rather than in npm test.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'jacobian-package-'));
const failures = [];
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const node = (args, cwd = work) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' });

function check(what, test) {
  try {
    const problem = test();
    if (problem) failures.push(`${what}: ${problem}`);
    console.log(`${problem ? 'FAIL' : 'ok  '} ${what}${problem ? `: ${problem}` : ''}`);
  } catch (error) {
    failures.push(`${what}: ${error.message}`);
    console.log(`FAIL ${what}: ${error.message}`);
  }
}

try {
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], root));
  const files = packed.files.map((f) => f.path);
  const tarball = join(work, packed.filename);

  check('the tarball ships no test file, fixture or source map', () => {
    const unwanted = files.filter((f) => /(^|\/)(test|fixtures|user-check)\/|\.map$|^src\//.test(f));
    return unwanted.length > 0 && `ships ${unwanted.join(', ')}`;
  });
  check('the tarball ships the command, both library entries, their types and the LICENSE', () => {
    const needed = ['LICENSE', 'README.md', 'bin/jacobian.cjs', 'scripts/launch.cjs', 'dist/jacobian.cjs'];
    needed.push('dist/index.cjs', 'dist/index.mjs', 'dist/src/index.d.ts');
    const missing = needed.filter((f) => !files.includes(f));
    return missing.length > 0 && `misses ${missing.join(', ')}`;
  });

  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), '{ "name": "user", "version": "1.0.0", "private": true }\n');
  npm(['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], project);

  check("require('jacobian') works", () => {
    const script = "console.log(JSON.stringify(require('jacobian').jacobian('x*2', { x: [1, 2] }).jacobian))";
    const out = node(['-e', script], project);
    return out.trim() !== '[[2,0],[0,2]]' && `printed ${out.trim()}`;
  });
  check("import 'jacobian' works", () => {
    const script =
      "import { vjp } from 'jacobian'; console.log(JSON.stringify(vjp('x*2', { x: [1, 2] }, [1, 1]).vjp));";
    const out = node(['--input-type=module', '-e', script], project);
    return out.trim() !== '[2,2]' && `printed ${out.trim()}`;
  });
  check('the jacobian command runs', () => {
    const out = node([join(project, 'node_modules', '.bin', 'jacobian'), 'x*2', '--at', '1,2', '--json'], project);
    return !out.includes('"jacobian":[[2,0],[0,2]]') && `printed ${out.trim()}`;
  });

  check('npm install would not rewrite package-lock.json', () => {
    const copy = join(work, 'lock');
    mkdirSync(copy);
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(root, file), join(copy, file));
    npm(['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], copy);
    const same =
      readFileSync(join(copy, 'package-lock.json'), 'utf8') === readFileSync(join(root, 'package-lock.json'), 'utf8');
    return !same && 'it changes: regenerate it with npm install --package-lock-only (npm 11)';
  });
} catch (error) {
  failures.push(error.message);
  console.log(`FAIL ${error.message}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failures.length === 0 ? 'package: ok' : `package: ${failures.length} failed`);
process.exitCode = failures.length === 0 ? 0 : 1;
