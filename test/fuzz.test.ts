/**
 * Fuzzing the whole pipeline (SPEC §5): random and broken expressions, values
 * and flags through the CLI in-process, and random calls of the library.
 * Every outcome must be a result or a user error (exit 2, one `error:` line,
 * no stack trace); an internal error or a stack trace fails. Seeds are fixed,
 * so a failure replays; fast-check shrinks it to a small case and the message
 * has the exact argv. No case reads the clock: resource limits are checked by
 * their effect (what is refused, and how large the graph that was built is).
 *
 * Budgets (BUDGETS below): `npm test` runs a share of every property (2445
 * cases, most of them library calls, which cost a tenth of a CLI run); CI
 * runs `npm run fuzz` with FUZZ_BUDGET=ci (10 000 cases, 1775 of them
 * through the CLI); `npm run fuzz` alone runs the full budgets (42 800
 * cases), and FUZZ_BUDGET=k runs k times them.
 *
 * The crashes these tests found (mathjs parse errors without a position,
 * ranges of 1e6 to 1e8 entries, a batch file that does not exist, line
 * breaks echoed into the error line, Object.prototype names) are fixed and
 * pinned in fixtures/fuzz-regressions.jsonl.
 * Not generated: line breaks inside an expression or a flag's value (the
 * regressions cover them). Devices, endless streams, a full disk and signals
 * need child processes: they are in fuzz-io.test.ts.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  check,
  grad,
  hessian,
  hvp,
  jacobian,
  jvp,
  UserError,
  vjp,
  type Mode,
  type Options,
  type Values,
} from '../src/index.js';
import {
  atBinding,
  casesOf,
  COMMANDS,
  commandCase,
  checkCase,
  contractViolation,
  FILES,
  grammarExpression,
  jsonish,
  jsonText,
  M_VALUES,
  mutatedExpression,
  randomFlag,
  randomString,
  runCli,
  STANDARD_AT,
  typedCase,
  VALID_EXPRESSIONS,
  X_VALUES,
  Y_VALUES,
  type Budget,
  type CliCase,
} from './helpers/fuzz.js';

/** Cases per property: a share in `npm test`, the CI share in CI's `npm run fuzz`, the full budget there by default. */
const BUDGETS = {
  strings: { test: 75, ci: 300, full: 3000 },
  mutations: { test: 75, ci: 300, full: 4000 },
  grammar: { test: 75, ci: 300, full: 4000 },
  typed: { test: 60, ci: 250, full: 4000 },
  bindings: { test: 50, ci: 200, full: 2500 },
  flags: { test: 50, ci: 200, full: 2500 },
  piped: { test: 40, ci: 150, full: 2000 },
  batch: { test: 20, ci: 75, full: 800 },
  library: { test: 2000, ci: 8225, full: 20_000 },
} as const satisfies Record<string, Budget>;

/** Runs a case (counting its status in `statuses`) and fails with the case and what went wrong (fast-check prints the shrunk case). */
async function expectContract(c: CliCase, statuses?: Map<number, number>): Promise<void> {
  const problem = await checkCase({ files: FILES, ...c }, statuses);
  if (problem !== null) throw new Error(`${problem}\n  case: ${JSON.stringify(c)}`);
}

/** fast-check settings: a fixed seed per property, and the number of cases of its budget. */
const runs = (seed: number, budget: Budget) => ({ seed, numRuns: casesOf(budget), endOnFailure: false });

describe('the fuzz budget', () => {
  it('CI runs at least 10 000 seeded cases, npm test a share of them, npm run fuzz more of each', () => {
    const budgets = Object.values(BUDGETS);
    expect(budgets.reduce((sum, b) => sum + b.ci, 0)).toBeGreaterThanOrEqual(10_000);
    for (const b of budgets) expect([b.test > 0, b.ci >= b.test, b.full >= b.ci]).toEqual([true, true, true]);
    const budget = { test: 5, ci: 10, full: 40 };
    expect(casesOf(budget, '')).toBe(5);
    expect(casesOf(budget, 'ci')).toBe(10);
    expect(casesOf(budget, 'full')).toBe(40);
    expect(casesOf(budget, '2.5')).toBe(100);
    expect(() => casesOf(budget, 'lots')).toThrow(/FUZZ_BUDGET/);
  });
});

