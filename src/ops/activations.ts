/**
 * The functions models use (issue 11): mathjs's `erf`, a prelude of
 * activations mathjs lacks (sigmoid, relu, softplus), and the reductions
 * logsumexp and median. Derivatives are formulas of table operations, so
 * second derivatives come from the same rules.
 */
import { SCALAR, type Shape } from '../shape.js';
import { exp, nearlyEqual, unary } from './elementwise.js';
import { ZERO, algebra, row, unsupported } from './rules.js';
import type { ActivationName, Operand, OpSpec, SpecialPoint } from './types.js';

// W. J. Cody's rational Chebyshev approximations of erf and erfc (Math. Comp. 23, 1969), as mathjs's erf
// uses them; the coefficients in their shortest round-trip form.
const ERF_SMALL = 0.46875;
const ERF_P1 = [3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315];
const ERF_Q1 = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const ERF_P2 = [
  0.5641884969886701, 8.883149794388377, 66.11919063714163, 298.6351381974001, 881.952221241769, 1712.0476126340707,
  2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
];
const ERF_Q2 = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597, 4362.619090143247,
  3439.3676741437216, 1230.3393548037495,
];
const ERF_P3 = [
  0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.016083785148742275, 0.0006587491615298378,
  0.016315387137302097,
];
const ERF_Q3 = [2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132, 0.0023352049762686918];
const ONE_OVER_SQRT_PI = 0.5641895835477563;
const TWO_OVER_SQRT_PI = 2 * ONE_OVER_SQRT_PI;

/** exp(-y²) for y ≥ 0 by the exponential `e`, with y² split so that its rounding error does not reach the exponential. */
function splitGaussian(e: (x: number) => number, y: number): number {
  const head = Math.trunc(y * 16) / 16;
  return e(-head * head) * e(-(y - head) * (y + head));
}

/** exp(-y²)·r by Math.exp, as erf's value takes it. */
const gaussianTimes = (y: number, r: number): number => splitGaussian(Math.exp, y) * r;

/**
 * exp(-x²) by the table's exp: within 2 ulp where x² rounded would put its rounding error, up to 338 ulps of exp(-x²)
 * at x = 26, into the exponential. erf's derivative.
 */
const gaussian = (x: number): number => splitGaussian(exp, Math.abs(x));

/** erfc(y) for 0.46875 < y ≤ 4. */
function erfcMiddle(y: number): number {
  let num = ERF_P2[8]! * y;
  let den = y;
  for (let i = 0; i < 7; i++) {
    num = (num + ERF_P2[i]!) * y;
    den = (den + ERF_Q2[i]!) * y;
  }
  return gaussianTimes(y, (num + ERF_P2[7]!) / (den + ERF_Q2[7]!));
}

/** erfc(y) for y > 4. */
function erfcTail(y: number): number {
  const z = 1 / (y * y);
  let num = ERF_P3[5]! * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + ERF_P3[i]!) * z;
    den = (den + ERF_Q3[i]!) * z;
  }
  const r = (z * (num + ERF_P3[4]!)) / (den + ERF_Q3[4]!);
  return gaussianTimes(y, (ONE_OVER_SQRT_PI - r) / y);
}

export function erf(x: number): number {
  const y = Math.abs(x);
  if (y <= ERF_SMALL) {
    const z = y * y;
    let num = ERF_P1[4]! * z;
    let den = z;
    for (let i = 0; i < 3; i++) {
      num = (num + ERF_P1[i]!) * z;
      den = (den + ERF_Q1[i]!) * z;
    }
    return (x * (num + ERF_P1[3]!)) / (den + ERF_Q1[3]!);
  }
  // From 6 on erfc < 2.2e-17, under half an ulp of 1: erf is ±1 in double precision (Infinity included).
  const tail = y >= 6 ? 0 : y <= 4 ? erfcMiddle(y) : erfcTail(y);
  return Math.sign(x) * (1 - tail);
}

