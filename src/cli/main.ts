/**
 * The command-line program: commander parses the arguments, each command
 * collects its result as data, a formatter turns it into text, and the text
 * is written in one piece. Errors become one `error:` line and an exit status.
 */
import { Chalk, supportsColor } from 'chalk';
import { Argument, Command, CommanderError, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, ParseError, UserError } from '../errors.js';
import { isSparse } from '../format/dense.js';
import { formatGrid } from '../format/formats.js';
import { jsonText } from '../format/json.js';
import type { Chunk } from '../format/chunks.js';
import { formatMatrixMarket } from '../format/matrix-market.js';
import { ASCII, inGlyphs, UNICODE, type Glyphs } from '../format/glyphs.js';
import { PLAIN, type Style } from '../format/style.js';
import { coloursText, formatTable, type Screen } from '../format/table.js';
import { spyScale, spySvg, spyText } from '../format/spy.js';
import type { MatrixReport, Report, SparseJacobian } from '../format/report.js';
import { functionCatalogue, parseExpression } from '../parse/index.js';
import { runBatch } from './batch.js';
import { runCommand, runEmit, type CommandName, type EmitOptions } from './commands.js';
import { completionScript, completionSpec, SHELLS, type Shell } from './completion.js';
import {
  COMMON_OPTIONS_HEADING,
  commandHelpText,
  helpConfiguration,
  languageReference,
  topLevelHelpText,
} from './help.js';
import { asciiOnly, OutputError, processIo, terminalLine, type Io } from './io.js';
import { npyOfReport } from './npy.js';
import { npzOfReport } from './npz.js';
import { withSeedFiles } from './request.js';
import { fileContentOf, writeChunks } from './output-stream.js';
import { mistypedCommand, optionOfAnotherCommand } from './suggest.js';
import {
  addCommonOptions,
  CLI_WORDING,
  integerIn,
  isNumpyFormat,
  modeOption,
  outputFormatOf,
  positiveNumber,
  type OutputFormat,
  type OutputOptions,
} from './options.js';

export { keepEarlyBatchThreads, serveBatch } from './workers.js';

/** The version in the package's manifest, found upwards from this file (from src/, dist/ or a bundle). */
function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'jacobian' && manifest.version !== undefined) return manifest.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

function styleFor(io: Io, colorFlag: boolean): Style {
  const level = colorLevel(io, colorFlag);
  if (level === 0) return PLAIN;
  const chalk = new Chalk({ level });
  return { zero: chalk.dim, header: chalk.bold, label: chalk.cyan, warning: chalk.yellow };
}

function colorLevel(io: Io, colorFlag: boolean): 0 | 1 | 2 | 3 {
  const { NO_COLOR, FORCE_COLOR } = io.env;
  if (!colorFlag || (NO_COLOR !== undefined && NO_COLOR !== '')) return 0;
  if (FORCE_COLOR !== undefined) {
    if (FORCE_COLOR === '0' || FORCE_COLOR === 'false') return 0;
    const forced = Number.parseInt(FORCE_COLOR, 10);
    return Number.isInteger(forced) && forced >= 1 ? (Math.min(forced, 3) as 1 | 2 | 3) : 1;
  }
  if (!io.stdoutIsTTY || asciiOnly(io.env)) return 0;
  return supportsColor === false || supportsColor.level === 0 ? 1 : supportsColor.level;
}

const glyphsFor = (io: Io): Glyphs => (asciiOnly(io.env) ? ASCII : UNICODE);

/** On a terminal, tables are summarised to fit it, unless --full. */
const screenFor = (io: Io, options: OutputOptions): Screen | null =>
  io.stdoutIsTTY && options.full !== true
    ? {
        columns: io.columns ?? 80,
        rows: io.rows ?? Infinity,
        hint: 'summarised to fit the terminal: see all with --full, --json or --format csv',
      }
    : null;

/** The output text of a report, in pieces to write one after the other as they are made. */
function render(
  report: Report,
  format: Exclude<OutputFormat, 'npy' | 'npz'>,
  options: OutputOptions,
  io: Io,
): Iterable<Chunk> {
  switch (format) {
    case 'json':
      return jsonText(report);
    case 'mtx':
      if (report.command !== 'jacobian' && report.command !== 'hessian') {
        throw new InputError(`--format mtx writes a matrix: use it with jac or hessian, not ${report.command}`);
      }
      return formatMatrixMarket(report);
    case 'table':
      return formatTable(report, {
        precision: options.precision,
        style: styleFor(io, options.color),
        glyphs: glyphsFor(io),
        screen: screenFor(io, options),
      });
    default:
      return formatGrid(report, format, options.precision);
  }
}

