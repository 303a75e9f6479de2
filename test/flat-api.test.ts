/**
 * compile()'s constants (names fixed when compiling) and the flat methods (Float64Arrays in and
 * out), which GradBench's evals use: they agree with the nested methods and refuse wrong input.
 */
import { describe, expect, it, vi } from 'vitest';
import { compile, InputError } from '../src/index.js';

describe('compile constants', () => {
  const steps = 'step(y, k) = k == 0 ? y : step(y .* x, k - 1)\nstep(ones(size(x)), s)';

  it('counts a recursion and sizes a range, as literals would', () => {
    const at = { x: [0.5, 2, 3] };
    const byConstant = compile(steps, { x: [3] }, { constants: { s: 4 } });
    const literal = compile('step(y, k) = k == 0 ? y : step(y .* x, k - 1)\nstep(ones(size(x)), 4)', { x: [3] });
    expect(byConstant.evaluate(at)).toEqual(literal.evaluate(at));
    expect(byConstant.jacobian(at).jacobian).toEqual(literal.jacobian(at).jacobian);
    expect(compile('sum((1:n) .* x)', { x: [3] }, { constants: { n: 3 } }).evaluate({ x: [1, 1, 2] })).toBe(9);
  });

  it('is neither an input nor differentiated', () => {
    const f = compile('x * c', { x: [2] }, { constants: { c: 3 } });
    expect(f.variables).toEqual(['x']);
    expect(f.jacobian({ x: [1, 2] }).jacobian).toEqual([
      [3, 0],
      [0, 3],
    ]);
  });

  it('refuses a name given both a shape and a value, and unknown options', () => {
    expect(() => compile('x', { x: [2] }, { constants: { x: 1 } })).toThrow(/x is given a shape and a constant/);
    expect(() => compile('x', { x: [2] }, { values: {} } as never)).toThrow(InputError);
  });
});

