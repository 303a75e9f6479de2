/**
 * The batch's lane (cli/batch-lane.ts, engine/runner.ts): after a flat request's first point, its J, ∇f, vᵀJ or
 * J·u come from a runner of compiled passes that skips the general path's per-call work. Every line must be what the
 * general path writes for it alone, to the byte: points it hands back (a NaN value, an infinite J, a kink), keys
 * that change, a fixed value a line overrides, a program per value.
 */
import { describe, expect, it, vi } from 'vitest';
import { PointLane } from '../src/cli/batch-lane.js';
import { compileProgram } from '../src/compile.js';
import { COMPILE_AFTER } from '../src/engine/compiled.js';
import { runInProcess } from './helpers/cli.js';
import { prng } from './helpers/numeric.js';

interface Scenario {
  readonly name: string;
  readonly args: readonly string[];
  /** Whether a lane serves points (else the general path serves them all, the lane dropped at once if made). */
  readonly lane: boolean;
  /** The line of point k of the batch (k from 0). */
  readonly line: (k: number, random: () => number) => string;
}

const POINTS = 300;
/** Where the special lines go: well into the lane. */
const SPECIAL = 100;

const uniform = (random: () => number, low: number, high: number): number => low + (high - low) * random();

/** A random point, but x = 1e200 at SPECIAL: x·x overflows, and a seed's zero meets its infinite partial. */
const xyzOrOverflow = (k: number, random: () => number): string =>
  k === SPECIAL
    ? JSON.stringify({ x: 1e200, y: 1, z: 1 })
    : JSON.stringify({ x: uniform(random, -2, 2), y: uniform(random, -2, 2), z: uniform(random, -2, 2) });

const scenarios: readonly Scenario[] = [
  {
    name: 'Lorenz, fixed values, a run of lines that override one, and lines of other keys',
    lane: true,
    args: ['[s*(y-x), x*(r-z)-y, x*y-b*z]', '--at', 's=10', '--at', 'r=28', '--at', 'b=2.6667', '--wrt', 'x,y,z'],
    line: (k, random) => {
      const [x, y, z] = [uniform(random, -10, 10), uniform(random, -10, 10), uniform(random, 0, 40)];
      // Not flat: the general path writes s = 5 into the plan, which the next flat line's lane must not keep.
      if (k === SPECIAL) return JSON.stringify({ at: { x, y, z, s: 5 } });
      if (k >= SPECIAL + 2 && k < SPECIAL + 7) return JSON.stringify({ x, y, z, s: 5 });
      if (k === SPECIAL + 7) return JSON.stringify({ z, y, x });
      if (k === SPECIAL + 8) return JSON.stringify({ x: 1e308, y: 1e308, z });
      return JSON.stringify({ x, y, z });
    },
  },
  {
    name: 'a NaN value and an infinite J hand points back to the general path',
    lane: true,
    // No differentiated operation with special points: a NaN comes from ∞ − ∞, an infinite J from x² overflowing.
    args: ['[x*y - y*x, x*x*y, x + y + log(c)]', '--at', 'c=2', '--wrt', 'x,y'],
    line: (k, random) => {
      // log(c) is not differentiated: its NaN warns only through the value.
      if (k >= SPECIAL + 3 && k < SPECIAL + 6)
        return JSON.stringify({ x: random(), y: random(), c: k === SPECIAL + 4 ? -1 : 2 });
      if (k === SPECIAL) return JSON.stringify({ x: 1e200, y: 1e200 });
      if (k === SPECIAL + 1) return JSON.stringify({ x: 1e200, y: 1 });
      if (k === SPECIAL + 2) return JSON.stringify({ x: 1e300, y: 1e10 });
      return JSON.stringify({ x: uniform(random, 0.5, 4), y: uniform(random, 0.5, 4) });
    },
  },
  {
    name: 'forward mode, more outputs than inputs',
    lane: true,
    args: ['[x, y, x*y, sin(x) * cos(y)]', '--mode', 'forward'],
    line: (_k, random) => JSON.stringify({ x: uniform(random, -3, 3), y: uniform(random, -3, 3) }),
  },
  {
    name: 'a program per value of an index',
    lane: true,
    args: ['[x*y, y*z, z*x][k] + x*x', '--wrt', 'x,y,z'],
    line: (k, random) =>
      JSON.stringify({ x: uniform(random, -2, 2), y: uniform(random, -2, 2), z: random(), k: 1 + (k % 3) }),
  },
  {
    name: 'gradients, with a fixed value a line overrides',
    lane: true,
    args: ['grad', 'x*y*z + c*x*x*x', '--at', 'c=0.5', '--wrt', 'x,y,z'],
    line: (k, random) => {
      const [x, y, z] = [uniform(random, -2, 2), uniform(random, -2, 2), uniform(random, -2, 2)];
      if (k === SPECIAL) return JSON.stringify({ at: { x, y, z, c: 5 } });
      if (k === SPECIAL + 2) return JSON.stringify({ x: 1e200, y: 1e200, z });
      return JSON.stringify({ x, y, z });
    },
  },
  {
    name: 'vector-Jacobian products of a matrix-valued output',
    lane: true,
    args: ['vjp', '[x*x*y, y*z; z*x, x+y+z]', '--v', '0,-2,0.5,3'],
    line: (k, random) => xyzOrOverflow(k, random),
  },
  {
    name: 'Jacobian-vector products',
    lane: true,
    args: ['jvp', '[x*x*y, sin(x) * z, x - z]', '--u', '0.5,0,2'],
    line: (k, random) => xyzOrOverflow(k, random),
  },
  {
    name: 'kinks and ties: the point at one, with its warnings, from the general path',
    lane: true,
    args: ['[abs(x) * y, max(x, y), sqrt(y) + x^2]'],
    line: (k, random) =>
      k === SPECIAL ? JSON.stringify({ x: 0, y: 0 }) : JSON.stringify({ x: uniform(random, -1, 1), y: random() }),
  },
  {
    name: 'a matrix product: passes without a straight-line form, the lane dropped',
    lane: false,
    args: ['[a, b; c, d] * [x; y]', '--at', 'a=1', '--at', 'b=2', '--at', 'c=-1', '--at', 'd=0.5', '--wrt', 'x,y'],
    line: (_k, random) => JSON.stringify({ x: uniform(random, -3, 3), y: uniform(random, -3, 3) }),
  },
];

