/** out[map.to[j]] += in[map.from[j]]: indexing, transposition, literals, broadcasting. */
import { adjointMap } from '../../graph/index-maps.js';
import { addMap, addRun, runsOf, type IndexMap, type Operand } from '../../ops/index.js';
import { groupByKey, type Groups } from '../group.js';
import type { Accumulator, Direction, LinearKind, SelectStep } from './types.js';

/** The positions j of a map grouped by output entry (reverse) or input entry (forward), built once per map. */
const groups = new WeakMap<IndexMap, { reverse?: Groups; forward?: Groups }>();
function grouped(step: SelectStep, direction: Direction): Groups {
  const { map } = step;
  let entry = groups.get(map);
  if (entry === undefined) groups.set(map, (entry = {}));
  if (direction === 'reverse') return (entry.reverse ??= groupByKey(map.to, step.out.size));
  return (entry.forward ??= groupByKey(map.from, step.arg.size));
}

/** Adds `value` at every target entry that source entry k moves to. */
function move(step: SelectStep, direction: Direction, k: number, value: number, acc: Accumulator): void {
  const { start, order } = grouped(step, direction);
  const target = direction === 'reverse' ? step.map.from : step.map.to;
  for (let p = start[k]!; p < start[k + 1]!; p++) acc.add(target[order[p]!]!, value);
}

/** Where a run's stretch starts on each side, in its triple (to, from, length). */
const TO = 0;
const FROM = 1;
/** disjointOrder's findings, by side. */
const stretchOrders = [new WeakMap<Int32Array, Int32Array | null>(), new WeakMap<Int32Array, Int32Array | null>()];

/**
 * The runs (their places in `runs`) in the order of their stretches on one side, when no two of those stretches
 * meet; null when two do (an entry reached twice on that side). Found once per runs and side.
 */
function disjointOrder(runs: Int32Array, side: typeof TO | typeof FROM): Int32Array | null {
  const known = stretchOrders[side]!.get(runs);
  if (known !== undefined) return known;
  const byStart: number[] = [];
  for (let r = 0; r < runs.length; r += 3) byStart.push(r);
  byStart.sort((a, b) => runs[a + side]! - runs[b + side]!);
  const disjoint = byStart.every(
    (r, q) => q === 0 || runs[byStart[q - 1]! + side]! + runs[byStart[q - 1]! + 2]! <= runs[r + side]!,
  );
  const order = disjoint ? Int32Array.from(byStart) : null;
  stretchOrders[side]!.set(runs, order);
  return order;
}

/**
 * A map's injection from its runs, source entry to target entry, forward from `from` to `to` (backward the other
 * way): null when two runs share a source or a target entry. A slice is one run: its injection is filled run by
 * run, with no entry looked up twice.
 */
function injectionOfRuns(runs: Int32Array, forward: boolean, sourceSize: number): Int32Array | null {
  if (disjointOrder(runs, TO) === null || disjointOrder(runs, FROM) === null) return null;
  const [sourceAt, targetAt] = forward ? [FROM, TO] : [TO, FROM];
  const target = new Int32Array(sourceSize).fill(-1);
  for (let r = 0; r < runs.length; r += 3) {
    const source = runs[r + sourceAt]!;
    const to = runs[r + targetAt]!;
    for (let k = 0; k < runs[r + 2]!; k++) target[source + k] = to + k;
  }
  return target;
}

/**
 * v[target + map.to[j]] = 0 + v[source + map.from[j]] for every j, and 0 on the target's entries no run reaches:
 * the pass's clearing and addMap in one, bit for bit (0 + x turns -0 into 0 as the sum did). A map that reaches an
 * entry twice, or has no runs, clears its target and adds.
 */
function writeMap(v: Float64Array, target: Operand, source: number, map: IndexMap): void {
  const o = target.offset;
  const runs = runsOf(map);
  const order = runs === null ? null : disjointOrder(runs, TO);
  if (runs === null || order === null) {
    v.fill(0, o, o + target.size);
    addMap(v, o, source, map);
    return;
  }
  let end = 0;
  for (let q = 0; q < order.length; q++) {
    const r = order[q]!;
    const to = runs[r]!;
    const from = source + runs[r + 1]!;
    const length = runs[r + 2]!;
    if (to > end) v.fill(0, o + end, o + to);
    for (let k = 0; k < length; k++) v[o + to + k] = 0 + v[from + k]!;
    end = to + length;
  }
  if (end < target.size) v.fill(0, o + end, o + target.size);
}

export const select: LinearKind<'select'> = {
  reads: () => [],
  step: (partial, out, arg) => ({ kind: 'select', out, arg, map: partial.map }),
  transpose: (b, partial, _node, arg, cotangent) =>
    b.apply('select', [cotangent], { kind: 'select', shape: b.shapeOf(arg), map: adjointMap(partial.map) }),

  pullback(step, _v, cotangent) {
    const o = step.out.offset;
    const a = step.arg.offset;
    const runs = runsOf(step.map);
    if (runs !== null) {
      for (let r = 0; r < runs.length; r += 3) addRun(cotangent, a + runs[r + 1]!, o + runs[r]!, runs[r + 2]!);
      return;
    }
    const { to, from } = step.map;
    for (let j = 0; j < to.length; j++) cotangent[a + from[j]!]! += cotangent[o + to[j]!]!;
  },
  pushforward: (step, _v, tangent) => addMap(tangent, step.out.offset, step.arg.offset, step.map),
  pushforwardFirst: (step, _v, tangent) => writeMap(tangent, step.out, step.arg.offset, step.map),
  pullbackFirst: (step, _v, cotangent) => writeMap(cotangent, step.arg, step.out.offset, adjointMap(step.map)),
  pullEntry: (step, _v, k, g, acc) => move(step, 'reverse', k, g, acc),
  pushEntry: (step, _v, k, t, acc) => move(step, 'forward', k, t, acc),
  spreads: () => false,
  sumsEntries: () => false,
  diagonal: () => null,
  reach: (step, direction, _v, k, _cutAtZeros, acc) => move(step, direction, k, 1, acc),
  reachTable(step, direction) {
    const { start, order } = grouped(step, direction);
    const target = direction === 'reverse' ? step.map.from : step.map.to;
    const targets = new Int32Array(order.length);
    for (let p = 0; p < order.length; p++) targets[p] = target[order[p]!]!;
    return { start, targets };
  },
  reachInjection(step, direction) {
    const forward = direction === 'forward';
    const runs = runsOf(step.map);
    if (runs !== null) return injectionOfRuns(runs, forward, forward ? step.arg.size : step.out.size);
    const sources = forward ? step.map.from : step.map.to;
    const targets = forward ? step.map.to : step.map.from;
    const target = new Int32Array(forward ? step.arg.size : step.out.size).fill(-1);
    const taken = new Uint8Array(forward ? step.out.size : step.arg.size);
    for (let j = 0; j < sources.length; j++) {
      const k = sources[j]!;
      const t = targets[j]!;
      if (target[k] !== -1 || taken[t] === 1) return null;
      target[k] = t;
      taken[t] = 1;
    }
    return target;
  },
  scratchSize: () => 0,
};
