/**
 * Compiled kernels (engine/compiled.ts): the same numbers as the interpreter
 * to the last bit (values, Jacobians in both modes, VJPs, JVPs, Hessians,
 * warnings) on the PyTorch oracle and on random expressions; the interpreter
 * wherever they cannot be used (non-finite numbers, products, size, a column
 * twice); and no user text in the generated source.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMPILE_AFTER, generated, headedSource, Kernels, MAX_COMPILED_OPERATIONS } from '../src/engine/compiled.js';
import { linearize, type WrtInput } from '../src/engine/linearize.js';
import { Passes } from '../src/engine/passes.js';
import { Plan } from '../src/engine/plan.js';
import type { Point, Program } from '../src/engine/program.js';
import { lowerExpression, parseExpression, type VariableInfo } from '../src/parse/index.js';
import { sizeOf } from '../src/shape.js';
import { tensorFromJson } from '../src/values.js';
import { compileAt } from './helpers/compile.js';
import { expressions, points, VARIABLES } from './helpers/expressions.js';
import { casesOf } from './helpers/fuzz.js';
import { firstBitDifference, prng } from './helpers/numeric.js';
import { ORACLE } from './helpers/oracle.js';

/**
 * What Program.prepare builds for `wrt` (the same tape, plan and passes), with kernels compiled at the first
 * forward pass, which has run.
 */
function compiledAt(expr: string, at: Readonly<Record<string, unknown>>, wrt: readonly string[]) {
  const tensors = new Map(Object.entries(at).map(([name, value]) => [name, tensorFromJson(value, name)]));
  const variables = new Map<string, VariableInfo>(
    [...tensors].map(([name, t]) => [name, { shape: t.shape, value: t.data }]),
  );
  const { builder, output } = lowerExpression(parseExpression(expr), variables, undefined, expr);
  let n = 0;
  const columns: WrtInput[] = wrt.map((name) => {
    const { shape, data } = tensors.get(name)!;
    const column = { node: builder.input(name, shape), offset: n, size: data.length };
    n += data.length;
    return column;
  });
  const lin = linearize(builder, output, columns);
  const plan = new Plan(builder.tape, [output, ...lin.partialNodes]);
  const passes = new Passes(plan, lin);
  for (const [name, { shape, data }] of tensors) plan.setInput(builder.input(name, shape), data);
  const m = sizeOf(builder.tape.shape(output));
  const kernels = new Kernels(plan, passes, m, n, 1);
  kernels.forward();
  return { kernels, passes, m, n, value: plan.read(output) };
}

/** The interpreter's answers: a fresh program runs far fewer than COMPILE_AFTER passes. */
function interpreted(program: Program, point: Point, wrt: readonly string[], v: number[], u: number[]) {
  return {
    reverse: program.jacobian(point, wrt, { mode: 'reverse' }),
    forward: program.jacobian(point, wrt, { mode: 'forward' }),
    vjp: program.vjp(point, v, wrt),
    jvp: program.jvp(point, u, wrt),
  };
}

const LINEAR_KINDS = new Set(['elementwise', 'select', 'row']);

