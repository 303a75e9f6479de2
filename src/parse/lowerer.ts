/**
 * What the definitions of the language's functions (functions.ts) may ask of
 * the lowerer that calls them (lower.ts).
 */
import type { MathNode } from 'mathjs';
import type { GraphBuilder } from '../graph/index.js';
import type { NodeId, OpName } from '../ops/index.js';
import type { Shape } from '../shape.js';

export interface Lowerer {
  readonly b: GraphBuilder;
  lower(node: MathNode): NodeId;
  /** An element-wise operation with mathjs's broadcasting of its operands. */
  elementwise(op: OpName, label: string, args: readonly NodeId[]): NodeId;
  /** mathjs's `*`: scaling, dot, matrix-vector and matrix products. */
  multiply(a: NodeId, b: NodeId): NodeId;
  /** mathjs's `/`. */
  divide(a: NodeId, b: NodeId): NodeId;
  transpose(a: NodeId): NodeId;
  /** Entries of `a` at flat positions `from`, arranged in `shape`. */
  gather(a: NodeId, from: readonly number[], shape: Shape): NodeId;
  /** An array literal: scalars make a vector, vectors of one length the rows of a matrix. */
  literal(items: readonly NodeId[]): NodeId;
  /** Whether `node` indexes with a range that selects nothing, as x[3:2]. */
  isEmptySelection(node: MathNode): boolean;
  /** An argument that must be known before evaluation: a number or a string. */
  staticArgument(node: MathNode, what: string): number | string;
}
