/**
 * The compute graph as data: parallel arrays indexed by node id. A node's
 * arguments always have smaller ids, so id order is a topological order: the
 * forward pass is a loop up the tape and the backward pass a loop down it.
 */
import { OP_CODE, OP_NAMES, type NodeId, type OpName, type Param } from '../ops/index.js';
import { sizeOf, type Shape } from '../shape.js';

export class Tape {
  private codes = new Uint16Array(64);
  private argStart = new Int32Array(65);
  private argIds = new Int32Array(128);
  private readonly shapes: Shape[] = [];
  private readonly params: Param[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(op: OpName, args: readonly NodeId[], shape: Shape, param: Param): NodeId {
    const id = this.count;
    for (const a of args) if (!(a >= 0 && a < id)) throw new Error(`internal: argument ${a} of a new node ${id}`);
    if (id + 1 >= this.codes.length) {
      this.codes = grow(this.codes, 2 * this.codes.length);
      this.argStart = grow(this.argStart, 2 * this.argStart.length);
    }
    const start = this.argStart[id]!;
    if (start + args.length > this.argIds.length) this.argIds = grow(this.argIds, 2 * (start + args.length));
    this.argIds.set(args, start);
    this.argStart[id + 1] = start + args.length;
    this.codes[id] = OP_CODE[op];
    this.shapes.push(shape);
    this.params.push(param);
    this.count = id + 1;
    return id;
  }

  op(id: NodeId): OpName {
    return OP_NAMES[this.codes[id]!]!;
  }

  /** The operation's code (OP_CODE), without looking its name up. */
  code(id: NodeId): number {
    return this.codes[id]!;
  }

  args(id: NodeId): Int32Array {
    return this.argIds.subarray(this.argStart[id]!, this.argStart[id + 1]!);
  }

  /** The number of a node's arguments; with `arg`, reads them without a view. */
  argCount(id: NodeId): number {
    return this.argStart[id + 1]! - this.argStart[id]!;
  }

  /** Argument k of a node. */
  arg(id: NodeId, k: number): NodeId {
    return this.argIds[this.argStart[id]! + k]!;
  }

  /** Whether a node's arguments are these, read in place. */
  hasArgs(id: NodeId, args: ArrayLike<NodeId>): boolean {
    const start = this.argStart[id]!;
    if (this.argStart[id + 1]! - start !== args.length) return false;
    for (let k = 0; k < args.length; k++) if (this.argIds[start + k] !== args[k]) return false;
    return true;
  }

  shape(id: NodeId): Shape {
    return this.shapes[id]!;
  }

  size(id: NodeId): number {
    return sizeOf(this.shapes[id]!);
  }

  param(id: NodeId): Param {
    return this.params[id]!;
  }
}

function grow<T extends Uint16Array | Int32Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(length);
  bigger.set(array);
  return bigger;
}
