/**
 * The fuzz contract's mode agreement with domain errors: well-shaped random
 * expressions (expressions.ts, with kinks, ties, steps and branches), half of
 * them with log and sqrt of 0, of negative numbers, of a − a and s − s
 * spliced in, at special points (0, −0, ±1, NaN, ±Infinity, ties), give the
 * same J by every way the engine has: one-hot passes both ways, block passes,
 * auto, compressed sparse passes, vjp rows and jvp columns (NaN = NaN, ±∞
 * exactly, finite entries to 1e-12 relative). Not generated: 1e308,
 * subnormals and tiny numbers, where overflow, underflow or partials far
 * larger than J (2/a − 2/a at a = 1e-8) make the order of a sum matter in any
 * arithmetic. The budget follows FUZZ_BUDGET like fuzz.test.ts's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/index.js';
import { compileAt } from './helpers/compile.js';
import { expressions } from './helpers/expressions.js';
import { casesOf } from './helpers/fuzz.js';
import { modeAgreement, withDomainErrors } from './helpers/modes.js';

const BUDGET = { test: 150, ci: 150, full: 3000 };

const flavour = { smooth: false, mathjs: false };
const expression = fc.oneof(
  expressions(flavour, 3),
  expressions(flavour, 2).chain((e) => expressions(flavour, 1, [e.kind]).chain((other) => withDomainErrors(e, other))),
);
const entry = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(0, -0, 1, -1, 2, 0.5, 0.1, 3.14159) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity) },
);
const points = fc.record({
  x: fc.array(entry, { minLength: 3, maxLength: 3 }),
  y: entry,
  A: fc.array(fc.array(entry, { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 2 }),
});
const wrt = fc.constantFrom(['x', 'y', 'A'], ['y'], ['A', 'x'], ['x']);

describe('fuzz: mode agreement with domain errors', () => {
  it('every way of computing J gives the same J at special points', () => {
    fc.assert(
      fc.property(expression, points, wrt, (e, at, names) => {
        let compiled: ReturnType<typeof compileAt>;
        try {
          compiled = compileAt(e.text, at);
        } catch (error) {
          // A user error is an outcome of the fuzz contract (min(A, 2) is a minimum along dimension 2).
          if (error instanceof UserError) return;
          throw error;
        }
        const { program, point } = compiled;
        const { problem } = modeAgreement(program, point, names);
        expect(problem, `${e.text} at ${JSON.stringify(at)} wrt ${names.join(',')}`).toBeNull();
      }),
      { seed: 0x5eed_0de5, numRuns: casesOf(BUDGET), endOnFailure: false },
    );
  });
});
