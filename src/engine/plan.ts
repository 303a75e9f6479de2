/**
 * A forward pass over the part of the tape that some roots need: every node
 * gets a fixed place in one value buffer (in a value-only plan, a place that
 * nodes whose lives do not overlap share), constants are written once, and
 * `run` evaluates the nodes in tape order without allocating, runs of
 * element-wise steps as fused loops (fusion.ts).
 */
import type { Tape } from '../graph/index.js';
import {
  OPS,
  type NodeId,
  type Operand,
  type OpName,
  type OpSpec,
  type Param,
  type PieceReduction,
} from '../ops/index.js';
import { entryBuffer } from '../ops/parallel.js';
import {
  elementwiseLoop,
  OPERAND_STEPS,
  operandPatternOf,
  runElementwiseLoop,
  type ElementwiseLoop,
} from './compiled.js';
import {
  copyPieces,
  FUSE_FROM,
  fuseForward,
  MAX_LOOP_STEPS,
  fusibleForward,
  readsBehind,
  runsOf,
  type CopyPiece,
  type ForwardStep,
  type FusedForwardLoop,
  runForwardLoop,
} from './fusion.js';
import { reduceShared, worthSharingReduction } from './threads.js';

/** Where each node a plan needs lives in its value buffer, laid out before the buffer is allocated. */
export interface PlanLayout {
  /** Where each needed node lives (undefined for nodes not needed). */
  readonly operands: readonly (Operand | undefined)[];
  /** The entries of the value buffer. */
  readonly entries: number;
}

/** The layout of a plan for these roots: the nodes they need, one place each; nothing is allocated yet. */
export function planLayout(tape: Tape, roots: readonly NodeId[]): PlanLayout {
  const needed = new Uint8Array(tape.length);
  for (const r of roots) needed[r] = 1;
  for (let id = tape.length - 1; id >= 0; id--) {
    if (needed[id]) for (const a of tape.args(id)) needed[a] = 1;
  }
  const operands: (Operand | undefined)[] = new Array(tape.length);
  let entries = 0;
  for (let id = 0; id < tape.length; id++) {
    if (!needed[id]) continue;
    operands[id] = { offset: entries, size: tape.size(id), shape: tape.shape(id) };
    entries += tape.size(id);
  }
  return { operands, entries };
}

/** The bytes of a plan's value buffer, to be weighed against a memory limit before it is allocated. */
export const planBytes = (layout: PlanLayout): number => layout.entries * Float64Array.BYTES_PER_ELEMENT;

/** One node of the forward pass: its kernel, or for an element-wise node the loop of its scalar function. */
export interface PlanStep {
  readonly spec: OpSpec;
  readonly out: Operand;
  readonly args: readonly Operand[];
  readonly param: Param;
  readonly loop: ElementwiseLoop | null;
  /** For a reduction to one number large enough to do in pieces on two threads: how, and its operands' offsets. */
  readonly sharedReduction: { readonly pieces: PieceReduction; readonly operands: readonly number[] } | null;
  /** The loop's operand offsets (b unused by unary loops), and how far each moves with the output: 1 or 0. */
  readonly a: number;
  readonly aStep: number;
  readonly b: number;
  readonly bStep: number;
}

function step(spec: OpSpec, out: Operand, args: readonly Operand[], param: Param): PlanStep {
  // How an element-wise node reads its operands (a scalar is broadcast); null for a node with its own kernel.
  const pattern = spec.scalar === undefined ? null : operandPatternOf(out, args);
  const [aStep, bStep] = pattern === null ? [0, 0] : OPERAND_STEPS[pattern];
  return {
    spec,
    out,
    args,
    param,
    loop: pattern === null ? null : elementwiseLoop(spec.scalar!, pattern),
    sharedReduction:
      spec.pieces !== undefined && out.size === 1 && worthSharingReduction(args[0]!.size)
        ? { pieces: spec.pieces, operands: args.map((arg) => arg.offset) }
        : null,
    a: args[0]?.offset ?? 0,
    aStep,
    b: args[1]?.offset ?? 0,
    bStep,
  };
}

