/**
 * The characters of the output that are not ASCII, and their ASCII
 * spellings for terminals that cannot show them (a C or POSIX locale,
 * TERM=dumb). The CLI picks one set and passes it to the formatters.
 */
export interface Glyphs {
  /** ∂ in d(f)/dx. */
  readonly partial: string;
  /** The second power in ∂²(f)/∂x². */
  readonly squared: string;
  /** Between the sides of a shape: 3×3. */
  readonly by: string;
  /** A product written out: vᵀ·J, J·u. */
  readonly product: string;
  /** The names of results. */
  readonly vjp: string;
  readonly vTransposed: string;
  readonly jvp: string;
  readonly hvp: string;
  readonly gradient: string;
  readonly plusMinus: string;
  /** Where entries of a row are left out, and where text is cut short. */
  readonly ellipsis: string;
  /** Where rows are left out. */
  readonly rowsLeftOut: string;
  /** Where rows and columns are left out. */
  readonly bothLeftOut: string;
  /** The frame of spy's picture. */
  readonly frame: {
    readonly topLeft: string;
    readonly topRight: string;
    readonly bottomLeft: string;
    readonly bottomRight: string;
    readonly horizontal: string;
    readonly vertical: string;
  };
  /** Only ASCII: spy draws `#` and `.` instead of braille, and engine messages are spelled in ASCII. */
  readonly asciiOnly: boolean;
}

export const UNICODE: Glyphs = {
  partial: '∂',
  squared: '²',
  by: '×',
  product: '·',
  vjp: 'vᵀJ',
  vTransposed: 'vᵀ',
  jvp: 'J·u',
  hvp: 'H·u',
  gradient: '∇f',
  plusMinus: '±',
  ellipsis: '…',
  rowsLeftOut: '⋮',
  bothLeftOut: '⋱',
  frame: { topLeft: '┌', topRight: '┐', bottomLeft: '└', bottomRight: '┘', horizontal: '─', vertical: '│' },
  asciiOnly: false,
};

export const ASCII: Glyphs = {
  partial: 'd',
  squared: '2',
  by: 'x',
  product: '*',
  vjp: 'v^T J',
  vTransposed: 'v^T',
  jvp: 'J*u',
  hvp: 'H*u',
  gradient: 'grad f',
  plusMinus: '+-',
  ellipsis: '...',
  rowsLeftOut: ':',
  bothLeftOut: '...',
  frame: { topLeft: '+', topRight: '+', bottomLeft: '+', bottomRight: '+', horizontal: '-', vertical: '|' },
  asciiOnly: true,
};

/** Characters of messages from the engine (kink conventions) and their ASCII spellings. */
const ASCII_SPELLINGS: Readonly<Record<string, string>> = {
  '∂': 'd',
  '²': '2',
  '×': 'x',
  '·': '*',
  ᵀ: '^T',
  '∇': 'grad ',
  '±': '+-',
  '∞': 'Infinity',
  '−': '-',
  '≤': '<=',
  '≥': '>=',
  '≠': '!=',
  '→': '->',
  '…': '...',
  '—': '-',
  '–': '-',
};

/** Text written for the glyphs' terminal: with ASCII glyphs, the characters above in their ASCII spellings. */
export function inGlyphs(text: string, glyphs: Glyphs): string {
  if (!glyphs.asciiOnly) return text;
  return text.replace(/[\u0080-\u{10ffff}]/gu, (char) => ASCII_SPELLINGS[char] ?? char);
}
