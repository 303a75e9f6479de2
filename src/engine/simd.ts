/**
 * Fused forward loops as WebAssembly with 128-bit SIMD: two entries at a time, where each entry's numbers are the
 * ones the JavaScript loop makes, to the bit. The operations here are IEEE's own (+, −, ×, ÷, √, |x|, −x), whose
 * results are the same in any language, and exp by the same table and polynomial as ops/elementwise.ts (Tang's
 * method, the same operations in the same order, with no fused multiply-add), two lanes at once, the 2^k scaling
 * added to the exponent bits (exact: every result of the table's range is a normal number). A chunk with an entry
 * beyond the table (|x| ≥ 708, NaN) is run again by the loop's JavaScript kernel, whose exp goes to Math.exp there.
 * Sums add the lanes' entries one by one in ascending k, as the JavaScript loop adds them.
 *
 * A derivative pass's fused loop (fusion.ts's fusePass: products with SPEC §6's exact zeros, sums, a row's step skipped
 * where its scalar cotangent is 0) runs as SIMD code from a chunk of entries on, with the JavaScript kernel's numbers.
 *
 * Only forward loops with exp are made SIMD (worthSimd): V8 runs the table's exp in JavaScript at 4–6 ns an entry on this
 * machine, the SIMD loop at 2–3 (lse's loop of exp and sum over 1.28 M entries, one thread: 5.8–8.3 → 3.8–4.2 ms).
 * A loop of sums and products alone runs near the speed of memory in JavaScript already.
 *
 * The module is built from the loop's structure only (the table's operation names, slot numbers, the table's
 * constants): no text of the user's reaches it. This is the one module that makes WebAssembly.
 *
 * The engine's buffers live outside the module's memory, so each chunk's vector operands are copied in (reading
 * them, which the loop would do anyway, and writing a region the first caches hold) and the values the loop stores
 * copied out; a chunk is at most CHUNK_ENTRIES entries.
 */
import {
  EXP_ROUNDING_SHIFT,
  EXP_STEP_HEAD,
  EXP_STEP_TAIL,
  EXP_STEPS_PER_UNIT,
  EXP_TABLE_BELOW,
  EXP_TABLE_HEADS,
  EXP_TABLE_TAILS,
  type OpName,
} from '../ops/index.js';
import { CHUNK_ENTRIES } from './compiled.js';
import type { FusedForwardKernel, FusedPassKernel } from './fusion.js';

/** An operand of a step: a local (the output of step `local`), a vector read at entry k, or a scalar. */
export type SimdOperand = { readonly local: number } | { readonly vector: number } | { readonly scalar: number };

/** A step of a SIMD loop: an operation of SIMD_RULES on its operands (stored at `store`, a place, or not), or a sum. */
export type SimdStep =
  | { readonly op: SimdOp; readonly args: readonly SimdOperand[]; readonly store: number | null }
  | { readonly sumOf: SimdOperand; readonly into: number };

/** A fused forward loop's structure: its steps, over `places` buffer offsets (fusion.ts's slots). */
export interface SimdLoop {
  readonly places: number;
  readonly steps: readonly SimdStep[];
}

/** Bytes of code. */
type Code = readonly number[];

const unsigned = (n: number): number[] => {
  const bytes: number[] = [];
  do {
    const low = n & 0x7f;
    n >>>= 7;
    bytes.push(n === 0 ? low : low | 0x80);
  } while (n !== 0);
  return bytes;
};
const signed = (n: number): number[] => {
  const bytes: number[] = [];
  for (;;) {
    const low = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (low & 0x40) === 0) || (n === -1 && (low & 0x40) !== 0)) return [...bytes, low];
    bytes.push(low | 0x80);
  }
};
const vector = (items: readonly Code[]): number[] => [...unsigned(items.length), ...items.flat()];
const section = (id: number, items: readonly Code[]): number[] => {
  const body = vector(items);
  return [id, ...unsigned(body.length), ...body];
};
const name = (text: string): number[] => vector([...text].map((c) => [c.charCodeAt(0)]));

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const localGet = (i: number): Code => [0x20, ...unsigned(i)];
const localSet = (i: number): Code => [0x21, ...unsigned(i)];
const localTee = (i: number): Code => [0x22, ...unsigned(i)];
const i32 = (n: number): Code => [0x41, ...signed(n)];
const f64 = (x: number): Code => [0x44, ...new Uint8Array(Float64Array.of(x).buffer)];
const simd = (op: number, ...immediates: number[]): Code => [0xfd, ...unsigned(op), ...immediates];
/** A memory argument: alignment 8 bytes (a double's), the constant offset. */
const at8 = (offset: number): number[] => [3, ...unsigned(offset)];
const splat = (x: number): Code => [...f64(x), ...simd(0x14)];
const v128Load = (offset: number): Code => simd(0x00, ...at8(offset));
const v128Store = (offset: number): Code => simd(0x0b, ...at8(offset));
const ZERO: Code = simd(0x0c, ...new Array<number>(16).fill(0));

