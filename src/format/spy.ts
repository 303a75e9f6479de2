/**
 * Pictures of a sparsity pattern, as MATLAB's and Julia's `spy`: `spyText`
 * draws it in a terminal with braille dots (`#` and `.` in ASCII), `spySvg` as a heat map for a
 * browser. Pure: colours are injected, and the caller says where text goes.
 */
import type { SparseJacobian } from '../engine/sparsity.js';
import { UNICODE, type Glyphs } from './glyphs.js';
import { formatNumber } from './number.js';

export interface SpyTextOptions {
  /** Terminal columns available, frame included. */
  readonly width: number;
  /** Decorates one character of the picture given its magnitude in [0, 1]; null for plain text. */
  readonly color: ((text: string, magnitude: number) => string) | null;
  readonly caption: string;
  /** Braille dots, or with ASCII glyphs one `#` (something stored) or `.` per character. Default: UNICODE. */
  readonly glyphs?: Glyphs;
}

export interface SpySvgOptions {
  readonly caption: string;
  /** The most cells across or down; a larger J is aggregated into blocks. Default 1000. */
  readonly maxCells?: number;
}

/** |x|, with NaN as Infinity: both are drawn as the largest magnitude. */
const absolute = (x: number): number => (Number.isNaN(x) ? Infinity : Math.abs(x));

// ─── Terminal ────────────────────────────────────────

/** Taller pictures are scaled down, so that a tall J still fits on one screen. */
const MAX_TEXT_LINES = 40;
/** The braille character with the dots of each bit pattern (U+2800 is the one without dots). */
const BRAILLE = Array.from({ length: 256 }, (_, bits) => String.fromCharCode(0x2800 + bits));
/** The bit of the dot at (row, column) of a braille character (4 rows, 2 columns), at row·2 + column. */
const DOT_BIT = Uint8Array.of(0x01, 0x08, 0x02, 0x10, 0x04, 0x20, 0x40, 0x80);

/** Braille characters across the picture: the width less the two sides of the frame (at least one). */
const pictureColumns = (width: number): number => Math.max(1, Math.floor(width) - 2);

/** The dots of J one character holds: 2 across and 4 down in braille, one in ASCII. */
const dotsPerCharacter = (glyphs: Glyphs) => (glyphs.asciiOnly ? { across: 1, down: 1 } : { across: 2, down: 4 });

/**
 * How many rows and columns of J one dot of `spyText` stands for: 1 when J
 * fits in `width` columns and 40 lines, else the smallest whole factor that
 * makes it fit. The factor is the same both ways, so the picture keeps J's
 * aspect ratio (in braille, whose dots are as wide as they are tall).
 */
export function spyScale(J: Pick<SparseJacobian, 'm' | 'n'>, width: number, glyphs: Glyphs = UNICODE): number {
  const { across, down } = dotsPerCharacter(glyphs);
  return Math.max(1, Math.ceil(J.n / (across * pictureColumns(width))), Math.ceil(J.m / (down * MAX_TEXT_LINES)));
}

/**
 * The pattern of J in braille (a dot is set when an entry of J falling in it
 * is stored, even as 0) inside a thin frame, then the caption. With `color`,
 * each character holding a dot is passed through it with the largest |value|
 * in it over the largest |value| of J (NaN and ±Infinity count as 1, an
 * all-zero J gives 0); blank characters are left as they are.
 */
export function spyText(J: SparseJacobian, { width, color, caption, glyphs = UNICODE }: SpyTextOptions): string {
  const scale = spyScale(J, width, glyphs);
  const { across, down } = dotsPerCharacter(glyphs);
  // An empty J still gets one blank character, so that the frame encloses something.
  const columns = Math.max(1, Math.ceil(Math.ceil(J.n / scale) / across));
  const lines = Math.max(1, Math.ceil(Math.ceil(J.m / scale) / down));
  const dots = new Uint8Array(lines * columns);
  const largest = new Float64Array(lines * columns);
  let largestFinite = 0;
  for (let k = 0; k < J.values.length; k++) {
    const row = Math.floor(J.rows[k]! / scale);
    const col = Math.floor(J.cols[k]! / scale);
    const cell = Math.floor(row / down) * columns + Math.floor(col / across);
    dots[cell]! |= glyphs.asciiOnly ? 1 : DOT_BIT[(row & 3) * 2 + (col & 1)]!;
    const entry = absolute(J.values[k]!);
    largest[cell] = Math.max(largest[cell]!, entry);
    if (entry !== Infinity) largestFinite = Math.max(largestFinite, entry);
  }
  const magnitude = (cell: number): number => {
    const inCell = largest[cell]!;
    return inCell === Infinity ? 1 : largestFinite > 0 ? inCell / largestFinite : 0;
  };
  const character = (bits: number): string => (glyphs.asciiOnly ? (bits === 0 ? '.' : '#') : BRAILLE[bits]!);
  const { frame } = glyphs;
  const rule = frame.horizontal.repeat(columns);
  const out = [`${frame.topLeft}${rule}${frame.topRight}`];
  for (let line = 0; line < lines; line++) {
    let text = frame.vertical;
    for (let cell = line * columns; cell < (line + 1) * columns; cell++) {
      const char = character(dots[cell]!);
      text += color === null || dots[cell] === 0 ? char : color(char, magnitude(cell));
    }
    out.push(`${text}${frame.vertical}`);
  }
  out.push(`${frame.bottomLeft}${rule}${frame.bottomRight}`, caption);
  return `${out.join('\n')}\n`;
}

