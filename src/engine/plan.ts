/**
 * A forward pass over the part of the tape that some roots need: every node
 * gets a fixed place in one value buffer, constants are written once, and
 * `run` evaluates the nodes in tape order without allocating.
 */
import type { Tape } from '../graph/index.js';
import { OPS, type NodeId, type Operand, type OpSpec, type Param } from '../ops/index.js';
import { elementwiseLoop, type ElementwiseLoop, type OperandPattern } from './compiled.js';
import { FUSE_FROM, fuseForward, fusibleForward, runsOf, type FusedForwardKernel, type FusedLoop } from './fusion.js';

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
  /** The loop's operand offsets (b unused by unary loops). */
  readonly a: number;
  readonly b: number;
}

/** How an element-wise node reads its operands (a scalar is broadcast), or null for a node with its own kernel. */
function operandPattern(spec: OpSpec, out: Operand, args: readonly Operand[]): OperandPattern | null {
  if (spec.scalar === undefined) return null;
  if (args.length === 1) return 'v';
  if (args.length !== 2) return null;
  const [aIsVector, bIsVector] = [args[0]!.size === out.size, args[1]!.size === out.size];
  return aIsVector && bIsVector ? 'vv' : aIsVector ? 'vs' : 'sv';
}

function step(spec: OpSpec, out: Operand, args: readonly Operand[], param: Param): PlanStep {
  const pattern = operandPattern(spec, out, args);
  return {
    spec,
    out,
    args,
    param,
    loop: pattern === null ? null : elementwiseLoop(spec.scalar!, pattern),
    a: args[0]?.offset ?? 0,
    b: args[1]?.offset ?? 0,
  };
}

/** Whether a step's loop can join a fused loop over n entries, n at least `fuseFrom`. */
const fusible = (step: PlanStep, n: number, fuseFrom: number): boolean =>
  step.loop !== null && n >= fuseFrom && fusibleForward({ scalar: step.spec.scalar!, ...step }, n);

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

/**
 * The steps as the forward pass runs them: runs of consecutive element-wise steps over the same n entries
 * (n ≥ fuseFrom) as one fused loop each, other steps one by one. `stored(out, run)`: whether a step of the run
 * must write its output to the buffer.
 */
function schedule(
  steps: readonly PlanStep[],
  fuseFrom: number,
  stored: (out: Operand, run: readonly PlanStep[]) => boolean,
): (PlanStep | FusedLoop<FusedForwardKernel>)[] {
  const runs = runsOf(steps, (run, step) => {
    const n = run[0]!.out.size;
    return fusible(run[0]!, n, fuseFrom) && fusible(step, n, fuseFrom);
  });
  return runs.map((run) =>
    run.length === 1
      ? run[0]!
      : fuseForward(
          run.map((step) => ({ scalar: step.spec.scalar!, out: step.out, args: step.args })),
          (out) => stored(out, run),
        ),
  );
}

/** Whether some step outside `run` reads `out`: those that only the run reads live in its locals alone. */
function readOutside(steps: readonly PlanStep[]): (out: Operand, run: readonly PlanStep[]) => boolean {
  const readers = new Map<number, PlanStep[]>();
  for (const step of steps)
    for (const arg of step.args) {
      const list = readers.get(arg.offset);
      if (list === undefined) readers.set(arg.offset, [step]);
      else list.push(step);
    }
  return (out, run) => (readers.get(out.offset) ?? []).some((reader) => !run.includes(reader));
}

export class Plan {
  readonly values: Float64Array;
  /** Where each needed node lives in `values` (undefined for nodes not needed). */
  readonly operands: readonly (Operand | undefined)[];
  /** The nodes the forward pass computes, in tape order: not constants (written once) nor inputs. */
  readonly steps: readonly PlanStep[];

  /** What `run` runs: the steps, consecutive element-wise ones fused. */
  private readonly schedule: readonly (PlanStep | FusedLoop<FusedForwardKernel>)[];

  /** `layout` is made from the roots unless given: a caller lays it out first to weigh its size. */
  constructor(
    readonly tape: Tape,
    roots: readonly NodeId[],
    { operands, entries }: PlanLayout = planLayout(tape, roots),
    { fuseFrom = FUSE_FROM, readsRootsOnly = false }: PlanOptions = {},
  ) {
    this.values = new Float64Array(entries);
    this.operands = operands;
    const steps = [];
    for (let id = 0; id < tape.length; id++) {
      const out = operands[id];
      if (out === undefined) continue;
      const op = tape.op(id);
      const args = Array.from(tape.args(id), (a) => operands[a]!);
      if (op === 'constant') OPS.constant.value(this.values, out, args, tape.param(id));
      else if (op !== 'input') steps.push(step(OPS[op], out, args, tape.param(id)));
    }
    this.steps = steps;
    // What is read after the pass: the roots, and (for the kink report) every operand of a step with special
    // points. A fused loop keeps the other values that only its own steps read in locals, and never writes them.
    const kept = new Set(roots.map((r) => operands[r]!.offset));
    if (!readsRootsOnly)
      for (const step of steps)
        if (step.spec.special !== undefined) for (const operand of [step.out, ...step.args]) kept.add(operand.offset);
    const outside = readOutside(steps);
    this.schedule = schedule(steps, fuseFrom, (out, run) => kept.has(out.offset) || outside(out, run));
  }

  /** The fused loops `run` runs, and their sources (for tests and benchmarks). */
  get fusedLoops(): number {
    return this.fusedSources.length;
  }

  get fusedSources(): string[] {
    return this.schedule.flatMap((step) => ('kernel' in step ? [step.source] : []));
  }

  operand(id: NodeId): Operand {
    const operand = this.operands[id];
    if (operand === undefined) throw new Error(`internal: node ${id} is not in this plan`);
    return operand;
  }

  setInput(id: NodeId, data: ArrayLike<number>): void {
    const operand = this.operands[id];
    // An input that no root needs has no place; its value cannot matter.
    if (operand !== undefined) this.values.set(data, operand.offset);
  }

  /** The forward pass. */
  run(): void {
    const v = this.values;
    for (const step of this.schedule) {
      if ('kernel' in step) step.kernel(v, step.offsets, step.n);
      else if (step.loop === null) step.spec.value(v, step.out, step.args, step.param);
      else step.loop(v, step.out.offset, step.a, step.b, step.out.size);
    }
  }

  /** The values of a root (another node's values are there only where some step or the kink report reads them). */
  read(id: NodeId): Float64Array {
    const { offset, size } = this.operand(id);
    return this.values.slice(offset, offset + size);
  }
}
