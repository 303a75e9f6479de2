/**
 * Random expressions of the language, shape-correct by construction, for the
 * property tests. Each expression carries its text, its shape and a bound on
 * the magnitude of its value when every input lies in [-2, 2]: functions get
 * arguments inside their domain, and a value that could grow past LIMIT is
 * squashed through atan, so that values and derivatives stay moderate.
 *
 * The functions come from the operation table and from the language's
 * functions (src/parse/functions.ts): the element-wise ones of one argument
 * are generated from the table with a domain hint each (DOMAINS), the others
 * by the productions below. language.test.ts fails if a function of either
 * list is never generated and not in EXCLUDED.
 */
import fc from 'fast-check';
import { OPS, OP_NAMES } from '../../src/ops/index.js';
import { LANGUAGE_FUNCTIONS } from '../../src/parse/index.js';

/** The shapes the generator works with: scalar, vectors of 2 and 3, matrices 2×2, 2×3, 3×2. */
export type Kind = 's' | 'v2' | 'v3' | 'm22' | 'm23' | 'm32';

export const KINDS: readonly Kind[] = ['s', 'v2', 'v3', 'm22', 'm23', 'm32'];

export const SHAPE: Readonly<Record<Kind, readonly number[]>> = {
  s: [],
  v2: [2],
  v3: [3],
  m22: [2, 2],
  m23: [2, 3],
  m32: [3, 2],
};

export interface Expr {
  readonly text: string;
  readonly kind: Kind;
  /** An upper bound on |value| for inputs in [-2, 2]. */
  readonly bound: number;
}

export interface Flavour {
  /** Only operations differentiable wherever they are generated: no steps, kinks, branches or comparisons. */
  readonly smooth: boolean;
  /** Only forms mathjs's own evaluate accepts: its pow, log(x, b), hypot, max(a, b), min(a, b) take scalars only. */
  readonly mathjs: boolean;
}

/** The variables every generated expression may use, and their shapes. */
export const VARIABLES = { x: 'v3', y: 's', A: 'm23' } as const satisfies Record<string, Kind>;

const INPUT_BOUND = 2;
const LIMIT = 20;
const sizeOf = (kind: Kind) => SHAPE[kind].reduce((a, b) => a * b, 1);

/** Bounds the value: anything that might exceed LIMIT goes through atan (|atan| < π/2). */
function node(kind: Kind, text: string, bound: number): Expr {
  return bound <= LIMIT ? { text, kind, bound } : { text: `atan(${text})`, kind, bound: Math.PI / 2 };
}

/** An argument for a function that needs |argument| ≤ max (exp, sinh, .^ exponents): squashed if it may be larger. */
function within(e: Expr, max: number): Expr {
  return e.bound <= max ? e : { text: `atan(${e.text})`, kind: e.kind, bound: Math.PI / 2 };
}

/** Where a function of one argument is generated: its domain, its singular points and how large it gets. */
interface Domain {
  /** Maps any real argument t into the function's domain, away from its singular points. */
  readonly arg: (t: string) => string;
  /** As `arg`, for the smooth flavour, where the function has a kink or step on the reals. */
  readonly smoothArg?: (t: string) => string;
  /** Largest |t| the function takes before its value grows too fast (exp, sinh, cosh). */
  readonly maxArg?: number;
  readonly bound: (b: number) => number;
}

interface Unary extends Domain {
  readonly name: string;
}

const id = (t: string) => t;
const atLeastOne = (t: string) => `(1 + ${t} .^ 2)`;
const atLeastOneAndHalf = (t: string) => `(1.5 + ${t} .^ 2)`;
const halfTanh = (t: string) => `(tanh(${t}) / 2)`;
const negative = (t: string) => `(sin(${t}) - 2)`;
/** Inside (0.25, 0.75) and (-0.25, 0.25): no integer and no half, where steps jump. */
const betweenIntegers = (t: string) => `(0.5 + tanh(${t}) / 4)`;
const nearZero = (t: string) => `(tanh(${t}) / 4)`;

