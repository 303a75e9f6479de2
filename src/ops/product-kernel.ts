/**
 * The matrix-product kernel of matmul's value and of the matmul and dense partials: D += A·B where an
 * exact zero on either side contributes nothing, fast in V8. Whatever the loop order, every entry of D
 * receives its terms in ascending k, so results are those of the plain i-k-j loop. The register kernel
 * (addPanelProduct) also adds the zero terms, which changes a sum only where it ends zero or NaN: those
 * entries it sums again.
 */

import { addSharedProduct, PARALLEL_WORK } from './parallel.js';

/** Where entry (i, j) of a matrix sits in a buffer: offset + i·rowStride + j·colStride. */
export interface MatrixLayout {
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** The same entries read as the transposed matrix. */
export const transposed = (m: MatrixLayout): MatrixLayout => ({
  offset: m.offset,
  rowStride: m.colStride,
  colStride: m.rowStride,
});

// Rows of B compacted at once: their nonzeros (values and columns) stay in the L2 cache while every row of A passes.
const BLOCK_ENTRIES = 16384;

/** The nonzeros of a block of B's rows: row t's are entries starts[t] to starts[t + 1] − 1. Grown, never shrunk. */
let columns = new Int32Array(BLOCK_ENTRIES);
let values = new Float64Array(BLOCK_ENTRIES);
let starts = new Int32Array(64);

/**
 * d(D) += a(A)·b(B) for A R×K and B K×C, skipping every term with an exact zero on either side (so
 * 0·∞ adds nothing). Runs on D's rows; a D stored by columns is run as Dᵀ += Bᵀ·Aᵀ.
 */
export function addProduct(
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  R: number,
  K: number,
  C: number,
): void {
  if (D.colStride !== 1 && D.rowStride === 1)
    addProductByRows(b, transposed(B), a, transposed(A), d, transposed(D), C, K, R);
  else addProductByRows(a, A, b, B, d, D, R, K, C);
}

/** Large products on two threads where they can be (parallel.ts), others here. */
function addProductByRows(
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  R: number,
  K: number,
  C: number,
): void {
  if (R * K * C < PARALLEL_WORK || !addSharedProduct(PRODUCT_KERNELS, ADD_KERNEL, a, A, b, B, d, D, R, K, C))
    addRowProduct(a, A, b, B, d, D, R, K, C);
}

/** The serial kernel, D stored by rows (or any layout, slower). */
export function addRowProduct(
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  R: number,
  K: number,
  C: number,
): void {
  if (R === 0 || K === 0 || C === 0) return;
  if (C === 1) {
    addMatrixVector(a, A, b, B, d, D, R, K);
    return;
  }
  if (D.colStride === 1 && R >= 2 && C >= PANEL && addPanelProduct(a, A, b, B, d, D, R, K, C)) return;
  const blockRows = Math.max(1, Math.min(K, Math.floor(BLOCK_ENTRIES / C)));
  if (columns.length < blockRows * C) {
    columns = new Int32Array(blockRows * C);
    values = new Float64Array(blockRows * C);
  }
  if (starts.length < blockRows + 1) starts = new Int32Array(blockRows + 1);
  const { offset: aAt, rowStride: aRs, colStride: aCs } = A;
  const { offset: dAt, rowStride: dRs, colStride: dCs } = D;
  for (let k0 = 0; k0 < K; k0 += blockRows) {
    const rows = Math.min(blockRows, K - k0);
    if (compactRows(b, B, k0, rows, C) === 0) continue;
    for (let i = 0; i < R; i++) {
      const aRow = aAt + i * aRs;
      const dRow = dAt + i * dRs;
      let t = 0;
      // Eight full rows of B at once, all their A entries nonzero: the common dense product.
      if (dCs === 1) {
        for (; t + 8 <= rows; t += 8) {
          const x = aRow + (k0 + t) * aCs;
          if (
            !addEightFullRows(
              d,
              dRow,
              t,
              C,
              a[x]!,
              a[x + aCs]!,
              a[x + 2 * aCs]!,
              a[x + 3 * aCs]!,
              a[x + 4 * aCs]!,
              a[x + 5 * aCs]!,
              a[x + 6 * aCs]!,
              a[x + 7 * aCs]!,
            )
          )
            break;
        }
      }
      // Four rows of B at once where all four are contiguous runs and their A entries nonzero (dense products).
      for (; t + 4 <= rows; t += 4) {
        const x0 = a[aRow + (k0 + t) * aCs]!;
        const x1 = a[aRow + (k0 + t + 1) * aCs]!;
        const x2 = a[aRow + (k0 + t + 2) * aCs]!;
        const x3 = a[aRow + (k0 + t + 3) * aCs]!;
        if (dCs !== 1 || x0 === 0 || x1 === 0 || x2 === 0 || x3 === 0 || !addFourRows(d, dRow, t, x0, x1, x2, x3)) {
          addRow(d, dRow, dCs, t, x0);
          addRow(d, dRow, dCs, t + 1, x1);
          addRow(d, dRow, dCs, t + 2, x2);
          addRow(d, dRow, dCs, t + 3, x3);
        }
      }
      for (; t < rows; t++) addRow(d, dRow, dCs, t, a[aRow + (k0 + t) * aCs]!);
    }
  }
}

/**
 * D's row += x0·row t + … + x7·row t+7 of the compacted block, in that order per entry, if the eight rows
 * have no zeros and the x are nonzero; false (nothing done) otherwise.
 */
function addEightFullRows(
  d: Float64Array,
  dRow: number,
  t: number,
  C: number,
  x0: number,
  x1: number,
  x2: number,
  x3: number,
  x4: number,
  x5: number,
  x6: number,
  x7: number,
): boolean {
  const s = starts[t]!;
  if (starts[t + 8]! - s !== 8 * C) return false;
  if (x0 === 0 || x1 === 0 || x2 === 0 || x3 === 0 || x4 === 0 || x5 === 0 || x6 === 0 || x7 === 0) return false;
  const w = values;
  for (let j = 0; j < C; j++) {
    const u = s + j;
    d[dRow + j] =
      d[dRow + j]! +
      x0 * w[u]! +
      x1 * w[u + C]! +
      x2 * w[u + 2 * C]! +
      x3 * w[u + 3 * C]! +
      x4 * w[u + 4 * C]! +
      x5 * w[u + 5 * C]! +
      x6 * w[u + 6 * C]! +
      x7 * w[u + 7 * C]!;
  }
  return true;
}

/** The product by one column (row sums, matrix-vector products): B's nonzeros once, then a dot per row of A. */
function addMatrixVector(
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  R: number,
  K: number,
): void {
  if (columns.length < K) {
    columns = new Int32Array(K);
    values = new Float64Array(K);
  }
  const cols = columns;
  const w = values;
  let n = 0;
  for (let k = 0; k < K; k++) {
    const x = b[B.offset + k * B.rowStride]!;
    if (x !== 0) {
      cols[n] = k;
      w[n++] = x;
    }
  }
  if (n === 0) return;
  const { offset: aAt, rowStride: aRs, colStride: aCs } = A;
  let i = 0;
  if (n === K) {
    // B's column has no zeros: four rows at a time, each term added (checked as in addPanelProduct).
    for (; i + 4 <= R; i += 4) {
      const e = D.offset + i * D.rowStride;
      let s0 = d[e]!;
      let s1 = d[e + D.rowStride]!;
      let s2 = d[e + 2 * D.rowStride]!;
      let s3 = d[e + 3 * D.rowStride]!;
      for (let k = 0, x = aAt + i * aRs; k < K; k++, x += aCs) {
        const y = w[k]!;
        s0 += a[x]! * y;
        s1 += a[x + aRs]! * y;
        s2 += a[x + 2 * aRs]! * y;
        s3 += a[x + 3 * aRs]! * y;
      }
      const f = e + D.rowStride;
      const g = f + D.rowStride;
      const h = g + D.rowStride;
      d[e] = fine(s0) ? s0 : fromSkipping(a, A, b, B, i, 0, 0, K, d[e]!);
      d[f] = fine(s1) ? s1 : fromSkipping(a, A, b, B, i + 1, 0, 0, K, d[f]!);
      d[g] = fine(s2) ? s2 : fromSkipping(a, A, b, B, i + 2, 0, 0, K, d[g]!);
      d[h] = fine(s3) ? s3 : fromSkipping(a, A, b, B, i + 3, 0, 0, K, d[h]!);
    }
  }
  for (; i < R; i++) {
    const aRow = aAt + i * aRs;
    const at = D.offset + i * D.rowStride;
    let sum = d[at]!;
    for (let t = 0; t < n; t++) {
      const x = a[aRow + cols[t]! * aCs]!;
      if (x !== 0) sum += x * w[t]!;
    }
    d[at] = sum;
  }
}

/** Fills `starts`, `columns` and `values` with the nonzeros of B's rows k0 to k0 + rows − 1; their count. */
function compactRows(b: Float64Array, B: MatrixLayout, k0: number, rows: number, C: number): number {
  const { offset, rowStride, colStride } = B;
  let n = 0;
  for (let t = 0; t < rows; t++) {
    starts[t] = n;
    const row = offset + (k0 + t) * rowStride;
    for (let j = 0; j < C; j++) {
      const x = b[row + j * colStride]!;
      if (x !== 0) {
        columns[n] = j;
        values[n++] = x;
      }
    }
  }
  starts[rows] = n;
  return n;
}

/** Columns of B in a panel of the register kernel; two rows of A run against it, eight sums in registers. */
const PANEL = 4;
/**
 * How much more the register kernel may compute than the terms that are not skipped: a term costs it about a
 * third of what it costs the kernels over compacted rows, which skip zeros.
 */
const PANEL_WASTE = 2;

/** The fewest rows a panel has on average for the register kernel: below it, the work around each panel outweighs. */
const PANEL_ROWS = 16;

/**
 * B's panels for a block of its rows: panel p holds rows panelFirst[p] to panelFirst[p] + panelRows[p] − 1
 * of the block (those from the panel's first nonzero to its last), PANEL entries each, zeros past column C.
 * Grown, never shrunk.
 */
let panels = new Float64Array(BLOCK_ENTRIES);
let panelFirst = new Int32Array(16);
let panelRows = new Int32Array(16);
/** Two rows of A over a block of B's rows, interleaved, for the register kernel. Grown, never shrunk. */
let rowPair = new Float64Array(64);
/** The register kernel's sums, two rows of PANEL: D's entries before, then after. */
const sums = new Float64Array(2 * PANEL);

/**
 * d(D) += a(A)·b(B) with D stored by rows, two rows of A against a panel of B's columns at a time: false
 * (nothing done) where A and B hold so many zeros that the kernels skipping them are faster, or B's panels have
 * few rows.
 *
 * Every sum runs over the panel's rows in ascending k and adds each term, also those with a zero factor that
 * the other kernels skip. Such a term is ±0, or NaN when the other factor is not finite; so where the sum is
 * neither zero nor NaN it equals, bit for bit, the sum that skips them (they can only change the sign of a
 * zero sum), and an entry whose sum is zero or NaN is summed again skipping them (fromSkipping).
 */
export function addPanelProduct(
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  R: number,
  K: number,
  C: number,
): boolean {
  const count = Math.ceil(C / PANEL);
  const blockRows = Math.max(1, Math.min(K, Math.floor(BLOCK_ENTRIES / (count * PANEL))));
  if (panels.length < blockRows * count * PANEL) panels = new Float64Array(blockRows * count * PANEL);
  if (rowPair.length < 2 * blockRows) rowPair = new Float64Array(2 * blockRows);
  if (panelFirst.length < count) {
    panelFirst = new Int32Array(count);
    panelRows = new Int32Array(count);
  }
  // Whole numbers as such (an offset may come as a float), so that the loops index with integers.
  const aAt = A.offset | 0;
  const aRs = A.rowStride | 0;
  const aCs = A.colStride | 0;
  const dAt = D.offset | 0;
  const dRs = D.rowStride | 0;
  let decided = false;
  for (let k0 = 0; k0 < K; k0 += blockRows) {
    const rows = Math.min(blockRows, K - k0);
    const needed = packPanels(b, B, k0, rows, C, count, blockRows);
    if (needed === 0) continue;
    if (!decided) {
      // On B's first block with a nonzero, before anything is added.
      let computed = 0;
      for (let t = 0; t < count; t++) computed += panelRows[t]! * PANEL;
      if (computed < PANEL_ROWS * count * PANEL || computed > PANEL_WASTE * needed * nonzeroShare(a, A, R, K))
        return false;
      decided = true;
    }
    for (let i = 0; i < R; i += 2) {
      const pair = i + 1 < R;
      packRowPair(a, aAt + i * aRs + k0 * aCs, pair ? aRs : 0, aCs, rows);
      for (let t = 0; t < count; t++) {
        const n = panelRows[t]!;
        if (n === 0) continue;
        const j = t * PANEL;
        const e = dAt + i * dRs + j;
        const full = pair && j + PANEL <= C;
        if (full) {
          sums[0] = d[e]!;
          sums[1] = d[e + 1]!;
          sums[2] = d[e + 2]!;
          sums[3] = d[e + 3]!;
          sums[4] = d[e + dRs]!;
          sums[5] = d[e + dRs + 1]!;
          sums[6] = d[e + dRs + 2]!;
          sums[7] = d[e + dRs + 3]!;
        } else {
          // An edge of D: columns past C start from 0, a missing second row repeats the first.
          for (let c = 0; c < PANEL; c++) sums[c] = sums[PANEL + c] = j + c < C ? d[e + c]! : 0;
          if (pair) for (let c = 0; c < C - j; c++) sums[PANEL + c] = d[e + dRs + c]!;
        }
        const first = panelFirst[t]!;
        addTwoRowsPanel(rowPair, 2 * first, panels, (t * blockRows + first) * PANEL, n);
        if (full && fine(sums[0]!) && fine(sums[1]!) && fine(sums[2]!) && fine(sums[3]!)) {
          if (fine(sums[4]!) && fine(sums[5]!) && fine(sums[6]!) && fine(sums[7]!)) {
            d[e] = sums[0]!;
            d[e + 1] = sums[1]!;
            d[e + 2] = sums[2]!;
            d[e + 3] = sums[3]!;
            d[e + dRs] = sums[4]!;
            d[e + dRs + 1] = sums[5]!;
            d[e + dRs + 2] = sums[6]!;
            d[e + dRs + 3] = sums[7]!;
            continue;
          }
        }
        for (let r = 0; r < (pair ? 2 : 1); r++) {
          for (let c = 0; c < Math.min(PANEL, C - j); c++) {
            const sum = sums[r * PANEL + c]!;
            const at = e + r * dRs + c;
            d[at] = fine(sum) ? sum : fromSkipping(a, A, b, B, i + r, j + c, k0, k0 + rows, d[at]!);
          }
        }
      }
    }
  }
  return true;
}

/** Copies `rows` entries of A's row at x, and of the row at x + next, into `rowPair`, interleaved. */
function packRowPair(a: Float64Array, x: number, next: number, aCs: number, rows: number): void {
  const q = rowPair;
  for (let k = 0; k < rows; k++, x += aCs) {
    q[2 * k] = a[x]!;
    q[2 * k + 1] = a[x + next]!;
  }
}

/** Packs B's rows k0 to k0 + rows − 1 into `panels`; the count of their nonzeros. */
function packPanels(
  b: Float64Array,
  B: MatrixLayout,
  k0: number,
  rows: number,
  C: number,
  count: number,
  blockRows: number,
): number {
  const { offset, rowStride, colStride } = B;
  const p = panels;
  let needed = 0;
  for (let t = 0; t < count; t++) {
    const j = t * PANEL;
    const width = Math.min(PANEL, C - j);
    let first = -1;
    let last = -1;
    for (let k = 0; k < rows; k++) {
      const row = offset + (k0 + k) * rowStride + j * colStride;
      const u = (t * blockRows + k) * PANEL;
      for (let c = 0; c < PANEL; c++) {
        const y = c < width ? b[row + c * colStride]! : 0;
        p[u + c] = y;
        if (y !== 0) {
          needed++;
          if (first < 0) first = k;
          last = k;
        }
      }
    }
    panelFirst[t] = first < 0 ? 0 : first;
    panelRows[t] = first < 0 ? 0 : last - first + 1;
  }
  return needed;
}

/** About how many of A's entries are read to judge its density: whole rows spread over A, few beside the product. */
const SAMPLED_ENTRIES = 4096;

/** The share of nonzero entries in A's sampled rows. */
function nonzeroShare(a: Float64Array, A: MatrixLayout, R: number, K: number): number {
  const { offset, rowStride, colStride } = A;
  const step = Math.max(1, Math.floor(R / Math.max(1, Math.floor(SAMPLED_ENTRIES / K))));
  let nonzero = 0;
  let counted = 0;
  for (let i = 0; i < R; i += step) {
    for (let k = 0, x = offset + i * rowStride; k < K; k++, x += colStride) if (a[x] !== 0) nonzero++;
    counted += K;
  }
  return nonzero / counted;
}

/**
 * `sums` (two rows of four) += two rows of A, interleaved in q from entry x, times n rows of a panel from entry u
 * of p, every term in order of k. Its arrays are never shared memory, so that their accesses stay monomorphic.
 */
function addTwoRowsPanel(q: Float64Array, x: number, p: Float64Array, u: number, n: number): void {
  let s00 = sums[0]!;
  let s01 = sums[1]!;
  let s02 = sums[2]!;
  let s03 = sums[3]!;
  let s10 = sums[4]!;
  let s11 = sums[5]!;
  let s12 = sums[6]!;
  let s13 = sums[7]!;
  for (const end = u + n * PANEL; u < end; u += PANEL, x += 2) {
    const b0 = p[u]!;
    const b1 = p[u + 1]!;
    const b2 = p[u + 2]!;
    const b3 = p[u + 3]!;
    let y = q[x]!;
    s00 += y * b0;
    s01 += y * b1;
    s02 += y * b2;
    s03 += y * b3;
    y = q[x + 1]!;
    s10 += y * b0;
    s11 += y * b1;
    s12 += y * b2;
    s13 += y * b3;
  }
  sums[0] = s00;
  sums[1] = s01;
  sums[2] = s02;
  sums[3] = s03;
  sums[4] = s10;
  sums[5] = s11;
  sums[6] = s12;
  sums[7] = s13;
}

/** Whether a sum that adds the terms a kernel skips is that kernel's sum: neither zero nor NaN. */
const fine = (x: number): boolean => x !== 0 && x === x;

/** `start` + the terms of entry (i, j) over k from k0 to k1 − 1 in order, those with a zero factor skipped. */
function fromSkipping(
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  i: number,
  j: number,
  k0: number,
  k1: number,
  start: number,
): number {
  let sum = start;
  for (let k = k0; k < k1; k++) {
    const x = a[A.offset + i * A.rowStride + k * A.colStride]!;
    const y = b[B.offset + k * B.rowStride + j * B.colStride]!;
    if (x !== 0 && y !== 0) sum += x * y;
  }
  return sum;
}

/** D's row += x·(compacted row t of B). */
function addRow(d: Float64Array, dRow: number, dCs: number, t: number, x: number): void {
  const s = starts[t]!;
  const e = starts[t + 1]!;
  if (x === 0 || s === e) return;
  const w = values;
  const cols = columns;
  const first = cols[s]!;
  if (dCs === 1 && cols[e - 1]! - first === e - 1 - s) {
    // A contiguous run of columns: no index per entry.
    const at = dRow + first - s;
    for (let u = s; u < e; u++) d[at + u]! += x * w[u]!;
    return;
  }
  for (let u = s; u < e; u++) d[dRow + cols[u]! * dCs]! += x * w[u]!;
}

/**
 * D's row += x0·row t + x1·row t+1 + x2·row t+2 + x3·row t+3 of the compacted block, in that order per
 * entry, if the four rows are contiguous runs; false (nothing done) otherwise. Where the runs differ, the
 * columns outside their common part are added row by row first: each column still gets its terms in order.
 */
function addFourRows(
  d: Float64Array,
  dRow: number,
  t: number,
  x0: number,
  x1: number,
  x2: number,
  x3: number,
): boolean {
  const s0 = starts[t]!;
  const s1 = starts[t + 1]!;
  const s2 = starts[t + 2]!;
  const s3 = starts[t + 3]!;
  const s4 = starts[t + 4]!;
  if (s0 === s1 || s1 === s2 || s2 === s3 || s3 === s4) return false;
  const f0 = columns[s0]!;
  const f1 = columns[s1]!;
  const f2 = columns[s2]!;
  const f3 = columns[s3]!;
  if (
    columns[s1 - 1]! - f0 !== s1 - 1 - s0 ||
    columns[s2 - 1]! - f1 !== s2 - 1 - s1 ||
    columns[s3 - 1]! - f2 !== s3 - 1 - s2 ||
    columns[s4 - 1]! - f3 !== s4 - 1 - s3
  ) {
    return false;
  }
  const from = Math.max(f0, f1, f2, f3);
  const to = Math.min(f0 + s1 - s0, f1 + s2 - s1, f2 + s3 - s2, f3 + s4 - s3);
  if (from >= to) return false;
  addOutside(d, dRow, f0, s0, s1, from, to, x0);
  addOutside(d, dRow, f1, s1, s2, from, to, x1);
  addOutside(d, dRow, f2, s2, s3, from, to, x2);
  addOutside(d, dRow, f3, s3, s4, from, to, x3);
  const v0 = s0 - f0;
  const v1 = s1 - f1;
  const v2 = s2 - f2;
  const v3 = s3 - f3;
  const w = values;
  for (let j = from; j < to; j++) {
    d[dRow + j] = d[dRow + j]! + x0 * w[v0 + j]! + x1 * w[v1 + j]! + x2 * w[v2 + j]! + x3 * w[v3 + j]!;
  }
  return true;
}

/** The part of a contiguous run (columns first.., entries s to e − 1) outside columns from to to − 1, times x. */
function addOutside(
  d: Float64Array,
  dRow: number,
  first: number,
  s: number,
  e: number,
  from: number,
  to: number,
  x: number,
): void {
  const at = dRow + first - s;
  const w = values;
  for (let u = s; u < s + from - first; u++) d[at + u]! += x * w[u]!;
  for (let u = s + to - first; u < e; u++) d[at + u]! += x * w[u]!;
}

/** B's columns, each contiguous, for denseProduct. Grown, never shrunk. */
let packed = new Float64Array(1024);

/**
 * d = a·b for row-major A (R×K at aAt), B (K×C at bAt) and D (R×C at dAt), on two threads where it is large and D
 * is shared memory: every entry the sum of all its K terms from −0 in ascending k, the plain loop's numbers to the
 * last bit (no term skipped, so 0·∞ is NaN), on either thread.
 */
export function denseProduct(
  a: Float64Array,
  aAt: number,
  b: Float64Array,
  bAt: number,
  d: Float64Array,
  dAt: number,
  R: number,
  K: number,
  C: number,
): void {
  const A = { offset: aAt, rowStride: K, colStride: 1 };
  const B = { offset: bAt, rowStride: C, colStride: 1 };
  const D = { offset: dAt, rowStride: C, colStride: 1 };
  if (R * K * C < PARALLEL_WORK || !addSharedProduct(PRODUCT_KERNELS, DENSE_KERNEL, a, A, b, B, d, D, R, K, C))
    denseRows(a, A, b, B, d, D, R, K, C);
}

/**
 * d(D) = a(A)·b(B), every layout by rows (colStride 1), as denseProduct defines it. Four rows of A against two
 * columns of B at a time, eight sums in registers: each number loaded serves several terms, where a product kernel
 * running over D's rows loads and stores D's entry for every few terms.
 */
function denseRows(
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  R: number,
  K: number,
  C: number,
): void {
  const { offset: aAt, rowStride: aStride } = A;
  const { offset: bAt, rowStride: bStride } = B;
  const { offset: dAt, rowStride: dStride } = D;
  if (packed.length < K * C) packed = new Float64Array(K * C);
  const p = packed;
  for (let k = 0; k < K; k++) for (let j = 0; j < C; j++) p[j * K + k] = b[bAt + k * bStride + j]!;
  const R4 = R - (R % 4);
  const C2 = C - (C % 2);
  for (let i = 0; i < R4; i += 4) {
    const a0 = aAt + i * aStride;
    const a1 = a0 + aStride;
    const a2 = a1 + aStride;
    const a3 = a2 + aStride;
    const d0 = dAt + i * dStride;
    for (let j = 0; j < C2; j += 2) {
      const p0 = j * K;
      const p1 = p0 + K;
      let s00 = -0;
      let s01 = -0;
      let s10 = -0;
      let s11 = -0;
      let s20 = -0;
      let s21 = -0;
      let s30 = -0;
      let s31 = -0;
      for (let k = 0; k < K; k++) {
        const x0 = p[p0 + k]!;
        const x1 = p[p1 + k]!;
        let y = a[a0 + k]!;
        s00 += y * x0;
        s01 += y * x1;
        y = a[a1 + k]!;
        s10 += y * x0;
        s11 += y * x1;
        y = a[a2 + k]!;
        s20 += y * x0;
        s21 += y * x1;
        y = a[a3 + k]!;
        s30 += y * x0;
        s31 += y * x1;
      }
      const e = d0 + j;
      d[e] = s00;
      d[e + 1] = s01;
      d[e + dStride] = s10;
      d[e + dStride + 1] = s11;
      d[e + 2 * dStride] = s20;
      d[e + 2 * dStride + 1] = s21;
      d[e + 3 * dStride] = s30;
      d[e + 3 * dStride + 1] = s31;
    }
    for (let j = C2; j < C; j++) packedDots(a, a0, aStride, K, j * K, d, d0 + j, dStride);
  }
  for (let i = R4; i < R; i++)
    for (let j = 0; j < C; j++) d[dAt + i * dStride + j] = packedDot(a, aAt + i * aStride, j * K, K);
}

/**
 * The kernels a product shared with the helper thread runs (parallel.ts), by their place here: addRowProduct adds
 * into D, denseRows writes it.
 */
export const PRODUCT_KERNELS = [addRowProduct, denseRows] as const;
const ADD_KERNEL = 0;
const DENSE_KERNEL = 1;

/** packedDot for four rows of A from `row`, `aStride` apart, into d at `at`, `dStride` apart: four sums at once. */
function packedDots(
  a: Float64Array,
  row: number,
  aStride: number,
  K: number,
  column: number,
  d: Float64Array,
  at: number,
  dStride: number,
): void {
  const p = packed;
  let s0 = -0;
  let s1 = -0;
  let s2 = -0;
  let s3 = -0;
  for (let k = 0; k < K; k++) {
    const y = p[column + k]!;
    s0 += a[row + k]! * y;
    s1 += a[row + aStride + k]! * y;
    s2 += a[row + 2 * aStride + k]! * y;
    s3 += a[row + 3 * aStride + k]! * y;
  }
  d[at] = s0;
  d[at + dStride] = s1;
  d[at + 2 * dStride] = s2;
  d[at + 3 * dStride] = s3;
}

/** Σₖ a[row + k]·packed[column + k] from −0, in ascending k. */
function packedDot(a: Float64Array, row: number, column: number, K: number): number {
  let sum = -0;
  for (let k = 0; k < K; k++) sum += a[row + k]! * packed[column + k]!;
  return sum;
}
