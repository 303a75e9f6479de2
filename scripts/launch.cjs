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

/** Loads the CLI and runs it; a bundle that cannot be loaded is one error line, not Node's dump of its source. */
function start() {
  let cli;
  try {
    cli = load();
  } catch (error) {
    process.stderr.write(
      `error: internal error: cannot load the program (${error.message.split('\n')[0]}); ` +
        'rebuild it with npm run build, or reinstall jacobian\n',
    );
    if (process.env.JACOBIAN_DEBUG === '1') process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
    return;
  }
  cli.run(module.filename);
}

module.exports = { load, start };

// A batch's worker thread starts from this file too (the bundle is loaded with its code cache) and serves the batch.
if (require.main === module && !require('node:worker_threads').isMainThread) load().serveBatch();