const F64X2 = {
  eq: simd(0x47),
  ne: simd(0x48),
  lt: simd(0x49),
  gt: simd(0x4a),
  abs: simd(0xec),
  neg: simd(0xed),
  sqrt: simd(0xef),
  add: simd(0xf0),
  sub: simd(0xf1),
  mul: simd(0xf2),
  div: simd(0xf3),
  extract: (lane: number): Code => simd(0x21, lane),
};
const V128_OPS = { and: simd(0x4e), or: simd(0x50), bitselect: simd(0x52) };

/** What a rule may ask of the function it is written into: a v128 local of its own, and the chunk's flag. */
interface Emitter {
  local(): number;
  /** A v128 local, all ones at the start: a rule clears a lane's bits for an entry it cannot compute. */
  readonly within: number;
}

/** An operation's code over its operands' codes, each leaving one v128 (two entries) on the stack. */
type SimdRule = (args: readonly Code[], at: Emitter) => Code;

const binary =
  (op: Code): SimdRule =>
  ([a, b]) => [...a!, ...b!, ...op];
const unary =
  (op: Code): SimdRule =>
  ([a]) => [...a!, ...op];
/** x used twice: held in a local. */
const held = (x: Code, e: Emitter, use: (get: Code) => Code): Code => {
  const t = e.local();
  return [...x, ...localSet(t), ...use(localGet(t))];
};

/** Where the exp table's entries are, head and tail side by side: one 16-byte load per entry. */
const EXP_TABLE_AT = 0;

/**
 * exp of two entries, as ops/elementwise.ts's tableExp computes each. The integer n of (x·128/ln 2 rounded) is the
 * low bits of x·128/ln 2 + 1.5·2^52; its table index is n & 127 and its power of two n >> 7, added to the exponent
 * bits: (bits >> 7) << 52 of the shifted sum is (n >> 7) << 52, as 1.5·2^52's bits end in 45 zeros.
 */
const expRule: SimdRule = ([a], e) => {
  const x = e.local();
  const shifted = e.local();
  const steps = e.local();
  const r = e.local();
  const pair = [e.local(), e.local()] as const;
  const tableEntry = (lane: number): Code => [
    ...localGet(shifted),
    ...simd(0x1d, lane), // i64x2.extract_lane
    0xa7, // i32.wrap_i64
    ...i32(127),
    0x71, // i32.and
    ...i32(4),
    0x74, // i32.shl
    ...v128Load(EXP_TABLE_AT),
    ...localSet(pair[lane]!),
  ];
  return [
    ...a!,
    ...localTee(x),
    // Beyond the table's range (or NaN), the chunk is run again by the JavaScript loop.
    ...F64X2.abs,
    ...splat(EXP_TABLE_BELOW),
    ...F64X2.lt,
    ...localGet(e.within),
    ...V128_OPS.and,
    ...localSet(e.within),
    ...localGet(x),
    ...splat(EXP_STEPS_PER_UNIT),
    ...F64X2.mul,
    ...splat(EXP_ROUNDING_SHIFT),
    ...F64X2.add,
    ...localTee(shifted),
    ...splat(EXP_ROUNDING_SHIFT),
    ...F64X2.sub,
    ...localSet(steps),
    // r = x − steps·head − steps·tail
    ...localGet(x),
    ...localGet(steps),
    ...splat(EXP_STEP_HEAD),
    ...F64X2.mul,
    ...F64X2.sub,
    ...localGet(steps),
    ...splat(EXP_STEP_TAIL),
    ...F64X2.mul,
    ...F64X2.sub,
    ...localSet(r),
    ...tableEntry(0),
    ...tableEntry(1),
    // head + (head·expm1(r) + tail), expm1(r) = r + r·r·(1/2 + r·(1/6 + r·(1/24 + r·(1/120))))
    ...localGet(pair[0]),
    ...localGet(pair[1]),
    ...simd(0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23), // the heads
    ...localTee(x),
    ...localGet(x),
    ...localGet(r),
    ...localGet(r),
    ...localGet(r),
    ...F64X2.mul,
    ...splat(0.5),
    ...localGet(r),
    ...splat(1 / 6),
    ...localGet(r),
    ...splat(1 / 24),
    ...localGet(r),
    ...splat(1 / 120),
    ...F64X2.mul,
    ...F64X2.add,
    ...F64X2.mul,
    ...F64X2.add,
    ...F64X2.mul,
    ...F64X2.add,
    ...F64X2.mul,
    ...F64X2.add,
    ...F64X2.mul,
    ...localGet(pair[0]),
    ...localGet(pair[1]),
    ...simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31), // the tails
    ...F64X2.add,
    ...F64X2.add,
    // × 2^(n >> 7)
    ...localGet(shifted),
    ...i32(7),
    ...simd(0xcc), // i64x2.shr_s
    ...i32(52),
    ...simd(0xcb), // i64x2.shl
    ...simd(0xce), // i64x2.add
  ];
};

