/**
 * Large fused loops on two threads (forward loops, and the loops of the derivative passes), and large reductions
 * done in pieces (max and min of all entries, a gradient's questions of them, the passes' check of their partials
 * for a number that is not finite): the main thread and one helper thread
 * (loop-worker.ts) take the job's units (a chunk, or a pair of chunks where a forward loop has a paired kernel, or a
 * reduction's piece) in turn, by an atomic counter tagged with the job, and run the loop's kernel on them over the
 * shared buffers. A loop's unit writes its chunks' sums into a buffer of block sums, one per chunk, which the main
 * thread adds in chunk order after the loop, as the one-thread loop adds them (ops/sums.ts); a reduction's piece
 * writes its summary there, which the main thread folds in order: every number is the one-thread one, to the bit.
 *
 * The main thread returns only when every unit is done: it waits for the unit the helper is on (a few thousand
 * entries), so the helper never writes after the loop has ended. A helper that wakes after the main thread took the
 * last unit takes nothing: the counter is exhausted, or tagged with a later job. The kernels and buffers reach the
 * helper on a MessagePort before the job is published; the helper makes each kernel from its source (numbers and
 * generated names) and the table's scalar functions, named by operation.
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import { OP_NAMES, OPS, type PieceReduction, timesZeroInPieces } from '../ops/index.js';
import { bufferId, coreFree, type HelperData, helperModuleUrl, HelperSlot, hold } from '../ops/parallel.js';
import type { ScalarFunction } from '../ops/types.js';
import { CHUNK_ENTRIES, generated } from './compiled.js';
import type { FusedForwardKernel, FusedPassKernel } from './fusion.js';
import { times } from './linear/product.js';
import { sharedSimdKernel } from './simd.js';

/** A loop's kernels as the helper makes them: from their sources and the table's functions they name. */
interface LoopCode {
  readonly source: string;
  readonly pairedSource: string | null;
  /** A SIMD loop's structure (simd.ts's simdSource), whose kernel runs instead of the source's; else null. */
  readonly simd: string | null;
  /** The names of the scalar functions the kernels call, by slot (sharedFunctionNames). */
  readonly functions: readonly string[];
  /** Its work in steps of arithmetic (entries × steps, an exp weighing more: simd.ts's loopWork). */
  readonly work: number;
}

/** What a fused forward loop needs to run on two threads (fusion.ts makes it for loops that keep no locals). */
export interface SharedLoop extends LoopCode {
  readonly kernel: FusedForwardKernel;
  readonly paired: FusedForwardKernel | null;
  /** Where each sum of the loop goes in the value buffer, by slot. */
  readonly sums: readonly number[];
}

/** What a derivative pass's fused loop needs to run on two threads (it has no paired kernel). */
export interface SharedPassLoop extends LoopCode {
  readonly kernel: FusedPassKernel;
  readonly pairedSource: null;
  /** Where each sum of the loop is added in the (co)tangent buffer, by slot. */
  readonly sums: readonly number[];
}

/** Loops from this many chunks on are shared, so that the two threads' shares come out even. */
export const SHARED_LOOP_CHUNKS = 16;
/**
 * ...and from this much work (entries × steps): a job's hand-off and the wait for the helper's last unit cost some
 * tens of microseconds, which a loop of a few cheap steps over 70 000 entries does not repay (GradBench's ba: its
 * objective 136 → 209 ms shared from 16 chunks on); lse's exp and sum over 1.28 M entries is 3.8 M.
 */
export const SHARED_LOOP_WORK = 1 << 21;
/** Whether a loop of n entries, `steps` steps an entry, is worth two threads (its kernels for them are made then). */
export const worthSharing = (n: number, steps: number): boolean =>
  Math.ceil(n / CHUNK_ENTRIES) >= SHARED_LOOP_CHUNKS && n * steps >= loopThreadsForTests.minWork;

/** A reduction's pieces: a unit of work between two claims (about 10 µs of a max), and few summaries to fold. */
export const REDUCTION_PIECE = 4 * CHUNK_ENTRIES;
/**
 * Reductions are shared from this many entries on: a max over them takes about 0.2 ms on one thread, against some
 * tens of microseconds for a job's hand-off and the wait for the helper's last piece.
 */
