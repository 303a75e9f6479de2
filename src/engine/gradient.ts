/**
 * The backward pass written as graph nodes: the gradient of a scalar output
 * as an expression of the primal values, built from the same partials the
 * numeric passes use. Differentiating it again gives exact second
 * derivatives (forward-over-reverse for Hessian-vector products).
 */
import type { GraphBuilder } from '../graph/index.js';
import type { NodeId } from '../ops/index.js';
import { asRowMajor, sameShape, sizeOf, type Shape } from '../shape.js';
import type { Edge, Linearization } from './linearize.js';

/** Gradient nodes of a scalar output, one per `lin.wrt` input, each in the input's shape. */
export function buildGradient(b: GraphBuilder, lin: Linearization): NodeId[] {
  const adjoint = new Map<NodeId, NodeId>([[lin.output, b.scalar(1)]]);
  for (let k = lin.edges.length - 1; k >= 0; k--) {
    const edge = lin.edges[k]!;
    const cotangent = adjoint.get(edge.node);
    if (cotangent === undefined) continue;
    const contribution = pullbackNode(b, edge, cotangent);
    const previous = adjoint.get(edge.arg);
    adjoint.set(edge.arg, previous === undefined ? contribution : b.apply('add', [previous, contribution]));
  }
  return lin.wrt.map((w) => adjoint.get(w) ?? zeros(b, b.shapeOf(w)));
}

function zeros(b: GraphBuilder, shape: Shape): NodeId {
  return b.constant(new Float64Array(sizeOf(shape)), shape);
}

const reshape = (b: GraphBuilder, x: NodeId, shape: Shape): NodeId =>
  b.apply('reshape', [x], { kind: 'reshape', shape });

function transpose(b: GraphBuilder, x: NodeId): NodeId {
  const [r, c] = asRowMajor(b.shapeOf(x));
  const from = new Int32Array(r * c);
  for (let j = 0, k = 0; j < c; j++) for (let i = 0; i < r; i++) from[k++] = i * c + j;
  return b.apply('select', [x], {
    kind: 'select',
    shape: [c, r],
    map: { to: Int32Array.from(from, (_, k) => k), from },
  });
}

/** `x` repeated to fill `shape` (x is a scalar). */
function broadcast(b: GraphBuilder, x: NodeId, shape: Shape): NodeId {
  if (sameShape(b.shapeOf(x), shape)) return x;
  const size = sizeOf(shape);
  return b.apply('select', [x], {
    kind: 'select',
    shape,
    map: { to: Int32Array.from({ length: size }, (_, k) => k), from: new Int32Array(size) },
  });
}

/** ∂ᵀ · cotangent as nodes, in the argument's shape. */
function pullbackNode(b: GraphBuilder, edge: Edge, cotangent: NodeId): NodeId {
  const argShape = b.shapeOf(edge.arg);
  const { partial } = edge;
  switch (partial.kind) {
    case 'elementwise': {
      const product = b.apply('strongMultiply', [cotangent, partial.d]);
      if (sizeOf(argShape) === 1 && sizeOf(b.shapeOf(product)) > 1)
        return reshape(b, b.apply('sum', [product]), argShape);
      return reshape(b, broadcast(b, product, b.shapeOf(edge.node)), argShape);
    }
    case 'select': {
      const { to, from } = partial.map;
      return b.apply('select', [cotangent], { kind: 'select', shape: argShape, map: { to: from, from: to } });
    }
    case 'row':
      return broadcast(b, b.apply('strongMultiply', [cotangent, partial.d]), argShape);
    case 'matmul': {
      let product = cotangent;
      if (partial.left !== null) product = b.apply('matmul', [transpose(b, partial.left), product]);
      if (partial.right !== null) product = b.apply('matmul', [product, transpose(b, partial.right)]);
      return product;
    }
    case 'dense': {
      const m = sizeOf(b.shapeOf(edge.node));
      const column = b.apply('matmul', [transpose(b, partial.d), reshape(b, cotangent, [m, 1])]);
      return reshape(b, column, argShape);
    }
  }
}
