/**
 * Did-you-mean for the command line: a mistyped command (`jacobian gradient
 * …`, which commander would take as the expression of jac) and an option of
 * another command (`jacobian vjp --sparse`, for which commander would
 * suggest some option that merely looks alike).
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { nearestNames, orList } from '../parse/suggest.js';

/** Words people type for the commands, from other tools and from the commands' long names. */
const COMMAND_ALIASES: Readonly<Record<string, string>> = {
  jacobian: 'jac',
  jacrev: 'jac',
  jacfwd: 'jac',
  gradient: 'grad',
  hess: 'hessian',
  vhp: 'hvp',
  sparsity: 'spy',
  gradcheck: 'check',
};

const flagsOf = (command: Command): string[] =>
  command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));

/** The operands of `argv` with their positions: the words that are no option and no option's value. */
function operands(argv: readonly string[], program: Command): { word: string; index: number }[] {
  const takesValue = new Set(
    [program, ...program.commands]
      .flatMap((c) => c.options)
      .filter((o) => o.required || o.optional)
      .flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)),
  );
  const found: { word: string; index: number }[] = [];
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k]!;
    if (arg === '--') return [...found, ...argv.slice(k + 1).map((word, i) => ({ word, index: k + 1 + i }))];
    if (takesValue.has(arg)) k++;
    else if (!arg.startsWith('-') || arg === '-') found.push({ word: arg, index: k });
  }
  return found;
}

/** The names `--at NAME=…` gives a value. */
const boundNames = (argv: readonly string[]): Set<string> =>
  new Set(argv.flatMap((arg, k) => (argv[k - 1] === '--at' ? [/^\s*([^=\s]+)\s*=/.exec(arg)?.[1] ?? ''] : [])));

/**
 * A first operand that is no command but is close to one is a mistyped
 * command when reading it as the expression of jac would fail anyway: more
 * operands follow (jac takes one), or it is a bare name no `--at` gives a value.
 */
export function mistypedCommand(argv: readonly string[], program: Command, extraCommands: readonly string[]): void {
  const [first, second] = operands(argv, program);
  if (first === undefined || first.index !== 0 || !/^[A-Za-z_]\w*$/.test(first.word)) return;
  const names = [...program.commands.map((c) => c.name()), ...extraCommands];
  if (names.includes(first.word)) return;
  const unnamedValue = argv.some((arg, k) => argv[k - 1] === '--at' && !/^\s*[^=\s[]+\s*=/.test(arg));
  const failsAsExpression = second !== undefined || (!boundNames(argv).has(first.word) && !unnamedValue);
  if (!failsAsExpression) return;
  const alias = Object.hasOwn(COMMAND_ALIASES, first.word.toLowerCase())
    ? COMMAND_ALIASES[first.word.toLowerCase()]!
    : undefined;
  const suggestions = alias !== undefined ? [alias] : nearestNames(first.word, names, 2);
  if (suggestions.length === 0) return;
  throw new InputError(`unknown command '${first.word}' (did you mean ${orList(suggestions)}?)`);
}

/**
 * An option that the command lacks but another command has: say whose it is,
 * rather than commander's nearest spelling (`vjp --sparse` is not `--stats`).
 */
export function optionOfAnotherCommand(argv: readonly string[], program: Command, defaultCommand: string): void {
  const named = program.commands.find((c) => c.name() === argv[0]);
  const command = named ?? program.commands.find((c) => c.name() === defaultCommand)!;
  const own = new Set([...flagsOf(command), '-h', '--help', ...(named === undefined ? ['-V', '--version'] : [])]);
  for (const arg of argv) {
    if (arg === '--') return;
    const flag = arg.split('=')[0]!;
    if (!flag.startsWith('-') || flag === '-' || own.has(flag)) continue;
    const owners = program.commands.filter((c) => flagsOf(c).includes(flag)).map((c) => c.name());
    if (owners.length === 0) continue;
    const whose = owners.length === 1 ? owners[0]! : `${owners[0]!} (and ${owners.slice(1).join(', ')})`;
    throw new InputError(`${flag} is an option of ${whose}, not of ${command.name()}`);
  }
}
