/**
 * The lowerer: turns mathjs's syntax tree into graph nodes with shapes.
 * Every construct of SPEC §2 is lowered or refused with a message; shape
 * errors are found here, before any number is computed.
 */
import type { MathNode } from 'mathjs';
import { InputError, LimitError, ShapeError, UnboundNameError, UnsupportedError } from '../errors.js';
import { identityMap, iota, transposeMap } from '../graph/index-maps.js';
import { GraphBuilder } from '../graph/index.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import type { IndexMap, NodeId, OpName } from '../ops/index.js';
import {
  SCALAR,
  asRowMajor,
  describeShape,
  isMatrix,
  isScalar,
  isVector,
  sameShape,
  sizeOf,
  type Shape,
} from '../shape.js';
import { sourceOf, view } from './ast.js';
import { arityText, findFunction, isFunctionName, unknownFunctionMessage } from './catalogue.js';
import { CONSTANTS, isConstantName, literalBindingProblem } from './constants.js';
import type { Lowerer } from './lowerer.js';
import { nestedTooDeeply } from './parser.js';
import { Scope, programNames, statementsOf, type ProgramNames, type UserFunction } from './program.js';

/**
 * A variable the expression may use: its shape, and its value when indices may read it. A constant
 * (with its value) is fixed when compiling: it lowers as a literal, so it may count a recursion.
 */
export interface VariableInfo {
  readonly shape: Shape;
  readonly value?: ArrayLike<number>;
  readonly constant?: boolean;
}

/** A literal range such as 1:n makes a constant vector: up to this many entries. */
const MAX_RANGE_ENTRIES = 1_000_000;

/** Operators of mathjs mapped to element-wise operations of the table. */
const ELEMENTWISE_OPERATORS: Readonly<Record<string, OpName>> = {
  add: 'add',
  subtract: 'subtract',
  dotMultiply: 'dotMultiply',
  dotDivide: 'dotDivide',
  dotPow: 'pow',
  equal: 'equal',
  unequal: 'unequal',
  smaller: 'smaller',
  larger: 'larger',
  smallerEq: 'smallerEq',
  largerEq: 'largerEq',
  and: 'and',
  or: 'or',
  xor: 'xor',
  mod: 'mod',
};

/** mathjs's operators that give booleans: an index made by one is a mask in mathjs. */
const BOOLEAN_OPERATORS = new Set([
  'equal',
  'unequal',
  'smaller',
  'larger',
  'smallerEq',
  'largerEq',
  'and',
  'or',
  'xor',
  'not',
]);

/** Whether an expression is a comparison or a logical operation (mathjs gives booleans). */
function isComparison(node: ReturnType<typeof view>): boolean {
  if (node.type === 'RelationalNode') return true;
  if (node.type === 'OperatorNode') return BOOLEAN_OPERATORS.has(node.fn);
  if (node.type === 'ParenthesisNode') return isComparison(view(node.content));
  return false;
}

/** The graph of an expression: the builder holding its tape, and the node of its value. */
export interface Lowered {
  readonly builder: GraphBuilder;
  readonly output: NodeId;
}

/**
 * Lowers a program: its statements in order, intermediates bound once,
 * functions expanded where they are called. `source` is the text it was
 * parsed from, for the lines and carets of messages.
 */
export function lowerExpression(
  ast: MathNode,
  variables: ReadonlyMap<string, VariableInfo>,
  limits: Limits = DEFAULT_LIMITS,
  source: string | null = null,
): Lowered {
  for (const name of variables.keys()) {
    const problem = literalBindingProblem(name);
    if (problem !== null) throw new InputError(problem);
  }
  const statements = statementsOf(ast, source);
  const lowerer = new TreeLowerer(variables, new GraphBuilder(limits.maxNodes), new Scope(limits.maxDepth, source));
  const { assigned } = programNames(statements);
  let output: NodeId | null = null;
  try {
    for (const statement of statements) {
      switch (statement.kind) {
        case 'expression':
          output = lowerer.lower(statement.node);
          break;
        case 'assignment': {
          if (variables.has(statement.name)) {
            const { name, text } = statement;
            throw lowerer.scope.error(
              (wording) =>
                `${name} is an input with a given value and is assigned in \`${text}\`: ` +
                `rename the intermediate, or ${wording.unbind(name)}`,
              statement.start,
            );
          }
          lowerer.pending = assigned;
          output = lowerer.lower(statement.value);
          lowerer.scope.assign(statement.name, output, statement);
          break;
        }
        case 'function':
          lowerer.scope.define(statement.definition);
          output = null;
          break;
      }
    }
  } catch (error) {
    if (error instanceof RangeError) throw nestedTooDeeply();
    throw error;
  }
  if (output === null) {
    throw new UnsupportedError(
      'the program ends with a function definition: end it with the expression to differentiate, as f(x)',
    );
  }
  return { builder: lowerer.b, output };
}

