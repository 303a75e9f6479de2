/**
 * `jacobian emit`: a program's forward pass and derivative passes, for the
 * shapes it was compiled with, written out as a standalone ES module
 * (no imports) exporting `value`, `jacobian`, `vjp` and `jvp`.
 *
 * The source is built only from numbers (buffer indices, constants), a
 * fixed vocabulary (this file's text, `Math`'s function names) and
 * generated identifiers (`x12`, `c7`, `t3`, `s0`, `m1`). Variables are numbered,
 * never named: the module takes its inputs as an array, in the order of the
 * program's variables, so nothing a user writes (names, expressions) can
 * reach the text. compiled.ts runs the same kind of code in-process; this
 * module only writes text, and never runs it.
 *
 * The derivative passes are compiled.ts's, entry by entry (its accumulators
 * and operands), with the products of SPEC §6 (`mul`: an exact zero times
 * anything is 0), and the matmul and dense steps besides.
 */
import { UnsupportedError, LimitError } from '../errors.js';
import {
  EXP_STEP_HEAD,
  EXP_STEP_TAIL,
  EXP_STEPS_PER_UNIT,
  EXP_TABLE_HEADS,
  EXP_TABLE_TAILS,
} from '../ops/exp-table.js';
import { determinant } from '../ops/linalg.js';
import {
  OP_NAMES,
  OPS,
  SUM_BLOCK,
  type IndexMap,
  type OpName,
  type OpSpec,
  type Operand,
  type Param,
} from '../ops/index.js';
import type { ElementwiseBinaryName, ElementwiseUnaryName } from '../ops/types.js';
import { asRowMajor, sizeOf, type Shape } from '../shape.js';
import { Accumulators, reached, valueAt } from './compiled.js';
import type { Step } from './linear/index.js';
import type { DerivativeOptions, Point, PreparedPasses, Program } from './program.js';

/**
 * Above this many entry operations (values, terms of sums, derivative terms) the module is refused: straight-line
 * code grows with the entries, and past this the file is tens of megabytes that V8 would not optimise anyway.
 */
export const MAX_EMITTED_OPERATIONS = 500_000;

/**
 * Above this many locals in one generated function the module is refused: V8 gives each local a slot of the
 * function's stack frame, and at about 120 000 the frame alone overflows the stack when the function is called.
 */
export const MAX_LOCALS_PER_FUNCTION = 50_000;

/** The table's element-wise operations (those with a scalar function), written as expressions of their operands. */
export type ElementwiseName =
  | ElementwiseUnaryName
  | ElementwiseBinaryName
  | 'erf'
  | 'gaussian'
  | 'sigmoid'
  | 'sigmoidSlope'
  | 'relu'
  | 'heaviside'
  | 'softplus'
  | 'lgamma'
  | 'digamma'
  | 'trigamma';

/**
 * An expression of the operands' expressions (each a local or a buffer entry, pure and cheap to repeat); `use`
 * names a helper of the prelude that it calls.
 */
type ScalarText = (operands: readonly string[], use: (helper: Helper) => string) => string;

