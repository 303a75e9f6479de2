/**
 * The batch's fast path: a flat line of numbers read without JSON.parse
 * (FlatLine), bound in place, and a dense Jacobian's line written as bytes
 * (JsonLines). Each must give what the general path gives, to the byte:
 * JSON.parse's bindings, jsonLine's text, the per-point command's --json.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlatLine } from '../src/cli/batch-line.js';
import { compileProgram } from '../src/compile.js';
import type { VariableInfo } from '../src/parse/index.js';
import { main } from '../src/cli/main.js';
import { numberJson } from '../src/format/json.js';
import { jsonNumber } from '../src/format/number.js';
import { fakeIo } from './helpers/cli.js';

/** A value file whose JSON text is not the numbers' shortest form: output repeats the text as given. */
const files = { 's.json': '2.50' };

const run = async (args: string[], stdin?: string) => {
  const io = fakeIo(stdin === undefined ? { files } : { stdin, files });
  const status = await main(args, io);
  return { status, out: io.out(), err: io.err() };
};

/** The entries FlatLine read, as JSON.parse's Object.entries would list them. */
function flatEntries(line: FlatLine): [string, number][] {
  return Array.from({ length: line.count }, (_, k) => [line.key(k), line.numbers[k]!]);
}

describe('FlatLine', () => {
  const reader = new FlatLine();

  it('reads flat objects of numbers as JSON.parse does, white space and number forms included', () => {
    const lines = [
      '{"x":1,"y":-2.5,"z":3e2}',
      ' { "x" : 0 , "θ":-0, "Δt":1E-3 ,"w":12.50e+1 }\t',
      '{}',
      '{"x":-9.99890430830368,"y":8.415290340043274,"z":11.569490214609303}',
      '{"at":5}',
      '{"x_1":1e308,"y":5e-324,"z":123456789012345678901234567890}',
    ];
    for (const text of lines) {
      expect(reader.read(text), text).toBe(true);
      const entries = flatEntries(reader);
      expect(entries, text).toEqual(Object.entries(JSON.parse(text) as Record<string, number>));
      // -0 stays -0.
      entries.forEach(([, x], k) =>
        expect(Object.is(x, Object.values(JSON.parse(text) as object)[k]), text).toBe(true),
      );
    }
  });

  it('leaves every other line to JSON.parse', () => {
    const lines = [
      '',
      '   ',
      '\uFEFF{"x":1}',
      '{"x":[1,2]}',
      '{"at":{"x":1}}',
      '{"x":"1"}',
      '{"x":1,}',
      '{"x":1',
      '{"x":1}}',
      '{"x":1} x',
      '{"x":01}',
      '{"x":1.}',
      '{"x":.5}',
      '{"x":+1}',
      '{"x":1e}',
      '{"x":0x10}',
      '{"x":NaN}',
      '{"x":Infinity}',
      '{"x":1e400}',
      '{"x":-1e400}',
      '{"x\\u0041":1}',
      '{"1":1,"x":2}',
      '{"":1}',
      '{"x":1,"x":2}',
      '{x:1}',
      "{'x':1}",
      '{"x":true}',
      '{"x":null}',
      '[1,2]',
      `{${Array.from({ length: 65 }, (_, k) => `"v${k}":${k}`).join(',')}}`,
    ];
    for (const text of lines) expect(reader.read(text), text).toBe(false);
  });

  it('reads any JSON number as JSON.parse does', () => {
    fc.assert(
      // A predicate, not expect: fast-check reports the failing case, and thousands of runs cost less.
      fc.property(fc.double(), fc.integer({ min: 0, max: 20 }), (x, digits) => {
        fc.pre(Number.isFinite(x));
        return [JSON.stringify(x), x.toExponential(digits), x.toPrecision(digits + 1)].every((text) => {
          const line = `{"x":${text}}`;
          const parsed = (JSON.parse(line) as { x: number }).x;
          return (
            reader.read(line) === Number.isFinite(parsed) &&
            (reader.count !== 1 || Object.is(reader.numbers[0], parsed))
          );
        });
      }),
      { seed: 15, numRuns: 2000 },
    );
  });

  it('reads decimals of up to 18 digits with a point and an exponent anywhere as JSON.parse does', () => {
    const decimal = fc
      .tuple(
        fc.boolean(),
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.nat({ max: 20 }),
        fc.option(fc.integer({ min: -40, max: 40 })),
        fc.nat({ max: 3 }),
      )
      .map(([negative, integer, point, exponent, zeros]) => {
        const digits = `${integer}${'0'.repeat(zeros)}`.padStart(point + 1, '0');
        const cut = digits.length - point;
        // JSON has no leading zeros: 0.05, not 00.05.
        const whole = digits.slice(0, cut).replace(/^0+(?=\d)/, '');
        const body = point === 0 ? whole : `${whole}.${digits.slice(cut)}`;
        return `${negative ? '-' : ''}${body}${exponent === null ? '' : `e${exponent}`}`;
      });
    fc.assert(
      fc.property(decimal, (text) => reader.read(`{"x":${text}}`) && Object.is(reader.numbers[0], JSON.parse(text))),
      { seed: 15, numRuns: 20000 },
    );
  });
});

