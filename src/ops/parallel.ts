/**
 * Large matrix products on two threads: the main thread and one helper thread (product-worker.ts) share out
 * D's rows (or columns) in chunks. Each entry of D is still computed by one thread, its terms in ascending k, so
 * results are bit-identical to the serial kernel. The buffers must be shared memory: `entryBuffer(n)` allocates the
 * engine's large buffers over a SharedArrayBuffer.
 *
 * Hand-off: a persistent shared control block. The main thread writes the job, posts the job's buffers on a
 * MessagePort and wakes the helper (Atomics.notify), then takes chunks from the first up while the helper takes them
 * from the last down, each by compareExchange on the chunk's state (tagged with the job, so that a helper still on
 * an old job can take nothing of a new one). The helper computes a chunk into its own scratch and commits it to D
 * only if the chunk is still its own; the main thread, once out of free chunks, waits for the helper's chunks about
 * as long as it would take to compute one, then takes back (steals) those still unfinished and computes them itself.
 * So a helper that is late, descheduled by the machine's other work or never started delays the product by about one
 * chunk at most, and a result is always produced.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { isMainThread, MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { addRowProduct, MatrixLayout } from './product-kernel.js';

/**
 * A serial kernel on a range of D's rows or columns (product-kernel.ts's PRODUCT_KERNELS): d(D) += a(A)·b(B), or
 * d(D) = a(A)·b(B); a job names its kernel by its place in the list both threads have.
 */
export type RowKernel = typeof addRowProduct;

/** Multiply-adds from which a product is shared out: below it the hand-off and the second core's caches cost more. */
export const PARALLEL_WORK = 1 << 21;
/** Buffers from this many entries are shared memory (smaller ones never hold a product that large enough to split). */
const SHARED_ENTRIES = 1 << 14;
/** The most chunks a product is cut into: enough for the threads to balance, few enough to keep chunks large. */
const MAX_CHUNKS = 32;
/** The fewest lines (rows or columns of D) in a chunk: each chunk compacts B's rows again. */
const CHUNK_LINES = 16;

// The control block's Int32 fields.
const GENERATION = 0; // bumped (and notified) for every job: the helper's wake-up
const JOB_ID = 1; // the job whose fields are written (0 while they are being written)
const JOINED = 2; // the last job whose fields the helper read (for tests)
const CHUNK_STATES = 3; // MAX_CHUNKS entries: the job's tag | a chunk state
const CONTROL_FIELDS = CHUNK_STATES + MAX_CHUNKS;
const FREE = 0;
const MAIN = 1;
const HELPER = 2;
const COMMITTING = 3;
const DONE = 4;
/** A job's tag in its chunk states: the low bits of its id above the state's 3 bits. */
const tagOf = (id: number): number => (id & 0xfffff) << 3;

// The job's Float64 fields.
const LAYOUTS = 0; // A, B, D: offset, rowStride, colStride each
const ROWS = 9;
const INNER = 10;
const COLS = 11;
const BY_COLUMNS = 12;
const CHUNK = 13;
const COUNT = 14;
const KERNEL = 15;
const JOB_FIELDS = 16;

/** What the helper thread receives once, at its start. */
export interface HelperData {
  readonly control: Int32Array;
  readonly job: Float64Array;
  readonly port: MessagePort;
}

/**
 * The buffers of one job, posted to the helper: their ids (A, B, D), and those the helper does not hold yet (the
 * typed arrays themselves: shared memory, not copied). Both threads keep the same list of the ids the helper
 * holds, the last HELD used, so that a buffer is posted once while it is in use.
 */
interface JobBuffers {
  readonly job: number;
  readonly ids: readonly [number, number, number];
  readonly arrays: readonly (readonly [number, Float64Array])[];
}

/**
 * Buffers a helper holds: a product's three, and one more, so that alternating products post nothing (the loop
 * helper: the value buffers of the last few plans, and the block sums).
 */
