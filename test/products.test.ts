/**
 * The matrix-product kernel (src/ops/product-kernel.ts) against the plain i-k-j loop, entry for entry
 * and bit for bit (signed zeros, infinities and NaN included), over every layout the partials use;
 * matmul's value against the plain loop that adds every term; the steps passes skip; hvp's value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { neededSteps } from '../src/engine/varying.js';
import { OPS, type Operand } from '../src/ops/index.js';
import { addProduct, denseProduct, transposed, type MatrixLayout } from '../src/ops/product-kernel.js';
import { prng, sameBits } from './helpers/numeric.js';
import { plainResult, storedMatrix } from './helpers/products.js';

const OPTIONS = { seed: 0x9e0d_0c75, numRuns: 120 };

/** Entries a product meets: exact zeros of both signs and non-finite numbers among ordinary ones. */
const entry = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  { weight: 3, arbitrary: fc.constantFrom(0, -0) },
  { weight: 1, arbitrary: fc.constantFrom(Infinity, -Infinity, NaN, 1e308, -1e-320) },
);

const SPECIAL = [Infinity, -Infinity, NaN, 1e308, -1e-320] as const;
/**
 * `count` of `entry`'s kind (the same weights), from a seeded generator: fast-check drawing the tens of
 * thousands of entries of a large product one by one took seconds. With `zeros`, half again are 0 (as D's).
 */
function seededEntries(count: number, seed: number, zeros = false): number[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => {
    if (zeros && random() < 0.5) return 0;
    const u = random() * 10;
    if (u < 6) return 8 * random() - 4;
    if (u < 9) return u < 7.5 ? 0 : -0;
    return SPECIAL[Math.floor(random() * SPECIAL.length)]!;
  });
}

/** `count` entries: drawn by fast-check (shrinking to the entry that fails) up to a thousand, seeded past that. */
const entries = (count: number, zeros = false): fc.Arbitrary<number[]> =>
  count > 1000
    ? fc.integer().map((seed) => seededEntries(count, seed, zeros))
    : fc.array(zeros ? fc.oneof(entry, fc.constant(0)) : entry, { minLength: count, maxLength: count });

const shapes = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 9 })),
  // Several blocks of B's rows, and one-column products.
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 200, max: 300 }), fc.integer({ min: 60, max: 90 })),
  fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.constant(1)),
);

describe('the product kernel', () => {
  it('gives the plain loop’s numbers in every layout, to the last bit', () => {
    const cases = shapes.chain(([R, K, C]) =>
      fc.record({
        shape: fc.constant([R, K, C] as const),
        a: entries(R * K),
        b: entries(K * C),
        d: entries(R * C, true),
        // Rows of B without zeros, or contiguous runs (triangles, bands), take the kernel's fast paths.
        pattern: fc.constantFrom('as drawn', 'band', 'no zeros'),
        aNonzero: fc.boolean(),
        byColumns: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
      }),
    );
    fc.assert(
      fc.property(cases, ({ shape: [R, K, C], a, b, d, pattern, aNonzero, byColumns: [aT, bT, dT] }) => {
        const nonzero = (x: number): number => (x === 0 ? 1 : x);
        const bValues =
          pattern === 'band'
            ? b.map((x, e) => (e % C < Math.floor(e / C) % C ? 0 : nonzero(x)))
            : pattern === 'no zeros'
              ? b.map(nonzero)
              : b;
        const aValues = aNonzero ? a.map(nonzero) : a;
        const A = storedMatrix(R, K, aT, 3, (i, k) => aValues[i * K + k]!, R * K + 5);
        const B = storedMatrix(K, C, bT, 1, (k, j) => bValues[k * C + j]!, K * C + 2);
        const D = storedMatrix(R, C, dT, 2, (i, j) => d[i * C + j]!, R * C + 4);
        const expected = plainResult(A, B, D, [R, K, C]);
        addProduct(A.buffer, A.layout, B.buffer, B.layout, D.buffer, D.layout, R, K, C);
        expect(sameBits(D.buffer, expected)).toBe(true);
      }),
      OPTIONS,
    );
  });

  it('reads a transposed layout as the transposed matrix', () => {
    const m: MatrixLayout = { offset: 4, rowStride: 3, colStride: 1 };
    expect(transposed(m)).toEqual({ offset: 4, rowStride: 1, colStride: 3 });
  });
});

