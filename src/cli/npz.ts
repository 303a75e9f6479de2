/**
 * NumPy's `.npz` files (numpy.savez): a zip archive of `.npy` files, one per
 * array. `--format npz` writes the value beside the derivative, stored
 * without compression, each named as numpy.load's keys show them:
 * `np.load('out.npz')['jacobian']`. `--at W=@data.npz:W` reads one array of
 * an archive (stored, or deflated by numpy.savez_compressed).
 */
import { createRequire } from 'node:module';
import type { inflateRawSync } from 'node:zlib';
import { InputError } from '../errors.js';
import type { Report } from '../format/report.js';
import type { Tensor } from '../values.js';
import { npyParts, readNpy, resultArray } from './npy.js';

/** The arrays of a report, by the names they get in the archive (without `.npy`): the value, then the derivative. */
const arraysOf = (report: Report, maxBytes: number): [string, readonly number[], Float64Array][] => [
  ['value', report.value.shape, report.value.data],
  [report.command, ...resultArray(report, maxBytes)],
];

/**
 * The .npz file of a report, in parts to write one after the other (the arrays' entries are not copied); a sparse
 * J or H laid out dense within `maxBytes`.
 */
export function npzOfReport(report: Report, maxBytes: number): readonly Uint8Array[] {
  return zipStored(
    arraysOf(report, maxBytes).map(([name, shape, data]) => ({ name: `${name}.npy`, parts: npyParts(shape, data) })),
  );
}

/** A file of the archive: its name and its bytes, in parts. */
export interface ZipEntry {
  readonly name: string;
  readonly parts: readonly Uint8Array[];
}

/** A zip holds sizes and offsets in 32 bits (without its zip64 extension, which this does not write). */
const ZIP_LIMIT = 0xffffffff;
/** 1980-01-01 00:00, the earliest time a zip can say: the same result gives the same file. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;

/** A zip archive of `entries`, stored (no compression), as parts: headers, then each entry's own parts. */
export function zipStored(entries: readonly ZipEntry[]): readonly Uint8Array[] {
  const out: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const { name, parts } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const size = parts.reduce((total, part) => total + part.length, 0);
    if (size > ZIP_LIMIT || offset > ZIP_LIMIT)
      throw new InputError(
        `${name} would take more than 4 GiB, more than a .npz without zip64 holds: use --format npy`,
      );
    const crc = parts.reduce((running, part) => crc32(part, running), 0);
    // The fields a local header and its central directory record share, from "version needed" to the name's length.
    const common = [20, 0, 0, DOS_TIME, DOS_DATE, crc, size, size, nameBytes.length];
    const local = header(0x04034b50, [...common, 0], [2, 2, 2, 2, 2, 4, 4, 4, 2, 2]);
    // Made by: version 2.0 on Unix; no extra field, no comment, no disk number, no attributes but the file mode.
    const record = header(
      0x02014b50,
      [(3 << 8) | 20, ...common, 0, 0, 0, 0, 0o100644 * 0x10000, offset],
      [2, 2, 2, 2, 2, 2, 4, 4, 4, 2, 2, 2, 2, 2, 4, 4],
    );
    out.push(local, nameBytes, ...parts);
    central.push(record, nameBytes);
    offset += local.length + nameBytes.length + size;
  }
  const centralSize = central.reduce((total, part) => total + part.length, 0);
  if (offset > ZIP_LIMIT) throw new InputError('the archive would take more than 4 GiB: use --format npy');
  const end = header(0x06054b50, [0, 0, entries.length, entries.length, centralSize, offset, 0], [2, 2, 2, 2, 4, 4, 2]);
  return [...out, ...central, end];
}

