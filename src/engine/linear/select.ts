/** out[map.to[j]] += in[map.from[j]]: indexing, transposition, literals, broadcasting. */
import { adjointMap } from '../../graph/index-maps.js';
import { addMap, addRun, runsOf, type IndexMap } from '../../ops/index.js';
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
