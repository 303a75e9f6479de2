/**
 * Fuzzing: running the CLI in-process on one case, the contract every run
 * must keep (SPEC §5), and generators of random and broken input.
 */
import fc from 'fast-check';
import { main } from '../../src/cli/main.js';
import { OPS, OP_NAMES } from '../../src/ops/index.js';
import { LANGUAGE_FUNCTIONS } from '../../src/parse/index.js';
import { fakeIo } from './cli.js';
import { expressions, SHAPE } from './expressions.js';

/** One run of the CLI: arguments, and optionally standard input (a pipe) and files. */
export interface CliCase {
  readonly args: readonly string[];
  readonly stdin?: string;
  readonly files?: Readonly<Record<string, string>>;
}

export interface CliRun {
  readonly status: number;
  readonly out: string;
  readonly err: string;
}

export async function runCli(c: CliCase): Promise<CliRun> {
  const io = fakeIo({
    ...(c.stdin === undefined ? {} : { stdin: c.stdin }),
    ...(c.files === undefined ? {} : { files: c.files }),
  });
  const status = await main(c.args, io);
  return { status, out: io.out(), err: io.err() };
}

/** Options that take a value: the next argument is theirs, whatever it looks like. */
const VALUED = new Set([
  '--at',
  '--wrt',
  '-f',
  '--file',
  '--batch',
  '--format',
  '--precision',
  '--max-memory',
  '--max-expr-length',
  '--max-nodes',
  '--max-input',
  '--mode',
  '--v',
  '--u',
  '--tol',
]);

/** What the flags ask for, read as commander reads them (values taken whole, `--` ends the options). */
export interface Flags {
  readonly command: string | undefined;
  /** The output is JSON (one object, or JSON Lines for a batch). */
  readonly json: boolean;
  readonly strict: boolean;
  readonly batch: boolean;
  /** A batch written as CSV (--format csv): not JSON. */
  readonly csv: boolean;
  /** --help or --version: text, status 0. */
  readonly info: boolean;
}

const SUBCOMMANDS = new Set(['jac', 'vjp', 'jvp', 'grad', 'hessian', 'hvp', 'check', 'functions']);

export function readFlags(args: readonly string[]): Flags {
  let json = false;
  let format: string | undefined;
  let strict = false;
  let batch = false;
  let info = false;
  let command: string | undefined;
  let positional = 0;
  for (let k = 0; k < args.length; k++) {
    const arg = args[k]!;
    if (arg === '--') break;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUED.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++k];
      if (name === '--format') format = value;
      if (name === '--batch') batch = true;
    } else if (arg === '--json') json = true;
    else if (arg === '--strict') strict = true;
    else if (['--help', '--version', 'help'].includes(arg) || /^-[^-]*[hV]/.test(arg)) info = true;
    else if (!arg.startsWith('-')) {
      if (positional === 0 && SUBCOMMANDS.has(arg)) command = arg;
      positional++;
    }
  }
  const csv = batch && format === 'csv';
  return { command, json: format === 'json' || (format === undefined && json), strict, batch, csv, info };
}

const lineList = (text: string): string[] => {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
};

/**
 * The contract of every run, or a description of how `run` breaks it (null: kept).
 * 0: a result on stdout (JSON that parses when JSON was asked for), no `error:` line;
 * 2: nothing on stdout, one `error:` line (a parse error adds the expression and a caret line);
 * 1: only for check, --strict or a batch, never an internal error; never a stack trace.
 */
