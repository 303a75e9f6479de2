/**
 * Whether a number's text in a batch line is the text JSON.stringify gives
 * for its value, so that an output line copies the text rather than
 * formatting the number again (a batch's `at` echoes its input).
 *
 * JSON.stringify writes the fewest digits that read back as the value (the
 * closest such when there are several), in the form ECMAScript's
 * Number::toString gives them. DecimalForm checks the form (no exponent, no
 * needless zero or sign); the digits are provably those when
 *  - there are at most 15: two different decimals of at most 15 digits never
 *    read as the same double in the normal range (each reads back from its
 *    double when rounded to 15 digits), so no other decimal as short reads
 *    as the value;
 *  - there are 16 or 17, D·10⁻ᵖ with D (or D without its last digit) below
 *    2⁵³ and p ≤ 22: neither decimal of a digit fewer beside the text reads
 *    as the value (a shorter decimal that did would make the one between it
 *    and the text read as the value too), and D is within half a unit of its
 *    last digit of the value, computed exactly.
 * Anything else (an exponent, more digits) is formatted as usual.
 */
import { productError } from '../format/shortest.js';
import { POWERS_OF_TEN } from '../values.js';

/** Digits that always are the value's shortest (see above). */
const UNIQUE_DIGITS = 15;
/** The most digits before the decimal point that Number::toString writes without an exponent. */
const MAX_INTEGER_DIGITS = 21;
/** The most zeros after `0.` that Number::toString writes without an exponent. */
const MAX_LEADING_ZEROS = 5;

/**
 * What a number's text says of its digits, as the reader sees them: the digits but the last as an integer (exact
 * below 2⁵³, at or above it when not), the last digit, the places after the point, and the significant digits
 * when the text is in Number::toString's form without an exponent (0: not in that form).
 */
export class DecimalForm {
  count = 0;
  prefix = 0;
  lastDigit = 0;
  places = 0;

  /**
   * Records the form of a text with no exponent: its digits from `integerStart` to `end`, the point at `point`
   * (-1: none), the first and last digits that are not 0 at `first` and `last` (-1: none). The form: 0 (never
   * -0), no zero ending a fraction, at most 21 digits before the point, at most 5 zeros after `0.`; an integer's
   * trailing zeros are not significant.
   */
  plain(integerStart: number, point: number, first: number, last: number, end: number, negative: boolean): void {
    this.count = 0;
    if (first < 0) {
      // 0 is 1 significant digit here: any count up to 15 is taken.
      if (!negative && point < 0) this.count = 1;
    } else if (point < 0) {
      if (end - integerStart <= MAX_INTEGER_DIGITS) this.count = last - first + 1;
    } else if (last === end - 1) {
      if (first > point ? first - point - 1 <= MAX_LEADING_ZEROS : point - integerStart <= MAX_INTEGER_DIGITS)
        this.count = first > point ? last - first + 1 : last - first;
    }
  }

  /**
   * Whether the text recorded, read as `value`, is what JSON.stringify writes for it; false means only that it
   * is not known to be. A count of 16 or 17 digits is checked with all its digits (an integer's trailing zeros
   * included, so such an integer is not taken).
   */
  isShortest(value: number): boolean {
    const { count, prefix, lastDigit, places } = this;
    if (count === 0) return false;
    if (count <= UNIQUE_DIGITS) return true;
    if (count > UNIQUE_DIGITS + 2 || prefix > Number.MAX_SAFE_INTEGER || places > 22) return false;
    const magnitude = Math.abs(value);
    if (count === UNIQUE_DIGITS + 1) {
      const digits = prefix * 10 + lastDigit;
      return digits <= Number.MAX_SAFE_INTEGER && isClosestSixteen(digits, places, magnitude);
    }
    return isClosestSeventeen(prefix, lastDigit, places, magnitude);
  }
}

/**
 * Whether the 16 digits `digits`·10^-places (digits < 2⁵³) are the shortest and closest that read as `value`:
 * neither 15-digit decimal beside them reads as it, and they are within half a unit of the last digit of it.
 */
function isClosestSixteen(digits: number, places: number, value: number): boolean {
  const lastDigit = digits % 10;
  const below = (digits - lastDigit) / 10;
  if (readsAs(below, places - 1, value) || readsAs(below + 1, places - 1, value)) return false;
  // digits − value·10^places exactly: the product is p + e (Dekker), and digits − p is exact (the two are within
  // a factor 2, and p ≥ 10¹⁵ makes it a multiple of 2⁻³, so ± 1/2 is exact too).
  const power = POWERS_OF_TEN[places]!;
  const product = value * power;
  const error = productError(value, power, product);
  const difference = digits - product;
  return difference - 0.5 < error && error < difference + 0.5;
}

/**
 * Whether the 17 digits (10·prefix + lastDigit)·10^-places (prefix < 2⁵³) are the shortest and closest that read
 * as `value`: neither 16-digit decimal beside them reads as it, and they are within half a unit of the last
 * digit of it. Past 2⁵³ the digits are no double: 10·prefix is s + t and value·10^places is p + e exactly
 * (Dekker), s − p is exact (within a factor 2), and s, p, t are integers there, so s − p + t + lastDigit is a
 * small integer, exact, and so is it ± 1/2.
 */
function isClosestSeventeen(prefix: number, lastDigit: number, places: number, value: number): boolean {
  if (readsAs(prefix, places - 1, value) || readsAs(prefix + 1, places - 1, value)) return false;
  const power = POWERS_OF_TEN[places]!;
  const product = value * power;
  const error = productError(value, power, product);
  const tens = prefix * 10;
  const difference = tens - product + productError(prefix, 10, tens) + lastDigit;
  return difference - 0.5 < error && error < difference + 0.5;
}

/** Whether `integer`·10^-places (integer ≤ 2⁵³, places ≥ -1), rounded once, is `value`. */
const readsAs = (integer: number, places: number, value: number): boolean =>
  (places >= 0 ? integer / POWERS_OF_TEN[places]! : integer * 10) === value;
