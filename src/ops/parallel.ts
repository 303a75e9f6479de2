/**
 * Large matrix products on two threads: the main thread and one helper thread (product-worker.ts) share out
 * D's rows (or columns) in chunks. Each entry of D is still computed by one thread, its terms in ascending k, so
 * results are bit-identical to the serial kernel. The buffers must be shared memory: `entryBuffer(n)` allocates the
 * engine's large buffers over a SharedArrayBuffer.
 *
 * Hand-off: a persistent shared control block. The main thread writes the job, posts the job's buffers on a
 * MessagePort, marks the job posted and wakes the helper (Atomics.notify); then it takes chunks itself from a
 * shared counter. The helper joins the job only by turning "posted" into "joined" (compareExchange); when the main
 * thread runs out of chunks it closes an unjoined job the same way, so a helper that is late, busy or never started
 * costs nothing: the main thread has done every chunk. A joined helper finishes the chunks it took, then says so.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MatrixLayout } from './product-kernel.js';

/** The serial kernel on a row range: d(D) += a(A)·b(B) for A R×K, B K×C, D stored by rows. */
export type RowKernel = (
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  R: number,
  K: number,
  C: number,
) => void;

/** Multiply-adds from which a product is shared out: below it the hand-off and the second core's caches cost more. */
export const PARALLEL_WORK = 1 << 21;
/** Buffers from this many entries are shared memory (smaller ones never hold a product that large enough to split). */
const SHARED_ENTRIES = 1 << 14;
/**
 * A thread takes this share of the lines (rows or columns of D) still free at once: chunks shrink towards the end,
 * so that a thread slowed by the machine's other work holds the other back by a short chunk at most.
 */
const CHUNK_SHARE = 4;
/** The fewest lines in a chunk: each chunk compacts B's rows again. */
const CHUNK_LINES = 16;

// The control block's Int32 fields.
const GENERATION = 0; // bumped (and notified) for every job
const STATE = 1;
const NEXT_LINE = 2; // the first line no thread has taken
const IDLE = 0;
const POSTED = 1;
const JOINED = 2;
const FINISHED = 3;

// The job's Float64 fields.
const JOB = 0; // its generation
const LAYOUTS = 1; // A, B, D: offset, rowStride, colStride each
const ROWS = 10;
const INNER = 11;
const COLS = 12;
const BY_COLUMNS = 13;
const JOB_FIELDS = 14;

/** What the helper thread receives once, at its start. */
export interface HelperData {
  readonly control: Int32Array;
  readonly job: Float64Array;
  readonly port: MessagePort;
}

/** The buffers of one job, posted to the helper: the typed arrays themselves (shared memory, not copied). */
interface JobBuffers {
  readonly job: number;
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly d: Float64Array;
}

interface Helper {
  readonly worker: Worker;
  readonly data: HelperData;
  readonly port: MessagePort;
  failed: boolean;
}

/** Undefined until the first large product, null where no helper runs (disabled, one core, a worker thread). */
let helper: Helper | null | undefined;
let generation = 0;
let scratchA: Float64Array = new Float64Array(0);
let scratchB: Float64Array = new Float64Array(0);

/** Whether this process shares large products: the main thread, several cores, and not JACOBIAN_THREADS=1. */
const threadsAllowed = (): boolean =>
  isMainThread && process.env['JACOBIAN_THREADS'] !== '1' && availableParallelism() > 1;

const sharedMemory = threadsAllowed();

/** A zeroed buffer of n entries: shared memory where it is large enough to hold a product worth splitting. */
export function entryBuffer(n: number): Float64Array {
  return sharedMemory && n >= SHARED_ENTRIES
    ? new Float64Array(new SharedArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT))
    : new Float64Array(n);
}

const isShared = (x: Float64Array): boolean => x.buffer instanceof SharedArrayBuffer;

/** Where the helper's module is: beside this module (the ESM library), or beside the bundle that holds this code. */
function helperUrl(): URL | null {
  const here: string | undefined = import.meta.url;
  if (here === undefined) return null;
  return new URL(here.endsWith('/parallel.js') ? './product-worker.js' : './product-worker.mjs', here);
}

