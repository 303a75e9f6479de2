/**
 * The table of SPEC §4: a header saying what was computed and its shape,
 * labelled rows and columns, numbers aligned on the decimal point with
 * `precision` significant digits, exact zeros set apart by the style, and
 * entries computed at special points marked `*` and the kink report underneath.
 */
import { chunkedLines } from './chunks.js';
import { denseMatrix, entryReader, isDiagonal, isSparse, type Entries } from './dense.js';
import { columnLabels, entryLabels } from './labels.js';
import { formatNumber } from './number.js';
import type { CheckReport, MatrixReport, Report, VectorReport, KinkWarning } from './report.js';
import { inGlyphs, type Glyphs } from './glyphs.js';
import type { Style } from './style.js';

const GAP = '  ';
const MARK = '*';

/** Splits a number's text at its decimal point (or exponent) so columns can align on it. */
function splitAtPoint(text: string): [string, string] {
  const at = text.search(/[.e]/);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at)];
}

/** The screen a table is fitted to: its size, and the line that says how to see everything. */
export interface Screen {
  readonly columns: number;
  readonly rows: number;
  /** Written under a table that was summarised: how to get every entry. */
  readonly hint: string;
}

export interface TableOptions {
  readonly precision: number;
  readonly style: Style;
  readonly glyphs: Glyphs;
  /** The terminal to fit (a summarised table, as NumPy prints a large array), or null for the whole table. */
  readonly screen: Screen | null;
}

/** How the parts of a table are drawn: `width` is the screen's, or null for no limit. */
interface Layout {
  readonly precision: number;
  readonly style: Style;
  readonly glyphs: Glyphs;
  readonly width: number | null;
}

/**
 * Lines, how many, and whether entries were left out to fit them on the
 * screen. A grid's lines are drawn as they are read, so a large grid is never
 * held as text.
 */
interface Fitted {
  readonly lines: Iterable<string>;
  readonly count: number;
  readonly summarised: boolean;
}

const fitted = (lines: readonly string[], summarised = false): Fitted => ({ lines, count: lines.length, summarised });

export interface Grid {
  /** Labels down the left, or null for a single unlabelled row. */
  readonly rowLabels: readonly string[] | null;
  readonly colLabels: readonly string[];
  /** Entry (i, j) at data[i·cols + j]. */
  readonly data: Entries;
  readonly marked?: (k: number) => boolean;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);

/** The length of the longest text, at least `least` (a loop: a spread would overflow on a million). */
function longest(texts: readonly string[], least = 0): number {
  let length = least;
  for (const text of texts) length = Math.max(length, text.length);
  return length;
}

/** The fewest lines of entries a summarised part keeps: the first, the mark of the gap, the last. */
const MIN_SHOWN_LINES = 3;

/** Of `count` lines, how many first and last ones to show in `max` lines (one of them marks the gap). */
function edges(count: number, max: number | null): { readonly head: number; readonly tail: number } {
  if (max === null || count <= max) return { head: count, tail: 0 };
  const kept = Math.max(MIN_SHOWN_LINES, max) - 1;
  const head = Math.ceil(kept / 2);
  return { head, tail: kept - head };
}

/** One column of a grid as shown: its index, label and widths (its texts are made again as lines are drawn). */
interface Column {
  readonly j: number;
  readonly label: string;
  readonly intWidth: number;
  readonly fracWidth: number;
  readonly width: number;
}

/**
 * Labelled rows and columns of numbers aligned on the point. Wider than
 * `layout.width` or taller than `maxRows` lines of entries, the grid keeps
 * its first and last columns and rows, with ellipses where the others were.
 */