/** The functions of the language, by the names users call: the operation table's and functions.ts's. */
export const FUNCTION_NAMES: readonly string[] = [
  ...new Set([
    ...OP_NAMES.flatMap((op) => {
      const fn = OPS[op].fn;
      return fn === undefined ? [] : [fn.name];
    }),
    ...Object.keys(LANGUAGE_FUNCTIONS),
  ]),
].sort();

/**
 * The element-wise functions of one argument: those of the operation table, and nthRoot(x), the
 * language's square root by default (functions.ts).
 */
export const UNARY_NAMES: readonly string[] = [
  ...OP_NAMES.flatMap((op) => {
    const fn = OPS[op].fn;
    return fn?.arity === 1 ? [fn.name] : [];
  }),
  'nthRoot',
];

const SHAPES_AND_CONSTANTS =
  'builds or reshapes arrays from constant sizes and dimensions, which the fixed kinds of the generator do not ' +
  'model: checked form by form against mathjs in functions.test.ts';
const SOLVES = 'needs a well-conditioned square matrix: checked against mathjs and PyTorch in functions.test.ts';
const REDUCTIONS =
  'a reduction with its own conventions (ties, shifts): checked against mathjs or PyTorch in functions.test.ts';

/** Functions of the language that the generator does not produce, each with the reason. */
export const EXCLUDED: Readonly<Record<string, string>> = {
  concat: SHAPES_AND_CONSTANTS,
  cumsum: SHAPES_AND_CONSTANTS,
  diag: SHAPES_AND_CONSTANTS,
  diff: SHAPES_AND_CONSTANTS,
  flatten: SHAPES_AND_CONSTANTS,
  identity: SHAPES_AND_CONSTANTS,
  kron: SHAPES_AND_CONSTANTS,
  ones: SHAPES_AND_CONSTANTS,
  range: SHAPES_AND_CONSTANTS,
  reshape: SHAPES_AND_CONSTANTS,
  size: SHAPES_AND_CONSTANTS,
  squeeze: SHAPES_AND_CONSTANTS,
  zeros: SHAPES_AND_CONSTANTS,
  lusolve: SOLVES,
  lsolve: SOLVES,
  usolve: SOLVES,
  logsumexp: REDUCTIONS,
  softmax: REDUCTIONS,
  median: REDUCTIONS,
  std: REDUCTIONS,
  variance: REDUCTIONS,
};

/**
 * Functions of the language that mathjs lacks (the prelude of model functions): the mathjs flavour leaves
 * them out, and language.test.ts compares each with the mathjs expression it stands for.
 */
export const MATHJS_EQUIVALENTS: Readonly<Record<string, (t: string) => string>> = {
  sigmoid: (t) => `1 ./ (1 + exp(-(${t})))`,
  relu: (t) => `((${t}) + abs(${t})) ./ 2`,
  softplus: (t) => `log(1 + exp(${t}))`,
};

/**
 * Functions left out of the mathjs flavour because they differ from mathjs today: known bugs, each pinned
 * by a test in language.test.ts that fails once it is fixed (then remove the entry).
 */
export const MATHJS_DIFFERENCES: Readonly<Record<string, string>> = {};
const differsFromMathjs = (flavour: Flavour, name: string) =>
  flavour.mathjs && (Object.hasOwn(MATHJS_DIFFERENCES, name) || Object.hasOwn(MATHJS_EQUIVALENTS, name));

