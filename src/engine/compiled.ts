/**
 * Compiled kernels: for a program evaluated many times at the same shapes,
 * straight-line JavaScript for its forward pass and its seeded derivative
 * passes, which V8 compiles to a handful of float operations per entry.
 *
 * The generated source is built only from numbers (buffer indices), a fixed
 * vocabulary and generated identifiers (`x12`, `c7`, `f3`): the operations'
 * scalar functions and the kernels of operations without one are passed in
 * as values, never as text, so nothing a user writes can reach the source.
 * This is the one module that calls `new Function`.
 *
 * The passes do what the interpreter's do (passes.ts), entry by entry in the
 * same order: values, cotangents and tangents are the same to the last bit.
 * They multiply without the exact-zero rule of SPEC §6, which only differs
 * where a zero meets a non-finite number: a pass that read a non-finite
 * partial, or gave a non-finite result, is run again by the interpreter.
 */
import { SUM_BLOCK, type NodeId, type Operand } from '../ops/index.js';
import type { ScalarFunction, ScalarSpecial, SpecialPoint } from '../ops/types.js';
import type { Step } from './linear/index.js';
import type { WrtInput } from './linearize.js';
import type { Passes } from './passes.js';
import type { Plan } from './plan.js';

/**
 * A program is compiled on its COMPILE_AFTER-th forward pass. Compiling costs about what this many interpreted
 * passes cost, at every size measured (1–5 ms, 300–1400 operations): compiled once the interpreter has spent
 * that much, a program never costs more than twice the best choice, and few-call programs pay nothing.
 */
export const COMPILE_AFTER = 1000;
/**
 * Above this many entry operations (forward and derivative passes) the interpreter is kept: a longer function
 * passes V8's size limit for optimising (about 2800 operations here), and runs 2–5 times slower than the
 * interpreter instead of 2–5 times faster.
 */
export const MAX_COMPILED_OPERATIONS = 2000;

type Forward = (v: Float64Array) => void;
/** Cotangents of the columns for the output seed `seed`, written to out[at …]; false if one is not finite. */
type Backward = (v: Float64Array, seed: ArrayLike<number>, out: Float64Array, at: number) => boolean;
/** Tangents of the output for the column seed `seed`, written to out[at + i·stride]; false if one is not finite. */
type Tangent = (v: Float64Array, seed: ArrayLike<number>, out: Float64Array, at: number, stride: number) => boolean;

/** The compiled functions of one prepared program, and the sources they came from (for tests). */
interface Compiled {
  readonly forward: Forward;
  /** Null where a step has no straight-line form (products, solves): those passes stay interpreted. */
  readonly backward: Backward | null;
  readonly tangent: Tangent | null;
  readonly sources: readonly string[];
}

/**
 * The forward and derivative passes of one prepared program: interpreted
 * until the program has run COMPILE_AFTER times, then compiled when it is
 * small enough.
 */
export class Kernels {
  private runs = 0;
  /** Undefined until tried; null when the program is kept interpreted. */
  private compiled: Compiled | null | undefined;
  /** One-hot seeds, rows (m) or columns (n): the compiled passes read only the entries they seed. */
  private readonly seed: Float64Array;

  constructor(
    private readonly plan: Plan,
    private readonly passes: Passes,
    private readonly m: number,
    private readonly n: number,
    private readonly compileAfter = COMPILE_AFTER,
  ) {
    this.seed = new Float64Array(Math.max(m, n));
  }

  /** The forward pass over the plan's value buffer. */
  forward(): void {
    if (this.compiled === undefined && ++this.runs >= this.compileAfter)
      this.compiled = compile(this.plan, this.passes);
    if (this.compiled) this.compiled.forward(this.plan.values);
    else this.plan.run();
  }

  /** Compiles at the next forward pass, for a caller that will make many (a batch's runner), not after COMPILE_AFTER. */
  compileNext(): void {
    this.runs = Math.max(this.runs, this.compileAfter - 1);
  }