/** What a body lowers to: its value, or a call in tail position, expanded by the caller's loop. */
type BodyResult =
  | { readonly kind: 'value'; readonly id: NodeId }
  | { readonly kind: 'tail'; readonly fn: UserFunction; readonly args: readonly NodeId[] };

class TreeLowerer implements Lowerer {
  /** Lengths that `end` stands for, innermost index last. */
  private readonly ends: number[] = [];

  /** Names the program assigns, for the message when one is used before its assignment. */
  pending: ProgramNames['assigned'] = new Map();

  /**
   * Index lists of ranges by (length, start, step, count), and gather maps by index list: a model that
   * slices y[1:end-1] in each of many steps builds one list and one map, shared by every slice.
   */
  private readonly rangeLists = new Map<string, Int32Array>();
  private readonly gatherMaps = new WeakMap<Int32Array, IndexMap>();

  constructor(
    private readonly variables: ReadonlyMap<string, VariableInfo>,
    readonly b: GraphBuilder,
    readonly scope: Scope,
  ) {}

  /**
   * Lowers a subexpression. Operators and parentheses nest as deep as a
   * chain is long (mathjs reads x+x+…+x as ((x+x)+x)+…), so their first
   * operands are followed with a loop, not recursion.
   */
  lower(node: MathNode): NodeId {
    const spine: MathNode[] = [];
    let leaf = node;
    for (let n = view(leaf); n.type === 'OperatorNode' || n.type === 'ParenthesisNode'; n = view(leaf)) {
      spine.push(leaf);
      leaf = n.type === 'OperatorNode' ? n.args[0]! : n.content;
    }
    let value = this.located(leaf, () => this.lowerNode(leaf));
    for (let k = spine.length - 1; k >= 0; k--) {
      const link = spine[k]!;
      const n = view(link);
      const first = value;
      if (n.type === 'OperatorNode')
        value = this.located(link, () =>
          this.operator(n.fn, n.op, [first, ...n.args.slice(1).map((a) => this.lower(a))]),
        );
    }
    return value;
  }

  /** Builds with nodes attributed to `node`, and names it in shape errors (the innermost one wins). */
  private located(node: MathNode, build: () => NodeId): NodeId {
    try {
      return this.b.withOrigin(node, build);
    } catch (error) {
      if (error instanceof ShapeError && !error.message.startsWith('in `')) {
        throw new ShapeError(`in \`${sourceOf(node)}\`: ${error.message}`);
      }
      throw error;
    }
  }

  private lowerNode(node: MathNode): NodeId {
    const n = view(node);
    switch (n.type) {
      case 'ConstantNode':
        return this.constant(n.value);
      case 'SymbolNode':
        return this.symbol(n.name);
      case 'FunctionNode':
        return this.call(n.fn, n.args);
      case 'AccessorNode':
        return this.index(this.lower(n.object), n.object, n.index);
      case 'ArrayNode':
        return this.literal(n.items.map((item) => this.lower(item)));
      case 'RangeNode': {
        const { start, step, count } = this.range(
          n.start,
          n.end,
          n.step,
          MAX_RANGE_ENTRIES,
          () => `the limit of ${MAX_RANGE_ENTRIES} for a literal range`,
        );
        const values = new Float64Array(count);
        for (let k = 0; k < count; k++) values[k] = start + k * step;
        return this.b.constant(values, [count]);
      }
      case 'ConditionalNode':
        return this.conditional(n.condition, n.trueExpr, n.falseExpr);
      case 'RelationalNode': {
        const tests = n.conditionals.map((fn, i) =>
          this.elementwise(ELEMENTWISE_OPERATORS[fn]!, fn, [this.lower(n.params[i]!), this.lower(n.params[i + 1]!)]),
        );
        return tests.slice(1).reduce((acc, t) => this.elementwise('and', 'and', [acc, t]), tests[0]!);
      }
      default:
        throw new UnsupportedError(`${(n as { type: string }).type} is not supported`);
    }
  }

