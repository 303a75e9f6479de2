/**
 * The two ways of applying a partial derivative, for every kind of partial:
 * `pullback` accumulates cotangent · ∂ into the argument (reverse mode) and
 * `pushforward` accumulates ∂ · tangent into the node (forward mode). An
 * exact zero on either side of a product contributes nothing, so structural
 * zeros stay exact zeros next to infinite or NaN partials (SPEC §6). No
 * kernel allocates.
 */
import type { IndexMap, Operand } from '../ops/index.js';
import { asRowMajor } from '../shape.js';

/** An edge of the linearised graph with every operand resolved to its place in the buffers. */
export type Step =
  | { readonly kind: 'elementwise'; readonly out: Operand; readonly arg: Operand; readonly d: Operand }
  | { readonly kind: 'select'; readonly out: Operand; readonly arg: Operand; readonly map: IndexMap }
  | { readonly kind: 'row'; readonly out: Operand; readonly arg: Operand; readonly d: Operand }
  | {
      readonly kind: 'matmul';
      readonly out: Operand;
      readonly arg: Operand;
      readonly left: Operand | null;
      readonly right: Operand | null;
    }
  | { readonly kind: 'dense'; readonly out: Operand; readonly arg: Operand; readonly d: Operand };

/**
 * dst[at + i·c + j] += Σₖ A(i,k)·B(k,j) for an r×p A and a p×c B, each given
 * by its buffer, offset and row and column strides (a transpose swaps them).
 * `sparse` names the factor that carries the (co)tangent: the loops visit its
 * nonzeros only. Plain numbers, not descriptor objects, so nothing is allocated.
 */
function productAccumulate(
  A: Float64Array,
  aAt: number,
  aRs: number,
  aCs: number,
  B: Float64Array,
  bAt: number,
  bRs: number,
  bCs: number,
  dst: Float64Array,
  at: number,
  r: number,
  p: number,
  c: number,
  sparse: 'A' | 'B',
): void {
  if (sparse === 'A') {
    for (let i = 0; i < r; i++) {
      for (let k = 0; k < p; k++) {
        const a = A[aAt + i * aRs + k * aCs]!;
        if (a === 0) continue;
        for (let j = 0; j < c; j++) {
          const b = B[bAt + k * bRs + j * bCs]!;
          if (b !== 0) dst[at + i * c + j]! += a * b;
        }
      }
    }
  } else {
    for (let k = 0; k < p; k++) {
      for (let j = 0; j < c; j++) {
        const b = B[bAt + k * bRs + j * bCs]!;
        if (b === 0) continue;
        for (let i = 0; i < r; i++) {
          const a = A[aAt + i * aRs + k * aCs]!;
          if (a !== 0) dst[at + i * c + j]! += a * b;
        }
      }
    }
  }
}

/** The number of columns of a matrix operand: its row stride (its column stride once transposed). */
const width = (m: Operand): number => asRowMajor(m.shape)[1];