describe('flat methods', () => {
  const f = compile('[sum(W * x) * y, y^2, exp(x[1])]', { W: [2, 3], x: [3], y: [] });
  const nested = {
    W: [
      [1, 2, 3],
      [4, 5, 6],
    ],
    x: [0.1, 0.2, 0.3],
    y: 1.5,
  };
  const flat = { W: Float64Array.of(1, 2, 3, 4, 5, 6), x: Float64Array.of(0.1, 0.2, 0.3), y: 1.5 };
  const total = compile('sum(W * x) * y + y^2', { W: [2, 3], x: [3], y: [] });

  it('give the nested methods’ numbers as Float64Arrays, matrices row-major', () => {
    expect(f.evaluateFlat(flat)).toEqual(Float64Array.from(f.evaluate(nested) as number[]));
    const v = [1, -2, 0.5];
    expect(Array.from(f.vjpFlat(flat, Float64Array.from(v)).vjp)).toEqual(f.vjp(nested, v).vjp);
    const u = [1, 0, 2, 0, 1, 0, 1, 1, 1, 3];
    expect(Array.from(f.jvpFlat(flat, u).jvp)).toEqual(f.jvp(nested, u).jvp);
    const g = total.gradFlat(flat, { wrt: ['x', 'y'] });
    expect(g.grad).toBeInstanceOf(Float64Array);
    expect(Array.from(g.grad)).toEqual(total.grad(nested, { wrt: ['x', 'y'] }).grad);
    expect(g.value[0]).toBe(total.evaluate(nested));
    expect(Array.from(total.hvpFlat(flat, u).hvp)).toEqual(total.hvp(nested, u).hvp);
  });

  it('read the arrays without keeping them: a changed array gives a new result', () => {
    const x = Float64Array.of(1, 2);
    const square = compile('x .^ 2', { x: [2] });
    expect(Array.from(square.evaluateFlat({ x }))).toEqual([1, 4]);
    x[1] = 3;
    expect(Array.from(square.evaluateFlat({ x }))).toEqual([1, 9]);
  });

  it('read a variable in place from its inputArray, which no step overwrites, and copy any other array', () => {
    // A large lse (fused loops, a value plan that reuses places between its intermediates) and a small product.
    const n = 20000;
    const lse = compile('a = max(x)\na + log(sum(exp(x - a)))', { x: [n] });
    const x = lse.inputArray('x');
    expect(x.length).toBe(n);
    for (let k = 0; k < n; k++) x[k] = Math.sin(k);
    const copy = x.slice();
    // Copies of all n entries into the plan's buffer (x's).
    const copies = vi.spyOn(Float64Array.prototype, 'set');
    const inputCopies = (): number =>
      copies.mock.calls.filter(
        ([source], i) =>
          (copies.mock.contexts[i] as Float64Array).buffer === x.buffer && (source as ArrayLike<number>).length === n,
      ).length;
    const inPlace = lse.evaluateFlat({ x });
    expect(inputCopies()).toBe(0);
    const copied = lse.evaluateFlat({ x: copy });
    expect(inputCopies()).toBe(1);
    copies.mockRestore();
    expect(Array.from(inPlace)).toEqual(Array.from(copied));
    // The array is the input's place: what is written into it is the next value's input; the runs left it as it was.
    expect(Array.from(x)).toEqual(Array.from(copy));
    x[7] = 40;
    expect(lse.evaluateFlat({ x })[0]).toBeCloseTo(40, 10);
    const product = compile('W * x', { W: [2, 2], x: [2] });
    product.inputArray('W').set([1, 2, 3, 4]);
    expect(Array.from(product.evaluateFlat({ W: product.inputArray('W'), x: Float64Array.of(1, 1) }))).toEqual([3, 7]);
    expect(() => product.inputArray('z')).toThrow(/z is not a variable of this expression \(W, x\)/);
    // The gradient's array, for its wrt: read in place, the same gradient as from a copy.
    const gradX = lse.inputArray('x', { wrt: ['x'] });
    expect(gradX.buffer).not.toBe(x.buffer);
    gradX.set(copy);
    const gradCopies = vi.spyOn(Float64Array.prototype, 'set');
    const inPlaceGrad = lse.gradFlat({ x: gradX }).grad;
    const planCopies = gradCopies.mock.calls.filter(
      ([source], i) =>
        (gradCopies.mock.contexts[i] as Float64Array).buffer === gradX.buffer &&
        (source as ArrayLike<number>).length === n,
    ).length;
    gradCopies.mockRestore();
    expect(planCopies).toBe(0);
    expect(Array.from(inPlaceGrad)).toEqual(Array.from(lse.gradFlat({ x: copy }).grad));
    expect(Array.from(lse.vjpFlat({ x: gradX }, [2]).vjp)).toEqual(Array.from(inPlaceGrad, (g) => 2 * g));
    // A variable the value does not read has an array of its own.
    expect(compile('y^2', { x: [2], y: [] }).inputArray('x')).toEqual(new Float64Array(2));
  });

  it('take a variable the expression does not use, and a scalar as a number or one entry', () => {
    const unused = compile('y^2', { x: [2], y: [] });
    expect(Array.from(unused.evaluateFlat({ x: Float64Array.of(5, 6), y: 3 }))).toEqual([9]);
    expect(Array.from(unused.evaluateFlat({ x: Float64Array.of(5, 6), y: Float64Array.of(-4) }))).toEqual([16]);
    expect(() => unused.evaluateFlat({ x: Float64Array.of(5), y: 3 })).toThrow(/x was compiled as 2 \(2 entries\)/);
    expect(() => unused.evaluateFlat({ x: Float64Array.of(5, 6), y: Float64Array.of(1, 2) })).toThrow(
      /y was compiled as a scalar \(1 entry\) but has 2/,
    );
  });

  it('refuse nested arrays, wrong sizes and missing values with messages', () => {
    expect(() => f.evaluateFlat({ ...flat, x: [0.1, 0.2, 0.3] as never })).toThrow(
      /x must be a number or a Float64Array/,
    );
    expect(() => f.evaluateFlat({ ...flat, W: new Float64Array(5) })).toThrow(
      /W was compiled as 2×3 \(6 entries\) but has 5/,
    );
    expect(() => f.evaluateFlat({ W: flat.W, x: flat.x })).toThrow(/no value for y/);
    expect(() => f.vjpFlat(flat, [1, 2])).toThrow(InputError);
  });
});
