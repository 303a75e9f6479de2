/**
 * The free names of an expression: the symbols that need values. Not
 * function names, constants (`pi`, `e`), `end`, or `i` (mathjs's imaginary
 * unit): those take a value only when bound by name.
 */
import type { MathNode } from 'mathjs';
import { sourceOf, view, walk } from './ast.js';
import { isFunctionName } from './catalogue.js';
import { isConstantName } from './constants.js';
import { programNames, statementsOf } from './program.js';

export function freeNames(ast: MathNode): string[] {
  const statements = statementsOf(ast, null);
  const { assigned, functions } = programNames(statements);
  const names = new Set<string>();
  const collect = (root: MathNode, parameters: ReadonlySet<string>) =>
    walk(root, (node, path) => {
      const n = view(node);
      if (n.type !== 'SymbolNode' || path === 'fn') return;
      const name = n.name;
      if (name === 'end' || name === 'i' || isConstantName(name) || isFunctionName(name)) return;
      if (parameters.has(name) || assigned.has(name) || functions.has(name)) return;
      names.add(name);
    });
  for (const s of statements) {
    if (s.kind === 'function') collect(s.definition.body, new Set(s.definition.params));
    else collect(s.kind === 'assignment' ? s.value : s.node, new Set());
  }
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

/**
 * Names whose values fix the graph when lowering: read inside indices, as
 * n in x[2:n], or as the power of a matrix, as k in A^k.
 */
export function indexNames(ast: MathNode): Set<string> {
  const names = new Set<string>();
  walk(ast, (node) => {
    const n = view(node);
    const fixed =
      n.type === 'AccessorNode'
        ? n.index
        : n.type === 'OperatorNode' && n.fn === 'pow'
          ? n.args[1]
          : n.type === 'FunctionNode' && view(n.fn).type === 'SymbolNode' && sourceOf(n.fn) === 'pow'
            ? n.args[1]
            : undefined;
    if (fixed === undefined) return;
    walk(fixed, (inner) => {
      const symbol = view(inner);
      if (symbol.type === 'SymbolNode') names.add(symbol.name);
    });
  });
  return names;
}
