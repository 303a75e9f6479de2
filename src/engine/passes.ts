/**
 * Derivative passes over a linearised graph whose forward pass has run:
 * backward passes (reverse mode) fill cotangents from a seed on the output,
 * forward passes (forward mode) fill tangents from a seed on the inputs.
 * Buffers are allocated once and reused by every pass. At a point where some
 * partial is infinite or NaN the passes run in their careful form
 * (careful.ts), so that every mode gives the same sum over paths.
 */
import { type NodeId, type Operand, timesZeroInPieces, timesZeroSum } from '../ops/index.js';
import { entryBuffer } from '../ops/parallel.js';
import type { BlockEdge } from './blocks.js';
import { CarefulPasses } from './careful.js';
import type { DependenceEdge, StepGraph } from './dependence.js';
import {
  FUSE_FROM,
  fusePass,
  fusibleEntryStep,
  runsOf,
  type CarriedUse,
  type EntryStep,
  type FusedLoop,
  type FusedPassKernel,
  runPassLoop,
} from './fusion.js';
import { partialRulesOf, rulesOf, type Step, type StepRules } from './linear/index.js';
import type { Linearization } from './linearize.js';
import type { Plan } from './plan.js';
import { reduceShared, worthSharingReduction } from './threads.js';
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
  /**
   * The steps whose results reach the output (forward) or the inputs (reverse), in the order each pass runs
   * them, runs of entry-wise steps over one n as fused loops.
   */
  private readonly forwardSchedule: readonly ScheduledStep[];
  private readonly reverseSchedule: readonly ScheduledStep[];
  /** Every edge, zero partials included: the value depends on them. */
  private readonly dependenceEdges: readonly DependenceEdge[];
  private readonly scratch: Float64Array;
  /** Ranges of the buffers that passes write: the active nodes. */
  private readonly activeRanges: readonly Operand[];
  /** The active ranges but those only a fused loop's locals hold: what a backward (forward) pass clears. */
  private readonly reverseRanges: readonly Operand[];
  private readonly forwardRanges: readonly Operand[];
  readonly output: Operand;
  private readonly isActive: Uint8Array;
  /** Where the values the partials read are: looked at once per point. */
  private readonly partialRanges: readonly Operand[];
  /** The wrt inputs that passes seed, with their operands. */
  private readonly seeded: readonly (readonly [NodeId, Operand])[];
  private carefulPasses: CarefulPasses | null = null;
  /** Pass buffers no pass has written yet. */
  private readonly untouched = new Set<Float64Array>();
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
    const outputOffset = new Set([operand(lin.output).offset]);
    const wrtOffsets = new Set(lin.wrt.flatMap((w) => (plan.operands[w] === undefined ? [] : [operand(w).offset])));
    const reverse = passSchedule(
      'reverse',
      this.steps,
      [...needed.reverse].reverse(),
      fuseFrom,
      outputOffset,
      wrtOffsets,
    );
    const forward = passSchedule('forward', this.steps, needed.forward, fuseFrom, wrtOffsets, outputOffset);
    this.reverseSchedule = reverse.schedule;
    this.forwardSchedule = forward.schedule;
    this.scratch = entryBuffer(this.steps.reduce((size, step) => Math.max(size, rulesOf(step).scratchSize(step)), 0));
    this.activeRanges = lin.active.map(operand);
    const cleared =
      ({ localOnly, writtenWhole }: typeof reverse) =>
      (r: Operand) =>
        !localOnly.has(r.offset) && !writtenWhole.has(r.offset);
    this.reverseRanges = this.activeRanges.filter(cleared(reverse));
    this.forwardRanges = this.activeRanges.filter(cleared(forward));
    this.output = operand(lin.output);
    this.isActive = new Uint8Array(plan.tape.length);
    for (const id of lin.active) this.isActive[id] = 1;
    this.partialRanges = lin.checkedPartials.map(operand);
    this.seeded = lin.wrt.filter((w) => this.isActive[w]).map((w) => [w, operand(w)] as const);
  }

  /** The sources of the fused loops of the passes going `direction` (for tests and benchmarks). */
  fusedSources(direction: 'reverse' | 'forward'): string[] {
    const schedule = direction === 'reverse' ? this.reverseSchedule : this.forwardSchedule;
    return schedule.flatMap((s) => (typeof s === 'number' || 'first' in s ? [] : [s.source]));
  }

  get cotangent(): Float64Array {
    return (this.cotangentBuffer ??= this.zeroBuffer());
  }

  get tangent(): Float64Array {
    return (this.tangentBuffer ??= this.zeroBuffer());
  }

  /** A pass buffer as allocated: zero, so its first pass clears nothing (56 MB for a 10⁶ Hessian's first pass). */
  private zeroBuffer(): Float64Array {
    const buffer = entryBuffer(this.plan.values.length);
    this.untouched.add(buffer);
    return buffer;
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
    // Σ x·0 is NaN exactly where some partial is not finite (ops/finite.ts); a large partial's in pieces, on two
    // threads.
    let sum = 0;
    for (const { offset, size } of this.partialRanges) {
      const shared = worthSharingReduction(size) ? reduceShared(timesZeroInPieces, [offset], size, v) : null;
      sum += shared ?? timesZeroSum(v, offset, offset + size);
    }
    this.nonFinite = Number.isNaN(sum);
  }

  private clear(buffer: Float64Array, ranges = this.activeRanges): void {
    if (this.untouched.delete(buffer)) return;
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
      else if ('first' in s) kernels[s.first]!.pullbackFirst!(steps[s.first]!, values, cotangent);
      else runPassLoop(s, values, cotangent);
    }
  }

  /** Forward mode: tangents of every active node for input tangents `seeds` (one per wrt input). */
  forwardPass(seeds: readonly ArrayLike<number>[]): void {
    const careful = this.nonFinite || !seeds.every(allFinite);
    this.clear(this.tangent, careful ? this.activeRanges : this.forwardRanges);
    this.lin.wrt.forEach((w, k) => {
      const operand = this.plan.operands[w];
      if (operand !== undefined && this.isActive[w]) this.tangent.set(seeds[k]!, operand.offset);
    });
    this.runForward(careful);
  }

  /** Forward mode seeded with the one-hot tangent on entry k of input `input`: a column of the Jacobian. */
  oneHotForwardPass(input: NodeId, k: number): void {
    this.clear(this.tangent, this.nonFinite ? this.activeRanges : this.forwardRanges);
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
    for (const s of this.forwardSchedule) {
      if (typeof s === 'number') kernels[s]!.pushforward(steps[s]!, values, tangent, scratch);
      else if ('first' in s) kernels[s.first]!.pushforwardFirst!(steps[s.first]!, values, tangent);
      else runPassLoop(s, values, tangent);
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

/** A pass's schedule entry: a step (adding), a step that writes its target first (`first`), or a fused loop. */
type ScheduledStep = number | { readonly first: number } | FusedLoop<FusedPassKernel>;

/**
 * The steps `order` (indices into `steps`, in the order a pass going `direction` runs them) with runs of
 * entry-wise steps as fused loops, and the offsets of the nodes that live in one loop's locals alone (no other
 * step, seed or caller touches what is carried for them: the pass need not clear them). `seeded`: offsets a pass
 * writes before its steps; `read`: offsets read after it.
 */
function passSchedule(
  direction: 'reverse' | 'forward',
  steps: readonly Step[],
  order: readonly number[],
  fuseFrom: number,
  seeded: ReadonlySet<number>,
  read: ReadonlySet<number>,
): { schedule: ScheduledStep[]; localOnly: Set<number>; writtenWhole: Set<number> } {
  const lengthOf = (s: number): number => {
    const step = steps[s]!;
    const n = step.kind === 'row' ? step.arg.size : step.out.size;
    return fusibleEntryStep(step, n, [], direction) ? n : 0;
  };
  const runs = runsOf(order, (run, s) => {
    const n = lengthOf(run[0]!);
    return (
      n >= fuseFrom &&
      fusibleEntryStep(
        steps[s]!,
        n,
        run.map((r) => steps[r]!),
        direction,
      )
    );
  });
  // Which runs read what each node of a fused loop carries (per node, the one run that reads it, or MANY), and which
  // run adds to (writes) it first: a node that another run reads is stored, one that another wrote first is loaded.
  const runOf = new Int32Array(steps.length).fill(-1);
  runs.forEach((run, r) => run.forEach((s) => (runOf[s] = r)));
  const reader = new Map<number, number>();
  for (const run of runs)
    if (run.length > 1)
      for (const s of run) for (const { offset } of [steps[s]!.out, steps[s]!.arg]) reader.set(offset, NONE);
  const note = (map: Map<number, number>, offset: number, r: number): void => {
    const seen = map.get(offset);
    if (seen !== undefined) map.set(offset, seen === NONE || seen === r ? r : MANY);
  };
  const firstWriter = new Map<number, number>();
  for (const s of order) {
    const [from, to] = direction === 'reverse' ? [steps[s]!.out, steps[s]!.arg] : [steps[s]!.arg, steps[s]!.out];
    note(reader, from.offset, runOf[s]!);
    if (!firstWriter.has(to.offset)) firstWriter.set(to.offset, runOf[s]!);
  }
  const others = (map: Map<number, number>, offset: number, r: number): boolean => {
    const seen = map.get(offset)!;
    return seen !== NONE && seen !== r;
  };
  const localOnly = new Set<number>();
  const writtenWhole = new Set<number>();
  const schedule = runs.map((run, r): ScheduledStep => {
    if (run.length === 1) {
      // A step alone that writes its target first writes all of it where its kind can (a select: a copy, not
      // a sum over a cleared range), and the pass clears nothing there.
      const s = run[0]!;
      const step = steps[s]!;
      const target = direction === 'reverse' ? step.arg : step.out;
      const rules = rulesOf(step);
      const first = direction === 'reverse' ? rules.pullbackFirst : rules.pushforwardFirst;
      if (first === undefined || firstWriter.get(target.offset) !== r || seeded.has(target.offset)) return s;
      writtenWhole.add(target.offset);
      return { first: s };
    }
    const use = (offset: number): CarriedUse => {
      // Loaded only where some other run (or the seed) wrote it before: another that adds to it after this loop
      // finds the entries this loop stores, every one of them, so its range needs no clearing either.
      const first = firstWriter.get(offset);
      const load = seeded.has(offset) || (first !== undefined && first !== r);
      const store = read.has(offset) || others(reader, offset, r);
      if (!load && !store) localOnly.add(offset);
      if (!load && store && first === r) writtenWhole.add(offset);
      return { load, store };
    };
    return fusePass(
      direction,
      run.map((s) => steps[s] as EntryStep),
      use,
    );
  });
  return { schedule, localOnly, writtenWhole };
}

/** No run, or more than one, in passSchedule's per-node record. */
const NONE = -1;
const MANY = -2;

/**
 * Whether every entry is finite. A Float64Array goes through the partials' own check, so that a process compiles
 * one loop for both: the CLI checks its inputs with this, and a large input (W of W*x) is among the partials too.
 */
export function allFinite(entries: ArrayLike<number>): boolean {
  if (entries instanceof Float64Array) return !Number.isNaN(timesZeroSum(entries, 0, entries.length));
  for (let k = 0; k < entries.length; k++) if (!Number.isFinite(entries[k])) return false;
  return true;
}
