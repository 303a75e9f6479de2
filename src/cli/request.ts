/**
 * Turns what the user gave (EXPR or standard input, `--at`, `--wrt`) into a
 * compiled program and the values to run it at.
 */
import type { MathNode } from 'mathjs';
import { compileAst } from '../compile.js';
import type { Program } from '../engine/program.js';
import { InputError } from '../errors.js';
import type { Binding } from '../format/report.js';
import { freeNames, parseExpression, unitLikeNames, type VariableInfo } from '../parse/index.js';
import { tensorFromJson } from '../values.js';
import { parseValue, splitBinding } from './bindings.js';
import type { Io } from './io.js';

export interface CommonOptions {
  readonly at: readonly string[];
  readonly wrt?: string;
}

/** What standard input may carry: the `--json` output of any command qualifies. */
export interface PipedInput {
  readonly expr?: string;
  readonly at?: Readonly<Record<string, unknown>>;
  readonly wrt?: readonly string[];
  readonly v?: unknown;
  readonly u?: unknown;
}

export interface Request {
  readonly expr: string;
  readonly bindings: readonly Binding[];
  readonly wrt: readonly string[];
  readonly program: Program;
  readonly piped: PipedInput;
  /** The values of the variables by name, as the engine takes them. */
  readonly point: ReadonlyMap<string, Float64Array>;
  /** Milliseconds spent reading input (standard input, values, files), parsing and compiling. */
  readonly ms: { readonly read: number; readonly parse: number; readonly compile: number };
}

export async function resolveRequest(exprArg: string | undefined, options: CommonOptions, io: Io): Promise<Request> {
  const start = performance.now();
  const piped = exprArg === undefined ? await readPiped(io) : {};
  const expr = exprArg ?? piped.expr;
  if (expr === undefined) throw new InputError('missing expression: give one, as in jacobian "x*2" --at 1,2,3, or pipe JSON with an "expr" field');
  const parseStart = performance.now();
  const ast = parseExpression(expr);
  const names = freeNames(ast);
  const parsed = performance.now();
  const bindings = collectBindings(piped, options.at, names, io);
  const bound = new Set(bindings.map((b) => b.name));
  const missing = names.filter((name) => !bound.has(name));
  if (missing.length > 0) {
    const units = unitLikeNames(ast);
    const hint = missing.some((name) => units.has(name)) ? ' (units, as in 3 cm, are not supported)' : '';
    throw new InputError(`no value for ${missing.join(', ')}: add ${missing.map((name) => `--at ${name}=…`).join(' ')}${hint}`);
  }
  const wrt = options.wrt !== undefined ? splitNames(options.wrt) : piped.wrt ?? bindings.map((b) => b.name);
  for (const name of wrt) {
    if (!bound.has(name)) throw new InputError(`--wrt ${name}: ${name} has no value (bound: ${[...bound].join(', ') || 'none'}); bind it with --at ${name}=…`);
  }
  if (new Set(wrt).size !== wrt.length) throw new InputError(`--wrt names a variable twice: ${wrt.join(',')}`);
  const compileStart = performance.now();
  const program = compile(ast, bindings);
  const point = new Map(bindings.map((b) => [b.name, b.value.data]));
  const ms = { read: parseStart - start + (compileStart - parsed), parse: parsed - parseStart, compile: performance.now() - compileStart };
  return { expr, bindings, wrt, program, piped, point, ms };
}

function compile(ast: MathNode, bindings: readonly Binding[]): Program {
  const variables = new Map<string, VariableInfo>(bindings.map((b) => [b.name, { shape: b.value.shape, value: b.value.data }]));
  return compileAst(ast, variables);
}

function splitNames(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw new InputError(`--wrt "${text}" has an empty name: write names separated by commas, as x,y`);
  return names;
}

async function readPiped(io: Io): Promise<PipedInput> {
  if (io.stdinIsTTY) throw new InputError('missing expression: give one, as in jacobian "x*2" --at 1,2,3, or pipe it on standard input');
  const text = (await io.readStdin()).trim();
  if (text === '') throw new InputError('missing expression: standard input is empty; give EXPR, as in jacobian "x*2" --at 1,2,3');
  if (!text.startsWith('{')) return { expr: text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`standard input is not valid JSON (${(error as Error).message}); pipe a JSON object with "expr", or plain text`);
  }
  return checkPiped(parsed);
}

function checkPiped(parsed: unknown): PipedInput {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InputError('standard input must be a JSON object with "expr"');
  const input = parsed as Record<string, unknown>;
  if (typeof input.expr !== 'string') throw new InputError('the JSON on standard input needs "expr", a string');
  if (input.at !== undefined && (typeof input.at !== 'object' || input.at === null || Array.isArray(input.at))) {
    throw new InputError('"at" on standard input must be an object of values, as {"x": [1, 2, 3]}');
  }
  if (input.wrt !== undefined && !(Array.isArray(input.wrt) && input.wrt.every((w) => typeof w === 'string'))) {
    throw new InputError('"wrt" on standard input must be an array of names, as ["x"]');
  }
  return {
    expr: input.expr,
    ...(input.at === undefined ? {} : { at: input.at as Record<string, unknown> }),
    ...(input.wrt === undefined ? {} : { wrt: input.wrt as string[] }),
    ...(input.v === undefined ? {} : { v: input.v }),
    ...(input.u === undefined ? {} : { u: input.u }),
  };
}

/** Bindings from standard input, then from `--at` (which win), in order of first appearance. */
function collectBindings(piped: PipedInput, atArgs: readonly string[], names: readonly string[], io: Io): Binding[] {
  const bindings: Binding[] = Object.entries(piped.at ?? {}).map(([name, value]) => ({ name, value: tensorFromJson(value, `"at"."${name}"`) }));
  for (const arg of atArgs) {
    const raw = splitBinding(arg);
    let name = raw.name;
    if (name === null) {
      if (names.length !== 1) {
        throw new InputError(
          names.length === 0
            ? `--at ${arg} has no name and the expression has no variables; name it, as --at x=${arg}`
            : `--at ${arg} has no name but the expression has ${names.length} variables (${names.join(', ')}): write ${names.map((n) => `--at ${n}=…`).join(' ')}`,
        );
      }
      name = names[0]!;
    }
    const binding = { name, value: parseValue(raw.text, `--at ${name}`, io.readFile) };
    const existing = bindings.findIndex((b) => b.name === name);
    if (existing >= 0) bindings[existing] = binding;
    else bindings.push(binding);
  }
  return bindings;
}
