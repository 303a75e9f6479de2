/**
 * Index maps moved as runs (ops/structural.ts, engine/linear/select.ts): the
 * value and pass kernels over runs and copies give, bit for bit, what the
 * entry-by-entry sums give; shared and composed maps (graph/index-maps.ts,
 * the lowerer) keep the values and derivatives of the natural form.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LINEAR } from '../src/engine/linear/index.js';
import type { SelectStep } from '../src/engine/linear/types.js';
import { composeMaps, identityMap, iota, transposeMap } from '../src/graph/index-maps.js';
import { printTape } from '../src/graph/index.js';
import { compile } from '../src/index.js';
import { OPS, runsOf, type IndexMap, type Operand, type Param } from '../src/ops/index.js';
import { lowerExpression, parseExpression } from '../src/parse/index.js';

const OPTIONS = { seed: 0x0de, numRuns: 60 };

/** Runs of at least 8 entries, so that kernels take their run loops; targets and sources may overlap. */
const runMap = (outSize: number, inSize: number): fc.Arbitrary<IndexMap> =>
  fc
    .array(
      fc
        .integer({ min: 8, max: 20 })
        .chain((length) => fc.tuple(fc.nat(outSize - length), fc.nat(inSize - length), fc.constant(length))),
      { minLength: 1, maxLength: 4 },
    )
    .map((runs) => ({
      to: Int32Array.from(runs.flatMap(([to, , length]) => [...iota(length, to)])),
      from: Int32Array.from(runs.flatMap(([, from, length]) => [...iota(length, from)])),
    }));

/** Ordinary numbers with the ones a sum or a copy could get wrong: signed zeros, infinities, NaN. */
const entry = fc.oneof(fc.constantFrom(0, -0, Infinity, -Infinity, NaN), fc.double({ min: -3, max: 3, noNaN: true }));
const buffer = (size: number) => fc.array(entry, { minLength: size, maxLength: size }).map((e) => Float64Array.from(e));

const OUT = 40;
const IN = 30;
/** A long map without runs, leaving a gap. */
const transposed = transposeMap(5, 6);

/** out[to[j]] += in[from[j]] entry by entry, each map in turn, from -0: the definition. */
function reference(v: Float64Array, out: Operand, args: readonly Operand[], maps: readonly IndexMap[]): void {
  v.fill(-0, out.offset, out.offset + out.size);
  maps.forEach(({ to, from }, i) => {
    for (let j = 0; j < to.length; j++) v[out.offset + to[j]!]! += v[args[i]!.offset + from[j]!]!;
  });
}

const sameBits = (a: Float64Array, b: Float64Array) =>
  expect(Array.from(a).map(String)).toEqual(Array.from(b).map(String));
const signs = (a: Float64Array) => Array.from(a, (x) => Object.is(x, -0));

