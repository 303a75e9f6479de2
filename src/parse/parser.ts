/** mathjs's parser, with its failures turned into errors for people. */
import type { MathNode } from 'mathjs';
import { create, parseDependencies } from 'mathjs/number';
import { InputError, LimitError, ParseError, UnsupportedError, withRemedy, type Message } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { walk } from './ast.js';

/** Statements mathjs parses that are not expressions of the language, with what to do instead. */
const STATEMENTS: Readonly<Record<string, Message>> = {
  AssignmentNode: (wording) => `assignment is not supported: give the expression itself, and values ${wording.values}`,
  FunctionAssignmentNode: 'function definitions are not supported: write the expression directly',
  BlockNode: 'several expressions are not supported: give one (for several results, write a vector [a, b, c])',
  ObjectNode: 'objects are not supported: use numbers, vectors and matrices',
};

// Only the parser is built, so a bundle of the CLI carries (and loads) only what parsing needs.
const { parse } = create({ parseDependencies: parseDependencies! });

/** Parses one expression of the language; statements and syntax errors are refused with a message. */
export function parseExpression(source: string, limits: Limits = DEFAULT_LIMITS): MathNode {
  if (source.length > limits.maxExpressionLength) {
    const { length } = source;
    throw new LimitError((wording) =>
      withRemedy(
        `the expression has ${length} characters, more than the limit of ${limits.maxExpressionLength}`,
        wording.raise('maxExpressionLength'),
      ),
    );
  }
  const ast = parseSyntax(source);
  walk(ast, (node) => {
    const refusal = STATEMENTS[node.type];
    if (refusal !== undefined) throw new UnsupportedError(refusal);
  });
  return ast;
}

function parseSyntax(source: string): MathNode {
  if (source.trim() === '') throw new InputError('empty expression: give one, for example "x*2"');
  try {
    return parse(source);
  } catch (error) {
    // mathjs's recursive-descent parser runs out of stack on deep nesting.
    if (error instanceof RangeError) throw nestedTooDeeply();
    // Everything else mathjs's parser throws is about the text: "String \"0x\" is not a valid number", …
    if (error instanceof Error) {
      const message = error.message.replace(/\s*\(char \d+\)\s*$/, '');
      const column =
        'char' in error && typeof error.char === 'number' ? Math.min(Math.max(error.char - 1, 0), source.length) : null;
      throw new ParseError(`syntax error: ${message}`, source, column);
    }
    throw error;
  }
}

export function nestedTooDeeply(): LimitError {
  return new LimitError(
    'expression nested too deeply: the parser takes about 250 levels of parentheses, calls or brackets; ' +
      'simplify it or split it into parts',
  );
}
