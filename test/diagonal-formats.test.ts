/**
 * A diagonal J kept as its diagonal (Program.structuredJacobian, what the CLI's single commands format) is written
 * byte for byte as its dense form is, by every formatter: the table (whole and fitted to a screen), JSON (small,
 * large, and shapes whose blocks are not J's rows), the grid formats, MatrixMarket, .npy and .npz.
 */
import { describe, expect, it } from 'vitest';
import { npyOfReport } from '../src/cli/npy.js';
import { npzOfReport } from '../src/cli/npz.js';
import { DEFAULT_MAX_MEMORY_BYTES, type JacobianResult, type StructuredJacobian } from '../src/engine/program.js';
import { formatGrid, type GridFormat } from '../src/format/formats.js';
import { ASCII, UNICODE } from '../src/format/glyphs.js';
import { textOf, type Chunk } from '../src/format/chunks.js';
import { jsonText } from '../src/format/json.js';
import { formatMatrixMarket } from '../src/format/matrix-market.js';
import type { MatrixReport } from '../src/format/report.js';
import { PLAIN } from '../src/format/style.js';
import { formatTable } from '../src/format/table.js';
import { compileAt } from './helpers/compile.js';

/** The report of a J or H result, as commands.ts makes it. */
function reportOf(
  command: 'jacobian' | 'hessian',
  expr: string,
  compiled: ReturnType<typeof compileAt>,
  wrt: readonly string[],
  result: JacobianResult<StructuredJacobian>,
): MatrixReport {
  const { program, tensors } = compiled;
  return {
    command,
    expr,
    title: expr,
    at: [...tensors].map(([name, value]) => ({ name, value })),
    wrt,
    inputs: wrt.map((name) => program.variable(name)),
    value: { shape: program.outputShape, data: result.value },
    m: program.m,
    n: program.columns(wrt),
    warnings: result.warnings,
    matrix: result.jacobian,
    mode: result.mode,
    method: result.method,
    passes: result.passes,
  };
}

/** The dense and the structured report of one expression; the structured one must hold a diagonal. */
function bothReports(
  command: 'jacobian' | 'hessian',
  expr: string,
  at: Readonly<Record<string, unknown>>,
  wrt: readonly string[] = ['x'],
): [MatrixReport, MatrixReport] {
  const compiled = compileAt(expr, at);
  const { program, point } = compiled;
  const dense = command === 'hessian' ? program.hessian(point, wrt) : program.jacobian(point, wrt);
  const structured =
    command === 'hessian' ? program.structuredHessian(point, wrt) : program.structuredJacobian(point, wrt);
  expect(structured.jacobian).toHaveProperty('diagonal');
  return [reportOf(command, expr, compiled, wrt, dense), reportOf(command, expr, compiled, wrt, structured)];
}

const text = (chunks: Iterable<Chunk>): string => textOf(chunks);
const bytes = (parts: readonly Uint8Array[]): Buffer => Buffer.concat(parts);

const GRID_FORMATS: readonly GridFormat[] = ['csv', 'tsv', 'markdown', 'latex', 'mathjs'];
const SCREEN = { columns: 80, rows: 24, hint: 'use --json for every entry' };

/** Every format's output of a report, by name. */
function outputs(report: MatrixReport, grids: boolean): Record<string, string | Buffer> {
  const all: Record<string, string | Buffer> = {
    json: text(jsonText(report)),
    mtx: text(formatMatrixMarket(report)),
    npy: bytes(npyOfReport(report, DEFAULT_MAX_MEMORY_BYTES)),
    npz: bytes(npzOfReport(report, DEFAULT_MAX_MEMORY_BYTES)),
    screen: text(formatTable(report, { precision: 6, style: PLAIN, glyphs: UNICODE, screen: SCREEN })),
  };
  if (!grids) return all;
  all.table = text(formatTable(report, { precision: 4, style: PLAIN, glyphs: ASCII, screen: null }));
  for (const format of GRID_FORMATS) all[format] = text(formatGrid(report, format, 6));
  return all;
}

const vector = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe('a diagonal J kept as its diagonal', () => {
  const cases: [string, 'jacobian' | 'hessian', string, Readonly<Record<string, unknown>>, string[]?, boolean?][] = [
    ['the issue’s expression, n = 20', 'jacobian', 'sin(x).*x+x.^2', { x: vector(20, (i) => Math.sin(i + 1)) }],
    // -0 on the diagonal (d(-x²)/dx at 0) and a kink (abs at 0: a warning, its entry marked).
    ['-0 and a kink', 'jacobian', '-(x.^2) + abs(x)', { x: vector(24, (i) => (i % 5 === 0 ? 0 : i - 12)) }],
    ['one of two variables', 'jacobian', 'sin(x).*y', { x: vector(18, (i) => i / 7), y: vector(18, Math.cos) }],
    // A matrix variable: J's blocks are not its rows, and JSON lays the diagonal out.
    ['a matrix', 'jacobian', 'sin(x).*x', { x: vector(5, (i) => vector(5, (j) => i - j + 0.5)) }],
    ['an element-wise sum’s Hessian', 'hessian', 'sum(x.^4 + sin(x).*x)', { x: vector(20, (i) => i / 3 - 2) }],
    // More than SHARED_TEXT_MAX entries: JSON's pieces, not one string.
    ['n = 300', 'jacobian', 'exp(-x).*x', { x: vector(300, (i) => Math.cos(i)) }, ['x'], false],
    ['H at n = 300', 'hessian', 'sum(exp(x))', { x: vector(300, (i) => i / 100) }, ['x'], false],
  ];
  it.each(cases)('is written as the dense J: %s', (_, command, expr, at, wrt = ['x'], grids = true) => {
    const [dense, structured] = bothReports(command, expr, at, wrt);
    const expected = outputs(dense, grids);
    const actual = outputs(structured, grids);
    // Buffers by Buffer.equals: a deep comparison of a large one takes seconds.
    for (const [format, output] of Object.entries(expected)) {
      const written = actual[format]!;
      const same =
        typeof output === 'string' ? written === output : typeof written !== 'string' && output.equals(written);
      expect(same, format).toBe(true);
    }
  });

  it('is laid out as the dense J by the library and by Program.jacobian', () => {
    const { program, point } = compileAt('sin(x).*x+x.^2', { x: vector(30, (i) => i - 15) });
    const structured = program.structuredJacobian(point, ['x']).jacobian;
    const dense = program.jacobian(point, ['x']).jacobian;
    expect(structured).not.toBeInstanceOf(Float64Array);
    expect(dense).toBeInstanceOf(Float64Array);
    expect(Array.from(dense)).toEqual(
      vector(900, (k) => (k % 31 === 0 && 'diagonal' in structured ? structured.diagonal[k / 31]! : 0)),
    );
  });
});
