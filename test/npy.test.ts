/**
 * NumPy's .npy files in `--at NAME=@FILE.npy`: the fixtures of
 * scripts/oracle/npy.py (written by NumPy), headers built here, and the CLI.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npyFile, readNpy } from '../src/cli/npy.js';
import { InputError } from '../src/errors.js';
import { ROOT, runChildAsync, runInProcess } from './helpers/cli.js';
import { fixture, hessianArgs, inTemporaryFolder, matrix, polarJacobianArgs, vector } from './helpers/npy.js';

/** A version 1.0 file: the magic, the header padded to 64 bytes with its newline, then `data`. */
function withHeader(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const text = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const bytes = new Uint8Array(10 + text.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
  bytes.set(Buffer.from(text, 'latin1'), 10);
  bytes.set(data, 10 + text.length);
  return bytes;
}

const float64s = (...values: number[]): Uint8Array => new Uint8Array(Float64Array.from(values).buffer);

function refusal(bytes: Uint8Array): string {
  try {
    readNpy(bytes, '--at W (w.npy)');
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('read without a refusal');
}

describe('reading files NumPy wrote', () => {
  it.each([
    ['f8-le-c.npy', [3, 4], matrix(3, 4)],
    ['f8-be-fortran.npy', [3, 4], matrix(3, 4)],
    ['f4-be-fortran.npy', [3, 4], matrix(3, 4)],
    ['f4-le.npy', [5], vector(5)],
    ['v2.npy', [5], vector(5)],
    ['v3.npy', [5], vector(5)],
    ['i4-le.npy', [4], [-3, 0, 7, 2147483647]],
    ['i8-be.npy', [2, 2], [-(2 ** 40), 1, 2, 3]],
    ['u1.npy', [3], [0, 1, 255]],
    ['u2-be.npy', [2], [1, 65535]],
    ['i2-fortran.npy', [2, 3], [1, -2, 3, -4, 5, -6]],
    ['bool.npy', [3], [1, 0, 1]],
    ['scalar.npy', [], [2.5]],
    ['special.npy', [4], [NaN, Infinity, -Infinity, -0]],
  ])('%s', (name, shape, values) => {
    const tensor = readNpy(fixture(name), name);
    expect(tensor.shape).toEqual(shape);
    // toEqual tells -0 from 0 and takes NaN as equal to NaN.
    expect(Array.from(tensor.data)).toEqual(values);
  });

  it.each([
    ['object.npy', "holds Python objects (dtype '|O')"],
    ['complex.npy', "holds complex numbers (dtype '<c16')"],
    ['strings.npy', "holds strings (dtype '<U2')"],
    ['three-d.npy', 'holds a 3-dimensional array (shape (2, 2, 2)): give a scalar, vector or matrix'],
    ['truncated.npy', 'is cut short: its shape (3, 4) needs 96 bytes of data, it has 40'],
  ])('refuses %s', (name, problem) => {
    expect(refusal(fixture(name))).toBe(
      `--at W (w.npy) ${problem}` +
        (problem.startsWith('holds') && !problem.includes('dimensional')
          ? ': save it as numbers, as np.save(path, a.astype(np.float64))'
          : ''),
    );
  });
});

describe('headers', () => {
  it('reads the keys in any order, double quotes and Python 2 long integers', () => {
    const bytes = withHeader(`{"shape": (2L, 1L), 'fortran_order': True, 'descr': '<f8'}`, float64s(4, 5));
    expect(readNpy(bytes, 'w.npy')).toEqual({ shape: [2, 1], data: Float64Array.from([4, 5]) });
  });

  it('reads a header the helper pads as numpy.save does', () => {
    const bytes = withHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }`, float64s(1, 2));
    expect((bytes.length - 16) % 64).toBe(0);
    expect(Array.from(readNpy(bytes, 'w.npy').data)).toEqual([1, 2]);
  });

  it.each([
    ["{'descr': '<f8', 'fortran_order': False, 'shape': __import__('os')}", 'unexpected text "__import__(\'os\')}"'],
    ["{'descr': '<f8', 'fortran_order': False}", "its 'shape' is not a tuple"],
    ["{'descr': '<f8', 'fortran_order': 0, 'shape': ()}", 'unexpected "0"'],
    ["{'descr': '<f8', 'fortran_order': False, 'shape': (), 'extra': 1}", 'unexpected "1"'],
    ["{'descr': '<f8', 'fortran_order': False, 'shape': (), 'extra': 'x'}", "it has the key 'extra'"],
    ["{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': ()}", "the key 'descr' is given twice"],
    ["{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", 'unexpected text "-1,)}"'],
    ["{'descr': '<f8', 'fortran_order': False, 'shape': ()} x", 'it goes on after its closing brace'],
    ["{'descr': '<f8', 'fortran_order': False, 'shape': (1,", 'it ends too soon'],
  ])('refuses %s', (header, why) => {
    expect(refusal(withHeader(header, float64s(1)))).toBe(
      `--at W (w.npy) has a header that is not NumPy's (${why}): write it with np.save`,
    );
  });

  it.each([
    ["[('a', '<f8'), ('b', '<i4')]", 'holds a structured array (named fields)'],
    ["'<f2'", "has the dtype '<f2', which this does not read"],
    ["'<M8[D]'", 'has the dtype "<M8[D]", which is not a number type'],
  ])('refuses the dtype %s', (descr, problem) => {
    const header = `{'descr': ${descr}, 'fortran_order': False, 'shape': (1,), }`;
    expect(refusal(withHeader(header, float64s(1)))).toBe(
      `--at W (w.npy) ${problem}: save it as numbers, as np.save(path, a.astype(np.float64))`,
    );
  });

  it('refuses empty arrays, bytes after the data, other files and zip archives', () => {
    const empty = withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }");
    expect(refusal(empty)).toContain('holds an empty array (shape (0, 3))');
    const extra = withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", float64s(1, 2));
    expect(refusal(extra)).toContain('has 8 bytes after its data');
    expect(refusal(Buffer.from('[1, 2, 3]'))).toContain('is not a NumPy .npy file');
    expect(refusal(Buffer.from('PK\x03\x04rest'))).toContain('is a zip archive (.npz?)');
    const version = fixture('f4-le.npy').slice();
    version[6] = 4;
    expect(refusal(version)).toContain('has .npy format version 4.0: this reads versions 1 to 3');
    expect(refusal(fixture('f4-le.npy').subarray(0, 40))).toContain('is cut short inside its header');
  });
});

