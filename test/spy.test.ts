/**
 * Pictures of sparsity patterns: braille text (golden, with ⠀ U+2800 as the
 * blank character), its scaling and colour callback, and the SVG heat map
 * (well-formed, one square per entry or per block, colours, escaping).
 */
import { describe, expect, it } from 'vitest';
import type { SparseJacobian } from '../src/engine/sparsity.js';
import { spyScale, spySvg, spyText } from '../src/format/spy.js';

type Entry = readonly [row: number, col: number, value: number];

/** J in coordinate form from entries listed in row-then-column order. */
const coo = (m: number, n: number, entries: readonly Entry[]): SparseJacobian => ({
  m,
  n,
  rows: Int32Array.from(entries, ([i]) => i),
  cols: Int32Array.from(entries, ([, j]) => j),
  values: Float64Array.from(entries, ([, , v]) => v),
});

/** Entries with |row − col| ≤ halfWidth, valued row + 1. */
const banded = (size: number, halfWidth: number): SparseJacobian => {
  const entries: Entry[] = [];
  for (let i = 0; i < size; i++) {
    for (let j = Math.max(0, i - halfWidth); j <= Math.min(size - 1, i + halfWidth); j++) entries.push([i, j, i + 1]);
  }
  return coo(size, size, entries);
};

const plain = (J: SparseJacobian, width = 80): string => spyText(J, { width, color: null, caption: 'caption' });

/** The characters between the frame's sides, one string per line of the picture. */
const inside = (text: string): string[] =>
  text
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) => line.slice(1, -1));

describe('spyText, without colour', () => {
  it('diagonal 5×5', () => {
    const J = coo(
      5,
      5,
      [0, 1, 2, 3, 4].map((i): Entry => [i, i, 1]),
    );
    expect(plain(J)).toBe(`┌───┐
│⠑⢄⠀│
│⠀⠀⠁│
└───┘
caption
`);
  });

  it('bidiagonal 4×5', () => {
    const J = coo(4, 5, [
      [0, 0, 1],
      [0, 1, 2],
      [1, 1, 3],
      [1, 2, 4],
      [2, 2, 5],
      [2, 3, 6],
      [3, 3, 7],
      [3, 4, 8],
    ]);
    expect(plain(J)).toBe(`┌───┐
│⠙⢦⡀│
└───┘
caption
`);
  });

  it('dense 3×3, a stored 0 included', () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) entries.push([i, j, i === j ? 0 : 1]);
    expect(plain(coo(3, 3, entries))).toBe(`┌──┐
│⠿⠇│
└──┘
caption
`);
  });

  it('a 1×7 gradient row', () => {
    const J = coo(
      1,
      7,
      [0, 1, 2, 3, 4, 5, 6].map((j): Entry => [0, j, j]),
    );
    expect(plain(J)).toBe(`┌────┐
│⠉⠉⠉⠁│
└────┘
caption
`);
  });

  it('an empty pattern keeps its shape; a 0×0 one is one blank character', () => {
    expect(plain(coo(6, 4, []))).toBe(`┌──┐
│⠀⠀│
│⠀⠀│
└──┘
caption
`);
    expect(plain(coo(0, 0, []))).toBe(`┌─┐
│⠀│
└─┘
caption
`);
  });

  it('1000×1000 banded in 40 columns: scaled to fit, frame intact, the band on the diagonal', () => {
    const text = spyText(banded(1000, 2), { width: 40, color: null, caption: 'band' });
    expect(text.endsWith('\nband\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
    // 14 entries per dot: 72 dots (36 characters) across, 72 dots (18 lines) down.
    expect(spyScale(banded(1000, 2), 40)).toBe(14);
    const picture = inside(text);
    expect(picture).toHaveLength(18);
    expect(lines[0]).toBe(`┌${'─'.repeat(36)}┐`);
    expect(lines[19]).toBe(`└${'─'.repeat(36)}┘`);
    expect(lines.slice(1, 19).every((line) => line.startsWith('│') && line.endsWith('│') && line.length === 38)).toBe(
      true,
    );
    // Line r covers dot rows 4r…4r+3, so the band sits in characters 2r and 2r+1, spilling at most one further.
    picture.forEach((line, r) => {
      const drawn = [...line].flatMap((char, c) => (char === '⠀' ? [] : [c]));
      expect(drawn).toContain(2 * r);
      expect(drawn).toContain(2 * r + 1);
      expect(drawn.every((c) => c >= 2 * r - 1 && c <= 2 * r + 2)).toBe(true);
    });
  });

  it('one dot per entry exactly while J fits, else a common whole factor', () => {
    // Width 40 leaves 38 characters, 76 dots across; 40 lines leave 160 dots down.
    expect(spyScale({ m: 160, n: 76 }, 40)).toBe(1);
    expect(spyScale({ m: 1, n: 77 }, 40)).toBe(2);
    expect(spyScale({ m: 161, n: 1 }, 40)).toBe(2);
    expect(spyScale({ m: 1000, n: 10 }, 80)).toBe(7);
    const wide = plain(
      coo(12, 400, [
        [0, 0, 1],
        [11, 399, 1],
      ]),
      40,
    );
    // Both ways 6 entries per dot: 400 columns in 67 dots (34 characters), 12 rows in 2 dots (one line).
    expect(inside(wide)).toEqual([`⠁${'⠀'.repeat(32)}⠂`]);
  });
});

