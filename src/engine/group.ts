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

/** Items 0…keys.length−1 grouped by their key `keys[item]`, a number in [0, keyCount). */
export function groupByKey(keys: Int32Array, keyCount: number): Groups {
  const start = new Int32Array(keyCount + 1);
  for (const key of keys) start[key + 1]!++;
  for (let k = 0; k < keyCount; k++) start[k + 1]! += start[k]!;
  const fill = start.slice(0, keyCount);
  const order = new Int32Array(keys.length);
  for (let item = 0; item < keys.length; item++) order[fill[keys[item]!]!++] = item;
  return { start, order };
}
