// GradBench's lse eval: LogSumExp (max-shifted, from primitives: models/lse.txt) and its gradient.
import { readFileSync } from 'node:fs';
import { compiledModels } from '../model-cache.mjs';

const MODEL = readFileSync(new URL('../models/lse.txt', import.meta.url), 'utf8');
/** run.py's default sizes, 2500 doubling to 1 280 000; x uniform in [0, 1). */
const FULL = [2500, 5000, 10000, 20000, 40000, 80000, 160000, 320000, 640000, 1280000];

export function cases(sizes, random) {
  return (sizes === 'small' ? [2500] : FULL).flatMap((n) => {
    const input = { x: Array.from({ length: n }, random) };
    return ['primal', 'gradient'].map((name) => ({ label: `n=${n}`, function: name, input }));
  });
}

export function define(library) {
  const models = compiledModels(library, MODEL);
  return {
    primal(input) {
      // x written once into the array the model reads it from, as PyTorch's tensor is made once: no copy per run.
      const model = models({ x: [input.x.length] });
      const x = model.inputArray('x');
      x.set(input.x);
      return () => model.evaluateFlat({ x })[0];
    },
    gradient(input) {
      // x in the array the gradient reads it from (written once, as PyTorch's tensor is made once: its run then
      // clones it, as autograd needs a fresh leaf), the gradient into one array made here, as a loop would (and as
      // PyTorch's allocator reuses freed memory): a new 10 MB array at every run would have its pages faulted in afresh.
      const model = models({ x: [input.x.length] });
      const x = model.inputArray('x', { wrt: ['x'] });
      x.set(input.x);
      const out = new Float64Array(x.length);
      return () => model.gradFlat({ x }, { out }).grad;
    },
  };
}
