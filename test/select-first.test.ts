/**
 * A select that writes a node's (co)tangent first (pushforwardFirst, pullbackFirst) gives what clearing the node
 * and adding (pushforward, pullback) gives, to the bit, whatever the target held before: the passes then clear
 * nothing there.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { select } from '../src/engine/linear/select.js';
import type { SelectStep } from '../src/engine/linear/types.js';

const ARG = 50;
const OUT = 60;

/** Runs long enough to be runs (8 entries and up), which may meet on either side (a sum), and a short map. */
const maps = fc.oneof(
  fc
    .array(fc.tuple(fc.nat(OUT - 16), fc.nat(ARG - 16), fc.integer({ min: 8, max: 16 })), {
      minLength: 1,
      maxLength: 4,
    })
    .map((runs) => ({
      to: Int32Array.from(runs.flatMap(([to, , length]) => Array.from({ length }, (_, k) => to + k))),
      from: Int32Array.from(runs.flatMap(([, from, length]) => Array.from({ length }, (_, k) => from + k))),
    })),
  fc
    .array(fc.tuple(fc.nat(OUT - 1), fc.nat(ARG - 1)), { minLength: 1, maxLength: 6 })
    .map((pairs) => ({ to: Int32Array.from(pairs, ([to]) => to), from: Int32Array.from(pairs, ([, from]) => from) })),
);
const entry = fc.oneof(fc.constantFrom(0, -0, NaN, Infinity), fc.double({ min: -2, max: 2, noNaN: true }));

const same = (a: Float64Array, b: Float64Array): boolean => a.every((x, k) => Object.is(x, b[k]));

describe('a select writing first', () => {
  it('gives the cleared sum, bit for bit, forward and backward', () => {
    fc.assert(
      fc.property(
        maps,
        fc.array(entry, { minLength: ARG + OUT, maxLength: ARG + OUT }),
        fc.array(entry, { minLength: ARG + OUT, maxLength: ARG + OUT }),
        (map, given, stale) => {
          const step: SelectStep = {
            kind: 'select',
            arg: { offset: 0, size: ARG, shape: [ARG] },
            out: { offset: ARG, size: OUT, shape: [OUT] },
            map,
          };
          const values = new Float64Array(0);
          const scratch = new Float64Array(0);
          for (const [target, first, add] of [
            [step.out, select.pushforwardFirst!, select.pushforward],
            [step.arg, select.pullbackFirst!, select.pullback],
          ] as const) {
            // The sum: the target cleared, the source's entries added.
            const summed = Float64Array.from(given);
            summed.fill(0, target.offset, target.offset + target.size);
            add(step, values, summed, scratch);
            // Written first over whatever the target held.
            const written = Float64Array.from(given);
            written.set(stale.slice(0, target.size), target.offset);
            first(step, values, written);
            expect(same(written, summed)).toBe(true);
          }
        },
      ),
      { seed: 20261203, numRuns: 400 },
    );
  });
});
