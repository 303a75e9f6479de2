/**
 * Derivative passes over a linearised graph whose forward pass has run:
 * backward passes (reverse mode) fill cotangents from a seed on the output,
 * forward passes (forward mode) fill tangents from a seed on the inputs.
 * Buffers are allocated once and reused by every pass.
 */
import type { IndexMap, NodeId, Operand } from '../ops/index.js';
import type { DependenceStep, StepGraph } from './dependence.js';
import type { Linearization } from './linearize.js';
import { pullback, pushforward, scratchSize, type Step } from './kernels.js';
import type { Plan } from './plan.js';

export class Passes {
  readonly cotangent: Float64Array;
  readonly tangent: Float64Array;
  readonly steps: readonly Step[];
  private readonly scratch: Float64Array;
  /** Ranges of the buffers that passes write: the active nodes. */
  private readonly activeRanges: readonly Operand[];
  readonly output: Operand;
  private readonly isActive: Uint8Array;

  constructor(
    readonly plan: Plan,
    readonly lin: Linearization,
  ) {
    this.steps = lin.edges.map(({ node, arg, partial }): Step => {
      const out = plan.operand(node);
      const a = plan.operand(arg);
      switch (partial.kind) {
        case 'select':
          return { kind: 'select', out, arg: a, map: partial.map satisfies IndexMap };
        case 'matmul':
          return {
            kind: 'matmul',
            out,
            arg: a,
            left: partial.left === null ? null : plan.operand(partial.left),
            right: partial.right === null ? null : plan.operand(partial.right),
          };
        default:
          return { kind: partial.kind, out, arg: a, d: plan.operand(partial.d) };
      }
    });
    this.scratch = new Float64Array(this.steps.reduce((size, step) => Math.max(size, scratchSize(step)), 0));
    this.activeRanges = lin.active.map((id) => plan.operand(id));
    this.cotangent = new Float64Array(plan.values.length);
    this.tangent = new Float64Array(plan.values.length);
    this.output = plan.operand(lin.output);
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
    for (let s = this.steps.length - 1; s >= 0; s--) pullback(this.steps[s]!, values, this.cotangent, this.scratch);
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
    for (const step of this.steps) pushforward(step, values, this.tangent, this.scratch);
  }

  private graph: StepGraph | null = null;

  /** The steps, and the value dependences with zero partials, with the nodes they connect, for dependence analysis (built once). */
  stepGraph(): StepGraph {
    this.graph ??= this.buildStepGraph();
    return this.graph;
  }

  private buildStepGraph(): StepGraph {
    const all = [
      ...this.lin.edges.map((e, s) => ({ node: e.node, arg: e.arg, step: this.steps[s]! as DependenceStep })),
      ...this.lin.zeroEdges.map((e) => ({
        ...e,
        step: { kind: 'value', out: this.plan.operand(e.node), arg: this.plan.operand(e.arg) } as const,
      })),
    ].sort((a, b) => a.node - b.node);
    return {
      steps: all.map((e) => e.step),
      nodes: all.map((e) => e.node),
      args: all.map((e) => e.arg),
      sizes: new Map(this.lin.active.map((id) => [id, this.plan.operand(id)])),
      values: this.plan.values,
    };
  }

  /** The slice of `buffer` that belongs to `node`, or null when no pass reaches it. */
  slice(buffer: Float64Array, node: NodeId): Float64Array | null {
    const operand = this.plan.operands[node];
    if (operand === undefined || !this.isActive[node]) return null;
    return buffer.subarray(operand.offset, operand.offset + operand.size);
  }
}