/** The --stats line; times in ms since the process started (the total includes starting Node). */
function writeStats(stats: object, ms: Readonly<Record<string, number>>, io: Io): void {
  const rounded = Object.fromEntries(
    Object.entries({ ...ms, total: performance.now() }).map(([k, t]) => [k, Number(t.toFixed(3))]),
  );
  const maxRssMiB = Number(peakResidentMiB().toFixed(1));
  io.error(`${JSON.stringify({ ...stats, ms: rounded, maxRssMiB })}\n`);
}

/**
 * This process's peak resident memory (its threads included), in MiB. On Linux, VmHWM: getrusage's maxRSS
 * starts at the resident size of the process that started this one (the kernel carries the forked copy's count
 * over the exec), so a CLI started by a large process, a test runner, would report that process's size.
 */
function peakResidentMiB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm !== null) return Number(hwm[1]) / 1024;
  } catch {
    // No /proc (macOS, Windows): the system's count.
  }
  return process.resourceUsage().maxRSS / 1024;
}

const spyCaption = (report: MatrixReport, sparse: SparseJacobian, scale: number, glyphs: Glyphs): string => {
  const { m, n } = sparse;
  const { partial, by } = glyphs;
  const entries = sparse.values.length;
  const density = m * n === 0 ? 0 : (100 * entries) / (m * n);
  return (
    `J = ${partial}(${report.expr})/${partial}${report.wrt.join(', ')}: ${m}${by}${n}, ` +
    `${entries} nonzero${entries === 1 ? '' : 's'} (${Number(density.toPrecision(3))}%), ` +
    coloursText(report) +
    (scale > 1 ? `, 1 ${glyphs.asciiOnly ? 'character' : 'dot'} = ${scale}${by}${scale} entries` : '')
  );
};

function sparseOf(report: Report): { report: MatrixReport; sparse: SparseJacobian } {
  if (report.command !== 'jacobian' || !isSparse(report.matrix))
    throw new Error('internal: spy needs a sparse Jacobian');
  return { report, sparse: report.matrix };
}

/** The pattern in braille, coloured by magnitude (blue small, red large) when colour is on. */
function drawSpy(result: Report, options: OutputOptions, io: Io): string {
  const { report, sparse } = sparseOf(result);
  const width = Math.min(io.columns ?? 80, 120);
  const level = styleFor(io, options.color) === PLAIN ? 0 : 1;
  const chalk = new Chalk({ level: level === 0 ? 0 : 3 });
  const color =
    level === 0
      ? null
      : (text: string, magnitude: number) =>
          chalk.rgb(Math.round(40 + 215 * magnitude), 60, Math.round(255 - 215 * magnitude))(text);
  const glyphs = glyphsFor(io);
  const caption = spyCaption(report, sparse, spyScale(sparse, width, glyphs), glyphs);
  return spyText(sparse, { width, color, caption, glyphs });
}

function spySvgText(result: Report): string {
  const { report, sparse } = sparseOf(result);
  return spySvg(sparse, { caption: spyCaption(report, sparse, 1, UNICODE) });
}

function writeSvg(result: Report, path: string, io: Io): void {
  if (io.writeFile === undefined) throw new InputError('--svg needs a file system to write to');
  io.writeFile(path, spySvgText(result));
}

/** A table with no columns (a constant, a program without inputs) is refused rather than printed empty. */
function nothingToDifferentiate(report: Report): InputError {
  return new InputError(
    report.at.length === 0 ? CLI_WORDING.noVariables() : 'no variable is differentiated: name one with --wrt',
  );
}

interface CommandSpec {
  readonly name: string;
  readonly command: CommandName;
  readonly description: string;
  readonly options?: readonly Option[];
}