/** A domain for each function of UNARY_NAMES: an argument inside it, away from singular points. */
const DOMAINS: Readonly<Record<string, Domain>> = {
  sin: { arg: id, bound: () => 1 },
  cos: { arg: id, bound: () => 1 },
  tan: { arg: (t) => `sin(${t})`, bound: () => Math.tan(1) },
  sec: { arg: (t) => `sin(${t})`, bound: () => 1 / Math.cos(1) },
  csc: { arg: (t) => `(1.5 + sin(${t}) / 2)`, bound: () => 1 / Math.sin(1) },
  cot: { arg: (t) => `(1 + sin(${t}) / 2)`, bound: () => 1 / Math.tan(0.5) },
  asin: { arg: halfTanh, bound: () => Math.asin(0.5) },
  acos: { arg: halfTanh, bound: () => Math.acos(-0.5) },
  atan: { arg: id, bound: () => Math.PI / 2 },
  asec: { arg: (t) => `(2.5 + sin(${t}))`, bound: () => Math.PI / 2 },
  acsc: { arg: (t) => `(2.5 + sin(${t}))`, bound: () => Math.PI / 2 },
  // acot jumps from -π/2 to π/2 at 0 (mathjs: atan(1/x)).
  acot: { arg: id, smoothArg: (t) => `(2.5 + sin(${t}))`, bound: () => Math.PI / 2 },
  sinh: { arg: id, maxArg: 3, bound: (b) => Math.sinh(b) },
  cosh: { arg: id, maxArg: 3, bound: (b) => Math.cosh(b) },
  tanh: { arg: id, bound: () => 1 },
  sech: { arg: id, bound: () => 1 },
  csch: { arg: atLeastOne, bound: () => 1 / Math.sinh(1) },
  // In [1, 2]: mathjs's coth is (e^2x + 1)/(e^2x − 1), NaN from about 354.9, where e^2x overflows (ours is 1 there).
  coth: { arg: (t) => `(1 + sin(${t}) .^ 2)`, bound: () => 1 / Math.tanh(1) },
  asinh: { arg: id, bound: (b) => Math.asinh(b) },
  acosh: { arg: atLeastOneAndHalf, bound: (b) => Math.acosh(1.5 + b * b) },
  atanh: { arg: halfTanh, bound: () => Math.atanh(0.5) },
  asech: { arg: (t) => `(0.5 + sin(${t}) / 4)`, bound: () => Math.acosh(4) },
  acsch: { arg: atLeastOne, bound: () => Math.asinh(1) },
  acoth: { arg: atLeastOneAndHalf, bound: () => Math.atanh(1 / 1.5) },
  exp: { arg: id, maxArg: 3, bound: (b) => Math.exp(b) },
  expm1: { arg: id, maxArg: 3, bound: (b) => Math.exp(b) },
  log: { arg: atLeastOne, bound: (b) => Math.log1p(b * b) },
  log1p: { arg: halfTanh, bound: () => Math.log(2) },
  log2: { arg: (t) => `(2.5 + sin(${t}))`, bound: () => Math.log2(3.5) },
  log10: { arg: atLeastOne, bound: (b) => Math.log10(1 + b * b) },
  sqrt: { arg: (t) => `(2 + sin(${t}))`, bound: () => Math.sqrt(3) },
  // cbrt has an infinite derivative at 0; the smooth flavour keeps it on the negative side.
  cbrt: { arg: id, smoothArg: negative, bound: (b) => Math.cbrt(Math.max(b, 3)) },
  nthRoot: { arg: (t) => `(2 + sin(${t}))`, bound: () => Math.sqrt(3) },
  abs: { arg: id, smoothArg: negative, bound: (b) => Math.max(b, 3) },
  sign: { arg: id, smoothArg: negative, bound: () => 1 },
  square: { arg: id, bound: (b) => b * b },
  cube: { arg: id, bound: (b) => b * b * b },
  // Steps: the smooth flavour keeps them between the points where they jump.
  floor: { arg: id, smoothArg: betweenIntegers, bound: (b) => b + 1 },
  ceil: { arg: id, smoothArg: betweenIntegers, bound: (b) => b + 1 },
  round: { arg: id, smoothArg: nearZero, bound: (b) => b + 1 },
  fix: { arg: id, smoothArg: nearZero, bound: (b) => b },
  erf: { arg: id, bound: () => 1 },
  sigmoid: { arg: id, bound: () => 1 },
  // relu has a kink at 0: the smooth flavour keeps it on the positive side.
  relu: { arg: id, smoothArg: atLeastOne, bound: (b) => 1 + b * b },
  softplus: { arg: id, maxArg: 3, bound: (b) => b + 1 },
  // lgamma of x ≥ 1.5 lies between its minimum, about -0.12, and x·log(x). Not from 1: mathjs's lgamma is -4e-16
  // at 1 (and 2) where log Γ is 0, which a cbrt or a sqrt around it makes an error of 1e-5; functions.test.ts checks
  // ours there against exact values.
  lgamma: { arg: atLeastOneAndHalf, bound: (b) => Math.max(0.13, (1.5 + b * b) * Math.log(1.5 + b * b)) },
};

