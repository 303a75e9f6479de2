/**
 * SPEC §5: every user mistake gets exit status 2, one `error:` line on
 * standard error (a parse error adds the expression and a caret line),
 * nothing on standard output and no stack trace. Most cases run in-process
 * through main() with a fake Io; a handful run as child processes
 * (`node bin/jacobian.cjs`, so build first: npm run build).
 * Also: --help, --version, and a closed output pipe.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo, ROOT, runChild } from './helpers/cli.js';

interface ErrorCase {
  readonly name: string;
  readonly argv: readonly string[];
  /** Standard input on a pipe; without it, standard input is a terminal. */
  readonly stdin?: string;
  readonly files?: Readonly<Record<string, string>>;
  /** Each must match the `error:` line. */
  readonly says: readonly RegExp[];
}

const numbers = (n: number): string => Array.from({ length: n }, (_, i) => i + 1).join(',');
const nested = (depth: number, inner: string): string => '('.repeat(depth) + inner + ')'.repeat(depth);

/** The checks every user error must pass; returns the `error:` line. */
function expectUserError(status: number | null, stdout: string, stderr: string, parseError = false): string {
  expect(stdout).toBe('');
  expect(stderr).not.toMatch(/^\s{4}at /m);
  expect(stderr).not.toContain('internal error');
  expect(stderr.endsWith('\n')).toBe(true);
  const lines = stderr.slice(0, -1).split('\n');
  expect(lines[0]).toMatch(/^error: \S/);
  expect(lines).toHaveLength(parseError ? 3 : 1);
  expect(status).toBe(2);
  return lines[0]!;
}

