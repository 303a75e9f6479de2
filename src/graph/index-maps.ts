/**
 * The index maps of common 0/1 matrices, for `select` nodes and partials:
 * built in one place so that lowering and differentiation agree on them.
 */
import type { IndexMap } from '../ops/index.js';

/** Entry `offset + k` of the output takes entry k of the input (offset 0: the identity). */
export function identityMap(size: number, offset = 0): IndexMap {
  return {
    to: Int32Array.from({ length: size }, (_, k) => offset + k),
    from: Int32Array.from({ length: size }, (_, k) => k),
  };
}

/** The transpose of a rows×cols row-major matrix: output (j, i) takes input (i, j). */
export function transposeMap(rows: number, cols: number): IndexMap {
  const from = new Int32Array(rows * cols);
  for (let j = 0, k = 0; j < cols; j++) for (let i = 0; i < rows; i++) from[k++] = i * cols + j;
  return { to: Int32Array.from(from, (_, k) => k), from };
}

/** A scalar repeated `size` times. */
export function broadcastMap(size: number): IndexMap {
  return { to: Int32Array.from({ length: size }, (_, k) => k), from: new Int32Array(size) };
}

/** The transpose of the 0/1 matrix a map stands for: what it moves, moved back (a select's pullback). */
export function adjointMap(map: IndexMap): IndexMap {
  return { to: map.from, from: map.to };
}
