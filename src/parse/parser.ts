/** mathjs's parser, with its failures turned into errors for people. */
import type { MathNode } from 'mathjs';
import { create, parseDependencies } from 'mathjs/number';
import { InputError, LimitError, ParseError, UnsupportedError, withRemedy, type Message } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { walk } from './ast.js';

/** Nodes mathjs parses that the language refuses, with what to do instead. */
const REFUSED: Readonly<Record<string, Message>> = {
  ObjectNode: 'objects are not supported: use numbers, vectors and matrices',
};

/** Statements stand at the top of a program, one after another; not inside an expression. */
const STATEMENT_TYPES = new Set(['AssignmentNode', 'FunctionAssignmentNode', 'BlockNode']);

// Only the parser is built, so a bundle of the CLI carries (and loads) only what parsing needs.
const { parse } = create({ parseDependencies: parseDependencies! });

/** Parses a program (statements, or one expression); what the language refuses and syntax errors get a message. */
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
  walk(ast, (node, path) => {
    const refusal = REFUSED[node.type];
    if (refusal !== undefined) throw new UnsupportedError(refusal);
    const topLevel = node === ast || (ast.type === 'BlockNode' && /^blocks\[\d+\]\.node$/.test(path));
    if (STATEMENT_TYPES.has(node.type) && !topLevel) {
      throw new UnsupportedError(
        `${node.type === 'BlockNode' ? 'a block' : 'an assignment'} inside an expression is not supported: ` +
          'write each assignment as a statement of its own, on its own line or after a ;',
      );
    }
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