/** Helper functions of the module's prelude, written out when some code calls them. */
const HELPERS = {
  mul: 'const mul = (a, b) => (a === 0 || b === 0 ? 0 : a * b);',
  pow: [
    'function pow(x, y) {',
    '  if (y === 2) return x * x;',
    '  if ((x * x < 1 && y === Infinity) || (x * x > 1 && y === -Infinity)) return 0;',
    '  return Math.pow(x, y);',
    '}',
  ].join('\n'),
  // The table's exp (elementwise.ts), its table written out as numbers: 256 of them, written when a module needs
  // them, not at every start of the program.
  get exp(): string {
    return [
      `const expHeads = Float64Array.of(${EXP_TABLE_HEADS.join(', ')});`,
      `const expTails = Float64Array.of(${EXP_TABLE_TAILS.join(', ')});`,
      'const powersOfTwo = Float64Array.from({ length: 2046 }, (_, i) => 2 ** (i - 1022));',
      'function exp(x) {',
      '  if (!(Math.abs(x) < 708)) return Math.exp(x);',
      `  const steps = x * ${EXP_STEPS_PER_UNIT} + 6755399441055744 - 6755399441055744;`,
      '  const n = steps | 0;',
      '  const j = n & 127;',
      `  const r = x - steps * ${EXP_STEP_HEAD} - steps * ${EXP_STEP_TAIL};`,
      '  const expm1r = r + r * r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120))));',
      '  const head = expHeads[j];',
      '  return (head + (head * expm1r + expTails[j])) * powersOfTwo[(n >> 7) + 1022];',
      '}',
    ].join('\n');
  },
  // exp(-x²) with x² split, as activations.ts's gaussian.
  gaussian: [
    'function gaussian(x) {',
    '  const y = Math.abs(x);',
    '  const head = Math.trunc(y * 16) / 16;',
    '  return exp(-head * head) * exp(-(y - head) * (y + head));',
    '}',
  ].join('\n'),
  // The table's oneLessTwiceSquare (elementwise.ts), in asech's second derivative.
  oneLessTwiceSquare: [
    'function oneLessTwiceSquare(x) {',
    '  const scaled = 134217729 * x;',
    '  const head = scaled - (scaled - x);',
    '  const tail = x - head;',
    '  return 1 - 2 * head * head - 4 * head * tail - 2 * tail * tail;',
    '}',
  ].join('\n'),
  // The table's atanSlope, sech and csch (elementwise.ts), the derivatives of atan, acot, tanh and coth.
  atanSlope: 'const atanSlope = (x) => (Math.abs(x) < 2 ** 500 ? 1 / (1 + x * x) : 1 / x / x);',
  sech: 'const sech = (x) => (Math.abs(x) > 700 ? 2 * Math.exp(-Math.abs(x)) : 1 / Math.cosh(x));',
  csch: 'const csch = (x) => (Math.abs(x) > 700 ? Math.sign(x) * 2 * Math.exp(-Math.abs(x)) : 1 / Math.sinh(x));',
  sigmoidSlope: [
    'function sigmoidSlope(x) {',
    '  const e = exp(-Math.abs(x));',
    '  return e / (1 + e) / (1 + e);',
    '}',
  ].join('\n'),
  sigmoid: [
    'function sigmoid(x) {',
    '  if (x >= 0) return 1 / (1 + exp(-x));',
    '  const e = exp(x);',
    '  return e / (1 + e);',
    '}',
  ].join('\n'),
  // mathjs's comparison, as the table's (relative and absolute tolerances 1e-12, 1e-15).
  nearlyEqual: [
    'function nearlyEqual(a, b) {',
    '  if (Number.isNaN(a) || Number.isNaN(b)) return false;',
    '  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;',
    '  if (a === b) return true;',
    '  return Math.abs(a - b) <= Math.max(1e-12 * Math.max(Math.abs(a), Math.abs(b)), 1e-15);',
    '}',
  ].join('\n'),
  truth: 'const truth = (x) => (x !== 0 && !Number.isNaN(x) ? 1 : 0);',
  // Who wins a against b for max (sign 1) or min (sign -1): 1, 0.5 at a tie, 0.
  contest: [
    'function contest(a, b, sign) {',
    '  if (nearlyEqual(a, b)) return 0.5;',
    '  return sign * (a - b) > 0 ? 1 : 0;',
    '}',
  ].join('\n'),
  extreme:
    'const extreme = (a, b, sign) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : contest(b, a, sign) === 1 ? b : a);',
  // mathjs's rounding: half away from zero, after snapping to 12 decimals; floor and ceil snapped to the integer that
  // round gives where x nearly equals it (elementwise.ts's roundLikeMathjs, floorLikeMathjs, ceilLikeMathjs).
  roundHalfAway: 'const roundHalfAway = (x) => Math.sign(x) * Math.round(Math.abs(x));',
  round: [
    'function round(x) {',
    '  const magnitude = Math.abs(x);',
    '  if (magnitude <= 1e-15) return 0;',
    '  const rounded = roundHalfAway(x);',
    '  const half = Math.floor(magnitude) + 0.5;',
    '  if (!(magnitude < half && half - magnitude < 1e-12)) return rounded;',
    '  const text = String(magnitude);',
    "  const decimals = text.slice(text.indexOf('.') + 1);",
    "  if (!(decimals.startsWith('499999999999') && decimals.length > 12 && decimals[12] >= '5')) return rounded;",
    '  const snapped = Math.sign(x) * half;',
    '  return nearlyEqual(x, snapped) ? roundHalfAway(snapped) : rounded;',
    '}',
  ].join('\n'),
  floor: [
    'function floor(x) {',
    '  const f = Math.floor(x);',
    '  const r = round(x);',
    '  return f !== r && nearlyEqual(x, r) && !nearlyEqual(x, f) ? r : f;',
    '}',
  ].join('\n'),
  ceil: [
    'function ceil(x) {',
    '  const c = Math.ceil(x);',
    '  const r = round(x);',
    '  return c !== r && nearlyEqual(x, r) && !nearlyEqual(x, c) ? r : c;',
    '}',
  ].join('\n'),
  // log(Σ exp(x)), shifted by the largest entry.
  logsumexp: [
    'function logsumexp(v, offset, size) {',
    '  let top = offset;',
    '  for (let k = offset; k < offset + size; k++) if (v[k] > v[top] || Number.isNaN(v[k])) top = k;',
    '  const m = v[top];',
    '  if (!Number.isFinite(m)) return m;',
    '  let rest = 0;',
    '  for (let k = offset; k < offset + size; k++) if (k !== top) rest += exp(v[k] - m);',
    '  return m + Math.log1p(rest);',
    '}',
  ].join('\n'),
  // The largest finite entry, 0 if none: the shift of softmax.
  stopMax: [
    'function stopMax(v, offset, size) {',
    '  let m = -Infinity;',
    '  for (let k = offset; k < offset + size; k++) if (v[k] > m && v[k] < Infinity) m = v[k];',
    '  return m === -Infinity ? 0 : m;',
    '}',
  ].join('\n'),
  // The product's own determinant (2×2 by mathjs's formula, larger by LU with partial pivoting), a function of its
  // arguments and Math alone.
  determinant: `const determinant = ${String(determinant)};`,
  minor: [
    'function minor(v, src, n, skipRows, skipCols) {',
    '  const m = n - skipRows.length;',
    '  const a = new Float64Array(m * m);',
    '  let idx = 0;',
    '  for (let r = 0; r < n; r++) {',
    '    if (skipRows.includes(r)) continue;',
    '    for (let c = 0; c < n; c++) if (!skipCols.includes(c)) a[idx++] = v[src + r * n + c];',
    '  }',
    '  return determinant(a, m);',
    '}',
  ].join('\n'),
  norm2: [
    'function norm2(v, offset, size) {',
    '  let sum = 0;',
    '  for (let k = 0; k < size; k++) sum += Math.abs(v[offset + k]) * Math.abs(v[offset + k]);',
    '  if (Number.isNaN(sum) || (sum >= 2 ** -960 && sum < Infinity)) return Math.sqrt(sum);',
    '  let scale = 0;',
    '  for (let k = 0; k < size; k++) scale = Math.max(scale, Math.abs(v[offset + k]));',
    '  if (scale === 0 || scale === Infinity) return scale;',
    '  let scaled = 0;',
    '  for (let k = 0; k < size; k++) scaled += (Math.abs(v[offset + k]) / scale) * (Math.abs(v[offset + k]) / scale);',
    '  return scale * Math.sqrt(scaled);',
    '}',
  ].join('\n'),
} as const;
type Helper = keyof typeof HELPERS;
/** Helpers that call other helpers. */
const HELPER_NEEDS: Partial<Record<Helper, readonly Helper[]>> = {
  minor: ['determinant'],
  contest: ['nearlyEqual'],
  extreme: ['contest', 'nearlyEqual'],
  gaussian: ['exp'],
  sigmoidSlope: ['exp'],
  sigmoid: ['exp'],
  logsumexp: ['exp'],
  round: ['nearlyEqual', 'roundHalfAway'],
  floor: ['nearlyEqual', 'round'],
  ceil: ['nearlyEqual', 'round'],
};

