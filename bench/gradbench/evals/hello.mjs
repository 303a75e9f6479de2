// GradBench's hello eval: square (f(x) = x²) and double (its derivative, 2x), for a scalar x.
import { readFileSync } from 'node:fs';

const MODEL = readFileSync(new URL('../models/hello.txt', import.meta.url), 'utf8');

/** The eval's inputs: 1, then each output fed back, as run.py does (both functions per input). */
export function cases(sizes) {
  const rounds = sizes === 'small' ? 2 : 4;
  const result = [];
  let x = 1;
  for (let round = 0; round < rounds; round++) {
    result.push({ label: `x=${x}`, function: 'square', input: x });
    result.push({ label: `x=${x * x}`, function: 'double', input: x * x });
    x = 2 * x * x;
  }
  return result;
}

// GradBench sends hello's input as a bare number, so each function runs (and is timed) once. The model is compiled
// and run once at define, away from the timed calls, as PyTorch's functions run once at import
// (torch_evals/hello.py): each side's first call, which pays for loading code, is not what is timed.
export function define(library) {
  const model = library.compile(MODEL, { x: [] });
  model.evaluateFlat({ x: 1 });
  model.gradFlat({ x: 1 });
  return {
    square: (x) => () => model.evaluateFlat({ x })[0],
    double: (x) => () => model.gradFlat({ x }).grad[0],
  };
}
