/**
 * JSON.stringify's text of a number written straight into bytes, without
 * making a string, for the numbers a batch's lines hold most: 10⁻⁶ ≤ |x| <
 * 10¹⁵, which Number::toString writes without an exponent. Every text is
 * proved, not guessed; a number it cannot prove is left to JSON.stringify.
 *
 * JSON.stringify writes the fewest digits that read back as x, the closest
 * to x among those (ECMAScript's Number::toString). With x·10^q = p + e
 * exactly (p the double product, e its error by Dekker's two-product, for
 * exact powers 10^q, q ≤ 22), the decimals of k digits either side of x are
 * found exactly, and:
 *  - 15 digits: at most one decimal of 15 digits or fewer reads as x (two
 *    would read back differently from it when rounded to 15 digits), and if
 *    one does, one of the two beside x does (one lies between it and x);
 *  - 16 digits, when neither of 15 does: of the two beside x that read as x,
 *    the closer (below 2⁵³ one rounding of the digits each, checked exactly;
 *    past it, each one's distance to x against half of x's ulp, both exact);
 *  - 17 digits, when neither of 16 does: the closest to x, which always reads
 *    as x (half a unit of the 17th digit is less than half the gap to x's
 *    neighbours).
 * An exact tie between two candidates is left to JSON.stringify.
 */

import { POWERS_OF_TEN } from '../values.js';

/** Veltkamp's splitter for doubles: 2²⁷ + 1. */
const SPLITTER = 134217729;
/** Each power of ten split in two halves of 26 bits (Veltkamp), for Dekker's product. */
const POWER_HIGHS = POWERS_OF_TEN.map((power) => SPLITTER * power - (SPLITTER * power - power));
const POWER_LOWS = POWERS_OF_TEN.map((power, k) => power - POWER_HIGHS[k]!);
/** The bits of a double, for its binary exponent. */
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
/** log₁₀ 2. */
const LOG10_2 = 0.3010299956639812;
/** The high word's index in `words` (little or big endian). */
const HIGH = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f ? 1 : 0;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const SMALLEST = 1e-6;
const LARGEST = 1e15;
const GROUP = 1e8;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

/**
 * Writes JSON.stringify(x) at bytes[at…] (room for 25 bytes) and returns the index after it, when it can prove
 * the text (see above); -1, having written nothing, otherwise.
 */
export function writeShortest(x: number, bytes: Uint8Array, at: number): number {
  // Indices and whole numbers (0 among them) take their digits alone.
  if ((x | 0) === x) return writeInteger(x, bytes, at);
  const v = x < 0 ? -x : x;
  if (!(v >= SMALLEST && v < LARGEST)) return -1;
  // v's halves for Dekker's products with the powers of ten.
  const vSplit = SPLITTER * v;
  const vHigh = vSplit - (vSplit - v);
  const vLow = v - vHigh;
  // q: the places after the point that make 17 digits, v·10^q in [10¹⁶, 10¹⁷), told by the 15 digits at q − 2
  // (v·10^(q−2) in [10¹⁴, 10¹⁵), exact powers up to q = 24): estimated from the binary exponent (off by one at
  // most), then checked exactly.
  bits[0] = v;
  let q = Math.min(23, Math.max(2, 16 - Math.floor(((words[HIGH]! >>> 20) - 1023) * LOG10_2)));
  for (let tries = 0; ; tries++) {
    const product = v * POWERS_OF_TEN[q - 2]!;
    const error = powerProductError(vHigh, vLow, q - 2, product);
    if (product < 1e14 || (product === 1e14 && error < 0)) q++;
    else if (product > 1e15 || (product === 1e15 && error >= 0)) q--;
    else break;
    if (tries === 1 || q < 2 || q > 23) return -1;
  }
  // 15 digits, then 16.
  for (let fewer = 2; fewer >= 1; fewer--) {
    const places = q - fewer;
    const scale = POWERS_OF_TEN[places]!;
    const product = v * scale;
    const error = powerProductError(vHigh, vLow, places, product);
    // The decimals below and above v: product + error lies in [below, below + 1), below < 2⁵³ (but for 16 digits).
    const whole = Math.floor(product);
    const below = whole === product && error < 0 ? whole - 1 : whole;
    if (below + 1 > MAX_SAFE) {
      // Only 16 digits reach past 2⁵³, where product is an integer and below (product − 1 for a negative error)
      // may be no double.
      const end = sixteenPastSafe(x, bytes, at, product, error < 0 ? -1 : 0, error, places);
      if (end !== NONE_READS) return end;
      continue;
    }
    // v·10^places is an integer: v is that decimal exactly, which is the one that reads as v.
    if (whole === product && error === 0) return written(x, bytes, at, below, 0, places);
    const lowReads = below / scale === v;
    const highReads = (below + 1) / scale === v;
    if (lowReads && highReads) {
      // The closer of the two: (product − below) + error against 1/2, both sides exact (product ≥ 10¹⁴ makes
      // product − below a multiple of 2⁻⁶ below 1).
      const half = 0.5 - (product - below);
      if (error === half) return -1;
      return written(x, bytes, at, error < half ? below : below + 1, 0, places);
    }
    if (lowReads) return written(x, bytes, at, below, 0, places);
    if (highReads) return written(x, bytes, at, below + 1, 0, places);
  }
  if (q > 22) return -1;
  const p = v * POWERS_OF_TEN[q]!;
  const e = powerProductError(vHigh, vLow, q, p);
  // 17 digits: p + e rounded to the nearest integer; p ≥ 10¹⁶ is an integer, |e| ≤ 8.
  const rounded = Math.round(e);
  if (Math.abs(e - Math.trunc(e)) === 0.5) return -1;
  return written(x, bytes, at, p, rounded, q);
}

