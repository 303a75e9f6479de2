// npm run gradbench -- EVAL [--sizes small|full|largest] [--min-runs N] [--min-seconds S] [--save-fixture]
//
// Plays the eval's side of GradBench's protocol locally: makes the eval's inputs
// (evals/EVAL.mjs), runs them through PyTorch (torch_ref.py) when /usr/bin/python3 has
// torch, then sends them to the tool (tool.mjs, a child process), checks every output
// against the reference with GradBench's rule (answering with an analysis message, as
// GradBench's evals do) and prints a table per case. Without
// torch, the small cases are checked against fixtures/gradbench/EVAL.jsonl. Exit 1 if any
// output is invalid. --save-fixture writes that file from the small cases and torch's outputs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkOutput } from './check.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const PYTHON = '/usr/bin/python3';

function usage(message) {
  process.stderr.write(
    `error: ${message}\nusage: npm run gradbench -- EVAL [--sizes small|full|largest] [--min-runs N] [--min-seconds S] [--save-fixture]\n`,
  );
  process.exit(2);
}

function parseArguments(argv) {
  const options = { sizes: 'small', minRuns: undefined, minSeconds: undefined, saveFixture: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${argument} needs a value`));
    if (argument === '--sizes') options.sizes = value();
    else if (argument === '--min-runs') options.minRuns = Number(value());
    else if (argument === '--min-seconds') options.minSeconds = Number(value());
    else if (argument === '--save-fixture') options.saveFixture = true;
    else if (argument.startsWith('--')) usage(`unknown option ${argument}`);
    else positional.push(argument);
  }
  if (positional.length !== 1) usage('name one eval');
  if (!['small', 'full', 'largest'].includes(options.sizes)) usage('--sizes is small, full or largest');
  if (options.saveFixture) options.sizes = 'small';
  // GradBench's evals default to one run and at least a second; small sizes only check validity.
  options.minRuns ??= 1;
  options.minSeconds ??= options.sizes === 'small' ? 0 : 1;
  if (!(Number.isInteger(options.minRuns) && options.minRuns > 0)) usage('--min-runs is a positive integer');
  if (!(options.minSeconds >= 0)) usage('--min-seconds is a number of seconds');
  return { evalName: positional[0], ...options };
}

/** A seeded generator (Park–Miller), so inputs are the same in every run. */
function generator(seed) {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

/** A child process spoken to in JSON lines: `request(object)` resolves with its next line, parsed. */
function lineProcess(command, args) {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code) => {
    for (const { reject } of waiting.splice(0)) reject(new Error(`${command} exited (${code}) before answering`));
  });
  return {
    request(message) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(message)}\n`);
      });
    },
    send: (message) => child.stdin.write(`${JSON.stringify(message)}\n`),
    close: () =>
      new Promise((resolve) => {
        child.on('close', resolve);
        child.stdin.end();
      }),
  };
}

const median = (values) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const withRuns = (input, options) =>
  typeof input === 'object' && input !== null && !Array.isArray(input)
    ? { ...input, min_runs: options.minRuns, min_seconds: options.minSeconds }
    : input;

/** The verdict on one of our responses against its reference (undefined when there is none). */
function verdictOf(response, reference) {
  if (!response.success) return `failed: ${response.error}`;
  if (reference === undefined) return 'no reference';
  const problem = checkOutput(response.output, reference);
  return problem === undefined ? 'valid' : `invalid: ${problem}`;
}

/** Our tool through the whole protocol, as GradBench's evals speak it: an analysis after each evaluate. */
async function runOurs(evalName, cases, references, options) {
  const tool = lineProcess(process.execPath, [join(HERE, 'tool.mjs')]);
  let id = 0;
  await tool.request({ id: id++, kind: 'start', eval: evalName });
  const defined = await tool.request({ id: id++, kind: 'define', module: evalName });
  if (!defined.success) throw new Error(`define ${evalName}: ${defined.error}`);
  const results = [];
  for (const [i, c] of cases.entries()) {
    const message = {
      id: id++,
      kind: 'evaluate',
      module: evalName,
      function: c.function,
      input: withRuns(c.input, options),
    };
    const response = await tool.request({ ...message, description: c.label });
    const verdict = verdictOf(response, references[i]);
    if (response.success) {
      const analysis = { id: id++, kind: 'analysis', of: message.id, valid: verdict === 'valid' };
      await tool.request(
        verdict === 'valid' || verdict === 'no reference' ? analysis : { ...analysis, error: verdict },
      );
    }
    results.push({ response, verdict });
    process.stderr.write('.');
  }
  tool.send({ id: id++, kind: 'end' });
  await tool.close();
  process.stderr.write('\n');
  return results;
}

