/**
 * The diagonal Jacobian's pass (engine/diagonal.ts): where every partial is
 * element-wise on the output's size, the same J as the block pass to the
 * last bit (Object.is: -0 is not 0), through Program and directly; elsewhere
 * it declines and the block pass runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockPass, forEachInRow, SparseRows } from '../src/engine/blocks.js';
import { diagonalJacobian } from '../src/engine/diagonal.js';
import { linearize } from '../src/engine/linearize.js';
import { Passes } from '../src/engine/passes.js';
import { Plan } from '../src/engine/plan.js';
import { lowerExpression, parseExpression, type VariableInfo } from '../src/parse/index.js';
import { sizeOf } from '../src/shape.js';
import { tensorFromJson } from '../src/values.js';
import { compileAt } from './helpers/compile.js';
import { expressions, points } from './helpers/expressions.js';
import { sameBits } from './helpers/numeric.js';

/** The plan and passes Program.prepare makes for wrt x, after the forward pass at `at`. */
function prepared(expr: string, at: Readonly<Record<string, unknown>>) {
  const tensors = new Map(Object.entries(at).map(([name, value]) => [name, tensorFromJson(value, name)]));
  const variables = new Map<string, VariableInfo>([...tensors].map(([name, t]) => [name, { shape: t.shape }]));
  const { builder, output } = lowerExpression(parseExpression(expr), variables, undefined, expr);
  const x = tensors.get('x')!;
  const input = builder.input('x', x.shape);
  const lin = linearize(builder, output, [{ node: input, offset: 0, size: x.data.length }]);
  const plan = new Plan(builder.tape, [output, ...lin.partialNodes]);
  const passes = new Passes(plan, lin);
  for (const [name, { shape, data }] of tensors) plan.setInput(builder.input(name, shape), data);
  plan.run();
  passes.inspectPartials();
  return { plan, passes, lin, output, input, m: sizeOf(builder.tape.shape(output)), n: x.data.length };
}

/** J by the block pass (what Program ran before the diagonal pass existed) and by the diagonal pass, or null. */
function bothWays(expr: string, at: Readonly<Record<string, unknown>>) {
  const { plan, passes, lin, output, input, m, n } = prepared(expr, at);
  if (m !== n) return null;
  const diagonal = diagonalJacobian(plan.values, lin.active, passes.edges, output, input, n);
  const blocks = blockPass({
    direction: 'reverse',
    values: plan.values,
    active: lin.active,
    edges: passes.edges,
    operand: (id) => plan.operand(id),
    seeds: new Map([[output, SparseRows.seeds(m, m, 0)]]),
    rows: m,
    ends: [input],
  });
  const block = input === output ? SparseRows.seeds(m, m, 0) : blocks.get(input);
  const viaBlocks = new Float64Array(m * n);
  if (block !== undefined) for (let i = 0; i < m; i++) forEachInRow(block, i, (j, v) => (viaBlocks[i * n + j] = v));
  const viaDiagonal = diagonal === null ? null : new Float64Array(m * n);
  if (diagonal !== null) for (let i = 0; i < n; i++) viaDiagonal![i * n + i] = diagonal[i]!;
  return { viaBlocks, viaDiagonal, careful: passes.careful };
}

describe('the diagonal pass', () => {
  it.each([
    ['sin(x).*x+x.^2', [1, -2, 0.5, 3]],
    // Three and four paths into x: sums in the block pass's order of edges.
    ['x.*x.*x + x + sin(x).*cos(x)', [0.3, -1.7, 2.2, 1e-3]],
    ['x + x + x + x.*2 + sin(x)', [1, 2, 3, 4]],
    // Exact zeros (an input of 0 and -0), a product that underflows to -0, an identity edge.
    ['x.*1e-200.*x + x.^2.*x - sin(x).*x.*cos(x)', [0, -0, 1e-200, -1e-200]],
    // A -0 (underflow) passed on through an identity edge unchanged, not made 0 by a product with 1.
    ['1e-200 .* (-1e-200 .* (x + 5))', [1, 2]],
    ['x - x', [1, 2, 3]],
    ['x', [1, 2]],
    ['2*x + y', [1, 2, 3]],
    ['tanh(x) - x + x.^3 + 1./(1+x.^2)', [0.25, -0.5, 0.75]],
  ])('gives the block pass’s J to the last bit: %s', (expr, x) => {
    const result = bothWays(expr, { x, y: 2 });
    expect(result!.viaDiagonal).not.toBeNull();
    expect(sameBits(result!.viaDiagonal!, result!.viaBlocks)).toBe(true);
  });

  it.each([
    [
      'W*x',
      {
        W: [
          [1, 2],
          [3, 4],
        ],
      },
    ],
    ['x * sum(x)', {}],
    ['x[[2, 1]]', {}],
    ['[x[1] * x[2], x[2]]', {}],
    ['x + x[1]', {}],
  ])('declines where J is not diagonal by structure: %s', (expr, more) => {
    const result = bothWays(expr, { x: [1, 2], ...more });
    expect(result!.viaDiagonal).toBeNull();
  });

  it('gives the block pass’s J on random element-wise expressions of x (seeded)', () => {
    let diagonal = 0;
    fc.assert(
      fc.property(expressions({ smooth: false, mathjs: false }, 3, ['v3']), points, (e, p) => {
        const result = bothWays(e.text, p);
        if (result === null || result.viaDiagonal === null || result.careful) return true;
        diagonal++;
        return sameBits(result.viaDiagonal, result.viaBlocks);
      }),
      { seed: 15, numRuns: 400 },
    );
    // Most generated vector expressions use x element-wise only: the property is not vacuous.
    expect(diagonal).toBeGreaterThan(50);
  });

  it('is what Program.jacobian runs for a diagonal J, with the block pass’s numbers', () => {
    const x = Array.from({ length: 300 }, (_, k) => Math.sin(k + 1) * (k % 7 === 0 ? 0 : 1));
    const { program, point } = compileAt('sin(x).*x+x.^2 - x.*cos(x).*x', { x });
    const result = program.jacobian(point, ['x']);
    expect(result.method).toBe('block');
    expect(sameBits(result.jacobian, bothWays('sin(x).*x+x.^2 - x.*cos(x).*x', { x })!.viaBlocks)).toBe(true);
  });
});
