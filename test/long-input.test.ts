/**
 * Long and deep input: mathjs nests a flat chain (x+x+…+x, x''…') as deep as
 * it is long; the compiler must follow it without running out of stack.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { fakeIo } from './helpers/cli.js';

describe('long input', () => {
  it('a 60 000-term sum compiles and differentiates, with the expression limit raised, its graph no larger than the text', async () => {
    // 119 999 characters: past the default limit of 100 000.
    const expr = Array.from({ length: 60_000 }, () => 'x').join('+');
    const io = fakeIo({ stdin: expr });
    expect(await main(['--at', 'x=1', '--json', '--stats', '--max-expr-length', '300000'], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ value: 60_000, jacobian: [[60_000]] });
    // Bounded by its effect, not by the clock (as fuzz.test.ts bounds its resource cases): one node a term, one pass.
    const stats = JSON.parse(io.err()) as { nodes: number; passes: number };
    expect(stats.nodes).toBeLessThanOrEqual(expr.length);
    expect(stats.passes).toBe(1);
  });

  it('3000 transposes in a row compile', async () => {
    const io = fakeIo();
    expect(await main([`x${"'".repeat(3000)}`, '--at', '1,2', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({
      jacobian: [
        [1, 0],
        [0, 1],
      ],
    });
  });

  it('a table header shortens a long expression', async () => {
    const io = fakeIo();
    await main([Array.from({ length: 100 }, () => 'x').join('+'), '--at', '1'], io);
    expect(io.out().split('\n')[0]).toMatch(/^J = ∂\(x\+x.*…\)\/∂x {3}1×1$/);
  });

  it('reads "Infinity" back in a piped seed', async () => {
    const first = fakeIo();
    await main(['vjp', 'x', '--at', '1,2', '--v', '1,inf', '--json', '--allow-nonfinite'], first);
    const second = fakeIo({ stdin: first.out() });
    expect(await main(['vjp', '--json', '--allow-nonfinite'], second)).toBe(0);
    expect(JSON.parse(second.out())).toMatchObject({ v: [1, 'Infinity'], vjp: [1, 'Infinity'] });
  });
});
