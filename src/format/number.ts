/** Numbers as text: significant digits for tables, shortest round-trip for JSON. */

/** The SPEC's spelling of non-finite numbers, in tables and JSON alike. */
export function nonFiniteText(x: number): string {
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/**
 * `x` with `precision` significant digits, trailing zeros dropped, in
 * exponent form when it is very small or large (as printf's %g); -0 is 0.
 */
export function formatNumber(x: number, precision: number): string {
  if (!Number.isFinite(x)) return nonFiniteText(x);
  if (x === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(precision)))));
  if (exponent < -4 || exponent >= precision) {
    const [mantissa, power] = x.toExponential(precision - 1).split('e') as [string, string];
    return `${trimZeros(mantissa)}e${power}`;
  }
  return trimZeros(x.toFixed(Math.max(0, precision - 1 - exponent)));
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

// JSON.stringify spells a finite number as String(x) does (shortest round trip), about twice as fast: no
// number-string cache in V8's way.

/** A number in full precision (shortest round-trip), NaN and ±Infinity spelled out. */
export function exactNumber(x: number): string {
  return Number.isFinite(x) ? JSON.stringify(x) : nonFiniteText(x);
}

/** A number in JSON: shortest round-trip form, non-finite numbers as strings. */
export function jsonNumber(x: number): string {
  return Number.isFinite(x) ? JSON.stringify(x) : `"${nonFiniteText(x)}"`;
}