describe('the lane of a batch', () => {
  for (const [index, scenario] of scenarios.entries()) {
    it(`writes each line as the general path does: ${scenario.name}`, async () => {
      const random = prng(17 + index);
      const lines = Array.from({ length: POINTS }, (_, k) => scenario.line(k, random));
      const report = vi.spyOn(PointLane.prototype, 'report');
      const batch = await runInProcess([...scenario.args, '--batch', '-', '--jobs', '1'], {
        stdin: `${lines.join('\n')}\n`,
      });
      const served = report.mock.results.filter(({ value }) => value !== null).length;
      if (scenario.lane) expect(served).toBeGreaterThan(POINTS / 4);
      else expect([served, report.mock.calls.length <= 1]).toEqual([0, true]);
      report.mockRestore();
      expect(batch.stderr).toBe('');
      const written = batch.stdout.split('\n');
      expect(written).toHaveLength(POINTS + 1);
      // Alone, a line is a flat request's first point: the general path's.
      const checked = [0, 1, 2];
      for (let k = SPECIAL - 2; k < SPECIAL + 10; k++) checked.push(k);
      for (let k = 0; k < 12; k++) checked.push(Math.floor(random() * POINTS));
      for (const k of checked) {
        const alone = await runInProcess([...scenario.args, '--batch', '-', '--jobs', '1'], {
          stdin: `${lines[k]!}\n`,
        });
        expect(written[k], `line ${k + 1}: ${lines[k]!}`).toBe(alone.stdout.slice(0, -1));
      }
    });
  }
});