/**
 * The operations a SIMD loop runs, by the table's name: each gives, for two entries, the numbers of the operation's
 * scalar function (test/simd.test.ts checks every rule against it, bit for bit, at ordinary and special points).
 */
export const SIMD_RULES = {
  add: binary(F64X2.add),
  subtract: binary(F64X2.sub),
  dotMultiply: binary(F64X2.mul),
  dotDivide: binary(F64X2.div),
  unaryMinus: unary(F64X2.neg),
  sqrt: unary(F64X2.sqrt),
  abs: unary(F64X2.abs),
  square: ([a], e) => held(a!, e, (x) => [...x, ...x, ...F64X2.mul]),
  cube: ([a], e) => held(a!, e, (x) => [...x, ...x, ...F64X2.mul, ...x, ...F64X2.mul]),
  // 0 where either factor is 0 (SPEC §6), else the product.
  strongMultiply: ([a, b], e) => {
    const x = e.local();
    const y = e.local();
    return [
      ...ZERO,
      ...a!,
      ...localTee(x),
      ...b!,
      ...localTee(y),
      ...F64X2.mul,
      ...localGet(x),
      ...ZERO,
      ...F64X2.eq,
      ...localGet(y),
      ...ZERO,
      ...F64X2.eq,
      ...V128_OPS.or,
      ...V128_OPS.bitselect,
    ];
  },
  // x where x > 0 or x is NaN, else 0.
  relu: ([a], e) =>
    held(a!, e, (x) => [
      ...x,
      ...ZERO,
      ...x,
      ...ZERO,
      ...F64X2.gt,
      ...x,
      ...x,
      ...F64X2.ne,
      ...V128_OPS.or,
      ...V128_OPS.bitselect,
    ]),
  heaviside: ([a]) => [...a!, ...ZERO, ...F64X2.gt, ...splat(1), ...V128_OPS.and],
  exp: expRule,
} satisfies Partial<Record<OpName, SimdRule>>;

export type SimdOp = keyof typeof SIMD_RULES;

/** Whether an operation of the table has a SIMD rule. */
export const isSimdOp = (op: string): op is SimdOp => Object.hasOwn(SIMD_RULES, op);

/**
 * The operations whose loops are worth the copies in and out: exp, about twice as fast in SIMD. Loops of arithmetic
 * alone gain nothing (sum(x .* y + x) over 10⁶ entries: 1.04 ms in JavaScript, 1.52 ms as SIMD with its copies).
 */
const WORTH_SIMD: ReadonlySet<SimdOp> = new Set(['exp']);

