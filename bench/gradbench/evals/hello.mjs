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

// GradBench sends hello's input as a bare number, so each function runs (and is timed) once. Both sides call their
// functions WARM_CALLS times before, away from the timed calls: we at define, PyTorch at import
// (torch_evals/hello.py). A single call of a few microseconds is otherwise mostly the first calls' cost (V8 reaching
// code it has not optimised, PyTorch's first dispatches), which is not the function's. Both sides also run the
// prepared call once while preparing: between two messages the process reads and writes lines, which leaves the
// function's code and data out of the processor's caches, and a 0.1 µs call then measures those misses (2–5 µs).
const WARM_CALLS = 5000;

/** `run`, after one untimed call that brings its code and data back into the caches. */
const warmed = (run) => {
  run();
  return run;
};

export function define(library) {
  const model = library.compile(MODEL, { x: [] });
  const functions = {
    square: (x) => warmed(() => model.evaluateFlat({ x })[0]),
    double: (x) => warmed(() => model.gradFlat({ x }).grad[0]),
  };
  // Through the very functions the tool times, so none of their code is met for the first time there; whole and
  // fractional numbers alike, as the eval sends both.
  for (let call = 0; call < WARM_CALLS; call++) {
    const x = call % 2 === 0 ? call : call / WARM_CALLS;
    functions.square(x)();
    functions.double(x)();
  }
  return functions;
}