/** The helper thread, started on first use; null where none can run. `url` replaces its module (tests). */
function theHelper(url: URL | null = helperUrl()): Helper | null {
  if (helper !== undefined) return helper !== null && helper.failed ? null : helper;
  helper = null;
  if (!threadsAllowed() || url === null) return null;
  const { port1, port2 } = new MessageChannel();
  const data: HelperData = {
    control: new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT)),
    job: new Float64Array(new SharedArrayBuffer(JOB_FIELDS * Float64Array.BYTES_PER_ELEMENT)),
    port: port2,
  };
  try {
    const worker = new Worker(url, { workerData: data, transferList: [port2] });
    // It must never keep the process alive; until it fails, it only ever joins jobs.
    worker.unref();
    port1.unref();
    const started: Helper = { worker, data, port: port1, failed: false };
    const fail = (): void => {
      started.failed = true;
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    helper = started;
  } catch {
    helper = null;
  }
  return helper;
}

/** Starts the helper from `url` instead of its module, or stops using any helper (null): for tests. */
export function useHelperFrom(url: URL | null): void {
  if (helper) {
    helper.failed = true;
    void helper.worker.terminate();
  }
  helper = undefined;
  if (url === null) helper = null;
  else theHelper(url);
}

/**
 * For tests: `joinFirst` makes the main thread wait (up to 20 s) for the helper to join each job before it takes
 * chunks itself, so that both threads compute; `joined` counts the jobs the helper joined.
 */
export const helperForTests = { joinFirst: false, joined: 0 };

/**
 * The operand `x` read through `L` (lines×inner) from shared memory: itself, or a copy of the part it reads in
 * `scratch` when that part is small beside the product's work; null when it is not worth copying.
 */
function sharedOperand(
  x: Float64Array,
  L: MatrixLayout,
  lines: number,
  inner: number,
  work: number,
  which: 'a' | 'b',
): [Float64Array, MatrixLayout] | null {
  if (isShared(x)) return [x, L];
  if (L.rowStride < 0 || L.colStride < 0) return null;
  const first = L.offset;
  const span = (lines - 1) * L.rowStride + (inner - 1) * L.colStride + 1;
  if (span * 16 > work) return null;
  let scratch = which === 'a' ? scratchA : scratchB;
  if (scratch.length < span) {
    scratch = new Float64Array(new SharedArrayBuffer(2 * span * Float64Array.BYTES_PER_ELEMENT));
    if (which === 'a') scratchA = scratch;
    else scratchB = scratch;
  }
  scratch.set(x.subarray(first, first + span));
  return [scratch, { offset: 0, rowStride: L.rowStride, colStride: L.colStride }];
}

/**
 * d(D) += a(A)·b(B) on two threads, with D stored by rows; false (nothing done) where it cannot be: no helper,
 * D not in shared memory, or an operand neither shared nor cheap to copy.
 */
export function addSharedProduct(
  kernel: RowKernel,
  a: Float64Array,
  A: MatrixLayout,
  b: Float64Array,
  B: MatrixLayout,
  d: Float64Array,
  D: MatrixLayout,
  R: number,
  K: number,
  C: number,
): boolean {
  if (!isShared(d)) return false;
  const h = theHelper();
  if (h === null) return false;
  const work = R * K * C;
  const left = sharedOperand(a, A, R, K, work, 'a');
  const right = left && sharedOperand(b, B, K, C, work, 'b');
  if (left === null || right === null) return false;
  const { control, job } = h.data;
  const byColumns = C > R;
  const lines = byColumns ? C : R;
  if (lines < 2 * CHUNK_LINES) return false;
  generation = (generation + 1) | 0;
  job[JOB] = generation;
  writeLayout(job, LAYOUTS, left[1]);
  writeLayout(job, LAYOUTS + 3, right[1]);
  writeLayout(job, LAYOUTS + 6, D);
  job[ROWS] = R;
  job[INNER] = K;
  job[COLS] = C;
  job[BY_COLUMNS] = byColumns ? 1 : 0;
  const buffers: JobBuffers = { job: generation, a: left[0], b: right[0], d };
  h.port.postMessage(buffers);
  Atomics.store(control, NEXT_LINE, 0);
  Atomics.store(control, STATE, POSTED);
  Atomics.add(control, GENERATION, 1);
  Atomics.notify(control, GENERATION);
  if (helperForTests.joinFirst) Atomics.wait(control, STATE, POSTED, 20_000);
  runChunks(kernel, control, job, left[0], right[0], d);
  if (Atomics.compareExchange(control, STATE, POSTED, IDLE) !== POSTED) {
    // The helper joined: it finishes the chunks it took (a chunk never fails: the kernel only reads and adds).
    helperForTests.joined++;
    while (Atomics.load(control, STATE) === JOINED) Atomics.wait(control, STATE, JOINED);
    Atomics.store(control, STATE, IDLE);
  }
  return true;
}

