/**
 * Element-wise operations: a scalar function applied to every entry, with a
 * scalar broadcast over the other operands. Each entry is its value and the
 * formula of each partial derivative, built from the table's own operations.
 */
import { ShapeError } from '../errors.js';
import { SCALAR, describeShape, sameShape, type Shape } from '../shape.js';
import { ZERO, algebra, elementwise } from './rules.js';
import { EXP_STEP_HEAD, EXP_STEP_TAIL, EXP_STEPS_PER_UNIT, EXP_TABLE_HEADS, EXP_TABLE_TAILS } from './exp-table.js';
import type {
  ElementwiseBinaryName,
  ElementwiseSpec,
  ElementwiseUnaryName,
  NodeId,
  Partial,
  SpecialPoint,
} from './types.js';

type Algebra = ReturnType<typeof algebra>;
/** A partial derivative formula: operands (x, or a and b), output y. */
type UnaryFormula = (A: Algebra, x: NodeId, y: NodeId) => NodeId;
type BinaryFormula = (A: Algebra, a: NodeId, b: NodeId, y: NodeId) => NodeId;
/** Whether an entry (input x or a, b; output y) sits at a special point, and which. */
type UnarySpecial = (x: number, y: number) => SpecialPoint | null;
type BinarySpecial = (a: number, b: number, y: number) => SpecialPoint | null;

/** Operands of an element-wise operation have one shape, or are scalars. */
export function elementwiseShape(label: string, shapes: readonly Shape[]): Shape {
  let out: Shape = SCALAR;
  for (const s of shapes) {
    if (s.length === 0) continue;
    if (out.length === 0) out = s;
    else if (!sameShape(out, s)) {
      throw new ShapeError(
        `cannot apply ${label} to ${shapes.map(describeShape).join(' and ')}: ` +
          'element-wise operands need the same shape, or one of them a scalar',
      );
    }
  }
  return out;
}

export function unary(
  label: string,
  f: (x: number) => number,
  derivative: UnaryFormula | null,
  doc?: string,
  special?: UnarySpecial,
): ElementwiseSpec {
  return {
    label,
    arity: 1,
    scalar: f,
    ...(doc === undefined ? {} : { fn: { name: label, doc, arity: 1 } }),
    ...(special === undefined
      ? {}
      : {
          specialPoint: special,
          special(v, out, args, found) {
            const a = args[0]!.offset;
            for (let k = 0; k < out.size; k++) {
              const point = special(v[a + k]!, v[out.offset + k]!);
              if (point !== null) found(k, point);
            }
          },
        }),
    shape: (args) => args[0]!,
    value(v, out, args) {
      const a = args[0]!.offset;
      const o = out.offset;
      for (let k = 0; k < out.size; k++) v[o + k] = f(v[a + k]!);
    },
    partial(b, _i, node): Partial {
      return derivative === null ? ZERO : elementwise(derivative(algebra(b), node.args[0]!, node.out));
    },
  };
}

function binary(
  label: string,
  f: (a: number, b: number) => number,
  da: BinaryFormula | null,
  db: BinaryFormula | null,
  fn?: { name: string; doc: string; args?: string },
  special?: BinarySpecial,
): ElementwiseSpec {
  return {
    label,
    arity: 2,
    scalar: f,
    ...(fn === undefined ? {} : { fn: { ...fn, arity: 2 } }),
    ...(special === undefined
      ? {}
      : {
          specialPoint: special,
          special(v, out, args, found) {
            const [a, b] = [args[0]!, args[1]!];
            const sa = a.size === 1 ? 0 : 1;
            const sb = b.size === 1 ? 0 : 1;
            for (let k = 0; k < out.size; k++) {
              const point = special(v[a.offset + sa * k]!, v[b.offset + sb * k]!, v[out.offset + k]!);
              if (point !== null) found(k, point);
            }
          },
        }),
    shape: (args) => elementwiseShape(label, args),
    value(v, out, args) {
      const a = args[0]!;
      const b = args[1]!;
      const sa = a.size === 1 ? 0 : 1;
      const sb = b.size === 1 ? 0 : 1;
      const o = out.offset;
      for (let k = 0; k < out.size; k++) v[o + k] = f(v[a.offset + sa * k]!, v[b.offset + sb * k]!);
    },
    partial(b, i, node): Partial {
      const formula = i === 0 ? da : db;
      if (formula === null) return ZERO;
      return elementwise(formula(algebra(b), node.args[0]!, node.args[1]!, node.out));
    },
  };
}

// mathjs compares with a relative and an absolute tolerance (its config relTol, absTol).
const REL_TOL = 1e-12;
const ABS_TOL = 1e-15;
export function nearlyEqual(a: number, b: number): boolean {
  const difference = Math.abs(a - b);
  // Most pairs are apart beyond both tolerances, which one test says; a NaN or an infinity fails it, and is seen below.
  if (difference > ABS_TOL && difference > REL_TOL * Math.max(Math.abs(a), Math.abs(b))) return false;
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  if (a === b) return true;
  return difference <= Math.max(REL_TOL * Math.max(Math.abs(a), Math.abs(b)), ABS_TOL);
}
const truth = (x: number): boolean => x !== 0 && !Number.isNaN(x);
const bool = (p: boolean): number => (p ? 1 : 0);
/** An operation whose values are 0, 1 or a weight between, whatever its operands (NaN compares false). */
const finite = (spec: ElementwiseSpec): ElementwiseSpec => ({ ...spec, finiteValues: true });

