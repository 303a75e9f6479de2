/**
 * The table of SPEC §4: a header saying what was computed and its shape,
 * labelled rows and columns, numbers aligned on the decimal point with
 * `precision` significant digits, exact zeros set apart by the style, and
 * entries computed at special points marked `*` and the kink report underneath.
 */
import { columnLabels, entryLabels } from './labels.js';
import { formatNumber } from './number.js';
import type { CheckReport, MatrixReport, Report, VectorReport, KinkWarning } from './report.js';
import type { Style } from './style.js';

const GAP = '  ';
const MARK = '*';

/** Splits a number's text at its decimal point (or exponent) so columns can align on it. */
function splitAtPoint(text: string): [string, string] {
  const at = text.search(/[.e]/);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at)];
}

export interface Grid {
  /** Labels down the left, or null for a single unlabelled row. */
  readonly rowLabels: readonly string[] | null;
  readonly colLabels: readonly string[];
  /** Entry (i, j) at data[i·cols + j]. */
  readonly data: ArrayLike<number>;
  readonly marked?: (k: number) => boolean;
}

export function grid({ rowLabels, colLabels, data, marked }: Grid, precision: number, style: Style): string[] {
  const rows = rowLabels === null ? 1 : rowLabels.length;
  const cols = colLabels.length;
  const texts = Array.from({ length: rows * cols }, (_, k): [string, string] => {
    const [whole, frac] = splitAtPoint(formatNumber(data[k]!, precision));
    return [whole, marked?.(k) === true ? frac + MARK : frac];
  });
  const intWidth = new Array<number>(cols).fill(0);
  const fracWidth = new Array<number>(cols).fill(0);
  texts.forEach(([whole, frac], k) => {
    const j = k % cols;
    intWidth[j] = Math.max(intWidth[j]!, whole.length);
    fracWidth[j] = Math.max(fracWidth[j]!, frac.length);
  });
  const width = colLabels.map((label, j) => Math.max(label.length, intWidth[j]! + fracWidth[j]!));
  const labelWidth = rowLabels === null ? 0 : rowLabels.reduce((width, l) => Math.max(width, l.length), 0);
  const lead = (label: string) => (rowLabels === null ? '' : style.label(label.padEnd(labelWidth)) + GAP);
  const lines = [(lead('') + colLabels.map((label, j) => style.label(label.padStart(width[j]!))).join(GAP)).trimEnd()];
  for (let i = 0; i < rows; i++) {
    const cells = colLabels.map((_, j) => {
      const [whole, frac] = texts[i * cols + j]!;
      const cell = (whole.padStart(intWidth[j]!) + frac.padEnd(fracWidth[j]!)).padStart(width[j]!);
      return data[i * cols + j] === 0 ? style.zero(cell) : cell;
    });
    lines.push((lead(rowLabels?.[i] ?? '') + cells.join(GAP)).trimEnd());
  }
  return lines;
}

const wrtText = (wrt: readonly string[]): string => (wrt.length === 1 ? wrt[0]! : `(${wrt.join(', ')})`);
// Headers quote the expression up to this length.
const MAX_EXPR_LENGTH = 60;
const shortExpr = (expr: string): string =>
  expr.length > MAX_EXPR_LENGTH ? `${expr.slice(0, MAX_EXPR_LENGTH - 1)}…` : expr;
const listText = (data: ArrayLike<number>, precision: number): string =>
  `[${Array.from(data, (x) => formatNumber(x, precision)).join(', ')}]`;
const entries = (count: number): string => (count === 1 ? '1 entry' : `${count} entries`);

/** The kink report: one line per warning, under the result. */
function kinkReportLines(warnings: readonly KinkWarning[], style: Style): string[] {
  if (warnings.length === 0) return [];
  return [
    '',
    ...warnings.map((w) => style.warning(`${MARK} ${w.kind} in ${w.source} (${entries(w.count)}): ${w.convention}`)),
  ];
}

/** Which J entries (row·n + column) a warning touches. */
const touchedEntries = (warnings: readonly KinkWarning[], n: number): Set<number> =>
  new Set(warnings.flatMap((w) => w.entries.map(([i, j]) => i * n + j)));

// A sparse J is drawn as a grid up to this many entries; larger ones are listed by nonzero.
const SPARSE_GRID_MAX_ENTRIES = 400;