/** The pieces of each select or concat node's maps (found once: the maps are fixed with the graph). */
const pieces = new WeakMap<Param, CopyPiece[] | null>();

/** The pieces of a select or concat step whose maps are a few runs over its n entries; null for other steps. */
function piecesOf({ param, out }: PlanStep): CopyPiece[] | null {
  if (param.kind !== 'select' && param.kind !== 'concat') return null;
  let found = pieces.get(param);
  if (found === undefined)
    pieces.set(param, (found = copyPieces(param.kind === 'select' ? [param.map] : param.maps, out.size)));
  return found;
}

/**
 * Whether a step can join a fused loop over n entries (n at least `fuseFrom`) after the steps `run`: an
 * element-wise step, a copy that reads what they compute only at the entry the loop is at or the one before
 * (the loop reads other arguments at other entries, where they are), or a sum of n entries after at least one of
 * them.
 */
function fusible(step: PlanStep, n: number, fuseFrom: number, run: ReadonlySet<number>): boolean {
  if (n < fuseFrom) return false;
  const computed = (arg: Operand): boolean => run.has(arg.offset);
  // A sum's scalar is there once the loop has run: no step of the loop reads it.
  if (step.loop !== null) return fusibleForward(step, n) && step.args.every((a) => a.size === n || !computed(a));
  if (step.spec === OPS.sum) return run.size > 0 && step.args[0]!.size === n;
  const copied = piecesOf(step);
  return (
    step.out.size === n &&
    copied !== null &&
    step.args.every((a, i) => !computed(a) || (a.size === n && readsBehind(copied, i)))
  );
}

/** How a plan runs its forward pass. */
export interface PlanOptions {
  /** Element-wise steps over at least this many entries are fused (Infinity: none, as tests compare). */
  readonly fuseFrom?: number;
  /**
   * Only the roots' values are ever read (a value-only plan, which no kink report looks at): intermediates that
   * operations with special points read are not kept either.
   */
  readonly readsRootsOnly?: boolean;
}

const NO_OFFSETS: ReadonlySet<number> = new Set();

/**
 * Which steps run together: runs of consecutive steps over the same n entries (n ≥ fuseFrom) that `fusible`
 * accepts, at most MAX_LOOP_STEPS each, as indices into `steps`, each step in one run.
 */

function runsOfSteps(steps: readonly PlanStep[], fuseFrom: number): number[][] {
  // Where the steps of the run being grown put their outputs (offsets are distinct in a plan's first layout).
  let current: readonly number[] | null = null;
  const computed = new Set<number>();
  return runsOf(
    steps.map((_, i) => i),
    (run, i) => {
      if (run !== current) {
        current = run;
        computed.clear();
        for (const r of run) computed.add(steps[r]!.out.offset);
      }
      const first = steps[run[0]!]!;
      const n = first.out.size;
      const joins =
        run.length < MAX_LOOP_STEPS &&
        fusible(first, n, fuseFrom, NO_OFFSETS) &&
        fusible(steps[i]!, n, fuseFrom, computed);
      if (joins) computed.add(steps[i]!.out.offset);
      return joins;
    },
  );
}

/** A step of a fused loop: an element-wise step calls its scalar function, a copy reads its pieces, a sum adds. */
function forwardStep(step: PlanStep): ForwardStep {
  if (step.loop !== null) return { scalar: step.spec.scalar!, out: step.out, args: step.args };
  return step.spec === OPS.sum
    ? { out: step.out, arg: step.args[0]! }
    : { out: step.out, args: step.args, pieces: piecesOf(step)! };
}

/** Operations with their own kernel that write every entry of their output on each pass. */
const WRITES_ALL: ReadonlySet<OpName> = new Set<OpName>(['select', 'concat']);

