/**
 * Block passes: every seed of a Jacobian propagated together. The block of a
 * node holds one row per seed: in reverse mode the cotangent of the node for
 * each output entry (a slice of J's rows), in forward mode its tangent for
 * each input entry. Rows are sparse, so structure is kept for free: identity
 * seeds are one entry a row, element-wise partials scale entries in place,
 * selections move them, and rows become dense only where the mathematics is
 * dense (products with a matrix, reductions). The per-row kernels apply the
 * same partials as the one-vector kernels.
 */
import { iota } from '../graph/index-maps.js';
import { SUM_BLOCK, type NodeId, type Operand } from '../ops/index.js';
import { DenseRowAccumulator, rulesOf, times, type Accumulator, type Direction, type Step } from './linear/index.js';

/** Rows × cols with sparse rows (compressed sparse rows). */
export class SparseRows {
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly rowStart: Int32Array,
    readonly colIndex: Int32Array,
    readonly values: Float64Array,
  ) {}

  get nonzeros(): number {
    return this.rowStart[this.rows]!;
  }

  /** Seed rows: row `offset + k` has a 1 in column k, for the k < cols; other rows are empty. */
  static seeds(rows: number, cols: number, offset: number): SparseRows {
    const { rowStart, colIndex } = seedStructure(rows, cols, offset);
    return new SparseRows(rows, cols, rowStart, colIndex, new Float64Array(cols).fill(1));
  }
}

/** Where the seed rows' entries are (SparseRows.seeds without their values, for a pattern). */
export function seedStructure(
  rows: number,
  cols: number,
  offset: number,
): { readonly rowStart: Int32Array; readonly colIndex: Int32Array } {
  const rowStart = new Int32Array(rows + 1);
  for (let i = 0; i < rows; i++) rowStart[i + 1] = rowStart[i]! + (i >= offset && i < offset + cols ? 1 : 0);
  // iota's loop: Int32Array.from with a function took 70 ms for 10⁶ columns, a loop 5.
  return { rowStart, colIndex: iota(cols) };
}

/** Rows × cols stored densely, row-major: for blocks whose rows fill up (after a matrix product). */
export class DenseRows {
  readonly data: Float64Array;

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {
    // Written once with zeros before rows are added into it: a fresh page that is first read, as `+=` reads, is
    // faulted twice (read, then written), and a dense block is large (8 MB for 1000×1000: 4 ms more at 2 µs a fault).
    this.data = new Float64Array(rows * cols).fill(0);
  }

  get nonzeros(): number {
    return this.rows * this.cols;
  }
}

export type Block = SparseRows | DenseRows;

/** Appends rows to growing arrays. */
class RowWriter {
  private colIndex: Int32Array;
  private values: Float64Array;
  private readonly rowStart: Int32Array;
  private count = 0;
  private row = 0;

  constructor(
    private readonly rows: number,
    private readonly cols: number,
    capacity: number,
    /** The most entries it will be asked to hold: growth stops there. */
    private readonly most = Infinity,
  ) {
    this.rowStart = new Int32Array(rows + 1);
    this.colIndex = new Int32Array(Math.max(capacity, 16));
    this.values = new Float64Array(Math.max(capacity, 16));
  }

  /** Entries written so far. */
  get length(): number {
    return this.count;
  }

  push(col: number, value: number): void {
    if (this.count === this.values.length) {
      const capacity = Math.max(this.count + 1, Math.min(2 * this.count, this.most));
      const colIndex = new Int32Array(capacity);
      colIndex.set(this.colIndex);
      this.colIndex = colIndex;
      const values = new Float64Array(capacity);
      values.set(this.values);
      this.values = values;
    }
    this.colIndex[this.count] = col;
    this.values[this.count++] = value;
  }

  endRow(): void {
    this.rowStart[++this.row] = this.count;
  }

  finish(): SparseRows {
    return new SparseRows(
      this.rows,
      this.cols,
      this.rowStart,
      this.colIndex.subarray(0, this.count),
      this.values.subarray(0, this.count),
    );
  }
}

/** A dense accumulator for one sparse row, cleared in time proportional to what was touched. */
class RowAccumulator implements Accumulator {
  private readonly sums: Float64Array;
  private readonly touched: Int32Array;
  private readonly seen: Uint8Array;
  private count = 0;

  constructor(size: number) {
    this.sums = new Float64Array(size);
    this.touched = new Int32Array(size);
    this.seen = new Uint8Array(size);
  }

