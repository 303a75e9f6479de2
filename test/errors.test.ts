/**
 * The library's errors speak of its arguments and options (`v`,
 * `maxMemoryBytes`); the CLI words the same mistakes with its flags (`--v`,
 * `--max-memory`), in one `error:` line (SPEC §5).
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { CLI_WORDING } from '../src/cli/options.js';
import { compileProgram } from '../src/compile.js';
import { LIBRARY_WORDING, withRemedy } from '../src/errors.js';
import {
  compile,
  hessian,
  hvp,
  InputError,
  jacobian,
  jvp,
  LimitError,
  UnboundNameError,
  UnsupportedError,
  vjp,
} from '../src/index.js';
import { parseExpression } from '../src/parse/index.js';
import { DEFAULT_LIMITS } from '../src/limits.js';
import { fakeIo } from './helpers/cli.js';
import { userErrorOf } from './helpers/errors.js';

/** The `error:` line of a CLI mistake; a parse error adds the expression and a caret (two more lines). */
async function cliError(argv: readonly string[], parseError = false): Promise<string> {
  const io = fakeIo();
  expect(await main(argv, io)).toBe(2);
  expect(io.out()).toBe('');
  const lines = io.err().trimEnd().split('\n');
  expect(lines).toHaveLength(parseError ? 3 : 1);
  return lines[0]!;
}

const FLAG = /--[a-z]/;
const numbers = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('library errors name no flag', () => {
  it('v of the wrong length says both lengths in entries', () => {
    const error = userErrorOf(() => vjp('x*2', { x: [1, 2, 3] }, [1, 2]));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('v has 2 entries but the output (vector[3]) has 3 entries: give 3');
    expect(userErrorOf(() => vjp('sum(x)', { x: [1, 2] }, [1, 2])).message).toBe(
      'v has 2 entries but the output (scalar) has 1 entry: give 1',
    );
  });

  it('u of the wrong length, in jvp and hvp', () => {
    expect(userErrorOf(() => jvp('x*2', { x: [1, 2] }, [1])).message).toBe(
      'u has 1 entry but there are 2 inputs (x): give 2',
    );
    expect(userErrorOf(() => hvp('sum(x.^3)', { x: [1, 2] }, [1, 2, 3])).message).toBe(
      'u has 3 entries but there are 2 inputs (x): give 2',
    );
  });

  it('an unbound name is an UnboundNameError, exported with the other errors', () => {
    const error = userErrorOf(() => jacobian('x + y', { x: 1 }));
    expect(error).toBeInstanceOf(UnboundNameError);
    expect((error as UnboundNameError).variable).toBe('y');
    expect(error.message).toBe('no value for y: give y a value');
    expect(userErrorOf(() => compile('x + y', { x: [] }))).toBeInstanceOf(UnboundNameError);
  });

  it('the imaginary unit and an assigned input say how to give values without a flag', () => {
    const complex = userErrorOf(() => jacobian('2*i', {}));
    expect(complex).toBeInstanceOf(UnsupportedError);
    expect(complex.message).toBe(
      'complex numbers are not supported (i is the imaginary unit); to use i as a variable, give i a value',
    );
    expect(jacobian('2*i', { i: 3 }).jacobian).toEqual([[2]]);
    expect(userErrorOf(() => jacobian('a = 2; a', { a: 1 })).message).toBe(
      'a is an input with a given value and is assigned in `a = 2`: rename the intermediate, or leave a out of the values',
    );
  });

  it('a result over maxMemoryBytes names the option', () => {
    const error = userErrorOf(() => jacobian('x*2', { x: numbers(100) }, { maxMemoryBytes: 1000 }));
    expect(error).toBeInstanceOf(LimitError);
    expect(error.message).toBe(
      'the 100×100 Jacobian needs 78.1 KiB, more than the limit of 1000 B ' +
        '(raise it with the option maxMemoryBytes, or use sparseJacobian, vjp or jvp instead)',
    );
    const x = numbers(100);
    expect(userErrorOf(() => hessian('sum(x.^2)', { x }, { maxMemoryBytes: 1000 })).message).toBe(
      'the 100×100 Hessian needs 78.1 KiB, more than the limit of 1000 B ' +
        '(raise it with the option maxMemoryBytes, or use sparseHessian or hvp instead)',
    );
  });

  it('limits the library cannot raise are stated without a remedy', () => {
    const nodes = userErrorOf(() => compileProgram('sin(x)+cos(x)', new Map([['x', { shape: [] }]]), limits(1000, 2)));
    expect(nodes).toBeInstanceOf(LimitError);
    expect(nodes.message).toBe('the compute graph needs more than 2 nodes');
    const length = userErrorOf(() => parseExpression('x+x+x', limits(3, 100)));
    expect(length.message).toBe('the expression has 5 characters, more than the limit of 3');
  });

  it('no library mistake mentions a flag', () => {
    const mistakes: (() => unknown)[] = [
      () => vjp('x*2', { x: [1, 2, 3] }, [1, 2]),
      () => jvp('x*2', { x: [1, 2] }, [1]),
      () => jacobian('x + y', { x: 1 }),
      () => jacobian('2*i', {}),
      () => jacobian('a = 2; a', { a: 1 }),
      () => jacobian('x*2', { x: numbers(100) }, { maxMemoryBytes: 1000 }),
      () => jacobian('x', { x: 1 }, { wrt: ['y'] }),
      () => compile('x .* y', { x: [2], y: [3] }),
    ];
    for (const mistake of mistakes) expect(userErrorOf(mistake).message).not.toMatch(FLAG);
  });
});

