/**
 * Help that teaches: examples per command, the options every command shares
 * on the top-level help, defaults shown as people write them, and
 * `jacobian help language`, the language reference built from the function
 * catalogue that `jacobian functions` lists.
 */
import { Help, type Command, type Option } from 'commander';
import { FUNCTION_GROUPS, functionCatalogue, type FunctionGroup } from '../parse/catalogue.js';
import { CONSTANTS } from '../parse/constants.js';

/** One example: the command line and what it shows. */
export interface Example {
  readonly line: string;
  readonly shows: string;
}

/** The examples of the top-level help. */
export const TOP_EXAMPLES: readonly Example[] = [
  { line: 'jacobian "x*2" --at 1,2,3', shows: '3×3 Jacobian, 2·I' },
  { line: 'jacobian vjp "x*2" --at 1,2,3 --v 0.1,1,0.0001', shows: 'vᵀJ = 0.2 2 0.0002' },
  { line: 'jacobian "[r*cos(t), r*sin(t)]" --at r=2 --at t=0.7 --format csv', shows: 'two variables, as CSV' },
];

/** Two examples of each command, shown by `jacobian COMMAND --help`. */
export const COMMAND_EXAMPLES: Readonly<Record<string, readonly [Example, Example]>> = {
  jac: [
    { line: 'jacobian jac "[r*cos(t), r*sin(t)]" --at r=2 --at t=0.7', shows: '2×2; jac may be left out' },
    { line: 'jacobian jac "x.^2 + x[1]" --at x=1:6 --sparse --json', shows: 'J in coordinate form' },
  ],
  vjp: [
    { line: 'jacobian vjp "x*2" --at 1,2,3 --v 0.1,1,0.0001', shows: 'vᵀJ = 0.2 2 0.0002' },
    { line: 'jacobian "x*2" --at 1,2,3 --json | jacobian vjp --v 0.1,1,0.0001', shows: 'the same, piped' },
  ],
  jvp: [
    { line: 'jacobian jvp "x*2" --at 1,2,3 --u 1,0,0', shows: 'J·u = 2 0 0' },
    { line: 'jacobian jvp "A*x" --at "A=[[1,2],[3,4]]" --at x=1,1 --wrt x --u x=1,0', shows: 'J·u = 1 3' },
  ],
  grad: [
    { line: 'jacobian grad "sum(x.^2)" --at 1,2,3', shows: '∇f = 2 4 6' },
    { line: 'jacobian grad "norm(A*x - b)" --at "A=[[1,2],[3,4]]" --at x=1,1 --at b=1,0 --wrt x', shows: 'by x only' },
  ],
  hessian: [
    { line: 'jacobian hessian "sum(x.^3)" --at 1,2,3', shows: 'diag(6, 12, 18)' },
    {
      line: 'jacobian hessian "sum((x[2:end]-x[1:end-1]).^2)" --at x=1:6 --sparse --json',
      shows: 'tridiagonal H in coordinate form, 3 colours',
    },
  ],
  hvp: [
    { line: 'jacobian hvp "sum(x.^3)" --at 1,2,3 --u 1,0,0', shows: 'H·u = 6 0 0' },
    { line: 'jacobian hvp "x\'*A*x" --at x=1,2 --at "A=[[2,1],[1,3]]" --wrt x --u 1,0', shows: 'H·u = 4 2' },
  ],
  check: [
    { line: 'jacobian check "sin(x).*x" --at 0.5,1.5', shows: 'automatic against finite differences' },
    { line: 'jacobian check "norm(x)" --at 3,4 --tol 1e-8', shows: 'a tighter tolerance' },
  ],
  spy: [
    { line: 'jacobian spy "x[2:end] .* x[1:end-1]" --at x=1:60', shows: 'a band, in braille' },
    { line: 'jacobian spy "diff(x.^2)" --at x=1:500 --svg pattern.svg', shows: 'also an SVG heat map' },
  ],
  emit: [
    {
      line: 'jacobian emit "tanh(W*x+b)" --at "W=[[1,2],[3,4]]" --at x=1,2 --at b=0,0 --wrt x',
      shows: 'a module, on standard output',
    },
    { line: 'jacobian emit "sum(x.^2)" --at x=1,2,3', shows: 'for any x of 3 entries' },
  ],
  functions: [
    { line: 'jacobian functions', shows: 'every function, its forms and arity' },
    { line: 'jacobian functions --json', shows: 'the same as JSON' },
  ],
  completion: [
    { line: 'source <(jacobian completion bash)', shows: 'completion in this bash session' },
    { line: 'jacobian completion fish > ~/.config/fish/completions/jacobian.fish', shows: 'for fish, for good' },
  ],
};

