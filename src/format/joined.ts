/**
 * Numbers joined into one text, written as bytes: writeShortest writes most numbers' texts without making a
 * string (twice as fast as JSON.stringify, the same text), and the caller's `text` the others (non-finite ones,
 * as its format spells them). JSON's arrays, CSV's rows and MatrixMarket's columns are made so.
 */
import { jsonNumber } from './number.js';
import { writeShortest } from './shortest.js';

/** The most characters a number takes, with its separator: -0.0000012345678901234567, */
export const NUMBER_CHARACTERS = 26;

/** The bytes of the text being made; grown, never shrunk. */
let buffer: Uint8Array<ArrayBuffer> = new Uint8Array(1 << 16);
const asciiText = new TextDecoder();

/**
 * `count` numbers data[from], data[from + stride], … joined by the character `separator` (a code below 128); each
 * number as writeShortest writes it, else as `text` does (ASCII).
 */
type Joined = readonly [
  data: ArrayLike<number>,
  from: number,
  count: number,
  stride: number,
  separator: number,
  text: (x: number) => string,
];

/** The numbers of `Joined` as text. */
export function joinedNumbers(...joined: Joined): string {
  // Written first: writing may grow the buffer.
  const length = writeJoined(-1, ...joined);
  return asciiText.decode(buffer.subarray(0, length));
}

/** JSON arrays are formatted this many numbers at a time: small arrays keep the garbage collector's work small. */
export const JSON_CHUNK = 8192;
const COMMA = 0x2c;

/**
 * The JSON numbers data[from … to), comma-separated, non-finite ones as strings, after a comma when `afterOthers`:
 * bytes of their own.
 */
export function jsonChunk(
  data: ArrayLike<number>,
  from: number,
  to: number,
  afterOthers: boolean,
): Uint8Array<ArrayBuffer> {
  const length = writeJoined(afterOthers ? COMMA : -1, data, from, to - from, 1, COMMA, jsonNumber);
  return buffer.slice(0, length);
}

/**
 * Writes the numbers of `Joined` into `buffer` from its start (after `lead` unless -1) and returns their
 * length. A number equal to the one before it is its bytes again: a symmetric matrix's entries, a(i,j) then
 * a(j,i), constant runs and a sparse matrix's row indices often repeat their neighbour.
 */
function writeJoined(lead: number, ...[data, from, count, stride, separator, text]: Joined): number {
  const room = count * NUMBER_CHARACTERS + 1;
  if (buffer.length < room) buffer = new Uint8Array(room);
  const bytes = buffer;
  let at = 0;
  if (lead >= 0) bytes[at++] = lead;
  let last = NaN;
  let lastFrom = 0;
  let lastTo = 0;
  const to = from + count * stride;
  for (let k = from; k !== to; k += stride) {
    if (k !== from) bytes[at++] = separator;
    const x = data[k]!;
    // NaN never equals the last number; ±Infinity's text is its own; 0 and -0 are both "0".
    if (x === last) {
      // A few bytes: a loop, not a call of copyWithin.
      for (let b = lastFrom; b < lastTo; b++) bytes[at++] = bytes[b]!;
      continue;
    }
    last = x;
    lastFrom = at;
    const end = writeShortest(x, bytes, at);
    if (end >= 0) at = end;
    else {
      const spelled = text(x);
      for (let c = 0; c < spelled.length; c++) bytes[at++] = spelled.charCodeAt(c);
    }
    lastTo = at;
  }
  return at;
}
