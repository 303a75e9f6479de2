/**
 * The library: compile an expression once for the shapes of its variables,
 * then ask for values and derivatives at points, as plain numbers and arrays.
 */
import { compileProgram } from './compile.js';
import { checkDirections, checkJacobian } from './engine/check.js';
import type { Ordering } from './engine/colouring.js';
import {
  entryCount,
  type DerivativeOptions,
  type Mode,
  type Program,
  type SparseJacobianResult,
} from './engine/program.js';
import type { KinkWarning } from './engine/special.js';
import { InputError } from './errors.js';
import type { VariableInfo } from './parse/index.js';
import { sameShape, sizeOf, type Shape } from './shape.js';
import { blocksByVariable, columnRanges, nestedFrom, tensorFromJson, type Nested, type Tensor } from './values.js';

export type { KinkWarning, Mode, Nested, Shape };
/** The former name of KinkWarning, kept for code that uses it. */
export type Warning = KinkWarning;

/** A variable's value: a number, a vector or a matrix (rows of numbers); a Float64Array is a vector, or a row. */
export type Value =
  number | readonly number[] | readonly (readonly number[])[] | Float64Array | readonly Float64Array[];
export type Values = Readonly<Record<string, Value>>;
/**
 * Values for the flat methods: a number, or every entry of the variable in one Float64Array (a matrix
 * row-major). The arrays are read, not copied or kept.
 */
export type FlatValues = Readonly<Record<string, number | Float64Array>>;

/** A result of a flat method: Float64Arrays (the output row-major), without `blocks` or nesting. */
export interface FlatResult {
  readonly value: Float64Array;
  readonly warnings: readonly KinkWarning[];
}

export interface Options {
  /** The variables to differentiate, in column order; default: all, in the order given. */
  readonly wrt?: readonly string[];
  /** The direction of the passes that give the full Jacobian (default 'auto': the fewer passes). */
  readonly mode?: Mode;
  /** Refuse results larger than this many bytes (default 4 GiB). */
  readonly maxMemoryBytes?: number;
}

/** The flat methods' options: those of the others, and where to write the result. */
export interface FlatOptions extends Options {
  /**
   * The Float64Array the result (∇f, vᵀJ, J·u or H·u) is written into and returned as, of the result's length,
   * instead of a new array: a loop that calls again reuses memory it has touched, as PyTorch's `out=` does.
   */
  readonly out?: Float64Array;
}

interface Common {
  /** The expression's value, in its shape. */
  readonly value: Nested;
  /** The kink report: entries computed at kinks, ties, infinite derivatives or outside a domain (SPEC §6). */
  readonly warnings: readonly KinkWarning[];
}

/** A result by variable: each differentiated variable's part, in the shapes PyTorch gives them. */
export type Blocks = Readonly<Record<string, Nested>>;

export interface JacobianOutput extends Common {
  /** m rows of n numbers: J[i][j] = ∂out_i/∂in_j. */
  readonly jacobian: number[][];
  /** J by variable, each block shaped (output shape) + (variable's shape). */
  readonly blocks: Blocks;
  readonly mode: 'reverse' | 'forward';
  readonly passes: number;
}

/** A vector over the inputs (∇f, vᵀJ, H·u), by variable, each in the variable's shape. */
/**
 * J as a sparse matrix in coordinate form, 0-based, as the CLI's `--sparse --json`:
 * entry k is J[rows[k]][cols[k]] = values[k]. Entries outside the pattern are zero at every point.
 */
export interface SparseJacobianOutput extends Common {
  readonly m: number;
  readonly n: number;
  readonly rows: number[];
  readonly cols: number[];
  readonly values: number[];
  /** The colours of the pattern's columns (forward) or rows (reverse): one compressed pass each. */
  readonly colours: number;
  /**
   * 'colored': one compressed pass per colour; 'block': the colouring shared no pass (a colour per column and per
   * row), and J came from the one block pass it takes without sparsity, its pattern's entries read from it.
   */
  readonly method: 'colored' | 'block';
  readonly passes: number;
  /** The least colours any colouring of its kind can have: `colours` equal to it is optimal. */
  readonly lowerBound: number;
  /** The vertex order of the greedy colouring kept: the fewest colours of the orders tried. */
  readonly ordering: Ordering;
  readonly mode: 'reverse' | 'forward';
}