export const SHARED_REDUCTION_FROM = 1 << 18;
/** Whether a reduction of n entries is worth two threads. */
export const worthSharingReduction = (n: number): boolean => n >= loopThreadsForTests.minReduction;

/**
 * The helper thread starts once the jobs it could have shared add up to this much work (steps of arithmetic, about
 * 10 ms on one thread): its start costs tens of milliseconds of the other core and 8 MB of fresh memory, which a
 * process that shares one small job never repays. `tanh(W*x+b)` at n = 1000 checks its million partials once (0.5 ms
 * of work); started for that, the helper cost the whole process about 20 ms and 2 000 page faults.
 */
export const HELPER_START_WORK = 1 << 24;

/** The most offsets a shared loop's kernel reads (the job's fields hold them). */
const MAX_OFFSETS = 128;
/** A helper that finishes no unit in this long has stopped: the main thread does its units again. */
const STALLED_MS = 10_000;

// The control block's Int32 fields.
const GENERATION = 0; // bumped (and notified) for every job: the helper's wake-up
const JOB = 1; // the job whose fields are written
const CLAIM = 2; // the job's tag | the next unit to take
const HELPER_DONE = 3; // units the helper has finished in this job
const JOINED = 4; // the last job the helper read (for tests)
const FAILED = 5; // 1 once a kernel threw on the helper: its jobs are done again here
const CONTROL_FIELDS = 6;
/** The job's tag in CLAIM, above the unit's index (units < 2^19); jobs are numbered from 1, so no tag is 0. */
const tagOf = (job: number): number => (job & 0xfff) << 19;
/** CLAIM between jobs: no job's tag. */
const CLOSED = 0;
const UNIT_MASK = (1 << 19) - 1;

// The job's Float64 fields.
const KERNEL = 0; // a loop's kernel id, or a reduction's (reductionId)
const PAIRED = 1; // the paired kernel's id, or -1
const VALUES = 2;
const BLOCKS = 3;
const ENTRIES = 4;
const UNITS = 5;
const UNIT_CHUNKS = 6;
const OFFSET_COUNT = 7;
const KIND = 8; // FORWARD, PASS or REDUCE
const TANGENTS = 9; // a pass's (co)tangent buffer
const OFFSETS = 10;
const FORWARD = 0;
const PASS = 1;
const REDUCE = 2;
const JOB_FIELDS = OFFSETS + MAX_OFFSETS;

/** A message to the helper: kernels to make, buffers to hold and to drop, sent before the job that needs them. */
interface HelperMessage {
  readonly kernels: readonly {
    readonly id: number;
    readonly source: string;
    readonly functions: readonly string[];
    readonly simd: string | null;
  }[];
  readonly buffers: readonly (readonly [number, Float64Array])[];
  readonly drop: readonly number[];
}

let lastJob = 0;
const kernelIds = new Map<string, number>();
const kernelsHeld = new Set<number>();
/** The ids of the buffers the helper holds (parallel.ts's `hold`). */
let buffersHeld: number[] = [];
/** The jobs' block sums, shared memory from the first job with sums (grown, never shrunk). */
let blockSums: Float64Array = new Float64Array(0);

/**
 * For tests: `joinFirst` makes the main thread wait (up to 20 s) for the helper to take its first unit of each job
 * before it takes any, so that both threads compute; `helperUnits` counts the units the helper ran; `minWork`,
 * `minReduction` and `stalledMs` replace SHARED_LOOP_WORK, SHARED_REDUCTION_FROM and STALLED_MS.
 */
export const loopThreadsForTests = {
  joinFirst: false,
  helperUnits: 0,
  minWork: SHARED_LOOP_WORK,
  minReduction: SHARED_REDUCTION_FROM,
  stalledMs: STALLED_MS,
};
/** The control block's fields, for a test's own helper. */
export const LOOP_CONTROL = { GENERATION, JOB, CLAIM, JOINED } as const;

/** The functions a shared kernel may call, by name, and their names: the table's scalar functions, and `times`. */
interface FunctionTable {
  readonly byName: Map<string, ScalarFunction>;
  readonly names: Map<ScalarFunction, string>;
}
let sharedFunctions: FunctionTable | undefined;
function functionTable(): FunctionTable {
  if (sharedFunctions === undefined) {
    const byName = new Map<string, ScalarFunction>([
      ['times', times],
      ...OP_NAMES.flatMap((op) => {
        const scalar = OPS[op].scalar;
        return scalar === undefined ? [] : [[op, scalar] as const];
      }),
    ]);
    sharedFunctions = { byName, names: new Map([...byName].map(([name, f]) => [f, name])) };
  }
  return sharedFunctions;
}
const functionByName = (name: string): ScalarFunction | undefined => functionTable().byName.get(name);