const math =
  (name: string): ScalarText =>
  (o) =>
    `Math.${name}(${o.join(', ')})`;
const infix =
  (operator: string): ScalarText =>
  ([a, b]) =>
    `(${a} ${operator} ${b})`;
const helper =
  (name: Helper): ScalarText =>
  (o, use) =>
    `${use(name)}(${o.join(', ')})`;

/**
 * Each element-wise operation's scalar function as text, or null where the module cannot have it yet (emit refuses
 * the program). test/emit.test.ts checks every entry against the operation table's scalar, to the bit.
 */
export const ELEMENTWISE_TEXT: Readonly<Record<ElementwiseName, ScalarText | null>> = {
  unaryMinus: ([a]) => `(-${a})`,
  not: ([a]) => `(${a} !== 0 && ${a} === ${a} ? 0 : 1)`,
  isZero: ([a]) => `(${a} === 0 ? 1 : 0)`,
  sin: math('sin'),
  cos: math('cos'),
  tan: math('tan'),
  sec: null,
  csc: null,
  cot: null,
  asin: math('asin'),
  acos: math('acos'),
  atan: math('atan'),
  asec: null,
  acsc: null,
  acot: null,
  atanSlope: helper('atanSlope'),
  sinh: math('sinh'),
  cosh: math('cosh'),
  tanh: math('tanh'),
  sech: helper('sech'),
  csch: helper('csch'),
  coth: null,
  asinh: math('asinh'),
  asinhSlope: ([a]) => `(1 / Math.hypot(${a}, 1))`,
  asechSlope: ([a]) => `(-1 / (${a} * Math.sqrt((1 - ${a}) * (1 + ${a}))))`,
  oneLessTwiceSquare: helper('oneLessTwiceSquare'),
  acosh: math('acosh'),
  atanh: math('atanh'),
  asech: null,
  acsch: null,
  acoth: null,
  exp: helper('exp'),
  expm1: math('expm1'),
  log: math('log'),
  log1p: math('log1p'),
  log2: math('log2'),
  log10: math('log10'),
  sqrt: math('sqrt'),
  cbrt: math('cbrt'),
  abs: math('abs'),
  sign: math('sign'),
  square: ([a]) => `(${a} * ${a})`,
  cube: ([a]) => `(${a} * ${a} * ${a})`,
  floor: helper('floor'),
  ceil: helper('ceil'),
  round: helper('round'),
  fix: ([a], use) => `(${a} > 0 ? ${use('floor')}(${a}) : ${use('ceil')}(${a}))`,
  add: infix('+'),
  subtract: infix('-'),
  dotMultiply: infix('*'),
  dotDivide: infix('/'),
  pow: helper('pow'),
  atan2: math('atan2'),
  hypot: math('hypot'),
  max: ([a, b], use) => `${use('extreme')}(${a}, ${b}, 1)`,
  min: ([a, b], use) => `${use('extreme')}(${a}, ${b}, -1)`,
  logBase: ([a, b]) => `(Math.log(${a}) / Math.log(${b}))`,
  nthRoot: null,
  mod: null,
  equal: ([a, b], use) => `(${use('nearlyEqual')}(${a}, ${b}) ? 1 : 0)`,
  unequal: ([a, b], use) => `(${use('nearlyEqual')}(${a}, ${b}) ? 0 : 1)`,
  smaller: ([a, b], use) => `(${a} < ${b} && !${use('nearlyEqual')}(${a}, ${b}) ? 1 : 0)`,
  larger: ([a, b], use) => `(${a} > ${b} && !${use('nearlyEqual')}(${a}, ${b}) ? 1 : 0)`,
  smallerEq: ([a, b], use) => `(${a} < ${b} || ${use('nearlyEqual')}(${a}, ${b}) ? 1 : 0)`,
  largerEq: ([a, b], use) => `(${a} > ${b} || ${use('nearlyEqual')}(${a}, ${b}) ? 1 : 0)`,
  and: ([a, b], use) => `(${use('truth')}(${a}) && truth(${b}) ? 1 : 0)`,
  or: ([a, b], use) => `(${use('truth')}(${a}) || truth(${b}) ? 1 : 0)`,
  xor: ([a, b], use) => `(${use('truth')}(${a}) !== truth(${b}) ? 1 : 0)`,
  strongMultiply: helper('mul'),
  maxWeight: ([a, b], use) => `${use('contest')}(${a}, ${b}, 1)`,
  minWeight: ([a, b], use) => `${use('contest')}(${a}, ${b}, -1)`,
  erf: null,
  gaussian: helper('gaussian'),
  sigmoid: helper('sigmoid'),
  sigmoidSlope: helper('sigmoidSlope'),
  relu: ([a]) => `(${a} > 0 ? ${a} : ${a} !== ${a} ? ${a} : 0)`,
  heaviside: ([a]) => `(${a} > 0 ? 1 : 0)`,
  softplus: ([a], use) => `(Math.max(${a}, 0) + Math.log1p(${use('exp')}(-Math.abs(${a}))))`,
  lgamma: null,
  digamma: null,
  trigamma: null,
};