export interface ByVariable {
  readonly blocks: Blocks;
}

export interface CheckOutput extends Common {
  readonly agree: boolean;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** Entries not compared: the automatic or the numeric one is not finite. */
  readonly skipped: number;
  /** Entries compared only within how far rounding moves the finite differences (`rounding`, at most). */
  readonly unresolved: number;
  readonly rounding: number;
  /** Null for the whole J; else the count of random directions u, and `jacobian` holds J·u for each (m × count). */
  readonly directions: number | null;
  readonly jacobian: number[][];
  readonly numeric: number[][];
}

function rows(data: Float64Array, m: number, n: number): number[][] {
  return Array.from({ length: m }, (_, i) => Array.from(data.subarray(i * n, (i + 1) * n)));
}

/** An expression compiled for fixed variable shapes; every method runs without parsing. */
export class CompiledExpression {
  private constructor(
    readonly expr: string,
    private readonly program: Program,
    private readonly shapes: ReadonlyMap<string, Shape>,
  ) {}

  /** @internal */
  static create(expr: string, variables: ReadonlyMap<string, VariableInfo>): CompiledExpression {
    const inputs = [...variables].filter(([, info]) => info.constant !== true);
    const shapes = new Map(inputs.map(([name, info]) => [name, info.shape]));
    return new CompiledExpression(expr, compileProgram(expr, variables), shapes);
  }

  get outputShape(): Shape {
    return this.program.outputShape;
  }

  get variables(): readonly string[] {
    return [...this.shapes.keys()];
  }

  evaluate(at: Values): Nested {
    return nestedFrom(this.outputShape, this.program.evaluate(this.point(at)));
  }

  jacobian(at: Values, options: Options = {}): JacobianOutput {
    options = checkOptions(options);
    const r = this.program.jacobian(this.point(at), this.wrt(options), derivativeOptions(options));
    return {
      value: this.nested(r.value),
      warnings: r.warnings,
      jacobian: rows(r.jacobian, r.m, r.n),
      blocks: this.blocks(r.jacobian, r.n, this.outputShape, options),
      mode: r.mode,
      passes: r.passes,
    };
  }

  /**
   * J as a sparse matrix: its pattern found from the expression, its columns
   * (or rows) coloured, one compressed pass per colour; the dense m×n J is never formed.
   */
  sparseJacobian(at: Values, options: Options = {}): SparseJacobianOutput {
    options = checkOptions(options);
    return sparseOutput(
      this.program.sparseJacobian(this.point(at), this.wrt(options), derivativeOptions(options)),
      (value) => this.nested(value),
    );
  }

  /**
   * H as a sparse matrix (n×n): its pattern found from the gradient graph, star-coloured, one
   * Hessian-vector product per colour; the dense H is never formed.
   */
  sparseHessian(at: Values, options: Options = {}): SparseJacobianOutput {
    options = checkOptions(options);
    return sparseOutput(
      this.program.sparseHessian(this.point(at), this.wrt(options), derivativeOptions(options)),
      (value) => this.nested(value),
    );
  }

  /** vᵀJ; `blocks` holds it by variable, each in the variable's shape. */
  vjp(at: Values, v: readonly number[], options: Options = {}): Common & ByVariable & { readonly vjp: number[] } {
    options = checkOptions(options);
    const r = this.program.vjp(this.point(at), checkSeed(v, 'v'), this.wrt(options), derivativeOptions(options));
    return {
      value: this.nested(r.value),
      warnings: r.warnings,
      vjp: Array.from(r.vjp),
      ...this.byVariable(r.vjp, options),
    };
  }

  /** J·u; `tangent` holds it in the output's shape. */
  jvp(
    at: Values,
    u: readonly number[],
    options: Options = {},
  ): Common & { readonly jvp: number[]; readonly tangent: Nested } {
    const r = this.program.jvp(
      this.point(at),
      checkSeed(u, 'u'),
      this.wrt(checkOptions(options)),
      derivativeOptions(options),
    );
    return { value: this.nested(r.value), warnings: r.warnings, jvp: Array.from(r.jvp), tangent: this.nested(r.jvp) };
  }