/** mathjs rounds half away from zero. */
const roundHalfAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));
/**
 * mathjs's round: x is first rounded to 12 decimals, where it nearly equals that (its tolerance), so that
 * 2.4999999999995 counts as 2.5 and rounds to 3, and -9e-16 as 0 (+0: mathjs's decimal text of a zero has no sign;
 * a larger negative x rounds to -0). Snapping changes the result only for x within 1e-12 below a half (in
 * magnitude), and only there are x's decimals read (from its shortest text, as mathjs reads them).
 */
function roundLikeMathjs(x: number): number {
  const magnitude = Math.abs(x);
  if (magnitude <= ABS_TOL) return 0;
  const rounded = roundHalfAway(x);
  const half = Math.floor(magnitude) + 0.5;
  if (!(magnitude < half && half - magnitude < 1e-12)) return rounded;
  const text = String(magnitude);
  const decimals = text.slice(text.indexOf('.') + 1);
  // n.499999999999 and a 13th decimal from 5 up: 12 decimals, rounded half up, make n.5.
  if (!(decimals.startsWith('499999999999') && decimals.length > 12 && decimals[12]! >= '5')) return rounded;
  const snapped = Math.sign(x) * half;
  return nearlyEqual(x, snapped) ? roundHalfAway(snapped) : rounded;
}
/** mathjs snaps floor and ceil (and so fix and mod) to the integer its round gives, where x nearly equals it. */
function floorLikeMathjs(x: number): number {
  const f = Math.floor(x);
  const r = roundLikeMathjs(x);
  return f !== r && nearlyEqual(x, r) && !nearlyEqual(x, f) ? r : f;
}
function ceilLikeMathjs(x: number): number {
  const c = Math.ceil(x);
  const r = roundLikeMathjs(x);
  return c !== r && nearlyEqual(x, r) && !nearlyEqual(x, c) ? r : c;
}

/** mathjs's real nth root: odd roots of negative numbers are real; other roots of them do not exist. */
function nthRootValue(a: number, root: number): number {
  const inverse = root < 0;
  const r = Math.abs(root);
  if (r === 0 || (a < 0 && r % 2 !== 1)) return NaN;
  if (a === 0) return inverse ? Infinity : 0;
  if (!Number.isFinite(a)) return inverse ? 0 : a;
  const x = a < 0 ? -Math.pow(-a, 1 / r) : Math.pow(a, 1 / r);
  return inverse ? 1 / x : x;
}

/**
 * mathjs's pow for real numbers. A square is x·x, the same number as Math.pow's (both correctly rounded) without its
 * call: sum(x.^2 .* sin(x)) over 10⁶ entries took 11.0 ms with Math.pow, 8.0 with x·x.
 */
export function powValue(x: number, y: number): number {
  if (y === 2) return x * x;
  if ((x * x < 1 && y === Infinity) || (x * x > 1 && y === -Infinity)) return 0;
  return Math.pow(x, y);
}

const special = (kind: SpecialPoint['kind'], convention: string): SpecialPoint => ({ kind, convention });
const DOMAIN = special(
  'domain',
  'outside the domain: the value is NaN (no real result); the derivative is what its formula gives there',
);
const INFINITE = special('infinite', 'the derivative is infinite here: its one-sided limit (±Infinity) is used');
const STEP = special('threshold', 'a step: the derivative is taken as 0, also at the jump');
const COMPARISON = special('threshold', 'a comparison exactly at its threshold: the derivative is 0');

/** A function defined on [lo, hi] (either may be infinite) whose derivative is infinite at finite ends. */
const domain =
  (lo: number, hi: number): UnarySpecial =>
  (x) =>
    x < lo || x > hi ? DOMAIN : x === lo || x === hi ? INFINITE : null;
/** Infinite derivative at 0 (cot, csc, cbrt …). */
const infiniteAtZero: UnarySpecial = (x) => (x === 0 ? INFINITE : null);
/** Defined outside (-1, 1), infinite derivative at ±1 (asec, acsc, acoth). */
const outsideUnit: UnarySpecial = (x) => (Math.abs(x) < 1 ? DOMAIN : Math.abs(x) === 1 ? INFINITE : null);

/**
 * A partial of a.^b set to 0 at 0^0 by a mask (a step: its derivative is 0). Where a or b is a constant
 * with no zero (x.^2, 2.^x) there is no 0^0, and no mask in the graph.
 */
function zeroAtZeroToZero(A: Algebra, partial: NodeId, a: NodeId, b: NodeId): NodeId {
  if (A.neverZero(a) || A.neverZero(b)) return partial;
  return A.strongMul(partial, A.call('not', A.call('and', A.isZero(a), A.isZero(b))));
}

/**
 * exp by a table of 2^(j/128) (Tang's method): x = (128·k + j)·ln 2/128 + r with |r| ≤ ln 2/256, then
 * exp(x) = 2^k·2^(j/128)·exp(r), exp(r) − 1 by its Taylor polynomial to r^5 (the next term is below 2^-60). The table
 * entry carries its own rounding error, so the one rounding that counts is the last addition: within 0.51 ulp of the
 * exact value, where fdlibm's (Math.exp's) is within 1, and with no division it costs about half of fdlibm's in a loop.
 * test/accuracy.test.ts checks it against exact values.
 *
 * Its constants are parameters of this closure, not read from the module, because the bundles (esbuild) turn a
 * module's constants into `var`s, which V8 reads anew at each call, where it folds a closure's constants into the loop
 * that inlines it: a loop summing exp ran 40% slower with them as module `var`s.
 */