/** The shared options the top-level help shows; `jacobian COMMAND --help` shows them all. */
const TOP_LEVEL_OPTIONS = ['--at', '--wrt', '--file', '--json', '--format', '--batch', '--precision'];

/** Examples with what they show beside them, aligned; above them where that would pass 100 columns. */
function examplesText(examples: readonly Example[]): string {
  const width = Math.max(...examples.map((e) => e.line.length));
  const beside = examples.every((e) => 4 + width + 4 + e.shows.length <= 100);
  const lines = examples.map((e) =>
    beside ? `  $ ${e.line.padEnd(width)}  # ${e.shows}` : `  # ${e.shows}\n  $ ${e.line}`,
  );
  return `\nExamples:\n${lines.join('\n')}\n`;
}

const FOOTER =
  '\nExit status: 0 result, 1 failed check (or a warning under --strict) or internal error, 2 user error.\n' +
  'The expression language: jacobian help language; its functions: jacobian functions.';

export const topLevelHelpText = (): string =>
  `${examplesText(TOP_EXAMPLES)}\nEach command takes more options: jacobian COMMAND --help lists them.${FOOTER}`;

export function commandHelpText(name: string): string {
  const examples = COMMAND_EXAMPLES[name];
  return `${examples === undefined ? '' : examplesText(examples)}${FOOTER}`;
}

/** A default as people write it: `1e-6`, not `0.000001`; none for an empty list. */
function defaultText(option: Option): string | null {
  if (option.defaultValueDescription !== undefined) return option.defaultValueDescription;
  const value: unknown = option.defaultValue;
  if (typeof value === 'number') return Math.abs(value) < 1e-3 && value !== 0 ? value.toExponential() : String(value);
  if (typeof value === 'string') return value;
  return null;
}

/** Help that words choices and defaults plainly; for the top-level help, with the shared options of `shared`. */
export function helpConfiguration(shared?: Command): Partial<Help> {
  return {
    optionDescription(option: Option): string {
      const extra: string[] = [];
      const choices = option.argChoices ?? [];
      // A description that names every choice already says enough.
      if (!choices.every((c) => new RegExp(`\\b${c}\\b`).test(option.description)))
        extra.push(`one of ${choices.join(', ')}`);
      const shown = option.required || option.optional ? defaultText(option) : null;
      if (shown !== null) extra.push(`default: ${shown}`);
      return extra.length === 0 ? option.description : `${option.description} (${extra.join('; ')})`;
    },
    ...(shared === undefined
      ? {}
      : {
          visibleOptions(command: Command): Option[] {
            const common = shared.options.filter((o) => o.long !== undefined && TOP_LEVEL_OPTIONS.includes(o.long));
            return [...new Help().visibleOptions(command), ...common];
          },
        }),
  };
}

/** The heading of the options every command shares, in each command's help and (a few) in the top-level help. */
export const COMMON_OPTIONS_HEADING = 'Common options:';