  /** ∇f; `blocks` holds it by variable, each in the variable's shape (what `W.grad` holds in PyTorch). */
  grad(at: Values, options: Options = {}): Common & ByVariable & { readonly grad: number[] } {
    options = checkOptions(options);
    const r = this.program.grad(this.point(at), this.wrt(options), derivativeOptions(options));
    return {
      value: this.nested(r.value),
      warnings: r.warnings,
      grad: Array.from(r.grad),
      ...this.byVariable(r.grad, options),
    };
  }

  hessian(at: Values, options: Options = {}): Common & { readonly hessian: number[][] } {
    options = checkOptions(options);
    const r = this.program.hessian(this.point(at), this.wrt(options), derivativeOptions(options));
    return { value: this.nested(r.value), warnings: r.warnings, hessian: rows(r.jacobian, r.m, r.n) };
  }

  hvp(at: Values, u: readonly number[], options: Options = {}): Common & ByVariable & { readonly hvp: number[] } {
    options = checkOptions(options);
    const r = this.program.hvp(this.point(at), checkSeed(u, 'u'), this.wrt(options), derivativeOptions(options));
    return {
      value: this.nested(r.value),
      warnings: r.warnings,
      hvp: Array.from(r.hvp),
      ...this.byVariable(r.hvp, options),
    };
  }

  /**
   * The flat methods are for loops that call a compiled expression many times on large arrays (as
   * GradBench's evals do): values in and results out as Float64Arrays, with no nested arrays and no
   * `blocks` to build. The value, row-major.
   */
  evaluateFlat(at: FlatValues): Float64Array {
    checkValues(at);
    // A loop, not map and a closure: a single call of a small program is mostly such costs, the more so cold.
    const { variables } = this.program;
    const data: (number | Float64Array)[] = [];
    for (let i = 0; i < variables.length; i++) data.push(flatEntries(at, variables[i]!.name, variables[i]!.shape));
    return this.program.evaluateInOrder(data);
  }

  /**
   * The array from which `evaluateFlat` reads `name`'s entries (row-major): fill it and pass it as `name`, and
   * evaluateFlat reads it where it is instead of copying it in, as PyTorch reads a tensor where it lives (a loop that
   * evaluates at a large input it changes in place). With options (`wrt`), the array the derivative methods
   * (gradFlat, vjpFlat, jvpFlat) read for those options. Other methods copy it, as any array.
   */
  inputArray(name: string, options?: Options): Float64Array {
    if (!this.shapes.has(name))
      throw new InputError(`${name} is not a variable of this expression (${this.variables.join(', ')})`);
    if (options === undefined) return this.program.inputArray(name);
    options = checkOptions(options);
    return this.program.derivativeInputArray(name, this.wrt(options), derivativeOptions(options));
  }

  /** ∇f as one Float64Array, the variables' entries in `wrt` order (each row-major). */
  gradFlat(at: FlatValues, options: FlatOptions = {}): FlatResult & { readonly grad: Float64Array } {
    options = checkFlatOptions(options);
    return this.program.grad(this.flatPoint(at), this.wrt(options), derivativeOptions(options));
  }

  /** vᵀJ as one Float64Array, the variables' entries in `wrt` order. */
  vjpFlat(
    at: FlatValues,
    v: ArrayLike<number>,
    options: FlatOptions = {},
  ): FlatResult & { readonly vjp: Float64Array } {
    options = checkFlatOptions(options);
    return this.program.vjp(this.flatPoint(at), checkFlatSeed(v, 'v'), this.wrt(options), derivativeOptions(options));
  }

  /** J·u as one Float64Array (the output's entries, row-major). */
  jvpFlat(
    at: FlatValues,
    u: ArrayLike<number>,
    options: FlatOptions = {},
  ): FlatResult & { readonly jvp: Float64Array } {
    options = checkFlatOptions(options);
    return this.program.jvp(this.flatPoint(at), checkFlatSeed(u, 'u'), this.wrt(options), derivativeOptions(options));
  }

  /** H·u as one Float64Array, the variables' entries in `wrt` order, with ∇f (`gradient`), which its pass computes. */
  hvpFlat(
    at: FlatValues,
    u: ArrayLike<number>,
    options: FlatOptions = {},
  ): FlatResult & { readonly hvp: Float64Array; readonly gradient: Float64Array } {
    options = checkFlatOptions(options);
    return this.program.hvp(this.flatPoint(at), checkFlatSeed(u, 'u'), this.wrt(options), derivativeOptions(options));
  }

