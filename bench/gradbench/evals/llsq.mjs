// GradBench's llsq eval: the linear least squares objective of models/llsq.txt and its gradient.
import { readFileSync } from 'node:fs';
import { compiledModels } from '../model-cache.mjs';

const MODEL = readFileSync(new URL('../models/llsq.txt', import.meta.url), 'utf8');
/** run.py's default sizes: m = 128 coefficients, n from 16 to 16 392 points; x uniform in [0, 1). */
const FULL = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8196, 16392];
const M = 128;

export function cases(sizes, random) {
  return (sizes === 'small' ? [16] : FULL).flatMap((n) => {
    const input = { x: Array.from({ length: M }, random), n };
    return ['primal', 'gradient'].map((name) => ({ label: `n=${n},m=${M}`, function: name, input }));
  });
}

export function define(library) {
  const models = compiledModels(library, MODEL);
  const prepare = (input) => {
    const x = Float64Array.from(input.x);
    return { model: models({ x: [x.length] }, { n: input.n }), at: { x } };
  };
  return {
    primal(input) {
      const { model, at } = prepare(input);
      return () => model.evaluateFlat(at)[0];
    },
    gradient(input) {
      const { model, at } = prepare(input);
      return () => model.gradFlat(at).grad;
    },
  };
}
