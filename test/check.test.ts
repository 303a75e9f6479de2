/**
 * `check` (like torch.autograd.gradcheck): the automatic Jacobian agrees with
 * central finite differences on every reference case, and a wrong derivative
 * makes it fail.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeIo } from './helpers/cli.js';
import { main } from '../src/cli/main.js';
import { check } from '../src/index.js';
import { OPS } from '../src/ops/index.js';
import { Program } from '../src/engine/program.js';
import { ORACLE } from './helpers/oracle.js';

const atArgs = (at: Record<string, unknown>) =>
  Object.entries(at).flatMap(([name, value]) => ['--at', `${name}=${JSON.stringify(value)}`]);

describe('check', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(ORACLE)('$id: agrees with finite differences (exit 0)', async (c) => {
    const io = fakeIo();
    const status = await main(['check', c.expr, ...atArgs(c.at), '--wrt', c.wrt.join(','), '--json'], io);
    const report = JSON.parse(io.out()) as { agree: boolean; maxAbsError: number };
    expect(report.agree).toBe(true);
    expect(status).toBe(0);
  });

  it('fails (exit 1) where the function jumps: the derivative of a step is 0, its slope is not', async () => {
    const io = fakeIo();
    expect(await main(['check', 'floor(x)', '--at', '2'], io)).toBe(1);
    expect(io.out()).toContain('they DISAGREE');
  });

  it('fails on a wrong derivative rule in the operation table', () => {
    expect(check('sin(x)', { x: [0.3, 1.1] }).agree).toBe(true);
    // A broken rule: ∂sin(x)/∂x taken as sin(x) instead of cos(x).
    vi.spyOn(OPS.sin, 'partial').mockImplementation((_b, _i, node) => ({ kind: 'elementwise', d: node.out }));
    const broken = check('sin(x)', { x: [0.3, 1.1] });
    expect(broken.agree).toBe(false);
    expect(broken.maxAbsError).toBeGreaterThan(0.1);
  });

  it('does not compare where finite differences are not finite (issue 13 item 9)', async () => {
    for (const mode of ['reverse', 'forward']) {
      const io = fakeIo();
      const argv = ['check', 'log(x - x) + y', '--at', 'x=1', '--at', 'y=2', '--mode', mode, '--json'];
      expect(await main(argv, io)).toBe(0);
      const report = JSON.parse(io.out()) as { agree: boolean; skipped: number };
      // Both columns: the value is -Infinity on both sides of x and of y.
      expect(report).toMatchObject({ agree: true, skipped: 2 });
    }
    const one = fakeIo();
    expect(await main(['check', 'log(x)', '--at', '1e-300'], one)).toBe(0);
    expect(one.out()).toContain('not compared   1 entry that is not finite');
  });

  it('compares entries that finite differences resolve only coarsely within their rounding, and counts them', async () => {
    // sum(exp(x)) at x = 1…30 is about 1.07e13: over 2h its change with x₁ … x₂₁ is a few ulps or none (a numeric
    // derivative of 0 for e¹), which gradcheck calls a disagreement.
    const io = fakeIo();
    const x = Array.from({ length: 30 }, (_, k) => k + 1);
    expect(await main(['check', 'sum(exp(x))', '--at', `x=${x.join(',')}`, '--json'], io)).toBe(0);
    const report = JSON.parse(io.out()) as {
      agree: boolean;
      unresolved: number;
      rounding: number;
      maxRelError: number;
    };
    expect(report).toMatchObject({ agree: true, unresolved: 21 });
    expect(report.maxRelError).toBe(1);
    expect(report.rounding).toBeGreaterThan(1000);
    const table = fakeIo();
    expect(await main(['check', 'sum(exp(x))', '--at', `x=${x.join(',')}`], table)).toBe(0);
    expect(table.out()).toContain('coarse         21 entries that finite differences resolve only to ±');
    // Within the rounding only: a wrong rule whose error is larger than it is still found.
    expect(check('1e8 + sum(sin(x))', { x: [0.3, 1.1] })).toMatchObject({ agree: true, unresolved: 2, skipped: 0 });
    vi.spyOn(OPS.sin, 'partial').mockImplementation((_b, _i, node) => ({ kind: 'elementwise', d: node.out }));
    expect(check('1e8 + sum(sin(x))', { x: [0.3, 1.1] }).agree).toBe(false);
  });

  it('--directions K: J·u along K seeded random directions against their central differences, at any n', async () => {
    const x = Array.from({ length: 2000 }, (_, k) => Math.cos(k));
    const argv = ['check', 'sum(100*(x[2:end]-x[1:end-1].^2).^2+(1-x[1:end-1]).^2)', '--at', `x=${x.join(',')}`];
    const io = fakeIo();
    expect(await main([...argv, '--directions', '4', '--json'], io)).toBe(0);
    const report = JSON.parse(io.out()) as {
      agree: boolean;
      directions: number;
      shape: number[];
      jvp: number[][];
      numeric: number[][];
      maxRelError: number;
    };
    expect(report).toMatchObject({ agree: true, directions: 4, shape: [1, 4] });
    expect(report.jvp[0]).toHaveLength(4);
    expect(report.maxRelError).toBeLessThan(1e-6);
    // Seeded: the same directions, so the same numbers, at every run.
    const again = fakeIo();
    await main([...argv, '--directions', '4', '--json'], again);
    expect(JSON.parse(again.out())).toEqual(report);
    const table = fakeIo();
    expect(await main([...argv, '--directions', '4'], table)).toBe(0);
    expect(table.out()).toContain('J·u along 4 random directions: forward mode against central finite differences');
    expect(table.out()).toMatch(/worst entry {4}f \/ u[1-4]: automatic/);
  });

  it('--directions finds a wrong derivative rule, and takes a whole number from 1', async () => {
    const x = [0.3, 1.1, -0.7];
    expect(check('sum(sin(x) .* x)', { x }, { directions: 2 })).toMatchObject({ agree: true, directions: 2 });
    vi.spyOn(OPS.sin, 'partial').mockImplementation((_b, _i, node) => ({ kind: 'elementwise', d: node.out }));
    expect(check('sum(sin(x) .* x)', { x }, { directions: 2 }).agree).toBe(false);
    vi.restoreAllMocks();
    // Moves ten times shorter where one straddles a pole, as the whole check's steps; a jump misses at every one.
    expect(check('sum(1 ./ x)', { x: [1e-10, 1, 2] }, { directions: 2 }).agree).toBe(true);
    expect(check('floor(x)', { x: [2] }, { directions: 1 }).agree).toBe(false);
    expect(() => check('sin(x)', { x }, { directions: 0 })).toThrow('options.directions must be a whole number from 1');
    const io = fakeIo();
    expect(await main(['check', 'sin(x)', '--at', 'x=1', '--directions', '1.5'], io)).toBe(2);
    expect(io.err()).toBe('error: --directions takes a whole number from 1 to 1000, got "1.5"\n');
  });

  it('shortens the step of a column that misses where the function turns within it, not where it jumps', () => {
    // x ± 6e-6 straddles 1/x's pole at 1e-10 and abs's corner at 1e-10: a tenth of the step, and less, does not.
    expect(check('1 ./ x', { x: [1e-10, 1, -3e-9] })).toMatchObject({ agree: true });
    expect(check('abs(x)', { x: [1e-10, -2e-9] })).toMatchObject({ agree: true });
    expect(check('atan(1e8 * x)', { x: [0] }).agree).toBe(true);
    // A jump is no derivative at any step: floor's difference grows as the step shrinks.
    expect(check('floor(x)', { x: [2] }).agree).toBe(false);
  });

  it('differences again at most 16 columns that miss, 8 steps each: a wrong rule costs a bounded number of values', () => {
    vi.spyOn(OPS.sin, 'partial').mockImplementation((_b, _i, node) => ({ kind: 'elementwise', d: node.out }));
    const evaluate = vi.spyOn(Program.prototype, 'evaluate');
    const x = Array.from({ length: 100 }, (_, k) => 0.3 + k / 50);
    expect(check('sin(x)', { x }).agree).toBe(false);
    // 2 values a column, then at most 16 columns × 8 shorter steps × 2 values (and the value itself).
    expect(evaluate.mock.calls.length).toBeLessThanOrEqual(2 * 100 + 16 * 8 * 2 + 1);
    expect(evaluate.mock.calls.length).toBeGreaterThan(2 * 100);
  });

  it('honours --tol', () => {
    // exp(10x) turns fast: its central difference is about 1.3e-3 off, far more than rounding can move it.
    expect(check('exp(10 * x)', { x: [1] }, { tol: 1e-30 }).agree).toBe(false);
    expect(check('exp(10 * x)', { x: [1] }, { tol: 1e-6 })).toMatchObject({ agree: true, unresolved: 0 });
  });

  it('steps by 6e-6 up to |x| = 2^20, relative beyond: a function that turns as fast far from 0 as near it', () => {
    // A step that grew with |x| (0.6 at 10⁵) put sin's derivative 6% off there.
    for (const x of [1e5, -3e5]) expect(check('sin(x) .* x', { x: [x] }).maxRelError).toBeLessThan(1e-9);
    // Past 2^20 the step grows again, and rounding is allowed for: x.^2 at 10¹² agrees.
    expect(check('x.^2', { x: [1e12] })).toMatchObject({ agree: true, unresolved: 1 });
  });
});