  /**
   * Whether the derivative passes in `direction` are compiled or may still be: false once the program is kept
   * interpreted, or compiled without them (a product or a solve has no straight-line form).
   */
  compiles(direction: 'reverse' | 'forward'): boolean {
    const { compiled } = this;
    if (compiled === undefined) return true;
    return compiled !== null && (direction === 'reverse' ? compiled.backward : compiled.tangent) !== null;
  }

  /** The generated sources, once compiled. */
  get sources(): readonly string[] {
    return this.compiled?.sources ?? [];
  }

  /**
   * The full m×n Jacobian by one-hot passes, row-major into `jacobian`; false when the passes are not
   * compiled or a result is not finite, and the interpreter must run them.
   */
  jacobian(
    mode: 'reverse' | 'forward',
    jacobian: Float64Array,
    onProgress?: (done: number, total: number) => void,
  ): boolean {
    const { m, n, seed } = this;
    if (mode === 'reverse') {
      const backward = this.compiled?.backward;
      if (!backward) return false;
      seed.fill(0, 0, m);
      for (let i = 0; i < m; i++) {
        onProgress?.(i, m);
        seed[i] = 1;
        if (!backward(this.plan.values, seed, jacobian, i * n)) return false;
        seed[i] = 0;
      }
      return true;
    }
    const tangent = this.compiled?.tangent;
    if (!tangent) return false;
    seed.fill(0, 0, n);
    for (let j = 0; j < n; j++) {
      onProgress?.(j, n);
      seed[j] = 1;
      if (!tangent(this.plan.values, seed, jacobian, j, n)) return false;
      seed[j] = 0;
    }
    return true;
  }

  /** vᵀJ into `out` (n entries); false when the interpreter must run it. */
  vjp(v: ArrayLike<number>, out: Float64Array): boolean {
    const backward = this.compiled?.backward;
    return backward ? backward(this.plan.values, v, out, 0) : false;
  }

  /** J·u into `out` (m entries); false when the interpreter must run it. */
  jvp(u: ArrayLike<number>, out: Float64Array): boolean {
    const tangent = this.compiled?.tangent;
    return tangent ? tangent(this.plan.values, u, out, 0, 1) : false;
  }
}

/** A number for each value passed to generated code, in order of first use. */
const valueNumbers = new WeakMap<object, number>();
let nextValueNumber = 0;
const valueNumber = (value: object): number => {
  let number = valueNumbers.get(value);
  if (number === undefined) valueNumbers.set(value, (number = nextValueNumber++));
  return number;
};

/**
 * The source as it is compiled: headed by a comment numbering its values. V8 keeps one set of call feedback for every
 * function made from the same text, so without it the loops of sin and of exp (the same text, `f0(v[a + k])`) would
 * share one call site, which turns polymorphic after a few functions and is no longer inlined: the value of
 * sum(sqrt(x)) took 1.5 ms instead of 0.47 in a process that had used other functions before.
 */
export const headedSource = (source: string, values: readonly object[]): string =>
  `// ${values.map(valueNumber).join(' ')}\n${source}`;

/**
 * The one place where the product compiles code: `source` is built from numbers, a fixed vocabulary and generated
 * names only (see above; fusion.ts builds its loops under the same rule); `values` are passed in as `f0`, `f1`, ….
 */
export const generated = <F>(source: string, values: readonly object[]): F =>
  new Function(...values.map((_, i) => `f${i}`), headedSource(source, values))(...values) as F;

/**
 * A generated loop is called for this many entries at a time (and one call for the rest), not once for all n. V8
 * compiles a function that it has seen called many times with the feedback of whole calls; a loop of a million
 * entries in one call is compiled while it runs (on-stack replacement), and that code came out about twice as slow
 * in some processes and not in others (lse's exp-and-sum loop over 1.28 M entries: 9.2 ms or 5.0 ms; called by
 * chunks, 4.7 ms in every process). A chunk's entries stay in the first caches, and its call is a few nanoseconds
 * against microseconds of work. A chunk is one block of the sums a loop forms (ops/sums.ts), which each chunk starts
 * afresh.
 */
