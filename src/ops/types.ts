import type { Shape } from '../shape.js';

/** Index of a node on the tape. */
export type NodeId = number;

/** Where a node's values sit in a value buffer, and their shape. */
export interface Operand {
  readonly offset: number;
  readonly size: number;
  readonly shape: Shape;
}

/** A 0/1 matrix given by its nonzeros: entry `to[j]` of the output takes entry `from[j]` of the input. */
export interface IndexMap {
  readonly to: Int32Array;
  readonly from: Int32Array;
}

/** Static data of a node, fixed when the graph is built. */
export type Param =
  | { readonly kind: 'none' }
  | { readonly kind: 'input'; readonly name: string; readonly shape: Shape }
  | { readonly kind: 'constant'; readonly shape: Shape; readonly values: Float64Array }
  | { readonly kind: 'select'; readonly shape: Shape; readonly map: IndexMap }
  | { readonly kind: 'concat'; readonly shape: Shape; readonly maps: readonly IndexMap[] }
  | { readonly kind: 'reshape'; readonly shape: Shape };

export const NO_PARAM: Param = { kind: 'none' };

/**
 * The partial derivative of a node with respect to one of its inputs, as a
 * linear map from the input's tangent to the node's tangent. The numbers it
 * needs are values of other nodes (built by the rule with the same
 * operations, so they can be differentiated again). Reverse mode applies the
 * transpose, forward mode the map itself; both come from this one description.
 */
export type Partial =
  /** The node does not change with this input (comparisons, steps, weights). */
  | { readonly kind: 'zero' }
  /** out[k] = d[k]·in[k]; `d` and `in` may each be a scalar broadcast over the output. */
  | { readonly kind: 'elementwise'; readonly d: NodeId }
  /** out[map.to[j]] += in[map.from[j]]: indexing, transposition, literals, broadcasting. */
  | { readonly kind: 'select'; readonly map: IndexMap }
  /** Scalar out = Σₖ d[k]·in[k]; `d` may be a scalar. */
  | { readonly kind: 'row'; readonly d: NodeId }
  /**
   * The extremes of lines: out[i] is the extreme of line i of the input (its entries i·L … i·L + L − 1, L =
   * in.size / out.size), whose derivative is 1 at its one extreme entry, split evenly among the entries that
   * tie with it (SPEC §6), or 0 for a line with a NaN. `index` (extremeIndex) says which: per line, the
   * extreme entry's position, or a negative code (ops/extremes.ts). `weights` is the same map as numbers
   * of the input's shape (tieWeights), which only the gradient graph reads.
   */
  | { readonly kind: 'extreme'; readonly index: NodeId; readonly weights: NodeId }
  /** out = left · in · right (matrices; either factor may be absent). */
  | { readonly kind: 'matmul'; readonly left: NodeId | null; readonly right: NodeId | null }
  /** out = d · in, with `d` an [outSize, inSize] matrix. */
  | { readonly kind: 'dense'; readonly d: NodeId }
  /**
   * out = ±A⁻¹ · in · right (right absent: the identity), solved with `lu`, the
   * LU factors of the square matrix `a` (never an explicit inverse).
   */
  | {
      readonly kind: 'solve';
      readonly a: NodeId;
      readonly lu: NodeId;
      readonly right: NodeId | null;
      readonly negate: boolean;
    }
  /** Not available (a derivative order the table does not provide); an error if it is needed. */
  | { readonly kind: 'unsupported'; readonly reason: string };

/** What a rule sees of the graph it extends: partial derivatives are built from operations too. */
export interface Builder {
  apply(op: OpName, args: readonly NodeId[], param?: Param): NodeId;
  scalar(value: number): NodeId;
  shapeOf(id: NodeId): Shape;
  /** The values of a constant node, or null for any other node. */
  constantValues(id: NodeId): Float64Array | null;
}

/** A node as a rule sees it: its inputs, itself (the output) and its static data. */
export interface NodeView {
  readonly args: readonly NodeId[];
  readonly out: NodeId;
  readonly param: Param;
}

/** How an operation is shown to users (by `jacobian functions` and in messages). */
export interface Signature {
  /** The name or operator as written in an expression: `sin`, `.*`, `atan2`. */
  readonly label: string;
  /** Present when users can call it by this name as an element-wise function. */
  readonly fn?: { readonly name: string; readonly doc: string; readonly arity: number; readonly args?: string };
}

/** How a point is special for a derivative (SPEC §6, last paragraph). */
export type SpecialKind = 'kink' | 'tie' | 'infinite' | 'domain' | 'threshold';

export interface SpecialPoint {
  readonly kind: SpecialKind;
  /** What the derivative is taken to be there, for people. */
  readonly convention: string;
}