describe('the contract checker', () => {
  // The property below is only as good as this judge: it must reject each way of breaking the contract.
  const judge = (status: number, out: string, err: string, args: readonly string[] = ['x', '--json']) =>
    contractViolation({ args }, { status, out, err });

  it('accepts a result, a user error and a parse error', () => {
    expect(judge(0, '{"a":1}\n', '')).toBeNull();
    expect(judge(0, '{"a":1}\n', 'warning: log(x): a value outside the domain is NaN\n')).toBeNull();
    expect(judge(2, '', 'error: no value for y: add --at y=…\n')).toBeNull();
    expect(judge(2, '', 'error: syntax error: Unexpected end of expression\n  x+\n    ^\n')).toBeNull();
    expect(judge(2, '', 'error: syntax error: Value expected\n  at f(\n       ^\n')).toBeNull();
    expect(judge(1, 'check J = …\n', '', ['check', 'x'])).toBeNull();
    expect(judge(1, 'J = …\n', '', ['x', '--strict'])).toBeNull();
  });

  it.each([
    ['an internal error', 1, '', 'error: internal error: x is not a function (run with --debug for details)\n'],
    ['a stack trace', 2, '', 'error: bad\n    at f (file.js:1:1)\n'],
    ['a stack trace after a parse error', 2, '', 'error: syntax error: bad\n  x+\n    ^\n    at f (file.js:1:1)\n'],
    ['a second error line', 2, '', 'error: bad\nerror: worse\n'],
    ['a multi-line error', 2, '', 'error: bad\nand more\n'],
    ['output with an error', 2, 'J\n', 'error: bad\n'],
    ['an error without a final newline', 2, '', 'error: bad'],
    ['no output', 0, '', ''],
    ['bare NaN in JSON', 0, '{"value":NaN}\n', ''],
    ['JSON on two lines', 0, '{"a":1}\n{"a":2}\n', ''],
    ['an error line with status 0', 0, '{"a":1}\n', 'error: bad\n'],
    ['status 1 outside check and --strict', 1, '{"a":1}\n', ''],
    ['another status', 3, '', ''],
  ])('rejects %s', (_what, status, out, err) => {
    expect(judge(status, out, err)).not.toBeNull();
  });
});

describe('CLI: random strings as the expression', () => {
  it('every string is a result or a user error, given as EXPR, after --, or on standard input', async () => {
    await fc.assert(
      fc.asyncProperty(randomString, fc.constantFrom('argument', 'after --', 'stdin'), async (expr, how) => {
        const at = ['--at', 'x=1,2,3', '--json'];
        if (how === 'argument') await expectContract({ args: [expr, ...at] });
        else if (how === 'after --') await expectContract({ args: [...at, '--', expr] });
        else await expectContract({ args: at, stdin: expr });
      }),
      runs(0x5eed01, BUDGETS.strings),
    );
  });
});

describe('CLI: mutations of valid expressions', () => {
  it.each(VALID_EXPRESSIONS)('the unmutated %s gives a result', async (expr) => {
    const run = await runCli({ args: [...STANDARD_AT, '--json', '--', expr] });
    expect([run.status, run.err]).toEqual([0, '']);
    expect(() => JSON.parse(run.out) as unknown).not.toThrow();
  });

  it('one to four edits (delete, insert, replace, duplicate, swap tokens) give a result or a user error', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedExpression, fc.constantFrom(...COMMANDS), async ({ text }, command) => {
        await expectContract(
          commandCase(text, command, command === 'jvp' || command === 'hvp' ? 6 : 4, ['1,2,3', '0.5', '[[1,2],[3,4]]']),
        );
      }),
      runs(0x5eed02, BUDGETS.mutations),
    );
  });
});

