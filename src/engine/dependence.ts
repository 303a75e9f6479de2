/**
 * Dependence through a linearised graph: which output entries an entry of
 * some node feeds, and which input entries feed it. Element-wise and row
 * partials that are exactly 0 at an entry cut the path there (a zero partial
 * contributes nothing, SPEC §6: the branch not taken, entries that lose a
 * tie), except the partials of the node the question starts from; other
 * partials count by their structure. Edges whose partial is zero everywhere
 * (comparisons, steps) still carry dependence: the value depends on them.
 */
import type { NodeId, Operand } from '../ops/index.js';
import { asRowMajor } from '../shape.js';
import type { Step } from './kernels.js';

/** Marks every entry of `mask` when any entry of `source` is marked. */
function spread(source: Uint8Array, mask: Uint8Array): void {
  if (source.includes(1)) mask.fill(1);
}

/** Whether the partial's number at entry k (a scalar partial broadcasts) is exactly zero. */
const zeroAt = (v: Float64Array, d: Operand, k: number): boolean => v[d.offset + (d.size === 1 ? 0 : k)] === 0;

/** A partial for numbers (Step), or a value dependence whose derivative is zero. */
export type DependenceStep = Step | { readonly kind: 'value'; readonly out: Operand; readonly arg: Operand };

/** Propagates a mark on an argument's entries to the node's entries. */
function forwardStep(step: DependenceStep, v: Float64Array, arg: Uint8Array, out: Uint8Array): void {
  switch (step.kind) {
    case 'value':
      if (step.arg.size === step.out.size) for (let k = 0; k < out.length; k++) out[k]! |= arg[k]!;
      else spread(arg, out);
      return;
    case 'elementwise':
      for (let k = 0; k < out.length; k++) if (arg[step.arg.size === 1 ? 0 : k] && !zeroAt(v, step.d, k)) out[k] = 1;
      return;
    case 'row':
      for (let k = 0; k < arg.length; k++) if (arg[k] && !zeroAt(v, step.d, k)) out[0] = 1;
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
      else if (step.left === null)
        for (let i = 0; i < r; i++) {
          if (arg.subarray(i * q, (i + 1) * q).includes(1)) out.fill(1, i * c, (i + 1) * c);
        }
      // out = L·arg: column j of out depends on column j of arg
      else
        for (let j = 0; j < c; j++)
          for (let i = 0; i < p; i++)
            if (arg[i * q + j]) {
              for (let k = 0; k < r; k++) out[k * c + j] = 1;
              break;
            }
      return;
    }
    case 'dense':
      spread(arg, out);
      return;
  }
}

/** Propagates a mark on a node's entries back to its argument's entries; `own`: do not cut at zeros. */
function backwardStep(step: DependenceStep, v: Float64Array, out: Uint8Array, arg: Uint8Array, own: boolean): void {
  switch (step.kind) {
    case 'value':
      if (step.arg.size === step.out.size) for (let k = 0; k < arg.length; k++) arg[k]! |= out[k]!;
      else spread(out, arg);
      return;
    case 'elementwise':
      for (let k = 0; k < out.length; k++)
        if (out[k] && (own || !zeroAt(v, step.d, k))) arg[step.arg.size === 1 ? 0 : k] = 1;
      return;
    case 'row':
      if (out[0]) for (let k = 0; k < arg.length; k++) if (own || !zeroAt(v, step.d, k)) arg[k] = 1;
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
      else if (step.left === null)
        for (let i = 0; i < r; i++) {
          if (out.subarray(i * c, (i + 1) * c).includes(1)) arg.fill(1, i * q, (i + 1) * q);
        }
      else
        for (let j = 0; j < c; j++)
          for (let i = 0; i < r; i++)
            if (out[i * c + j]) {
              for (let k = 0; k < p; k++) arg[k * q + j] = 1;
              break;
            }
      return;
    }
    case 'dense':
      spread(out, arg);
      return;
  }
}

export interface StepGraph {
  /** In tape order of their nodes. */
  readonly steps: readonly DependenceStep[];
  /** The node each step belongs to and the argument it differentiates, parallel to `steps`. */
  readonly nodes: readonly NodeId[];
  readonly args: readonly NodeId[];
  readonly sizes: ReadonlyMap<NodeId, Operand>;
  /** The values of the forward pass, where the partials' numbers are. */
  readonly values: Float64Array;
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
    if (arg !== undefined) forwardStep(step, g.values, arg, maskOf(masks, g.nodes[s]!, step.out.size));
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
    if (out !== undefined)
      backwardStep(step, g.values, out, maskOf(masks, g.args[s]!, step.arg.size), g.nodes[s] === node);
  }
  return sources.map((id) => masks.get(id) ?? new Uint8Array(g.sizes.get(id)?.size ?? 0));
}