  private constant(value: unknown): NodeId {
    if (typeof value === 'number') return this.b.scalar(value);
    if (typeof value === 'boolean') return this.b.scalar(value ? 1 : 0);
    if (typeof value === 'string')
      throw new UnsupportedError(`strings such as "${value}" are not supported (only norm(M, 'fro') takes one)`);
    throw new UnsupportedError(`the constant ${String(value)} is not supported`);
  }

  private symbol(name: string): NodeId {
    const bound = this.scope.lookup(name);
    if (bound !== undefined) return bound;
    const variable = this.variables.get(name);
    if (variable !== undefined) {
      if (variable.constant === true && variable.value !== undefined)
        return this.b.constant(Float64Array.from(variable.value), variable.shape);
      // Inside an index, a variable with a known value is a constant: shapes must be known when lowering.
      if (this.ends.length > 0 && variable.value !== undefined)
        return isScalar(variable.shape)
          ? this.b.scalar(variable.value[0]!)
          : this.b.constant(Float64Array.from(variable.value), variable.shape);
      return this.b.input(name, variable.shape);
    }
    if (name === 'end') {
      if (this.ends.length === 0)
        throw new UnsupportedError('end stands for the last index and only works inside an index, as in x[end]');
      return this.b.scalar(this.ends[this.ends.length - 1]!);
    }
    if (isConstantName(name)) return this.b.scalar(CONSTANTS[name]!);
    if (name === 'i')
      throw new UnsupportedError(
        (wording) =>
          `complex numbers are not supported (i is the imaginary unit); to use i as a variable, ${wording.bind('i')}`,
      );
    if (isFunctionName(name) || this.scope.userFunction(name) !== undefined)
      throw new UnsupportedError(`${name} is a function: call it, as in ${name}(x)`);
    const assignment = this.pending.get(name);
    if (assignment !== undefined)
      throw this.scope.atName(
        `${name} is used before it is assigned in \`${assignment.text}\`: move the assignment before its first use`,
        name,
      );
    throw new UnboundNameError(name);
  }

  private operator(fn: string, op: string, args: readonly NodeId[]): NodeId {
    const [a, b] = [args[0]!, args[1]!];
    const elementwiseOp = ELEMENTWISE_OPERATORS[fn];
    if (elementwiseOp !== undefined) return this.elementwise(elementwiseOp, op, args);
    switch (fn) {
      case 'multiply':
        return this.multiply(a, b);
      case 'divide':
        return this.divide(a, b);
      case 'pow':
        return this.power(a, b);
      case 'unaryMinus':
        return this.b.apply('unaryMinus', [a]);
      case 'unaryPlus':
        return a;
      case 'not':
        return this.b.apply('not', [a]);
      case 'transpose':
      case 'ctranspose':
        return this.transpose(a);
      default:
        if (fn === 'factorial')
          throw new UnsupportedError(
            'the factorial s! is not supported: it is gamma(s + 1), which the language lacks; for an integer n, write prod(1:n)',
          );
        throw new UnsupportedError(`the operator ${op} (${fn}) is not supported`);
    }
  }

  private call(fnNode: MathNode, argNodes: readonly MathNode[]): NodeId {
    const fn = view(fnNode);
    if (fn.type !== 'SymbolNode')
      throw new UnsupportedError(`calling ${sourceOf(fnNode)} is not supported: only named functions can be called`);
    const name = fn.name;
    const user = this.scope.userFunction(name);
    if (user !== undefined)
      return this.callUser(
        user,
        argNodes.map((a) => this.lower(a)),
      );
    if (name === 'map') return this.map(argNodes);
    // mathjs's pow is its ^: the matrix power of a square matrix.
    if (name === 'pow' && argNodes.length === 2) return this.power(this.lower(argNodes[0]!), this.lower(argNodes[1]!));
    const found = findFunction(name);
    if (found?.kind === 'language') {
      const { minArgs, maxArgs, usage } = found.definition;
      if (argNodes.length < minArgs || argNodes.length > maxArgs) {
        throw new UnsupportedError(`${name} takes ${arityText(minArgs, maxArgs)}, got ${argNodes.length}: ${usage}`);
      }
      return found.definition.lower(this, argNodes);
    }
    if (found?.kind === 'table') {
      if (argNodes.length !== found.arity)
        throw new UnsupportedError(`${name} takes ${arityText(found.arity, found.arity)}, got ${argNodes.length}`);
      return this.elementwise(
        found.op,
        name,
        argNodes.map((a) => this.lower(a)),
      );
    }
    const variable = this.variables.get(name);
    if (variable !== undefined) {
      // Parentheses index in MATLAB and Octave: an array variable called so was most likely meant to be indexed.
      const multiply = `${name}*(…) to multiply`;
      const advice =
        variable.shape.length === 0 ? `write ${multiply}` : `write ${name}[…] to index it (from 1), or ${multiply}`;
      throw new UnsupportedError(`${name}(…) calls the variable ${name} as a function: ${advice}`);
    }
    throw new UnsupportedError(unknownFunctionMessage(name));
  }