/**
 * The work of an entry of a loop, in steps of arithmetic, as threads.ts's worthSharing weighs it: an exp costs 2–6 ns
 * an entry, arithmetic 0.3–1 (and each step pays for its loads and stores). So lse's loop of exp and sum shares its
 * chunks from 16 of them (65 536 entries) on, where it shared from 700 000: its value at 160 000 entries took 0.74
 * ms on one thread, 0.38–0.45 on two; at 640 000, 3.1 and 1.3–1.6 ms.
 */
const EXP_WORK = 32;
const costly = (step: SimdStep): boolean => 'op' in step && WORTH_SIMD.has(step.op);
export const loopWork = (loop: SimdLoop): number =>
  loop.steps.reduce((work, step) => work + (costly(step) ? EXP_WORK : 1), 0);

/** Whether a loop's steps repay a SIMD kernel. */
export const worthSimd = (loop: SimdLoop): boolean => loop.steps.some(costly);

/** For tests and measurements: `off` keeps every loop in JavaScript. */
export const simdLoopsForTests = { off: false };

/** A pass loop is made SIMD from this many entries (a chunk): below, its copies and call cost what it saves. */
const SIMD_PASS_FROM = CHUNK_ENTRIES;

/** Whether a pass loop over n entries repays a SIMD kernel. */
export const worthSimdPass = (pass: SimdPass, n: number): boolean => n >= SIMD_PASS_FROM && pass.steps.length > 0;

/** A buffer's entries a module reads or writes: v, the values, or c, a pass's (co)tangents; at a place (a slot). */
interface Ref {
  readonly array: 'v' | 'c';
  readonly place: number;
}
const refKey = ({ array, place }: Ref): string => `${array}${place}`;

/** Where things are in a module's memory (bytes). */
interface Layout {
  /** Vector operands read and values written, each a chunk and one entry more, by refKey. */
  readonly regions: ReadonlyMap<string, number>;
  /** Scalars read before the loop, one double each, by refKey; then each sum's. */
  readonly scalars: ReadonlyMap<string, number>;
  readonly sums: readonly number[];
  readonly bytes: number;
}

const REGION_BYTES = (CHUNK_ENTRIES + 2) * 8;

/** A layout for these vectors, scalars and sums, after the exp table. */
function layoutOf(vectors: readonly Ref[], scalars: readonly Ref[], sums: number): Layout {
  let end = EXP_TABLE_AT + 128 * 16;
  const scalarAt = new Map<string, number>();
  for (const ref of scalars) if (!scalarAt.has(refKey(ref))) scalarAt.set(refKey(ref), (end += 8) - 8);
  const sumAt = Array.from({ length: sums }, () => (end += 8) - 8);
  end = Math.ceil(end / 16) * 16;
  const regions = new Map<string, number>();
  for (const ref of vectors)
    if (!regions.has(refKey(ref))) regions.set(refKey(ref), (end += REGION_BYTES) - REGION_BYTES);
  return { regions, scalars: scalarAt, sums: sumAt, bytes: end };
}

/** What a loop's body is written with: its locals, its memory, its scalars splatted and its sums. */
interface Body {
  readonly emitter: Emitter;
  /** A vector operand of the pair `delta` bytes after the offset, or a place to store it. */
  readonly load: (ref: Ref, delta: number) => Code;
  readonly store: (ref: Ref, delta: number, value: Code) => Code;
  /** A scalar's local, splatted before the loop. */
  readonly scalar: (ref: Ref) => Code;
  /** Adds a pair's entries to sum s lane by lane (the second where the pair is whole). */
  readonly addToSum: (s: number, value: Code, whole: boolean) => Code;
}

/**
 * The module of a loop: `run(count)` runs `body` for each pair of the `count` entries (at most a chunk) whose
 * operands are in its memory, leaves each sum (from `sumStart`) in its place, and returns 1 if some entry was beyond
 * a rule's reach.
 */
