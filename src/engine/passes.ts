/**
 * Derivative passes over a linearised graph whose forward pass has run:
 * backward passes (reverse mode) fill cotangents from a seed on the output,
 * forward passes (forward mode) fill tangents from a seed on the inputs.
 * Buffers are allocated once and reused by every pass. At a point where some
 * partial is infinite or NaN the passes run in their careful form
 * (careful.ts), so that every mode gives the same sum over paths.
 */
import type { NodeId, Operand } from '../ops/index.js';
import { entryBuffer } from '../ops/parallel.js';
import type { BlockEdge } from './blocks.js';
import { CarefulPasses } from './careful.js';
import type { DependenceEdge, StepGraph } from './dependence.js';
import { partialRulesOf, rulesOf, type Step, type StepRules } from './linear/index.js';
import type { Linearization } from './linearize.js';
import type { Plan } from './plan.js';
import { neededSteps } from './varying.js';

/** Which of the two pass buffers a call uses: backward passes fill cotangents, forward passes tangents. */
export type Direction = 'reverse' | 'forward' | 'both';

export class Passes {
  /** Made at first use: a call that only goes one way never holds the other buffer. */
  private cotangentBuffer: Float64Array | null = null;
  private tangentBuffer: Float64Array | null = null;
  /** The edges with something to apply (a nonzero partial), in tape order, each with its step. */
  readonly edges: readonly BlockEdge[];
  readonly steps: readonly Step[];
  /** Each step's kernels, looked up once: passes over small graphs are mostly dispatch. */
  private readonly kernels: readonly StepRules<Step>[];
  /** The steps whose results reach the output (forward) or the inputs (reverse), in pass order. */
  private readonly forwardSteps: Int32Array;
  private readonly reverseSteps: Int32Array;
  /** Every edge, zero partials included: the value depends on them. */
  private readonly dependenceEdges: readonly DependenceEdge[];
  private readonly scratch: Float64Array;
  /** Ranges of the buffers that passes write: the active nodes. */
  private readonly activeRanges: readonly Operand[];
  readonly output: Operand;
  private readonly isActive: Uint8Array;
  /** Where the values the partials read are: looked at once per point. */
  private readonly partialRanges: readonly Operand[];
  /** The wrt inputs that passes seed, with their operands. */
  private readonly seeded: readonly (readonly [NodeId, Operand])[];
  private carefulPasses: CarefulPasses | null = null;
  private nonFinite = false;

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
    const needed = neededSteps(this.edges, lin.wrt, lin.output, plan.tape.length);
    this.forwardSteps = Int32Array.from(needed.forward);
    this.reverseSteps = Int32Array.from(needed.reverse);
    this.scratch = entryBuffer(this.steps.reduce((size, step) => Math.max(size, rulesOf(step).scratchSize(step)), 0));
    this.activeRanges = lin.active.map(operand);
    this.output = operand(lin.output);
    this.isActive = new Uint8Array(plan.tape.length);
    for (const id of lin.active) this.isActive[id] = 1;
    this.partialRanges = [...new Set(lin.partialNodes)].map(operand);
    this.seeded = lin.wrt.filter((w) => this.isActive[w]).map((w) => [w, operand(w)] as const);
  }

  get cotangent(): Float64Array {
    return (this.cotangentBuffer ??= entryBuffer(this.plan.values.length));
  }

  get tangent(): Float64Array {
    return (this.tangentBuffer ??= entryBuffer(this.plan.values.length));
  }

  /** How many pass buffers exist once a call going `direction` has made what it needs. */
  buffersAfter(direction: Direction): number {
    const cotangent = this.cotangentBuffer !== null || direction !== 'forward';
    const tangent = this.tangentBuffer !== null || direction !== 'reverse';
    return Number(cotangent) + Number(tangent);
  }

  /** Whether some partial is infinite or NaN at the current point: every pass then runs in the careful form. */
  get careful(): boolean {
    return this.nonFinite;
  }

  /** Looks at the partials after each forward pass; the ordinary case costs this one scan. */
  inspectPartials(): void {
    const v = this.plan.values;
    // x·0 is 0 for a finite x and NaN for ±∞ and NaN: sums say whether any partial is not finite. Two of them, in
    // any order, so that each addition need not wait for the one before.
    let [even, odd] = [0, 0];
    for (const { offset, size } of this.partialRanges) {
      const end = offset + size;
      let e = offset;
      for (; e + 1 < end; e += 2) {
        even += v[e]! * 0;
        odd += v[e + 1]! * 0;
      }
      if (e < end) even += v[e]! * 0;
    }
    this.nonFinite = Number.isNaN(even + odd);
  }

  private clear(buffer: Float64Array): void {
    for (const { offset, size } of this.activeRanges) buffer.fill(0, offset, offset + size);
  }

  /** Reverse mode: cotangents of every active node for the output seed `seed` (m numbers). */
  backwardPass(seed: ArrayLike<number>): void {
    this.clear(this.cotangent);
    this.cotangent.set(seed, this.output.offset);
    this.runBackward(this.nonFinite || !allFinite(seed));
  }

  /** Reverse mode seeded with the one-hot vector eᵢ: row i of the Jacobian. */
  oneHotBackwardPass(i: number): void {
    this.clear(this.cotangent);
    this.cotangent[this.output.offset + i] = 1;
    this.runBackward(this.nonFinite);
  }

  private runBackward(careful: boolean): void {
    const { values } = this.plan;
    const { steps, kernels, cotangent, scratch } = this;
    if (careful) {
      const passes = this.carefulForm();
      passes.start(cotangent, [[this.lin.output, this.output]]);
      passes.run('reverse', values, steps, this.edges, kernels);
      return;
    }
    const needed = this.reverseSteps;
    for (let t = needed.length - 1; t >= 0; t--) {
      const s = needed[t]!;
      kernels[s]!.pullback(steps[s]!, values, cotangent, scratch);
    }
  }

  /** Forward mode: tangents of every active node for input tangents `seeds` (one per wrt input). */
  forwardPass(seeds: readonly ArrayLike<number>[]): void {
    this.clear(this.tangent);
    this.lin.wrt.forEach((w, k) => {
      const operand = this.plan.operands[w];
      if (operand !== undefined && this.isActive[w]) this.tangent.set(seeds[k]!, operand.offset);
    });
    this.runForward(this.nonFinite || !seeds.every(allFinite));
  }

  /** Forward mode seeded with the one-hot tangent on entry k of input `input`: a column of the Jacobian. */
  oneHotForwardPass(input: NodeId, k: number): void {
    this.clear(this.tangent);
    const operand = this.plan.operands[input];
    if (operand !== undefined && this.isActive[input]) this.tangent[operand.offset + k] = 1;
    this.runForward(this.nonFinite);
  }

  private runForward(careful: boolean): void {
    const { values } = this.plan;
    const { steps, kernels, tangent, scratch } = this;
    if (careful) {
      const passes = this.carefulForm();
      passes.start(tangent, this.seeded);
      passes.run('forward', values, steps, this.edges, kernels);
      return;
    }
    const needed = this.forwardSteps;
    for (let t = 0; t < needed.length; t++) {
      const s = needed[t]!;
      kernels[s]!.pushforward(steps[s]!, values, tangent, scratch);
    }
  }

  /** The careful form's buffers, made the first time a point needs them. */
  private carefulForm(): CarefulPasses {
    this.carefulPasses ??= new CarefulPasses(this.plan.values.length, this.plan.tape.length);
    return this.carefulPasses;
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

function allFinite(seed: ArrayLike<number>): boolean {
  for (let k = 0; k < seed.length; k++) if (!Number.isFinite(seed[k])) return false;
  return true;
}
