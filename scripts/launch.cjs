// Starts the bundled CLI with V8's code cache for it (written by scripts/bundle.mjs), so that
// Node skips compiling the bundle's functions at every start. Without a usable cache
// (another Node version, a missing file) V8 compiles as usual.
const { readFileSync } = require('node:fs');
const { wrap } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

function load() {
  const file = join(__dirname, '..', 'dist', 'jacobian.cjs');
  let cachedData;
  try {
    cachedData = readFileSync(join(__dirname, '..', 'dist', 'jacobian.cache'));
  } catch {
    return require(file);
  }
  const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, require, module, file, join(__dirname, '..', 'dist'));
  return module.exports;
}

module.exports = { load };