describe('compiled kernels give the interpreter’s numbers to the last bit', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('on the 25 PyTorch cases, through Program: values, J in both modes, VJP, JVP and warnings', () => {
    const jacobians = vi.spyOn(Kernels.prototype, 'jacobian');
    for (const c of ORACLE) {
      const reference = compileAt(c.expr, c.at);
      const expected = interpreted(reference.program, reference.point, c.wrt, c.v, c.u);
      const { program, point } = compileAt(c.expr, c.at);
      for (let run = 0; run < COMPILE_AFTER; run++) program.vjp(point, c.v, c.wrt);
      const actual = interpreted(program, point, c.wrt, c.v, c.u);
      for (const mode of ['reverse', 'forward'] as const) {
        expect(firstBitDifference(actual[mode].jacobian, expected[mode].jacobian), `${c.id} ${mode}`).toBeNull();
        expect(firstBitDifference(actual[mode].value, expected[mode].value), c.id).toBeNull();
        expect(actual[mode].warnings, c.id).toEqual(expected[mode].warnings);
      }
      expect(firstBitDifference(actual.vjp.vjp, expected.vjp.vjp), `${c.id} vjp`).toBeNull();
      expect(firstBitDifference(actual.jvp.jvp, expected.jvp.jvp), `${c.id} jvp`).toBeNull();
    }
    // Most cases run compiled (those with products or solves keep interpreted derivative passes).
    const compiled = jacobians.mock.results.filter((r) => r.type === 'return' && r.value === true).length;
    expect(compiled).toBeGreaterThanOrEqual(30);
  });

  it('on the Hessians of the PyTorch cases (the gradient programs are compiled too)', () => {
    const cases = ORACLE.filter((c) => c.hessian !== undefined);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const reference = compileAt(c.expr, c.at);
      const expected = reference.program.hessian(reference.point, c.wrt);
      const { program, point } = compileAt(c.expr, c.at);
      for (let run = 0; run < COMPILE_AFTER; run++) program.hvp(point, c.u, c.wrt);
      const actual = program.hessian(point, c.wrt);
      expect(firstBitDifference(actual.jacobian, expected.jacobian), c.id).toBeNull();
      expect(actual.warnings, c.id).toEqual(expected.warnings);
    }
  });

  it('on random expressions of every operation, kinks and comparisons included', () => {
    const names = Object.keys(VARIABLES);
    // Counted as the fuzz tests' cases: a share in npm test, the rest in CI's fuzz run.
    const RUNS = casesOf({ test: 60, ci: 150, full: 750 });
    let compiled = 0;
    fc.assert(
      fc.property(
        expressions({ smooth: false, mathjs: false }, 3),
        points,
        fc.shuffledSubarray(names, { minLength: 1 }),
        fc.integer(),
        (e, at, wrt, seed) => {
          const random = prng(seed);
          const { program, point } = compileAt(e.text, at);
          const k = compiledAt(e.text, at, wrt);
          const v = Array.from({ length: k.m }, () => random() - 0.5);
          const u = Array.from({ length: k.n }, () => random() - 0.5);
          const expected = interpreted(program, point, wrt, v, u);
          const context = `${e.text} at ${JSON.stringify(at)} wrt ${wrt.join(',')}`;
          expect(firstBitDifference(k.value, expected.reverse.value), context).toBeNull();
          const linear = k.passes.steps.every((step) => LINEAR_KINDS.has(step.kind));
          const results = [
            ['reverse', expected.reverse.jacobian, (out: Float64Array) => k.kernels.jacobian('reverse', out)],
            ['forward', expected.forward.jacobian, (out: Float64Array) => k.kernels.jacobian('forward', out)],
            ['vjp', expected.vjp.vjp, (out: Float64Array) => k.kernels.vjp(v, out)],
            ['jvp', expected.jvp.jvp, (out: Float64Array) => k.kernels.jvp(u, out)],
          ] as const;
          for (const [what, reference, run] of results) {
            const out = new Float64Array(reference.length);
            const ok = run(out);
            // Declined only for products and solves, or for a result that is not finite (then the interpreter's
            // has a non-finite entry too, or a partial was: a zero met an infinite or NaN partial).
            if (!linear) expect(ok, context).toBe(false);
            if (ok) {
              compiled++;
              expect(firstBitDifference(out, reference), `${what}: ${context}`).toBeNull();
            }
          }
        },
      ),
      { seed: 0x0c0d_e6e7, numRuns: RUNS },
    );
    expect(compiled).toBeGreaterThan(RUNS);
  });
});

describe('the interpreter runs where compiled kernels cannot', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** After COMPILE_AFTER runs at `warm`, the answers at `at` must be the interpreter's, and whether compiled. */
  function afterWarmUp(expr: string, warm: Record<string, unknown>, at: Record<string, unknown>, wrt: string[]) {
    const reference = compileAt(expr, at);
    const expected = reference.program.jacobian(reference.point, wrt, { mode: 'reverse' });
    const jacobians = vi.spyOn(Kernels.prototype, 'jacobian');
    const { program, point: warmPoint } = compileAt(expr, warm);
    for (let run = 0; run < COMPILE_AFTER; run++) program.jacobian(warmPoint, wrt, { mode: 'reverse' });
    const actual = program.jacobian(compileAt(expr, at).point, wrt, { mode: 'reverse' });
    expect(firstBitDifference(actual.jacobian, expected.jacobian), expr).toBeNull();
    expect(firstBitDifference(actual.value, expected.value), expr).toBeNull();
    expect(actual.warnings, expr).toEqual(expected.warnings);
    const results = jacobians.mock.results.map((r) => r.value as boolean);
    return { warmCompiled: results[COMPILE_AFTER - 1], compiled: results.at(-1), warnings: actual.warnings };
  }

  it('an infinite partial (sqrt at 0, with its warning) and an infinite value fall back', () => {
    const sqrt = afterWarmUp('sqrt(x) .* sqrt(x) + x', { x: [1, 4] }, { x: [0, 4] }, ['x']);
    expect([sqrt.warmCompiled, sqrt.compiled]).toEqual([true, false]);
    expect(sqrt.warnings.length).toBeGreaterThan(0);
    // No cotangent reaches sqrt's infinite partial (sign's is 0): the interpreter still decides what it gives.
    const unreached = afterWarmUp('sign(sqrt(x)) .* x', { x: [1, 4] }, { x: [0, 4] }, ['x']);
    expect([unreached.warmCompiled, unreached.compiled]).toEqual([true, false]);
    const overflow = afterWarmUp('exp(x) .* exp(x)', { x: [1, 2] }, { x: [400, 2] }, ['x']);
    expect([overflow.warmCompiled, overflow.compiled]).toEqual([true, false]);
  });

  it('a NaN value falls back where a partial is NaN, and keeps its warning either way', () => {
    const sqrt = afterWarmUp('sqrt(x) + x.^2', { x: [1, 2] }, { x: [-1, 2] }, ['x']);
    expect([sqrt.warmCompiled, sqrt.compiled]).toEqual([true, false]);
    expect(sqrt.warnings.map((w) => w.kind)).toContain('domain');
    // log(-1) is NaN but its partial, 1/x, is not: J is finite and compiled; the warning comes from the values.
    const log = afterWarmUp('log(x) + x.^2', { x: [1, 2] }, { x: [-1, 2] }, ['x']);
    expect([log.warmCompiled, log.compiled]).toEqual([true, true]);
    expect(log.warnings.map((w) => w.kind)).toContain('domain');
  });

  it('a matrix product keeps interpreted derivative passes', () => {
    const product = afterWarmUp(
      'tanh(A*x)',
      {
        A: [
          [1, 2],
          [3, 4],
        ],
        x: [0.1, 0.2],
      },
      {
        A: [
          [1, 2],
          [3, 4],
        ],
        x: [0.3, -0.2],
      },
      ['A', 'x'],
    );
    expect([product.warmCompiled, product.compiled]).toEqual([false, false]);
  });

  it(`a program of more than ${MAX_COMPILED_OPERATIONS} operations, and a column given twice, stay interpreted`, () => {
    const x = Array.from({ length: MAX_COMPILED_OPERATIONS }, (_, k) => k / 7);
    expect(compiledAt('sum(x .* x)', { x }, ['x']).kernels.sources).toEqual([]);
    expect(compiledAt('sum(x .* x)', { x: [1, 2] }, ['x']).kernels.sources).toHaveLength(3);
    expect(compiledAt('sum(x .* x)', { x: [1, 2] }, ['x', 'x']).kernels.sources).toEqual([]);
  });
});