/** The text of one element-wise operation's scalar function, with the helpers it calls, for tests; null if none. */
export function scalarFunctionSource(op: ElementwiseName): string | null {
  const text = ELEMENTWISE_TEXT[op];
  if (text === null) return null;
  const budget = new Budget();
  const expression = text(['a', 'b'], (name) => budget.use(name));
  return `(a, b) => {\n${budget.prelude().join('\n')}\nreturn ${expression};\n}`;
}

/** The forward step of one node that is not element-wise: its entries written through `code`. */
type ForwardRule = (code: ForwardCode, out: Operand, args: readonly Operand[], param: Param) => void;

/** Above this many terms a sum is written as statements: V8's parser overflows its stack on a long chain of `+`. */
const MAX_TERMS_PER_EXPRESSION = 32;

/** The locals of one generated function besides its entries': sums `s…` and products `m…`, declared in `lines`. */
class Locals {
  private next = 0;

  constructor(readonly lines: string[]) {}

  /** start + t₁ + t₂ + …, left to right: one expression for a few terms, a local added to term by term for many. */
  sum(start: '0' | '-0', terms: readonly string[]): string {
    if (terms.length <= MAX_TERMS_PER_EXPRESSION) return `(${[start, ...terms].join(' + ')})`;
    const name = `s${this.next++}`;
    this.lines.push(`let ${name} = ${start};`);
    for (const term of terms) this.lines.push(`${name} += ${term};`);
    return name;
  }

  /** An expression computed once, as a local, for a value read many times. */
  name(expression: string): string {
    const name = `m${this.next++}`;
    this.lines.push(`const ${name} = ${expression};`);
    return name;
  }
}

/** entry += (0 + t₁ + t₂ + …), a sum formed first as the interpreter forms it; nothing when every term is 0. */
function addSum(acc: Accumulators, locals: Locals, entry: number, terms: readonly (string | null)[]): void {
  const present = terms.filter((t): t is string => t !== null);
  if (present.length > 0) acc.add(entry, locals.sum('0', present));
}

/**
 * entry += a sum over a vector's entries (term k of entry k; null, an exact 0), in blocks of SUM_BLOCK as the
 * linear kinds add them (ops/sums.ts): 0 + b₀ + b₁ + …, where a block of zeros adds +0 and is left out.
 */
function addEntrySum(acc: Accumulators, locals: Locals, entry: number, terms: readonly (string | null)[]): void {
  if (terms.length <= SUM_BLOCK) return addSum(acc, locals, entry, terms);
  const blocks = inBlocks(terms)
    .map((block) => block.filter((t): t is string => t !== null))
    .flatMap((present) => (present.length > 0 ? [locals.sum('0', present)] : []));
  if (blocks.length > 0) acc.add(entry, locals.sum('0', blocks));
}

/** The terms of a sum over entries in its blocks of SUM_BLOCK (ops/sums.ts). */
function inBlocks<T>(terms: readonly T[]): T[][] {
  return Array.from({ length: Math.ceil(terms.length / SUM_BLOCK) }, (_, b) =>
    terms.slice(b * SUM_BLOCK, (b + 1) * SUM_BLOCK),
  );
}

/** Entry `to[j]` of the output takes entry `from[j]` of an argument, summed where a target repeats (as `place`). */
function placeMaps(code: ForwardCode, out: Operand, args: readonly Operand[], maps: readonly IndexMap[]): void {
  const terms: string[][] = Array.from({ length: out.size }, () => []);
  maps.forEach(({ to, from }, i) => {
    for (let j = 0; j < to.length; j++) terms[to[j]!]!.push(code.read(args[i]!.offset + from[j]!));
  });
  terms.forEach((entryTerms, k) => code.assign(out.offset + k, code.sum(entryTerms), entryTerms.length));
}

/** The matrix size of a square operand, or a refusal above the size whose cofactors come from minors. */
function squareSize(operand: Operand, label: string, max: number): number {
  const n = operand.shape[0] ?? 1;
  if (n > max) throw new UnsupportedError(`emit writes ${label} for matrices up to ${max}×${max}, not ${n}×${n}`);
  return n;
}

/** Above this size the table's cofactors come from an inverse, which the module does not have. */
const COFACTOR_BY_MINORS_MAX_N = 8;

