import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { encodeLossless } from './builder.js';
import { type Chunk, Encoding } from './chunk.js';
import { DeadbandChunkBuilder } from './deadband.js';
import { decodeChunk } from './decode.js';
import { ChunkError } from './errors.js';
import { encodeXor } from './xor.js';

const T0 = 1_764_000_000_000;
const STALE = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;

function series(n: number, f: (i: number) => number): { ts: Float64Array; vs: Float64Array } {
  const ts = new Float64Array(n).map((_, i) => T0 + i * 15_000 + (i % 3));
  const vs = new Float64Array(n).map((_, i) => f(i));
  return { ts, vs };
}

/** SAMPLES are chunks of every encoding and shape whose damaged forms the tests below decode. */
const SAMPLES: { name: string; bytes: Uint8Array }[] = (() => {
  const gauge = series(150, (i) => Math.round(4000 + 900 * Math.sin(i / 5)) / 100);
  const mixed = series(90, (i) => (i % 17 === 0 ? STALE : i % 23 === 0 ? -0 : i * 0.25));
  const floats = series(70, (i) => Math.sin(i) * 1e6);
  const counter = series(200, (i) => 1e9 + i * i * 4096);
  const db = new DeadbandChunkBuilder({ thresholdPct: 5 });
  gauge.ts.forEach((t, i) => db.append(t, gauge.vs[i]!));
  return [
    { name: 'xor gauge', bytes: encodeXor(gauge.ts, gauge.vs) },
    { name: 'xor floats', bytes: encodeXor(floats.ts, floats.vs) },
    { name: 'decimal gauge', bytes: encodeLossless(Encoding.Decimal, gauge.ts, gauge.vs, 150)! },
    { name: 'decimal with exceptions', bytes: encodeLossless(Encoding.Decimal, mixed.ts, mixed.vs, 90)! },
    { name: 'decimal counter', bytes: encodeLossless(Encoding.Decimal, counter.ts, counter.vs, 200)! },
    { name: 'deadband', bytes: db.finish().bytes() },
  ];
})();

/** drain iterates c to the end, bounded, and returns how many samples it produced and its error. */
function drain(c: Chunk): { count: number; err: Error | undefined } {
  const it = c.iterator();
  let count = 0;
  while (it.next()) {
    count++;
    if (count > 70_000) throw new Error('iterator does not terminate');
  }
  expect(it.next()).toBe(false); // stays finished
  return { count, err: it.err() };
}

/** open decodes bytes; returns the ChunkError code if the header is refused. */
function open(bytes: Uint8Array): Chunk | string {
  try {
    return decodeChunk(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ChunkError);
    return (e as ChunkError).code;
  }
}

describe('decodeChunk on damaged input', () => {
  it.each(SAMPLES)('every truncation of $name is refused or reported by err(), never thrown', ({ bytes }) => {
    const whole = open(bytes);
    expect(typeof whole).not.toBe('string');
    const full = drain(whole as Chunk);
    expect(full.err).toBeUndefined();
    for (let len = 0; len < bytes.length; len++) {
      const c = open(bytes.slice(0, len));
      if (typeof c === 'string') {
        expect(['CHUNK_TRUNCATED', 'CHUNK_CORRUPT']).toContain(c);
        continue;
      }
      const got = drain(c);
      expect(got.err, `truncated to ${len} of ${bytes.length} bytes`).toBeInstanceOf(ChunkError);
      expect(got.count).toBeLessThan(full.count);
    }
  });

  it.each(SAMPLES)(
    'random byte damage to $name never throws from the iterator and terminates',
    ({ bytes }) => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 })), {
            minLength: 1,
            maxLength: 4,
          }),
          (flips) => {
            const damaged = bytes.slice();
            for (const [i, x] of flips) damaged[i]! ^= x;
            const c = open(damaged);
            if (typeof c !== 'string') drain(c);
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it.each([
    { name: 'empty input', bytes: [], code: 'CHUNK_TRUNCATED' },
    { name: 'unknown encoding', bytes: [0x09, 0, 0], code: 'CHUNK_UNKNOWN_ENCODING' },
    { name: 'encoding zero', bytes: [0x00], code: 'CHUNK_UNKNOWN_ENCODING' },
    { name: 'XOR without a count', bytes: [Encoding.XOR, 0], code: 'CHUNK_TRUNCATED' },
    { name: 'decimal with zero samples', bytes: [Encoding.Decimal, 0, 0, 0, 1, 0], code: 'CHUNK_CORRUPT' },
    {
      name: 'decimal with too many samples',
      bytes: [Encoding.Decimal, 0x80, 0x80, 0x04],
      code: 'CHUNK_CORRUPT',
    },
    {
      name: 'decimal float-bits mode with a scale',
      bytes: [Encoding.Decimal, 1, 0, 0x81, 1, 0],
      code: 'CHUNK_CORRUPT',
    },
    {
      name: 'decimal float-bits mode without its reference',
      bytes: [Encoding.Decimal, 1, 0, 0x80, 1, 0],
      code: 'CHUNK_TRUNCATED',
    },
    {
      name: 'decimal biased delta without its bias',
      bytes: [Encoding.Decimal, 1, 0, 0x30, 1, 0],
      code: 'CHUNK_TRUNCATED',
    },
    { name: 'decimal zero gcd', bytes: [Encoding.Decimal, 1, 0, 0, 0, 0], code: 'CHUNK_CORRUPT' },
    { name: 'deadband without a threshold', bytes: [Encoding.Deadband], code: 'CHUNK_TRUNCATED' },
    {
      name: 'deadband wrapping deadband',
      bytes: [Encoding.Deadband, 1, Encoding.Deadband, 1],
      code: 'CHUNK_UNKNOWN_ENCODING',
    },
  ])('refuses $name with $code', ({ bytes, code }) => {
    expect(open(Uint8Array.from(bytes))).toBe(code);
  });

  it.each([
    // XOR: two samples whose second timestamp delta is zero (timestamps must increase).
    {
      name: 'XOR with a repeated timestamp',
      bytes: [Encoding.XOR, 0, 2, 2, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0],
    },
    // XOR: "reuse the window" before any window exists.
    {
      name: 'XOR window reuse first',
      bytes: [Encoding.XOR, 0, 2, 2, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0, 0],
    },
    // Decimal: exception count larger than the sample count.
    { name: 'decimal exception count > samples', bytes: [Encoding.Decimal, 1, 0, 0x40, 1, 0, 5, 0] },
  ])('reports $name through err()', ({ bytes }) => {
    const c = open(Uint8Array.from(bytes));
    expect(typeof c).not.toBe('string');
    expect(drain(c as Chunk).err).toBeInstanceOf(ChunkError);
  });
});
