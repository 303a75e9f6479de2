/**
 * The index maps of common 0/1 matrices, for `select` nodes and partials:
 * built in one place so that lowering and differentiation agree on them.
 */
import type { IndexMap } from '../ops/index.js';

/** offset, offset + 1, …, offset + size - 1. */
export function iota(size: number, offset = 0): Int32Array {
  const list = new Int32Array(size);
  for (let k = 0; k < size; k++) list[k] = offset + k;
  return list;
}

/** Identity maps at least this long are shared while in use: a model may concatenate thousands of equal pieces. */
const SHARED_MIN_SIZE = 256;
const sharedIdentities = new Map<string, WeakRef<IndexMap>>();
const forgetIdentity = new FinalizationRegistry<string>((key) => {
  if (sharedIdentities.get(key)?.deref() === undefined) sharedIdentities.delete(key);
});

/** Entry `offset + k` of the output takes entry k of the input (offset 0: the identity). Never modify it. */
export function identityMap(size: number, offset = 0): IndexMap {
  if (size < SHARED_MIN_SIZE) return newIdentityMap(size, offset);
  const key = `${size}:${offset}`;
  let map = sharedIdentities.get(key)?.deref();
  if (map === undefined) {
    map = newIdentityMap(size, offset);
    sharedIdentities.set(key, new WeakRef(map));
    forgetIdentity.register(map, key);
  }
  return map;
}

function newIdentityMap(size: number, offset: number): IndexMap {
  const from = iota(size);
  return { to: offset === 0 ? from : iota(size, offset), from };
}

/** The transpose of a rows×cols row-major matrix: output (j, i) takes input (i, j). */
export function transposeMap(rows: number, cols: number): IndexMap {
  const from = new Int32Array(rows * cols);
  for (let j = 0, k = 0; j < cols; j++) for (let i = 0; i < rows; i++) from[k++] = i * cols + j;
  return { to: iota(rows * cols), from };
}

/** A scalar repeated `size` times. */
export function broadcastMap(size: number): IndexMap {
  return { to: iota(size), from: new Int32Array(size) };
}

/** Each of `lines` entries repeated `length` times: output entry i·length + j takes input entry i. */
export function repeatMap(lines: number, length: number): IndexMap {
  const from = new Int32Array(lines * length);
  for (let i = 0; i < lines; i++) from.fill(i, i * length, (i + 1) * length);
  return { to: iota(lines * length), from };
}

/** The transpose of the 0/1 matrix a map stands for: what it moves, moved back (a select's pullback). */
export function adjointMap(map: IndexMap): IndexMap {
  return { to: map.from, from: map.to };
}

const composed = new WeakMap<IndexMap, WeakMap<IndexMap, IndexMap | null>>();

/**
 * `outer` after `inner` as one map, when each entry of inner's output (`innerSize` entries) takes exactly one
 * input entry, as in a slice: out[outer.to[j]] takes in[inner.from[q]] where inner.to[q] = outer.from[j]. The
 * result moves the same numbers through one sum of one term instead of two, so values are the same. Null when
 * inner sums or leaves an entry empty. Found once per pair.
 */
export function composeMaps(outer: IndexMap, inner: IndexMap, innerSize: number): IndexMap | null {
  let byOuter = composed.get(inner);
  if (byOuter === undefined) composed.set(inner, (byOuter = new WeakMap()));
  let map = byOuter.get(outer);
  if (map === undefined) byOuter.set(outer, (map = compose(outer, inner, innerSize)));
  return map;
}

function compose(outer: IndexMap, inner: IndexMap, innerSize: number): IndexMap | null {
  if (inner.to.length !== innerSize) return null;
  const source = new Int32Array(innerSize).fill(-1);
  for (let q = 0; q < inner.to.length; q++) {
    if (source[inner.to[q]!] !== -1) return null;
    source[inner.to[q]!] = q;
  }
  const from = new Int32Array(outer.from.length);
  for (let j = 0; j < from.length; j++) from[j] = inner.from[source[outer.from[j]!]!]!;
  return { to: outer.to, from };
}
