/**
 * A batch line that is a flat object of numbers, `{"x": 1.5, "y": -2}`, read
 * without JSON.parse: no object, no key strings, its numbers straight into
 * an array that is reused line after line. Anything else (nested values,
 * strings, escapes, an `"at"` object, a malformed line) is left to JSON.parse,
 * which gives the same bindings or the same error.
 */
import { rememberNumberText } from '../format/json-lines.js';
import { exactDecimalValue } from '../values.js';
import { DecimalForm } from './batch-numbers.js';
import { HOST_LITTLE_ENDIAN } from './npy.js';

/** More keys than this and the line takes JSON.parse's path. */
const MAX_KEYS = 64;
/** A longer line takes JSON.parse's path too (a line that long holds arrays, as a rule). */
const MAX_CHARACTERS = 4096;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN = 0x7b;
const CLOSE = 0x7d;

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
/** JSON's white space: space, tab, line feed, carriage return. */
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The keys (as places in the line) and numbers of the last line read; `count` is -1 when it was not flat. */
export class FlatLine {
  count = -1;
  text = '';
  readonly keyStart = new Int32Array(MAX_KEYS);
  readonly keyEnd = new Int32Array(MAX_KEYS);
  readonly numbers = new Float64Array(MAX_KEYS);
  private readonly form = new DecimalForm();
  /**
   * The line's UTF-16 code units, copied at once: the parse reads a typed array, which V8 compiles to small,
   * quick code, where each of its many reads of a string's characters would be a dispatch on how the string is held.
   */
  private readonly codes = new Uint16Array(MAX_CHARACTERS);
  /**
   * The same memory as bytes, for Buffer's utf16le write, which copies a string's code units as they are (a lone
   * surrogate too) in native code: before V8 has compiled a batch's code, a loop in JavaScript copies a character
   * in tens of nanoseconds. It writes them little-endian, as a Uint16Array holds them on such a machine only.
   */
  private readonly codeBytes = HOST_LITTLE_ENDIAN ? Buffer.from(this.codes.buffer) : null;

  /**
   * Reads `text`; false when it is not a flat object of finite numbers under plain keys, or has a key twice.
   * A plain key has no escape or control character and does not start with a digit (JSON.parse would put
   * such keys, array indices, before the others).
   */
  read(text: string): boolean {
    this.text = text;
    this.count = -1;
    const end = text.length;
    if (end > MAX_CHARACTERS) return false;
    const { codes, codeBytes } = this;
    if (codeBytes !== null) codeBytes.write(text, 0, 'utf16le');
    else for (let k = 0; k < end; k++) codes[k] = text.charCodeAt(k);
    let p = skipSpace(codes, 0, end);
    if (p >= end || codes[p]! !== OPEN) return false;
    p = skipSpace(codes, p + 1, end);
    let count = 0;
    if (p < end && codes[p]! === CLOSE) return this.done(p + 1, end, 0);
    for (;;) {
      if (count === MAX_KEYS || p >= end || codes[p]! !== QUOTE) return false;
      const keyStart = p + 1;
      p = keyStart;
      if (p >= end || isDigit(codes[p]!)) return false;
      for (; p < end; p++) {
        const c = codes[p]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH || c < 0x20) return false;
      }
      if (p >= end || p === keyStart) return false;
      this.keyStart[count] = keyStart;
      this.keyEnd[count] = p;
      p = skipSpace(codes, p + 1, end);
      if (p >= end || codes[p]! !== COLON) return false;
      p = skipSpace(codes, p + 1, end);
      const numberEnd = jsonNumberEnd(codes, p, end);
      if (numberEnd < 0) return false;
      const exact = exactDecimal(codes, p, numberEnd, this.form);
      const x = Number.isNaN(exact) ? Number(text.slice(p, numberEnd)) : exact;
      // 1e400 is Infinity: the general path says why that is refused.
      if (!Number.isFinite(x)) return false;
      // A number the output repeats (its `at`) is copied from here, not formatted, when it is as JSON writes it.
      if (this.form.isShortest(x)) rememberNumberText(x, codes, p, numberEnd);
      this.numbers[count++] = x;
      p = skipSpace(codes, numberEnd, end);
      if (p >= end) return false;
      const c = codes[p]!;
      if (c === CLOSE) return this.done(p + 1, end, count);
      if (c !== COMMA) return false;
      p = skipSpace(codes, p + 1, end);
    }
  }

  /** Whether key k of the line is `name`. */
  keyIs(k: number, name: string): boolean {
    const start = this.keyStart[k]!;
    if (this.keyEnd[k]! - start !== name.length) return false;
    const { codes } = this;
    for (let j = 0; j < name.length; j++) if (codes[start + j]! !== name.charCodeAt(j)) return false;
    return true;
  }

  key(k: number): string {
    return this.text.slice(this.keyStart[k]!, this.keyEnd[k]!);
  }

  private done(after: number, end: number, count: number): boolean {
    if (skipSpace(this.codes, after, end) !== end) return false;
    for (let k = 1; k < count; k++) for (let j = 0; j < k; j++) if (this.sameKeys(j, k)) return false;
    this.count = count;
    return true;
  }

  private sameKeys(j: number, k: number): boolean {
    const start = this.keyStart[j]!;
    const offset = this.keyStart[k]! - start;
    if (this.keyEnd[j]! - start !== this.keyEnd[k]! - this.keyStart[k]!) return false;
    const { codes } = this;
    for (let p = start; p < this.keyEnd[j]!; p++) if (codes[p]! !== codes[p + offset]!) return false;
    return true;
  }
}

