// GradBench's ode eval: Runge–Kutta in s steps (models/ode.txt), and the gradient of the last
// entry of its result (one backward pass seeded with the last unit vector).
import { readFileSync } from 'node:fs';
import { compiledModels } from '../model-cache.mjs';

const MODEL = readFileSync(new URL('../models/ode.txt', import.meta.url), 'utf8');
/** run.py's default sizes: n ∈ {1000, 10 000, 100 000} × s ∈ {1, 10, 100}, by n·s; x uniform in [0, 1). */
const FULL = [1000, 10000, 100000]
  .flatMap((n) => [1, 10, 100].map((s) => [n, s]))
  .sort((a, b) => a[0] * a[1] - b[0] * b[1]);

export function cases(sizes, random) {
  return (sizes === 'small' ? [[10, 3]] : FULL).flatMap(([n, s]) => {
    const input = { x: Array.from({ length: n }, random), s };
    return ['primal', 'gradient'].map((name) => ({ label: `n=${n},s=${s}`, function: name, input }));
  });
}

export function define(library) {
  const models = compiledModels(library, MODEL);
  const prepare = (input) => {
    const x = Float64Array.from(input.x);
    return { model: models({ x: [x.length] }, { s: input.s }), at: { x } };
  };
  return {
    primal(input) {
      const { model, at } = prepare(input);
      // The first call builds the forward plan (and touches its buffer's pages): work done once per shape.
      model.evaluateFlat(at);
      return () => model.evaluateFlat(at);
    },
    gradient(input) {
      const { model, at } = prepare(input);
      const last = new Float64Array(at.x.length);
      last[last.length - 1] = 1;
      // The first call builds the plan and the linearisation: once per shape.
      model.vjpFlat(at, last);
      return () => model.vjpFlat(at, last).vjp;
    },
  };
}