  /**
   * The automatic Jacobian against central finite differences (like torch.autograd.gradcheck); with `directions`,
   * J·u along that many random directions u instead (like JAX's check_grads), for large n.
   */
  check(at: Values, options: CheckOptions = {}): CheckOutput {
    options = checkOptions(options, CHECK_OPTIONS);
    const point = this.point(at);
    const r =
      options.directions === undefined
        ? checkJacobian(this.program, point, this.wrt(options), options.tol, derivativeOptions(options))
        : checkDirections(
            this.program,
            point,
            this.wrt(options),
            options.directions,
            options.tol,
            derivativeOptions(options),
          );
    const { m, n } = r.automatic;
    return {
      value: this.nested(r.automatic.value),
      warnings: r.automatic.warnings,
      agree: r.agree,
      maxAbsError: r.maxAbsError,
      maxRelError: r.maxRelError,
      skipped: r.skipped,
      unresolved: r.unresolved,
      rounding: r.rounding,
      directions: r.directions,
      jacobian: rows(r.automatic.jacobian, m, n),
      numeric: rows(r.numeric, m, n),
    };
  }

  private nested(data: Float64Array): Nested {
    return nestedFrom(this.outputShape, data);
  }

  /** rows × n data split by the differentiated variables, each block shaped (row shape) + (its shape). */
  private blocks(data: Float64Array, n: number, rowShape: readonly number[], options: Options): Blocks {
    const variables = this.wrt(options).map((name) => ({ name, shape: this.shapes.get(name) ?? [] }));
    return blocksByVariable(data, n, rowShape, columnRanges(variables));
  }

  private byVariable(vector: Float64Array, options: Options): ByVariable {
    return { blocks: this.blocks(vector, vector.length, [], options) };
  }

  private wrt(options: Options): readonly string[] {
    return options.wrt ?? this.variables;
  }

  private flatPoint(at: FlatValues): Map<string, Float64Array> {
    checkValues(at);
    const point = new Map<string, Float64Array>();
    for (const [name, shape] of this.shapes) {
      const value = flatEntries(at, name, shape);
      point.set(name, typeof value === 'number' ? Float64Array.of(value) : value);
    }
    return point;
  }

  private point(at: Values): Map<string, Float64Array> {
    checkValues(at);
    const point = new Map<string, Float64Array>();
    for (const [name, shape] of this.shapes) {
      if (!(name in at)) throw new InputError(`no value for ${name}`);
      const tensor = tensorOf(at[name], name);
      if (!sameShape(tensor.shape, shape)) {
        throw new InputError(`${name} was compiled as ${shapeText(shape)} but has ${shapeText(tensor.shape)}`);
      }
      point.set(name, tensor.data);
    }
    return point;
  }
}

/** A variable's value as the flat methods take it: a number or a Float64Array, of the compiled size. */
function flatEntries(at: FlatValues, name: string, shape: Shape): number | Float64Array {
  const value = at[name];
  if (value === undefined && !(name in at)) throw new InputError(`no value for ${name}`);
  if (typeof value !== 'number' && !(value instanceof Float64Array))
    throw new InputError(`${name} must be a number or a Float64Array for the flat methods`);
  const length = typeof value === 'number' ? 1 : value.length;
  if (length !== sizeOf(shape))
    throw new InputError(
      `${name} was compiled as ${shapeText(shape)} (${entryCount(sizeOf(shape))}) but has ${length}`,
    );
  return value;
}

/** A shape as messages write it: "a scalar", "3", "2×3". */
const shapeText = (shape: Shape): string => (shape.length === 0 ? 'a scalar' : shape.join('×'));

/** A value as the engine takes it: Float64Arrays (a vector, or the rows of a matrix) or JSON-like numbers. */
function tensorOf(value: unknown, name: string): Tensor {
  if (value instanceof Float64Array) {
    if (value.length === 0) throw new InputError(`${name} is an empty array: give at least one number`);
    return { shape: [value.length], data: value.slice() };
  }
  if (ArrayBuffer.isView(value))
    throw new InputError(`${name} is a ${value.constructor.name}: give a Float64Array, numbers or arrays of numbers`);
  const rows = Array.isArray(value) && value.some((row) => row instanceof Float64Array);
  return tensorFromJson(
    rows ? value.map((row: unknown) => (row instanceof Float64Array ? [...row] : row)) : value,
    name,
  );
}

