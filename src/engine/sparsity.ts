/**
 * Sparse Jacobians, the way SparseConnectivityTracer + SparseMatrixColorings,
 * CasADi or ADOL-C with ColPack compute them: detect the pattern of J from the
 * graph, colour its columns (or rows) so that columns sharing a colour never
 * share a row, run one forward (or backward) pass per colour with the sum of
 * the colour's seeds, and read each entry back from the pass of its colour.
 * Sparse Hessians use a star colouring of the symmetric pattern instead
 * (Gebremedhin, Manne and Pothen 2005), which may share a colour between
 * columns sharing a row, as long as each entry can be read from H·seed at
 * (i, j) or at its mirror (j, i).
 */
import type { NodeId } from '../ops/index.js';
import { blockPass, forEachInRow, SparseRows, type Block, type BlockPassInput } from './blocks.js';
import { groupByKey } from './group.js';
import type { WrtInput } from './linearize.js';
import type { Passes } from './passes.js';

/** The pattern of J: for each row (output entry), its columns (input entries), sorted. */
export interface Pattern {
  readonly m: number;
  readonly n: number;
  readonly rowStart: Int32Array;
  readonly colIndex: Int32Array;
}

export interface Colouring {
  /** 'forward': columns are coloured, one forward pass per colour; 'reverse': rows, backward passes. */
  readonly direction: 'forward' | 'reverse';
  /** 'distance-2': columns (rows) sharing a colour share no row (column); 'star': symmetric, for Hessians. */
  readonly kind: 'distance-2' | 'star';
  readonly colours: number;
  /** The colour of each column (forward) or row (reverse). */
  readonly colourOf: Int32Array;
  /**
   * No colouring of this kind can use fewer colours: the most nonzeros in a row for columns, in a column for
   * rows, a count of pairs and paths for a star colouring (`starBound`). Colours equal to it are optimal.
   */
  readonly lowerBound: number;
}

/** J in coordinate form, 0-based, ordered by row and then column. */
export interface SparseJacobian {
  readonly m: number;
  readonly n: number;
  readonly rows: Int32Array;
  readonly cols: Int32Array;
  readonly values: Float64Array;
}

/**
 * The pattern of J from the structure of the partials alone: a forward block
 * pass in which every partial entry counts by its `reach`, so no derivative
 * is evaluated and nothing cancels (both branches of a ternary count).
 * Conservative: it holds every nonzero of J at every point. `budget` bounds
 * every block of the pass (the last one is the pattern), so a pattern too
 * large to hold is refused while it is found, not after.
 */
export function detectPattern(
  passes: Passes,
  columns: readonly WrtInput[],
  output: NodeId,
  m: number,
  n: number,
  budget?: BlockPassInput['budget'],
): Pattern {
  // The pass finds Jᵀ's pattern (a row per input); transposed, the rows of J.
  return transposePattern(detectTransposed(passes, columns, output, m, n, budget));
}

/**
 * The pattern of a Hessian (J of a gradient program, n×n) made exactly
 * symmetric: the union of the detected pattern and its transpose, which
 * holds every nonzero of H whichever triangle the detection found it in.
 */
export function detectSymmetricPattern(
  passes: Passes,
  columns: readonly WrtInput[],
  output: NodeId,
  n: number,
  budget?: BlockPassInput['budget'],
): Pattern {
  const transposed = detectTransposed(passes, columns, output, n, n, budget);
  return union(transposed, transposePattern(transposed));
}

function detectTransposed(
  passes: Passes,
  columns: readonly WrtInput[],
  output: NodeId,
  m: number,
  n: number,
  budget?: BlockPassInput['budget'],
): Pattern {
  const { plan, lin } = passes;
  const active = new Set(lin.active);
  const seeds = new Map(
    columns.filter((c) => active.has(c.node)).map((c) => [c.node, SparseRows.seeds(n, c.size, c.offset)]),
  );
  const block =
    seeds.get(output) ??
    blockPass({
      direction: 'forward',
      values: new Float64Array(plan.values.length).fill(1),
      active: lin.active,
      edges: passes.edges,
      operand: (id) => plan.operand(id),
      seeds,
      rows: n,
      ends: [output],
      structural: true,
      ...(budget === undefined ? {} : { budget }),
    }).get(output);
  return patternOf(block, n, m);
}

