/**
 * Whether a number's text in a batch line is the text JSON.stringify gives
 * for its value, so that an output line copies the text rather than
 * formatting the number again (a batch's `at` echoes its input).
 *
 * JSON.stringify writes the fewest digits that read back as the value (the
 * closest such when there are several), in the form ECMAScript's
 * Number::toString gives them. The reader (batch-line.ts) checks the form: no
 * exponent, no needless zero or sign. The digits are provably those when
 *  - there are at most 15: two different decimals of at most 15 digits never
 *    read as the same double in the normal range (each reads back from its
 *    double when rounded to 15 digits), so no other decimal as short reads
 *    as the value;
 *  - there are 16, D·10⁻ᵖ with D < 2⁵³ and p ≥ 0: neither 15-digit decimal
 *    beside the text reads as the value (a shorter decimal that did would
 *    make the one between it and the text read as the value too), and D is
 *    within half a unit of its last digit of the value, computed exactly.
 * Anything else (17 digits, an exponent) is formatted as usual.
 */

/** Digits that always are the value's shortest (see above). */
const UNIQUE_DIGITS = 15;

/** 10⁰ … 10²², each a double exactly. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Veltkamp's splitter for doubles: 2²⁷ + 1. */
const SPLITTER = 134217729;

/**
 * Whether the decimal digits·10^-places, of `count` significant digits and read as `value` (its sign dropped),
 * are the digits JSON.stringify writes for it; `digits` < 2⁵³, 0 ≤ places ≤ 22. False means only that they
 * are not known to be.
 */
export function isShortestDecimal(digits: number, places: number, count: number, value: number): boolean {
  if (count <= UNIQUE_DIGITS) return true;
  if (count > UNIQUE_DIGITS + 1) return false;
  // The 15-digit decimals either side of the text, each read by one rounding of exact doubles (below 2⁵³, a
  // power of ten up to 10²¹): neither may read as the value.
  const lastDigit = digits % 10;
  const below = (digits - lastDigit) / 10;
  if (scaled(below, places - 1) === value || scaled(below + 1, places - 1) === value) return false;
  // digits − value·10^places exactly: the product is p + e (Dekker), and digits − p is exact (the two are within
  // a factor 2, and p ≥ 10¹⁵ makes it a multiple of 2⁻³, so ± 1/2 is exact too).
  const power = POWERS_OF_TEN[places]!;
  const product = value * power;
  const error = productError(value, power, product);
  const difference = digits - product;
  return difference - 0.5 < error && error < difference + 0.5;
}

/** `integer`·10^-places, rounded once; places ≥ -1. */
const scaled = (integer: number, places: number): number =>
  places >= 0 ? integer / POWERS_OF_TEN[places]! : integer * 10;

/** a·b − fl(a·b) exactly, for a product that neither overflows nor underflows (Dekker's two-product). */
function productError(a: number, b: number, product: number): number {
  const aSplit = SPLITTER * a;
  const aHigh = aSplit - (aSplit - a);
  const aLow = a - aHigh;
  const bSplit = SPLITTER * b;
  const bHigh = bSplit - (bSplit - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
}