export function contractViolation(c: CliCase, run: CliRun): string | null {
  const flags = readFlags(c.args);
  const errLines = lineList(run.err);
  const errorLines = errLines.filter((line) => line.startsWith('error:'));
  if (run.err.includes('internal error')) return `internal error (status ${run.status}): ${run.err.trim()}`;
  // A stack frame, `    at f (file.js:1:2)`; not the expression a parse error repeats above its caret line.
  const echo = errLines.length === 3 && /^ *\^$/.test(errLines[2]!) ? 1 : -1;
  if (errLines.some((line, i) => i !== echo && /^\s+at /.test(line))) return `stack trace on stderr: ${run.err}`;
  switch (run.status) {
    case 0: {
      // A batch of no points has no output lines.
      if (run.out === '' && !flags.batch) return 'status 0 with nothing on stdout';
      if (errorLines.length > 0) return `status 0 with an error line: ${errorLines[0]}`;
      const stray = errLines.filter(
        (line) => !line.startsWith('warning: ') && !(line.startsWith('{') && c.args.includes('--stats')),
      );
      if (stray.length > 0) return `status 0 with stray stderr lines: ${JSON.stringify(stray)}`;
      if ((flags.json || flags.batch) && !flags.info && !flags.csv) return jsonViolation(run.out, flags.batch);
      return null;
    }
    case 2: {
      if (run.out !== '') return `status 2 with stdout: ${JSON.stringify(run.out.slice(0, 200))}`;
      if (!run.err.endsWith('\n')) return `status 2, stderr does not end a line: ${JSON.stringify(run.err)}`;
      if (errLines.length === 0 || !/^error: \S/.test(errLines[0]!))
        return `status 2, stderr does not start with "error: ": ${JSON.stringify(run.err)}`;
      if (errorLines.length !== 1) return `status 2 with ${errorLines.length} error lines: ${JSON.stringify(run.err)}`;
      const caret = errLines.length === 3 && errLines[1]!.startsWith('  ') && /^ *\^$/.test(errLines[2]!);
      if (errLines.length !== 1 && !caret)
        return `status 2 with ${errLines.length} lines on stderr: ${JSON.stringify(run.err)}`;
      return null;
    }
    case 1: {
      if (!(flags.command === 'check' || flags.strict || flags.batch))
        return `status 1 without check, --strict or --batch: ${run.err.trim()}`;
      if (run.out === '' && !flags.batch) return 'status 1 with nothing on stdout';
      if (errorLines.length > 0) return `status 1 with an error line: ${errorLines[0]}`;
      if ((flags.json || flags.batch) && !flags.csv) return jsonViolation(run.out, flags.batch);
      return null;
    }
    default:
      return `status ${run.status}`;
  }
}

function jsonViolation(out: string, batch: boolean): string | null {
  if (batch && out === '') return null;
  if (!out.endsWith('\n')) return `JSON output does not end a line: ${JSON.stringify(out.slice(-100))}`;
  const lines = lineList(out);
  if (!batch && lines.length !== 1) return `JSON output on ${lines.length} lines`;
  for (const line of lines) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      return `output is not JSON (${(error as Error).message}): ${line.slice(0, 300)}`;
    }
    if (
      batch &&
      typeof parsed === 'object' &&
      parsed !== null &&
      'error' in parsed &&
      String(parsed.error).startsWith('internal error')
    ) {
      return `internal error in a batch line: ${line}`;
    }
  }
  return null;
}

/** Runs a case (counting its status in `statuses`) and returns how it breaks the contract, or null. */
export async function checkCase(c: CliCase, statuses?: Map<number, number>): Promise<string | null> {
  const run = await runCli(c);
  statuses?.set(run.status, (statuses.get(run.status) ?? 0) + 1);
  return contractViolation(c, run);
}

// ---------------------------------------------------------------------------
// Generators

/** The values the expressions below are run at: x a 3-vector, y a scalar, M a 2×2 matrix. */
export const STANDARD_AT = ['--at', 'x=1,2,3', '--at', 'y=0.5', '--at', 'M=[[1,2],[3,4]]'] as const;

/** Valid expressions of the README's language section, each of them compiles at STANDARD_AT. */
export const VALID_EXPRESSIONS: readonly string[] = [
  'x*2',
  '2',
  'x[2]',
  'x[2:3]',
  'x[end]',
  'x[end-1:end]',
  'x[[1, 3]]',
  'x[1:2:3]',
  'x[2:end] - x[1:end-1]',
  'M[1, 2]',
  'M[1, :]',
  'M[:, 2]',
  'M[end, end]',
  '[x[1]*x[2], x[2]^2]',
  '[y, 2; 3, y]',
  '[[1, y], [y, 1]]',
  'sin(x) .* x + x .^ 2',
  'tanh(M*x[1:2] + y)',
  'norm(x)',
  'norm(x, 1)',
  'norm(x, Inf)',
  "norm(M, 'fro')",
  'det(M)',
  'inv(M)',
  'trace(M)',
  "M'",
  'transpose(M) * M',
  'cross(x, [1, 2, 3])',
  'dot(x, x)',
  'x * x',
  'sum(x)',
  'prod(x)',
  'mean(M, 1)',
  'sum(M, 2)',
  'max(x)',
  'min(x, 2)',
  'y > 0 ? y^2 : -y',
  'atan2(y, 2)',
  'hypot(x[1], x[2])',
  'log(y + 2, 3)',
  'nthRoot(y + 1, 3)',
  '2x + 3 sin(y)',
  '2(x + 1)',
  'abs(x) + max(x, 1)',
  'exp(y) - sqrt(abs(y))',
  'mod(y, 2) + floor(y)',
  'M^2',
  'x / y',
  'M / M',
  "x'",
  '-x + +y',
  'pi * e * y',
  '1 < y < 2',
  'y and not y',
  'M * [1, 2]',
  '[1, 2] * M',
  'cube(y) + square(x)',
  'x ./ (1 + y .^ 2)',
];

