/**
 * What the engine does with a partial derivative, written once per kind of
 * partial (as JAX gives each linear primitive its transpose): `LINEAR` in
 * `index.ts` holds one `LinearKind` per kind, and a kind without one fails
 * to compile.
 */
import type { GraphBuilder } from '../../graph/index.js';
import type { IndexMap, NodeId, Operand, Partial } from '../../ops/index.js';
import type { Product } from './product.js';

export type Kind = Partial['kind'];
export type PartialOf<K extends Kind> = Extract<Partial, { readonly kind: K }>;

/** Reverse mode carries cotangents from nodes to arguments, forward mode tangents from arguments to nodes. */
export type Direction = 'reverse' | 'forward';

/** An edge (node ← argument) of the linearised graph with the partial's numbers resolved to their operands. */
interface EdgeOperands {
  readonly out: Operand;
  readonly arg: Operand;
}

export interface ElementwiseStep extends EdgeOperands {
  readonly kind: 'elementwise';
  readonly d: Operand;
}

export interface SelectStep extends EdgeOperands {
  readonly kind: 'select';
  readonly map: IndexMap;
}

export interface RowStep extends EdgeOperands {
  readonly kind: 'row';
  readonly d: Operand;
}

export interface ExtremeStep extends EdgeOperands {
  readonly kind: 'extreme';
  /** extremeIndex: per line of the argument, its extreme entry's position or a code (ops/extremes.ts). */
  readonly index: Operand;
}

/** The products a pass runs, laid out once: one, or two through the scratch buffer. */
export interface Products {
  readonly reverse: readonly Product[];
  readonly forward: readonly Product[];
}

export interface MatmulStep extends EdgeOperands, Products {
  readonly kind: 'matmul';
  readonly left: Operand | null;
  readonly right: Operand | null;
  /** With both factors, the products with the (co)tangents read from and written to row views at 0. */
  readonly rows: Products | null;
}

export interface DenseStep extends EdgeOperands, Products {
  readonly kind: 'dense';
  readonly d: Operand;
}

export interface SolveStep extends EdgeOperands {
  readonly kind: 'solve';
  /** The LU factors of A, packed n×(n+1) as ops/lu.ts writes them. */
  readonly lu: Operand;
  readonly right: Operand | null;
  readonly sign: 1 | -1;
}

/** A partial that passes apply; zero and unsupported partials make no step. */
export type Step = ElementwiseStep | SelectStep | RowStep | ExtremeStep | MatmulStep | DenseStep | SolveStep;
export type StepOf<K extends Kind> = Extract<Step, { readonly kind: K }>;

/** Where an entry-level kernel adds what one entry contributes: a row of a block, or a dependence mask. */
export interface Accumulator {
  add(k: number, value: number): void;
}

/** A dense block's row as the target: kernels that know it write the row directly. */
export class DenseRowAccumulator implements Accumulator {
  /** Where the current row starts in `data`. */
  base = 0;

  constructor(
    readonly data: Float64Array,
    readonly cols: number,
  ) {}

  at(row: number): this {
    this.base = row * this.cols;
    return this;
  }

  add(k: number, value: number): void {
    this.data[this.base + k]! += value;
  }
}

/** From a partial `P` to what the passes need (steps `S`); every kind has these. */
export interface PartialRules<P extends Partial, S extends Step> {
  /** The nodes whose values the partial reads; throws UnsupportedError when the partial cannot be applied. */
  reads(partial: P): readonly NodeId[];
  /** The pass step of an edge, its nodes resolved by `operand`; null when there is nothing to apply (zero). */
  step(partial: P, out: Operand, arg: Operand, operand: (id: NodeId) => Operand): S | null;
  /** ∂ᵀ·cotangent as graph nodes in the argument's shape, for the gradient graph; null: it contributes nothing. */
  transpose(b: GraphBuilder, partial: P, node: NodeId, arg: NodeId, cotangent: NodeId): NodeId | null;
}