function tableExp(
  heads: Float64Array,
  tails: Float64Array,
  stepsPerUnit: number,
  stepHead: number,
  stepTail: number,
  tableBelow: number,
  roundingShift: number,
) {
  /** 2^k at k + 1022 for -1022 ≤ k ≤ 1023. */
  const powersOfTwo = Float64Array.from({ length: 2046 }, (_, i) => 2 ** (i - 1022));
  return (x: number): number => {
    if (!(Math.abs(x) < tableBelow)) return Math.exp(x);
    const steps = x * stepsPerUnit + roundingShift - roundingShift;
    const n = steps | 0;
    const j = n & 127;
    const r = x - steps * stepHead - steps * stepTail;
    const expm1r = r + r * r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120))));
    const head = heads[j]!;
    return (head + (head * expm1r + tails[j]!)) * powersOfTwo[(n >> 7) + 1022]!;
  };
}

/** |x| below it is in exp's table; beyond it the result is near overflow or subnormal, and Math.exp gives it. */
export const EXP_TABLE_BELOW = 708;
/** 1.5·2^52: adding it and taking it away rounds a number below 2^51 to an integer (exp's 128·x/ln 2). */
export const EXP_ROUNDING_SHIFT = 6755399441055744;

/** e^x, within 0.51 ulp of the exact value. */
export const exp = tableExp(
  EXP_TABLE_HEADS,
  EXP_TABLE_TAILS,
  EXP_STEPS_PER_UNIT,
  EXP_STEP_HEAD,
  EXP_STEP_TAIL,
  EXP_TABLE_BELOW,
  EXP_ROUNDING_SHIFT,
);

const sinh = Math.sinh;
const cosh = Math.cosh;

// The functions of 1/x below avoid the two ways it loses digits: 1/x rounded, then fed to a function infinitely steep
// there (acos, asin, atanh, acosh at 1: asec, acoth, asech were up to 3e6 ulps off near ±1, relative error 5e-8),
// and 1/x or cosh x out of range (asech, acsch of a subnormal x were Infinity; sech, csch past 710 were 0).
/** Beyond it cosh and sinh overflow, while 2e^-|x| is still no 0: sech and csch are that there. */
const HYPERBOLIC_TAIL_FROM = 700;
/** Beyond it 1 + x² is x² to the last bit, and x² would overflow soon: atanSlope divides by x twice there. */
const ATAN_SLOPE_SQUARE_FROM = 2 ** 500;
/** Below it 1/x overflows: asech and acsch are log(2/|x|) there, to which acosh(1/x) and asinh(1/x) tend. */
const RECIPROCAL_OVERFLOWS_BELOW = 2 ** -1000;
/** The arc of x and 1/x that |x| ≥ 2 keeps accurate, and the formula of √(x² − 1) for 1 ≤ |x| < 2. */
const SMALL_RECIPROCAL_FROM = 2;

/** asec(x) = acos(1/x): near ±1, atan(√((|x| − 1)(|x| + 1))), from π for negative x. */
function asec(x: number): number {
  const a = Math.abs(x);
  if (!(a < SMALL_RECIPROCAL_FROM)) return Math.acos(1 / x);
  const angle = Math.atan(Math.sqrt((a - 1) * (a + 1)));
  return x < 0 ? Math.PI - angle : angle;
}
/** acsc(x) = asin(1/x): near ±1, atan(1/√((|x| − 1)(|x| + 1))) with x's sign. */
function acsc(x: number): number {
  const a = Math.abs(x);
  if (!(a < SMALL_RECIPROCAL_FROM)) return Math.asin(1 / x);
  return Math.sign(x) * Math.atan(1 / Math.sqrt((a - 1) * (a + 1)));
}
/** acoth(x) = atanh(1/x) = ½·log(1 + 2/(|x| − 1)) with x's sign: |x| − 1 is exact near ±1. */
const acoth = (x: number): number => Math.sign(x) * 0.5 * Math.log1p(2 / (Math.abs(x) - 1));
/** asech(x) = acosh(1/x) = log1p(((1 − x) + √((1 − x)(1 + x)))/x): 1 − x is exact near 1. */
function asech(x: number): number {
  if (x < RECIPROCAL_OVERFLOWS_BELOW && x > 0) return Math.LN2 - Math.log(x);
  return Math.log1p((1 - x + Math.sqrt((1 - x) * (1 + x))) / x);
}
/** acsch(x) = asinh(1/x). */
function acsch(x: number): number {
  const a = Math.abs(x);
  return a < RECIPROCAL_OVERFLOWS_BELOW && a > 0 ? Math.sign(x) * (Math.LN2 - Math.log(a)) : Math.asinh(1 / x);
}
/** asech′(x) = −1/(x·√((1 − x)(1 + x))): 1 − x is exact near 1. */
const asechSlope = (x: number): number => -1 / (x * Math.sqrt((1 - x) * (1 + x)));
/** Splits x into 26 high bits and the rest (Veltkamp): each product of two parts is exact. */
const VELTKAMP = 134217729;
/** 1 − 2x², with x² split into exact products: near its zeros ±1/√2 it keeps the digits that 1 − 2·x·x loses. */
function oneLessTwiceSquare(x: number): number {
  const scaled = VELTKAMP * x;
  const head = scaled - (scaled - x);
  const tail = x - head;
  return 1 - 2 * head * head - 4 * head * tail - 2 * tail * tail;
}
/** 1/√(1 + x²), by hypot: no overflow of x². */
const asinhSlope = (x: number): number => 1 / Math.hypot(x, 1);
/** 1/(1 + x²); (1/x)/x where x² overflows, while the result is still a subnormal number, not 0. */
const atanSlope = (x: number): number => (Math.abs(x) < ATAN_SLOPE_SQUARE_FROM ? 1 / (1 + x * x) : 1 / x / x);
const sech = (x: number): number => (Math.abs(x) > HYPERBOLIC_TAIL_FROM ? 2 * Math.exp(-Math.abs(x)) : 1 / cosh(x));
const csch = (x: number): number =>
  Math.abs(x) > HYPERBOLIC_TAIL_FROM ? Math.sign(x) * 2 * Math.exp(-Math.abs(x)) : 1 / sinh(x);

