/**
 * Did-you-mean: mistyped commands and functions, operators of other
 * languages, and options of another command get a suggestion that fits.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { ParseError } from '../src/errors.js';
import { parseExpression } from '../src/parse/index.js';
import { editDistance, nearestNames } from '../src/parse/suggest.js';
import { runChild, runInProcess } from './helpers/cli.js';
import { userErrorOf } from './helpers/errors.js';

describe('edit distance and nearest names', () => {
  it.each([
    ['sin', 'sin', 0],
    ['sinn', 'sin', 1],
    ['tna', 'tan', 1],
    ['gradient', 'grad', 4],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ])('%s → %s: %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('prefers a case-insensitive match, then the fewest edits, then the longest shared start', () => {
    expect(nearestNames('Sin', ['sinh', 'sin', 'sign'])).toEqual(['sin']);
    expect(nearestNames('sinn', ['sign', 'sinh', 'sin', 'cos'])).toEqual(['sin', 'sinh', 'sign']);
    expect(nearestNames('hes', ['jac', 'hessian', 'hvp'])).toEqual(['hessian']);
    expect(nearestNames('zzzz', ['sin', 'cos'])).toEqual([]);
  });
});

describe('unknown functions suggest the nearest names, not all of them', () => {
  it.each([
    ['sinn(x)', 'sin'],
    ['Sin(x)', 'sin'],
    ['ln(x)', 'log'],
    ['arctan(x)', 'atan'],
    ['sigmod(x)', 'sigmoid'],
    ['Softmax(x)', 'softmax'],
  ])('%s → did you mean %s', (expr, name) => {
    const { message } = userErrorOf(() => compile(expr, { x: [2] }));
    expect(message).toMatch(new RegExp(`did you mean ${name}\\b`));
    expect(message).not.toMatch(/supported functions are/);
    expect(message.length).toBeLessThan(80);
  });

  it('a name far from every function still gets the whole list', () => {
    expect(userErrorOf(() => compile('qqqq(x)', { x: [] })).message).toMatch(/supported functions are abs, .*zeros$/);
  });
});

describe('operators of other languages', () => {
  it('x**2 says to use ^ or .^, with the caret under **', () => {
    const error = userErrorOf(() => parseExpression('x**2'));
    expect(error).toBeInstanceOf(ParseError);
    expect(error.message).toMatch(/\*\* is not an operator.*\^.*\.\^/);
    expect((error as ParseError).column).toBe(1);
  });

  it('A @ x says to use * for matrix products', () => {
    const error = userErrorOf(() => parseExpression('A @ x + b'));
    expect(error.message).toMatch(/@ is not an operator.*use \* for matrix products/);
    expect((error as ParseError).column).toBe(2);
  });

  it('a ** in a comment is not blamed for another mistake', () => {
    expect(userErrorOf(() => parseExpression('y = x + # x**2\ny +')).message).not.toMatch(/\*\*/);
  });
});

// The same main the command runs, in-process; the first case also as a child (commander's error, exit 2, no stack).
describe('the command line', () => {
  const userError = async (args: readonly string[]): Promise<string> => {
    const result = await runInProcess(args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: /);
    return lines[0]!;
  };

  it.each([
    [['gradient', 'x.^2', '--at', '1,2'], "unknown command 'gradient' (did you mean grad?)"],
    [['hess', 'sum(x.^3)', '--at', '1,2'], "unknown command 'hess' (did you mean hessian?)"],
    [['jacobian', 'x*2', '--at', '1,2'], "unknown command 'jacobian' (did you mean jac?)"],
    [['vjpp', 'x*2', '--at', '1,2', '--v', '1,1'], "unknown command 'vjpp' (did you mean vjp?)"],
    [['chek', 'x*2', '--at', '1,2'], "unknown command 'chek' (did you mean check?)"],
  ])('%j', async (args, says) => {
    expect(await userError(args)).toBe(`error: ${says}`);
    if (args[0] === 'gradient') expect(runChild(args)).toEqual({ status: 2, stdout: '', stderr: `error: ${says}\n` });
  });

  it('a bare name bound with --at is an expression, not a mistyped command', async () => {
    const named = await runInProcess(['hess', '--at', 'hess=2', '--json']);
    expect(named.status).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ expr: 'hess', jacobian: [[1]] });
    expect((await runInProcess(['grd', '--at', '1,2'])).status).toBe(0);
  });

  it('x**2 and x @ y on the command line', async () => {
    expect((await runInProcess(['x**2', '--at', '3'])).stderr).toMatch(/^error: syntax error: \*\* is not an operator/);
    expect((await runInProcess(['A @ x', '--at', 'A=[[1]]', '--at', 'x=1'])).stderr).toMatch(
      /use \* for matrix products/,
    );
  });

  it('ln(x) suggests log on one short line', async () => {
    expect(await userError(['ln(x)', '--at', '1'])).toBe('error: unknown function ln: did you mean log?');
  });

  it('an option of another command says whose it is, not a look-alike', async () => {
    const line = await userError(['vjp', 'x*2', '--at', '1,2', '--v', '1,1', '--sparse']);
    expect(line).toBe('error: --sparse is an option of jac (and hessian), not of vjp');
    expect(await userError(['x*2', '--at', '1,2', '--tol', '1e-3'])).toBe(
      'error: --tol is an option of check, not of jac',
    );
    expect(await userError(['jvp', 'x', '--at', '1', '--u', '1', '--v', '1'])).toMatch(
      /--v is an option of vjp, not of jvp/,
    );
  });

  it("a mistyped option still gets commander's nearest spelling", async () => {
    expect(await userError(['x', '--at', '1', '--wrtt', 'x'])).toMatch(
      /unknown option '--wrtt' \(Did you mean --wrt\?\)/,
    );
  });
});