/** Characters that an edit inserts: the language's own, and a few it does not have. */
const EDIT_CHARS = [
  ...'0123456789.,;:[]()+-*/^\'!<>=?&|%~ xyMeinpd_$"\\#@{}`',
  'end',
  'sin(',
  'norm(',
  'Inf',
  'NaN',
  ':',
  ' ? ',
  'e308',
  'e-320',
  '1e999',
  '\u00a0',
  'π',
  '−',
  '×',
  'ｘ',
  '\u200b',
];

/** One edit of a string; positions are taken modulo its length. */
export type Edit =
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'replace'; readonly at: number; readonly text: string }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number }
  | { readonly kind: 'swap'; readonly first: number; readonly second: number };

const TOKEN = /\d+(?:\.\d*)?(?:e[+-]?\d+)?|[A-Za-z_$][\w$]*|\.[*/^]|[<>=!]=|\S/g;

export function applyEdit(text: string, edit: Edit): string {
  const n = text.length;
  switch (edit.kind) {
    case 'delete': {
      if (n === 0) return text;
      const at = edit.at % n;
      return text.slice(0, at) + text.slice(at + edit.length);
    }
    case 'insert': {
      const at = edit.at % (n + 1);
      return text.slice(0, at) + edit.text + text.slice(at);
    }
    case 'replace': {
      if (n === 0) return edit.text;
      const at = edit.at % n;
      return text.slice(0, at) + edit.text + text.slice(at + 1);
    }
    case 'duplicate': {
      if (n === 0) return text;
      const at = edit.at % n;
      const piece = text.slice(at, at + edit.length);
      return text.slice(0, at) + piece + piece + text.slice(at + edit.length);
    }
    case 'swap': {
      const tokens = [...text.matchAll(TOKEN)];
      if (tokens.length < 2) return text;
      const [i, j] = [edit.first % tokens.length, edit.second % tokens.length].sort((a, b) => a - b) as [
        number,
        number,
      ];
      if (i === j) return text;
      const a = tokens[i]!;
      const b = tokens[j]!;
      const aEnd = a.index + a[0].length;
      return text.slice(0, a.index) + b[0] + text.slice(aEnd, b.index) + a[0] + text.slice(b.index + b[0].length);
    }
  }
}

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(200), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(200), text: fc.constantFrom(...EDIT_CHARS) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(200), text: fc.constantFrom(...EDIT_CHARS) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(200), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('swap' as const), first: fc.nat(50), second: fc.nat(50) }),
);

/** A valid expression with one to four random edits. */
export const mutatedExpression: fc.Arbitrary<{
  readonly source: string;
  readonly edits: readonly Edit[];
  readonly text: string;
}> = fc
  .tuple(fc.constantFrom(...VALID_EXPRESSIONS), fc.array(editArb, { minLength: 1, maxLength: 4 }))
  .map(([source, edits]) => ({ source, edits, text: edits.reduce(applyEdit, source) }));

/**
 * Printable ASCII and some unicode (look-alikes of operators and names, spaces
 * of other kinds, an emoji). Not line breaks: an expression with one is echoed
 * on several lines by a parse error (reported, see fuzz.test.ts).
 */
export const UNICODE_CHARS = [
  'π',
  '−',
  '×',
  '÷',
  '²',
  '√',
  '∂',
  'é',
  'ｘ',
  '\u00a0',
  '\u200b',
  '\u2028',
  '\u3000',
  '😀',
  '\t',
  '\u0000',
  '\u007f',
  '\ud800',
];

