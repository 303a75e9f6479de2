/**
 * Fused forward loops as WebAssembly with 128-bit SIMD: two entries at a time, where each entry's numbers are the
 * ones the JavaScript loop makes, to the bit. The operations here are IEEE's own (+, −, ×, ÷, √, |x|, −x), whose
 * results are the same in any language, and exp by the same table and polynomial as ops/elementwise.ts (Tang's
 * method, the same operations in the same order, with no fused multiply-add), two lanes at once, the 2^k scaling
 * added to the exponent bits (exact: every result of the table's range is a normal number). A chunk with an entry
 * beyond the table (|x| ≥ 708, NaN) is run again by the loop's JavaScript kernel, whose exp goes to Math.exp there.
 * Sums add the lanes' entries one by one in ascending k, as the JavaScript loop adds them.
 *
 * Only loops with exp are made SIMD (worthSimd): V8 runs the table's exp in JavaScript at 4–6 ns an entry on this
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
import { EXP_STEP_HEAD, EXP_STEP_TAIL, EXP_STEPS_PER_UNIT, EXP_TABLE_HEADS, EXP_TABLE_TAILS } from '../ops/index.js';
import type { OpName } from '../ops/index.js';
import { CHUNK_ENTRIES } from './compiled.js';
import type { FusedForwardKernel } from './fusion.js';

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
const at = (offset: number): number[] => [3, ...unsigned(offset)];
const splat = (x: number): Code => [...f64(x), ...simd(0x14)];
const v128Load = (offset: number): Code => simd(0x00, ...at(offset));
const v128Store = (offset: number): Code => simd(0x0b, ...at(offset));
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
/** 1.5·2^52, as ops/elementwise.ts's tableExp rounds with. */
const ROUNDING_SHIFT = 6755399441055744;
/** |x| below it is in the table's range, as in ops/elementwise.ts. */
const TABLE_BELOW = 708;

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
    ...splat(TABLE_BELOW),
    ...F64X2.lt,
    ...localGet(e.within),
    ...V128_OPS.and,
    ...localSet(e.within),
    ...localGet(x),
    ...splat(EXP_STEPS_PER_UNIT),
    ...F64X2.mul,
    ...splat(ROUNDING_SHIFT),
    ...F64X2.add,
    ...localTee(shifted),
    ...splat(ROUNDING_SHIFT),
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

/** The operations whose loops are worth the copies in and out: exp, about twice as fast in SIMD. */
const WORTH_SIMD: ReadonlySet<SimdOp> = new Set(['exp']);

/** Whether a loop's steps repay a SIMD kernel. */
export const worthSimd = (loop: SimdLoop): boolean =>
  loop.steps.some((step) => 'op' in step && WORTH_SIMD.has(step.op));

/** Where things are in a module's memory (bytes). */
interface Layout {
  /** The vector operands' and stored values' regions, by place; each holds a chunk and one entry more. */
  readonly regions: ReadonlyMap<number, number>;
  /** Scalars by place, then sums by step, one double each. */
  readonly scalars: ReadonlyMap<number, number>;
  readonly sums: ReadonlyMap<number, number>;
  readonly bytes: number;
}

const REGION_BYTES = (CHUNK_ENTRIES + 2) * 8;

function layoutOf(loop: SimdLoop): Layout {
  const regions = new Map<number, number>();
  const scalars = new Map<number, number>();
  const sums = new Map<number, number>();
  let end = EXP_TABLE_AT + 128 * 16;
  const place = (operand: SimdOperand): void => {
    if ('vector' in operand && !regions.has(operand.vector)) regions.set(operand.vector, -1);
    if ('scalar' in operand && !scalars.has(operand.scalar)) scalars.set(operand.scalar, (end += 8) - 8);
  };
  loop.steps.forEach((step, j) => {
    if ('sumOf' in step) {
      place(step.sumOf);
      sums.set(j, (end += 8) - 8);
    } else {
      step.args.forEach(place);
      if (step.store !== null) regions.set(step.store, -1);
    }
  });
  end = Math.ceil(end / 16) * 16;
  for (const p of regions.keys()) regions.set(p, (end += REGION_BYTES) - REGION_BYTES);
  return { regions, scalars, sums, bytes: end };
}

/**
 * The module of a loop: `run(count)` computes `count` entries (at most a chunk) from the operands in its memory,
 * stores what the loop stores, and leaves each sum from −0 in its place.
 */
