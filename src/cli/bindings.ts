/**
 * Values from the command line: `--at` bindings (`1,2,3`, `x=1,2,3`,
 * `x=[[1,2],[3,4]]`, `y=2.5`, `W=@file.json`) and number lists for `--v`.
 */
import type { SymbolNode } from 'mathjs';
import { compileProgram } from '../compile.js';
import type { Program } from '../engine/program.js';
import { InputError } from '../errors.js';
import { parseExpression } from '../parse/index.js';
import { literalBindingProblem } from '../parse/constants.js';
import { tensorFromJson, type Tensor } from '../values.js';
import { parseNumber, readValueFile, type ValueFileReader } from './value-files.js';

export interface RawBinding {
  /** Null for the unnamed form `--at 1,2,3`. */
  readonly name: string | null;
  readonly text: string;
}

/** `NAME=TEXT` when NAME is a name of the language (Unicode letters too: θ, Δt), else `TEXT` alone. */
export function splitBinding(arg: string, flag = '--at'): RawBinding {
  const equals = arg.indexOf('=');
  const name = arg.slice(0, Math.max(equals, 0)).trim();
  // Not a name to mathjs, but plainly meant as one: say so rather than read `Infinity=3` as a value.
  const problem = equals > 0 ? literalBindingProblem(name) : null;
  if (problem !== null) throw new InputError(`${flag} ${name}: ${problem}`);
  return equals > 0 && isName(name) ? { name, text: arg.slice(equals + 1) } : { name: null, text: arg };
}

/** Whether mathjs's parser reads `text` as one name: the language's own rule, whatever letters it allows. */
export function isName(text: string): boolean {
  try {
    const node = parseExpression(text);
    return node.type === 'SymbolNode' && (node as SymbolNode).name === text;
  } catch {
    return false;
  }
}

/** `1,2,3` or `1 2 3`: every entry must be a number; `1,,2` is refused. */
export function parseNumberList(text: string, what: string): Float64Array {
  const trimmed = text.trim();
  if (trimmed === '') throw new InputError(`${what} is empty: give numbers such as 1,2,3`);
  const tokens = trimmed.split(/\s*,\s*|\s+/);
  if (tokens.some((t) => t === ''))
    throw new InputError(`${what} has an empty entry in "${text}": separate numbers by single commas, as 1,2,3`);
  return Float64Array.from(tokens, (t) => parseNumber(t, what));
}

/**
 * A value: a number, a list, a JSON array (or mathjs rows `[1,2;3,4]`),
 * `@file` (JSON, tables, .npy), or a constant expression of the language (`1:40`,
 * `identity(3)`, `pi/4`), computed by the engine.
 */
export function parseValue(text: string, what: string, files: ValueFileReader): Tensor {
  const trimmed = text.trim();
  if (trimmed.startsWith('@')) return readValueFile(trimmed.slice(1), what, files);
  if (trimmed.startsWith('[')) return parseArray(trimmed, what);
  try {
    const data = parseNumberList(trimmed, what);
    return data.length === 1 && !/[,\s]/.test(trimmed) ? { shape: [], data } : { shape: [data.length], data };
  } catch (error) {
    // Not numbers: a constant expression, or the message about the numbers.
    return constantExpression(trimmed) ?? rethrow(error);
  }
}

function parseArray(text: string, what: string): Tensor {
  try {
    return tensorFromJson(JSON.parse(text), what);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  // mathjs's row syntax: [1, 2; 3, 4]
  const rowsSyntax = /^\[([^[\]]*)\]$/.exec(text);
  if (rowsSyntax !== null && rowsSyntax[1]!.includes(';')) {
    const rows = rowsSyntax[1]!.split(';').map((row) => Array.from(parseNumberList(row, what)));
    return tensorFromJson(rows, what);
  }
  return (
    constantExpression(text) ??
    rethrow(new InputError(`${what}: ${text} is not a valid array; write JSON such as [1,2,3] or [[1,2],[3,4]]`))
  );
}

const rethrow = (error: unknown): never => {
  throw error;
};

/** The value of an expression without variables, or null when the text is not one. */
function constantExpression(text: string): Tensor | null {
  let program: Program;
  try {
    program = compileProgram(text, new Map());
  } catch {
    return null;
  }
  return { shape: program.outputShape, data: program.evaluate(new Map()) };
}
