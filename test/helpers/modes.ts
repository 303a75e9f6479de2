/** The Jacobian by every way the engine has, for the tests of mode agreement. */
import fc from 'fast-check';
import type { Program } from '../../src/engine/program.js';
import type { Expr } from './expressions.js';
import { firstMismatch } from './numeric.js';

type Point = Map<string, Float64Array>;

/** J as a dense row-major array from a sparse result. */
function densified(program: Program, point: Point, wrt: readonly string[], mode: 'auto' | 'forward' | 'reverse') {
  const { jacobian } = program.sparseJacobian(point, wrt, { mode });
  const dense = new Float64Array(jacobian.m * jacobian.n);
  jacobian.values.forEach((value, e) => (dense[jacobian.rows[e]! * jacobian.n + jacobian.cols[e]!] = value));
  return dense;
}

/** J by every way the engine has, each with its name: the reverse one-hot passes first. */
export function everyMode(program: Program, point: Point, wrt: readonly string[]): [string, Float64Array][] {
  const m = program.m;
  const n = program.columns(wrt);
  const byRows = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const v = Array.from({ length: m }, (_, k) => (k === i ? 1 : 0));
    byRows.set(program.vjp(point, v, wrt).vjp, i * n);
  }
  const byColumns = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    const u = Array.from({ length: n }, (_, k) => (k === j ? 1 : 0));
    program.jvp(point, u, wrt).jvp.forEach((value, i) => (byColumns[i * n + j] = value));
  }
  const jacobian = (options: Parameters<Program['jacobian']>[2]) => program.jacobian(point, wrt, options).jacobian;
  return [
    ['reverse', jacobian({ mode: 'reverse' })],
    ['forward', jacobian({ mode: 'forward' })],
    ['reverse block', jacobian({ mode: 'reverse', method: 'block' })],
    ['forward block', jacobian({ mode: 'forward', method: 'block' })],
    ['auto', jacobian({ mode: 'auto' })],
    ['sparse', densified(program, point, wrt, 'auto')],
    ['sparse forward', densified(program, point, wrt, 'forward')],
    ['sparse reverse', densified(program, point, wrt, 'reverse')],
    ['vjp rows', byRows],
    ['jvp columns', byColumns],
  ];
}

/** Entries that agree: NaN with NaN, ±∞ exactly, finite ones to 1e-12 relative (or 1e-13 of J's largest). */
export function disagreement(J: ArrayLike<number>, reference: ArrayLike<number>): string | null {
  let scale = 1;
  for (let k = 0; k < reference.length; k++)
    if (Number.isFinite(reference[k])) scale = Math.max(scale, Math.abs(reference[k]!));
  return firstMismatch(J, reference, 1e-12, 1e-13 * scale);
}

/** The reverse one-hot J, and the first other way whose J disagrees with it (null when none does). */
export function modeAgreement(
  program: Program,
  point: Point,
  wrt: readonly string[],
): { readonly reference: Float64Array; readonly problem: string | null } {
  const [first, ...others] = everyMode(program, point, wrt);
  const reference = first![1];
  for (const [mode, J] of others) {
    const problem = disagreement(J, reference);
    if (problem !== null) return { reference, problem: `${mode}: ${problem}` };
  }
  return { reference, problem: null };
}

/**
 * Random expressions from the generator with domain errors and structural zeros spliced in: log and sqrt of
 * a − a, of 2a − a and of the expression itself (which may be 0 or negative at the points below), s − s through
 * sqrt, a zero weight and a branch not taken.
 */
export function withDomainErrors(e: Expr, other: Expr): fc.Arbitrary<Expr> {
  const a = e.text;
  const b = other.text;
  const forms = [
    `log(${a} - ${a}) + ${b}`,
    `sqrt(${a} - ${a}) .* ${b}`,
    `log(2 * ${a} - ${a}) - ${b}`,
    `sqrt(${a}) + ${b}`,
    `log(${a}) .* ${b}`,
    `sqrt(${a}) - sqrt(${a}) + ${b}`,
    `2 * sqrt(${a}) - sqrt(${a}) + ${b}`,
    `sqrt(${a}) .* 0 + ${b}`,
    `max(sqrt(${a}), 1) + ${b}`,
    `log(${b} .^ 2) - log(${a} .^ 2)`,
  ];
  return fc.constantFrom(...forms).map((text) => ({ text, kind: e.kind, bound: Infinity }));
}
