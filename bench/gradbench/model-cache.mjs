/**
 * A model compiled once per shape, as a GradBench tool compiles. `prepared(name, run)` runs `run` once the
 * first time the function `name` meets a shape: the engine builds that function's derivative programs and
 * allocates their buffers on the first call, work done once per shape, as compiling is.
 */
export function modelCache(library, source) {
  const compiled = new Map();
  return (name, shapes) => {
    const key = JSON.stringify(shapes);
    if (!compiled.has(key)) compiled.set(key, { model: library.compile(source, shapes), warm: new Set() });
    const { model, warm } = compiled.get(key);
    const prepared = (run) => {
      if (!warm.has(name)) run();
      warm.add(name);
      return run;
    };
    return { model, prepared };
  };
}

/** Rows of numbers as one row-major Float64Array, as the flat methods take a matrix. */
export const flat = (rows) => Float64Array.from(rows.flat());