const HELD = 4;
/** Moves a job's `ids` to the end of `held` (most recently used); the ids pushed out at its front. */
export function hold(held: number[], ids: readonly number[]): number[] {
  for (const id of ids) {
    const at = held.indexOf(id);
    if (at >= 0) held.splice(at, 1);
    held.push(id);
  }
  return held.length > HELD ? held.splice(0, held.length - HELD) : [];
}

/** A started helper thread: its worker, the data it started with, the port to post on, and whether it failed. */
export interface Helper {
  readonly worker: Worker;
  readonly data: HelperData;
  readonly port: MessagePort;
  failed: boolean;
}

let lastJob = 0;
/** The ids of the buffers posted to either helper, for this process's life. */
const bufferIds = new WeakMap<Float64Array, number>();
let nextBufferId = 1;

/** The id by which a helper knows the buffer `x`. */
export function bufferId(x: Float64Array): number {
  let id = bufferIds.get(x);
  if (id === undefined) bufferIds.set(x, (id = nextBufferId++));
  return id;
}

/** The ids of the buffers the product helper holds. */
let heldByHelper: number[] = [];
let scratchA: Float64Array = new Float64Array(0);
let scratchB: Float64Array = new Float64Array(0);

/** Whether this process shares large work: the main thread, several cores, and not JACOBIAN_THREADS=1. */
const threadsAllowed = (): boolean =>
  isMainThread && process.env['JACOBIAN_THREADS'] !== '1' && availableParallelism() > 1;

/**
 * Whether a core is free for the helper now: on a machine whose cores are all busy (load average above their
 * count) a second thread takes its time from the first and the product is slower; JACOBIAN_THREADS=2 shares anyway.
 * The load average is over the last minute, so it still counts work that has just ended (another program's, a
 * benchmark's before ours, and this process's own on both threads): no thread of another process ready to run at
 * this moment but on one core less than there are says a core is free as well.
 */
export const coreFree = (): boolean =>
  process.env['JACOBIAN_THREADS'] === '2' ||
  oneMinuteLoad() < availableParallelism() + 0.5 ||
  othersRunnableNow() < availableParallelism() - 1;

/**
 * How long a reading of the machine's load stands: reading /proc takes tens of microseconds a file here, the load
 * average a system call (6–40 µs), and every shared loop and reduction asks (lse's gradient some ten times a run).
 */
const READING_MS = 100;

/** `read`, read again once READING_MS have passed since its last reading. */
function reading(read: () => number): () => number {
  let at = -Infinity;
  let value = Infinity;
  return () => {
    const now = performance.now();
    if (now - at > READING_MS) {
      at = now;
      value = read();
    }
    return value;
  };
}

/** The one-minute load average: it moves little within a reading's time. */
const oneMinuteLoad = reading(() => loadavg()[0]!);

/**
 * The threads of other processes running or ready to run on the machine now: the machine's (/proc/loadavg) less
 * this process's own (its main thread reading, its helpers, V8's); Infinity where unknown (not Linux).
 */
const othersRunnableNow = reading(() => {
  try {
    return runnableIn(readFileSync('/proc/loadavg', 'latin1')) - ownRunnable();
  } catch {
    // Not Linux: the load average alone decides.
    return Infinity;
  }
});

/** This process's threads running or ready to run: those whose /proc/self/task/ID/stat gives the state R. */
function ownRunnable(): number {
  let count = 0;
  for (const task of readdirSync('/proc/self/task')) {
    try {
      if (runningIn(readFileSync(`/proc/self/task/${task}/stat`, 'latin1'))) count++;
    } catch {
      // The thread ended since the directory was read.
    }
  }
  return count;
}

/** Whether a /proc stat text ("PID (name) S …", the name in parentheses of its own) gives the state R. */
export const runningIn = (stat: string): boolean => stat[stat.lastIndexOf(')') + 2] === 'R';

