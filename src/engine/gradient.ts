/**
 * The backward pass written as graph nodes: the gradient of a scalar output
 * as an expression of the primal values, built from each partial's symbolic
 * transpose. Differentiating it again gives exact second derivatives
 * (forward-over-reverse for Hessian-vector products).
 */
import type { GraphBuilder } from '../graph/index.js';
import type { NodeId } from '../ops/index.js';
import { sizeOf, type Shape } from '../shape.js';
import { partialRulesOf } from './linear/index.js';
import type { Linearization } from './linearize.js';

/** Gradient nodes of a scalar output, one per `lin.wrt` input, each in the input's shape. */
export function buildGradient(b: GraphBuilder, lin: Linearization): NodeId[] {
  // The seed in the output's own shape: a 1×1 matrix output meets matrix products on the way back.
  const seed = b.constant(Float64Array.of(1), b.shapeOf(lin.output));
  // The cotangent node of each node up to the output (-1: none yet): every edge lies below the output.
  const adjoint = new Int32Array(lin.output + 1).fill(-1);
  adjoint[lin.output] = seed;
  for (let k = lin.edges.length - 1; k >= 0; k--) {
    const { node, arg, partial } = lin.edges[k]!;
    const cotangent = adjoint[node]!;
    if (cotangent < 0) continue;
    const contribution = partialRulesOf(partial).transpose(b, partial, node, arg, cotangent);
    if (contribution === null) continue;
    const previous = adjoint[arg]!;
    adjoint[arg] = previous < 0 ? contribution : b.apply('add', [previous, contribution]);
  }
  return lin.wrt.map((w) => (w <= lin.output && adjoint[w]! >= 0 ? adjoint[w]! : zeros(b, b.shapeOf(w))));
}

function zeros(b: GraphBuilder, shape: Shape): NodeId {
  return b.constant(new Float64Array(sizeOf(shape)), shape);
}