describe('generated source', () => {
  const PREFIX = "'use strict';\nreturn function ";
  const WORDS = new Set(
    ['forward', 'backward', 'tangent', 'const', 'let', 'for', 'return'].concat([
      'v',
      'i',
      'seed',
      'out',
      'at',
      'stride',
      'finite',
    ]),
  );

  /** The first token that is not a number, a word of the fixed vocabulary, a generated name or an operator. */
  function foreignToken(source: string): string | null {
    if (!source.startsWith(PREFIX)) return source.slice(0, PREFIX.length);
    for (const [token] of source.slice(PREFIX.length).matchAll(/\s+|[\w$]+|[^\s\w$]+/g)) {
      if (/^\s+$|^\d+$|^[xctf]\d+$/.test(token) || WORDS.has(token)) continue;
      if (!/^[()[\]{};,=+\-*<]+$/.test(token)) return token;
    }
    return null;
  }

  const HOSTILE: readonly [string, Record<string, unknown>][] = [
    ['constructor .* prototype + hasOwnProperty', { constructor: [1, 2], prototype: [3, -1], hasOwnProperty: 0.5 }],
    ['__proto__ * valueOf + toString.^2', JSON.parse('{"__proto__": 2, "valueOf": [1, 3], "toString": 0.25}')],
    [
      't = constructor .^ 2  # a"b */ \\ \' ${x} `\n__defineGetter__ = sin(t) .* prototype  # */ return 1 /*\nsum(__defineGetter__)',
      { constructor: [1, 2], prototype: [0.5, -1] },
    ],
    ['f(constructor) = constructor .^ 2 + 1\nf(x) .* max(x, __lookupGetter__)', { x: [1, -2], __lookupGetter__: 0 }],
  ];

  it.each(HOSTILE)('%s: numbers, indices and generated names only, and the interpreter’s numbers', (expr, at) => {
    const wrt = Object.keys(at);
    const k = compiledAt(expr, at, wrt);
    const { program, point } = compileAt(expr, at);
    const expected = program.jacobian(point, wrt, { mode: 'reverse' }).jacobian;
    const jacobian = new Float64Array(expected.length);
    expect(k.kernels.jacobian('reverse', jacobian)).toBe(true);
    expect(firstBitDifference(jacobian, expected)).toBeNull();
    expect(k.kernels.sources).toHaveLength(3);
    for (const source of k.kernels.sources) {
      expect(foreignToken(source), source).toBeNull();
      for (const name of wrt.filter((w) => w.length > 2)) expect(source).not.toContain(name);
    }
  });

  it('the same source with other values is compiled from another text, so that V8 keeps each call monomorphic', () => {
    const source = "'use strict';\nreturn function loop(x) {\nreturn f0(x);\n};";
    expect(generated<(x: number) => number>(source, [Math.exp])(1)).toBe(Math.exp(1));
    expect(headedSource(source, [Math.sin])).toMatch(/^\/\/ \d+\n'use strict';/);
    expect(headedSource(source, [Math.sin])).not.toBe(headedSource(source, [Math.exp]));
    expect(headedSource(source, [Math.sin])).toBe(headedSource(source, [Math.sin]));
  });

  it('the token check refuses what user text would bring', () => {
    expect(foreignToken(`${PREFIX}forward(v) {\nconst x3 = f0(v[1]);\n}`)).toBeNull();
    for (const bad of ['constructor', '"a"', '/*', '\\', '`', 'x3.constructor', 'f0("")'])
      expect(foreignToken(`${PREFIX}forward(v) { ${bad} }`), bad).not.toBeNull();
  });
});