  /** Entries touched in the current row (an upper bound on what it writes). */
  get length(): number {
    return this.count;
  }

  add(k: number, value: number): void {
    if (!this.seen[k]) {
      this.seen[k] = 1;
      this.touched[this.count++] = k;
    }
    this.sums[k]! += value;
  }

  /** Writes the row, drops exact zeros, and clears. */
  flush(writer: RowWriter): void {
    for (let t = 0; t < this.count; t++) {
      const k = this.touched[t]!;
      if (this.sums[k] !== 0) writer.push(k, this.sums[k]!);
      this.sums[k] = 0;
      this.seen[k] = 0;
    }
    this.count = 0;
    writer.endRow();
  }

  /** Clears without writing; returns how many entries the row would have written. */
  clear(): number {
    let nonzeros = 0;
    for (let t = 0; t < this.count; t++) {
      const k = this.touched[t]!;
      if (this.sums[k] !== 0) nonzeros++;
      this.sums[k] = 0;
      this.seen[k] = 0;
    }
    this.count = 0;
    return nonzeros;
  }
}

/** Calls `visit(k, value)` for the nonzeros of row i. */
export function forEachInRow(block: Block, i: number, visit: (k: number, value: number) => void): void {
  if (block instanceof SparseRows) {
    for (let e = block.rowStart[i]!; e < block.rowStart[i + 1]!; e++) visit(block.colIndex[e]!, block.values[e]!);
    return;
  }
  const base = i * block.cols;
  for (let k = 0; k < block.cols; k++) {
    const value = block.data[base + k]!;
    if (value !== 0) visit(k, value);
  }
}

/** What one entry of a source row does to the target row: a step's entry kernel. */
type EntryKernel = (step: Step, v: Float64Array, k: number, value: number, acc: Accumulator) => void;

function entryKernel(step: Step, direction: Direction): EntryKernel {
  const rules = rulesOf(step);
  return direction === 'reverse' ? rules.pullEntry : rules.pushEntry;
}

/** A dense source row into a dense target row at once; false when the step has no such kernel. */
type WholeRowKernel = (source: Float64Array, target: Float64Array) => boolean;

/** The step's whole-row kernel, with its scratch, where its kind has one. */
function wholeRowKernel(step: Step, direction: Direction, v: Float64Array): WholeRowKernel | null {
  const rules = rulesOf(step);
  if (rules.denseRow === undefined) return null;
  const denseRow = rules.denseRow.bind(rules);
  const scratch = new Float64Array(rules.scratchSize(step));
  return (source, target) => denseRow(step, direction, v, source, target, scratch);
}

/**
 * The terms of a sum over more than SUM_BLOCK entries (a step that `sumsEntries`), one sum per block of SUM_BLOCK
 * source entries, added to the target after the row in block order: the blocks of ops/sums.ts, as the vector
 * kernels form them.
 */
class BlockSums implements Accumulator {
  /** The block of the entry being applied. */
  block = 0;
  private target = 0;
  private readonly sums: Float64Array;
  private readonly touched: Uint8Array;

  constructor(sourceSize: number) {
    this.sums = new Float64Array(Math.ceil(sourceSize / SUM_BLOCK));
    this.touched = new Uint8Array(this.sums.length);
  }

  add(k: number, value: number): void {
    this.target = k;
    this.sums[this.block]! += value;
    this.touched[this.block] = 1;
  }

  /** Adds the blocks' sums to `acc` in order, those no term reached left out, and clears. */
  flushInto(acc: Accumulator): void {
    for (let b = 0; b < this.sums.length; b++) {
      if (this.touched[b]) acc.add(this.target, this.sums[b]!);
      this.sums[b] = 0;
      this.touched[b] = 0;
    }
  }
}

/** BlockSums for a step that sums more than SUM_BLOCK entries in `direction`, else null. */
function blockSumsFor(step: Step, direction: Direction): BlockSums | null {
  const sourceSize = (direction === 'reverse' ? step.out : step.arg).size;
  return sourceSize > SUM_BLOCK && rulesOf(step).sumsEntries(step, direction) ? new BlockSums(sourceSize) : null;
}

