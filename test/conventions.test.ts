/**
 * SPEC §6, row by row: the exact derivative at each non-differentiable point,
 * the same in reverse and forward mode, with the warning that names it.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import * as api from '../src/api.js';
import { fakeIo } from './helpers/cli.js';
import { compileAt } from './helpers/compile.js';

interface Row {
  readonly name: string;
  readonly expr: string;
  readonly at: Record<string, unknown>;
  readonly wrt?: readonly string[];
  /** J row-major, exactly. */
  readonly jacobian: readonly number[];
  /** Expected warnings as [kind, source], in order. */
  readonly warnings: readonly (readonly [string, string])[];
}

const ROWS: readonly Row[] = [
  {
    name: 'abs at 0',
    expr: 'abs(x)',
    at: { x: [0, 2, -3] },
    jacobian: [0, 0, 0, 0, 1, 0, 0, 0, -1],
    warnings: [['kink', 'abs(x)']],
  },
  { name: 'sign', expr: 'sign(x)', at: { x: [0, 2] }, jacobian: [0, 0, 0, 0], warnings: [['threshold', 'sign(x)']] },
  {
    name: 'a comparison at its threshold',
    expr: 'x >= 1 ? 2 * x : 0',
    at: { x: 1 },
    jacobian: [2],
    warnings: [['threshold', 'x >= 1']],
  },
  {
    name: 'floor at an integer',
    expr: 'floor(x)',
    at: { x: [2, 2.5] },
    jacobian: [0, 0, 0, 0],
    warnings: [['threshold', 'floor(x)']],
  },
  {
    name: 'round at a half',
    expr: 'round(x)',
    at: { x: [0.5, 0.7] },
    jacobian: [0, 0, 0, 0],
    warnings: [['threshold', 'round(x)']],
  },
  {
    name: 'sqrt at 0',
    expr: 'sqrt(x)',
    at: { x: [0, 4] },
    jacobian: [Infinity, 0, 0, 0.25],
    warnings: [['infinite', 'sqrt(x)']],
  },
  {
    name: 'max(a, b) with a tie',
    expr: 'max(a, b)',
    at: { a: 2, b: 2 },
    jacobian: [0.5, 0.5],
    warnings: [['tie', 'max(a, b)']],
  },
  {
    name: 'min(a, b) with a tie',
    expr: 'min(a, b)',
    at: { a: [1, 3], b: [1, 2] },
    jacobian: [0.5, 0, 0.5, 0, 0, 0, 0, 1],
    warnings: [['tie', 'min(a, b)']],
  },
  {
    name: 'max(x) with ties',
    expr: 'max(x)',
    at: { x: [1, 3, 3] },
    jacobian: [0, 0.5, 0.5],
    warnings: [['tie', 'max(x)']],
  },
  {
    name: 'min(x) with ties',
    expr: 'min(x)',
    at: { x: [2, 2, 2, 5] },
    jacobian: [1 / 3, 1 / 3, 1 / 3, 0],
    warnings: [['tie', 'min(x)']],
  },
  {
    name: 'norm at the zero vector',
    expr: 'norm(x)',
    at: { x: [0, 0, 0] },
    jacobian: [0, 0, 0],
    warnings: [['kink', 'norm(x)']],
  },
  { name: 'x.^y, ∂/∂x at x = 0, y = 2', expr: 'x .^ 2', at: { x: 0 }, jacobian: [0], warnings: [['kink', 'x .^ 2']] },
  {
    name: 'x.^y, ∂/∂x at x = 0, y = 0.5',
    expr: 'x .^ 0.5',
    at: { x: 0 },
    jacobian: [Infinity],
    warnings: [['infinite', 'x .^ 0.5']],
  },
  {
    name: 'x.^y, ∂/∂x where y = 0',
    expr: 'x .^ y',
    at: { x: 0, y: 0 },
    wrt: ['x'],
    jacobian: [0],
    warnings: [['kink', 'x .^ y']],
  },
  {
    name: 'x.^y, ∂/∂y at x = 0, y ≥ 0',
    expr: 'x .^ y',
    at: { x: 0, y: 2 },
    jacobian: [0, 0],
    warnings: [['kink', 'x .^ y']],
  },
  {
    name: 'x.^y at 0^0: both partials 0',
    expr: 'x .^ y',
    at: { x: 0, y: 0 },
    jacobian: [0, 0],
    warnings: [['kink', 'x .^ y']],
  },
  {
    name: 'nthRoot(x, r) at x = 0 with r < 0: both partials are their infinite limits',
    expr: 'nthRoot(x, r)',
    at: { x: 0, r: -2 },
    jacobian: [-Infinity, Infinity],
    warnings: [['infinite', 'nthRoot(x, r)']],
  },
  {
    name: 'x.^y, ∂/∂y away from 0',
    expr: 'x .^ y',
    at: { x: 2, y: 3 },
    wrt: ['y'],
    jacobian: [8 * Math.log(2)],
    warnings: [],
  },
  {
    name: 'x.^y with x < 0 and y not an integer',
    expr: 'x .^ y',
    at: { x: -2, y: 0.5 },
    jacobian: [NaN, NaN],
    warnings: [['domain', 'x .^ y']],
  },
  {
    name: 'cond ? a : b, the other branch contributes exactly 0',
    expr: 'x > -1 ? 3 * x : sqrt(x)',
    at: { x: 0 },
    jacobian: [3],
    warnings: [],
  },
  {
    name: 'a structural zero next to sqrt(0) stays 0',
    expr: '[sqrt(x[1]), 2 * x[2]]',
    at: { x: [0, 1] },
    jacobian: [Infinity, 0, 0, 2],
    warnings: [['infinite', 'sqrt(x[1])']],
  },
];