/** The names by which the helper finds a kernel's functions; null if one is not the table's (the loop stays here). */
export function sharedFunctionNames(functions: readonly ScalarFunction[]): string[] | null {
  const names = functions.map((f) => functionTable().names.get(f));
  return names.every((name) => name !== undefined) ? (names as string[]) : null;
}

const loops = new HelperSlot(
  () => helperModuleUrl(import.meta.url, 'threads', 'loop-worker'),
  CONTROL_FIELDS,
  JOB_FIELDS,
  () => {
    kernelsHeld.clear();
    buffersHeld = [];
  },
  HELPER_START_WORK,
);

/** Whether the loop helper has been started (or found unable to run): for tests. */
export const loopHelperStarted = (): boolean => loops.started;

/**
 * Starts the helper from `url` instead of its module, or stops using any helper (null), or goes back to a process's
 * start (undefined: its own helper, once the jobs are worth it): for tests.
 */
export function useLoopHelperFrom(url: URL | null | undefined): void {
  loops.use(url);
}

/**
 * The id of a kernel (its source, the functions its slots name, its SIMD structure), and the message part that makes
 * it on the helper if the helper has not got it. One source serves every loop of its shape (the sum of sin and
 * the sum of cos): keyed by its source alone, the second loop's units ran the first one's functions on the helper.
 */
function kernelPart(
  source: string,
  functions: readonly string[],
  simd: string | null,
  kernels: HelperMessage['kernels'][number][],
): number {
  const key = `${functions.join(' ')}\n${simd ?? ''}\n${source}`;
  let id = kernelIds.get(key);
  if (id === undefined) kernelIds.set(key, (id = kernelIds.size + 1));
  if (!kernelsHeld.has(id)) {
    kernelsHeld.add(id);
    kernels.push({ id, source, functions, simd });
  }
  return id;
}

/** The id of a buffer, added to the message's buffers if the helper does not hold it (the oldest held dropped). */
function bufferPart(
  x: Float64Array,
  message: { buffers: (readonly [number, Float64Array])[]; drop: number[] },
): number {
  const id = bufferId(x);
  if (!buffersHeld.includes(id)) message.buffers.push([id, x]);
  message.drop.push(...hold(buffersHeld, [id]));
  return id;
}

/** A job to share: its code, its buffers, its units and how this thread runs one. */
interface Job {
  readonly kind: typeof FORWARD | typeof PASS | typeof REDUCE;
  /** A loop's kernels, or a reduction's id (reductionId). */
  readonly code: LoopCode | number;
  readonly v: Float64Array;
  /** A pass's (co)tangent buffer. */
  readonly c: Float64Array | null;
  readonly offsets: readonly number[];
  readonly n: number;
  readonly units: number;
  readonly unitChunks: number;
  /** The entries of the block buffer that the units write. */
  readonly blockEntries: number;
  /** Its work in steps of arithmetic (a reduction's: its entries). */
  readonly work: number;
  readonly run: (unit: number, blocks: Float64Array) => void;
}

/**
 * Runs the job's units on both threads and returns its block buffer (a loop's chunk c's sums from c·sums on, a
 * reduction's piece p's summary from p·summaryEntries on); null (nothing done) where it cannot be shared: no
 * helper or no free core, a buffer outside shared memory.
 */
