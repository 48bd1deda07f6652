import { describe, expect, it } from 'vitest';

import { Encoding } from './chunk.js';
import { decodeChunk } from './decode.js';
import { readChunk } from './read-chunk.js';
import { encodeXor, XOR_MAX_SAMPLES } from './xor.js';

describe('XOR encoding', () => {
  it('writes Prometheus XOR chunk data after the encoding byte (hand-derived golden bytes)', () => {
    // (1000, 1.0), (2000, 1.0), (3000, 2.0):
    // count 0x0003 | varint(1000) = d0 0f | 1.0 = 3ff0…0 | uvarint(1000) = e8 07 | value "0" (same)
    // | dod "0" | value "11" + leading 00001 + sigbits 001011 + 11111111111 (1.0 ^ 2.0 = 0x7ff0…) | pad
    const bytes = encodeXor([1000, 2000, 3000], [1, 1, 2]);
    expect(Array.from(bytes)).toEqual([
      0x01, 0x00, 0x03, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xe8, 0x07, 0x30, 0x97, 0xff, 0xc0,
    ]);
  });

  it.each([
    { name: 'one sample', ts: [5], vs: [1] },
    {
      name: 'dod in the 14-bit bucket',
      ts: [0, 15_000, 30_000, 30_001 + 15_000, 60_000],
      vs: [1, 2, 3, 4, 5],
    },
    {
      name: 'dod bucket edges',
      ts: [0, 10, 20, 20 + 10 + 8192, 20 + 10 + 8192 + 10 + 8192 + 65_536],
      vs: [0, 0, 0, 0, 0],
    },
    { name: 'dod needing 64 bits', ts: [0, 1, 2, 2 ** 40, 2 ** 41], vs: [1, 1, 1, 1, 1] },
    { name: 'negative timestamps', ts: [-1_000_000, -999_000, -500, 0, 1], vs: [-1, -0, 0, 1, 2] },
    {
      name: 'extreme timestamps',
      ts: [Number.MIN_SAFE_INTEGER, -5, 0, 3, Number.MAX_SAFE_INTEGER - 10, Number.MAX_SAFE_INTEGER],
      vs: [1, 2, 3, 4, 5, 6],
    },
    { name: 'xor with 64 significant bits', ts: [1, 2, 3], vs: [1, -Number.MIN_VALUE, 1] },
    { name: 'window reuse', ts: [1, 2, 3, 4], vs: [1, 3, 1, 3] },
  ])('round-trips $name', ({ ts, vs }) => {
    const c = decodeChunk(encodeXor(ts, vs));
    expect(c.encoding).toBe(Encoding.XOR);
    expect(c.numSamples()).toBe(ts.length);
    const got = readChunk(c);
    expect(got.err).toBeUndefined();
    expect(Array.from(got.ts)).toEqual(ts);
    expect(Array.from(got.vs)).toEqual(vs);
  });

  it('refuses more samples than the uint16 count holds', () => {
    const n = XOR_MAX_SAMPLES + 1;
    expect(() =>
      encodeXor(
        new Float64Array(n).map((_, i) => i),
        new Float64Array(n),
      ),
    ).toThrow(/at most 65535/);
  });
});
