/**
 * GradBench's det: the determinant of an l×l matrix by expansion by minors (models/det.txt, a
 * recursion over minors); primal its value, gradient ∂det/∂A in row-major order.
 */
import { readFileSync } from 'node:fs';
import { compiledModels } from '../model-cache.mjs';

const MODEL = readFileSync(new URL('../models/det.txt', import.meta.url), 'utf8');

/** The eval's default edges 5…11; small ones for the tests. */
const FULL_EDGES = [5, 6, 7, 8, 9, 10, 11];
const SMALL_EDGES = [3, 4];

export function cases(sizes, random) {
  return (sizes === 'full' ? FULL_EDGES : SMALL_EDGES).flatMap((ell) => {
    const input = { A: Array.from({ length: ell * ell }, random), ell };
    return ['primal', 'gradient'].map((name) => ({ label: `${ell}`, function: name, input }));
  });
}

export function define(library) {
  const models = compiledModels(library, MODEL);
  const prepare = ({ A, ell }) => {
    const matrix = Array.from({ length: ell }, (_, i) => Float64Array.from(A.slice(i * ell, (i + 1) * ell)));
    return { model: models({ A: [ell, ell] }), at: { A: matrix } };
  };
  return {
    primal(input) {
      const { model, at } = prepare(input);
      // The first call builds the forward plan: work done once per shape.
      model.evaluate(at);
      return () => model.evaluate(at);
    },
    gradient(input) {
      const { model, at } = prepare(input);
      // The first call builds the plan and the linearisation: once per shape.
      model.grad(at);
      return () => model.grad(at).grad;
    },
  };
}
