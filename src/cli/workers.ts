/**
 * `--jobs N`: a batch's points on the main thread and N − 1 worker threads.
 * The main thread reads the lines, hands them out in chunks, runs a chunk
 * itself when every worker has its fill, and writes the outputs in input
 * order; each worker parses its own copy of the expression and runs the
 * chunks it is given. A worker holds at most two chunks at a time, so memory
 * is bounded however long the input is.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { BatchPoints, type BatchSetup, type Chunk, type ChunkOutput } from './workers-batch.js';

/** Chunks a thread holds at once: one to run and one waiting, so it never idles between them. */
const CHUNKS_PER_THREAD = 2;

/**
 * From the main thread to a thread: the batch's setup (to a thread started before it was known), a chunk of
 * lines, joined by newlines (one string is copied fastest); or the shared buffer of an output it sent, written,
 * for it to write a later chunk's output into.
 */
type MainMessage =
  | { readonly kind: 'setup'; readonly setup: BatchSetup }
  | {
      readonly kind: 'chunk';
      readonly id: number;
      readonly first: number;
      readonly step: number;
      readonly text: string;
    }
  | { readonly kind: 'buffer'; readonly buffer: SharedArrayBuffer };

/** From a thread: ready to take chunks, a chunk's output (JSON Lines as UTF-8 bytes), or why it failed. */
type ThreadMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'jsonl'; readonly id: number; readonly bytes: Uint8Array; readonly failed: number }
  | { readonly kind: 'csv'; readonly id: number; readonly output: ChunkOutput }
  | { readonly kind: 'failed'; readonly message: string };

interface Thread {
  readonly worker: Worker;
  /** Loading (the bundle, the expression), ready for chunks, or gone: it could not start, and holds none. */
  state: 'loading' | 'ready' | 'gone';
  held: number;
  /** Whether it has run a chunk. */
  ran: boolean;
}

/**
 * Threads the launcher started before the CLI loaded, for a batch of a long file it saw in the arguments: they
 * load while this thread does, and wait for the batch's setup. A batch takes them before starting others; any
 * not taken are unreferenced, and end with the process.
 */
const earlyThreads: Worker[] = [];

export function keepEarlyBatchThreads(workers: readonly Worker[]): void {
  earlyThreads.push(...workers);
}

/** An early thread still running, given the batch's setup; undefined when none is left. */
function earlyThread(setup: BatchSetup): Worker | undefined {
  for (let worker = earlyThreads.shift(); worker !== undefined; worker = earlyThreads.shift()) {
    // A thread that ended already has no id; one that ends from now on is told by its exit event, heard later.
    if (worker.threadId < 0) continue;
    worker.ref();
    worker.postMessage({ kind: 'setup', setup } satisfies MainMessage);
    return worker;
  }
  return undefined;
}

/** The worker threads of one batch. */
export class BatchThreads {
  private readonly threads: Thread[] = [];
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;

  /**
   * Starts `count` threads from `entry` (a script that calls serveBatch), the early ones first; they load in the
   * background. Each output comes to `onOutput` with its chunk's id, in the order the threads finish.
   */
  constructor(
    count: number,
    entry: string,
    setup: BatchSetup,
    private readonly onOutput: (id: number, output: ChunkOutput) => void,
  ) {
    for (let k = 0; k < count; k++) {
      const worker = earlyThread(setup) ?? new Worker(entry, { workerData: { jacobianBatch: setup } });
      const thread: Thread = { worker, state: 'loading', held: 0, ran: false };
      worker.on('message', (message: ThreadMessage) => this.receive(thread, message));
      worker.on('error', (error) => this.lose(thread, `a batch thread failed: ${error.message}`));
      worker.on('exit', (code) => this.lose(thread, `a batch thread ended with status ${code}`));
      this.threads.push(thread);
    }
  }

  /** The threads that have run a chunk. */
  get count(): number {
    return this.threads.filter((t) => t.ran).length;
  }

  /** Whether a thread is still loading (and none has failed). */
  get loading(): boolean {
    return this.failure === null && this.threads.some((t) => t.state === 'loading');
  }

  /** Waits until every thread is ready, or gone. */
  async loaded(): Promise<void> {
    while (this.loading) await this.change();
  }

  /** Why a thread failed, once one has. */
  get failed(): Error | null {
    return this.failure;
  }