// ─── SVG ─────────────────────────────────────────────

const DEFAULT_MAX_CELLS = 1000;
/** The longer side of the map, in SVG units. */
const MAP_SIDE = 600;
const MARGIN = 20;
const LEGEND_BAR_WIDTH = 300;
/** Viridis (matplotlib's perceptually uniform sequential map) from light (small |value|) to dark. */
const RAMP_STOPS = [0xfde725, 0xb5de2b, 0x6ece58, 0x35b779, 0x1f9e89, 0x26828e, 0x31688e, 0x3e4989, 0x482878, 0x440154];
const ZERO_FILL = '#d9d9d9';
const NON_FINITE_FILL = '#e41a1c';

const hex = (rgb: number): string => `#${rgb.toString(16).padStart(6, '0')}`;

/** 256 colours along the stops, interpolated in sRGB, so each cell looks its colour up. */
const RAMP = Array.from({ length: 256 }, (_, k) => {
  const at = (k / 255) * (RAMP_STOPS.length - 1);
  const stop = Math.min(Math.floor(at), RAMP_STOPS.length - 2);
  const fraction = at - stop;
  const channel = (shift: number): number => {
    const from = (RAMP_STOPS[stop]! >> shift) & 0xff;
    const to = (RAMP_STOPS[stop + 1]! >> shift) & 0xff;
    return Math.round(from + (to - from) * fraction);
  };
  return hex((channel(16) << 16) | (channel(8) << 8) | channel(0));
});

/** Text for XML content and attributes; characters XML cannot hold at all become U+FFFD. */
function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Coordinates to two decimals: enough for a picture, and short. */
const coordinate = (x: number): string => String(Math.round(x * 100) / 100);

/** What the map draws: cell k at column x[k], row y[k], with the largest absolute() of the entries in it. */
interface Cells {
  readonly x: Int32Array;
  readonly y: Int32Array;
  readonly largest: Float64Array;
}

function entryCells(J: SparseJacobian): Cells {
  const largest = new Float64Array(J.values.length);
  for (let k = 0; k < largest.length; k++) largest[k] = absolute(J.values[k]!);
  return { x: J.cols, y: J.rows, largest };
}

/** The entries of J gathered into `scale`×`scale` blocks, the occupied blocks in row-major order. */
function aggregatedCells(J: SparseJacobian, scale: number, rows: number, columns: number): Cells {
  // Largest absolute() per block, -1 where no entry is stored.
  const grid = new Float64Array(rows * columns).fill(-1);
  for (let k = 0; k < J.values.length; k++) {
    const cell = Math.floor(J.rows[k]! / scale) * columns + Math.floor(J.cols[k]! / scale);
    grid[cell] = Math.max(grid[cell]!, absolute(J.values[k]!));
  }
  let occupied = 0;
  for (const inBlock of grid) if (inBlock >= 0) occupied++;
  const cells = { x: new Int32Array(occupied), y: new Int32Array(occupied), largest: new Float64Array(occupied) };
  let k = 0;
  for (let cell = 0; cell < grid.length; cell++) {
    if (grid[cell]! < 0) continue;
    cells.x[k] = cell % columns;
    cells.y[k] = Math.floor(cell / columns);
    cells.largest[k++] = grid[cell]!;
  }
  return cells;
}

/**
 * A standalone SVG heat map of J: one square per stored entry, or, when J has
 * more than `maxCells` rows or columns, per block of entries (square, so the
 * aspect ratio holds) showing the largest |value| in it. Colours follow
 * log |value| from light (smallest nonzero) to dark (largest); stored zeros
 * are light grey and NaN or ±Infinity red. A legend explains the colours.
 */