// The derivatives of the inverse functions are 1/√(1 − x²), 1/(1 − x²), 1/√(x² − 1) …, steep where the difference is
// near 0, at |x| = 1: there x² rounded kept none of its digits (asin' at 1 − 1e-9 was 3e-8 off, relative), while
// 1 − x or x − 1 is exact, so the differences below are products. A table formula is also its second derivative's:
// where it would be 1/u with u beyond 1e154 (|x| beyond 1e77), it is a product of two reciprocals, since the
// derivative of 1/u, −(1/u)², underflows there while the second derivative, about 2/x³, is a normal number up to
// 1e102 (acoth, asec, acsc, acsch were 0 there, or up to 1e4 ulps off).
/** (x − 1)(x + 1) = x² − 1. */
const squareLessOne = (A: Algebra, x: NodeId): NodeId => A.mul(A.sub(x, A.c(1)), A.add(x, A.c(1)));
/** (1 − x)(1 + x) = 1 − x², for |x| ≥ 1 or near 1, where −(1 + x) + (1 − x) is an exact enough derivative −2x. */
const oneLessSquareNearOne = (A: Algebra, x: NodeId): NodeId => A.mul(A.sub(A.c(1), x), A.add(A.c(1), x));
/**
 * 1 − x² on (−1, 1): 1 − x·x below ½ in size, whose derivative −2x is exact (the product's is −(1 + x) + (1 − x)).
 * The choice by heaviside, which has no special points: a comparison or abs would report one at ±½ or 0.
 */
const oneLessSquare = (A: Algebra, x: NodeId): NodeId => {
  const xx = A.square(x);
  return A.where(A.call('heaviside', A.sub(A.c(0.25), xx)), A.sub(A.c(1), xx), oneLessSquareNearOne(A, x));
};

