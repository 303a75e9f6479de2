/**
 * A large array's JSON numbers formatted on two threads: the main thread and one helper thread (number-worker.ts)
 * take the array's chunks (JSON_CHUNK numbers each), the main thread from the first up, the helper from the last
 * down, each by compareExchange on the chunk's state in shared memory, until they meet. The helper posts each
 * chunk's bytes on its port; the main thread writes the chunks in order, its own as it makes them and the helper's
 * as they arrive. Each chunk's bytes are what one thread makes of it (jsonChunk), so the text is the one-thread
 * text, to the byte. A helper that is late or stopped costs at most STALL_MS a job (it posts every chunk above the
 * one it holds before it takes the next): the main thread then makes that chunk itself (the helper's bytes for it,
 * if they come, are dropped); one that never started takes no chunk. An array known before the engine is done (a
 * sparse result's rows and columns) is given to the helper at once (formatAhead), which formats it on the free
 * core while the main thread computes; its chunks wait on the port until it is written.
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import { coreFree, type HelperData, helperModuleUrl, HelperSlot } from '../ops/parallel.js';
import { JSON_CHUNK, jsonChunk } from './joined.js';

/** Arrays of this many chunks on are shared: the copy posted to the helper and the hand-off cost about a chunk. */
export const SHARED_NUMBER_CHUNKS = 32;
/** How long the main thread waits for a chunk the helper holds before making it itself. */
const STALL_MS = 100;

// A chunk's state: the job's tag is not needed, each job has its own states.
const FREE = 0;
const MAIN = 1;
const HELPER = 2;
// The control block's Int32 field: chunks the helper has posted, over all jobs (the main thread's wake-up).
const POSTED = 0;
const CONTROL_FIELDS = 1;

/** A job posted to the helper: a copy of the numbers, and the states of their chunks. */
interface NumberJob {
  readonly job: number;
  readonly data: Float64Array | Int32Array;
  readonly states: Int32Array;
}

