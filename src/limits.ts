/** Limits checked before work starts, so that hostile or mistaken input is refused at once. */
export interface Limits {
  /** Characters of an expression. */
  readonly maxExpressionLength: number;
  /** Nodes of the compute graph, derivatives included. */
  readonly maxNodes: number;
  /** Calls of the program's own functions expanded into the graph (recursion ends when compiling, or here). */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: Limits = { maxExpressionLength: 100_000, maxNodes: 2_000_000, maxDepth: 100_000 };