export const CHUNK_ENTRIES = SUM_BLOCK;

/**
 * The kernel of one element-wise step: v[out + k] = f(operands at entry k) for k < n, operand `a` (and `b`) at
 * their offsets, a scalar operand read once and broadcast.
 */
export type ElementwiseLoop = (v: Float64Array, out: number, a: number, b: number, n: number) => void;

/** How an element-wise step reads its operands at entry k: `v` a vector (entry k), `s` a scalar (entry 0). */
export type OperandPattern = 'v' | 'vv' | 'vs' | 'sv';

/** How an element-wise step of n entries reads its one or two operands (each n entries long or a scalar). */
export function operandPatternOf(out: Operand, args: readonly Operand[]): OperandPattern | null {
  if (args.length === 1) return 'v';
  if (args.length !== 2) return null;
  const [aIsVector, bIsVector] = [args[0]!.size === out.size, args[1]!.size === out.size];
  return aIsVector && bIsVector ? 'vv' : aIsVector ? 'vs' : 'sv';
}

/** Each operand as a loop reads it at entry k: a scalar from a local, read once before the loop (HOISTED). */
const OPERAND_READS: Readonly<Record<OperandPattern, string>> = {
  v: 'v[a + k]',
  vv: 'v[a + k], v[b + k]',
  vs: 'v[a + k], y',
  sv: 'x, v[b + k]',
};
const HOISTED: Readonly<Record<OperandPattern, string>> = {
  v: '',
  vv: '',
  vs: 'const y = v[b];\n',
  sv: 'const x = v[a];\n',
};
/** How far operands a and b move with the output, from one chunk to the next: a vector 1, a scalar 0. */
export const OPERAND_STEPS: Readonly<Record<OperandPattern, readonly [number, number]>> = {
  v: [1, 0],
  vv: [1, 1],
  vs: [1, 0],
  sv: [0, 1],
};

const elementwiseLoops = new Map<ScalarFunction, Map<OperandPattern, ElementwiseLoop>>();

/**
 * The loop of an element-wise operation's scalar function for one pattern of operands, made once. A function of
 * its own (not one shared closure for every operation) sees one scalar function at its call, which V8 then inlines:
 * the loop costs a few float operations per entry instead of a call through a closure. The same calls in the same
 * order as the operation's `value`, so the same numbers.
 */
export function elementwiseLoop(scalar: ScalarFunction, pattern: OperandPattern): ElementwiseLoop {
  let byPattern = elementwiseLoops.get(scalar);
  if (byPattern === undefined) elementwiseLoops.set(scalar, (byPattern = new Map()));
  let loop = byPattern.get(pattern);
  if (loop === undefined) {
    const body = `${HOISTED[pattern]}for (let k = 0; k < n; k++) v[out + k] = f0(${OPERAND_READS[pattern]});`;
    const source = `'use strict';\nreturn function elementwise(v, out, a, b, n) {\n${body}\n};`;
    loop = generated<ElementwiseLoop>(source, [scalar]);
    byPattern.set(pattern, loop);
  }
  return loop;
}

/**
 * Runs an element-wise loop over n entries chunk by chunk (see CHUNK_ENTRIES): a vector operand (`aStep`, `bStep`
 * 1) moves on with the output, a scalar one (0) stays.
 */
export function runElementwiseLoop(
  loop: ElementwiseLoop,
  v: Float64Array,
  out: number,
  a: number,
  aStep: number,
  b: number,
  bStep: number,
  n: number,
): void {
  for (let from = 0; from < n; from += CHUNK_ENTRIES)
    loop(v, out + from, a + aStep * from, b + bStep * from, Math.min(CHUNK_ENTRIES, n - from));
}