function share(job: Job): Float64Array | null {
  const { units, offsets, code } = job;
  const shared = (x: Float64Array | null): boolean => x === null || x.buffer instanceof SharedArrayBuffer;
  // Worth sharing, and with functions the helper knows, already: fusion.ts made the loop's kernels for two threads.
  if (units > UNIT_MASK || offsets.length > MAX_OFFSETS || !shared(job.v) || !shared(job.c)) return null;
  if (!(loopThreadsForTests.joinFirst || coreFree())) return null;
  // The helper starts once the jobs it could have taken add up to HELPER_START_WORK.
  if (!(loopThreadsForTests.joinFirst || loops.worthStarting(job.work))) return null;
  const h = loops.get();
  if (h === null) return null;
  if (blockSums.length < job.blockEntries)
    blockSums = new Float64Array(new SharedArrayBuffer(2 * job.blockEntries * Float64Array.BYTES_PER_ELEMENT));
  const blocks = blockSums;
  const message = {
    kernels: [] as HelperMessage['kernels'][number][],
    buffers: [] as (readonly [number, Float64Array])[],
    drop: [] as number[],
  };
  const { control, job: fields } = h.data;
  fields[KIND] = job.kind;
  if (typeof code === 'number') {
    fields[KERNEL] = code;
    fields[PAIRED] = -1;
  } else {
    fields[KERNEL] = kernelPart(code.source, code.functions, code.simd, message.kernels);
    fields[PAIRED] =
      code.pairedSource === null ? -1 : kernelPart(code.pairedSource, code.functions, null, message.kernels);
  }
  fields[VALUES] = bufferPart(job.v, message);
  fields[TANGENTS] = job.c === null ? -1 : bufferPart(job.c, message);
  fields[BLOCKS] = bufferPart(blocks, message);
  fields[ENTRIES] = job.n;
  fields[UNITS] = units;
  fields[UNIT_CHUNKS] = job.unitChunks;
  fields[OFFSET_COUNT] = offsets.length;
  for (let i = 0; i < offsets.length; i++) fields[OFFSETS + i] = offsets[i]!;
  if (message.kernels.length > 0 || message.buffers.length > 0 || message.drop.length > 0) h.port.postMessage(message);
  lastJob = (lastJob % 0xfff) + 1;
  const tag = tagOf(lastJob);
  Atomics.store(control, HELPER_DONE, 0);
  Atomics.store(control, CLAIM, tag);
  Atomics.store(control, JOB, lastJob);
  Atomics.add(control, GENERATION, 1);
  Atomics.notify(control, GENERATION);
  if (loopThreadsForTests.joinFirst) {
    const joined = Atomics.load(control, JOINED);
    if (joined !== lastJob) Atomics.wait(control, JOINED, joined, 20_000);
  }
  let mine = 0;
  for (let unit = claim(control, tag, units); unit >= 0; unit = claim(control, tag, units)) {
    job.run(unit, blocks);
    mine++;
  }
  // The helper's unit in hand: a chunk or two of work. A helper that makes no progress for STALLED_MS has stopped
  // (its thread ended in the unit): its units are done again here, below.
  let lost = false;
  for (let done = Atomics.load(control, HELPER_DONE), since = performance.now(); mine + done < units;) {
    Atomics.wait(control, HELPER_DONE, done, 50);
    const now = Atomics.load(control, HELPER_DONE);
    if (now !== done) {
      done = now;
      since = performance.now();
    } else if (performance.now() - since > loopThreadsForTests.stalledMs) {
      lost = true;
      break;
    }
  }
  // Closed before the next job's fields are written: a helper that read this job's id late, then some of the next
  // job's fields, could otherwise claim a unit past this job's count.
  Atomics.store(control, CLAIM, CLOSED);
  loopThreadsForTests.helperUnits += units - mine;
  if (lost || Atomics.load(control, FAILED) === 1) {
    h.failed = true;
    for (let unit = 0; unit < units; unit++) job.run(unit, blocks);
  }
  return blocks;
}

/** Sum s of the loop: its blocks' sums in chunk order, as the one-thread loop adds them. */
function sumOfBlocks(blocks: Float64Array, s: number, sums: number, n: number): number {
  let sum = blocks[s]!;
  for (let c = 1, chunks = Math.ceil(n / CHUNK_ENTRIES); c < chunks; c++) sum += blocks[c * sums + s]!;
  return sum;
}

/** Runs a fused forward loop of n entries on two threads; false (nothing done) where it cannot (see `share`). */
export function runSharedForwardLoop(
  loop: SharedLoop,
  offsets: readonly number[],
  n: number,
  v: Float64Array,
): boolean {
  const unitChunks = loop.paired === null ? 1 : 2;
  const blocks = share({
    kind: FORWARD,
    code: loop,
    v,
    c: null,
    offsets,
    n,
    units: Math.ceil(Math.ceil(n / CHUNK_ENTRIES) / unitChunks),
    unitChunks,
    blockEntries: Math.ceil(n / CHUNK_ENTRIES) * loop.sums.length,
    work: loop.work,
    run: (unit, b) => runForwardUnit(loop.kernel, loop.paired, offsets, n, v, b, unit, unitChunks),
  });
  if (blocks === null) return false;
  loop.sums.forEach((place, s) => (v[place] = sumOfBlocks(blocks, s, loop.sums.length, n)));
  return true;
}

