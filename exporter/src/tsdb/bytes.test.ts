import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter } from './bytes.js';

describe('ByteWriter.string', () => {
  it('writes a u32 length and the UTF-8 TextEncoder gives, and reads back, for any strings', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.string({ unit: 'binary' }),
            // UTF-16 code units, lone surrogates included.
            fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
          ),
        ),
        (strings) => {
          const w = new ByteWriter(8);
          for (const s of strings) w.string(s);
          const expected: number[] = [];
          for (const s of strings) {
            const b = new TextEncoder().encode(s);
            expected.push(
              b.length & 0xff,
              (b.length >>> 8) & 0xff,
              (b.length >>> 16) & 0xff,
              b.length >>> 24,
              ...b,
            );
          }
          expect(Array.from(w.finish())).toEqual(expected);
          const r = new ByteReader(w.finish());
          // Lone surrogates are not UTF-8: they come back as U+FFFD, as TextEncoder writes them.
          for (const s of strings)
            expect(r.string()).toBe(new TextDecoder().decode(new TextEncoder().encode(s)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