/** 1/(1 + e^(-x)) without overflow: e^x/(1 + e^x) for negative x. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + exp(-x));
  const e = exp(x);
  return e / (1 + e);
}

/** s(x)·s(-x) = e/(1 + e)² with e = e^(-|x|): one exponential, as many as s(x) alone. */
function sigmoidSlope(x: number): number {
  const e = exp(-Math.abs(x));
  return e / (1 + e) / (1 + e);
}

/** log(1 + e^x) = max(x, 0) + log1p(e^(-|x|)): no overflow for large x, no loss for very negative x. */
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(exp(-Math.abs(x)));

const RELU_KINK: SpecialPoint = {
  kind: 'kink',
  convention: 'relu has a corner at 0: the derivative is taken as 0 there, as PyTorch does',
};

// Grown on demand and reused: median's kernels sort a copy of their input without allocating each pass.
let sortScratch = new Float64Array(64);
function sortedCopy(v: Float64Array, x: Operand): Float64Array {
  if (sortScratch.length < x.size) sortScratch = new Float64Array(2 * x.size);
  const sorted = sortScratch.subarray(0, x.size);
  sorted.set(v.subarray(x.offset, x.offset + x.size));
  return sorted.sort();
}

/** How many entries of x equal t (within mathjs's tolerance). */
function countEqual(v: Float64Array, x: Operand, t: number): number {
  let count = 0;
  for (let k = 0; k < x.size; k++) if (nearlyEqual(v[x.offset + k]!, t)) count++;
  return count;
}

const MEDIAN_TIE: SpecialPoint = {
  kind: 'tie',
  convention: "a tie at the median: each middle entry's share is split evenly among the entries equal to it",
};

