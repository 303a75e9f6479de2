/**
 * Fused element-wise loops: consecutive steps of a pass that each work entry by entry over the same n entries
 * run as ONE generated loop, so that every entry is loaded once, each intermediate is carried in a local to the
 * steps after it, and the loop's overhead is paid once instead of once per step.
 *
 * A fused loop makes the same calls on the same numbers in the same order as the steps one by one: every entry
 * k of a step depends only on entry k of the steps before it (or on scalars fixed before the loop), so running
 * the steps entry by entry instead of step by step changes no result, to the last bit. Sums over the entries
 * (a scalar broadcast over the entries, pulled back, or a forward pass's sum) are formed in a local in ascending
 * k, a block (ops/sums.ts) per chunk of the loop, as the step forms them, and added after the loop in step order. In
 * the forward pass, a copy (a shift such as concat([1], y[1:end-1]), a slice, a concat) of vectors computed before
 * the loop is read where they are, at
 * an offset fixed within each of its pieces: the kernel holds one loop per stretch of entries where no offset
 * changes. A copy of a vector that the loop computes, at entry k or k − 1, reads the local of that vector, or its
 * value from the iteration before: the entries are formed in ascending k, so an ODE's stages and steps, each a
 * shift of the one before, run in one loop instead of one pass over memory each.
 *
 * The source of a loop is built from its structure only — which scalar function each step calls, which operand
 * is a local, a vector or a scalar — as generated names and slot indices; buffer offsets are passed in at run
 * time, so the many runs of one shape of chain (an ODE's steps) share one function, which V8 optimises once.
 * Scalar functions are passed in as values; compiled.ts's `generated` turns the source into a function.
 */
import { runsOf as mapRuns, runsUpTo, type IndexMap, type Operand } from '../ops/index.js';
import type { ScalarFunction } from '../ops/types.js';
import { CHUNK_ENTRIES, generated } from './compiled.js';
import { times } from './linear/product.js';
import {
  runSharedForwardLoop,
  runSharedPassLoop,
  sharedFunctionNames,
  type SharedLoop,
  type SharedPassLoop,
  worthSharing,
} from './threads.js';
import type { Step } from './linear/index.js';
import {
  isSimdOp,
  loopWork,
  simdKernel,
  simdLoopsForTests,
  simdPassKernel,
  simdPassSource,
  simdSource,
  type SimdOperand,
  type SimdPass,
  type SimdPassOperand,
  type SimdStep,
  worthSimd,
  worthSimdPass,
} from './simd.js';

/**
 * Steps are fused from this many entries on. A fused loop ran faster than its steps one by one at every length
 * measured, from 4 entries (forward 1.2–20×, reverse 2–5×, chains of 3–5 steps), but generating a new loop costs
 * about 80 µs (once per shape of chain: later plans reuse it): from 256 entries a loop repays that within about
 * three passes, where a call made once on small arrays would pay more than it saves.
 */
export const FUSE_FROM = 256;

/**
 * A forward loop holds at most this many steps. A copy that reads what its loop computes lets a loop run on through
 * many steps (an ODE's stages and steps). In GradBench's ode (Runge–Kutta, about 20 steps for each step of 4
 * stages, 2 segments) at n = 100 000, s = 100, a forward pass took 28–33 ms of CPU with loops of 40–64 steps, 52–115
 * ms with loops of 72–96 (V8 compiles a longer loop body less well), 36–40 ms with 24, and 90 ms unfused by stage.
 */
export const MAX_LOOP_STEPS = 48;

/** A generated loop and the buffer offsets it runs at. */
export interface FusedLoop<F> {
  readonly kernel: F;
  /** Its kernel for two threads (threads.ts); null for a loop too short to share. */
  readonly shared: SharedPassLoop | null;
  readonly offsets: readonly number[];
  readonly n: number;
  /** What the loop carries from one chunk to the next (its sums so far). */
  readonly carry: Float64Array;
  /** The generated source (for tests). */
  readonly source: string;
  /** Whether its kernels are WebAssembly (simd.ts), not the source's. */
  readonly simd: boolean;
}

/**
 * A forward loop: its kernel runs over the entries in ascending k, in consecutive segments, one loop each in the
 * kernel: a copy step reads its argument at a different offset in each of its pieces. A loop without copy steps
 * has one segment.
 */