const CASES: readonly ErrorCase[] = [
  { name: 'empty expression', argv: ['', '--at', '1'], says: [/empty expression/] },
  { name: 'blank expression', argv: ['   '], says: [/empty expression/] },
  // Issue 13 item 10: mathjs reads these words as values, so a binding of one could never be used.
  ...['Infinity', 'NaN', 'true', 'false'].map((word) => ({
    name: `a binding of the literal ${word}`,
    argv: [`x + ${word}*0`, '--at', `${word}=3`, '--at', 'x=1'],
    says: [new RegExp(`^error: --at ${word}: ${word} is a literal of the language, not a name`), /rename the variable/],
  })),
  { name: 'missing expression, standard input a terminal', argv: ['--at', '1,2,3'], says: [/missing expression/] },
  {
    name: 'missing expression, standard input empty',
    argv: ['--at', '1,2,3'],
    stdin: '',
    says: [/missing expression/, /standard input is empty/],
  },
  {
    name: 'standard input that is broken JSON',
    argv: ['--at', '1'],
    stdin: '{"expr": "x"',
    says: [/standard input is not valid JSON/],
  },
  { name: 'unknown function', argv: ['foo(x)', '--at', '1'], says: [/unknown function foo/, /\bsin\b/, /\bnorm\b/] },
  { name: 'unbound name', argv: ['x+y', '--at', 'x=1'], says: [/no value for y/, /--at y=/] },
  {
    name: 'a vector called as a function (indexing with parentheses)',
    argv: ['x(1)', '--at', 'x=1,2'],
    says: [/x\(…\) calls the variable x as a function: write x\[…\] to index it \(from 1\), or x\*\(…\) to multiply/],
  },
  {
    name: 'a while loop, which mathjs reads as names',
    argv: ['y = 2; while y > 1; y = y - 1; end; x', '--at', 'x=1'],
    says: [/^error: loops are not part of the language/],
  },
  {
    name: 'an if statement',
    argv: ['if x > 0; 1; end', '--at', 'x=1'],
    says: [/^error: if is not part of the language: write a ternary, as c \? a : b/],
  },
  { name: 'a scalar called as a function', argv: ['x(2)', '--at', 'x=1'], says: [/: write x\*\(…\) to multiply$/] },
  { name: '--at 1,,2', argv: ['x', '--at', '1,,2'], says: [/--at x/, /"1,,2"/, /empty entry/] },
  { name: '--at abc', argv: ['x', '--at', 'abc'], says: [/--at x/, /"abc" is not a number/] },
  { name: '--at [1,2', argv: ['x', '--at', '[1,2'], says: [/--at x/, /\[1,2 is not a valid array/] },
  { name: '--at x= (empty)', argv: ['x', '--at', 'x='], says: [/--at x is empty/] },
  {
    name: 'ragged matrix',
    argv: ['x', '--at', 'x=[[1,2],[3]]'],
    says: [/ragged/, /row 2 has 1 entry where row 1 has 2/],
  },
  {
    name: '--at without a name for two variables',
    argv: ['x*y', '--at', '1,2'],
    says: [/no name/, /--at x=/, /--at y=/],
  },
  {
    name: '--at @file that does not exist',
    argv: ['W*2', '--at', 'W=@missing.json'],
    says: [/--at W/, /cannot read missing\.json/],
  },
  {
    name: '--at @file that is not JSON',
    argv: ['W*2', '--at', 'W=@bad.json'],
    files: { 'bad.json': '[1, 2' },
    says: [/bad\.json is not valid JSON/],
  },
  {
    name: 'shape mismatch of .* (names the operator and both shapes)',
    argv: ['x.*y', '--at', 'x=1,2,3', '--at', 'y=1,2'],
    says: [/\.\*/, /vector\[3\]/, /vector\[2\]/],
  },
  {
    name: 'shape mismatch of + between literals',
    argv: ['[1,2] + [1,2,3]'],
    says: [/\+/, /vector\[2\]/, /vector\[3\]/],
  },
  { name: '^ on a vector suggests .^', argv: ['x^2', '--at', '1,2'], says: [/\.\^/, /vector\[2\]/] },
  {
    name: '--v of the wrong length (says both lengths)',
    argv: ['vjp', 'x*2', '--at', '1,2,3', '--v', '1,2'],
    says: [/--v has 2 numbers/, /has 3 entries/],
  },
  {
    name: '--v not numbers',
    argv: ['vjp', 'x*2', '--at', '1,2,3', '--v', '1,a,3'],
    says: [/--v/, /"a" is not a number/],
  },
  {
    name: '--u of the wrong length (says both lengths)',
    argv: ['jvp', 'x*2', '--at', '1,2', '--u', '1'],
    says: [/--u has 1 number/, /\b2 inputs/],
  },
  { name: 'missing --v for vjp', argv: ['vjp', 'x*2', '--at', '1,2,3'], says: [/--v is required/] },
  { name: '--wrt of an unbound name', argv: ['x*2', '--at', '1,2,3', '--wrt', 'y'], says: [/--wrt y/, /bound: x/] },
  { name: '--wrt with an empty name', argv: ['x*2', '--at', 'x=1,2', '--wrt', 'x,'], says: [/--wrt/, /empty name/] },
  { name: '--wrt naming a variable twice', argv: ['x*2', '--at', 'x=1,2', '--wrt', 'x,x'], says: [/twice/] },
  { name: '10,000 nested parentheses', argv: [nested(10_000, 'x'), '--at', '1'], says: [/nested too deeply/] },
  {
    name: 'a Jacobian larger than --max-memory',
    argv: ['x*2', '--at', numbers(100), '--max-memory', '1KB'],
    says: [/100×100 Jacobian/, /--max-memory/],
  },
  {
    name: 'a 100000×100000 Jacobian (75 GiB) under the default limit: refused, not allocated',
    argv: ['x*2', '--at', 'x=@big.json'],
    files: { 'big.json': JSON.stringify(Array.from({ length: 100_000 }, (_, i) => i)) },
    says: [/100000×100000 Jacobian/, /GiB/],
  },
  { name: 'bad --max-memory', argv: ['x', '--at', '1', '--max-memory', 'lots'], says: [/--max-memory/, /"lots"/] },
  { name: 'bad --precision', argv: ['x', '--at', '1', '--precision', '0'], says: [/--precision/, /"0"/] },
  { name: 'unknown option', argv: ['x*2', '--at', '1', '--bogus'], says: [/unknown option '--bogus'/] },
  {
    name: 'a mistyped option is not an expression',
    argv: ['x', '--at', '1', '--wrtt', 'x'],
    says: [/unknown option '--wrtt'/, /Did you mean --wrt\?/],
  },
  { name: 'assignment inside an expression', argv: ['x + (a = 2)', '--at', '1'], says: [/assignment inside/] },
  { name: 'a program that ends with a definition', argv: ['f(x)=x^2'], says: [/ends with a function definition/] },
  { name: 'complex number', argv: ['2i'], says: [/complex numbers are not supported/] },
  { name: 'string', argv: ['x + "a"', '--at', '1'], says: [/strings/] },
];

describe('user errors, in-process: exit 2, one error: line, nothing on stdout', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const io = fakeIo({
        ...(c.stdin === undefined ? {} : { stdin: c.stdin }),
        ...(c.files === undefined ? {} : { files: c.files }),
      });
      const status = await main(c.argv, io);
      const line = expectUserError(status, io.out(), io.err());
      for (const pattern of c.says) expect(line).toMatch(pattern);
    });
  }

  describe('parse errors repeat the expression with a caret under the column', () => {
    const PARSE: readonly { expr: string; column: number; says: RegExp }[] = [
      { expr: '2 +', column: 3, says: /Unexpected end of expression/ },
      { expr: 'sin(x', column: 5, says: /Parenthesis \) expected/ },
      { expr: '1 + * 2', column: 4, says: /Value expected/ },
      // A MATLAB loop, which mathjs cannot parse: what to write instead, under the `for`.
      {
        expr: 'for i = 1:3; x = x + i; end; x',
        column: 0,
        says: /loops are not part of the language: write a recursion/,
      },
    ];
    for (const { expr, column, says } of PARSE) {
      it(`${expr} (caret at column ${column})`, async () => {
        const io = fakeIo();
        const status = await main([expr, '--at', '1'], io);
        const line = expectUserError(status, io.out(), io.err(), true);
        expect(line).toMatch(/^error: syntax error: /);
        expect(line).toMatch(says);
        const [, echoed, caret] = io.err().split('\n');
        expect(echoed).toBe(`  ${expr}`);
        expect(caret).toBe(`  ${' '.repeat(column)}^`);
      });
    }

    it('the caret of `1 + * 2` is under the `*`', async () => {
      const io = fakeIo();
      await main(['1 + * 2'], io);
      const [, echoed, caret] = io.err().split('\n');
      expect(echoed!.charAt(caret!.indexOf('^'))).toBe('*');
    });
  });

  it('--debug adds the stack trace to a user error (and still exits 2)', async () => {
    const io = fakeIo();
    expect(await main(['2 +', '--debug'], io)).toBe(2);
    expect(io.err()).toMatch(/^error: syntax error/);
    expect(io.err()).toMatch(/^\s{4}at /m);
  });
});

