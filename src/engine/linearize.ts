/**
 * Linearisation: which nodes lie on a path from the differentiated inputs to
 * the output, and the partial derivative of each of them with respect to each
 * of its active arguments, taken from the operation table. The partials'
 * numbers are nodes appended to the same tape, evaluated by the same forward
 * pass as the primal values.
 */
import { UnsupportedError } from '../errors.js';
import type { GraphBuilder } from '../graph/index.js';
import { OPS, type NodeId, type Partial } from '../ops/index.js';

export interface Edge {
  readonly node: NodeId;
  readonly arg: NodeId;
  readonly partial: Exclude<Partial, { kind: 'zero' } | { kind: 'unsupported' }>;
}

export interface Linearization {
  readonly output: NodeId;
  readonly wrt: readonly NodeId[];
  /** Active nodes (on a path from `wrt` to `output`) in tape order. */
  readonly active: readonly NodeId[];
  /** One edge per (active node, active argument) pair, in tape order of the node. */
  readonly edges: readonly Edge[];
  /** Nodes whose values the partials read. */
  readonly partialNodes: readonly NodeId[];
  /** Active (node, argument) pairs whose partial is zero: the value still depends on the argument (a comparison, a step). */
  readonly zeroEdges: readonly { readonly node: NodeId; readonly arg: NodeId }[];
}

export function linearize(b: GraphBuilder, output: NodeId, wrt: readonly NodeId[]): Linearization {
  const tape = b.tape;
  const end = output + 1;
  const varied = new Uint8Array(end);
  for (const w of wrt) if (w < end) varied[w] = 1;
  for (let id = 0; id < end; id++) {
    if (!varied[id]) for (const a of tape.args(id)) if (varied[a]) varied[id] = 1;
  }
  const useful = new Uint8Array(end);
  useful[output] = 1;
  for (let id = output; id >= 0; id--) {
    if (useful[id]) for (const a of tape.args(id)) useful[a] = 1;
  }
  const active: NodeId[] = [];
  for (let id = 0; id < end; id++) if (varied[id] && useful[id]) active.push(id);

  const edges: Edge[] = [];
  const zeroEdges: { node: NodeId; arg: NodeId }[] = [];
  const partialNodes: NodeId[] = [];
  for (const node of active) {
    const args = Array.from(tape.args(node));
    const view = { args, out: node, param: tape.param(node) };
    args.forEach((arg, i) => {
      if (!(varied[arg] && useful[arg])) return;
      const partial = OPS[tape.op(node)].partial(b, i, view);
      if (partial.kind === 'zero') {
        zeroEdges.push({ node, arg });
        return;
      }
      if (partial.kind === 'unsupported')
        throw new UnsupportedError(`cannot differentiate further: ${partial.reason} are not available`);
      edges.push({ node, arg, partial });
      if (partial.kind === 'matmul') {
        if (partial.left !== null) partialNodes.push(partial.left);
        if (partial.right !== null) partialNodes.push(partial.right);
      } else if (partial.kind !== 'select') {
        partialNodes.push(partial.d);
      }
    });
  }
  return { output, wrt, active, edges, partialNodes, zeroEdges };
}