export interface FusedForwardLoop {
  readonly kernel: FusedForwardKernel;
  /** The kernel over two whole chunks at once, from an even chunk (see fuseForward); null where there is none. */
  readonly paired: FusedForwardKernel | null;
  /** Its kernels for two threads (threads.ts); null for a loop too short, or that keeps locals across chunks. */
  readonly shared: SharedLoop | null;
  /** The buffer offsets, each segment's bounds and its copy steps' read offsets, as the kernel reads them. */
  readonly offsets: readonly number[];
  readonly n: number;
  /** What the loop carries from one chunk to the next: the locals whose values at k − 1 a copy reads. */
  readonly carry: Float64Array;
  /** The generated source (for tests). */
  readonly source: string;
  /** Whether its kernels are WebAssembly (simd.ts), not the source's. */
  readonly simd: boolean;
}

/**
 * A forward loop over its entries from `from` to `to` (excluded), after those before `from`. `carry`: what one
 * chunk leaves the next, on one thread; for a kernel of two threads (threads.ts), the buffer of block sums.
 */
export type FusedForwardKernel = (
  v: Float64Array,
  p: readonly number[],
  from: number,
  to: number,
  carry: Float64Array,
) => void;
/**
 * A derivative pass's loop over its entries from `from` to `to` (excluded) of n, after those before `from`: `c` is
 * the cotangent or tangent buffer; `carry` as in FusedForwardKernel.
 */
export type FusedPassKernel = (
  v: Float64Array,
  c: Float64Array,
  p: readonly number[],
  n: number,
  from: number,
  to: number,
  carry: Float64Array,
) => void;

/**
 * Runs a forward loop over its n entries: on two threads where it is long enough and can (threads.ts), else chunk
 * by chunk (see CHUNK_ENTRIES), two at a time where it can.
 */
export function runForwardLoop(loop: FusedForwardLoop, v: Float64Array): void {
  const { kernel, paired, shared, offsets, n, carry } = loop;
  if (shared !== null && runSharedForwardLoop(shared, offsets, n, v)) return;
  let from = 0;
  if (paired !== null)
    for (; from + 2 * CHUNK_ENTRIES <= n; from += 2 * CHUNK_ENTRIES)
      paired(v, offsets, from, from + 2 * CHUNK_ENTRIES, carry);
  for (; from < n; from += CHUNK_ENTRIES) kernel(v, offsets, from, Math.min(from + CHUNK_ENTRIES, n), carry);
}

/** Runs a derivative pass's loop over its n entries: on two threads where it can (threads.ts), else chunk by chunk. */
export function runPassLoop(loop: FusedLoop<FusedPassKernel>, v: Float64Array, c: Float64Array): void {
  const { kernel, shared, offsets, n, carry } = loop;
  if (shared !== null && runSharedPassLoop(shared, offsets, n, v, c)) return;
  for (let from = 0; from < n; from += CHUNK_ENTRIES)
    kernel(v, c, offsets, n, from, Math.min(from + CHUNK_ENTRIES, n), carry);
}
/** An element-wise step of the forward pass: out[k] = scalar(operands at k), a scalar operand broadcast. */
export interface ForwardEntryStep {
  readonly scalar: ScalarFunction;
  readonly out: Operand;
  readonly args: readonly Operand[];
}

/** Entries `start` ≤ k < `end` of a copy's output are the entries of argument `arg` from `from` on. */
export interface CopyPiece {
  readonly start: number;
  readonly end: number;
  readonly arg: number;
  readonly from: number;
}

/**
 * A step of the forward pass that copies entries (a select or a concat whose maps are a few runs, such as a
 * shift): out[k] is entry k − start + from of its piece's argument, so a loop reads it where it is, at an offset
 * fixed within each piece, instead of a pass making the copy first.
 */
export interface ForwardCopyStep {
  readonly out: Operand;
  readonly args: readonly Operand[];
  readonly pieces: readonly CopyPiece[];
}

/**
 * A sum of the loop's n entries of `arg` into the scalar `out`, from −0 in ascending k in blocks of SUM_BLOCK as the
 * sum's own kernel adds them (one chunk of the loop is one block): formed in a local, across the loop's segments.
 */
export interface ForwardSumStep {
  readonly out: Operand;
  readonly arg: Operand;
}

export type ForwardStep = ForwardEntryStep | ForwardCopyStep | ForwardSumStep;

