/**
 * The functions the language knows by name: the element-wise functions of
 * the operation table and the language functions of functions.ts (which win
 * where both define a name, as for log and max). The lowerer looks calls up
 * here, and `jacobian functions` lists them.
 */
import { OPS, OP_NAMES, type OpName } from '../ops/index.js';
import { LANGUAGE_FUNCTIONS, type LanguageFunction } from './functions.js';
import { nearestNames, orList } from './suggest.js';

/** Element-wise functions users call by name, from the operation table. */
const TABLE_FUNCTIONS: ReadonlyMap<string, OpName> = new Map(
  OP_NAMES.filter((op) => OPS[op].fn !== undefined).map((op) => [OPS[op].fn!.name, op]),
);

/** What a name calls: a language function, or an element-wise operation of the table with its arity. */
export type KnownFunction =
  | { readonly kind: 'language'; readonly definition: LanguageFunction }
  | { readonly kind: 'table'; readonly op: OpName; readonly arity: number };

export function findFunction(name: string): KnownFunction | undefined {
  if (Object.hasOwn(LANGUAGE_FUNCTIONS, name)) return { kind: 'language', definition: LANGUAGE_FUNCTIONS[name]! };
  const op = TABLE_FUNCTIONS.get(name);
  return op === undefined ? undefined : { kind: 'table', op, arity: OPS[op].fn!.arity };
}

export const isFunctionName = (name: string): boolean => findFunction(name) !== undefined;

/** "1 argument", "2 to 3 arguments", "1 or more arguments". */
export function arityText(min: number, max: number): string {
  if (min === max) return `${min} argument${min === 1 ? '' : 's'}`;
  return max === Infinity ? `${min} or more arguments` : `${min} to ${max} arguments`;
}

/** Every function name the language accepts, sorted. */
export function supportedFunctions(): string[] {
  return [...new Set([...Object.keys(LANGUAGE_FUNCTIONS), ...TABLE_FUNCTIONS.keys()])].sort();
}

/** The groups `jacobian help language` lists the functions in, in that order: names separated by spaces. */
export const FUNCTION_GROUPS = {
  'arithmetic (the operators by name)':
    'add subtract multiply divide dotMultiply dotDivide dotPow pow mod unaryMinus unaryPlus',
  'comparison and logic (1 or 0; derivative 0)': 'equal unequal larger largerEq smaller smallerEq and or not xor',
  'powers, roots, exponentials and logarithms': 'sqrt cbrt nthRoot square cube hypot exp expm1 log log1p log2 log10',
  trigonometric: 'sin cos tan sec csc cot asin acos atan asec acsc acot atan2',
  hyperbolic: 'sinh cosh tanh sech csch coth asinh acosh atanh asech acsch acoth',
  'sign and rounding': 'abs sign ceil floor fix round',
  'models and special functions': 'sigmoid relu softplus softmax logsumexp erf lgamma',
  'reductions and statistics': 'sum prod mean median max min std variance cumsum diff norm',
  'linear algebra': 'dot cross det inv trace transpose ctranspose kron lusolve lsolve usolve',
  'building and reshaping arrays': 'concat diag identity ones zeros range reshape flatten squeeze size',
} as const satisfies Readonly<Record<string, string>>;

/** A group of FUNCTION_GROUPS, or 'other' for a function no group lists yet (a test keeps that list empty). */
export type FunctionGroup = keyof typeof FUNCTION_GROUPS | 'other';

const GROUP_OF: ReadonlyMap<string, FunctionGroup> = new Map(
  Object.entries(FUNCTION_GROUPS).flatMap(([group, names]) =>
    names.split(' ').map((name): [string, FunctionGroup] => [name, group as FunctionGroup]),
  ),
);

export interface FunctionEntry {
  readonly name: string;
  readonly group: FunctionGroup;
  readonly usage: string;
  /** How many arguments: one number, or a range such as "1-2" or "1+". */
  readonly arity: string;
  readonly doc: string;
}

/** Every function with its usage, arity and what it does, sorted by name. */
export function functionCatalogue(): FunctionEntry[] {
  const entries = new Map<string, FunctionEntry>();
  for (const [name, op] of TABLE_FUNCTIONS) {
    const { arity, doc, args = arity === 1 ? 'x' : 'a, b' } = OPS[op].fn!;
    entries.set(name, {
      name,
      group: GROUP_OF.get(name) ?? 'other',
      usage: `${name}(${args})`,
      arity: String(arity),
      doc: arity === 1 ? `${doc}, element-wise` : doc,
    });
  }
  for (const [name, f] of Object.entries(LANGUAGE_FUNCTIONS)) {
    const arity =
      f.minArgs === f.maxArgs
        ? String(f.minArgs)
        : f.maxArgs === Infinity
          ? `${f.minArgs}+`
          : `${f.minArgs}-${f.maxArgs}`;
    entries.set(name, { name, group: GROUP_OF.get(name) ?? 'other', usage: f.usage, arity, doc: f.doc });
  }
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Names other languages (NumPy, MATLAB, C, textbooks) give to functions the language calls otherwise. */
const ALIASES: Readonly<Record<string, string>> = {
  ln: 'log',
  lg: 'log10',
  arcsin: 'asin',
  arccos: 'acos',
  arctan: 'atan',
  arctan2: 'atan2',
  arcsinh: 'asinh',
  arccosh: 'acosh',
  arctanh: 'atanh',
  arsinh: 'asinh',
  arcosh: 'acosh',
  artanh: 'atanh',
  cosec: 'csc',
  cotan: 'cot',
  fabs: 'abs',
  sgn: 'sign',
  signum: 'sign',
  sqr: 'square',
  power: 'pow',
  ceiling: 'ceil',
  trunc: 'fix',
  amax: 'max',
  amin: 'min',
  average: 'mean',
  avg: 'mean',
  var: 'variance',
  stdev: 'std',
  stddev: 'std',
  tr: 'trace',
  determinant: 'det',
  inverse: 'inv',
  matmul: 'multiply',
  expit: 'sigmoid',
  logistic: 'sigmoid',
  eye: 'identity',
  linspace: 'range',
  arange: 'range',
  solve: 'lusolve',
};

/** The functions a name the language does not know probably meant: its alias, or the nearest names. */
export function suggestFunctions(name: string): string[] {
  const alias = Object.hasOwn(ALIASES, name.toLowerCase()) ? ALIASES[name.toLowerCase()]! : undefined;
  return alias !== undefined ? [alias] : nearestNames(name, supportedFunctions());
}

/** "unknown function ln: did you mean log?"; with nothing near, every name (as the language lists them). */
export function unknownFunctionMessage(name: string): string {
  const suggestions = suggestFunctions(name);
  return suggestions.length > 0
    ? `unknown function ${name}: did you mean ${orList(suggestions)}?`
    : `unknown function ${name}: the supported functions are ${supportedFunctions().join(', ')}`;
}