export function grid(
  { rowLabels, colLabels, data, marked }: Grid,
  { precision, style, glyphs, width }: Layout,
  maxRows: number | null = null,
): Fitted {
  const rows = rowLabels === null ? 1 : rowLabels.length;
  const cols = colLabels.length;
  const rowEdges = edges(rows, maxRows);
  const shownRows = [...range(0, rowEdges.head), ...range(rows - rowEdges.tail, rows)];
  const rowsCut = rowEdges.tail > 0;
  // Every column takes one character and a gap at least: no more than this many can show from either end.
  const reach = width === null ? cols : Math.ceil(width / (1 + GAP.length));
  const candidates = cols <= 2 * reach ? range(0, cols) : [...range(0, reach), ...range(cols - reach, cols)];
  const entry = entryReader(data);
  const textOf = (k: number): [string, string] => {
    const [whole, frac] = splitAtPoint(formatNumber(entry(k), precision));
    return [whole, marked?.(k) === true ? frac + MARK : frac];
  };
  // The widths take one pass over the entries, the lines another: no entry's text is kept between them.
  const columns = candidates.map((j): Column => {
    let intWidth = rowsCut ? glyphs.rowsLeftOut.length : 0;
    let fracWidth = 0;
    for (const i of shownRows) {
      const [whole, frac] = textOf(i * cols + j);
      intWidth = Math.max(intWidth, whole.length);
      fracWidth = Math.max(fracWidth, frac.length);
    }
    const label = colLabels[j]!;
    return { j, label, intWidth, fracWidth, width: Math.max(label.length, intWidth + fracWidth) };
  });
  const shownLabels = shownRows.map((i) => rowLabels?.[i] ?? '');
  const labelWidth = longest(shownLabels, rowsCut ? glyphs.rowsLeftOut.length : 0);
  const leadWidth = rowLabels === null ? 0 : labelWidth + GAP.length;
  const cellsWidth = (shown: readonly Column[]) => shown.reduce((total, c) => total + c.width + GAP.length, 0);

  // The columns shown: all that fit, else as many first and last ones as fit around the ellipsis.
  let left = columns.length;
  let right = 0;
  const gapWidth = Math.max(glyphs.ellipsis.length, glyphs.bothLeftOut.length);
  if (width !== null && (candidates.length < cols || leadWidth + cellsWidth(columns) - GAP.length > width)) {
    let used = leadWidth + gapWidth;
    left = 0;
    for (let fromLeft = true; left + right < columns.length; fromLeft = !fromLeft) {
      const next = columns[fromLeft ? left : columns.length - 1 - right]!;
      if (used + next.width + GAP.length > width) break;
      used += next.width + GAP.length;
      if (fromLeft) left++;
      else right++;
    }
    // The first and the last column always show, however narrow the screen.
    left = Math.max(1, left);
    right = Math.max(Math.min(1, columns.length - left), right);
  }
  const colsCut = left + right < cols;
  const before = columns.slice(0, left);
  const after = columns.slice(columns.length - right);
  const withGap = (cells: (c: Column) => string, gap: string): string[] =>
    colsCut ? [...before.map(cells), gap.padStart(gapWidth), ...after.map(cells)] : before.map(cells);

  const lead = (label: string) => (rowLabels === null ? '' : style.label(label.padEnd(labelWidth)) + GAP);
  const line = (label: string, cells: string[]) => (lead(label) + cells.join(GAP)).trimEnd();
  function* lines(): Generator<string> {
    yield line(
      '',
      withGap((c) => style.label(c.label.padStart(c.width)), glyphs.ellipsis),
    );
    for (let p = 0; p < shownRows.length; p++) {
      if (rowsCut && p === rowEdges.head) {
        const mark = (c: Column) =>
          (glyphs.rowsLeftOut.padStart(c.intWidth) + ''.padEnd(c.fracWidth)).padStart(c.width);
        yield line(glyphs.rowsLeftOut, withGap(mark, glyphs.bothLeftOut));
      }
      const i = shownRows[p]!;
      const cell = (c: Column) => {
        const [whole, frac] = textOf(i * cols + c.j);
        const text = (whole.padStart(c.intWidth) + frac.padEnd(c.fracWidth)).padStart(c.width);
        return entry(i * cols + c.j) === 0 ? style.zero(text) : text;
      };
      yield line(shownLabels[p]!, withGap(cell, glyphs.ellipsis));
    }
  }
  return {
    lines: { [Symbol.iterator]: lines },
    count: 1 + shownRows.length + (rowsCut ? 1 : 0),
    summarised: rowsCut || colsCut,
  };
}