/** A copy step joins a loop when its maps are at most this many runs: each piece boundary splits the loop. */
const MAX_COPY_PIECES = 4;

/**
 * The pieces of a copy by the maps of its arguments (`maps[i]` places argument i's entries), in order of their
 * output entries; null unless they are at most MAX_COPY_PIECES runs that write each of the n entries once. Each
 * entry is then a copy of one input entry, as the copy's kernel makes it (a sum from −0 of one number is the
 * number, bit for bit).
 */
export function copyPieces(maps: readonly IndexMap[], n: number): CopyPiece[] | null {
  const pieces: CopyPiece[] = [];
  for (let arg = 0; arg < maps.length; arg++) {
    // A long map's runs are found once (they serve its values and passes too); a short one's, here.
    const map = maps[arg]!;
    const runs = mapRuns(map) ?? runsUpTo(map, MAX_COPY_PIECES - pieces.length);
    if (runs === null || pieces.length + runs.length / 3 > MAX_COPY_PIECES) return null;
    for (let r = 0; r < runs.length; r += 3)
      pieces.push({ start: runs[r]!, end: runs[r]! + runs[r + 2]!, arg, from: runs[r + 1]! });
  }
  pieces.sort((x, y) => x.start - y.start);
  let end = 0;
  for (const piece of pieces) {
    if (piece.start !== end) return null;
    end = piece.end;
  }
  return end === n ? pieces : null;
}

const isCopy = (step: ForwardStep): step is ForwardCopyStep => 'pieces' in step;
const isSum = (step: ForwardStep): step is ForwardSumStep => 'arg' in step;

/** Numbers each distinct function and offset in order of first use: the structure of a loop, not its places. */
class Slots<K> {
  readonly keys: K[] = [];
  private readonly index = new Map<K, number>();

  slot(key: K): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.index.set(key, i);
      this.keys.push(key);
    }
    return i;
  }
}

/** Generated kernels by structure; a process that meets very many structures starts the cache again. */
const kernels = new Map<string, unknown>();
const MAX_KERNELS = 4096;
const functionIds = new Map<ScalarFunction, number>();
const functionId = (f: ScalarFunction): number => {
  let id = functionIds.get(f);
  if (id === undefined) functionIds.set(f, (id = functionIds.size));
  return id;
};

/** The kernel of this structure, generated the first time it is met. */
function kernelFor<F>(key: string, source: string, values: readonly object[]): F {
  let kernel = kernels.get(key);
  if (kernel === undefined) {
    if (kernels.size >= MAX_KERNELS) kernels.clear();
    kernels.set(key, (kernel = generated<F>(source, values)));
  }
  return kernel as F;
}

/**
 * Splits `items` into runs: an item joins the run before it when `joins(run, item)` says so. Runs keep the
 * items' order.
 */
export function runsOf<T>(items: readonly T[], joins: (run: readonly T[], item: T) => boolean): T[][] {
  const runs: T[][] = [];
  for (const item of items) {
    const last = runs[runs.length - 1];
    if (last !== undefined && joins(last, item)) last.push(item);
    else runs.push([item]);
  }
  return runs;
}

/** Whether an element-wise step can run entry by entry in a loop over n entries: its operands are n or 1 long. */
export const fusibleForward = (step: Pick<ForwardEntryStep, 'out' | 'args'>, n: number): boolean =>
  step.out.size === n && step.args.length <= 2 && step.args.every((a) => a.size === n || a.size === 1);

/**
 * Whether a copy step can read, in a loop, the vector `arg` that an earlier step of the loop computes: every piece
 * of it reads entry k or k − 1 (as a shift does), which the loop has formed by the time it reaches entry k.
 */
export const readsBehind = (pieces: readonly CopyPiece[], arg: number): boolean =>
  pieces.every((piece) => piece.arg !== arg || piece.start - piece.from === 0 || piece.start - piece.from === 1);

/**
 * The names one entry's statements use: the entry's index, its locals' prefix and its sums' prefix. A paired kernel
 * writes the statements twice, for entry k of its chunk and entry k2 of the next.
 */
interface Lane {
  readonly k: string;
  readonly x: string;
  readonly sum: string;
}
const LANES: readonly [Lane, Lane] = [
  { k: 'k', x: 'x', sum: 'sum' },
  { k: 'k2', x: 'y', sum: 'sumB' },
];

