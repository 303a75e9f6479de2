/**
 * A derivative check, like torch.autograd.gradcheck: the automatic Jacobian
 * against central finite differences, a column at a time, each entry allowed
 * the tolerance and how far rounding moves its difference; or, like JAX's
 * check_grads, J·u against the difference along random directions u.
 */
import type { DerivativeOptions, JacobianResult, Point, Program } from './program.js';

/**
 * How far a computed value may be from the exact one, in units of its size: a few roundings (the value rounds as it
 * is computed, not only once at the end).
 */
const VALUE_ROUNDING = 4 * Number.EPSILON;

/** A step for each input from its value. */
export type StepRule = (x: number) => number;

/**
 * check's step: 6·10⁻⁶ (about cbrt ε, which balances truncation against rounding) up to |x| = 2²⁰, relative beyond,
 * where x ± h stays some 10⁴ ulps from x. A step that grows with |x| misses a function that turns as fast far
 * from 0 as near it: at x = 10⁵ it was 0.6, and sin's derivative came out 6% off. A value large next to its change
 * over 2h is allowed for by its rounding instead (VALUE_ROUNDING).
 */
const CHECK_STEP: StepRule = (x) => 6e-6 * Math.max(1, Math.abs(x) / 2 ** 20);

/**
 * Central finite differences of `f` (m numbers) at `point` for the variables `wrt`, row-major m×n: column j
 * is (f(x + h·eⱼ) − f(x − h·eⱼ)) / d, with h = step(xⱼ) and d the distance between the two points as rounded (2h
 * but for the rounding of xⱼ ± h). With `rounding`, each entry's VALUE_ROUNDING·(|f(x + h·eⱼ)| + |f(x − h·eⱼ)|) / d
 * goes there: how far the rounding of the two values can move it, large where the values are large next to their
 * change over d. `onProgress` hears of each column done.
 */
export function centralDifferences(
  program: Program,
  point: Point,
  wrt: readonly string[],
  m: number,
  f: (at: Point) => ArrayLike<number>,
  step: StepRule,
  { rounding, onProgress }: DifferenceOptions = {},
): Float64Array {
  const n = program.columns(wrt);
  const differences = new Float64Array(m * n);
  const columns = columnsOf(point, wrt);
  columns.forEach((column, j) => {
    columnDifferences(point, column, f, step(column.x), { m, n, j, differences, rounding });
    onProgress?.(j + 1, n);
  });
  return differences;
}

/** An input entry, by its variable and place: the column of J it makes. */
interface Column {
  readonly name: string;
  readonly data: Float64Array;
  readonly entry: number;
  readonly x: number;
}

function columnsOf(point: Point, wrt: readonly string[]): Column[] {
  return wrt.flatMap((name) => {
    const data = Float64Array.from(point.get(name)!);
    return Array.from(data, (x, entry) => ({ name, data, entry, x }));
  });
}

/** Where column j of m×n differences (and their rounding, if kept) goes. */
interface ColumnTarget {
  readonly m: number;
  readonly n: number;
  readonly j: number;
  readonly differences: Float64Array;
  readonly rounding: Float64Array | undefined;
}

/** Writes (f(x + h) − f(x − h)) / d for the column's entry, d the distance between the two points as rounded. */
function columnDifferences(
  point: Point,
  { name, data, entry, x }: Column,
  f: (at: Point) => ArrayLike<number>,
  h: number,
  { m, n, j, differences, rounding }: ColumnTarget,
): void {
  const above = x + h;
  const below = x - h;
  const at = (moved: number) => {
    const entries = Float64Array.from(data);
    entries[entry] = moved;
    return f(new Map([...point, [name, entries]]));
  };
  const plus = at(above);
  const minus = at(below);
  const distance = above - below;
  for (let i = 0; i < m; i++) {
    differences[i * n + j] = (plus[i]! - minus[i]!) / distance;
    if (rounding !== undefined)
      rounding[i * n + j] = (VALUE_ROUNDING * (Math.abs(plus[i]!) + Math.abs(minus[i]!))) / distance;
  }
}

