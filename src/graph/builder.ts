/**
 * Builds the tape: checks shapes with the operation table, folds operations
 * on constants, applies a few exact simplifications, and reuses an identical
 * node instead of adding it twice.
 */
import { LimitError, ShapeError, withRemedy } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { NO_PARAM, OPS, type Builder, type NodeId, type Operand, type OpName, type Param } from '../ops/index.js';
import { SCALAR, describeShape, sameShape, sizeOf, type Shape } from '../shape.js';
import { ReuseTable } from './reuse.js';
import { Tape } from './tape.js';

// Constant operands up to this many entries are folded at build time.
const FOLD_MAX_SIZE = 1 << 16;

/** Where a node came from in the source: anything that prints as the subexpression (a mathjs node). */
export interface Origin {
  toString(): string;
}

/**
 * A value outside an operation's domain met while folding constants (sqrt(-4)):
 * the folded node is gone, so the point is kept here to be reported like one
 * on a variable.
 */
export interface FoldedDomainPoint {
  /** The operation, as written: `sqrt`. */
  readonly operation: string;
  readonly source: string;
  readonly convention: string;
  readonly count: number;
}

export class GraphBuilder implements Builder {
  readonly tape = new Tape();
  private readonly reuse = new ReuseTable(this.tape);
  // By node id: the source each node was built for (null for partials), dense so that it costs no entry per node.
  private readonly origins: (Origin | null)[] = [];
  private readonly scalars = new Map<number, NodeId>();
  private currentOrigin: Origin | null = null;
  // The domain points folded into each constant, its folded arguments' included (sqrt(-4) + 1 keeps sqrt's).
  private readonly foldedDomains = new Map<NodeId, readonly FoldedDomainPoint[]>();

  constructor(private readonly maxNodes: number = DEFAULT_LIMITS.maxNodes) {}

  /** Runs `build` with new nodes attributed to `origin` (the innermost call wins). */
  withOrigin<T>(origin: Origin, build: () => T): T {
    const outer = this.currentOrigin;
    this.currentOrigin = origin;
    try {
      return build();
    } finally {
      this.currentOrigin = outer;
    }
  }

  /** The source of a node, or null for nodes the lowerer did not create (partials). */
  originOf(id: NodeId): Origin | null {
    return this.origins[id] ?? null;
  }

  input(name: string, shape: Shape): NodeId {
    if (sizeOf(shape) === 0) throw new ShapeError(`${name} is empty: give it at least one number`);
    return this.add('input', [], shape, { kind: 'input', name, shape });
  }

  constant(values: Float64Array, shape: Shape): NodeId {
    return this.add('constant', [], shape, { kind: 'constant', shape, values });
  }

  scalar(value: number): NodeId {
    // Partials ask for the same few scalars once per edge. The cache holds the node reuse would find (the first
    // scalar constant of that value); a Map takes -0 for 0, so -0 is never cached.
    if (Object.is(value, -0)) return this.constant(Float64Array.of(value), SCALAR);
    const known = this.scalars.get(value);
    if (known !== undefined) return known;
    const id = this.constant(Float64Array.of(value), SCALAR);
    this.scalars.set(value, id);
    return id;
  }

  /** The domain points folded into a constant node: empty for any other node. */
  foldedDomainPoints(id: NodeId): readonly FoldedDomainPoint[] {
    return this.foldedDomains.get(id) ?? [];
  }

  shapeOf(id: NodeId): Shape {
    return this.tape.shape(id);
  }

  /** The values of a constant node, or null for any other node. */
  constantValues(id: NodeId): Float64Array | null {
    const param = this.tape.param(id);
    return param.kind === 'constant' ? param.values : null;
  }

  apply(op: OpName, args: readonly NodeId[], param: Param = NO_PARAM): NodeId {
    const spec = OPS[op];
    if (spec.arity !== 'variadic' && spec.arity !== args.length) {
      throw new Error(`internal: ${op} takes ${spec.arity} arguments, got ${args.length}`);
    }
    const shape = spec.shape(
      args.map((a) => this.tape.shape(a)),
      param,
    );
    if (sizeOf(shape) === 0) {
      throw new ShapeError(
        `${spec.label} gives an empty result from ${args.map((a) => describeShape(this.tape.shape(a))).join(' and ')}`,
      );
    }
    const simpler = this.simplify(op, args, shape, param);
    if (simpler !== null) return simpler;
    if (args.length > 0 && sizeOf(shape) <= FOLD_MAX_SIZE && this.allConstant(args)) {
      return this.fold(op, args, shape, param);
    }
    return this.add(op, args, shape, param);
  }

  private add(op: OpName, args: readonly NodeId[], shape: Shape, param: Param, reusable = true): NodeId {
    const hash = reusable ? this.reuse.hash(op, args, param) : null;
    if (hash !== null) {
      const known = this.reuse.find(hash, op, args, param);
      if (known !== null) return known;
    }
    if (this.tape.length >= this.maxNodes) {
      const { maxNodes } = this;
      throw new LimitError((wording) =>
        withRemedy(`the compute graph needs more than ${maxNodes} nodes`, wording.raise('maxNodes')),
      );
    }
    const id = this.tape.push(op, args, shape, param);
    if (hash !== null) this.reuse.insert(hash, id);
    this.origins.push(this.currentOrigin);
    return id;
  }