function loopModule(
  layout: Layout,
  sumStart: number,
  body: (at: Body, whole: boolean, delta: number) => Code,
): Uint8Array {
  /** Locals after the parameter (count): the byte offset of the entry pair, the sums, then the v128s. */
  const OFFSET = 1;
  const sums = layout.sums.length;
  const firstV128 = OFFSET + 1 + sums;
  let v128s = 0;
  const emitter: Emitter = { local: () => firstV128 + v128s++, within: firstV128 };
  v128s++;
  const splats = new Map([...layout.scalars.keys()].map((key) => [key, emitter.local()]));
  const lane = (s: number, value: Code, l: number): Code => [
    ...localGet(OFFSET + 1 + s),
    ...value,
    ...F64X2.extract(l),
    0xa0, // f64.add
    ...localSet(OFFSET + 1 + s),
  ];
  const at: Body = {
    emitter,
    load: (ref, delta) => [...localGet(OFFSET), ...v128Load(layout.regions.get(refKey(ref))! + delta)],
    store: (ref, delta, value) => [
      ...localGet(OFFSET),
      ...value,
      ...v128Store(layout.regions.get(refKey(ref))! + delta),
    ],
    scalar: (ref) => localGet(splats.get(refKey(ref))!),
    addToSum: (s, value, whole) => {
      const t = emitter.local();
      return [...value, ...localSet(t), ...lane(s, localGet(t), 0), ...(whole ? lane(s, localGet(t), 1) : [])];
    },
  };
  /** While offset + bytes ≤ count · 8: `code`, then the offset moves on by `bytes`. */
  const whileRoom = (bytes: number, code: Code, repeat: boolean): Code => [
    ...(repeat ? [0x02, 0x40, 0x03, 0x40] : [0x02, 0x40]), // block (, loop)
    ...localGet(OFFSET),
    ...i32(bytes),
    0x6a, // i32.add
    ...localGet(0),
    ...i32(3),
    0x74, // i32.shl
    0x4b, // i32.gt_u
    ...[0x0d, repeat ? 1 : 0], // br_if out of the block
    ...code,
    ...localGet(OFFSET),
    ...i32(bytes),
    0x6a,
    ...localSet(OFFSET),
    ...(repeat ? [0x0c, 0, 0x0b, 0x0b] : [0x0b]), // (br to the loop; end loop,) end block
  ];
  // Two pairs an iteration, whose work the processor overlaps; then a pair, then an odd count's last entry.
  const quads = whileRoom(32, [...body(at, true, 0), ...body(at, true, 16)], true);
  const pair = whileRoom(16, body(at, true, 0), false);
  const last = body(at, false, 0);
  const code: number[] = [
    ...vector([
      [1, I32],
      [...unsigned(sums), F64],
      [...unsigned(v128s), V128],
    ]),
    // f64.load from each scalar's place, splatted
    ...[...layout.scalars].flatMap(([key, offset]) => [
      ...i32(0),
      0x2b,
      ...at8(offset),
      ...simd(0x14),
      ...localSet(splats.get(key)!),
    ]),
    ...layout.sums.flatMap((_, s) => [...f64(sumStart), ...localSet(OFFSET + 1 + s)]),
    ...simd(0x0c, ...new Array<number>(16).fill(0xff)),
    ...localSet(emitter.within),
    ...quads,
    ...pair,
    // An odd count's last entry, as a pair whose second lane is ignored.
    ...localGet(0),
    ...i32(1),
    0x71, // i32.and
    ...[0x04, 0x40], // if
    ...last,
    0x0b,
    ...layout.sums.flatMap((offset, s) => [...i32(0), ...localGet(OFFSET + 1 + s), 0x39, ...at8(offset)]), // f64.store
    // 1 where some entry was beyond reach
    ...localGet(emitter.within),
    ...simd(0xc3), // i64x2.all_true
    0x45, // i32.eqz
    0x0b,
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [[0x60, ...vector([[I32]]), ...vector([[I32]])]]),
    ...section(3, [unsigned(0)]),
    ...section(5, [[0x00, ...unsigned(Math.ceil(layout.bytes / 65536))]]),
    ...section(7, [
      [...name('run'), 0x00, ...unsigned(0)],
      [...name('memory'), 0x02, ...unsigned(0)],
    ]),
    ...section(10, [[...unsigned(code.length), ...code]]),
  ]);
}

