/** Option parsers and the options every command shares. */
import { Command, Option } from 'commander';
import { DEFAULT_MAX_MEMORY_BYTES, type Mode } from '../engine/program.js';
import { InputError, type LimitName, type Wording } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import type { CommonOptions } from './request.js';

export interface OutputOptions extends CommonOptions {
  readonly json?: boolean;
  readonly precision: number;
  readonly maxMemory: number;
  readonly color: boolean;
  readonly strict?: boolean;
  readonly debug?: boolean;
  readonly mode?: Mode;
  readonly v?: string;
  /** Every --u given: one list, or NAME=… per variable. */
  readonly u?: readonly string[];
  readonly tol?: number;
  readonly directions?: number;
  readonly stats?: boolean;
  readonly sparse?: boolean;
  readonly format?: OutputFormat | BatchFormat;
  readonly batch?: string;
  /** Threads a batch runs its points on. */
  readonly jobs?: number;
  /** The part of a batch this process takes. */
  readonly shard?: Shard;
  readonly maxInput: number;
  readonly svg?: string;
  /** -o: the file the output goes to, in place of standard output. */
  readonly output?: string;
  /** The whole table on a terminal too, not a summary that fits the screen. */
  readonly full?: boolean;
}

/** `--shard K/N`: the lines whose number is K modulo N. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** `K/N` with 0 ≤ K < N. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(count) || count < 1 || index >= count)
    throw new InputError(
      `--shard takes K/N with K from 0 to N-1 (the lines whose number is K modulo N), got "${text}"`,
    );
  return { index, count };
}

/** The flags that raise the library's limits. */
const LIMIT_FLAGS: Readonly<Record<LimitName, string>> = {
  maxExpressionLength: '--max-expr-length',
  maxNodes: '--max-nodes',
  maxDepth: '--max-depth',
  maxMemoryBytes: '--max-memory',
};

/** The CLI's words for the mistakes the library describes: its flags. */
export const CLI_WORDING: Wording = {
  seedLength: (seed, length) => `--${seed} has ${length} number${length === 1 ? '' : 's'}`,
  raise: (limit) => `raise ${limit === 'maxNodes' ? 'the limit' : 'it'} with ${LIMIT_FLAGS[limit]}`,
  bind: (name) => `add --at ${name}=…`,
  unbind: (name) => `leave out --at ${name}=…`,
  instead: (result) =>
    `use ${{ jacobian: '--sparse, vjp or jvp', sparseJacobian: 'vjp or jvp', hessian: '--sparse or hvp', sparseHessian: 'hvp', vector: 'smaller values or fewer variables (--wrt)' }[result]} instead`,
  noVariables: () => 'the expression has no variables: nothing to differentiate; give one with --at NAME=…',
};

export const DEFAULT_MAX_INPUT_BYTES = 512 * 1024 ** 2;

export const OUTPUT_FORMATS = [
  'table',
  'json',
  'csv',
  'tsv',
  'markdown',
  'latex',
  'mathjs',
  'mtx',
  'npy',
  'npz',
] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
/** What --batch writes: JSON Lines, or one CSV row per point. */
export type BatchFormat = 'jsonl' | 'csv';

/** NumPy's files, which hold numbers as bytes: no text is printed, and they need -o. */
export const isNumpyFormat = (format: string | undefined): format is 'npy' | 'npz' =>
  format === 'npy' || format === 'npz';

/** The format asked for by --json and --format, which must not disagree. */
export function outputFormatOf(options: OutputOptions): OutputFormat {
  const format = requestedFormat(options);
  if (format === 'jsonl') throw new InputError('--format jsonl is for --batch: write one result with --json');
  return format;
}

/** What a batch writes; --format json is its JSON Lines. */
export function batchFormat(options: OutputOptions): BatchFormat {
  const format = requestedFormat(options);
  if (format === 'csv') return 'csv';
  // --json and --format json say what JSON Lines are: one JSON result a line.
  if (options.format === undefined || format === 'json' || format === 'jsonl') return 'jsonl';
  throw new InputError(`--batch writes --format jsonl (one JSON result a line, the default) or csv, not ${format}`);
}

function requestedFormat(options: OutputOptions): OutputFormat | BatchFormat {
  if (options.json === true && options.format !== undefined && options.format !== 'json' && options.format !== 'jsonl')
    throw new InputError(`--json and --format ${options.format} disagree: give one of them`);
  return options.format ?? (options.json === true ? 'json' : 'table');
}

export function integerIn(min: number, max: number, flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new InputError(`${flag} takes a whole number from ${min} to ${max}, got "${text}"`);
    return value;
  };
}

