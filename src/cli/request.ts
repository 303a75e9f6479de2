/**
 * Turns what the user gave (EXPR, `-f FILE` or standard input, `--at`,
 * `--wrt`) into a compiled program and the values to run it at.
 */
import type { MathNode } from 'mathjs';
import { compileAst } from '../compile.js';
import { allFinite } from '../engine/passes.js';
import { formatBytes, type Program } from '../engine/program.js';
import { brief, InputError, LimitError, UserError } from '../errors.js';
import type { Binding } from '../format/report.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { freeNames, indexNames, parseExpression, unitLikeNames, type VariableInfo } from '../parse/index.js';
import { tensorFromJson } from '../values.js';
import { parseValue, splitBinding } from './bindings.js';
import { readFailureReason, type Io, type ReadLimit } from './io.js';
import { DEFAULT_MAX_INPUT_BYTES } from './options.js';
import type { ValueFileReader } from './value-files.js';

export interface CommonOptions {
  readonly at: readonly string[];
  /** Every --wrt given, each a name or names separated by commas. */
  readonly wrt?: readonly string[];
  /** A file holding the expression. */
  readonly file?: string;
  readonly maxExprLength?: number;
  readonly maxNodes?: number;
  /** Calls of the program's own functions expanded into the graph. */
  readonly maxDepth?: number;
  /** Accept NaN and ±Infinity in values and seeds. */
  readonly allowNonfinite?: boolean;
  /** Bytes a value file may have. */
  readonly maxInput?: number;
}

function limitsOf(options: CommonOptions): Limits {
  return {
    maxExpressionLength: options.maxExprLength ?? DEFAULT_LIMITS.maxExpressionLength,
    maxNodes: options.maxNodes ?? DEFAULT_LIMITS.maxNodes,
    maxDepth: options.maxDepth ?? DEFAULT_LIMITS.maxDepth,
  };
}

/**
 * --max-input for `what` (a path, standard input, a batch line), as the
 * counting reader holds it. A limit above the longest text Node can hold
 * (about 512 MiB) holds there, and the refusal says which held.
 */
export function inputLimit(what: string, options: CommonOptions): ReadLimit {
  const requested = options.maxInput ?? DEFAULT_MAX_INPUT_BYTES;
  return {
    bytes: requested,
    refuse: (bytes, line) => {
      const subject = line === undefined ? what : `${what}: line ${line}`;
      const verb = line === undefined ? 'is larger than' : 'is longer than';
      // Above the longest string, raising --max-input would not help: say so instead.
      if (bytes < Math.floor(requested))
        return new LimitError(`${subject} ${verb} ${formatBytes(bytes)}, the most text Node can hold: give less`);
      return new LimitError(
        `${subject} ${verb} --max-input (${formatBytes(bytes)}): give less, or raise the limit with --max-input`,
      );
    },
  };
}

/**
 * The expression in a file or on standard input: --max-input, and no more
 * bytes than --max-expr-length characters can take (a UTF-16 code unit is
 * at most 3 bytes of UTF-8), so a huge file is refused after reading that
 * much, not all of it.
 */
function expressionLimit(what: string, options: CommonOptions): ReadLimit {
  const input = inputLimit(what, options);
  const characters = options.maxExprLength ?? DEFAULT_LIMITS.maxExpressionLength;
  const bytes = 3 * characters;
  if (input.bytes <= bytes) return input;
  return {
    bytes,
    refuse: (held) =>
      held < bytes
        ? input.refuse(held)
        : new LimitError(
            `${what} is longer than --max-expr-length (${characters} characters): it has more than ${bytes} bytes; ` +
              'shorten the expression, or raise the limit with --max-expr-length',
          ),
  };
}

/**
 * Standard input holding the expression: JSON (`{"expr": …, "at": …}`) may
 * hold values up to --max-input, but plain text is an expression, bounded as
 * one as soon as its first byte tells.
 */
function pipedLimit(options: CommonOptions): ReadLimit {
  const input = inputLimit('standard input', options);
  const expression = expressionLimit('standard input', options);
  let scanned = 0;
  return {
    bytes: input.bytes,
    refuse: (held) => (held < input.bytes ? expression.refuse(held) : input.refuse(held)),
    narrow: (head) => {
      // Leading white space says nothing: look past it, once.
      while (scanned < head.length && /\s/.test(String.fromCharCode(head[scanned]!))) scanned++;
      if (scanned === head.length) return undefined;
      return head[scanned] === 0x7b ? input.bytes : expression.bytes;
    },
  };
}

