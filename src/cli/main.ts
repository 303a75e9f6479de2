/**
 * The command-line program: commander parses the arguments, each command
 * collects its result as data, a formatter turns it into text, and the text
 * is written in one piece. Errors become one `error:` line and an exit status.
 */
import { Chalk, supportsColor } from 'chalk';
import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { InputError, ParseError, UserError } from '../errors.js';
import { formatJson } from '../format/json.js';
import type { Report } from '../format/report.js';
import { PLAIN, type Style } from '../format/style.js';
import { formatTable } from '../format/table.js';
import { UnboundNameError } from '../parse/index.js';
import { DEFAULT_MAX_MEMORY_BYTES } from '../engine/program.js';
import { parseNumberList } from './bindings.js';
import { processIo, type Io } from './io.js';
import { resolveRequest, type CommonOptions, type Request } from './request.js';

interface OutputOptions extends CommonOptions {
  readonly json?: boolean;
  readonly precision: number;
  readonly maxMemory: number;
  readonly color: boolean;
  readonly debug?: boolean;
}

interface VjpOptions extends OutputOptions {
  readonly v?: string;
}

const EXAMPLES = `
Examples:
  $ jacobian "x*2" --at 1,2,3                          # 3×3 Jacobian, 2·I
  $ jacobian vjp "x*2" --at 1,2,3 --v 0.1,1,0.0001     # vᵀJ = 0.2 2 0.0002
  $ jacobian "[r*cos(t), r*sin(t)]" --at r=2 --at t=0.7
  $ jacobian "tanh(W*x+b)" --at x=1,2 --at W=@W.json --at b=0,0 --wrt x
  $ jacobian "x*2" --at 1,2,3 --json | jacobian vjp --v 0.1,1,0.0001 --json

Exit status: 0 result, 1 internal error, 2 user error.
Expressions use mathjs syntax; see the README for the language.`;

function version(): string {
  const manifest = createRequire(import.meta.url)('../../../package.json') as { version: string };
  return manifest.version;
}

function integerIn(min: number, max: number, flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new InputError(`${flag} takes a whole number from ${min} to ${max}, got "${text}"`);
    return value;
  };
}

/** `4GiB`, `500MB`, `1e9` (bytes). */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d*)?(?:e\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?\s*$/i.exec(text);
  if (match === null) throw new InputError(`--max-memory takes a size such as 4GiB, 512MB or 1e9, got "${text}"`);
  const units: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3, tb: 1e12, tib: 1024 ** 4 };
  return Number(match[1]) * units[(match[2] ?? 'b').toLowerCase()]!;
}

function addCommonOptions(command: Command): Command {
  return command
    .option('--at <binding>', 'a value: 1,2,3 | x=1,2,3 | x=[[1,2],[3,4]] | y=2.5 | W=@file.json (repeat for each variable)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--wrt <names>', 'variables to differentiate, in column order (default: every bound variable)')
    .option('--json', 'one JSON object on one line')
    .addOption(new Option('--precision <digits>', 'significant digits in tables').default(6).argParser(integerIn(1, 17, '--precision')))
    .addOption(new Option('--max-memory <size>', 'refuse results larger than this').default(DEFAULT_MAX_MEMORY_BYTES, '4GiB').argParser(parseByteSize))
    .option('--no-color', 'no colours (also NO_COLOR=1)')
    .option('--debug', 'show stack traces of errors');
}

export function styleFor(io: Io, colorFlag: boolean): Style {
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
  if (!io.stdoutIsTTY) return 0;
  return supportsColor === false ? 1 : supportsColor.level === 0 ? 1 : supportsColor.level;
}

function reportBase(request: Request) {
  const { program } = request;
  return {
    expr: request.expr,
    at: request.bindings,
    wrt: request.wrt,
    inputs: request.wrt.map((name) => program.variable(name)),
    m: program.m,
    n: program.columns(request.wrt),
  };
}