describe('numberJson', () => {
  it('is jsonNumber (String(x), non-finite numbers as strings), found again or made', () => {
    fc.assert(
      // Twice: made, then found in the cache (and its negation, made from the text of x).
      fc.property(
        fc.double(),
        (x) => numberJson(x) === jsonNumber(x) && numberJson(x) === jsonNumber(x) && numberJson(-x) === jsonNumber(-x),
      ),
      { seed: 15, numRuns: 5000 },
    );
    for (const x of [0, -0, 5e-324, -5e-324, 1e21, 1e-7, 123e-20, Number.MAX_VALUE, NaN, Infinity, -Infinity])
      expect(numberJson(x)).toBe(jsonNumber(x));
  });
});

/** Points as flat lines (the fast path) and as `{"at": …}` lines (JSON.parse, the general path). */
function batches(points: readonly Record<string, unknown>[]): { flat: string; wrapped: string } {
  return {
    flat: points.map((p) => JSON.stringify(p)).join('\n'),
    wrapped: points.map((p) => JSON.stringify({ at: p })).join('\n'),
  };
}

describe('the fast path of a batch', () => {
  const cases: { args: string[]; points: Record<string, unknown>[] }[] = [
    {
      args: ['[s*(y-x), x*(r-z)-y, x*y-b*z]', '--at', 's=10', '--at', 'r=28', '--at', 'b=2.6667', '--wrt', 'x,y,z'],
      points: [
        { x: 1, y: 2, z: 3 },
        { x: -9.99890430830368, y: 8.415290340043274, z: 11.569490214609303 },
        { x: 0.1, y: -0, z: 1e21 },
        // A fixed name given again by the line takes the line's value in the fixed name's place.
        { x: 1, s: 3, y: 2, z: 3 },
        { y: 2, x: 1, z: 3 },
        { x: 1, y: 2 },
        { x: 1, y: 2, z: 3, w: 4 },
      ],
    },
    // A scalar output, a kink (abs at 0) and its warning, a name that is not ASCII.
    {
      args: ['abs(θ) * y + y^2', '--wrt', 'θ,y'],
      points: [
        { θ: 0, y: 1 },
        { θ: -2, y: 0.5 },
      ],
    },
    // A matrix output: the blocks of its Jacobian are matrices.
    {
      args: ['[a, b; a*b, a-b]'],
      points: [
        { a: 1, b: 2 },
        { a: 3.5, b: -1e-7 },
      ],
    },
    // A vector fixed on the command line beside the line's scalars.
    { args: ['v * t + [1, 2]', '--at', 'v=[0.5,0.25]'], points: [{ t: 2 }, { t: -1 }] },
    // Values that are not finite: the value's entries as strings.
    { args: ['[log(x), 1/x]'], points: [{ x: 0 }, { x: -1 }, { x: 2 }] },
    // A fixed value written as its file's text, and the same name given by a line, in either order.
    { args: ['s*x', '--at', 's=@s.json'], points: [{ s: 3, x: 1 }, { x: 2 }, { x: 1, s: 3 }, { x: -1 }] },
    // Numbers of every kind, their negations, products that overflow: each written as jsonNumber writes it.
    {
      args: ['[x, -x, x*y, y]'],
      points: fc
        .sample(fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ noNaN: true })), {
          seed: 15,
          numRuns: 60,
        })
        .map(([x, y]) => ({ x, y: Number.isFinite(y) ? y : -x })),
    },
    // A value of the point that changes shape from line to line, under the same text of the rest of the line.
    {
      args: ['sum(c) * x', '--wrt', 'x'],
      points: [
        {
          x: 1,
          c: [
            [1, 2],
            [3, 4],
          ],
        },
        { x: 2, c: [5] },
        { x: 3, c: [Array.from({ length: 300 }, (_, k) => -k / 7)] },
        { x: 4, c: 6 },
      ],
    },
    // An index read from a scalar: one program per value.
    {
      args: ['[x, 2*x, 3*x](k)'],
      points: [
        { x: 1, k: 1 },
        { x: 1, k: 3 },
        { x: 2, k: 2 },
      ],
    },
  ];

  it('writes what the general path writes, bad lines and all, for each command', async () => {
    for (const command of [[], ['grad'], ['hessian']]) {
      for (const { args, points } of cases) {
        const { flat, wrapped } = batches(points);
        const fast = await run([...command, ...args, '--batch', '-'], flat);
        const general = await run([...command, ...args, '--batch', '-'], wrapped);
        expect(fast.out, `${command.join('')} ${args.join(' ')}`).toBe(general.out);
        expect(fast.status).toBe(general.status);
        expect(fast.out.split('\n')).toHaveLength(points.length + 1);
      }
    }
  });

  it('writes for each line what the per-point command writes with --json', async () => {
    for (const { args, points } of cases) {
      const { flat } = batches(points);
      const lines = (await run([...args, '--batch', '-'], flat)).out.trimEnd().split('\n');
      for (const [k, point] of points.entries()) {
        // A failed line, or a name fixed on the command line too (given twice there), has no per-point run.
        const fixed = (name: string) => args.some((arg) => arg.startsWith(`${name}=`));
        if (lines[k]!.startsWith('{"line":') || Object.keys(point).some(fixed)) continue;
        const single = await run([
          ...args,
          ...Object.entries(point).flatMap(([name, x]) => ['--at', `${name}=${JSON.stringify(x)}`]),
          '--json',
        ]);
        expect(lines[k], `${args.join(' ')} at ${JSON.stringify(point)}`).toBe(single.out.trimEnd());
      }
    }
  });

  it('writes each line of a J without variables, a gradient, vᵀJ or J·u as the command writes it with --json', async () => {
    const vectorCases: { args: string[]; points: Record<string, number>[] }[] = [
      {
        args: ['grad', 'x*y + sin(x) * z'],
        points: [
          { x: 1, y: 2, z: 3 },
          { x: -0.5, y: 1e-7, z: 1e21 },
        ],
      },
      {
        args: ['grad', 'abs(θ) * y + y^2', '--wrt', 'θ,y'],
        points: [
          { θ: 0, y: 1 },
          { θ: -2, y: 0.5 },
        ],
      },
      { args: ['grad', 'sum(v .* v) * t', '--at', 'v=[0.5,0.25]'], points: [{ t: 2 }, { t: -1 }] },
      {
        // The Lorenz field of the first case, its fixed values and wrt.
        args: ['vjp', ...cases[0]!.args, '--v', '1,0.5,-2'],
        points: [
          { x: 1, y: 2, z: 3 },
          { x: -9.99890430830368, y: 8.415290340043274, z: 11.569490214609303 },
        ],
      },
      {
        args: ['vjp', '[a, b; a*b, a-b]', '--v', '1,2,3,4'],
        points: [
          { a: 1, b: 2 },
          { a: 3.5, b: -1e-7 },
        ],
      },
      { args: ['vjp', '[log(x), 1/x]', '--v', '1,-1'], points: [{ x: 0 }, { x: -1 }, { x: 2 }] },
      {
        args: ['jvp', '[x*y, x - z; z, y*y]', '--u', '1,0,2'],
        points: [
          { x: 1, y: 2, z: 3 },
          { x: 0.1, y: -0, z: 7 },
        ],
      },
      { args: ['jvp', 'v * t + [1, 2]', '--at', 'v=[0.5,0.25]', '--u', '1,-1,3'], points: [{ t: 2 }, { t: -1 }] },
      // No variable differentiated: empty results and blocks `{}`.
      { args: ['sin(1)'], points: [{}] },
      { args: ['grad', 'sin(1)'], points: [{}] },
      { args: ['vjp', '[1, 2]', '--v', '1,1'], points: [{}] },
    ];
    for (const { args, points } of vectorCases) {
      const { flat } = batches(points);
      const lines = (await run([...args, '--batch', '-'], flat)).out.trimEnd().split('\n');
      expect(lines).toHaveLength(points.length);
      for (const [k, point] of points.entries()) {
        const single = await run([
          ...args,
          ...Object.entries(point).flatMap(([name, x]) => ['--at', `${name}=${JSON.stringify(x)}`]),
          '--json',
        ]);
        expect(lines[k], `${args.join(' ')} at ${JSON.stringify(point)}`).toBe(single.out.trimEnd());
      }
    }
  });

  it('writes numbers of every length whole, in a chunk several times its first buffer', async () => {
    const lorenz = cases[0]!.args;
    const point = { x: -2.2250738585072014e-308, y: -1.7976931348623157e308, z: 5e-324 };
    const single = await run([
      ...lorenz,
      ...Object.entries(point).flatMap(([k, x]) => ['--at', `${k}=${x}`]),
      '--json',
    ]);
    const batch = await run([...lorenz, '--batch', '-'], `${JSON.stringify(point)}\n`.repeat(600));
    const lines = batch.out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(600);
    expect(batch.out.length).toBeGreaterThan(4 << 16);
    for (const line of lines) expect(line).toBe(single.out.trimEnd());
  });

  it('puts the line number first in a shard, as the general path does', async () => {
    const { args, points } = cases[0]!;
    const { flat, wrapped } = batches(points);
    const fast = await run([...args, '--shard', '0/1', '--batch', '-'], flat);
    const general = await run([...args, '--shard', '0/1', '--batch', '-'], wrapped);
    expect(fast.out).toBe(general.out);
    expect(fast.out.split('\n', 1)[0]).toMatch(/^\{"line":1,"command":"jacobian",/);
  });
});