describe.concurrent('the CLI', () => {
  it('takes a matrix and a vector from .npy files', async () => {
    const result = await runInProcess([
      'W * x',
      '--at',
      'W=@fixtures/npy/f8-be-fortran.npy',
      '--at',
      'x=@fixtures/npy/i4-le.npy',
      '--format',
      'json',
    ]);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as { at: { W: number[][]; x: number[] } };
    expect(report.at.W.flat()).toEqual(matrix(3, 4));
    expect(report.at.x).toEqual([-3, 0, 7, 2147483647]);
  });

  it('refuses in one error line, a file larger than --max-input and a missing file too', async () => {
    const [object, large, missing] = await Promise.all([
      runInProcess(['sum(W)', '--at', 'W=@fixtures/npy/object.npy']),
      runInProcess(['sum(W)', '--at', 'W=@fixtures/npy/f8-le-c.npy', '--max-input', '100']),
      runInProcess(['sum(W)', '--at', 'W=@fixtures/npy/none.npy']),
    ]);
    for (const result of [object, large, missing]) {
      expect(result.status).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^error: [^\n]+\n$/);
    }
    expect(object.stderr).toContain('(fixtures/npy/object.npy) holds Python objects');
    expect(large.stderr).toContain('--max-input');
    expect(missing.stderr).toBe('error: --at W: cannot read fixtures/npy/none.npy: no such file\n');
  });
});

describe('writing', () => {
  it('writes the bytes numpy.save writes for the same float64 array', () => {
    const ours = npyFile([3, 4], Float64Array.from(matrix(3, 4)));
    expect(Buffer.from(ours).equals(fixture('f8-le-c.npy'))).toBe(true);
  });

  it.each([[[]], [[1]], [[7]], [[2, 3]], [[1, 200]]])('reads back shape %j', (shape) => {
    const count = shape.reduce((product, n) => product * n, 1);
    const data = Float64Array.from({ length: count }, (_, k) => (k % 3 === 0 ? -0 : k / 7));
    data[count - 1] = count > 1 ? NaN : Infinity;
    expect(readNpy(npyFile(shape, data), 'ours')).toEqual({ shape, data });
  });
});

