/** Leaves, rearrangements of entries, and the element-wise conditional. */
import { sizeOf } from '../shape.js';
import { elementwiseShape } from './elementwise.js';
import { ZERO, algebra, elementwise, select } from './rules.js';
import type { IndexMap, Operand, OpSpec, Param, StructuralName } from './types.js';

function paramOf<K extends Param['kind']>(param: Param, kind: K): Extract<Param, { kind: K }> {
  if (param.kind !== kind) throw new Error(`internal: expected a ${kind} parameter, got ${param.kind}`);
  return param as Extract<Param, { kind: K }>;
}

/** Maps whose runs average fewer entries than this go entry by entry: each run costs a loop of its own. */
const MIN_RUN_LENGTH = 8;

/**
 * Runs found, by a map's `to` and then its `from` array: a map built again from the same arrays finds them, and so
 * does its adjoint (the same arrays swapped: a select's pullback), whose runs are the map's with to and from
 * swapped (a run's entries are consecutive on both sides, whichever is called which).
 */
const runCache = new WeakMap<Int32Array, WeakMap<Int32Array, Int32Array | null>>();

/**
 * A map as runs, packed as triples (to, from, length): each moves `length` consecutive entries to consecutive
 * entries, and the runs follow the map's order, so a kernel over runs adds in the same order as one over
 * entries. Null when the runs are too short to pay for their loops (transpositions, broadcast scalars).
 * Found once per map and its adjoint.
 */
export function runsOf(map: IndexMap): Int32Array | null {
  const { to, from } = map;
  const known = runCache.get(to)?.get(from);
  if (known !== undefined) return known;
  const adjoint = runCache.get(from)?.get(to);
  const runs =
    adjoint === undefined
      ? runsUpTo(map, Math.floor(to.length / MIN_RUN_LENGTH))
      : adjoint === null
        ? null
        : swappedRuns(adjoint);
  let byFrom = runCache.get(to);
  if (byFrom === undefined) runCache.set(to, (byFrom = new WeakMap()));
  byFrom.set(from, runs);
  return runs;
}

/** Runs with their two sides swapped: an adjoint map's. */
function swappedRuns(runs: Int32Array): Int32Array {
  const swapped = new Int32Array(runs.length);
  for (let r = 0; r < runs.length; r += 3) {
    swapped[r] = runs[r + 1]!;
    swapped[r + 1] = runs[r]!;
    swapped[r + 2] = runs[r + 2]!;
  }
  return swapped;
}

/**
 * A map's runs as runsOf packs them, found anew, or null when there are more than `most`: one pass, which stops
 * as soon as they are too many (a broadcast's every entry starts one).
 */
export function runsUpTo({ to, from }: IndexMap, most: number): Int32Array | null {
  const runs = new Int32Array(3 * most);
  let r = -3;
  for (let j = 0; j < to.length; j++) {
    const target = to[j]!;
    const source = from[j]!;
    if (j === 0 || target !== to[j - 1]! + 1 || source !== from[j - 1]! + 1) {
      r += 3;
      if (r >= 3 * most) return null;
      runs[r] = target;
      runs[r + 1] = source;
    }
    runs[r + 2]!++;
  }
  return runs.slice(0, r + 3);
}

/**
 * How the maps of a select or concat node fill its output: when no entry takes more than one input entry,
 * the sum an entry starts at -0 is a copy (-0 + x is x, bit for bit), and only the `gaps` no map reaches,
 * packed as pairs (start, length), keep the -0.
 */
interface Placement {
  /** One map per argument. */
  readonly maps: readonly IndexMap[];
  readonly copies: boolean;
  readonly gaps: Int32Array;
}

const placements = new WeakMap<Param, Placement>();

function placementOf(param: Param, size: number): Placement {
  let placement = placements.get(param);
  if (placement === undefined) {
    const maps = param.kind === 'select' ? [param.map] : paramOf(param, 'concat').maps;
    placements.set(param, (placement = findPlacement(maps, size)));
  }
  return placement;
}

function findPlacement(maps: readonly IndexMap[], size: number): Placement {
  const stretches = writtenStretches(maps);
  return stretches === null ? placeByEntries(maps, size) : placeByStretches(maps, size, stretches);
}

/** The output stretches the maps write, as [start, length], from their runs; null for a long map without runs. */
function writtenStretches(maps: readonly IndexMap[]): [number, number][] | null {
  const stretches: [number, number][] = [];
  for (const map of maps) {
    const runs = runsOf(map);
    if (runs !== null) for (let r = 0; r < runs.length; r += 3) stretches.push([runs[r]!, runs[r + 2]!]);
    else if (map.to.length <= MIN_RUN_LENGTH) for (const to of map.to) stretches.push([to, 1]);
    else return null;
  }
  return stretches;
}

function placeByStretches(maps: readonly IndexMap[], size: number, stretches: [number, number][]): Placement {
  stretches.sort((a, b) => a[0] - b[0]);
  const gaps: number[] = [];
  let end = 0;
  for (const [start, length] of stretches) {
    if (start < end) return { maps, copies: false, gaps: new Int32Array(0) };
    if (start > end) gaps.push(end, start - end);
    end = start + length;
  }
  if (end < size) gaps.push(end, size - end);
  return { maps, copies: true, gaps: Int32Array.from(gaps) };
}