/** The nonzeros of a rows×cols block as a pattern (none for a missing block). */
function patternOf(block: Block | undefined, rows: number, cols: number): Pattern {
  if (block instanceof SparseRows) return { m: rows, n: cols, rowStart: block.rowStart, colIndex: block.colIndex };
  const rowStart = new Int32Array(rows + 1);
  const colIndex: number[] = [];
  for (let i = 0; i < rows; i++) {
    if (block !== undefined) forEachInRow(block, i, (k) => void colIndex.push(k));
    rowStart[i + 1] = colIndex.length;
  }
  return { m: rows, n: cols, rowStart, colIndex: Int32Array.from(colIndex) };
}

/** The row of each entry of a pattern (the CSR rowStart expanded, parallel to colIndex). */
function entryRows(p: Pattern): Int32Array {
  const rows = new Int32Array(p.colIndex.length);
  for (let i = 0; i < p.m; i++) rows.fill(i, p.rowStart[i]!, p.rowStart[i + 1]!);
  return rows;
}

/** The transpose of a pattern: for each column, its rows (sorted, since the sort is stable). */
function transposePattern(p: Pattern): Pattern {
  const rowOf = entryRows(p);
  const { start, order } = groupByKey(p.colIndex, p.n);
  return { m: p.n, n: p.m, rowStart: start, colIndex: order.map((e) => rowOf[e]!) };
}

// Colouring gives up (one colour per column) past this much work: a dense pattern gains nothing.
const COLOURING_WORK_LIMIT = 50_000_000;

/** The most entries in one row: no colouring of the columns can use fewer colours. */
function widestRow(p: Pattern): number {
  let widest = 0;
  for (let i = 0; i < p.m; i++) widest = Math.max(widest, p.rowStart[i + 1]! - p.rowStart[i]!);
  return widest;
}

/**
 * Greedy distance-2 colouring of the columns of `p` (whose transpose is
 * `byColumn`), largest column first: each column takes the smallest colour
 * that no column sharing one of its rows has. Returns null when the work would
 * exceed the limit.
 */
function colourColumns(p: Pattern, byColumn: Pattern): Int32Array | null {
  let work = 0;
  for (let i = 0; i < p.m; i++) {
    const size = p.rowStart[i + 1]! - p.rowStart[i]!;
    work += size * size;
  }
  if (work > COLOURING_WORK_LIMIT) return null;
  // Largest first, by a counting sort on the column sizes (stable: ties keep column order).
  const sizeOf = (j: number) => byColumn.rowStart[j + 1]! - byColumn.rowStart[j]!;
  const largest = widestRow(byColumn);
  const { order } = groupByKey(
    Int32Array.from({ length: p.n }, (_, j) => largest - sizeOf(j)),
    largest + 1,
  );
  const colourOf = new Int32Array(p.n).fill(-1);
  // forbidden[c] === j: colour c is taken by a neighbour of column j.
  const forbidden = new Int32Array(p.n + 1).fill(-1);
  for (const j of order) {
    for (let e = byColumn.rowStart[j]!; e < byColumn.rowStart[j + 1]!; e++) {
      const i = byColumn.colIndex[e]!;
      for (let f = p.rowStart[i]!; f < p.rowStart[i + 1]!; f++) {
        const c = colourOf[p.colIndex[f]!]!;
        if (c >= 0) forbidden[c] = j;
      }
    }
    let colour = 0;
    while (forbidden[colour] === j) colour++;
    colourOf[j] = colour;
  }
  return colourOf;
}

