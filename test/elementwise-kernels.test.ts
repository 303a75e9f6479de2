/**
 * The fast forms of element-wise kernels give the numbers of the plain ones to
 * the last bit: exp against Math.exp where it hands over to it, the generated loops against each
 * operation's `value`, and the max/min reductions and their ties (exact
 * comparisons first, mathjs's tolerance near the extreme) against contest and
 * nearlyEqual entry by entry.
 */
import { describe, expect, it } from 'vitest';
import {
  CHUNK_ENTRIES,
  elementwiseLoop,
  runElementwiseLoop,
  scanSpecialPoints,
  type OperandPattern,
} from '../src/engine/compiled.js';
import { OPS, OP_NAMES, type Operand } from '../src/ops/index.js';
import {
  contest,
  countNearlyEqual,
  exp,
  extremeEntry,
  nearlyEqual,
  nearlyEqualShares,
  powValue,
} from '../src/ops/elementwise.js';
import { prng } from './helpers/numeric.js';

const random = prng(20261201);
/** A double from every range: small, large, around 0.5·ln 2, integers, specials. */
function anyNumber(): number {
  const pick = Math.floor(random() * 8);
  const SPECIAL = [0, -0, 1, -1, Infinity, -Infinity, NaN, 0.5, 2, 5e-324, 708, -708, 709.78, -745.2, 2 ** -28];
  if (pick === 0) return SPECIAL[Math.floor(random() * SPECIAL.length)]!;
  if (pick === 1) return (random() - 0.5) * 1500;
  if (pick === 2) return (random() < 0.5 ? -1 : 1) * (0.34657359027997264 + (random() - 0.5) * 1e-8);
  if (pick === 3) return (random() - 0.5) * 2 ** (random() * 70 - 60);
  if (pick === 4) return Math.round((random() - 0.5) * 20);
  return (random() - 0.5) * 8;
}

describe('exp', () => {
  it('is Math.exp to the bit where its table does not reach (near overflow, subnormal results, non-finite x)', () => {
    const differ: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const x = anyNumber();
      if (!(Math.abs(x) < 708) && !Object.is(exp(x), Math.exp(x))) differ.push(x);
    }
    for (const x of [708, -708, 709.78, 710, -745, -746, Infinity, -Infinity, NaN])
      if (!Object.is(exp(x), Math.exp(x))) differ.push(x);
    expect(differ).toEqual([]);
  });

  it('is exactly 1 at ±0 and 1 ± x rounded for tiny x', () => {
    expect([exp(0), exp(-0), exp(2 ** -60), exp(-(2 ** -60))]).toEqual([1, 1, 1, 1]);
    expect([exp(2 ** -52), exp(-(2 ** -53))]).toEqual([1 + 2 ** -52, 1 - 2 ** -53]);
  });
});

describe('pow', () => {
  it('squares as Math.pow does, to the bit', () => {
    const differ: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      const x = i % 2 === 0 ? anyNumber() : (random() - 0.5) * 10 ** (random() * 640 - 320);
      if (!Object.is(powValue(x, 2), Math.pow(x, 2))) differ.push(x);
    }
    expect(differ).toEqual([]);
  });
});

describe('generated element-wise loops', () => {
  const PATTERNS: readonly OperandPattern[] = ['vv', 'vs', 'sv'];
  /** Runs the loop of `name` for one pattern over n entries, chunk by chunk; the entries that differ from its value. */
  /** Operands one after the other in a buffer (a scalar where the pattern says `s`), then the output. */
  function buffer(pattern: OperandPattern, n: number, entry: () => number) {
    const scalars = pattern === 'v' ? [false] : [...pattern].map((p) => p === 's');
    const args: Operand[] = [];
    let offset = 0;
    for (const scalar of scalars) {
      args.push(scalar ? { offset, size: 1, shape: [] } : { offset, size: n, shape: [n] });
      offset += scalar ? 1 : n;
    }
    const out: Operand = { offset, size: n, shape: [n] };
    return { v: Float64Array.from({ length: out.offset + 2 * n }, entry), out, args };
  }

  function loopDifferences(name: (typeof OP_NAMES)[number], pattern: OperandPattern, n: number): number[] {
    const spec = OPS[name];
    const { v, out, args } = buffer(pattern, n, anyNumber);
    const expected = v.slice();
    spec.value(expected, out, args, { kind: 'none' });
    const [aStep, bStep] = [args[0]!.size === n ? 1 : 0, args[1]?.size === n ? 1 : 0];
    const loop = elementwiseLoop(spec.scalar!, pattern);
    runElementwiseLoop(loop, v, out.offset, args[0]!.offset, aStep, args[1]?.offset ?? 0, bStep, n);
    return Array.from(v.keys()).filter((k) => !Object.is(v[k], expected[k]));
  }

  it("give each operation's value for every pattern of operands", () => {
    for (const name of OP_NAMES) {
      const spec = OPS[name];
      if (spec.scalar === undefined) continue;
      for (const pattern of spec.arity === 1 ? (['v'] as const) : PATTERNS)
        expect(loopDifferences(name, pattern, 40), `${name} ${pattern}`).toEqual([]);
    }
  });

  it("report the special points each operation's own scan reports, entry by entry, chunk by chunk", () => {
    for (const name of OP_NAMES) {
      const spec = OPS[name];
      if (spec.specialPoint === undefined) continue;
      let reported = 0;
      for (const pattern of spec.arity === 1 ? (['v'] as const) : PATTERNS) {
        // A chunk and part of another; zeros and ±1 among the entries.
        const n = CHUNK_ENTRIES + 7;
        const { v, out, args } = buffer(pattern, n, () =>
          random() < 0.2 ? Math.round(random() * 2 - 1) : anyNumber(),
        );
        spec.value(v, out, args, { kind: 'none' });
        const expected: [number, string][] = [];
        const found: [number, string][] = [];
        spec.special!(v, out, args, (k, point) => expected.push([k, point.convention]));
        scanSpecialPoints(spec.specialPoint, v, out, args, (k, point) => found.push([k, point.convention]));
        // Compared as text: thousands of points a pattern, which a deep comparison walks slowly.
        expect(JSON.stringify(found), `${name} ${pattern}`).toBe(JSON.stringify(expected));
        reported += expected.length;
      }
      expect(reported, name).toBeGreaterThan(0);
    }
  });

  it('run chunk by chunk: a vector operand moves on with the output, a scalar one stays', () => {
    // Two chunks, the second short.
    const n = CHUNK_ENTRIES + 7;
    expect(loopDifferences('exp', 'v', n)).toEqual([]);
    for (const pattern of PATTERNS) expect(loopDifferences('subtract', pattern, n), pattern).toEqual([]);
  });
});

