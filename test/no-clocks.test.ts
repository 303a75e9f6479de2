/**
 * Tests never time anything (issue 10): a test that compares a duration fails
 * on a loaded machine and passes on a broken one. Limits are checked by their
 * effect instead (which step refuses, how much was built or run). This file
 * reads every test file and allows no clock reading and no assertion on a
 * duration; a test may replace the clock (vi.spyOn(performance, 'now')).
 * It scans every test file but itself (it holds the patterns). Its own samples are assembled from parts, so
 * that no line of it reads a clock either.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const TEST = join(ROOT, 'test');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

/** Ways to read a clock, or to assert on a duration (written so that they do not match themselves). */
const FORBIDDEN: readonly (readonly [string, RegExp])[] = [
  ['the performance clock', /\bperformance\s*\.\s*now\s*\(/],
  ['the performance timeline (timeOrigin, mark, measure)', /\bperformance\s*\.\s*(timeOrigin|mark|measure)\b/],
  ['the Date clock', /\bDate\s*\.\s*now\b/],
  ['the current date', /\bnew\s+Date\s*\(\s*\)/],
  ['the high-resolution process clock', /\bhrtime\b/],
  ['a console timer', /\bconsole\s*\.\s*time(End|Log)?\b/],
  ['an assertion on milliseconds', /expect\([^()\n]*\b(ms|elapsed|duration)\b[^()\n]*\)/],
];

/** The clock readings and duration assertions of a text, as `line: what`. */
function clockReadings(text: string): string[] {
  return text
    .split('\n')
    .flatMap((line, i) => FORBIDDEN.filter(([, re]) => re.test(line)).map(([what]) => `${i + 1}: ${what}`));
}

describe('no test reads the clock', () => {
  it('the scanner finds each way of timing', () => {
    // Each sample joins its parts with '.', '(' or ' ': written whole, this file would time itself.
    const call = (object: string, member: string, args = '') => `${object}.${member}(${args})`;
    const samples = [
      `const start = ${call('performance', 'now')};`,
      `const t0 = ${call('Date', 'now')};`,
      `const [s] = ${call('process', 'hr' + 'time')};`,
      call(['process', 'hr' + 'time'].join('.'), 'bigint'),
      `const when = ${['new', 'Date()'].join(' ')};`,
      `${call('console', 'time', "'run'")};`,
      `${['expect', '(run.ms)'].join('')}.${'toBeLess' + 'Than'}(2000);`,
      `${['expect', '(elapsed)'].join('')}.${'toBeLess' + 'Than'}(1000);`,
    ];
    for (const sample of samples) expect(clockReadings(sample), sample).toHaveLength(1);
    expect(clockReadings("vi.spyOn(performance, 'now').mockImplementation(() => (now += 100));")).toEqual([]);
    expect(clockReadings("new Date('2020-01-01')")).toEqual([]);
  });

  // Every test file but this one, which holds the patterns and their samples.
  const tests = files(TEST).filter((f) => f !== fileURLToPath(import.meta.url));

  it('scans the test files, helpers included', () => {
    expect(tests.map((f) => relative(ROOT, f))).toEqual(
      expect.arrayContaining(['test/fuzz.test.ts', 'test/helpers/cli.ts', 'test/helpers/fuzz.ts']),
    );
  });

  it.each(tests.map((f) => [relative(ROOT, f), f]))('%s', (_name, file) => {
    expect(clockReadings(readFileSync(file, 'utf8'))).toEqual([]);
  });
});