describe('the CLI words the same mistakes with its flags', () => {
  it('--v and --u of the wrong length', async () => {
    expect(await cliError(['vjp', 'x*2', '--at', '1,2,3', '--v', '1,2'])).toBe(
      'error: --v has 2 numbers but the output (vector[3]) has 3 entries: give 3',
    );
    expect(await cliError(['jvp', 'x*2', '--at', '1,2', '--u', '1'])).toBe(
      'error: --u has 1 number but there are 2 inputs (x): give 2',
    );
    expect(await cliError(['hvp', 'sum(x.^3)', '--at', '1,2', '--u', '1,2,3'])).toBe(
      'error: --u has 3 numbers but there are 2 inputs (x): give 2',
    );
  });

  it('values are given with --at', async () => {
    expect(await cliError(['x + y', '--at', 'x=1'])).toBe('error: no value for y: add --at y=…');
    expect(await cliError(['2*i'])).toBe(
      'error: complex numbers are not supported (i is the imaginary unit); to use i as a variable, add --at i=…',
    );
    expect(await cliError(['a = 2; a', '--at', 'a=1'], true)).toBe(
      'error: a is an input with a given value and is assigned in `a = 2`: rename the intermediate, or leave out --at a=…',
    );
  });

  it('limits are raised with their flags', async () => {
    expect(await cliError(['x*2', '--at', numbers(100).join(','), '--max-memory', '1000'])).toBe(
      'error: the 100×100 Jacobian needs 78.1 KiB, more than the limit of 1000 B ' +
        '(raise it with --max-memory, or use --sparse, vjp or jvp instead)',
    );
    expect(await cliError(['sin(x)+cos(x)', '--at', '1', '--max-nodes', '2'])).toBe(
      'error: the compute graph needs more than 2 nodes (raise the limit with --max-nodes)',
    );
    expect(await cliError(['x+x+x', '--at', '1', '--max-expr-length', '3'])).toBe(
      'error: the expression has 5 characters, more than the limit of 3 (raise it with --max-expr-length)',
    );
  });

  it('a batch line reports its error in the CLI words', async () => {
    const io = fakeIo({ stdin: '{"at": {"x": [1, 2, 3]}, "v": [1, 2]}\n' });
    expect(await main(['vjp', 'x*2', '--batch', '-'], io)).toBe(1);
    expect(JSON.parse(io.out())).toEqual({
      line: 1,
      error: '--v has 2 numbers but the output (vector[3]) has 3 entries: give 3',
    });
  });
});

describe('wording', () => {
  it('a message written as text reads the same in every wording', () => {
    const error = new InputError('x is empty');
    expect([error.message, error.messageIn(CLI_WORDING), error.messageIn(LIBRARY_WORDING)]).toEqual([
      'x is empty',
      'x is empty',
      'x is empty',
    ]);
  });

  it('a remedy is added in parentheses only when there is one', () => {
    expect(withRemedy('too big', null)).toBe('too big');
    expect(withRemedy('too big', 'raise it')).toBe('too big (raise it)');
  });
});

function limits(maxExpressionLength: number, maxNodes: number) {
  return { ...DEFAULT_LIMITS, maxExpressionLength, maxNodes };
}