const coloursIn = (colourOf: Int32Array): number => colourOf.reduce((most, c) => Math.max(most, c + 1), 0);
const uncoloured = (size: number): Int32Array => Int32Array.from({ length: size }, (_, k) => k);

/**
 * Colours columns (forward passes) and rows (backward passes) and keeps the
 * direction with fewer colours; `direction` forces one. Rows are not tried
 * when the columns already reach the least colours any colouring can have.
 */
export function colour(p: Pattern, direction: 'auto' | 'forward' | 'reverse'): Colouring {
  const t = transposePattern(p);
  const byColumns = (colourOf: Int32Array): Colouring => ({
    direction: 'forward',
    kind: 'distance-2',
    colours: coloursIn(colourOf),
    colourOf,
    lowerBound: widestRow(p),
  });
  const byRows = (colourOf: Int32Array): Colouring => ({
    direction: 'reverse',
    kind: 'distance-2',
    colours: coloursIn(colourOf),
    colourOf,
    lowerBound: widestRow(t),
  });
  if (direction !== 'reverse') {
    const columns = colourColumns(p, t) ?? uncoloured(p.n);
    const optimal = coloursIn(columns) <= Math.min(widestRow(p), widestRow(t));
    if (direction === 'forward' || optimal) return byColumns(columns);
    const rows = colourColumns(t, p) ?? uncoloured(p.m);
    return coloursIn(columns) <= coloursIn(rows) ? byColumns(columns) : byRows(rows);
  }
  return byRows(colourColumns(t, p) ?? uncoloured(p.m));
}

/** The union of two patterns of one shape, each row sorted (the rows of `p` may come unsorted). */
function union(p: Pattern, q: Pattern): Pattern {
  const rowStart = new Int32Array(p.m + 1);
  const colIndex = new Int32Array(p.colIndex.length + q.colIndex.length);
  // taken[j] === i: column j is already in row i.
  const taken = new Int32Array(p.n).fill(-1);
  let size = 0;
  for (let i = 0; i < p.m; i++) {
    const first = size;
    for (const r of [p, q])
      for (let e = r.rowStart[i]!; e < r.rowStart[i + 1]!; e++) {
        const j = r.colIndex[e]!;
        if (taken[j] !== i) colIndex[size++] = j;
        taken[j] = i;
      }
    colIndex.subarray(first, size).sort();
    rowStart[i + 1] = size;
  }
  return { m: p.m, n: p.n, rowStart, colIndex: colIndex.slice(0, size) };
}

/**
 * Greedy star colouring of a symmetric pattern's adjacency graph (its
 * off-diagonal entries), in column order, after Gebremedhin, Manne and Pothen
 * (2005), algorithm 4.1: adjacent columns differ in colour, and no path on
 * four columns uses only two colours, so each entry H[i, j] is the only term
 * of colour c(j) in row i of H·seed, or H[j, i] the only one of colour c(i) in
 * row j. Falls back to one colour per column past the work limit.
 */