/** Every element-wise function of one argument that has a domain (language.test.ts checks that all do). */
export const UNARY: readonly Unary[] = UNARY_NAMES.flatMap((name) => {
  const domain = Object.hasOwn(DOMAINS, name) ? DOMAINS[name] : undefined;
  return domain === undefined ? [] : [{ name, ...domain }];
});

/** One way to build an expression of kind `out` from expressions of kinds `args`. */
interface Production {
  readonly out: Kind;
  readonly args: readonly Kind[];
  readonly build: (args: readonly Expr[]) => Expr;
  readonly weight?: number;
}

const leaf = (kind: Kind, text: string, bound = INPUT_BOUND): Expr => ({ text, kind, bound });

const LEAVES: Readonly<Record<Kind, readonly Expr[]>> = {
  s: [
    leaf('s', 'y'),
    leaf('s', 'x[1]'),
    leaf('s', 'x[end]'),
    leaf('s', 'x[end-1]'),
    leaf('s', 'A[2, 3]'),
    leaf('s', 'A[end, 1]'),
    leaf('s', '0.5', 0.5),
    leaf('s', '2', 2),
    leaf('s', '3', 3),
    leaf('s', '1.5e-1', 0.15),
    leaf('s', 'pi', Math.PI),
    leaf('s', 'e', Math.E),
  ],
  v2: [leaf('v2', 'x[1:2]'), leaf('v2', 'x[end-1:end]'), leaf('v2', 'A[:, 1]'), leaf('v2', 'A[:, end]')],
  v3: [leaf('v3', 'x'), leaf('v3', 'A[1, :]'), leaf('v3', 'A[end, :]')],
  m22: [leaf('m22', 'A[:, 1:2]'), leaf('m22', 'A[:, 2:3]')],
  m23: [leaf('m23', 'A')],
  m32: [leaf('m32', "(A')")],
};