describe('CLI: expressions from the grammar', () => {
  const atValues = fc.tuple(fc.constantFrom(...X_VALUES), fc.constantFrom(...Y_VALUES), fc.constantFrom(...M_VALUES));
  const extras = fc.subarray(['--sparse', '--strict', '--allow-nonfinite', '--mode=forward', '--mode=reverse'], {
    maxLength: 2,
  });

  it('random operators, functions, indices, ranges and literals at random values give a result or a user error', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        grammarExpression(4),
        fc.constantFrom(...COMMANDS),
        fc.constantFrom(1, 2, 3, 4, 6, 9),
        atValues,
        extras,
        async (expr, command, seedLength, at, extra) => {
          const c = commandCase(
            expr,
            command,
            seedLength,
            at,
            command === 'jac' ? extra : extra.filter((f) => f !== '--sparse'),
          );
          await expectContract(c, statuses);
        },
      ),
      runs(0x5eed03, BUDGETS.grammar),
    );
    // The grammar must reach the engine, not only the error paths (more than 1 case in 16).
    expect(statuses.get(0) ?? 0).toBeGreaterThan(casesOf(BUDGETS.grammar) / 16);
  });
});

describe('CLI: well-shaped expressions at special points, every command, mode and output format', () => {
  it('expressions of the typed generator at 0, -0, subnormals, 1e308, poles and ties give a result or a user error', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(typedCase(3), async (c) => {
        await expectContract(c, statuses);
      }),
      runs(0x5eed09, BUDGETS.typed),
    );
    // Most of these reach a result: the special points are exercised, not refused.
    expect(statuses.get(0) ?? 0).toBeGreaterThan(casesOf(BUDGETS.typed) / 2);
  });
});

