/**
 * A program: the graph of an expression lowered for fixed variable shapes,
 * with its output and variables. Values and derivatives at a point come from
 * one forward pass and then derivative passes; the linearisation for a choice
 * of `wrt` is built once and reused.
 */
import { InputError, LimitError, plural, withRemedy, type LargeResult } from '../errors.js';
import { identityMap } from '../graph/index-maps.js';
import type { GraphBuilder } from '../graph/index.js';
import { OPS, type NodeId, type Operand } from '../ops/index.js';
import { entryBuffer } from '../ops/parallel.js';
import { describeShape, sameShape, sizeOf, type Shape } from '../shape.js';
import { blockPass, DenseRows, forEachInRow, SparseRows } from './blocks.js';
import { Kernels } from './compiled.js';
import { denseDiagonal, diagonalJacobian, type DiagonalJacobian } from './diagonal.js';
import { buildGradient } from './gradient.js';
import { linearize, type WrtInput } from './linearize.js';
import { Passes, type Direction } from './passes.js';
import { isPlacedAt, Plan, planBytes, planLayout } from './plan.js';
import { JacobianRunner, VectorRunner, type RunnerPlan } from './runner.js';
import { findKinkWarnings, specialPointCheck, valueDomainKinkWarnings, type KinkWarning } from './special.js';
import {
  colour,
  compressedHessian,
  compressedJacobian,
  detectPattern,
  detectSymmetricPattern,
  entryRows,
  type Colouring,
  type Pattern,
  starColour,
  type SparseJacobian,
} from './sparsity.js';
import type { Ordering } from './colouring.js';

export interface Variable {
  readonly name: string;
  readonly shape: Shape;
}

/** Values of the variables, by name, flattened row-major. */
export type Point = ReadonlyMap<string, ArrayLike<number>>;

/**
 * The direction in which the full Jacobian is accumulated: `reverse`, one
 * backward pass per output entry (PyTorch's one-hot loop, the reference);
 * `forward`, one forward pass per input entry; `auto`, backward when m ≤ n
 * and forward otherwise, with one-hot passes for a Jacobian of up to
 * SMALL_JACOBIAN_ENTRIES entries and one block pass carrying every seed above.
 */
export type Mode = 'reverse' | 'forward' | 'auto';

/** How a Jacobian was computed: one pass per one-hot seed, or all seeds in one block pass. */
export type Method = 'one-hot' | 'block';

export interface DerivativeOptions {
  readonly mode?: Mode;
  /**
   * Forces the method; by default one-hot passes, but a block pass for `auto` above SMALL_JACOBIAN_ENTRIES. At a
   * point where some partial is infinite or NaN, one-hot passes in their careful form.
   */
  readonly method?: Method;
  /** Refuse a call whose buffers and result together would take more than this many bytes. */
  readonly maxMemoryBytes?: number;
  /** Told how many of the passes (or block steps) are done, for a progress display. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Told a sparse result's coordinates (its entries' rows and columns, the arrays the result will hold) once they
   * are known, before the passes that give its values: the CLI starts writing them on another core meanwhile.
   */
  readonly onCoordinates?: (rows: Int32Array, cols: Int32Array) => void;
  /**
   * The array a vector result (vᵀJ, ∇f, J·u, H·u) is written into, of its length, instead of a new one: a loop
   * that calls again reuses memory it has touched, where each new large array's pages are faulted in afresh.
   */
  readonly out?: Float64Array;
}

export const DEFAULT_MAX_MEMORY_BYTES = 4 * 1024 ** 3;

/** Up to this many entries of J, `auto` runs one-hot passes (the fewer of m and n); above it, one block pass. */
export const SMALL_JACOBIAN_ENTRIES = 256;

interface Derivative {
  readonly value: Float64Array;
  readonly warnings: readonly KinkWarning[];
}

/** J as computed: dense, or (by `structuredJacobian`) a diagonal J as its diagonal. */
export type StructuredJacobian = Float64Array | DiagonalJacobian;

export interface JacobianResult<M extends StructuredJacobian = Float64Array> extends Derivative {
  /** Row-major m×n: J[i·n + j] = ∂out_i/∂in_j; or, where asked for, a diagonal J's diagonal (m = n). */
  readonly jacobian: M;
  readonly m: number;
  readonly n: number;
  /** The direction: backward passes (rows of J) or forward passes (columns). */
  readonly mode: Exclude<Mode, 'auto'>;
  readonly method: Method;
  /** Sweeps over the graph: m or n for one-hot seeds, 1 for a block pass. */
  readonly passes: number;
}

/** Milliseconds spent in the parts of the last call, for --stats. */
export interface Timings {
  forward: number;
  derivative: number;
  warnings: number;
}

interface Prepared {
  readonly plan: Plan;
  readonly passes: Passes;
  /** The passes compiled to straight-line code once the program runs often (compiled.ts). */
  readonly kernels: Kernels;
  readonly wrt: readonly WrtInput[];
  readonly n: number;
  /** Whether an active operation has special points (kinks, ties, domain edges): else no point has warnings. */
  readonly special: boolean;
  /** The pattern of J and its colourings, which depend on the graph only: found once. */
  pattern?: Pattern;
  colourings?: Map<string, Colouring>;
}

