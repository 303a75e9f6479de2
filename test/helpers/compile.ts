/** Compiling an expression at a point given as plain JSON values, as the tests need it. */
import { compileProgram } from '../../src/compile.js';
import type { Program } from '../../src/engine/program.js';
import type { VariableInfo } from '../../src/parse/index.js';
import { tensorFromJson, type Tensor } from '../../src/values.js';

export interface Compiled {
  readonly program: Program;
  readonly point: Map<string, Float64Array>;
  readonly tensors: Map<string, Tensor>;
}

export function compileAt(expr: string, at: Readonly<Record<string, unknown>>): Compiled {
  const tensors = new Map(Object.entries(at).map(([name, value]) => [name, tensorFromJson(value, name)]));
  const variables = new Map<string, VariableInfo>(
    [...tensors].map(([name, t]) => [name, { shape: t.shape, value: t.data }]),
  );
  const program = compileProgram(expr, variables);
  const point = new Map([...tensors].map(([name, t]) => [name, t.data]));
  return { program, point, tensors };
}
