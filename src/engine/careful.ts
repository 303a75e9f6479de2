/**
 * The careful form of the derivative passes, for a point where some partial
 * is infinite or NaN. An entry of J is the sum over paths of the products of
 * the partials along them; a path through an exact-zero partial contributes
 * nothing (SPEC §6: a branch not taken, an entry no path reaches). With
 * finite partials every mode computes that sum. Through an infinite partial
 * every path becomes infinite, so paths of both signs give +∞ and −∞, NaN,
 * even where their finite sum had cancelled to 0 (`log(x - x)`: 1 − 1 before
 * log's 1/0) or not (`log(2x - x)` at 0): the plain passes see that only in
 * the direction that multiplies before it adds. So every (co)tangent entry
 * carries, beside its value, the signs of the finite path products that
 * reached it, and a step through a non-finite partial uses them: then
 * forward, reverse, compressed and one-hot passes all give the sum over
 * paths. The steps go entry by entry through each kind's entry kernel (which,
 * fed 1, adds each nonzero partial entry) over the entries a path reached.
 */
import type { Operand } from '../ops/index.js';
import type { BlockEdge } from './blocks.js';
import type { Accumulator, Direction, StepRules, Step } from './linear/index.js';

const POSITIVE = 1;
const NEGATIVE = 2;
const BOTH = POSITIVE | NEGATIVE;

/** The signs after a negative factor. */
const flipped = (signs: number): number => ((signs & POSITIVE) << 1) | ((signs & NEGATIVE) >> 1);

/** The sign of a seed's finite path (a seed of ±∞ or NaN carries its kind in its value). */
const signOf = (value: number): number => (!Number.isFinite(value) ? 0 : value > 0 ? POSITIVE : NEGATIVE);

/**
 * What an entry (value, signs of its finite paths) contributes through an infinite or NaN partial: each of its
 * paths becomes infinite with its sign times the partial's, and the infinite ones keep theirs.
 */
function throughNonFinite(partial: number, value: number, signs: number): number {
  if (Number.isNaN(value)) return NaN;
  const all = signs | (value === Infinity ? POSITIVE : value === -Infinity ? NEGATIVE : 0);
  if (all === BOTH) return NaN;
  return all === NEGATIVE ? -partial : partial;
}

/** Careful passes over one buffer layout: the signs and the reached entries, listed per node, beside the values. */
export class CarefulPasses implements Accumulator {
  private readonly signs: Uint8Array;
  private readonly reached: Uint8Array;
  /** The next reached entry of the same node: each node's reached entries form a list from `first`. */
  private readonly next: Int32Array;
  private readonly first: Int32Array;
  /** Nodes with reached entries, to clear. */
  private readonly touched: Int32Array;
  private touchedCount = 0;
  /** The step being applied: its target buffer and node, and the source entry's value and signs. */
  private buffer: Float64Array = new Float64Array(0);
  private targetNode = 0;
  private targetOffset = 0;
  private value = 0;
  private valueSigns = 0;

  constructor(bufferSize: number, nodes: number) {
    this.signs = new Uint8Array(bufferSize);
    this.reached = new Uint8Array(bufferSize);
    this.next = new Int32Array(bufferSize);
    this.first = new Int32Array(nodes).fill(-1);
    this.touched = new Int32Array(nodes);
  }

  /** Starts a pass on `buffer` (its values already cleared) with the seeds in place: nonzero entries of `seeded`. */
  start(buffer: Float64Array, seeded: readonly (readonly [node: number, operand: Operand])[]): void {
    for (let t = 0; t < this.touchedCount; t++) {
      const node = this.touched[t]!;
      for (let e = this.first[node]!; e >= 0; e = this.next[e]!) {
        this.reached[e] = 0;
        this.signs[e] = 0;
      }
      this.first[node] = -1;
    }
    this.touchedCount = 0;
    this.buffer = buffer;
    for (const [node, { offset, size }] of seeded) {
      this.targetNode = node;
      for (let e = offset; e < offset + size; e++) {
        if (buffer[e] === 0) continue;
        this.signs[e] = signOf(buffer[e]!);
        this.mark(e);
      }
    }
  }

  /** Applies `steps` (in tape order, with their edges and kernels) in `direction`, over the reached entries. */
  run(
    direction: Direction,
    v: Float64Array,
    steps: readonly Step[],
    edges: readonly BlockEdge[],
    kernels: readonly StepRules<Step>[],
  ): void {
    const reverse = direction === 'reverse';
    const count = steps.length;
    for (let n = 0; n < count; n++) {
      const s = reverse ? count - 1 - n : n;
      const step = steps[s]!;
      const edge = edges[s]!;
      const [source, target] = reverse ? [step.out, step.arg] : [step.arg, step.out];
      const from = this.first[reverse ? edge.node : edge.arg]!;
      if (from < 0) continue;
      this.targetNode = reverse ? edge.arg : edge.node;
      this.targetOffset = target.offset;
      const rules = kernels[s]!;
      for (let e = from; e >= 0; e = this.next[e]!) {
        this.value = this.buffer[e]!;
        this.valueSigns = this.signs[e]!;
        if (reverse) rules.pullEntry(step, v, e - source.offset, 1, this);
        else rules.pushEntry(step, v, e - source.offset, 1, this);
      }
    }
  }

  /** Entry k of the target through a nonzero partial entry `partial` from the current source entry. */
  add(k: number, partial: number): void {
    const e = this.targetOffset + k;
    if (Number.isFinite(partial)) {
      this.buffer[e]! += this.value * partial;
      this.signs[e]! |= partial > 0 ? this.valueSigns : flipped(this.valueSigns);
    } else {
      this.buffer[e]! += throughNonFinite(partial, this.value, this.valueSigns);
    }
    if (!this.reached[e]) this.mark(e);
  }

  private mark(e: number): void {
    const node = this.targetNode;
    this.reached[e] = 1;
    if (this.first[node]! < 0) this.touched[this.touchedCount++] = node;
    this.next[e] = this.first[node]!;
    this.first[node] = e;
  }
}
