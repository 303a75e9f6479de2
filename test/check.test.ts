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
  });

  it('compares entries that finite differences resolve only coarsely within their rounding, and counts them', async () => {
    // sum(exp(x)) at x = 1…30 is about 1.07e13: over 2h its change with x₁ … x₁₈ is a few ulps or none (a numeric
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
    expect(report).toMatchObject({ agree: true, unresolved: 18 });
    expect(report.maxRelError).toBe(1);
    expect(report.rounding).toBeGreaterThan(1000);
    const table = fakeIo();
    expect(await main(['check', 'sum(exp(x))', '--at', `x=${x.join(',')}`], table)).toBe(0);
    expect(table.out()).toContain('coarse         18 entries that finite differences resolve only to ±');
    // Within the rounding only: a wrong rule whose error is larger than it is still found.
    expect(check('1e8 + sum(sin(x))', { x: [0.3, 1.1] })).toMatchObject({ agree: true, unresolved: 2, skipped: 0 });
    vi.spyOn(OPS.sin, 'partial').mockImplementation((_b, _i, node) => ({ kind: 'elementwise', d: node.out }));
    expect(check('1e8 + sum(sin(x))', { x: [0.3, 1.1] }).agree).toBe(false);
  });

  it('honours --tol', () => {
    expect(check('exp(x)', { x: [10] }, { tol: 1e-30 }).agree).toBe(false);
    expect(check('exp(x)', { x: [10] }, { tol: 1e-6 }).agree).toBe(true);
  });
});
