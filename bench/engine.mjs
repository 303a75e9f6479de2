// Engine time of one workload, in a fresh process so that workloads do not share a heap:
// `node bench/engine.mjs WORKLOAD N [RUNS WARMUPS]` prints {"ms": median, "best": fastest run}.
import { compileProgram } from '../dist/src/compile.js';

const [workload, nText, runsText = '9', warmupsText = '5'] = process.argv.slice(2);
const n = Number(nText);

/** A seeded generator (Park–Miller), the same data in every run. */
function generator(seed) {
  let state = seed;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}
const random = generator(1);
const vector = (f) => ({ shape: [n], data: Float64Array.from({ length: n }, (_, i) => f(i)) });

const WORKLOADS = {
  mlp: () => ({
    expr: 'tanh(W*x+b)',
    values: {
      W: { shape: [n, n], data: Float64Array.from({ length: n * n }, () => random() / n) },
      b: vector(random),
      x: vector(random),
    },
    wrt: ['x'],
    call: (program, point, wrt) => program.jacobian(point, wrt),
  }),
  elem: () => ({
    expr: 'sin(x).*x+x.^2',
    values: { x: vector((i) => Math.sin(i + 1)) },
    wrt: ['x'],
    call: (program, point, wrt) => program.jacobian(point, wrt),
  }),
  rosen: () => ({
    expr: 'sum(100*(x[2:end]-x[1:end-1].^2).^2+(1-x[1:end-1]).^2)',
    values: { x: vector((i) => Math.cos(i)) },
    wrt: ['x'],
    call: (program, point, wrt) => program.grad(point, wrt),
  }),
};

// The sparse Rosenbrock Hessian (issue 15): each call compiles afresh, so that it finds the pattern and its colouring
// again (a program keeps them), as a process does once.
WORKLOADS['rosen-hessian'] = () => {
  const x = vector((i) => Math.cos(i));
  const rosenbrock = WORKLOADS.rosen().expr;
  const shapes = new Map([['x', { shape: [n], value: x.data }]]);
  return {
    expr: rosenbrock,
    values: { x },
    wrt: ['x'],
    call: (_program, point, wrt) => compileProgram(rosenbrock, shapes).sparseHessian(point, wrt),
  };
};

/** A well-conditioned n×n matrix (diagonally dominant): the side is the workload's n. */
const squareMatrix = () => ({
  shape: [n, n],
  data: Float64Array.from({ length: n * n }, (_, k) => random() + (k % (n + 1) === 0 ? n : 0)),
});
// Matrix-valued chains (issue 13): the Jacobian of inv(inv(X)) by the default choice and by forced one-hot passes.
for (const mode of ['auto', 'reverse', 'forward']) {
  WORKLOADS[mode === 'auto' ? 'invinv' : `invinv-${mode}`] = () => ({
    expr: 'inv(inv(X))',
    values: { X: squareMatrix() },
    wrt: ['X'],
    call: (program, point, wrt) => program.jacobian(point, wrt, { mode }),
  });
}

// Second derivatives of det (issue 13): H·u at an n×n matrix, and the whole n²×n² Hessian.
WORKLOADS['hvp-det'] = () => {
  const u = Float64Array.from({ length: n * n }, random);
  return {
    expr: 'det(X)',
    values: { X: squareMatrix() },
    wrt: ['X'],
    call: (program, point, wrt) => program.hvp(point, u, wrt),
  };
};
WORKLOADS['hessian-det'] = () => ({
  expr: 'det(X)',
  values: { X: squareMatrix() },
  wrt: ['X'],
  call: (program, point, wrt) => program.hessian(point, wrt),
});

const { expr, values, wrt, call } = WORKLOADS[workload]();
const program = compileProgram(
  expr,
  new Map(Object.entries(values).map(([name, { shape, data }]) => [name, { shape, value: data }])),
);
const point = new Map(Object.entries(values).map(([name, { data }]) => [name, data]));
// Warm up until V8 has optimised the hot loops: at least WARMUPS calls, and up to 50 or half a second.
const warmupStart = performance.now();
for (let w = 0; w < Number(warmupsText) || (w < 50 && performance.now() - warmupStart < 500); w++)
  call(program, point, wrt);
const times = [];
for (let r = 0; r < Number(runsText); r++) {
  const start = performance.now();
  call(program, point, wrt);
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ ms: times[Math.floor(times.length / 2)], best: times[0] }));
