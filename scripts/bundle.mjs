// Bundles the CLI into one CommonJS file, dist/jacobian.cjs: one file to load and
// only the parts of mathjs that parsing needs. Then runs it once in-process and
// saves V8's code cache, dist/jacobian.cache, which scripts/launch.cjs uses.
// Also bundles the library, as CommonJS (dist/index.cjs, for require('jacobian')) and as an ES module
// (dist/index.mjs, for import), each with mathjs's parser in it: one file to load, not mathjs's thousand.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { Script } from 'node:vm';
import { npyFile } from '../dist/src/cli/npy.js';

const file = new URL('../dist/jacobian.cjs', import.meta.url).pathname;
await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: file,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'eof',
  // The sources are ES modules; in the bundle, import.meta.url is this file's URL.
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__bundleUrl' },
  logLevel: 'warning',
});

// The library for require() and for import: its own code readable, and only the parts of mathjs that parsing needs
// (loading mathjs from node_modules took 0.45 s for require and 0.7 s for import; these files load in a tenth).
const library = {
  entryPoints: ['src/index.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
};
await build({
  ...library,
  outfile: new URL('../dist/index.cjs', import.meta.url).pathname,
  format: 'cjs',
  // import.meta.url is this file's URL here too: parallel.ts finds the product worker beside it.
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__bundleUrl' },
});
await build({ ...library, outfile: new URL('../dist/index.mjs', import.meta.url).pathname, format: 'esm' });

// The helper threads of large matrix products (src/ops/parallel.ts), of large fused loops (src/engine/threads.ts) and
// of large JSON arrays' numbers (src/format/shared-numbers.ts), beside the bundles, which start them from their URL.
for (const [entry, out] of [
  ['src/ops/product-worker.ts', 'product-worker.mjs'],
  ['src/engine/loop-worker.ts', 'loop-worker.mjs'],
  ['src/format/number-worker.ts', 'number-worker.mjs'],
]) {
  await build({
    entryPoints: [entry],
    outfile: new URL(`../dist/${out}`, import.meta.url).pathname,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    logLevel: 'warning',
  });
}

// A warm-up run compiles the functions a typical command needs; the cache then holds their code.
const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file });
const module = { exports: {} };
script
  .runInThisContext()
  .call(
    module.exports,
    module.exports,
    createRequire(file),
    module,
    file,
    new URL('../dist', import.meta.url).pathname,
  );
/** A float64 .npy file (npy.ts's writer, as np.save writes it) of entries k/7. */
const npy = (shape) =>
  npyFile(
    shape,
    Float64Array.from({ length: shape.reduce((product, n) => product * n, 1) }, (_, k) => k / 7),
  );
const files = { 'W.npy': npy([20, 20]), 'x.npy': npy([20]), 'b.npy': npy([20]) };
const quiet = {
  write() {},
  error() {},
  readStdin: async () => '',
  readFile: () => '',
  readBytes: (path) => files[path],
  writeFile() {},
  stdinIsTTY: true,
  stdoutIsTTY: false,
  env: {},
};
// The seed example, a vector product, and the block passes of a dense and a diagonal Jacobian (J has more than
// 256 entries) with .npy in and out and --stats, as the benchmark's whole-process runs use them.
for (const argv of [
  ['x*2', '--at', '1,2,3'],
  ['vjp', 'sin(x).*x', '--at', '1,2', '--v', '1,1', '--json'],
  ['tanh(W*x+b)', ...['--at', 'x=@x.npy', '--at', 'W=@W.npy', '--at', 'b=@b.npy', '--wrt', 'x'], '--stats'],
  ['sin(x).*x+x.^2', '--at', 'x=@x.npy', '--format', 'npy', '-o', 'J.npy', '--stats'],
  ['sin(x).*x+x.^2', '--at', 'x=@x.npy', '--json'],
]) {
  const status = await module.exports.main(argv, quiet);
  if (status !== 0) throw new Error(`the warm-up run jacobian ${argv.join(' ')} failed (exit ${status})`);
}
writeFileSync(new URL('../dist/jacobian.cache', import.meta.url), script.createCachedData());