/**
 * Where a value-only plan puts its nodes: inputs, constants and roots keep a place of their own; a computed node
 * takes its place when its run starts and gives it back once the last run that reads it has run, for a later
 * node of its size. The pass then works over a few arrays that stay in cache instead of a place per node. Only
 * steps known to write every entry of their output each pass share places (element-wise steps, selections and
 * array literals): another kernel may leave entries it knows to be 0 as the fresh buffer holds them, and keeps a
 * place of its own. A node that only its own fused loop reads (`stored` unset) lives in a local of the loop and
 * needs no entries: it gets an offset past the buffer's end, distinct from the loop's other nodes', which nothing
 * reads.
 */
function reusedLayout(
  tape: Tape,
  operands: readonly (Operand | undefined)[],
  ids: readonly NodeId[],
  runs: readonly (readonly number[])[],
  runOf: Int32Array,
  kept: Uint8Array,
  stored: Uint8Array,
): PlanLayout {
  const own = Uint8Array.from(kept);
  for (const id of ids) if (!(OPS[tape.op(id)].scalar !== undefined || WRITES_ALL.has(tape.op(id)))) own[id] = 1;
  // The last run that reads each computed node (its own, if no later one does), runs being in order.
  const lastRead = Int32Array.from(runOf);
  for (const id of ids) for (const a of tape.args(id)) if (runOf[a]! >= 0) lastRead[a] = runOf[id]!;
  const freedAfter = runs.map((): NodeId[] => []);
  for (const id of ids) if (!own[id]) freedAfter[lastRead[id]!]!.push(id);
  const placed: (Operand | undefined)[] = new Array(operands.length);
  let entries = 0;
  const place = (id: NodeId, offset: number): void => {
    const { size, shape } = operands[id]!;
    placed[id] = { offset, size, shape };
  };
  for (let id = 0; id < operands.length; id++)
    if (operands[id] !== undefined && (runOf[id]! < 0 || own[id])) {
      place(id, entries);
      entries += operands[id]!.size;
    }
  const free = new Map<number, number[]>();
  const inLoop = runs.map((): NodeId[] => []);
  runs.forEach((run, r) => {
    for (const i of run) {
      const id = ids[i]!;
      if (placed[id] !== undefined) continue;
      if (run.length > 1 && !stored[id]) {
        inLoop[r]!.push(id);
        continue;
      }
      const size = operands[id]!.size;
      const offset = free.get(size)?.pop();
      if (offset !== undefined) place(id, offset);
      else {
        place(id, entries);
        entries += size;
      }
    }
    for (const id of freedAfter[r]!) {
      if (placed[id] === undefined) continue;
      const { offset, size } = placed[id]!;
      const list = free.get(size);
      if (list === undefined) free.set(size, [offset]);
      else list.push(offset);
    }
  });
  // Distinct within each loop, which is where they name its locals.
  for (const loopNodes of inLoop) {
    let past = entries;
    for (const id of loopNodes) {
      place(id, past);
      past += operands[id]!.size;
    }
  }
  return { operands: placed, entries };
}

export class Plan {
  readonly values: Float64Array;
  /** Where each needed node lives in `values` (undefined for nodes not needed). */
  readonly operands: readonly (Operand | undefined)[];
  /** The nodes the forward pass computes, in tape order: not constants (written once) nor inputs. */
  readonly steps: readonly PlanStep[];

  /** What `run` runs: the steps, consecutive element-wise ones fused. */
  private readonly schedule: readonly (PlanStep | FusedForwardLoop)[];

