/**
 * Programs: statements separated by `;` or line breaks, as mathjs parses
 * them. `name = expr` defines an intermediate, lowered once into a node of
 * the graph; `f(a, b) = expr` defines a function, expanded into the graph at
 * each call with the shapes of its arguments. The value of the last
 * statement is the program's output.
 */
import type { MathNode } from 'mathjs';
import { LimitError, ParseError, ShapeError, UnsupportedError, withRemedy, type Message } from '../errors.js';
import type { NodeId } from '../ops/index.js';
import { sourceOf, view } from './ast.js';

/** A function defined by the program: its parameters and body, as written. */
export interface UserFunction {
  readonly name: string;
  readonly params: readonly string[];
  readonly body: MathNode;
  /** The definition as mathjs prints it, and where it starts in the source (when known), for messages. */
  readonly text: string;
  readonly start: number | null;
}

/** A statement of a program, classified. */
export type Statement =
  | { readonly kind: 'expression'; readonly node: MathNode }
  | {
      readonly kind: 'assignment';
      readonly name: string;
      readonly value: MathNode;
      readonly text: string;
      readonly start: number | null;
    }
  | { readonly kind: 'function'; readonly definition: UserFunction };

interface AssignmentView {
  readonly object: MathNode;
  readonly index: MathNode | null;
  readonly value: MathNode;
}
interface FunctionAssignmentView {
  readonly name: string;
  readonly params: readonly string[];
  readonly expr: MathNode;
}
interface BlockView {
  readonly blocks: readonly { readonly node: MathNode }[];
}

/**
 * Where statements start in the source: mathjs's tree keeps no positions, so
 * the text is scanned for the separators (`;` and line breaks outside
 * brackets, strings and comments) that mathjs splits statements at.
 */
