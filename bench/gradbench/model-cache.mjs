/**
 * A model compiled once per shape and constants, as a GradBench tool compiles: `models(shapes, constants)`
 * compiles `source` the first time it meets them and returns that model ever after.
 */
export function compiledModels(library, source) {
  const compiled = new Map();
  return (shapes, constants) => {
    const key = JSON.stringify([shapes, constants]);
    if (!compiled.has(key)) compiled.set(key, library.compile(source, shapes, constants && { constants }));
    return compiled.get(key);
  };
}

/**
 * A model compiled once per shape, its functions warmed once: `models(name, shapes)` gives the model and
 * `prepared(run)`, which runs `run` once the first time the function `name` meets that shape: the engine builds that function's derivative programs and
 * allocates their buffers on the first call, work done once per shape, as compiling is.
 */
export function modelCache(library, source) {
  const models = compiledModels(library, source);
  const warm = new WeakMap();
  return (name, shapes) => {
    const model = models(shapes);
    if (!warm.has(model)) warm.set(model, new Set());
    const names = warm.get(model);
    const prepared = (run) => {
      if (!names.has(name)) run();
      names.add(name);
      return run;
    };
    return { model, prepared };
  };
}

/** Rows of numbers as one row-major Float64Array, as the flat methods take a matrix. */
export const flat = (rows) => Float64Array.from(rows.flat());