/** What centralDifferences also gives: how far rounding can move each entry, and its progress (2 values a column). */
export interface DifferenceOptions {
  readonly rounding?: Float64Array;
  readonly onProgress?: (done: number, total: number) => void;
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
  /**
   * Null for the whole J. Else the count of random directions u checked (checkDirections): `automatic` holds J·u
   * for each, m×count (its n is the count), and `numeric` their central differences.
   */
  readonly directions: number | null;
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
  const { m, n } = automatic;
  const roundingOf = new Float64Array(m * n);
  const f = (x: Point) => program.evaluate(x);
  // The 2n values of the finite differences are most of a large check's time: its progress is theirs.
  const numeric = centralDifferences(program, at, wrt, m, f, CHECK_STEP, {
    rounding: roundingOf,
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  const target = { m, n, differences: numeric, rounding: roundingOf };
  let retried = 0;
  columnsOf(at, wrt).forEach((column, j) => {
    if (retried >= MAX_RETRIED_COLUMNS || !columnMisses(automatic.jacobian, { ...target, j }, tol)) return;
    retried++;
    shortenStep(at, column, f, automatic.jacobian, { ...target, j }, tol);
  });
  return compared(automatic, numeric, roundingOf, tol, null);
}

/** How many times a column that misses is differenced again with a step ten times shorter, at most. */
const MAX_SHORTER_STEPS = 8;
/**
 * How many missing columns are differenced again: a wrong derivative makes every column miss, and the verdict is
 * known after a few; a step too long for the function is a matter of a few places.
 */
const MAX_RETRIED_COLUMNS = 16;

/**
 * A column whose differences miss may have a step too long for how fast the function turns there (1/x at 10⁻¹⁰,
 * where x ± 6·10⁻⁶ straddles the pole): it is differenced again with steps ten times shorter, and each entry that
 * missed takes the first of them where it agrees and stays resolved (its rounding within its tolerance, or no
 * larger than at the first step). A resolved difference is the derivative to the tolerance once the step is short
 * enough, so a wrong derivative still misses at every step. The entries that agreed keep the first step's numbers.
 */
function shortenStep(
  at: Point,
  column: Column,
  f: (at: Point) => ArrayLike<number>,
  automatic: Float64Array,
  target: ColumnTarget & { readonly rounding: Float64Array },
  tol: number,
): void {
  const { m, n, j, differences, rounding } = target;
  const pending = new Set<number>();
  for (let i = 0; i < m; i++)
    if (errorShare(automatic[i * n + j]!, differences[i * n + j]!, rounding[i * n + j]!, tol) > 1) pending.add(i);
  const trial = { m, n: 1, j: 0, differences: new Float64Array(m), rounding: new Float64Array(m) };
  let h = CHECK_STEP(column.x);
  for (let shorter = 0; shorter < MAX_SHORTER_STEPS && pending.size > 0; shorter++) {
    h /= 10;
    columnDifferences(at, column, f, h, trial);
    for (const i of pending) {
      const k = i * n + j;
      const verdict = shorterStep(automatic[k]!, trial.differences[i]!, trial.rounding[i]!, rounding[k]!, tol);
      if (verdict === 'taken') {
        differences[k] = trial.differences[i]!;
        rounding[k] = trial.rounding[i]!;
      }
      if (verdict !== 'shorter') pending.delete(i);
    }
  }
}

/**
 * What a shorter step's difference of an entry that missed is worth: `taken` where it agrees and stays resolved
 * (its rounding within its tolerance, or no larger than at the first step); `kept` (the first step's stays) where
 * its rounding is past both, as it only grows with shorter steps; else try a `shorter` one.
 */
function shorterStep(
  automatic: number,
  difference: number,
  moved: number,
  firstRounding: number,
  tol: number,
): 'taken' | 'kept' | 'shorter' {
  if (moved > Math.max(tol * Math.max(1, Math.abs(difference)), firstRounding)) return 'kept';
  return errorShare(automatic, difference, moved, tol) <= 1 ? 'taken' : 'shorter';
}

/** Whether an entry of column j misses: its error past its share (errorShare above 1). */
function columnMisses(automatic: Float64Array, { m, n, j, differences, rounding }: ColumnTarget, tol: number): boolean {
  for (let i = 0; i < m; i++) {
    const k = i * n + j;
    if (errorShare(automatic[k]!, differences[k]!, rounding?.[k] ?? 0, tol) > 1) return true;
  }
  return false;
}

/**
 * |automatic − numeric| as a share of what the entry is allowed, tol·max(1, |numeric|) + how far rounding moves it:
 * above 1 is a disagreement; 0 for an entry not compared (either side not finite).
 */
function errorShare(a: number, f: number, moved: number, tol: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(f)) return 0;
  const error = Math.abs(a - f);
  const allowed = tol * Math.max(1, Math.abs(f)) + moved;
  return allowed > 0 ? error / allowed : error === 0 ? 0 : Infinity;
}

/** The seed of checkDirections' directions: the same directions, and so the same verdict, at every run. */
const DIRECTIONS_SEED = 20261203;

/**
 * J·u (forward mode) against the central difference along u for `count` random directions u, as JAX's check_grads
 * does: 3 passes a direction whatever n, where the whole J's check takes 2n values. Each input moves by its step
 * (CHECK_STEP) times a number uniform in [−1, 1], from a fixed seed; u is the distance between the two points as
 * rounded, over twice 6·10⁻⁶, so that J·u is what their difference measures. A direction whose differences miss
 * is tried again with moves ten times shorter, as checkJacobian's columns are.
 */
export function checkDirections(
  program: Program,
  at: Point,
  wrt: readonly string[],
  count: number,
  tol = DEFAULT_TOLERANCE,
  options: DerivativeOptions = {},
): CheckResult {
  const m = program.m;
  const random = seededUniform(DIRECTIONS_SEED);
  const products = new Float64Array(m * count);
  const numeric = new Float64Array(m * count);
  const roundingOf = new Float64Array(m * count);
  const trial = { products: new Float64Array(m), numeric: new Float64Array(m), rounding: new Float64Array(m) };
  let value: Float64Array = new Float64Array(m);
  let warnings: JacobianResult['warnings'] = [];
  for (let k = 0; k < count; k++) {
    const moves = wrt.map((name) => Float64Array.from(at.get(name)!, (x) => (2 * random() - 1) * CHECK_STEP(x)));
    ({ value, warnings } = alongDirection(program, at, wrt, moves, 1, options, trial));
    const pending = new Set<number>();
    for (let i = 0; i < m; i++) {
      products[i * count + k] = trial.products[i]!;
      numeric[i * count + k] = trial.numeric[i]!;
      roundingOf[i * count + k] = trial.rounding[i]!;
      if (errorShare(trial.products[i]!, trial.numeric[i]!, trial.rounding[i]!, tol) > 1) pending.add(i);
    }
    for (let shorter = 1; shorter <= MAX_SHORTER_STEPS && pending.size > 0; shorter++) {
      alongDirection(program, at, wrt, moves, 10 ** -shorter, options, trial);
      for (const i of pending) {
        const entry = i * count + k;
        const verdict = shorterStep(trial.products[i]!, trial.numeric[i]!, trial.rounding[i]!, roundingOf[entry]!, tol);
        if (verdict === 'taken') {
          products[entry] = trial.products[i]!;
          numeric[entry] = trial.numeric[i]!;
          roundingOf[entry] = trial.rounding[i]!;
        }
        if (verdict !== 'shorter') pending.delete(i);
      }
    }
    options.onProgress?.(k + 1, count);
  }
  const automatic = {
    value,
    warnings,
    jacobian: products,
    m,
    n: count,
    mode: 'forward',
    method: 'one-hot',
    passes: count,
  } as const;
  return compared(automatic, numeric, roundingOf, tol, count);
}

/**
 * J·u and the central difference along u for the points x ± `factor`·moves (u: their distance as rounded, over
 * 2·6·10⁻⁶·factor), with the difference's rounding, into `into`; the point's value and warnings.
 */
function alongDirection(
  program: Program,
  at: Point,
  wrt: readonly string[],
  moves: readonly Float64Array[],
  factor: number,
  options: DerivativeOptions,
  into: { readonly products: Float64Array; readonly numeric: Float64Array; readonly rounding: Float64Array },
): { readonly value: Float64Array; readonly warnings: JacobianResult['warnings'] } {
  const scale = 2 * 6e-6 * factor;
  const above = new Map(at);
  const below = new Map(at);
  const u = new Float64Array(program.columns(wrt));
  let column = 0;
  wrt.forEach((name, v) => {
    const entries = at.get(name)!;
    const up = Float64Array.from(entries, (x, j) => x + factor * moves[v]![j]!);
    const down = Float64Array.from(entries, (x, j) => x - factor * moves[v]![j]!);
    for (let j = 0; j < entries.length; j++) u[column++] = (up[j]! - down[j]!) / scale;
    above.set(name, up);
    below.set(name, down);
  });
  const product = program.jvp(at, u, wrt, options);
  const plus = program.evaluate(above);
  const minus = program.evaluate(below);
  for (let i = 0; i < plus.length; i++) {
    into.products[i] = product.jvp[i]!;
    into.numeric[i] = (plus[i]! - minus[i]!) / scale;
    into.rounding[i] = (VALUE_ROUNDING * (Math.abs(plus[i]!) + Math.abs(minus[i]!))) / scale;
  }
  return product;
}

/** Numbers uniform in [0, 1) from a seed (mulberry32): directions that do not change from run to run. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The automatic entries against the numeric ones, each allowed the tolerance and its rounding (checkJacobian). */
function compared(
  automatic: JacobianResult,
  numeric: Float64Array,
  roundingOf: Float64Array,
  tol: number,
  directions: number | null,
): CheckResult {
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
    const score = errorShare(a, f, moved, tol);
    if (!(score <= 1)) agree = false;
    maxAbsError = Math.max(maxAbsError, Number.isNaN(error) ? Infinity : error);
    if (error > 0)
      maxRelError = Math.max(maxRelError, Number.isNaN(error) ? Infinity : error / Math.max(Math.abs(a), Math.abs(f)));
    if (score > worstScore) {
      worstScore = score;
      worst = { row: Math.floor(k / automatic.n), column: k % automatic.n, automatic: a, numeric: f };
    }
  });
  return { automatic, numeric, tol, maxAbsError, maxRelError, worst, skipped, unresolved, rounding, directions, agree };
}