/** A loop with sums and no more steps than this also gets a paired kernel (twice the body, twice the locals). */
const MAX_PAIRED_STEPS = 16;

/**
 * One loop for forward steps at one n: element-wise steps that `fusibleForward` accepts, copy steps, and sums of n
 * entries, which no step of the loop reads. Each vector output is a local that later steps read, written to the
 * buffer where `stored` says something else reads it (one flag per step); a sum is written after the loop. A copy
 * reads an argument computed before the loop from the buffer, and one the loop computes (where `readsBehind`
 * allows) from its local at entry k, or from the local's value at entry k − 1, kept across the iterations. The
 * loop runs in segments, one loop each in the kernel, over the stretches of entries where every copy step reads
 * within one piece; the locals kept across iterations carry over from one segment to the next.
 *
 * A loop of one segment that sums and keeps no local across iterations also gets a paired kernel: two chunks side
 * by side, entry k of one and entry k of the next in each iteration. Each chunk is one block of its sums (ops/sums.ts),
 * so the numbers are the same; the two sums are two chains of additions the processor runs at once instead of one
 * whose every addition waits for the one before (lse's loop of exp and sum alone: up to a third less time; its primal
 * about 7% less).
 */
export function fuseForward(steps: readonly ForwardStep[], stored: readonly boolean[]): FusedForwardLoop {
  const n = steps[0]!.out.size;
  const functions = new Slots<ScalarFunction>();
  const places = new Slots<number>();
  // A segment's bounds and its copies' read offsets, after the places: their slots are numbered after the loop.
  const segmentReads: number[] = [];
  const locals = new Map<number, number>();
  const hoisted = new Set<string>();
  const kept = new Set<number>();
  /** The body's statements, for one lane's names; a copy's read depends on the segment. */
  const body: ((lane: Lane, from: number) => string)[] = [];
  /** Each sum's step and place. */
  const sums: [number, number][] = [];
  /** The loop as SIMD code takes it (simd.ts); null once a step has no SIMD rule. */
  let simdSteps: SimdStep[] | null = [];
  /** Entry k of a vector operand, or a scalar operand read before the loop: its text, and its SIMD operand. */
  const operand = (arg: Operand): [(lane: Lane) => string, SimdOperand] => {
    const local = locals.get(arg.offset);
    if (arg.size === n && local !== undefined) return [(lane) => `${lane.x}${local}`, { local }];
    const p = places.slot(arg.offset);
    if (arg.size === n) return [(lane) => `v[p${p} + ${lane.k}]`, { vector: p }];
    hoisted.add(`const s${p} = v[p${p}];`);
    return [() => `s${p}`, { scalar: p }];
  };
  steps.forEach((step, j) => {
    if (isSum(step)) {
      const into = places.slot(step.out.offset);
      sums.push([j, into]);
      const [term, sumOf] = operand(step.arg);
      body.push((lane) => `${lane.sum}${j} += ${term(lane)};`);
      simdSteps?.push({ sumOf, into });
      return;
    }
    if (isCopy(step)) {
      simdSteps = null;
      const read = copyRead(step, locals, kept);
      body.push((lane, from) => {
        const value = read(from);
        if (typeof value === 'number') {
          segmentReads.push(value);
          return `const ${lane.x}${j} = v[r${segmentReads.length - 1} + ${lane.k}];`;
        }
        return `const ${lane.x}${j} = ${value.behind ? 'q' : lane.x}${value.local};`;
      });
    } else {
      const f = functions.slot(step.scalar);
      const args = step.args.map(operand);
      body.push((lane) => `const ${lane.x}${j} = f${f}(${args.map(([arg]) => arg(lane)).join(', ')});`);
      const op = sharedFunctionNames([step.scalar])?.[0];
      const store = stored[j] ? places.slot(step.out.offset) : null;
      if (op === undefined || !isSimdOp(op)) simdSteps = null;
      else simdSteps?.push({ op, args: args.map(([, simd]) => simd), store });
    }
    locals.set(step.out.offset, j);
    if (stored[j]) {
      const p = places.slot(step.out.offset);
      body.push((lane) => `v[p${p} + ${lane.k}] = ${lane.x}${j};`);
    }
  });
  const [lane, next] = LANES;
  const segments = segmentStarts(steps).map((from, s, starts) => {
    segmentReads.push(from, starts[s + 1] ?? n);
    const bounds = segmentReads.length - 2;
    return { bounds, statements: body.map((statement) => statement(lane, from)) };
  });
  // Known once every segment's copies are read: the locals whose values at k − 1 some copy reads.
  const carry = [...kept].map((j) => `q${j} = x${j};`);
  // Each segment's loop runs over its part of the chunk.
  const loops = segments.flatMap(({ bounds, statements }) => [
    `for (let k = Math.max(r${bounds}, from), end = Math.min(r${bounds + 1}, to); k < end; k++) {`,
    ...statements,
    ...carry,
    `}`,
  ]);
  const keptLocals = [...kept];
  // Two chunks from `from`: the loop's one segment, entry k2 of the second chunk beside entry k of the first (its
  // statements made before the head, which declares every read offset they use).
  const pairedStatements =
    sums.length > 0 &&
    keptLocals.length === 0 &&
    segments.length === 1 &&
    steps.length <= MAX_PAIRED_STEPS &&
    n >= 2 * CHUNK_ENTRIES
      ? [...segments[0]!.statements, ...body.map((statement) => statement(next, 0))]
      : null;
  const head = (parameters: string): string[] => [
    `'use strict';`,
    `return function fusedForward(${parameters}) {`,
    ...places.keys.map((_, p) => `const p${p} = p[${p}];`),
    ...segmentReads.map((_, r) => `const r${r} = p[${places.keys.length + r}];`),
    ...hoisted,
  ];
  // A chunk is one block of each sum (ops/sums.ts): its sum from -0, added to the sum so far in the buffer, which no
  // step of the loop reads (-0 + b is b: the first block's sum is the sum so far), or, on two threads, written to
  // the chunk's place in `b`, whose blocks the runner adds in chunk order.
  const blockSums = (name: string): string[] => sums.map(([j]) => `let ${name}${j} = -0;`);
  const sumSoFar = (j: number, p: number): string => `(from === 0 ? sum${j} : v[p${p}] + sum${j})`;
  const toBlocks = (name: string, chunk: string): string[] =>
    sums.map(([j], s) => `b[(${chunk}) * ${sums.length} + ${s}] = ${name}${j};`);
  const chunkOfFrom = `from / ${CHUNK_ENTRIES}`;
  const single = (shared: boolean): string =>
    [
      ...head(shared ? 'v, p, from, to, b' : 'v, p, from, to, carry'),
      ...blockSums(lane.sum),
      ...keptLocals.map((j, i) => `let q${j} = from === 0 ? 0 : carry[${i}];`),
      ...loops,
      ...keptLocals.map((j, i) => `carry[${i}] = q${j};`),
      ...(shared ? toBlocks(lane.sum, chunkOfFrom) : sums.map(([j, p]) => `v[p${p}] = ${sumSoFar(j, p)};`)),
      `};`,
    ].join('\n');
  const paired = (shared: boolean): string | null =>
    pairedStatements === null
      ? null
      : [
          ...head(shared ? 'v, p, from, to, b' : 'v, p, from, to, carry'),
          ...blockSums(lane.sum),
          ...blockSums(next.sum),
          `for (let k = from, end = from + ${CHUNK_ENTRIES}; k < end; k++) {`,
          `const k2 = k + ${CHUNK_ENTRIES};`,
          ...pairedStatements,
          `}`,
          ...(shared
            ? [...toBlocks(lane.sum, chunkOfFrom), ...toBlocks(next.sum, `${chunkOfFrom} + 1`)]
            : sums.map(([j, p]) => `v[p${p}] = ${sumSoFar(j, p)} + ${next.sum}${j};`)),
          `};`,
        ].join('\n');
  // The source names functions by their slot: with the functions' identities it is the structure's key.
  const ids = functions.keys.map(functionId).join(',');
  const kernelOf = <F>(text: string): F => kernelFor<F>(`${ids}\n${text}`, text, functions.keys);
  const source = single(false);
  const pairedSource = paired(false);
  // A loop that keeps no local across chunks can run its chunks in any order, on two threads (threads.ts): its
  // kernels for them are made where it is long enough.
  let shared: SharedLoop | null = null;
  const simd = simdSteps !== null && keptLocals.length === 0 ? { places: places.keys.length, steps: simdSteps } : null;
  // An exp weighs as several steps (loopWork): a loop of exp shares from fewer entries than one of additions.
  const work = simd === null ? steps.length : loopWork(simd);
  const names = keptLocals.length === 0 && worthSharing(n, work) ? sharedFunctionNames(functions.keys) : null;
  if (names !== null) {
    const sharedSource = single(true);
    const sharedPaired = paired(true);
    shared = {
      kernel: kernelOf<FusedForwardKernel>(sharedSource),
      paired: sharedPaired === null ? null : kernelOf<FusedForwardKernel>(sharedPaired),
      source: sharedSource,
      pairedSource: sharedPaired,
      functions: names,
      simd: null,
      work: n * work,
      sums: sums.map(([, p]) => places.keys[p]!),
    };
  }
  const offsets = [...places.keys, ...segmentReads];
  const carried = new Float64Array(keptLocals.length);
  // A loop of SIMD rules alone runs as WebAssembly where that repays copying its operands in and out.
  const simdText = simd !== null && !simdLoopsForTests.off && worthSimd(simd) ? simdSource(simd) : null;
  const simdOne = simdText === null ? null : simdKernel(simdText, false, kernelOf<FusedForwardKernel>(source));
  if (simdText !== null && simdOne !== null) {
    const simdShared = shared === null ? null : simdKernel(simdText, true, shared.kernel);
    return {
      kernel: simdOne,
      paired: null,
      shared:
        shared === null || simdShared === null
          ? null
          : { ...shared, kernel: simdShared, paired: null, pairedSource: null, simd: simdText },
      offsets,
      n,
      carry: carried,
      source,
      simd: true,
    };
  }
  return {
    kernel: kernelOf<FusedForwardKernel>(source),
    paired: pairedSource === null ? null : kernelOf<FusedForwardKernel>(pairedSource),
    shared,
    offsets,
    n,
    carry: carried,
    source,
    simd: false,
  };
}

