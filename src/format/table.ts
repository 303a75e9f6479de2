/**
 * The table of SPEC §4: a header saying what was computed and its shape,
 * labelled rows and columns, numbers aligned on the decimal point with
 * `precision` significant digits, exact zeros set apart by the style.
 */
import { columnLabels, entryLabels } from './labels.js';
import { formatNumber } from './number.js';
import type { Report } from './report.js';
import type { Style } from './style.js';

const GAP = '  ';

/** Splits a number's text at its decimal point (or exponent) so columns can align on it. */
function splitAtPoint(text: string): [string, string] {
  const at = text.search(/[.e]/);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at)];
}

/**
 * Lines of a grid of numbers: `rowLabels` (or none) down the left,
 * `colLabels` across the top, entry (i, j) at data[i·cols + j].
 */
export function grid(
  rowLabels: readonly string[] | null,
  colLabels: readonly string[],
  data: ArrayLike<number>,
  precision: number,
  style: Style,
): string[] {
  const rows = rowLabels === null ? 1 : rowLabels.length;
  const cols = colLabels.length;
  const texts = Array.from({ length: rows * cols }, (_, k) => splitAtPoint(formatNumber(data[k]!, precision)));
  const intWidth = new Array<number>(cols).fill(0);
  const fracWidth = new Array<number>(cols).fill(0);
  texts.forEach(([whole, frac], k) => {
    const j = k % cols;
    intWidth[j] = Math.max(intWidth[j]!, whole.length);
    fracWidth[j] = Math.max(fracWidth[j]!, frac.length);
  });
  const width = colLabels.map((label, j) => Math.max(label.length, intWidth[j]! + fracWidth[j]!));
  const labelWidth = rowLabels === null ? 0 : Math.max(...rowLabels.map((l) => l.length));
  const lead = (label: string) => (rowLabels === null ? '' : style.label(label.padEnd(labelWidth)) + GAP);
  const lines = [lead('') + colLabels.map((label, j) => style.label(label.padStart(width[j]!))).join(GAP)];
  for (let i = 0; i < rows; i++) {
    const cells = colLabels.map((_, j) => {
      const [whole, frac] = texts[i * cols + j]!;
      const cell = (whole.padStart(intWidth[j]!) + frac.padEnd(fracWidth[j]!)).padStart(width[j]!);
      return data[i * cols + j] === 0 ? style.zero(cell) : cell;
    });
    lines.push(lead(rowLabels?.[i] ?? '') + cells.join(GAP).trimEnd());
  }
  return lines;
}

function wrtText(wrt: readonly string[]): string {
  return wrt.length === 1 ? wrt[0]! : `(${wrt.join(', ')})`;
}

export function formatTable(report: Report, precision: number, style: Style): string {
  const derivative = `∂(${report.expr})/∂${wrtText(report.wrt)}`;
  const columns = columnLabels(report.inputs);
  switch (report.command) {
    case 'jacobian': {
      const header = `${style.header(`J = ${derivative}`)}   ${report.m}×${report.n}`;
      const rows = entryLabels('f', report.value.shape);
      return [header, '', ...grid(rows, columns, report.jacobian, precision, style), ''].join('\n');
    }
    case 'vjp': {
      const header = `${style.header(`vᵀJ = vᵀ·${derivative}`)}   1×${report.n}`;
      const v = `v = [${Array.from(report.v, (x) => formatNumber(x, precision)).join(', ')}]`;
      return [header, v, '', ...grid(null, columns, report.vjp, precision, style), ''].join('\n');
    }
  }
}