export const ELEMENTWISE_UNARY: Record<ElementwiseUnaryName, ElementwiseSpec> = {
  unaryMinus: unary(
    '-',
    (x) => -x,
    (A) => A.c(-1),
  ),
  not: finite(unary('not', (x) => bool(!truth(x)), null)),
  isZero: finite(unary('isZero', (x) => bool(x === 0), null)),

  sin: unary('sin', Math.sin, (A, x) => A.call('cos', x), 'sine'),
  cos: unary('cos', Math.cos, (A, x) => A.neg(A.call('sin', x)), 'cosine'),
  tan: unary('tan', Math.tan, (A, _x, y) => A.add(A.c(1), A.square(y)), 'tangent'),
  sec: unary(
    'sec',
    (x) => 1 / Math.cos(x),
    (A, x, y) => A.mul(y, A.call('tan', x)),
    'secant, 1/cos(x)',
  ),
  csc: unary(
    'csc',
    (x) => 1 / Math.sin(x),
    (A, x, y) => A.neg(A.mul(y, A.call('cot', x))),
    'cosecant, 1/sin(x)',
    infiniteAtZero,
  ),
  cot: unary(
    'cot',
    (x) => 1 / Math.tan(x),
    (A, _x, y) => A.neg(A.add(A.c(1), A.square(y))),
    'cotangent, 1/tan(x)',
    infiniteAtZero,
  ),

  asin: unary('asin', Math.asin, (A, x) => A.recip(A.sqrt(oneLessSquare(A, x))), 'inverse sine', domain(-1, 1)),
  acos: unary(
    'acos',
    Math.acos,
    (A, x) => A.neg(A.recip(A.sqrt(oneLessSquare(A, x)))),
    'inverse cosine',
    domain(-1, 1),
  ),
  atan: unary('atan', Math.atan, (A, x) => A.call('atanSlope', x), 'inverse tangent'),
  // 1/(1 + x²), whose own derivative −2x/(1 + x²)² is formed as −2·(x·y)·y: as −2x·y² (the derivative of 1/u),
  // y² underflowed from |x| = 1e77 on, where atan″ ≈ −2/x³ is a normal number up to 1e102 (0 or 1e4 ulps off).
  atanSlope: unary('atanSlope', atanSlope, (A, x, y) => A.mul(A.mul(A.c(-2), A.mul(x, y)), y)),
  asec: unary(
    'asec',
    asec,
    (A, x) => A.mul(A.recip(A.abs(x)), A.recip(A.sqrt(squareLessOne(A, x)))),
    'inverse secant',
    outsideUnit,
  ),
  acsc: unary(
    'acsc',
    acsc,
    (A, x) => A.neg(A.mul(A.recip(A.abs(x)), A.recip(A.sqrt(squareLessOne(A, x))))),
    'inverse cosecant',
    outsideUnit,
  ),
  acot: unary(
    'acot',
    (x) => Math.atan(1 / x),
    (A, x) => A.neg(A.call('atanSlope', x)),
    'inverse cotangent',
  ),

  sinh: unary('sinh', sinh, (A, x) => A.call('cosh', x), 'hyperbolic sine'),
  cosh: unary('cosh', cosh, (A, x) => A.call('sinh', x), 'hyperbolic cosine'),
  // sech², not 1 − tanh², whose rounded tanh near ±1 left few of its digits (2800 ulps at 5) and none past 19 (0); and
  // not 1/cosh², whose own derivative through (1/cosh²)² underflowed past 236, where tanh″ ≈ −8e^(−2|x|) is a normal
  // number up to 354 (0 there). coth′ likewise −csch².
  tanh: unary('tanh', Math.tanh, (A, x) => A.square(A.call('sech', x)), 'hyperbolic tangent'),
  sech: unary('sech', sech, (A, x, y) => A.neg(A.mul(y, A.call('tanh', x))), 'hyperbolic secant'),
  csch: unary('csch', csch, (A, x, y) => A.neg(A.mul(y, A.call('coth', x))), 'hyperbolic cosecant', infiniteAtZero),
  coth: unary(
    'coth',
    (x) => 1 / Math.tanh(x),
    (A, x) => A.neg(A.square(A.call('csch', x))),
    'hyperbolic cotangent',
    infiniteAtZero,
  ),

  asinh: unary('asinh', Math.asinh, (A, x) => A.call('asinhSlope', x), 'inverse hyperbolic sine'),
  // 1/hypot(x, 1), not 1/√(x² + 1), whose x² overflows from 1e154 on, where the derivative is 1/|x|, not 0. Its own
  // derivative −x/(1 + x²)^(3/2) is formed as −(x·y)·atanSlope(x), one rounded 1/(1 + x²): through the derivatives
  // of 1/u and of hypot (−y²·x/u) it was up to 7 ulps off.
  asinhSlope: unary('asinhSlope', asinhSlope, (A, x, y) => A.neg(A.mul(A.mul(x, y), A.call('atanSlope', x)))),
  acosh: unary(
    'acosh',
    Math.acosh,
    // √(x − 1)·√(x + 1): (x − 1)(x + 1) would overflow from 1e154 on, where the derivative is 1/x, not 0.
    (A, x) => A.recip(A.mul(A.sqrt(A.sub(x, A.c(1))), A.sqrt(A.add(x, A.c(1))))),
    'inverse hyperbolic cosine',
    domain(1, Infinity),
  ),
  atanh: unary(
    'atanh',
    Math.atanh,
    (A, x) => A.recip(oneLessSquare(A, x)),
    'inverse hyperbolic tangent',
    domain(-1, 1),
  ),
  asech: unary('asech', asech, (A, x) => A.call('asechSlope', x), 'inverse hyperbolic secant', domain(0, 1)),
  // −1/(x·√((1 − x)(1 + x))). Its own derivative, (x − 2x³)/(x² − x⁴)^(3/2) = −(y·x)·y·y·(1 − 2x²), with 1 − 2x²
  // formed without rounding x²: as the derivative of the product and the root, a difference of two terms near its
  // zero 1/√2, it was up to 1e15 ulps off there (PyTorch's 4e15).
  asechSlope: unary('asechSlope', asechSlope, (A, x, y) =>
    A.neg(A.mul(A.mul(A.mul(A.mul(y, x), y), y), A.call('oneLessTwiceSquare', x))),
  ),
  oneLessTwiceSquare: unary('oneLessTwiceSquare', oneLessTwiceSquare, (A, x) => A.mul(A.c(-4), x)),
  acsch: unary(
    'acsch',
    acsch,
    (A, x) => A.neg(A.mul(A.recip(A.abs(x)), A.recip(A.call('hypot', x, A.c(1))))),
    'inverse hyperbolic cosecant',
    infiniteAtZero,
  ),
  acoth: unary(
    'acoth',
    acoth,
    (A, x) => A.mul(A.recip(A.sub(A.c(1), x)), A.recip(A.add(A.c(1), x))),
    'inverse hyperbolic cotangent',
    outsideUnit,
  ),

  exp: unary('exp', exp, (_A, _x, y) => y, 'exponential'),
  expm1: unary('expm1', Math.expm1, (A, x) => A.call('exp', x), 'exp(x) - 1, accurate near 0'),
  log: unary('log', Math.log, (A, x) => A.recip(x), 'natural logarithm (log(x, b): base b)', domain(0, Infinity)),
  log1p: unary(
    'log1p',
    Math.log1p,
    (A, x) => A.recip(A.add(A.c(1), x)),
    'log(1 + x), accurate near 0',
    domain(-1, Infinity),
  ),
  log2: unary('log2', Math.log2, (A, x) => A.recip(A.mul(x, A.c(Math.LN2))), 'base-2 logarithm', domain(0, Infinity)),
  log10: unary(
    'log10',
    Math.log10,
    (A, x) => A.recip(A.mul(x, A.c(Math.LN10))),
    'base-10 logarithm',
    domain(0, Infinity),
  ),

  sqrt: unary('sqrt', Math.sqrt, (A, _x, y) => A.div(A.c(0.5), y), 'square root', domain(0, Infinity)),
  cbrt: unary('cbrt', Math.cbrt, (A, _x, y) => A.recip(A.mul(A.c(3), A.square(y))), 'cube root', infiniteAtZero),
  abs: unary(
    'abs',
    Math.abs,
    (A, x) => A.call('sign', x),
    'absolute value',
    (x) =>
      x === 0
        ? special('kink', 'abs has a corner at 0: the derivative is taken as 0, the minimum-norm subgradient')
        : null,
  ),
  sign: unary('sign', Math.sign, null, 'sign: -1, 0 or 1', (x) => (x === 0 ? STEP : null)),
  square: unary(
    'square',
    (x) => x * x,
    (A, x) => A.mul(A.c(2), x),
    'x * x',
  ),
  cube: unary(
    'cube',
    (x) => x * x * x,
    (A, x) => A.mul(A.c(3), A.square(x)),
    'x * x * x',
  ),
  floor: unary('floor', floorLikeMathjs, null, 'round towards -Infinity', (x, y) => (x === y ? STEP : null)),
  ceil: unary('ceil', ceilLikeMathjs, null, 'round towards +Infinity', (x, y) => (x === y ? STEP : null)),
  round: unary('round', roundLikeMathjs, null, 'round to the nearest integer, halves away from zero', (x) =>
    Math.abs(x - Math.trunc(x)) === 0.5 ? STEP : null,
  ),
  fix: unary(
    'fix',
    (x) => (x > 0 ? floorLikeMathjs(x) : ceilLikeMathjs(x)),
    null,
    'round towards zero',
    (x, y) => (x === y ? STEP : null),
  ),
};