/** What the kink report hears of each entry at a special point. */
export type SpecialFound = (entry: number, point: SpecialPoint) => void;
/** A scan of n entries of an element-wise step for special points, entry k reported as `from + k`. */
type SpecialScan = (
  v: Float64Array,
  out: number,
  a: number,
  b: number,
  n: number,
  found: SpecialFound,
  from: number,
) => void;

const specialScans = new Map<ScalarSpecial, Map<OperandPattern, SpecialScan>>();

/**
 * Reports the entries of an element-wise step at a special point, as its operation's `special` does, by a loop of
 * the step's test made once for it (and its pattern), run chunk by chunk. One loop shared by every operation calls
 * each one's test through the same call site, which turns polymorphic: in gmm's gradient that scan took 12% of the
 * time (the squares' tests, 6.4 million a pass).
 */
export function scanSpecialPoints(
  test: ScalarSpecial,
  v: Float64Array,
  out: Operand,
  args: readonly Operand[],
  found: SpecialFound,
): void {
  const pattern = operandPatternOf(out, args)!;
  let byPattern = specialScans.get(test);
  if (byPattern === undefined) specialScans.set(test, (byPattern = new Map()));
  let scan = byPattern.get(pattern);
  if (scan === undefined) {
    // The test of each entry: its operands' entries, then its own.
    const source = [
      `'use strict';`,
      `return function specialScan(v, out, a, b, n, found, from) {`,
      `${HOISTED[pattern]}for (let k = 0; k < n; k++) {`,
      `const point = f0(${OPERAND_READS[pattern]}, v[out + k]);`,
      `if (point !== null) found(from + k, point);`,
      `}`,
      `};`,
    ].join('\n');
    byPattern.set(pattern, (scan = generated<SpecialScan>(source, [test])));
  }
  const [a, b] = [args[0]!.offset, args[1]?.offset ?? 0];
  const [aStep, bStep] = OPERAND_STEPS[pattern];
  for (let from = 0; from < out.size; from += CHUNK_ENTRIES)
    scan(
      v,
      out.offset + from,
      a + aStep * from,
      b + bStep * from,
      Math.min(CHUNK_ENTRIES, out.size - from),
      found,
      from,
    );
}

/** The compiled passes, or null when the program is too large or has a column twice. */
function compile(plan: Plan, passes: Passes): Compiled | null {
  const { columns } = passes.lin;
  if (new Set(columns.map((c) => c.node)).size !== columns.length) return null;
  const size = forwardOperations(plan) + passes.steps.reduce((total, step) => total + stepOperations(step), 0);
  if (size > MAX_COMPILED_OPERATIONS) return null;
  const forward = forwardSource(plan);
  const linear = passes.steps.every(
    (step) => step.kind === 'elementwise' || step.kind === 'select' || step.kind === 'row',
  );
  const backward = linear ? backwardSource(plan, passes) : null;
  const tangent = linear ? tangentSource(plan, passes) : null;
  return {
    forward: generated<Forward>(forward.source, forward.values),
    backward: backward === null ? null : generated<Backward>(backward, []),
    tangent: tangent === null ? null : generated<Tangent>(tangent, []),
    sources: [forward.source, ...(backward === null ? [] : [backward]), ...(tangent === null ? [] : [tangent])],
  };
}

const forwardOperations = (plan: Plan): number => plan.values.length;
const stepOperations = (step: Step): number =>
  step.kind === 'select' ? step.map.to.length : Math.max(step.out.size, step.arg.size);

/**
 * The forward pass: each entry of an element-wise node is a call of its scalar function on the operands'
 * entries, kept in a local and stored; other nodes call their kernel on the buffer.
 */