const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'jac',
    command: 'jacobian',
    description: 'the full Jacobian J (m×n), the default command',
    options: [
      new Option(
        '--sparse',
        'detect the sparsity pattern, colour it, and return J as a sparse matrix (one pass per colour)',
      ),
      modeOption(),
    ],
  },
  {
    name: 'vjp',
    command: 'vjp',
    description: 'the vector-Jacobian product vᵀJ: one backward pass seeded with v',
    options: [
      new Option(
        '--v <numbers>',
        "the m numbers of v, as 0.1,1,0.0001, nested in the output's shape, or @FILE as --at reads it",
      ),
    ],
  },
  {
    name: 'jvp',
    command: 'jvp',
    description: 'the Jacobian-vector product J·u: one forward pass seeded with u',
    options: [uOption('the n numbers of u, as 1,0,0, or @FILE; or NAME=… for each variable, in its shape')],
  },
  { name: 'grad', command: 'grad', description: 'the gradient of a scalar expression: one backward pass' },
  {
    name: 'hessian',
    command: 'hessian',
    description: 'the exact Hessian of a scalar expression (forward-over-reverse)',
    options: [
      new Option(
        '--sparse',
        'detect the pattern, star-colour it, and return H as a sparse matrix (one Hessian-vector product per colour)',
      ),
      modeOption(),
    ],
  },
  {
    name: 'hvp',
    command: 'hvp',
    description: 'the Hessian-vector product H·u without forming H',
    options: [uOption('the n numbers of u, or @FILE; or NAME=… for each variable, in its shape')],
  },
  {
    name: 'check',
    command: 'check',
    description: 'compare the automatic Jacobian with central finite differences; exit 1 if they disagree',
    options: [
      new Option(
        '--tol <number>',
        'largest accepted |automatic − numeric| / max(1, |numeric|), beside how far rounding moves the difference',
      )
        .default(1e-6)
        .argParser(positiveNumber('--tol')),
      new Option(
        '--directions <count>',
        'compare J·u along this many random directions u (seeded), not the whole J: 3 passes a direction, for large n',
      ).argParser(integerIn(1, 1000, '--directions')),
      modeOption(),
    ],
  },
  {
    name: 'spy',
    command: 'spy',
    description: 'a picture of the sparsity pattern of J in the terminal (braille), or as an SVG heat map',
    options: [
      new Option('--svg <file>', 'also write the picture as an SVG heat map to this file (- for standard output)'),
      modeOption(),
    ],
  },
];

/** The shared options `jacobian emit` takes. */
const EMIT_OPTIONS: readonly string[] = [
  '--at',
  '--wrt',
  '--file',
  '--output',
  '--max-memory',
  '--allow-nonfinite',
  '--max-expr-length',
  '--max-nodes',
  '--max-depth',
  '--max-input',
  '--debug',
];

/** The usage column of `jacobian functions`: a longer usage (range's four forms) has a line of its own above. */
const USAGE_COLUMN = 24;

/** One line a function: usage, arity, what it does, the usage column no wider than USAGE_COLUMN. */
function functionsTable(entries: readonly { readonly usage: string; readonly arity: string; readonly doc: string }[]) {
  const width = Math.min(
    USAGE_COLUMN,
    entries.reduce((w, e) => Math.max(w, e.usage.length), 0),
  );
  return entries
    .map(({ usage, arity, doc }) => {
      const line = `${arity.padStart(3)}  ${doc}`;
      return usage.length <= width ? `${usage.padEnd(width)}  ${line}\n` : `${usage}\n${''.padEnd(width)}  ${line}\n`;
    })
    .join('');
}

/** --u, repeatable as --u x=… --u W=…. */
function uOption(description: string): Option {
  return new Option('--u <numbers>', description).argParser((text: string, previous: string[] | undefined) => [
    ...(previous ?? []),
    text,
  ]);
}

