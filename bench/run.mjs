// The benchmark: `npm run bench` (after `npm run build`). Runs each workload in-process
// (engine time: median of several runs after a warm-up) and as a whole process (the
// installed command, --stats), prints a table, writes bench/results.json, and, when
// /usr/bin/python3 can import torch, runs torch_bench.py on the same workloads in the
// same run and prints torch/ours. Data files are generated into bench/data/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npyFile } from '../dist/src/cli/npy.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'bench', 'data');
const BIN = join(ROOT, 'bin', 'jacobian.cjs');
const quick = process.argv.includes('--quick');
// `--only SECTION` runs one section (its name is in its comment: `[name]`); bench/results.json is then not written.
const SECTIONS = ['startup', 'mlp', 'elem', 'rosen', 'engine', 'sparse', 'batch', 'hessian'];
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : null;
if (only !== null && !SECTIONS.includes(only)) {
  console.error(`error: --only takes one of ${SECTIONS.join(', ')}`);
  process.exit(2);
}
const wanted = (section) => only === null || only === section;
const RUNS = quick ? 5 : 15;
const WARMUPS = quick ? 3 : 5;

/** A seeded generator (Park–Miller), so the data are the same in every run. */
function generator(seed) {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

/** W, b and x of tanh(W*x+b) as JSON files, and the same numbers as NumPy .npy files (written by our own writer). */
function dataFiles(n) {
  mkdirSync(DATA, { recursive: true });
  const path = (name, ext) => join(DATA, `${name}${n}.${ext}`);
  const paths = { x: path('x', 'json'), W: path('W', 'json'), b: path('b', 'json') };
  const npy = { x: path('x', 'npy'), W: path('W', 'npy'), b: path('b', 'npy') };
  if (!existsSync(paths.W) || !existsSync(npy.W)) {
    const random = generator(1);
    const W = Float64Array.from({ length: n * n }, () => random() / n);
    const b = Float64Array.from({ length: n }, random);
    const x = Float64Array.from({ length: n }, random);
    const rows = Array.from({ length: n }, (_, i) => Array.from(W.subarray(i * n, (i + 1) * n)));
    writeFileSync(paths.W, JSON.stringify(rows));
    writeFileSync(paths.b, JSON.stringify(Array.from(b)));
    writeFileSync(paths.x, JSON.stringify(Array.from(x)));
    writeFileSync(npy.W, npyFile([n, n], W));
    writeFileSync(npy.b, npyFile([n], b));
    writeFileSync(npy.x, npyFile([n], x));
  }
  return { ...paths, npy };
}

function vectorFile(name, n, f) {
  mkdirSync(DATA, { recursive: true });
  const path = join(DATA, `${name}${n}.json`);
  if (!existsSync(path)) writeFileSync(path, JSON.stringify(Array.from({ length: n }, (_, i) => f(i))));
  return path;
}

/** The Rosenbrock function of sections [rosen] and [hessian], and its point x_i = cos(i), as a file. */
const ROSENBROCK = 'sum(100*(x[2:end]-x[1:end-1].^2).^2+(1-x[1:end-1]).^2)';
const rosenbrockPoint = (n) => vectorFile('xr', n, (i) => Math.cos(i));

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Engine time in milliseconds (median and best of RUNS after WARMUPS warm-ups), in a fresh process. */
function engineTime(workload, n, runs = RUNS, warmups = WARMUPS) {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, 'bench', 'engine.mjs'), workload, String(n), String(runs), String(warmups)],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`bench/engine.mjs ${workload} ${n} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** A whole run of the installed command; returns wall milliseconds and its --stats line. */
function processRun(args) {
  const start = performance.now();
  const result = spawnSync(process.execPath, [BIN, ...args, '--stats'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const wall = performance.now() - start;
  if (result.status !== 0) throw new Error(`jacobian ${args.join(' ')} failed: ${result.stderr}`);
  // A batch writes no --stats line; its peak memory comes from the operating system instead.
  const line = result.stderr.trim().split('\n').pop();
  return { wall, stats: line ? JSON.parse(line) : { maxRssMiB: null } };
}

function processTime(args, count = quick ? 2 : 3) {
  const runs = Array.from({ length: count }, () => processRun(args));
  return {
    ms: median(runs.map((r) => r.wall)),
    maxRssMiB: Math.max(...runs.map((r) => r.stats.maxRssMiB)),
    // Each part of --stats's ms, the median over the runs.
    parts: Object.fromEntries(
      Object.keys(runs[0].stats.ms ?? {}).map((k) => [k, median(runs.map((r) => r.stats.ms[k]))]),
    ),
  };
}

/**
 * Where a whole process's time went, from --stats: start-up is everything before reading the input and after
 * writing (starting Node, loading the bundle, the arguments); read includes parsing the expression.
 */
function split({ read, compile, engine, format, total }) {
  const startup = total - read - compile - engine - format;
  const parts = { 'start-up': startup, read, compile, engine, write: format };
  return Object.entries(parts)
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(', ');
}

/** Startup against bare node, measured alternately in one run. */
function startup() {
  const ours = [];
  const bare = [];
  for (let r = 0; r < (quick ? 7 : 21); r++) {
    let start = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    bare.push(performance.now() - start);
    start = performance.now();
    spawnSync(process.execPath, [BIN, 'x*2', '--at', '1,2,3'], { stdio: 'ignore' });
    ours.push(performance.now() - start);
  }
  return { ours: median(ours), bare: median(bare) };
}

const TORCH = '/usr/bin/python3';
const hasTorch = existsSync(TORCH) && spawnSync(TORCH, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/** PyTorch's seconds per variant for a workload, or null without torch; failures give their message. */
function torch(workload, n) {
  if (!hasTorch) return null;
  const result = spawnSync(TORCH, [join(ROOT, 'bench', 'torch_bench.py'), workload, String(n)], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (result.status !== 0) return { error: (result.stderr.trim().split('\n').pop() ?? 'failed').slice(0, 80) };
  return JSON.parse(result.stdout).seconds;
}

/** The whole-process time of PyTorch's 3×3 Jacobian of x*2 (import included). */
function torchStartup() {
  if (!hasTorch) return null;
  const script =
    'import torch\nfrom torch.autograd.functional import jacobian\nprint(jacobian(lambda x: x*2, torch.tensor([1.,2.,3.], dtype=torch.float64)))';
  const times = [];
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    spawnSync(TORCH, ['-c', script], { stdio: 'ignore' });
    times.push(performance.now() - start);
  }
  return median(times);
}

const bestTorch = (seconds) => {
  if (seconds === null || seconds.error !== undefined) return null;
  const numbers = Object.values(seconds).filter((s) => typeof s === 'number');
  return numbers.length === 0 ? null : Math.min(...numbers) * 1000;
};

const rows = [];
/**
 * Ratios torch/ours: PyTorch's best variant (torch_bench.py keeps the best of 3 runs) against
 * our median and our best engine time; for the start-up row, whole processes.
 */
function record(measured) {
  const ours = measured.engineMs ?? measured.processMs;
  const oursBest = measured.engineBestMs ?? measured.processMs;
  const row = {
    ...measured,
    ratio: measured.torchBestMs === null ? null : measured.torchBestMs / ours,
    ratioBest: measured.torchBestMs === null ? null : measured.torchBestMs / oursBest,
  };
  rows.push(row);
  const fmt = (x, digits = 1) => (x === null || x === undefined ? '—' : x.toFixed(digits));
  console.log(
    [
      row.workload.padEnd(22),
      String(row.n).padStart(7),
      fmt(row.engineMs, 2).padStart(10),
      fmt(row.engineBestMs, 2).padStart(9),
      fmt(row.processMs, 0).padStart(8),
      fmt(row.maxRssMiB, 0).padStart(5),
      fmt(row.torchBestMs, 1).padStart(9),
      (row.ratio === null ? '—' : `${row.ratio.toFixed(1)}×`).padStart(10),
      (row.ratioBest === null ? '—' : `${row.ratioBest.toFixed(1)}×`).padStart(9),
    ].join(' '),
  );
}

console.log(
  hasTorch
    ? `PyTorch: ${TORCH}. torch/ours: PyTorch's best variant (best of 3) over our median engine time; best/best: over our best run`
    : 'PyTorch not found: ours only',
);
console.log(
  [
    'workload'.padEnd(22),
    'n'.padStart(7),
    'engine ms'.padStart(10),
    'best ms'.padStart(9),
    'process'.padStart(8),
    'MiB'.padStart(5),
    'torch ms'.padStart(9),
    'torch/ours'.padStart(10),
    'best/best'.padStart(9),
  ].join(' '),
);