/**
 * Runs a derivative pass's fused loop of n entries on two threads over the (co)tangent buffer `c`; false (nothing
 * done) where it cannot (see `share`). Each sum is added to its target once, as the one-thread loop adds it.
 */
export function runSharedPassLoop(
  loop: SharedPassLoop,
  offsets: readonly number[],
  n: number,
  v: Float64Array,
  c: Float64Array,
): boolean {
  const blocks = share({
    kind: PASS,
    code: loop,
    v,
    c,
    offsets,
    n,
    units: Math.ceil(n / CHUNK_ENTRIES),
    unitChunks: 1,
    blockEntries: Math.ceil(n / CHUNK_ENTRIES) * loop.sums.length,
    work: loop.work,
    run: (unit, b) => runPassUnit(loop.kernel, offsets, n, v, c, b, unit),
  });
  if (blocks === null) return false;
  loop.sums.forEach((target, s) => {
    c[target] = c[target]! + sumOfBlocks(blocks, s, loop.sums.length, n);
  });
  return true;
}

/** Every reduction in pieces, each once: the table's (its operations' values and special points), then the engine's. */
let reductions: PieceReduction[] | undefined;
function reductionList(): PieceReduction[] {
  if (reductions === undefined) {
    const table = OP_NAMES.flatMap((op) => [OPS[op].pieces, OPS[op].specialInPieces?.pieces]);
    reductions = [...new Set([...table, timesZeroInPieces])].filter((r) => r !== undefined);
  }
  return reductions;
}
/** The number by which a job names a reduction to the helper, whose list is made by the same code. */
const reductionId = (pieces: PieceReduction): number => reductionList().indexOf(pieces);

/**
 * The reduction `pieces` of the n entries of v from operands[0] (its other operands at the other offsets), in
 * pieces on two threads; null (nothing done) where it cannot be shared (see `share`).
 */
export function reduceShared(
  pieces: PieceReduction,
  operands: readonly number[],
  n: number,
  v: Float64Array,
): number | null {
  const units = Math.ceil(n / REDUCTION_PIECE);
  const blocks = share({
    kind: REDUCE,
    code: reductionId(pieces),
    v,
    c: null,
    offsets: operands,
    n,
    units,
    unitChunks: 1,
    blockEntries: units * pieces.summaryEntries,
    work: n,
    run: (unit, b) => runReductionPiece(pieces, operands, n, v, b, unit),
  });
  return blocks === null ? null : pieces.fold(v, operands, n, REDUCTION_PIECE, blocks);
}

/** Piece `unit` of a reduction over the n entries of its first operand: its summary, in its place. */
function runReductionPiece(
  pieces: PieceReduction,
  operands: readonly number[],
  n: number,
  v: Float64Array,
  summaries: Float64Array,
  unit: number,
): void {
  const from = operands[0]! + unit * REDUCTION_PIECE;
  const to = Math.min(operands[0]! + n, from + REDUCTION_PIECE);
  pieces.summarise(v, operands, from, to, summaries, unit * pieces.summaryEntries);
}

/** The next of the `units` units of the job tagged `tag`, or -1 when none is left (or the job is over). */
function claim(control: Int32Array, tag: number, units: number): number {
  for (;;) {
    const claimed = Atomics.load(control, CLAIM);
    const unit = claimed & UNIT_MASK;
    if ((claimed & ~UNIT_MASK) !== tag || unit >= units) return -1;
    if (Atomics.compareExchange(control, CLAIM, claimed, claimed + 1) === claimed) return unit;
  }
}