function buildProgram(io: Io, done: (status: number) => void): Command {
  const output = {
    writeOut: (text: string) => io.write(text),
    writeErr: (text: string) => io.error(text),
    outputError: () => {},
  };
  const program = new Command('jacobian')
    .description(
      'Jacobians, vector-Jacobian and Jacobian-vector products of mathjs expressions, by automatic differentiation',
    )
    .version(version(), '-V, --version')
    // The program's own options (-V) only before the command: after it, -V is a value (`--at -V`), not the version.
    .enablePositionalOptions()
    .helpCommand('help [command]', 'display help for a command; help language: the expression language')
    .configureHelp(helpConfiguration())
    .addHelpText('after', topLevelHelpText())
    .exitOverride()
    .configureOutput(output);
  for (const spec of COMMANDS) {
    const command = program
      .command(spec.name, spec.name === 'jac' ? { isDefault: true } : {})
      .description(spec.description)
      .argument('[expr]', 'the expression; read from standard input when omitted');
    // The command's own options first, then those every command shares.
    for (const option of spec.options ?? []) command.addOption(option);
    addCommonOptions(command.optionsGroup(COMMON_OPTIONS_HEADING));
    command
      .addHelpText('after', commandHelpText(spec.name))
      .exitOverride()
      .configureOutput(output)
      .action(async (expr: string | undefined, given: OutputOptions) => {
        const options = withSeedFiles(given, io);
        if (options.batch === undefined && (options.jobs !== undefined || options.shard !== undefined))
          throw new InputError(
            `${options.jobs === undefined ? '--shard' : '--jobs'} splits a batch: give --batch FILE`,
          );
        if (options.batch !== undefined && options.output !== undefined)
          throw new InputError('-o writes one result: a batch writes its lines to standard output');
        if (options.batch !== undefined) {
          const { status, points, failed, threads } = await runBatch(
            spec.command,
            expr,
            { ...options, batch: options.batch },
            io,
          );
          // threads: those that ran points, the main thread and the workers it started.
          if (options.stats === true)
            writeStats({ command: spec.command, batch: true, points, failed, threads }, {}, io);
          done(status);
          return;
        }
        const outputFormat = outputFormatOf(options);
        const binary = isNumpyFormat(outputFormat);
        if (binary && options.output === undefined)
          throw new InputError(`--format ${outputFormat} writes a binary file: give -o FILE.${outputFormat}`);
        const { report, status, stats } = await runCommand(spec.command, expr, options, io);
        const formatStart = performance.now();
        // A 1×0 table says nothing to a person; JSON and the other formats keep the value for programs.
        if (report.wrt.length === 0 && outputFormat === 'table') throw nothingToDifferentiate(report);
        // `--svg -` puts the SVG on standard output, in place of the picture.
        const svgOut = spec.command === 'spy' && options.svg === '-';
        const chunks = svgOut
          ? [spySvgText(report)]
          : spec.command === 'spy' && outputFormat === 'table'
            ? [drawSpy(report, options, io)]
            : binary
              ? null
              : render(report, outputFormat, options, io);
        if (spec.command === 'spy' && options.svg !== undefined && !svgOut) writeSvg(report, options.svg, io);
        if (options.output !== undefined) {
          if (io.writeFile === undefined) throw new InputError('-o needs a file system to write to');
          const content =
            chunks !== null
              ? fileContentOf(chunks)
              : outputFormat === 'npz'
                ? npzOfReport(report, options.maxMemory)
                : npyOfReport(report, options.maxMemory);
          io.writeFile(options.output, content);
        } else if (chunks !== null) await writeChunks(io, chunks);
        // The text is made as it is written: formatting's time includes the writing.
        const format = performance.now() - formatStart;
        // Values outside a function's domain are NaN, not errors: say where they came from, once. A table
        // says it under the numbers, with the other special points; other outputs leave it to standard error.
        if (outputFormat !== 'table' || spec.command === 'spy') {
          for (const w of report.warnings)
            if (w.kind === 'domain') io.error(inGlyphs(`warning: ${w.source}: ${w.convention}\n`, glyphsFor(io)));
        }
        if (options.stats === true) writeStats(stats, { ...stats.ms, format }, io);
        done(status);
      });
  }
  // emit writes a module, not a report: of the shared options, those that say what to compile and where to write.
  const emit = program
    .command('emit')
    .description('write a standalone ES module computing the value, J, vᵀJ and J·u at the shapes of --at')
    .argument('[expr]', 'the expression; read from standard input when omitted');
  for (const option of addCommonOptions(new Command()).options)
    if (EMIT_OPTIONS.includes(option.long ?? '')) emit.addOption(option);
  emit
    .addHelpText('after', commandHelpText('emit'))
    .exitOverride()
    .configureOutput(output)
    .action(async (expr: string | undefined, options: EmitOptions) => {
      await runEmit(expr, options, io);
      done(0);
    });
  program
    .command('functions')
    .description('list the functions of the language: usage, number of arguments, what each does')
    .option('--json', 'one JSON array on one line')
    .addHelpText('after', commandHelpText('functions'))
    .exitOverride()
    .configureOutput(output)
    .action((options: { json?: boolean }) => {
      const entries = functionCatalogue();
      if (options.json === true) {
        io.write(`${JSON.stringify(entries)}\n`);
        return;
      }
      io.write(functionsTable(entries));
    });
  program
    .command('completion')
    .description('print a completion script for bash, zsh or fish: source <(jacobian completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText('after', commandHelpText('completion'))
    .exitOverride()
    .configureOutput(output)
    .action((shell: Shell) => {
      io.write(completionScript(shell, completionSpec(program, 'jac')));
    });
  // The top-level help shows the options every command shares, taken from the default command.
  program.configureHelp(helpConfiguration(program.commands.find((c) => c.name() === 'jac')));
  return program;
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug') || io.env.JACOBIAN_DEBUG === '1';
  let status = 0;
  try {
    const program = buildProgram(io, (s) => (status = s));
    if (argv[0] === 'help' && argv[1] === 'language' && argv.length === 2) {
      io.write(languageReference());
      return 0;
    }
    mistypedCommand(argv, program, ['help']);
    optionOfAnotherCommand(argv, program, 'jac');
    await program.parseAsync(expressionAfterDashes(argv, program), { from: 'user' });
    await io.flush?.();
    return status;
  } catch (error) {
    return reportError(error, io, debug);
  }
}

/**
 * argv with the default command named first when it names none and has `--`: commander looks for the help flag in
 * everything the program hands its default command, after `--` too, so `jacobian --at h=1 -- -h` printed the help
 * where `-h` is the expression. A help or version flag first keeps the program's own.
 */
function defaultCommandNamed(argv: readonly string[], program: Command): string[] {
  const first = argv[0]!;
  const named = program.commands.some((c) => c.name() === first) || first === 'help';
  return named || ['-h', '--help', '-V', '--version'].includes(first) ? [...argv] : ['jac', ...argv];
}

/**
 * An expression that starts with `-` (as `-x.*exp(-x)`) looks like an option
 * to commander. The first argument that starts with one `-`, is no option of
 * the program, stands where no option takes a value, and parses as an
 * expression is the expression: it moves behind `--`, where commander reads
 * operands only.
 */
function expressionAfterDashes(argv: readonly string[], program: Command): string[] {
  if (argv.includes('--')) return defaultCommandNamed(argv, program);
  const commands = [program, ...program.commands];
  const options = commands.flatMap((c) => c.options);
  const known = new Set(options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)));
  const takesValue = new Set(
    options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((f) => f !== undefined)),
  );
  const names = new Set(program.commands.map((c) => c.name()));
  let candidate: number | null = null;
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    if (takesValue.has(arg)) {
      k++;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      // An operand other than the command's name: the expression is given already.
      if (!(k === 0 && names.has(arg))) return [...argv];
      continue;
    }
    // `--name` is a mistyped option, never an expression (mathjs would read it as -(-name)).
    if (candidate === null && !arg.startsWith('--') && !known.has(arg) && parsesAsExpression(arg)) candidate = k;
  }
  return candidate === null
    ? [...argv]
    : [...argv.slice(0, candidate), ...argv.slice(candidate + 1), '--', argv[candidate]!];
}

