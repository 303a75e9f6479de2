/** A JSON file holding a plain number array is read in one loop: the same tensor as the general reader's. */
import { describe, expect, it } from 'vitest';
import { readValueFile } from '../src/cli/value-files.js';
import { tensorFromJson } from '../src/values.js';

const fromText = (text: string) =>
  readValueFile('x.json', '--at x', {
    text: () => text,
    bytes: () => new Uint8Array(0),
  });

describe('JSON number arrays in files', () => {
  it.each([
    '[1, 2.5, -0, 1e-310, 5e-324, 1.7976931348623157e308, 0.1]',
    '[3]',
    '[1, "NaN", "-Infinity", 2]',
    '[[1, 2], [3, 4]]',
    '7',
  ])('%s reads as tensorFromJson reads it', (text) => {
    const tensor = fromText(text);
    const general = tensorFromJson(JSON.parse(text), 'x');
    expect(tensor.shape).toEqual(general.shape);
    expect(Array.from(tensor.data, (x) => (Object.is(x, -0) ? '-0' : String(x)))).toEqual(
      Array.from(general.data, (x) => (Object.is(x, -0) ? '-0' : String(x))),
    );
    expect(tensor.json).toBe(text.replace(/\s+/g, ''));
  });

  it.each([
    ['[]', /empty array/],
    ['[1, true]', /must be numbers/],
    ['[1, null, 2]', /must be numbers/],
    ['[1, [2]]', /ragged|numbers/],
  ])('%s is refused as before', (text, message) => {
    expect(() => fromText(text)).toThrow(message);
    expect(() => tensorFromJson(JSON.parse(text), 'x')).toThrow(message);
  });
});
