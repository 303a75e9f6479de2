/**
 * Colourings of a sparsity pattern, as ColPack computes them: greedy
 * distance-2 colourings of the columns (or rows) of J, and star colourings of
 * a symmetric pattern for Hessians (Gebremedhin, Manne and Pothen 2005). A
 * greedy colouring depends on the order it visits the vertices in, so where
 * the pattern is small enough for the extra work to pay, more than one order
 * is tried (largest-first, smallest-last, incidence-degree) and the fewest
 * colours are kept.
 */
import { indexBuffer } from '../ops/parallel.js';
import { groupByKey } from './group.js';

/** A sparsity pattern: for each row, its columns (compressed sparse rows). */
export interface Pattern {
  readonly m: number;
  readonly n: number;
  readonly rowStart: Int32Array;
  readonly colIndex: Int32Array;
}

/**
 * The order a greedy colouring visits the columns (rows) in. 'natural': index order; 'largest-first': the
 * most entries (neighbours, for a star colouring) first; 'smallest-last': each column after every column left
 * with fewer neighbours once it is removed (Matula and Beck); 'incidence-degree': next the column with the most
 * neighbours already visited.
 */
export type Ordering = 'natural' | 'largest-first' | 'smallest-last' | 'incidence-degree';

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
  /** The order of the greedy colouring that was kept. */
  readonly ordering: Ordering;
}

// Colouring gives up (one colour per column) past this much work: a dense pattern gains nothing.
const COLOURING_WORK_LIMIT = 50_000_000;

/**
 * Other orders are tried, after the first, up to this much work (Σ entries² over the rows). Measured (issue 15
 * item 5): smallest-last and incidence-degree, graph included, cost 20–30 ns a unit each up to here (about
 * 60 ms at the limit), and 90 ns past it, where a pattern of 10⁵ columns leaves the cache; a colour they save
 * is one pass, which on patterns that large costs less than they do.
 */
export const ORDERINGS_WORK_LIMIT = 1_000_000;

/** Σ over rows of (entries in the row)²: the work of a distance-2 colouring and of building its graph. */
function colouringWork(p: Pattern): number {
  let work = 0;
  for (let i = 0; i < p.m; i++) {
    const size = p.rowStart[i + 1]! - p.rowStart[i]!;
    work += size * size;
  }
  return work;
}

/** The transpose of a pattern: for each column, its rows, ascending (a counting sort of the entries by column). */
export function transposePattern(p: Pattern): Pattern {
  const { rowStart, colIndex } = p;
  const start = new Int32Array(p.n + 1);
  for (let e = 0; e < colIndex.length; e++) start[colIndex[e]! + 1]!++;
  for (let j = 0; j < p.n; j++) start[j + 1]! += start[j]!;
  const fill = start.slice(0, p.n);
  const rows = indexBuffer(colIndex.length);
  for (let i = 0; i < p.m; i++) for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++) rows[fill[colIndex[e]!]!++] = i;
  return { m: p.n, n: p.m, rowStart: start, colIndex: rows };
}

/** The most entries in one row: no colouring of the columns can use fewer colours. */
export function widestRow(p: Pattern): number {
  let widest = 0;
  for (let i = 0; i < p.m; i++) widest = Math.max(widest, p.rowStart[i + 1]! - p.rowStart[i]!);
  return widest;
}

function coloursIn(colourOf: Int32Array): number {
  let colours = 0;
  for (let k = 0; k < colourOf.length; k++) if (colourOf[k]! >= colours) colours = colourOf[k]! + 1;
  return colours;
}

const uncoloured = (size: number): Int32Array => {
  const colourOf = new Int32Array(size);
  for (let k = 0; k < size; k++) colourOf[k] = k;
  return colourOf;
};

/** An undirected graph without loops, as compressed sparse rows of neighbours. */
interface Graph {
  readonly start: Int32Array;
  readonly adjacent: Int32Array;
}