describe('nearlyEqual', () => {
  it("is mathjs's comparison with its tolerances, its quick rejection of pairs far apart included", () => {
    // The rule as mathjs states it: NaN equals nothing, an infinity only itself, else within 1e-12 relative or 1e-15.
    const reference = (a: number, b: number): boolean => {
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
      return a === b || Math.abs(a - b) <= Math.max(1e-12 * Math.max(Math.abs(a), Math.abs(b)), 1e-15);
    };
    // The first pair where they differ, if any: one expect, not one a pair.
    let mismatch: string | null = null;
    for (let trial = 0; trial < 20000 && mismatch === null; trial++) {
      const a = anyNumber();
      // Two pairs in three near each other, at the edge of either tolerance.
      const near = [a * (1 + (random() - 0.5) * 4e-12), a + (random() - 0.5) * 4e-15, anyNumber()];
      const b = near[Math.floor(random() * near.length)]!;
      if (nearlyEqual(a, b) !== reference(a, b)) mismatch = `${a}, ${b}`;
    }
    expect(mismatch).toBeNull();
  });
});

describe('max/min reductions', () => {
  /** Entries with near ties: values on a coarse grid, nudged within and beyond mathjs's tolerance. */
  function entries(n: number): Float64Array {
    return Float64Array.from({ length: n }, () => {
      const base = Math.round(random() * 4) * (random() < 0.2 ? 1e-16 : 1);
      const nudge = random() < 0.5 ? 0 : (random() - 0.5) * (random() < 0.5 ? 1e-12 : 1e-10);
      return random() < 0.03 ? anyNumber() : base * (1 + nudge);
    });
  }

  it('find the extreme as contest does entry by entry, and count and share its ties as nearlyEqual', () => {
    // The first case that differs, if any: one expect, not four a case.
    let mismatch: string | null = null;
    for (let trial = 0; trial < 3000 && mismatch === null; trial++) {
      const v = entries(1 + Math.floor(random() * 12));
      for (const sign of [1, -1] as const) {
        let best = v[0]!;
        let nan = false;
        for (const x of v) {
          if (Number.isNaN(x)) nan = true;
          else if (contest(x, best, sign) === 1) best = x;
        }
        const extreme = extremeEntry(v, 0, v.length, sign);
        const target = trial % 2 === 0 ? extreme : anyNumber();
        const ties = Array.from(v, (x) => nearlyEqual(x, target));
        const count = ties.filter(Boolean).length;
        const shares = new Float64Array(2 * v.length);
        shares.set(v);
        nearlyEqualShares(shares, 0, v.length, v.length, target);
        const shared = ties.every((tie, k) => shares[v.length + k] === (tie ? 1 / count : 0));
        const why = !Object.is(extreme, nan ? NaN : best)
          ? 'extreme'
          : countNearlyEqual(v, 0, v.length, target) !== count
            ? 'count'
            : countNearlyEqual(v, 0, v.length, target, 2) !== Math.min(count, 2)
              ? 'count up to 2'
              : shared
                ? null
                : 'shares';
        if (why !== null) mismatch = `${why} of [${Array.from(v).join(', ')}], sign ${sign}, target ${target}`;
      }
    }
    expect(mismatch).toBeNull();
  });
});