function render(report: Report, options: OutputOptions, io: Io): void {
  io.write(options.json === true ? formatJson(report) : formatTable(report, options.precision, styleFor(io, options.color)));
}

async function jacobianCommand(expr: string | undefined, options: OutputOptions, io: Io): Promise<void> {
  const request = await resolveRequest(expr, options, io);
  const result = request.program.jacobian(request.point, request.wrt, { maxMemoryBytes: options.maxMemory });
  const value = { shape: request.program.outputShape, data: result.value };
  render({ command: 'jacobian', ...reportBase(request), value, jacobian: result.jacobian }, options, io);
}

async function vjpCommand(expr: string | undefined, options: VjpOptions, io: Io): Promise<void> {
  const request = await resolveRequest(expr, options, io);
  const v = vectorOption(options.v, request.piped.v, '--v');
  const result = request.program.vjp(request.point, v, request.wrt);
  const value = { shape: request.program.outputShape, data: result.value };
  render({ command: 'vjp', ...reportBase(request), value, v, vjp: result.vjp }, options, io);
}

/** A vector flag's numbers, or the same field of the piped JSON when the flag is absent. */
function vectorOption(flag: string | undefined, piped: unknown, name: string): Float64Array {
  if (flag !== undefined) return parseNumberList(flag.replace(/^\[|\]$/g, ''), name);
  if (Array.isArray(piped)) return Float64Array.from(piped.flat(2) as unknown[], (x) => {
    if (typeof x === 'number') return x;
    throw new InputError(`${name} on standard input must be numbers`);
  });
  throw new InputError(`${name} is required: give numbers, as ${name} 0.1,1,0.0001`);
}

function buildProgram(io: Io): Command {
  const program = new Command('jacobian')
    .description('Jacobians and vector-Jacobian products of mathjs expressions, by automatic differentiation')
    .version(version(), '-V, --version')
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.write(text), writeErr: (text) => io.error(text), outputError: () => {} });
  addCommonOptions(
    program.command('jac', { isDefault: true })
      .description('the full Jacobian J (m×n): one backward pass per output entry (the default command)')
      .argument('[expr]', 'the expression; read from standard input when omitted'),
  ).addHelpText('after', EXAMPLES).action((expr: string | undefined, options: OutputOptions) => jacobianCommand(expr, options, io));
  addCommonOptions(
    program.command('vjp')
      .description('the vector-Jacobian product vᵀJ: one backward pass seeded with v')
      .argument('[expr]', 'the expression; read from standard input when omitted'),
  )
    .option('--v <numbers>', 'the m numbers of v, as 0.1,1,0.0001')
    .addHelpText('after', EXAMPLES)
    .action((expr: string | undefined, options: VjpOptions) => vjpCommand(expr, options, io));
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit status. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return reportError(error, io, debug);
  }
}

function reportError(error: unknown, io: Io, debug: boolean): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0;
    const message = error.message.replace(/^error:\s*/i, '');
    const hint = error.code === 'commander.unknownOption' ? ' (an expression that starts with - needs parentheses, as "(-x)")' : '';
    io.error(`error: ${message}${hint}; see jacobian --help\n`);
    return 2;
  }
  if (error instanceof UserError) {
    const message = error instanceof UnboundNameError ? `no value for ${error.variable}: add --at ${error.variable}=…` : error.message;
    io.error(`error: ${message}\n`);
    if (error instanceof ParseError) io.error(`  ${error.expression}\n  ${' '.repeat(error.column)}^\n`);
    if (debug) io.error(`${error.stack ?? ''}\n`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.error(`error: internal error: ${message}${debug ? '' : ' (run with --debug for details)'}\n`);
  if (debug && error instanceof Error) io.error(`${error.stack ?? ''}\n`);
  return 1;
}

/** The entry of the installed `jacobian` command. */
export async function run(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2), processIo());
}