/** Refuses NaN and ±Infinity in what the user gives, unless --allow-nonfinite. */
export function requireFinite(data: ArrayLike<number>, what: string, options: CommonOptions): void {
  if (options.allowNonfinite === true) return;
  // One scan, the engine's (see allFinite); the entry to name is looked for only when there is one.
  if (allFinite(data)) return;
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k]!)) {
      throw new InputError(
        `${what} has ${String(data[k])} at entry ${k + 1}: give finite numbers, or add --allow-nonfinite`,
      );
    }
  }
}

/** What standard input may carry: the `--json` output of any command qualifies. */
export interface PipedInput {
  readonly expr?: string;
  readonly at?: Readonly<Record<string, unknown>>;
  readonly wrt?: readonly string[];
  readonly v?: unknown;
  readonly u?: unknown;
}

/** The expression, parsed once, and what standard input brought with it. */
export interface Source {
  readonly expr: string;
  readonly ast: MathNode;
  /** Names that need values. */
  readonly names: readonly string[];
  readonly piped: PipedInput;
  readonly programs: ProgramCache;
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

/**
 * Programs compiled from one expression, by the shapes of the variables (and
 * the values of the scalars its indices read): a batch compiles once per shape.
 */
class ProgramCache {
  private readonly programs = new Map<string, Program>();
  private readonly indexed: ReadonlySet<string>;

  constructor(
    private readonly ast: MathNode,
    private readonly limits: Limits,
    private readonly source: string,
  ) {
    this.indexed = indexNames(ast);
  }

  /** The bindings of the last call and its program: a batch's lines mostly repeat the shapes of the one before. */
  private last: { readonly bindings: readonly Binding[]; readonly program: Program } | null = null;

  get(bindings: readonly Binding[]): Program {
    const { last } = this;
    // A batch's flat lines hand the same bindings at every point, their numbers refilled: their shapes stay.
    if (
      last !== null &&
      ((last.bindings === bindings && this.indexed.size === 0) || this.sameShapes(last.bindings, bindings))
    )
      return last.program;
    const program = this.compiled(bindings);
    this.last = { bindings, program };
    return program;
  }

  /** The same names in the same order, of the same shapes, none of them read by an index. */
  private sameShapes(before: readonly Binding[], now: readonly Binding[]): boolean {
    if (before.length !== now.length) return false;
    for (let k = 0; k < now.length; k++) {
      const { name, value } = now[k]!;
      const other = before[k]!;
      if (other.name !== name || this.indexed.has(name)) return false;
      const shape = value.shape;
      const otherShape = other.value.shape;
      if (shape.length !== otherShape.length) return false;
      for (let d = 0; d < shape.length; d++) if (shape[d] !== otherShape[d]) return false;
    }
    return true;
  }

