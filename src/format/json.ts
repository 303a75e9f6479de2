/** The `--json` output of SPEC §4: one object on one line, numbers in full precision. */
import type { Shape } from '../shape.js';
import type { Tensor } from '../values.js';
import { jsonNumber } from './number.js';
import type { Report, Warning } from './report.js';

// Numbers are formatted this many at a time: small arrays keep the garbage collector's work small.
const CHUNK = 8192;

/** The numbers data[from … to) as comma-separated JSON, NaN and ±Infinity as strings. */
function numbersJson(data: ArrayLike<number>, from: number, to: number): string {
  const parts: string[] = [];
  for (let start = from; start < to; start += CHUNK) {
    const piece = Array.prototype.slice.call(data, start, Math.min(start + CHUNK, to)) as number[];
    // JSON.stringify formats finite numbers fastest; only pieces with NaN or ±Infinity need the strings.
    parts.push(piece.every(Number.isFinite) ? JSON.stringify(piece).slice(1, -1) : piece.map(jsonNumber).join(','));
  }
  return parts.join(',');
}

/** Nested JSON arrays in the given shape (a scalar is a plain number). */
export function nestedJson(shape: Shape, data: ArrayLike<number>): string {
  if (shape.length === 0) return jsonNumber(data[0]!);
  if (shape.length === 1) return `[${numbersJson(data, 0, shape[0])}]`;
  const [rows, cols] = shape;
  return `[${Array.from({ length: rows }, (_, i) => `[${numbersJson(data, i * cols, (i + 1) * cols)}]`).join(',')}]`;
}

/** A value given by the user: its own JSON text when it came as JSON, else formatted. */
const valueJson = (value: Tensor): string => value.json ?? nestedJson(value.shape, value.data);

const vector = (data: ArrayLike<number>): string => nestedJson([data.length], data);

function warningJson(w: Warning): string {
  const { kind, operation, source, convention, count, entries } = w;
  return JSON.stringify({ kind, operation, source, convention, count, entries });
}

/** The key of each vector result and of its seed. */
const VECTOR_KEYS = { vjp: ['vjp', 'v'], jvp: ['jvp', 'u'], grad: ['grad', null], hvp: ['hvp', 'u'] } as const;

/** The JSON of a report as pieces in order: writing them one by one spares joining a large result. */
export function jsonChunks(report: Report): string[] {
  const fields: [string, string][] = [
    ['command', JSON.stringify(report.command)],
    ['expr', JSON.stringify(report.expr)],
    ['at', `{${report.at.map((b) => `${JSON.stringify(b.name)}:${valueJson(b.value)}`).join(',')}}`],
    ['wrt', JSON.stringify(report.wrt)],
    ['inputs', JSON.stringify(report.inputs.map(({ name, shape }) => ({ name, shape })))],
    ['value', nestedJson(report.value.shape, report.value.data)],
    ['valueShape', JSON.stringify(report.value.shape)],
    ['shape', JSON.stringify([report.m, report.n])],
  ];
  switch (report.command) {
    case 'jacobian':
    case 'hessian': {
      fields.push(['mode', JSON.stringify(report.mode)], ['method', JSON.stringify(report.method)], ['passes', String(report.passes)]);
      const { matrix } = report;
      if (matrix instanceof Float64Array) {
        const size = report.command === 'jacobian' ? [report.m, report.n] as const : [report.n, report.n] as const;
        fields.push([report.command, nestedJson(size, matrix)]);
      } else {
        // Coordinate format, 0-based: entry k is (rows[k], cols[k]) = values[k].
        fields.push(
          ['colours', String(report.colours ?? report.passes)],
          ['nonzeros', String(matrix.values.length)],
          ['format', '"coo"'],
          ['rows', nestedJson([matrix.rows.length], matrix.rows)],
          ['cols', nestedJson([matrix.cols.length], matrix.cols)],
          ['values', nestedJson([matrix.values.length], matrix.values)],
        );
      }
      break;
    }
    case 'vjp':
    case 'jvp':
    case 'grad':
    case 'hvp': {
      const [key, seedKey] = VECTOR_KEYS[report.command];
      if (seedKey !== null && report.seed !== null) fields.push([seedKey, vector(report.seed)]);
      fields.push([key, vector(report.vector)]);
      break;
    }
    case 'check':
      fields.push(
        ['agree', String(report.agree)],
        ['tol', jsonNumber(report.tol)],
        ['maxAbsError', jsonNumber(report.maxAbsError)],
        ['maxRelError', jsonNumber(report.maxRelError)],
        ['worst', report.worst === null ? 'null' : `{"row":${report.worst.row},"column":${report.worst.column},"automatic":${jsonNumber(report.worst.automatic)},"numeric":${jsonNumber(report.worst.numeric)}}`],
        ['skipped', String(report.skipped)],
        ['jacobian', nestedJson([report.m, report.n], report.jacobian)],
        ['numeric', nestedJson([report.m, report.n], report.numeric)],
      );
      break;
  }
  fields.push(['warnings', `[${report.warnings.map(warningJson).join(',')}]`]);
  return [...fields.flatMap(([key, value], i) => [`${i === 0 ? '{' : ','}"${key}":`, value]), '}\n'];
}

export function formatJson(report: Report): string {
  return jsonChunks(report).join('');
}
