/**
 * NumPy's `.npy` files (numpy.save): a magic string, a version, a header that
 * is a Python dict literal (`{'descr': '<f8', 'fortran_order': False,
 * 'shape': (3, 4), }`), then the entries. The header is read by a small
 * strict parser of exactly that literal, never evaluated.
 */
import { endianness } from 'node:os';
import { InputError } from '../errors.js';
import { formatBytes } from '../engine/program.js';
import { denseOf, isSparse } from '../format/dense.js';
import type { Report, SparseJacobian } from '../format/report.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../values.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Whether this machine's typed arrays hold their numbers little-endian: a Float64Array's bytes as '<f8' files. */
export const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** How to read one entry of a numeric dtype: its size in bytes and a DataView getter. */
interface EntryType {
  readonly bytes: number;
  readonly read: (view: DataView, offset: number, littleEndian: boolean) => number;
}

const ENTRY_TYPES: Readonly<Record<string, EntryType>> = {
  f4: { bytes: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { bytes: 8, read: (v, o, le) => v.getFloat64(o, le) },
  i1: { bytes: 1, read: (v, o) => v.getInt8(o) },
  i2: { bytes: 2, read: (v, o, le) => v.getInt16(o, le) },
  i4: { bytes: 4, read: (v, o, le) => v.getInt32(o, le) },
  // Past 2^53 an integer rounds to the nearest double, as JSON's numbers do.
  i8: { bytes: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  u1: { bytes: 1, read: (v, o) => v.getUint8(o) },
  u2: { bytes: 2, read: (v, o, le) => v.getUint16(o, le) },
  u4: { bytes: 4, read: (v, o, le) => v.getUint32(o, le) },
  u8: { bytes: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
  b1: { bytes: 1, read: (v, o) => (v.getUint8(o) === 0 ? 0 : 1) },
};

/** What to say of a dtype the CLI does not read, by its kind letter. */
const REFUSED_KINDS: Readonly<Record<string, string>> = {
  O: 'holds Python objects',
  c: 'holds complex numbers',
  S: 'holds byte strings',
  U: 'holds strings',
  V: 'holds records or raw bytes',
  M: 'holds dates',
  m: 'holds time spans',
};

const pythonShape = (shape: readonly number[]): string =>
  shape.length === 1 ? `(${shape[0]!},)` : `(${shape.join(', ')})`;

const CONVERT = 'save it as numbers, as np.save(path, a.astype(np.float64))';

/** The array in `bytes`, a whole `.npy` file; `where` names it in messages (`--at W (W.npy)`). */
export function readNpy(bytes: Uint8Array, where: string): Tensor {
  const fail = (problem: string): never => {
    throw new InputError(`${where} ${problem}`);
  };
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) fail('is a zip archive (.npz?): save one array with np.save');
  if (bytes.length < 10 || MAGIC.some((byte, k) => bytes[k] !== byte))
    fail('is not a NumPy .npy file (it does not begin with \\x93NUMPY): write it with np.save');
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`has .npy format version ${major}.${bytes[7]!}: this reads versions 1 to 3`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) fail('is cut short inside its header: save it again');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) fail('is cut short inside its header: save it again');
  // Versions 1 and 2 write the header in latin1, version 3 in UTF-8; the parser takes ASCII only.
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + headerStart, headerLength).toString('latin1');
  const { descr, fortranOrder, shape } = parseHeader(header, fail);

  const dtype = /^([<>|=])([a-zA-Z?])(\d*)$/.exec(descr);
  if (dtype === null) fail(`has the dtype ${JSON.stringify(descr)}, which is not a number type: ${CONVERT}`);
  const [, order, kind, size] = dtype!;
  const refused = REFUSED_KINDS[kind!];
  if (refused !== undefined) fail(`${refused} (dtype '${descr}'): ${CONVERT}`);
  const entry = Object.hasOwn(ENTRY_TYPES, kind! + size!) ? ENTRY_TYPES[kind! + size!] : undefined;
  if (entry === undefined) fail(`has the dtype '${descr}', which this does not read: ${CONVERT}`);
  if (shape.length > 2)
    fail(`holds a ${shape.length}-dimensional array (shape ${pythonShape(shape)}): give a scalar, vector or matrix`);
  const count = shape.reduce((product, n) => product * n, 1);
  if (count === 0) fail(`holds an empty array (shape ${pythonShape(shape)}): give at least one number`);
  const dataBytes = count * entry!.bytes;
  const available = bytes.length - dataStart;
  if (available < dataBytes)
    fail(`is cut short: its shape ${pythonShape(shape)} needs ${dataBytes} bytes of data, it has ${available}`);
  if (available > dataBytes)
    fail(`has ${available - dataBytes} bytes after its data: it is not one array as np.save writes it`);

  const littleEndian = order === '<' || (order === '=' && HOST_LITTLE_ENDIAN);
  const tensorShape: Shape = shape.length === 2 ? [shape[0]!, shape[1]!] : shape.length === 1 ? [count] : [];
  // np.save's usual file (little-endian float64 in C order, on a little-endian machine): its bytes are the
  // entries, taken as they lie when aligned (NumPy aligns the data to 64 bytes), else copied once.
  if (entry === ENTRY_TYPES.f8 && littleEndian === HOST_LITTLE_ENDIAN && (!fortranOrder || shape.length < 2)) {
    const start = bytes.byteOffset + dataStart;
    const data =
      start % 8 === 0
        ? new Float64Array(bytes.buffer, start, count)
        : new Float64Array(bytes.buffer.slice(start, start + dataBytes));
    return { shape: tensorShape, data };
  }
  const data = new Float64Array(count);
  const [rows, cols] = shape.length === 2 ? [shape[0]!, shape[1]!] : [1, count];
  for (let k = 0; k < count; k++) {
    // Fortran order holds a matrix column by column: entry k is (k mod rows, k div rows).
    const target = fortranOrder ? (k % rows) * cols + Math.floor(k / rows) : k;
    data[target] = entry!.read(view, dataStart + k * entry!.bytes, littleEndian);
  }
  return { shape: tensorShape, data };
}

