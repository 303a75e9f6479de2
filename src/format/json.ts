/** The `--json` output of SPEC §4: one object on one line, numbers in full precision. */
import type { Shape } from '../shape.js';
import { jsonNumber } from './number.js';
import type { Report } from './report.js';

/** Nested JSON arrays in the given shape (a scalar is a plain number). */
export function nestedJson(shape: Shape, data: ArrayLike<number>, offset = 0): string {
  if (shape.length === 0) return jsonNumber(data[offset]!);
  const rows = shape.length === 1 ? 1 : shape[0];
  const cols = shape.length === 1 ? shape[0] : shape[1];
  const rowText = (i: number): string => {
    const parts = new Array<string>(cols);
    for (let j = 0; j < cols; j++) parts[j] = jsonNumber(data[offset + i * cols + j]!);
    return `[${parts.join(',')}]`;
  };
  if (shape.length === 1) return rowText(0);
  return `[${Array.from({ length: rows }, (_, i) => rowText(i)).join(',')}]`;
}

export function formatJson(report: Report): string {
  const fields: [string, string][] = [
    ['command', JSON.stringify(report.command)],
    ['expr', JSON.stringify(report.expr)],
    ['at', `{${report.at.map((b) => `${JSON.stringify(b.name)}:${nestedJson(b.value.shape, b.value.data)}`).join(',')}}`],
    ['wrt', JSON.stringify(report.wrt)],
    ['inputs', JSON.stringify(report.inputs.map(({ name, shape }) => ({ name, shape })))],
    ['value', nestedJson(report.value.shape, report.value.data)],
    ['valueShape', JSON.stringify(report.value.shape)],
    ['shape', JSON.stringify([report.m, report.n])],
  ];
  switch (report.command) {
    case 'jacobian':
      fields.push(['jacobian', nestedJson([report.m, report.n], report.jacobian)]);
      break;
    case 'vjp':
      fields.push(['v', nestedJson([report.m], report.v)], ['vjp', nestedJson([report.n], report.vjp)]);
      break;
  }
  return `{${fields.map(([key, value]) => `"${key}":${value}`).join(',')}}\n`;
}