const FORWARD: Readonly<Record<Exclude<OpName, ElementwiseName>, ForwardRule | null>> = {
  // Inputs are loaded and constants written before the pass.
  input: () => {},
  constant: () => {},
  select: (code, out, args, param) => placeMaps(code, out, args, param.kind === 'select' ? [param.map] : []),
  concat: (code, out, args, param) => placeMaps(code, out, args, param.kind === 'concat' ? param.maps : []),
  reshape: (code, out, [a]) => {
    for (let k = 0; k < out.size; k++) code.assign(out.offset + k, code.read(a!.offset + k), 1);
  },
  where: (code, out, [c, a, b]) => {
    const at = (x: Operand, k: number): string => code.read(x.offset + (x.size === 1 ? 0 : k));
    for (let k = 0; k < out.size; k++) {
      const cond = at(c!, k);
      code.assign(out.offset + k, `(${cond} !== 0 && ${cond} === ${cond} ? ${at(a!, k)} : ${at(b!, k)})`, 1);
    }
  },
  sum: (code, out, [a]) => {
    const terms = Array.from({ length: a!.size }, (_, k) => code.read(a!.offset + k));
    code.assign(out.offset, code.sumOfEntries(terms), terms.length);
  },
  dot: (code, out, [a, b]) => {
    const terms = Array.from(
      { length: a!.size },
      (_, k) => `${code.read(a!.offset + k)} * ${code.read(b!.offset + k)}`,
    );
    code.assign(out.offset, code.sum(terms), terms.length);
  },
  norm2: (code, out, [a]) => code.assign(out.offset, code.call('norm2', `v, ${a!.offset}, ${a!.size}`), a!.size),
  matmul: (code, out, [a, b]) => {
    const [r, p] = asRowMajor(a!.shape);
    const c = out.size / r;
    for (let i = 0; i < r; i++)
      for (let j = 0; j < c; j++) {
        const terms = Array.from(
          { length: p },
          (_, k) => `${code.read(a!.offset + i * p + k)} * ${code.read(b!.offset + k * c + j)}`,
        );
        code.assign(out.offset + i * c + j, code.sum(terms), p);
      }
  },
  det: (code, out, [a]) => {
    const n = a!.shape[0] ?? 1;
    code.assign(out.offset, code.call('determinant', `v.slice(${a!.offset}, ${a!.offset + n * n}), ${n}`), n * n * n);
  },
  cofactor: (code, out, [a]) => {
    const n = squareSize(a!, 'the derivative of det', COFACTOR_BY_MINORS_MAX_N);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const minor = code.call('minor', `v, ${a!.offset}, ${n}, [${i}], [${j}]`);
        code.assign(out.offset + i * n + j, (i + j) % 2 === 0 ? minor : `(-${minor})`, n * n * n);
      }
  },
  prod: null,
  prodOthers: null,
  prodPairs: null,
  maxReduce: null,
  minReduce: null,
  tieWeights: null,
  normP: null,
  cofactorJacobian: null,
  inv: null,
  rowMaxWeights: null,
  rowMinWeights: null,
  rowMax: null,
  rowMin: null,
  extremeIndex: null,
  logsumexp: (code, out, [a]) =>
    code.assign(out.offset, code.call('logsumexp', `v, ${a!.offset}, ${a!.size}`), a!.size),
  stopMax: (code, out, [a]) => code.assign(out.offset, code.call('stopMax', `v, ${a!.offset}, ${a!.size}`), a!.size),
  median: null,
  medianWeights: null,
  lusolve: null,
  luFactor: null,
};

const isElementwise = (op: OpName): op is ElementwiseName => op in ELEMENTWISE_TEXT;

/** The forward pass as straight-line code: each entry kept in a local `x…` and stored in the buffer `v`. */
class ForwardCode {
  readonly lines: string[] = [];
  private readonly local = new Set<number>();
  private readonly locals = new Locals(this.lines);

  constructor(private readonly budget: Budget) {}

  /** A sum of the terms from -0, as the table's kernels sum (-0 + t is t: one term is itself). */
  sum(terms: readonly string[]): string {
    return terms.length <= 1 ? (terms[0] ?? '-0') : this.locals.sum('-0', terms);
  }

  /** A sum of entries, as `sum` in blocks of SUM_BLOCK (ops/sums.ts): the sum's own kernel. */
  sumOfEntries(terms: readonly string[]): string {
    return terms.length <= SUM_BLOCK ? this.sum(terms) : this.sum(inBlocks(terms).map((block) => this.sum(block)));
  }

  read(entry: number): string {
    return this.local.has(entry) ? `x${entry}` : `v[${entry}]`;
  }

  assign(entry: number, expression: string, operations: number): void {
    this.budget.spend(operations);
    this.lines.push(`const x${entry} = ${expression}; v[${entry}] = x${entry};`);
    this.local.add(entry);
  }

  call(name: Helper, args: string): string {
    return `${this.budget.use(name)}(${args})`;
  }
}

/** What the module may grow to, and the helpers it uses. */
class Budget {
  private operations = 0;
  private readonly helpers = new Set<Helper>();

  spend(operations: number): void {
    this.operations += operations;
    if (this.operations > MAX_EMITTED_OPERATIONS)
      throw new LimitError(
        `the emitted module would have more than ${MAX_EMITTED_OPERATIONS} operations: ` +
          'emit writes straight-line code for small programs; use the library for this one',
      );
  }

  /** Notes that the code calls a helper (and what it calls, and so on), and gives its name. */
  use(name: Helper): string {
    for (const needed of HELPER_NEEDS[name] ?? []) this.use(needed);
    this.helpers.add(name);
    return name;
  }

  /** The helpers used, in the order of HELPERS (a helper after those it calls). */
  prelude(): string[] {
    return (Object.keys(HELPERS) as Helper[]).filter((h) => this.helpers.has(h)).map((h) => HELPERS[h]);
  }
}

/** The forward pass over the plan's steps (constants are in the buffer from the start, inputs loaded). */
function forwardLines({ plan }: PreparedPasses, budget: Budget): string[] {
  const code = new ForwardCode(budget);
  const use = (name: Helper): string => budget.use(name);
  for (const { spec, out, args, param } of plan.steps) {
    const op = OP_OF_SPEC.get(spec)!;
    if (isElementwise(op)) {
      const text = ELEMENTWISE_TEXT[op];
      if (text === null) throw unsupported(op);
      for (let k = 0; k < out.size; k++) {
        const operands = args.map((a) => code.read(a.offset + (a.size === 1 ? 0 : k)));
        code.assign(out.offset + k, text(operands, use), 1);
      }
      continue;
    }
    const rule = FORWARD[op];
    if (rule === null) throw unsupported(op);
    rule(code, out, args, param);
  }
  return code.lines;
}

/** A plan step's operation, from its entry of the table. */
const OP_OF_SPEC: ReadonlyMap<OpSpec, OpName> = new Map(OP_NAMES.map((name) => [OPS[name], name]));

const unsupported = (op: OpName): UnsupportedError =>
  new UnsupportedError(`emit cannot write ${op} yet: compute this expression with the other commands or the library`);

