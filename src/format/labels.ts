/** Labels of entries, 1-based as in the language: `x`, `x[2]`, `W[2,3]`. */
import type { Shape } from '../shape.js';

export function entryLabels(name: string, shape: Shape): string[] {
  if (shape.length === 0) return [name];
  if (shape.length === 1) return Array.from({ length: shape[0] }, (_, i) => `${name}[${i + 1}]`);
  const [rows, cols] = shape;
  const labels: string[] = [];
  for (let i = 1; i <= rows; i++) for (let j = 1; j <= cols; j++) labels.push(`${name}[${i},${j}]`);
  return labels;
}

/** WrtInput labels of J: the wrt variables flattened row-major, in order. */
export function columnLabels(inputs: readonly { readonly name: string; readonly shape: Shape }[]): string[] {
  return inputs.flatMap(({ name, shape }) => entryLabels(name, shape));
}
