/** How text is decorated; the CLI injects colours, tests and pipes use `PLAIN`. */
export interface Style {
  /** Exact zeros, so that the structure of a matrix stands out. */
  readonly zero: (text: string) => string;
  readonly header: (text: string) => string;
  readonly label: (text: string) => string;
  readonly warning: (text: string) => string;
}

const same = (text: string): string => text;

export const PLAIN: Style = { zero: same, header: same, label: same, warning: same };