/** The columns of `p` as a graph: two are neighbours when they share a row (`byColumn` is p's transpose). */
function columnGraph(p: Pattern, byColumn: Pattern): Graph {
  const start = new Int32Array(p.n + 1);
  // Each row of r entries gives each of them r − 1 neighbours at most.
  const adjacent = new Int32Array(colouringWork(p));
  const seen = new Int32Array(p.n).fill(-1);
  let count = 0;
  for (let j = 0; j < p.n; j++) {
    seen[j] = j;
    for (let e = byColumn.rowStart[j]!; e < byColumn.rowStart[j + 1]!; e++) {
      const i = byColumn.colIndex[e]!;
      for (let f = p.rowStart[i]!; f < p.rowStart[i + 1]!; f++) {
        const k = p.colIndex[f]!;
        if (seen[k] === j) continue;
        seen[k] = j;
        adjacent[count++] = k;
      }
    }
    start[j + 1] = count;
  }
  return { start, adjacent: adjacent.subarray(0, count) };
}

/** The off-diagonal entries of a symmetric pattern as a graph. */
function symmetricGraph(p: Pattern): Graph {
  const start = new Int32Array(p.n + 1);
  const adjacent = new Int32Array(p.colIndex.length);
  let count = 0;
  for (let i = 0; i < p.m; i++) {
    for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++)
      if (p.colIndex[e] !== i) adjacent[count++] = p.colIndex[e]!;
    start[i + 1] = count;
  }
  return { start, adjacent: adjacent.slice(0, count) };
}

/** The vertices by descending key, ties in index order (groupByKey's stable counting sort). */
function descending(keys: Int32Array): Int32Array {
  const largest = keys.reduce((most, k) => Math.max(most, k), 0);
  return groupByKey(
    keys.map((k) => largest - k),
    largest + 1,
  ).order;
}

/**
 * Vertices in buckets by an integer key, each bucket a doubly linked list, so that taking a vertex out and
 * moving one to the next key are constant time (the structure of smallest-last and incidence-degree orders).
 */
class Buckets {
  private readonly head: Int32Array;
  private readonly next: Int32Array;
  private readonly previous: Int32Array;
  readonly key: Int32Array;

  constructor(keys: Int32Array, most: number) {
    this.head = new Int32Array(most + 1).fill(-1);
    this.next = new Int32Array(keys.length).fill(-1);
    this.previous = new Int32Array(keys.length).fill(-1);
    this.key = keys.slice();
    // Inserted from the last, so that each bucket lists its vertices in index order.
    for (let v = keys.length - 1; v >= 0; v--) this.insert(v);
  }

  first(key: number): number {
    return this.head[key]!;
  }

  private insert(v: number): void {
    const k = this.key[v]!;
    this.next[v] = this.head[k]!;
    this.previous[v] = -1;
    if (this.head[k]! >= 0) this.previous[this.head[k]!] = v;
    this.head[k] = v;
  }

  remove(v: number): void {
    const k = this.key[v]!;
    if (this.previous[v]! >= 0) this.next[this.previous[v]!] = this.next[v]!;
    else this.head[k] = this.next[v]!;
    if (this.next[v]! >= 0) this.previous[this.next[v]!] = this.previous[v]!;
  }

  move(v: number, key: number): void {
    this.remove(v);
    this.key[v] = key;
    this.insert(v);
  }
}

/** The length of each row of compressed sparse rows: a graph's degrees, a transposed pattern's column sizes. */
const rowLengths = (start: Int32Array): Int32Array => {
  const n = start.length - 1;
  const lengths = new Int32Array(n);
  for (let v = 0; v < n; v++) lengths[v] = start[v + 1]! - start[v]!;
  return lengths;
};