export interface SparseJacobianResult extends Derivative {
  readonly jacobian: SparseJacobian;
  readonly mode: 'reverse' | 'forward';
  /** 'block' where the colouring compressed nothing and J came from the block pass it takes without --sparse. */
  readonly method: 'colored' | 'block';
  /** One compressed pass per colour, or the one block pass. */
  readonly passes: number;
  readonly colours: number;
  /** The least colours a colouring of this kind can have (SparseJacobianResult.colours equal to it is optimal). */
  readonly lowerBound: number;
  /** The order of the greedy colouring kept (the one with the fewest colours of those tried). */
  readonly ordering: Ordering;
}

/** A program's plan and passes for one choice of `wrt`, as emit.ts reads them. */
export interface PreparedPasses {
  readonly plan: Plan;
  readonly passes: Passes;
  /** The differentiated variables: J's columns. */
  readonly columns: readonly WrtInput[];
  /** Each variable's place in the plan's values, in the order of `Program.variables`. */
  readonly inputs: readonly (Operand | null)[];
}

/** The plan of `evaluate`, where each variable's data goes in it (−1: unused), its entries, and the output's place. */
interface ValuePass {
  readonly plan: Plan;
  readonly inputs: Int32Array;
  readonly sizes: Int32Array;
  readonly output: Operand;
}

/**
 * The array a vector result of `length` entries is written into: `out` where given, else a new one; whichever
 * path computes the result writes every entry. `what` names the result.
 */
function resultArray(out: Float64Array | undefined, length: number, what: string): Float64Array {
  if (out === undefined) return new Float64Array(length);
  if (out.length !== length)
    throw new InputError(
      `out has ${plural(out.length, 'entry', 'entries')}, but ${what} has ${length}: give a Float64Array of ${length}`,
    );
  return out;
}

/** The entries of `name` at the point; refused where it has none. */
function pointData(at: Point, name: string): ArrayLike<number> {
  const data = at.get(name);
  if (data === undefined) throw new InputError(`no value for ${name}`);
  return data;
}

/** The refusal of `length` entries for a variable compiled with `size`. */
const wrongLength = (name: string, size: number, length: number): InputError =>
  new InputError(`${name} was compiled with ${entryCount(size)} but has ${length}`);

/** A value of at most this many entries is copied out entry by entry. */
const SMALL_RESULT = 16;

// A Float64Array of more than 64 bytes gets memory of its own outside V8's heap, made and freed per result: about
// 0.5 µs, more than a small Jacobian's passes. Small results can instead be views into one shared pool.
const POOLED_ENTRIES = 64;
const POOL_ENTRIES = 8192;
let pool = new Float64Array(0);
let poolUsed = 0;

/** `length` zeros: a view into the pool when small, else an array of its own. */
function pooledEntries(length: number): Float64Array {
  if (length > POOLED_ENTRIES) return new Float64Array(length);
  if (poolUsed + length > pool.length) {
    pool = new Float64Array(POOL_ENTRIES);
    poolUsed = 0;
  }
  const view = pool.subarray(poolUsed, poolUsed + length);
  poolUsed += length;
  return view;
}

export class Program {
  /**
   * Whether a small dense Jacobian is a view into a pool shared with other results rather than an array of its
   * own: for a caller that neither transfers nor reads the whole `buffer` of a result (a batch, which writes
   * each point's line at once). A view's `buffer` is the pool's.
   */
  pooledResults = false;
  /** Whether calls fill `timings`: a batch, which never reads them, saves the clock reads (four a point). */
  timed = true;
  private readonly prepared = new Map<string, Prepared>();
  private readonly gradients = new Map<string, Program>();
  /** The plan of `evaluate`, made on its first call. */
  private valuePass: ValuePass | null = null;
  private readonly inputs = new Map<string, NodeId>();
  /** Where the time of the last derivative call went. */
  readonly timings: Timings = { forward: 0, derivative: 0, warnings: 0 };
  private derivativeStart = 0;
  private lastWrt: { readonly list: readonly string[]; readonly key: string } | null = null;

  /**
   * `primal`: for the program of a gradient, the node of the function itself, computed by the same
   * forward pass so that a Hessian-vector product need not evaluate the function again.
   */
  constructor(
    private readonly builder: GraphBuilder,
    readonly output: NodeId,
    readonly variables: readonly Variable[],
    private readonly primal: NodeId | null = null,
  ) {}

  get outputShape(): Shape {
    return this.builder.tape.shape(this.output);
  }

  /** Number of entries of the output: the rows of J. */
  get m(): number {
    return sizeOf(this.outputShape);
  }

  get tapeLength(): number {
    return this.builder.tape.length;
  }

  variable(name: string): Variable {
    const found = this.variables.find((v) => v.name === name);
    if (found === undefined) {
      const bound = this.variables.map((v) => v.name).join(', ') || 'none';
      throw new InputError(`cannot differentiate with respect to ${name}: it has no value (bound: ${bound})`);
    }
    return found;
  }

  /** The number of columns of J for these variables. */
  columns(wrt: readonly string[]): number {
    return wrt.reduce((n, name) => n + sizeOf(this.variable(name).shape), 0);
  }

  evaluate(at: Point, options: DerivativeOptions = {}): Float64Array {
    this.valuePassFor(options);
    return this.evaluateInOrder(this.variables.map(({ name }) => pointData(at, name)));
  }

