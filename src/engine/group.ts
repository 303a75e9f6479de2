/**
 * The counting sort behind every sparse transpose of the engine: items
 * grouped by an integer key, as compressed sparse rows over the keys.
 */

export interface Groups {
  /** The items of key k are `order[start[k]]` up to `order[start[k + 1]]` (exclusive). */
  readonly start: Int32Array;
  /** The items 0…count−1 ordered by key; items of one key keep their order (the sort is stable). */
  readonly order: Int32Array;
}

/** Items 0…count−1 grouped by `keyOf(item)`, a key in [0, keys). */
export function groupByKey(count: number, keys: number, keyOf: (item: number) => number): Groups {
  const start = new Int32Array(keys + 1);
  for (let item = 0; item < count; item++) start[keyOf(item) + 1]!++;
  for (let k = 0; k < keys; k++) start[k + 1]! += start[k]!;
  const fill = start.slice(0, keys);
  const order = new Int32Array(count);
  for (let item = 0; item < count; item++) order[fill[keyOf(item)]!++] = item;
  return { start, order };
}