export function starColour(p: Pattern): Colouring {
  const n = p.n;
  const colourOf = new Int32Array(n).fill(-1);
  // forbidden[c] === v: colour c is taken for column v; seen / repeated[c] === v: v has one / two neighbours of colour c.
  const forbidden = new Int32Array(n + 1).fill(-1);
  const seen = new Int32Array(n + 1).fill(-1);
  const repeated = new Int32Array(n + 1).fill(-1);
  let work = 0;
  for (let v = 0; v < n && work <= COLOURING_WORK_LIMIT; v++) {
    for (let e = p.rowStart[v]!; e < p.rowStart[v + 1]!; e++) {
      const cw = colourOf[p.colIndex[e]!]!;
      if (cw < 0) continue;
      forbidden[cw] = v;
      if (seen[cw] === v) repeated[cw] = v;
      seen[cw] = v;
    }
    for (let e = p.rowStart[v]!; e < p.rowStart[v + 1]!; e++) {
      const w = p.colIndex[e]!;
      if (w === v) continue;
      const cw = colourOf[w]!;
      for (let f = p.rowStart[w]!; f < p.rowStart[w + 1]!; f++) {
        const x = p.colIndex[f]!;
        const cx = colourOf[x]!;
        work++;
        if (x === v || x === w || cx < 0 || forbidden[cx] === v) continue;
        // An uncoloured w: v and x both border it (distance 2). y–v–w–x with c(y) = c(w): two colours.
        if (cw < 0 || repeated[cw] === v) {
          forbidden[cx] = v;
          continue;
        }
        // v–w–x–y with c(y) = c(w): two colours.
        for (let g = p.rowStart[x]!; g < p.rowStart[x + 1]!; g++) {
          const y = p.colIndex[g]!;
          work++;
          if (y !== w && y !== x && colourOf[y] === cw) {
            forbidden[cx] = v;
            break;
          }
        }
      }
    }
    let c = 0;
    while (forbidden[c] === v) c++;
    colourOf[v] = c;
  }
  const final = work > COLOURING_WORK_LIMIT ? uncoloured(n) : colourOf;
  return { direction: 'forward', kind: 'star', colours: coloursIn(final), colourOf: final, lowerBound: starBound(p) };
}

/**
 * The least colours any star colouring of a symmetric pattern can have. The
 * widest row bounds distance-2 colourings only (an arrowhead has a full row
 * and takes 2 colours), so this counts instead: every two colour classes span
 * a star forest, whose edges are fewer than its columns, so k colours hold at
 * most (k − 1)·n − k(k − 1)/2 off-diagonal pairs; and a component that is no
 * star (two adjacent columns both of degree ≥ 2: a path of four, or a
 * triangle) takes 3.
 */
function starBound(p: Pattern): number {
  const degree = new Int32Array(p.n);
  let edges = 0;
  for (let i = 0; i < p.m; i++)
    for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++)
      if (p.colIndex[e] !== i) {
        degree[i]!++;
        edges++;
      }
  edges /= 2;
  let bound = Math.min(p.n, 1);
  while (bound < p.n && (bound - 1) * p.n - (bound * (bound - 1)) / 2 < edges) bound++;
  for (let i = 0; i < p.m && bound < 3; i++)
    for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++) {
      const j = p.colIndex[e]!;
      if (j !== i && degree[i]! >= 2 && degree[j]! >= 2) bound = 3;
    }
  return bound;
}

/**
 * The entries of a symmetric pattern as a star colouring recovers them: entry
 * e is row source[e] of the pass of colour key[e], that is (i, j) in the pass
 * of c(j) when j is the only column of its colour in row i, else its mirror
 * (j, i) in the pass of c(i). A diagonal entry is its own row: no neighbour
 * shares its colour.
 */
function starReads(p: Pattern, rows: Int32Array, colourOf: Int32Array): { key: Int32Array; source: Int32Array } {
  const nnz = p.colIndex.length;
  const key = new Int32Array(nnz);
  const source = new Int32Array(nnz);
  // count[c] columns of colour c in the row of stamp[c].
  const count = new Int32Array(p.n + 1);
  const stamp = new Int32Array(p.n + 1).fill(-1);
  const inRow = (i: number, c: number) => (stamp[c] === i ? count[c]! : 0);
  for (let i = 0; i < p.m; i++) {
    for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++) {
      const c = colourOf[p.colIndex[e]!]!;
      if (stamp[c] !== i) count[c] = 0;
      stamp[c] = i;
      count[c]!++;
    }
    for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++) {
      const j = p.colIndex[e]!;
      const direct = i === j || inRow(i, colourOf[j]!) === 1;
      key[e] = direct ? colourOf[j]! : colourOf[i]!;
      source[e] = direct ? rows[e]! : j;
    }
  }
  return { key, source };
}

/**
 * The Hessian from a star colouring of its symmetric pattern: one forward
 * pass of the gradient program (one Hessian-vector product) per colour.
 */
