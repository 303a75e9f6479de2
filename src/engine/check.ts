/**
 * A derivative check, like torch.autograd.gradcheck: the automatic Jacobian
 * against central finite differences with a step scaled to each input.
 */
import type { DerivativeOptions, JacobianResult, Point, Program } from './program.js';

/**
 * How far a computed value may be from the exact one, in units of its size: a few roundings (the value rounds as it
 * is computed, not only once at the end).
 */
const VALUE_ROUNDING = 4 * Number.EPSILON;

/**
 * Central finite differences of `f` (m numbers) at `point` for the variables `wrt`, row-major m×n: column j
 * is (f(x + h·eⱼ) − f(x − h·eⱼ)) / 2h, with h = relativeStep·max(1, |xⱼ|). With `rounding`, each entry's
 * VALUE_ROUNDING·(|f(x + h·eⱼ)| + |f(x − h·eⱼ)|) / 2h goes there: how far the rounding of the two values can move
 * it, large where the values are large next to their change over 2h. `onProgress` hears of each column done.
 */
export function centralDifferences(
  program: Program,
  point: Point,
  wrt: readonly string[],
  m: number,
  f: (at: Point) => ArrayLike<number>,
  relativeStep: number,
  { rounding, onProgress }: DifferenceOptions = {},
): Float64Array {
  const n = program.columns(wrt);
  const differences = new Float64Array(m * n);
  let column = 0;
  for (const name of wrt) {
    const base = Float64Array.from(point.get(name)!);
    for (let k = 0; k < base.length; k++, column++) {
      const h = relativeStep * Math.max(1, Math.abs(base[k]!));
      const at = (delta: number) => {
        const moved = Float64Array.from(base);
        moved[k] = base[k]! + delta;
        return f(new Map([...point, [name, moved]]));
      };
      const plus = at(h);
      const minus = at(-h);
      for (let i = 0; i < m; i++) {
        differences[i * n + column] = (plus[i]! - minus[i]!) / (2 * h);
        if (rounding !== undefined)
          rounding[i * n + column] = (VALUE_ROUNDING * (Math.abs(plus[i]!) + Math.abs(minus[i]!))) / (2 * h);
      }
      onProgress?.(column + 1, n);
    }
  }
  return differences;
}

/** What centralDifferences also gives: how far rounding can move each entry, and its progress (2 values a column). */
export interface DifferenceOptions {
  readonly rounding?: Float64Array;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Central finite differences of `program` at `point` for the variables `wrt`: J row-major, m×n. */
export function finiteDifferenceJacobian(
  program: Program,
  point: Point,
  wrt: readonly string[],
  options: DifferenceOptions = {},
): Float64Array {
  // cbrt(machine epsilon): balances truncation (h²) against rounding (ε/h).
  return centralDifferences(program, point, wrt, program.m, (at) => program.evaluate(at), 6e-6, options);
}

export interface CheckResult {
  readonly automatic: JacobianResult;
  readonly numeric: Float64Array;
  readonly tol: number;
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** The entry that misses the tolerance by the most (or comes closest to it). */
  readonly worst: {
    readonly row: number;
    readonly column: number;
    readonly automatic: number;
    readonly numeric: number;
  } | null;
  /** Entries not compared because the automatic or the numeric value is not finite (a special point). */
  readonly skipped: number;
  /**
   * Entries that finite differences resolve only more coarsely than the tolerance, by how far the rounding of
   * the values can move them: compared within that (the values are large next to their change).
   */
  readonly unresolved: number;
  /** The most the rounding of the values can move an unresolved entry (0 when none is). */
  readonly rounding: number;
  readonly agree: boolean;
}

export const DEFAULT_TOLERANCE = 1e-6;

/**
 * Entries agree when |automatic − numeric| ≤ tol · max(1, |numeric|) + how far rounding can move the numeric one:
 * a difference that the finite differences' own rounding explains is no disagreement (sum(exp(x)) at x = 1…30 is
 * about 10¹³, so its change over 2h is below an ulp for small x, and the difference is 0). Such entries are counted.
 */
export function checkJacobian(
  program: Program,
  at: Point,
  wrt: readonly string[],
  tol = DEFAULT_TOLERANCE,
  options: DerivativeOptions = {},
): CheckResult {
  const automatic = program.jacobian(at, wrt, options);
  const roundingOf = new Float64Array(automatic.m * automatic.n);
  // The 2n values of the finite differences are most of a large check's time: its progress is theirs.
  const numeric = finiteDifferenceJacobian(program, at, wrt, {
    rounding: roundingOf,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  let maxAbsError = 0;
  let maxRelError = 0;
  let worstScore = -1;
  let worst: CheckResult['worst'] = null;
  let skipped = 0;
  let unresolved = 0;
  let rounding = 0;
  let agree = true;
  automatic.jacobian.forEach((a, k) => {
    const f = numeric[k]!;
    // Either side not finite says nothing to compare: an infinite derivative, or differences of values that
    // are not finite near the point (log(x - x) is -Infinity on both sides, so the difference is NaN).
    if (!Number.isFinite(a) || !Number.isFinite(f)) {
      skipped++;
      return;
    }
    const error = Math.abs(a - f);
    const tolerated = tol * Math.max(1, Math.abs(f));
    const moved = roundingOf[k]!;
    if (moved > tolerated) {
      unresolved++;
      rounding = Math.max(rounding, moved);
    }
    // The error as a share of what is allowed: above 1 is a disagreement.
    const allowed = tolerated + moved;
    const score = Number.isNaN(error) ? Infinity : allowed > 0 ? error / allowed : error === 0 ? 0 : Infinity;
    if (!(score <= 1)) agree = false;
    maxAbsError = Math.max(maxAbsError, Number.isNaN(error) ? Infinity : error);
    if (error > 0)
      maxRelError = Math.max(maxRelError, Number.isNaN(error) ? Infinity : error / Math.max(Math.abs(a), Math.abs(f)));
    if (score > worstScore) {
      worstScore = score;
      worst = { row: Math.floor(k / automatic.n), column: k % automatic.n, automatic: a, numeric: f };
    }
  });
  return { automatic, numeric, tol, maxAbsError, maxRelError, worst, skipped, unresolved, rounding, agree };
}
