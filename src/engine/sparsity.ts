/**
 * Sparse Jacobians, the way SparseConnectivityTracer + SparseMatrixColorings,
 * CasADi or ADOL-C with ColPack compute them: detect the pattern of J from the
 * graph, colour its columns (or rows) so that columns sharing a colour never
 * share a row, run one forward (or backward) pass per colour with the sum of
 * the colour's seeds, and read each entry back from the pass of its colour.
 * Sparse Hessians use a star colouring of the symmetric pattern instead
 * (Gebremedhin, Manne and Pothen 2005), which may share a colour between
 * columns sharing a row, as long as each entry can be read from H·seed at
 * (i, j) or at its mirror (j, i). The colourings are in colouring.ts.
 */
import type { NodeId } from '../ops/index.js';
import { entryBuffer, indexBuffer } from '../ops/parallel.js';
import { seedStructure, type BlockEdge, type BlockPassInput } from './blocks.js';
import { transposePattern, widestRow, type Colouring, type Pattern } from './colouring.js';
import { groupByKey } from './group.js';
import { rulesOf, type Accumulator, type Step } from './linear/index.js';
import type { WrtInput } from './linearize.js';
import type { Passes } from './passes.js';

export { colour, starColour, type Colouring, type Pattern } from './colouring.js';

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
  return symmetrised(transposed);
}

/** The union of a square pattern and its transpose, each row sorted. */
export function symmetrised(p: Pattern): Pattern {
  return isSymmetric(p) ? sortedRows(p) : union(p, transposePattern(p));
}

/**
 * Whether every entry (i, j) of p has its mirror (j, i), each looked up in the short row j; false, as if not
 * symmetric, once the look-ups pass a few times the entries (long rows: the transpose costs less).
 */
function isSymmetric(p: Pattern): boolean {
  const { rowStart, colIndex } = p;
  let work = 0;
  const most = 4 * colIndex.length + p.m;
  for (let i = 0; i < p.m; i++) {
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const j = colIndex[e]!;
      if (j === i) continue;
      let f = rowStart[j]!;
      const last = rowStart[j + 1]!;
      while (f < last && colIndex[f] !== i) f++;
      work += f - rowStart[j]! + 1;
      if (f === last || work > most) return false;
    }
  }
  return true;
}

/** p with each row sorted: union(p, pᵀ) when p is symmetric. */
function sortedRows(p: Pattern): Pattern {
  const colIndex = indexBuffer(p.colIndex.length);
  colIndex.set(p.colIndex);
  for (let i = 0; i < p.m; i++) sortRun(colIndex, p.rowStart[i]!, p.rowStart[i + 1]!);
  return { m: p.m, n: p.n, rowStart: p.rowStart, colIndex };
}

function detectTransposed(
  passes: Passes,
  columns: readonly WrtInput[],
  output: NodeId,
  m: number,
  n: number,
  budget?: BlockPassInput['budget'],
): Pattern {
  return (
    structuralPass(passes, columns, output, n, budget) ?? {
      m: n,
      n: m,
      rowStart: new Int32Array(n + 1),
      colIndex: new Int32Array(0),
    }
  );
}

/** The node's entries that one row (an input entry) reaches, each once: a stamp per entry marks the row. */
class ReachedRow implements Accumulator {
  readonly entries: Int32Array;
  private readonly stamp: Int32Array;
  count = 0;
  private row = -1;

  constructor(size: number) {
    this.entries = new Int32Array(size);
    this.stamp = new Int32Array(size).fill(-1);
  }

  start(row: number): void {
    this.row = row;
    this.count = 0;
  }

  add(k: number): void {
    if (this.stamp[k] === this.row) return;
    this.stamp[k] = this.row;
    this.entries[this.count++] = k;
  }
}

/**
 * The working memory of one structural pass. Each node's pattern is a few index arrays of its entries (8–16 MB at
 * 10⁶ entries), which fresh memory would fault in page by page: the arrays of a dropped pattern are taken again
 * by later ones, once no kept pattern holds them (patterns share arrays: a diagonal partial's node shares its
 * argument's pattern, a total map its rows). And which entries a row already holds, for every row of every node:
 * entry k is in row i of a node when marks[k] is that row's mark, base + i, a number no earlier row had, so that
 * the marks are never cleared (once for 2³¹ rows), where an array filled for each node took 4 MB a node.
 */