/** sixteenPastSafe's answer when neither decimal beside v reads as it. */
const NONE_READS = -2;

/**
 * The 16 digits of v = x or -x past 2⁵³ (bits holds v): v·10^places = product + error, product an even integer
 * at least 2⁵³ (below 10¹⁶) and |error| ≤ 1. The decimals beside v, product + k for k = low and low + 1 (low is
 * -1 or 0), are no doubles, but each one's distance to v·10^places, k − error, is exact (error is a multiple of
 * 2⁻⁵⁰ at least), and so is half of v's ulp times 10^places: a decimal reads as v when its distance is below it.
 * Returns where the text ends (the closer when both read), NONE_READS when neither reads, and -1 for a tie
 * (JSON.stringify's to settle) or a power of two (whose ulp below is half the one above).
 */
function sixteenPastSafe(
  x: number,
  bytes: Uint8Array,
  at: number,
  product: number,
  low: number,
  error: number,
  places: number,
): number {
  const high = words[HIGH]!;
  if ((high & 0xfffff) === 0 && words[1 - HIGH] === 0) return -1;
  const half = 2 ** ((high >>> 20) - 1023 - 53) * POWERS_OF_TEN[places]!;
  const lowDistance = Math.abs(low - error);
  const highDistance = Math.abs(low + 1 - error);
  if (lowDistance === half || highDistance === half || lowDistance === highDistance) return -1;
  if (lowDistance > half && highDistance > half) return NONE_READS;
  return written(x, bytes, at, product, lowDistance < highDistance ? low : low + 1, places);
}

/** The digits of each number below 100, two character codes each: 00, 01, …, 99. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, k) => ZERO + (k & 1 ? (k >> 1) % 10 : Math.floor(k / 20)));
/** The 17 digits of the decimal being written, first first, zeros before it. */
const DECIMAL_DIGITS = 17;
const digitBytes = new Uint8Array(DECIMAL_DIGITS);

/** Writes the four digits of v < 10⁴ at digitBytes[at…], two at a time. */
function fourDigits(v: number, at: number): void {
  // Divisions of int32s by constants are multiplications; of doubles, divisions.
  v |= 0;
  const high = (v / 100) | 0;
  const low = v - high * 100;
  digitBytes[at] = DIGIT_PAIRS[2 * high]!;
  digitBytes[at + 1] = DIGIT_PAIRS[2 * high + 1]!;
  digitBytes[at + 2] = DIGIT_PAIRS[2 * low]!;
  digitBytes[at + 3] = DIGIT_PAIRS[2 * low + 1]!;
}

