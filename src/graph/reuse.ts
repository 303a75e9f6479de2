/**
 * Node reuse (hash-consing): an open-addressing hash table of node ids over
 * typed arrays, keyed by a node's operation, arguments and parameter and
 * compared by content. Building a graph of millions of nodes allocates no key
 * per node, and the table holds two numbers per slot.
 */
import { OP_CODE, type NodeId, type OpName, type Param } from '../ops/index.js';
import { sameShape, type Shape } from '../shape.js';
import type { Tape } from './tape.js';

// Parameters up to this many entries are compared by content; a node with a larger one is never reused.
const KEY_MAX_ENTRIES = 64;
const EMPTY = -1;

// The bits of a number, for hashing it.
const bits = new Float64Array(1);
const bitWords = new Int32Array(bits.buffer);

const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x5bd1e995) ^ (h >>> 15);

// murmur3's finaliser: the table's slot is the hash's low bits, which must depend on every input bit.
function finish(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

function mixShape(h: number, shape: Shape): number {
  h = mix(h, shape.length);
  for (const d of shape) h = mix(h, d);
  return h;
}

function mixNumbers(h: number, values: ArrayLike<number>): number {
  h = mix(h, values.length);
  for (let k = 0; k < values.length; k++) {
    const x = values[k]!;
    // Every NaN is the same parameter (Object.is), whatever its payload.
    bits[0] = Number.isNaN(x) ? NaN : x;
    h = mix(mix(h, bitWords[0]!), bitWords[1]!);
  }
  return h;
}

function mixString(h: number, text: string): number {
  h = mix(h, text.length);
  for (let k = 0; k < text.length; k++) h = mix(h, text.charCodeAt(k));
  return h;
}

/** The hash of a parameter, or null when nodes with it are never reused (too large to compare, or a concat). */
function paramHash(param: Param): number | null {
  switch (param.kind) {
    case 'none':
      return 0;
    case 'input':
      return mixString(1, param.name);
    case 'reshape':
      return mixShape(2, param.shape);
    case 'constant':
      return param.values.length <= KEY_MAX_ENTRIES ? mixNumbers(mixShape(3, param.shape), param.values) : null;
    case 'select':
      return param.map.to.length <= KEY_MAX_ENTRIES
        ? mixNumbers(mixNumbers(mixShape(4, param.shape), param.map.to), param.map.from)
        : null;
    case 'concat':
      return null;
  }
}

const sameNumbers = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return false;
  return true;
};

/** Equal parameters of two nodes of the same operation (both reusable, so never a concat). */
function sameParam(a: Param, b: Param): boolean {
  switch (a.kind) {
    case 'none':
      return b.kind === 'none';
    case 'input':
      return b.kind === 'input' && a.name === b.name;
    case 'reshape':
      return b.kind === 'reshape' && sameShape(a.shape, b.shape);
    case 'constant':
      return b.kind === 'constant' && sameShape(a.shape, b.shape) && sameNumbers(a.values, b.values);
    case 'select':
      return (
        b.kind === 'select' &&
        sameShape(a.shape, b.shape) &&
        sameNumbers(a.map.to, b.map.to) &&
        sameNumbers(a.map.from, b.map.from)
      );
    case 'concat':
      return false;
  }
}

export class ReuseTable {
  // Node ids by slot (EMPTY when free), and each slot's hash, kept so that growing needs no rehashing.
  private ids = new Int32Array(1 << 10).fill(EMPTY);
  private hashes = new Int32Array(1 << 10);
  private used = 0;

  constructor(private readonly tape: Tape) {}

  /**
   * The hash of a node to be built, or null when it is never reused; with `find` and `insert`, so that a
   * node is hashed once whether it is found or added.
   */
  hash(op: OpName, args: ArrayLike<NodeId>, param: Param): number | null {
    const ofParam = paramHash(param);
    if (ofParam === null) return null;
    let h = mix(OP_CODE[op] + 1, args.length);
    for (let k = 0; k < args.length; k++) h = mix(h, args[k]!);
    return finish(mix(h, ofParam));
  }

  /** The node already built with this operation, arguments and parameter, or null. */
  find(hash: number, op: OpName, args: ArrayLike<NodeId>, param: Param): NodeId | null {
    const mask = this.ids.length - 1;
    const code = OP_CODE[op];
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.ids[slot]!;
      if (id === EMPTY) return null;
      if (
        this.hashes[slot] === hash &&
        this.tape.code(id) === code &&
        this.tape.hasArgs(id, args) &&
        sameParam(this.tape.param(id), param)
      ) {
        return id;
      }
    }
  }

  /** Records a new node under its hash (after `find` gave null). */
  insert(hash: number, id: NodeId): void {
    if (2 * (this.used + 1) > this.ids.length) this.grow();
    this.place(hash, id);
    this.used++;
  }

  private place(hash: number, id: NodeId): void {
    const mask = this.ids.length - 1;
    let slot = hash & mask;
    while (this.ids[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.ids[slot] = id;
    this.hashes[slot] = hash;
  }

  private grow(): void {
    const { ids, hashes } = this;
    this.ids = new Int32Array(2 * ids.length).fill(EMPTY);
    this.hashes = new Int32Array(2 * ids.length);
    for (let slot = 0; slot < ids.length; slot++) if (ids[slot] !== EMPTY) this.place(hashes[slot]!, ids[slot]!);
  }
}