export const randomString: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.constantFrom(...UNICODE_CHARS) },
  ),
  minLength: 0,
  maxLength: 60,
});

// --- Expressions from a grammar --------------------------------------------

const NUMBERS = [
  '0',
  '-0',
  '1',
  '2',
  '3',
  '0.5',
  '1e308',
  '-1e308',
  '1e-320',
  '-1',
  '1e400',
  '4',
  '100',
  '2.5e-3',
  'pi',
  'e',
  'Inf',
  '-Inf',
  'NaN',
  'true',
  'false',
  'tau',
];
/** x, y, M are bound; z is not; i is mathjs's imaginary unit; end outside an index; names of Object.prototype. */
const NAMES = ['x', 'x', 'x', 'y', 'y', 'y', 'M', 'M', 'M', 'z', 'i', 'end', 'constructor', '__proto__'];
const BINARY = [
  '+',
  '-',
  '*',
  '/',
  '^',
  '.*',
  './',
  '.^',
  '==',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  ' and ',
  ' or ',
  ' xor ',
  ' mod ',
  '%',
  '&',
  '|',
  '<<',
  ' to ',
];
const INDICES = [
  '1',
  '2',
  '3',
  '0',
  '-1',
  '1.5',
  'end',
  'end-1',
  'end+1',
  '4',
  '1e308',
  'NaN',
  'Inf',
  ':',
  '1:2',
  '2:1',
  '1:0:3',
  '1:-1:1',
  '3:-1:1',
  '1:end',
  'end:-1:1',
  '[1, 3]',
  '[]',
  'y',
  'x',
  'x[1]',
  'end/2',
  '[1, 2; 3, 4]',
  'true',
  '1:1e-320:2',
  '0:2',
  '[0]',
  '[1.5]',
];
const NORM_P = ['1', '2', 'Inf', '-Inf', '0', '-1', '0.5', "'fro'", "'nuc'", '"fro"', 'y', 'x', '3', '1e308', 'NaN'];
const DIMS = ['1', '2', '3', '0', '-1', '1.5', 'y', 'x', 'NaN'];
const ODDITIES = [
  "'abc'",
  '3 cm',
  'a = 1',
  'f(t) = t',
  'x; y',
  '{a: 1}',
  '2 + 3i',
  'x!',
  'x?',
  '@',
  'f(x)',
  'x.y',
  '1:3',
  '1:1e9',
];

/** Every function of the language, with the argument counts it takes. */
export const FUNCTIONS: readonly { readonly name: string; readonly min: number; readonly max: number }[] = [
  ...Object.entries(LANGUAGE_FUNCTIONS).map(([name, f]) => ({ name, min: f.minArgs, max: Math.min(f.maxArgs, 4) })),
  ...OP_NAMES.flatMap((op) => {
    const fn = OPS[op].fn;
    return fn === undefined || Object.hasOwn(LANGUAGE_FUNCTIONS, fn.name)
      ? []
      : [{ name: fn.name, min: fn.arity, max: fn.arity }];
  }),
  // Not functions of the language: mathjs's, Object.prototype's, a variable's, none at all.
  ...['zeros', 'cumsum', 'toString', 'constructor', 'hasOwnProperty', '__proto__', 'x', 'pi', 'foo'].map((name) => ({
    name,
    min: 0,
    max: 2,
  })),
];

const pick = <T>(values: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...values);