  /**
   * The value at a point given as each variable's data in the order of `variables`, a number for a scalar: the
   * flat API's path, which makes no Map and no array for a scalar (a call of a small program is mostly such costs).
   */
  evaluateInOrder(data: readonly (number | ArrayLike<number>)[]): Float64Array {
    const { plan, inputs, sizes, output } = this.valuePass ?? this.valuePassFor({});
    const values = plan.values;
    for (let i = 0; i < inputs.length; i++) {
      const entries = data[i]!;
      const length = typeof entries === 'number' ? 1 : entries.length;
      if (length !== sizes[i]) throw wrongLength(this.variables[i]!.name, sizes[i]!, length);
      if (inputs[i]! < 0) continue;
      if (typeof entries === 'number') values[inputs[i]!] = entries;
      else if (!isPlacedAt(entries, values, inputs[i]!)) values.set(entries, inputs[i]!);
    }
    plan.run();
    const { offset, size } = output;
    if (size > SMALL_RESULT) return values.slice(offset, offset + size);
    // A small value is copied entry by entry into an array of its own: less code to run than slice, cold.
    const value = new Float64Array(size);
    for (let k = 0; k < size; k++) value[k] = values[offset + k]!;
    return value;
  }

  /**
   * The value plan's entries of variable `name` (whose places no step reuses): evaluateInOrder reads them where they
   * are when given this array. A new array where the value does not read the variable.
   */
  inputArray(name: string): Float64Array {
    const { plan, inputs, sizes } = this.valuePass ?? this.valuePassFor({});
    const i = this.variables.findIndex((variable) => variable.name === name);
    const offset = inputs[i]!;
    return offset < 0 ? new Float64Array(sizes[i]!) : plan.values.subarray(offset, offset + sizes[i]!);
  }

  /**
   * The entries of variable `name` in the plan of the derivatives by `wrt` (every node keeps its place there), made
   * as for the gradient: the derivative methods read them where they are when given this array. A new array where
   * the plan does not read the variable.
   */
  derivativeInputArray(name: string, wrt: readonly string[], options: DerivativeOptions): Float64Array {
    const n = this.columns(wrt);
    const { plan } = this.preparedFor(wrt, this.vectorCall(`the gradient (${n} entries)`, n, options, 'reverse'));
    const { shape } = this.variables.find((variable) => variable.name === name)!;
    const operand = plan.operands[this.inputNode(name, shape)];
    return operand === undefined
      ? new Float64Array(sizeOf(shape))
      : plan.values.subarray(operand.offset, operand.offset + operand.size);
  }

  private valuePassFor(options: DerivativeOptions): ValuePass {
    if (this.valuePass === null) {
      const layout = planLayout(this.builder.tape, [this.output]);
      const bytes = planBytes(layout);
      guardCall('the value', [{ what: 'values', bytes }, this.resultPart(this.m)], options, 'vector');
      const plan = new Plan(this.builder.tape, [this.output], layout, { readsRootsOnly: true });
      const inputs = Int32Array.from(
        this.variables,
        ({ name, shape }) => plan.operands[this.inputNode(name, shape)]?.offset ?? -1,
      );
      const sizes = Int32Array.from(this.variables, ({ shape }) => sizeOf(shape));
      this.valuePass = { plan, inputs, sizes, output: plan.operand(this.output) };
    }
    return this.valuePass;
  }

  /**
   * The full Jacobian: backward passes give its rows, forward passes its
   * columns, either one pass per one-hot seed or every seed in one block pass.
   */
  jacobian(at: Point, wrt: readonly string[], options: DerivativeOptions = {}): JacobianResult {
    return this.accumulate(at, wrt, options, denseDiagonal);
  }

  /**
   * The full Jacobian, but one the block pass finds diagonal by structure is kept as its diagonal: for a caller
   * that reads entries through format/dense.ts (the CLI's formatters) and need never lay out n² numbers.
   */
  structuredJacobian(
    at: Point,
    wrt: readonly string[],
    options: DerivativeOptions = {},
  ): JacobianResult<StructuredJacobian> {
    return this.accumulate(at, wrt, options, (diagonal) => diagonal);
  }

  /**
   * A runner of J at points of the shapes and names of a `jacobian` call already made (its checks passed), for a
   * caller that makes many: null where that call takes another way (a block pass; operations with special
   * points, whose warnings it finds) or was not made.
   */
  jacobianRunner(wrt: readonly string[], options: DerivativeOptions = {}): JacobianRunner | null {
    const m = this.m;
    const n = this.columns(wrt);
    const { mode, method } = jacobianWay(m, n, options);
    const prepared = method === 'one-hot' ? this.runnable(wrt) : null;
    return prepared === null ? null : new JacobianRunner(this.runnerPlan(prepared), m, n, mode);
  }

  /**
   * A runner of vᵀJ (`reverse`, `seed` the m entries of v; [1] for ∇f) or J·u (`forward`, `seed` the n entries of
   * u), as jacobianRunner for a `vjp`, `grad` or `jvp` call already made with these names and this seed.
   */
  vectorRunner(direction: 'reverse' | 'forward', seed: Float64Array, wrt: readonly string[]): VectorRunner | null {
    const m = this.m;
    const n = this.columns(wrt);
    const prepared = this.runnable(wrt);
    if (prepared === null || seed.length !== (direction === 'reverse' ? m : n)) return null;
    return new VectorRunner(this.runnerPlan(prepared), direction, seed, direction === 'reverse' ? n : m);
  }

  /** The prepared passes of a call already made with `wrt`. */
  private runnable(wrt: readonly string[]): Prepared | null {
    return this.prepared.get(this.keyOf(wrt)) ?? null;
  }