/** A term of a pass: a (co)tangent times a partial's entry, exactly 0 where either is (SPEC §6). */
const times = (budget: Budget, left: string | null, right: string | null): string | null => {
  if (left === null || right === null) return null;
  budget.spend(1);
  budget.use('mul');
  return `mul(${left}, ${right})`;
};

/** A(r×k)·B(k×c) for matrices of expressions (null: an exact 0), each entry a sum from 0, left to right. */
function matrixProduct(
  budget: Budget,
  locals: Locals,
  a: (i: number, k: number) => string | null,
  b: (k: number, j: number) => string | null,
  [r, inner, c]: readonly [number, number, number],
): (string | null)[][] {
  return Array.from({ length: r }, (_, i) =>
    Array.from({ length: c }, (_, j) => {
      const terms = Array.from({ length: inner }, (_, k) => times(budget, a(i, k), b(k, j))).filter(
        (t): t is string => t !== null,
      );
      return terms.length === 0 ? null : locals.sum('0', terms);
    }),
  );
}

/** Names a matrix of expressions as locals (a product read many times is computed once). */
const named = (locals: Locals, matrix: (string | null)[][]): (string | null)[][] =>
  matrix.map((row) => row.map((expression) => (expression === null ? null : locals.name(expression))));

/** Entry (i, j) of a row-major r×c operand as an expression of the buffer. */
const entryOf =
  (operand: Operand) =>
  (i: number, j: number): string =>
    `v[${operand.offset + i * asRowMajor(operand.shape)[1] + j}]`;

/** The matmul step out = L·in·R in the direction of the pass; `carried` reads the (co)tangent carried in. */
function matmulTerms(
  step: Extract<Step, { kind: 'matmul' }>,
  reverse: boolean,
  carried: (i: number, j: number) => string | null,
  locals: Locals,
  budget: Budget,
): (string | null)[][] {
  const [r, c] = asRowMajor(step.out.shape);
  const [p, q] = asRowMajor(step.arg.shape);
  const L = step.left === null ? null : entryOf(step.left);
  const R = step.right === null ? null : entryOf(step.right);
  if (reverse) {
    // Ā = Lᵀ·Ȳ·Rᵀ (p×q from r×c).
    let middle: (i: number, j: number) => string | null = carried;
    if (L !== null) {
      const product = named(
        locals,
        matrixProduct(budget, locals, (i, k) => L(k, i), carried, [p, r, c]),
      );
      middle = (i, j) => product[i]![j]!;
    }
    if (R === null) return Array.from({ length: p }, (_, i) => Array.from({ length: q }, (_, j) => middle(i, j)));
    return matrixProduct(budget, locals, middle, (k, j) => R(j, k), [p, c, q]);
  }
  // Ẏ = L·Ȧ·R (r×c from p×q).
  let middle: (i: number, j: number) => string | null = carried;
  if (L !== null) {
    const product = named(locals, matrixProduct(budget, locals, L, carried, [r, p, q]));
    middle = (i, j) => product[i]![j]!;
  }
  if (R === null) return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => middle(i, j)));
  return matrixProduct(budget, locals, middle, R, [r, q, c]);
}

/** Reverse mode: the output's cotangent is the seed; steps pull back from the last to the first. */
function backwardLines(prepared: PreparedPasses, budget: Budget): string[] {
  const { plan, passes } = prepared;
  const c = new Accumulators('c');
  const locals = new Locals(c.lines);
  const output = passes.output;
  for (let i = 0; i < output.size; i++) c.set(output.offset + i, `seed[${i}]`);
  for (let s = passes.steps.length - 1; s >= 0; s--) {
    const step = passes.steps[s]!;
    const { out, arg } = step;
    switch (step.kind) {
      case 'elementwise': {
        const term = (k: number): string | null => times(budget, c.get(out.offset + k), valueAt(step.d, k));
        if (arg.size === out.size) {
          for (let k = 0; k < out.size; k++) {
            const t = term(k);
            if (t !== null) c.add(arg.offset + k, t);
          }
        } else
          addEntrySum(
            c,
            locals,
            arg.offset,
            Array.from({ length: out.size }, (_, k) => term(k)),
          );
        break;
      }
      case 'row': {
        const g = c.get(out.offset);
        for (let k = 0; k < arg.size; k++) {
          const t = times(budget, g, valueAt(step.d, k));
          if (t !== null) c.add(arg.offset + k, t);
        }
        break;
      }
      case 'select': {
        const { to, from } = step.map;
        for (let j = 0; j < to.length; j++) {
          const g = c.get(out.offset + to[j]!);
          if (g !== null) c.add(arg.offset + from[j]!, g);
        }
        break;
      }
      case 'matmul': {
        const cols = asRowMajor(out.shape)[1];
        const [, q] = asRowMajor(arg.shape);
        const terms = matmulTerms(step, true, (i, j) => c.get(out.offset + i * cols + j), locals, budget);
        terms.forEach((row, i) =>
          row.forEach((t, j) => {
            if (t !== null) c.add(arg.offset + i * q + j, t);
          }),
        );
        break;
      }
      case 'dense': {
        // Ā[k] += Σᵢ d[i, k]·Ȳ[i].
        for (let k = 0; k < arg.size; k++)
          addSum(
            c,
            locals,
            arg.offset + k,
            Array.from({ length: out.size }, (_, i) =>
              times(budget, c.get(out.offset + i), `v[${step.d.offset + i * arg.size + k}]`),
            ),
          );
        break;
      }
      case 'solve':
        throw new UnsupportedError('emit cannot write the derivative of a linear solve yet');
      case 'extreme':
        throw new UnsupportedError('emit cannot write the derivative of max or min yet');
      default:
        return unknownStep(step);
    }
  }
  const results = prepared.columns.flatMap((column) => {
    const operand = reached(plan, passes, column.node);
    return Array.from({ length: column.size }, (_, k) => (operand === null ? null : c.get(operand.offset + k)));
  });
  return [...c.lines, `return [${results.map((r) => r ?? '0').join(', ')}];`];
}