const wrtText = (wrt: readonly string[]): string => (wrt.length === 1 ? wrt[0]! : `(${wrt.join(', ')})`);
// Headers quote the expression up to this length, and cut it down to this one to fit a narrow screen.
const MAX_EXPR_LENGTH = 60;
const MIN_EXPR_LENGTH = 20;
const cutTo = (text: string, length: number, glyphs: Glyphs): string =>
  text.length > length ? `${text.slice(0, length - glyphs.ellipsis.length)}${glyphs.ellipsis}` : text;
const entries = (count: number): string => (count === 1 ? '1 entry' : `${count} entries`);

/** The parts of a table, drawn once the space of the tall ones (grids, lists of entries) is known. */
type Block =
  /** One line; prose may be broken at spaces to fit the screen. */
  | { readonly kind: 'line'; readonly text: string; readonly prose: boolean }
  /** Lines already fitted to the screen. */
  | { readonly kind: 'fitted'; readonly lines: readonly string[] }
  /** `name = [numbers]`: a seed. */
  | { readonly kind: 'numbers'; readonly name: string; readonly data: ArrayLike<number> }
  | { readonly kind: 'grid'; readonly grid: Grid }
  /** One line per stored entry of a sparse matrix. */
  | { readonly kind: 'entries'; readonly count: number; readonly line: (k: number) => string };

const text = (line: string): Block => ({ kind: 'line', text: line, prose: false });
const prose = (line: string): Block => ({ kind: 'line', text: line, prose: true });
const gridBlock = (grid: Grid): Block => ({ kind: 'grid', grid });

/**
 * A header: what was computed (bold), then its shape; to fit the screen, a
 * long expression is cut short, and what still does not fit goes on.
 */
function header(title: string, layout: Layout, build: (expr: string) => readonly [string, string]): Block {
  const { glyphs, style, width } = layout;
  let [bold, plain] = build(cutTo(title, MAX_EXPR_LENGTH, glyphs));
  const over = width === null ? 0 : bold.length + 3 + plain.length - width;
  const shortest = Math.max(MIN_EXPR_LENGTH, Math.min(title.length, MAX_EXPR_LENGTH) - over);
  if (over > 0) [bold, plain] = build(cutTo(title, shortest, glyphs));
  const [first, ...more] = wrap(`${bold}   ${plain}`, width);
  const lines = first!.startsWith(bold) ? [style.header(bold) + first!.slice(bold.length), ...more] : [first!, ...more];
  return { kind: 'fitted', lines };
}

/** ∂(f)/∂x, or ∂²(f)/∂x² for the second derivative. */
function derivative(expr: string, wrt: readonly string[], { partial, squared }: Glyphs, second = false): string {
  const power = second ? squared : '';
  return `${partial}${power}(${expr})/${partial}${wrtText(wrt)}${power}`;
}

/** Prose broken at spaces into lines no wider than `width`, the later ones indented. */
function wrap(line: string, width: number | null, indent = '  '): string[] {
  if (width === null || line.length <= width) return [line];
  const lines: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    // Spaces where a line was broken are not carried to the next.
    if (word === '' && lines.length > 0 && current.trim() === '') continue;
    const longer = current === '' ? word : `${current} ${word}`;
    if (longer.length > width && current.trim() !== '') {
      lines.push(current.trimEnd());
      current = indent + word;
    } else current = longer;
  }
  return [...lines, current];
}

