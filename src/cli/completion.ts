/**
 * `jacobian completion bash|zsh|fish`: a completion script for the shell,
 * generated from the program's own commands and options (so it never lists
 * a flag the program lacks), with the language's function names for the
 * expression and the choices of --format and --mode.
 */
import type { Command } from 'commander';
import { supportedFunctions } from '../parse/index.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Options whose value is a file name: the shell completes paths there. */
const FILE_OPTIONS = new Set(['--file', '--batch', '--svg', '--output']);

interface CompletionOption {
  /** `--at`, and `-f` where there is a short form. */
  readonly flags: readonly string[];
  readonly description: string;
  /** What follows the flag: nothing, a file, one of some words, or a value the shell cannot guess. */
  readonly value: 'none' | 'file' | 'choice' | 'other';
  readonly choices: readonly string[];
}

interface CompletionCommand {
  readonly name: string;
  readonly description: string;
  readonly options: readonly CompletionOption[];
  /** What the shell offers for an operand: the language's functions (the expression), or fixed words. */
  readonly operands: 'functions' | readonly string[];
}

/** What a completion script knows: the commands, the default one, the language's functions. */
export interface CompletionSpec {
  readonly commands: readonly CompletionCommand[];
  readonly defaultCommand: string;
  readonly functions: readonly string[];
}

const HELP_OPTION: CompletionOption = {
  flags: ['-h', '--help'],
  description: 'display help for command',
  value: 'none',
  choices: [],
};

/** What the commands that take no expression take as operands. */
const OPERANDS: Readonly<Record<string, readonly string[]>> = { functions: [], completion: SHELLS };

/** The completion data of the program: its commands and their options, and the language's functions. */
export function completionSpec(program: Command, defaultCommand: string): CompletionSpec {
  const commands = program.commands.map((command): CompletionCommand => ({
    name: command.name(),
    description: command.description(),
    options: [
      ...command.options.map((option): CompletionOption => ({
        flags: [option.short, option.long].filter((f): f is string => f !== undefined),
        description: option.description,
        value:
          !option.required && !option.optional
            ? 'none'
            : option.argChoices !== undefined
              ? 'choice'
              : FILE_OPTIONS.has(option.long ?? '')
                ? 'file'
                : 'other',
        choices: option.argChoices ?? [],
      })),
      HELP_OPTION,
    ],
    operands: OPERANDS[command.name()] ?? 'functions',
  }));
  const help: CompletionCommand = {
    name: 'help',
    description: 'display help for a command, or the language (help language)',
    options: [],
    operands: [...commands.map((c) => c.name), 'language'],
  };
  return { commands: [...commands, help], defaultCommand, functions: supportedFunctions() };
}

export function completionScript(shell: Shell, spec: CompletionSpec): string {
  switch (shell) {
    case 'bash':
      return bashScript(spec);
    case 'zsh':
      return zshScript(spec);
    case 'fish':
      return fishScript(spec);
  }
}

/** Every option once (the first declaration of a flag wins), for completing the value after it. */
function allOptions(spec: CompletionSpec): CompletionOption[] {
  const seen = new Map<string, CompletionOption>();
  for (const option of spec.commands.flatMap((c) => c.options))
    if (!seen.has(option.flags.at(-1)!)) seen.set(option.flags.at(-1)!, option);
  return [...seen.values()];
}

const flagsOf = (command: CompletionCommand): string[] => command.options.flatMap((o) => o.flags);

/** `case` branches on the previous word: choices, files, or nothing for a value. */
function valueBranches(spec: CompletionSpec, choice: (words: string) => string, file: string, none: string): string[] {
  return allOptions(spec).flatMap((o) => {
    const pattern = o.flags.join('|');
    if (o.value === 'choice') return [`    ${pattern}) ${choice(o.choices.join(' '))} ;;`];
    if (o.value === 'file') return [`    ${pattern}) ${file} ;;`];
    if (o.value === 'other') return [`    ${pattern}) ${none} ;;`];
    return [];
  });
}

function operandWords(spec: CompletionSpec, command: CompletionCommand): string {
  return command.operands === 'functions' ? spec.functions.join(' ') : command.operands.join(' ');
}