export interface OpSpec extends Signature {
  /** Number of inputs, or 'variadic'. */
  readonly arity: number | 'variadic';
  /** Output shape from input shapes; throws ShapeError naming the operator and the shapes. */
  shape(args: readonly Shape[], param: Param): Shape;
  /** Writes the node's values into `v` at `out` from its inputs' values. */
  value(v: Float64Array, out: Operand, args: readonly Operand[], param: Param): void;
  /** ∂node/∂(input i), built with `b`. */
  partial(b: Builder, i: number, node: NodeView): Partial;
  /**
   * An element-wise operation's function of one entry of each operand (what `value` applies entry by entry),
   * which compiled kernels call by a generated name (engine/compiled.ts). Absent for other operations.
   */
  readonly scalar?: ScalarFunction;
  /**
   * Reports the output entries computed at a special point (a kink, a tie, an
   * infinite derivative, a value outside the domain, a step's threshold),
   * after the forward pass. Absent where the operation has none.
   */
  special?(
    v: Float64Array,
    out: Operand,
    args: readonly Operand[],
    found: (entry: number, point: SpecialPoint) => void,
  ): void;
  /**
   * An element-wise operation's test of one entry (what `special` applies entry by entry), which the kink report
   * calls from a loop of its own (engine/compiled.ts). Absent for other operations.
   */
  readonly specialPoint?: ScalarSpecial;
  /**
   * Its values are finite whatever its operands (a comparison's 0 and 1, a derivative's weights): where a partial
   * reads them, the passes need not look at them for a number that is not finite.
   */
  readonly finiteValues?: true;
  /**
   * For an operation whose output can be one number reduced from all entries of its first operand: how to do
   * that in pieces (on two threads, engine/threads.ts).
   */
  readonly pieces?: PieceReduction;
  /**
   * For an operation with `pieces`: its special points as a reduction in pieces too, where its output is one number
   * (the kink report's question over all entries), and the special point of that number that the fold says.
   */
  readonly specialInPieces?: {
    readonly pieces: PieceReduction;
    point(folded: number): SpecialPoint | null;
  };
}

/**
 * A reduction done piece by piece, in any order and on any thread: each piece of its first operand's entries
 * summarised into `summaryEntries` numbers, then the summaries folded in order into the reduction's number (an
 * operation's: the number its `value` writes, to the bit). `operands` are the offsets of the operands in v (the
 * others are read whole).
 */
export interface PieceReduction {
  readonly summaryEntries: number;
  /** Summarises the entries from..to − 1 of v (of the first operand) into `summaries` from `at`. */
  summarise(
    v: Float64Array,
    operands: readonly number[],
    from: number,
    to: number,
    summaries: Float64Array,
    at: number,
  ): void;
  /** The reduction of the first operand's n entries, from the summaries of its pieces of `pieceEntries` each. */
  fold(v: Float64Array, operands: readonly number[], n: number, pieceEntries: number, summaries: Float64Array): number;
}

/** A function of one entry of each operand of an element-wise operation. */
export type ScalarFunction = (...operands: number[]) => number;
/** Whether an entry of an element-wise operation (its operands' entries, then its own) sits at a special point. */
export type ScalarSpecial = (...entries: number[]) => SpecialPoint | null;

/** An element-wise operation: its scalar function is required, so a new one without it does not compile. */
export interface ElementwiseSpec extends OpSpec {
  readonly scalar: ScalarFunction;
}

export type ElementwiseUnaryName =
  | 'unaryMinus'
  | 'not'
  | 'sin'
  | 'cos'
  | 'tan'
  | 'sec'
  | 'csc'
  | 'cot'
  | 'asin'
  | 'acos'
  | 'atan'
  | 'asec'
  | 'acsc'
  | 'acot'
  | 'atanSlope'
  | 'sinh'
  | 'cosh'
  | 'tanh'
  | 'sech'
  | 'csch'
  | 'coth'
  | 'asinh'
  | 'asinhSlope'
  | 'acosh'
  | 'atanh'
  | 'asech'
  | 'asechSlope'
  | 'oneLessTwiceSquare'
  | 'acsch'
  | 'acoth'
  | 'exp'
  | 'expm1'
  | 'log'
  | 'log1p'
  | 'log2'
  | 'log10'
  | 'sqrt'
  | 'cbrt'
  | 'abs'
  | 'sign'
  | 'square'
  | 'cube'
  | 'floor'
  | 'ceil'
  | 'round'
  | 'fix'
  | 'isZero';

export type ElementwiseBinaryName =
  | 'add'
  | 'subtract'
  | 'dotMultiply'
  | 'dotDivide'
  | 'pow'
  | 'atan2'
  | 'hypot'
  | 'max'
  | 'min'
  | 'logBase'
  | 'nthRoot'
  | 'mod'
  | 'equal'
  | 'unequal'
  | 'smaller'
  | 'larger'
  | 'smallerEq'
  | 'largerEq'
  | 'and'
  | 'or'
  | 'xor'
  | 'strongMultiply'
  | 'maxWeight'
  | 'minWeight';

export type StructuralName = 'input' | 'constant' | 'select' | 'concat' | 'reshape' | 'where';

export type ReductionName =
  | 'sum'
  | 'prod'
  | 'prodOthers'
  | 'prodPairs'
  | 'dot'
  | 'norm2'
  | 'normP'
  | 'matmul'
  | 'det'
  | 'cofactor'
  | 'cofactorJacobian'
  | 'inv';

/** Extremes (ops/extremes.ts): of all entries, of each row, and what their derivatives read. */
export type ExtremeName =
  'maxReduce' | 'minReduce' | 'rowMax' | 'rowMin' | 'extremeIndex' | 'tieWeights' | 'rowMaxWeights' | 'rowMinWeights';

/** The functions models use: activations, the reductions logsumexp and median, log-gamma (ops/activations.ts). */
export type ActivationName =
  | 'erf'
  | 'gaussian'
  | 'sigmoid'
  | 'sigmoidSlope'
  | 'relu'
  | 'heaviside'
  | 'softplus'
  | 'logsumexp'
  | 'stopMax'
  | 'median'
  | 'medianWeights'
  | 'lgamma'
  | 'digamma'
  | 'trigamma';

/** Linear solves and the LU factors they solve with. */
export type SolveName = 'lusolve' | 'luFactor';

export type OpName =
  | ElementwiseUnaryName
  | ElementwiseBinaryName
  | StructuralName
  | ReductionName
  | ExtremeName
  | ActivationName
  | SolveName;
