/**
 * LU factorisation with partial pivoting, and the solves it gives, on
 * row-major buffers: what `lusolve` computes and what its derivatives solve
 * with (never an explicit inverse).
 */

/**
 * Factors the n×n matrix at `a` of `src` into `lu` at `at`: n rows of n + 1,
 * L below the diagonal (unit diagonal implied), U on and above it, and in the
 * last column the row that step i swapped in (PA = LU).
 */
export function luFactor(src: Float64Array, a: number, n: number, lu: Float64Array, at: number): void {
  const w = n + 1;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) lu[at + i * w + j] = src[a + i * n + j]!;
  for (let k = 0; k < n; k++) {
    let pivot = k;
    let largest = Math.abs(lu[at + k * w + k]!);
    for (let i = k + 1; i < n; i++) {
      const size = Math.abs(lu[at + i * w + k]!);
      if (size > largest) {
        largest = size;
        pivot = i;
      }
    }
    lu[at + k * w + n] = pivot;
    if (pivot !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[at + k * w + j]!;
        lu[at + k * w + j] = lu[at + pivot * w + j]!;
        lu[at + pivot * w + j] = t;
      }
    }
    const diagonal = lu[at + k * w + k]!;
    for (let i = k + 1; i < n; i++) {
      const l = lu[at + i * w + k]! / diagonal;
      lu[at + i * w + k] = l;
      if (l === 0) continue;
      for (let j = k + 1; j < n; j++) lu[at + i * w + j]! -= l * lu[at + k * w + j]!;
    }
  }
}

/** Applies the row swaps of the factorisation to a column, in the order of the steps or in reverse. */
function swapRows(lu: Float64Array, f: number, n: number, x: Float64Array, at: number, stride: number, undo: boolean) {
  const w = n + 1;
  for (let step = 0; step < n; step++) {
    const k = undo ? n - 1 - step : step;
    const p = lu[f + k * w + n]!;
    if (p === k) continue;
    const t = x[at + k * stride]!;
    x[at + k * stride] = x[at + p * stride]!;
    x[at + p * stride] = t;
  }
}

/** How a substitution reads the packed factors: which triangle, transposed or not, with a unit diagonal or not. */
interface Triangle {
  /** Read entry (i, j) at (j, i): the triangles of Aᵀ = Uᵀ·Lᵀ. */
  readonly transposed: boolean;
  /** Forward substitution over a lower triangle, or back substitution over an upper one. */
  readonly lower: boolean;
  /** L (and so Lᵀ) has a unit diagonal that is not stored. */
  readonly unitDiagonal: boolean;
}

const L: Triangle = { transposed: false, lower: true, unitDiagonal: true };
const U: Triangle = { transposed: false, lower: false, unitDiagonal: false };
const U_TRANSPOSED: Triangle = { transposed: true, lower: true, unitDiagonal: false };
const L_TRANSPOSED: Triangle = { transposed: true, lower: false, unitDiagonal: true };

/** Forward or back substitution in place on one column x[at + i·stride]. */
function substitute(lu: Float64Array, f: number, n: number, m: Triangle, x: Float64Array, at: number, stride: number) {
  const w = n + 1;
  const rowStride = m.transposed ? 1 : w;
  const colStride = m.transposed ? w : 1;
  for (let step = 0; step < n; step++) {
    const i = m.lower ? step : n - 1 - step;
    let sum = x[at + i * stride]!;
    const from = m.lower ? 0 : i + 1;
    const to = m.lower ? i : n;
    for (let j = from; j < to; j++) sum -= lu[f + i * rowStride + j * colStride]! * x[at + j * stride]!;
    x[at + i * stride] = m.unitDiagonal ? sum : sum / lu[f + i * rowStride + i * colStride]!;
  }
}

/** Solves A·x = b in place for one column of `x` (entries x[at + i·stride]), with A's factors at `lu`. */
export function luSolveColumn(lu: Float64Array, f: number, n: number, x: Float64Array, at: number, stride: number) {
  swapRows(lu, f, n, x, at, stride, false);
  substitute(lu, f, n, L, x, at, stride);
  substitute(lu, f, n, U, x, at, stride);
}

/** Solves Aᵀ·x = b in place for one column, with A's factors (Aᵀ = Uᵀ·Lᵀ·P): the triangles read transposed. */
export function luSolveTransposedColumn(
  lu: Float64Array,
  f: number,
  n: number,
  x: Float64Array,
  at: number,
  stride: number,
) {
  substitute(lu, f, n, U_TRANSPOSED, x, at, stride);
  substitute(lu, f, n, L_TRANSPOSED, x, at, stride);
  swapRows(lu, f, n, x, at, stride, true);
}