  /** What a runner of `prepared` works on: views of its plan's values, its kernels, its special points' check. */
  private runnerPlan({ plan, passes, kernels, special }: Prepared): RunnerPlan {
    const view = ({ offset, size }: Operand): Float64Array => plan.values.subarray(offset, offset + size);
    const inputs = this.variables.map(({ name, shape }) => {
      const operand = plan.operands[this.inputNode(name, shape)];
      return operand === undefined ? null : view(operand);
    });
    const specialPointMet = special ? specialPointCheck(passes) : null;
    return { inputs, value: view(plan.operand(this.output)), kernels, specialPointMet };
  }

  /** J, a diagonal one given to `keep`, which says what the caller gets of it. */
  private accumulate<M extends StructuredJacobian>(
    at: Point,
    wrt: readonly string[],
    options: DerivativeOptions,
    keep: (diagonal: DiagonalJacobian) => M,
  ): JacobianResult<Float64Array | M> {
    const m = this.m;
    const n = this.columns(wrt);
    guardMemory(m * n, `the ${m}×${n} Jacobian`, options);
    const { mode, method } = jacobianWay(m, n, options);
    // A block pass gathers J from the blocks it carries: count J twice.
    const result = { what: 'J', bytes: (method === 'block' ? 2 : 1) * m * n * Float64Array.BYTES_PER_ELEMENT };
    // One-hot passes use one buffer, in their direction; a block pass is counted with both.
    const direction = method === 'block' ? 'both' : mode;
    const call = { what: `the ${m}×${n} Jacobian`, result, options, large: 'jacobian', direction } as const;
    const prepared = this.prepare(wrt, at, call);
    const { passes } = prepared;
    if (method === 'block' && !passes.careful) {
      const jacobian = this.blockJacobian(prepared, mode, m, n, keep, options.onProgress);
      return this.finish(prepared, { jacobian, m, n, mode, method: 'block', passes: 1 });
    }
    const jacobian = this.pooledResults ? pooledEntries(m * n) : new Float64Array(m * n);
    // The compiled passes write J themselves; otherwise the interpreter's one-hot passes do.
    if (!prepared.kernels.jacobian(mode, jacobian, options.onProgress))
      this.oneHotJacobian(prepared, mode, jacobian, n, options.onProgress);
    return this.finish(prepared, { jacobian, m, n, mode, method: 'one-hot', passes: mode === 'reverse' ? m : n });
  }

  /** J by one-hot passes: a backward pass per row, or a forward pass per column. */
  private oneHotJacobian(
    { passes, wrt: inputs }: Prepared,
    mode: 'reverse' | 'forward',
    jacobian: Float64Array,
    n: number,
    onProgress?: (done: number, total: number) => void,
  ): void {
    const { m } = this;
    // The passes write into fixed buffers: the views of what J reads are taken once.
    if (mode === 'reverse') {
      const cotangents = inputs.map((col) => passes.slice(passes.cotangent, col.node));
      for (let i = 0; i < m; i++) {
        onProgress?.(i, m);
        passes.oneHotBackwardPass(i);
        inputs.forEach((col, w) => {
          const cotangent = cotangents[w];
          if (cotangent !== null && cotangent !== undefined) jacobian.set(cotangent, i * n + col.offset);
        });
      }
    } else {
      const tangent = passes.slice(passes.tangent, this.output);
      for (const col of inputs) {
        for (let k = 0; k < col.size; k++) {
          onProgress?.(col.offset + k, n);
          passes.oneHotForwardPass(col.node, k);
          if (tangent !== null) for (let i = 0; i < m; i++) jacobian[i * n + col.offset + k] = tangent[i]!;
        }
      }
    }
  }

