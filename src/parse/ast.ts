/**
 * The parts of mathjs's syntax tree that the lowerer reads, as one
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
  | {
      readonly type: 'RangeNode';
      readonly start: MathNode;
      readonly end: MathNode;
      readonly step: MathNode | null | undefined;
    }
  | { readonly type: 'ArrayNode'; readonly items: readonly MathNode[] }
  | {
      readonly type: 'ConditionalNode';
      readonly condition: MathNode;
      readonly trueExpr: MathNode;
      readonly falseExpr: MathNode;
    }
  | { readonly type: 'RelationalNode'; readonly conditionals: readonly string[]; readonly params: readonly MathNode[] };

export const view = (node: MathNode): Ast => node as unknown as Ast;

// Messages quote subexpressions up to this length.
const MAX_SOURCE_LENGTH = 80;

/** The source text of a subexpression as mathjs prints it back, shortened for messages. */
export function sourceOf(node: MathNode): string {
  let text: string;
  try {
    text = node.toString();
  } catch {
    // mathjs prints recursively; a very deep tree has no short text anyway.
    return '…';
  }
  return text.length > MAX_SOURCE_LENGTH ? `${text.slice(0, MAX_SOURCE_LENGTH - 1)}…` : text;
}

/** Visits every node with the name of the field it hangs from ('fn', 'args[0]', …), without recursion. */
export function walk(root: MathNode, visit: (node: MathNode, path: string) => void): void {
  const stack: [MathNode, string][] = [[root, '']];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, path] = top;
    visit(node, path);
    node.forEach((child, childPath) => stack.push([child, childPath]));
  }
}