/** Applies `step` to every nonzero of row i of `source`; `diagonal`: the step's, if it is one. */
function applyRow(
  step: Step,
  v: Float64Array,
  source: Block | undefined,
  i: number,
  acc: Accumulator,
  apply: EntryKernel,
  diagonal: Operand | null,
  wholeRow: WholeRowKernel | null,
  blockSums: BlockSums | null,
): void {
  if (source === undefined) return;
  if (blockSums !== null) {
    if (source instanceof SparseRows) {
      for (let e = source.rowStart[i]!; e < source.rowStart[i + 1]!; e++) {
        const k = source.colIndex[e]!;
        blockSums.block = Math.floor(k / SUM_BLOCK);
        apply(step, v, k, source.values[e]!, blockSums);
      }
    } else {
      const base = i * source.cols;
      for (let k = 0; k < source.cols; k++) {
        const value = source.data[base + k]!;
        blockSums.block = Math.floor(k / SUM_BLOCK);
        if (value !== 0) apply(step, v, k, value, blockSums);
      }
    }
    blockSums.flushInto(acc);
    return;
  }
  if (source instanceof SparseRows) {
    for (let e = source.rowStart[i]!; e < source.rowStart[i + 1]!; e++)
      apply(step, v, source.colIndex[e]!, source.values[e]!, acc);
    return;
  }
  const { data, cols } = source;
  const base = i * cols;
  if (wholeRow !== null && acc instanceof DenseRowAccumulator) {
    const target = acc.data.subarray(acc.base, acc.base + acc.cols);
    if (wholeRow(data.subarray(base, base + cols), target)) return;
  }
  if (acc instanceof DenseRowAccumulator && diagonal !== null) {
    // Dense into dense through a diagonal: one scaled copy of the row.
    const target = acc.data;
    const sd = diagonal.size === 1 ? 0 : 1;
    for (let k = 0; k < cols; k++) target[acc.base + k]! += times(data[base + k]!, v[diagonal.offset + sd * k]!);
    return;
  }
  for (let k = 0; k < cols; k++) {
    const value = data[base + k]!;
    if (value !== 0) apply(step, v, k, value, acc);
  }
}

export interface BlockEdge {
  readonly node: NodeId;
  readonly arg: NodeId;
  readonly step: Step;
}

/** What a block pass starts from and where it goes. */
export interface BlockPassInput {
  /** 'reverse': blocks start as seeds on the output and flow to the arguments; 'forward': from the inputs on. */
  readonly direction: Direction;
  /** The values of the forward pass (the partials' numbers). */
  readonly values: Float64Array;
  readonly active: readonly NodeId[];
  readonly edges: readonly BlockEdge[];
  readonly operand: (id: NodeId) => Operand;
  readonly seeds: ReadonlyMap<NodeId, Block>;
  readonly rows: number;
  /** The nodes whose blocks are returned. */
  readonly ends: readonly NodeId[];
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * The most entries one block may hold, counted as its rows are written (a dense block is not made past it):
   * past it `refuse` is called (and throws), so a block too large for memory is refused before it is built.
   */
  readonly budget?: { readonly maxEntries: number; readonly refuse: (entries: number) => never };
}

