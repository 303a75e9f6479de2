/**
 * The PyTorch reference cases (fixtures/torch-cases.jsonl, computed in
 * float64): value, Jacobian in every mode, VJP, JVP and Hessian must match
 * to 1e-10 relative, and the modes must agree with each other to 1e-12.
 */
import { describe, expect, it } from 'vitest';
import { compileAt } from './helpers/compile.js';
import { firstMismatch, flat } from './helpers/numeric.js';
import { ORACLE } from './helpers/oracle.js';

const REL = 1e-10;
const ABS = 1e-13;

describe('PyTorch reference cases', () => {
  it('has all 25 cases', () => {
    expect(ORACLE).toHaveLength(25);
  });

  describe.each(ORACLE)('$id: $expr', (c) => {
    const { program, point } = compileAt(c.expr, c.at);

    it('value', () => {
      expect(firstMismatch(program.evaluate(point), c.value, REL, ABS)).toBeNull();
    });

    it('Jacobian (one backward pass per one-hot seed)', () => {
      const result = program.jacobian(point, c.wrt, { mode: 'reverse' });
      expect([result.m, result.n, result.mode, result.passes]).toEqual([c.m, c.n, 'reverse', c.m]);
      expect(firstMismatch(result.jacobian, flat(c.jacobian), REL, ABS)).toBeNull();
    });

    it('Jacobian in forward mode, by block passes in both directions, and in auto mode agrees with reverse mode to 1e-12', () => {
      const reverse = program.jacobian(point, c.wrt, { mode: 'reverse' }).jacobian;
      const forward = program.jacobian(point, c.wrt, { mode: 'forward' });
      expect([forward.mode, forward.passes]).toEqual(['forward', c.n]);
      expect(firstMismatch(forward.jacobian, reverse, 1e-12, 1e-15)).toBeNull();
      const auto = program.jacobian(point, c.wrt);
      const direction = c.m <= c.n ? 'reverse' : 'forward';
      // Small Jacobians take one-hot passes in the cheaper direction; larger ones a block pass.
      expect([auto.mode, auto.method, auto.passes]).toEqual(
        c.m * c.n > 256 ? [direction, 'block', 1] : [direction, 'one-hot', Math.min(c.m, c.n)],
      );
      expect(firstMismatch(auto.jacobian, reverse, 1e-12, 1e-15)).toBeNull();
      for (const mode of ['reverse', 'forward'] as const) {
        const block = program.jacobian(point, c.wrt, { mode, method: 'block' });
        expect([block.mode, block.method, block.passes]).toEqual([mode, 'block', 1]);
        expect(firstMismatch(block.jacobian, reverse, 1e-12, 1e-15)).toBeNull();
      }
    });

    it('VJP (one backward pass seeded with v)', () => {
      expect(firstMismatch(program.vjp(point, c.v, c.wrt).vjp, c.vjp, REL, ABS)).toBeNull();
    });

    it('JVP (one forward pass seeded with u)', () => {
      expect(firstMismatch(program.jvp(point, c.u, c.wrt).jvp, c.jvp, REL, ABS)).toBeNull();
    });
  });

  it.each(ORACLE.filter((c) => c.hessian !== undefined))(
    '$id: Hessian (exact, forward-over-reverse), symmetric, and hvp = H·u',
    (c) => {
      const { program, point } = compileAt(c.expr, c.at);
      const { jacobian: hessian, m, n } = program.hessian(point, c.wrt);
      expect([m, n]).toEqual([c.n, c.n]);
      expect(firstMismatch(hessian, flat(c.hessian!), REL, ABS)).toBeNull();
      for (let i = 0; i < n; i++)
        for (let j = 0; j < i; j++) expect(hessian[i * n + j]).toBeCloseTo(hessian[j * n + i]!, 12);
      const hu = Array.from({ length: n }, (_, i) => c.u.reduce((s, uj, j) => s + hessian[i * n + j]! * uj, 0));
      expect(firstMismatch(program.hvp(point, c.u, c.wrt).hvp, hu, 1e-12, 1e-14)).toBeNull();
    },
  );
});
