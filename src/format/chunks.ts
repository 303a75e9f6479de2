/**
 * Output as pieces of bounded size: a formatter yields its text piece by
 * piece and the writer takes each chunk as it comes, so a result's text is
 * never held whole (a 5000×5000 J is hundreds of megabytes of text).
 */

/** Pieces are joined into chunks of about this many characters. */
export const CHUNK_CHARACTERS = 1 << 16;

/** The pieces, concatenated in order, as chunks of about CHUNK_CHARACTERS characters. */
export function* chunked(pieces: Iterable<string>): Generator<string> {
  let pending: string[] = [];
  let length = 0;
  for (const piece of pieces) {
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