  elementwise(op: OpName, label: string, args: readonly NodeId[]): NodeId {
    const shapes = args.map((a) => this.b.shapeOf(a));
    const target = broadcastShape(label, shapes);
    return this.b.apply(
      op,
      args.map((a, i) => (isScalar(shapes[i]!) || sameShape(shapes[i]!, target) ? a : this.broadcast(a, target))),
    );
  }

  /** Repeats a vector or matrix along its dimensions of length 1 (vectors are rows, as in mathjs). */
  private broadcast(a: NodeId, target: Shape): NodeId {
    const [r, c] = asRowMajor(this.b.shapeOf(a));
    const [rows, cols] = asRowMajor(target);
    const from = new Int32Array(rows * cols);
    for (let i = 0, k = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) from[k++] = (r === 1 ? 0 : i) * c + (c === 1 ? 0 : j);
    return this.gather(a, from, target);
  }

  gather(a: NodeId, from: ArrayLike<number>, shape: Shape): NodeId {
    const list = from instanceof Int32Array ? from : Int32Array.from(from);
    let map = this.gatherMaps.get(list);
    if (map === undefined) this.gatherMaps.set(list, (map = { to: iota(list.length), from: list }));
    return this.b.apply('select', [a], { kind: 'select', shape, map });
  }

  multiply(a: NodeId, b: NodeId): NodeId {
    const [sa, sb] = [this.b.shapeOf(a), this.b.shapeOf(b)];
    if (isScalar(sa) || isScalar(sb)) return this.b.apply('dotMultiply', [a, b]);
    if (isVector(sa) && isVector(sb)) {
      if (sa[0] !== sb[0])
        throw new ShapeError(
          `cannot multiply ${describeShape(sa)} by ${describeShape(sb)}: ` +
            'a vector times a vector is their dot product and needs equal lengths',
        );
      return this.b.apply('dot', [a, b]);
    }
    const reshape = (x: NodeId, shape: Shape) => this.b.apply('reshape', [x], { kind: 'reshape', shape });
    if (isVector(sa)) {
      if (!isMatrix(sb) || sb[0] !== sa[0])
        throw new ShapeError(
          `cannot multiply ${describeShape(sa)} by ${describeShape(sb)}: ` +
            "the vector's length must equal the matrix's rows",
        );
      return reshape(this.b.apply('matmul', [reshape(a, [1, sa[0]]), b]), [sb[1]]);
    }
    if (isVector(sb)) {
      if (!isMatrix(sa) || sa[1] !== sb[0])
        throw new ShapeError(
          `cannot multiply ${describeShape(sa)} by ${describeShape(sb)}: ` +
            "the matrix's columns must equal the vector's length",
        );
      return reshape(this.b.apply('matmul', [a, reshape(b, [sb[0], 1])]), [sa[0]]);
    }
    return this.b.apply('matmul', [a, b]);
  }

  divide(a: NodeId, b: NodeId): NodeId {
    const sb = this.b.shapeOf(b);
    if (isScalar(sb)) return this.b.apply('dotDivide', [a, b]);
    if (isMatrix(sb) && sb[0] === sb[1]) return this.multiply(a, this.b.apply('inv', [b]));
    throw new ShapeError(
      `cannot divide ${describeShape(this.b.shapeOf(a))} by ${describeShape(sb)}: ` +
        '/ divides by a scalar or a square matrix; use ./ to divide element-wise',
    );
  }