/** `[a, b, c]`; no wider than `width`: the first and last numbers around an ellipsis. */
function numberList(data: ArrayLike<number>, { precision, glyphs }: Layout, width: number | null): Fitted {
  const number = (k: number) => formatNumber(data[k]!, precision);
  if (width === null) return fitted([`[${Array.from({ length: data.length }, (_, k) => number(k)).join(', ')}]`]);
  const first: string[] = [];
  const last: string[] = [];
  // The brackets, and each item with its separator: the last separator is not written.
  let used = 2;
  for (let fromFirst = true; first.length + last.length < data.length; fromFirst = !fromFirst) {
    const item = number(fromFirst ? first.length : data.length - 1 - last.length);
    const leftOut = first.length + last.length + 1 < data.length;
    const needed = used + item.length + 2 + (leftOut ? glyphs.ellipsis.length + 2 : 0) - 2;
    if (needed > width && first.length > 0 && last.length > 0) break;
    used += item.length + 2;
    (fromFirst ? first : last).push(item);
  }
  const summarised = first.length + last.length < data.length;
  const items = [...first, ...(summarised ? [glyphs.ellipsis] : []), ...last.reverse()];
  return fitted([`[${items.join(', ')}]`], summarised);
}

/** The kink report: one line per warning, under the result. */
function kinkReportLines(warnings: readonly KinkWarning[], { glyphs, width }: Layout): string[] {
  if (warnings.length === 0) return [];
  return [
    '',
    ...warnings.flatMap((w) =>
      wrap(inGlyphs(`${MARK} ${w.kind} in ${w.source} (${entries(w.count)}): ${w.convention}`, glyphs), width),
    ),
  ];
}

/** Which J entries (row·n + column) a warning touches. */
const touchedEntries = (warnings: readonly KinkWarning[], n: number): Set<number> =>
  new Set(warnings.flatMap((w) => w.entries.map(([i, j]) => i * n + j)));

// A sparse J is drawn as a grid up to this many entries; larger ones are listed by nonzero.
const SPARSE_GRID_MAX_ENTRIES = 400;

function matrixTable(report: MatrixReport, layout: Layout): Block[] {
  const { glyphs, style, precision } = layout;
  const inputs = columnLabels(report.inputs);
  const touched = touchedEntries(report.warnings, report.n);
  const marked = (k: number) => touched.has(k);
  const { matrix } = report;
  const shape = (rows: number, cols: number) => `${rows}${glyphs.by}${cols}`;
  if (report.command === 'hessian' && !isSparse(matrix)) {
    return [
      header(report.title, layout, (expr) => [
        `H = ${derivative(expr, report.wrt, glyphs, true)}`,
        shape(report.n, report.n),
      ]),
      text(`f = ${formatNumber(report.value.data[0]!, precision)}`),
      text(''),
      gridBlock({ rowLabels: inputs, colLabels: inputs, data: matrix, marked }),
    ];
  }
  const hessian = report.command === 'hessian';
  const outputs = hessian ? inputs : entryLabels('f', report.value.shape);
  const title = (expr: string) =>
    hessian ? `H = ${derivative(expr, report.wrt, glyphs, true)}` : `J = ${derivative(expr, report.wrt, glyphs)}`;
  if (!isSparse(matrix)) {
    return [
      header(report.title, layout, (expr) => [title(expr), shape(report.m, report.n)]),
      text(''),
      gridBlock({ rowLabels: outputs, colLabels: inputs, data: matrix, marked }),
    ];
  }
  const nonzeros = matrix.values.length;
  const heading = [
    header(report.title, layout, (expr) => [
      title(expr),
      `${shape(matrix.m, matrix.n)}, ${nonzeros} stored entr${nonzeros === 1 ? 'y' : 'ies'}, ` + coloursText(report),
    ]),
    ...(hessian ? [text(`f = ${formatNumber(report.value.data[0]!, precision)}`)] : []),
    text(''),
  ];
  if (matrix.m * matrix.n <= SPARSE_GRID_MAX_ENTRIES) {
    return [...heading, gridBlock({ rowLabels: outputs, colLabels: inputs, data: denseMatrix(matrix), marked })];
  }
  const label = (k: number) => `${outputs[matrix.rows[k]!]} / ${inputs[matrix.cols[k]!]}`;
  let width = 0;
  for (let k = 0; k < nonzeros; k++) width = Math.max(width, label(k).length);
  const line = (k: number) => {
    const value =
      formatNumber(matrix.values[k]!, precision) + (marked(matrix.rows[k]! * report.n + matrix.cols[k]!) ? MARK : '');
    return `${style.label(label(k).padEnd(width))}  ${matrix.values[k] === 0 ? style.zero(value) : value}`;
  };
  return [...heading, { kind: 'entries', count: nonzeros, line }];
}