function bashScript(spec: CompletionSpec): string {
  const names = spec.commands.map((c) => c.name);
  const defaultCommand = spec.commands.find((c) => c.name === spec.defaultCommand)!;
  const perCommand = spec.commands.map(
    (c) => `    ${c.name}) flags="${flagsOf(c).join(' ')}"; operands="${operandWords(spec, c)}" ;;`,
  );
  return `# bash completion for jacobian. Load it with: source <(jacobian completion bash)
_jacobian() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local command="${spec.defaultCommand}" flags operands word line
  # The first word is a command, or (jac being the default) the start of an expression.
  if [[ \${COMP_CWORD} -eq 1 && "\${cur}" != -* ]]; then
    COMPREPLY=($(compgen -W "${names.join(' ')}" -- "\${cur}"))
    [[ \${#COMPREPLY[@]} -gt 0 ]] && return
  fi
  case "\${prev}" in
${valueBranches(spec, (words) => `COMPREPLY=($(compgen -W "${words}" -- "\${cur}")); return`, 'COMPREPLY=($(compgen -f -- "${cur}")); return', 'return').join('\n')}
  esac
  if [[ \${COMP_CWORD} -gt 1 ]]; then
    case "\${COMP_WORDS[1]}" in
      ${names.join('|')}) command="\${COMP_WORDS[1]}" ;;
    esac
  fi
  case "\${command}" in
${perCommand.join('\n')}
  esac
  if [[ "\${command}" == "${spec.defaultCommand}" && \${COMP_CWORD} -eq 1 ]]; then flags="${[...flagsOf(defaultCommand), '-V', '--version'].join(' ')}"; fi
  if [[ "\${cur}" == -* ]]; then
    COMPREPLY=($(compgen -W "\${flags}" -- "\${cur}"))
    return
  fi
  # In an expression, complete the name being typed: "sin(x) + co" offers cos, cosh, ….
  # (One completion a line: what comes before the name may hold spaces.)
  word="\${cur##*[^A-Za-z0-9_]}"
  COMPREPLY=()
  while IFS= read -r line; do COMPREPLY+=("\${line}"); done < <(compgen -P "\${cur%"\${word}"}" -W "\${operands}" -- "\${word}")
}
complete -o default -F _jacobian jacobian
`;
}

/** A word in single quotes for zsh and fish ('it'\\''s' in zsh, 'it\\'s' in fish). */
const zshQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
const fishQuote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** `name:description` for zsh's _describe (a colon in the name would end it). */
const described = (name: string, description: string): string =>
  zshQuote(`${name.replace(/:/g, '\\:')}:${description}`);

function zshScript(spec: CompletionSpec): string {
  const commandList = spec.commands.map((c) => `    ${described(c.name, c.description)}`).join('\n');
  const perCommand = spec.commands.map((c) => {
    const flags = c.options.flatMap((o) => o.flags.map((f) => described(f, o.description)));
    return `    (${c.name}) flags=(${flags.join(' ')}); operands=(${operandWords(spec, c)}) ;;`;
  });
  return `#compdef jacobian
# zsh completion for jacobian. Load it with: source <(jacobian completion zsh)
# (after compinit), or save it as _jacobian in a directory of $fpath.
_jacobian() {
  local -a commands flags operands
  local command=${spec.defaultCommand} word prefix
  commands=(
${commandList}
  )
  if (( CURRENT == 2 )) && [[ $words[CURRENT] != -* ]]; then
    _describe 'command' commands
    return
  fi
  case $words[CURRENT-1] in
${valueBranches(spec, (words) => `compadd -- ${words}; return`, '_files; return', 'return')
  .map((line) => line.replace(/^ {4}([^)]+)\)/, '    ($1)'))
  .join('\n')}
  esac
  case $words[2] in
    (${spec.commands.map((c) => c.name).join('|')}) command=$words[2] ;;
  esac
  case $command in
${perCommand.join('\n')}
  esac
  if [[ $words[CURRENT] == -* ]]; then
    _describe 'option' flags
    return
  fi
  # In an expression, complete the name being typed: "sin(x) + co" offers cos, cosh, ….
  word=\${words[CURRENT]##*[^A-Za-z0-9_]}
  prefix=\${words[CURRENT]%$word}
  compadd -P "$prefix" -- $operands
}
if [[ $funcstack[1] == _jacobian ]]; then
  _jacobian "$@"
else
  compdef _jacobian jacobian
fi
`;
}

function fishScript(spec: CompletionSpec): string {
  const names = spec.commands.map((c) => c.name);
  const others = names.filter((n) => n !== spec.defaultCommand).join(' ');
  const lines = [
    '# fish completion for jacobian. Load it with: jacobian completion fish | source',
    '# or save it as ~/.config/fish/completions/jacobian.fish',
    'complete -c jacobian -f',
    ...spec.commands.map(
      (c) => `complete -c jacobian -n __fish_use_subcommand -a ${c.name} -d ${fishQuote(c.description)}`,
    ),
  ];
  for (const c of spec.commands) {
    // The default command's options also apply when no command is named.
    const condition =
      c.name === spec.defaultCommand
        ? `not __fish_seen_subcommand_from ${others}`
        : `__fish_seen_subcommand_from ${c.name}`;
    for (const o of c.options) {
      const flags = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      const value =
        o.value === 'choice' ? ` -x -a ${fishQuote(o.choices.join(' '))}` : o.value === 'file' ? ' -r -F' : '';
      const other = o.value === 'other' ? ' -x' : '';
      lines.push(
        `complete -c jacobian -n ${fishQuote(condition)} ${flags}${value}${other} -d ${fishQuote(o.description)}`,
      );
    }
    lines.push(`complete -c jacobian -n ${fishQuote(condition)} -a ${fishQuote(operandWords(spec, c))}`);
  }
  return `${lines.join('\n')}\n`;
}