/** The runnable threads in the text of Linux's /proc/loadavg ("0.52 0.61 0.70 2/80 3135"), Infinity if unreadable. */
export function runnableIn(text: string): number {
  const match = /^\S+ \S+ \S+ (\d+)\//.exec(text);
  return match === null ? Infinity : Number(match[1]);
}

const sharedMemory = threadsAllowed();

/** A typed array's constructor, of its length or over a buffer. */
interface ArrayType<A> {
  new (length: number): A;
  new (buffer: SharedArrayBuffer): A;
  readonly BYTES_PER_ELEMENT: number;
}

/** A zeroed array of n entries: shared memory from SHARED_ENTRIES on, where another thread may read it. */
const zeroedArray = <A>(n: number, Type: ArrayType<A>): A =>
  sharedMemory && n >= SHARED_ENTRIES ? new Type(new SharedArrayBuffer(n * Type.BYTES_PER_ELEMENT)) : new Type(n);

/** A zeroed buffer of n entries: shared memory where it is large enough to hold a product worth splitting. */
export const entryBuffer = (n: number): Float64Array => zeroedArray(n, Float64Array);

/**
 * A zeroed array of n indices, in shared memory where it is as large: a result's indices (a sparse J's rows and
 * columns) that the JSON number helper then reads where they are, without a copy.
 */
export const indexBuffer = (n: number): Int32Array => zeroedArray(n, Int32Array);

const isShared = (x: Float64Array): boolean => x.buffer instanceof SharedArrayBuffer;

/**
 * Where a helper's module `worker` is, for the module `module` at `here` (its import.meta.url): beside it in the
 * ESM library (worker.js beside module.js), or beside the bundle that holds this code (worker.mjs).
 */
export function helperModuleUrl(here: string | undefined, module: string, worker: string): URL | null {
  if (here === undefined) return null;
  return new URL(here.endsWith(`/${module}.js`) ? `./${worker}.js` : `./${worker}.mjs`, here);
}

/**
 * A helper thread started on first use, from its module's URL (or one a test gives): a control block of Int32s and
 * a job of doubles in shared memory and a port, which its module receives as workerData. It never keeps the process
 * alive, and is marked failed when it stops; null where none can run (one core, a worker thread,
 * JACOBIAN_THREADS=1). parallel.ts's product helper and engine/threads.ts's loop helper are each one.
 */
export class HelperSlot {
  private helper: Helper | null | undefined;
  /** The work of the jobs offered before the helper started (worthStarting). */
  private workBeforeStart = 0;

  constructor(
    private readonly moduleUrl: () => URL | null,
    private readonly controlFields: number,
    private readonly jobFields: number,
    /** Forgets what the previous helper held (a new one holds nothing). */
    private readonly onStart: () => void,
    /** The helper starts once the jobs offered to it add up to this much work (worthStarting). */
    private readonly startAfterWork = 0,
  ) {}

  /** Whether `get` has been called: a helper is running, or none can. */
  get started(): boolean {
    return this.helper !== undefined;
  }

  /** Whether a job of `work` may go to the helper: started already, or the jobs offered so far add up to enough. */
  worthStarting(work: number): boolean {
    if (this.started) return true;
    this.workBeforeStart += work;
    return this.workBeforeStart >= this.startAfterWork;
  }

  /** The helper, started on first use; null where none can run or it failed. `url` replaces its module (tests). */
  get(url?: URL): Helper | null {
    if (this.helper !== undefined) return this.helper !== null && this.helper.failed ? null : this.helper;
    this.helper = null;
    const from = url ?? this.moduleUrl();
    if (!threadsAllowed() || from === null) return null;
    this.onStart();
    const { port1, port2 } = new MessageChannel();
    const data: HelperData = {
      control: new Int32Array(new SharedArrayBuffer(this.controlFields * Int32Array.BYTES_PER_ELEMENT)),
      job: new Float64Array(new SharedArrayBuffer(this.jobFields * Float64Array.BYTES_PER_ELEMENT)),
      port: port2,
    };
    try {
      const worker = new Worker(from, { workerData: data, transferList: [port2] });
      // It must never keep the process alive; until it fails, it only ever joins jobs.
      worker.unref();
      port1.unref();
      const started: Helper = { worker, data, port: port1, failed: false };
      const fail = (): void => {
        started.failed = true;
      };
      worker.on('error', fail);
      worker.on('exit', fail);
      this.helper = started;
    } catch {
      this.helper = null;
    }
    return this.helper;
  }