/** Forward mode: the columns' tangents are the seed; steps push forward from the first to the last. */
function tangentLines(prepared: PreparedPasses, budget: Budget): string[] {
  const { plan, passes } = prepared;
  const t = new Accumulators('t');
  const locals = new Locals(t.lines);
  for (const column of prepared.columns) {
    const operand = reached(plan, passes, column.node);
    if (operand !== null) for (let k = 0; k < column.size; k++) t.set(operand.offset + k, `seed[${column.offset + k}]`);
  }
  for (const step of passes.steps) {
    const { out, arg } = step;
    switch (step.kind) {
      case 'elementwise':
        for (let k = 0; k < out.size; k++) {
          const term = times(budget, valueAt(step.d, k), t.get(arg.offset + (arg.size === 1 ? 0 : k)));
          if (term !== null) t.add(out.offset + k, term);
        }
        break;
      case 'row':
        addEntrySum(
          t,
          locals,
          out.offset,
          Array.from({ length: arg.size }, (_, k) => times(budget, valueAt(step.d, k), t.get(arg.offset + k))),
        );
        break;
      case 'select': {
        const { to, from } = step.map;
        for (let j = 0; j < to.length; j++) {
          const g = t.get(arg.offset + from[j]!);
          if (g !== null) t.add(out.offset + to[j]!, g);
        }
        break;
      }
      case 'matmul': {
        const q = asRowMajor(arg.shape)[1];
        const cols = asRowMajor(out.shape)[1];
        const terms = matmulTerms(step, false, (i, j) => t.get(arg.offset + i * q + j), locals, budget);
        terms.forEach((row, i) =>
          row.forEach((term, j) => {
            if (term !== null) t.add(out.offset + i * cols + j, term);
          }),
        );
        break;
      }
      case 'dense':
        // Ẏ[i] += Σₖ d[i, k]·ẋ[k].
        for (let i = 0; i < out.size; i++)
          addSum(
            t,
            locals,
            out.offset + i,
            Array.from({ length: arg.size }, (_, k) =>
              times(budget, `v[${step.d.offset + i * arg.size + k}]`, t.get(arg.offset + k)),
            ),
          );
        break;
      case 'solve':
        throw new UnsupportedError('emit cannot write the derivative of a linear solve yet');
      case 'extreme':
        throw new UnsupportedError('emit cannot write the derivative of max or min yet');
      default:
        return unknownStep(step);
    }
  }
  const output = reached(plan, passes, passes.lin.output);
  const results = Array.from({ length: passes.output.size }, (_, i) =>
    output === null ? null : t.get(output.offset + i),
  );
  return [...t.lines, `return [${results.map((r) => r ?? '0').join(', ')}];`];
}

/** A step kind the passes above do not write: adding a kind fails `tsc` here until it is written or refused. */
function unknownStep(step: never): never {
  throw new Error(`emit has no rule for the step ${JSON.stringify(step)}`);
}

/** A function's lines, if its locals (one declaration a line) fit in a stack frame. */
function withinFrame(lines: readonly string[]): readonly string[] {
  const locals = lines.filter((line) => line.startsWith('const ') || line.startsWith('let ')).length;
  if (locals > MAX_LOCALS_PER_FUNCTION)
    throw new LimitError(
      `the emitted module would need ${locals} locals in one function, more than the ${MAX_LOCALS_PER_FUNCTION} ` +
        "a call's stack frame holds: emit writes straight-line code for small programs; use the library for this one",
    );
  return lines;
}

/** A number as JavaScript source: -0, NaN and the infinities by name, others as their shortest round trip. */
function numberSource(x: number): string {
  if (Object.is(x, -0)) return '-0';
  return Number.isNaN(x) ? 'NaN' : String(x);
}

/** A shape as JavaScript source: an array of its dimensions. */
const shapeSource = (shape: Shape): string => `[${shape.join(', ')}]`;
const shapeText = (shape: Shape): string => (shape.length === 0 ? 'scalar' : shapeSource(shape));

