/**
 * GradBench's gmm eval: `objective`, the log posterior of a Gaussian mixture with a Wishart prior
 * (ADBench's), and `jacobian`, its gradient by alpha, mu, q and l, as {alpha, mu, q, l} in their shapes.
 */
import { readFileSync } from 'node:fs';

const MODEL = readFileSync(new URL('../models/gmm.txt', import.meta.url), 'utf8');

/** Standard normal samples by Box–Muller from a uniform stream. */
const normal = (random) => () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/**
 * The eval's run.py: d ∈ {2, 10, 20, 32, 64} × k ∈ {5, 10, 25, 50, 100}, n = 1000, m = 0, gamma = 1,
 * smallest d·k first; x, q, l and alpha standard normal, mu uniform in [0, 1).
 */
export function cases(sizes, random) {
  const gaussian = normal(random);
  const shapes =
    sizes === 'small'
      ? [
          [2, 5, 100],
          [4, 3, 30],
        ]
      : [2, 10, 20, 32, 64]
          .flatMap((d) => [5, 10, 25, 50, 100].map((k) => [d, k, 1000]))
          .sort((a, b) => a[0] * a[1] - b[0] * b[1]);
  const matrix = (rows, cols, sample) => Array.from({ length: rows }, () => Array.from({ length: cols }, sample));
  return shapes.flatMap(([d, k, n]) => {
    const input = {
      d,
      k,
      n,
      x: matrix(n, d, gaussian),
      m: 0,
      gamma: 1,
      mu: matrix(k, d, random),
      q: matrix(k, d, gaussian),
      l: matrix(k, (d * (d - 1)) / 2, gaussian),
      alpha: Array.from({ length: k }, gaussian),
    };
    const label = `d=${d},k=${k},n=${n}`;
    return [
      { label, function: 'objective', input },
      { label, function: 'jacobian', input },
    ];
  });
}

/** log Γ(z) for z > 0 (Lanczos, g = 7): the Wishart prior's normalising constant, which no derivative reaches. */
function logGamma(z) {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  let sum = c[0];
  for (let i = 1; i < g + 2; i++) sum += c[i] / (z - 1 + i);
  const t = z - 0.5 + g;
  return 0.5 * Math.log(2 * Math.PI) + (z - 0.5) * Math.log(t) - t + Math.log(sum);
}

/** log Γ_p(a), the multivariate gamma function. */
const logMultivariateGamma = (a, p) =>
  (p * (p - 1) * Math.log(Math.PI)) / 4 +
  Array.from({ length: p }, (_, j) => logGamma(a - j / 2)).reduce((s, v) => s + v, 0);

const rows = (matrix) => matrix.map((row) => Float64Array.from(row));

function compiler(library) {
  const compiled = new Map();
  return (input) => {
    const { d, k, n, m, gamma } = input;
    const shape = {
      x: [n, d],
      alpha: [k],
      mu: [k, d],
      q: [k, d],
      l: [k, (d * (d - 1)) / 2],
      m: [],
      gamma: [],
      logGammaD: [],
    };
    const key = JSON.stringify(shape);
    if (!compiled.has(key)) compiled.set(key, library.compile(MODEL, shape));
    const at = {
      x: rows(input.x),
      alpha: Float64Array.from(input.alpha),
      mu: rows(input.mu),
      q: rows(input.q),
      l: rows(input.l),
      m,
      gamma,
      logGammaD: logMultivariateGamma((d + m + 1) / 2, d),
    };
    return { model: compiled.get(key), at };
  };
}

export function define(library) {
  const prepare = compiler(library);
  return {
    objective(input) {
      const { model, at } = prepare(input);
      return () => model.evaluate(at);
    },
    jacobian(input) {
      const { model, at } = prepare(input);
      return () => {
        const { alpha, mu, q, l } = model.grad(at, { wrt: ['alpha', 'mu', 'q', 'l'] }).blocks;
        return { alpha, mu, q, l };
      };
    },
  };
}
