/**
 * Lowering of the language's functions where the graph decides a derivative
 * convention: max and min of three or more scalars tie as one reduction
 * (SPEC §6: split evenly), not as nested pairs; two arguments stay
 * element-wise with mathjs's broadcasting.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { printTape } from '../src/graph/index.js';
import { grad, jacobian, ShapeError, UserError } from '../src/index.js';
import { functionCatalogue, lowerExpression, parseExpression, supportedFunctions } from '../src/parse/index.js';
import { SCALAR } from '../src/shape.js';
import { fakeIo } from './helpers/cli.js';

const tiedSources = (result: ReturnType<typeof jacobian>) => result.warnings.map((w) => [w.kind, w.source]);

describe('max and min of three or more scalars', () => {
  it('a three-way tie of max splits 1/3 to each argument, and the kink report names it', () => {
    const result = jacobian('max(s, t, u)', { s: 2, t: 2, u: 2 });
    expect(result.jacobian).toEqual([[1 / 3, 1 / 3, 1 / 3]]);
    expect(tiedSources(result)).toEqual([['tie', 'max(s, t, u)']]);
    expect(result.warnings[0]!.entries).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
    ]);
  });

  it('a four-way tie of min splits 1/4 to each argument, in both directions', () => {
    for (const mode of ['reverse', 'forward'] as const) {
      const result = jacobian('min(s, t, u, w)', { s: 2, t: 2, u: 2, w: 2 }, { mode });
      expect(result.jacobian).toEqual([[0.25, 0.25, 0.25, 0.25]]);
      expect(tiedSources(result)).toEqual([['tie', 'min(s, t, u, w)']]);
    }
  });

  it('the same as the reduction of their vector', () => {
    const at = { s: 2, t: 1, u: 2 };
    expect(jacobian('max(s, t, u)', at).jacobian).toEqual(jacobian('max([s, t, u])', at).jacobian);
    expect(jacobian('max(s, t, u)', at).jacobian).toEqual([[0.5, 0, 0.5]]);
  });

  it('without a tie, the extreme argument takes the whole derivative and nothing is reported', () => {
    const result = jacobian('min(s, 3, u, t)', { s: 5, t: 1, u: 2 }); // columns s, t, u
    expect(result.value).toBe(1);
    expect(result.jacobian).toEqual([[0, 1, 0]]);
    expect(result.warnings).toEqual([]);
  });

  it('constant and repeated arguments take their share of a tie', () => {
    expect(jacobian('max(x, 2, 2)', { x: 2 }).jacobian).toEqual([[1 / 3]]);
    expect(grad('max(x, x, x)', { x: 1 }).grad).toEqual([1]);
  });

  it('lowers to one reduction over the literal vector of the arguments', () => {
    const variables = new Map(['s', 't', 'u'].map((name) => [name, { shape: SCALAR }]));
    const { builder } = lowerExpression(parseExpression('max(s, t, u)'), variables);
    expect(printTape(builder.tape)).toMatchInlineSnapshot(`
      "%0 = input s : scalar
      %1 = input t : scalar
      %2 = input u : scalar
      %3 = concat %0 %1 %2 : vector[3]
      %4 = maxReduce %3 : scalar"
    `);
  });

  it('arrays among three or more arguments are refused, as mathjs does', () => {
    const error = (() => {
      try {
        jacobian('max(x, y, z)', { x: [1, 2], y: [3, 4], z: [5, 6] });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ShapeError);
    expect((error as UserError).message).toContain('max with 3 arguments takes scalars');
  });

  it('the CLI prints 1/3 to each and the tie under the table', async () => {
    const io = fakeIo();
    expect(await main(['max(s, t, u)', '--at', 's=2', '--at', 't=2', '--at', 'u=2'], io)).toBe(0);
    expect(io.out()).toContain('f  0.333333*  0.333333*  0.333333*');
    expect(io.out()).toContain('* tie in max(s, t, u) (1 entry)');
  });
});

describe('max and min of two arguments stay element-wise', () => {
  it('arrays broadcast against each other and against scalars, a tie splitting 0.5 each', () => {
    const result = jacobian('max(x, y)', { x: [1, 5], y: [3, 5] });
    expect(result.value).toEqual([3, 5]);
    expect(result.jacobian).toEqual([
      [0, 0, 1, 0],
      [0, 0.5, 0, 0.5],
    ]);
    expect(jacobian('min(x, 2)', { x: [1, 3] }).jacobian).toEqual([
      [1, 0],
      [0, 0],
    ]);
  });
});

describe('the function catalogue', () => {
  it('lists every supported function once, language functions winning over the table', () => {
    const entries = functionCatalogue();
    expect(entries.map((e) => e.name)).toEqual(supportedFunctions());
    const max = entries.find((e) => e.name === 'max')!;
    expect(max.arity).toBe('1+');
    expect(max.usage).toContain('max(a, b, c, …)');
  });
});