  private compiled(bindings: readonly Binding[]): Program {
    const key = bindings
      .map(
        ({ name, value }) =>
          `${name}:${value.shape.join('x')}${this.indexed.has(name) ? `=${Array.from(value.data).join(',')}` : ''}`,
      )
      .join(';');
    let program = this.programs.get(key);
    if (program === undefined) {
      const variables = new Map<string, VariableInfo>(
        bindings.map((b) => [b.name, { shape: b.value.shape, value: b.value.data }]),
      );
      program = compileAst(this.ast, variables, this.limits, this.source);
      this.programs.set(key, program);
    }
    return program;
  }
}

/**
 * Where the expression comes from: EXPR, `-f FILE`, or standard input (plain
 * text or JSON) unless standard input is taken by a batch.
 */
export async function readSource(
  exprArg: string | undefined,
  options: CommonOptions,
  io: Io,
  stdinTaken = false,
): Promise<Source> {
  // `-` names standard input, for EXPR as for -f and --batch.
  if (exprArg === '-') return readSource(undefined, options, io, stdinTaken);
  if (exprArg !== undefined && options.file !== undefined)
    throw new InputError('give the expression either as EXPR or with -f FILE, not both');
  let piped: PipedInput = {};
  if (options.file !== undefined) {
    // A file is a program as mathjs reads it: statements on lines, `#` comments.
    if (options.file === '-' && stdinTaken)
      throw new InputError('-f - and --batch - both read standard input: give the points or the program in a file');
    const text =
      options.file === '-'
        ? await io.readStdin(expressionLimit('standard input', options))
        : readText(options.file, io, expressionLimit(options.file, options));
    piped = { expr: text.trim() };
  } else if (exprArg === undefined) {
    if (stdinTaken)
      throw new InputError('missing expression: with --batch -, standard input holds the points; give EXPR or -f FILE');
    piped = await readPiped(io, options);
  }
  const expr = exprArg ?? piped.expr;
  if (expr === undefined)
    throw new InputError(
      'missing expression: give one, as in jacobian "x*2" --at 1,2,3, or pipe JSON with an "expr" field',
    );
  const limits = limitsOf(options);
  const ast = parseExpression(expr, limits);
  return { expr, ast, names: freeNames(ast), piped, programs: new ProgramCache(ast, limits, expr) };
}

function readText(path: string, io: Io, limit: ReadLimit): string {
  try {
    return io.readFile(path, limit);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new InputError(`cannot read ${path}: ${readFailureReason(error)}`);
  }
}

/** The variables `--wrt` names, or undefined for the default. */
export function requestedWrt(options: CommonOptions): readonly string[] | undefined {
  return options.wrt === undefined ? undefined : options.wrt.flatMap(splitNames);
}

/** The bindings checked against the expression's names, the variables to differentiate, and the program. */
export function bindRequest(
  source: Source,
  bindings: readonly Binding[],
  requested: readonly string[] | undefined,
  options: CommonOptions,
): Omit<Request, 'ms'> {
  for (const { name, value } of bindings) requireFinite(value.data, name, options);
  const bound = new Set(bindings.map((b) => b.name));
  const missing = source.names.filter((name) => !bound.has(name));
  if (missing.length > 0) {
    const units = unitLikeNames(source.ast);
    const hint = missing.some((name) => units.has(name)) ? ' (units, as in 3 cm, are not supported)' : '';
    throw new InputError(
      `no value for ${missing.join(', ')}: add ${missing.map((name) => `--at ${name}=…`).join(' ')}${hint}`,
    );
  }
  const wrt = requested ?? source.piped.wrt ?? bindings.map((b) => b.name);
  for (const name of wrt) {
    if (!bound.has(name))
      throw new InputError(
        `--wrt ${name}: ${name} has no value (bound: ${[...bound].join(', ') || 'none'}); ` +
          `bind it with --at ${name}=…`,
      );
  }
  if (new Set(wrt).size !== wrt.length) throw new InputError(`--wrt names a variable twice: ${wrt.join(',')}`);
  const program = source.programs.get(bindings);
  const point = new Map(bindings.map((b) => [b.name, b.value.data]));
  return { expr: source.expr, bindings, wrt, program, piped: source.piped, point };
}

export async function resolveRequest(exprArg: string | undefined, options: CommonOptions, io: Io): Promise<Request> {
  const start = performance.now();
  const source = await readSource(exprArg, options, io);
  const parsed = performance.now();
  const bindings = collectBindings(source.piped.at ?? {}, source.names, options, io);
  const bound = performance.now();
  const request = bindRequest(source, bindings, requestedWrt(options), options);
  const ms = { read: bound - start, parse: parsed - start, compile: performance.now() - bound };
  return { ...request, ms };
}

function splitNames(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n === ''))
    throw new InputError(`--wrt "${text}" has an empty name: write names separated by commas, as x,y`);
  return names;
}

async function readPiped(io: Io, options: CommonOptions): Promise<PipedInput> {
  if (io.stdinIsTTY)
    throw new InputError('missing expression: give one, as in jacobian "x*2" --at 1,2,3, or pipe it on standard input');
  const text = (await io.readStdin(pipedLimit(options))).trim();
  if (text === '')
    throw new InputError('missing expression: standard input is empty; give EXPR, as in jacobian "x*2" --at 1,2,3');
  if (!text.startsWith('{')) return { expr: text };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `standard input is not valid JSON (${(error as Error).message}); pipe a JSON object with "expr", or plain text`,
    );
  }
  return checkPiped(parsed);
}