function matrixTable(report: MatrixReport, precision: number, style: Style): string[] {
  const derivative = `∂(${shortExpr(report.title)})/∂${wrtText(report.wrt)}`;
  const inputs = columnLabels(report.inputs);
  const touched = touchedEntries(report.warnings, report.n);
  const marked = (k: number) => touched.has(k);
  const { matrix } = report;
  if (report.command === 'hessian') {
    return [
      `${style.header(`H = ∂²(${shortExpr(report.title)})/∂${wrtText(report.wrt)}²`)}   ${report.n}×${report.n}`,
      `f = ${formatNumber(report.value.data[0]!, precision)}`,
      '',
      ...grid({ rowLabels: inputs, colLabels: inputs, data: matrix as Float64Array, marked }, precision, style),
    ];
  }
  const outputs = entryLabels('f', report.value.shape);
  if (matrix instanceof Float64Array) {
    return [
      `${style.header(`J = ${derivative}`)}   ${report.m}×${report.n}`,
      '',
      ...grid({ rowLabels: outputs, colLabels: inputs, data: matrix, marked }, precision, style),
    ];
  }
  const nonzeros = matrix.values.length;
  const header =
    `${style.header(`J = ${derivative}`)}   ${report.m}×${report.n}, ` +
    `${nonzeros} stored entr${nonzeros === 1 ? 'y' : 'ies'}, ` +
    `${report.colours} colour${report.colours === 1 ? '' : 's'} (${report.mode})`;
  if (report.m * report.n <= SPARSE_GRID_MAX_ENTRIES) {
    const dense = new Float64Array(report.m * report.n);
    for (let k = 0; k < nonzeros; k++) dense[matrix.rows[k]! * report.n + matrix.cols[k]!] = matrix.values[k]!;
    return [header, '', ...grid({ rowLabels: outputs, colLabels: inputs, data: dense, marked }, precision, style)];
  }
  const labels = Array.from(matrix.rows, (i, k) => `${outputs[i]} / ${inputs[matrix.cols[k]!]}`);
  const width = labels.reduce((w, label) => Math.max(w, label.length), 0);
  const lines = labels.map((label, k) => {
    const text =
      formatNumber(matrix.values[k]!, precision) + (marked(matrix.rows[k]! * report.n + matrix.cols[k]!) ? MARK : '');
    return `${style.label(label.padEnd(width))}  ${matrix.values[k] === 0 ? style.zero(text) : text}`;
  });
  return [header, '', ...lines];
}

/**
 * A vector over the inputs (vᵀJ, ∇f, H·u): one row of labelled entries, or,
 * when a variable is a matrix, each variable in its own shape, as `W.grad`
 * holds it (scalars and vectors between matrices share a row).
 */
function inputVector(report: VectorReport, marked: (k: number) => boolean, precision: number, style: Style): string[] {
  const inputs = columnLabels(report.inputs);
  if (!report.inputs.some(({ shape }) => shape.length === 2))
    return grid({ rowLabels: null, colLabels: inputs, data: report.vector, marked }, precision, style);
  const lines: string[] = [];
  let offset = 0;
  let row: { start: number; labels: string[] } | null = null;
  const flushRow = () => {
    if (row === null) return;
    const { start, labels } = row;
    const data = report.vector.subarray(start, start + labels.length);
    lines.push(
      ...grid({ rowLabels: null, colLabels: labels, data, marked: (k) => marked(start + k) }, precision, style),
    );
    row = null;
  };
  for (const { name, shape } of report.inputs) {
    const size = shape.reduce((total: number, d) => total * d, 1);
    if (shape.length === 2) {
      flushRow();
      const [rows, cols] = shape;
      const start = offset;
      if (lines.length > 0) lines.push('');
      lines.push(
        ...grid(
          {
            rowLabels: Array.from({ length: rows }, (_, i) => `${name}[${i + 1},:]`),
            colLabels: Array.from({ length: cols }, (_, j) => `[:,${j + 1}]`),
            data: report.vector.subarray(start, start + size),
            marked: (k) => marked(start + k),
          },
          precision,
          style,
        ),
      );
    } else {
      if (row === null) {
        if (lines.length > 0) lines.push('');
        row = { start: offset, labels: [] };
      }
      row.labels.push(...entryLabels(name, shape));
    }
    offset += size;
  }
  flushRow();
  return lines;
}