/** Smallest-last: repeatedly the vertex of least degree among those left is taken out; the order is reversed. */
function smallestLast(g: Graph): Int32Array {
  const n = g.start.length - 1;
  const degree = rowLengths(g.start);
  const buckets = new Buckets(degree, n);
  const removed = new Uint8Array(n);
  const order = new Int32Array(n);
  let least = 0;
  for (let t = n - 1; t >= 0; t--) {
    while (buckets.first(least) < 0) least++;
    const v = buckets.first(least);
    buckets.remove(v);
    removed[v] = 1;
    order[t] = v;
    for (let e = g.start[v]!; e < g.start[v + 1]!; e++) {
      const w = g.adjacent[e]!;
      if (!removed[w]) buckets.move(w, buckets.key[w]! - 1);
    }
    least = Math.max(0, least - 1);
  }
  return order;
}

/** Incidence-degree: next the vertex with the most neighbours already ordered (ties: the larger degree first). */
function incidenceDegree(g: Graph): Int32Array {
  const n = g.start.length - 1;
  const buckets = new Buckets(new Int32Array(n), n);
  // Within the first bucket, the largest degree first: the vertices enter in that order.
  const byDegree = descending(rowLengths(g.start));
  for (let t = byDegree.length - 1; t >= 0; t--) buckets.move(byDegree[t]!, 0);
  const ordered = new Uint8Array(n);
  const order = new Int32Array(n);
  let most = 0;
  for (let t = 0; t < n; t++) {
    while (most > 0 && buckets.first(most) < 0) most--;
    const v = buckets.first(most);
    buckets.remove(v);
    ordered[v] = 1;
    order[t] = v;
    for (let e = g.start[v]!; e < g.start[v + 1]!; e++) {
      const w = g.adjacent[e]!;
      if (!ordered[w]) {
        buckets.move(w, buckets.key[w]! + 1);
        most = Math.max(most, buckets.key[w]!);
      }
    }
  }
  return order;
}

/** The orders a colouring tries, in turn: the first is the one used on large patterns. */
export const COLUMN_ORDERINGS: readonly Ordering[] = ['largest-first', 'smallest-last', 'incidence-degree'];
export const STAR_ORDERINGS: readonly Ordering[] = ['natural', 'largest-first', 'smallest-last', 'incidence-degree'];

/** The vertices in an order, from their degrees (largest-first) or their graph, made when first needed. */
function vertexOrder(ordering: Ordering, n: number, degree: () => Int32Array, graph: () => Graph): Int32Array {
  switch (ordering) {
    case 'natural':
      return uncoloured(n);
    case 'largest-first':
      return descending(degree());
    case 'smallest-last':
      return smallestLast(graph());
    case 'incidence-degree':
      return incidenceDegree(graph());
  }
}

/** `make()`, made on the first call and kept. */
function once<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

/**
 * Greedy distance-2 colouring of the columns of `p` (whose transpose is `byColumn`) in the given order: each
 * column takes the smallest colour that no column sharing one of its rows has.
 */