  private power(base: NodeId, exponent: NodeId): NodeId {
    const [sb, se] = [this.b.shapeOf(base), this.b.shapeOf(exponent)];
    if (!isScalar(se))
      throw new ShapeError(`cannot raise to the power ${describeShape(se)} with ^: use .^ for element-wise powers`);
    if (isScalar(sb)) return this.b.apply('pow', [base, exponent]);
    if (!isMatrix(sb) || sb[0] !== sb[1])
      throw new ShapeError(
        `cannot raise ${describeShape(sb)} to a power with ^ (it needs a scalar or a square matrix): ` +
          'use .^ for element-wise powers',
      );
    const k = this.b.constantValues(exponent)?.[0] ?? this.givenScalar(exponent);
    if (k === undefined || !Number.isInteger(k))
      throw new UnsupportedError('a matrix power M^k needs a constant integer k, or k given a value as an input');
    return this.matrixPower(k < 0 ? this.b.apply('inv', [base]) : base, Math.abs(k), sb[0]);
  }

  /** The given value of a scalar input (as k in M^k, which fixes the graph), when it has one. */
  private givenScalar(id: NodeId): number | undefined {
    const param = this.b.tape.param(id);
    if (param.kind !== 'input' || !isScalar(param.shape)) return undefined;
    return this.variables.get(param.name)?.value?.[0];
  }

  private matrixPower(base: NodeId, k: number, n: number): NodeId {
    let result: NodeId | null = null;
    let square = base;
    for (let e = k; e > 0; e = Math.floor(e / 2)) {
      if (e % 2 === 1) result = result === null ? square : this.b.apply('matmul', [result, square]);
      if (e > 1) square = this.b.apply('matmul', [square, square]);
    }
    if (result !== null) return result;
    const identity = new Float64Array(n * n);
    for (let i = 0; i < n; i++) identity[i * n + i] = 1;
    return this.b.constant(identity, [n, n]);
  }

  transpose(a: NodeId): NodeId {
    const s = this.b.shapeOf(a);
    if (!isMatrix(s)) return a;
    const [r, c] = s;
    return this.b.apply('select', [a], { kind: 'select', shape: [c, r], map: transposeMap(r, c) });
  }

  private conditional(condition: MathNode, whenTrue: MathNode, whenFalse: MathNode): NodeId {
    const cond = this.lower(condition);
    const sc = this.b.shapeOf(cond);
    if (!isScalar(sc))
      throw new ShapeError(
        `the condition of ? : must be a scalar, got ${describeShape(sc)} (compare single entries, as in x[1] > 0)`,
      );
    const known = this.b.constantValues(cond);
    // A constant condition builds only the branch taken: this is what ends a recursion when compiling.
    if (known !== null) return this.lower(known[0] !== 0 ? whenTrue : whenFalse);
    return this.b.apply('where', [cond, this.lower(whenTrue), this.lower(whenFalse)]);
  }

  /**
   * Expands a call of a user function. A call in tail position (the body, or
   * the branch a constant condition takes, is itself a call) is expanded in
   * this loop rather than by recursion, so a recursion k levels deep takes
   * no stack.
   */
  private callUser(fn: UserFunction, args: readonly NodeId[]): NodeId {
    let result: BodyResult = { kind: 'tail', fn, args };
    // Every call of the tail chain has the chain's value; a call met before ends it at once. Inside an
    // index, `end` in a body stands for the enclosing length, so calls there are not shared.
    const shared = this.ends.length === 0;
    const chain: { readonly fn: UserFunction; readonly args: readonly NodeId[] }[] = [];
    while (result.kind === 'tail') {
      const callee: UserFunction = result.fn;
      const known = shared ? this.scope.recall(callee, result.args) : undefined;
      if (known !== undefined) {
        result = { kind: 'value', id: known };
        break;
      }
      chain.push(result);
      result = this.scope.expand(callee, result.args, (): BodyResult => this.lowerBody(callee.body));
    }
    if (shared) for (const call of chain) this.scope.remember(call.fn, call.args, result.id);
    return result.id;
  }

