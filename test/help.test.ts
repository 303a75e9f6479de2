/**
 * Help that teaches: the top-level help shows the commands, the common
 * options and three examples; each command's help shows its own flag first
 * and two examples of its own, which run; no commander artefacts; and
 * `jacobian help language` is the language reference.
 */
import { describe, expect, it } from 'vitest';
import { COMMAND_EXAMPLES, TOP_EXAMPLES, type Example } from '../src/cli/help.js';
import { main } from '../src/cli/main.js';
import { FUNCTION_GROUPS, functionCatalogue } from '../src/parse/catalogue.js';
import { fakeIo, runChild, runInProcess } from './helpers/cli.js';

const EXPRESSION_COMMANDS = ['jac', 'vjp', 'jvp', 'grad', 'hessian', 'hvp', 'check', 'spy'];

/** A help text, printed in-process (the top-level one by a child too, below): status 0, nothing on standard error. */
async function help(args: readonly string[]): Promise<string> {
  const result = await runInProcess(args);
  expect(result.status).toBe(0);
  expect(result.stderr).toBe('');
  return result.stdout;
}

/** The lines of one section of a help text, from its heading to the blank line that ends it. */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  expect(start, `no section ${heading}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end);
}

const exampleLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('  $ '));

describe('top-level help', () => {
  it('lists the commands, the common options and three examples', async () => {
    const text = await help(['--help']);
    const commands = section(text, 'Commands:').join('\n');
    for (const name of [...EXPRESSION_COMMANDS, 'functions', 'completion', 'help'])
      expect(commands).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    const common = section(text, 'Common options:').join('\n');
    for (const flag of ['--at', '--wrt', '--json', '--format', '--file', '--batch', '--precision'])
      expect(common).toContain(flag);
    expect(exampleLines(text)).toHaveLength(3);
    expect(text).toContain('jacobian help language');
    // The process prints the same and exits 0: commander's exit goes through main's status.
    expect(runChild(['--help'])).toEqual({ status: 0, stdout: text, stderr: '' });
  });
});

describe('help of each command', () => {
  const OWN_FLAG: Readonly<Record<string, string>> = {
    jac: '--sparse',
    vjp: '--v <numbers>',
    jvp: '--u <numbers>',
    hvp: '--u <numbers>',
    check: '--tol <number>',
    spy: '--svg <file>',
  };

  it.each(Object.entries(OWN_FLAG))('%s shows its own flag first', async (command, flag) => {
    const options = section(await help([command, '--help']), 'Options:');
    expect(options[0]).toMatch(new RegExp(`^  ${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`));
  });

  it.each([...EXPRESSION_COMMANDS, 'functions', 'completion'])('%s shows two examples of its own', async (command) => {
    const lines = exampleLines(await help([command, '--help']));
    expect(lines).toHaveLength(2);
    const own = command === 'jac' ? /jacobian (jac )?"/ : new RegExp(`jacobian ${command}\\b`);
    for (const line of lines) expect(line).toMatch(own);
  });

  it('prints no commander artefacts: empty defaults, long decimals, repeated choices', async () => {
    for (const command of [[], ...EXPRESSION_COMMANDS.map((c) => [c])]) {
      const io = fakeIo();
      expect(await main([...command, '--help'], io)).toBe(0);
      expect(io.out()).not.toMatch(/default: \[\]|0\.000001|choices:|default: "/);
    }
    expect(await help(['check', '--help'])).toMatch(/\(default: 1e-6\)/);
  });

  it('jacobian help COMMAND still works as commander does', async () => {
    expect(await help(['help', 'vjp'])).toMatch(/^Usage: jacobian vjp/);
  });
});

/** The words of a command line, as a POSIX shell splits them (quotes, no expansions). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const [, double, single, bare] of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g))
    words.push(double ?? single ?? bare!);
  return words;
}

/** Runs an example in-process (a pipe: its left side's output is standard input of its right side). */
async function runExample(example: Example): Promise<{ status: number; out: string; err: string }> {
  let stdin: string | undefined;
  let status = 0;
  let err = '';
  for (const part of example.line.split(' | ')) {
    const [program, ...argv] = shellWords(part);
    expect(program).toBe('jacobian');
    const io = stdin === undefined ? fakeIo() : fakeIo({ stdin });
    status = await main(argv, io);
    stdin = io.out();
    err += io.err();
  }
  return { status, out: stdin ?? '', err };
}

describe('the examples run', () => {
  const examples = [...TOP_EXAMPLES, ...Object.values(COMMAND_EXAMPLES).flat()].filter(
    // Those that write files or load a script into the shell are the completion and --svg ones.
    (e) => !/<\(|>|--svg/.test(e.line),
  );
  it.each(examples.map((e) => [e.line, e]))('%s', async (_line, example) => {
    const { status, err } = await runExample(example);
    expect(err).toBe('');
    expect(status).toBe(0);
  });

  it('and show what they say they show', async () => {
    const shown = async (line: string): Promise<string> => (await runExample({ line, shows: '' })).out;
    expect(await shown('jacobian vjp "x*2" --at 1,2,3 --v 0.1,1,0.0001 --json')).toContain('"vjp":[0.2,2,0.0002]');
    expect(await shown('jacobian grad "sum(x.^2)" --at 1,2,3 --json')).toContain('"grad":[2,4,6]');
    expect(await shown('jacobian hvp "sum(x.^3)" --at 1,2,3 --u 1,0,0 --json')).toContain('"hvp":[6,0,0]');
  });
});

describe('jacobian help language', () => {
  it('is the language reference: operators, indexing, programs, functions by group, conventions', async () => {
    const text = await help(['help', 'language']);
    for (const heading of ['Values', 'Operators', 'Indexing', 'Programs', 'Results', 'Functions', 'Derivatives'])
      expect(text).toMatch(new RegExp(`^${heading}\\b`, 'm'));
    for (const operator of ['.*', './', '.^', "'", 'cond ? a : b', 'x[2:4]', 'end', 'f(a, b) = ', '#'])
      expect(text).toContain(operator);
    for (const group of Object.keys(FUNCTION_GROUPS)) expect(text).toContain(`  ${group}:`);
    for (const { name } of functionCatalogue()) expect(text).toMatch(new RegExp(`^    .*\\b${name}\\b`, 'm'));
    expect(text).toMatch(/sqrt at 0.*\+Infinity/);
  });

  it('lists every function of the catalogue in a group of its own', () => {
    const other = functionCatalogue().filter((f) => f.group === 'other');
    expect(other.map((f) => f.name)).toEqual([]);
  });
});
