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
import type { IndexMap, NodeId, Operand } from '../ops/index.js';
import { asRowMajor } from '../shape.js';
import type { Step } from './kernels.js';

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
    const rowStart = new Int32Array(rows + 1);
    for (let i = 0; i < rows; i++) rowStart[i + 1] = rowStart[i]! + (i >= offset && i < offset + cols ? 1 : 0);
    const colIndex = Int32Array.from({ length: cols }, (_, k) => k);
    return new SparseRows(rows, cols, rowStart, colIndex, new Float64Array(cols).fill(1));
  }
}

/** Rows × cols stored densely, row-major: for blocks whose rows fill up (after a matrix product). */
export class DenseRows {
  readonly data: Float64Array;

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {
    this.data = new Float64Array(rows * cols);
  }

  get nonzeros(): number {
    return this.rows * this.cols;
  }
}

export type Block = SparseRows | DenseRows;

/** Where a row's sums go: a sparse accumulator, or straight into a dense block's row. */
interface Accumulator {
  add(k: number, value: number): void;
}

class DenseRowAccumulator implements Accumulator {
  /** Where the current row starts in `block.data`. */
  base = 0;

  constructor(readonly block: DenseRows) {}

  at(row: number): this {
    this.base = row * this.block.cols;
    return this;
  }

