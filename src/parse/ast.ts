/**
 * The parts of mathjs's syntax tree that the compiler reads, as one
 * discriminated union (mathjs's own node types are loose interfaces).
 */
import type { MathNode } from 'mathjs';

export type Ast =
  | { readonly type: 'ConstantNode'; readonly value: unknown }
  | { readonly type: 'SymbolNode'; readonly name: string }
  | { readonly type: 'ParenthesisNode'; readonly content: MathNode }
  | { readonly type: 'OperatorNode'; readonly op: string; readonly fn: string; readonly args: readonly MathNode[] }
  | { readonly type: 'FunctionNode'; readonly fn: MathNode; readonly args: readonly MathNode[] }
  | { readonly type: 'AccessorNode'; readonly object: MathNode; readonly index: MathNode }
  | { readonly type: 'IndexNode'; readonly dimensions: readonly MathNode[]; readonly dotNotation: boolean }
  | { readonly type: 'RangeNode'; readonly start: MathNode; readonly end: MathNode; readonly step: MathNode | null | undefined }
  | { readonly type: 'ArrayNode'; readonly items: readonly MathNode[] }
  | { readonly type: 'ConditionalNode'; readonly condition: MathNode; readonly trueExpr: MathNode; readonly falseExpr: MathNode }
  | { readonly type: 'RelationalNode'; readonly conditionals: readonly string[]; readonly params: readonly MathNode[] };

export const view = (node: MathNode): Ast => node as unknown as Ast;

/** The source text of a subexpression, as mathjs prints it back. */
export const sourceOf = (node: MathNode): string => node.toString();