  private lowerBody(body: MathNode): BodyResult {
    let node = body;
    for (;;) {
      const n = view(node);
      if (n.type === 'ParenthesisNode') node = n.content;
      else if (n.type === 'ConditionalNode') {
        const known = this.b.constantValues(this.lower(n.condition));
        if (known === null || known.length !== 1) return { kind: 'value', id: this.lower(node) };
        node = known[0] !== 0 ? n.trueExpr : n.falseExpr;
      } else if (n.type === 'FunctionNode') {
        const callee = view(n.fn).type === 'SymbolNode' ? this.scope.userFunction(sourceOf(n.fn)) : undefined;
        if (callee === undefined) return { kind: 'value', id: this.lower(node) };
        return { kind: 'tail', fn: callee, args: n.args.map((a) => this.lower(a)) };
      } else return { kind: 'value', id: this.lower(node) };
    }
  }

  /** mathjs's map(collection, f): f applied to each entry of a vector or constant range, results stacked. */
  private map(argNodes: readonly MathNode[]): NodeId {
    if (argNodes.length !== 2)
      throw new UnsupportedError(`map takes 2 arguments, got ${argNodes.length}: map(x, f) with f a function's name`);
    const fnNode = view(argNodes[1]!);
    const name = fnNode.type === 'SymbolNode' ? fnNode.name : null;
    const user = name === null ? undefined : this.scope.userFunction(name);
    const found = name === null ? undefined : findFunction(name);
    const tableOp = found?.kind === 'table' && found.arity === 1 ? found.op : undefined;
    if (user === undefined && tableOp === undefined)
      throw new UnsupportedError(
        `map(x, f) takes the name of a function as f, got ${sourceOf(argNodes[1]!)}: define it first, as f(t) = …`,
      );
    const collection = this.lower(argNodes[0]!);
    const shape = this.b.shapeOf(collection);
    if (!isVector(shape)) throw new ShapeError(`map(x, f) takes a vector x, got ${describeShape(shape)}`);
    const entries = Array.from({ length: shape[0] }, (_, k) => {
      const entry = this.gather(collection, [k], SCALAR);
      return user !== undefined ? this.callUser(user, [entry]) : this.elementwise(tableOp!, name!, [entry]);
    });
    return this.literal(entries);
  }

  /** Array literals: scalars make a vector, vectors of one length make the rows of a matrix. */
  literal(items: readonly NodeId[]): NodeId {
    if (items.length === 0) throw new ShapeError('an empty array [] has no entries: give at least one');
    const shapes = items.map((id) => this.b.shapeOf(id));
    const first = shapes[0]!;
    if (isMatrix(first)) {
      // Rows of unequal length (`[x; y]` with vectors of 2 and 3) are that mistake first, whatever their depth.
      const other = shapes.find((s) => !sameShape(s, first));
      if (other !== undefined) {
        const rows = first[0] === 1 && other[0] === 1 && other.length === 2;
        throw new ShapeError(
          rows
            ? `the rows of an array literal have different lengths, ${first[1]} and ${other[1]!} entries: ` +
                'give every row the same number of entries'
            : `the rows of an array literal have different shapes, ${describeShape(first)} and ${describeShape(other)}`,
        );
      }
      throw new UnsupportedError('arrays of more than two dimensions are not supported');
    }
    for (const s of shapes) {
      if (!sameShape(s, first)) {
        throw new ShapeError(
          `the entries of an array literal must have one shape, got ${describeShape(first)} and ${describeShape(s)}`,
        );
      }
    }
    const width = sizeOf(first);
    const shape: Shape = isScalar(first) ? [items.length] : [items.length, width];
    const maps = items.map((_, i) => identityMap(width, i * width));
    return this.b.apply('concat', items, { kind: 'concat', shape, maps });
  }

