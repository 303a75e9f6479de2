/**
 * Compiling: an expression and the shapes of its variables become a Program
 * (parse, lower, wrap for evaluation and derivatives). The library's
 * `compile` and the CLI's cache of programs both come here.
 */
import type { MathNode } from 'mathjs';
import { Program, type Variable } from './engine/program.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { lowerExpression, parseExpression, type VariableInfo } from './parse/index.js';

/** Compiles an expression already parsed (the CLI parses once and compiles once per shape). */
export function compileAst(
  ast: MathNode,
  variables: ReadonlyMap<string, VariableInfo>,
  limits: Limits = DEFAULT_LIMITS,
  source: string | null = null,
): Program {
  const { builder, output } = lowerExpression(ast, variables, limits, source);
  const declared: Variable[] = [...variables]
    .filter(([, info]) => info.constant !== true)
    .map(([name, { shape }]) => ({ name, shape }));
  return new Program(builder, output, declared);
}

/** Compiles the source text of an expression. */
export function compileProgram(
  source: string,
  variables: ReadonlyMap<string, VariableInfo>,
  limits: Limits = DEFAULT_LIMITS,
): Program {
  return compileAst(parseExpression(source, limits), variables, limits, source);
}