describe('spyText, with colour', () => {
  const magnitudes = (J: SparseJacobian): number[] => {
    const seen: number[] = [];
    spyText(J, { width: 80, color: (text, magnitude) => (seen.push(magnitude), text), caption: '' });
    return seen;
  };

  it('decorates each character holding a dot with its largest |value| over the largest of J', () => {
    const J = coo(1, 8, [
      [0, 0, 1],
      [0, 1, -4],
      [0, 2, 0.5],
      [0, 4, 0],
    ]);
    const text = spyText(J, { width: 80, color: (text, magnitude) => `<${text}:${magnitude}>`, caption: 'c' });
    expect(text).toBe(`┌────┐
│<⠉:1><⠁:0.125><⠁:0>⠀│
└────┘
c
`);
  });

  it('NaN and ±Infinity count as 1; an all-zero J gives 0', () => {
    expect(
      magnitudes(
        coo(1, 8, [
          [0, 0, NaN],
          [0, 2, 2],
          [0, 4, -Infinity],
          [0, 6, 1],
        ]),
      ),
    ).toEqual([1, 1, 1, 0.5]);
    expect(
      magnitudes(
        coo(1, 4, [
          [0, 0, 0],
          [0, 2, -0],
        ]),
      ),
    ).toEqual([0, 0]);
  });

  it('magnitudes lie in [0, 1] and the largest entry gets 1, when scaled too', () => {
    const J = banded(1000, 3);
    for (let k = 0; k < J.values.length; k++) J.values[k] = Math.sin(k) * 10 ** ((k % 7) - 3);
    const seen = magnitudes(J);
    expect(seen.length).toBeGreaterThan(30);
    expect(seen.every((magnitude) => magnitude >= 0 && magnitude <= 1)).toBe(true);
    expect(Math.max(...seen)).toBe(1);
  });
});

/**
 * Throws unless `xml` is well-formed: an optional declaration, one root
 * element, tags nested and closed, attributes quoted and not repeated, `&`
 * only in references, no `<` or `>` in text.
 */
function assertWellFormed(xml: string): void {
  const token =
    /(<\?xml[^?]*\?>)|<([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w:.-]*="[^"<]*")*)\s*(\/?)>|<\/([A-Za-z][\w.-]*)>|([^<>]+)/y;
  const badReference = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);)/;
  const open: string[] = [];
  let roots = 0;
  for (let at = 0; at < xml.length; at = token.lastIndex) {
    token.lastIndex = at;
    const match = token.exec(xml);
    if (match === null) throw new Error(`not well-formed at ${at}: ${xml.slice(at, at + 40)}`);
    const [, declaration, name, attributes, selfClosing, closing, text] = match;
    if (declaration !== undefined && at !== 0) throw new Error(`declaration not at the start: ${at}`);
    if (name !== undefined) {
      if (open.length === 0 && ++roots > 1) throw new Error(`second root element <${name}> at ${at}`);
      const names = [...(attributes ?? '').matchAll(/([\w:.-]+)="([^"]*)"/g)].map(([, attribute, value]) => {
        if (badReference.test(value ?? '')) throw new Error(`bare & in attribute ${attribute} at ${at}`);
        return attribute;
      });
      if (new Set(names).size !== names.length) throw new Error(`repeated attribute in <${name}> at ${at}`);
      if (selfClosing === '') open.push(name);
    }
    if (closing !== undefined && open.pop() !== closing) throw new Error(`</${closing}> closes nothing open at ${at}`);
    if (text !== undefined) {
      if (badReference.test(text)) throw new Error(`bare & in text at ${at}`);
      if (open.length === 0 && text.trim() !== '') throw new Error(`text outside the root at ${at}`);
    }
  }
  if (open.length > 0 || roots !== 1) throw new Error(`unclosed <${open.join('>, <')}>`);
}

/** The squares of the map: the rects inside its group. */
const cellsOf = (svg: string): { x: number; y: number; fill: string }[] => {
  const map = /<g transform="[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
  return [...map.matchAll(/<rect x="(\d+)" y="(\d+)" width="1" height="1" fill="(#[\da-f]{6})"\/>/g)].map(
    ([, x, y, fill]) => ({
      x: Number(x),
      y: Number(y),
      fill: fill ?? '',
    }),
  );
};

const LIGHTEST = '#fde725';
const DARKEST = '#440154';

