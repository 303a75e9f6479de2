/**
 * Output as pieces of bounded size: a formatter yields its text piece by
 * piece and the writer takes each chunk as it comes, so a result's text is
 * never held whole (a 5000×5000 J is hundreds of megabytes of text).
 */

/**
 * A piece of output: text, or the bytes of ASCII text as the number writers make them (joined.ts), written as
 * they are: decoded into a string and encoded again, 10⁷ numbers took 0.2 s more.
 */
export type Chunk = string | Uint8Array;

/** Pieces are joined into chunks of about this many characters. */
export const CHUNK_CHARACTERS = 1 << 16;

/** The pieces, concatenated in order, as chunks of about CHUNK_CHARACTERS characters; bytes pass as they are. */
export function* chunked<Piece extends Chunk>(pieces: Iterable<Piece>): Generator<Piece | string> {
  let pending: string[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (typeof piece !== 'string') {
      if (pending.length > 0) yield pending.join('');
      pending = [];
      length = 0;
      yield piece;
      continue;
    }
    pending.push(piece);
    length += piece.length;
    if (length >= CHUNK_CHARACTERS) {
      yield pending.join('');
      pending = [];
      length = 0;
    }
  }
  if (pending.length > 0) yield pending.join('');
}

/** Lines, each ended by a newline, as chunks. */
export function* chunkedLines(lines: Iterable<string>): Generator<string> {
  yield* chunked(withNewlines(lines));
}

function* withNewlines(lines: Iterable<string>): Generator<string> {
  for (const line of lines) yield `${line}\n`;
}

const asciiText = new TextDecoder();

/** A chunk as text. */
export const chunkText = (chunk: Chunk): string => (typeof chunk === 'string' ? chunk : asciiText.decode(chunk));

/** Chunks joined into one text. */
export const textOf = (chunks: Iterable<Chunk>): string => Array.from(chunks, chunkText).join('');
