/** Writing a result's chunks so that standard output, whatever it is, holds a bounded part of the text. */
import { chunkBytes, chunkText, type Chunk } from '../format/chunks.js';
import type { FileContent, Io } from './io.js';

/** Characters handed to standard output before waiting for it to take them. */
const FLUSH_CHARACTERS = 1 << 20;

/**
 * Writes the chunks as they are made. A pipe queues what its reader has not
 * taken yet, so every FLUSH_CHARACTERS the writer waits for the queue to
 * empty: the text in memory stays near that much, whatever the result's size.
 */
export async function writeChunks(io: Io, chunks: Iterable<Chunk>): Promise<void> {
  let unflushed = 0;
  for (const chunk of chunks) {
    // A chunk's bytes never change once made (a field written twice writes them again): a stream may hold them.
    if (typeof chunk === 'string' || io.writeBytes === undefined) io.write(chunkText(chunk));
    else io.writeBytes(chunk);
    unflushed += chunk.length;
    if (unflushed >= FLUSH_CHARACTERS && io.flush !== undefined) {
      await io.flush();
      unflushed = 0;
    }
  }
}

/** Chunks as a file's content: one text, or bytes in order when the formatter made some. */
export function fileContentOf(chunks: Iterable<Chunk>): FileContent {
  const all = [...chunks];
  if (all.every((chunk) => typeof chunk === 'string')) return all.join('');
  return all.map(chunkBytes);
}