/** Expression text from the language's grammar, valid-ish: names, shapes, indices and argument counts are random. */
export function grammarExpression(maxDepth: number): fc.Arbitrary<string> {
  const { expr } = fc.letrec<{ expr: string }>((tie) => {
    const sub = tie('expr');
    const call = fc
      .constantFrom(...FUNCTIONS)
      .chain(({ name, min, max }) =>
        fc
          .oneof(
            { weight: 5, arbitrary: fc.integer({ min, max }) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) },
          )
          .chain((arity) =>
            fc.array(sub, { minLength: arity, maxLength: arity }).map((args) => `${name}(${args.join(', ')})`),
          ),
      );
    const index = fc.oneof({ weight: 4, arbitrary: pick(INDICES) }, { weight: 1, arbitrary: sub });
    return {
      expr: fc.oneof(
        { depthSize: 'small', maxDepth, withCrossShrink: true },
        { weight: 4, arbitrary: pick(NUMBERS) },
        { weight: 6, arbitrary: pick(NAMES) },
        { weight: 1, arbitrary: pick(ODDITIES) },
        { weight: 3, arbitrary: fc.tuple(sub, pick(BINARY), sub).map(([a, op, b]) => `${a}${op}${b}`) },
        {
          weight: 2,
          arbitrary: fc
            .tuple(pick(['-', '+', 'not ', '-(', '(']), sub)
            .map(([op, a]) => (op.endsWith('(') ? `${op}${a})` : `${op}${a}`)),
        },
        { weight: 1, arbitrary: fc.tuple(sub, pick(["'", '!', "''"])).map(([a, op]) => `(${a})${op}`) },
        { weight: 4, arbitrary: call },
        { weight: 1, arbitrary: fc.tuple(sub, pick(NORM_P)).map(([a, p]) => `norm(${a}, ${p})`) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(pick(['sum', 'mean', 'max', 'min', 'prod']), sub, pick(DIMS))
            .map(([f, a, d]) => `${f}(${a}, ${d})`),
        },
        { weight: 3, arbitrary: fc.tuple(pick(['x', 'M', 'y']), index).map(([n, i]) => `${n}[${i}]`) },
        { weight: 2, arbitrary: fc.tuple(pick(['x', 'M', 'y']), index, index).map(([n, i, j]) => `${n}[${i}, ${j}]`) },
        { weight: 1, arbitrary: fc.tuple(sub, index).map(([a, i]) => `(${a})[${i}]`) },
        { weight: 1, arbitrary: fc.tuple(sub, index, index).map(([a, i, j]) => `(${a})[${i}, ${j}]`) },
        { weight: 2, arbitrary: fc.array(sub, { minLength: 0, maxLength: 4 }).map((items) => `[${items.join(', ')}]`) },
        {
          weight: 1,
          arbitrary: fc
            .array(fc.array(sub, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 })
            .map((rows) => `[${rows.map((r) => r.join(', ')).join('; ')}]`),
        },
        {
          weight: 1,
          arbitrary: fc
            .array(fc.array(sub, { minLength: 0, maxLength: 3 }), { minLength: 1, maxLength: 3 })
            .map((rows) => `[${rows.map((r) => `[${r.join(', ')}]`).join(', ')}]`),
        },
        { weight: 1, arbitrary: fc.tuple(sub, sub, sub).map(([c, a, b]) => `${c} ? ${a} : ${b}`) },
        { weight: 1, arbitrary: fc.tuple(sub, sub).map(([a, b]) => `${a}:${b}`) },
        { weight: 2, arbitrary: sub.map((a) => `(${a})`) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(pick(['2', '3', '0.5', '1e308']), pick(['x', 'y', 'M', 'sin(x)', '(x + 1)', ' y', ' (M)']))
            .map(([c, a]) => `${c}${a}`),
        },
      ),
    };
  });
  return expr;
}

/** Values to bind x, y and M to: ordinary, zero, signed zero, subnormal, huge, singular, and the wrong shapes. */
export const X_VALUES = [
  '1,2,3',
  '0,0,0',
  '-1,0,1e308',
  '1e-320,-0,2',
  '0.5,0.5,0.5',
  '[1,2,3]',
  '1,2',
  '[[1,2,3]]',
  '4',
];
export const Y_VALUES = ['0.5', '0', '-0', '1', '2', '3', '1e-320', '1e308', '-1', '[0.5]', '1,2'];
export const M_VALUES = [
  '[[1,2],[3,4]]',
  '[[0,0],[0,0]]',
  '[[1,2],[2,4]]',
  '[[1e308,1],[1,1e308]]',
  '[[2,0],[0,2]]',
  '[1,2;3,4]',
  '[[1,2,3],[4,5,6]]',
  '1,2,3,4',
];

export const COMMANDS = ['jac', 'vjp', 'jvp', 'grad', 'hessian', 'hvp', 'check'] as const;
export type CliCommand = (typeof COMMANDS)[number];

