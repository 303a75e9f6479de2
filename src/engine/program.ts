/**
 * A compiled expression: its graph, output and variables. Values and
 * derivatives at a point come from one forward pass and then derivative
 * passes; the linearisation for a choice of `wrt` is built once and reused.
 */
import { InputError, LimitError } from '../errors.js';
import type { GraphBuilder } from '../graph/index.js';
import type { NodeId } from '../ops/index.js';
import { describeShape, sizeOf, type Shape } from '../shape.js';
import { linearize } from './linearize.js';
import { Passes } from './passes.js';
import { Plan } from './plan.js';

export interface Variable {
  readonly name: string;
  readonly shape: Shape;
}

/** Values of the variables, by name, flattened row-major. */
export type Point = ReadonlyMap<string, ArrayLike<number>>;

export interface DerivativeOptions {
  /** Refuse to allocate results larger than this many bytes. */
  readonly maxMemoryBytes?: number;
}

export const DEFAULT_MAX_MEMORY_BYTES = 4 * 1024 ** 3;

export interface JacobianResult {
  readonly value: Float64Array;
  /** Row-major m×n: J[i·n + j] = ∂out_i/∂in_j. */
  readonly jacobian: Float64Array;
  readonly m: number;
  readonly n: number;
  readonly passes: number;
}

interface Column {
  readonly node: NodeId;
  readonly offset: number;
  readonly size: number;
}

interface Prepared {
  readonly plan: Plan;
  readonly passes: Passes;
  readonly columns: readonly Column[];
  readonly n: number;
}

export class Program {
  private readonly prepared = new Map<string, Prepared>();
  private valuePlan: Plan | null = null;

  constructor(
    private readonly builder: GraphBuilder,
    readonly output: NodeId,
    readonly variables: readonly Variable[],
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
      throw new InputError(`cannot differentiate with respect to ${name}: it has no value (bound: ${this.variables.map((v) => v.name).join(', ') || 'none'})`);
    }
    return found;
  }

  /** The number of columns of J for these variables. */
  columns(wrt: readonly string[]): number {
    return wrt.reduce((n, name) => n + sizeOf(this.variable(name).shape), 0);
  }

  evaluate(at: Point): Float64Array {
    this.valuePlan ??= new Plan(this.builder.tape, [this.output]);
    this.load(this.valuePlan, at);
    this.valuePlan.run();
    return this.valuePlan.read(this.output);
  }

  jacobian(at: Point, wrt: readonly string[], options: DerivativeOptions = {}): JacobianResult {
    const m = this.m;
    const n = this.columns(wrt);
    guardMemory(m * n, `the ${m}×${n} Jacobian`, options);
    const { plan, passes, columns } = this.prepare(wrt, at);
    const jacobian = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      passes.oneHotBackwardPass(i);
      for (const col of columns) {
        const cotangent = passes.slice(passes.cotangent, col.node);
        if (cotangent !== null) jacobian.set(cotangent, i * n + col.offset);
      }
    }
    return { value: plan.read(this.output), jacobian, m, n, passes: m };
  }

  /** vᵀJ: one backward pass seeded with v (m numbers), giving n numbers. */
  vjp(at: Point, v: ArrayLike<number>, wrt: readonly string[]): { value: Float64Array; vjp: Float64Array } {
    const m = this.m;
    const n = this.columns(wrt);
    if (v.length !== m) {
      throw new InputError(`--v has ${v.length} number${v.length === 1 ? '' : 's'} but the output (${describeShape(this.outputShape)}) has ${m} entries: give ${m}`);
    }
    const { plan, passes, columns } = this.prepare(wrt, at);
    passes.backwardPass(v);
    const result = new Float64Array(n);
    for (const col of columns) {
      const cotangent = passes.slice(passes.cotangent, col.node);
      if (cotangent !== null) result.set(cotangent, col.offset);
    }
    return { value: plan.read(this.output), vjp: result };
  }

  private prepare(wrt: readonly string[], at: Point): Prepared {
    const key = wrt.join('\u0000');
    let prepared = this.prepared.get(key);
    if (prepared === undefined) {
      const columns: Column[] = [];
      let offset = 0;
      for (const name of wrt) {
        const { shape } = this.variable(name);
        columns.push({ node: this.builder.input(name, shape), offset, size: sizeOf(shape) });
        offset += sizeOf(shape);
      }
      const lin = linearize(this.builder, this.output, columns.map((c) => c.node));
      const plan = new Plan(this.builder.tape, [this.output, ...lin.partialNodes]);
      prepared = { plan, passes: new Passes(plan, lin), columns, n: offset };
      this.prepared.set(key, prepared);
    }
    this.load(prepared.plan, at);
    prepared.plan.run();
    return prepared;
  }

  private load(plan: Plan, at: Point): void {
    for (const { name, shape } of this.variables) {
      const data = at.get(name);
      if (data === undefined) throw new InputError(`no value for ${name}`);
      if (data.length !== sizeOf(shape)) throw new InputError(`${name} was compiled with ${sizeOf(shape)} entries but has ${data.length}`);
      plan.setInput(this.builder.input(name, shape), data);
    }
  }
}

export function guardMemory(entries: number, what: string, options: DerivativeOptions): void {
  const limit = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  const bytes = entries * 8;
  if (bytes > limit) {
    throw new LimitError(`${what} needs ${formatBytes(bytes)}, more than the limit of ${formatBytes(limit)} (raise it with --max-memory, or ask for a vjp or jvp instead)`);
  }
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toPrecision(3))} ${units[unit]}`;
}