interface Header {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: number[];
}

type Token = { kind: 'punct'; text: string } | { kind: 'string'; text: string } | { kind: 'word'; text: string };

/** `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`, its three keys in any order, nothing else. */
function parseHeader(header: string, fail: (problem: string) => never): Header {
  const bad = (why: string): never => fail(`has a header that is not NumPy's (${why}): write it with np.save`);
  const tokens = tokenize(header.trimEnd(), bad);
  let at = 0;
  const next = (): Token => tokens[at++] ?? bad('it ends too soon');
  const expect = (text: string): void => {
    const token = next();
    if (token.kind !== 'punct' || token.text !== text) bad(`expected "${text}" at "${token.text}"`);
  };
  const values = new Map<string, string | boolean | number[]>();
  expect('{');
  while (tokens[at]?.text !== '}') {
    const key = next();
    if (key.kind !== 'string') bad(`a key is not a string: ${key.text}`);
    if (values.has(key.text)) bad(`the key '${key.text}' is given twice`);
    expect(':');
    values.set(key.text, parseValue(next, bad, fail));
    const separator = next();
    if (separator.text === '}') {
      at--;
      break;
    }
    if (separator.text !== ',') bad(`expected "," at "${separator.text}"`);
  }
  expect('}');
  if (at !== tokens.length) bad('it goes on after its closing brace');
  const descr = values.get('descr');
  const fortranOrder = values.get('fortran_order');
  const shape = values.get('shape');
  const unknown = [...values.keys()].find((key) => !['descr', 'fortran_order', 'shape'].includes(key));
  if (unknown !== undefined) bad(`it has the key '${unknown}'`);
  if (typeof descr !== 'string') return bad("its 'descr' is not a string");
  if (typeof fortranOrder !== 'boolean') return bad("its 'fortran_order' is not True or False");
  if (!Array.isArray(shape)) return bad("its 'shape' is not a tuple");
  return { descr, fortranOrder, shape };
}

function parseValue(
  next: () => Token,
  bad: (why: string) => never,
  fail: (problem: string) => never,
): string | boolean | number[] {
  const token = next();
  if (token.kind === 'string') return token.text;
  if (token.kind === 'word' && (token.text === 'True' || token.text === 'False')) return token.text === 'True';
  // A list is a structured dtype's fields.
  if (token.text === '[') return fail(`holds a structured array (named fields): ${CONVERT}`);
  if (token.text !== '(') return bad(`unexpected "${token.text}"`);
  const dims: number[] = [];
  for (;;) {
    const dim = next();
    if (dim.text === ')') return dims;
    if (dim.kind !== 'word' || !/^\d+$/.test(dim.text) || !Number.isSafeInteger(Number(dim.text)))
      return bad(`a dimension is not a whole number: ${dim.text}`);
    dims.push(Number(dim.text));
    const separator = next();
    if (separator.text === ')') return dims;
    if (separator.text !== ',') return bad(`expected "," at "${separator.text}"`);
  }
}