/** The seed flag a command needs, with `length` ones (the right length is a matter of luck). */
export function seedFlag(command: CliCommand, length: number): string[] {
  const ones = Array.from({ length }, () => '1').join(',');
  if (command === 'vjp') return ['--v', ones];
  if (command === 'jvp' || command === 'hvp') return ['--u', ones];
  return [];
}

/** A command with the seed it needs, over an expression and random values of x, y, M. */
export function commandCase(
  expr: string,
  command: CliCommand,
  seedLength: number,
  at: readonly [string, string, string],
  extra: readonly string[] = [],
): CliCase {
  return {
    args: [
      command,
      '--at',
      `x=${at[0]}`,
      '--at',
      `y=${at[1]}`,
      '--at',
      `M=${at[2]}`,
      ...seedFlag(command, seedLength),
      '--json',
      ...extra,
      '--',
      expr,
    ],
  };
}

// --- Values and flags ------------------------------------------------------

/** A JSON-ish value: numbers of every kind, nested arrays (ragged, deep, empty), and things that are not numbers. */
export const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    { weight: 6, arbitrary: fc.double() },
    { weight: 4, arbitrary: fc.integer({ min: -5, max: 5 }) },
    { weight: 2, arbitrary: fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, 1e-320, Number.MAX_SAFE_INTEGER) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('NaN', 'Infinity', '-Infinity', 'inf', 'nan', '', '1', 'abc', 'toString', '__proto__'),
    },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 6, arbitrary: fc.array(tie('value'), { maxLength: 5 }) },
  ),
})).value;

/** JSON text of a value, with JSON's own numbers (NaN and ±Infinity become the strings SPEC §4 reads). */
export const jsonText = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? 'null';

const NUMBER_WORDS = [
  'NaN',
  'nan',
  'Infinity',
  '-Infinity',
  'inf',
  '+inf',
  '-inf',
  'Inf',
  '1e999',
  '-0',
  '0x10',
  '1_000',
  '.5',
  '5.',
  '+1',
  '1e',
  'e1',
  '--1',
  '١',
];

/** The text of an `--at` value: lists, arrays, words, files, garbage. */
export const atText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(fc.double().map(String), fc.integer().map(String), pick(NUMBER_WORDS)), {
        minLength: 0,
        maxLength: 6,
      })
      .chain((items) => pick([',', ' ', ', ', ',,', ';']).map((sep) => items.join(sep))),
  },
  { weight: 3, arbitrary: jsonish.map(jsonText) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 })
      .map((rows) => `[${rows.map((r) => r.join(',')).join(';')}]`),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789.,-+eE[] ;@=xyNnaIifty"\'{}:'), maxLength: 20 }),
  },
  {
    weight: 1,
    arbitrary: pick([
      '@W.json',
      '@missing.json',
      '@bad.json',
      '@empty.json',
      '@',
      '@@W.json',
      '@csv.csv',
      '@deep.json',
      '@nan.json',
    ]),
  },
  { weight: 1, arbitrary: randomString },
);

/** Files the fake Io has, for `@file`, `-f` and `--batch`. */
export const FILES: Readonly<Record<string, string>> = {
  'W.json': '[[1,2],[3,4]]',
  'bad.json': '[1, 2',
  'empty.json': '',
  'csv.csv': '1,2\n3,4\n',
  'deep.json': '[[[1]]]',
  'nan.json': '["NaN", 1, "Infinity"]',
  'expr.txt': 'sum(x .^ 2) # a comment\n+ y',
  'points.jsonl':
    '{"x": [1, 2, 3]}\n{"at": {"x": [0, 0, 0]}, "v": [1, 2, 3]}\nnot json\n[1]\n{"x": [[1]]}\n\n{"x": "NaN"}\n',
};

const NAME_CHOICES = ['x', 'y', 'M', 'z', 'W', 'a', 'x1', '_', '$', '1x', 'x-y', 'constructor', 'pi', 'end', ''];

/** A binding, named (often a name of the expression) or not. */
export const atBinding: fc.Arbitrary<string> = fc
  .tuple(fc.option(pick(NAME_CHOICES), { nil: undefined }), atText)
  .map(([name, text]) => (name === undefined ? text : `${name}=${text}`));