function statementStarts(source: string): number[] {
  const starts: number[] = [];
  let depth = 0;
  let quote: string | null = null;
  let comment = false;
  let started = false;
  for (let k = 0; k < source.length; k++) {
    const ch = source[k]!;
    if (ch === '\n') {
      comment = false;
      if (depth === 0) started = false;
      continue;
    }
    if (comment) continue;
    if (quote !== null) {
      if (ch === '\\') k++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '#') {
      comment = true;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    if (ch === ';' && depth === 0) {
      started = false;
      continue;
    }
    if (!started && !/\s/.test(ch)) {
      started = true;
      starts.push(k);
    }
  }
  return starts;
}

/** The text of a program's output, for headers: its last statement, without comments, on one line. */
export function outputText(source: string): string {
  // One statement on one line is its own output text: no scan (a batch asks this for every point).
  if (!source.includes(';') && !source.includes('\n')) return source;
  const starts = statementStarts(source);
  if (starts.length <= 1 && !source.includes('\n')) return source;
  const last = source.slice(starts[starts.length - 1] ?? 0);
  return last
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(' ')
    .replace(/;\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The statements of a parsed program, in order, with the line each starts on. */
export function statementsOf(ast: MathNode, source: string | null): Statement[] {
  const nodes = ast.type === 'BlockNode' ? (ast as unknown as BlockView).blocks.map((b) => b.node) : [ast];
  const starts = source === null ? [] : statementStarts(source);
  return nodes.map((node, k) => classify(node, starts.length === nodes.length ? starts[k]! : null));
}

function classify(node: MathNode, start: number | null): Statement {
  if (node.type === 'AssignmentNode') {
    const { object, index, value } = node as unknown as AssignmentView;
    const target = view(object);
    if (target.type !== 'SymbolNode' || index !== null) {
      throw new UnsupportedError(
        `assigning to ${sourceOf(object)}${index === null ? '' : sourceOf(index)} is not supported: ` +
          'assign a whole name, as h = …, and build vectors with [a, b, c]',
      );
    }
    return { kind: 'assignment', name: target.name, value, text: sourceOf(node), start };
  }
  if (node.type === 'FunctionAssignmentNode') {
    const { name, params, expr } = node as unknown as FunctionAssignmentView;
    return { kind: 'function', definition: { name, params, body: expr, text: sourceOf(node), start } };
  }
  return { kind: 'expression', node };
}

/** Names the program assigns, and the functions it defines, before any is lowered. */
export interface ProgramNames {
  /** Each assigned name with its (first) assignment. */
  readonly assigned: ReadonlyMap<string, Extract<Statement, { kind: 'assignment' }>>;
  readonly functions: ReadonlySet<string>;
}

export function programNames(statements: readonly Statement[]): ProgramNames {
  const assigned = new Map<string, Extract<Statement, { kind: 'assignment' }>>();
  const functions = new Set<string>();
  for (const s of statements) {
    if (s.kind === 'assignment' && !assigned.has(s.name)) assigned.set(s.name, s);
    if (s.kind === 'function') functions.add(s.definition.name);
  }
  return { assigned, functions };
}

/** The offset of the first use of `name` as a whole word (outside comments), or null. */
export function offsetOfName(source: string, name: string): number | null {
  const word = new RegExp(`(^|[^A-Za-z0-9_$.])(${name.replace(/[$]/g, '\\$')})(?![A-Za-z0-9_$])`, 'g');
  let offset = 0;
  for (const line of source.split('\n')) {
    const code = line.replace(/#.*$/, '');
    const match = word.exec(code);
    word.lastIndex = 0;
    if (match !== null) return offset + match.index + match[1]!.length;
    offset += line.length + 1;
  }
  return null;
}

/** A call expanded before: its argument nodes and the node of its value. */
interface ExpandedCall {
  readonly args: readonly NodeId[];
  readonly id: NodeId;
}

/** The hash of a call's argument nodes (the function is the first key). */
function argsHash(args: readonly NodeId[]): number {
  let h = args.length;
  for (const a of args) h = Math.imul(h ^ a, 0x5bd1e995) ^ (h >>> 13);
  return h | 0;
}

const sameArgs = (a: readonly NodeId[], b: readonly NodeId[]): boolean =>
  a.length === b.length && a.every((x, k) => x === b[k]);

/**
 * The bindings a program builds as it is lowered: intermediates by name, the
 * functions defined so far, and the frames of the calls being expanded.
 */
export class Scope {
  private readonly intermediates = new Map<string, { readonly id: NodeId; readonly text: string }>();
  private readonly functions = new Map<string, UserFunction>();
  private readonly frames: Map<string, NodeId>[] = [];
  /** Calls expanded so far, against the limit. */
  private expanded = 0;
  /**
   * The value of each call expanded so far, by function and argument nodes: a body
   * depends on nothing else, so an identical call is the same node, and a recursion
   * that meets the same call again (the minors of a determinant) expands it once.
   */
  private readonly calls = new Map<string, Map<number, ExpandedCall[]>>();

  constructor(
    private readonly maxCalls: number,
    readonly source: string | null,
  ) {}

  /** The node a name stands for: a parameter of the innermost call, then an intermediate. */
  lookup(name: string): NodeId | undefined {
    const frame = this.frames[this.frames.length - 1];
    return frame?.get(name) ?? this.intermediates.get(name)?.id;
  }

  userFunction(name: string): UserFunction | undefined {
    return this.functions.get(name);
  }

  assign(name: string, id: NodeId, statement: { readonly text: string; readonly start: number | null }): void {
    const earlier = this.intermediates.get(name);
    if (earlier !== undefined) {
      throw this.error(
        `${name} is assigned twice, in \`${earlier.text}\` and in \`${statement.text}\`: ` +
          'a name takes one value; give the second one another name',
        statement.start,
      );
    }
    this.intermediates.set(name, { id, text: statement.text });
    // A body may read an intermediate: calls expanded before it was assigned are not reused after.
    this.calls.clear();
  }

  /** The node an identical call gave, if one was expanded. */
  recall(fn: UserFunction, args: readonly NodeId[]): NodeId | undefined {
    return this.calls
      .get(fn.name)
      ?.get(argsHash(args))
      ?.find((call) => sameArgs(call.args, args))?.id;
  }

  remember(fn: UserFunction, args: readonly NodeId[], id: NodeId): void {
    let byHash = this.calls.get(fn.name);
    if (byHash === undefined) this.calls.set(fn.name, (byHash = new Map()));
    const hash = argsHash(args);
    const same = byHash.get(hash);
    const call = { args: [...args], id };
    if (same === undefined) byHash.set(hash, [call]);
    else {
      // A later call with the same arguments replaces the earlier one, as the same key did.
      const k = same.findIndex((c) => sameArgs(c.args, args));
      if (k >= 0) same[k] = call;
      else same.push(call);
    }
  }

  define(definition: UserFunction): void {
    const earlier = this.functions.get(definition.name);
    if (earlier !== undefined) {
      throw new UnsupportedError(
        `the function ${definition.name} is defined twice, in \`${earlier.text}\` and in \`${definition.text}\`: ` +
          'give the second one another name',
      );
    }
    this.functions.set(definition.name, definition);
  }

  /** Runs `build` with the parameters of `fn` bound to `args`, counting the call against the limit. */
  expand<T>(fn: UserFunction, args: readonly NodeId[], build: () => T): T {
    if (args.length !== fn.params.length) {
      throw new ShapeError(
        `${fn.name}(${fn.params.join(', ')}) takes ${fn.params.length} argument${fn.params.length === 1 ? '' : 's'}, ` +
          `got ${args.length}`,
      );
    }
    if (++this.expanded > this.maxCalls) {
      const limit = this.maxCalls;
      throw new LimitError((wording) =>
        withRemedy(
          `${fn.name} was expanded more than ${limit} times: a recursion must end when compiling, ` +
            'through a ternary whose condition is a constant (as k == 0 ? y : f(y, k - 1))',
          wording.raise('maxDepth'),
        ),
      );
    }
    this.frames.push(new Map(fn.params.map((p, k) => [p, args[k]!])));
    try {
      return build();
    } finally {
      this.frames.pop();
    }
  }

  /** An error pointing at the first use of `name` in the source, when there is a source. */
  atName(message: string, name: string): Error {
    return this.error(message, this.source === null ? null : offsetOfName(this.source, name));
  }

  /** An error with a caret at `offset` of the source: the line it is on, when the program has several. */
  error(message: Message, offset: number | null): Error {
    if (this.source === null || offset === null) return new UnsupportedError(message);
    const lineStart = this.source.lastIndexOf('\n', offset - 1) + 1;
    const lineEnd = this.source.indexOf('\n', offset);
    if (lineStart === 0 && lineEnd === -1) return new ParseError(message, this.source, offset);
    const line = this.source.slice(0, offset).split('\n').length;
    const text = this.source.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
    const onLine: Message =
      typeof message === 'string' ? `${message} (line ${line})` : (wording) => `${message(wording)} (line ${line})`;
    return new ParseError(onLine, text, offset - lineStart);
  }
}
