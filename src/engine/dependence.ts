/**
 * Dependence through a linearised graph: which output entries an entry of
 * some node feeds, and which input entries feed it, entry by entry through
 * each partial's `reach` (the same rule sparsity detection uses). Where an
 * edge `cuts`, element-wise and row partials that are exactly 0 at an entry
 * end the path there (a zero partial contributes nothing, SPEC §6: the
 * branch not taken, entries that lose a tie); the partials of the node the
 * question starts from never cut. Edges whose partial is zero everywhere
 * (comparisons, steps) still carry dependence: the value depends on them.
 */
import type { NodeId, Operand } from '../ops/index.js';
import { rulesOf, type Accumulator, type Direction, type Step } from './linear/index.js';

/** An edge with its nodes' operands; `step` null where the partial is zero everywhere. */
export interface DependenceEdge {
  readonly node: NodeId;
  readonly arg: NodeId;
  readonly out: Operand;
  readonly in: Operand;
  readonly step: Step | null;
  /** The nodes whose values the partial reads. */
  readonly reads: readonly NodeId[];
}

export interface StepGraph {
  /** In tape order of their nodes. */
  readonly edges: readonly DependenceEdge[];
  readonly sizes: ReadonlyMap<NodeId, Operand>;
  /** The values of the forward pass, where the partials' numbers are. */
  readonly values: Float64Array;
}

/** Whether exact-zero entries of an edge's element-wise or row partial end the paths through them. */
export type Cuts = (edge: DependenceEdge) => boolean;

/** Marks the entries a partial reaches. */
class Marks implements Accumulator {
  constructor(readonly mask: Uint8Array) {}

  add(k: number): void {
    this.mask[k] = 1;
  }
}

/** Carries the marks of `source` over one edge into `target`. */
function carry(
  edge: DependenceEdge,
  direction: Direction,
  v: Float64Array,
  source: Uint8Array,
  target: Uint8Array,
  cutAtZeros: boolean,
): void {
  const { step } = edge;
  if (step === null) {
    // A value dependence: entry for entry between equal sizes, else every entry on every entry.
    if (source.length === target.length) for (let k = 0; k < target.length; k++) target[k]! |= source[k]!;
    else if (source.includes(1)) target.fill(1);
    return;
  }
  const rules = rulesOf(step);
  const marks = new Marks(target);
  for (let k = 0; k < source.length; k++) if (source[k]) rules.reach(step, direction, v, k, cutAtZeros, marks);
}

const maskOf = (masks: Map<NodeId, Uint8Array>, id: NodeId, size: number): Uint8Array => {
  let mask = masks.get(id);
  if (mask === undefined) masks.set(id, (mask = new Uint8Array(size)));
  return mask;
};

/** The entries of `target` that entry `entry` of `node` feeds. */
export function entriesFed(g: StepGraph, node: NodeId, entry: number, target: NodeId, cuts: Cuts): Uint8Array {
  const masks = new Map<NodeId, Uint8Array>();
  maskOf(masks, node, g.sizes.get(node)!.size)[entry] = 1;
  for (const edge of g.edges) {
    const arg = masks.get(edge.arg);
    if (arg !== undefined) carry(edge, 'forward', g.values, arg, maskOf(masks, edge.node, edge.out.size), cuts(edge));
  }
  return masks.get(target) ?? new Uint8Array(g.sizes.get(target)?.size ?? 0);
}

/** For each of `sources`, the entries that feed entry `entry` of `node`. */
export function entriesFeeding(
  g: StepGraph,
  node: NodeId,
  entry: number,
  sources: readonly NodeId[],
  cuts: Cuts,
): Uint8Array[] {
  const masks = new Map<NodeId, Uint8Array>();
  maskOf(masks, node, g.sizes.get(node)!.size)[entry] = 1;
  for (let s = g.edges.length - 1; s >= 0; s--) {
    const edge = g.edges[s]!;
    const out = masks.get(edge.node);
    // The partials of the node the question starts from are not cut: its own point is the question.
    const cutAtZeros = edge.node !== node && cuts(edge);
    if (out !== undefined) carry(edge, 'reverse', g.values, out, maskOf(masks, edge.arg, edge.in.size), cutAtZeros);
  }
  return sources.map((id) => masks.get(id) ?? new Uint8Array(g.sizes.get(id)?.size ?? 0));
}