/** A random flag of the real flag set, with a value that may or may not fit. */
export const randomFlag: fc.Arbitrary<readonly string[]> = fc.oneof(
  { weight: 4, arbitrary: atBinding.map((b) => ['--at', b]) },
  {
    weight: 2,
    arbitrary: fc
      .array(pick(NAME_CHOICES), { maxLength: 3 })
      .chain((names) => pick([',', ' ', ',,']).map((sep) => ['--wrt', names.join(sep)])),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        pick(['--v', '--u']),
        fc.array(fc.oneof(fc.double().map(String), pick(['1', '0', '-1', 'NaN', 'inf', 'abc', ''])), { maxLength: 10 }),
      )
      .map(([flag, items]) => [flag, items.join(',')]),
  },
  { weight: 1, arbitrary: fc.tuple(pick(['--v', '--u']), jsonish.map(jsonText)).map(([flag, text]) => [flag, text]) },
  { weight: 1, arbitrary: pick(['auto', 'reverse', 'forward', 'both', '', 'AUTO']).map((m) => ['--mode', m]) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(fc.integer({ min: -3, max: 25 }).map(String), pick(['1.5', 'abc', '', '1e1', '0x5', 'NaN']))
      .map((p) => ['--precision', p]),
  },
  {
    weight: 1,
    arbitrary: pick(['table', 'json', 'mtx', 'csv', 'tsv', 'markdown', 'latex', 'mathjs', 'xml', '']).map((f) => [
      '--format',
      f,
    ]),
  },
  { weight: 1, arbitrary: pick(['1e-6', '0', '-1', 'NaN', 'Infinity', '1e308', 'abc']).map((t) => ['--tol', t]) },
  { weight: 1, arbitrary: pick(['1B', '1MB', '4GiB', '0', 'abc', '1e3kb', '-1']).map((s) => ['--max-memory', s]) },
  { weight: 1, arbitrary: pick(['1', '5', '100', '0', '-1', 'abc', '1e9']).map((s) => ['--max-expr-length', s]) },
  { weight: 1, arbitrary: pick(['1', '5', '100', '0', 'abc']).map((s) => ['--max-nodes', s]) },
  {
    weight: 1,
    arbitrary: pick(['-f', '--file']).chain((f) => pick(['expr.txt', 'missing.txt', 'W.json']).map((p) => [f, p])),
  },
  // Not a batch file that does not exist: that is an internal error today (see the header of fuzz.test.ts).
  { weight: 1, arbitrary: pick(['points.jsonl', 'W.json', 'expr.txt']).map((p) => ['--batch', p]) },
  {
    weight: 3,
    arbitrary: pick([
      '--json',
      '--sparse',
      '--strict',
      '--allow-nonfinite',
      '--stats',
      '--no-color',
      '--bogus',
      '-x',
      '--',
    ]).map((f) => [f]),
  },
);

// --- Well-shaped expressions at special points --------------------------------

/** Entries of x (3), y and A (2×3) at which functions have kinks, poles, ties, overflow or leave their domain. */
const SPECIAL_ENTRIES = [
  '0',
  '-0',
  '1',
  '-1',
  '2',
  '0.5',
  '1e308',
  '-1e308',
  '1e-320',
  '5e-324',
  '1e-8',
  '3.14159',
  '1e16',
  '0.1',
];

export const specialNumber: fc.Arbitrary<string> = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom(...SPECIAL_ENTRIES) },
  { weight: 1, arbitrary: fc.constantFrom('NaN', 'Infinity', '-Infinity') },
);

/** --at bindings of x, y and A (the variables of the typed generator in expressions.ts), entries from the special ones. */
export const specialBindings: fc.Arbitrary<readonly string[]> = fc
  .tuple(
    fc.array(specialNumber, { minLength: 3, maxLength: 3 }),
    specialNumber,
    fc.array(specialNumber, { minLength: 6, maxLength: 6 }),
  )
  .map(([x, y, a]) => [
    '--at',
    `x=${x.join(',')}`,
    '--at',
    `y=${y}`,
    '--at',
    `A=[[${a.slice(0, 3).join(',')}],[${a.slice(3).join(',')}]]`,
  ]);

