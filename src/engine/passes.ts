/**
 * Derivative passes over a linearised graph whose forward pass has run:
 * backward passes (reverse mode) fill cotangents from a seed on the output,
 * forward passes (forward mode) fill tangents from a seed on the inputs.
 * Buffers are allocated once and reused by every pass.
 */
import type { NodeId, Operand } from '../ops/index.js';
import type { BlockEdge } from './blocks.js';
import type { DependenceEdge, StepGraph } from './dependence.js';
import { partialRulesOf, rulesOf, type Step, type StepRules } from './linear/index.js';
import type { Linearization } from './linearize.js';
import type { Plan } from './plan.js';

export class Passes {
  readonly cotangent: Float64Array;
  readonly tangent: Float64Array;
  /** The edges with something to apply (a nonzero partial), in tape order, each with its step. */
  readonly edges: readonly BlockEdge[];
  readonly steps: readonly Step[];
  /** Each step's kernels, looked up once: passes over small graphs are mostly dispatch. */
  private readonly kernels: readonly StepRules<Step>[];
  /** Every edge, zero partials included: the value depends on them. */
  private readonly dependenceEdges: readonly DependenceEdge[];
  private readonly scratch: Float64Array;
  /** Ranges of the buffers that passes write: the active nodes. */
  private readonly activeRanges: readonly Operand[];
  readonly output: Operand;
  private readonly isActive: Uint8Array;

  constructor(
    readonly plan: Plan,
    readonly lin: Linearization,
  ) {
    const operand = (id: NodeId): Operand => plan.operand(id);
    this.dependenceEdges = lin.edges.map(({ node, arg, partial }) => {
      const out = operand(node);
      const input = operand(arg);
      const rules = partialRulesOf(partial);
      return { node, arg, out, in: input, step: rules.step(partial, out, input, operand), reads: rules.reads(partial) };
    });
    this.edges = this.dependenceEdges.filter((e): e is DependenceEdge & BlockEdge => e.step !== null);
    this.steps = this.edges.map((e) => e.step);
    this.kernels = this.steps.map(rulesOf);
    this.scratch = new Float64Array(
      this.steps.reduce((size, step) => Math.max(size, rulesOf(step).scratchSize(step)), 0),
    );
    this.activeRanges = lin.active.map(operand);
    this.cotangent = new Float64Array(plan.values.length);
    this.tangent = new Float64Array(plan.values.length);
    this.output = operand(lin.output);
    this.isActive = new Uint8Array(plan.tape.length);
    for (const id of lin.active) this.isActive[id] = 1;
  }

  private clear(buffer: Float64Array): void {
    for (const { offset, size } of this.activeRanges) buffer.fill(0, offset, offset + size);
  }

  /** Reverse mode: cotangents of every active node for the output seed `seed` (m numbers). */
  backwardPass(seed: ArrayLike<number>): void {
    this.clear(this.cotangent);
    this.cotangent.set(seed, this.output.offset);
    this.runBackward();
  }

  /** Reverse mode seeded with the one-hot vector eᵢ: row i of the Jacobian. */
  oneHotBackwardPass(i: number): void {
    this.clear(this.cotangent);
    this.cotangent[this.output.offset + i] = 1;
    this.runBackward();
  }

  private runBackward(): void {
    const { values } = this.plan;
    const { steps, kernels, cotangent, scratch } = this;
    for (let s = steps.length - 1; s >= 0; s--) kernels[s]!.pullback(steps[s]!, values, cotangent, scratch);
  }

  /** Forward mode: tangents of every active node for input tangents `seeds` (one per wrt input). */
  forwardPass(seeds: readonly ArrayLike<number>[]): void {
    this.clear(this.tangent);
    this.lin.wrt.forEach((w, k) => {
      const operand = this.plan.operands[w];
      if (operand !== undefined && this.isActive[w]) this.tangent.set(seeds[k]!, operand.offset);
    });
    this.runForward();
  }

  /** Forward mode seeded with the one-hot tangent on entry k of input `input`: a column of the Jacobian. */
  oneHotForwardPass(input: NodeId, k: number): void {
    this.clear(this.tangent);
    const operand = this.plan.operands[input];
    if (operand !== undefined && this.isActive[input]) this.tangent[operand.offset + k] = 1;
    this.runForward();
  }

  private runForward(): void {
    const { values } = this.plan;
    const { steps, kernels, tangent, scratch } = this;
    for (let s = 0; s < steps.length; s++) kernels[s]!.pushforward(steps[s]!, values, tangent, scratch);
  }

  private graph: StepGraph | null = null;

  /** The edges with the nodes' operands and the values, for dependence analysis (built once). */
  stepGraph(): StepGraph {
    this.graph ??= {
      edges: this.dependenceEdges,
      sizes: new Map(this.lin.active.map((id) => [id, this.plan.operand(id)])),
      values: this.plan.values,
    };
    return this.graph;
  }

  /** The slice of `buffer` that belongs to `node`, or null when no pass reaches it. */
  slice(buffer: Float64Array, node: NodeId): Float64Array | null {
    const operand = this.plan.operands[node];
    if (operand === undefined || !this.isActive[node]) return null;
    return buffer.subarray(operand.offset, operand.offset + operand.size);
  }
}