describe('CLI: random values and flags', () => {
  const expr = fc.oneof(fc.constantFrom(...VALID_EXPRESSIONS), fc.constantFrom('x', 'x*y', 'W*x', 'sum(x)', 'z'));
  const command = fc.constantFrom<readonly string[]>(
    [],
    ['jac'],
    ['vjp'],
    ['jvp'],
    ['grad'],
    ['hessian'],
    ['hvp'],
    ['check'],
  );

  it('random --at bindings (lists, arrays, ragged, deep, non-finite words, files, garbage) give a result or a user error', async () => {
    await fc.assert(
      fc.asyncProperty(
        command,
        expr,
        fc.array(atBinding, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (cmd, e, bindings, allow) => {
          await expectContract({
            args: [
              ...cmd,
              ...bindings.flatMap((b) => ['--at', b]),
              '--json',
              ...(allow ? ['--allow-nonfinite'] : []),
              '--',
              e,
            ],
          });
        },
      ),
      runs(0x5eed04, BUDGETS.bindings),
    );
  });

  it('random flags of the real flag set give a result or a user error', async () => {
    await fc.assert(
      fc.asyncProperty(
        command,
        expr,
        fc.array(randomFlag, { maxLength: 6 }),
        fc.boolean(),
        async (cmd, e, flags, withExpr) => {
          await expectContract({
            args: [...cmd, ...flags.flat(), ...(withExpr ? ['--', e] : [])],
            stdin: withExpr ? '' : e,
          });
        },
      ),
      runs(0x5eed05, BUDGETS.flags),
    );
  });

  it('random JSON on standard input (expr, at, wrt, v, u) gives a result or a user error', async () => {
    const piped = fc.record(
      {
        expr: fc.oneof(expr, randomString, jsonish),
        at: fc.oneof(
          fc.dictionary(fc.constantFrom('x', 'y', 'M', 'W', 'z', '__proto__', 'constructor'), jsonish, { maxKeys: 3 }),
          jsonish,
        ),
        wrt: fc.oneof(fc.array(fc.constantFrom('x', 'y', 'M', 'z', '', 'toString'), { maxLength: 3 }), jsonish),
        v: jsonish,
        u: jsonish,
      },
      { requiredKeys: ['expr'] },
    );
    await fc.assert(
      fc.asyncProperty(command, piped, fc.array(randomFlag, { maxLength: 2 }), async (cmd, input, flags) => {
        await expectContract({ args: [...cmd, '--json', ...flags.flat()], stdin: jsonText(input) });
      }),
      runs(0x5eed06, BUDGETS.piped),
    );
  });

  it('random JSON Lines in a batch give one JSON line each, never an internal error', async () => {
    const line = fc.oneof(
      jsonish.map(jsonText),
      fc.record({ x: jsonish, y: jsonish }, { requiredKeys: [] }).map(jsonText),
      fc.record({ at: fc.record({ x: jsonish }), v: jsonish, u: jsonish }, { requiredKeys: ['at'] }).map(jsonText),
      randomString,
    );
    await fc.assert(
      fc.asyncProperty(command, expr, fc.array(line, { maxLength: 6 }), async (cmd, e, lines) => {
        await expectContract({ args: [...cmd, '--batch', '-', '--at', 'y=2', '--', e], stdin: lines.join('\n') });
      }),
      runs(0x5eed07, BUDGETS.batch),
    );
  });
});

describe('library: random expressions and values', () => {
  /** A name's value: mostly of the shape the expressions expect, sometimes special numbers, the wrong shape or not numbers at all. */
  const value = (proper: readonly unknown[]) =>
    fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...proper) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(0.5, [1, 2], [[1, 2, 3]], 'NaN', []) },
      { weight: 1, arbitrary: jsonish },
    );
  const values = fc.record(
    {
      x: value([
        [1, 2, 3],
        [0, 0, 0],
        [-1, 1e-320, 1e308],
        [-0, 2, 'Infinity'],
      ]),
      y: value([0.5, 0, -0, 2, 1e308, -1, 'NaN']),
      M: value([
        [
          [1, 2],
          [3, 4],
        ],
        [
          [0, 0],
          [0, 0],
        ],
        [
          [1, 2],
          [2, 4],
        ],
      ]),
      z: jsonish,
    },
    { requiredKeys: ['x', 'y', 'M'] },
  );
  const options = fc.record(
    {
      wrt: fc.array(fc.constantFrom('x', 'y', 'M', 'z', ''), { maxLength: 3 }),
      mode: fc.constantFrom<Mode>('auto', 'reverse', 'forward'),
      maxMemoryBytes: fc.constantFrom(0, 1, 100, 1e12, -1, Number.NaN),
    },
    { requiredKeys: [] },
  );
  const seed = fc.array(fc.oneof(fc.double(), fc.constantFrom(0, 1, -1)), { maxLength: 10 });
  const expression = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...VALID_EXPRESSIONS) },
    { weight: 2, arbitrary: grammarExpression(3) },
    { weight: 1, arbitrary: mutatedExpression.map((m) => m.text) },
    { weight: 1, arbitrary: randomString },
  );
  const call = fc.constantFrom('jacobian', 'vjp', 'jvp', 'grad', 'hessian', 'hvp', 'check');

  it('jacobian, vjp, jvp, grad, hessian, hvp and check return or throw a UserError', () => {
    let returned = 0;
    fc.assert(
      fc.property(call, expression, values, options, seed, (fn, expr, rawAt, opts, s) => {
        // Deliberately outside the types: the library must refuse what a JavaScript caller may pass.
        const at = rawAt as Values;
        const o = opts as Options;
        let result: unknown;
        try {
          switch (fn) {
            case 'jacobian':
              result = jacobian(expr, at, o).jacobian;
              break;
            case 'vjp':
              result = vjp(expr, at, s, o).vjp;
              break;
            case 'jvp':
              result = jvp(expr, at, s, o).jvp;
              break;
            case 'grad':
              result = grad(expr, at, o).grad;
              break;
            case 'hessian':
              result = hessian(expr, at, o).hessian;
              break;
            case 'hvp':
              result = hvp(expr, at, s, o).hvp;
              break;
            case 'check':
              result = check(expr, at, o).numeric;
              break;
          }
        } catch (error) {
          if (error instanceof UserError) return;
          throw new Error(
            `${fn}(${JSON.stringify(expr)}, ${jsonText(at)}, ${fn.endsWith('vp') ? `${jsonText(s)}, ` : ''}${jsonText(o)}) threw ${String(error)}`,
          );
        }
        returned++;
        expect(Array.isArray(result)).toBe(true);
      }),
      runs(0x5eed08, BUDGETS.library),
    );
    expect(returned).toBeGreaterThan(casesOf(BUDGETS.library) / 50);
  });
});