// 1. [startup] Start-up: the seed example as a whole process, against bare node and PyTorch.
if (wanted('startup')) {
  const start = startup();
  const torchProcess = torchStartup();
  record({
    workload: 'x*2 (whole process)',
    n: 3,
    engineMs: null,
    engineBestMs: null,
    processMs: start.ours,
    maxRssMiB: null,
    torchBestMs: torchProcess,
    bareNodeMs: start.bare,
  });
  console.log(
    `  start-up: ${start.ours.toFixed(1)} ms against bare node ${start.bare.toFixed(1)} ms (${(start.ours / start.bare).toFixed(2)}×)`,
  );
}

// 2. [mlp] tanh(W*x+b): a dense Jacobian; W and b read from files. At n = 1000 also with .npy in and out (issue
// 15: at most 0.2 s), with where its time goes.
for (const n of wanted('mlp') ? [300, 1000] : []) {
  const paths = dataFiles(n);
  const engine = engineTime('mlp', n);
  const atFiles = (files) => ['--at', `x=@${files.x}`, '--at', `W=@${files.W}`, '--at', `b=@${files.b}`, '--wrt', 'x'];
  const proc = processTime(['tanh(W*x+b)', ...atFiles(paths), '--json']);
  const torchMs = bestTorch(torch('mlp', n));
  record({
    workload: 'tanh(W*x+b)',
    n,
    engineMs: engine.ms,
    engineBestMs: engine.best,
    processMs: proc.ms,
    maxRssMiB: proc.maxRssMiB,
    torchBestMs: torchMs,
  });
  if (n !== 1000) continue;
  const npy = processTime(
    ['tanh(W*x+b)', ...atFiles(paths.npy), '--format', 'npy', '-o', join(DATA, `J${n}.npy`)],
    quick ? 3 : 7,
  );
  record({
    workload: 'tanh(W*x+b) .npy',
    n,
    engineMs: null,
    engineBestMs: null,
    processMs: npy.ms,
    maxRssMiB: npy.maxRssMiB,
    torchBestMs: null,
  });
  console.log(`  .npy in and out: ${npy.ms.toFixed(0)} ms against JSON ${proc.ms.toFixed(0)} ms; ${split(npy.parts)}`);
}