/** The layout and module of a forward loop. */
function forwardModule(loop: SimdLoop): [Layout, Uint8Array] {
  const v = (place: number): Ref => ({ array: 'v', place });
  const vectors: Ref[] = [];
  const scalars: Ref[] = [];
  const sumSteps: number[] = [];
  const note = (x: SimdOperand): void => {
    if ('vector' in x) vectors.push(v(x.vector));
    if ('scalar' in x) scalars.push(v(x.scalar));
  };
  loop.steps.forEach((step, j) => {
    if ('sumOf' in step) {
      note(step.sumOf);
      sumSteps.push(j);
    } else {
      step.args.forEach(note);
      if (step.store !== null) vectors.push(v(step.store));
    }
  });
  const layout = layoutOf(vectors, scalars, sumSteps.length);
  const bytes = loopModule(layout, -0, (at, whole, delta) => {
    const outputs = new Map<number, number>();
    const operand = (x: SimdOperand): Code =>
      'local' in x
        ? localGet(outputs.get(x.local)!)
        : 'vector' in x
          ? at.load(v(x.vector), delta)
          : at.scalar(v(x.scalar));
    return loop.steps.flatMap((step, j) => {
      if ('sumOf' in step) return at.addToSum(sumSteps.indexOf(j), operand(step.sumOf), whole);
      const out = at.emitter.local();
      const code = [...SIMD_RULES[step.op](step.args.map(operand), at.emitter), ...localSet(out)];
      outputs.set(j, out);
      return step.store === null ? code : [...code, ...at.store(v(step.store), delta, localGet(out))];
    });
  });
  return [layout, bytes];
}

/**
 * A derivative pass's fused loop (fusion.ts's fusePass), as SIMD code: each step adds times(a, b) (SPEC §6's
 * product, an exact zero winning) to a carried (co)tangent or to a sum, skipped where `unlessZero`, a scalar
 * cotangent, is 0 (a row's pullback). Carried entries start from c (`load`) or +0 and are written back (`store`).
 */
export interface SimdPass {
  readonly places: number;
  readonly carried: readonly { readonly place: number; readonly load: boolean; readonly store: boolean }[];
  readonly steps: readonly {
    readonly into: { readonly carried: number } | { readonly sum: number };
    readonly a: SimdPassOperand;
    readonly b: SimdPassOperand;
    readonly unlessZero: number | null;
  }[];
  /** Each sum's target place in c. */
  readonly sums: readonly number[];
}

/** A carried entry, a partial's entry (v at a place), or a scalar of v or of c. */
export type SimdPassOperand = { readonly carried: number } | { readonly partial: number } | { readonly scalar: Ref };

/** The layout and module of a pass loop. */
function passModule(pass: SimdPass): [Layout, Uint8Array] {
  const vectors: Ref[] = pass.carried.map(({ place }) => ({ array: 'c', place }));
  const scalars: Ref[] = [];
  const note = (x: SimdPassOperand): void => {
    if ('partial' in x) vectors.push({ array: 'v', place: x.partial });
    if ('scalar' in x) scalars.push(x.scalar);
  };
  for (const step of pass.steps) {
    note(step.a);
    note(step.b);
    if (step.unlessZero !== null) scalars.push({ array: 'c', place: step.unlessZero });
  }
  const layout = layoutOf(vectors, scalars, pass.sums.length);
  // Sums from +0, as the pass's own kernels start them.
  const bytes = loopModule(layout, 0, (at, whole, delta) => {
    const locals = new Map(pass.carried.map(({ place }) => [place, at.emitter.local()]));
    const c = (place: number): Ref => ({ array: 'c', place });
    const operand = (x: SimdPassOperand): Code =>
      'carried' in x
        ? localGet(locals.get(x.carried)!)
        : 'partial' in x
          ? at.load({ array: 'v', place: x.partial }, delta)
          : at.scalar(x.scalar);
    const start = pass.carried.flatMap(({ place, load }) => [
      ...(load ? at.load(c(place), delta) : ZERO),
      ...localSet(locals.get(place)!),
    ]);
    const steps = pass.steps.flatMap(({ into, a, b, unlessZero }) => {
      const term = SIMD_RULES.strongMultiply([operand(a), operand(b)], at.emitter);
      if ('sum' in into) return at.addToSum(into.sum, term, whole);
      const local = locals.get(into.carried)!;
      const added = [...localGet(local), ...term, ...F64X2.add];
      // Where the scalar cotangent is 0 the step adds nothing, as row.pullback skips it (+0 added would turn a −0).
      const guarded =
        unlessZero === null
          ? added
          : [...added, ...localGet(local), ...at.scalar(c(unlessZero)), ...ZERO, ...F64X2.ne, ...V128_OPS.bitselect];
      return [...guarded, ...localSet(local)];
    });
    const stores = pass.carried.flatMap(({ place, store }) =>
      store ? at.store(c(place), delta, localGet(locals.get(place)!)) : [],
    );
    return [...start, ...steps, ...stores];
  });
  return [layout, bytes];
}