  /** `x[i]`, `x[a:b]`, `M[i, :]`, `x[[1, 3]]`, `x[end]`: 1-based and inclusive, as in mathjs. */
  private index(object: NodeId, objectNode: MathNode, indexNode: MathNode): NodeId {
    const idx = view(indexNode);
    if (idx.type !== 'IndexNode' || idx.dotNotation)
      throw new UnsupportedError(`property access ${sourceOf(indexNode)} is not supported`);
    const shape = this.b.shapeOf(object);
    // The text of the indexed expression is printed only in messages: a model indexes thousands of times.
    const name = () => sourceOf(objectNode);
    if (isScalar(shape)) throw new ShapeError(`cannot index ${name()}: it is a scalar`);
    if (idx.dimensions.length !== shape.length) {
      throw new ShapeError(
        `${name()} is a ${describeShape(shape)}: ` +
          `index it with ${shape.length === 1 ? 'one index, as x[i]' : 'two indices, as M[i, j]'}, ` +
          `not ${idx.dimensions.length}`,
      );
    }
    const picks = idx.dimensions.map((dim, d) => this.indexList(dim, shape[d]!, name, shape));
    if (picks.some((p) => p.indices.length === 0)) {
      throw new ShapeError(
        `${name()}${sourceOf(indexNode)} is empty: an empty range only works inside sum, ` +
          'whose sum of nothing is 0 as in mathjs',
      );
    }
    if (picks.length === 1) {
      const [p] = picks as [IndexList];
      return this.gather(object, p.indices, p.scalar ? SCALAR : [p.indices.length]);
    }
    const [rows, cols] = picks as [IndexList, IndexList];
    const width = shape[1]!;
    const from = new Int32Array(rows.indices.length * cols.indices.length);
    let k = 0;
    for (const i of rows.indices) for (const j of cols.indices) from[k++] = i * width + j;
    const resultShape: Shape =
      rows.scalar && cols.scalar
        ? SCALAR
        : rows.scalar
          ? [cols.indices.length]
          : cols.scalar
            ? [rows.indices.length]
            : [rows.indices.length, cols.indices.length];
    return this.gather(object, from, resultShape);
  }

  /** Whether `node` indexes with a range that selects nothing, as x[3:2]. */
  isEmptySelection(node: MathNode): boolean {
    const n = view(node);
    if (n.type !== 'AccessorNode') return false;
    const idx = view(n.index);
    if (idx.type !== 'IndexNode' || !idx.dimensions.some((dim) => view(dim).type === 'RangeNode')) return false;
    const shape = this.b.shapeOf(this.lower(n.object));
    if (idx.dimensions.length !== shape.length) return false;
    const name = () => sourceOf(n.object);
    return idx.dimensions.some((dim, d) => this.indexList(dim, shape[d]!, name, shape).indices.length === 0);
  }

  /** The 0-based positions one index dimension selects (none for an empty range); a number drops the dimension. */
  private indexList(dim: MathNode, length: number, name: () => string, shape: Shape): IndexList {
    this.ends.push(length);
    try {
      const d = view(dim);
      if (d.type === 'ArrayNode') {
        const oneBased = d.items.map((item) => this.staticIndex(item));
        return { indices: indexList(oneBased.length, (k) => oneBased[k]!, length, name, shape), scalar: false };
      }
      if (d.type !== 'RangeNode') {
        const oneBased = this.indexValues(dim);
        return {
          indices: indexList(oneBased.length, (k) => oneBased[k]!, length, name, shape),
          scalar: !(oneBased instanceof Float64Array),
        };
      }
      // Distinct indices, so a range longer than the dimension must leave it.
      const { start, step, count } = this.range(
        d.start,
        d.end,
        d.step,
        length,
        () => `${name()} has along this index (${length})`,
      );
      const key = `${length}:${start}:${step}:${count}`;
      let indices = this.rangeLists.get(key);
      if (indices === undefined) {
        indices = rangeIndexList(count, start, step, length, name, shape);
        this.rangeLists.set(key, indices);
      }
      return { indices, scalar: false };
    } finally {
      this.ends.pop();
    }
  }

  /**
   * The numbers of an index that is neither a literal array nor a range: a number, or a vector of positions
   * known before evaluation (a constant given to compile, a variable given with its value, arithmetic on
   * them), as mathjs indexes with a matrix of positions. A number comes as a one-entry array, a vector as
   * its Float64Array, so that a one-entry vector keeps its dimension.
   */
  private indexValues(node: MathNode): readonly number[] | Float64Array {
    const n = view(node);
    if (n.type === 'ConstantNode') return [this.staticIndex(node)];
    const id = this.lower(node);
    const values = this.b.constantValues(id);
    const shape = this.b.shapeOf(id);
    if (values === null)
      throw new UnsupportedError(`an index must be a number known before evaluation, got ${sourceOf(node)}`);
    if (isScalar(shape)) return [values[0]!];
    if (!isVector(shape))
      throw new ShapeError(
        `an index must be a number or a vector of positions, got the ${describeShape(shape)} ${sourceOf(node)}`,
      );
    // mathjs takes a vector of booleans as a mask; ours would be read as positions 0 and 1.
    if (isComparison(n))
      throw new UnsupportedError(
        `indexing with a mask (${sourceOf(node)}) is not supported: index with the positions, as x[[1, 3]]`,
      );
    return values;
  }