export function spySvg(J: SparseJacobian, { caption, maxCells = DEFAULT_MAX_CELLS }: SpySvgOptions): string {
  if (!Number.isInteger(maxCells) || maxCells < 1)
    throw new RangeError(`spySvg: maxCells must be a positive integer, not ${maxCells}`);
  const scale = Math.max(1, Math.ceil(J.m / maxCells), Math.ceil(J.n / maxCells));
  const rows = Math.ceil(J.m / scale);
  const columns = Math.ceil(J.n / scale);
  const cells = scale === 1 ? entryCells(J) : aggregatedCells(J, scale, rows, columns);

  // The ends of the ramp: the smallest and largest finite nonzero |value| drawn.
  let lowest = Infinity;
  let highest = 0;
  let hasZero = false;
  let hasNonFinite = false;
  for (const inCell of cells.largest) {
    if (inCell === 0) hasZero = true;
    else if (inCell === Infinity) hasNonFinite = true;
    else {
      lowest = Math.min(lowest, inCell);
      highest = Math.max(highest, inCell);
    }
  }
  const logRange = Math.log(highest) - Math.log(lowest);
  const fill = (inCell: number): string => {
    if (inCell === 0) return ZERO_FILL;
    if (inCell === Infinity) return NON_FINITE_FILL;
    const t = logRange > 0 ? (Math.log(inCell) - Math.log(lowest)) / logRange : 1;
    return RAMP[Math.round(t * (RAMP.length - 1))]!;
  };

  const unit = MAP_SIDE / Math.max(1, rows, columns);
  const mapWidth = columns * unit;
  const mapHeight = rows * unit;
  const canvasWidth = MAP_SIDE + 2 * MARGIN;
  const captionY = MARGIN + mapHeight + 28;
  const legendY = captionY + 16;
  const labelY = legendY + 24;
  const noteY = labelY + 18;
  const canvasHeight = (scale > 1 ? noteY : labelY) + MARGIN;

  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${canvasWidth}" height="${coordinate(canvasHeight)}" ` +
      `viewBox="0 0 ${canvasWidth} ${coordinate(canvasHeight)}" font-family="sans-serif">`,
    `<title>${escapeXml(caption)}</title>`,
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    // Cells are drawn in units of one cell; crisp edges keep neighbours from showing seams.
    `<g transform="translate(${MARGIN} ${MARGIN}) scale(${unit})" shape-rendering="crispEdges">`,
  ];
  for (let k = 0; k < cells.largest.length; k++) {
    out.push(`<rect x="${cells.x[k]!}" y="${cells.y[k]!}" width="1" height="1" fill="${fill(cells.largest[k]!)}"/>`);
  }
  out.push(
    '</g>',
    // The frame shows empty rows and columns at the edges.
    `<rect x="${MARGIN - 0.5}" y="${MARGIN - 0.5}" ` +
      `width="${coordinate(mapWidth + 1)}" height="${coordinate(mapHeight + 1)}" ` +
      'fill="none" stroke="#999999" stroke-width="1"/>',
    `<text x="${MARGIN}" y="${coordinate(captionY)}" font-size="14">${escapeXml(caption)}</text>`,
  );
  if (highest > 0) {
    const stops = RAMP_STOPS.map(
      (rgb, i) => `<stop offset="${coordinate(i / (RAMP_STOPS.length - 1))}" stop-color="${hex(rgb)}"/>`,
    );
    out.push(
      `<defs><linearGradient id="ramp">${stops.join('')}</linearGradient></defs>`,
      `<rect x="${MARGIN}" y="${coordinate(legendY)}" width="${LEGEND_BAR_WIDTH}" height="10" fill="url(#ramp)"/>`,
      `<text x="${MARGIN}" y="${coordinate(labelY)}" font-size="11">${formatNumber(lowest, 3)}</text>`,
      `<text x="${MARGIN + LEGEND_BAR_WIDTH / 2}" y="${coordinate(labelY)}" font-size="11" ` +
        'text-anchor="middle">|value|, log scale</text>',
      `<text x="${MARGIN + LEGEND_BAR_WIDTH}" y="${coordinate(labelY)}" font-size="11" ` +
        `text-anchor="end">${formatNumber(highest, 3)}</text>`,
    );
  }
  const swatch = (x: number, colour: string, label: string): string =>
    `<rect x="${x}" y="${coordinate(legendY)}" width="10" height="10" fill="${colour}"/>` +
    `<text x="${x + 14}" y="${coordinate(legendY + 9)}" font-size="11">${label}</text>`;
  if (hasZero) out.push(swatch(MARGIN + LEGEND_BAR_WIDTH + 30, ZERO_FILL, 'stored 0'));
  if (hasNonFinite) out.push(swatch(MARGIN + LEGEND_BAR_WIDTH + 130, NON_FINITE_FILL, 'NaN or ±Infinity'));
  if (scale > 1) {
    out.push(
      `<text x="${MARGIN}" y="${coordinate(noteY)}" font-size="11">` +
        `each cell: ${scale}×${scale} entries, coloured by the largest |value|</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