// log Γ after Sun's fdlibm (e_lgamma_r.c; Copyright (C) 1993 Sun Microsystems, Inc.: "Permission to use, copy,
// modify, and distribute this software is freely granted, provided that this notice is preserved."), the method and
// coefficients of C libraries' lgamma (glibc's among them) for x > 0: within 2 ulp of the exact value (fixtures/
// functions/lgamma.json), exactly 0 at 1 and 2 and as accurate relative to its value near them, where a single series
// (Lanczos, mathjs's too) leaves an error of 1e-15, hundreds of the value's ulps.
/** The double whose upper 32 bits are `high` (the rest 0): fdlibm tests intervals by these words of x. */
function fromHighWord(high: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, high);
  return view.getFloat64(0);
}
const LGAMMA_TINY = 2 ** -70; // below it, log Γ(x) = −log x to double precision
const LGAMMA_LARGE = 2 ** 58; // from it, x·(log x − 1)
const BELOW_NEAR_ONE = fromHighWord(0x3feccccd); // about 0.9: below it, log Γ(x) = log Γ(x + 1) − log x
const FROM_NEAR_TWO = [fromHighWord(0x3fe76944), fromHighWord(0x3ffbb4c3)]; // about 0.73 and 1.73
const FROM_NEAR_MINIMUM = [fromHighWord(0x3fcda661), fromHighWord(0x3ff3b4c4)]; // about 0.23 and 1.23
/** Where Γ is smallest on (0, ∞), the value there (head and tail), around which lgamma is expanded. */
const GAMMA_MINIMUM_AT = 1.4616321449683622;
const GAMMA_MINIMUM_LOG = -0.12148629053584961;
const GAMMA_MINIMUM_LOG_TAIL = -3.6386769970395054e-18;
/** log Γ(2 − y) = y·E(y²) + y²·O(y²) − y/2 for y in [0, 0.27]: E and O. */
const NEAR_TWO_EVEN = [
  0.07721566490153287, 0.06735230105312927, 0.007385550860814029, 0.0011927076318336207, 0.00022086279071390839,
  0.000025214456545125733,
];
const NEAR_TWO_ODD = [
  0.3224670334241136, 0.020580808432516733, 0.0028905138367341563, 0.0005100697921535113, 0.00010801156724758394,
  0.000044864094961891516,
];
/** log Γ(GAMMA_MINIMUM_AT + y) for y in [−0.23, 0.27]: three interleaved series in y³. */
const NEAR_MINIMUM_0 = [
  0.48383612272381005, -0.032788541075985965, 0.006100538702462913, -0.0014034646998923284, 0.00031563207090362595,
];
const NEAR_MINIMUM_1 = [
  -0.1475877229945939, 0.01797067508118204, -0.0036845201678113826, 0.000881081882437654, -0.0003127541683751209,
];
const NEAR_MINIMUM_2 = [
  0.06462494023913339, -0.010314224129834144, 0.0022596478090061247, -0.0005385953053567405, 0.0003355291926355191,
];
/** log Γ(1 + y) + y/2 for y in [−0.1, 0.23]: numerator and denominator in y. */
const NEAR_ONE_P = [
  -0.07721566490153287, 0.6328270640250934, 1.4549225013723477, 0.9777175279633727, 0.22896372806469245,
  0.013381091853678766,
];
const NEAR_ONE_Q = [
  1, 2.4559779371304113, 2.128489763798934, 0.7692851504566728, 0.10422264559336913, 0.0032170924228242391,
];
/** log Γ(2 + y) − y/2 for y in [0, 1): numerator and denominator in y. */
const FROM_TWO_P = [
  -0.07721566490153287, 0.21498241596060885, 0.325778796408931, 0.14635047265246445, 0.02664227030336386,
  0.0018402845140733772, 0.00003194753265841009,
];
const FROM_TWO_Q = [
  1, 1.3920053346762105, 0.7219355475671381, 0.17193386563280308, 0.01864591917156519, 0.0007779424963818936,
  0.000007326684307446256,
];
/** Stirling's series past (x − ½)(log x − 1), in 1/x, for 8 ≤ x < 2⁵⁸: its constant, then the odd powers' terms. */
const STIRLING_CONSTANT = 0.4189385332046727;
const STIRLING = [
  0.08333333333333297, -0.0027777777772877554, 0.0007936505586430196, -0.00059518755745034, 0.0008363399189962821,
  -0.0016309293409657527,
];

/** c[0] + c[1]·y + … + c[n]·yⁿ, by Horner's rule (innermost first, as fdlibm nests it). */
function horner(c: readonly number[], y: number): number {
  let p = c[c.length - 1]!;
  for (let i = c.length - 2; i >= 0; i--) p = c[i]! + y * p;
  return p;
}

/** log Γ(x) for x ≥ 0, as mathjs's lgamma of a real number: +Infinity at 0, NaN below (no real result). */
export function logGamma(x: number): number {
  if (!(x > 0) || x === Infinity) return x === 0 ? Infinity : x < 0 ? NaN : x;
  if (x < LGAMMA_TINY) return -Math.log(x);
  if (x === 1 || x === 2) return 0;
  if (x < 2) {
    // Near 1 and below it, by log Γ(x) = log Γ(x + 1) − log x; then one of three expansions, by where x lies.
    const below = x < BELOW_NEAR_ONE;
    const r = below ? -Math.log(x) : 0;
    const i = below ? 0 : 1;
    if (x >= FROM_NEAR_TWO[i]!) {
      const y = below ? 1 - x : 2 - x;
      const z = y * y;
      return r + (y * horner(NEAR_TWO_EVEN, z) + z * horner(NEAR_TWO_ODD, z) - 0.5 * y);
    }
    if (x >= FROM_NEAR_MINIMUM[i]!) {
      const y = below ? x - (GAMMA_MINIMUM_AT - 1) : x - GAMMA_MINIMUM_AT;
      const z = y * y;
      const w = z * y;
      const p2 = horner(NEAR_MINIMUM_1, w) + y * horner(NEAR_MINIMUM_2, w);
      return r + (GAMMA_MINIMUM_LOG + (z * horner(NEAR_MINIMUM_0, w) - (GAMMA_MINIMUM_LOG_TAIL - w * p2)));
    }
    const y = below ? x : x - 1;
    return r + (-0.5 * y + (y * horner(NEAR_ONE_P, y)) / horner(NEAR_ONE_Q, y));
  }
  if (x < 8) {
    // log Γ(2 + y) for y = x − ⌊x⌋, then up by log Γ(1 + s) = log s + log Γ(s) to x.
    const whole = Math.floor(x);
    const y = x - whole;
    const r = 0.5 * y + (y * horner(FROM_TWO_P, y)) / horner(FROM_TWO_Q, y);
    if (whole < 3) return r;
    let product = 1;
    for (let k = whole - 1; k >= 2; k--) product *= y + k;
    return r + Math.log(product);
  }
  if (x < LGAMMA_LARGE) {
    const z = 1 / x;
    return (x - 0.5) * (Math.log(x) - 1) + (STIRLING_CONSTANT + z * horner(STIRLING, z * z));
  }
  return x * (Math.log(x) - 1);
}

