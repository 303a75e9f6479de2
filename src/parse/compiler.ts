/** What the language's function definitions may ask of the compiler. */
import type { MathNode } from 'mathjs';
import type { GraphBuilder } from '../graph/index.js';
import type { NodeId, OpName } from '../ops/index.js';
import type { Shape } from '../shape.js';

export interface Compiler {
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
  /** An argument that must be known when compiling: a number or a string. */
  staticArgument(node: MathNode, what: string): number | string;
}
