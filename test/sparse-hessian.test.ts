/**
 * Sparse Hessians: a star colouring of the symmetric pattern, one
 * Hessian-vector product per colour, each entry read directly; equal to the
 * dense Hessian, with as many colours as the widest row on banded patterns,
 * and the lower bound reported beside the colours.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sparseHessian } from '../src/api.js';
import { main } from '../src/cli/main.js';
import { starColour, type Pattern, type SparseJacobian } from '../src/engine/sparsity.js';
import { fakeIo } from './helpers/cli.js';
import { starFault } from './helpers/colouring.js';
import { compileAt } from './helpers/compile.js';
import { expressions, points, VARIABLES } from './helpers/expressions.js';
import { firstMismatch } from './helpers/numeric.js';

function densify(H: SparseJacobian): Float64Array {
  const dense = new Float64Array(H.m * H.n);
  for (let k = 0; k < H.values.length; k++) dense[H.rows[k]! * H.n + H.cols[k]!] = H.values[k]!;
  return dense;
}

const ROSENBROCK = 'sum(100*(x[2:end]-x[1:end-1].^2).^2+(1-x[1:end-1]).^2)';
const vector = (n: number) => ({ x: Array.from({ length: n }, (_, i) => 0.5 + Math.sin(i + 1)) });

/** A random symmetric pattern of n columns with a full diagonal. */
const symmetricPatterns = (most: number) =>
  fc.integer({ min: 1, max: most }).chain((n) =>
    fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }).map((pairs): Pattern => {
      const rows = Array.from({ length: n }, (_, i) => new Set([i]));
      for (const [i, j] of pairs) {
        rows[i]!.add(j);
        rows[j]!.add(i);
      }
      const rowStart = new Int32Array(n + 1);
      const colIndex: number[] = [];
      rows.forEach((row, i) => {
        colIndex.push(...[...row].sort((a, b) => a - b));
        rowStart[i + 1] = colIndex.length;
      });
      return { m: n, n, rowStart, colIndex: Int32Array.from(colIndex) };
    }),
  );