function parsesAsExpression(text: string): boolean {
  try {
    parseExpression(text);
    return true;
  } catch {
    return false;
  }
}

function reportError(error: unknown, io: Io, debug: boolean): number {
  if (error instanceof OutputError) {
    io.error(`error: ${terminalLine(error.message)}\n`);
    if (debug) io.error(`${error.stack ?? ''}\n`);
    return 1;
  }
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0;
    const message = error.message
      .replace(/^error:\s*/i, '')
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\.$/, '');
    io.error(`error: ${terminalLine(message)}; see jacobian --help\n`);
    return 2;
  }
  if (error instanceof UserError) {
    const message = error.messageIn(CLI_WORDING);
    io.error(`error: ${inGlyphs(terminalLine(message), glyphsFor(io))}\n`);
    if (error instanceof ParseError && error.column !== null) {
      const { expression, column } = error;
      // The caret goes under the escaped text: what precedes the column is as wide as its escapes.
      const indent = ' '.repeat(terminalLine(expression.slice(0, column)).length);
      io.error(`  ${terminalLine(expression)}\n  ${indent}^\n`);
    }
    if (debug) io.error(`${error.stack ?? ''}\n`);
    return 2;
  }
  return reportInternalError(error, io, debug);
}

/** A failure of the program itself: one line with a hint to report it; the stack trace only when debugging. */
function reportInternalError(error: unknown, io: Io, debug: boolean): number {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
  const hint = debug ? '' : '; --debug or JACOBIAN_DEBUG=1 shows the stack trace';
  io.error(
    `error: internal error: ${terminalLine(message)} (a bug in jacobian: please report it with the command you ran${hint})\n`,
  );
  if (debug && error instanceof Error) io.error(`${error.stack ?? ''}\n`);
  return 1;
}

/**
 * The entry of the installed `jacobian` command, started by `launcher` (a script that, started as a worker
 * thread, calls serveBatch: a batch's threads start from it).
 */
export async function run(launcher?: string): Promise<void> {
  const argv = process.argv.slice(2);
  const io = processIo(launcher);
  // Whatever escapes (an error in a callback, a rejected promise) ends as one line, not Node's dump of the bundle.
  process.on('uncaughtException', (error) => {
    process.exitCode = reportError(error, io, argv.includes('--debug') || io.env.JACOBIAN_DEBUG === '1');
    process.exit();
  });
  process.exitCode = await main(argv, io);
}
