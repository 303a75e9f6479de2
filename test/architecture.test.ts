/**
 * The architecture as the folders show it: layers import one way, the core
 * never imports commander or chalk and never exits the process, and the
 * product never evaluates user text (it runs generated code through one
 * module only, engine/compiled.ts). And the tape printer, pinned.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../src/compile.js';
import { GraphBuilder, printTape } from '../src/graph/index.js';
import { ROOT } from './helpers/cli.js';

const SRC = join(ROOT, 'src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

/** The layer of a source file: its folder under src, or the file for top-level modules. */
const layerOf = (file: string): string => relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '');

/** What each layer may import (besides itself and node: modules). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  shape: [],
  limits: [],
  values: ['errors', 'shape'],
  ops: ['errors', 'shape'],
  graph: ['ops', 'errors', 'shape', 'limits'],
  parse: ['graph', 'ops', 'errors', 'shape', 'limits'],
  engine: ['graph', 'ops', 'errors', 'shape'],
  compile: ['parse', 'engine', 'limits'],
  api: ['compile', 'engine', 'errors', 'parse', 'shape', 'values'],
  index: ['api', 'errors'],
  format: ['engine', 'shape', 'values', 'errors'],
  cli: ['compile', 'engine', 'errors', 'format', 'parse', 'values', 'limits', 'shape'],
};

/** The one module that may call `new Function`, once: the compiled kernels. */
const COMPILED_KERNELS = 'engine/compiled.ts';

const imports = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);

describe('architecture', () => {
  const sources = files(SRC);

  it.each(sources.map((f) => [relative(ROOT, f), f]))('%s imports only from the layers below it', (_name, file) => {
    const layer = layerOf(file);
    expect(ALLOWED[layer], `no rule for layer ${layer}`).toBeDefined();
    for (const target of imports(file)) {
      if (!target.startsWith('.')) {
        const external = target.split('/')[0]!;
        if (layer !== 'cli') expect(['commander', 'chalk'], `${file} imports ${target}`).not.toContain(external);
        continue;
      }
      const targetLayer = layerOf(join(file, '..', target).replace(/\.js$/, '.ts'));
      if (targetLayer !== layer)
        expect(ALLOWED[layer], `${relative(ROOT, file)} imports ${target}`).toContain(targetLayer);
    }
  });

  it('the core never exits the process and the product never evaluates user text', () => {
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      if (layerOf(file) !== 'cli') expect(text, file).not.toMatch(/process\.exit\(/);
      expect(text, file).not.toMatch(/(?<![.\w])eval\(/);
      // Generated code runs through one module, whose source holds no user text (test/compiled.test.ts).
      const generated = [...text.matchAll(/new Function\(/g)].length;
      expect(generated, file).toBe(relative(SRC, file) === COMPILED_KERNELS ? 1 : 0);
      // From mathjs the product takes its parser only, never its evaluator.
      for (const [, names = ''] of text.matchAll(/^import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'mathjs[^']*'/gm)) {
        expect(names, file).not.toMatch(/\bevaluate\b|\bcompile\b/);
      }
    }
  });
});

describe('tape printer', () => {
  it('prints x*2 + sin(x) with shapes', () => {
    const program = compileProgram('x*2 + sin(x)', new Map([['x', { shape: [3] }]]));
    expect(program.tapeLength).toBe(5);
    const b = new GraphBuilder();
    const x = b.input('x', [3]);
    b.apply('add', [b.apply('dotMultiply', [x, b.scalar(2)]), b.apply('sin', [x])]);
    expect(printTape(b.tape)).toMatchInlineSnapshot(`
      "%0 = input x : vector[3]
      %1 = constant 2 : scalar
      %2 = dotMultiply %0 %1 : vector[3]
      %3 = sin %0 : vector[3]
      %4 = add %2 %3 : vector[3]"
    `);
  });

  it('reuses identical nodes and folds constants', () => {
    const b = new GraphBuilder();
    const x = b.input('x', []);
    const twice = b.apply('add', [b.apply('sin', [x]), b.apply('sin', [x])]);
    b.apply('dotMultiply', [twice, b.apply('add', [b.scalar(1), b.scalar(2)])]);
    expect(printTape(b.tape)).toMatchInlineSnapshot(`
      "%0 = input x : scalar
      %1 = sin %0 : scalar
      %2 = add %1 %1 : scalar
      %3 = constant 1 : scalar
      %4 = constant 2 : scalar
      %5 = constant 3 : scalar
      %6 = dotMultiply %2 %5 : scalar"
    `);
  });
});