/**
 * How a copy step reads entry k in the segment from `from` on: a local of the loop (its step, and whether it is the
 * local's value at entry k − 1), or the buffer at an offset (a number). The steps whose values at k − 1 it reads are
 * added to `kept`.
 */
function copyRead(
  step: ForwardCopyStep,
  locals: ReadonlyMap<number, number>,
  kept: Set<number>,
): (from: number) => { readonly local: number; readonly behind: boolean } | number {
  // The loop's locals that the pieces read, as they are at the copy step.
  const pieceLocals = step.pieces.map((piece) => locals.get(step.args[piece.arg]!.offset));
  return (from) => {
    const at = step.pieces.findIndex((p) => p.start <= from && from < p.end);
    const piece = step.pieces[at]!;
    const local = pieceLocals[at];
    if (local === undefined) return step.args[piece.arg]!.offset + piece.from - piece.start;
    if (piece.start === piece.from) return { local, behind: false };
    kept.add(local);
    return { local, behind: true };
  };
}

/** Where the segments of a loop start: at 0, and where a copy step's piece changes. */
function segmentStarts(steps: readonly ForwardStep[]): number[] {
  const starts = new Set([0]);
  for (const step of steps) if (isCopy(step)) for (const piece of step.pieces) starts.add(piece.start);
  return [...starts].sort((x, y) => x - y);
}