export function colourColumnsInOrder(
  p: Pattern,
  byColumn: Pattern,
  ordering: Ordering,
  graph = once(() => columnGraph(p, byColumn)),
): Int32Array {
  const colourOf = new Int32Array(p.n).fill(-1);
  // forbidden[c] === j: colour c is taken by a neighbour of column j.
  const forbidden = new Int32Array(p.n + 1).fill(-1);
  // Largest-first puts the longest columns (byColumn's rows) first.
  for (const j of vertexOrder(ordering, p.n, () => rowLengths(byColumn.rowStart), graph)) {
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

interface Greedy {
  readonly colourOf: Int32Array;
  readonly ordering: Ordering;
}

/**
 * The greedy colouring with the fewest colours over `orderings`: the first order's, unless it misses the
 * lower bound on a pattern small enough, and a later order uses fewer colours (ties keep the earlier one).
 */
function fewest(
  orderings: readonly Ordering[],
  colourIn: (ordering: Ordering) => Int32Array,
  lowerBound: number,
  work: number,
): Greedy {
  let best: Greedy = { colourOf: colourIn(orderings[0]!), ordering: orderings[0]! };
  let fewestColours = coloursIn(best.colourOf);
  if (work > ORDERINGS_WORK_LIMIT) return best;
  for (const ordering of orderings.slice(1)) {
    if (fewestColours <= lowerBound) break;
    const colourOf = colourIn(ordering);
    const colours = coloursIn(colourOf);
    if (colours < fewestColours) [best, fewestColours] = [{ colourOf, ordering }, colours];
  }
  return best;
}

/**
 * The distance-2 colouring of the columns of `p` with the fewest colours of COLUMN_ORDERINGS (largest column
 * first alone on a large pattern). One colour per column past the work limit.
 */
function colourColumns(p: Pattern, byColumn: Pattern, lowerBound: number): Greedy {
  const work = colouringWork(p);
  // Past the work limit, or where a colour per column is the least any colouring has (a full row), none is looked for.
  if (work > COLOURING_WORK_LIMIT || lowerBound === p.n) return { colourOf: uncoloured(p.n), ordering: 'natural' };
  const graph = once(() => columnGraph(p, byColumn));
  return fewest(COLUMN_ORDERINGS, (ordering) => colourColumnsInOrder(p, byColumn, ordering, graph), lowerBound, work);
}

/**
 * Colours columns (forward passes) and rows (backward passes) and keeps the
 * direction with fewer colours; `direction` forces one. Rows are not tried
 * when the columns already reach the least colours any colouring can have.
 */
export function colour(p: Pattern, direction: 'auto' | 'forward' | 'reverse'): Colouring {
  const t = transposePattern(p);
  // The widest row (column) bounds the colours of the columns (rows).
  const widestP = widestRow(p);
  const widestT = widestRow(t);
  const byColumns = ({ colourOf, ordering }: Greedy): Colouring => ({
    direction: 'forward',
    kind: 'distance-2',
    colours: coloursIn(colourOf),
    colourOf,
    lowerBound: widestP,
    ordering,
  });
  const byRows = ({ colourOf, ordering }: Greedy): Colouring => ({
    direction: 'reverse',
    kind: 'distance-2',
    colours: coloursIn(colourOf),
    colourOf,
    lowerBound: widestT,
    ordering,
  });
  if (direction !== 'reverse') {
    const columns = byColumns(colourColumns(p, t, widestP));
    const optimal = columns.colours <= Math.min(widestP, widestT);
    if (direction === 'forward' || optimal) return columns;
    const rows = byRows(colourColumns(t, p, widestT));
    return columns.colours <= rows.colours ? columns : rows;
  }
  return byRows(colourColumns(t, p, widestT));
}

/**
 * Greedy star colouring of a symmetric pattern's adjacency graph (its
 * off-diagonal entries) in the given order, after Gebremedhin, Manne and Pothen
 * (2005), algorithm 4.1: adjacent columns differ in colour, and no path on
 * four columns uses only two colours, so each entry H[i, j] is the only term
 * of colour c(j) in row i of H·seed, or H[j, i] the only one of colour c(i) in
 * row j. Null past the work limit.
 */
export function starColourInOrder(
  p: Pattern,
  ordering: Ordering,
  graph = once(() => symmetricGraph(p)),
): Int32Array | null {
  const { n, rowStart, colIndex } = p;
  // Column order needs no list of the columns (4 MB at 10⁶).
  const order = ordering === 'natural' ? null : vertexOrder(ordering, p.n, () => offDiagonalDegrees(p), graph);
  const colourOf = new Int32Array(n).fill(-1);
  // forbidden[c] === v: colour c is taken for column v; seen / repeated[c] === v: v has one / two neighbours of colour c.
  // A column's forbidden colours are its neighbours' and theirs, w·(w + 1) at most for rows of w entries: no colour
  // passes that count, so these hold it (a few entries for a banded pattern, where n + 1 took 12 MB to fill at 10⁶).
  const widest = widestRow(p);
  const colours = Math.min(n, widest * (widest + 1)) + 1;
  const forbidden = new Int32Array(colours).fill(-1);
  const seen = new Int32Array(colours).fill(-1);
  const repeated = new Int32Array(colours).fill(-1);
  let work = 0;
  for (let t = 0; t < n; t++) {
    if (work > COLOURING_WORK_LIMIT) return null;
    const v = order === null ? t : order[t]!;
    for (let e = rowStart[v]!; e < rowStart[v + 1]!; e++) {
      const cw = colourOf[colIndex[e]!]!;
      if (cw < 0) continue;
      forbidden[cw] = v;
      if (seen[cw] === v) repeated[cw] = v;
      seen[cw] = v;
    }
    for (let e = rowStart[v]!; e < rowStart[v + 1]!; e++) {
      const w = colIndex[e]!;
      if (w === v) continue;
      const cw = colourOf[w]!;
      for (let f = rowStart[w]!; f < rowStart[w + 1]!; f++) {
        const x = colIndex[f]!;
        const cx = colourOf[x]!;
        work++;
        if (x === v || x === w || cx < 0 || forbidden[cx] === v) continue;
        // An uncoloured w: v and x both border it (distance 2). y–v–w–x with c(y) = c(w): two colours.
        if (cw < 0 || repeated[cw] === v) {
          forbidden[cx] = v;
          continue;
        }
        // v–w–x–y with c(y) = c(w): two colours.
        for (let g = rowStart[x]!; g < rowStart[x + 1]!; g++) {
          const y = colIndex[g]!;
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
  return colourOf;
}

/** Each column's neighbours in a symmetric pattern: its entries off the diagonal. */
function offDiagonalDegrees(p: Pattern): Int32Array {
  const { rowStart, colIndex } = p;
  const degree = new Int32Array(p.n);
  for (let i = 0; i < p.m; i++) {
    let neighbours = 0;
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) if (colIndex[e] !== i) neighbours++;
    degree[i] = neighbours;
  }
  return degree;
}

/**
 * The star colouring of a symmetric pattern with the fewest colours of STAR_ORDERINGS (column order, a banded
 * pattern's best, alone on a large pattern). One colour per column past the work limit.
 */
export function starColour(p: Pattern): Colouring {
  const lowerBound = starBound(p);
  const star = ({ colourOf, ordering }: Greedy): Colouring => ({
    direction: 'forward',
    kind: 'star',
    colours: coloursIn(colourOf),
    colourOf,
    lowerBound,
    ordering,
  });
  // A colour per column is the least any star colouring has here (a dense pattern): none is looked for.
  if (lowerBound === p.n) return star({ colourOf: uncoloured(p.n), ordering: 'natural' });
  const graph = once(() => symmetricGraph(p));
  // Past the work limit of the first order, the others would pass it too.
  const first = starColourInOrder(p, 'natural', graph);
  if (first === null) return star({ colourOf: uncoloured(p.n), ordering: 'natural' });
  const colourIn = (ordering: Ordering) =>
    ordering === 'natural' ? first : (starColourInOrder(p, ordering, graph) ?? first);
  return star(fewest(STAR_ORDERINGS, colourIn, lowerBound, colouringWork(p)));
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
  const degree = offDiagonalDegrees(p);
  const edges = degree.reduce((total, d) => total + d, 0) / 2;
  let bound = Math.min(p.n, 1);
  while (bound < p.n && (bound - 1) * p.n - (bound * (bound - 1)) / 2 < edges) bound++;
  for (let i = 0; i < p.m && bound < 3; i++)
    for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++) {
      const j = p.colIndex[e]!;
      if (j !== i && degree[i]! >= 2 && degree[j]! >= 2) bound = 3;
    }
  return bound;
}