// The process's own path for a user error: a parse error, the option parser's, and one deep enough to need the
// main thread's stack (the in-process cases above hold every kind of mistake).
describe('user errors, as child processes', () => {
  const CHILD: readonly { name: string; args: readonly string[]; says: RegExp; parseError?: boolean }[] = [
    { name: 'syntax error, with the caret line', args: ['2 +'], says: /syntax error/, parseError: true },
    { name: 'unknown option', args: ['x*2', '--at', '1', '--bogus'], says: /unknown option '--bogus'/ },
    {
      name: '10,000 nested parentheses',
      args: [nested(10_000, 'x'), '--at', '1'],
      says: /nested too deeply/,
    },
  ];
  for (const c of CHILD) {
    it(c.name, () => {
      const result = runChild(c.args);
      expect(expectUserError(result.status, result.stdout, result.stderr, c.parseError)).toMatch(c.says);
    });
  }
});

describe('help, version, closed pipe', () => {
  it('--help prints the usage with examples and exits 0', async () => {
    const io = fakeIo();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.err()).toBe('');
    expect(io.out()).toMatch(/^Usage: jacobian/);
    expect(io.out()).toContain('Examples:');
    expect(io.out()).toContain('$ jacobian "x*2" --at 1,2,3');
    expect(io.out()).toContain('$ jacobian vjp "x*2" --at 1,2,3 --v 0.1,1,0.0001');
  });

  it('vjp --help also shows the examples', async () => {
    const io = fakeIo();
    expect(await main(['vjp', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/^Usage: jacobian vjp/);
    expect(io.out()).toContain('--v <numbers>');
    expect(io.out()).toContain('Examples:');
  });

  it('--version prints the version of package.json (child process)', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = runChild(['--version']);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${version}\n`);
  });

  it('--version in-process too', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const io = fakeIo();
    expect(await main(['-V'], io)).toBe(0);
    expect(io.out()).toBe(`${version}\n`);
  });

  it('a closed output pipe (| head -1) ends quietly with status 0', () => {
    // A 300×300 table is 690 KB: far more than a pipe holds, so writes hit EPIPE.
    const script = `node bin/jacobian.cjs "x*2" --at ${numbers(300)} | head -1; echo "status=\${PIPESTATUS[0]}"`;
    const result = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('J = ∂(x*2)/∂x   300×300\nstatus=0\n');
  });
});