/** Reverse mode: ct[arg] += ∂ᵀ · ct[out]. `scratch` holds the middle product of a two-sided matmul partial. */
export function pullback(step: Step, v: Float64Array, ct: Float64Array, scratch: Float64Array): void {
  const { out, arg } = step;
  const o = out.offset;
  const a = arg.offset;
  switch (step.kind) {
    case 'elementwise': {
      const dd = step.d.offset;
      const sd = step.d.size === 1 ? 0 : 1;
      if (arg.size === out.size) {
        for (let k = 0; k < out.size; k++) {
          const g = ct[o + k]!;
          if (g === 0) continue;
          const dk = v[dd + sd * k]!;
          if (dk !== 0) ct[a + k]! += g * dk;
        }
      } else {
        let sum = 0;
        for (let k = 0; k < out.size; k++) {
          const g = ct[o + k]!;
          if (g === 0) continue;
          const dk = v[dd + sd * k]!;
          if (dk !== 0) sum += g * dk;
        }
        ct[a]! += sum;
      }
      return;
    }
    case 'select': {
      const { to, from } = step.map;
      for (let j = 0; j < to.length; j++) {
        const g = ct[o + to[j]!]!;
        if (g !== 0) ct[a + from[j]!]! += g;
      }
      return;
    }
    case 'row': {
      const g = ct[o]!;
      if (g === 0) return;
      const dd = step.d.offset;
      const sd = step.d.size === 1 ? 0 : 1;
      for (let k = 0; k < arg.size; k++) {
        const dk = v[dd + sd * k]!;
        if (dk !== 0) ct[a + k]! += g * dk;
      }
      return;
    }
    case 'matmul': {
      const [r, c] = asRowMajor(out.shape);
      const [p, q] = asRowMajor(arg.shape);
      const { left, right } = step;
      // Ā += Lᵀ·Ȳ·Rᵀ, with Ȳ the node's cotangent (r×c, row stride c).
      if (left === null) {
        productAccumulate(ct, o, c, 1, v, right!.offset, 1, width(right!), ct, a, r, c, q, 'A');
      } else if (right === null) {
        productAccumulate(v, left.offset, 1, width(left), ct, o, c, 1, ct, a, p, r, c, 'B');
      } else {
        scratch.fill(0, 0, p * c);
        productAccumulate(v, left.offset, 1, width(left), ct, o, c, 1, scratch, 0, p, r, c, 'B');
        productAccumulate(scratch, 0, c, 1, v, right.offset, 1, width(right), ct, a, p, c, q, 'A');
      }
      return;
    }
    case 'dense': {
      const m = out.size;
      const n = arg.size;
      productAccumulate(ct, o, m, 1, v, step.d.offset, n, 1, ct, a, 1, m, n, 'A');
      return;
    }
  }
}

/** Forward mode: tn[out] += ∂ · tn[arg]. */
export function pushforward(step: Step, v: Float64Array, tn: Float64Array, scratch: Float64Array): void {
  const { out, arg } = step;
  const o = out.offset;
  const a = arg.offset;
  switch (step.kind) {
    case 'elementwise': {
      const dd = step.d.offset;
      const sd = step.d.size === 1 ? 0 : 1;
      const sa = arg.size === 1 ? 0 : 1;
      for (let k = 0; k < out.size; k++) {
        const t = tn[a + sa * k]!;
        if (t === 0) continue;
        const dk = v[dd + sd * k]!;
        if (dk !== 0) tn[o + k]! += dk * t;
      }
      return;
    }
    case 'select': {
      const { to, from } = step.map;
      for (let j = 0; j < to.length; j++) {
        const t = tn[a + from[j]!]!;
        if (t !== 0) tn[o + to[j]!]! += t;
      }
      return;
    }
    case 'row': {
      const dd = step.d.offset;
      const sd = step.d.size === 1 ? 0 : 1;
      let sum = 0;
      for (let k = 0; k < arg.size; k++) {
        const t = tn[a + k]!;
        if (t === 0) continue;
        const dk = v[dd + sd * k]!;
        if (dk !== 0) sum += dk * t;
      }
      tn[o]! += sum;
      return;
    }
    case 'matmul': {
      const [r, c] = asRowMajor(out.shape);
      const [p, q] = asRowMajor(arg.shape);
      const { left, right } = step;
      // Ẏ += L·Ȧ·R, with Ȧ the argument's tangent (p×q, row stride q).
      if (left === null) {
        productAccumulate(tn, a, q, 1, v, right!.offset, width(right!), 1, tn, o, r, q, c, 'A');
      } else if (right === null) {
        productAccumulate(v, left.offset, width(left), 1, tn, a, q, 1, tn, o, r, p, c, 'B');
      } else {
        scratch.fill(0, 0, r * q);
        productAccumulate(v, left.offset, width(left), 1, tn, a, q, 1, scratch, 0, r, p, q, 'B');
        productAccumulate(scratch, 0, q, 1, v, right.offset, width(right), 1, tn, o, r, q, c, 'A');
      }
      return;
    }
    case 'dense': {
      const m = out.size;
      const n = arg.size;
      productAccumulate(v, step.d.offset, n, 1, tn, a, 1, 1, tn, o, m, n, 1, 'B');
      return;
    }
  }
}

/** Scratch entries a step needs (the middle product of a two-sided matmul). */
export function scratchSize(step: Step): number {
  if (step.kind !== 'matmul' || step.left === null || step.right === null) return 0;
  const [r, c] = asRowMajor(step.out.shape);
  const [p, q] = asRowMajor(step.arg.shape);
  return Math.max(p * c, r * q);
}
