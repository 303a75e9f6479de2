/**
 * Structural dependence through a linearised graph: which output entries an
 * entry of some node feeds, and which input entries feed it. Only the kind of
 * each partial matters, never its numbers, so the answer is conservative.
 */
import type { NodeId, Operand } from '../ops/index.js';
import { asRowMajor } from '../shape.js';
import type { Step } from './kernels.js';

/** Marks every entry of `mask` when any entry of `source` is marked. */
function spread(source: Uint8Array, mask: Uint8Array): void {
  if (source.includes(1)) mask.fill(1);
}

/** Propagates a mark on an argument's entries to the node's entries. */
function forwardStep(step: Step, arg: Uint8Array, out: Uint8Array): void {
  switch (step.kind) {
    case 'elementwise':
      if (step.arg.size === 1 && step.out.size > 1) spread(arg, out);
      else for (let k = 0; k < out.length; k++) out[k]! |= arg[k]!;
      return;
    case 'select': {
      const { to, from } = step.map;
      for (let j = 0; j < to.length; j++) out[to[j]!]! |= arg[from[j]!]!;
      return;
    }
    case 'matmul': {
      const [r, c] = asRowMajor(step.out.shape);
      const [p, q] = asRowMajor(step.arg.shape);
      if (step.left !== null && step.right !== null) spread(arg, out);
      // out = arg·R: row i of out depends on row i of arg
      else if (step.left === null) for (let i = 0; i < r; i++) { if (arg.subarray(i * q, (i + 1) * q).includes(1)) out.fill(1, i * c, (i + 1) * c); }
      // out = L·arg: column j of out depends on column j of arg
      else for (let j = 0; j < c; j++) for (let i = 0; i < p; i++) if (arg[i * q + j]) { for (let k = 0; k < r; k++) out[k * c + j] = 1; break; }
      return;
    }
    case 'row':
    case 'dense':
      spread(arg, out);
      return;
  }
}

/** Propagates a mark on a node's entries back to its argument's entries. */
function backwardStep(step: Step, out: Uint8Array, arg: Uint8Array): void {
  switch (step.kind) {
    case 'elementwise':
      if (step.arg.size === 1 && step.out.size > 1) spread(out, arg);
      else for (let k = 0; k < arg.length; k++) arg[k]! |= out[k]!;
      return;
    case 'select': {
      const { to, from } = step.map;
      for (let j = 0; j < to.length; j++) arg[from[j]!]! |= out[to[j]!]!;
      return;
    }
    case 'matmul': {
      const [r, c] = asRowMajor(step.out.shape);
      const [p, q] = asRowMajor(step.arg.shape);
      if (step.left !== null && step.right !== null) spread(out, arg);
      else if (step.left === null) for (let i = 0; i < r; i++) { if (out.subarray(i * c, (i + 1) * c).includes(1)) arg.fill(1, i * q, (i + 1) * q); }
      else for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) if (out[i * c + j]) { for (let k = 0; k < p; k++) arg[k * q + j] = 1; break; }
      return;
    }
    case 'row':
    case 'dense':
      spread(out, arg);
      return;
  }
}

export interface StepGraph {
  readonly steps: readonly Step[];
  /** The node each step belongs to and the argument it differentiates, parallel to `steps`. */
  readonly nodes: readonly NodeId[];
  readonly args: readonly NodeId[];
  readonly sizes: ReadonlyMap<NodeId, Operand>;
}

const maskOf = (masks: Map<NodeId, Uint8Array>, id: NodeId, size: number): Uint8Array => {
  let mask = masks.get(id);
  if (mask === undefined) masks.set(id, (mask = new Uint8Array(size)));
  return mask;
};

/** The entries of `target` that entry `entry` of `node` feeds. */
export function entriesFed(g: StepGraph, node: NodeId, entry: number, target: NodeId): Uint8Array {
  const masks = new Map<NodeId, Uint8Array>();
  maskOf(masks, node, g.sizes.get(node)!.size)[entry] = 1;
  g.steps.forEach((step, s) => {
    const arg = masks.get(g.args[s]!);
    if (arg !== undefined) forwardStep(step, arg, maskOf(masks, g.nodes[s]!, step.out.size));
  });
  return masks.get(target) ?? new Uint8Array(g.sizes.get(target)?.size ?? 0);
}

/** For each of `sources`, the entries that feed entry `entry` of `node`. */
export function entriesFeeding(g: StepGraph, node: NodeId, entry: number, sources: readonly NodeId[]): Uint8Array[] {
  const masks = new Map<NodeId, Uint8Array>();
  maskOf(masks, node, g.sizes.get(node)!.size)[entry] = 1;
  for (let s = g.steps.length - 1; s >= 0; s--) {
    const out = masks.get(g.nodes[s]!);
    const step = g.steps[s]!;
    if (out !== undefined) backwardStep(step, out, maskOf(masks, g.args[s]!, step.arg.size));
  }
  return sources.map((id) => masks.get(id) ?? new Uint8Array(g.sizes.get(id)?.size ?? 0));
}