describe('the lane with line numbers and as CSV', () => {
  const lorenz = scenarios[0]!;
  /** A line's text without its line number: `{"line":7,` or the CSV row's first cell. */
  const unnumbered = (text: string): string => text.replace(/^\{"line":\d+,/, '{').replace(/^\d+,/, '');

  for (const format of [
    ['--shard', '0/1'],
    ['--format', 'csv'],
  ]) {
    it(`writes each point as the general path does, with ${format.join(' ')}`, async () => {
      const random = prng(29);
      const lines = Array.from({ length: POINTS }, (_, k) => lorenz.line(k, random));
      const args = [...lorenz.args, ...format, '--batch', '-', '--jobs', '1'];
      const batch = await runInProcess(args, { stdin: `${lines.join('\n')}\n` });
      const written = batch.stdout.split('\n');
      const csv = format[0] === '--format';
      for (const k of [0, 1, 2, SPECIAL - 1, SPECIAL + 1, POINTS - 1]) {
        const alone = await runInProcess(args, { stdin: `${lines[k]!}\n` });
        const expected = alone.stdout.split('\n')[csv ? 1 : 0]!;
        const found = written.find((text) => text.startsWith(csv ? `${k + 1},` : `{"line":${k + 1},`));
        expect(found, `line ${k + 1}`).toBeDefined();
        expect(unnumbered(found!), `line ${k + 1}: ${lines[k]!}`).toBe(unnumbered(expected));
      }
    });
  }
});

describe('Program.jacobianRunner and vectorRunner', () => {
  const lorenz = () =>
    compileProgram(
      '[s*(y-x), x*(r-z)-y, x*y-b*z]',
      new Map(['s', 'r', 'b', 'x', 'y', 'z'].map((name) => [name, { shape: [] }])),
    );
  const at = new Map(['s', 'r', 'b', 'x', 'y', 'z'].map((name, k) => [name, Float64Array.of(k + 0.5)]));

  it('is made only after a jacobian call with the same names, for one-hot passes', () => {
    const program = lorenz();
    expect(program.jacobianRunner(['x', 'y', 'z'])).toBeNull();
    program.jacobian(at, ['x', 'y', 'z']);
    expect(program.jacobianRunner(['x', 'y'])).toBeNull();
    expect(program.jacobianRunner(['x', 'y', 'z'])).not.toBeNull();
    // Above SMALL_JACOBIAN_ENTRIES, auto takes a block pass.
    const wide = compileProgram('x .* 2', new Map([['x', { shape: [17] }]]));
    const x = new Map([['x', new Float64Array(17).fill(1)]]);
    wide.jacobian(x, ['x']);
    expect(wide.jacobianRunner(['x'])).toBeNull();
    expect(wide.jacobianRunner(['x'], { method: 'one-hot' })).not.toBeNull();
  });

  it('hands back a point at a kink or a tie, where the call reports warnings', () => {
    const kinked = compileProgram('abs(x) * y + max(x, y)', new Map(['x', 'y'].map((name) => [name, { shape: [] }])));
    const point = (x: number, y: number) =>
      new Map([
        ['x', Float64Array.of(x)],
        ['y', Float64Array.of(y)],
      ]);
    kinked.jacobian(point(1, 2), ['x', 'y']);
    const runner = kinked.jacobianRunner(['x', 'y'])!;
    for (const [x, y] of [
      [1, 2],
      [0, 2],
      [-1, 3],
      [2, 2],
      [0.5, -4],
    ] as const) {
      runner.inputs.forEach((input, k) => input?.set(point(x, y).get(kinked.variables[k]!.name)!));
      const warned = kinked.jacobian(point(x, y), ['x', 'y']).warnings.length > 0;
      runner.inputs.forEach((input, k) => input?.set(point(x, y).get(kinked.variables[k]!.name)!));
      expect(runner.run(), `at (${x}, ${y})`).toBe(!warned);
    }
  });

  it('gives vᵀJ, ∇f and J·u as vjp, grad and jvp do, and is made only for a seed of the right length', () => {
    const program = lorenz();
    const wrt = ['x', 'y', 'z'];
    const v = Float64Array.of(1, -2, 0.5);
    const u = Float64Array.of(0.25, 1, -3);
    program.vjp(at, v, wrt);
    expect(program.vectorRunner('reverse', Float64Array.of(1, 2), wrt)).toBeNull();
    expect(program.vectorRunner('forward', Float64Array.of(1, 2), wrt)).toBeNull();
    const backward = program.vectorRunner('reverse', v, wrt)!;
    const forward = program.vectorRunner('forward', u, wrt)!;
    const scalar = compileProgram('x*y*z + sin(x)', new Map(['x', 'y', 'z'].map((name) => [name, { shape: [] }])));
    scalar.grad(at, wrt);
    const gradient = scalar.vectorRunner('reverse', Float64Array.of(1), wrt)!;
    const random = prng(11);
    for (let k = 0; k < 50; k++) {
      const point = new Map(
        [...at].map(([name]) => [name, Float64Array.of(uniform(random, -10, 10))] as [string, Float64Array]),
      );
      for (const [runner, of] of [
        [backward, program],
        [forward, program],
        [gradient, scalar],
      ] as const) {
        of.variables.forEach(({ name }, i) => runner.inputs[i]?.set(point.get(name)!));
        expect(runner.run()).toBe(true);
      }
      const values = [Array.from(backward.value), Array.from(gradient.value)];
      const expected = [program.vjp(point, v, wrt), program.jvp(point, u, wrt), scalar.grad(point, wrt)] as const;
      expect(Array.from(backward.vector)).toEqual(Array.from(expected[0].vjp));
      expect(Array.from(forward.vector)).toEqual(Array.from(expected[1].jvp));
      expect(Array.from(gradient.vector)).toEqual(Array.from(expected[2].grad));
      expect(values).toEqual([Array.from(expected[0].value), Array.from(expected[2].value)]);
    }
  });

  it('gives the numbers of jacobian at every point, its passes compiled at its first run', () => {
    const program = lorenz();
    const wrt = ['x', 'y', 'z'];
    program.jacobian(at, wrt);
    const runner = program.jacobianRunner(wrt)!;
    const random = prng(5);
    const points = 200;
    let ran = 0;
    for (let k = 0; k < points; k++) {
      const point = new Map(
        [...at].map(([name]) => [name, Float64Array.of(uniform(random, -10, 10))] as [string, Float64Array]),
      );
      program.variables.forEach(({ name }, v) => runner.inputs[v]?.set(point.get(name)!));
      if (!runner.run()) continue;
      ran++;
      // Copied first: the value lies in the plan, which the general call fills again.
      const [value, jacobian] = [Array.from(runner.value), Array.from(runner.jacobian)];
      const expected = program.jacobian(point, wrt);
      expect(jacobian).toEqual(Array.from(expected.jacobian));
      expect(value).toEqual(Array.from(expected.value));
    }
    // Not after COMPILE_AFTER passes, as a program called now and then: the runner is for many points.
    expect(points).toBeLessThan(COMPILE_AFTER);
    expect(ran).toBe(points);
  });
});