/** Above this, the asymptotic series of digamma and trigamma reach double precision. */
const ASYMPTOTIC_FROM = 16;
/** From here up, ψ(x) = ψ(x + 1) − 1/x up to the asymptotic series cancels too little to cost more than an ulp. */
const DIGAMMA_UPWARD_FROM = 10;
/** Where ψ is 0 on (0, ∞), head and tail: ψ(x) = (x − x₀)·R(x) keeps ψ's relative precision near it. */
const DIGAMMA_ROOT = 1.4616321449683622;
const DIGAMMA_ROOT_TAIL = 9.549995429965697e-17;
/**
 * R(x) − 1 = ψ(x)/(x − x₀) − 1 for x in [1, 2], in u = x − 1.5: a polynomial fitted to exact values (mpmath's
 * chebyfit, 200 bits, scripts/oracle/digamma.py), within 6e-19 of it.
 */
const DIGAMMA_NEAR_ROOT = [
  -0.04894412396816712, -0.42362742128146047, 0.24054248424078736, -0.14840492305391761, 0.09498872445283,
  -0.06192213327165706, 0.04076083394462657, -0.02697579684427536, 0.017907248195969127, -0.011908215172584002,
  0.007927024067961237, -0.00528001782089874, 0.0035180800751066694, -0.002344650082351321, 0.0015635679757533885,
  -0.001042261556504223, 0.0006899717801166841, -0.0004599625144612576, 0.0003268068044141764, -0.0002178682145501451,
  0.00009173383289174792, -0.0000611554261750751, 0.00012230983055406747, -0.00008153978973309418,
];

/**
 * ψ(x) = d/dx log Γ(x) for x ≥ 0; −Infinity at 0. From 10 up by ψ(x) = ψ(x + 1) − 1/x to the asymptotic series;
 * below, by (x − x₀)·R(x) on [1, 2], reached by ψ(x) = ψ(x − 1) + 1/(x − 1) (positive terms) or one step of
 * ψ(x) = ψ(x + 1) − 1/x from (0, 1). The recurrence up to the series sums terms that cancel, to 0 at x₀: below 10
 * it lost up to all of ψ's relative precision (1e16 ulps at the double nearest x₀, 20 at 2).
 */