  /** Hands a chunk to the ready thread that holds fewest, if one has room; false if none has. */
  trySend(id: number, chunk: Chunk): boolean {
    if (this.failure !== null) throw this.failure;
    let best: Thread | null = null;
    for (const thread of this.threads)
      if (thread.state === 'ready' && thread.held < CHUNKS_PER_THREAD && (best === null || thread.held < best.held))
        best = thread;
    if (best === null) return false;
    best.held++;
    const message: MainMessage = {
      kind: 'chunk',
      id,
      first: chunk.first,
      step: chunk.step,
      text: chunk.lines.join('\n'),
    };
    best.worker.postMessage(message);
    return true;
  }

  /** Waits until every chunk handed out has come back. */
  async idle(): Promise<void> {
    while (this.failure === null && this.threads.some((t) => t.held > 0)) await this.change();
    if (this.failure !== null) throw this.failure;
  }

  /** Ends the threads (their chunks, if any, are dropped). */
  close(): void {
    for (const { worker } of this.threads) {
      worker.removeAllListeners('exit');
      worker.removeAllListeners('error');
      void worker.terminate();
    }
  }

  private change(): Promise<void> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.();
  }

  private receive(thread: Thread, message: ThreadMessage): void {
    switch (message.kind) {
      case 'ready':
        thread.state = 'ready';
        break;
      case 'failed':
        this.lose(thread, message.message);
        return;
      case 'jsonl': {
        thread.held--;
        thread.ran = true;
        const { buffer } = message.bytes;
        this.onOutput(message.id, {
          kind: 'jsonl',
          bytes: Buffer.from(buffer, message.bytes.byteOffset, message.bytes.length),
          failed: message.failed,
          // Shared memory goes back as it came, neither copied nor moved (see lineBuffer); a buffer the
          // thread had to grow came copied, and stays. A thread gone has no use for it.
          release: () => {
            if (thread.state === 'ready' && buffer instanceof SharedArrayBuffer)
              thread.worker.postMessage({ kind: 'buffer', buffer } satisfies MainMessage);
          },
        });
        break;
      }
      case 'csv':
        thread.held--;
        thread.ran = true;
        this.onOutput(message.id, message.output);
        break;
    }
    this.wake();
  }

  /**
   * A thread that ended or failed. One that holds chunks fails the batch (their lines are lost); one that
   * holds none is only gone, and the others, or the main thread, run the rest.
   */
  private lose(thread: Thread, message: string): void {
    if (thread.state === 'gone') return;
    if (thread.held > 0) this.fail(new Error(message));
    thread.state = 'gone';
    this.wake();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }
}

/** Whether this thread was started by BatchThreads: it then has a batch to serve. */
export const isBatchThread = (): boolean =>
  !isMainThread && typeof workerData === 'object' && workerData !== null && 'jacobianBatch' in workerData;

/** The body of a batch thread: prepares the batch's points, then runs each chunk it is sent. */
export async function serveBatch(): Promise<void> {
  const port = parentPort;
  if (port === null || !isBatchThread()) throw new Error('internal: serveBatch runs in a batch thread');
  try {
    // A thread started early (null) is sent its setup first.
    const setup =
      (workerData as { jacobianBatch: BatchSetup | null }).jacobianBatch ??
      (await new Promise<BatchSetup>((resolve, reject) =>
        port.once('message', (message: MainMessage) => {
          if (message.kind === 'setup') resolve(message.setup);
          else reject(new Error(`internal: a batch thread started early was sent ${message.kind} before its setup`));
        }),
      ));
    const points = await BatchPoints.create(setup);
    port.on('message', (message: MainMessage) => {
      if (message.kind === 'setup') return;
      if (message.kind === 'buffer') {
        points.recycle(message.buffer);
        return;
      }
      const { id, first, step, text } = message;
      const output = points.run({ first, step, lines: text.split('\n') });
      if (output.kind === 'csv') {
        port.postMessage({ kind: 'csv', id, output } satisfies ThreadMessage);
        return;
      }
      // Encoded here, not on the main thread, which only writes; shared memory goes there without a copy, and
      // without being moved (see lineBuffer).
      port.postMessage({ kind: 'jsonl', id, bytes: output.bytes, failed: output.failed } satisfies ThreadMessage);
    });
    port.postMessage({ kind: 'ready' } satisfies ThreadMessage);
  } catch (error) {
    port.postMessage({
      kind: 'failed',
      message: `a batch thread cannot start: ${error instanceof Error ? error.message : String(error)}`,
    } satisfies ThreadMessage);
  }
}
