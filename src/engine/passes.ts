/**
 * Derivative passes over a linearised graph whose forward pass has run:
 * backward passes (reverse mode) fill cotangents from a seed on the output,
 * forward passes (forward mode) fill tangents from a seed on the inputs.
 * Buffers are allocated once and reused by every pass. At a point where some
 * partial is infinite or NaN the passes run in their careful form
 * (careful.ts), so that every mode gives the same sum over paths.
 */
import type { NodeId, Operand } from '../ops/index.js';
import type { BlockEdge } from './blocks.js';
import { CarefulPasses } from './careful.js';
import type { DependenceEdge, StepGraph } from './dependence.js';
import {
  FUSE_FROM,
  fusePullback,
  fusiblePullback,
  pullbackLength,
  runsOf,
  type FusedLoop,
  type CotangentUse,
  type FusedPullbackKernel,
  type PullbackEntryStep,
} from './fusion.js';
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
  /** The reverse pass's steps in the order it runs them, runs of entry-wise steps over one n fused. */
  private readonly reverseSchedule: readonly (number | FusedLoop<FusedPullbackKernel>)[];
  /** Every edge, zero partials included: the value depends on them. */
  private readonly dependenceEdges: readonly DependenceEdge[];
  private readonly scratch: Float64Array;
  /** Ranges of the buffers that passes write: the active nodes. */
  private readonly activeRanges: readonly Operand[];
  /** The active ranges but those whose cotangents only a fused loop's locals hold: what a backward pass clears. */
  private readonly reverseRanges: readonly Operand[];
  readonly output: Operand;
  private readonly isActive: Uint8Array;
  /** Where the values the partials read are: looked at once per point. */
  private readonly partialRanges: readonly Operand[];
  /** The wrt inputs that passes seed, with their operands. */
  private readonly seeded: readonly (readonly [NodeId, Operand])[];
  private carefulPasses: CarefulPasses | null = null;
  private nonFinite = false;

  /** Steps over at least `fuseFrom` entries are fused (Infinity: none, as tests compare). */
  constructor(
    readonly plan: Plan,
    readonly lin: Linearization,
    fuseFrom = FUSE_FROM,
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
    const reverse = reverseSchedule(
      this.steps,
      [...needed.reverse].reverse(),
      fuseFrom,
      new Set([operand(lin.output).offset]),
      new Set(lin.wrt.flatMap((w) => (plan.operands[w] === undefined ? [] : [plan.operand(w).offset]))),
    );
    this.reverseSchedule = reverse.schedule;
    this.scratch = new Float64Array(
      this.steps.reduce((size, step) => Math.max(size, rulesOf(step).scratchSize(step)), 0),
    );
    this.activeRanges = lin.active.map(operand);
    this.reverseRanges = this.activeRanges.filter((r) => !reverse.localOnly.has(r.offset));
    this.output = operand(lin.output);
    this.isActive = new Uint8Array(plan.tape.length);
    for (const id of lin.active) this.isActive[id] = 1;
    this.partialRanges = [...new Set(lin.partialNodes)].map(operand);
    this.seeded = lin.wrt.filter((w) => this.isActive[w]).map((w) => [w, operand(w)] as const);
  }

  /** The fused loops of the reverse pass, and their sources (for tests and benchmarks). */
  get fusedLoops(): number {
    return this.fusedSources.length;
  }

  get fusedSources(): string[] {
    return this.reverseSchedule.flatMap((s) => (typeof s === 'number' ? [] : [s.source]));
  }

  get cotangent(): Float64Array {
    return (this.cotangentBuffer ??= new Float64Array(this.plan.values.length));
  }

  get tangent(): Float64Array {
    return (this.tangentBuffer ??= new Float64Array(this.plan.values.length));
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

  private clear(buffer: Float64Array, ranges = this.activeRanges): void {
    for (const { offset, size } of ranges) buffer.fill(0, offset, offset + size);
  }

  /** Reverse mode: cotangents of every active node for the output seed `seed` (m numbers). */
  backwardPass(seed: ArrayLike<number>): void {
    const careful = this.nonFinite || !allFinite(seed);
    this.clear(this.cotangent, careful ? this.activeRanges : this.reverseRanges);
    this.cotangent.set(seed, this.output.offset);
    this.runBackward(careful);
  }

  /** Reverse mode seeded with the one-hot vector eᵢ: row i of the Jacobian. */
  oneHotBackwardPass(i: number): void {
    this.clear(this.cotangent, this.nonFinite ? this.activeRanges : this.reverseRanges);
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
    for (const s of this.reverseSchedule) {
      if (typeof s === 'number') kernels[s]!.pullback(steps[s]!, values, cotangent, scratch);
      else s.kernel(values, cotangent, s.offsets, s.n);
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

/**
 * The steps `order` (indices into `steps`, in pass order) with runs of fusible pullbacks as fused loops, and the
 * offsets of the nodes whose cotangents live in one loop's locals alone (no other step, seed or caller touches
 * them: the pass need not clear them). `seeded`: offsets a pass writes before its steps; `read`: offsets read
 * after it.
 */
function reverseSchedule(
  steps: readonly Step[],
  order: readonly number[],
  fuseFrom: number,
  seeded: ReadonlySet<number>,
  read: ReadonlySet<number>,
): { schedule: (number | FusedLoop<FusedPullbackKernel>)[]; localOnly: Set<number> } {
  const lengthOf = (s: number): number => {
    const step = steps[s]!;
    return fusiblePullback(step, step.kind === 'row' ? step.arg.size : step.out.size, []) ? pullbackLength(step) : 0;
  };
  const runs = runsOf(order, (run, s) => {
    const n = lengthOf(run[0]!);
    return (
      n >= fuseFrom &&
      fusiblePullback(
        steps[s]!,
        n,
        run.map((r) => steps[r]!),
      )
    );
  });
  // Which run adds to (writes) and which reads each node's cotangent: a node outside a run's reach is loaded
  // or stored by it.
  const runOf = new Int32Array(steps.length).fill(-1);
  runs.forEach((run, r) => run.forEach((s) => (runOf[s] = r)));
  const writers = new Map<number, Set<number>>();
  const readers = new Map<number, Set<number>>();
  const note = (map: Map<number, Set<number>>, offset: number, r: number): void => {
    const set = map.get(offset);
    if (set === undefined) map.set(offset, new Set([r]));
    else set.add(r);
  };
  for (const s of order) {
    note(writers, steps[s]!.arg.offset, runOf[s]!);
    note(readers, steps[s]!.out.offset, runOf[s]!);
  }
  const others = (map: Map<number, Set<number>>, offset: number, r: number): boolean =>
    [...(map.get(offset) ?? [])].some((other) => other !== r);
  const localOnly = new Set<number>();
  const schedule = runs.map((run, r) => {
    if (run.length === 1) return run[0]!;
    const use = (offset: number): CotangentUse => {
      const load = seeded.has(offset) || others(writers, offset, r);
      const store = read.has(offset) || others(readers, offset, r);
      if (!load && !store) localOnly.add(offset);
      return { load, store };
    };
    return fusePullback(
      run.map((s) => steps[s] as PullbackEntryStep),
      use,
    );
  });
  return { schedule, localOnly };
}

function allFinite(seed: ArrayLike<number>): boolean {
  for (let k = 0; k < seed.length; k++) if (!Number.isFinite(seed[k])) return false;
  return true;
}
