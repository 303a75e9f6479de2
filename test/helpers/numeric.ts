/** Seeded randomness, closeness and finite differences for the tests. */
import { centralDifferences, seededUniform, type StepRule } from '../../src/engine/check.js';
import type { Point, Program } from '../../src/engine/program.js';

/** A seeded stream of uniform numbers in (0, 1) (Park–Miller), so that a case is its seed. */
export function parkMiller(seed: number): () => number {
  let state = seed % 2147483646 || 1;
  return () => (state = (state * 16807) % 2147483647) / 2147483647;
}

/** The tests' step, relative: h = relative·max(1, |x|) (check's own is absolute up to 2²⁰). */
const relative =
  (step: number): StepRule =>
  (x) =>
    step * Math.max(1, Math.abs(x));

/** mulberry32, check's generator of directions: a small seeded generator, so every failure can be replayed. */
export const prng = seededUniform;

/** A number's text, -0 told apart from 0. */
export const bits = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

/** The first entry whose bits differ (Object.is: -0 is not 0, NaN is NaN), or null. */
export function firstBitDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let k = 0; k < actual.length; k++)
    if (!Object.is(actual[k], expected[k])) return `entry ${k}: ${bits(actual[k]!)}, expected ${bits(expected[k]!)}`;
  return null;
}

/** The same bits in every entry (signed zeros and NaN included). */
export const sameBits = (x: ArrayLike<number>, y: ArrayLike<number>): boolean => firstBitDifference(x, y) === null;

/** The first entry where `actual` and `expected` differ by more than rel·max(|a|,|e|) + abs, or null. */
export function firstMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel: number,
  abs = 0,
): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  for (let k = 0; k < actual.length; k++) {
    const a = actual[k]!;
    const e = expected[k]!;
    if (Object.is(a, e) || a === e) continue;
    if (Number.isNaN(a) || Number.isNaN(e) || !Number.isFinite(a) || !Number.isFinite(e))
      return `entry ${k}: ${a} != ${e}`;
    if (Math.abs(a - e) > rel * Math.max(Math.abs(a), Math.abs(e)) + abs) return `entry ${k}: ${a} != ${e}`;
  }
  return null;
}

/** Central finite differences of the program's value at `point` for `wrt`, with the step 6·10⁻⁶·max(1, |x|): m×n. */
export const finiteDifferenceJacobian = (program: Program, point: Point, wrt: readonly string[]): Float64Array =>
  centralDifferences(program, point, wrt, program.m, (at) => program.evaluate(at), relative(6e-6));

/** The Hessian of a scalar program by central differences of its exact gradient: n×n, row i = ∂(∂f/∂xᵢ)/∂x. */
export function finiteDifferenceHessian(
  program: Program,
  point: Point,
  wrt: readonly string[],
  relativeStep = 6e-6,
): Float64Array {
  const n = program.columns(wrt);
  return centralDifferences(program, point, wrt, n, (at) => program.grad(at, wrt).grad, relative(relativeStep));
}

/**
 * Richardson's extrapolation of central differences from the steps h and h/2, (4·D(h/2) − D(h))/3: truncation
 * O(h⁴) instead of O(h²), for points where a function turns so fast that central differences miss by more than a
 * test's tolerance. `f` is the program's value (m entries) or its gradient.
 */
export function extrapolatedDifferences(
  program: Program,
  point: Point,
  wrt: readonly string[],
  m: number,
  f: (at: Point) => ArrayLike<number>,
  relativeStep: number,
): Float64Array {
  const coarse = centralDifferences(program, point, wrt, m, f, relative(relativeStep));
  const fine = centralDifferences(program, point, wrt, m, f, relative(relativeStep / 2));
  return coarse.map((c, k) => (4 * fine[k]! - c) / 3);
}

export const flat = (nested: unknown): number[] => [nested].flat(Infinity as 1) as number[];
