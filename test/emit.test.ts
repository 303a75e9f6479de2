/**
 * `jacobian emit`: the emitted modules, imported by a plain Node process (not
 * vitest's module system), give the engine's value, Jacobian, vᵀJ and J·u on
 * the 25 PyTorch cases and the PyTorch programs; their text holds nothing
 * the user wrote; every
 * element-wise operation the module can write matches the table's scalar
 * function to the bit; the command writes to standard output or a file, and
 * refuses what it cannot write with one line.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ELEMENTWISE_TEXT,
  emitProgram,
  MAX_EMITTED_OPERATIONS,
  MAX_LOCALS_PER_FUNCTION,
  scalarFunctionSource,
  type ElementwiseName,
} from '../src/engine/emit.js';
import { LimitError, UnsupportedError } from '../src/errors.js';
import { OPS, SUM_BLOCK } from '../src/ops/index.js';
import { compileAt } from './helpers/compile.js';
import { runChildAsync, runInProcess } from './helpers/cli.js';
import { firstMismatch, flat } from './helpers/numeric.js';
import { ORACLE, type OracleCase } from './helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'jacobian-emit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a module call gives, through JSON (non-finite numbers as strings). */
interface Results {
  readonly value: unknown;
  readonly jacobian: number[][];
  readonly vjp: number[];
  readonly jvp: number[];
  /** A `wrong` call's: the error value threw, as `name: message`, or null. */
  readonly error?: string | null;
}

/** One case for the child: the module's file, its inputs in the order of the program's variables, v and u. */
interface Call {
  readonly file: string;
  readonly inputs: readonly unknown[];
  readonly v: readonly number[];
  readonly u: readonly number[];
  /** Pass the inputs' rows, v and u as Float64Arrays. */
  readonly typed?: boolean;
  /** Call value alone, on inputs it must refuse: the result is its error. */
  readonly wrong?: boolean;
}

const RUNNER = `
const calls = JSON.parse(process.argv[2]);
const json = (x) => JSON.stringify(x, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value));
const results = [];
// typed: every flat list of numbers as a Float64Array, as numeric code passes them.
const typed = (x) => (Array.isArray(x) && x.every((e) => typeof e === 'number') ? Float64Array.from(x) : Array.isArray(x) ? x.map(typed) : x);
for (const call of calls) {
  const { inputs, v, u } = call.typed ? { inputs: typed(call.inputs), v: typed(call.v), u: typed(call.u) } : call;
  const m = await import(call.file);
  if (call.wrong) {
    try { m.value(inputs); results.push({ error: null }); } catch (e) { results.push({ error: e.name + ': ' + e.message }); }
    continue;
  }
  results.push({ value: m.value(inputs), jacobian: m.jacobian(inputs), vjp: m.vjp(inputs, v), jvp: m.jvp(inputs, u) });
}
process.stdout.write(json(results));
`;

/** Imports each module in one plain Node process and calls its four functions. */
function runModules(calls: readonly Call[]): Promise<Results[]> {
  const runner = join(dir, 'runner.mjs');
  writeFileSync(runner, RUNNER);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [runner, JSON.stringify(calls)], { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Results[]);
    });
  });
}

/**
 * The calls of every test, made by one runner process before the tests (each start of Node costs about a fifth of
 * a second of processor time): each describe adds its calls as it is collected, with the work that must end before
 * (a module written by the CLI), and reads its results in its tests.
 */
const calls: Call[] = [];
const writing: Promise<unknown>[] = [];
let results: Results[] = [];
function enqueue(more: readonly Call[], before?: Promise<unknown>): () => Results[] {
  const from = calls.length;
  calls.push(...more);
  if (before !== undefined) writing.push(before);
  return () => results.slice(from, from + more.length);
}
beforeAll(async () => {
  await Promise.all(writing);
  results = await runModules(calls);
});

/** The engine's numbers as the module's JSON gives them: nested like the output, through JSON. */
const throughJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x)) as unknown;

