/**
 * Linearisation: which nodes lie on a path from the differentiated inputs to
 * the output, and the partial derivative of each of them with respect to each
 * of its active arguments, taken from the operation table. The partials'
 * numbers are nodes appended to the same tape, evaluated by the same forward
 * pass as the primal values.
 */
import type { GraphBuilder } from '../graph/index.js';
import { OPS, type NodeId, type Partial } from '../ops/index.js';
import { partialRulesOf } from './linear/index.js';

/** A differentiated input: its node and where its entries start among the n columns of J. */
export type WrtInput = Readonly<{ node: NodeId; offset: number; size: number }>;

/** The derivative of `output` with respect to the columns, as a graph of partials over the active nodes. */
export interface Linearization {
  readonly output: NodeId;
  readonly columns: readonly WrtInput[];
  /** The nodes of `columns`. */
  readonly wrt: readonly NodeId[];
  /** Active nodes (on a path from `wrt` to `output`) in tape order. */
  readonly active: readonly NodeId[];
  /** One edge per (active node, active argument) pair, in tape order of the node. */
  readonly edges: readonly Edge[];
  /** Nodes whose values the partials read. */
  readonly partialNodes: readonly NodeId[];
  /**
   * Those that may hold a number that is not finite, each once: what a pass looks at before it trusts its
   * products (an operation with finiteValues holds none).
   */
  readonly checkedPartials: readonly NodeId[];
}

export function linearize(b: GraphBuilder, output: NodeId, columns: readonly WrtInput[]): Linearization {
  const tape = b.tape;
  const wrt = columns.map((c) => c.node);
  const end = output + 1;
  const varied = new Uint8Array(end);
  for (const w of wrt) if (w < end) varied[w] = 1;
  for (let id = 0; id < end; id++) {
    for (let k = tape.argCount(id) - 1; !varied[id] && k >= 0; k--) if (varied[tape.arg(id, k)]) varied[id] = 1;
  }
  const useful = new Uint8Array(end);
  useful[output] = 1;
  for (let id = output; id >= 0; id--) {
    if (useful[id]) for (let k = tape.argCount(id) - 1; k >= 0; k--) useful[tape.arg(id, k)] = 1;
  }
  const active: NodeId[] = [];
  for (let id = 0; id < end; id++) if (varied[id] && useful[id]) active.push(id);

  const edges: Edge[] = [];
  const partialNodes: NodeId[] = [];
  for (const node of active) {
    const args: NodeId[] = [];
    for (let k = 0; k < tape.argCount(node); k++) args.push(tape.arg(node, k));
    const view = { args, out: node, param: tape.param(node) };
    const spec = OPS[tape.op(node)];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (!(varied[arg] && useful[arg])) continue;
      const partial = spec.partial(b, i, view);
      // Throws for an unsupported partial, before any pass needs it.
      for (const read of partialRulesOf(partial).reads(partial)) partialNodes.push(read);
      edges.push({ node, arg, partial });
    }
  }
  const checkedPartials = [...new Set(partialNodes)].filter((node) => OPS[tape.op(node)].finiteValues !== true);
  return { output, columns, wrt, active, edges, partialNodes, checkedPartials };
}

export interface Edge {
  readonly node: NodeId;
  readonly arg: NodeId;
  /** Never 'unsupported' (linearising refuses those); a zero partial still says the value depends on `arg`. */
  readonly partial: Partial;
}
