/**
 * GradBench's lstm: ADBench's LSTM with diagonal weights (models/lstm.txt, a recursion over the
 * characters). objective is the loss; jacobian its gradient by main_params and extra_params, each
 * flattened row by row, concatenated.
 */
import { readFileSync } from 'node:fs';
import { compiledModels } from '../model-cache.mjs';

const MODEL = readFileSync(new URL('../models/lstm.txt', import.meta.url), 'utf8');

/** ADBench's sizes: layers × characters; small ones for the tests. */
const FULL_SIZES = [2, 4].flatMap((l) => [1024, 4096].map((c) => ({ l, c })));
const SMALL_SIZES = [
  { l: 1, c: 6 },
  { l: 2, c: 10 },
];

/**
 * As ADBench's generator: a text (printable ASCII with an occasional typographic apostrophe) as rows
 * of bits, each character in as many bits as the largest needs, and parameters and state in [0, 1).
 */
function input({ l, c }, random) {
  const text = Array.from({ length: c }, (_, i) => (i % 97 === 3 ? 0x2019 : 32 + Math.floor(95 * random())));
  const bits = Math.ceil(Math.log2(Math.max(...text)));
  const matrix = (rows, cols) => Array.from({ length: rows }, () => Array.from({ length: cols }, random));
  return {
    main_params: matrix(2 * l, 4 * bits),
    extra_params: matrix(3, bits),
    state: matrix(2 * l, bits),
    sequence: text.map((code) => Array.from(code.toString(2).padStart(bits, '0'), Number)),
  };
}

export function cases(sizes, random) {
  return (sizes === 'full' ? FULL_SIZES : SMALL_SIZES).flatMap((size) => {
    const data = input(size, random);
    return ['objective', 'jacobian'].map((name) => ({ label: `l${size.l}_c${size.c}`, function: name, input: data }));
  });
}

export function define(library) {
  const models = compiledModels(library, MODEL);
  const prepare = (data) => {
    const at = { main: data.main_params, extra: data.extra_params, state: data.state, seq: data.sequence };
    const shapes = Object.fromEntries(Object.entries(at).map(([name, rows]) => [name, [rows.length, rows[0].length]]));
    return { model: models(shapes), at };
  };
  return {
    objective(data) {
      const { model, at } = prepare(data);
      // The first call builds the forward plan: work done once per shape.
      model.evaluate(at);
      return () => model.evaluate(at);
    },
    jacobian(data) {
      const { model, at } = prepare(data);
      const wrt = { wrt: ['main', 'extra'] };
      // The first call builds the plan and the linearisation: once per shape.
      model.grad(at, wrt);
      return () => model.grad(at, wrt).grad;
    },
  };
}
