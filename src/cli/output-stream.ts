/** Writing a result's chunks so that standard output, whatever it is, holds a bounded part of the text. */
import type { Io } from './io.js';

/** Characters handed to standard output before waiting for it to take them. */
const FLUSH_CHARACTERS = 1 << 20;

/**
 * Writes the chunks as they are made. A pipe queues what its reader has not
 * taken yet, so every FLUSH_CHARACTERS the writer waits for the queue to
 * empty: the text in memory stays near that much, whatever the result's size.
 */
export async function writeChunks(io: Io, chunks: Iterable<string>): Promise<void> {
  let unflushed = 0;
  for (const chunk of chunks) {
    io.write(chunk);
    unflushed += chunk.length;
    if (unflushed >= FLUSH_CHARACTERS && io.flush !== undefined) {
      await io.flush();
      unflushed = 0;
    }
  }
}