describe('sparse Hessians', () => {
  it('the Rosenbrock function: equal to the dense Hessian at n = 100, 3 colours at any n, lower bound 3', () => {
    for (const n of [10, 100, 2000]) {
      const { program, point } = compileAt(ROSENBROCK, vector(n));
      const result = program.sparseHessian(point, ['x']);
      expect(result.colours).toBe(3);
      expect(result.lowerBound).toBe(3);
      expect(result.mode).toBe('forward');
      // Tridiagonal: n diagonal and 2(n − 1) off-diagonal entries.
      expect(result.jacobian.values.length).toBe(3 * n - 2);
      const { rows, cols } = result.jacobian;
      const ordered = Array.from(rows, (i, k) => i * n + cols[k]!);
      expect(ordered).toEqual([...ordered].sort((a, b) => a - b));
      expect(result.value[0]).toBe(program.evaluate(point)[0]);
      if (n === 100) {
        const dense = program.hessian(point, ['x']).jacobian;
        expect(firstMismatch(densify(result.jacobian), dense, 1e-12, 1e-15)).toBeNull();
      }
    }
  });

  it('tell their coordinates, the arrays the result holds, before the first pass', () => {
    const { program, point } = compileAt(ROSENBROCK, vector(50));
    const told: string[] = [];
    let coordinates: readonly Int32Array[] = [];
    const result = program.sparseHessian(point, ['x'], {
      onCoordinates: (rows, cols) => {
        told.push('coordinates');
        coordinates = [rows, cols];
      },
      onProgress: (done) => told.push(`pass ${done}`),
    });
    expect(told.slice(0, 2)).toEqual(['coordinates', 'pass 0']);
    expect(coordinates[0]).toBe(result.jacobian.rows);
    expect(coordinates[1]).toBe(result.jacobian.cols);
  });

  it('an element-wise sum takes 1 colour', () => {
    const { program, point } = compileAt('sum(x.^4)', vector(50));
    const result = program.sparseHessian(point, ['x']);
    expect([result.colours, result.lowerBound, result.jacobian.values.length]).toEqual([1, 1, 50]);
    expect(firstMismatch(densify(result.jacobian), program.hessian(point, ['x']).jacobian, 1e-12)).toBeNull();
  });

  it('random scalar expressions: the sparse Hessian equals the dense one', () => {
    fc.assert(
      fc.property(
        expressions({ smooth: true, mathjs: false }, 3, ['s']),
        points,
        fc.shuffledSubarray(Object.keys(VARIABLES), { minLength: 1 }),
        (e, at, wrt) => {
          const { program, point } = compileAt(e.text, at);
          const dense = program.hessian(point, wrt).jacobian;
          const sparse = program.sparseHessian(point, wrt);
          expect(sparse.colours).toBeGreaterThanOrEqual(sparse.lowerBound);
          expect(firstMismatch(densify(sparse.jacobian), dense, 1e-12, 1e-15), e.text).toBeNull();
        },
      ),
      { seed: 0x5e55, numRuns: 200 },
    );
  });

  it('star colouring: no two adjacent columns and no path of four share two colours', () => {
    fc.assert(
      fc.property(symmetricPatterns(12), (p) => {
        const colouring = starColour(p);
        expect(starFault(p, colouring.colourOf)).toBeNull();
        expect(colouring.colours).toBeGreaterThanOrEqual(colouring.lowerBound);
      }),
      { seed: 0x57a2, numRuns: 300 },
    );
  });

  it('the star lower bound is at most the fewest colours of any star colouring (all colourings of ≤ 5 columns)', () => {
    const fewest = (p: Pattern): number => {
      for (let k = 1; ; k++) {
        const colourOf = new Int32Array(p.n);
        for (let code = 0; code < k ** p.n; code++) {
          for (let v = 0, rest = code; v < p.n; v++, rest = Math.floor(rest / k)) colourOf[v] = rest % k;
          if (starFault(p, colourOf) === null) return k;
        }
      }
    };
    fc.assert(
      fc.property(symmetricPatterns(5), (p) => {
        const colouring = starColour(p);
        expect(colouring.lowerBound).toBeLessThanOrEqual(fewest(p));
      }),
      { seed: 0x10b0, numRuns: 150 },
    );
  });

  it('the library: sparseHessian, as the README shows it', () => {
    expect(sparseHessian('sum(x.^4)', { x: [1, 2, 3] })).toEqual({
      value: 98,
      warnings: [],
      m: 3,
      n: 3,
      rows: [0, 1, 2],
      cols: [0, 1, 2],
      values: [12, 48, 108],
      colours: 1,
      method: 'colored',
      passes: 1,
      lowerBound: 1,
      ordering: 'natural',
      mode: 'forward',
    });
  });

  describe('the CLI', () => {
    const run = async (...args: string[]) => {
      const io = fakeIo();
      const status = await main(['hessian', '--sparse', ROSENBROCK, '--at', 'x=1:4', ...args], io);
      return { status, out: io.out(), err: io.err() };
    };
    // The Rosenbrock Hessian at 1, 2, 3, 4, from the dense one.
    const { program, point } = compileAt(ROSENBROCK, { x: [1, 2, 3, 4] });
    const dense = Array.from(program.hessian(point, ['x']).jacobian);
    const entries = dense.flatMap((h, k) => (h !== 0 || Math.abs((k % 4) - Math.floor(k / 4)) <= 1 ? [k] : []));

    it('--json: H in coordinate form with its colours and lower bound', async () => {
      const { status, out } = await run('--json');
      expect(status).toBe(0);
      const report = JSON.parse(out);
      expect(report).toMatchObject({ command: 'hessian', format: 'coo', colours: 3, lowerBound: 3, nonzeros: 10 });
      expect(report.rows.map((i: number, k: number) => i * 4 + report.cols[k])).toEqual(entries);
      expect(report.values).toEqual(entries.map((k) => dense[k]));
    });

    it('--format mtx: 1-based coordinates', async () => {
      const lines = (await run('--format', 'mtx')).out.trim().split('\n');
      expect(lines[0]).toBe('%%MatrixMarket matrix coordinate real general');
      // H's rows and columns are both the inputs.
      expect(lines[2]).toBe('% rows and columns: inputs (x flattened row-major)');
      expect(lines[3]).toBe('4 4 10');
      expect(lines.slice(4)).toEqual(entries.map((k) => `${Math.floor(k / 4) + 1} ${(k % 4) + 1} ${dense[k]}`));
    });

    it('the table and CSV lay H out as a grid; --stats gives nonzeros, colours and the lower bound', async () => {
      const table = await run('--stats');
      expect(table.out).toContain('4×4, 10 stored entries, 3 colours (forward, lower bound 3)');
      expect(table.out).toMatch(/x\[4\] +0 +0 +-1200 +200/);
      expect(JSON.parse(table.err)).toMatchObject({ command: 'hessian', nonzeros: 10, colours: 3, lowerBound: 3 });
      const csv = (await run('--format', 'csv')).out.trim().split('\n');
      expect(csv.slice(1).map((line) => line.split(',').slice(1).map(Number))).toEqual(
        [0, 1, 2, 3].map((i) => dense.slice(4 * i, 4 * i + 4)),
      );
    });

    it('a vector output is refused as for the dense Hessian', async () => {
      const io = fakeIo();
      expect(await main(['hessian', '--sparse', 'x.^2', '--at', 'x=1:3'], io)).toBe(2);
      expect(io.err()).toMatch(/^error: hessian needs a scalar output/);
    });
  });
});