  /** All seeds in one block pass: J's rows flow back from the output, or its columns forward from the inputs. */
  private blockJacobian<M extends StructuredJacobian>(
    { plan, passes, wrt: inputs }: Prepared,
    mode: 'reverse' | 'forward',
    m: number,
    n: number,
    keep: (diagonal: DiagonalJacobian) => M,
    onProgress?: (done: number, total: number) => void,
  ): Float64Array | M {
    const active = passes.lin.active;
    const pass = {
      values: plan.values,
      active,
      edges: passes.edges,
      operand: (id: NodeId) => plan.operand(id),
      ...(onProgress === undefined ? {} : { onProgress }),
    };
    if (mode === 'reverse') {
      const diagonal =
        inputs.length === 1 && m === n
          ? diagonalJacobian(plan.values, active, passes.edges, this.output, inputs[0]!.node, n)
          : null;
      if (diagonal !== null) return keep({ n, diagonal });
      const seeds = new Map([[this.output, SparseRows.seeds(m, m, 0)]]);
      const blocks = blockPass({ ...pass, direction: 'reverse', seeds, rows: m, ends: inputs.map((c) => c.node) });
      const only = inputs.length === 1 ? blocks.get(inputs[0]!.node) : undefined;
      // One variable whose block came out dense: that block is J, row for row.
      if (only instanceof DenseRows && only.cols === n) return only.data;
      const jacobian = new Float64Array(m * n);
      for (const col of inputs) {
        const block = col.node === this.output ? seeds.get(this.output) : blocks.get(col.node);
        if (block === undefined) continue;
        if (block instanceof DenseRows) {
          for (let i = 0; i < m; i++)
            jacobian.set(block.data.subarray(i * col.size, (i + 1) * col.size), i * n + col.offset);
        } else {
          const { rowStart, colIndex, values } = block;
          for (let i = 0; i < m; i++) {
            for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++)
              jacobian[i * n + col.offset + colIndex[e]!] = values[e]!;
          }
        }
      }
      return jacobian;
    }
    const jacobian = new Float64Array(m * n);
    const seeds = new Map(
      inputs.filter((c) => active.includes(c.node)).map((c) => [c.node, SparseRows.seeds(n, c.size, c.offset)]),
    );
    const out =
      seeds.get(this.output) ??
      blockPass({ ...pass, direction: 'forward', seeds, rows: n, ends: [this.output] }).get(this.output);
    if (out !== undefined)
      for (let j = 0; j < n; j++) forEachInRow(out, j, (i, value) => (jacobian[i * n + j] = value));
    return jacobian;
  }

  /**
   * J as a sparse matrix: its pattern detected from the graph, columns (or
   * rows) coloured, one compressed pass per colour. The dense m×n matrix is
   * never formed.
   */
  sparseJacobian(at: Point, wrt: readonly string[], options: DerivativeOptions = {}): SparseJacobianResult {
    return this.compressed(at, wrt, options, false);
  }

  /**
   * The Hessian of a scalar output as a sparse matrix: the pattern of the
   * gradient program's Jacobian, made symmetric and star-coloured, then one
   * Hessian-vector product (a forward pass of the gradient program) per colour.
   */
  sparseHessian(at: Point, wrt: readonly string[], options: DerivativeOptions = {}): SparseJacobianResult {
    this.requireScalar('hessian', wrt);
    const program = this.gradientProgram(wrt);
    const result = program.compressed(at, wrt, options, true);
    // The work was the gradient program's: its timings are the call's.
    Object.assign(this.timings, program.timings);
    return { ...result, value: program.primalValue(wrt) };
  }

  /** The sparse Jacobian, or with `symmetric` (a gradient program's) the sparse Hessian. */
  private compressed(
    at: Point,
    wrt: readonly string[],
    options: DerivativeOptions,
    symmetric: boolean,
  ): SparseJacobianResult {
    const m = this.m;
    const n = this.columns(wrt);
    const what = symmetric ? `the ${n}×${n} sparse Hessian` : `the ${m}×${n} sparse Jacobian`;
    const large = symmetric ? 'sparseHessian' : 'sparseJacobian';
    // The pattern is counted as it is found, below; the buffers of its passes first.
    const noResult = { what: symmetric ? 'H' : 'J', bytes: 0 };
    const call = { what, result: noResult, options, large, direction: 'both' } as const;
    const prepared = this.prepare(wrt, at, call);
    // A stored entry costs two numbers (its value and its place); the pattern is refused as soon as it passes that.
    const maxEntries = Math.floor(memoryLimit(options) / 16);
    const refuse = (entries: number): never =>
      refuseMemory(
        `detecting the pattern of ${what} passed ${entries} entries, ` +
          `more than the limit of ${formatBytes(memoryLimit(options))} holds`,
        large,
      );
    const budget = { maxEntries, refuse };
    prepared.pattern ??= symmetric
      ? detectSymmetricPattern(prepared.passes, prepared.wrt, this.output, n, budget)
      : detectPattern(prepared.passes, prepared.wrt, this.output, m, n, budget);
    const pattern = prepared.pattern;
    guardMemory(2 * pattern.colIndex.length, `${what} with ${pattern.colIndex.length} entries`, options, large);
    const requested = symmetric ? 'star' : (options.mode ?? 'auto');
    prepared.colourings ??= new Map();
    const colouring =
      prepared.colourings.get(requested) ?? (symmetric ? starColour(pattern) : colour(pattern, options.mode ?? 'auto'));
    prepared.colourings.set(requested, colouring);
    const colouringFields = {
      colours: colouring.colours,
      lowerBound: colouring.lowerBound,
      ordering: colouring.ordering,
    };
    const rows = entryRows(pattern);
    options.onCoordinates?.(rows, pattern.colIndex);
    // A colouring that shares no pass (a colour per seed) costs what one-hot passes cost, each as long as a pass
    // over dense vectors: the block pass that J (or H, the gradient's J) takes without --sparse is cheaper (the dense
    // 1000×1000 J of tanh(W*x+b): 11 s in 1000 compressed passes, 0.04 s in one block pass), where the dense J fits.
    const way = jacobianWay(m, n, options);
    const seeds = colouring.direction === 'forward' ? n : m;
    const denseBytes = 2 * m * n * Float64Array.BYTES_PER_ELEMENT + 16 * pattern.colIndex.length;
    if (
      colouring.colours === seeds &&
      way.method === 'block' &&
      !prepared.passes.careful &&
      denseBytes <= memoryLimit(options)
    ) {
      const dense = this.blockJacobian(prepared, way.mode, m, n, denseDiagonal, options.onProgress);
      const values = entryBuffer(pattern.colIndex.length);
      for (let e = 0; e < values.length; e++) values[e] = dense[rows[e]! * n + pattern.colIndex[e]!]!;
      const jacobian = { m, n, rows, cols: pattern.colIndex, values };
      return this.finish(prepared, { jacobian, mode: way.mode, method: 'block', passes: 1, ...colouringFields });
    }
    const compress = symmetric ? compressedHessian : compressedJacobian;
    const jacobian = compress(prepared.passes, prepared.wrt, this.output, pattern, rows, colouring, options.onProgress);
    return this.finish(prepared, {
      jacobian,
      mode: colouring.direction,
      method: 'colored',
      passes: colouring.colours,
      ...colouringFields,
    });
  }

  /** vᵀJ: one backward pass seeded with v (m numbers), giving n numbers. */
  vjp(
    at: Point,
    v: ArrayLike<number>,
    wrt: readonly string[],
    options: DerivativeOptions = {},
  ): Derivative & { readonly vjp: Float64Array } {
    const m = this.m;
    if (v.length !== m) {
      const { length } = v;
      const output = describeShape(this.outputShape);
      throw new InputError(
        (wording) =>
          `${wording.seedLength('v', length)} but the output (${output}) has ${plural(m, 'entry', 'entries')}: give ${m}`,
      );
    }
    const { value, warnings, cotangents } = this.backward(at, v, wrt, options, 'the vector-Jacobian product');
    return { value, warnings, vjp: cotangents };
  }

  /** One backward pass seeded with `seed`, giving the cotangents of the wrt inputs; `what` names it if refused. */
  private backward(
    at: Point,
    seed: ArrayLike<number>,
    wrt: readonly string[],
    options: DerivativeOptions,
    what: string,
  ): Derivative & { readonly cotangents: Float64Array } {
    const n = this.columns(wrt);
    const cotangents = resultArray(options.out, n, what);
    const prepared = this.prepare(wrt, at, this.vectorCall(`${what} (${n} entries)`, n, options, 'reverse'));
    if (!prepared.kernels.vjp(seed, cotangents)) {
      prepared.passes.backwardPass(seed);
      this.gather(prepared, prepared.passes.cotangent, cotangents);
    }
    return this.finish(prepared, { cotangents });
  }

  /** J·u: one forward pass seeded with u (n numbers), giving m numbers; `what` names it in a refusal. */
  jvp(
    at: Point,
    u: ArrayLike<number>,
    wrt: readonly string[],
    options: DerivativeOptions = {},
    what = 'the Jacobian-vector product',
  ): Derivative & { readonly jvp: Float64Array } {
    const n = this.columns(wrt);
    if (u.length !== n) {
      const { length } = u;
      throw new InputError(
        (wording) => `${wording.seedLength('u', length)} but there are ${n} inputs (${wrt.join(', ')}): give ${n}`,
      );
    }
    const jvp = resultArray(options.out, this.m, what);
    // The result and a copy of the seed.
    const call = this.vectorCall(`${what} (${this.m} entries)`, this.m + n, options, 'forward');
    const prepared = this.prepare(wrt, at, call);
    if (!prepared.kernels.jvp(u, jvp)) {
      const tangents = Float64Array.from(u);
      prepared.passes.forwardPass(prepared.wrt.map((c) => tangents.subarray(c.offset, c.offset + c.size)));
      const tangent = prepared.passes.slice(prepared.passes.tangent, this.output);
      if (tangent !== null) jvp.set(tangent);
      else jvp.fill(0);
    }
    return this.finish(prepared, { jvp });
  }

  /**
   * The plan and passes for `wrt`, after a forward pass at `at`, with each variable's place in the plan's
   * values (null where the output does not read it): what emit.ts writes out as a standalone module.
   */
  preparedPasses(wrt: readonly string[], at: Point, options: DerivativeOptions = {}): PreparedPasses {
    const call = this.vectorCall('the emitted module', this.columns(wrt), options, 'both');
    const { plan, passes, wrt: columns } = this.prepare(wrt, at, call);
    const inputs = this.variables.map(({ name, shape }) => plan.operands[this.inputNode(name, shape)] ?? null);
    return { plan, passes, columns, inputs };
  }

  /** ∇f of a scalar output: one backward pass seeded with 1. */
  grad(
    at: Point,
    wrt: readonly string[],
    options: DerivativeOptions = {},
  ): Derivative & { readonly grad: Float64Array } {
    this.requireScalar('grad');
    const { value, warnings, cotangents } = this.backward(at, [1], wrt, options, 'the gradient');
    return { value, warnings, grad: cotangents };
  }

  /** The exact Hessian of a scalar output: the Jacobian of its gradient graph. */
  hessian(at: Point, wrt: readonly string[], options: DerivativeOptions = {}): JacobianResult {
    this.requireHessian(wrt, options);
    const result = this.gradientProgram(wrt).jacobian(at, wrt, options);
    return { ...result, value: this.evaluate(at, options) };
  }

  /** The Hessian as structuredJacobian gives J: a diagonal one (an element-wise sum's) as its diagonal. */
  structuredHessian(
    at: Point,
    wrt: readonly string[],
    options: DerivativeOptions = {},
  ): JacobianResult<StructuredJacobian> {
    this.requireHessian(wrt, options);
    const result = this.gradientProgram(wrt).structuredJacobian(at, wrt, options);
    return { ...result, value: this.evaluate(at, options) };
  }

  /** A Hessian needs a scalar output, and its n² entries within the memory limit: said as a Hessian's, not J's. */
  private requireHessian(wrt: readonly string[], options: DerivativeOptions): void {
    this.requireScalar('hessian', wrt);
    const n = this.columns(wrt);
    guardMemory(n * n, `the ${n}×${n} Hessian`, options, 'hessian');
  }

  /**
   * H·u without forming H: one forward pass over the gradient graph (forward-over-reverse), whose
   * values are ∇f, given too.
   */
  hvp(
    at: Point,
    u: ArrayLike<number>,
    wrt: readonly string[],
    options: DerivativeOptions = {},
  ): Derivative & { readonly hvp: Float64Array; readonly gradient: Float64Array } {
    this.requireScalar('hvp', wrt);
    const program = this.gradientProgram(wrt);
    const { value: gradient, jvp, warnings } = program.jvp(at, u, wrt, options, 'the Hessian-vector product');
    return { value: program.primalValue(wrt), warnings, hvp: jvp, gradient };
  }

  private requireScalar(command: string, wrt?: readonly string[]): void {
    // A Hessian of no variables has no gradient graph to build.
    if (wrt?.length === 0) throw new InputError((wording) => wording.noVariables());
    if (this.m !== 1) {
      throw new InputError(
        `${command} needs a scalar output, but this expression gives ${describeShape(this.outputShape)} ` +
          `(${this.m} entries): use jacobian, or reduce it, as sum(…)`,
      );
    }
  }

  /** The gradient of the (scalar) output as a program whose output is the n-vector ∇f. */
  private gradientProgram(wrt: readonly string[]): Program {
    const key = this.keyOf(wrt);
    let gradient = this.gradients.get(key);
    if (gradient === undefined) {
      const inputs = this.wrtInputs(wrt);
      const lin = linearize(this.builder, this.output, inputs);
      const parts = buildGradient(this.builder, lin);
      const n = inputs.reduce((total, c) => total + c.size, 0);
      const maps = inputs.map((c) => identityMap(c.size, c.offset));
      // One vector's gradient is ∇f as it is: copied by a concat, its Jacobian would pass a select step, and an
      // element-wise sum's Hessian would no longer be found diagonal.
      const only = parts.length === 1 && sameShape(this.builder.tape.shape(parts[0]!), [n]) ? parts[0]! : null;
      const output = only ?? this.builder.apply('concat', parts, { kind: 'concat', shape: [n], maps });
      gradient = new Program(this.builder, output, this.variables, this.output);
      this.gradients.set(key, gradient);
    }
    // The gradient program does this program's work: it reads the clock when this one does.
    gradient.timed = this.timed;
    return gradient;
  }

  /** The value of `primal` at the point of the last derivative call for `wrt`. */
  private primalValue(wrt: readonly string[]): Float64Array {
    return this.prepared.get(this.keyOf(wrt))!.plan.read(this.primal!);
  }

  private wrtInputs(wrt: readonly string[]): WrtInput[] {
    const inputs: WrtInput[] = [];
    let offset = 0;
    for (const name of wrt) {
      const { shape } = this.variable(name);
      inputs.push({ node: this.inputNode(name, shape), offset, size: sizeOf(shape) });
      offset += sizeOf(shape);
    }
    return inputs;
  }

  /** A call whose result is a vector of `entries` numbers, weighed against the memory limit as `what`. */
  private vectorCall(what: string, entries: number, options: DerivativeOptions, direction: Direction): Call {
    return { what, result: this.resultPart(entries), options, large: 'vector', direction };
  }

  /** A vector result of this many entries, as a part of a call's memory. */
  private resultPart(entries: number): MemoryPart {
    return { what: 'result', bytes: entries * Float64Array.BYTES_PER_ELEMENT };
  }

  /**
   * The plan and passes for `wrt`, made once, with the forward pass run at
   * `at`; the call's memory (buffers and result) is checked before the
   * buffers are allocated, and again for each call that reuses them.
   */
  /**
   * The key of `wrt` in the caches. A batch asks with the same names at every point: their key is made once
   * (compared by content, as a caller may change its array between calls).
   */
  private keyOf(wrt: readonly string[]): string {
    if (this.lastWrt === null || !sameNames(this.lastWrt.list, wrt))
      this.lastWrt = { list: [...wrt], key: wrtKey(wrt) };
    return this.lastWrt.key;
  }

  private prepare(wrt: readonly string[], at: Point, call: Call): Prepared {
    const prepared = this.preparedFor(wrt, call);
    const start = this.timed ? performance.now() : 0;
    this.load(prepared.plan, at);
    prepared.kernels.forward();
    prepared.passes.inspectPartials();
    if (this.timed) {
      this.derivativeStart = performance.now();
      this.timings.forward = this.derivativeStart - start;
    }
    return prepared;
  }

  /** The plan and passes for `wrt`, made on first use (its memory weighed against the limit for `call`). */
  private preparedFor(wrt: readonly string[], call: Call): Prepared {
    const key = this.keyOf(wrt);
    let prepared = this.prepared.get(key);
    if (prepared !== undefined)
      guardPrepared(prepared.plan.values.length, prepared.passes.buffersAfter(call.direction), call);
    else {
      const inputs = this.wrtInputs(wrt);
      const lin = linearize(this.builder, this.output, inputs);
      const roots = [this.output, ...(this.primal === null ? [] : [this.primal]), ...lin.partialNodes];
      const layout = planLayout(this.builder.tape, roots);
      guardPrepared(layout.entries, call.direction === 'both' ? 2 : 1, call);
      const plan = new Plan(this.builder.tape, roots, layout);
      const passes = new Passes(plan, lin);
      const n = inputs.reduce((total, c) => total + c.size, 0);
      const special = lin.active.some((node) => OPS[this.builder.tape.op(node)].special !== undefined);
      prepared = { plan, passes, kernels: new Kernels(plan, passes, this.m, n), wrt: inputs, n, special };
      this.prepared.set(key, prepared);
    }
    return prepared;
  }

  /**
   * The output value and the kink report of the last forward pass, with the result's other fields. Not
   * `{ ...derivative, more }`: in V8 a spread followed by more properties takes a slow path (1–5 µs a call).
   */
  private finish<R extends object>(prepared: Prepared, result: R): Derivative & R {
    const { passes, wrt } = prepared;
    const start = this.timed ? performance.now() : 0;
    // Everything since the forward pass was derivative work.
    if (this.timed) this.timings.derivative = start - this.derivativeStart;
    const value = prepared.plan.read(this.output);
    const warnings = prepared.special
      ? findKinkWarnings(
          this.builder,
          passes,
          wrt.map((c) => c.node),
          wrt.map((c) => c.offset),
          prepared.n,
        )
      : [];
    // A NaN in the value may come from a part no derivative goes through (a constant's log of a negative number).
    if (value.some(Number.isNaN))
      warnings.push(...valueDomainKinkWarnings(this.builder, prepared.plan, new Set(passes.lin.active)));
    if (this.timed) this.timings.warnings = performance.now() - start;
    return Object.assign({ value, warnings }, result);
  }

  /**
   * The cotangents of the wrt inputs, concatenated into `result` (zeros for an input the pass does not reach): the
   * array a compiled pass would have filled, which may hold what it wrote before it gave up.
   */
  private gather(prepared: Prepared, buffer: Float64Array, result: Float64Array): void {
    for (const col of prepared.wrt) {
      const slice = prepared.passes.slice(buffer, col.node);
      if (slice !== null) result.set(slice, col.offset);
      else result.fill(0, col.offset, col.offset + col.size);
    }
  }

  private load(plan: Plan, at: Point): void {
    for (const { name, shape } of this.variables) {
      const data = pointData(at, name);
      if (data.length !== sizeOf(shape)) throw wrongLength(name, sizeOf(shape), data.length);
      plan.setInput(this.inputNode(name, shape), data);
    }
  }

  /** The input node of a variable (made if the expression does not use it), remembered: points load often. */
  private inputNode(name: string, shape: Shape): NodeId {
    let node = this.inputs.get(name);
    if (node === undefined) this.inputs.set(name, (node = this.builder.input(name, shape)));
    return node;
  }
}