describe('pooled results', () => {
  it('are the Jacobians of their own arrays, each kept as it was by the calls after it, large ones not pooled', () => {
    const shapes = (n: number) =>
      new Map<string, VariableInfo>([
        ['x', { shape: [n] }],
        ['s', { shape: [] }],
      ]);
    for (const n of [3, 7, 8]) {
      const own = compileProgram('s * x .* x', shapes(n));
      const pooled = compileProgram('s * x .* x', shapes(n));
      pooled.pooledResults = true;
      const kept: { pooled: Float64Array; own: Float64Array }[] = [];
      // Enough calls to fill a pool and start another.
      for (let k = 0; k < 2000; k++) {
        const at = new Map([
          ['x', Float64Array.from({ length: n }, (_, i) => k - i / 3)],
          ['s', Float64Array.of(k % 7)],
        ]);
        kept.push({
          pooled: pooled.jacobian(at, ['x', 's']).jacobian,
          own: own.jacobian(at, ['x', 's']).jacobian,
        });
      }
      // Entry by entry in a loop: toEqual on 2000 pairs of arrays costs most of a second.
      const differing = kept.findIndex(
        ({ pooled: p, own: o }) => p.length !== o.length || p.some((entry, i) => !Object.is(entry, o[i])),
      );
      expect(differing).toBe(-1);
      expect(kept[0]!.own.buffer.byteLength).toBe(kept[0]!.own.byteLength);
      // n × (n + 1) entries: 12 and 56 are pooled, 72 are not.
      expect(kept[0]!.pooled.buffer.byteLength > kept[0]!.pooled.byteLength).toBe(n < 8);
    }
  });
});