const CONSTANTS = ['2', '3', '0.5'] as const;
/** Text that a number multiplies implicitly: a name or a parenthesis, not one of mathjs's operator words. */
const implicit = /^(?!(and|or|xor|not|mod|to|in)\b)[a-zA-Z(]/;

function productions(flavour: Flavour): Production[] {
  const out: Production[] = [];
  const add = (p: Production) => out.push(p);
  const rough = !flavour.smooth;
  // atan2 and hypot are singular at the origin (where shrinking leads): the smooth flavour keeps the first argument ≥ 1.
  const awayFromOrigin = (t: string) => (flavour.smooth ? `1 + ${t} .^ 2` : t);

  for (const k of KINDS) {
    const size = sizeOf(k);
    // Element-wise unary functions, each as its own production so that every one is drawn.
    for (const f of UNARY) {
      if (differsFromMathjs(flavour, f.name)) continue;
      const arg = (flavour.smooth ? f.smoothArg : undefined) ?? f.arg;
      add({
        out: k,
        args: [k],
        weight: 1,
        build: ([a]) => {
          const t = within(a!, f.maxArg ?? Infinity);
          return node(k, `${f.name}(${arg(t.text)})`, f.bound(t.bound));
        },
      });
    }
    add({ out: k, args: [k], build: ([a]) => node(k, `(-${a!.text})`, a!.bound) });
    add({ out: k, args: [k], build: ([a]) => node(k, `(+${a!.text})`, a!.bound) });
    add({ out: k, args: [k], build: ([a]) => node(k, `unaryMinus(${a!.text})`, a!.bound) });
    add({ out: k, args: [k], build: ([a]) => node(k, `unaryPlus(${a!.text})`, a!.bound) });
    add({ out: k, args: [k], build: ([a]) => node(k, `(${a!.text} .^ 2)`, a!.bound ** 2) });
    add({ out: k, args: [k], build: ([a]) => node(k, `(${a!.text} .^ 3)`, a!.bound ** 3) });

    // Binary element-wise, same shapes or a scalar broadcast on either side.
    const pairs: (readonly [Kind, Kind])[] =
      k === 's'
        ? [['s', 's']]
        : [
            [k, k],
            ['s', k],
            [k, 's'],
          ];
    for (const [p, q] of pairs) {
      const bin = (build: (a: Expr, b: Expr) => Expr, weight = 2) =>
        add({ out: k, args: [p, q], weight, build: ([a, b]) => build(a!, b!) });
      bin((a, b) => node(k, `(${a.text} + ${b.text})`, a.bound + b.bound), 4);
      bin((a, b) => node(k, `(${a.text} - ${b.text})`, a.bound + b.bound), 4);
      bin((a, b) => node(k, `(${a.text} .* ${b.text})`, a.bound * b.bound), 4);
      bin((a, b) => node(k, `(${a.text} ./ (1 + ${b.text} .^ 2))`, a.bound));
      bin((a, b) => {
        const t = within(b, 3);
        return node(k, `((1.5 + sin(${a.text})) .^ ${t.text})`, 2.5 ** t.bound);
      });
      bin((a, b) => node(k, `atan2(${awayFromOrigin(a.text)}, ${b.text})`, Math.PI), 1);
      bin((a, b) => node(k, `nthRoot(2 + sin(${a.text}), 2 + sin(${b.text}))`, Math.sqrt(3)), 1);
      // The operators, called as functions.
      bin((a, b) => node(k, `add(${a.text}, ${b.text})`, a.bound + b.bound), 1);
      bin((a, b) => node(k, `subtract(${a.text}, ${b.text})`, a.bound + b.bound), 1);
      bin((a, b) => node(k, `dotMultiply(${a.text}, ${b.text})`, a.bound * b.bound), 1);
      bin((a, b) => node(k, `dotDivide(${a.text}, 1 + ${b.text} .^ 2)`, a.bound), 1);
      bin((a, b) => {
        const t = within(b, 3);
        return node(k, `dotPow(1.5 + sin(${a.text}), ${t.text})`, 2.5 ** t.bound);
      }, 1);
      // mod jumps where a is a multiple of b; the divisor stays in [0.5, 2.5].
      if (rough && !differsFromMathjs(flavour, 'mod'))
        bin((a, b) => node(k, `mod(${a.text}, 1.5 + sin(${b.text}))`, 2.5), 1);
      // pow is mathjs's ^ (a matrix power on arrays), so it takes scalars here.
      if (k === 's') {
        bin((a, b) => {
          const t = within(b, 3);
          return node(k, `pow(1.5 + sin(${a.text}), ${t.text})`, 2.5 ** t.bound);
        }, 1);
      }
      // mathjs refuses these on arrays; the language maps them element-wise.
      if (k === 's' || !flavour.mathjs) {
        bin(
          (a, b) => node(k, `log(1 + ${a.text} .^ 2, 3 + sin(${b.text}))`, Math.log1p(a.bound ** 2) / Math.log(2)),
          1,
        );
        bin(
          (a, b) =>
            node(
              k,
              `hypot(${awayFromOrigin(a.text)}, ${b.text})`,
              (flavour.smooth ? 1 + a.bound ** 2 : a.bound) + b.bound,
            ),
          1,
        );
        if (rough) {
          // max(M, 2) of a matrix is the maximum along dimension 2, as in mathjs: the scalar goes first.
          const extreme = (f: string) => (a: Expr, b: Expr) =>
            node(
              k,
              q === 's' ? `${f}(${b.text}, ${a.text})` : `${f}(${a.text}, ${b.text})`,
              Math.max(a.bound, b.bound),
            );
          bin(extreme('max'), 1);
          bin(extreme('min'), 1);
        }
      }
    }

    if (k !== 's') {
      // Scalar times or over anything, written explicitly and implicitly (`2 x`, `3 sin(x)`, `2 (x + 1)`).
      add({
        out: k,
        args: ['s', k],
        weight: 2,
        build: ([s, a]) => node(k, `(${s!.text} * ${a!.text})`, s!.bound * a!.bound),
      });
      add({ out: k, args: [k, 's'], build: ([a, s]) => node(k, `(${a!.text} * ${s!.text})`, s!.bound * a!.bound) });
      add({ out: k, args: [k, 's'], build: ([a, s]) => node(k, `(${a!.text} / (1 + ${s!.text} ^ 2))`, a!.bound) });
      add({
        out: k,
        args: ['s', k],
        build: ([s, a]) => node(k, `multiply(${s!.text}, ${a!.text})`, s!.bound * a!.bound),
      });
      add({ out: k, args: [k, 's'], build: ([a, s]) => node(k, `divide(${a!.text}, 1 + ${s!.text} ^ 2)`, a!.bound) });
    }
    for (const c of CONSTANTS) {
      // Implicit multiplication needs a name or a parenthesis after the number (`2 0.5` and `2 [1]` do not parse
      // so), and not an operator word: `2 mod(a, b)` and `2 not(a)` read as the operators.
      add({
        out: k,
        args: [k],
        weight: 1,
        build: ([a]) =>
          node(k, implicit.test(a!.text) ? `(${c} ${a!.text})` : `(${c} * ${a!.text})`, Number(c) * a!.bound),
      });
    }

    // Reductions of anything that is not a scalar.
    if (k !== 's') {
      add({ out: 's', args: [k], build: ([a]) => node('s', `sum(${a!.text})`, size * a!.bound) });
      add({ out: 's', args: [k], build: ([a]) => node('s', `prod(${a!.text})`, a!.bound ** size) });
      add({ out: 's', args: [k], build: ([a]) => node('s', `mean(${a!.text})`, a!.bound) });
      // A matrix's norm is written 'fro': mathjs's norm(M) is the spectral norm, which the language does not have.
      // The 2-norm has a kink at 0 (where shrinking leads): the smooth flavour keeps the entries in [-3, -1].
      const vector = k === 'v2' || k === 'v3';
      add({
        out: 's',
        args: [k],
        build: ([a]) => {
          const t = flavour.smooth ? negative(a!.text) : a!.text;
          return node(
            's',
            vector ? `norm(${t})` : `norm(${t}, 'fro')`,
            Math.sqrt(size) * (flavour.smooth ? 3 : a!.bound),
          );
        },
      });
      if (rough) {
        add({ out: 's', args: [k], build: ([a]) => node('s', `max(${a!.text})`, a!.bound) });
        add({ out: 's', args: [k], build: ([a]) => node('s', `min(${a!.text})`, a!.bound) });
      }
    }
  }

  // Scalar powers with ^ (the base must be a scalar).
  add({ out: 's', args: ['s'], build: ([a]) => node('s', `(${a!.text} ^ 2)`, a!.bound ** 2) });
  add({
    out: 's',
    args: ['s', 's'],
    build: ([a, b]) => {
      const t = within(b!, 3);
      return node('s', `((1.5 + sin(${a!.text})) ^ ${t.text})`, 2.5 ** t.bound);
    },
  });

  // Vector norms other than 2, and vector products.
  for (const v of ['v2', 'v3'] as const) {
    const size = sizeOf(v);
    if (rough) {
      add({ out: 's', args: [v], build: ([a]) => node('s', `norm(${a!.text}, 1)`, size * a!.bound) });
      add({ out: 's', args: [v], build: ([a]) => node('s', `norm(${a!.text}, Infinity)`, a!.bound) });
    }
    add({
      out: 's',
      args: [v, v],
      build: ([a, b]) => node('s', `(${a!.text} * ${b!.text})`, size * a!.bound * b!.bound),
    });
    add({
      out: 's',
      args: [v, v],
      build: ([a, b]) => node('s', `dot(${a!.text}, ${b!.text})`, size * a!.bound * b!.bound),
    });
    add({ out: v, args: [v], build: ([a]) => node(v, `(${a!.text}')`, a!.bound) });
  }

  // Linear algebra, each product with its inner dimension in the bound.
  const product = (p: Kind, q: Kind, r: Kind, inner: number) =>
    add({
      out: r,
      args: [p, q],
      weight: 2,
      build: ([a, b]) => node(r, `(${a!.text} * ${b!.text})`, inner * a!.bound * b!.bound),
    });
  product('m23', 'v3', 'v2', 3);
  product('v2', 'm23', 'v3', 2);
  product('m32', 'v2', 'v3', 2);
  product('v3', 'm32', 'v2', 3);
  product('m22', 'v2', 'v2', 2);
  product('v2', 'm22', 'v2', 2);
  product('m22', 'm23', 'm23', 2);
  product('m23', 'm32', 'm22', 3);
  product('m32', 'm22', 'm32', 2);
  product('m22', 'm22', 'm22', 2);
  add({ out: 'm32', args: ['m23'], build: ([a]) => node('m32', `(${a!.text}')`, a!.bound) });
  add({ out: 'm23', args: ['m32'], build: ([a]) => node('m23', `transpose(${a!.text})`, a!.bound) });
  add({ out: 'm32', args: ['m23'], build: ([a]) => node('m32', `ctranspose(${a!.text})`, a!.bound) });
  add({ out: 'm22', args: ['m22'], build: ([a]) => node('m22', `(${a!.text}')`, a!.bound) });
  add({
    out: 'v3',
    args: ['v3', 'v3'],
    build: ([a, b]) => node('v3', `cross(${a!.text}, ${b!.text})`, 2 * a!.bound * b!.bound),
  });
  add({ out: 's', args: ['m22'], build: ([a]) => node('s', `det(${a!.text})`, 2 * a!.bound ** 2) });
  add({ out: 's', args: ['m22'], build: ([a]) => node('s', `trace(${a!.text})`, 2 * a!.bound) });
  // 3I + tanh(M) has smallest singular value ≥ 1 (‖tanh(M)‖₂ ≤ 2), so its inverse has entries ≤ 1.
  add({ out: 'm22', args: ['m22'], build: ([a]) => node('m22', `inv([3, 0; 0, 3] + tanh(${a!.text}))`, 1) });
  add({ out: 'v3', args: ['m23'], build: ([a]) => node('v3', `sum(${a!.text}, 1)`, 2 * a!.bound) });
  add({ out: 'v2', args: ['m23'], build: ([a]) => node('v2', `mean(${a!.text}, 2)`, a!.bound) });

  // Indexing computed values.
  add({ out: 's', args: ['v3'], build: ([a]) => node('s', `(${a!.text})[2]`, a!.bound) });
  add({ out: 's', args: ['v2'], build: ([a]) => node('s', `(${a!.text})[end]`, a!.bound) });
  add({ out: 's', args: ['m23'], build: ([a]) => node('s', `(${a!.text})[2, 1]`, a!.bound) });
  add({ out: 'v2', args: ['v3'], build: ([a]) => node('v2', `(${a!.text})[2:3]`, a!.bound) });
  add({ out: 'v3', args: ['m23'], build: ([a]) => node('v3', `(${a!.text})[1, :]`, a!.bound) });
  add({ out: 'v2', args: ['m23'], build: ([a]) => node('v2', `(${a!.text})[:, end]`, a!.bound) });
  add({ out: 'm22', args: ['m23'], build: ([a]) => node('m22', `(${a!.text})[:, 1:2]`, a!.bound) });

  // Literals of scalars, and nested literals of vectors (rows).
  const most = (es: readonly Expr[]) => Math.max(...es.map((e) => e.bound));
  add({ out: 'v2', args: ['s', 's'], build: (es) => node('v2', `[${es.map((e) => e.text).join(', ')}]`, most(es)) });
  add({
    out: 'v3',
    args: ['s', 's', 's'],
    build: (es) => node('v3', `[${es.map((e) => e.text).join(', ')}]`, most(es)),
  });
  add({
    out: 'm22',
    args: ['s', 's', 's', 's'],
    build: ([a, b, c, d]) => node('m22', `[${a!.text}, ${b!.text}; ${c!.text}, ${d!.text}]`, most([a!, b!, c!, d!])),
  });
  add({
    out: 'm23',
    args: ['v3', 'v3'],
    build: (es) => node('m23', `[${es.map((e) => e.text).join(', ')}]`, most(es)),
  });
  add({
    out: 'm32',
    args: ['v2', 'v2', 'v2'],
    build: (es) => node('m32', `[${es.map((e) => e.text).join(', ')}]`, most(es)),
  });

  if (rough) {
    // Comparisons (true is 1) and the ternary, on scalars.
    for (const op of ['<', '>', '<=', '>=', '==', '!=']) {
      add({ out: 's', args: ['s', 's'], weight: 1, build: ([a, b]) => node('s', `(${a!.text} ${op} ${b!.text})`, 1) });
    }
    add({
      out: 's',
      args: ['s', 's', 's', 's'],
      build: ([a, b, c, d]) =>
        node('s', `(${a!.text} < ${b!.text} ? ${c!.text} : ${d!.text})`, Math.max(c!.bound, d!.bound)),
    });
    // Logic (any nonzero is true), as operators and as functions, and the comparisons as functions.
    for (const op of ['and', 'or', 'xor']) {
      add({ out: 's', args: ['s', 's'], weight: 1, build: ([a, b]) => node('s', `(${a!.text} ${op} ${b!.text})`, 1) });
    }
    add({ out: 's', args: ['s'], weight: 1, build: ([a]) => node('s', `(not ${a!.text})`, 1) });
    add({ out: 's', args: ['s'], weight: 1, build: ([a]) => node('s', `not(${a!.text})`, 1) });
    for (const fn of ['equal', 'unequal', 'smaller', 'larger', 'smallerEq', 'largerEq', 'and', 'or', 'xor']) {
      add({ out: 's', args: ['s', 's'], weight: 1, build: ([a, b]) => node('s', `${fn}(${a!.text}, ${b!.text})`, 1) });
    }
  }
  return out;
}

/**
 * An arbitrary of expressions of the given kinds, nested at most `depth`
 * operations deep. Arbitraries are memoised per (kind, depth), so building
 * them is cheap; leaves come first so that fast-check shrinks towards them.
 */
export function expressions(flavour: Flavour, depth: number, kinds: readonly Kind[] = KINDS): fc.Arbitrary<Expr> {
  const rules = productions(flavour);
  const memo = new Map<string, fc.Arbitrary<Expr>>();
  const of = (kind: Kind, d: number): fc.Arbitrary<Expr> => {
    const key = `${kind}/${d}`;
    let arb = memo.get(key);
    if (arb === undefined) {
      const leaves = fc.constantFrom(...LEAVES[kind]);
      if (d === 0) {
        arb = leaves;
      } else {
        const built = rules
          .filter((r) => r.out === kind)
          .map((r) => ({
            arbitrary: fc.tuple(...r.args.map((a) => of(a, d - 1))).map((args) => r.build(args)),
            weight: r.weight ?? 1,
          }));
        const total = built.reduce((s, b) => s + b.weight, 0);
        // A leaf about a quarter of the time keeps expressions of moderate size.
        arb = fc.oneof({ arbitrary: leaves, weight: Math.ceil(total / 3) }, ...built);
      }
      memo.set(key, arb);
    }
    return arb;
  };
  return fc.oneof(...kinds.map((k) => of(k, depth)));
}

/** Inputs in normal ranges: 0 or |v| ≥ 1e-3, no -0 and no subnormals, whose signs mathjs and IEEE sums treat apart. */
const entry = fc
  .double({ min: -INPUT_BOUND, max: INPUT_BOUND, noNaN: true })
  .filter((v) => Object.is(v, 0) || Math.abs(v) >= 1e-3);

export type Point = {
  readonly x: number[];
  readonly y: number;
  readonly A: number[][];
};

/** Random values of x (3), y (scalar) and A (2×3), each entry in [-2, 2]. */
export const points: fc.Arbitrary<Point> = fc.record({
  x: fc.array(entry, { minLength: 3, maxLength: 3 }),
  y: entry,
  A: fc.array(fc.array(entry, { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 2 }),
});
