/**
 * GradBench's gmm eval: `objective`, the log posterior of a Gaussian mixture with a Wishart prior
 * (ADBench's), and `jacobian`, its gradient by alpha, mu, q and l, as {alpha, mu, q, l} in their shapes.
 */
import { readFileSync } from 'node:fs';
import { flat, modelCache } from '../model-cache.mjs';

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

/** The model for the input's shapes, the inputs as flat arrays. */
function compiler(library) {
  const models = modelCache(library, MODEL);
  return (name, input) => {
    const { d, k, n, m, gamma } = input;
    const shape = {
      x: [n, d],
      alpha: [k],
      mu: [k, d],
      q: [k, d],
      l: [k, (d * (d - 1)) / 2],
      m: [],
      gamma: [],
    };
    const { model, prepared } = models(name, shape);
    const at = {
      x: flat(input.x),
      alpha: Float64Array.from(input.alpha),
      mu: flat(input.mu),
      q: flat(input.q),
      l: flat(input.l),
      m,
      gamma,
    };
    return { model, at, prepared, k, d };
  };
}

export function define(library) {
  const prepare = compiler(library);
  return {
    objective(input) {
      const { model, at, prepared } = prepare('objective', input);
      return prepared(() => model.evaluateFlat(at)[0]);
    },
    jacobian(input) {
      const { model, at, prepared, k, d } = prepare('jacobian', input);
      const cols = (d * (d - 1)) / 2;
      // ∇f's entries in wrt order, each variable row-major: alpha (k), mu (k×d), q (k×d), l (k×cols).
      const rows = (g, from, width) =>
        Array.from({ length: k }, (_, i) => Array.from(g.subarray(from + i * width, from + (i + 1) * width)));
      return prepared(() => {
        const g = model.gradFlat(at, { wrt: ['alpha', 'mu', 'q', 'l'] }).grad;
        return {
          alpha: Array.from(g.subarray(0, k)),
          mu: rows(g, k, d),
          q: rows(g, k + k * d, d),
          l: rows(g, k + 2 * k * d, cols),
        };
      });
    },
  };
}