const CONVENTIONS: readonly (readonly [string, string])[] = [
  ['abs at 0, sign, comparisons, floor/ceil/round/fix/mod steps', '0'],
  ['sqrt at 0 (cbrt, nthRoot, asin/acos at ±1, …)', '+Infinity, the one-sided limit'],
  ['max(a, b), min(a, b) element-wise with a tie', '0.5 to each'],
  ['max(x), min(x) with ties', 'split evenly among the tied entries'],
  ['norm(x) at the zero vector, hypot(0, 0)', '0'],
  ['x.^y, ∂/∂x', 'y·x^(y-1), but 0 where y = 0'],
  ['x.^y, ∂/∂y', 'x^y·log(x), but 0 where x = 0 and y ≥ 0'],
  ['x.^y with x < 0 and y not an integer, sqrt/log of x < 0', 'NaN value and NaN derivative'],
  ['cond ? a : b', 'that of the branch taken; the other contributes exactly 0'],
];

const LANGUAGE_HEAD = `The expression language of jacobian: mathjs syntax, with the values math.evaluate gives
(except that functions of one argument apply to each entry of a vector or matrix).

Values
  numbers    2  1.5e-3  -4
  constants  ${Object.keys(CONSTANTS).join(' ')}
             (a variable given with --at hides a constant of its name)
  vectors    [1, 2, 3]
  matrices   [1, 2; 3, 4]  or  [[1, 2], [3, 4]]   (row-major; [a, b] of two vectors is a matrix)

Operators
  + -                 element-wise; a scalar goes with anything, a vector broadcasts as a row
  *                   scalar times anything; matrix·matrix, matrix·vector; vector*vector is the dot product
  .*  ./  .^          element-wise
  /                   by a scalar (or by a square matrix B: A*inv(B))
  ^                   power of a scalar, integer power of a square matrix (of a vector: use .^)
  '                   transpose
  == != < > <= >=     comparisons (1 or 0); and or xor not; a < b < c
  cond ? a : b        the derivative flows through the branch taken
  2x  3 sin(x)  2(x+1)  implicit multiplication
  (not ** nor @: write x^2 or x.^2, and A*x)

Indexing, 1-based and inclusive as in mathjs
  x[2]  x[2:4]  x[1:2:5]  x[[1, 3]]  M[1, 2]  M[1, :]  M[:, 2]  x[2:end] - x[1:end-1]
  indices are known when compiling: numbers, end, variables given with --at; M[idx, :] picks
  the rows of a vector idx of positions

Programs (EXPR, -f FILE or standard input)
  statements separated by ; or line breaks; # starts a comment; the last statement is the output
  h = tanh(W*x + b)       an intermediate, computed once; each name is assigned once
  f(a, b) = a*b + 1       a function, expanded at each call; it may replace a built-in
  k == 0 ? y : g(y, k-1)  recursion ends when compiling: a constant condition builds one branch
  map(x, f)               a function applied to each entry

Results
  J[i][j] = ∂out_i/∂in_j: rows are the output's entries row by row, columns the --wrt
  variables' entries row by row, one variable after the other (scalar output: 1×n).`;

/** `jacobian help language`: operators, indexing, programs, the functions by group and the conventions. */
export function languageReference(): string {
  const byGroup = new Map<FunctionGroup, string[]>();
  // In each group the catalogue's names in the group's own order (sin before asin); 'other' alphabetically.
  const order = new Map(Object.values(FUNCTION_GROUPS).flatMap((names) => names.split(' ').map((n, k) => [n, k])));
  const entries = functionCatalogue().sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  for (const entry of entries) byGroup.set(entry.group, [...(byGroup.get(entry.group) ?? []), entry.name]);
  const groups = [...(Object.keys(FUNCTION_GROUPS) as FunctionGroup[]), 'other' as const].filter((g) => byGroup.has(g));
  const functions = groups.map((group) => `  ${group}:\n${wrap(byGroup.get(group)!.join(' '), 4, 100)}`);
  const width = Math.max(...CONVENTIONS.map(([c]) => c.length));
  const conventions = CONVENTIONS.map(([c, d]) => `  ${c.padEnd(width)}  ${d}`);
  return [
    LANGUAGE_HEAD,
    '',
    'Functions (jacobian functions shows the forms and arity of each)',
    ...functions,
    '',
    'Derivatives where a function is not differentiable (as PyTorch; each such entry is reported)',
    ...conventions,
    '',
  ].join('\n');
}

/** Words on lines of at most `width` characters, indented. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}