const MODES: readonly string[] = ['auto', 'reverse', 'forward'];
const OPTIONS: readonly string[] = ['wrt', 'mode', 'maxMemoryBytes'];
const CHECK_OPTIONS: readonly string[] = [...OPTIONS, 'tol', 'directions'];

/** check's options: the tolerance, and how many random directions to compare along (none: the whole J). */
export interface CheckOptions extends Options {
  readonly tol?: number;
  readonly directions?: number;
}
const FLAT_OPTIONS: readonly string[] = [...OPTIONS, 'out'];

/** JavaScript callers can pass anything: what the types promise is checked here, with messages. */
function checkOptions(options: unknown, known = OPTIONS): CheckOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new InputError('options must be an object, as { wrt: ["x"] }');
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    const names = unknown.map((key) => JSON.stringify(key)).join(', ');
    throw new InputError(
      `unknown option${unknown.length === 1 ? '' : 's'} ${names}: the options are ${known.join(', ')}`,
    );
  }
  const { wrt, mode, maxMemoryBytes, tol, directions } = options as Record<string, unknown>;
  if (directions !== undefined && !(Number.isInteger(directions) && (directions as number) >= 1))
    throw new InputError('options.directions must be a whole number from 1');
  if (wrt !== undefined) {
    if (!Array.isArray(wrt) || !wrt.every((name) => typeof name === 'string'))
      throw new InputError('options.wrt must be an array of names, as ["x"]');
    if (new Set(wrt).size !== wrt.length) throw new InputError(`options.wrt names a variable twice: ${wrt.join(', ')}`);
  }
  if (mode !== undefined && !(typeof mode === 'string' && MODES.includes(mode)))
    throw new InputError(`options.mode must be one of ${MODES.join(', ')}`);
  for (const [key, value] of [
    ['maxMemoryBytes', maxMemoryBytes],
    ['tol', tol],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && value > 0 && Number.isFinite(value)))
      throw new InputError(`options.${key} must be a positive number`);
  }
  return options as CheckOptions;
}

function checkSeed(seed: unknown, name: string): readonly number[] {
  if (!Array.isArray(seed) || !seed.every((x) => typeof x === 'number'))
    throw new InputError(`${name} must be an array of numbers`);
  return seed as number[];
}

function checkFlatSeed(seed: unknown, name: string): ArrayLike<number> {
  if (seed instanceof Float64Array) return seed;
  return checkSeed(seed, name);
}

function checkValues(at: unknown): Values {
  if (typeof at !== 'object' || at === null || Array.isArray(at))
    throw new InputError('the values must be an object of names, as { x: [1, 2, 3] }');
  return at as Values;
}

function checkExpression(expr: unknown): string {
  if (typeof expr !== 'string') throw new InputError('the expression must be a string, as "x*2"');
  return expr;
}

function derivativeOptions(options: FlatOptions): DerivativeOptions {
  return {
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.maxMemoryBytes === undefined ? {} : { maxMemoryBytes: options.maxMemoryBytes }),
    ...(options.out === undefined ? {} : { out: options.out }),
  };
}

/** A flat method's options: checkOptions', and `out` a Float64Array (its length is checked against the result's). */
function checkFlatOptions(options: unknown): FlatOptions {
  const checked: FlatOptions = checkOptions(options, FLAT_OPTIONS);
  if (checked.out !== undefined && !(checked.out instanceof Float64Array))
    throw new InputError('options.out must be a Float64Array, as new Float64Array(n)');
  return checked;
}

function shapeFrom(name: string, shape: unknown): Shape {
  if (!Array.isArray(shape) || shape.length > 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new InputError(
      `the shape of ${name} must be [] (scalar), [n] (vector) or [rows, cols] (matrix) with positive sizes, ` +
        `got ${JSON.stringify(shape) ?? String(shape)}`,
    );
  }
  return shape as unknown as Shape;
}

export interface CompileOptions {
  /**
   * Names fixed when compiling, with their values: each is a literal in the compiled graph (as `pi`
   * is), so it may count a recursion or size an array; it is neither an input nor differentiated.
   */
  readonly constants?: Values;
}

