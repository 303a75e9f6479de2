/**
 * Output chunks (format/chunks.ts): pieces of text and of bytes, joined into chunks of bounded size in order, so
 * that a large result is written in few writes without its text ever being held whole.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_CHARACTERS, chunked, textOf, type Chunk } from '../src/format/chunks.js';

const ascii = new TextEncoder();

describe('output chunks', () => {
  it('hold the pieces in order, texts and bytes alike, non-ASCII text included', () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.integer({ min: 0, max: 3 * CHUNK_CHARACTERS }).map((n) => ascii.encode('7,'.repeat(n >> 1))),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces: Chunk[]) => {
        const expected = pieces.map((p) => (typeof p === 'string' ? p : new TextDecoder().decode(p))).join('');
        expect(textOf(chunked(pieces)) === expected).toBe(true);
      }),
      { seed: 20261203, numRuns: 200 },
    );
  });

  it('join the small rows of a matrix and their brackets into few chunks; a large piece passes alone', () => {
    const row = ascii.encode('0.5,'.repeat(250));
    const pieces: Chunk[] = ['['];
    for (let i = 0; i < 1000; i++) pieces.push(i === 0 ? '[' : '],[', row);
    pieces.push(']]');
    const chunks = Array.from(chunked(pieces));
    const size = pieces.reduce((total, p) => total + p.length, 0);
    expect(chunks.length).toBeLessThanOrEqual(Math.ceil(size / CHUNK_CHARACTERS) + 1);
    const large = ascii.encode('1'.repeat(CHUNK_CHARACTERS));
    const alone = Array.from(chunked(['a', large, 'b']));
    expect(alone.length).toBe(3);
    expect(alone[1]).toBe(large);
  });
});