function forwardSource(plan: Plan): { source: string; values: object[] } {
  const values: object[] = [];
  const names = new Map<object, string>();
  const nameOf = (value: object): string => {
    let name = names.get(value);
    if (name === undefined) {
      name = `f${values.length}`;
      names.set(value, name);
      values.push(value);
    }
    return name;
  };
  const local = new Set<number>();
  const read = (entry: number): string => (local.has(entry) ? `x${entry}` : `v[${entry}]`);
  const lines: string[] = [];
  // The plan's steps: constants are in the buffer from the start; inputs are written before each pass.
  for (const { spec, out, args, param } of plan.steps) {
    const scalar = spec.scalar;
    if (scalar === undefined) {
      const kernel = (v: Float64Array): void => spec.value(v, out, args, param);
      lines.push(`${nameOf(kernel)}(v);`);
      continue;
    }
    const f = nameOf(scalar);
    for (let k = 0; k < out.size; k++) {
      const entry = out.offset + k;
      const operands = args.map((a) => read(a.offset + (a.size === 1 ? 0 : k))).join(', ');
      lines.push(`const x${entry} = ${f}(${operands}); v[${entry}] = x${entry};`);
      local.add(entry);
    }
  }
  return { source: `'use strict';\nreturn function forward(v) {\n${lines.join('\n')}\n};`, values };
}

/**
 * Accumulators of a derivative pass, one local per entry (`c` cotangents, `t` tangents), declared at their
 * first contribution. Until then an entry is an exact 0, whose contributions are left out: the interpreter
 * adds them as +0, which changes no sum (a sum from +0 is never -0).
 */
export class Accumulators {
  readonly lines: string[] = [];
  private readonly declared = new Set<number>();

  constructor(private readonly prefix: 'c' | 't') {}

  /** The entry's current value as an expression, or null while it is an exact 0. */
  get(entry: number): string | null {
    return this.declared.has(entry) ? `${this.prefix}${entry}` : null;
  }

  set(entry: number, expression: string): void {
    const name = `${this.prefix}${entry}`;
    this.lines.push(this.declared.has(entry) ? `${name} = ${expression};` : `let ${name} = ${expression};`);
    this.declared.add(entry);
  }

  /** entry += term; the first term is added to +0 as the interpreter adds it (a -0 term gives +0). */
  add(entry: number, term: string): void {
    const name = `${this.prefix}${entry}`;
    if (this.declared.has(entry)) this.lines.push(`${name} += ${term};`);
    else this.set(entry, `0 + ${term}`);
  }

  /**
   * entry += (0 + t₁ + t₂ + …): a sum formed first, as the interpreter forms it; nothing when every term is 0. One
   * block (ops/sums.ts): a program small enough to compile sums fewer than SUM_BLOCK terms.
   */
  addSum(entry: number, terms: readonly (string | null)[]): void {
    const present = terms.filter((t): t is string => t !== null);
    if (present.length > 0) this.add(entry, `(0 + ${present.join(' + ')})`);
  }
}

export const valueAt = (operand: Operand, k: number): string => `v[${operand.offset + (operand.size === 1 ? 0 : k)}]`;
const product = (left: string | null, right: string | null): string | null =>
  left === null || right === null ? null : `${left} * ${right}`;

/**
 * Writes the results and returns whether they and the partials the pass read are all finite (x - x is 0
 * exactly for finite x): with finite partials and results, every product of the pass was of finite numbers,
 * whatever rule the interpreter applies to a zero next to an infinite or NaN partial.
 */
function finish(plan: Plan, passes: Passes, results: readonly (string | null)[], target: (i: number) => string) {
  const lines = ['let finite = 0;'];
  for (const node of passes.lin.checkedPartials) {
    const { offset, size } = plan.operand(node);
    lines.push(`for (let i = ${offset}; i < ${offset + size}; i++) finite += v[i] - v[i];`);
  }
  results.forEach((result, i) => {
    lines.push(`${target(i)} = ${result ?? '0'};`);
    if (result !== null) lines.push(`finite += ${result} - ${result};`);
  });
  lines.push('return finite === 0;');
  return lines;
}