class PassMemory {
  private readonly free: Int32Array[] = [];
  private readonly holders = new Map<Int32Array, number>();
  private marks = new Int32Array(0);
  private nextMark = 0;

  /** An array of `length` indices, not cleared: its user writes each entry before reading it. */
  take(length: number): Int32Array {
    let best = -1;
    for (let k = 0; k < this.free.length; k++) {
      const fits = this.free[k]!.length;
      if (fits >= length && (best < 0 || fits < this.free[best]!.length)) best = k;
    }
    // In shared memory where large: the last pattern's columns may be a result's (entryRows).
    if (best < 0) return indexBuffer(length);
    const [array] = this.free.splice(best, 1);
    return array!.length === length ? array! : array!.subarray(0, length);
  }

  /** A pattern is kept (as a node's block): its arrays are not taken again until every keeper has dropped them. */
  hold(p: Pattern): void {
    for (const array of [p.rowStart, p.colIndex]) this.holders.set(array, (this.holders.get(array) ?? 0) + 1);
  }

  drop(p: Pattern): void {
    for (const array of [p.rowStart, p.colIndex]) {
      const left = this.holders.get(array)! - 1;
      if (left > 0) this.holders.set(array, left);
      else {
        this.holders.delete(array);
        this.free.push(array);
      }
    }
  }

  /** The marks for `rows` rows of a node of `size` entries, and the first row's mark. */
  rowMarks(rows: number, size: number): { readonly marks: Int32Array; readonly base: number } {
    const small = this.marks.length < size;
    if (small || this.nextMark > 0x7fffffff - rows) {
      this.marks = small ? new Int32Array(size).fill(-1) : this.marks.fill(-1);
      this.nextMark = 0;
    }
    const base = this.nextMark;
    this.nextMark += rows;
    return { marks: this.marks, base };
  }
}

/** What a pattern writer holds before it grows, unless its entries were counted first. */
const FIRST_ENTRIES = 1024;

/** A pattern written row by row into arrays that grow from `entries`, never past the budget. */
class PatternWriter {
  private colIndex: Int32Array;
  private readonly rowStart: Int32Array;
  private count = 0;

  constructor(
    private readonly rows: number,
    private readonly cols: number,
    private readonly budget: BlockPassInput['budget'],
    entries: number,
  ) {
    this.colIndex = new Int32Array(entries);
    this.rowStart = new Int32Array(rows + 1);
  }

  writeRow(i: number, row: ReachedRow): void {
    const end = this.count + row.count;
    if (this.budget !== undefined && end > this.budget.maxEntries) this.budget.refuse(end);
    if (end > this.colIndex.length)
      this.colIndex = grown(this.colIndex, this.count, end, this.budget?.maxEntries ?? Infinity);
    const { colIndex } = this;
    for (let t = 0; t < row.count; t++) colIndex[this.count + t] = row.entries[t]!;
    this.count = end;
    this.rowStart[i + 1] = end;
  }

  finish(): Pattern {
    // Counted first, the array is full: no copy of it.
    const colIndex = this.count === this.colIndex.length ? this.colIndex : this.colIndex.slice(0, this.count);
    return { m: this.rows, n: this.cols, rowStart: this.rowStart, colIndex };
  }
}

/**
 * A copy of a[0 … count) in an array of at least `needed` entries: twice a's length where that stays within
 * `most`.
 */
function grown(a: Int32Array, count: number, needed: number, most: number): Int32Array<ArrayBuffer> {
  const copy = new Int32Array(Math.max(needed, Math.min(2 * a.length, most)));
  copy.set(a.subarray(0, count));
  return copy;
}

/** Which target entries each source entry of a step reaches, as rows (CSR) over the source's entries. */
interface ReachTable {
  readonly start: Int32Array;
  readonly targets: Int32Array;
}

