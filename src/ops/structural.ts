/** Leaves, rearrangements of entries, and the element-wise conditional. */
import { sizeOf } from '../shape.js';
import { elementwiseShape } from './elementwise.js';
import { ZERO, algebra, elementwise, select } from './rules.js';
import type { IndexMap, OpSpec, Param, StructuralName } from './types.js';

function paramOf<K extends Param['kind']>(param: Param, kind: K): Extract<Param, { kind: K }> {
  if (param.kind !== kind) throw new Error(`internal: expected a ${kind} parameter, got ${param.kind}`);
  return param as Extract<Param, { kind: K }>;
}

function scatter(v: Float64Array, out: number, from: number, map: IndexMap): void {
  const { to, from: src } = map;
  for (let j = 0; j < to.length; j++) v[out + to[j]!]! += v[from + src[j]!]!;
}

export const STRUCTURAL: Record<StructuralName, OpSpec> = {
  input: {
    label: 'input',
    arity: 0,
    shape: (_args, param) => paramOf(param, 'input').shape,
    // The engine writes inputs before each forward pass.
    value() {},
    partial: () => ZERO,
  },
  constant: {
    label: 'constant',
    arity: 0,
    shape: (_args, param) => paramOf(param, 'constant').shape,
    value(v, out, _args, param) {
      v.set(paramOf(param, 'constant').values, out.offset);
    },
    partial: () => ZERO,
  },
  /** Gathers (and where the map repeats a target, sums) entries: indexing, transposition, broadcasting. */
  select: {
    label: 'select',
    arity: 1,
    shape: (_args, param) => paramOf(param, 'select').shape,
    value(v, out, args, param) {
      // -0 is the identity of +: a gathered -0 stays -0.
      v.fill(-0, out.offset, out.offset + out.size);
      scatter(v, out.offset, args[0]!.offset, paramOf(param, 'select').map);
    },
    partial: (_b, _i, node) => select(paramOf(node.param, 'select').map),
  },
  /** Array literals: each argument's entries go to their places in the result. */
  concat: {
    label: '[…]',
    arity: 'variadic',
    shape: (_args, param) => paramOf(param, 'concat').shape,
    value(v, out, args, param) {
      const { maps } = paramOf(param, 'concat');
      v.fill(-0, out.offset, out.offset + out.size);
      for (let i = 0; i < args.length; i++) scatter(v, out.offset, args[i]!.offset, maps[i]!);
    },
    partial: (_b, i, node) => select(paramOf(node.param, 'concat').maps[i]!),
  },
  /** The same entries in the same row-major order under another shape. */
  reshape: {
    label: 'reshape',
    arity: 1,
    shape(args, param) {
      const { shape } = paramOf(param, 'reshape');
      if (sizeOf(shape) !== sizeOf(args[0]!)) throw new Error('internal: reshape to a different size');
      return shape;
    },
    value(v, out, args) {
      v.copyWithin(out.offset, args[0]!.offset, args[0]!.offset + out.size);
    },
    partial: (b) => elementwise(b.scalar(1)),
  },
  /** `cond ? a : b` entry by entry; only the branch taken carries a derivative. */
  where: {
    label: '? :',
    arity: 3,
    shape: (args) => elementwiseShape('? :', args),
    value(v, out, args) {
      const [c, a, b] = [args[0]!, args[1]!, args[2]!];
      const sc = c.size === 1 ? 0 : 1;
      const sa = a.size === 1 ? 0 : 1;
      const sb = b.size === 1 ? 0 : 1;
      for (let k = 0; k < out.size; k++) {
        const cond = v[c.offset + sc * k]!;
        v[out.offset + k] = cond !== 0 && !Number.isNaN(cond) ? v[a.offset + sa * k]! : v[b.offset + sb * k]!;
      }
    },
    partial(b, i, node) {
      if (i === 0) return ZERO;
      const A = algebra(b);
      const cond = node.args[0]!;
      return elementwise(i === 1 ? A.where(cond, A.c(1), A.c(0)) : A.where(cond, A.c(0), A.c(1)));
    },
  },
};

export { paramOf };