export function digamma(x: number): number {
  if (!(x > 0) || x === Infinity) return x === 0 ? -Infinity : x < 0 ? NaN : x;
  if (x >= DIGAMMA_UPWARD_FROM) {
    let shift = 0;
    for (; x < ASYMPTOTIC_FROM; x++) shift -= 1 / x;
    const s = 1 / (x * x);
    const series = s * (1 / 12 - s * (1 / 120 - s * (1 / 252 - s * (1 / 240 - s * (1 / 132)))));
    return shift + Math.log(x) - 0.5 / x - series;
  }
  // The subtractions below are exact (Sterbenz, or x and an integer), but for x < ¼, far from x₀, where ψ < −4.
  if (x < 1) {
    // ψ(x + 1) without rounding x + 1.
    const g = x - (DIGAMMA_ROOT - 1) - DIGAMMA_ROOT_TAIL;
    return -1 / x + (g + g * horner(DIGAMMA_NEAR_ROOT, x - 0.5));
  }
  let shift = 0;
  for (; x > 2; x--) shift += 1 / (x - 1);
  const g = x - DIGAMMA_ROOT - DIGAMMA_ROOT_TAIL;
  return shift + (g + g * horner(DIGAMMA_NEAR_ROOT, x - 1.5));
}

/** ψ′(x) for x ≥ 0: up by ψ′(x) = ψ′(x + 1) + 1/x² to the asymptotic series; +Infinity at 0. */
export function trigamma(x: number): number {
  if (!(x > 0) || x === Infinity) return x === 0 ? Infinity : x < 0 ? NaN : x === Infinity ? 0 : x;
  let shift = 0;
  for (; x < ASYMPTOTIC_FROM; x++) shift += 1 / (x * x);
  const s = 1 / (x * x);
  const series = 1 / x + s / 2 + (s / x) * (1 / 6 - s * (1 / 30 - s * (1 / 42 - s * (1 / 30 - s * (5 / 66)))));
  return shift + series;
}

const LGAMMA_DOMAIN: SpecialPoint = {
  kind: 'domain',
  convention: 'outside the domain: lgamma of a negative number is NaN, as in mathjs (no real result)',
};

const toScalar = (): Shape => SCALAR;