/**
 * The colours of a sparse result with their lower bound: "3 colours (forward, lower bound 3)"; "… (reverse block
 * pass, …)" where the colouring shared no pass and J came from a block pass.
 */
export const coloursText = (report: MatrixReport): string =>
  `${report.colours} colour${report.colours === 1 ? '' : 's'} (${report.mode}` +
  (report.method === 'block' ? ' block pass' : '') +
  (report.lowerBound === undefined ? ')' : `, lower bound ${report.lowerBound})`);

/**
 * A vector over the inputs (vᵀJ, ∇f, H·u): one row of labelled entries, or,
 * when a variable is a matrix, each variable in its own shape, as `W.grad`
 * holds it (scalars and vectors between matrices share a row).
 */
function inputVector(report: VectorReport, marked: (k: number) => boolean): Block[] {
  const inputs = columnLabels(report.inputs);
  if (!report.inputs.some(({ shape }) => shape.length === 2))
    return [gridBlock({ rowLabels: null, colLabels: inputs, data: report.vector, marked })];
  const blocks: Block[] = [];
  let offset = 0;
  let row: { start: number; labels: string[] } | null = null;
  const flushRow = () => {
    if (row === null) return;
    const { start, labels } = row;
    const data = report.vector.subarray(start, start + labels.length);
    blocks.push(gridBlock({ rowLabels: null, colLabels: labels, data, marked: (k) => marked(start + k) }));
    row = null;
  };
  for (const { name, shape } of report.inputs) {
    const size = shape.reduce((total: number, d) => total * d, 1);
    if (shape.length === 2) {
      flushRow();
      const [rows, cols] = shape;
      const start = offset;
      if (blocks.length > 0) blocks.push(text(''));
      blocks.push(
        gridBlock({
          rowLabels: Array.from({ length: rows }, (_, i) => `${name}[${i + 1},:]`),
          colLabels: Array.from({ length: cols }, (_, j) => `[:,${j + 1}]`),
          data: report.vector.subarray(start, start + size),
          marked: (k) => marked(start + k),
        }),
      );
    } else {
      if (row === null) {
        if (blocks.length > 0) blocks.push(text(''));
        row = { start: offset, labels: [] };
      }
      row.labels.push(...entryLabels(name, shape));
    }
    offset += size;
  }
  flushRow();
  return blocks;
}

