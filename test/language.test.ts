/**
 * mathjs is the oracle of the language (SPEC §2): the value of a compiled
 * expression, and its shape, are what mathjs's own evaluate gives, with the
 * unary functions mapped element-wise as the language defines them.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { all, create, type MathCollection, type MathType } from 'mathjs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/api.js';
import { OPS } from '../src/ops/index.js';
import { compileAt } from './helpers/compile.js';
import {
  EXCLUDED,
  expressions,
  FUNCTION_NAMES,
  MATHJS_DIFFERENCES,
  MATHJS_EQUIVALENTS,
  points,
  UNARY,
  UNARY_NAMES,
} from './helpers/expressions.js';
import { casesOf } from './helpers/fuzz.js';
import { bits, firstMismatch } from './helpers/numeric.js';

/** Our formulas may differ from mathjs's in the last bits (coth, sech near 0 are more accurate here). */
const REL = 1e-9;
const ABS = 1e-12;

type MathFunction = (...args: unknown[]) => unknown;

/**
 * mathjs, but for one difference of the language (README): unary minus of an array negates its zero entries to -0,
 * as a scalar's does and as PyTorch's does. mathjs's own skips zeros ("unaryMinus(0) = 0"), which shows only where
 * a function tells -0 from 0: acot(-A) at A = 0 is -π/2 here, π/2 in mathjs.
 */
const math = create(all!);
math.import(
  {
    unaryMinus: math.typed('unaryMinus', {
      number: (x: number) => -x,
      'Array | Matrix': (x: MathCollection) => math.map(x, (v: number) => -v),
    }),
  },
  { override: true },
);

/**
 * The element-wise functions of one argument come from the operation table (UNARY_NAMES).
 * mathjs 15 refuses most unary functions on matrices ("try map(M, sin)"):
 * the scope shadows each with a wrapper that maps a lone array argument
 * element-wise and passes every other call through unchanged.
 */
const ELEMENTWISE: Readonly<Record<string, MathFunction>> = Object.fromEntries(
  UNARY_NAMES.map((name) => {
    const f = (math as unknown as Record<string, MathFunction>)[name]!;
    const mapped: MathFunction = (...args) => {
      const [a] = args;
      return args.length === 1 && math.isCollection(a) ? math.map(a, (v: unknown) => f(v) as MathType) : f(...args);
    };
    return [name, mapped];
  }),
);

interface Value {
  readonly shape: number[];
  readonly values: number[];
}

function shapeOfNested(value: unknown): number[] {
  return Array.isArray(value) ? [value.length, ...shapeOfNested(value[0])] : [];
}

/** What mathjs's evaluate gives, as a shape and the entries row-major; true is 1. */
function mathjsValue(
  expr: string,
  at: Readonly<Record<string, unknown>>,
  functions: Readonly<Record<string, MathFunction>> = ELEMENTWISE,
): Value {
  const result: unknown = math.evaluate(expr, { ...functions, ...at });
  const nested: unknown = math.isMatrix(result) ? result.toArray() : result;
  const values = [nested].flat(Infinity).map((v: unknown) => {
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return Number(v);
    throw new Error(`mathjs gave a ${math.typeOf(v)} for ${expr}`);
  });
  return { shape: shapeOfNested(nested), values };
}

function ourValue(expr: string, at: Readonly<Record<string, unknown>>): Value {
  const { program, point } = compileAt(expr, at);
  return { shape: [...program.outputShape], values: Array.from(program.evaluate(point)) };
}

/**
 * mathjs with lgamma replaced by ours, which is within 2 ulp of exact values (functions.test.ts), where mathjs's is
 * a few ulps off: a difference of roundings that a cancellation and a step magnify (ceil of 4·lgamma(a) − 4·lgamma(b)
 * at a ≈ b is 1 here and 0 in mathjs, whose lgamma gives a and b the same value).
 */
const OURS_FOR_LGAMMA: Readonly<Record<string, MathFunction>> = {
  ...ELEMENTWISE,
  lgamma: (...args) => {
    const [a] = args;
    const lgamma = OPS.lgamma.scalar!;
    return math.isCollection(a) ? math.map(a, (v: number) => lgamma(v)) : lgamma(a as number);
  },
};