/**
 * The JSON number in [from, end) where exactDecimalValue computes it exactly from its digits; NaN for any other
 * number, for Number to read. `form` gets what the text says of its digits, whichever.
 */
export function exactDecimal(codes: Uint16Array, from: number, end: number, form: DecimalForm): number {
  let p = from;
  const negative = codes[p]! === MINUS;
  if (negative) p++;
  const integerStart = p;
  let digits = 0;
  let prefix = 0;
  let point = -1;
  /** The first and last digits that are not 0. */
  let first = -1;
  let last = -1;
  for (; p < end; p++) {
    const c = codes[p]!;
    if (isDigit(c)) {
      // Past 2⁵³ (where not every integer is a double) the sum may round, but stays at or above 2⁵³.
      prefix = digits;
      digits = digits * 10 + (c - ZERO);
      if (c !== ZERO) {
        last = p;
        if (first < 0) first = p;
      }
    } else if (c === DOT) point = p;
    else break;
  }
  const digitsEnd = p;
  const scale = point < 0 ? 0 : digitsEnd - point - 1;
  form.prefix = prefix;
  form.lastDigit = codes[digitsEnd - 1]! - ZERO;
  form.places = scale;
  if (digitsEnd === end) form.plain(integerStart, point, first, last, end, negative);
  else form.count = 0;
  let exponent = 0;
  if (p < end) {
    // The exponent (its syntax checked already): e, a sign, digits.
    const sign = codes[++p]! === MINUS ? -1 : 1;
    if (!isDigit(codes[p]!)) p++;
    for (; p < end; p++) {
      exponent = exponent * 10 + (codes[p]! - ZERO);
      if (exponent > 100) return NaN;
    }
    exponent *= sign;
  }
  return exactDecimalValue(digits, exponent - scale, negative);
}

function skipSpace(codes: Uint16Array, from: number, end: number): number {
  let p = from;
  while (p < end && isSpace(codes[p]!)) p++;
  return p;
}

/** The end of the JSON number at `p` (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?), or -1 when there is none. */
function jsonNumberEnd(codes: Uint16Array, from: number, end: number): number {
  let p = from;
  if (p < end && codes[p]! === MINUS) p++;
  if (p >= end) return -1;
  if (codes[p]! === ZERO) p++;
  else if (isDigit(codes[p]!)) while (p < end && isDigit(codes[p]!)) p++;
  else return -1;
  if (p < end && codes[p]! === DOT) {
    const first = ++p;
    while (p < end && isDigit(codes[p]!)) p++;
    if (p === first) return -1;
  }
  if (p < end && (codes[p]! | 0x20) === 0x65) {
    p++;
    if (p < end && (codes[p]! === PLUS || codes[p]! === MINUS)) p++;
    const first = p;
    while (p < end && isDigit(codes[p]!)) p++;
    if (p === first) return -1;
  }
  return p;
}