/**
 * Who wins `a` against `b` for max (sign 1) or min (sign -1), compared as
 * mathjs compares: 1 if a wins beyond the tolerance, 0.5 for a tie (nearly
 * equal), 0 if b wins or either is NaN. It is also ∂max(a, b)/∂a (SPEC §6).
 * The values, the weights and the tie reports of max, min and their
 * reductions all come from it.
 */
export function contest(a: number, b: number, sign: 1 | -1): number {
  if (nearlyEqual(a, b)) return 0.5;
  return sign * (a - b) > 0 ? 1 : 0;
}
/**
 * Beyond this distance from t nothing is nearly equal to t: the tolerance at max(|x|, |t|) ≤ |t| + |x − t|,
 * with room for rounding. Loops over many entries compare with it first and call nearlyEqual only near t.
 */
export const nearBound = (t: number): number => Math.max(2 * REL_TOL * Math.abs(t), 2 * ABS_TOL);

// The loops below scan with one comparison per entry in a loop of its own, without calls, and leave it only at a
// candidate: a loop that may call a function keeps less in registers, and costs about twice as much per entry.

/** The first index from k below `end` whose entry is within `bound` of t (or at a NaN distance); else `end`. */
export function nextNear(v: Float64Array, k: number, end: number, t: number, bound: number): number {
  // Four entries a test, then the one among them (see nextBeyond).
  for (; k + 4 <= end; k += 4)
    if (!(
      Math.abs(v[k]! - t) > bound &&
      Math.abs(v[k + 1]! - t) > bound &&
      Math.abs(v[k + 2]! - t) > bound &&
      Math.abs(v[k + 3]! - t) > bound
    ))
      break;
  for (; k < end; k++) if (!(Math.abs(v[k]! - t) > bound)) return k;
  return end;
}

/**
 * How many of the n entries of v from `offset` are nearly equal to t, counted up to `limit`; each entry is
 * nearlyEqual's answer (asked only for entries within nearBound of t, or at a NaN distance).
 */
export function countNearlyEqual(v: Float64Array, offset: number, n: number, t: number, limit = n): number {
  const bound = nearBound(t);
  const end = offset + n;
  let count = 0;
  for (let k = nextNear(v, offset, end, t, bound); k < end && count < limit; k = nextNear(v, k + 1, end, t, bound))
    if (nearlyEqual(v[k]!, t)) count++;
  return count;
}

/**
 * Writes 1/count where the n entries of v from `from` are nearly equal to t and 0 elsewhere, to the entries
 * from `to` (count: how many are).
 */
export function nearlyEqualShares(v: Float64Array, from: number, to: number, n: number, t: number): void {
  const bound = nearBound(t);
  const end = from + n;
  v.fill(0, to, to + n);
  let count = 0;
  for (let k = nextNear(v, from, end, t, bound); k < end; k = nextNear(v, k + 1, end, t, bound)) {
    if (nearlyEqual(v[k]!, t)) {
      v[to + k - from] = 1;
      count++;
    }
  }
  if (count > 1) for (let k = to; k < to + n; k++) v[k] = v[k] === 0 ? 0 : 1 / count;
}

/** The first index from k below `end` whose entry beats `best` by an exact comparison, or is NaN; else `end`. */
function nextBeyond(v: Float64Array, k: number, end: number, best: number, sign: 1 | -1): number {
  // One comparison an entry, false for a NaN: a loop for each sign. Four entries a test, then the one among them:
  // a branch and a loop step for four entries instead of each (a max of 1.28 M entries: 1.2 → 0.6 ms).
  if (sign === 1) {
    for (; k + 4 <= end; k += 4)
      if (!(v[k]! <= best && v[k + 1]! <= best && v[k + 2]! <= best && v[k + 3]! <= best)) break;
    for (; k < end; k++) if (!(v[k]! <= best)) return k;
  } else {
    for (; k + 4 <= end; k += 4)
      if (!(v[k]! >= best && v[k + 1]! >= best && v[k + 2]! >= best && v[k + 3]! >= best)) break;
    for (; k < end; k++) if (!(v[k]! >= best)) return k;
  }
  return end;
}