/** A step's reach as a table, made once, so that rows cost no calls; null when it would pass `most` entries. */
function reachTable(
  step: Step,
  v: Float64Array,
  sourceSize: number,
  targetSize: number,
  most: number,
): ReachTable | null {
  const rules = rulesOf(step);
  if (rules.reachTable !== undefined) return rules.reachTable(step, 'forward');
  const start = new Int32Array(sourceSize + 1);
  const row = new ReachedRow(targetSize);
  let targets = new Int32Array(Math.min(most, 2 * sourceSize + 16));
  let count = 0;
  for (let k = 0; k < sourceSize; k++) {
    row.start(k);
    rules.reach(step, 'forward', v, k, false, row);
    if (count + row.count > most) return null;
    if (count + row.count > targets.length) targets = grown(targets, count, count + row.count, most);
    for (let t = 0; t < row.count; t++) targets[count++] = row.entries[t]!;
    start[k + 1] = count;
  }
  return { start, targets: targets.subarray(0, count) };
}

/**
 * Jᵀ's pattern by a forward pass over index sets alone (a row per input entry, the node's entries it reaches):
 * a block pass without values. A node with one diagonal partial (element-wise, same size) shares its
 * argument's pattern; a selection that moves each entry to at most one place maps the entries; other nodes
 * merge their arguments' rows, diagonal partials mapping entry k to k and others through a table of their
 * `reach` (or entry by entry, where the table would be large). A block is dropped once no node needs it.
 */
function structuralPass(
  passes: Passes,
  columns: readonly WrtInput[],
  output: NodeId,
  rows: number,
  budget: BlockPassInput['budget'],
): Pattern | undefined {
  const { plan, lin, edges } = passes;
  const active = new Set(lin.active);
  const blocks = new Map<NodeId, Pattern>();
  const memory = new PassMemory();
  const keep = (node: NodeId, block: Pattern): void => {
    memory.hold(block);
    blocks.set(node, block);
  };
  for (const c of columns) {
    if (!active.has(c.node)) continue;
    const { rowStart, colIndex } = seedStructure(rows, c.size, c.offset);
    keep(c.node, { m: rows, n: c.size, rowStart, colIndex });
  }
  const feeding = new Map<NodeId, BlockEdge[]>();
  const uses = new Map<NodeId, number>();
  for (const edge of edges) {
    const list = feeding.get(edge.node);
    if (list === undefined) feeding.set(edge.node, [edge]);
    else list.push(edge);
    uses.set(edge.arg, (uses.get(edge.arg) ?? 0) + 1);
  }
  for (const target of lin.active) {
    const incoming = feeding.get(target);
    if (incoming === undefined || blocks.has(target)) continue;
    const reached = incoming.filter((edge) => blocks.has(edge.arg));
    const block =
      reached.length === 1 && rulesOf(reached[0]!.step).diagonal(reached[0]!.step) !== null
        ? blocks.get(reached[0]!.arg)!
        : reached.length === 0
          ? undefined
          : mergedBlock(reached, blocks, plan.values, rows, plan.operand(target).size, budget, memory);
    if (block !== undefined) keep(target, block);
    for (const edge of incoming) {
      const left = uses.get(edge.arg)! - 1;
      uses.set(edge.arg, left);
      const dropped = left === 0 && edge.arg !== output ? blocks.get(edge.arg) : undefined;
      if (dropped === undefined) continue;
      memory.drop(dropped);
      blocks.delete(edge.arg);
    }
  }
  return blocks.get(output);
}

