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

/** From this many entries on, a node's reached entries are told apart by a mask as large as the node. */
const MASK_FROM = 1024;

/**
 * The entries of one node that a question reaches, each once, in the order reached: a question starts from one
 * entry, and its paths mostly touch few entries of large nodes, told apart by a set; one that reaches a large part
 * of a node (a tie of a max over all entries reaches them all) tells them apart by a mask. They are listed in a
 * typed array: pushed onto a plain array, 180 000 entries took 180 ns each here (the array is copied as it grows,
 * into fresh memory, whose pages cost about 17 µs each on this machine).
 */
class Reached implements Accumulator {
  /** How many entries are reached: the first `count` of `list`. */
  count = 0;
  private list = new Int32Array(16);
  private set: Set<number> | null = new Set();
  private mask: Uint8Array | null = null;

  constructor(readonly size: number) {}

  add(k: number): void {
    if (this.mask !== null) {
      if (this.mask[k] === 1) return;
      this.mask[k] = 1;
    } else {
      const set = this.set!;
      if (set.has(k)) return;
      set.add(k);
      if (set.size >= MASK_FROM) {
        this.mask = new Uint8Array(this.size);
        for (const entry of set) this.mask[entry] = 1;
        this.set = null;
      }
    }
    if (this.count === this.list.length) {
      const longer = new Int32Array(Math.min(this.size, 2 * this.count));
      longer.set(this.list);
      this.list = longer;
    }
    this.list[this.count++] = k;
  }

  /** The i-th entry reached. */
  at(i: number): number {
    return this.list[i]!;
  }

  /** The entries, ascending. */
  ascending(): Int32Array {
    const mask = this.mask;
    if (mask === null) return this.list.slice(0, this.count).sort();
    const entries = new Int32Array(this.count);
    for (let k = 0, j = 0; k < mask.length; k++) if (mask[k] === 1) entries[j++] = k;
    return entries;
  }
}

/** Carries the entries reached in `source` over one edge into `target`. */
function carry(
  edge: DependenceEdge,
  direction: Direction,
  v: Float64Array,
  source: Reached,
  target: Reached,
  cutAtZeros: boolean,
): void {
  const { step } = edge;
  if (step === null) {
    // A value dependence: entry for entry between equal sizes, else every entry on every entry.
    if (source.size === target.size) for (let i = 0; i < source.count; i++) target.add(source.at(i));
    else if (source.count > 0) for (let k = 0; k < target.size; k++) target.add(k);
    return;
  }
  const rules = rulesOf(step);
  for (let i = 0; i < source.count; i++) rules.reach(step, direction, v, source.at(i), cutAtZeros, target);
}

const reachedOf = (reached: Map<NodeId, Reached>, id: NodeId, size: number): Reached => {
  let entries = reached.get(id);
  if (entries === undefined) reached.set(id, (entries = new Reached(size)));
  return entries;
};

/** A node's entries reached, ascending. */
const ascending = (reached: Reached | undefined): Int32Array =>
  reached === undefined ? new Int32Array(0) : reached.ascending();

/** The entries of `target` that entry `entry` of `node` feeds, ascending. */
export function entriesFed(g: StepGraph, node: NodeId, entry: number, target: NodeId, cuts: Cuts): Int32Array {
  const reached = new Map<NodeId, Reached>();
  reachedOf(reached, node, g.sizes.get(node)!.size).add(entry);
  for (const edge of g.edges) {
    const arg = reached.get(edge.arg);
    if (arg !== undefined)
      carry(edge, 'forward', g.values, arg, reachedOf(reached, edge.node, edge.out.size), cuts(edge));
  }
  return ascending(reached.get(target));
}

/** For each of `sources`, the entries that feed entry `entry` of `node`, ascending. */
export function entriesFeeding(
  g: StepGraph,
  node: NodeId,
  entry: number,
  sources: readonly NodeId[],
  cuts: Cuts,
): Int32Array[] {
  const reached = new Map<NodeId, Reached>();
  reachedOf(reached, node, g.sizes.get(node)!.size).add(entry);
  for (let s = g.edges.length - 1; s >= 0; s--) {
    const edge = g.edges[s]!;
    const out = reached.get(edge.node);
    // The partials of the node the question starts from are not cut: its own point is the question.
    const cutAtZeros = edge.node !== node && cuts(edge);
    if (out !== undefined)
      carry(edge, 'reverse', g.values, out, reachedOf(reached, edge.arg, edge.in.size), cutAtZeros);
  }
  return sources.map((id) => ascending(reached.get(id)));
}