  /**
   * `layout` is made from the roots unless given: a caller lays it out first to weigh its size (a value-only plan
   * lays its nodes out again, reusing places, in at most as many entries).
   */
  constructor(
    readonly tape: Tape,
    roots: readonly NodeId[],
    layout: PlanLayout = planLayout(tape, roots),
    { fuseFrom = FUSE_FROM, readsRootsOnly = false }: PlanOptions = {},
  ) {
    const ids: NodeId[] = [];
    for (let id = 0; id < tape.length; id++)
      if (layout.operands[id] !== undefined && tape.op(id) !== 'constant' && tape.op(id) !== 'input') ids.push(id);
    const stepsAt = (operands: readonly (Operand | undefined)[]): PlanStep[] =>
      ids.map((id) =>
        step(
          OPS[tape.op(id)],
          operands[id]!,
          Array.from(tape.args(id), (a) => operands[a]!),
          tape.param(id),
        ),
      );
    let steps = stepsAt(layout.operands);
    const runs = runsOfSteps(steps, fuseFrom);
    // What is read after the pass: the roots, and (for the kink report) every operand of a step with special
    // points. A fused loop keeps the other values that only its own steps read in locals, and never writes them.
    const kept = new Uint8Array(tape.length);
    for (const r of roots) kept[r] = 1;
    if (!readsRootsOnly)
      ids.forEach((id, i) => {
        if (steps[i]!.spec.special !== undefined) for (const node of [id, ...tape.args(id)]) kept[node] = 1;
      });
    const runOf = new Int32Array(tape.length).fill(-1);
    runs.forEach((run, r) => run.forEach((i) => (runOf[ids[i]!] = r)));
    const stored = Uint8Array.from(kept);
    for (const id of ids) for (const a of tape.args(id)) if (runOf[a] !== runOf[id]) stored[a] = 1;
    const { operands, entries } = readsRootsOnly
      ? reusedLayout(tape, layout.operands, ids, runs, runOf, kept, stored)
      : layout;
    if (readsRootsOnly) steps = stepsAt(operands);
    this.values = entryBuffer(entries);
    this.operands = operands;
    for (let id = 0; id < tape.length; id++)
      if (operands[id] !== undefined && tape.op(id) === 'constant')
        OPS.constant.value(this.values, operands[id]!, [], tape.param(id));
    this.steps = steps;
    this.schedule = runs.map((run) =>
      run.length === 1
        ? steps[run[0]!]!
        : fuseForward(
            run.map((i) => forwardStep(steps[i]!)),
            run.map((i) => stored[ids[i]!] === 1),
          ),
    );
  }

  /** The fused loops `run` runs, and their sources (for tests and benchmarks). */
  get fusedLoops(): number {
    return this.fusedSources.length;
  }

  /** The fused loops (for tests). */
  get fusedForwardLoops(): FusedForwardLoop[] {
    return this.schedule.flatMap((step) => ('kernel' in step ? [step] : []));
  }

  get fusedSources(): string[] {
    return this.fusedForwardLoops.map((loop) => loop.source);
  }

  operand(id: NodeId): Operand {
    const operand = this.operands[id];
    if (operand === undefined) throw new Error(`internal: node ${id} is not in this plan`);
    return operand;
  }

  setInput(id: NodeId, data: ArrayLike<number>): void {
    const operand = this.operands[id];
    // An input that no root needs has no place; its value cannot matter. Data that is its place is not copied.
    if (operand !== undefined && !isPlacedAt(data, this.values, operand.offset)) this.values.set(data, operand.offset);
  }

  /** The forward pass. */
  run(): void {
    const v = this.values;
    for (const step of this.schedule) {
      if ('kernel' in step) runForwardLoop(step, v);
      else if (step.loop === null) {
        const { sharedReduction: shared, args, out } = step;
        const folded = shared === null ? null : reduceShared(shared.pieces, shared.operands, args[0]!.size, v);
        if (folded === null) step.spec.value(v, out, args, step.param);
        else v[out.offset] = folded;
      } else runElementwiseLoop(step.loop, v, step.out.offset, step.a, step.aStep, step.b, step.bStep, step.out.size);
    }
  }

  /** The values of a root (another node's values are there only where some step or the kink report reads them). */
  read(id: NodeId): Float64Array {
    const { offset, size } = this.operand(id);
    return this.values.slice(offset, offset + size);
  }
}

/** Whether `entries` is the array of `values` from `offset` on (an input array the caller filled): nothing to copy. */
export const isPlacedAt = (entries: ArrayLike<number>, values: Float64Array, offset: number): boolean =>
  entries instanceof Float64Array &&
  entries.buffer === values.buffer &&
  entries.byteOffset === values.byteOffset + offset * Float64Array.BYTES_PER_ELEMENT;
