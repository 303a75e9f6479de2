/**
 * The README's examples run as written: every `$ …` line of a code block is
 * run by the shell (the installed command for `jacobian`, through a pipe, so
 * no terminal and no colour), or, when it is a plain `jacobian …` line (or
 * such lines joined by `|` or `&&`, after a `printf` or `echo`), by main
 * in-process, in a copy of fixtures/readme/ that holds the
 * files the examples read, and what it writes (standard output, then
 * standard error) must be the README's text under it, up to the next `$`
 * line or the end of the block. Trailing white space is not compared; the
 * README shortens long output with `…`, which stands for any text within a
 * line, and on a line of its own for any number of lines. Needs the build.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runInProcess } from './helpers/cli.js';

interface Example {
  /** The command as the README writes it, continuation lines joined. */
  readonly command: string;
  /** The README's line number of the command, to find it. */
  readonly line: number;
  readonly output: readonly string[];
}

/** The `$ …` examples of every fenced code block of `markdown`. */
export function readmeExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  let inBlock = false;
  let current: { command: string; line: number; output: string[] } | null = null;
  const lines = markdown.split('\n');
  const finish = () => {
    if (current === null) return;
    while (current.output.length > 0 && current.output.at(-1)!.trim() === '') current.output.pop();
    examples.push(current);
    current = null;
  };
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    if (line.startsWith('```')) {
      finish();
      inBlock = !inBlock;
      continue;
    }
    if (!inBlock) continue;
    if (line.startsWith('$ ')) {
      finish();
      const start = k + 1;
      let command = line.slice(2);
      // A command that ends with a pipe or a backslash goes on on the next line.
      while (/[|\\]\s*$/.test(command) && k + 1 < lines.length) command = `${command}\n${lines[++k]!}`;
      current = { command, line: start, output: [] };
    } else if (current !== null) current.output.push(line);
  }
  finish();
  return examples;
}

/** Whether `actual` is what `expected` shows, `…` standing for what the README leaves out. */
export function matchesExample(expected: readonly string[], actual: readonly string[]): boolean {
  const pattern = expected
    .map((line) =>
      line.trim() === '…'
        ? '(?:[^\\n]*\\n)*?'
        : `${line
            .trimEnd()
            .split('…')
            .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
            .join('[^\\n]*?')}\\n`,
    )
    .join('');
  return new RegExp(`^${pattern}$`).test(actual.map((line) => `${line}\n`).join(''));
}