export function compressedHessian(
  passes: Passes,
  columns: readonly WrtInput[],
  gradient: NodeId,
  p: Pattern,
  colouring: Colouring,
  onProgress?: (done: number, total: number) => void,
): SparseJacobian {
  const values = new Float64Array(p.colIndex.length);
  const rows = entryRows(p);
  const { key, source } = starReads(p, rows, colouring.colourOf);
  const { start, order } = groupByKey(key, colouring.colours);
  forwardPasses(passes, columns, gradient, colouring, { start, entries: order }, source, values, onProgress);
  return { m: p.m, n: p.n, rows, cols: p.colIndex, values };
}

/** One forward pass per colour, seeded with its columns; entry e of colour c is the pass's entry source[e]. */
function forwardPasses(
  passes: Passes,
  columns: readonly WrtInput[],
  output: NodeId,
  colouring: Colouring,
  byColour: { start: Int32Array; entries: Int32Array },
  source: Int32Array,
  values: Float64Array,
  onProgress?: (done: number, total: number) => void,
): void {
  const { colourOf, colours } = colouring;
  const { start, entries } = byColour;
  const seed = new Float64Array(colourOf.length);
  // Views into the fixed seed and tangent buffers, taken once for all colours.
  const seeds = columns.map((col) => seed.subarray(col.offset, col.offset + col.size));
  const tangent = passes.slice(passes.tangent, output);
  for (let c = 0; c < colours; c++) {
    onProgress?.(c, colours);
    for (let j = 0; j < seed.length; j++) seed[j] = colourOf[j] === c ? 1 : 0;
    passes.forwardPass(seeds);
    if (tangent !== null)
      for (let k = start[c]!; k < start[c + 1]!; k++) values[entries[k]!] = tangent[source[entries[k]!]!]!;
  }
}

/** Entries of the pattern grouped by the colour of their column (forward) or row (reverse), as CSR over colours. */
function entriesByColour(
  p: Pattern,
  rows: Int32Array,
  colouring: Colouring,
): { start: Int32Array; entries: Int32Array } {
  const side = colouring.direction === 'forward' ? p.colIndex : rows;
  const { start, order } = groupByKey(
    side.map((k) => colouring.colourOf[k]!),
    colouring.colours,
  );
  return { start, entries: order };
}

/** One compressed pass per colour, decompressed into the entries of the pattern. */
export function compressedJacobian(
  passes: Passes,
  columns: readonly WrtInput[],
  output: NodeId,
  p: Pattern,
  colouring: Colouring,
  onProgress?: (done: number, total: number) => void,
): SparseJacobian {
  const values = new Float64Array(p.colIndex.length);
  const rows = entryRows(p);
  const { start, entries } = entriesByColour(p, rows, colouring);
  const { colourOf, colours } = colouring;
  if (colouring.direction === 'forward') {
    // Row i has at most one column of colour c, so the pass's entry i is exactly J[i, j].
    forwardPasses(passes, columns, output, colouring, { start, entries }, rows, values, onProgress);
  } else {
    // Which variable (column group) each column of J belongs to.
    const columnOf = new Int32Array(p.n);
    columns.forEach((col, w) => columnOf.fill(w, col.offset, col.offset + col.size));
    const seed = new Float64Array(p.m);
    const cotangents = columns.map((col) => passes.slice(passes.cotangent, col.node));
    for (let c = 0; c < colours; c++) {
      onProgress?.(c, colours);
      for (let i = 0; i < p.m; i++) seed[i] = colourOf[i] === c ? 1 : 0;
      passes.backwardPass(seed);
      for (let k = start[c]!; k < start[c + 1]!; k++) {
        const e = entries[k]!;
        const j = p.colIndex[e]!;
        const w = columnOf[j]!;
        const cotangent = cotangents[w];
        if (cotangent !== null && cotangent !== undefined) values[e] = cotangent[j - columns[w]!.offset]!;
      }
    }
  }
  return { m: p.m, n: p.n, rows, cols: p.colIndex, values };
}
