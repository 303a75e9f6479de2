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
  const isTopLevel = (node: MathNode, path: string) =>
    node === ast || (ast.type === 'BlockNode' && /^blocks\[\d+\]\.node$/.test(path));
  walk(ast, (node, path) => {
    const refusal = REFUSED[node.type];
    if (refusal !== undefined) throw new UnsupportedError(refusal);
    const name = node.type === 'SymbolNode' ? (node as unknown as { name: string }).name : '';
    if (Object.hasOwn(FOREIGN_KEYWORDS, name)) throw new UnsupportedError(FOREIGN_KEYWORDS[name]!);
    // The statement test runs for statements only: the walk visits every node of a long expression.
    if (STATEMENT_TYPES.has(node.type) && !isTopLevel(node, path)) {
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
  let ast: MathNode;
  try {
    ast = parse(source);
  } catch (error) {
    // mathjs's recursive-descent parser runs out of stack on deep nesting.
    if (error instanceof RangeError) throw nestedTooDeeply();
    // Everything else mathjs's parser throws is about the text: "String \"0x\" is not a valid number", …
    if (error instanceof Error) {
      const hint = operatorFromElsewhere(source);
      if (hint !== null) throw new ParseError(`syntax error: ${hint.message}`, source, hint.column);
      const message = error.message.replace(/\s*\(char \d+\)\s*$/, '');
      const column =
        'char' in error && typeof error.char === 'number' ? Math.min(Math.max(error.char - 1, 0), source.length) : null;
      throw new ParseError(`syntax error: ${message}`, source, column);
    }
    throw error;
  }
  // Only separators and comments (`;`, `# c`): mathjs reads them as the constant undefined.
  if (ast.type === 'ConstantNode' && (ast as unknown as { value: unknown }).value === undefined)
    throw new InputError('the program has no expression, only ; or # comments: give one, for example "x*2"');
  return ast;
}

/** Operators of Python, NumPy and MATLAB that mathjs lacks, with what to write instead. */
const FOREIGN_OPERATORS: readonly { readonly operator: string; readonly message: string }[] = [
  { operator: '**', message: '** is not an operator here: use ^ for a power (x^2), .^ element-wise (x.^2)' },
  { operator: '@', message: '@ is not an operator here: use * for matrix products (A*x), .* element-wise' },
];

const LOOPS =
  'loops are not part of the language: write a recursion, as f(k, y) = k == 0 ? y : f(k - 1, g(y)), map(x, f), ' +
  'or a reduction such as sum(…)';
const CONDITIONS = 'if is not part of the language: write a ternary, as c ? a : b';

/** Statements of MATLAB and Python that the language has no form of, with what to write instead. */
const FOREIGN_STATEMENTS: readonly { readonly keyword: RegExp; readonly message: string }[] = [
  { keyword: /(?<=^|[;\n]\s*)(for|while)\b/, message: LOOPS },
  { keyword: /(?<=^|[;\n]\s*)if\b/, message: CONDITIONS },
];

/**
 * Keywords of those statements that mathjs reads as names (`while y > 1` is while·y > 1): a name so spelled is
 * taken for the statement, not asked a value for.
 */
const FOREIGN_KEYWORDS: Readonly<Record<string, string>> = {
  while: LOOPS,
  for: LOOPS,
  if: CONDITIONS,
  elseif: CONDITIONS,
  else: CONDITIONS,
};

/** The first foreign operator or statement in a source mathjs could not parse, with its column; null for none. */
function operatorFromElsewhere(source: string): { message: string; column: number } | null {
  // Blank the # comments (keeping columns): an operator there is no cause of the error.
  const code = source.replace(/#[^\n]*/g, (comment) => ' '.repeat(comment.length));
  const operators = FOREIGN_OPERATORS.map(({ operator, message }) => ({ message, column: code.indexOf(operator) }));
  const statements = FOREIGN_STATEMENTS.map(({ keyword, message }) => ({ message, column: code.search(keyword) }));
  const found = [...operators, ...statements].filter((f) => f.column >= 0).sort((a, b) => a.column - b.column);
  return found[0] ?? null;
}

export function nestedTooDeeply(): LimitError {
  return new LimitError(
    'expression nested too deeply: the parser takes about 250 levels of parentheses, calls or brackets; ' +
      'simplify it or split it into parts',
  );
}
