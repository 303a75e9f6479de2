/**
 * The free names of an expression: the symbols that need values. Not
 * function names, constants (`pi`, `e`), `end`, or `i` (mathjs's imaginary
 * unit): those take a value only when bound by name.
 */
import type { MathNode } from 'mathjs';
import { view, walk } from './ast.js';
import { isFunctionName } from './catalogue.js';
import { isConstantName } from './constants.js';

export function freeNames(ast: MathNode): string[] {
  const names = new Set<string>();
  walk(ast, (node, path) => {
    const n = view(node);
    if (n.type !== 'SymbolNode' || path === 'fn') return;
    if (n.name === 'end' || n.name === 'i' || isConstantName(n.name) || isFunctionName(n.name)) return;
    names.add(n.name);
  });
  return [...names];
}

/** Names written right after a number, as `3 cm`: mathjs would read a unit there. */
export function unitLikeNames(ast: MathNode): Set<string> {
  const names = new Set<string>();
  walk(ast, (node) => {
    const n = view(node);
    if (n.type !== 'OperatorNode' || n.fn !== 'multiply' || !(node as MathNode & { implicit?: boolean }).implicit)
      return;
    const [left, right] = [view(n.args[0]!), view(n.args[1]!)];
    if (left.type === 'ConstantNode' && right.type === 'SymbolNode') names.add(right.name);
  });
  return names;
}

/** Names read inside indices, as n in x[2:n]: their values fix shapes when lowering. */
export function indexNames(ast: MathNode): Set<string> {
  const names = new Set<string>();
  walk(ast, (node) => {
    const n = view(node);
    if (n.type !== 'AccessorNode') return;
    walk(n.index, (inner) => {
      const symbol = view(inner);
      if (symbol.type === 'SymbolNode') names.add(symbol.name);
    });
  });
  return names;
}