/** What this module uses of the WebAssembly API (declared by the DOM library, which this project leaves out). */
declare const WebAssembly: {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (
    module: object,
    imports: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
  ) => { readonly exports: Readonly<Record<string, unknown>> };
};

/** A loop's module, made once per thread. */
interface Instance {
  /** Runs `count` entries; 1 if one of them is beyond a rule's reach (nothing is then valid), else 0. */
  readonly run: (count: number) => number;
  readonly heap: Float64Array;
  readonly layout: Layout;
}
const instances = new Map<string, Instance | null>();
const MAX_INSTANCES = 256;

/** The texts that name a SIMD loop to the helper thread (threads.ts), which makes its kernel from them. */
const FORWARD_SOURCE = 'simd forward ';
const PASS_SOURCE = 'simd pass ';
export const simdSource = (loop: SimdLoop): string => FORWARD_SOURCE + JSON.stringify(loop);
export const simdPassSource = (pass: SimdPass): string => PASS_SOURCE + JSON.stringify(pass);

/**
 * The module of a loop's text (`build` makes it the first time), instantiated; null where this process cannot (no
 * WebAssembly, or no SIMD).
 */
function instanceOf(text: string, build: () => [Layout, Uint8Array]): Instance | null {
  let instance = instances.get(text);
  if (instance === undefined) {
    if (instances.size >= MAX_INSTANCES) instances.clear();
    instance = null;
    const [layout, bytes] = build();
    try {
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      const heap = new Float64Array((exports.memory as { readonly buffer: ArrayBuffer }).buffer);
      for (let j = 0; j < 128; j++) {
        heap[EXP_TABLE_AT / 8 + 2 * j] = EXP_TABLE_HEADS[j]!;
        heap[EXP_TABLE_AT / 8 + 2 * j + 1] = EXP_TABLE_TAILS[j]!;
      }
      instance = { run: exports.run as (count: number) => number, heap, layout };
    } catch {
      instance = null;
    }
    instances.set(text, instance);
  }
  return instance;
}

/** A region or scalar's place in `p` and its index in the heap, flat: [place, index, place, index, …]. */
const placed = (entries: Iterable<[string, number]>, array: 'v' | 'c'): Int32Array =>
  Int32Array.from(
    [...entries].flatMap(([key, offset]) => (key[0] === array ? [Number(key.slice(1)), offset / 8] : [])),
  );

/**
 * Copies entries from..from+count of each region's place in `x` into the heap (`into`, and a 0 after an odd count),
 * or from the heap back to `x`.
 */
function copyChunk(
  into: boolean,
  heap: Float64Array,
  x: Float64Array,
  p: readonly number[],
  regions: Int32Array,
  from: number,
  count: number,
): void {
  for (let r = 0; r < regions.length; r += 2) {
    const at = p[regions[r]!]! + from;
    const region = regions[r + 1]!;
    if (!into) x.set(heap.subarray(region, region + count), at);
    else {
      heap.set(x.subarray(at, at + count), region);
      // An odd count's last pair reads one entry past it: a 0, which no rule takes beyond its reach.
      heap[region + count] = 0;
    }
  }
}

function scalarsIn(heap: Float64Array, x: Float64Array, p: readonly number[], scalars: Int32Array) {
  for (let s = 0; s < scalars.length; s += 2) heap[scalars[s + 1]!] = x[p[scalars[s]!]!]!;
}

/**
 * The kernel of a SIMD forward loop named by `simdSource`, for one thread (`shared`: its sums go to the chunk's
 * place in the block buffer, as fusion.ts's kernels for two threads write them), which runs a chunk with an entry
 * beyond a rule's reach (exp of NaN, or of |x| ≥ 708) by `fallback`, the loop's JavaScript kernel; null where
 * WebAssembly cannot run.
 */