/**
 * How `jacobian` computes an m×n J: reverse mode for no more rows than columns, unless told; a small Jacobian costs
 * less as a few one-hot passes over preallocated buffers than as a block pass (where a partial is not finite,
 * one-hot passes run in the careful form that gives every mode the same answer).
 */
function jacobianWay(
  m: number,
  n: number,
  options: DerivativeOptions,
): { readonly mode: 'reverse' | 'forward'; readonly method: Method } {
  const requested = options.mode ?? 'auto';
  return {
    mode: requested === 'auto' ? (m <= n ? 'reverse' : 'forward') : requested,
    method: options.method ?? (requested === 'auto' && m * n > SMALL_JACOBIAN_ENTRIES ? 'block' : 'one-hot'),
  };
}

/** A number of entries as messages write it: "1 entry", "6 entries". */
export const entryCount = (n: number): string => `${n} ${n === 1 ? 'entry' : 'entries'}`;

/** A part of what a call holds at once, named in its refusal. */
interface MemoryPart {
  readonly what: string;
  readonly bytes: number;
}

/** A derivative call as its memory check sees it: what it computes, its result, its limit. */
/** The key of a wrt list in the caches of prepared passes and gradient programs. */
const wrtKey = (wrt: readonly string[]): string => wrt.join('\u0000');

