/**
 * --max-nodes refuses as soon as the graph passes it: building stops at the
 * limit (no node past it is built, neither while lowering nor while
 * linearising), whatever the expression would have needed; and node reuse
 * keeps finding identical nodes in a graph of many nodes.
 */
import { describe, expect, it, vi } from 'vitest';
import { compileProgram } from '../src/compile.js';
import { LimitError } from '../src/errors.js';
import { identityMap } from '../src/graph/index-maps.js';
import { GraphBuilder, Tape } from '../src/graph/index.js';
import { DEFAULT_LIMITS } from '../src/limits.js';
import type { VariableInfo } from '../src/parse/index.js';

const scalarX = new Map<string, VariableInfo>([['x', { shape: [] }]]);
const limits = (maxNodes: number) => ({ ...DEFAULT_LIMITS, maxExpressionLength: 10_000_000, maxNodes });
// Distinct terms: none folds or is reused, so the graph needs about two nodes a term.
const manyTerms = (count: number) => Array.from({ length: count }, (_, k) => `sin(x*${k + 1}.5)`).join('+');

/** The nodes pushed on every tape while `build` runs, and what it threw. */
function countingNodes(build: () => unknown): { nodes: number; error: unknown } {
  const push = vi.spyOn(Tape.prototype, 'push');
  let error: unknown = null;
  try {
    build();
  } catch (thrown) {
    error = thrown;
  }
  const nodes = push.mock.calls.length;
  push.mockRestore();
  return { nodes, error };
}

describe('--max-nodes stops building at the limit', () => {
  it('a long expression: lowering builds exactly the limit, then refuses', () => {
    for (const maxNodes of [10, 1000, 5000]) {
      const { nodes, error } = countingNodes(() => compileProgram(manyTerms(6000), scalarX, limits(maxNodes)));
      expect(error).toBeInstanceOf(LimitError);
      expect((error as LimitError).message).toMatch(`more than ${maxNodes} nodes`);
      expect(nodes).toBe(maxNodes);
    }
  });

  it('a graph that fits but whose derivative does not: linearising stops at the limit', () => {
    const source = manyTerms(200);
    const program = compileProgram(source, scalarX, limits(100_000));
    const primal = program.tapeLength;
    const maxNodes = primal + 50;
    const bounded = compileProgram(source, scalarX, limits(maxNodes));
    expect(bounded.tapeLength).toBe(primal);
    const at = new Map([['x', [0.5]]]);
    const { nodes, error } = countingNodes(() => bounded.jacobian(at, ['x']));
    expect(error).toBeInstanceOf(LimitError);
    expect(nodes).toBe(50);
    // The same derivative within a larger limit is computed.
    expect(program.jacobian(at, ['x']).jacobian[0]).toBeCloseTo(
      Array.from({ length: 200 }, (_, k) => (k + 1.5) * Math.cos(0.5 * (k + 1.5))).reduce((a, b) => a + b),
      9,
    );
  });
});

describe('node reuse in a large graph', () => {
  it('an identical node is found among 100 000, whatever was built between', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [3]);
    const built: number[] = [];
    for (let k = 0; k < 50_000; k++) built.push(b.apply('sin', [b.apply('dotMultiply', [x, b.scalar(k)])]));
    const length = b.tape.length;
    for (let k = 0; k < 50_000; k += 997) {
      expect(b.apply('sin', [b.apply('dotMultiply', [x, b.scalar(k)])])).toBe(built[k]);
      // The same values in another shape, or -0 for 0, are other constants.
      expect(b.constant(Float64Array.of(k), [1])).not.toBe(b.scalar(k));
    }
    expect(b.scalar(-0)).not.toBe(b.scalar(0));
    expect(b.scalar(-0)).toBe(b.scalar(-0));
    expect(b.scalar(NaN)).toBe(b.constant(Float64Array.of(-NaN), []));
    expect(b.tape.length).toBe(length + Math.ceil(50_000 / 997) + 2);
  });

  it('parameters are compared by content up to 64 entries; larger ones and concatenations are never shared', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [100]);
    const select = (size: number, offset = 0) =>
      b.apply('select', [x], {
        kind: 'select',
        shape: [size],
        // Entry k of the output takes entry offset + k of x.
        map: { to: identityMap(size).to, from: identityMap(size, offset).to },
      });
    expect(select(64)).toBe(select(64));
    expect(select(64, 1)).not.toBe(select(64));
    expect(select(65)).not.toBe(select(65));
    const pair = () =>
      b.apply('concat', [x, x], { kind: 'concat', shape: [200], maps: [identityMap(100), identityMap(100, 100)] });
    expect(pair()).not.toBe(pair());
    const constant = (size: number) => b.constant(new Float64Array(size).fill(0.5), [size]);
    expect(constant(64)).toBe(constant(64));
    expect(constant(65)).not.toBe(constant(65));
    expect(b.input('y', [2])).toBe(b.input('y', [2]));
  });
});