  /**
   * Starts the helper from `url` instead of its module, or stops using any helper (null), or forgets it (undefined:
   * its own module's, started on first use again, once worth it): for tests.
   */
  use(url: URL | null | undefined): void {
    if (this.helper) {
      this.helper.failed = true;
      void this.helper.worker.terminate();
    }
    this.helper = undefined;
    this.workBeforeStart = 0;
    if (url === null) this.helper = null;
    else if (url !== undefined) this.get(url);
  }
}

const products = new HelperSlot(
  () => helperModuleUrl(import.meta.url, 'parallel', 'product-worker'),
  CONTROL_FIELDS,
  JOB_FIELDS,
  () => {
    heldByHelper = [];
  },
);

/** Starts the helper from `url` instead of its module, or stops using any helper (null): for tests. */
export function useHelperFrom(url: URL | null): void {
  products.use(url);
}

/**
 * For tests: `joinFirst` makes the main thread wait (up to 20 s) for the helper to read each job before it takes
 * chunks itself, and for the helper's chunks without stealing them, so that both threads compute; `helperChunks`
 * counts the chunks the helper committed.
 */
export const helperForTests = { joinFirst: false, helperChunks: 0 };

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
 * The product of kernels[which] (d(D) += a(A)·b(B), or = for a kernel that writes D) on two threads, with D stored
 * by rows; false (nothing done) where it cannot be: no helper, D not in shared memory, or an operand neither shared
 * nor cheap to copy.
 */
export function addSharedProduct(
  kernels: readonly RowKernel[],
  which: number,
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
  if (!isShared(d) || !(helperForTests.joinFirst || coreFree())) return false;
  // Too few lines to split: known before starting the helper or copying an operand.
  const byColumns = C > R;
  const lines = byColumns ? C : R;
  const count = Math.min(MAX_CHUNKS, Math.floor(lines / CHUNK_LINES));
  if (count < 2) return false;
  const h = products.get();
  if (h === null) return false;
  const work = R * K * C;
  const left = sharedOperand(a, A, R, K, work, 'a');
  const right = left && sharedOperand(b, B, K, C, work, 'b');
  if (left === null || right === null) return false;
  const { control, job } = h.data;
  lastJob = (lastJob % 0xfffff) + 1;
  const tag = tagOf(lastJob);
  Atomics.store(control, JOB_ID, 0);
  writeLayout(job, LAYOUTS, left[1]);
  writeLayout(job, LAYOUTS + 3, right[1]);
  writeLayout(job, LAYOUTS + 6, D);
  job[ROWS] = R;
  job[INNER] = K;
  job[COLS] = C;
  job[BY_COLUMNS] = byColumns ? 1 : 0;
  job[CHUNK] = Math.ceil(lines / count);
  job[COUNT] = count;
  job[KERNEL] = which;
  const kernel = kernels[which]!;
  for (let c = 0; c < count; c++) Atomics.store(control, CHUNK_STATES + c, tag | FREE);
  Atomics.store(control, JOB_ID, lastJob);
  h.port.postMessage(jobBuffers(lastJob, left[0], right[0], d));
  Atomics.add(control, GENERATION, 1);
  Atomics.notify(control, GENERATION);
  const view = readJob(job);
  const waitForHelper = helperForTests.joinFirst;
  const joined = Atomics.load(control, JOINED);
  if (waitForHelper && joined !== lastJob) Atomics.wait(control, JOINED, joined, 20_000);
  // Chunks from the first up; the time they take says how long to wait for one of the helper's.
  let mine = 0;
  const started = performance.now();
  for (let c = 0; c < count; c++) {
    if (Atomics.compareExchange(control, CHUNK_STATES + c, tag | FREE, tag | MAIN) !== (tag | FREE)) break;
    runChunk(kernel, view, c, left[0], right[0], d);
    Atomics.store(control, CHUNK_STATES + c, tag | DONE);
    mine++;
  }
  const perChunk = mine > 0 ? (performance.now() - started) / mine : 1;
  // Waits spin: on a busy machine a thread that sleeps gets its core back only after the others' time slices.
  let deadline = Infinity;
  for (let c = 0; c < count; c++) {
    for (let state = Atomics.load(control, CHUNK_STATES + c); state !== (tag | DONE);) {
      if (state === (tag | HELPER)) {
        if (waitForHelper) Atomics.wait(control, CHUNK_STATES + c, state, 20_000);
        else if (deadline === Infinity) deadline = performance.now() + perChunk;
        else if (
          performance.now() > deadline &&
          Atomics.compareExchange(control, CHUNK_STATES + c, state, tag | MAIN) === state
        ) {
          runChunk(kernel, view, c, left[0], right[0], d);
          Atomics.store(control, CHUNK_STATES + c, tag | DONE);
          mine++;
        }
      }
      state = Atomics.load(control, CHUNK_STATES + c);
    }
  }
  helperForTests.helperChunks += count - mine;
  return true;
}