// 3. [elem] sin(x).*x+x.^2: a diagonal Jacobian. At n = 1000 also the derivative time a CLI user gets: --stats in a
// fresh process (cold code), beside PyTorch's best (issue 15: at least 3× faster).
for (const n of wanted('elem') ? [1000, 10_000] : []) {
  const path = vectorFile('xs', n, (i) => Math.sin(i + 1));
  const engine = engineTime('elem', n);
  // The dense JSON of the 10 000 × 10 000 case would be about 2 GB of text: its process run is the sparse one of issue 5.
  const proc =
    n <= 1000 ? processTime(['sin(x).*x+x.^2', '--at', `x=@${path}`, '--json']) : { ms: null, maxRssMiB: null };
  const torchMs = bestTorch(torch('elem', n));
  record({
    workload: 'sin(x).*x+x.^2',
    n,
    engineMs: engine.ms,
    engineBestMs: engine.best,
    processMs: proc.ms,
    maxRssMiB: proc.maxRssMiB,
    torchBestMs: torchMs,
  });
  if (n !== 1000) continue;
  const fresh = processTime(
    ['sin(x).*x+x.^2', '--at', `x=@${path}`, '--format', 'npy', '-o', join(DATA, `J-elem${n}.npy`)],
    quick ? 5 : 11,
  );
  const derivative = fresh.parts.derivative;
  rows.at(-1).freshDerivativeMs = derivative;
  rows.at(-1).freshRatio = torchMs === null ? null : torchMs / derivative;
  console.log(
    `  fresh process (--stats, median of ${quick ? 5 : 11}): derivative ${derivative.toFixed(2)} ms, ` +
      `forward ${fresh.parts.forward.toFixed(2)} ms` +
      (torchMs === null ? '' : `; PyTorch's best ${torchMs.toFixed(2)} ms: ${(torchMs / derivative).toFixed(1)}×`),
  );
}

// 4. [rosen] The Rosenbrock gradient: one backward pass.
for (const n of wanted('rosen') ? [1000, 100_000] : []) {
  const path = rosenbrockPoint(n);
  const expr = ROSENBROCK;
  const engine = engineTime('rosen', n);
  const proc = processTime(['grad', expr, '--at', `x=@${path}`, '--json']);
  const torchMs = bestTorch(torch('rosen', n));
  record({
    workload: 'Rosenbrock gradient',
    n,
    engineMs: engine.ms,
    engineBestMs: engine.best,
    processMs: proc.ms,
    maxRssMiB: proc.maxRssMiB,
    torchBestMs: torchMs,
  });
}

// 4b. [engine] Engine only (n is the matrix's side). inv(inv(X)) at 60×60, the default choice against forced one-hot
// backward passes (J is 3600×3600; seconds a run, so fewer runs; auto should stay within a small factor of the
// best forced mode); and the second derivatives of det at 30×30: H·u and the 900×900 Hessian.
for (const [workload, label, n, runs, warmups] of wanted('engine')
  ? [
      ['invinv', 'inv(inv(X)) auto', 60, quick ? 1 : 3, 1],
      ['invinv-reverse', 'inv(inv(X)) reverse', 60, quick ? 1 : 3, 1],
      ['hvp-det', 'hvp det(X)', 30, RUNS, WARMUPS],
      ['hessian-det', 'hessian det(X)', 30, RUNS, WARMUPS],
    ]
  : []) {
  const engine = engineTime(workload, n, runs, warmups);
  record({
    workload: label,
    n,
    engineMs: engine.ms,
    engineBestMs: engine.best,
    processMs: null,
    maxRssMiB: null,
    torchBestMs: null,
  });
}