describe('the well-formedness checker', () => {
  it.each(['<a><b></a></b>', '<a x="1" x="2"/>', '<a>&</a>', '<a>1 < 2</a>', '<a/><b/>', '<a>', 'text'])(
    'rejects %s',
    (xml) => {
      expect(() => assertWellFormed(xml)).toThrow();
    },
  );

  it('accepts a nested document', () => {
    expect(() => assertWellFormed('<?xml version="1.0"?>\n<a k="&amp;"><b/>x &lt; y<c></c></a>\n')).not.toThrow();
  });
});

describe('spySvg', () => {
  it('is a well-formed standalone SVG with one square per entry of a small J', () => {
    const J = coo(3, 4, [
      [0, 0, 2],
      [0, 3, -0.02],
      [1, 1, 0],
      [2, 2, NaN],
    ]);
    const svg = spySvg(J, { caption: 'J of f' });
    assertWellFormed(svg);
    expect(svg).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" [^>]*viewBox="0 0 \d+ \d+"/,
    );
    expect(svg).toContain('<title>J of f</title>');
    expect(svg).toContain('<rect width="100%" height="100%" fill="#ffffff"/>');
    expect(svg).toMatch(/<text [^>]*>J of f<\/text>/);
    // The largest finite |value| is darkest, the smallest lightest, a stored 0 grey, NaN red.
    expect(cellsOf(svg)).toEqual([
      { x: 0, y: 0, fill: DARKEST },
      { x: 3, y: 0, fill: LIGHTEST },
      { x: 1, y: 1, fill: '#d9d9d9' },
      { x: 2, y: 2, fill: '#e41a1c' },
    ]);
  });

  it('colours on a log scale: the geometric mean falls mid-ramp', () => {
    const fills = cellsOf(
      spySvg(
        coo(1, 3, [
          [0, 0, 1e-4],
          [0, 1, 1e-2],
          [0, 2, 1],
        ]),
        { caption: '' },
      ),
    ).map((c) => c.fill);
    expect(fills[0]).toBe(LIGHTEST);
    expect(fills[2]).toBe(DARKEST);
    // t = 0.5: between the 5th and 6th of the ten viridis stops (#1f9e89, #26828e).
    expect(fills[1]).toBe('#23908c');
  });

  it('one square per entry up to maxCells rows and columns', () => {
    const J = banded(1000, 1);
    const cells = cellsOf(spySvg(J, { caption: 'band' }));
    expect(cells).toHaveLength(J.values.length);
    expect(cells.every(({ x, y }, k) => x === J.cols[k] && y === J.rows[k])).toBe(true);
  });

  it('aggregates a larger J into square blocks, each coloured by its largest |value|', () => {
    const J = coo(4, 4, [
      [0, 0, 5],
      [1, 1, 1e-3],
      [2, 3, 1e-3],
    ]);
    const svg = spySvg(J, { caption: '', maxCells: 2 });
    assertWellFormed(svg);
    expect(cellsOf(svg)).toEqual([
      { x: 0, y: 0, fill: DARKEST },
      { x: 1, y: 1, fill: LIGHTEST },
    ]);
    expect(svg).toContain('each cell: 2×2 entries');
  });

  it('keeps the aspect ratio and at most maxCells² squares', () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 1000; i++) for (let j = 3 * i; j < 3 * i + 3; j++) entries.push([i, j, 1 + j]);
    const svg = spySvg(coo(1000, 3000, entries), { caption: 'wide', maxCells: 100 });
    assertWellFormed(svg);
    const cells = cellsOf(svg);
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.length).toBeLessThanOrEqual(100 * 100);
    // 30 entries per side of a block: 34 rows by 100 columns, the band from corner to corner.
    expect(Math.max(...cells.map((c) => c.x))).toBe(99);
    expect(Math.max(...cells.map((c) => c.y))).toBe(33);
    expect(cells.every(({ x, y }) => Math.abs(x - 3 * y) <= 3)).toBe(true);
  });

  it('escapes the caption, and replaces characters XML cannot hold', () => {
    const svg = spySvg(coo(1, 1, [[0, 0, 1]]), { caption: 'd(a<b & c>d)/dx "q" \u0001' });
    assertWellFormed(svg);
    expect(svg).toContain('<title>d(a&lt;b &amp; c&gt;d)/dx &quot;q&quot; \uFFFD</title>');
    expect(svg).not.toContain('\u0001');
  });

  it('draws a framed empty map for a J with nothing stored', () => {
    const svg = spySvg(coo(0, 0, []), { caption: 'nothing' });
    assertWellFormed(svg);
    expect(cellsOf(svg)).toEqual([]);
    expect(svg).toContain('fill="none" stroke=');
  });

  it('refuses a maxCells that is not a positive whole number', () => {
    expect(() => spySvg(coo(1, 1, []), { caption: '', maxCells: 0 })).toThrow(RangeError);
    expect(() => spySvg(coo(1, 1, []), { caption: '', maxCells: 2.5 })).toThrow(RangeError);
  });
});
