/** Array shapes of the language: scalar [], vector [n], matrix [rows, cols]; row-major. */
export type Shape = readonly [] | readonly [number] | readonly [number, number];

export const SCALAR: Shape = [];

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const isScalar = (shape: Shape): boolean => shape.length === 0;
export const isVector = (shape: Shape): shape is readonly [number] => shape.length === 1;
export const isMatrix = (shape: Shape): shape is readonly [number, number] => shape.length === 2;

/** Rows and columns when a shape is read as a matrix: a vector is one row, as mathjs broadcasts it. */
export function asRowMajor(shape: Shape): readonly [number, number] {
  if (shape.length === 2) return shape;
  if (shape.length === 1) return [1, shape[0]];
  return [1, 1];
}

/** How people read a shape in a message: `scalar`, `vector[3]`, `matrix[2×3]`. */
export function describeShape(shape: Shape): string {
  if (shape.length === 0) return 'scalar';
  if (shape.length === 1) return `vector[${shape[0]}]`;
  return `matrix[${shape[0]}×${shape[1]}]`;
}