function hasTorch() {
  return spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

async function runTorch(evalName, cases, options) {
  const torch = lineProcess(PYTHON, [join(HERE, 'torch_ref.py')]);
  const responses = [];
  for (const c of cases) {
    responses.push(await torch.request({ eval: evalName, function: c.function, input: withRuns(c.input, options) }));
    process.stderr.write('t');
  }
  await torch.close();
  process.stderr.write('\n');
  return responses;
}

const fixturePath = (evalName) => join(ROOT, 'fixtures', 'gradbench', `${evalName}.jsonl`);

/** Reference outputs saved for the small cases, found by function and input. */
function fixtureOutputs(evalName) {
  const path = fixturePath(evalName);
  if (!existsSync(path)) return new Map();
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return new Map(lines.map((line) => [JSON.stringify([line.function, line.input]), line.output]));
}

const ms = (nanoseconds) => (Number.isFinite(nanoseconds) ? (nanoseconds / 1e6).toPrecision(3) : '—');

function printTable(rows) {
  const header = ['case', 'function', 'ours ms', 'prepare ms', 'torch ms', 'torch/ours', 'check'];
  const table = [header, ...rows];
  const widths = header.map((_, j) => Math.max(...table.map((row) => String(row[j]).length)));
  for (const row of table) {
    console.log(
      row.map((cell, j) => (j < 2 ? String(cell).padEnd(widths[j]) : String(cell).padStart(widths[j]))).join('  '),
    );
  }
}

/** The eval's cases; `largest` keeps, of the full sizes (smallest first), the last case of each function. */
function casesOf(evalModule, sizes) {
  const cases = evalModule.cases(sizes === 'small' ? 'small' : 'full', generator(31337));
  if (sizes !== 'largest') return cases;
  const last = new Map(cases.map((c) => [c.function, c]));
  return cases.filter((c) => last.get(c.function) === c);
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const modulePath = join(HERE, 'evals', `${options.evalName}.mjs`);
  if (!existsSync(modulePath)) usage(`no eval module bench/gradbench/evals/${options.evalName}.mjs`);
  const evalModule = await import(pathToFileURL(modulePath).href);
  const cases = casesOf(evalModule, options.sizes);
  const torchHere = hasTorch();
  if (options.saveFixture && !torchHere) usage('--save-fixture needs /usr/bin/python3 with torch');

  const torch = torchHere ? await runTorch(options.evalName, cases, options) : [];
  const saved = torchHere ? new Map() : fixtureOutputs(options.evalName);
  const references = cases.map((c, i) => torch[i]?.output ?? saved.get(JSON.stringify([c.function, c.input])));
  const ours = await runOurs(options.evalName, cases, references, options);

  let invalid = 0;
  const rows = cases.map((c, i) => {
    const { response, verdict: ourVerdict } = ours[i];
    const theirs = torch[i];
    const verdict = ourVerdict === 'no reference' && theirs?.error ? `no reference: ${theirs.error}` : ourVerdict;
    const evaluateTimes = (response.timings ?? []).filter((t) => t.name === 'evaluate').map((t) => t.nanoseconds);
    const prepare = (response.timings ?? []).find((t) => t.name === 'prepare')?.nanoseconds;
    const oursMedian = median(evaluateTimes);
    const torchMedian = theirs?.nanoseconds ? median(theirs.nanoseconds) : NaN;
    if (verdict !== 'valid' && verdict !== 'no reference') invalid++;
    const ratio = Number.isFinite(torchMedian) && oursMedian > 0 ? `${(torchMedian / oursMedian).toFixed(2)}×` : '—';
    return [c.label, c.function, ms(oursMedian), ms(prepare), ms(torchMedian), ratio, verdict];
  });
  console.log(
    `${options.evalName} (${options.sizes} sizes, min_runs ${options.minRuns}, min_seconds ${options.minSeconds})`,
  );
  printTable(rows);

  if (options.saveFixture) {
    const lines = cases.map((c, i) => {
      if (torch[i].error !== undefined) throw new Error(`torch failed on ${c.label} ${c.function}: ${torch[i].error}`);
      return JSON.stringify({ function: c.function, input: c.input, output: torch[i].output });
    });
    writeFileSync(fixturePath(options.evalName), `${lines.join('\n')}\n`);
    console.log(`wrote fixtures/gradbench/${options.evalName}.jsonl (${lines.length} cases)`);
  }
  process.exitCode = invalid > 0 ? 1 : 0;
}

main().catch((error) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