/** Unit `unit` of a forward loop: a pair of chunks by the paired kernel where both are whole, else chunk by chunk. */
function runForwardUnit(
  kernel: FusedForwardKernel,
  paired: FusedForwardKernel | null,
  offsets: readonly number[],
  n: number,
  v: Float64Array,
  blocks: Float64Array,
  unit: number,
  unitChunks: number,
): void {
  const from = unit * unitChunks * CHUNK_ENTRIES;
  if (paired !== null && from + 2 * CHUNK_ENTRIES <= n) {
    paired(v, offsets, from, from + 2 * CHUNK_ENTRIES, blocks);
    return;
  }
  const end = Math.min(n, from + unitChunks * CHUNK_ENTRIES);
  for (let c = from; c < end; c += CHUNK_ENTRIES) kernel(v, offsets, c, Math.min(end, c + CHUNK_ENTRIES), blocks);
}

/** Unit `unit` of a derivative pass's loop: one chunk. */
function runPassUnit(
  kernel: FusedPassKernel,
  offsets: readonly number[],
  n: number,
  v: Float64Array,
  c: Float64Array,
  blocks: Float64Array,
  unit: number,
): void {
  const from = unit * CHUNK_ENTRIES;
  kernel(v, c, offsets, n, from, Math.min(n, from + CHUNK_ENTRIES), blocks);
}

/** The helper thread's loop: wait for a job, make what it needs, take units until none is left. */
export function serveLoops({ control, job, port }: HelperData): never {
  // Forward loops' kernels and passes' loops' kernels, by id (a job's kind says which it runs).
  const kernels = new Map<number, unknown>();
  const buffers = new Map<number, Float64Array>();
  const receive = (): void => {
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      const message = m.message as HelperMessage;
      for (const { id, source, functions, simd } of message.kernels) {
        const kernel = generated<FusedForwardKernel>(
          source,
          functions.map((name) => functionByName(name)!),
        );
        // A SIMD loop's kernel is WebAssembly made from its structure (simd.ts).
        kernels.set(id, (simd === null ? null : sharedSimdKernel(simd, kernel)) ?? kernel);
      }
      for (const [id, array] of message.buffers) buffers.set(id, array);
      for (const id of message.drop) buffers.delete(id);
    }
  };
  const join = (id: number): void => {
    Atomics.store(control, JOINED, id);
    Atomics.notify(control, JOINED);
  };
  // From generation 0: a job posted while this thread was starting is still open.
  for (let seen = 0; ;) {
    Atomics.wait(control, GENERATION, seen);
    seen = Atomics.load(control, GENERATION);
    const id = Atomics.load(control, JOB);
    receive();
    const v = buffers.get(job[VALUES]!);
    const c = job[TANGENTS] === -1 ? null : (buffers.get(job[TANGENTS]!) ?? null);
    const blocks = buffers.get(job[BLOCKS]!);
    const kind = job[KIND];
    // As small integers (the fields are doubles): a kernel indexing with doubles ran at half speed.
    const n = job[ENTRIES]! | 0;
    const units = job[UNITS]! | 0;
    const unitChunks = job[UNIT_CHUNKS]! | 0;
    const offsets = Array.from({ length: job[OFFSET_COUNT]! }, (_, i) => job[OFFSETS + i]! | 0);
    let run: ((unit: number) => void) | null = null;
    if (v !== undefined && blocks !== undefined) {
      if (kind === REDUCE) {
        const pieces = reductionList()[job[KERNEL]!];
        if (pieces !== undefined) run = (unit) => runReductionPiece(pieces, offsets, n, v, blocks, unit);
      } else {
        const kernel = kernels.get(job[KERNEL]!);
        const paired =
          job[PAIRED] === -1 ? null : ((kernels.get(job[PAIRED]!) as FusedForwardKernel | undefined) ?? null);
        if (kernel !== undefined && kind === PASS && c !== null)
          run = (unit) => runPassUnit(kernel as FusedPassKernel, offsets, n, v, c, blocks, unit);
        else if (kernel !== undefined && kind === FORWARD)
          run = (unit) => runForwardUnit(kernel as FusedForwardKernel, paired, offsets, n, v, blocks, unit, unitChunks);
      }
    }
    if (run === null) {
      join(id);
      continue;
    }
    const tag = tagOf(id);
    let unit = claim(control, tag, units);
    // Joined once it holds its first unit (what a test waits for, so that both threads compute).
    join(id);
    for (; unit >= 0; unit = claim(control, tag, units)) {
      try {
        run(unit);
      } catch {
        Atomics.store(control, FAILED, 1);
      }
      Atomics.add(control, HELPER_DONE, 1);
      Atomics.notify(control, HELPER_DONE);
    }
  }
}