describe('resource limits', () => {
  /** A refusal of work that would exceed a limit: too deep, too long, too large to hold or to print. */
  const LIMIT = /^error: (expression nested too deeply|.* more than the limit of |.* too many to print)/;

  /**
   * The case, with --stats: a result or a user error, and bounded by its effect, not by the clock. A
   * result's graph grows at most linearly with the text (by default, at most two nodes per character) and
   * takes one pass; a refusal is a limit, refused before the work.
   */
  async function bounded(c: CliCase, maxNodes?: number): Promise<number> {
    const end = c.args.indexOf('--');
    const args = end < 0 ? [...c.args, '--stats'] : [...c.args.slice(0, end), '--stats', ...c.args.slice(end)];
    const withStats = { ...c, args };
    const run = await runCli(withStats);
    const problem = contractViolation(withStats, run);
    if (problem !== null) throw new Error(problem);
    const expr = end < 0 ? (c.stdin ?? '') : c.args[end + 1]!;
    if (run.status === 0) {
      const line = run.err.split('\n').find((l) => l.startsWith('{'));
      const stats = JSON.parse(line ?? 'null') as { nodes: number; passes?: number };
      expect(stats.nodes).toBeLessThanOrEqual(maxNodes ?? 2 * expr.length);
      expect(stats.passes ?? 1).toBeLessThanOrEqual(1);
    } else {
      expect(run.err).toMatch(LIMIT);
    }
    return run.status;
  }
  const deep = (n: number, open: string, inner: string, close: string) => open.repeat(n) + inner + close.repeat(n);

  it.each([
    ['10 000 nested parentheses', deep(10_000, '(', 'x', ')')],
    ['10 000 nested calls sin(sin(…))', deep(10_000, 'sin(', 'x', ')')],
    ['a literal [[[…]]] 10 000 deep', deep(10_000, '[', 'x', ']')],
    ['10 000 nested indices x[x[…]]', deep(10_000, 'x[', '1', ']')],
    ['10 000 unary minuses', `${'-'.repeat(10_000)}x`],
    ['10 000 nested ternaries', `${'x > 0 ? x : '.repeat(10_000)}x`],
  ])('%s: a result with a graph no larger than the text, or a limit', async (_what, expr) => {
    for (const limit of [[], ['--max-expr-length', '1000000']]) {
      expect([0, 2]).toContain(await bounded({ args: ['--at', 'x=1', '--json', ...limit, '--', expr] }));
    }
  });

  it('a 1 MB expression x+x+…: refused by its length, as EXPR and on standard input', async () => {
    const expr = `${'x+'.repeat(500_000)}x`;
    expect(await bounded({ args: ['--at', 'x=1', '--json', '--', expr] })).toBe(2);
    expect(await bounded({ args: ['--at', 'x=1', '--json'], stdin: expr })).toBe(2);
    expect(
      await bounded({ args: ['--at', 'x=1', '--json', '--', `${'(x+'.repeat(250_000)}x${')'.repeat(250_000)}`] }),
    ).toBe(2);
    // With the limit raised, a fifth of it is computed: long-input.test.ts, with its graph and passes counted.
  });

  it('a 100 000-element --at list: the full Jacobian is refused, the gradient of a sum is computed', async () => {
    const list = Array.from({ length: 100_000 }, (_, i) => i % 7).join(',');
    expect(await bounded({ args: ['--at', `x=${list}`, '--json', '--', 'x'] })).toBe(2);
    expect(await bounded({ args: ['--at', `x=${list}`, '--json', '--', 'x.^2'] })).toBe(2);
    // The graph is one of vectors: a handful of nodes, whatever the length of x.
    expect(await bounded({ args: ['grad', '--at', `x=${list}`, '--json', '--', 'sum(x.^2)'] }, 20)).toBe(0);
    expect(await bounded({ args: ['vjp', '--at', `x=${list}`, '--v', list, '--json', '--', 'sin(x)'] }, 20)).toBe(0);
    expect(await bounded({ args: ['--at', `x=[${list}]`, '--json', '--', 'sum(x)'] }, 20)).toBe(0);
  });
});

describe('fuzz regressions (fixtures/fuzz-regressions.jsonl)', () => {
  interface Regression {
    readonly args: readonly string[];
    readonly stdin?: string;
    readonly note: string;
  }
  const cases = readFileSync(new URL('../fixtures/fuzz-regressions.jsonl', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Regression);

  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases.map((c) => [c.note, c] as const))('%s', async (_note, c) => {
    await expectContract({ args: c.args, ...(c.stdin === undefined ? {} : { stdin: c.stdin }) });
  });
});