function placeByEntries(maps: readonly IndexMap[], size: number): Placement {
  const taken = new Uint8Array(size);
  for (const { to } of maps) {
    for (let j = 0; j < to.length; j++) {
      if (taken[to[j]!]) return { maps, copies: false, gaps: new Int32Array(0) };
      taken[to[j]!] = 1;
    }
  }
  const gaps: number[] = [];
  for (let k = 0; k < size; k++) {
    if (taken[k]) continue;
    const start = k;
    while (k + 1 < size && !taken[k + 1]) k++;
    gaps.push(start, k + 1 - start);
  }
  return { maps, copies: true, gaps: Int32Array.from(gaps) };
}

/** Writes each map's input entries to their places in the output, as sums that start at -0. */
function place(v: Float64Array, out: Operand, args: readonly Operand[], param: Param): void {
  const o = out.offset;
  const { maps, copies, gaps } = placementOf(param, out.size);
  if (!copies) {
    v.fill(-0, o, o + out.size);
    for (let i = 0; i < maps.length; i++) addMap(v, o, args[i]!.offset, maps[i]!);
    return;
  }
  for (let g = 0; g < gaps.length; g += 2) v.fill(-0, o + gaps[g]!, o + gaps[g]! + gaps[g + 1]!);
  for (let i = 0; i < maps.length; i++) copyMap(v, o, args[i]!.offset, maps[i]!);
}

function copyMap(v: Float64Array, out: number, arg: number, map: IndexMap): void {
  const runs = runsOf(map);
  if (runs !== null) {
    for (let r = 0; r < runs.length; r += 3) {
      const from = arg + runs[r + 1]!;
      v.copyWithin(out + runs[r]!, from, from + runs[r + 2]!);
    }
    return;
  }
  const { to, from } = map;
  for (let j = 0; j < to.length; j++) v[out + to[j]!] = v[arg + from[j]!]!;
}

/** v[target + k] += v[source + k] for k < length: one run of a map. */
export function addRun(v: Float64Array, target: number, source: number, length: number): void {
  for (let k = 0; k < length; k++) v[target + k]! += v[source + k]!;
}

/** v[out + map.to[j]] += v[arg + map.from[j]] for every j, in the map's order: a select's value and pushforward. */
export function addMap(v: Float64Array, out: number, arg: number, map: IndexMap): void {
  const runs = runsOf(map);
  if (runs !== null) {
    for (let r = 0; r < runs.length; r += 3) addRun(v, out + runs[r]!, arg + runs[r + 1]!, runs[r + 2]!);
    return;
  }
  const { to, from } = map;
  for (let j = 0; j < to.length; j++) v[out + to[j]!]! += v[arg + from[j]!]!;
}

export const STRUCTURAL: Record<StructuralName, OpSpec> = {
  input: {
    label: 'input',
    arity: 0,
    shape: (_args, param) => paramOf(param, 'input').shape,
    // The engine writes inputs before each forward pass.
    value() {},
    partial: () => ZERO,
  },
  constant: {
    label: 'constant',
    arity: 0,
    shape: (_args, param) => paramOf(param, 'constant').shape,
    value(v, out, _args, param) {
      v.set(paramOf(param, 'constant').values, out.offset);
    },
    partial: () => ZERO,
  },
  /** Gathers (and where the map repeats a target, sums) entries: indexing, transposition, broadcasting. */
  select: {
    label: 'select',
    arity: 1,
    shape: (_args, param) => paramOf(param, 'select').shape,
    value(v, out, args, param) {
      place(v, out, args, param);
    },
    partial: (_b, _i, node) => select(paramOf(node.param, 'select').map),
  },
  /** Array literals: each argument's entries go to their places in the result. */
  concat: {
    label: '[…]',
    arity: 'variadic',
    shape: (_args, param) => paramOf(param, 'concat').shape,
    value(v, out, args, param) {
      place(v, out, args, param);
    },
    partial: (_b, i, node) => select(paramOf(node.param, 'concat').maps[i]!),
  },
  /** The same entries in the same row-major order under another shape. */
  reshape: {
    label: 'reshape',
    arity: 1,
    shape(args, param) {
      const { shape } = paramOf(param, 'reshape');
      if (sizeOf(shape) !== sizeOf(args[0]!)) throw new Error('internal: reshape to a different size');
      return shape;
    },
    value(v, out, args) {
      v.copyWithin(out.offset, args[0]!.offset, args[0]!.offset + out.size);
    },
    partial: (b) => elementwise(b.scalar(1)),
  },
  /** `cond ? a : b` entry by entry; only the branch taken carries a derivative. */
  where: {
    label: '? :',
    arity: 3,
    shape: (args) => elementwiseShape('? :', args),
    value(v, out, args) {
      const [c, a, b] = [args[0]!, args[1]!, args[2]!];
      const sc = c.size === 1 ? 0 : 1;
      const sa = a.size === 1 ? 0 : 1;
      const sb = b.size === 1 ? 0 : 1;
      for (let k = 0; k < out.size; k++) {
        const cond = v[c.offset + sc * k]!;
        v[out.offset + k] = cond !== 0 && !Number.isNaN(cond) ? v[a.offset + sa * k]! : v[b.offset + sb * k]!;
      }
    },
    partial(b, i, node) {
      if (i === 0) return ZERO;
      const A = algebra(b);
      const cond = node.args[0]!;
      return elementwise(i === 1 ? A.where(cond, A.c(1), A.c(0)) : A.where(cond, A.c(0), A.c(1)));
    },
  },
};

export { paramOf };