describe('runs of an index map', () => {
  it('a long identity is one run; a transposition has none worth a loop', () => {
    expect(Array.from(runsOf(identityMap(100, 7))!)).toEqual([7, 0, 100]);
    expect(Array.from(runsOf({ to: iota(40), from: Int32Array.from([...iota(20, 5), ...iota(20, 50)]) })!)).toEqual([
      0, 5, 20, 20, 50, 20,
    ]);
    expect(runsOf(transposeMap(10, 10))).toBeNull();
  });

  it('runs are the maximal consecutive stretches, an adjoint map has them swapped; too many give none', () => {
    /** The runs entry by entry, and whether they average 8 entries or more. */
    const plainRuns = ({ to, from }: IndexMap): number[] | null => {
      const runs: number[] = [];
      for (let j = 0; j < to.length; j++) {
        if (j > 0 && to[j] === to[j - 1]! + 1 && from[j] === from[j - 1]! + 1) runs[runs.length - 1]!++;
        else runs.push(to[j]!, from[j]!, 1);
      }
      return (runs.length / 3) * 8 > to.length ? null : runs;
    };
    const stretch = fc.tuple(fc.nat(50), fc.nat(50), fc.integer({ min: 1, max: 12 }));
    const maps = fc.array(stretch, { maxLength: 6 }).map((stretches) => ({
      to: Int32Array.from(stretches.flatMap(([to, , length]) => [...iota(length, to)])),
      from: Int32Array.from(stretches.flatMap(([, from, length]) => [...iota(length, from)])),
    }));
    fc.assert(
      fc.property(maps, fc.boolean(), (map, adjointFirst) => {
        const adjoint = { to: map.from, from: map.to };
        // Either may be asked first: the other's runs then come from it.
        const [first, second] = adjointFirst ? [adjoint, map] : [map, adjoint];
        for (const m of [first, second, { to: first.to, from: first.from }]) {
          const runs = runsOf(m);
          expect(runs === null ? null : Array.from(runs)).toEqual(plainRuns(m));
        }
      }),
      { seed: 0x0de, numRuns: 300 },
    );
  });

  it('select and concat values over runs are the entry-by-entry sums, bit for bit', () => {
    const maps = fc.tuple(runMap(OUT, IN), runMap(OUT, IN));
    fc.assert(
      fc.property(maps, buffer(2 * IN), ([first, second], inputs) => {
        const args: Operand[] = [
          { offset: 0, size: IN, shape: [IN] },
          { offset: IN, size: IN, shape: [IN] },
        ];
        const out: Operand = { offset: 2 * IN, size: OUT, shape: [OUT] };
        const cases: [keyof typeof OPS, Param, IndexMap[]][] = [
          ['select', { kind: 'select', shape: [OUT], map: first }, [first]],
          ['concat', { kind: 'concat', shape: [OUT], maps: [first, second] }, [first, second]],
          ['select', { kind: 'select', shape: [OUT], map: transposed }, [transposed]],
        ];
        for (const [op, param, used] of cases) {
          const expected = new Float64Array(2 * IN + OUT);
          expected.set(inputs);
          reference(expected, out, args, used);
          const actual = new Float64Array(2 * IN + OUT).fill(5);
          actual.set(inputs);
          OPS[op].value(actual, out, args, param);
          sameBits(actual, expected);
          expect(signs(actual)).toEqual(signs(expected));
        }
      }),
      OPTIONS,
    );
  });

  it('select passes over runs add what the entry-by-entry passes add, in the same order', () => {
    fc.assert(
      fc.property(runMap(OUT, IN), buffer(IN + OUT), (map, start) => {
        const step: SelectStep = {
          kind: 'select',
          arg: { offset: 0, size: IN, shape: [IN] },
          out: { offset: IN, size: OUT, shape: [OUT] },
          map,
        };
        const pulled = Float64Array.from(start);
        LINEAR.select.pullback(step, new Float64Array(0), pulled, new Float64Array(0));
        const pushed = Float64Array.from(start);
        LINEAR.select.pushforward(step, new Float64Array(0), pushed, new Float64Array(0));
        const [pullRef, pushRef] = [Float64Array.from(start), Float64Array.from(start)];
        for (let j = 0; j < map.to.length; j++) {
          pullRef[map.from[j]!]! += pullRef[IN + map.to[j]!]!;
          pushRef[IN + map.to[j]!]! += pushRef[map.from[j]!]!;
        }
        sameBits(pulled, pullRef);
        expect(signs(pulled)).toEqual(signs(pullRef));
        sameBits(pushed, pushRef);
        expect(signs(pushed)).toEqual(signs(pushRef));
      }),
      OPTIONS,
    );
  });
});

describe('shared and composed maps', () => {
  it('a map after a slice reads the sliced entries; a map after a sum is not composed', () => {
    const slice = { to: iota(4), from: iota(4, 1) };
    const shift = identityMap(4, 1);
    expect(composeMaps(shift, slice, 4)).toEqual({ to: iota(4, 1), from: iota(4, 1) });
    expect(composeMaps(shift, slice, 4)).toBe(composeMaps(shift, slice, 4));
    expect(composeMaps(identityMap(2), { to: Int32Array.of(0, 0, 1), from: iota(3) }, 2)).toBeNull();
  });

  it('concat of a slice reads the sliced vector, and equal slices share one map', () => {
    const source = 'a = y[2:end] .* y[2:end]\nb = sin(y[2:end])\nconcat([1], y[1:end-1]) * sum(concat(a, b))';
    const { builder, output } = lowerExpression(parseExpression(source), new Map([['y', { shape: [300] }]]));
    const tape = builder.tape;
    const concats = [...Array(tape.length).keys()].filter((id) => tape.op(id) === 'concat');
    expect(concats).toHaveLength(2);
    expect(tape.args(concats[0]!)[1]).toBe(0); // y itself, not its slice
    expect(printTape(tape)).toContain(`concat %${tape.args(concats[0]!)[0]} %0 : vector[300]`);
    const slices = [...Array(output).keys()].filter((id) => tape.op(id) === 'select');
    const maps = new Set(slices.map((id) => (tape.param(id) as Extract<Param, { kind: 'select' }>).map));
    expect(slices.length).toBeGreaterThan(maps.size);
  });

  it('values and gradients of a shift are those of its definition', () => {
    const y = Float64Array.from({ length: 300 }, (_, k) => Math.sin(k) * (k % 7 === 0 ? 0 : 1));
    const shifted = compile('x .* concat([1], y[1:end-1])', { x: [300], y: [300] });
    const x = Float64Array.from({ length: 300 }, (_, k) => Math.cos(k));
    const value = shifted.evaluateFlat({ x, y });
    expect(value[0]).toBe(x[0]);
    for (let k = 1; k < 300; k++) expect(Object.is(value[k], x[k]! * y[k - 1]!)).toBe(true);
    const w = Float64Array.from({ length: 300 }, (_, k) => k + 1);
    const { vjp } = shifted.vjpFlat({ x, y }, w, { wrt: ['y'] });
    for (let k = 0; k < 299; k++) expect(Object.is(vjp[k], 0 + w[k + 1]! * x[k + 1]!)).toBe(true);
    expect(vjp[299]).toBe(0);
  });
});
