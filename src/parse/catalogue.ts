/**
 * The functions the language knows by name: the element-wise functions of
 * the operation table and the language functions of functions.ts (which win
 * where both define a name, as for log and max). The lowerer looks calls up
 * here, and `jacobian functions` lists them.
 */
import { OPS, OP_NAMES, type OpName } from '../ops/index.js';
import { LANGUAGE_FUNCTIONS, type LanguageFunction } from './functions.js';

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

export interface FunctionEntry {
  readonly name: string;
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
    entries.set(name, { name, usage: f.usage, arity, doc: f.doc });
  }
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}
