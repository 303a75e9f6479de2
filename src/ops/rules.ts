/**
 * Helpers for writing the table: the shapes partial derivatives come in, and
 * node arithmetic for derivative formulas (so a rule reads like the maths).
 */
import type { Builder, NodeId, Partial, IndexMap, OpName } from './types.js';

export const ZERO: Partial = { kind: 'zero' };
export const elementwise = (d: NodeId): Partial => ({ kind: 'elementwise', d });
export const row = (d: NodeId): Partial => ({ kind: 'row', d });
export const extreme = (index: NodeId, weights: NodeId): Partial => ({ kind: 'extreme', index, weights });
export const select = (map: IndexMap): Partial => ({ kind: 'select', map });
export const dense = (d: NodeId): Partial => ({ kind: 'dense', d });
export const matmulPartial = (left: NodeId | null, right: NodeId | null): Partial => ({ kind: 'matmul', left, right });
export const unsupported = (reason: string): Partial => ({ kind: 'unsupported', reason });

/** Node arithmetic bound to one builder: `const { mul, div, c } = algebra(b)`. */
export function algebra(b: Builder) {
  const call = (op: OpName, ...args: NodeId[]): NodeId => b.apply(op, args);
  return {
    call,
    c: (value: number): NodeId => b.scalar(value),
    add: (p: NodeId, q: NodeId) => call('add', p, q),
    sub: (p: NodeId, q: NodeId) => call('subtract', p, q),
    mul: (p: NodeId, q: NodeId) => call('dotMultiply', p, q),
    /** p·q, but exactly 0 where either factor is 0 (even next to ±Infinity or NaN); differentiable like p·q. */
    strongMul: (p: NodeId, q: NodeId) => call('strongMultiply', p, q),
    div: (p: NodeId, q: NodeId) => call('dotDivide', p, q),
    neg: (p: NodeId) => call('unaryMinus', p),
    recip: (p: NodeId) => call('dotDivide', b.scalar(1), p),
    square: (p: NodeId) => call('square', p),
    sqrt: (p: NodeId) => call('sqrt', p),
    abs: (p: NodeId) => call('abs', p),
    log: (p: NodeId) => call('log', p),
    /** `cond ? whenTrue : whenFalse` element-wise, exact: the other branch is never mixed in. */
    where: (cond: NodeId, whenTrue: NodeId, whenFalse: NodeId) => call('where', cond, whenTrue, whenFalse),
    isZero: (p: NodeId) => call('isZero', p),
    /** Whether p is a constant none of whose entries is 0. */
    neverZero: (p: NodeId): boolean => b.constantValues(p)?.every((x) => x !== 0) ?? false,
  };
}
