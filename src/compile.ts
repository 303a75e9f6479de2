/** Source text to a compiled program: parse, lower, and wrap for evaluation and derivatives. */
import type { MathNode } from 'mathjs';
import { Program, type Variable } from './engine/program.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { lowerExpression, parseExpression, type VariableInfo } from './parse/index.js';

export function compileAst(
  ast: MathNode,
  variables: ReadonlyMap<string, VariableInfo>,
  limits: Limits = DEFAULT_LIMITS,
): Program {
  const { builder, output } = lowerExpression(ast, variables, limits);
  const declared: Variable[] = [...variables].map(([name, { shape }]) => ({ name, shape }));
  return new Program(builder, output, declared);
}

export function compileProgram(
  source: string,
  variables: ReadonlyMap<string, VariableInfo>,
  limits: Limits = DEFAULT_LIMITS,
): Program {
  return compileAst(parseExpression(source, limits), variables, limits);
}