/** Output and engine flags for a command (mostly ones it takes: a command refuses the others with a user error). */
export function outputFlags(command: CliCommand): fc.Arbitrary<readonly string[]> {
  const matrix = command === 'jac' || command === 'hessian';
  const formats: (readonly string[])[] = [['--json'], ['--json'], ['--json'], [], []];
  if (command !== 'check')
    formats.push(
      ['--format', 'csv'],
      ['--format', 'tsv'],
      ['--format', 'markdown'],
      ['--format', 'latex'],
      ['--format', 'mathjs'],
    );
  if (matrix) formats.push(['--format', 'mtx'], ['--format', 'mtx']);
  const modes: (readonly string[])[] =
    command === 'jac' || command === 'hessian' || command === 'check'
      ? [
          ['--mode', 'forward'],
          ['--mode', 'reverse'],
          ['--mode', 'auto'],
        ]
      : [];
  return fc
    .tuple(
      fc.constantFrom(...formats),
      fc.subarray(
        command === 'jac'
          ? ['--sparse', '--sparse', '--strict', '--stats', '--no-color']
          : ['--strict', '--stats', '--no-color'],
        { maxLength: 2 },
      ),
      fc.constantFrom<readonly string[]>(
        [],
        [],
        ['--precision', '1'],
        ['--precision', '17'],
        ['--max-memory', '200B'],
        ...modes,
      ),
    )
    .map(([format, switches, more]) => [...format, ...switches, ...more]);
}

/** --wrt of the typed variables, and n, the number of columns of J it gives. */
export const typedWrt: fc.Arbitrary<{ readonly flags: readonly string[]; readonly n: number }> = fc.constantFrom(
  { flags: [], n: 10 },
  { flags: [], n: 10 },
  { flags: ['--wrt', 'y'], n: 1 },
  { flags: ['--wrt', 'A,x'], n: 9 },
  { flags: ['--wrt', 'x'], n: 3 },
);

/**
 * A command on a well-shaped expression of expressions.ts (x a 3-vector, y a scalar, A 2×3) at special
 * points, with a seed of the right length (mostly), a scalar expression for grad, hessian and hvp (mostly),
 * and output flags.
 */
export function typedCase(depth: number): fc.Arbitrary<CliCase> {
  const flavour = { smooth: false, mathjs: false };
  const anyKind = expressions(flavour, depth);
  const scalar = expressions(flavour, depth, ['s']);
  return fc.constantFrom(...COMMANDS).chain((command) => {
    const scalarOutput = command === 'grad' || command === 'hessian' || command === 'hvp';
    const expr = scalarOutput ? fc.oneof({ weight: 9, arbitrary: scalar }, { weight: 1, arbitrary: anyKind }) : anyKind;
    return fc
      .tuple(
        expr,
        specialBindings,
        typedWrt,
        outputFlags(command),
        fc.nat(3).map((k) => k > 0),
        fc.integer({ min: 0, max: 9 }),
      )
      .map(([e, at, wrt, flags, allow, luck]) => {
        const m = SHAPE[e.kind].reduce((a, b) => a * b, 1);
        const right = command === 'vjp' ? m : wrt.n;
        return {
          args: [
            command,
            ...at,
            ...seedFlag(command, luck === 0 ? right + 1 : right),
            ...wrt.flags,
            ...flags,
            ...(allow ? ['--allow-nonfinite'] : []),
            '--',
            e.text,
          ],
        };
      });
  });
}

// --- Budgets -------------------------------------------------------------------

/**
 * The cases a property runs: its share in `npm test`, its share in CI's `npm run fuzz` (FUZZ_BUDGET=ci), and
 * its full budget (`npm run fuzz`).
 */
export interface Budget {
  readonly test: number;
  readonly ci: number;
  readonly full: number;
}

/**
 * The number of cases of a budget under FUZZ_BUDGET: unset, the share of `npm test`; `ci`, the CI share;
 * `full`, the full budget; a positive number k, k times the full budget. Seeds are fixed, so each share runs
 * the first cases of the larger ones.
 */
export function casesOf(budget: Budget, setting: string | undefined = process.env.FUZZ_BUDGET): number {
  if (setting === undefined || setting === '') return budget.test;
  if (setting === 'ci') return budget.ci;
  if (setting === 'full') return budget.full;
  const k = Number(setting);
  if (!(k > 0)) throw new Error(`FUZZ_BUDGET must be ci, full or a positive number, got ${JSON.stringify(setting)}`);
  return Math.ceil(k * budget.full);
}