function writeLayout(job: Float64Array, at: number, L: MatrixLayout): void {
  job[at] = L.offset;
  job[at + 1] = L.rowStride;
  job[at + 2] = L.colStride;
}

const readLayout = (job: Float64Array, at: number): MatrixLayout => ({
  offset: job[at]!,
  rowStride: job[at + 1]!,
  colStride: job[at + 2]!,
});

/** Takes chunks of the job's lines from the shared counter until none is left, and runs them. */
function runChunks(
  kernel: RowKernel,
  control: Int32Array,
  job: Float64Array,
  a: Float64Array,
  b: Float64Array,
  d: Float64Array,
): void {
  const A = readLayout(job, LAYOUTS);
  const B = readLayout(job, LAYOUTS + 3);
  const D = readLayout(job, LAYOUTS + 6);
  const R = job[ROWS]!;
  const K = job[INNER]!;
  const C = job[COLS]!;
  const byColumns = job[BY_COLUMNS] === 1;
  const lines = byColumns ? C : R;
  for (let from = Atomics.load(control, NEXT_LINE); from < lines; from = Atomics.load(control, NEXT_LINE)) {
    const size = Math.min(lines - from, Math.max(CHUNK_LINES, Math.ceil((lines - from) / CHUNK_SHARE)));
    if (Atomics.compareExchange(control, NEXT_LINE, from, from + size) !== from) continue;
    if (byColumns) {
      const Bc = { offset: B.offset + from * B.colStride, rowStride: B.rowStride, colStride: B.colStride };
      const Dc = { offset: D.offset + from * D.colStride, rowStride: D.rowStride, colStride: D.colStride };
      kernel(a, A, b, Bc, d, Dc, R, K, size);
    } else {
      const Ac = { offset: A.offset + from * A.rowStride, rowStride: A.rowStride, colStride: A.colStride };
      const Dc = { offset: D.offset + from * D.rowStride, rowStride: D.rowStride, colStride: D.colStride };
      kernel(a, Ac, b, B, d, Dc, size, K, C);
    }
  }
}

/** The helper thread's loop: wait for a job, join it if still open, run chunks, say it is done. */
export function serveProducts(kernel: RowKernel, { control, job, port }: HelperData): never {
  // From generation 0, not the current one: a job posted while this thread was starting is still open to join.
  for (let seen = 0; ;) {
    Atomics.wait(control, GENERATION, seen);
    seen = Atomics.load(control, GENERATION);
    if (Atomics.compareExchange(control, STATE, POSTED, JOINED) !== POSTED) continue;
    Atomics.notify(control, STATE);
    const buffers = jobBuffers(port, job[JOB]!);
    if (buffers !== null) runChunks(kernel, control, job, buffers.a, buffers.b, buffers.d);
    Atomics.store(control, STATE, FINISHED);
    Atomics.notify(control, STATE);
  }
}

/** The buffers posted for job `id` (earlier jobs' messages, of jobs the helper missed, are dropped). */
function jobBuffers(port: MessagePort, id: number): JobBuffers | null {
  for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
    const buffers = received.message as JobBuffers;
    if (buffers.job === id) return buffers;
  }
  return null;
}
