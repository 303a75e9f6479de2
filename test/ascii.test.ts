/**
 * Encoding and terminals: ASCII output under a C/POSIX or other non-UTF-8
 * locale and TERM=dumb (no colour either), domain warnings said once, no
 * empty 1×0 table for an expression without variables, and size refusals
 * that say what to compute instead. One child reads LC_ALL from its own
 * environment and the terminal cases run on a pseudo-terminal; the rest run
 * main in-process with the environment given to its Io.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { jacobian } from '../src/api.js';
import { asciiOnly } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { ASCII, inGlyphs, UNICODE } from '../src/format/glyphs.js';
import { fakeIo, ROOT, runChildAsync, runInProcess } from './helpers/cli.js';

const ONLY_ASCII = /^[\x00-\x7f]*$/;
const C = { LC_ALL: 'C' };

/** `jacobian ...args` on an 80×24 pseudo-terminal with `env`; what it printed there. */
function inTerminal(args: readonly string[], env: Record<string, string>): string {
  const quoted = args.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const result = spawnSync(
    '/usr/bin/script',
    ['-q', '-c', `stty cols 80 rows 24; node bin/jacobian.cjs ${quoted}`, '/dev/null'],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  if (result.error !== undefined) throw result.error;
  return result.stdout.replace(/\r/g, '');
}

describe.concurrent('which terminals get ASCII', () => {
  it.each([
    [{}, false],
    [{ LANG: 'en_US.UTF-8' }, false],
    [{ LANG: 'C.utf8' }, false],
    [{ LC_ALL: 'C' }, true],
    [{ LC_ALL: 'POSIX', LANG: 'en_US.UTF-8' }, true],
    [{ LC_ALL: '', LC_CTYPE: 'en_GB.UTF-8', LANG: 'C' }, false],
    [{ LC_CTYPE: 'en_US.ISO-8859-1', LANG: 'en_US.UTF-8' }, true],
    [{ LANG: 'de_DE' }, true],
    [{ LANG: 'en_US.UTF-8', TERM: 'dumb' }, true],
    [{ TERM: 'xterm-256color' }, false],
  ])('%j: ASCII %s', async (env, ascii) => {
    expect(asciiOnly(env)).toBe(ascii);
  });

  it('the ASCII spellings of the engine’s symbols', async () => {
    expect(inGlyphs('its one-sided limit (±Infinity), x ≥ 0, ∂/∂x = y·x^(y−1)', ASCII)).toBe(
      'its one-sided limit (+-Infinity), x >= 0, d/dx = y*x^(y-1)',
    );
    expect(inGlyphs('±∞', UNICODE)).toBe('±∞');
  });
});

describe.concurrent('LC_ALL=C', () => {
  it('a Jacobian: d(x*2)/dx, 3x3', async () => {
    // A child: LC_ALL read from the process's own environment.
    const { stdout, status } = await runChildAsync(['x*2', '--at', '1,2,3'], { env: C });
    expect(status).toBe(0);
    expect(stdout).toBe(
      ['J = d(x*2)/dx   3x3', '', '      x[1]  x[2]  x[3]', 'f[1]     2     0     0', 'f[2]     0     2     0']
        .concat(['f[3]     0     0     2', ''])
        .join('\n'),
    );
  });

  it.each([
    [['vjp', 'x*2', '--at', '1,2,3', '--v', '1,0,0'], 'v^T J = v^T*d(x*2)/dx   1x3'],
    [['jvp', 'x*2', '--at', '1,2,3', '--u', '1,0,0'], 'J*u = d(x*2)/dx*u   3x1'],
    [['grad', 'sum(x.^2)', '--at', '1,2'], 'grad f = d(sum(x.^2))/dx   1x2'],
    [['hessian', 'sum(x.^3)', '--at', '1,2'], 'H = d2(sum(x.^3))/dx2   2x2'],
    [['hvp', 'sum(x.^3)', '--at', '1,2', '--u', '1,0'], 'H*u = d2(sum(x.^3))/dx2*u   1x2'],
    [['check', 'x.^2', '--at', '1,2'], 'check J = d(x.^2)/dx   2x2: automatic against central finite differences'],
  ])('%j: %s, and nothing but ASCII', async (args, header) => {
    const { stdout, stderr, status } = await runInProcess(args, { env: C });
    expect(status).toBe(0);
    expect(stdout.split('\n')[0]).toBe(header);
    expect(stdout).toMatch(ONLY_ASCII);
    expect(stderr).toBe('');
  });

  it('special points: * marks, +-Infinity, and the warnings in ASCII', async () => {
    const { stdout, status } = await runInProcess(['sqrt(x)', '--at', '-1,0,4'], { env: C });
    expect(status).toBe(0);
    expect(stdout).toMatch(ONLY_ASCII);
    expect(stdout).toContain('f[1]  NaN*');
    expect(stdout).toContain('(+-Infinity) is used');
    expect(stdout).toContain('! 2 entries are not finite (NaN or +-Infinity)');
  });

  it('spy draws # and . in an ASCII frame', async () => {
    const { stdout, status } = await runInProcess(['spy', 'x.*x', '--at', '1:5'], { env: C });
    expect(status).toBe(0);
    expect(stdout).toBe(
      ['+-----+', '|#....|', '|.#...|', '|..#..|', '|...#.|', '|....#|', '+-----+']
        .concat(['J = d(x.*x)/dx: 5x5, 5 nonzeros (20%), 1 colour (forward, lower bound 1)', ''])
        .join('\n'),
    );
  });

  it('a large spy picture is scaled to fit, one character a block', async () => {
    const io = { ...fakeIo({ stdoutIsTTY: true, env: C }), columns: 40 };
    expect(await main(['spy', 'x.*x', '--at', 'x=1:100'], io)).toBe(0);
    const lines = io.out().split('\n');
    expect(lines[0]).toBe(`+${'-'.repeat(34)}+`);
    expect(lines[1]).toBe(`|#${'.'.repeat(33)}|`);
    expect(lines.at(-2)).toMatch(/, 1 character = 3x3 entries$/);
    expect(io.out()).toMatch(ONLY_ASCII);
  });

  it('errors are in ASCII too', async () => {
    const { stderr, status } = await runInProcess(['x + y', '--at', 'x=1'], { env: C });
    expect(status).toBe(2);
    expect(stderr).toBe('error: no value for y: add --at y=...\n');
  });

  it('a table summarised on a terminal uses ..., and the terminal gets no colour', async () => {
    const out = inTerminal(['x*sum(x)', '--at', 'x=1:30'], { ...C, TERM: 'xterm-256color' });
    expect(out).toMatch(ONLY_ASCII);
    expect(out).not.toContain('\x1b[');
    expect(out.split('\n')[0]).toBe('J = d(x*sum(x))/dx   30x30');
    expect(out).toMatch(/x\[5\] {2}\.\.\. {2}x\[26\]/);
    expect(Math.max(...out.split('\n').map((line) => line.length))).toBeLessThanOrEqual(80);
  });

  it('FORCE_COLOR still forces colour', async () => {
    const io = fakeIo({ stdoutIsTTY: true, env: { ...C, FORCE_COLOR: '1' } });
    expect(await main(['x*2', '--at', '1,2'], io)).toBe(0);
    expect(io.out()).toContain('\x1b[1mJ = d(x*2)/dx\x1b[22m');
  });
});

describe.concurrent('TERM=dumb', () => {
  it('ASCII and no colour on a terminal', async () => {
    const out = inTerminal(['vjp', 'x*2', '--at', '1,2,3', '--v', '1,0,0'], { TERM: 'dumb', LANG: 'C.UTF-8' });
    expect(out).toMatch(ONLY_ASCII);
    expect(out).not.toContain('\x1b[');
    expect(out.split('\n')[0]).toBe('v^T J = v^T*d(x*2)/dx   1x3');
  });

  it('a UTF-8 terminal keeps Unicode and colour', async () => {
    const out = inTerminal(['x*2', '--at', '1,2,3'], { TERM: 'xterm-256color', LANG: 'C.UTF-8' });
    expect(out).toContain('\x1b[1mJ = ∂(x*2)/∂x\x1b[22m   3×3');
  });
});

describe.concurrent('domain warnings are said once', () => {
  const args = ['x + log(c)', '--at', 'x=1', '--at', 'c=-1', '--wrt', 'x'];

  it('a table says it under the numbers, and not again on standard error', async () => {
    const { stdout, stderr, status } = await runInProcess(args);
    expect(status).toBe(0);
    expect(stdout.match(/outside the domain/g)).toHaveLength(1);
    expect(stdout).toContain('* domain in log(c) (1 entry): outside the domain');
    expect(stderr).toBe('');
  });

  it('--json and the other formats leave it to standard error, once', async () => {
    for (const format of [['--json'], ['--format', 'csv']]) {
      const { stdout, stderr, status } = await runInProcess([...args, ...format]);
      expect(status).toBe(0);
      expect(stdout).not.toContain('warning:');
      expect(stderr).toBe(
        'warning: log(c): outside the domain: the value is NaN (no real result); ' +
          'the derivative is what its formula gives there\n',
      );
    }
  });
});

describe.concurrent('nothing to differentiate', () => {
  const NO_VARIABLES = 'error: the expression has no variables: nothing to differentiate; give one with --at NAME=…\n';

  it.each([[['5']], [['jac', 'sin(2)+3']], [['grad', 'a = 3; a*2']], [['hessian', '5']], [['check', '[1, 2]']]])(
    '%j is refused instead of an empty 1×0 table',
    async (args) => {
      const { stdout, stderr, status } = await runInProcess(args);
      expect(stderr).toBe(NO_VARIABLES);
      expect(stdout).toBe('');
      expect(status).toBe(2);
    },
  );

  it('with a value that the expression does not use, or as JSON, a constant still has its derivative', async () => {
    const bound = await runInProcess(['x*0 + 5', '--at', 'x=1']);
    expect(bound.status).toBe(0);
    expect(bound.stdout).toContain('f  0');
    expect((await runInProcess(['5', '--at', 'x=1'])).status).toBe(0);
    const json = await runInProcess(['5', '--json']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ value: 5, shape: [1, 0], jacobian: [[]] });
  });

  it('bound variables but none differentiated (wrt [] on standard input) says to name one', async () => {
    const io = fakeIo({ stdin: '{"expr": "x*2", "at": {"x": [1, 2]}, "wrt": []}' });
    expect(await main([], io)).toBe(2);
    expect(io.err()).toBe('error: no variable is differentiated: name one with --wrt\n');
    expect(io.out()).toBe('');
  });
});