export function simdKernel(text: string, shared: boolean, fallback: FusedForwardKernel): FusedForwardKernel | null {
  const loop = JSON.parse(text.slice(FORWARD_SOURCE.length)) as SimdLoop;
  const instance = instanceOf(text, () => forwardModule(loop));
  if (instance === null) return null;
  const { run, heap, layout } = instance;
  const stored = new Set(loop.steps.flatMap((step) => ('op' in step && step.store !== null ? [`v${step.store}`] : [])));
  const reads = placed(
    [...layout.regions].filter(([key]) => !stored.has(key)),
    'v',
  );
  const writes = placed(
    [...layout.regions].filter(([key]) => stored.has(key)),
    'v',
  );
  const scalars = placed(layout.scalars, 'v');
  const sumPlaces = Int32Array.from(loop.steps.flatMap((step) => ('sumOf' in step ? [step.into] : [])));
  const sumAt = Int32Array.from(layout.sums, (offset) => offset / 8);
  const sums = sumAt.length;
  return (v, p, from, to, carry) => {
    const count = to - from;
    copyChunk(true, heap, v, p, reads, from, count);
    scalarsIn(heap, v, p, scalars);
    if (run(count) !== 0) {
      fallback(v, p, from, to, carry);
      return;
    }
    copyChunk(false, heap, v, p, writes, from, count);
    for (let s = 0; s < sums; s++) {
      const sum = heap[sumAt[s]!]!;
      if (shared) carry[(from / CHUNK_ENTRIES) * sums + s] = sum;
      else {
        const place = p[sumPlaces[s]!]!;
        v[place] = from === 0 ? sum : v[place]! + sum;
      }
    }
  };
}

/**
 * The kernel of a SIMD pass loop named by `simdPassSource`, for one thread (`shared` as for simdKernel): the
 * numbers of the pass's JavaScript kernel, whose sums it carries and adds to their nodes the same way (fusePass).
 */
export function simdPassKernel(text: string, shared: boolean): FusedPassKernel | null {
  const pass = JSON.parse(text.slice(PASS_SOURCE.length)) as SimdPass;
  const instance = instanceOf(text, () => passModule(pass));
  if (instance === null) return null;
  const { run, heap, layout } = instance;
  const loads = new Set(pass.carried.flatMap(({ place, load }) => (load ? [`c${place}`] : [])));
  const stores = new Set(pass.carried.flatMap(({ place, store }) => (store ? [`c${place}`] : [])));
  const partials = placed(layout.regions, 'v');
  const carriedIn = placed(
    [...layout.regions].filter(([key]) => loads.has(key)),
    'c',
  );
  const carriedOut = placed(
    [...layout.regions].filter(([key]) => stores.has(key)),
    'c',
  );
  const scalarsOfV = placed(layout.scalars, 'v');
  const scalarsOfC = placed(layout.scalars, 'c');
  const targets = Int32Array.from(pass.sums);
  const sumAt = Int32Array.from(layout.sums, (offset) => offset / 8);
  const sums = sumAt.length;
  return (v, c, p, n, from, to, carry) => {
    const count = to - from;
    copyChunk(true, heap, v, p, partials, from, count);
    copyChunk(true, heap, c, p, carriedIn, from, count);
    scalarsIn(heap, v, p, scalarsOfV);
    scalarsIn(heap, c, p, scalarsOfC);
    run(count);
    copyChunk(false, heap, c, p, carriedOut, from, count);
    for (let s = 0; s < sums; s++) {
      const sum = heap[sumAt[s]!]!;
      if (shared) carry[(from / CHUNK_ENTRIES) * sums + s] = sum;
      else {
        carry[s] = from === 0 ? sum : carry[s]! + sum;
        const target = p[targets[s]!]!;
        if (to === n) c[target] = c[target]! + carry[s]!;
      }
    }
  };
}

/**
 * The helper thread's kernel (threads.ts) of a SIMD loop named by `simdSource` or `simdPassSource`; `fallback`, the
 * loop's JavaScript kernel for two threads, serves a forward loop's chunks beyond a rule's reach.
 */
export const sharedSimdKernel = (
  text: string,
  fallback: FusedForwardKernel,
): FusedForwardKernel | FusedPassKernel | null =>
  text.startsWith(PASS_SOURCE) ? simdPassKernel(text, true) : simdKernel(text, true, fallback);
