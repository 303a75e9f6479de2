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

/** Solves A·x = b in place for one column of `x` (entries x[at + i·stride]), with A's factors at `lu`. */
export function luSolveColumn(
  lu: Float64Array,
  f: number,
  n: number,
  x: Float64Array,
  at: number,
  stride: number,
): void {
  const w = n + 1;
  for (let k = 0; k < n; k++) {
    const p = lu[f + k * w + n]!;
    if (p !== k) {
      const t = x[at + k * stride]!;
      x[at + k * stride] = x[at + p * stride]!;
      x[at + p * stride] = t;
    }
  }
  for (let i = 1; i < n; i++) {
    let sum = x[at + i * stride]!;
    for (let j = 0; j < i; j++) sum -= lu[f + i * w + j]! * x[at + j * stride]!;
    x[at + i * stride] = sum;
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = x[at + i * stride]!;
    for (let j = i + 1; j < n; j++) sum -= lu[f + i * w + j]! * x[at + j * stride]!;
    x[at + i * stride] = sum / lu[f + i * w + i]!;
  }
}

/** Solves Aᵀ·x = b in place for one column, with A's factors (Aᵀ = Uᵀ·Lᵀ·P). */
export function luSolveTransposedColumn(
  lu: Float64Array,
  f: number,
  n: number,
  x: Float64Array,
  at: number,
  stride: number,
): void {
  const w = n + 1;
  for (let i = 0; i < n; i++) {
    let sum = x[at + i * stride]!;
    for (let j = 0; j < i; j++) sum -= lu[f + j * w + i]! * x[at + j * stride]!;
    x[at + i * stride] = sum / lu[f + i * w + i]!;
  }
  for (let i = n - 2; i >= 0; i--) {
    let sum = x[at + i * stride]!;
    for (let j = i + 1; j < n; j++) sum -= lu[f + j * w + i]! * x[at + j * stride]!;
    x[at + i * stride] = sum;
  }
  for (let k = n - 1; k >= 0; k--) {
    const p = lu[f + k * w + n]!;
    if (p !== k) {
      const t = x[at + k * stride]!;
      x[at + k * stride] = x[at + p * stride]!;
      x[at + p * stride] = t;
    }
  }
}
