/**
 * Which nodes move with the differentiated inputs: those reached from them
 * through partials that are not zero. A partial's number that does not move
 * (the 0/1 weights of `cond ? a : b`, of max and min) selects; one that
 * moves (the x of x·log(x)) is only zero at this point.
 */
import type { Tape } from '../graph/index.js';
import { OPS, type Builder, type NodeId } from '../ops/index.js';
import { SCALAR, type Shape } from '../shape.js';

/**
 * A builder that builds nothing, for reading which kind of partial a rule
 * gives: the nodes a rule would add get ids past the tape, so the tape that
 * passes and printed graphs see stays as it was.
 */
class DryBuilder implements Builder {
  private next: NodeId;

  constructor(private readonly tape: Tape) {
    this.next = tape.length;
  }

  apply(): NodeId {
    return this.next++;
  }

  scalar(): NodeId {
    return this.next++;
  }

  // Rules read the shapes of the nodes they are given; the shape of a node they add is not needed for its kind.
  shapeOf(id: NodeId): Shape {
    return id < this.tape.length ? this.tape.shape(id) : SCALAR;
  }

  constantValues(id: NodeId): Float64Array | null {
    if (id >= this.tape.length) return null;
    const param = this.tape.param(id);
    return param.kind === 'constant' ? param.values : null;
  }
}

/** For each node of the tape, whether it moves with the nodes `wrt`. */
export function movingNodes(tape: Tape, wrt: readonly NodeId[]): Uint8Array {
  const moving = new Uint8Array(tape.length);
  for (const w of wrt) moving[w] = 1;
  const dry = new DryBuilder(tape);
  for (let id = 0; id < tape.length; id++) {
    if (moving[id]) continue;
    const args = Array.from(tape.args(id));
    const view = { args, out: id, param: tape.param(id) };
    const spec = OPS[tape.op(id)];
    if (args.some((arg, i) => moving[arg] && spec.partial(dry, i, view).kind !== 'zero')) moving[id] = 1;
  }
  return moving;
}

/** A pass step's edge: the (co)tangent of `arg` moves that of `node`. */
interface StepEdge {
  readonly node: NodeId;
  readonly arg: NodeId;
}

/**
 * The steps each mode needs, as indices into `edges` (in tape order): forward mode only those whose
 * node's tangent reaches the output through further steps, reverse mode only those whose argument's
 * cotangent reaches an input of `wrt`. A tangent that only feeds zero partials (the tie weights of min,
 * the 0/1 weights of a condition) is never computed; the (co)tangents passes return are unchanged.
 */
export function neededSteps(
  edges: readonly StepEdge[],
  wrt: readonly NodeId[],
  output: NodeId,
  nodes: number,
): { readonly forward: number[]; readonly reverse: number[] } {
  const feedsOutput = new Uint8Array(nodes);
  feedsOutput[output] = 1;
  const forward: number[] = [];
  for (let s = edges.length - 1; s >= 0; s--) {
    const { node, arg } = edges[s]!;
    if (!feedsOutput[node]) continue;
    feedsOutput[arg] = 1;
    forward.push(s);
  }
  const fedByInputs = new Uint8Array(nodes);
  for (const w of wrt) fedByInputs[w] = 1;
  const reverse: number[] = [];
  for (let s = 0; s < edges.length; s++) {
    const { node, arg } = edges[s]!;
    if (!fedByInputs[arg]) continue;
    fedByInputs[node] = 1;
    reverse.push(s);
  }
  return { forward: forward.reverse(), reverse };
}