describe.concurrent('the CLI writes', () => {
  it('J, H and a gradient with -o, and any format with -o', async () => {
    await inTemporaryFolder('npy-', async (file, folder) => {
      const results = await Promise.all([
        // One child: the installed command writes the binary file too.
        runChildAsync(polarJacobianArgs('npy', file('J.npy'))),
        runInProcess(hessianArgs('npy', file('H.npy'))),
        runInProcess(['grad', 'sum(x.^2)', '--at', 'x=1,2,3', '--format', 'npy', '--output', file('g.npy')]),
        runInProcess(['x.^2', '--at', 'x=1,2', '--sparse', '--format', 'npy', '-o', file('S.npy')]),
        runInProcess(['x*2', '--at', 'x=1,2', '--format', 'csv', '-o', file('J.csv')]),
      ]);
      for (const result of results) expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
      const read = (name: string) => readNpy(readFileSync(file(name)), name);
      const [r, t] = [2, 0.7];
      expect(read('J.npy')).toEqual({
        shape: [3, 2],
        data: Float64Array.from([Math.cos(t), -r * Math.sin(t), Math.sin(t), r * Math.cos(t), 1, 0]),
      });
      expect(read('H.npy')).toEqual({ shape: [2, 2], data: Float64Array.from([6, 2, 2, 0]) });
      expect(read('g.npy')).toEqual({ shape: [3], data: Float64Array.from([2, 4, 6]) });
      expect(read('S.npy')).toEqual({ shape: [2, 2], data: Float64Array.from([2, 0, 0, 4]) });
      expect(readFileSync(file('J.csv'), 'utf8')).toBe('output,x[1],x[2]\nf[1],2,0\nf[2],0,2\n');
      expect(readdirSync(folder).sort()).toEqual(['H.npy', 'J.csv', 'J.npy', 'S.npy', 'g.npy']);
    });
  });

  it('refuses npy without -o, -o with a batch, and check as npy', async () => {
    const results = await Promise.all([
      runInProcess(['x*2', '--at', 'x=1', '--format', 'npy']),
      runInProcess(['x*2', '--batch', '-', '-o', 'never.json'], { stdin: '{"at":{"x":1}}\n' }),
      runInProcess(['check', 'x*2', '--at', 'x=1', '--format', 'npy', '-o', 'never.npy']),
    ]);
    expect(results.map((result) => [result.status, result.stdout, result.stderr])).toEqual([
      [2, '', 'error: --format npy writes a binary file: give -o FILE.npy\n'],
      [2, '', 'error: -o writes one result: a batch writes its lines to standard output\n'],
      [2, '', 'error: check reports errors, not a matrix: use the table or --json\n'],
    ]);
    expect(existsSync(join(ROOT, 'never.json')) || existsSync(join(ROOT, 'never.npy'))).toBe(false);
  });

  it('refuses a sparse J or H whose dense layout passes --max-memory, before laying it out', async () => {
    // 1000 stored entries of a 1000×1000 J (7.63 MiB dense) under a 1 MB limit: an error, not an allocation.
    const x = `x=${Array.from({ length: 1000 }, (_, k) => k / 7).join(',')}`;
    const results = await Promise.all(
      ['npy', 'npz'].map((format) =>
        runInProcess([
          'x.^2',
          '--at',
          x,
          '--sparse',
          '--max-memory',
          '1MB',
          '--format',
          format,
          '-o',
          `never.${format}`,
        ]),
      ),
    );
    const message =
      'error: the sparse 1000×1000 Jacobian laid out dense, as .npy holds it, needs 7.63 MiB, more than the limit of ' +
      '977 KiB (raise it with --max-memory, or use --json or --format mtx, which write its 1000 stored entries alone)\n';
    expect(results.map((result) => [result.status, result.stdout, result.stderr])).toEqual([
      [2, '', message],
      [2, '', message],
    ]);
    expect(existsSync(join(ROOT, 'never.npy')) || existsSync(join(ROOT, 'never.npz'))).toBe(false);
  });
});