/** A step of a derivative pass that works entry by entry: element-wise partials and rows (reductions). */
export type EntryStep = Extract<Step, { readonly kind: 'elementwise' | 'row' }>;

/**
 * Whether `step` can join a loop over n entries after `run` in a pass going `direction`: an element-wise step n
 * entries long (its argument n long, or a scalar) or a row (a reduction's partial) of an n-entry argument. What
 * a scalar carries is formed in the loop (a sum) or read before it, so a step may not read a scalar that an
 * earlier step of the run sums into: in reverse, a row's output cotangent that an element-wise step with a
 * scalar argument adds to; forward, an element-wise step's scalar argument whose tangent a row adds to.
 */
export function fusibleEntryStep(
  step: Step,
  n: number,
  run: readonly Step[],
  direction: 'reverse' | 'forward',
): step is EntryStep {
  if (step.kind === 'elementwise') {
    if (step.out.size !== n || !(step.arg.size === n || step.arg.size === 1)) return false;
    return direction === 'reverse' || step.arg.size === n || !run.some((s) => sums(s, step.arg.offset, 'forward'));
  }
  if (step.kind !== 'row' || step.arg.size !== n) return false;
  return direction === 'forward' || !run.some((s) => sums(s, step.out.offset, 'reverse'));
}

/** Whether the step forms a sum over its entries into the scalar at `offset` in a pass going `direction`. */
const sums = (step: Step, offset: number, direction: 'reverse' | 'forward'): boolean =>
  direction === 'reverse'
    ? step.kind === 'elementwise' && step.arg.size === 1 && step.arg.offset === offset
    : step.kind === 'row' && step.out.offset === offset;