/** Writes the eight digits of v < 10⁸ at digitBytes[at…]. */
function eightDigits(v: number, at: number): void {
  v |= 0;
  const high = (v / 10000) | 0;
  fourDigits(high, at);
  fourDigits(v - high * 10000, at + 4);
}

/**
 * Writes the decimal (integer + add)·10^-places, x's sign before it, in Number::toString's form without an
 * exponent: trailing zeros of the fraction dropped, `0.` and zeros before a fraction below 1. `integer` is an
 * integer double below 10¹⁷, `add` a small integer, and their sum below 10¹⁷.
 */
function written(x: number, bytes: Uint8Array, at: number, integer: number, add: number, places: number): number {
  // integer + add as a group of 9 digits and one of 8 (a sum past 2⁵³ is no double): high·10⁸ + low.
  let high = Math.floor(integer / GROUP);
  let low = integer - high * GROUP + add;
  if (low < 0) {
    high--;
    low += GROUP;
  } else if (low >= GROUP) {
    high++;
    low -= GROUP;
  }
  // Each group below 2³¹: integer divisions (multiplications), not divisions of doubles.
  const top = (high / GROUP) | 0;
  digitBytes[0] = ZERO + top;
  eightDigits(high - top * GROUP, 1);
  eightDigits(low, 9);
  // The point stands before digitBytes[point] (point ≤ 0: zeros before the first digit).
  const point = DECIMAL_DIGITS - places;
  let first = 0;
  while (first < DECIMAL_DIGITS - 1 && digitBytes[first] === ZERO) first++;
  let last = DECIMAL_DIGITS - 1;
  while (last >= point && last > first && digitBytes[last] === ZERO) last--;
  let out = at;
  if (x < 0) bytes[out++] = MINUS;
  if (point <= first) {
    bytes[out++] = ZERO;
    bytes[out++] = DOT;
    for (let k = point; k < first; k++) bytes[out++] = ZERO;
    for (let k = first; k <= last; k++) bytes[out++] = digitBytes[k]!;
    return out;
  }
  for (let k = first; k < point; k++) bytes[out++] = digitBytes[k]!;
  if (last < point) return out;
  bytes[out++] = DOT;
  for (let k = point; k <= last; k++) bytes[out++] = digitBytes[k]!;
  return out;
}

/** Writes the integer x, |x| ≤ 2³¹, at bytes[at…] and returns the index after it (-0 is 0, as JSON's). */
function writeInteger(x: number, bytes: Uint8Array, at: number): number {
  let out = at;
  let v = x;
  if (x < 0) {
    bytes[out++] = MINUS;
    v = -x;
  }
  let digits = 1;
  for (let power = 10; power <= v; power *= 10) digits++;
  out += digits;
  let k = out;
  while (v >= 100) {
    const next = (v / 100) | 0;
    const pair = 2 * (v - next * 100);
    bytes[--k] = DIGIT_PAIRS[pair + 1]!;
    bytes[--k] = DIGIT_PAIRS[pair]!;
    v = next;
  }
  if (v >= 10) {
    bytes[--k] = DIGIT_PAIRS[2 * v + 1]!;
    bytes[--k] = DIGIT_PAIRS[2 * v]!;
  } else bytes[--k] = ZERO + v;
  return out;
}

/** a·b − fl(a·b) exactly, for a product that neither overflows nor underflows (Dekker's two-product). */
export function productError(a: number, b: number, product: number): number {
  const aSplit = SPLITTER * a;
  const aHigh = aSplit - (aSplit - a);
  const aLow = a - aHigh;
  const bSplit = SPLITTER * b;
  const bHigh = bSplit - (bSplit - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
}

/**
 * v·10^places − product exactly, `product` being the double product and vHigh + vLow v's halves: productError
 * with the powers split once, ahead.
 */
function powerProductError(vHigh: number, vLow: number, places: number, product: number): number {
  const high = POWER_HIGHS[places]!;
  const low = POWER_LOWS[places]!;
  return vHigh * high - product + vHigh * low + vLow * high + vLow * low;
}