/** The PyTorch programs (statements, user functions, activations) besides the 25 expressions. */
const PROGRAMS: OracleCase[] = readFileSync(new URL('../fixtures/torch-programs.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as OracleCase);
/** The programs emit refuses: operations whose kernels the module does not have yet. */
const REFUSED: Readonly<Record<string, RegExp>> = {
  erf: /^emit cannot write erf yet/,
  'erf-sum': /^emit cannot write erf yet/,
  lusolve: /^emit cannot write lusolve yet/,
  'lusolve-sum': /^emit cannot write lusolve yet/,
};

describe('emitted modules against the engine on the PyTorch cases and programs', () => {
  const written = [...ORACLE, ...PROGRAMS.filter((c) => REFUSED[c.id] === undefined)];
  const cases = written.map((c, i) => {
    const { program, point } = compileAt(c.expr, c.at);
    const source = emitProgram(program, point, c.wrt);
    const file = join(dir, `case-${i}.mjs`);
    writeFileSync(file, source);
    const inputs = program.variables.map(({ name }) => c.at[name]);
    const jacobian = program.jacobian(point, c.wrt, { mode: 'reverse' });
    const engine = {
      value: program.evaluate(point),
      jacobian: jacobian.jacobian,
      vjp: program.vjp(point, c.v, c.wrt).vjp,
      jvp: program.jvp(point, c.u, c.wrt).jvp,
    };
    return { c, program, source, call: { file, inputs, v: c.v, u: c.u }, engine };
  });
  const caseResults = enqueue(cases.map(({ call }) => call));

  it('has all 25 cases and the programs it can write', () => {
    expect(cases).toHaveLength(25 + PROGRAMS.length - Object.keys(REFUSED).length);
    expect(PROGRAMS.length).toBeGreaterThan(Object.keys(REFUSED).length);
  });

  it.each(Object.entries(REFUSED))('refuses %s with a one-line UnsupportedError', (id, message) => {
    const c = PROGRAMS.find((p) => p.id === id)!;
    const { program, point } = compileAt(c.expr, c.at);
    expect(() => emitProgram(program, point, c.wrt)).toThrow(UnsupportedError);
    expect(() => emitProgram(program, point, c.wrt)).toThrow(message);
  });

  it.each(cases.map((entry, i) => [entry.c.id, entry.c.expr, i] as const))('%s: %s', (_id, _expr, i) => {
    const { c, program, engine } = cases[i]!;
    const result = caseResults()[i]!;
    // The forward pass runs the same operations in the same order: the value is the engine's to the bit.
    const shape = program.outputShape;
    const value = Array.from(engine.value);
    const nested =
      shape.length === 0
        ? value[0]
        : shape.length === 1
          ? value
          : Array.from({ length: shape[0]! }, (_, r) => value.slice(r * shape[1]!, (r + 1) * shape[1]!));
    expect(result.value).toEqual(throughJson(nested));
    // The passes add matrix products' terms in their own order: to 1e-12 relative.
    expect(result.jacobian).toHaveLength(c.m);
    expect(result.jacobian.every((row) => row.length === c.n)).toBe(true);
    expect(firstMismatch(flat(result.jacobian), engine.jacobian, 1e-12, 1e-15)).toBeNull();
    expect(firstMismatch(result.vjp, engine.vjp, 1e-12, 1e-15)).toBeNull();
    expect(firstMismatch(result.jvp, engine.jvp, 1e-12, 1e-15)).toBeNull();
    // And PyTorch's, as the engine's own oracle test asks.
    expect(firstMismatch(flat(result.jacobian), flat(c.jacobian), 1e-10, 1e-13)).toBeNull();
  });
});

describe('the module holds no user text', () => {
  // Names JavaScript gives a meaning to, and comments carrying what would end a comment, a string or a template.
  const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'prototype', '$x'];
  const expr = [
    `# */ \${process.exit(3)} '" \` \\ </script> \u2028`,
    'h__proto__ = constructor .* 2 + sin(__proto__)  # */ ${ "',
    'toString * sum(h__proto__) + hasOwnProperty .* prototype + $x',
  ].join('\n');
  // Parsed, so that __proto__ is a key like the others.
  const atEntries = JSON.parse(
    '{"constructor": [1, 2], "__proto__": [0.5, -1], "toString": 3, "hasOwnProperty": [2, 5], "prototype": [1, 1], "$x": 7}',
  ) as Record<string, unknown>;

  const { program, point } = compileAt(expr, atEntries);
  const wrt = ['__proto__', 'constructor', 'toString'];
  const source = emitProgram(program, point, wrt);
  const file = join(dir, 'hostile.mjs');
  writeFileSync(file, source);
  const u = [1, 0, 0, 1, 1];
  const v = [1, 1];
  const hostileResults = enqueue([{ file, inputs: program.variables.map(({ name }) => atEntries[name]), v, u }]);

  it('names and comments never reach the source, and the module still computes', () => {
    for (const name of names) expect(source, name).not.toContain(name);
    for (const text of ['*/', '${process', '</script>', '\\ ', '"', '\u2028', 'exit(3)', 'h__proto__'])
      expect(source, text).not.toContain(text);
    // The text depends on no name and no comment: the same program with plain names and no comments gives it.
    let plain = expr.replace(/#[^\n]*/g, '');
    const renamed = names.map((name, k) => [name, `p${k}`] as const);
    for (const [name, to] of renamed) plain = plain.replaceAll(name, to);
    const plainAt = Object.fromEntries(
      Object.entries(atEntries).map(([name, value]) => [`p${names.indexOf(name)}`, value]),
    );
    const benign = compileAt(plain, plainAt);
    expect(emitProgram(benign.program, benign.point, ['p1', 'p0', 'p2'])).toBe(source);
    const [result] = hostileResults();
    const jacobian = program.jacobian(point, wrt, { mode: 'reverse' }).jacobian;
    expect(result!.value).toEqual(throughJson(Array.from(program.evaluate(point))));
    expect(firstMismatch(flat(result!.jacobian), jacobian, 1e-12, 1e-15)).toBeNull();
    expect(firstMismatch(result!.vjp, program.vjp(point, v, wrt).vjp, 1e-12, 1e-15)).toBeNull();
    expect(firstMismatch(result!.jvp, program.jvp(point, u, wrt).jvp, 1e-12, 1e-15)).toBeNull();
  });
});

describe('sums over more than SUM_BLOCK entries', () => {
  // 1 and then 1e-16s: a sum left to right drops each 1e-16, a block of them adds up (test/sums.test.ts).
  const n = 2 * SUM_BLOCK + 3;
  const at = { s: 1, x: Array.from({ length: n }, (_, k) => (k === 0 ? 1 : 1e-16)) };
  const { program, point } = compileAt('[sum(x), sum(s .* x)]', at);
  const file = join(dir, 'long-sums.mjs');
  writeFileSync(file, emitProgram(program, point, ['s', 'x']));
  const v = [1, 1];
  const u = [0, ...at.x];
  const longSums = enqueue([{ file, inputs: program.variables.map(({ name }) => at[name as 's' | 'x']), v, u }]);

  it("add blocks as the engine's kernels do: the value, a broadcast scalar's cotangent, a sum's tangent", () => {
    const [result] = longSums();
    expect(result!.value).toEqual(throughJson(Array.from(program.evaluate(point))));
    expect(result!.vjp).toEqual(throughJson(Array.from(program.vjp(point, v, ['s', 'x']).vjp)));
    expect(result!.jvp).toEqual(throughJson(Array.from(program.jvp(point, u, ['s', 'x']).jvp)));
    // The blocks' sums are not the plain sum's 1.
    expect((result!.value as number[])[0]).toBeGreaterThan(1);
  });
});

describe('element-wise operations the module writes', () => {
  const POINTS = [
    ...[0, -0, 1, -1, 0.5, -0.5, 2, -2.5, 3, 1e-300, -1e-300, 1e300, 700, -745.5, Infinity, -Infinity, NaN],
    // Just below a half, where mathjs's round snaps to it, and just below that; tiny negatives, which it rounds to 0.
    ...[2.4999999999995, -2.4999999999995, 2.4999999999994, -9e-16, -2e-15],
  ];
  const written = (Object.keys(ELEMENTWISE_TEXT) as ElementwiseName[]).filter((op) => ELEMENTWISE_TEXT[op] !== null);

  it('covers the arithmetic, the Math functions and the derivatives they need', () => {
    expect(written.length).toBeGreaterThan(35);
  });

  it.each(written)('%s is the table’s scalar function to the bit', (op) => {
    const scalar = OPS[op].scalar!;
    // Test code only: the product itself never runs what it writes.
    const emitted = new Function(`return ${scalarFunctionSource(op)!};`)() as (a: number, b: number) => number;
    for (const a of POINTS)
      for (const b of OPS[op].arity === 1 ? [0] : POINTS) {
        const args = OPS[op].arity === 1 ? [a] : [a, b];
        expect(Object.is(emitted(a, b), scalar(...args)), `${op}(${args.join(', ')})`).toBe(true);
      }
  });
});

describe('jacobian emit', () => {
  const file = join(dir, 'cli.mjs');
  const cliCall = {
    file,
    inputs: [
      [
        [1, 2],
        [3, 4],
      ],
      [1, 1],
    ],
    v: [1, 0],
    u: [0, 1],
  };
  const writtenByCli = runInProcess([
    'emit',
    'A*x',
    '--at',
    'A=[[1,2],[3,4]]',
    '--at',
    'x=1,1',
    '--wrt',
    'x',
    '-o',
    file,
  ]);
  const cliResults = enqueue([cliCall, { ...cliCall, typed: true }], writtenByCli);
  // A wrong input to the first PyTorch case's module, whose value takes x of shape 3.
  const wrongResults = enqueue([{ file: join(dir, 'case-0.mjs'), inputs: [[1, 2]], v: [], u: [], wrong: true }]);

  it('writes the module to standard output, or to -o FILE, and it computes', async () => {
    const [printed, written] = await Promise.all([
      runChildAsync(['emit', 'A*x', '--at', 'A=[[1,2],[3,4]]', '--at', 'x=1,1', '--wrt', 'x']),
      writtenByCli,
    ]);
    expect([printed.status, printed.stderr, written.status, written.stderr, written.stdout]).toEqual([
      0,
      '',
      0,
      '',
      '',
    ]);
    expect(readFileSync(file, 'utf8')).toBe(printed.stdout);
    expect(printed.stdout).toContain('export function jacobian(inputs)');
    const expected = {
      value: [3, 7],
      jacobian: [
        [1, 2],
        [3, 4],
      ],
      vjp: [1, 2],
      jvp: [2, 4],
    };
    expect(cliResults()).toEqual([expected, expected]);
  });

  it('refuses a program past MAX_EMITTED_OPERATIONS or MAX_LOCALS_PER_FUNCTION, saying the limit', () => {
    // A product of two 80×80 matrices: 80³ = 512 000 terms in its forward pass alone.
    const X = Array.from({ length: 80 }, () => new Array(80).fill(1));
    expect(80 ** 3).toBeGreaterThan(MAX_EMITTED_OPERATIONS);
    const { program, point } = compileAt('X*X', { X });
    // Emitted once: each try writes half a million operations before it is refused.
    let refusal: unknown;
    try {
      emitProgram(program, point, ['X']);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(LimitError);
    expect((refusal as LimitError).message).toContain(`more than ${MAX_EMITTED_OPERATIONS} operations`);
    // As many cotangents as entries, each a local of the backward pass: past what a stack frame holds.
    const { program: wide, point: wideAt } = compileAt('x*2', { x: new Array(MAX_LOCALS_PER_FUNCTION + 1).fill(1) });
    expect(() => emitProgram(wide, wideAt, ['x'])).toThrow(`more than the ${MAX_LOCALS_PER_FUNCTION}`);
    const { program: below, point: at } = compileAt('sum(x)', { x: new Array(1000).fill(1) });
    expect(emitProgram(below, at, ['x'])).toContain('function forward(v)');
  });

  it('refuses what it cannot write, and a wrong input, with one line', async () => {
    const [unsupported, unbound] = await Promise.all([
      runInProcess(['emit', 'inv(A)*x', '--at', 'A=[[1,2],[3,4]]', '--at', 'x=1,1']),
      runInProcess(['emit', 'x*y', '--at', 'x=1,2']),
    ]);
    expect([unsupported.status, unsupported.stdout]).toEqual([2, '']);
    expect(unsupported.stderr).toMatch(/^error: emit cannot write inv yet[^\n]*\n$/);
    expect([unbound.status, unbound.stdout]).toEqual([2, '']);
    expect(unbound.stderr).toMatch(/^error: [^\n]*\n/);
    expect(wrongResults()).toEqual([
      { error: 'TypeError: value: input 1 must be 3 numbers (shape 3), flat or nested, got an array of 2' },
    ]);
  });
});
