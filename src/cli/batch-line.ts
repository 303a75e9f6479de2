/**
 * A batch line that is a flat object of numbers, `{"x": 1.5, "y": -2}`, read
 * without JSON.parse: no object, no key strings, its numbers straight into
 * an array that is reused line after line. Anything else (nested values,
 * strings, escapes, an `"at"` object, a malformed line) is left to JSON.parse,
 * which gives the same bindings or the same error.
 */

/** More keys than this and the line takes JSON.parse's path. */
const MAX_KEYS = 64;

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

  /**
   * Reads `text`; false when it is not a flat object of finite numbers under plain keys, or has a key twice.
   * A plain key has no escape or control character and does not start with a digit (JSON.parse would put
   * such keys, array indices, before the others).
   */
  read(text: string): boolean {
    this.text = text;
    this.count = -1;
    const end = text.length;
    let p = skipSpace(text, 0, end);
    if (p >= end || text.charCodeAt(p) !== OPEN) return false;
    p = skipSpace(text, p + 1, end);
    let count = 0;
    if (p < end && text.charCodeAt(p) === CLOSE) return this.done(text, p + 1, 0);
    for (;;) {
      if (count === MAX_KEYS || p >= end || text.charCodeAt(p) !== QUOTE) return false;
      const keyStart = p + 1;
      p = keyStart;
      if (p >= end || isDigit(text.charCodeAt(p))) return false;
      for (; p < end; p++) {
        const c = text.charCodeAt(p);
        if (c === QUOTE) break;
        if (c === BACKSLASH || c < 0x20) return false;
      }
      if (p >= end || p === keyStart) return false;
      this.keyStart[count] = keyStart;
      this.keyEnd[count] = p;
      p = skipSpace(text, p + 1, end);
      if (p >= end || text.charCodeAt(p) !== COLON) return false;
      p = skipSpace(text, p + 1, end);
      const numberEnd = jsonNumberEnd(text, p, end);
      if (numberEnd < 0) return false;
      const exact = exactDecimal(text, p, numberEnd);
      const x = Number.isNaN(exact) ? Number(text.slice(p, numberEnd)) : exact;
      // 1e400 is Infinity: the general path says why that is refused.
      if (!Number.isFinite(x)) return false;
      this.numbers[count++] = x;
      p = skipSpace(text, numberEnd, end);
      if (p >= end) return false;
      const c = text.charCodeAt(p);
      if (c === CLOSE) return this.done(text, p + 1, count);
      if (c !== COMMA) return false;
      p = skipSpace(text, p + 1, end);
    }
  }

  /** Whether key k of the line is `name`. */
  keyIs(k: number, name: string): boolean {
    const start = this.keyStart[k]!;
    return this.keyEnd[k]! - start === name.length && this.text.startsWith(name, start);
  }

  key(k: number): string {
    return this.text.slice(this.keyStart[k]!, this.keyEnd[k]!);
  }

  private done(text: string, after: number, count: number): boolean {
    if (skipSpace(text, after, text.length) !== text.length) return false;
    for (let k = 1; k < count; k++) for (let j = 0; j < k; j++) if (this.sameKeys(j, k)) return false;
    this.count = count;
    return true;
  }

  private sameKeys(j: number, k: number): boolean {
    const start = this.keyStart[j]!;
    const offset = this.keyStart[k]! - start;
    if (this.keyEnd[j]! - start !== this.keyEnd[k]! - this.keyStart[k]!) return false;
    for (let p = start; p < this.keyEnd[j]!; p++)
      if (this.text.charCodeAt(p) !== this.text.charCodeAt(p + offset)) return false;
    return true;
  }
}

/** 10⁰ … 10²², each a double exactly. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Above this a digit more could take the digits past 2⁵³, where not every integer is a double. */
const MAX_EXACT_PREFIX = Math.floor((2 ** 53 - 9) / 10);

/**
 * The JSON number in [from, end) when its digits make an integer below 2⁵³ and its power of ten is at most
 * 22 either way: the integer and the power are doubles exactly, so one division or product rounds once, as
 * Number does (Clinger's fast path); NaN for any other number, for Number to read.
 */
function exactDecimal(text: string, from: number, end: number): number {
  let p = from;
  const negative = text.charCodeAt(p) === MINUS;
  if (negative) p++;
  let digits = 0;
  let scale = 0;
  let fraction = false;
  for (; p < end; p++) {
    const c = text.charCodeAt(p);
    if (c === DOT) fraction = true;
    else if (isDigit(c)) {
      if (digits > MAX_EXACT_PREFIX) return NaN;
      digits = digits * 10 + (c - ZERO);
      if (fraction) scale++;
    } else break;
  }
  let exponent = 0;
  if (p < end) {
    // The exponent (its syntax checked already): e, a sign, digits.
    const sign = text.charCodeAt(++p) === MINUS ? -1 : 1;
    if (!isDigit(text.charCodeAt(p))) p++;
    for (; p < end; p++) {
      exponent = exponent * 10 + (text.charCodeAt(p) - ZERO);
      if (exponent > 100) return NaN;
    }
    exponent *= sign;
  }
  const power = exponent - scale;
  let x: number;
  if (power === 0) x = digits;
  else if (power < 0 && power >= -22) x = digits / POWERS_OF_TEN[-power]!;
  else if (power > 0 && power <= 22) x = digits * POWERS_OF_TEN[power]!;
  else return NaN;
  return negative ? -x : x;
}

function skipSpace(text: string, from: number, end: number): number {
  let p = from;
  while (p < end && isSpace(text.charCodeAt(p))) p++;
  return p;
}

/** The end of the JSON number at `p` (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?), or -1 when there is none. */
function jsonNumberEnd(text: string, from: number, end: number): number {
  let p = from;
  if (p < end && text.charCodeAt(p) === MINUS) p++;
  if (p >= end) return -1;
  if (text.charCodeAt(p) === ZERO) p++;
  else if (isDigit(text.charCodeAt(p))) while (p < end && isDigit(text.charCodeAt(p))) p++;
  else return -1;
  if (p < end && text.charCodeAt(p) === DOT) {
    const first = ++p;
    while (p < end && isDigit(text.charCodeAt(p))) p++;
    if (p === first) return -1;
  }
  if (p < end && (text.charCodeAt(p) | 0x20) === 0x65) {
    p++;
    if (p < end && (text.charCodeAt(p) === PLUS || text.charCodeAt(p) === MINUS)) p++;
    const first = p;
    while (p < end && isDigit(text.charCodeAt(p))) p++;
    if (p === first) return -1;
  }
  return p;
}
