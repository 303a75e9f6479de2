/**
 * The library as a user imports it: by the package's name, from the built
 * package (npm run build), in a separate Node process, and type-checked.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const run = (script: string): unknown =>
  JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }));

describe('the library, imported by its name', () => {
  it('compile() returns a reusable function object; jacobian, vjp and jvp agree with each other', () => {
    const result = run(`
      import { compile } from 'jacobian';
      const f = compile('[x[1]*x[2], sin(x[3])]', { x: [3] });
      const at = { x: [1, 2, 3] };
      const J = f.jacobian(at).jacobian;
      console.log(JSON.stringify({ J, vjp: f.vjp(at, [1, 1]).vjp, jvp: f.jvp(at, [1, 1, 1]).jvp, value: f.evaluate(at) }));
    `) as { J: number[][]; vjp: number[]; jvp: number[]; value: number[] };
    expect(result.J).toEqual([
      [2, 1, 0],
      [0, 0, Math.cos(3)],
    ]);
    expect(result.vjp).toEqual([2, 1, Math.cos(3)]);
    expect(result.jvp).toEqual([3, Math.cos(3)]);
    expect(result.value).toEqual([2, Math.sin(3)]);
  });

  it('one-shot functions and typed errors', () => {
    const result = run(`
      import { jacobian, vjp, jvp, grad, hessian, hvp, ShapeError, UserError } from 'jacobian';
      let error = null;
      try { jacobian('x .* y', { x: [1, 2], y: [1, 2, 3] }); } catch (e) { error = { shape: e instanceof ShapeError, user: e instanceof UserError, message: e.message }; }
      console.log(JSON.stringify({
        J: jacobian('x*2', { x: [1, 2, 3] }).jacobian,
        vjp: vjp('x*2', { x: [1, 2, 3] }, [0.1, 1, 0.0001]).vjp,
        jvp: jvp('x*2', { x: [1, 2, 3] }, [1, 0, 0]).jvp,
        grad: grad('sum(x.^2)', { x: [1, 2, 3] }).grad,
        hessian: hessian('sum(x.^3)', { x: [1, 2, 3] }).hessian,
        hvp: hvp('sum(x.^3)', { x: [1, 2, 3] }, [1, 1, 1]).hvp,
        error,
      }));
    `) as Record<string, unknown>;
    expect(result).toMatchObject({
      J: [
        [2, 0, 0],
        [0, 2, 0],
        [0, 0, 2],
      ],
      vjp: [0.2, 2, 0.0002],
      jvp: [2, 0, 0],
      grad: [2, 4, 6],
      hessian: [
        [6, 0, 0],
        [0, 12, 0],
        [0, 0, 18],
      ],
      hvp: [6, 12, 18],
      error: { shape: true, user: true },
    });
  });

  it('type-checks a TypeScript program that imports it, and the program runs', () => {
    const outDir = join(ROOT, 'dist', 'user-check');
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(
      process.execPath,
      [tsc, '-p', join(ROOT, 'fixtures', 'library'), '--noEmit', 'false', '--outDir', outDir],
      { cwd: ROOT, encoding: 'utf8' },
    );
    // Inside the package's folder, so 'jacobian' resolves to this package as it would in a user's node_modules.
    const output = JSON.parse(
      execFileSync(process.execPath, [join(outDir, 'user.js')], { cwd: ROOT, encoding: 'utf8' }),
    ) as Record<string, unknown>;
    expect(output).toMatchObject({
      once: [
        [2, 0, 0],
        [0, 2, 0],
        [0, 0, 2],
      ],
      pulled: [0.2, 2, 0.0002],
      pushed: [2, 0, 0],
    });
    expect((output.rows as number[][]).length).toBe(2);
  });
});
