/**
 * Sparse Jacobians, the way SparseConnectivityTracer + SparseMatrixColorings,
 * CasADi or ADOL-C with ColPack compute them: detect the pattern of J from the
 * graph, colour its columns (or rows) so that columns sharing a colour never
 * share a row, run one forward (or backward) pass per colour with the sum of
 * the colour's seeds, and read each entry back from the pass of its colour.
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
  readonly colours: number;
  /** The colour of each column (forward) or row (reverse). */
  readonly colourOf: Int32Array;
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
  // The block holds Jᵀ's pattern (a row per input); transposed, the rows of J.
  return transposePattern(patternOf(block, n, m));
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

/** The transpose of a pattern: for each column, its rows (sorted, since the sort is stable). */
function transposePattern(p: Pattern): Pattern {
  const rowOf = new Int32Array(p.colIndex.length);
  for (let i = 0; i < p.m; i++) rowOf.fill(i, p.rowStart[i]!, p.rowStart[i + 1]!);
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
  if (direction !== 'reverse') {
    const columns = colourColumns(p, t) ?? uncoloured(p.n);
    const optimal = coloursIn(columns) <= Math.min(widestRow(p), widestRow(t));
    if (direction === 'forward' || optimal)
      return { direction: 'forward', colours: coloursIn(columns), colourOf: columns };
    const rows = colourColumns(t, p) ?? uncoloured(p.m);
    if (coloursIn(columns) <= coloursIn(rows))
      return { direction: 'forward', colours: coloursIn(columns), colourOf: columns };
    return { direction: 'reverse', colours: coloursIn(rows), colourOf: rows };
  }
  const rows = colourColumns(t, p) ?? uncoloured(p.m);
  return { direction: 'reverse', colours: coloursIn(rows), colourOf: rows };
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
  const nnz = p.colIndex.length;
  const values = new Float64Array(nnz);
  const rows = new Int32Array(nnz);
  for (let i = 0; i < p.m; i++) rows.fill(i, p.rowStart[i]!, p.rowStart[i + 1]!);
  const { start, entries } = entriesByColour(p, rows, colouring);
  const { colourOf, colours } = colouring;
  if (colouring.direction === 'forward') {
    const seed = new Float64Array(p.n);
    // Views into the fixed seed and tangent buffers, taken once for all colours.
    const seeds = columns.map((col) => seed.subarray(col.offset, col.offset + col.size));
    const tangent = passes.slice(passes.tangent, output);
    for (let c = 0; c < colours; c++) {
      onProgress?.(c, colours);
      for (let j = 0; j < p.n; j++) seed[j] = colourOf[j] === c ? 1 : 0;
      passes.forwardPass(seeds);
      // Row i has at most one column of colour c, so the pass's entry i is exactly J[i, j].
      if (tangent !== null)
        for (let k = start[c]!; k < start[c + 1]!; k++) values[entries[k]!] = tangent[rows[entries[k]!]!]!;
    }
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