/** A chunk the helper made. */
interface ChunkMessage {
  readonly job: number;
  readonly index: number;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

const numbers = new HelperSlot(
  () => helperModuleUrl(import.meta.url, 'shared-numbers', 'number-worker'),
  CONTROL_FIELDS,
  0,
  () => {},
);
let lastJob = 0;
/** Jobs given ahead (formatAhead), by their numbers, until jsonNumberChunks writes them. */
const aheadJobs = new Map<Float64Array | Int32Array, NumberJob>();
/** The helper's chunks of each job still to be written, by job and index; chunks of other jobs are dropped. */
const arrivedChunks = new Map<number, Map<number, Uint8Array>>();

/**
 * For tests: `always` shares whatever the machine's load; `joinFirst` makes the main thread wait (up to 20 s) for
 * the helper's first chunk of a job before it takes any, so that both threads format; `aheadWhole` makes formatAhead
 * wait (up to 20 s) until the helper has made every chunk of its job; `helperChunks` counts the chunks whose
 * helper's bytes were written.
 */
export const numberThreadsForTests = { always: false, joinFirst: false, aheadWhole: false, helperChunks: 0 };

/**
 * Starts the helper from `url` instead of its module, stops using any helper (null), or puts it back as at a
 * process's start (undefined: its own module, started on first use): for tests.
 */
export function useNumberHelperFrom(url: URL | null | undefined): void {
  numbers.use(url);
}

/** Whether the helper has started (for tests). */
export const numberHelperStarted = (): boolean => numbers.started;

/** Whether an array of this many chunks is formatted on two threads: long enough, and a core free for the helper. */
const helperPays = (chunks: number): boolean =>
  chunks >= SHARED_NUMBER_CHUNKS && (numberThreadsForTests.always || coreFree());

/**
 * The JSON of data[from … to) in chunks of JSON_CHUNK numbers, a comma before each chunk but the first: on two
 * threads for a large typed array when a core is free, else on this one.
 */
export function* jsonNumberChunks(data: ArrayLike<number>, from: number, to: number): Generator<Uint8Array> {
  const count = Math.ceil((to - from) / JSON_CHUNK);
  const typed = data instanceof Float64Array || data instanceof Int32Array ? data : null;
  const helper = typed !== null && helperPays(count) ? numbers.get() : null;
  const chunk = (k: number): Uint8Array => {
    const start = from + k * JSON_CHUNK;
    return jsonChunk(data, start, Math.min(start + JSON_CHUNK, to), k > 0);
  };
  if (helper === null || typed === null) {
    for (let k = 0; k < count; k++) yield chunk(k);
    return;
  }
  // Given ahead, the whole array is its job; a part of it is a job of its own.
  const ahead = from === 0 && to === typed.length ? aheadJobs.get(typed) : undefined;
  if (ahead !== undefined) aheadJobs.delete(typed);
  const posted = Atomics.load(helper.data.control, POSTED);
  const { job, states } = ahead ?? postJob(helper.port, typed, from, to, count);
  if (numberThreadsForTests.joinFirst) Atomics.wait(helper.data.control, POSTED, posted, 20_000);
  try {
    for (let k = 0; k < count; k++) {
      if (Atomics.compareExchange(states, k, FREE, MAIN) === FREE) {
        yield chunk(k);
        continue;
      }
      const bytes = helperChunk(helper.data, helper.port, job, k);
      if (bytes !== null) numberThreadsForTests.helperChunks++;
      yield bytes ?? chunk(k);
    }
  } finally {
    arrivedChunks.delete(job);
  }
}

/** Posts the numbers typed[from … to) to the helper as a job of `count` chunks. */
function postJob(
  port: HelperData['port'],
  typed: Float64Array | Int32Array,
  from: number,
  to: number,
  count: number,
): NumberJob {
  const job = ++lastJob;
  const states = new Int32Array(new SharedArrayBuffer(count * Int32Array.BYTES_PER_ELEMENT));
  // Shared memory is read where it is; other numbers are copied into it once (sharedView).
  const message: NumberJob = { job, data: sharedView(typed, from, to), states };
  arrivedChunks.set(job, new Map());
  port.postMessage(message);
  return message;
}

/**
 * Gives the helper all of `typed` to format now, where it pays, so that its JSON is made on the other core while
 * this thread does other work: jsonNumberChunks(typed, 0, typed.length) then writes it. The numbers must not change
 * until then.
 */
export function formatAhead(typed: Float64Array | Int32Array): void {
  const count = Math.ceil(typed.length / JSON_CHUNK);
  if (aheadJobs.has(typed) || !helperPays(count)) return;
  const helper = numbers.get();
  if (helper === null) return;
  const { control } = helper.data;
  const before = Atomics.load(control, POSTED);
  aheadJobs.set(typed, postJob(helper.port, typed, 0, typed.length, count));
  // For tests: until the helper has made every chunk of the job.
  let posted = before;
  while (numberThreadsForTests.aheadWhole && posted < before + count) {
    Atomics.wait(control, POSTED, posted, 20_000);
    posted = Atomics.load(control, POSTED);
  }
}

/**
 * Starts the helper now for a result of about `entries` numbers to be written as JSON, so that it has loaded (on the
 * other core, while the engine works) when the writing begins, rather than start then.
 */
export function prepareNumberHelper(entries: number): void {
  if (helperPays(Math.floor(entries / JSON_CHUNK))) numbers.get();
}

/**
 * Entries from … to − 1 of `typed` in shared memory, for the helper: where they are, or a copy. Never moved
 * (DEVELOPERS.md: a thread's first moved buffer makes V8 drop its optimised code, here the formatting's).
 */
export function sharedView(typed: Float64Array | Int32Array, from: number, to: number): Float64Array | Int32Array {
  if (typed.buffer instanceof SharedArrayBuffer) return typed.subarray(from, to);
  const bytes = new SharedArrayBuffer((to - from) * typed.BYTES_PER_ELEMENT);
  const copy = typed instanceof Float64Array ? new Float64Array(bytes) : new Int32Array(bytes);
  copy.set(typed.subarray(from, to));
  return copy;
}

/** Chunk k of the job from the helper, waiting up to STALL_MS for it; null if it did not come. */
function helperChunk(data: HelperData, port: HelperData['port'], job: number, k: number): Uint8Array | null {
  const deadline = performance.now() + STALL_MS;
  const arrived = arrivedChunks.get(job)!;
  for (;;) {
    // Read before the port is drained: a chunk posted after it changes the count, and the wait returns at once.
    const posted = Atomics.load(data.control, POSTED);
    for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
      const { job: from, index, bytes } = received.message as ChunkMessage;
      // A late chunk of a job already written, which the main thread made itself, is dropped.
      arrivedChunks.get(from)?.set(index, bytes);
    }
    const bytes = arrived.get(k);
    if (bytes !== undefined) {
      arrived.delete(k);
      return bytes;
    }
    const left = deadline - performance.now();
    if (left <= 0) return null;
    Atomics.wait(data.control, POSTED, posted, left);
  }
}

/** The helper's side: each job's chunks from the last down, as long as the main thread has not taken them. */
export function serveNumberChunks({ control, port }: HelperData): void {
  port.on('message', ({ job, data, states }: NumberJob) => {
    for (let k = states.length - 1; k >= 0; k--) {
      if (Atomics.compareExchange(states, k, FREE, HELPER) !== FREE) return;
      const start = k * JSON_CHUNK;
      const bytes = jsonChunk(data, start, Math.min(start + JSON_CHUNK, data.length), k > 0);
      const chunk: ChunkMessage = { job, index: k, bytes };
      port.postMessage(chunk, [bytes.buffer]);
      Atomics.add(control, POSTED, 1);
      Atomics.notify(control, POSTED);
    }
  });
}
