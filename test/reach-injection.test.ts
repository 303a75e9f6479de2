/** A select's injection (pattern detection's fast path for slices) says what its reach table says. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { select } from '../src/engine/linear/select.js';
import type { SelectStep } from '../src/engine/linear/types.js';

function step(argSize: number, outSize: number, from: number[], to: number[]): SelectStep {
  return {
    kind: 'select',
    arg: { offset: 0, size: argSize, shape: [argSize] },
    out: { offset: argSize, size: outSize, shape: [outSize] },
    map: { from: Int32Array.from(from), to: Int32Array.from(to) },
  };
}

/** The injection from the reach table: entry k's one target, -1 for none; null when some entry has two. */
function fromTable(s: SelectStep): Int32Array | null {
  const { start, targets } = select.reachTable!(s, 'forward');
  const target = new Int32Array(start.length - 1).fill(-1);
  const taken = new Set<number>();
  for (let k = 0; k < target.length; k++) {
    if (start[k + 1]! - start[k]! > 1) return null;
    if (start[k + 1]! > start[k]!) {
      const t = targets[start[k]!]!;
      if (taken.has(t)) return null;
      taken.add(t);
      target[k] = t;
    }
  }
  return target;
}

describe('select reachInjection', () => {
  const cases: [string, SelectStep][] = [
    ['x[2:end]', step(6, 5, [1, 2, 3, 4, 5], [0, 1, 2, 3, 4])],
    ['its adjoint (a scatter)', step(5, 6, [0, 1, 2, 3, 4], [1, 2, 3, 4, 5])],
    ['a permutation', step(4, 4, [2, 0, 3, 1], [0, 1, 2, 3])],
    ['a broadcast (one entry to many)', step(1, 3, [0, 0, 0], [0, 1, 2])],
    ['a sum of entries (many to one)', step(3, 1, [0, 1, 2], [0, 0, 0])],
    ['an entry taken twice', step(3, 4, [0, 1, 1, 2], [0, 1, 2, 3])],
  ];
  it.each(cases)('%s', (_name, s) => {
    const injection = select.reachInjection!(s, 'forward');
    expect(injection).toEqual(fromTable(s));
  });

  it('finds the slices injective and the others not', () => {
    expect(cases.map(([, s]) => select.reachInjection!(s, 'forward') !== null)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  // Maps of long runs (a slice, pieces of a concat, stretches that overlap on either side), both ways.
  it('says what the reach table says for maps of long runs, forward and backward', () => {
    const run = fc.tuple(fc.nat(40), fc.nat(40), fc.integer({ min: 8, max: 16 }));
    fc.assert(
      fc.property(fc.array(run, { minLength: 1, maxLength: 4 }), (runs) => {
        const from = runs.flatMap(([, f, length]) => Array.from({ length }, (_, k) => f + k));
        const to = runs.flatMap(([t, , length]) => Array.from({ length }, (_, k) => t + k));
        const forward = step(56, 56, from, to);
        expect(select.reachInjection!(forward, 'forward')).toEqual(fromTable(forward));
        // Backward through a map is forward through its adjoint.
        const backward = select.reachInjection!(forward, 'reverse');
        expect(backward).toEqual(fromTable(step(56, 56, to, from)));
      }),
      { seed: 20261203, numRuns: 400 },
    );
  });
});
