// Starts the bundled CLI with V8's code cache for it (written by scripts/bundle.mjs), so that
// Node skips compiling the bundle's functions at every start. Without a usable cache
// (another Node version, a missing file) V8 compiles as usual. A batch's threads that will
// start at once are started first, to load beside the main thread.
const { readFileSync, statSync } = require('node:fs');
const { wrap } = require('node:module');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');
const { Script } = require('node:vm');
const { isMainThread, Worker } = require('node:worker_threads');

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

/** The value of an option given as `--name value` or `--name=value` before any `--`, or undefined. */
function optionValue(argv, name) {
  for (let k = 0; k < argv.length && argv[k] !== '--'; k++) {
    if (argv[k] === name) return argv[k + 1];
    if (argv[k].startsWith(`${name}=`)) return argv[k].slice(name.length + 1);
  }
  return undefined;
}

/** A file this long (per shard) makes a batch start its threads at once (src/cli/batch.ts's EARLY_THREADS_BYTES). */
const EARLY_THREADS_BYTES = 1 << 18;
/** Without --jobs, a file this long (per shard) does, a thread per core (batch.ts's DEFAULT_EARLY_THREADS_BYTES). */
const DEFAULT_EARLY_THREADS_BYTES = 1 << 22;

/**
 * The threads of a batch the arguments ask for, started now when the batch will start them at once (a long file,
 * more than one thread): they load the bundle while this thread does, where they would start after it. They are
 * unreferenced until the batch takes them, so that a run that ends sooner (an error) is not held by them.
 */
function earlyBatchThreads(argv) {
  const batch = optionValue(argv, '--batch');
  if (batch === undefined || batch === '-') return [];
  // Without --jobs, one thread per core, at once for a file long enough to pay for them surely (src/cli/batch.ts).
  const jobsText = optionValue(argv, '--jobs');
  const jobs = jobsText === undefined ? availableParallelism() : Number(jobsText);
  if (!Number.isInteger(jobs) || jobs < 2 || jobs > 1024) return [];
  const shards = Number(optionValue(argv, '--shard')?.split('/')[1] ?? 1);
  let size;
  try {
    size = statSync(batch).size;
  } catch {
    return [];
  }
  if (!(size >= (jobsText === undefined ? DEFAULT_EARLY_THREADS_BYTES : EARLY_THREADS_BYTES) * shards)) return [];
  return Array.from({ length: jobs - 1 }, () => {
    const worker = new Worker(module.filename, { workerData: { jacobianBatch: null } });
    worker.unref();
    // Its failure is the batch's to report, once it takes the thread; before, it is no one's.
    worker.on('error', () => {});
    return worker;
  });
}

/** Loads the CLI and runs it; a bundle that cannot be loaded is one error line, not Node's dump of its source. */
function start() {
  const early = earlyBatchThreads(process.argv.slice(2));
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
  cli.keepEarlyBatchThreads(early);
  cli.run(module.filename);
}

module.exports = { load, start };

// A batch's worker thread starts from this file too (the bundle is loaded with its code cache) and serves the batch.
if (require.main === module && !isMainThread) load().serveBatch();
