/**
 * The reverse block pass of a diagonal Jacobian, one vector per block. When
 * every partial is diagonal on vectors of the output's size (element-wise,
 * nothing broadcast), each row of every block holds at most its own entry,
 * so a block is one vector of them. The sums are those of `blockPass`, in
 * its order and with its rules: an exact zero adds nothing, a block passes
 * unchanged through an identity, and a row's sum of exact zero is left out.
 * J is the same to the last bit; the pass only runs less code, which is what
 * a fresh process pays for.
 */
import type { NodeId, Operand } from '../ops/index.js';
import type { BlockEdge } from './blocks.js';
import { rulesOf } from './linear/index.js';
import { times } from './linear/product.js';

/**
 * A Jacobian diagonal by structure (n×n), kept as its n diagonal entries: the n² − n zeros around them are never
 * written (a fresh 8 MB array at n = 1000 costs more in page faults than the whole pass).
 */
export interface DiagonalJacobian {
  readonly n: number;
  readonly diagonal: Float64Array;
}

/** The dense n×n J, row-major, of a diagonal one: what a caller that reads every entry by index gets. */
export function denseDiagonal({ n, diagonal }: DiagonalJacobian): Float64Array {
  const dense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) dense[i * n + i] = diagonal[i]!;
  return dense;
}

/** An edge whose partial is diagonal, with the operand of its diagonal. */
interface DiagonalEdge {
  readonly edge: BlockEdge;
  readonly d: Operand;
}

/**
 * The diagonal of J = ∂output/∂input (both of `size` entries), or null when some partial is not diagonal on
 * vectors of that size: J is then not diagonal by structure, and the block pass computes it.
 */
export function diagonalJacobian(
  values: Float64Array,
  active: readonly NodeId[],
  edges: readonly BlockEdge[],
  output: NodeId,
  input: NodeId,
  size: number,
): Float64Array | null {
  const feeding = new Map<NodeId, DiagonalEdge[]>();
  for (const edge of edges) {
    const { step } = edge;
    const d = rulesOf(step).diagonal(step);
    if (d === null || step.out.size !== size || step.arg.size !== size) return null;
    const list = feeding.get(edge.arg);
    if (list === undefined) feeding.set(edge.arg, [{ edge, d }]);
    else list.push({ edge, d });
  }
  const blocks = new Map<NodeId, Float64Array>([[output, new Float64Array(size).fill(1)]]);
  for (let t = active.length - 1; t >= 0; t--) {
    const target = active[t]!;
    const incoming = feeding.get(target);
    if (incoming === undefined || blocks.has(target)) continue;
    blocks.set(target, targetBlock(values, incoming, blocks, size));
  }
  return blocks.get(input) ?? new Float64Array(size);
}

/** A target's block from the blocks of the nodes it feeds, as blockPass makes it. */
function targetBlock(
  v: Float64Array,
  incoming: readonly DiagonalEdge[],
  blocks: ReadonlyMap<NodeId, Float64Array>,
  size: number,
): Float64Array {
  const first = incoming[0]!;
  const source = blocks.get(first.edge.node);
  const block = new Float64Array(size);
  if (incoming.length === 1 && source !== undefined) {
    const { offset, size: dSize } = first.d;
    // An identity passes the block on as it is (sharedBlock); a diagonal scales its entries (scaledBlock).
    if (dSize === 1 && v[offset] === 1) return source;
    for (let i = 0; i < size; i++) block[i] = times(source[i]!, v[offset + (dSize === 1 ? 0 : i)]!);
    return block;
  }
  // Several edges: each row's entry is the sum of what each edge adds, in the edges' order (RowAccumulator).
  for (const { edge, d } of incoming) {
    const from = blocks.get(edge.node);
    if (from === undefined) continue;
    const stride = d.size === 1 ? 0 : 1;
    for (let i = 0; i < size; i++) {
      const g = from[i]!;
      const partial = v[d.offset + stride * i]!;
      if (g !== 0 && partial !== 0) block[i]! += g * partial;
    }
  }
  return block;
}