function moduleBytes(loop: SimdLoop, layout: Layout): Uint8Array {
  /** Locals after the parameter (count): the byte offset of the entry pair, the sums, then the v128s. */
  const OFFSET = 1;
  const sumSteps = loop.steps.flatMap((step, j) => ('sumOf' in step ? [j] : []));
  const sumLocal = (j: number): number => OFFSET + 1 + sumSteps.indexOf(j);
  const firstV128 = OFFSET + 1 + sumSteps.length;
  let v128s = 0;
  const emitter: Emitter = { local: () => firstV128 + v128s++, within: firstV128 };
  v128s++;
  // Each scalar splatted once before the loop; each step's output in a local.
  const splats = new Map([...layout.scalars.keys()].map((p) => [p, emitter.local()]));
  const outputs = new Map<number, number>();
  /** An operand of the pair `delta` bytes after the offset. */
  const operand = (x: SimdOperand, delta: number): Code =>
    'local' in x
      ? localGet(outputs.get(x.local)!)
      : 'vector' in x
        ? [...localGet(OFFSET), ...v128Load(layout.regions.get(x.vector)! + delta)]
        : localGet(splats.get(x.scalar)!);
  // The code of the pair `delta` bytes after the offset; a sum adds its second lane only where the pair is whole.
  const body = (whole: boolean, delta: number): Code =>
    loop.steps.flatMap((step, j) => {
      if ('sumOf' in step) {
        const x = operand(step.sumOf, delta);
        const lane = (l: number): Code => [
          ...localGet(sumLocal(j)),
          ...x,
          ...F64X2.extract(l),
          0xa0,
          ...localSet(sumLocal(j)),
        ];
        return [...lane(0), ...(whole ? lane(1) : [])];
      }
      const out = emitter.local();
      const code = [
        ...SIMD_RULES[step.op](
          step.args.map((arg) => operand(arg, delta)),
          emitter,
        ),
        ...localSet(out),
      ];
      outputs.set(j, out);
      if (step.store === null) return code;
      return [...code, ...localGet(OFFSET), ...localGet(out), ...v128Store(layout.regions.get(step.store)! + delta)];
    });
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
  // Two pairs an iteration, whose exps the processor overlaps; then a pair, then an odd count's last entry.
  const quads = whileRoom(32, [...body(true, 0), ...body(true, 16)], true);
  const pair = whileRoom(16, body(true, 0), false);
  const last = body(false, 0);
  const code: number[] = [
    ...vector([
      [1, I32],
      [...unsigned(sumSteps.length), F64],
      [...unsigned(v128s), V128],
    ]),
    // f64.load from the scalar's place, splatted
    ...[...layout.scalars].flatMap(([p, offset]) => [
      ...i32(0),
      0x2b,
      ...at(offset),
      ...simd(0x14),
      ...localSet(splats.get(p)!),
    ]),
    ...sumSteps.flatMap((j) => [...f64(-0), ...localSet(sumLocal(j))]),
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
    ...sumSteps.flatMap((j) => [...i32(0), ...localGet(sumLocal(j)), 0x39, ...at(layout.sums.get(j)!)]), // f64.store
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

/** The text that names a SIMD loop to the helper thread (threads.ts), which makes its kernel from it. */
export const SIMD_SOURCE = 'simd ';
export const simdSource = (loop: SimdLoop): string => SIMD_SOURCE + JSON.stringify(loop);

/** The module of a loop, instantiated; null where this process cannot (no WebAssembly, or no SIMD). */
function instanceOf(text: string): Instance | null {
  let instance = instances.get(text);
  if (instance === undefined) {
    if (instances.size >= MAX_INSTANCES) instances.clear();
    instance = null;
    const loop = JSON.parse(text.slice(SIMD_SOURCE.length)) as SimdLoop;
    const layout = layoutOf(loop);
    try {
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(loop, layout)), {});
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

/**
 * The kernel of a SIMD loop named by `simdSource`, for one thread (`shared`: its sums go to the chunk's place in the
 * block buffer, as fusion.ts's kernels for two threads write them), which runs a chunk with an entry beyond a rule's
 * reach (exp of NaN, or of |x| ≥ 708) by `fallback`, the loop's JavaScript kernel; null where WebAssembly cannot run.
 */
export function simdKernel(text: string, shared: boolean, fallback: FusedForwardKernel): FusedForwardKernel | null {
  const instance = instanceOf(text);
  if (instance === null) return null;
  const { run, heap, layout } = instance;
  const stored = new Set<number>();
  const loop = JSON.parse(text.slice(SIMD_SOURCE.length)) as SimdLoop;
  for (const step of loop.steps) if ('op' in step && step.store !== null) stored.add(step.store);
  const regions = [...layout.regions].map(([p, offset]) => [p, offset / 8] as const);
  const reads = Int32Array.from(regions.filter(([p]) => !stored.has(p)).flat());
  const writes = Int32Array.from(regions.filter(([p]) => stored.has(p)).flat());
  const scalars = Int32Array.from([...layout.scalars].flatMap(([p, offset]) => [p, offset / 8]));
  const sums = Int32Array.from(
    loop.steps.flatMap((step, j) => ('sumOf' in step ? [step.into, layout.sums.get(j)! / 8] : [])),
  );
  const sumCount = sums.length / 2;
  return (v, p, from, to, carry) => {
    const count = to - from;
    for (let r = 0; r < reads.length; r += 2) {
      const at = p[reads[r]!]! + from;
      heap.set(v.subarray(at, at + count), reads[r + 1]!);
      // An odd count's last pair reads one entry past it: a 0, which no rule takes beyond its reach.
      heap[reads[r + 1]! + count] = 0;
    }
    for (let s = 0; s < scalars.length; s += 2) heap[scalars[s + 1]!] = v[p[scalars[s]!]!]!;
    if (run(count) !== 0) {
      fallback(v, p, from, to, carry);
      return;
    }
    for (let w = 0; w < writes.length; w += 2)
      v.set(heap.subarray(writes[w + 1]!, writes[w + 1]! + count), p[writes[w]!]! + from);
    for (let s = 0; s < sumCount; s++) {
      const sum = heap[sums[2 * s + 1]!]!;
      if (shared) carry[(from / CHUNK_ENTRIES) * sumCount + s] = sum;
      else {
        const place = p[sums[2 * s]!]!;
        v[place] = from === 0 ? sum : v[place]! + sum;
      }
    }
  };
}