describe.concurrent('a result too large to hold says what to compute instead', () => {
  it('the CLI suggests --sparse, vjp or jvp for J, and --sparse or hvp for a Hessian', async () => {
    const J = await runInProcess(['sin(x)', '--at', 'x=1:30000']);
    expect(J.status).toBe(2);
    expect(J.stderr).toBe(
      'error: the 30000×30000 Jacobian needs 6.71 GiB, more than the limit of 4 GiB ' +
        '(raise it with --max-memory, or use --sparse, vjp or jvp instead)\n',
    );
    const H = await runInProcess(['hessian', 'sum(x.^2)', '--at', 'x=1:30000']);
    expect(H.stderr).toBe(
      'error: the 30000×30000 Hessian needs 6.71 GiB, more than the limit of 4 GiB ' +
        '(raise it with --max-memory, or use --sparse or hvp instead)\n',
    );
    // Within memory, but too many entries to print as text: the same choices, or NumPy's binary file.
    const printed = await runInProcess(['hessian', 'sum(x.^3)', '--at', 'x=1:6000']);
    expect([printed.status, printed.stderr]).toEqual([
      2,
      'error: the 6000×6000 Hessian has 36000000 entries, too many to print (gigabytes of text): ' +
        'use --sparse or hvp, or --format npy\n',
    ]);
  });

  it('the CLI suggests hvp for a sparse Hessian too large', async () => {
    const { stderr, status } = await runInProcess(
      'hessian sum(x.^4) --at x=1:100 --sparse --max-memory 100'.split(' '),
    );
    expect([status, stderr]).toEqual([
      2,
      'error: the 100×100 sparse Hessian needs 18.8 KiB (values 6.28 KiB, passes 12.6 KiB), more than the limit of ' +
        '100 B (raise it with --max-memory, or use hvp instead)\n',
    ]);
  });

  it('the CLI suggests vjp or jvp for a sparse J too large', async () => {
    const { stderr, status } = await runInProcess(['sin(x)', '--at', 'x=1:100', '--sparse', '--max-memory', '100']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/\(raise it with --max-memory, or use vjp or jvp instead\)\n$/);
  });

  it('the library names its own functions', async () => {
    const x = Array.from({ length: 100 }, (_, i) => i);
    expect(() => jacobian('sin(x)', { x }, { maxMemoryBytes: 1000 })).toThrow(
      'the 100×100 Jacobian needs 78.1 KiB, more than the limit of 1000 B ' +
        '(raise it with the option maxMemoryBytes, or use sparseJacobian, vjp or jvp instead)',
    );
  });
});