/**
 * The largest (sign 1) or smallest (sign -1) of the n entries of v from `offset` as mathjs finds it: the first
 * entry not beaten by a later one beyond the comparison tolerance (contest's 1); NaN if any is NaN. Only an entry
 * beyond the current best by an exact comparison is checked with the tolerance.
 */
export const extremeEntry = (v: Float64Array, offset: number, n: number, sign: 1 | -1): number =>
  extremeFrom(v, offset, offset + n, v[offset]!, sign);

/** extremeEntry's scan of the entries from..end − 1 when it has reached `from` with `best`. */
export function extremeFrom(v: Float64Array, from: number, end: number, best: number, sign: 1 | -1): number {
  for (let k = nextBeyond(v, from, end, best, sign); k < end; k = nextBeyond(v, k + 1, end, best, sign)) {
    const x = v[k]!;
    if (Number.isNaN(x)) return NaN;
    if (!nearlyEqual(x, best)) best = x;
  }
  return best;
}

/**
 * The records of the entries from..end − 1: each entry beyond every one before it by an exact comparison (the
 * first entry is one), written to `records` from `at` up to `room` of them; their count (which may exceed room),
 * or −1 at a NaN. Only a record can become extremeEntry's best however the scan reached `from`: an entry beaten
 * or equalled by an earlier one is not beyond the best, or within the tolerance of it, when the scan meets it.
 */
export function recordsOf(
  v: Float64Array,
  from: number,
  end: number,
  sign: 1 | -1,
  records: Float64Array,
  at: number,
  room: number,
): number {
  let best = v[from]!;
  if (Number.isNaN(best)) return -1;
  records[at] = best;
  let count = 1;
  for (let k = nextBeyond(v, from + 1, end, best, sign); k < end; k = nextBeyond(v, k + 1, end, best, sign)) {
    best = v[k]!;
    if (Number.isNaN(best)) return -1;
    if (count < room) records[at + count] = best;
    count++;
  }
  return count;
}

/** extremeEntry's scan, having reached the records with `best`, over the `count` records from `at`. */
export function extremeOfRecords(records: Float64Array, at: number, count: number, best: number, sign: 1 | -1): number {
  for (let r = at; r < at + count; r++) {
    const x = records[r]!;
    if ((sign === 1 ? x > best : x < best) && !nearlyEqual(x, best)) best = x;
  }
  return best;
}

/** max (sign 1) or min (sign -1) of a and b: a unless b wins; NaN if either is. */
const extremeOfTwo = (a: number, b: number, sign: 1 | -1): number =>
  Number.isNaN(a) || Number.isNaN(b) ? NaN : contest(b, a, sign) === 1 ? b : a;
const TIE = special('tie', 'a tie: the derivative is split, 0.5 to each argument');
/** max and min of two at a tie: where their contest is 0.5. */
const tie: BinarySpecial = (a, b) => (nearlyEqual(a, b) ? TIE : null);
const atThreshold: BinarySpecial = (a, b) => (nearlyEqual(a, b) ? COMPARISON : null);