/**
 * Compiles `expr` for variables of the given shapes: `[]` a scalar, `[n]` a
 * vector, `[rows, cols]` a matrix. Indices must be constants (numbers, `end`,
 * or names given in `options.constants`).
 */
export function compile(
  expr: string,
  shapes: Readonly<Record<string, readonly number[]>>,
  options: CompileOptions = {},
): CompiledExpression {
  if (typeof shapes !== 'object' || shapes === null || Array.isArray(shapes))
    throw new InputError('the shapes must be an object of names, as { x: [3] }');
  const constants = checkValues(checkCompileOptions(options).constants ?? {});
  const variables = new Map<string, VariableInfo>(
    Object.entries(shapes).map(([name, shape]) => [name, { shape: shapeFrom(name, shape) }]),
  );
  for (const [name, value] of Object.entries(constants)) {
    if (variables.has(name)) throw new InputError(`${name} is given a shape and a constant value: give one`);
    const tensor = tensorOf(value, name);
    variables.set(name, { shape: tensor.shape, value: tensor.data, constant: true });
  }
  return CompiledExpression.create(checkExpression(expr), variables);
}

function checkCompileOptions(options: unknown): CompileOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new InputError('the compile options must be an object, as { constants: { s: 10 } }');
  const unknown = Object.keys(options).filter((key) => key !== 'constants');
  if (unknown.length > 0)
    throw new InputError(`unknown compile option ${JSON.stringify(unknown[0])}: the option is constants`);
  return options as CompileOptions;
}

/** Compiles `expr` for the shapes of the values in `at` (their values may serve as indices). */
function compileAt(expr: string, at: Values): CompiledExpression {
  const variables = new Map<string, VariableInfo>(
    Object.entries(checkValues(at)).map(([name, value]) => {
      const tensor = tensorOf(value, name);
      return [name, { shape: tensor.shape, value: tensor.data }];
    }),
  );
  return CompiledExpression.create(checkExpression(expr), variables);
}

/** A sparse result in coordinate form, as plain arrays. */
function sparseOutput(r: SparseJacobianResult, nested: (value: Float64Array) => Nested): SparseJacobianOutput {
  const { m, n, rows, cols, values } = r.jacobian;
  return {
    value: nested(r.value),
    warnings: r.warnings,
    m,
    n,
    rows: Array.from(rows),
    cols: Array.from(cols),
    values: Array.from(values),
    colours: r.colours,
    method: r.method,
    passes: r.passes,
    lowerBound: r.lowerBound,
    ordering: r.ordering,
    mode: r.mode,
  };
}

/** The full Jacobian of `expr` at `at`. */
export const jacobian = (expr: string, at: Values, options?: Options): JacobianOutput =>
  compileAt(expr, at).jacobian(at, options);
/** J as a sparse matrix in coordinate form: one compressed pass per colour of its pattern. */
export const sparseJacobian = (expr: string, at: Values, options?: Options): SparseJacobianOutput =>
  compileAt(expr, at).sparseJacobian(at, options);
/** H as a sparse matrix in coordinate form: one Hessian-vector product per colour of its pattern. */
export const sparseHessian = (expr: string, at: Values, options?: Options): SparseJacobianOutput =>
  compileAt(expr, at).sparseHessian(at, options);
/** vᵀJ: one backward pass seeded with v. */
export const vjp = (expr: string, at: Values, v: readonly number[], options?: Options) =>
  compileAt(expr, at).vjp(at, v, options);
/** J·u: one forward pass seeded with u. */
export const jvp = (expr: string, at: Values, u: readonly number[], options?: Options) =>
  compileAt(expr, at).jvp(at, u, options);
/** The gradient of a scalar expression. */
export const grad = (expr: string, at: Values, options?: Options) => compileAt(expr, at).grad(at, options);
/** The exact Hessian of a scalar expression. */
export const hessian = (expr: string, at: Values, options?: Options) => compileAt(expr, at).hessian(at, options);
/** H·u without forming H. */
export const hvp = (expr: string, at: Values, u: readonly number[], options?: Options) =>
  compileAt(expr, at).hvp(at, u, options);
/** The automatic Jacobian against central finite differences. */
export const check = (expr: string, at: Values, options?: CheckOptions) => compileAt(expr, at).check(at, options);