export const ACTIVATIONS: Record<ActivationName, OpSpec> = {
  erf: unary('erf', erf, (A, x) => A.mul(A.c(TWO_OVER_SQRT_PI), A.call('gaussian', x)), 'error function'),
  gaussian: unary('gaussian', gaussian, (A, x, y) => A.mul(A.mul(A.c(-2), x), y)),
  sigmoid: unary('sigmoid', sigmoid, (A, x) => A.call('sigmoidSlope', x), 'logistic sigmoid 1/(1 + exp(-x))'),
  // s'(x) = s(x)·(1 - s(x)), written s(x)·s(-x) so that it keeps its precision where s is near 1. Its own derivative,
  // s(x)·s(-x)·(s(-x) - s(x)) = -s'(x)·tanh(x/2): the difference of the two rounded s near ½ kept few digits near 0
  // (relative error 1e-16/|x|).
  sigmoidSlope: unary('sigmoidSlope', sigmoidSlope, (A, x, y) => A.neg(A.mul(y, A.call('tanh', A.mul(A.c(0.5), x))))),
  relu: unary(
    'relu',
    (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
    (A, x) => A.call('heaviside', x),
    'rectifier max(x, 0)',
    (x) => (x === 0 ? RELU_KINK : null),
  ),
  // relu's derivative: exactly 1 where x > 0 (no comparison tolerance), else 0.
  heaviside: unary('heaviside', (x) => (x > 0 ? 1 : 0), null),
  softplus: unary('softplus', softplus, (A, x) => A.call('sigmoid', x), 'log(1 + exp(x)), a smooth relu'),

  /** log(Σ exp(x)) of all entries, shifted by the largest entry so that nothing overflows. */
  logsumexp: {
    label: 'logsumexp',
    arity: 1,
    shape: toScalar,
    value(v, out, [a]) {
      const { offset, size } = a!;
      let top = offset;
      for (let k = offset; k < offset + size; k++) if (v[k]! > v[top]! || Number.isNaN(v[k]!)) top = k;
      const m = v[top]!;
      if (!Number.isFinite(m)) {
        v[out.offset] = m;
        return;
      }
      // The largest entry contributes exactly 1: log1p of the rest keeps small sums exact.
      let rest = 0;
      for (let k = offset; k < offset + size; k++) if (k !== top) rest += exp(v[k]! - m);
      v[out.offset] = m + Math.log1p(rest);
    },
    // ∂/∂x = softmax(x) = exp(z - logsumexp(z)) with z = x - max(x), as softmax is lowered: x - logsumexp(x) itself
    // would lose the small log1p of the rest in a large logsumexp (x = [1e308, 1e308] gave [1, 1], not [0.5, 0.5];
    // at 1e6, an error of 1e-10). For softmax's own z the shift is by 0, and the partial the node softmax(x) is.
    partial(b, _i, node) {
      const A = algebra(b);
      const x = node.args[0]!;
      const z = A.sub(x, A.call('stopMax', x));
      return row(A.call('exp', A.sub(z, A.call('logsumexp', z))));
    },
  },

  /**
   * The largest finite entry (0 if there is none), with derivative 0: a shift
   * for functions that do not depend on it, such as softmax, so that exp
   * cannot overflow and no maximum (nor its ties) enters the derivative.
   */
  stopMax: {
    label: 'max',
    arity: 1,
    shape: toScalar,
    value(v, out, [a]) {
      let m = -Infinity;
      for (let k = a!.offset; k < a!.offset + a!.size; k++) if (v[k]! > m && v[k]! < Infinity) m = v[k]!;
      v[out.offset] = m === -Infinity ? 0 : m;
    },
    partial: () => ZERO,
  },

  /** The middle entry of the sorted entries; of an even count, the mean of the two middle ones (as mathjs). */
  median: {
    label: 'median',
    arity: 1,
    shape: toScalar,
    value(v, out, [a]) {
      const sorted = sortedCopy(v, a!);
      const n = a!.size;
      v[out.offset] = Number.isNaN(sorted[n - 1]!)
        ? NaN
        : n % 2 === 1
          ? sorted[(n - 1) / 2]!
          : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
    },
    partial: (b, _i, node) => row(b.apply('medianWeights', [node.args[0]!])),
    special(v, _out, [a], found) {
      const sorted = sortedCopy(v, a!);
      const n = a!.size;
      const [lo, hi] = [sorted[(n - 1) >> 1]!, sorted[n >> 1]!];
      if (countEqual(v, a!, lo) > 1 || countEqual(v, a!, hi) > 1) found(0, MEDIAN_TIE);
    },
  },
  /**
   * ∂median/∂x: each middle order statistic (one of weight 1, or two of 1/2)
   * gives its weight in equal parts to the entries equal to it, the
   * minimum-norm choice at a tie, as for max(x) (SPEC §6).
   */
  medianWeights: {
    label: 'medianWeights',
    arity: 1,
    shape: (args) => args[0]!,
    value(v, out, [a]) {
      const x = a!;
      const sorted = sortedCopy(v, x);
      const n = x.size;
      const [lo, hi] = [sorted[(n - 1) >> 1]!, sorted[n >> 1]!];
      const [countLo, countHi] = [countEqual(v, x, lo), countEqual(v, x, hi)];
      for (let k = 0; k < n; k++) {
        const xk = v[x.offset + k]!;
        v[out.offset + k] = (nearlyEqual(xk, lo) ? 0.5 / countLo : 0) + (nearlyEqual(xk, hi) ? 0.5 / countHi : 0);
      }
    },
    partial: () => ZERO,
  },
  lgamma: unary(
    'lgamma',
    logGamma,
    (A, x) => A.call('digamma', x),
    'logarithm of the gamma function, log Γ(x), for x ≥ 0',
    (x) => (x < 0 ? LGAMMA_DOMAIN : null),
  ),
  digamma: unary('digamma', digamma, (A, x) => A.call('trigamma', x)),
  // The second derivative of lgamma; its own derivative would be a third, which no command needs.
  trigamma: { ...unary('trigamma', trigamma, null), partial: () => unsupported('third derivatives of lgamma') },
};
