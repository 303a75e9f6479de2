/**
 * NumPy's .npz archives: the CRC-32, the zip that `--format npz` writes (its
 * headers read here field by field, its CRCs recomputed), the archives
 * numpy.savez and savez_compressed write (fixtures of scripts/oracle/npy.py)
 * in `--at NAME=@FILE.npz:NAME`, and the CLI both ways.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { npyFile, readNpy } from '../src/cli/npy.js';
import { crc32, readNpz, zipStored } from '../src/cli/npz.js';
import { InputError } from '../src/errors.js';
import { runInProcess } from './helpers/cli.js';
import { fixture, hessianArgs, inTemporaryFolder, matrix, polarJacobianArgs } from './helpers/npy.js';

/** One member of a zip as its headers say it, read field by field from the offsets of the zip specification. */
interface Listed {
  readonly name: string;
  readonly crc: number;
  readonly size: number;
  readonly content: Uint8Array;
}

/** The members of a stored zip, from its end record through the central directory to each local header. */
function listZip(bytes: Uint8Array): Listed[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 22;
  expect(view.getUint32(end, true)).toBe(0x06054b50);
  const count = view.getUint16(end + 10, true);
  expect(view.getUint16(end + 8, true)).toBe(count);
  const centralSize = view.getUint32(end + 12, true);
  let at = view.getUint32(end + 16, true);
  expect(at + centralSize).toBe(end);
  const listed: Listed[] = [];
  for (let k = 0; k < count; k++) {
    expect(view.getUint32(at, true)).toBe(0x02014b50);
    // Stored (method 0), no flags, a 32-bit size that is both the compressed and the uncompressed one.
    expect([view.getUint16(at + 8, true), view.getUint16(at + 10, true)]).toEqual([0, 0]);
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 20, true);
    expect(view.getUint32(at + 24, true)).toBe(size);
    const nameLength = view.getUint16(at + 28, true);
    const name = Buffer.from(bytes.subarray(at + 46, at + 46 + nameLength)).toString('utf8');
    const local = view.getUint32(at + 42, true);
    // The local header repeats the central directory's fields.
    expect(view.getUint32(local, true)).toBe(0x04034b50);
    expect(view.getUint32(local + 14, true)).toBe(crc);
    expect(view.getUint32(local + 18, true)).toBe(size);
    expect(Buffer.from(bytes.subarray(local + 30, local + 30 + nameLength)).toString('utf8')).toBe(name);
    const start = local + 30 + nameLength + view.getUint16(local + 28, true);
    listed.push({ name, crc, size, content: bytes.subarray(start, start + size) });
    at += 46 + nameLength;
  }
  return listed;
}

const joined = (parts: readonly Uint8Array[]): Uint8Array => Buffer.concat(parts);