  private staticIndex(node: MathNode): number {
    const value = this.staticArgument(node, 'an index');
    if (typeof value !== 'number') throw new ShapeError(`an index must be a number, got "${value}"`);
    return value;
  }

  /**
   * `start:end` or `start:step:end`, both ends included: its numbers are start + k·step for k < count;
   * refused when there would be more than `maxCount`.
   */
  private range(
    start: MathNode,
    end: MathNode,
    step: MathNode | null | undefined,
    maxCount: number,
    what: () => string,
  ): Range {
    const [a, b] = [this.staticIndex(start), this.staticIndex(end)];
    const s = step === null || step === undefined ? 1 : this.staticIndex(step);
    if (s === 0 || !Number.isFinite(s)) throw new ShapeError(`a range step must be a nonzero number, got ${s}`);
    const count = Math.floor((b - a) / s) + 1;
    if (!(count <= maxCount))
      throw new LimitError(`the range ${a}:${s === 1 ? '' : `${s}:`}${b} has more entries than ${what()}`);
    return { start: a, step: s, count: Math.max(count, 0) };
  }

  staticArgument(node: MathNode, what: string): number | string {
    const n = view(node);
    if (n.type === 'ConstantNode' && typeof n.value === 'string') return n.value;
    const id = this.lower(node);
    const values = this.b.constantValues(id);
    if (values === null || values.length !== 1) {
      throw new UnsupportedError(`${what} must be a number known before evaluation, got ${sourceOf(node)}`);
    }
    return values[0]!;
  }
}

interface IndexList {
  /** 0-based. */
  readonly indices: Int32Array;
  readonly scalar: boolean;
}

interface Range {
  readonly start: number;
  readonly step: number;
  readonly count: number;
}

/** The 0-based positions of `count` one-based indices, each checked to be an integer from 1 to `length`. */
function indexList(
  count: number,
  oneBased: (k: number) => number,
  length: number,
  name: () => string,
  shape: Shape,
): Int32Array {
  const indices = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const i = oneBased(k);
    if (!Number.isInteger(i)) throw new ShapeError(`index ${i} of ${name()} is not an integer`);
    if (i < 1 || i > length)
      throw new ShapeError(
        `index ${i} is out of range for ${name()} (${describeShape(shape)}): indices run from 1 to ${length}`,
      );
    indices[k] = i - 1;
  }
  return indices;
}

/**
 * indexList of the range start, start + step, …: when its first and last entries are whole numbers in range, so
 * is every entry between them, and the list is filled without a check per entry (x[2:end] at 10⁶: 25 → 3 ms).
 */
function rangeIndexList(
  count: number,
  start: number,
  step: number,
  length: number,
  name: () => string,
  shape: Shape,
): Int32Array {
  const last = start + (count - 1) * step;
  const inRange = (i: number): boolean => Number.isInteger(i) && i >= 1 && i <= length;
  if (count === 0 || !Number.isInteger(step) || !inRange(start) || !inRange(last))
    return indexList(count, (k) => start + k * step, length, name, shape);
  const indices = new Int32Array(count);
  for (let k = 0; k < count; k++) indices[k] = start - 1 + k * step;
  return indices;
}

/** mathjs's broadcasting: shapes agree where they are equal or 1; scalars go with anything. */
function broadcastShape(label: string, shapes: readonly Shape[]): Shape {
  const arrays = shapes.filter((s) => !isScalar(s));
  if (arrays.length === 0) return SCALAR;
  if (arrays.every((s) => sameShape(s, arrays[0]!))) return arrays[0]!;
  let [rows, cols] = [1, 1];
  for (const s of arrays) {
    const [r, c] = asRowMajor(s);
    if ((r !== rows && r !== 1 && rows !== 1) || (c !== cols && c !== 1 && cols !== 1)) {
      throw new ShapeError(
        `cannot apply ${label} to ${shapes.map(describeShape).join(' and ')}: ` +
          'shapes must be equal, or differ only where one of them has length 1 (a scalar goes with anything)',
      );
    }
    rows = Math.max(rows, r);
    cols = Math.max(cols, c);
  }
  return arrays.some(isMatrix) ? [rows, cols] : [cols];
}