function vectorTable(report: VectorReport, layout: Layout): Block[] {
  const { glyphs, precision } = layout;
  const { product } = glyphs;
  const first = (expr: string) => derivative(expr, report.wrt, glyphs);
  const second = (expr: string) => derivative(expr, report.wrt, glyphs, true);
  const heading = (build: (expr: string) => string, cols: number, rows = 1) =>
    header(report.title, layout, (expr) => [build(expr), `${rows}${glyphs.by}${cols}`]);
  // vᵀJ and ∇f are touched in the columns of J that a warning names; J·u and H·u in its rows.
  const rowsTouched = new Set(report.warnings.flatMap((w) => w.entries.map(([i]) => i)));
  const colsTouched = new Set(report.warnings.flatMap((w) => w.entries.map(([, j]) => j)));
  const marks = { rows: (k: number) => rowsTouched.has(k), cols: (k: number) => colsTouched.has(k) };
  const seed = (name: string): Block[] => (report.seed === null ? [] : [{ kind: 'numbers', name, data: report.seed }]);
  switch (report.command) {
    case 'vjp':
      return [
        heading((expr) => `${glyphs.vjp} = ${glyphs.vTransposed}${product}${first(expr)}`, report.n),
        ...seed('v'),
        text(''),
        ...inputVector(report, marks.cols),
      ];
    case 'jvp':
      return [
        heading((expr) => `${glyphs.jvp} = ${first(expr)}${product}u`, 1, report.m),
        ...seed('u'),
        text(''),
        gridBlock({
          rowLabels: entryLabels('f', report.value.shape),
          colLabels: [glyphs.jvp],
          data: report.vector,
          marked: marks.rows,
        }),
      ];
    case 'grad':
      return [
        heading((expr) => `${glyphs.gradient} = ${first(expr)}`, report.n),
        text(`f = ${formatNumber(report.value.data[0]!, precision)}`),
        text(''),
        ...inputVector(report, marks.cols),
      ];
    case 'hvp':
      return [
        heading((expr) => `${glyphs.hvp} = ${second(expr)}${product}u`, report.n),
        ...seed('u'),
        text(''),
        ...inputVector(report, marks.rows),
      ];
  }
}

function checkTable(report: CheckReport, layout: Layout): Block[] {
  const { glyphs, style, precision } = layout;
  const rows = entryLabels('f', report.value.shape);
  const { directions } = report;
  // Along directions, a column is a direction: u1, u2, ….
  const cols =
    directions === null ? columnLabels(report.inputs) : Array.from({ length: directions }, (_, k) => `u${k + 1}`);
  const worst =
    report.worst === null
      ? 'none (nothing finite to compare)'
      : `${rows[report.worst.row]} / ${cols[report.worst.column]}: ` +
        `automatic ${formatNumber(report.worst.automatic, 17)}, numeric ${formatNumber(report.worst.numeric, 17)}`;
  return [
    header(report.title, layout, (expr) => [
      `check J = ${derivative(expr, report.wrt, glyphs)}`,
      directions === null
        ? `${report.m}${glyphs.by}${report.n}: automatic against central finite differences`
        : `${glyphs.jvp} along ${directions} random direction${directions === 1 ? '' : 's'}: ` +
          'forward mode against central finite differences',
    ]),
    text(''),
    text(`max abs error  ${formatNumber(report.maxAbsError, 3)}`),
    text(`max rel error  ${formatNumber(report.maxRelError, 3)}`),
    prose(`worst entry    ${worst}`),
    ...(report.skipped > 0
      ? [prose(`not compared   ${entries(report.skipped)} that ${report.skipped === 1 ? 'is' : 'are'} not finite`)]
      : []),
    ...(report.unresolved > 0
      ? [
          prose(
            `coarse         ${entries(report.unresolved)} that finite differences resolve only to ` +
              `±${formatNumber(report.rounding, 3)} (the values are large next to their change): compared within that`,
          ),
        ]
      : []),
    text(
      `tolerance      ${formatNumber(report.tol, precision)}: ` +
        (report.agree ? 'they agree' : style.warning('they DISAGREE')),
    ),
  ];
}

function body(report: Report, layout: Layout): Block[] {
  switch (report.command) {
    case 'jacobian':
    case 'hessian':
      return matrixTable(report, layout);
    case 'check':
      return checkTable(report, layout);
    default:
      return vectorTable(report, layout);
  }
}

/** The numbers a report shows in its table. */
function shownNumbers(report: Report): ArrayLike<number> {
  switch (report.command) {
    case 'jacobian':
    case 'hessian':
      // A diagonal J's other entries are zeros, finite.
      return isSparse(report.matrix)
        ? report.matrix.values
        : isDiagonal(report.matrix)
          ? report.matrix.diagonal
          : report.matrix;
    case 'check':
      return report.jacobian;
    default:
      return report.vector;
  }
}