/** The entries an entry-wise step loops over. */
const entryStepLength = (step: EntryStep): number => (step.kind === 'row' ? step.arg.size : step.out.size);

/** Where a fused pass loop finds and leaves the (co)tangent of one of its vector nodes. */
export interface CarriedUse {
  /** Some step outside the loop (or the seed) adds to it first: the loop starts from the buffer's entries. */
  readonly load: boolean;
  /** Some step outside the loop (or the caller) reads it after: the loop writes the entries it adds to. */
  readonly store: boolean;
}

/**
 * One loop for entry-wise steps of a derivative pass, in the order the pass runs them, at one n (as
 * `fusibleEntryStep` accepts them): each (co)tangent entry is carried in a local, which starts from the buffer
 * when `use` says it loads (else from +0, what a cleared buffer holds) and is written back when it stores.
 * Reverse: cotangent[arg] += times(cotangent[out], d); a row's scalar cotangent is read before the loop and
 * skipped when 0, as row.pullback does; a sum into a scalar argument is formed in the loop and added after it.
 * Forward: tangent[out] += times(d, tangent[arg]), a scalar argument's tangent read before the loop; a row's sum
 * is formed in the loop and added after it. The products and sums are the kernels' own (linear/elementwise.ts,
 * linear/row.ts), in their order.
 */