/** A node's pattern from its arguments': row by row, each argument's entries carried over its partial. */
function mergedBlock(
  incoming: readonly BlockEdge[],
  blocks: ReadonlyMap<NodeId, Pattern>,
  v: Float64Array,
  rows: number,
  size: number,
  budget: BlockPassInput['budget'],
  memory: PassMemory,
): Pattern {
  const sources = incoming.map((edge) => blocks.get(edge.arg)!);
  const steps = incoming.map((edge) => edge.step);
  // A slice or a permutation maps each entry to its one target, with no table to build.
  const injection = incoming.length === 1 ? rulesOf(steps[0]!).reachInjection?.(steps[0]!, 'forward') : null;
  if (injection) return mappedBlock(sources[0]!, injection, size, memory);
  // Diagonal partials map entry k to k; others through a table of their reach where it is small (a selection).
  const tables = steps.map((step, s) =>
    rulesOf(step).diagonal(step) !== null ? IDENTITY : reachTable(step, v, sources[s]!.n, size, 4 * sources[s]!.n + 64),
  );
  if (tables.every((table) => table !== null)) return mergedByTables(sources, tables, rows, size, budget, memory);
  // A broadcast or a dense partial, entry by entry.
  const reachRow = (i: number, row: ReachedRow): void => {
    row.start(i);
    for (let s = 0; s < sources.length; s++) {
      const { rowStart, colIndex } = sources[s]!;
      const rules = rulesOf(steps[s]!);
      for (let e = rowStart[i]!; e < rowStart[i + 1]!; e++)
        rules.reach(steps[s]!, 'forward', v, colIndex[e]!, false, row);
    }
  };
  let entries = FIRST_ENTRIES;
  if (budget !== undefined && rows * size > budget.maxEntries) {
    // Rows that fill up may pass the budget: counted first, without memory, so that a pattern too large is
    // refused before anything is stored, and one that fits is allocated once at its size (as blocks.ts does).
    const counted = new ReachedRow(size);
    entries = 0;
    for (let i = 0; i < rows; i++) {
      reachRow(i, counted);
      entries += counted.count;
      if (entries > budget.maxEntries) budget.refuse(entries);
    }
  }
  // A row of its own: the count's stamps would mark the entries of each row as seen.
  const row = new ReachedRow(size);
  const writer = new PatternWriter(rows, size, budget, entries);
  for (let i = 0; i < rows; i++) {
    reachRow(i, row);
    writer.writeRow(i, row);
  }
  return writer.finish();
}

/**
 * Appends the entries[from … to) not yet in row i (stamp[k] === i, i the row's mark) to `out` at `count`; returns
 * the new count.
 * Small and on typed arrays only, so that V8 optimises it at once for every node.
 */
function carryEntries(
  entries: Int32Array,
  from: number,
  to: number,
  i: number,
  stamp: Int32Array,
  out: Int32Array,
  count: number,
): number {
  for (let e = from; e < to; e++) {
    const k = entries[e]!;
    if (stamp[k] !== i) {
      stamp[k] = i;
      out[count++] = k;
    }
  }
  return count;
}

/** carryEntries through a reach table: each entry k adds the targets of its row of the table. */
function carryTabled(
  entries: Int32Array,
  from: number,
  to: number,
  tableStart: Int32Array,
  targets: Int32Array,
  i: number,
  stamp: Int32Array,
  out: Int32Array,
  count: number,
): number {
  for (let e = from; e < to; e++) {
    const k = entries[e]!;
    count = carryEntries(targets, tableStart[k]!, tableStart[k + 1]!, i, stamp, out, count);
  }
  return count;
}

/**
 * A pattern through a partial injection (entry k to target[k], or dropped at -1). Distinct entries of a row stay
 * distinct, so nothing is looked up; when no entry is dropped the rows are shared.
 */
function mappedBlock(source: Pattern, target: Int32Array, size: number, memory: PassMemory): Pattern {
  const { m, rowStart, colIndex } = source;
  let identity = target.length === size;
  let total = true;
  for (let k = 0; k < target.length && (identity || total); k++) {
    const t = target[k]!;
    if (t !== k) identity = false;
    if (t === -1) total = false;
  }
  // The identity (a concat of one part, a full slice): the pattern itself.
  if (identity) return source;
  const mapped = memory.take(colIndex.length);
  if (total) {
    for (let e = 0; e < colIndex.length; e++) mapped[e] = target[colIndex[e]!]!;
    return { m, n: size, rowStart, colIndex: mapped };
  }
  const mappedStart = memory.take(rowStart.length);
  mappedStart[0] = 0;
  let count = 0;
  for (let i = 0; i < m; i++) {
    for (let e = rowStart[i]!, end = rowStart[i + 1]!; e < end; e++) {
      const t = target[colIndex[e]!]!;
      if (t !== -1) mapped[count++] = t;
    }
    mappedStart[i + 1] = count;
  }
  return { m, n: size, rowStart: mappedStart, colIndex: mapped.subarray(0, count) };
}

