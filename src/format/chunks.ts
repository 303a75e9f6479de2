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

/**
 * The pieces, concatenated in order, as chunks of about CHUNK_CHARACTERS characters: small pieces are joined (into
 * bytes when some are bytes, a matrix's rows among its brackets), a large piece of bytes passes as it is.
 */
export function chunked(pieces: Iterable<string>): Generator<string>;
export function chunked(pieces: Iterable<Chunk>): Generator<Chunk>;
export function* chunked(pieces: Iterable<Chunk>): Generator<Chunk> {
  let pending: Chunk[] = [];
  let length = 0;
  for (const piece of pieces) {
    if (typeof piece !== 'string' && piece.length >= CHUNK_CHARACTERS) {
      if (pending.length > 0) yield joined(pending);
      pending = [];
      length = 0;
      yield piece;
      continue;
    }
    pending.push(piece);
    length += piece.length;
    if (length >= CHUNK_CHARACTERS) {
      yield joined(pending);
      pending = [];
      length = 0;
    }
  }
  if (pending.length > 0) yield joined(pending);
}

const utf8 = new TextEncoder();

/** A chunk as bytes: a text encoded as UTF-8. */
export const chunkBytes = (chunk: Chunk): Uint8Array => (typeof chunk === 'string' ? utf8.encode(chunk) : chunk);

/** Pieces as one chunk: their text, or their bytes (texts encoded) when some are bytes. */
function joined(pieces: readonly Chunk[]): Chunk {
  if (pieces.every((piece) => typeof piece === 'string')) return pieces.join('');
  const parts = pieces.map(chunkBytes);
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
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