export function fusePass(
  direction: 'reverse' | 'forward',
  steps: readonly EntryStep[],
  use: (offset: number) => CarriedUse,
): FusedLoop<FusedPassKernel> {
  const n = entryStepLength(steps[0]!);
  const places = new Slots<number>();
  const locals = new Map<number, string>();
  const written = new Set<number>();
  const before: string[] = [];
  const body: string[] = [];
  const place = (offset: number): string => `p${places.slot(offset)}`;
  /** The loop's steps as SIMD code takes them (simd.ts), by slot. */
  const simdSteps: SimdPass['steps'][number][] = [];
  /** The partial's entry k, or its one number read before the loop; and as a SIMD operand. */
  const partial = (d: Operand, name: string): [string, SimdPassOperand] => {
    if (d.size === n) return [`v[${place(d.offset)} + k]`, { partial: places.slot(d.offset) }];
    before.push(`const ${name} = v[${place(d.offset)}];`);
    return [name, { scalar: { array: 'v', place: places.slot(d.offset) } }];
  };
  /** The entry k carried for a vector node, in its local from the node's first use. */
  const carried = (offset: number): string => {
    let local = locals.get(offset);
    if (local === undefined) {
      local = `c${places.slot(offset)}`;
      locals.set(offset, local);
      body.push(`let ${local} = ${use(offset).load ? `c[${place(offset)} + k]` : '0'};`);
    }
    return local;
  };
  const carriedOperand = (offset: number): { readonly carried: number } => ({ carried: places.slot(offset) });
  const add = (offset: number, term: string, a: SimdPassOperand, b: SimdPassOperand): void => {
    body.push(`${carried(offset)} += ${term};`);
    written.add(offset);
    simdSteps.push({ into: carriedOperand(offset), a, b, unlessZero: null });
  };
  /** Each sum's step, the node it is added to, and that node's place. */
  const sums: [number, number, string][] = [];
  const sum = (j: number, term: string, target: number, a: SimdPassOperand, b: SimdPassOperand): void => {
    sums.push([j, target, place(target)]);
    before.push(`let sum${j} = 0;`);
    body.push(`sum${j} += ${term};`);
    simdSteps.push({ into: { sum: sums.length - 1 }, a, b, unlessZero: null });
  };
  steps.forEach((step, j) => {
    const [d, dOperand] = partial(step.d, `d${j}`);
    if (direction === 'reverse') {
      if (step.kind === 'row') {
        before.push(`const g${j} = c[${place(step.out.offset)}];`);
        body.push(`if (g${j} !== 0) ${carried(step.arg.offset)} += f0(g${j}, ${d});`);
        written.add(step.arg.offset);
        const g = places.slot(step.out.offset);
        simdSteps.push({
          into: carriedOperand(step.arg.offset),
          a: { scalar: { array: 'c', place: g } },
          b: dOperand,
          unlessZero: g,
        });
      } else if (step.arg.size === n)
        add(step.arg.offset, `f0(${carried(step.out.offset)}, ${d})`, carriedOperand(step.out.offset), dOperand);
      else sum(j, `f0(${carried(step.out.offset)}, ${d})`, step.arg.offset, carriedOperand(step.out.offset), dOperand);
    } else if (step.kind === 'row')
      sum(j, `f0(${d}, ${carried(step.arg.offset)})`, step.out.offset, dOperand, carriedOperand(step.arg.offset));
    else if (step.arg.size === n)
      add(step.out.offset, `f0(${d}, ${carried(step.arg.offset)})`, dOperand, carriedOperand(step.arg.offset));
    else {
      before.push(`const t${j} = c[${place(step.arg.offset)}];`);
      add(step.out.offset, `f0(${d}, t${j})`, dOperand, {
        scalar: { array: 'c', place: places.slot(step.arg.offset) },
      });
    }
  });
  for (const [offset, local] of locals)
    if (written.has(offset) && use(offset).store) body.push(`c[${place(offset)} + k] = ${local};`);
  const name = `fused${direction === 'reverse' ? 'Pullback' : 'Pushforward'}`;
  const sourceOf = (parameters: string, end: readonly string[]): string =>
    [
      `'use strict';`,
      `return function ${name}(${parameters}) {`,
      ...places.keys.map((_, p) => `const p${p} = p[${p}];`),
      ...before,
      `for (let k = from; k < to; k++) {`,
      ...body,
      `}`,
      ...end,
      `};`,
    ].join('\n');
  // A chunk is one block of a sum (ops/sums.ts): its sum from 0, added to the sum so far that the carry holds from
  // chunk to chunk, and to its node once, after the last chunk, as the step's kernel adds it; on two threads, written
  // to the chunk's place among the blocks, which the runner adds in order.
  const source = sourceOf(
    'v, c, p, n, from, to, carry',
    sums.flatMap(([j, , target], slot) => [
      `carry[${slot}] = from === 0 ? sum${j} : carry[${slot}] + sum${j};`,
      `if (to === n) c[${target}] += carry[${slot}];`,
    ]),
  );
  // As SIMD code where that repays copying its operands in and out (worthSimdPass).
  const simdPass: SimdPass = {
    places: places.keys.length,
    carried: [...locals.keys()].map((offset) => ({
      place: places.slot(offset),
      load: use(offset).load,
      store: written.has(offset) && use(offset).store,
    })),
    steps: simdSteps,
    sums: sums.map(([, target]) => places.slot(target)),
  };
  const simdText = simdLoopsForTests.off || !worthSimdPass(simdPass, n) ? null : simdPassSource(simdPass);
  const simdOne = simdText === null ? null : simdPassKernel(simdText, false);
  const names = worthSharing(n, steps.length) ? sharedFunctionNames([times]) : null;
  const sharedOf = (functions: readonly string[]): SharedPassLoop => {
    const sharedSource = sourceOf(
      'v, c, p, n, from, to, b',
      sums.map(([j], slot) => `b[(from / ${CHUNK_ENTRIES}) * ${sums.length} + ${slot}] = sum${j};`),
    );
    const simdShared = simdOne === null ? null : simdPassKernel(simdText!, true);
    return {
      kernel: simdShared ?? kernelFor<FusedPassKernel>(sharedSource, sharedSource, [times]),
      source: sharedSource,
      pairedSource: null,
      functions,
      simd: simdShared === null ? null : simdText,
      work: n * steps.length,
      sums: sums.map(([, target]) => target),
    };
  };
  // A source is a function of the structure alone: it is its own key.
  return {
    kernel: simdOne ?? kernelFor<FusedPassKernel>(source, source, [times]),
    shared: names === null ? null : sharedOf(names),
    offsets: places.keys,
    n,
    carry: new Float64Array(sums.length),
    source,
    simd: simdOne !== null,
  };
}