  add(k: number, value: number): void {
    this.block.data[this.base + k]! += value;
  }
}

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
  ) {
    this.rowStart = new Int32Array(rows + 1);
    this.colIndex = new Int32Array(Math.max(capacity, 16));
    this.values = new Float64Array(Math.max(capacity, 16));
  }

  push(col: number, value: number): void {
    if (this.count === this.values.length) {
      const colIndex = new Int32Array(2 * this.count);
      colIndex.set(this.colIndex);
      this.colIndex = colIndex;
      const values = new Float64Array(2 * this.count);
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
}

/** For a selection map, the positions j grouped by one side (to or from): CSR over that side's index. */
function groupBy(side: Int32Array, size: number): { start: Int32Array; positions: Int32Array } {
  const start = new Int32Array(size + 1);
  for (const k of side) start[k + 1]!++;
  for (let k = 0; k < size; k++) start[k + 1]! += start[k]!;
  const fill = start.slice(0, size);
  const positions = new Int32Array(side.length);
  side.forEach((k, j) => (positions[fill[k]!++] = j));
  return { start, positions };
}

const groups = new WeakMap<IndexMap, { byTo?: ReturnType<typeof groupBy>; byFrom?: ReturnType<typeof groupBy> }>();
function grouped(map: IndexMap, side: 'byTo' | 'byFrom', size: number): ReturnType<typeof groupBy> {
  const entry = groups.get(map) ?? {};
  groups.set(map, entry);
  return (entry[side] ??= groupBy(side === 'byTo' ? map.to : map.from, size));
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

/** Cotangent g on entry k of the node, pulled back through `step` into `acc` (the argument's). */
function pullEntry(step: Step, v: Float64Array, k: number, g: number, acc: Accumulator): void {
  const { out, arg } = step;
  switch (step.kind) {
    case 'elementwise': {
      const dk = v[step.d.offset + (step.d.size === 1 ? 0 : k)]!;
      if (dk !== 0) acc.add(arg.size === 1 ? 0 : k, g * dk);
      return;
    }
    case 'select': {
      const { start, positions } = grouped(step.map, 'byTo', out.size);
      for (let p = start[k]!; p < start[k + 1]!; p++) acc.add(step.map.from[positions[p]!]!, g);
      return;
    }
    case 'row':
      for (let t = 0; t < arg.size; t++) {
        const dt = v[step.d.offset + (step.d.size === 1 ? 0 : t)]!;
        if (dt !== 0) acc.add(t, g * dt);
      }
      return;
    case 'matmul':
      pullMatmul(step, v, k, g, acc);
      return;
    case 'dense':
      for (let t = 0; t < arg.size; t++) {
        const dt = v[step.d.offset + k * arg.size + t]!;
        if (dt !== 0) acc.add(t, g * dt);
      }
      return;
  }
}

/** Entry k = (ii, jj) of out = L·arg·R with cotangent g, into arg: g·L[ii,:]ᵀ ⊗ R[:,jj]ᵀ. */
function pullMatmul(
  step: Extract<Step, { kind: 'matmul' }>,
  v: Float64Array,
  k: number,
  g: number,
  acc: Accumulator,
): void {
  const [, c] = asRowMajor(step.out.shape);
  const [p, q] = asRowMajor(step.arg.shape);
  const ii = Math.floor(k / c);
  const jj = k % c;
  const { left, right } = step;
  // Without a left factor only row ii of arg is reached; without a right one only column jj.
  const [aFrom, aTo] = left === null ? [ii, ii + 1] : [0, p];
  const [bFrom, bTo] = right === null ? [jj, jj + 1] : [0, q];
  if (acc instanceof DenseRowAccumulator && right === null && left !== null) {
    // The common dense case (a matrix times a vector): one row of L, scaled, straight into the block.
    const { data } = acc.block;
    const lRow = left.offset + ii * p;
    for (let a = 0; a < p; a++) {
      const l = v[lRow + a]!;
      if (l !== 0) data[acc.base + a * q + jj]! += g * l;
    }
    return;
  }
  for (let a = aFrom; a < aTo; a++) {
    const l = left === null ? 1 : v[left.offset + ii * p + a]!;
    if (l === 0) continue;
    for (let b = bFrom; b < bTo; b++) {
      const r = right === null ? 1 : v[right.offset + b * c + jj]!;
      if (r !== 0) acc.add(a * q + b, g * l * r);
    }
  }
}

/** Tangent t on entry k of the argument, pushed forward through `step` into `acc` (the node's). */
function pushEntry(step: Step, v: Float64Array, k: number, t: number, acc: Accumulator): void {
  const { out, arg } = step;
  switch (step.kind) {
    case 'elementwise': {
      const sd = step.d.size === 1 ? 0 : 1;
      if (arg.size === 1 && out.size > 1) {
        for (let o = 0; o < out.size; o++) {
          const d = v[step.d.offset + sd * o]!;
          if (d !== 0) acc.add(o, d * t);
        }
      } else {
        const d = v[step.d.offset + sd * k]!;
        if (d !== 0) acc.add(k, d * t);
      }
      return;
    }
    case 'select': {
      const { start, positions } = grouped(step.map, 'byFrom', arg.size);
      for (let p = start[k]!; p < start[k + 1]!; p++) acc.add(step.map.to[positions[p]!]!, t);
      return;
    }
    case 'row': {
      const d = v[step.d.offset + (step.d.size === 1 ? 0 : k)]!;
      if (d !== 0) acc.add(0, d * t);
      return;
    }
    case 'matmul':
      pushMatmul(step, v, k, t, acc);
      return;
    case 'dense':
      for (let o = 0; o < out.size; o++) {
        const d = v[step.d.offset + o * arg.size + k]!;
        if (d !== 0) acc.add(o, d * t);
      }
      return;
  }
}

/** Whether a partial, applied in this direction, spreads one entry over many: its target's rows fill up. */
function spreads(step: Step, direction: 'reverse' | 'forward'): boolean {
  switch (step.kind) {
    case 'elementwise':
      return direction === 'forward' && step.arg.size === 1 && step.out.size > 1;
    case 'select':
      return false;
    case 'row':
      return direction === 'reverse';
    case 'matmul':
      return step.left !== null || step.right !== null;
    case 'dense':
      return true;
  }
}

/** Entry k = (a, b) of arg with tangent t, into out = L·arg·R: t·L[:,a] ⊗ R[b,:]. */
function pushMatmul(
  step: Extract<Step, { kind: 'matmul' }>,
  v: Float64Array,
  k: number,
  t: number,
  acc: Accumulator,
): void {
  const [r, c] = asRowMajor(step.out.shape);
  const [p, q] = asRowMajor(step.arg.shape);
  const a = Math.floor(k / q);
  const b = k % q;
  const { left, right } = step;
  const [iFrom, iTo] = left === null ? [a, a + 1] : [0, r];
  const [jFrom, jTo] = right === null ? [b, b + 1] : [0, c];
  for (let ii = iFrom; ii < iTo; ii++) {
    const l = left === null ? 1 : v[left.offset + ii * p + a]!;
    if (l === 0) continue;
    for (let jj = jFrom; jj < jTo; jj++) {
      const rr = right === null ? 1 : v[right.offset + b * c + jj]!;
      if (rr !== 0) acc.add(ii * c + jj, t * l * rr);
    }
  }
}

type EntryRule = (step: Step, v: Float64Array, k: number, value: number, acc: Accumulator) => void;

/** Applies `step` to every nonzero of row i of `source`. */
function applyRow(
  step: Step,
  v: Float64Array,
  source: Block | undefined,
  i: number,
  acc: Accumulator,
  apply: EntryRule,
): void {
  if (source === undefined) return;
  if (source instanceof SparseRows) {
    for (let e = source.rowStart[i]!; e < source.rowStart[i + 1]!; e++)
      apply(step, v, source.colIndex[e]!, source.values[e]!, acc);
    return;
  }
  const { data, cols } = source;
  const base = i * cols;
  if (acc instanceof DenseRowAccumulator && step.kind === 'elementwise' && step.arg.size === step.out.size) {
    // Dense into dense through a diagonal: one scaled copy of the row.
    const target = acc.block.data;
    const sd = step.d.size === 1 ? 0 : 1;
    for (let k = 0; k < cols; k++) {
      const value = data[base + k]!;
      const d = v[step.d.offset + sd * k]!;
      if (value !== 0 && d !== 0) target[acc.base + k]! += value * d;
    }
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

/**
 * One block pass. Reverse (`direction` 'reverse'): blocks start as seeds on
 * `start` (the output) and flow to the arguments; forward: seeds on the
 * `start` nodes (the inputs) flow to the nodes. Returns the blocks of `ends`.
 */
export function blockPass(
  direction: 'reverse' | 'forward',
  v: Float64Array,
  active: readonly NodeId[],
  edges: readonly BlockEdge[],
  operand: (id: NodeId) => Operand,
  seeds: ReadonlyMap<NodeId, Block>,
  rows: number,
  ends: readonly NodeId[],
  onProgress?: (done: number, total: number) => void,
): Map<NodeId, Block> {
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
  const apply = direction === 'reverse' ? pullEntry : pushEntry;
  const order = direction === 'reverse' ? [...active].reverse() : active;
  let step = 0;
  for (const target of order) {
    onProgress?.(step++, order.length);
    const incoming = feeding.get(target);
    if (incoming === undefined || blocks.has(target)) continue;
    const size = operand(target).size;
    const sources = incoming.map((e) => blocks.get(sourceOf(e)));
    const shared = sharedBlock(incoming, sources, v, size) ?? scaledBlock(incoming, sources, v);
    if (shared !== null) {
      settle(target, shared, incoming);
      continue;
    }
    const fills = incoming.some(
      (e, s) => sources[s] instanceof DenseRows || (sources[s] !== undefined && spreads(e.step, direction)),
    );
    let block: Block;
    if (fills && rows * size <= DENSE_MAX_ENTRIES) {
      const dense = new DenseRows(rows, size);
      const acc = new DenseRowAccumulator(dense);
      for (let i = 0; i < rows; i++) {
        acc.at(i);
        for (let s = 0; s < incoming.length; s++) applyRow(incoming[s]!.step, v, sources[s], i, acc, apply);
      }
      block = dense;
    } else {
      const estimate = sources.reduce((total, s) => total + (s?.nonzeros ?? 0), 0);
      const writer = new RowWriter(rows, size, estimate);
      const acc = new RowAccumulator(size);
      for (let i = 0; i < rows; i++) {
        for (let s = 0; s < incoming.length; s++) applyRow(incoming[s]!.step, v, sources[s], i, acc, apply);
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
  incoming: readonly BlockEdge[],
  sources: readonly (Block | undefined)[],
  v: Float64Array,
  size: number,
): Block | null {
  const [edge] = incoming;
  const source = sources[0];
  if (incoming.length !== 1 || source === undefined || source.cols !== size) return null;
  const { step } = edge!;
  const identity =
    step.kind === 'elementwise' && step.d.size === 1 && v[step.d.offset] === 1 && step.arg.size === step.out.size;
  return identity ? source : null;
}

/**
 * Through a diagonal (one element-wise edge between equal sizes) a sparse
 * block keeps its pattern: only its values are scaled, so the index arrays
 * are shared and nothing is accumulated.
 */
function scaledBlock(
  incoming: readonly BlockEdge[],
  sources: readonly (Block | undefined)[],
  v: Float64Array,
): Block | null {
  const [edge] = incoming;
  const source = sources[0];
  if (incoming.length !== 1 || !(source instanceof SparseRows)) return null;
  const { step } = edge!;
  if (step.kind !== 'elementwise' || step.arg.size !== step.out.size) return null;
  const { offset, size } = step.d;
  const values = new Float64Array(source.values.length);
  for (let e = 0; e < values.length; e++) {
    const d = v[offset + (size === 1 ? 0 : source.colIndex[e]!)]!;
    // An exact zero on either side gives an exact zero (SPEC §6), never 0·∞.
    values[e] = d === 0 || source.values[e] === 0 ? 0 : source.values[e]! * d;
  }
  return new SparseRows(source.rows, source.cols, source.rowStart, source.colIndex, values);
}

/** Dense blocks up to this many entries (2 GiB at 8 bytes each); larger ones stay sparse. */
const DENSE_MAX_ENTRIES = 2 ** 28;