describe('matmul’s value', () => {
  it('is the sum of every term from −0 in ascending k, 0·∞ = NaN and signed zeros included', () => {
    const cases = fc
      .tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }))
      .chain(([r, p, c]) =>
        fc.record({
          shape: fc.constant([r, p, c] as const),
          a: fc.array(entry, { minLength: r * p, maxLength: r * p }),
          b: fc.array(entry, { minLength: p * c, maxLength: p * c }),
          finite: fc.boolean(),
        }),
      );
    fc.assert(
      fc.property(cases, ({ shape: [r, p, c], a, b, finite }) => {
        const keep = (x: number): number => (finite && !Number.isFinite(x) ? -0 : x);
        const v = Float64Array.from([...a.map(keep), ...b.map(keep), ...new Array<number>(r * c).fill(5)]);
        const A: Operand = { offset: 0, size: r * p, shape: [r, p] };
        const B: Operand = { offset: r * p, size: p * c, shape: [p, c] };
        const out: Operand = { offset: r * p + p * c, size: r * c, shape: [r, c] };
        const expected = new Float64Array(r * c);
        for (let i = 0; i < r; i++) {
          for (let j = 0; j < c; j++) {
            let sum = -0;
            for (let k = 0; k < p; k++) sum += v[i * p + k]! * v[r * p + k * c + j]!;
            expected[i * c + j] = sum;
          }
        }
        OPS.matmul.value(v, out, [A, B], { kind: 'none' });
        expect(sameBits(v.subarray(out.offset), expected)).toBe(true);
      }),
      OPTIONS,
    );
  });
});

describe('the dense product kernel', () => {
  it('gives the plain loop’s numbers (every term from −0, in ascending k) past its 4×2 blocks, to the last bit', () => {
    const dense = fc.double({ min: -4, max: 4, noNaN: true }).filter((x) => x !== 0);
    const cases = fc
      .tuple(fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 7 }))
      .chain(([r, p, c]) =>
        fc.record({
          shape: fc.constant([r, p, c] as const),
          a: fc.array(fc.oneof(dense, entry), { minLength: r * p, maxLength: r * p }),
          b: fc.array(fc.oneof(dense, entry), { minLength: p * c, maxLength: p * c }),
        }),
      );
    fc.assert(
      fc.property(cases, ({ shape: [r, p, c], a, b }) => {
        // A, B and D in one buffer at odd offsets, as the value buffer holds them.
        const v = Float64Array.from([3, ...a, 3, ...b, 3, ...new Array<number>(r * c).fill(5), 3]);
        const [aAt, bAt, dAt] = [1, 2 + r * p, 3 + r * p + p * c];
        const expected = new Float64Array(r * c);
        for (let i = 0; i < r; i++) {
          for (let j = 0; j < c; j++) {
            let sum = -0;
            for (let k = 0; k < p; k++) sum += v[aAt + i * p + k]! * v[bAt + k * c + j]!;
            expected[i * c + j] = sum;
          }
        }
        denseProduct(v, aAt, v, bAt, v, dAt, r, p, c);
        expect(sameBits(v.subarray(dAt, dAt + r * c), expected)).toBe(true);
        expect([v[0], v[aAt + r * p], v[bAt + p * c], v[dAt + r * c]]).toEqual([3, 3, 3, 3]);
      }),
      OPTIONS,
    );
  });
});

describe('the steps a pass needs', () => {
  it('leaves out the steps whose (co)tangent reaches neither the output nor the inputs', () => {
    // 0 → 1 → 3 (output); 1 → 2, a dead end; 4 → 3, from a node no input moves.
    const edges = [
      { node: 1, arg: 0 },
      { node: 2, arg: 1 },
      { node: 3, arg: 1 },
      { node: 3, arg: 4 },
    ];
    expect(neededSteps(edges, [0], 3, 5)).toEqual({ forward: [0, 2, 3], reverse: [0, 1, 2] });
  });

  it('keeps hvp = H·u where min’s tie weights would take the tangent of a whole matrix; hvpFlat gives ∇f too', () => {
    const model = compile("sum(min(P * C', 2)) + sum(C.^2)", { P: [5, 2], C: [3, 2] });
    const at = {
      P: [
        [0.1, 0.7],
        [0.4, -0.2],
        [0.9, 0.3],
        [-0.5, 0.8],
        [0.2, 0.2],
      ],
      C: [
        [0.3, 0.1],
        [-0.6, 0.4],
        [0.5, -0.9],
      ],
    };
    const u = [1, -2, 0.5, 3, -1, 2];
    const hessian = model.hessian(at, { wrt: ['C'] }).hessian;
    const hvp = model.hvp(at, u, { wrt: ['C'] });
    expect(hvp.hvp).toEqual(hessian.map((row) => row.reduce((s, h, j) => s + h * u[j]!, 0)));
    expect(hvp.value).toEqual(model.evaluate(at));
    const flat = { P: Float64Array.from(at.P.flat()), C: Float64Array.from(at.C.flat()) };
    const both = model.hvpFlat(flat, u, { wrt: ['C'] });
    expect(Array.from(both.hvp)).toEqual(hvp.hvp);
    const grad = model.gradFlat(flat, { wrt: ['C'] }).grad;
    both.gradient.forEach((g, k) => expect(g).toBeCloseTo(grad[k]!, 12));
  });
});