/** The message of a job's buffers: their ids, and the arrays the helper does not hold. */
function jobBuffers(job: number, a: Float64Array, b: Float64Array, d: Float64Array): JobBuffers {
  const arrays: [number, Float64Array][] = [];
  const idOf = (x: Float64Array): number => {
    const id = bufferId(x);
    if (!heldByHelper.includes(id) && !arrays.some(([known]) => known === id)) arrays.push([id, x]);
    return id;
  };
  const ids = [idOf(a), idOf(b), idOf(d)] as const;
  hold(heldByHelper, ids);
  return { job, ids, arrays };
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

/** A job's fields, read once. */
interface JobView {
  readonly A: MatrixLayout;
  readonly B: MatrixLayout;
  readonly D: MatrixLayout;
  readonly R: number;
  readonly K: number;
  readonly C: number;
  readonly byColumns: boolean;
  readonly chunk: number;
  readonly count: number;
  readonly kernel: number;
}

const readJob = (job: Float64Array): JobView => ({
  A: readLayout(job, LAYOUTS),
  B: readLayout(job, LAYOUTS + 3),
  D: readLayout(job, LAYOUTS + 6),
  R: job[ROWS]!,
  K: job[INNER]!,
  C: job[COLS]!,
  byColumns: job[BY_COLUMNS] === 1,
  chunk: job[CHUNK]!,
  count: job[COUNT]!,
  kernel: job[KERNEL]!,
});

/** Chunk c's first line and its count of lines. */
function linesOf(view: JobView, c: number): [number, number] {
  const from = c * view.chunk;
  return [from, Math.min(view.chunk, (view.byColumns ? view.C : view.R) - from)];
}

/** Chunk c of the product, added into `d` at `D`'s entries for it (D itself by default). */
function runChunk(
  kernel: RowKernel,
  view: JobView,
  c: number,
  a: Float64Array,
  b: Float64Array,
  d: Float64Array,
  D: MatrixLayout = chunkOfD(view, c),
): void {
  const { A, B, R, K, C } = view;
  const [from, size] = linesOf(view, c);
  if (view.byColumns) {
    const Bc = { offset: B.offset + from * B.colStride, rowStride: B.rowStride, colStride: B.colStride };
    kernel(a, A, b, Bc, d, D, R, K, size);
  } else {
    const Ac = { offset: A.offset + from * A.rowStride, rowStride: A.rowStride, colStride: A.colStride };
    kernel(a, Ac, b, B, d, D, size, K, C);
  }
}

/** Where chunk c's entries of D are. */
function chunkOfD({ D, byColumns, chunk }: JobView, c: number): MatrixLayout {
  const offset = D.offset + c * chunk * (byColumns ? D.colStride : D.rowStride);
  return { offset, rowStride: D.rowStride, colStride: D.colStride };
}

/** The helper's copy of a chunk of D, grown, never shrunk. */
let helperScratch = new Float64Array(0);

/**
 * The helper thread's loop: wait for a job, read it (unless it changes meanwhile), then take chunks from the last
 * down, compute each into scratch, and commit it into D if it is still the helper's.
 */
export function serveProducts(kernels: readonly RowKernel[], { control, job, port }: HelperData): never {
  const buffers = new HelperBuffers();
  // From generation 0, not the current one: a job posted while this thread was starting is still open.
  for (let seen = 0; ;) {
    Atomics.wait(control, GENERATION, seen);
    seen = Atomics.load(control, GENERATION);
    const id = Atomics.load(control, JOB_ID);
    const view = readJob(job);
    if (id === 0 || Atomics.load(control, JOB_ID) !== id) continue;
    const arrays = buffers.receive(port, id);
    if (arrays === null) continue;
    const [a, b, d] = arrays;
    Atomics.store(control, JOINED, id);
    Atomics.notify(control, JOINED);
    const tag = tagOf(id);
    for (let c = view.count - 1; c >= 0; c--) {
      const state = CHUNK_STATES + c;
      if (Atomics.compareExchange(control, state, tag | FREE, tag | HELPER) !== (tag | FREE)) break;
      const [, size] = linesOf(view, c);
      const rows = view.byColumns ? view.R : size;
      const cols = view.byColumns ? size : view.C;
      if (helperScratch.length < rows * cols) helperScratch = new Float64Array(rows * cols);
      const D = chunkOfD(view, c);
      const scratch: MatrixLayout = { offset: 0, rowStride: cols, colStride: 1 };
      copyMatrix(d, D, helperScratch, scratch, rows, cols);
      runChunk(kernels[view.kernel]!, view, c, a, b, helperScratch, scratch);
      if (Atomics.compareExchange(control, state, tag | HELPER, tag | COMMITTING) !== (tag | HELPER)) break;
      copyMatrix(helperScratch, scratch, d, D, rows, cols);
      Atomics.store(control, state, tag | DONE);
      Atomics.notify(control, state);
    }
  }
}

/** The rows×cols entries of x at X copied to y at Y. */
function copyMatrix(
  x: Float64Array,
  X: MatrixLayout,
  y: Float64Array,
  Y: MatrixLayout,
  rows: number,
  cols: number,
): void {
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      y[Y.offset + i * Y.rowStride + j * Y.colStride] = x[X.offset + i * X.rowStride + j * X.colStride]!;
}

/** The buffers the helper holds, by id, kept as the main thread's list says. */
class HelperBuffers {
  private readonly arrays = new Map<number, Float64Array>();
  private readonly held: number[] = [];

  /** Takes every message posted so far; the arrays of job `id` (null if its message is not among them). */
  receive(port: MessagePort, id: number): [Float64Array, Float64Array, Float64Array] | null {
    let found: [Float64Array, Float64Array, Float64Array] | null = null;
    for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
      const message = received.message as JobBuffers;
      for (const [bufferId, array] of message.arrays) this.arrays.set(bufferId, array);
      const arrays = message.ids.map((bufferId) => this.arrays.get(bufferId)!);
      for (const out of hold(this.held, message.ids)) this.arrays.delete(out);
      if (message.job === id) found = [arrays[0]!, arrays[1]!, arrays[2]!];
    }
    return found;
  }
}