/** One block pass: the blocks of `ends`. */
export function blockPass(input: BlockPassInput): Map<NodeId, Block> {
  const { direction, values: v, active, edges, operand, seeds, rows, ends, onProgress } = input;
  const blocks = new Map<NodeId, Block>(seeds);
  // The edges that feed each node's block, and how many blocks still need each block.
  const feeding = new Map<NodeId, BlockEdge[]>();
  const uses = new Map<NodeId, number>();
  for (const edge of edges) {
    const [target, source] = direction === 'reverse' ? [edge.arg, edge.node] : [edge.node, edge.arg];
    const list = feeding.get(target);
    if (list === undefined) feeding.set(target, [edge]);
    else list.push(edge);
    uses.set(source, (uses.get(source) ?? 0) + 1);
  }
  const sourceOf = (edge: BlockEdge) => (direction === 'reverse' ? edge.node : edge.arg);
  const settle = (target: NodeId, block: Block, incoming: readonly BlockEdge[]) => {
    blocks.set(target, block);
    // A block no longer needed is dropped, so memory follows the live part of the graph.
    for (const edge of incoming) {
      const source = sourceOf(edge);
      const left = (uses.get(source) ?? 1) - 1;
      uses.set(source, left);
      if (left === 0 && !ends.includes(source)) blocks.delete(source);
    }
  };
  const order = direction === 'reverse' ? [...active].reverse() : active;
  let done = 0;
  for (const target of order) {
    onProgress?.(done++, order.length);
    const incoming = feeding.get(target);
    if (incoming === undefined || blocks.has(target)) continue;
    const size = operand(target).size;
    const sources = incoming.map((e) => blocks.get(sourceOf(e)));
    const steps = incoming.map((e) => e.step);
    const diagonals = steps.map((step) => rulesOf(step).diagonal(step));
    const shared = sharedBlock(diagonals, sources, v, size) ?? scaledBlock(diagonals, sources, v);
    if (shared !== null) {
      settle(target, shared, incoming);
      continue;
    }
    const kernels = steps.map((step) => entryKernel(step, direction));
    const wholeRows = steps.map((step) => wholeRowKernel(step, direction, v));
    const blockSums = steps.map((step) => blockSumsFor(step, direction));
    const fills = steps.some(
      (step, s) =>
        sources[s] instanceof DenseRows || (sources[s] !== undefined && rulesOf(step).spreads(step, direction)),
    );
    const applyAll = (i: number, acc: Accumulator) => {
      for (let s = 0; s < steps.length; s++)
        applyRow(steps[s]!, v, sources[s], i, acc, kernels[s]!, diagonals[s]!, wholeRows[s]!, blockSums[s]!);
    };
    let block: Block;
    const maxEntries = input.budget?.maxEntries ?? Infinity;
    if (fills && rows * size <= Math.min(DENSE_MAX_ENTRIES, maxEntries)) {
      const dense = new DenseRows(rows, size);
      const acc = new DenseRowAccumulator(dense.data, size);
      for (let i = 0; i < rows; i++) applyAll(i, acc.at(i));
      block = dense;
    } else {
      let estimate = sources.reduce((total, s) => total + (s?.nonzeros ?? 0), 0);
      const acc = new RowAccumulator(size);
      if (input.budget !== undefined && fills && rows * size > maxEntries) {
        // Rows that fill up may pass the budget: counted first, without memory, so that a block too large is
        // refused before anything is written, and one that fits is allocated once at its size.
        estimate = 0;
        for (let i = 0; i < rows; i++) {
          applyAll(i, acc);
          estimate += acc.clear();
          if (estimate > maxEntries) input.budget.refuse(estimate);
        }
      }
      const writer = new RowWriter(rows, size, Math.min(estimate, maxEntries), maxEntries);
      for (let i = 0; i < rows; i++) {
        applyAll(i, acc);
        // Checked before the row is written, so the writer never grows past the budget.
        if (writer.length + acc.length > maxEntries) input.budget?.refuse(writer.length + acc.length);
        acc.flush(writer);
      }
      block = writer.finish();
    }
    settle(target, block, incoming);
  }
  return new Map(ends.flatMap((id) => (blocks.has(id) ? [[id, blocks.get(id)!] as const] : [])));
}

/**
 * A block that can be passed on as it is: one incoming edge whose partial is
 * the identity (a reshape, `+` with one varying side). Blocks are never
 * changed once built, so sharing one is safe.
 */
function sharedBlock(
  diagonals: readonly (Operand | null)[],
  sources: readonly (Block | undefined)[],
  v: Float64Array,
  size: number,
): Block | null {
  const [diagonal] = diagonals;
  const source = sources[0];
  if (diagonals.length !== 1 || source === undefined || source.cols !== size || !diagonal) return null;
  return diagonal.size === 1 && v[diagonal.offset] === 1 ? source : null;
}

/**
 * Through a diagonal a sparse block keeps its pattern: only its values are
 * scaled, so the index arrays are shared and nothing is accumulated.
 */
function scaledBlock(
  diagonals: readonly (Operand | null)[],
  sources: readonly (Block | undefined)[],
  v: Float64Array,
): Block | null {
  const [diagonal] = diagonals;
  const source = sources[0];
  if (diagonals.length !== 1 || !(source instanceof SparseRows) || !diagonal) return null;
  const { offset, size } = diagonal;
  const values = new Float64Array(source.values.length);
  for (let e = 0; e < values.length; e++)
    values[e] = times(source.values[e]!, v[offset + (size === 1 ? 0 : source.colIndex[e]!)]!);
  return new SparseRows(source.rows, source.cols, source.rowStart, source.colIndex, values);
}

/** Dense blocks up to this many entries (2 GiB at 8 bytes each); larger ones stay sparse. */
const DENSE_MAX_ENTRIES = 2 ** 28;