function expectSameValue(expr: string, at: Readonly<Record<string, unknown>>): void {
  const expected = mathjsValue(expr, at);
  const actual = ourValue(expr, at);
  expect(actual.shape, `shape of ${expr}`).toEqual(expected.shape);
  const mismatch = firstMismatch(actual.values, expected.values, REL, ABS);
  // A second opinion where lgamma's rounding may be all that differs.
  const second = () => firstMismatch(actual.values, mathjsValue(expr, at, OURS_FOR_LGAMMA).values, REL, ABS);
  expect(mismatch !== null && expr.includes('lgamma') ? second() : mismatch, `value of ${expr}`).toBeNull();
}

interface FixtureCase {
  readonly id: string;
  readonly expr: string;
  readonly at: Record<string, unknown>;
}

const FIXTURES: FixtureCase[] = readFileSync(new URL('../fixtures/torch-cases.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as FixtureCase);

describe('the PyTorch reference expressions', () => {
  it('are all read', () => {
    expect(FIXTURES).toHaveLength(25);
  });

  it.each(FIXTURES)('$id: $expr', (c) => {
    expectSameValue(c.expr, c.at);
  });
});

/** One point for the hand-written table: w, W, y lie in (0, 1); g, G, q above 1; the rest anywhere. */
const AT = {
  x: [0.3, -1.2, 0.7],
  w: [0.2, 0.5, 0.9],
  g: [1.5, 2, 3.5],
  u: [0.4, -0.9],
  y: 0.6,
  z: -1.4,
  q: 2.5,
  A: [
    [0.5, -1, 2],
    [1.5, 0.25, -0.75],
  ],
  W: [
    [0.1, 0.35, 0.6],
    [0.75, 0.85, 0.95],
  ],
  G: [
    [1.2, 1.7, 2.5],
    [3, 4.5, 6],
  ],
  B: [
    [2, 0.5],
    [-0.3, 1.5],
  ],
  C: [
    [2, 0.5, -1],
    [0.3, 1.5, 0.2],
    [-0.4, 0.1, 3],
  ],
};

/** Each feature of SPEC §2 (apart from the unary functions, below). */
const FEATURES: readonly string[] = [
  // numbers, constants, unary signs
  '2',
  '1.5e-3',
  'pi',
  'e',
  '2 pi',
  'e ^ y',
  'sin(pi * x)',
  '-x',
  '+y',
  '-A',
  // + - with scalar broadcasting
  'x + w',
  'x - 1',
  '1 - A',
  'y + A',
  'A + W - G',
  // implicit multiplication
  '2x',
  '2 x',
  '3 sin(x)',
  '2(x + 1)',
  '2 y x',
  'x[1]x[2]',
  '(y + 1)(y - 1)',
  '3 sin(y) z',
  // * / and element-wise operators
  'y * x',
  'A * 2',
  'x / y',
  'A / 4',
  'x .* w',
  'x ./ (1 + x .^ 2)',
  'A .* W',
  'A ./ G',
  'x .^ 2',
  'w .^ y',
  'y .^ w',
  'W .^ G',
  'y ^ 2',
  'q ^ z',
  'z ^ 3',
  // matrix products, matrix × vector, vector × matrix, vector · vector
  'A * x',
  'u * A',
  "A * A'",
  "A' * A",
  'B * B',
  'B * u',
  'u * B',
  'B * A',
  'x * w',
  "x' * x",
  'A * C',
  'C * x',
  // transpose
  "x'",
  "A'",
  "(A * x)'",
  'transpose(A)',
  "A'' + A",
  // literals, nested
  '[y, z; z, y]',
  '[x[1], y, 3]',
  '[[1, y], [z, 2]]',
  '[x, w]',
  '[u, u, u]',
  '[1.5e-3, 2]',
  '[y, 2 z; sin(y), 4]',
  // indexing
  'x[2]',
  'x[2:3]',
  'x[1:3]',
  'A[1, :]',
  'A[:, 2]',
  'A[2, 3]',
  'x[end]',
  'x[end-1]',
  'x[end-1:end]',
  'A[end, end]',
  'A[2, 1:2]',
  'A[:, 2:3]',
  'A[end, :]',
  '(A * x)[2]',
  'sin(x)[end]',
  'x[[1, 3]]',
  // comparisons and the ternary on scalars (mathjs compares with a relative tolerance)
  'y > z',
  'y < z',
  'y >= y',
  'y <= z',
  'y == y',
  'y != z',
  '0.1 + 0.2 == 0.3',
  '0.1 + 0.2 > 0.3',
  'y > z ? y : z',
  'y < z ? sin(y) : cos(z)',
  '(y > 0) * z',
  'z > 0 ? x : w',
  'y == 0.6 ? 1 : 2',
  // reductions
  'sum(x)',
  'sum(A)',
  'sum(A, 1)',
  'sum(A, 2)',
  'sum(y, z, 2)',
  'prod(x)',
  'prod(A)',
  'mean(x)',
  'mean(A)',
  'mean(A, 1)',
  'mean(A, 2)',
  'max(x)',
  'max(A)',
  'min(x)',
  'min(A)',
  'max(1, y, z)',
  'min(y, z, -3)',
  // norms
  'norm(x)',
  'norm(x, 1)',
  'norm(x, 3)',
  'norm(x, Infinity)',
  'norm(x, -Infinity)',
  "norm(A, 'fro')",
  'norm(A, 1)',
  'norm(A, Infinity)',
  'norm(z)',
  // linear algebra
  'dot(x, w)',
  'cross(x, w)',
  'cross(w, x)',
  'det(B)',
  'det(C)',
  "det(A * A')",
  'inv(B)',
  'inv(C)',
  'trace(B)',
  'trace(C)',
  'inv(B) * B',
  // binary element-wise functions on scalars (mathjs refuses pow, log, hypot, max, min on arrays)
  'atan2(y, z)',
  'atan2(z, -0.5)',
  'atan2(-0.5, z)',
  'atan2(x, w)',
  'pow(y, 3)',
  'pow(q, z)',
  'log(q, 2)',
  'log(8, 2)',
  'log(y, 10)',
  'nthRoot(q, 3)',
  'nthRoot(-8, 3)',
  'nthRoot(g, 3)',
  'nthRoot(q, 2.5)',
  'hypot(y, z)',
  'hypot(3, 4)',
  'hypot(x)',
  'max(y, z)',
  'min(y, z)',
  'max(y, y)',
  // constant expressions (every variable of AT is bound and unused)
  '3 + 4',
  '[1, 2; 3, 4] * [1, 1]',
  // compositions
  'tanh(A * x + u)',
  'exp(x) / sum(exp(x))',
  'log(sum(exp(A)))',
  "x' * C * x",
  'sum(100 * (x[2:3] - x[1:2] .^ 2) .^ 2 + (1 - x[1:2]) .^ 2)',
];

describe('every feature of SPEC §2 at one point', () => {
  it.each(FEATURES)('%s', (expr) => {
    expectSameValue(expr, AT);
  });
});

/** Functions defined on (0, 1) at least, or above 1 only; the others take any of z, x, A (none is 0 or near π/2). */
const ON_UNIT = new Set(['asin', 'acos', 'atanh', 'asech', 'log', 'log1p', 'log2', 'log10', 'sqrt', 'nthRoot']);
const ABOVE_ONE = new Set(['acosh', 'asec', 'acsc', 'acoth']);
/** A scalar, a vector and a matrix inside the function's domain. */
const argumentsOf = (name: string): readonly string[] =>
  ON_UNIT.has(name) ? ['y', 'w', 'W'] : ABOVE_ONE.has(name) ? ['q', 'g', 'G'] : ['z', 'x', 'A'];

describe('every unary function of the operation table, element-wise, inside its domain', () => {
  const cases = UNARY_NAMES.flatMap((name) => argumentsOf(name).map((arg) => [name, arg] as const));
  it.each(cases)('%s(%s)', (name, arg) => {
    // A function mathjs lacks is compared with the mathjs expression it stands for.
    const equivalent = Object.hasOwn(MATHJS_EQUIVALENTS, name) ? MATHJS_EQUIVALENTS[name] : undefined;
    if (equivalent === undefined) {
      expectSameValue(`${name}(${arg})`, AT);
      return;
    }
    const expected = mathjsValue(equivalent(arg), AT);
    const actual = ourValue(`${name}(${arg})`, AT);
    expect(actual.shape).toEqual(expected.shape);
    expect(firstMismatch(actual.values, expected.values, REL, ABS)).toBeNull();
  });
});

describe('random expressions over a scalar, a vector and a matrix', () => {
  // Counted as the fuzz tests' cases: half in npm test (the first 400 reach every unary function), all in CI's fuzz run.
  const RUNS = casesOf({ test: 500, ci: 1000, full: 5000 });

  it(`${RUNS} expressions have mathjs's value and shape`, () => {
    const seen: string[] = [];
    fc.assert(
      fc.property(expressions({ smooth: false, mathjs: true }, 3), points, (e, at) => {
        seen.push(e.text);
        expectSameValue(e.text, at);
      }),
      { seed: 0x5eed_1a6, numRuns: RUNS },
    );
    expect(seen).toHaveLength(RUNS);
    // The generator reaches every unary function (a name not preceded by a letter, as asin is not sin).
    const unseen = UNARY.map((f) => f.name).filter(
      (name) =>
        !Object.hasOwn(MATHJS_DIFFERENCES, name) &&
        !Object.hasOwn(MATHJS_EQUIVALENTS, name) &&
        !seen.some((text) => new RegExp(`(^|[^a-zA-Z])${name}\\(`).test(text)),
    );
    expect(unseen).toEqual([]);
  });

  it('the generator has a domain for every element-wise function of one argument', () => {
    expect(UNARY.map((f) => f.name)).toEqual(UNARY_NAMES);
  });
});

describe('the generator and the functions of the language', () => {
  /** A call of the function in the text (a name not preceded by a letter, as asin is not sin). */
  const calls = (text: string, name: string) => new RegExp(`(^|[^a-zA-Z0-9_])${name}\\(`).test(text);

  it('produces every function of the operation table and of functions.ts, or states why not', () => {
    const texts = fc.sample(expressions({ smooth: false, mathjs: false }, 3), { seed: 0x5eed_f0, numRuns: 3000 });
    const missing = FUNCTION_NAMES.filter(
      (name) => !Object.hasOwn(EXCLUDED, name) && !texts.some((e) => calls(e.text, name)),
    );
    expect(missing, 'functions without a generator entry (a domain, a production) or a stated exclusion').toEqual([]);
    expect(Object.keys(EXCLUDED).filter((name) => !FUNCTION_NAMES.includes(name))).toEqual([]);
  });

  it('takes its function names from the operation table and functions.ts', () => {
    expect(FUNCTION_NAMES).toEqual(expect.arrayContaining(['sin', 'floor', 'mod', 'atan2', 'sum', 'norm', 'xor']));
    expect(UNARY_NAMES).toEqual(expect.arrayContaining(['sin', 'floor', 'round', 'nthRoot']));
  });
});

describe('fix and mod snap to a nearly equal integer, as mathjs does', () => {
  it('fix(0.999999999999) is 1', () => {
    expectSameValue('fix(y)', { y: 0.999999999999 });
  });

  it('mod(9, 1.5000000000000002) is about 0', () => {
    expectSameValue('mod(9, y)', { y: 1.5000000000000002 });
  });

  it('round, floor, ceil and fix give mathjs’s results just below and above halves and integers', () => {
    // mathjs's round first rounds x to 12 decimals where it nearly equals that: 2.4999999999995 rounds to 3.
    const offsets = [0, 1e-14, 1e-13, 4.9e-13, 5e-13, 5.1e-13, 9.9e-13, 1e-12, 2e-12];
    const centres = [0.5, 1, 2.5, 3, 7.5, 12345.5, 4503599627370495.5];
    const x = centres.flatMap((c) => offsets.flatMap((d) => [c - d, c + d, -(c - d), -(c + d)]));
    for (const f of ['round', 'floor', 'ceil', 'fix']) expectSameValue(`${f}(x)`, { x });
    // And the sign of a zero, which acot tells: mathjs rounds -9e-16 and -0 to 0, -0.3 to -0.
    const tiny = { x: [-0, -5e-324, -9e-16, -1e-15, -2e-15, -4.9e-13, -0.3, 9e-16] };
    for (const f of ['round', 'floor', 'ceil', 'fix']) expectSameValue(`acot(${f}(x))`, tiny);
  });
});

describe('unary minus of an array, as of a scalar', () => {
  it('negates zero entries to -0: acot(-A) at A = 0 is -π/2 (mathjs keeps them 0, as the oracle here does not)', () => {
    const at = { A: [[0, 0, 0]] };
    expectSameValue('acot(-A)', at);
    expectSameValue('acot(unaryMinus(A))', at);
    expect(ourValue('acot(-A)', at).values).toEqual([-Math.PI / 2, -Math.PI / 2, -Math.PI / 2]);
  });
});

describe('inv, as mathjs computes it', () => {
  it('gives mathjs’s entries to the bit, the signs of zeros too (acot tells them)', () => {
    const matrices = [
      [[4]],
      [
        [3, 0],
        [0, 3],
      ],
      [
        [2, 0, 1],
        [0, 3, 0],
        [1, -0, 2],
      ],
      [
        [0, 1, 0, 2],
        [1, 0, 0, 0],
        [0, 0, 3, -1],
        [0, 0.5, 0, -1],
      ],
    ];
    for (const A of matrices) {
      expect(ourValue('inv(A)', { A }).values.map(bits)).toEqual((math.inv(A) as number[][]).flat().map(bits));
      expectSameValue('acot(inv(A))', { A });
    }
  });
});

describe('det of a 2×2 matrix, as mathjs computes it', () => {
  // Nearly singular: sqrt(2 + sin(A[:, 1:2])) at A's columns near -2 and 2 (fuzz tests at 256× their budget). LU
  // gave 1.0670714e-9, mathjs 1.0670718e-9 (exact: 1.0670713e-9), and atan2(det(…), csch(…)) magnified the
  // difference of the roundings past 1e-9.
  const nearlySingular = [
    [1.0443670665461526, 1.7056662706478873],
    [1.044367068216112, 1.7056662743970143],
  ];
  it.each([
    ['nearly singular', nearlySingular],
    [
      'with a -0 (mathjs: -0·1 − 0·0 is -0)',
      [
        [-0, 0],
        [0, 1],
      ],
    ],
  ])('%s: mathjs’s value to the bit', (_what, M) => {
    expect(ourValue('det(M)', { M }).values.map(bits)).toEqual([bits(math.det(M))]);
    expectSameValue('atan2(det(M), 1e-4)', { M });
  });
  it('the fuzz case', () => {
    expectSameValue('atan2(det(sqrt((2 + sin(A[:, 1:2])))), csch((1 + (A[:, 1:2] * y) .^ 2)))', {
      y: -1.3805082711460805,
      A: [
        [-1.9999999916180964, 1.9999999999995426, 0],
        [-1.999999999999996, 1.9999999692663528, 0],
      ],
    });
  });
});

describe('lgamma, more accurate than mathjs’s', () => {
  // A'[2, :] is 0 and lgamma(1.5 + A[:, 1] .^ 2) has two entries 1 ulp apart (exact to the bit here; mathjs gives both
  // 3.9578139676186903): 4·l₁ − 4·l₂ is 7.1e-15 here and 0 in mathjs, and ceil makes it 1 (fuzz tests at 384× their
  // budget).
  const A = [
    [-1.999999999999996, 0, 1.999999999999996],
    [1.9999999999999958, 0, -1.999999999999996],
  ];
  const expr = "ceil(atan((2 .* A') * lgamma(1.5 + A[:, 1] .^ 2)))";
  it('differs from mathjs where a cancellation and a step magnify its rounding, and matches mathjs with our lgamma', () => {
    expect(ourValue(expr, { A }).values).toEqual([-0, 0, 1]);
    expect(mathjsValue(expr, { A }).values).toEqual([-0, 0, 0]);
    expectSameValue(expr, { A });
  });
});

describe('constants and bindings (issue 13 item 10)', () => {
  // mathjs reads these words as values: a scope entry for one is never used.
  it.each(['Infinity', 'NaN', 'true', 'false'])('a binding of the literal %s is refused by name', (word) => {
    expect(math.evaluate(`${word} + 0`, { [word]: 3 })).not.toBe(3);
    expect(() => api.jacobian(`x + ${word}*0`, { [word]: 3, x: 1 })).toThrow(
      new RegExp(`^${word} is a literal of the language, not a name`),
    );
  });

  // Names that mathjs looks up in the scope: a value shadows the constant, as math.evaluate does.
  it.each(['pi', 'e', 'Inf', 'tau', 'phi', 'LN2', 'SQRT2'])('a binding of the constant %s shadows it', (name) => {
    expect(math.evaluate(`${name} * x`, { [name]: 3, x: 2 })).toBe(6);
    const result = api.jacobian(`${name} * x`, { [name]: 3, x: 2 });
    expect(result.jacobian).toEqual([[2, 3]]);
  });
});