// 5. [sparse] Sparse: sin(x).*x+x.^2 at n = 10⁶ as a whole process (--sparse: one colour, COO output).
if (wanted('sparse')) {
  const n = 1_000_000;
  const path = vectorFile('xs', n, (i) => Math.sin(i + 1));
  const proc = processTime(['sin(x).*x+x.^2', '--at', `x=@${path}`, '--sparse', '--json']);
  record({
    workload: 'sin(x).*x+x.^2 --sparse',
    n,
    engineMs: null,
    engineBestMs: null,
    processMs: proc.ms,
    maxRssMiB: proc.maxRssMiB,
    torchBestMs: null,
  });
}

// 6. [batch] A batch: 100 000 points of the Lorenz field through --batch, as a whole process.
if (wanted('batch')) {
  const points = 100_000;
  const path = join(DATA, `lorenz${points}.jsonl`);
  if (!existsSync(path)) {
    mkdirSync(DATA, { recursive: true });
    const random = generator(7);
    writeFileSync(
      path,
      `${Array.from({ length: points }, () => JSON.stringify({ x: 20 * random() - 10, y: 20 * random() - 10, z: 40 * random() })).join('\n')}\n`,
    );
  }
  const lorenz = [
    '[s*(y-x), x*(r-z)-y, x*y-b*z]',
    '--at',
    's=10',
    '--at',
    'r=28',
    '--at',
    'b=2.6667',
    '--wrt',
    'x,y,z',
    '--batch',
    path,
  ];
  // PyTorch: vmap(jacrev) and a batched backward pass over the same points, numbers only (torch/ours compares
  // those with our whole process, JSON read and written); and the same script reading and writing JSON Lines.
  let torchJsonlMs = null;
  let torchMs = null;
  if (hasTorch) {
    const result = spawnSync(TORCH, [join(ROOT, 'bench', 'torch_bench.py'), 'lorenz', String(points), path], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (result.status === 0) {
      const { seconds, withJsonl } = JSON.parse(result.stdout);
      torchMs = bestTorch(seconds);
      torchJsonlMs = bestTorch(withJsonl);
    }
  }
  // As a user runs it (without --jobs: threads only where they pay, none at this size), then one thread and two
  // (issue 15's target: 2 cores): the same output, in input order. There is no row without compiled kernels:
  // neither the command nor the library has an option that turns them off.
  for (const jobs of [null, 1, 2]) {
    const proc = processTime(jobs === null ? lorenz : [...lorenz, '--jobs', String(jobs)]);
    record({
      workload: jobs === null ? 'Lorenz batch, default threads' : `Lorenz batch, --jobs ${jobs}`,
      n: points,
      engineMs: null,
      engineBestMs: null,
      processMs: proc.ms,
      maxRssMiB: proc.maxRssMiB,
      torchBestMs: torchMs,
      torchJsonlMs,
    });
  }
  if (torchJsonlMs !== null)
    console.log(
      `  PyTorch's time is vmap(jacrev) alone; reading and writing the JSON Lines too: ${torchJsonlMs.toFixed(0)} ms`,
    );
}

// 7. [hessian] The sparse Rosenbrock Hessian (issue 15): whole processes (--sparse --json, --stats) at n = 10⁴ and
// 10⁶, and the engine time of a fresh program (pattern, colouring, 3 Hessian-vector products). PyTorch has no
// sparse Hessian: beside ours at n = 10⁴, its dense torch.autograd.functional.hessian (n backward passes, 0.8 GB
// for H; the largest n it does in seconds; vectorized needs about 7 GB there).
for (const n of wanted('hessian') ? [10_000, 1_000_000] : []) {
  const path = rosenbrockPoint(n);
  const expr = ROSENBROCK;
  const large = n > 100_000;
  const engine = engineTime('rosen-hessian', n, large ? 3 : RUNS, large ? 1 : WARMUPS);
  const proc = processTime(['hessian', expr, '--at', `x=@${path}`, '--sparse', '--json']);
  record({
    workload: 'Rosenbrock H --sparse',
    n,
    engineMs: engine.ms,
    engineBestMs: engine.best,
    processMs: proc.ms,
    maxRssMiB: proc.maxRssMiB,
    torchBestMs: n <= 10_000 ? bestTorch(torch('rosen-hessian', n)) : null,
  });
}

if (only === null) {
  const results = { date: new Date().toISOString(), node: process.version, torch: hasTorch, rows };
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('written: bench/results.json');
}