/** The node's entries in the pass's buffers, or null when no pass reaches it (as Passes.slice). */
export function reached(plan: Plan, passes: Passes, node: NodeId): Operand | null {
  const operand = plan.operands[node];
  return operand !== undefined && passes.lin.active.includes(node) ? operand : null;
}

/** Reverse mode: the output's cotangent is the seed; steps pull back from the last to the first. */
function backwardSource(plan: Plan, passes: Passes): string {
  const c = new Accumulators('c');
  const output = passes.output;
  for (let i = 0; i < output.size; i++) c.set(output.offset + i, `seed[${i}]`);
  for (let s = passes.steps.length - 1; s >= 0; s--) {
    const step = passes.steps[s]!;
    const { out, arg } = step;
    if (step.kind === 'elementwise') {
      const term = (k: number): string | null => product(c.get(out.offset + k), valueAt(step.d, k));
      if (arg.size === out.size) {
        for (let k = 0; k < out.size; k++) {
          const t = term(k);
          if (t !== null) c.add(arg.offset + k, t);
        }
      } else
        c.addSum(
          arg.offset,
          Array.from({ length: out.size }, (_, k) => term(k)),
        );
    } else if (step.kind === 'row') {
      const g = c.get(out.offset);
      if (g !== null) for (let k = 0; k < arg.size; k++) c.add(arg.offset + k, `${g} * ${valueAt(step.d, k)}`);
    } else if (step.kind === 'select') {
      const { to, from } = step.map;
      for (let j = 0; j < to.length; j++) {
        const g = c.get(out.offset + to[j]!);
        if (g !== null) c.add(arg.offset + from[j]!, g);
      }
    }
  }
  const results = passes.lin.columns.flatMap((column: WrtInput) => {
    const operand = reached(plan, passes, column.node);
    return Array.from({ length: column.size }, (_, k) => (operand === null ? null : c.get(operand.offset + k)));
  });
  const body = [...c.lines, ...finish(plan, passes, results, (j) => `out[at + ${j}]`)];
  return `'use strict';\nreturn function backward(v, seed, out, at) {\n${body.join('\n')}\n};`;
}

/** Forward mode: the columns' tangents are the seed; steps push forward from the first to the last. */
function tangentSource(plan: Plan, passes: Passes): string {
  const t = new Accumulators('t');
  for (const column of passes.lin.columns) {
    const operand = reached(plan, passes, column.node);
    if (operand !== null) for (let k = 0; k < column.size; k++) t.set(operand.offset + k, `seed[${column.offset + k}]`);
  }
  for (const step of passes.steps) {
    const { out, arg } = step;
    if (step.kind === 'elementwise') {
      for (let k = 0; k < out.size; k++) {
        const term = product(valueAt(step.d, k), t.get(arg.offset + (arg.size === 1 ? 0 : k)));
        if (term !== null) t.add(out.offset + k, term);
      }
    } else if (step.kind === 'row') {
      t.addSum(
        out.offset,
        Array.from({ length: arg.size }, (_, k) => product(valueAt(step.d, k), t.get(arg.offset + k))),
      );
    } else if (step.kind === 'select') {
      const { to, from } = step.map;
      for (let j = 0; j < to.length; j++) {
        const g = t.get(arg.offset + from[j]!);
        if (g !== null) t.add(out.offset + to[j]!, g);
      }
    }
  }
  const output = reached(plan, passes, passes.lin.output);
  const results = Array.from({ length: passes.output.size }, (_, i) =>
    output === null ? null : t.get(output.offset + i),
  );
  const body = [...t.lines, ...finish(plan, passes, results, (i) => `out[at + ${i} * stride]`)];
  return `'use strict';\nreturn function tangent(v, seed, out, at, stride) {\n${body.join('\n')}\n};`;
}