function checkPiped(parsed: unknown): PipedInput {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InputError('standard input must be a JSON object with "expr"');
  const input = parsed as Record<string, unknown>;
  if (typeof input.expr !== 'string') throw new InputError('the JSON on standard input needs "expr", a string');
  if (input.at !== undefined && !isRecord(input.at))
    throw new InputError('"at" on standard input must be an object of values, as {"x": [1, 2, 3]}');
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

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Values given as JSON (piped input or a batch line), by name. */
export function jsonBindings(at: Readonly<Record<string, unknown>>, where: string): Binding[] {
  return Object.entries(at).map(([name, value]) => ({ name, value: tensorFromJson(value, `${where}"${name}"`) }));
}

/** Bindings from JSON (standard input), then from `--at` (which win), in order of first appearance. */
export function collectBindings(
  at: Readonly<Record<string, unknown>>,
  names: readonly string[],
  options: CommonOptions,
  io: Io,
): Binding[] {
  const bindings = jsonBindings(at, '"at".');
  const atArgs = options.at;
  const readValueFile = valueFileReader(options, io);
  // The text each name was given with on the command line: a second --at for it is a mistake.
  const texts = new Map<string, string>();
  for (const arg of atArgs) {
    const raw = splitBinding(arg);
    let name = raw.name;
    if (name === null) {
      if (names.length !== 1) {
        throw new InputError(
          names.length === 0
            ? `--at ${arg} has no name and the expression has no variables; name it, as --at x=${arg}`
            : `--at ${arg} has no name but the expression has ${names.length} variables (${names.join(', ')}): ` +
                `write ${names.map((n) => `--at ${n}=…`).join(' ')}`,
        );
      }
      name = names[0]!;
    }
    const given = texts.get(name);
    if (given !== undefined)
      throw new InputError(`--at ${name} is given twice, as ${brief(given)} and as ${brief(raw.text)}: give one value`);
    texts.set(name, raw.text);
    mergeBinding(bindings, { name, value: parseValue(raw.text, `--at ${name}`, readValueFile) });
  }
  return bindings;
}

/** How `--at`, `--v` and `--u` read the files of `@FILE`, within --max-input. */
function valueFileReader(options: CommonOptions, io: Io): ValueFileReader {
  const checkSize = (path: string): void => {
    const size = io.fileSize?.(path);
    if (size !== undefined && options.maxInput !== undefined && size > options.maxInput) {
      throw new LimitError(
        `${path} has ${size} bytes, more than the limit of ${options.maxInput} (raise it with --max-input)`,
      );
    }
  };
  return {
    text: (path) => {
      checkSize(path);
      return io.readFile(path, inputLimit(path, options));
    },
    bytes: (path) => {
      checkSize(path);
      if (io.readBytes === undefined) throw new InputError(`${path}: this run reads no binary files`);
      return io.readBytes(path, inputLimit(path, options));
    },
  };
}

/**
 * The options with each `--v @FILE` and `--u [NAME=]@FILE` read, as --at reads its files, and given as the JSON
 * of their numbers: a seed then reads as one written on the command line, here and on a batch's threads.
 */
export function withSeedFiles<T extends CommonOptions & { readonly v?: string; readonly u?: readonly string[] }>(
  options: T,
  io: Io,
): T {
  const files = /^\s*@/;
  const reader = valueFileReader(options, io);
  const inline = (text: string, flag: '--v' | '--u'): string => {
    // --u alone names the variable of its part, as NAME=….
    const { name, text: value } = flag === '--u' ? splitBinding(text, flag) : { name: null, text };
    if (!files.test(value)) return text;
    const what = name === null ? flag : `${flag} ${name}`;
    const { data } = parseValue(value, what, reader);
    // Non-finite numbers as the strings JSON values use for them, which the seed's own check then refuses or keeps.
    const json = JSON.stringify(Array.from(data, (x) => (Number.isFinite(x) ? x : String(x))));
    return name === null ? json : `${name}=${json}`;
  };
  return {
    ...options,
    ...(options.v === undefined ? {} : { v: inline(options.v, '--v') }),
    ...(options.u === undefined ? {} : { u: options.u.map((u) => inline(u, '--u')) }),
  };
}

/** Adds a binding, replacing one of the same name in place. */
export function mergeBinding(bindings: Binding[], binding: Binding): void {
  const existing = bindings.findIndex((b) => b.name === binding.name);
  if (existing >= 0) bindings[existing] = binding;
  else bindings.push(binding);
}