/** The table of a diagonal partial: entry k reaches entry k. */
const IDENTITY: ReachTable = { start: new Int32Array(0), targets: new Int32Array(0) };

/**
 * mergedBlock where every partial is diagonal or tabled: plain loops over typed arrays, an entry already in
 * the row found by its stamp, the arrays allocated once at a bound of the entries (grown only past it).
 */
function mergedByTables(
  sources: readonly Pattern[],
  tables: readonly ReachTable[],
  rows: number,
  size: number,
  budget: BlockPassInput['budget'],
  memory: PassMemory,
): Pattern {
  const most = budget?.maxEntries ?? Infinity;
  if (sources.length === 2 && tables[0] === IDENTITY && tables[1] === IDENTITY) {
    const [p, q] = sources as [Pattern, Pattern];
    if (p.colIndex.length + q.colIndex.length <= most) return unionInOrder(p, q, size, memory);
  }
  // The most targets one source entry reaches: a row's bound is its source entries times these.
  const widest = tables.map((table) =>
    table === IDENTITY
      ? 1
      : widestRow({ m: table.start.length - 1, n: 0, rowStart: table.start, colIndex: table.targets }),
  );
  const bound = sources.reduce((total, source, s) => total + source.colIndex.length * widest[s]!, 0);
  const given = sources.reduce((total, source) => total + source.colIndex.length, 0);
  let colIndex = new Int32Array(Math.min(bound, rows * size, most, 2 * given + 1024));
  const rowStart = new Int32Array(rows + 1);
  const { marks: stamp, base } = memory.rowMarks(rows, size);
  let count = 0;
  for (let i = 0; i < rows; i++) {
    let rowBound = 0;
    for (let s = 0; s < sources.length; s++)
      rowBound += (sources[s]!.rowStart[i + 1]! - sources[s]!.rowStart[i]!) * widest[s]!;
    if (count + rowBound > colIndex.length) colIndex = grown(colIndex, count, count + rowBound, most);
    for (let s = 0; s < sources.length; s++) {
      const { rowStart: start, colIndex: entries } = sources[s]!;
      const table = tables[s]!;
      count =
        table === IDENTITY
          ? carryEntries(entries, start[i]!, start[i + 1]!, base + i, stamp, colIndex, count)
          : carryTabled(
              entries,
              start[i]!,
              start[i + 1]!,
              table.start,
              table.targets,
              base + i,
              stamp,
              colIndex,
              count,
            );
    }
    if (count > most) budget!.refuse(count);
    rowStart[i + 1] = count;
  }
  return { m: rows, n: size, rowStart, colIndex: trimmed(colIndex, count) };
}

/**
 * Each row of p followed by the entries of q's row not in it: mergedByTables of two diagonal partials, in one
 * loop (an element-wise operation of two active arguments), the arrays allocated at their bound.
 */
function unionInOrder(p: Pattern, q: Pattern, size: number, memory: PassMemory): Pattern {
  const rows = p.m;
  const colIndex = memory.take(p.colIndex.length + q.colIndex.length);
  const rowStart = memory.take(rows + 1);
  rowStart[0] = 0;
  const { marks: stamp, base } = memory.rowMarks(rows, size);
  const { rowStart: pStart, colIndex: pIndex } = p;
  const { rowStart: qStart, colIndex: qIndex } = q;
  let count = 0;
  for (let i = 0; i < rows; i++) {
    const mark = base + i;
    for (let e = pStart[i]!, end = pStart[i + 1]!; e < end; e++) {
      const k = pIndex[e]!;
      stamp[k] = mark;
      colIndex[count++] = k;
    }
    for (let e = qStart[i]!, end = qStart[i + 1]!; e < end; e++) {
      const k = qIndex[e]!;
      if (stamp[k] !== mark) {
        stamp[k] = mark;
        colIndex[count++] = k;
      }
    }
    rowStart[i + 1] = count;
  }
  return { m: rows, n: size, rowStart, colIndex: trimmed(colIndex, count) };
}