/** A zip header: its signature, then little-endian fields of the given widths in bytes. */
function header(signature: number, fields: readonly number[], widths: readonly number[]): Uint8Array {
  const bytes = Buffer.alloc(4 + widths.reduce((total, width) => total + width, 0));
  bytes.writeUInt32LE(signature, 0);
  let at = 4;
  fields.forEach((field, k) => {
    const width = widths[k]!;
    if (width === 2) bytes.writeUInt16LE(field, at);
    else bytes.writeUInt32LE(field >>> 0, at);
    at += width;
  });
  return bytes;
}

/** The table of the CRC-32 of zip (and PNG, gzip): the reflected polynomial 0xEDB88320, one entry per byte. */
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** The CRC-32 of `bytes`, continuing from the CRC of what came before them (0 to start). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = ~previous;
  for (let k = 0; k < bytes.length; k++) c = CRC_TABLE[(c ^ bytes[k]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Deflated bytes inflated by node:zlib, loaded only here: loading it at every start would cost about 2 ms. */
function inflateRaw(bytes: Uint8Array): Uint8Array {
  const zlib = createRequire(import.meta.url)('node:zlib') as { inflateRawSync: typeof inflateRawSync };
  return zlib.inflateRawSync(bytes);
}

/** An array of the archive as the central directory describes it. */
interface Member {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly localOffset: number;
}

/**
 * The array `name` of the .npz archive `bytes` (numpy.savez or savez_compressed), or its only array when `name` is
 * null; `what` and `path` name it in messages (`--at W (data.npz)`).
 */
export function readNpz(bytes: Uint8Array, path: string, name: string | null, what: string): Tensor {
  const fail = (problem: string): never => {
    throw new InputError(`${what} (${path}) ${problem}`);
  };
  const members = centralDirectory(bytes, fail);
  const arrays = members.filter((m) => m.name.endsWith('.npy')).map((m) => m.name.slice(0, -4));
  const list = arrays.join(', ') || 'none';
  if (name === null && arrays.length !== 1)
    fail(`holds ${arrays.length} arrays (${list}): name one, as @${path}:${arrays[0] ?? 'NAME'}`);
  const chosen = name ?? arrays[0]!;
  const member =
    members.find((m) => m.name === `${chosen}.npy`) ?? fail(`has no array "${chosen}": its arrays are ${list}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = member.localOffset;
  if (at + 30 > bytes.length || view.getUint32(at, true) !== 0x04034b50) fail('has a damaged entry: save it again');
  // The local header's name and extra field (numpy's zip64 sizes) may differ from the central directory's.
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  if (start + member.compressedSize > bytes.length) fail('is cut short: save it again');
  const stored = bytes.subarray(start, start + member.compressedSize);
  const where = `${what} (${path}:${chosen})`;
  if (member.method === 0) return readNpy(stored, where);
  if (member.method === 8) return readNpy(inflateRaw(stored), where);
  return fail(`compresses ${chosen} with method ${member.method}: save it with np.savez or np.savez_compressed`);
}

/** The members listed in the archive's central directory, found from its end record. */
function centralDirectory(bytes: Uint8Array, fail: (problem: string) => never): Member[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end record is the last 22 bytes, unless a comment (at most 65535 bytes) follows it.
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) fail('is not a zip archive (no end of central directory): write it with np.savez');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (count === 0xffff || at === ZIP_LIMIT) fail('is a zip64 archive larger than this reads (4 GiB): use .npy files');
  const members: Member[] = [];
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50)
      fail('has a damaged central directory: save it again');
    const nameLength = view.getUint16(at + 28, true);
    const compressedSize = view.getUint32(at + 20, true);
    const localOffset = view.getUint32(at + 42, true);
    if (compressedSize === ZIP_LIMIT || localOffset === ZIP_LIMIT)
      fail('is a zip64 archive larger than this reads (4 GiB): use .npy files');
    const name = Buffer.from(bytes.buffer, bytes.byteOffset + at + 46, nameLength).toString('utf8');
    members.push({ name, method: view.getUint16(at + 10, true), compressedSize, localOffset });
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return members;
}