/** The fixed part of every module: reading inputs and seeds, shaping results, the one-hot Jacobian. */
const RUNTIME = `
function fail(what, expected, got) {
  throw new TypeError(\`\${what} must be \${expected}, got \${got}\`);
}

function describe(x) {
  if (x === null || x === undefined) return String(x);
  if (typeof x === 'number') return 'a number';
  if (typeof x.length === 'number') return \`\${Array.isArray(x) ? 'an array' : 'an array-like'} of \${x.length}\`;
  return \`a \${typeof x}\`;
}

// The entries of x, flat (row-major) or nested in \`shape\`, into v at offset.
function read(x, shape, v, offset, what) {
  const size = shape.reduce((a, b) => a * b, 1);
  const expected = shape.length === 0 ? 'a number' : \`\${size} numbers (shape \${shape.join('×')}), flat or nested\`;
  let entries = x;
  if (shape.length === 0 && typeof x === 'number') entries = [x];
  else if (shape.length === 2 && Array.isArray(x) && x.length === shape[0] && x.every((r) => r !== null && typeof r === 'object' && r.length === shape[1]))
    entries = x.flatMap((r) => Array.from(r));
  if (entries === null || entries === undefined || typeof entries !== 'object' || entries.length !== size) fail(what, expected, describe(x));
  for (let k = 0; k < size; k++) {
    const entry = entries[k];
    if (typeof entry !== 'number') fail(what, expected, \`\${describe(x)} with \${typeof entry} entries\`);
    v[offset + k] = entry;
  }
}

function load(inputs, command) {
  if (!Array.isArray(inputs) || inputs.length !== inputShapes.length)
    fail(\`\${command}: inputs\`, \`an array of \${inputShapes.length} input\${inputShapes.length === 1 ? '' : 's'}\`, describe(inputs));
  const v = INITIAL.slice();
  inputShapes.forEach((shape, i) => {
    if (INPUT_OFFSETS[i] >= 0) read(inputs[i], shape, v, INPUT_OFFSETS[i], \`\${command}: input \${i + 1}\`);
    else read(inputs[i], shape, new Float64Array(shape.reduce((a, b) => a * b, 1)), 0, \`\${command}: input \${i + 1}\`);
  });
  forward(v);
  return v;
}

function seedOf(x, size, what) {
  const seed = new Float64Array(size);
  if (x !== null && typeof x === 'object' && x.length !== size && Array.isArray(x) && x.every(Array.isArray)) x = x.flat();
  read(x, [size], seed, 0, what);
  return seed;
}

function shaped(values, shape) {
  if (shape.length === 0) return values[0];
  if (shape.length === 1) return Array.from(values);
  return Array.from({ length: shape[0] }, (_, i) => Array.from(values.slice(i * shape[1], (i + 1) * shape[1])));
}

// The value of the output: a number, an array, or an array of rows.
export function value(inputs) {
  const v = load(inputs, 'value');
  return shaped(v.slice(OUTPUT_OFFSET, OUTPUT_OFFSET + M), outputShape);
}

// The M×N Jacobian as M rows of N numbers: one backward pass per row, or one forward pass per column.
export function jacobian(inputs) {
  const v = load(inputs, 'jacobian');
  const rows = Array.from({ length: M }, () => new Array(N).fill(0));
  if (M <= N) {
    const seed = new Float64Array(M);
    for (let i = 0; i < M; i++) {
      seed[i] = 1;
      rows[i] = backward(v, seed);
      seed[i] = 0;
    }
  } else {
    const seed = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      seed[j] = 1;
      const column = tangent(v, seed);
      for (let i = 0; i < M; i++) rows[i][j] = column[i];
      seed[j] = 0;
    }
  }
  return rows;
}

// vᵀJ: N numbers from v, M numbers (flat, or nested in the output's shape).
export function vjp(inputs, v) {
  const values = load(inputs, 'vjp');
  return backward(values, seedOf(v, M, 'vjp: v'));
}

// J·u: M numbers (flat) from u, N numbers (the differentiated inputs' entries, in order).
export function jvp(inputs, u) {
  const values = load(inputs, 'jvp');
  return tangent(values, seedOf(u, N, 'jvp: u'));
}
`;

/**
 * The module's source for a prepared program: `inputShapes` in the order of the program's variables, the
 * output's shape, and `wrt` the numbers (0-based) of the differentiated variables, in the order of J's columns.
 */
function emitModule(
  prepared: PreparedPasses,
  shapes: readonly Shape[],
  wrt: readonly number[],
  outputShape: Shape,
): string {
  const { plan, passes } = prepared;
  const budget = new Budget();
  const forward = withinFrame(forwardLines(prepared, budget));
  const backward = withinFrame(backwardLines(prepared, budget));
  const tangent = withinFrame(tangentLines(prepared, budget));
  const m = sizeOf(outputShape);
  const n = prepared.columns.reduce((total, column) => total + column.size, 0);
  const constants: string[] = [];
  for (let id = 0; id < plan.tape.length; id++) {
    const operand = plan.operands[id];
    if (operand === undefined || plan.tape.op(id) !== 'constant') continue;
    const values = Array.from(plan.values.subarray(operand.offset, operand.offset + operand.size), numberSource);
    constants.push(`INITIAL.set([${values.join(', ')}], ${operand.offset});`);
  }
  const differentiated = wrt.map((i) => `${i + 1}`).join(', ') || 'none';
  const inputs = shapes.map((shape, i) => `${i + 1}: ${shapeText(shape)}`).join(', ') || 'none';
  const header = [
    '// Generated by `jacobian emit`: a standalone ES module, no imports.',
    `// Inputs (in the order of the variables given to --at): ${inputs}.`,
    `// Output: ${shapeText(outputShape)}. Jacobian: ${m}×${n}, with respect to inputs ${differentiated}.`,
  ];
  return [
    ...header,
    '',
    `export const inputShapes = [${shapes.map(shapeSource).join(', ')}];`,
    `export const outputShape = ${shapeSource(outputShape)};`,
    `export const wrt = [${wrt.join(', ')}];`,
    `const M = ${m};`,
    `const N = ${n};`,
    `const OUTPUT_OFFSET = ${passes.output.offset};`,
    `const INPUT_OFFSETS = [${prepared.inputs.map((operand) => (operand === null ? -1 : operand.offset)).join(', ')}];`,
    `const INITIAL = new Float64Array(${plan.values.length});`,
    ...constants,
    ...budget.prelude(),
    RUNTIME,
    'function forward(v) {',
    ...forward,
    '}',
    '',
    'function backward(v, seed) {',
    ...backward,
    '}',
    '',
    'function tangent(v, seed) {',
    ...tangent,
    '}',
    '',
  ].join('\n');
}

/**
 * The module of `program` for the shapes of the point `at`, differentiated with respect to `wrt` (its values at
 * `at` matter only to check them: the module computes at any point of these shapes).
 */
export function emitProgram(
  program: Program,
  at: Point,
  wrt: readonly string[],
  options: DerivativeOptions = {},
): string {
  const prepared = program.preparedPasses(wrt, at, options);
  const position = new Map(program.variables.map((variable, i) => [variable.name, i]));
  const shapes = program.variables.map((variable) => variable.shape);
  return emitModule(
    prepared,
    shapes,
    wrt.map((name) => position.get(name)!),
    program.outputShape,
  );
}