function vectorTable(report: VectorReport, precision: number, style: Style): string[] {
  const derivative = `∂(${shortExpr(report.title)})/∂${wrtText(report.wrt)}`;
  // vᵀJ and ∇f are touched in the columns of J that a warning names; J·u and H·u in its rows.
  const rowsTouched = new Set(report.warnings.flatMap((w) => w.entries.map(([i]) => i)));
  const colsTouched = new Set(report.warnings.flatMap((w) => w.entries.map(([, j]) => j)));
  const marks = { rows: (k: number) => rowsTouched.has(k), cols: (k: number) => colsTouched.has(k) };
  const seed = (name: string) => (report.seed === null ? [] : [`${name} = ${listText(report.seed, precision)}`]);
  switch (report.command) {
    case 'vjp':
      return [
        `${style.header(`vᵀJ = vᵀ·${derivative}`)}   1×${report.n}`,
        ...seed('v'),
        '',
        ...inputVector(report, marks.cols, precision, style),
      ];
    case 'jvp':
      return [
        `${style.header(`J·u = ${derivative}·u`)}   ${report.m}×1`,
        ...seed('u'),
        '',
        ...grid(
          {
            rowLabels: entryLabels('f', report.value.shape),
            colLabels: ['J·u'],
            data: report.vector,
            marked: marks.rows,
          },
          precision,
          style,
        ),
      ];
    case 'grad':
      return [
        `${style.header(`∇f = ${derivative}`)}   1×${report.n}`,
        `f = ${formatNumber(report.value.data[0]!, precision)}`,
        '',
        ...inputVector(report, marks.cols, precision, style),
      ];
    case 'hvp':
      return [
        `${style.header(`H·u = ∂²(${shortExpr(report.title)})/∂${wrtText(report.wrt)}²·u`)}   1×${report.n}`,
        ...seed('u'),
        '',
        ...inputVector(report, marks.rows, precision, style),
      ];
  }
}

function checkTable(report: CheckReport, precision: number, style: Style): string[] {
  const rows = entryLabels('f', report.value.shape);
  const cols = columnLabels(report.inputs);
  const worst =
    report.worst === null
      ? 'none (nothing finite to compare)'
      : `${rows[report.worst.row]} / ${cols[report.worst.column]}: ` +
        `automatic ${formatNumber(report.worst.automatic, 17)}, numeric ${formatNumber(report.worst.numeric, 17)}`;
  return [
    `${style.header(`check J = ∂(${shortExpr(report.title)})/∂${wrtText(report.wrt)}`)}   ` +
      `${report.m}×${report.n}: automatic against central finite differences`,
    '',
    `max abs error  ${formatNumber(report.maxAbsError, 3)}`,
    `max rel error  ${formatNumber(report.maxRelError, 3)}`,
    `worst entry    ${worst}`,
    ...(report.skipped > 0 ? [`not compared   ${entries(report.skipped)} that are not finite`] : []),
    `tolerance      ${formatNumber(report.tol, precision)}: ` +
      (report.agree ? 'they agree' : style.warning('they DISAGREE')),
  ];
}

function body(report: Report, precision: number, style: Style): string[] {
  switch (report.command) {
    case 'jacobian':
    case 'hessian':
      return matrixTable(report, precision, style);
    case 'check':
      return checkTable(report, precision, style);
    default:
      return vectorTable(report, precision, style);
  }
}

/** The numbers a report shows in its table. */
function shownNumbers(report: Report): ArrayLike<number> {
  switch (report.command) {
    case 'jacobian':
    case 'hessian':
      return report.matrix instanceof Float64Array ? report.matrix : report.matrix.values;
    case 'check':
      return report.jacobian;
    default:
      return report.vector;
  }
}

/** Flags results that overflowed or left a domain: the numbers say Infinity or NaN, the note says why to look. */
function nonFiniteLines(report: Report, style: Style): string[] {
  const numbers = shownNumbers(report);
  let count = 0;
  for (let k = 0; k < numbers.length; k++) if (!Number.isFinite(numbers[k]!)) count++;
  if (count === 0) return [];
  return [
    '',
    style.warning(
      `! ${entries(count)} ${count === 1 ? 'is' : 'are'} not finite (NaN or ±Infinity): ` +
        "an overflow, an infinite derivative, or a value outside a function's domain",
    ),
  ];
}

export function formatTable(report: Report, precision: number, style: Style): string {
  return [
    ...body(report, precision, style),
    ...kinkReportLines(report.warnings, style),
    ...nonFiniteLines(report, style),
    '',
  ].join('\n');
}