function sameNames(p: readonly string[], q: readonly string[]): boolean {
  if (p.length !== q.length) return false;
  for (let k = 0; k < p.length; k++) if (p[k] !== q[k]) return false;
  return true;
}

interface Call {
  readonly what: string;
  readonly result: MemoryPart;
  readonly options: DerivativeOptions;
  readonly large: LargeResult;
  /** The passes' buffers it uses, each as large as the plan's values. */
  readonly direction: Direction;
}

/** `buffers`: how many pass buffers will exist during the call. */
function guardPrepared(entries: number, buffers: number, { what, result, options, large }: Call): void {
  const bytes = entries * Float64Array.BYTES_PER_ELEMENT;
  guardCall(what, [{ what: 'values', bytes }, { what: 'passes', bytes: buffers * bytes }, result], options, large);
}

/**
 * The one memory check of a call: everything it holds at once (the forward
 * plan's values, the passes' buffers, the result) weighed against the limit
 * before any of it is allocated.
 */
function guardCall(what: string, parts: readonly MemoryPart[], options: DerivativeOptions, large: LargeResult): void {
  const limit = memoryLimit(options);
  const bytes = parts.reduce((total, part) => total + part.bytes, 0);
  if (bytes <= limit) return;
  // A breakdown only where there is more than one part to break down.
  const shown = parts.filter((part) => part.bytes > 0).map((part) => `${part.what} ${formatBytes(part.bytes)}`);
  const breakdown = parts.length > 1 ? ` (${shown.join(', ')})` : '';
  refuseMemory(`${what} needs ${formatBytes(bytes)}${breakdown}, more than the limit of ${formatBytes(limit)}`, large);
}

/** The memory check of a result alone (this many numbers), before anything else of its call is weighed. */
export function guardMemory(
  entries: number,
  what: string,
  options: DerivativeOptions,
  result: LargeResult = 'jacobian',
): void {
  guardCall(what, [{ what: 'result', bytes: entries * Float64Array.BYTES_PER_ELEMENT }], options, result);
}

/** A LimitError for memory: the message, then how to raise the limit and what to compute instead. */
function refuseMemory(message: string, result: LargeResult): never {
  throw new LimitError((wording) => {
    const raise = wording.raise('maxMemoryBytes');
    return withRemedy(message, `${raise === null ? '' : `${raise}, or `}${wording.instead(result)}`);
  });
}

const memoryLimit = (options: DerivativeOptions): number => options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;

/** A size for people: `977 KiB`, `512 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toPrecision(3))} ${units[unit]}`;
}