/** The first `count` entries of `colIndex`: a view when they fill half of it at least, else a copy. */
function trimmed(colIndex: Int32Array, count: number): Int32Array {
  if (2 * count >= colIndex.length) return colIndex.subarray(0, count);
  const copy = indexBuffer(count);
  copy.set(colIndex.subarray(0, count));
  return copy;
}

/**
 * The row of each entry of a pattern (the CSR rowStart expanded, parallel to colIndex). A result's rows, like its
 * values and the symmetric pattern's columns, are made in shared memory (indexBuffer), which the JSON number helper
 * reads without a copy.
 */
export function entryRows(p: Pattern): Int32Array {
  const rows = indexBuffer(p.colIndex.length);
  for (let i = 0; i < p.m; i++) for (let e = p.rowStart[i]!; e < p.rowStart[i + 1]!; e++) rows[e] = i;
  return rows;
}

/** Sorts a[from … to): short runs (most rows) in place by insertion, without a view to allocate. */
function sortRun(a: Int32Array, from: number, to: number): void {
  if (to - from > 16) {
    a.subarray(from, to).sort();
    return;
  }
  for (let e = from + 1; e < to; e++) {
    const j = a[e]!;
    let f = e;
    for (; f > from && a[f - 1]! > j; f--) a[f] = a[f - 1]!;
    a[f] = j;
  }
}

/** The union of two patterns of one shape, each row sorted (the rows of `p` may come unsorted). */
function union(p: Pattern, q: Pattern): Pattern {
  const u = unionInOrder(p, q, p.n, new PassMemory());
  for (let i = 0; i < u.m; i++) sortRun(u.colIndex, u.rowStart[i]!, u.rowStart[i + 1]!);
  return u;
}

/**
 * The entries of a symmetric pattern as a star colouring recovers them: entry
 * e is row source[e] of the pass of colour key[e], that is (i, j) in the pass
 * of c(j) when j is the only column of its colour in row i, else its mirror
 * (j, i) in the pass of c(i). A diagonal entry is its own row: no neighbour
 * shares its colour.
 */
function starReads(p: Pattern, colouring: Colouring): { key: Int32Array; source: Int32Array } {
  const { colourOf, colours } = colouring;
  const nnz = p.colIndex.length;
  const key = new Int32Array(nnz);
  const source = new Int32Array(nnz);
  // count[c] columns of colour c in the row of stamp[c].
  const count = new Int32Array(colours);
  const stamp = new Int32Array(colours).fill(-1);
  const { rowStart, colIndex } = p;
  for (let i = 0; i < p.m; i++) {
    const from = rowStart[i]!;
    const to = rowStart[i + 1]!;
    for (let e = from; e < to; e++) {
      const c = colourOf[colIndex[e]!]!;
      if (stamp[c] !== i) count[c] = 0;
      stamp[c] = i;
      count[c]!++;
    }
    // Every colour of the row was stamped by the loop above: count[c] is its columns in row i.
    for (let e = from; e < to; e++) {
      const j = colIndex[e]!;
      const c = colourOf[j]!;
      const direct = i === j || count[c] === 1;
      key[e] = direct ? c : colourOf[i]!;
      source[e] = direct ? i : j;
    }
  }
  return { key, source };
}

/**
 * The Hessian from a star colouring of its symmetric pattern: one forward
 * pass of the gradient program (one Hessian-vector product) per colour.
 * `rows` is entryRows(p).
 */
export function compressedHessian(
  passes: Passes,
  columns: readonly WrtInput[],
  gradient: NodeId,
  p: Pattern,
  rows: Int32Array,
  colouring: Colouring,
  onProgress?: (done: number, total: number) => void,
): SparseJacobian {
  const values = entryBuffer(p.colIndex.length);
  const { key, source } = starReads(p, colouring);
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

/** One compressed pass per colour, decompressed into the entries of the pattern (`rows` is entryRows(p)). */
export function compressedJacobian(
  passes: Passes,
  columns: readonly WrtInput[],
  output: NodeId,
  p: Pattern,
  rows: Int32Array,
  colouring: Colouring,
  onProgress?: (done: number, total: number) => void,
): SparseJacobian {
  const values = entryBuffer(p.colIndex.length);
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
