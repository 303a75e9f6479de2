// `jacobian` as a GradBench tool: reads the eval's messages, one JSON object per line on
// standard input, and answers each with one JSON line carrying the same id (GradBench's
// protocol: start, define, evaluate, analysis; `end` gets no answer, as GradBench's evals
// read none, and the tool exits). An eval is the module evals/<module>.mjs (see README.md).
// Run: node bench/gradbench/tool.mjs (after `npm run build`).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The library as its CommonJS bundle: one file, the quickest to load. */
const LIBRARY = join(HERE, '..', '..', 'dist', 'index.cjs');
/** The fields of GradBench's `Runs` input; the tool honours them and the eval never sees them. */
const RUN_FIELDS = ['min_runs', 'min_seconds'];

/** Modules defined so far: name → { functionName: (input) => (() => output) }. */
const modules = new Map();
let library;

/** A Float64Array output is a JSON array of numbers (converted when answering, after the timed runs). */
const asJson = (_key, value) => (value instanceof Float64Array ? Array.from(value) : value);
const send = (response) => process.stdout.write(`${JSON.stringify(response, asJson)}\n`);
const messageOf = (error) => (error instanceof Error ? error.message : String(error));
const nanosecondsSince = (start) => Number(process.hrtime.bigint() - start);

function start(message) {
  return { id: message.id, tool: 'jacobian' };
}

async function define(message) {
  const name = message.module;
  if (typeof name !== 'string') return { id: message.id, success: false, error: 'define needs a "module" name' };
  const path = join(HERE, 'evals', `${name}.mjs`);
  if (!/^[a-z][a-z0-9_]*$/.test(name) || !existsSync(path)) {
    return { id: message.id, success: false, error: `jacobian does not implement the eval ${JSON.stringify(name)}` };
  }
  const begin = process.hrtime.bigint();
  library ??= createRequire(import.meta.url)(LIBRARY);
  const functions = (await import(pathToFileURL(path).href)).define(library);
  modules.set(name, functions);
  return { id: message.id, success: true, timings: [{ name: 'define', nanoseconds: nanosecondsSince(begin) }] };
}

/** The eval's input without the run counts; those as numbers (GradBench's defaults: one run, no minimum time). */
function splitRuns(input) {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { data: input, minRuns: 1, minSeconds: 0 };
  }
  const data = Object.fromEntries(Object.entries(input).filter(([key]) => !RUN_FIELDS.includes(key)));
  const minRuns = Number.isInteger(input.min_runs) && input.min_runs > 0 ? input.min_runs : 1;
  const minSeconds = typeof input.min_seconds === 'number' && input.min_seconds > 0 ? input.min_seconds : 0;
  return { data, minRuns, minSeconds };
}

function evaluate(message) {
  const { id, module, function: name } = message;
  const functions = modules.get(module);
  if (functions === undefined) {
    return { id, success: false, error: `the module ${JSON.stringify(module)} was not defined` };
  }
  if (typeof name !== 'string' || !Object.hasOwn(functions, name)) {
    return { id, success: false, error: `the module ${module} has no function ${JSON.stringify(name)}` };
  }
  if (!('input' in message)) return { id, success: false, error: 'evaluate needs an "input"' };
  const { data, minRuns, minSeconds } = splitRuns(message.input);
  try {
    const begin = process.hrtime.bigint();
    const run = functions[name](data);
    const timings = [{ name: 'prepare', nanoseconds: nanosecondsSince(begin) }];
    const output = timedRuns(run, minRuns, BigInt(Math.round(minSeconds * 1e9)), timings);
    return { id, success: true, output, timings };
  } catch (error) {
    return { id, success: false, error: messageOf(error) };
  }
}

/**
 * Runs `run` at least `minRuns` times and for at least `minNanoseconds`, appending one `evaluate` timing per run;
 * the last run's output.
 */
function timedRuns(run, minRuns, minNanoseconds, timings) {
  const first = process.hrtime.bigint();
  let output;
  for (let runs = 0; runs < minRuns || process.hrtime.bigint() - first < minNanoseconds; runs++) {
    const runStart = process.hrtime.bigint();
    output = run();
    timings.push({ name: 'evaluate', nanoseconds: nanosecondsSince(runStart) });
  }
  return output;
}

// The timing loop itself warmed before any message: its first pass (the clock's code, the calls, met for the
// first time) costs microseconds, which hello's one timed call of a tenth of a microsecond would measure. Warmed
// on several functions, not one: its call site then expects any function, and the first real one does not make
// V8 update what the site has seen (a call into the runtime) inside the timed region.
const HARNESS_WARM_RUNS = 1000;
for (const noop of [() => null, () => 0, () => '', () => [], () => ({})]) timedRuns(noop, HARNESS_WARM_RUNS, 0n, []);

/** The id of a line that is not a message, when one can be read from it, so the eval still gets an answer. */
function idIn(line) {
  const match = /"id"\s*:\s*(-?\d+)/.exec(line);
  return match === null ? undefined : Number(match[1]);
}

async function answer(message) {
  switch (message.kind) {
    case 'start':
      return start(message);
    case 'define':
      return define(message);
    case 'evaluate':
      return evaluate(message);
    case 'analysis':
      return { id: message.id };
    default:
      return { id: message.id, success: false, error: `unknown message kind ${JSON.stringify(message.kind)}` };
  }
}

async function main() {
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let message;
    try {
      message = JSON.parse(line);
    } catch (error) {
      const id = idIn(line);
      if (id === undefined) {
        process.stderr.write(
          `jacobian tool: a line that is not a JSON message, and no id to answer: ${messageOf(error)}\n`,
        );
        process.exitCode = 1;
        return;
      }
      send({ id, success: false, error: `not a JSON message: ${messageOf(error)}` });
      continue;
    }
    if (typeof message !== 'object' || message === null || !Number.isInteger(message.id)) {
      process.stderr.write('jacobian tool: a message without an integer "id"; stopping\n');
      process.exitCode = 1;
      return;
    }
    if (message.kind === 'end') return;
    try {
      send(await answer(message));
    } catch (error) {
      send({ id: message.id, success: false, error: messageOf(error) });
    }
  }
}

await main();
// An `end` or a bad line stops reading; exiting here also ends a standard input still open.
process.exit();
