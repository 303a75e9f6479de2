/** Graph nodes the symbolic transposes are built from. */
import { broadcastMap, transposeMap } from '../../graph/index-maps.js';
import type { GraphBuilder } from '../../graph/index.js';
import type { NodeId } from '../../ops/index.js';
import { asRowMajor, sameShape, sizeOf, type Shape } from '../../shape.js';

export const reshape = (b: GraphBuilder, x: NodeId, shape: Shape): NodeId =>
  b.apply('reshape', [x], { kind: 'reshape', shape });

/** The transpose of matrix `x`. */
export function transposeNode(b: GraphBuilder, x: NodeId): NodeId {
  const [r, c] = asRowMajor(b.shapeOf(x));
  return b.apply('select', [x], { kind: 'select', shape: [c, r], map: transposeMap(r, c) });
}

/** `x` repeated to fill `shape` (x is a scalar, or already of that shape). */
export function broadcast(b: GraphBuilder, x: NodeId, shape: Shape): NodeId {
  if (sameShape(b.shapeOf(x), shape)) return x;
  return b.apply('select', [x], { kind: 'select', shape, map: broadcastMap(sizeOf(shape)) });
}