/** The kernels of a kind's steps. No kernel allocates; an exact zero contributes exactly nothing (SPEC §6). */
export interface StepRules<S extends Step> {
  /** Reverse mode: cotangent[arg] += ∂ᵀ · cotangent[out]. */
  pullback(step: S, v: Float64Array, cotangent: Float64Array, scratch: Float64Array): void;
  /** Forward mode: tangent[out] += ∂ · tangent[arg]. */
  pushforward(step: S, v: Float64Array, tangent: Float64Array, scratch: Float64Array): void;
  /**
   * Forward mode as a node's first contribution, every entry of out written (0 where nothing reaches it): what
   * clearing out and then `pushforward` give, to the bit, without the pass clearing out first. Absent: it does.
   */
  pushforwardFirst?(step: S, v: Float64Array, tangent: Float64Array): void;
  /** Reverse mode's first contribution to cotangent[arg], as `pushforwardFirst`. */
  pullbackFirst?(step: S, v: Float64Array, cotangent: Float64Array): void;
  /**
   * Cotangent g on entry k of the node, pulled back into `acc` (the argument's row). Fed g = 1 it adds each
   * nonzero partial entry, never one that is exactly 0: the careful passes (careful.ts) are built on that.
   */
  pullEntry(step: S, v: Float64Array, k: number, g: number, acc: Accumulator): void;
  /** Tangent t on entry k of the argument, pushed forward into `acc` (the node's row); fed 1, as `pullEntry`. */
  pushEntry(step: S, v: Float64Array, k: number, t: number, acc: Accumulator): void;
  /** Whether one entry spreads over many in this direction, so the target's rows fill up. */
  spreads(step: S, direction: Direction): boolean;
  /**
   * Whether the step adds the entries of a vector into one entry in this direction, as a sum over entries (ops/sums.ts:
   * in blocks of SUM_BLOCK), which block passes then form as the vector kernel does. Products (dense, matmul) add
   * their terms in their own order.
   */
  sumsEntries(step: S, direction: Direction): boolean;
  /** The diagonal when the partial is one (out[k] = d[k]·arg[k], d maybe a scalar), else null. */
  diagonal(step: S): Operand | null;
  /**
   * Adds 1 at every target entry that entry k of the source reaches in `direction`: by structure, or,
   * with `cutAtZeros`, not through element-wise or row entries whose partial is exactly 0.
   */
  reach(step: S, direction: Direction, v: Float64Array, k: number, cutAtZeros: boolean, acc: Accumulator): void;
  /**
   * `reach` by structure of every source entry at once, as rows over the source's entries (the targets of
   * entry k are targets[start[k] … start[k + 1])), for a kind that has them at hand: pattern detection then
   * makes no call per entry.
   */
  reachTable?(step: S, direction: Direction): { readonly start: Int32Array; readonly targets: Int32Array };
  /**
   * `reach` by structure when each source entry reaches at most one target and no two the same (a slice, a
   * permutation): the target of entry k, or -1 for none; null when the step is not such a map.
   */
  reachInjection?(step: S, direction: Direction): Int32Array | null;
  /** Entries of the scratch buffer the step needs. */
  scratchSize(step: S): number;
  /**
   * A whole dense row of a block at once (`source` into `target`, both row views), for a kind whose entry
   * kernels cost more per row than its vector kernel (a product with both factors: n² entries, each spreading
   * over n², against two n³ products). Returns false when it does not apply, and the row goes entry by entry.
   */
  denseRow?(
    step: S,
    direction: Direction,
    v: Float64Array,
    source: Float64Array,
    target: Float64Array,
    scratch: Float64Array,
  ): boolean;
}

/** One kind's implementation: the step kernels only for kinds that make steps. */
export type LinearKind<K extends Kind> = PartialRules<PartialOf<K>, StepOf<K>> &
  ([StepOf<K>] extends [never] ? unknown : StepRules<StepOf<K>>);