describe('crc32', () => {
  it('gives the standard check value, and the same in pieces as whole', () => {
    const digits = Buffer.from('123456789');
    expect(crc32(digits)).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(digits.subarray(4), crc32(digits.subarray(0, 4)))).toBe(0xcbf43926);
    expect(crc32(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });
});

describe('writing', () => {
  it('stores each entry with its size, its CRC and its name, read back from the headers', () => {
    const W = npyFile([3, 4], Float64Array.from(matrix(3, 4)));
    const v = npyFile([], Float64Array.of(-0));
    // The parts of an entry are written one after the other: its CRC runs over all of them.
    const zip = joined(
      zipStored([
        { name: 'W.npy', parts: [W.subarray(0, 100), W.subarray(100)] },
        { name: 'value.npy', parts: [v] },
      ]),
    );
    const listed = listZip(zip);
    expect(listed.map((m) => [m.name, m.size])).toEqual([
      ['W.npy', W.length],
      ['value.npy', v.length],
    ]);
    for (const member of listed) expect(crc32(member.content)).toBe(member.crc);
    expect(Buffer.from(listed[0]!.content).equals(W)).toBe(true);
    expect(readNpz(zip, 'out.npz', 'value', '--at v')).toEqual({ shape: [], data: Float64Array.of(-0) });
  });
});

describe('reading the archives numpy writes', () => {
  const read = (name: string, array: string | null) => readNpz(fixture(name), name, array, '--at W');

  it('takes an array by name from np.savez (zip64 local headers) and np.savez_compressed (deflate)', () => {
    expect(read('arrays.npz', 'W')).toEqual({ shape: [3, 4], data: Float64Array.from(matrix(3, 4)) });
    expect(read('arrays.npz', 'b')).toEqual({ shape: [5], data: Float64Array.from([0.25, 1.25, 2.25, 3.25, 4.25]) });
    expect(read('compressed.npz', 'W')).toEqual(read('arrays.npz', 'W'));
    // An archive of one array needs no name.
    expect(read('compressed.npz', null)).toEqual(read('arrays.npz', 'W'));
  });

  it.each([
    ['arrays.npz', null, '--at W (arrays.npz) holds 2 arrays (W, b): name one, as @arrays.npz:W'],
    ['arrays.npz', 'x', '--at W (arrays.npz) has no array "x": its arrays are W, b'],
    ['f8-le-c.npy', 'W', '--at W (f8-le-c.npy) is not a zip archive (no end of central directory)'],
  ])('refuses %s:%s with what to do', (name, array, message) => {
    expect(() => read(name, array)).toThrow(InputError);
    expect(() => read(name, array)).toThrow(message);
  });

  it('says which array of an archive is wrong', () => {
    const bad = joined(zipStored([{ name: 'W.npy', parts: [fixture('object.npy')] }]));
    expect(() => readNpz(bad, 'bad.npz', 'W', '--at W')).toThrow(
      "--at W (bad.npz:W) holds Python objects (dtype '|O')",
    );
  });
});

describe.concurrent('the CLI', () => {
  it('writes the value and the derivative of each command, as numpy.load names them', async () => {
    await inTemporaryFolder('npz-', async (file) => {
      const results = await Promise.all([
        runInProcess(polarJacobianArgs('npz', file('J.npz'))),
        runInProcess(hessianArgs('npz', file('H.npz'))),
        runInProcess(['grad', 'sum(x.^2)', '--at', 'x=1,2,3', '--format', 'npz', '-o', file('g.npz')]),
        runInProcess(['vjp', 'x.^2', '--at', 'x=1,2', '--v', '1,-1', '--format', 'npz', '-o', file('v.npz')]),
        runInProcess(['x*2', '--at', 'x=1', '--format', 'npz']),
      ]);
      for (const result of results.slice(0, 4)) expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(results[4]).toEqual({
        status: 2,
        stdout: '',
        stderr: 'error: --format npz writes a binary file: give -o FILE.npz\n',
      });
      const members = (name: string) =>
        listZip(readFileSync(file(name))).map((m) => [m.name, readNpy(m.content, m.name)]);
      const [r, t] = [2, 0.7];
      expect(members('J.npz')).toEqual([
        ['value.npy', { shape: [3], data: Float64Array.from([r * Math.cos(t), r * Math.sin(t), r]) }],
        [
          'jacobian.npy',
          {
            shape: [3, 2],
            data: Float64Array.from([Math.cos(t), -r * Math.sin(t), Math.sin(t), r * Math.cos(t), 1, 0]),
          },
        ],
      ]);
      expect(members('H.npz')).toEqual([
        ['value.npy', { shape: [], data: Float64Array.of(3) }],
        ['hessian.npy', { shape: [2, 2], data: Float64Array.from([6, 2, 2, 0]) }],
      ]);
      expect(members('g.npz')).toEqual([
        ['value.npy', { shape: [], data: Float64Array.of(14) }],
        ['grad.npy', { shape: [3], data: Float64Array.from([2, 4, 6]) }],
      ]);
      expect(members('v.npz')).toEqual([
        ['value.npy', { shape: [2], data: Float64Array.from([1, 4]) }],
        ['vjp.npy', { shape: [2], data: Float64Array.from([2, -4]) }],
      ]);
    });
  });

  it('reads --at NAME=@FILE.npz:ARRAY, and the only array of an archive without a name', async () => {
    const result = await runInProcess([
      'sum(W .* V)',
      '--at',
      'W=@fixtures/npy/arrays.npz:W',
      '--at',
      'V=@fixtures/npy/compressed.npz',
      '--wrt',
      'V',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as { value: number; jacobian: number[][] };
    expect(report.value).toBe(matrix(3, 4).reduce((sum, w) => sum + w * w, 0));
    expect(report.jacobian).toEqual([matrix(3, 4)]);
  });

  it("reads --v and --u from files as --at does: JSON, .npy, an archive's array, NAME=@FILE, in a batch too", async () => {
    await inTemporaryFolder('seeds-', async (file) => {
      writeFileSync(file('v.json'), '[0.5, -2, 4]');
      writeFileSync(file('v.npy'), npyFile([3], Float64Array.of(0.5, -2, 4)));
      writeFileSync(
        file('u.npz'),
        Buffer.concat(zipStored([{ name: 'u.npy', parts: [npyFile([2], Float64Array.of(3, -1))] }])),
      );
      writeFileSync(file('points.jsonl'), '{"x":[1,2,3]}\n{"x":[4,5,6]}\n');
      const vjp = (v: string) => runInProcess(['vjp', 'x.^2', '--at', 'x=1,2,3', '--v', v, '--json']);
      const inline = await vjp('0.5,-2,4');
      expect(inline.status).toBe(0);
      for (const v of [`@${file('v.json')}`, `@${file('v.npy')}`]) expect(await vjp(v)).toEqual(inline);
      const jvp = (u: string) =>
        runInProcess(['jvp', 'x.^2 + y', '--at', 'x=1,2', '--at', 'y=7', '--u', u, '--u', 'y=0.5', '--json']);
      expect(await jvp(`x=@${file('u.npz')}:u`)).toEqual(await jvp('x=3,-1'));
      const batch = (v: string) => runInProcess(['vjp', 'x.^2', '--v', v, '--batch', file('points.jsonl')]);
      expect(await batch(`@${file('v.json')}`)).toEqual(await batch('0.5,-2,4'));
      expect(await vjp(`@${file('none.json')}`)).toEqual({
        status: 2,
        stdout: '',
        stderr: `error: --v: cannot read ${file('none.json')}: no such file\n`,
      });
    });
  });
});