/** Punctuation, quoted strings without escapes, and words (True, False, integers, optionally with Python 2's L). */
function tokenize(text: string, bad: (why: string) => never): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:([{}():,[\]])|'([^'\\]*)'|"([^"\\]*)"|(\d+)L?|([A-Za-z]+))/y;
  while (pattern.lastIndex < text.length) {
    const start = pattern.lastIndex;
    const match = pattern.exec(text);
    if (match === null) return bad(`unexpected text "${text.slice(start).trimStart().slice(0, 20)}"`);
    if (match[1] !== undefined) tokens.push({ kind: 'punct', text: match[1] });
    else if (match[2] !== undefined || match[3] !== undefined)
      tokens.push({ kind: 'string', text: match[2] ?? match[3]! });
    else tokens.push({ kind: 'word', text: match[4] ?? match[5]! });
  }
  return tokens;
}

/**
 * The result of `--format npy`: J (m×n) or H (n×n) as a matrix, vᵀJ, J·u, ∇f
 * or H·u as a vector, in the file numpy.save writes for float64 ('<f8', C
 * order), as the parts npyParts gives.
 */
export function npyOfReport(report: Report, maxBytes: number): readonly Uint8Array[] {
  return npyParts(...resultArray(report, maxBytes));
}

/**
 * A .npy file holds every entry: a sparse J or H (found with --sparse, maybe too large to hold dense) is refused
 * where its dense layout would pass the memory limit, pointing to the formats that write its entries alone.
 */
function checkDenseLayout(matrix: SparseJacobian, what: 'Jacobian' | 'Hessian', maxBytes: number): void {
  const bytes = matrix.m * matrix.n * Float64Array.BYTES_PER_ELEMENT;
  if (bytes <= maxBytes) return;
  throw new InputError(
    `the sparse ${matrix.m}×${matrix.n} ${what} laid out dense, as .npy holds it, needs ${formatBytes(bytes)}, ` +
      `more than the limit of ${formatBytes(maxBytes)} (raise it with --max-memory, or use --json or ` +
      `--format mtx, which write its ${matrix.values.length} stored entries alone)`,
  );
}

/**
 * The derivative of a report as one array, with its shape: J or H dense (a sparse one laid out within `maxBytes`), or
 * a vector; check has none.
 */
export function resultArray(report: Report, maxBytes: number): [readonly number[], Float64Array] {
  switch (report.command) {
    case 'jacobian':
    case 'hessian': {
      const { matrix } = report;
      const rows = report.command === 'jacobian' ? report.m : report.n;
      if (isSparse(matrix)) checkDenseLayout(matrix, report.command === 'jacobian' ? 'Jacobian' : 'Hessian', maxBytes);
      return [[rows, report.n], denseOf(matrix)];
    }
    case 'check':
      throw new InputError('check reports errors, not a matrix: use the table or --json');
    default:
      return [[report.vector.length], report.vector];
  }
}

/**
 * A version 1.0 .npy file of float64 entries in two parts, written one after the other: the header, padded with
 * spaces to a multiple of 64 bytes as NumPy pads it, and the entries, which on a little-endian machine are the
 * array's own memory (a view, not a copy).
 */
export function npyParts(shape: readonly number[], data: Float64Array): [Uint8Array, Uint8Array] {
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': ${pythonShape(shape)}, }`;
  const headerLength = dict.length + 1 + ((64 - ((10 + dict.length + 1) % 64)) % 64);
  if (headerLength > 0xffff) throw new InputError(`a result of shape ${pythonShape(shape)} has too long a header`);
  const header = new Uint8Array(10 + headerLength);
  header.set([...MAGIC, 1, 0, headerLength & 0xff, headerLength >> 8]);
  header.set(Buffer.from(dict.padEnd(headerLength - 1, ' ') + '\n', 'latin1'), 10);
  if (HOST_LITTLE_ENDIAN) return [header, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  // Little-endian whatever the machine's order, as the header says.
  const entries = new Uint8Array(data.byteLength);
  const view = new DataView(entries.buffer);
  for (let k = 0; k < data.length; k++) view.setFloat64(8 * k, data[k]!, true);
  return [header, entries];
}

/** The .npy file of npyParts in one buffer. */
export const npyFile = (shape: readonly number[], data: Float64Array): Uint8Array =>
  Buffer.concat(npyParts(shape, data));