export function positiveNumber(flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!(value > 0) || !Number.isFinite(value)) throw new InputError(`${flag} takes a positive number, got "${text}"`);
    return value;
  };
}

/** `4GiB`, `500MB`, `1e9` (bytes). */
function parseByteSize(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d*)?(?:e\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?\s*$/i.exec(text);
  if (match === null) throw new InputError(`${flag} takes a size such as 4GiB, 512MB or 1e9, got "${text}"`);
  const units: Record<string, number> = {
    b: 1,
    kb: 1e3,
    kib: 1024,
    mb: 1e6,
    mib: 1024 ** 2,
    gb: 1e9,
    gib: 1024 ** 3,
    tb: 1e12,
    tib: 1024 ** 4,
  };
  return Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]!;
}

export function addCommonOptions(command: Command): Command {
  return command
    .option(
      '--at <binding>',
      'a value: 1,2,3 | x=1,2,3 | x=[[1,2],[3,4]] | y=2.5 | W=@file.json (repeat for each variable)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option(
      '--wrt <names>',
      'variables to differentiate, in column order: x,y or --wrt x --wrt y (default: every bound variable)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('-f, --file <path>', 'read the expression from a file (# comments and line breaks allowed)')
    .option(
      '--batch <file>',
      'JSON Lines of points (- for standard input), or a .csv/.tsv table of them: one JSON result a point, in order',
    )
    .addOption(
      new Option(
        '--jobs <threads>',
        'with --batch: run the points on this many threads (default: up to one per core, when they pay)',
      ).argParser(integerIn(1, 1024, '--jobs')),
    )
    .addOption(
      new Option(
        '--shard <K/N>',
        'with --batch: take only the lines whose number is K modulo N (one of N processes); results carry "line"',
      ).argParser(parseShard),
    )
    .option('--json', 'one JSON object on one line (the same as --format json)')
    .option('-o, --output <file>', 'write the output to this file (replaced whole, never half-written)')
    .addOption(
      new Option(
        '--format <format>',
        'table, json, csv, tsv, markdown, latex (bmatrix), mathjs (a literal math.evaluate reads), ' +
          'mtx (MatrixMarket), npy and npz (NumPy, with -o); with --batch: jsonl (default) or csv',
      ).choices([...OUTPUT_FORMATS, 'jsonl']),
    )
    .addOption(
      new Option('--precision <digits>', 'significant digits in tables')
        .default(6)
        .argParser(integerIn(1, 17, '--precision')),
    )
    .addOption(
      new Option('--max-memory <size>', 'refuse a computation whose buffers and result would take more')
        .default(DEFAULT_MAX_MEMORY_BYTES, '4GiB')
        .argParser((text) => parseByteSize(text, '--max-memory')),
    )
    .option('--strict', 'exit with status 1 when a derivative is taken at a special point (kink, tie, …)')
    .option('--allow-nonfinite', 'accept NaN and ±Infinity in values and seeds (refused by default)')
    .addOption(
      new Option('--max-expr-length <chars>', 'refuse longer expressions')
        .default(DEFAULT_LIMITS.maxExpressionLength)
        .argParser(integerIn(1, 2 ** 30, '--max-expr-length')),
    )
    .addOption(
      new Option('--max-nodes <count>', 'refuse larger compute graphs')
        .default(DEFAULT_LIMITS.maxNodes)
        .argParser(integerIn(1, 2 ** 30, '--max-nodes')),
    )
    .addOption(
      new Option('--max-depth <calls>', "refuse to expand the program's own functions more often (recursion)")
        .default(DEFAULT_LIMITS.maxDepth)
        .argParser(integerIn(1, 2 ** 30, '--max-depth')),
    )
    .addOption(
      new Option(
        '--max-input <size>',
        'refuse larger inputs: value files (--at NAME=@file), standard input, a batch line',
      )
        .default(DEFAULT_MAX_INPUT_BYTES, '512MiB')
        .argParser((text) => parseByteSize(text, '--max-input')),
    )
    .option('--full', 'print the whole table on a terminal too (a large one is summarised to fit the screen)')
    .option('--stats', 'write one JSON line of statistics (mode, passes, graph size, times in ms) to standard error')
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('--debug', 'show stack traces of errors');
}

export const modeOption = (): Option =>
  new Option(
    '--mode <mode>',
    'reverse: a backward pass per output; forward: a forward pass per input; auto: the fewer passes',
  )
    .choices(['auto', 'reverse', 'forward'])
    .default('auto');