  /** Evaluates an operation whose arguments are all constants. */
  private fold(op: OpName, args: readonly NodeId[], shape: Shape, param: Param): NodeId {
    const operands: Operand[] = new Array<Operand>(args.length);
    let offset = 0;
    for (let i = 0; i < args.length; i++) {
      const argShape = this.tape.shape(args[i]!);
      const argSize = sizeOf(argShape);
      operands[i] = { offset, size: argSize, shape: argShape };
      offset += argSize;
    }
    const size = sizeOf(shape);
    const buffer = new Float64Array(offset + size);
    for (let i = 0; i < args.length; i++) buffer.set(this.constantValues(args[i]!)!, operands[i]!.offset);
    const out = { offset, size, shape };
    OPS[op].value(buffer, out, operands, param);
    // Most models fold thousands of constants and none outside a domain: no set of points is made for them.
    const points = this.foldedDomains.size === 0 ? [] : [...new Set(args.flatMap((a) => this.foldedDomainPoints(a)))];
    this.addDomainPoints(points, op, buffer, out, operands);
    const values = buffer.slice(offset);
    if (points.length === 0) return this.constant(values, shape);
    // Not shared with an equal constant (a literal NaN), which would then report this point as its own.
    const id = this.add('constant', [], shape, { kind: 'constant', shape, values }, false);
    this.foldedDomains.set(id, points);
    return id;
  }

  /** Adds to `points` those of a folded operation outside its domain, grouped by convention. */
  private addDomainPoints(
    points: FoldedDomainPoint[],
    op: OpName,
    buffer: Float64Array,
    out: Operand,
    operands: readonly Operand[],
  ): void {
    const spec = OPS[op];
    if (spec.special === undefined) return;
    let counts: Map<string, number> | null = null;
    spec.special(buffer, out, operands, (_entry, point) => {
      if (point.kind !== 'domain') return;
      counts ??= new Map();
      counts.set(point.convention, (counts.get(point.convention) ?? 0) + 1);
    });
    // The origin's text is printed only with a point: constant folding runs thousands of times in a model.
    if (counts === null) return;
    const source = this.currentOrigin?.toString() ?? spec.label;
    for (const [convention, count] of counts as Map<string, number>) {
      points.push({ operation: spec.label, source, convention, count });
    }
  }

  /** Exact identities only: the simplified node has the same values, NaN and signed zeros included. */
  private simplify(op: OpName, args: readonly NodeId[], shape: Shape, param: Param): NodeId | null {
    const a = args[0]!;
    const b = args[1]!;
    switch (op) {
      case 'pow':
        return this.isScalarConstant(b, 1) && this.keeps(a, shape) ? a : null;
      case 'dotMultiply':
      case 'strongMultiply':
        if (this.isScalarConstant(a, 1) && this.keeps(b, shape)) return b;
        if (this.isScalarConstant(b, 1) && this.keeps(a, shape)) return a;
        if (
          op === 'strongMultiply' &&
          shape.length === 0 &&
          (this.isScalarConstant(a, 0) || this.isScalarConstant(b, 0))
        ) {
          return this.scalar(0);
        }
        return null;
      case 'unaryMinus':
        return this.tape.op(a) === 'unaryMinus' ? this.tape.arg(a, 0) : null;
      case 'subtract':
        return this.isScalarConstant(b, 0) && this.keeps(a, shape) ? a : null;
      case 'stopMax': {
        // A line already shifted by its largest finite entry has +0 as its own: x − m ≤ 0, and m − m is +0.
        if (this.tape.op(a) !== 'subtract') return null;
        const shift = this.tape.arg(a, 1);
        return this.tape.op(shift) === 'stopMax' && this.tape.arg(shift, 0) === this.tape.arg(a, 0)
          ? this.scalar(0)
          : null;
      }
      case 'reshape':
        if (this.keeps(a, shape)) return a;
        return this.tape.op(a) === 'reshape' ? this.apply('reshape', [this.tape.arg(a, 0)], param) : null;
      case 'where': {
        const cond = this.constantValues(a);
        if (cond === null || cond.length !== 1) return null;
        const taken = cond[0] !== 0 && !Number.isNaN(cond[0]) ? b : args[2]!;
        return this.keeps(taken, shape) ? taken : null;
      }
      default:
        return null;
    }
  }

  // Methods rather than closures: apply runs once for each node built.
  private keeps(id: NodeId, shape: Shape): boolean {
    return sameShape(this.tape.shape(id), shape);
  }

  private isScalarConstant(id: NodeId, value: number): boolean {
    const c = this.constantValues(id);
    return c !== null && c.length === 1 && Object.is(c[0], value);
  }

  private allConstant(args: readonly NodeId[]): boolean {
    for (const a of args) if (this.tape.param(a).kind !== 'constant') return false;
    return true;
  }
}
