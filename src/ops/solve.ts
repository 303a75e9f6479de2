/**
 * Linear solves: `lusolve(A, B)` is A⁻¹·B by an LU factorisation with partial
 * pivoting, and its derivatives solve with the same factors (the `solve`
 * partial), never through an explicit inverse.
 */
import { ShapeError } from '../errors.js';
import { describeShape, isMatrix, type Shape } from '../shape.js';
import { luFactor, luSolveColumn } from './lu.js';
import { unsupported } from './rules.js';
import type { OpSpec, Partial, SolveName, SpecialPoint } from './types.js';

const SINGULAR: SpecialPoint = {
  kind: 'domain',
  convention: 'a singular matrix: the system has no unique solution, the entries are ±Infinity or NaN',
};

/** Factors of the last matrix solved, grown when a larger one comes: the value kernel allocates once. */
let factors = new Float64Array(0);
function factorsFor(n: number): Float64Array {
  if (factors.length < n * (n + 1)) factors = new Float64Array(n * (n + 1));
  return factors;
}

function squareSide(shape: Shape, what: string): number {
  if (!isMatrix(shape) || shape[0] !== shape[1])
    throw new ShapeError(`${what} needs a square matrix, got ${describeShape(shape)}`);
  return shape[0];
}

const solvePartial = (a: number, lu: number, right: number | null, negate: boolean): Partial => ({
  kind: 'solve',
  a,
  lu,
  right,
  negate,
});

export const SOLVE = {
  /** X = A⁻¹·B, B of n rows. */
  lusolve: {
    label: 'lusolve',
    arity: 2,
    shape([a, b]) {
      const n = squareSide(a!, 'lusolve');
      if (!isMatrix(b!) || b[0] !== n)
        throw new ShapeError(`lusolve needs ${n} rows on the right, got ${describeShape(b!)}`);
      return b;
    },
    value(v, out, args) {
      const [a, b] = args as [typeof out, typeof out];
      const n = a.shape[0]!;
      const k = out.size / n;
      const lu = factorsFor(n);
      luFactor(v, a.offset, n, lu, 0);
      v.copyWithin(out.offset, b.offset, b.offset + b.size);
      for (let j = 0; j < k; j++) luSolveColumn(lu, 0, n, v, out.offset + j, k);
    },
    partial(b, i, node) {
      const [a] = node.args as [number, number];
      const lu = b.apply('luFactor', [a]);
      // dX = A⁻¹·dB, and dX = −A⁻¹·dA·X.
      return i === 0 ? solvePartial(a, lu, node.out, true) : solvePartial(a, lu, null, false);
    },
    special(v, out, args, found) {
      const a = args[0]!;
      const n = a.shape[0]!;
      const lu = factorsFor(n);
      luFactor(v, a.offset, n, lu, 0);
      for (let i = 0; i < n; i++) {
        if (lu[i * (n + 1) + i] === 0) {
          for (let k = 0; k < out.size; k++) found(k, SINGULAR);
          return;
        }
      }
    },
  },
  /** The LU factors of a square matrix, packed n×(n+1) (see lu.ts): the numbers of the solve partial. */
  luFactor: {
    label: 'lu',
    arity: 1,
    shape([a]) {
      const n = squareSide(a!, 'lu');
      return [n, n + 1];
    },
    value(v, out, args) {
      const n = args[0]!.shape[0]!;
      luFactor(v, args[0]!.offset, n, v, out.offset);
    },
    partial: () => unsupported('derivatives of LU factors'),
  },
} satisfies Record<SolveName, OpSpec>;