export const ELEMENTWISE_BINARY: Record<ElementwiseBinaryName, ElementwiseSpec> = {
  add: binary(
    '+',
    (a, b) => a + b,
    (A) => A.c(1),
    (A) => A.c(1),
  ),
  subtract: binary(
    '-',
    (a, b) => a - b,
    (A) => A.c(1),
    (A) => A.c(-1),
  ),
  dotMultiply: binary(
    '.*',
    (a, b) => a * b,
    (_A, _a, b) => b,
    (_A, a) => a,
  ),
  dotDivide: binary(
    './',
    (a, b) => a / b,
    (A, _a, b) => A.recip(b),
    (A, _a, b, y) => A.neg(A.div(y, b)),
    undefined,
    (_a, b) =>
      b === 0 ? special('infinite', 'division by 0: the value and the derivative are infinite or NaN') : null,
  ),
  // SPEC §6: ∂/∂a is 0 where b = 0; ∂/∂b is 0 where a = 0 and b ≥ 0. Products where an exact zero wins give
  // those zeros (b = 0; y = 0^b = 0 for b > 0) and, unlike a `where` on b, still carry ∂/∂b of ∂/∂a, so the
  // Hessian stays symmetric. At 0^0 no second derivative has a limit: a mask (a step, derivative 0) keeps
  // both partials and their derivatives 0 there.
  pow: binary(
    '.^',
    powValue,
    (A, a, b) => zeroAtZeroToZero(A, A.strongMul(b, A.call('pow', a, A.sub(b, A.c(1)))), a, b),
    (A, a, b, y) => zeroAtZeroToZero(A, A.strongMul(y, A.log(a)), a, b),
    { name: 'pow', doc: 'power a.^b, element-wise' },
    // b's test first: it is the same at every entry of x.^2, where a's sign would be a branch taken at random.
    (a, b) =>
      !Number.isInteger(b) && a < 0
        ? DOMAIN
        : a === 0
          ? special(
              b !== 0 && b < 1 ? 'infinite' : 'kink',
              'x.^y at x = 0: ∂/∂x = y·x^(y-1), but 0 where y = 0; ∂/∂y = 0 where y ≥ 0',
            )
          : null,
  ),
  atan2: binary(
    'atan2',
    Math.atan2,
    (A, a, b) => A.div(b, A.add(A.square(a), A.square(b))),
    (A, a, b) => A.neg(A.div(a, A.add(A.square(a), A.square(b)))),
    { name: 'atan2', doc: 'angle of the point (x, y), element-wise', args: 'y, x' },
    (a, b) =>
      a === 0 && b === 0 ? special('domain', 'atan2 at the origin: the derivative does not exist (NaN)') : null,
  ),
  // The 2-norm of (a, b): at the origin its derivative is taken as 0, as for norm (a `where` at that one point,
  // where the gradient jumps and no second derivative exists).
  hypot: binary(
    'hypot',
    Math.hypot,
    (A, a, _b, y) => A.where(A.isZero(y), A.c(0), A.div(a, y)),
    (A, _a, b, y) => A.where(A.isZero(y), A.c(0), A.div(b, y)),
    { name: 'hypot', doc: 'sqrt(a^2 + b^2) without overflow' },
    (a, b) =>
      a === 0 && b === 0 ? special('kink', 'hypot at the origin: the derivative is taken as 0, as for norm') : null,
  ),
  max: binary(
    'max',
    (a, b) => extremeOfTwo(a, b, 1),
    (A, a, b) => A.call('maxWeight', a, b),
    (A, a, b) => A.call('maxWeight', b, a),
    { name: 'max', doc: 'larger of a and b, element-wise (one argument: largest entry)' },
    tie,
  ),
  min: binary(
    'min',
    (a, b) => extremeOfTwo(a, b, -1),
    (A, a, b) => A.call('minWeight', a, b),
    (A, a, b) => A.call('minWeight', b, a),
    { name: 'min', doc: 'smaller of a and b, element-wise (one argument: smallest entry)' },
    tie,
  ),
  logBase: binary(
    'log',
    (x, base) => Math.log(x) / Math.log(base),
    (A, x, base) => A.recip(A.mul(x, A.log(base))),
    (A, _x, base, y) => A.neg(A.div(y, A.mul(base, A.log(base)))),
    undefined,
    (x, base) => (x < 0 || base <= 0 || base === 1 ? DOMAIN : x === 0 ? INFINITE : null),
  ),
  // d/dx x^(1/r) = 1/(r·y^(r-1)), infinite at 0; d/dr = -y·log|x|/r², at x = 0 its limit: 0 where y = 0 (r > 0).
  nthRoot: binary(
    'nthRoot',
    nthRootValue,
    (A, _x, r, y) => A.recip(A.mul(r, A.call('pow', y, A.sub(r, A.c(1))))),
    (A, x, r, y) => A.neg(A.div(A.strongMul(y, A.log(A.abs(x))), A.square(r))),
    { name: 'nthRoot', doc: 'real n-th root: nthRoot(x, n), n = 2 by default' },
    (x, _r, y) => (Number.isNaN(y) && !Number.isNaN(x) ? DOMAIN : x === 0 ? INFINITE : null),
  ),
  // ∂/∂b is a step (-floor(a/b)), so the `where` at b = 0 cuts no second derivative.
  mod: binary(
    'mod',
    (a, b) => (b === 0 ? a : a - b * floorLikeMathjs(a / b)),
    (A) => A.c(1),
    (A, a, b) => A.where(A.isZero(b), A.c(0), A.neg(A.call('floor', A.div(a, b)))),
    { name: 'mod', doc: 'remainder a - b·floor(a/b)' },
    (a, b) => (b !== 0 && Number.isInteger(a / b) ? STEP : null),
  ),

  equal: finite(binary('==', (a, b) => bool(nearlyEqual(a, b)), null, null, undefined, atThreshold)),
  unequal: finite(binary('!=', (a, b) => bool(!nearlyEqual(a, b)), null, null, undefined, atThreshold)),
  smaller: finite(binary('<', (a, b) => bool(a < b && !nearlyEqual(a, b)), null, null, undefined, atThreshold)),
  larger: finite(binary('>', (a, b) => bool(a > b && !nearlyEqual(a, b)), null, null, undefined, atThreshold)),
  smallerEq: finite(binary('<=', (a, b) => bool(a < b || nearlyEqual(a, b)), null, null, undefined, atThreshold)),
  largerEq: finite(binary('>=', (a, b) => bool(a > b || nearlyEqual(a, b)), null, null, undefined, atThreshold)),
  and: finite(binary('and', (a, b) => bool(truth(a) && truth(b)), null, null)),
  or: finite(binary('or', (a, b) => bool(truth(a) || truth(b)), null, null)),
  xor: finite(binary('xor', (a, b) => bool(truth(a) !== truth(b)), null, null)),

  // Derivative products: an exact zero on either side gives an exact zero (SPEC §6).
  strongMultiply: binary(
    '·',
    (a, b) => (a === 0 || b === 0 ? 0 : a * b),
    (_A, _a, b) => b,
    (_A, a) => a,
  ),
  // ∂max(a, b)/∂a and ∂min(a, b)/∂a: 1 where a wins, 0.5 at a tie, 0 where b wins (SPEC §6).
  maxWeight: finite(binary('maxWeight', (a, b) => contest(a, b, 1), null, null)),
  minWeight: finite(binary('minWeight', (a, b) => contest(a, b, -1), null, null)),
};