describe('derivative conventions (SPEC §6)', () => {
  describe.each(ROWS)('$name: $expr', (row) => {
    const { program, point } = compileAt(row.expr, row.at);
    const wrt = row.wrt ?? Object.keys(row.at);

    it.each(['reverse', 'forward'] as const)('%s mode gives the exact entries and the warning', (mode) => {
      const result = program.jacobian(point, wrt, { mode });
      expect(Array.from(result.jacobian)).toEqual(row.jacobian);
      expect(result.warnings.map((w) => [w.kind, w.source])).toEqual(row.warnings);
    });
  });

  it('writes Infinity as the SPEC string in JSON and marks the entry in the table', async () => {
    const run = async (args: string[]) => {
      const io = fakeIo();
      await main(args, io);
      return io.out();
    };
    const json = JSON.parse(await run(['sqrt(x)', '--at', '0,4', '--json'])) as {
      jacobian: unknown;
      warnings: { kind: string; entries: unknown }[];
    };
    expect(json.jacobian).toEqual([
      ['Infinity', 0],
      [0, 0.25],
    ]);
    expect(json.warnings).toMatchObject([{ kind: 'infinite', entries: [[0, 0]] }]);
    const table = await run(['sqrt(x)', '--at', '0,4']);
    expect(table).toContain('Infinity*');
    expect(table).toContain('* infinite in sqrt(x) (1 entry)');
  });

  it('--strict turns a warning into exit status 1', async () => {
    const io = fakeIo();
    expect(await main(['abs(x)', '--at', '0', '--strict'], io)).toBe(1);
    expect(await main(['abs(x)', '--at', '1', '--strict'], io)).toBe(0);
  });
});

describe('domain errors in constants warn as on variables (issue 13 item 11)', () => {
  // Each pair: the constant form, and the same with the constant given as y (differentiated for x only).
  const PAIRS: readonly (readonly [string, string, number])[] = [
    ['sqrt(-4) + x', 'sqrt(y) + x', -4],
    ['log(-1) * x', 'log(y) * x', -1],
    ['sqrt(-4) + 1 + x', 'sqrt(y) + 1 + x', -4],
    ['c = asin(-2); c + 2*c + x', 'c = asin(y); c + 2*c + x', -2],
    ['sum([1, x] .* log(-3))', 'sum([1, x] .* log(y))', -3],
  ];
  const withoutSource = (warnings: readonly { readonly source: string }[]) =>
    warnings.map(({ source: _source, ...rest }) => rest);

  it.each(PAIRS)('%s reports what %s reports', (constant, variable, y) => {
    const folded = api.jacobian(constant, { x: 1 });
    const given = api.jacobian(variable, { x: 1, y }, { wrt: ['x'] });
    expect(folded.warnings.length).toBeGreaterThan(0);
    expect(withoutSource(folded.warnings)).toEqual(withoutSource(given.warnings));
    expect(folded.jacobian).toEqual(given.jacobian);
  });

  it('the CLI prints the same report for both, in the table and beside JSON', async () => {
    const run = async (argv: readonly string[]) => {
      const io = fakeIo();
      expect(await main([...argv], io)).toBe(0);
      return { out: io.out().replaceAll('sqrt(y)', 'sqrt(-4)'), err: io.err().replaceAll('sqrt(y)', 'sqrt(-4)') };
    };
    for (const json of [[], ['--json']]) {
      const folded = await run(['sqrt(-4) + x', '--at', 'x=1', ...json]);
      const given = await run(['sqrt(y) + x', '--at', 'x=1', '--at', 'y=-4', '--wrt', 'x', ...json]);
      expect(folded.out + folded.err).toMatch(/domain.*sqrt\(-4\).*outside the domain/);
      if (json.length === 0) expect(folded.out.replace(/^J = .*$/m, '')).toBe(given.out.replace(/^J = .*$/m, ''));
      expect(folded.err).toBe(given.err);
    }
  });

  it('a branch not taken, a NaN literal and an unused intermediate do not warn', () => {
    expect(api.jacobian('x > 0 ? x : sqrt(-1)', { x: 1 }).warnings).toEqual([]);
    expect(api.jacobian('NaN + x', { x: 1 }).warnings).toEqual([]);
    expect(api.jacobian('a = sqrt(-1); NaN + x', { x: 1 }).warnings).toEqual([]);
  });
});
