/**
 * A forward pass over the part of the tape that some roots need: every node
 * gets a fixed place in one value buffer, constants are written once, and
 * `run` evaluates the nodes in tape order without allocating.
 */
import type { Tape } from '../graph/index.js';
import { OPS, type NodeId, type Operand, type OpSpec, type Param } from '../ops/index.js';
import { entryBuffer } from '../ops/parallel.js';
import { elementwiseLoop, type ElementwiseLoop, type OperandPattern } from './compiled.js';

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

export class Plan {
  readonly values: Float64Array;
  /** Where each needed node lives in `values` (undefined for nodes not needed). */
  readonly operands: readonly (Operand | undefined)[];
  /** The nodes the forward pass computes, in tape order: not constants (written once) nor inputs. */
  readonly steps: readonly PlanStep[];

  /** `layout` is made from the roots unless given: a caller lays it out first to weigh its size. */
  constructor(
    readonly tape: Tape,
    roots: readonly NodeId[],
    { operands, entries }: PlanLayout = planLayout(tape, roots),
  ) {
    this.values = entryBuffer(entries);
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
    for (const step of this.steps) {
      if (step.loop === null) step.spec.value(v, step.out, step.args, step.param);
      else step.loop(v, step.out.offset, step.a, step.b, step.out.size);
    }
  }

  read(id: NodeId): Float64Array {
    const { offset, size } = this.operand(id);
    return this.values.slice(offset, offset + size);
  }
}