const trimmed = (text: string): string[] => {
  const lines = text.split('\n').map((line) => line.trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
};

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const EXAMPLES = readmeExamples(README);
const COMMAND = `node ${JSON.stringify(join(ROOT, 'bin', 'jacobian.cjs'))}`;

// The examples write files (spy --svg): they run in a copy of the fixtures.
const dir = mkdtempSync(join(tmpdir(), 'jacobian-readme-'));
cpSync(join(ROOT, 'fixtures', 'readme'), dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `jacobian` and its words, with nothing the shell would expand, redirect or chain. */
const PLAIN = /^jacobian( +("[^"]*"|'[^']*'|[^\s'"|&;<>$`\\()]+))*$/;

/** The words of a plain `jacobian …` command, after `jacobian`. */
const wordsOf = (command: string): string[] =>
  [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)]
    .map(([, double, single, bare]) => double ?? single ?? bare!)
    .slice(1);

/** The commands of `command` joined by `|` or by `&&` (one of the two), split outside quotes; null for others. */
export function stagesOf(command: string): { readonly join: '|' | '&&'; readonly stages: string[] } | null {
  const stages: string[] = [];
  const joins = new Set<string>();
  let quote: string | null = null;
  let start = 0;
  for (let k = 0; k < command.length; k++) {
    const c = command[k]!;
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '|' || (c === '&' && command[k + 1] === '&')) {
      if (command[k + 1] === '|') return null;
      joins.add(c === '|' ? '|' : '&&');
      stages.push(command.slice(start, k).trim());
      start = k + (c === '|' ? 1 : 2);
      k = start - 1;
    }
  }
  stages.push(command.slice(start).trim());
  const [join, ...others] = [...joins];
  return join === undefined || others.length > 0 ? null : { join: join as '|' | '&&', stages };
}

/** Standard output of a `printf` or `echo` command, run by sh (no Node to start). */
function shellText(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', command],
      { cwd: dir, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
      (error, stdout) => (error === null ? resolve(stdout) : reject(error)),
    );
  });
}

/**
 * The example as a terminal shows it, run in-process: plain `jacobian …` commands, joined by `&&` (each after the
 * one before succeeds) or by `|` (after a `printf` or `echo` that gives the first its input); null when it is not
 * such a command, or when the order of what two streams wrote would be the process's to keep.
 */
async function inProcess(command: string): Promise<string | null> {
  const { join, stages } = stagesOf(command) ?? { join: '|', stages: [command] };
  const text = join === '|' && /^(printf|echo) /.test(stages[0]!) ? await shellText(stages.shift()!) : null;
  if (!stages.every((stage) => PLAIN.test(stage))) return null;
  let shown = '';
  let stdin = text;
  for (const [k, stage] of stages.entries()) {
    const run = await runInProcess(wordsOf(stage), { cwd: dir, ...(stdin === null ? {} : { stdin }) });
    const last = k === stages.length - 1;
    if (join === '|') {
      // Standard error of every command reaches the terminal; standard output that of the last alone.
      if (run.stderr !== '' && (!last || run.stdout !== '' || shown !== '')) return null;
      if (last) return run.stdout + run.stderr;
      shown += run.stderr;
      stdin = run.stdout;
    } else {
      if (run.stdout !== '' && run.stderr !== '') return null;
      shown += run.stdout + run.stderr;
      if (run.status !== 0) break;
    }
  }
  return shown;
}

/**
 * What the example prints (standard output and error, as a terminal shows them); the examples run side by side.
 * Plain `jacobian …` commands run main in-process, as the children would; the others run in the shell with the
 * installed command.
 */
async function runExample(command: string): Promise<string> {
  return (await inProcess(command)) ?? inShell(command);
}

/** The example run by sh with the installed command, standard error joined to standard output. */
function inShell(command: string): Promise<string> {
  // `jacobian` as a command: at the start, after a pipe, or after `&&`.
  const script = command.replace(/(^|[|&]\s*)jacobian\b/g, `$1${COMMAND}`);
  return new Promise((resolve, reject) => {
    execFile(
      'sh',
      ['-c', `exec 2>&1\n${script}`],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, encoding: 'utf8', timeout: 20_000 },
      (error, stdout) => {
        // An example may exit non-zero (an error it shows); a failure to run it, or the timeout's kill, may not.
        if (error !== null && (error.killed === true || typeof error.code === 'string')) reject(error);
        else resolve(stdout);
      },
    );
  });
}

describe('the README', () => {
  it('has examples, and every one runs the command or shows a file it reads', () => {
    expect(EXAMPLES.length).toBeGreaterThan(20);
    for (const { command } of EXAMPLES) expect(command).toMatch(/^(cat \S+$|.*\bjacobian\b)/s);
  });

  // Examples that write a file (spy --svg, npz) and read it back do so in one command: they may run at once.
  it.concurrent.each(EXAMPLES.map((example) => [`line ${example.line}: $ ${example.command}`, example] as const))(
    '%s',
    async (_title, example) => {
      const actual = trimmed(await runExample(example.command));
      if (!matchesExample(example.output, actual)) expect(actual.join('\n')).toBe(example.output.join('\n'));
    },
  );
});

describe('the matching of an example', () => {
  it('is exact but for trailing white space', () => {
    expect(matchesExample(['a  b', 'c'], ['a  b', 'c'])).toBe(true);
    expect(matchesExample(['a b'], ['a  b'])).toBe(false);
    expect(matchesExample(['a'], ['a', 'b'])).toBe(false);
    expect(matchesExample(['a', 'b'], ['a'])).toBe(false);
    expect(matchesExample(['f(x) [1]*'], ['f(x) [1]*'])).toBe(true);
  });

  it('takes … for any text within a line, and for any lines on a line of its own', () => {
    expect(matchesExample(['{"a":1,…,"z":2}'], ['{"a":1,"b":[3],"z":2}'])).toBe(true);
    expect(matchesExample(['{"a":1,…,"z":2}'], ['{"a":1,"b":[3],"z":3}'])).toBe(false);
    expect(matchesExample(['first', '…'], ['first', 'second', 'third'])).toBe(true);
    expect(matchesExample(['first', '…', 'last'], ['first', 'last'])).toBe(true);
    expect(matchesExample(['first', '…', 'last'], ['first', 'x', 'y', 'last'])).toBe(true);
    expect(matchesExample(['first', '…', 'last'], ['second', 'last'])).toBe(false);
  });

  it('runs in-process the commands joined by one of | and &&, split outside quotes', () => {
    expect(stagesOf(`printf '{"x":1}\\n' |\n    jacobian "x|y" --batch -`)).toEqual({
      join: '|',
      stages: [`printf '{"x":1}\\n'`, 'jacobian "x|y" --batch -'],
    });
    expect(stagesOf('jacobian a -o f && jacobian b')).toEqual({
      join: '&&',
      stages: ['jacobian a -o f', 'jacobian b'],
    });
    expect(stagesOf('jacobian a')).toBeNull();
    expect(stagesOf('jacobian a || jacobian b')).toBeNull();
    expect(stagesOf('jacobian a | jacobian b && jacobian c')).toBeNull();
  });

  it('reads the commands and outputs of code blocks only, continuation lines joined', () => {
    const markdown = [
      '$ jacobian outside',
      '```',
      '$ jacobian "x" --at 1',
      'J = …',
      '',
      "$ printf '{}' |",
      '    jacobian --batch -',
      '{"line":1}',
      '```',
      'text',
      '```',
      'no command here',
      '```',
    ].join('\n');
    expect(readmeExamples(markdown)).toEqual([
      { command: 'jacobian "x" --at 1', line: 3, output: ['J = …'] },
      { command: "printf '{}' |\n    jacobian --batch -", line: 6, output: ['{"line":1}'] },
    ]);
  });
});