/** Flags results that overflowed or left a domain: the numbers say Infinity or NaN, the note says why to look. */
function nonFiniteLines(report: Report, { glyphs, width }: Layout): string[] {
  const numbers = shownNumbers(report);
  let count = 0;
  for (let k = 0; k < numbers.length; k++) if (!Number.isFinite(numbers[k]!)) count++;
  if (count === 0) return [];
  return [
    '',
    ...wrap(
      `! ${entries(count)} ${count === 1 ? 'is' : 'are'} not finite (NaN or ${glyphs.plusMinus}Infinity): ` +
        "an overflow, an infinite derivative, or a value outside a function's domain",
      width,
    ),
  ];
}

/** A tall part (grid or list of entries) in at most `maxLines` lines of entries (null: all of them). */
function tallPart(block: Block, layout: Layout, maxLines: number | null): Fitted {
  switch (block.kind) {
    case 'grid':
      return grid(block.grid, layout, maxLines);
    case 'entries': {
      const { head, tail } = edges(block.count, maxLines);
      return fitted(
        [
          ...range(0, head).map(block.line),
          ...(tail > 0 ? [layout.style.label(layout.glyphs.rowsLeftOut)] : []),
          ...range(block.count - tail, block.count).map(block.line),
        ],
        tail > 0,
      );
    }
    case 'numbers': {
      const room = layout.width === null ? null : layout.width - `${block.name} = `.length;
      const { lines, summarised } = numberList(block.data, layout, room);
      return fitted(
        Array.from(lines, (line) => `${block.name} = ${line}`),
        summarised,
      );
    }
    case 'fitted':
      return fitted(block.lines);
    case 'line':
      return fitted(block.prose ? wrap(block.text, layout.width, ' '.repeat(15)) : [block.text]);
  }
}

/** Lines of entries a tall part has (0 for the others). */
const tallLines = (block: Block): number =>
  block.kind === 'grid' ? (block.grid.rowLabels?.length ?? 1) : block.kind === 'entries' ? block.count : 0;

/**
 * The table of a report. On a screen, a table wider or taller than it keeps
 * its first and last rows and columns (as NumPy and PyTorch print large
 * arrays), and the screen's hint says how to see the rest.
 */
export function formatTable(report: Report, { precision, style, glyphs, screen }: TableOptions): Iterable<string> {
  const layout: Layout = { precision, style, glyphs, width: screen?.columns ?? null };
  const blocks = body(report, layout);
  const tail = [...kinkReportLines(report.warnings, layout), ...nonFiniteLines(report, layout)];
  const hint = screen === null ? [] : ['', ...wrap(screen.hint, layout.width)];
  const draw = (maxLines: (block: Block) => number | null) => blocks.map((b) => tallPart(b, layout, maxLines(b)));
  let parts = draw(() => null);
  const summarised = () => parts.some((part) => part.summarised);
  const height = () => parts.reduce((total, part) => total + part.count, 0) + tail.length;
  // The shell's prompt takes the last line of the screen.
  if (screen !== null && height() + (summarised() ? hint.length : 0) + 1 > screen.rows) {
    const tall = blocks.reduce((total, b) => total + tallLines(b), 0);
    const available = screen.rows - 1 - tail.length - hint.length - (height() - tail.length - tall);
    parts = draw((b) =>
      tallLines(b) === 0 ? null : Math.max(MIN_SHOWN_LINES, Math.floor((available * tallLines(b)) / tall)),
    );
  }
  const warning = (line: string) => (line === '' ? line : style.warning(line));
  const shown = parts;
  function* lines(): Generator<string> {
    for (const part of shown) yield* part.lines;
    yield* tail.map(warning);
    if (shown.some((part) => part.summarised)) yield* hint;
  }
  return chunkedLines(lines());
}
