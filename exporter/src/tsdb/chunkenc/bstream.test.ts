import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { BitReader, BitWriter, floatFromBits, floatHi, floatLo } from './bstream.js';

describe('BitWriter / BitReader', () => {
  it('round-trips runs of fields of every width 0..64', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 64 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), {
          maxLength: 60,
        }),
        (fields) => {
          const w = new BitWriter(1); // tiny on purpose: exercises growth
          for (const [n, x] of fields) w.writeBits64(Number(x >> 32n), Number(x & 0xffffffffn), n);
          const total = fields.reduce((a, [n]) => a + n, 0);
          expect(w.bitLength()).toBe(total);
          const bytes = w.bytes();
          expect(bytes.length).toBe(Math.ceil(total / 8));
          const r = new BitReader(bytes);
          for (const [n, x] of fields) {
            r.readBits64(n);
            const got = (BigInt(r.hi) << 32n) | BigInt(r.lo);
            expect(got).toBe(n === 0 ? 0n : x & ((1n << BigInt(n)) - 1n));
          }
          expect(r.overrun()).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    { name: 'zero', x: 0, bytes: [0x00] },
    { name: 'one byte max', x: 127, bytes: [0x7f] },
    { name: 'two bytes', x: 300, bytes: [0xac, 0x02] },
    { name: 'max safe', x: Number.MAX_SAFE_INTEGER, bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f] },
  ])('uvarint $name matches Go binary.PutUvarint', ({ x, bytes }) => {
    const w = new BitWriter();
    w.writeUvarint(x);
    expect(Array.from(w.bytes())).toEqual(bytes);
    expect(new BitReader(w.bytes()).readUvarint()).toBe(x);
  });

  it.each([
    0,
    1,
    -1,
    63,
    -64,
    1_764_000_000_000,
    -(2 ** 52),
    2 ** 52,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
  ])('varint round-trips %d (zig-zag, BigInt path beyond 2^52)', (x) => {
    const w = new BitWriter();
    w.writeVarint(x);
    expect(new BitReader(w.bytes()).readVarint()).toBe(x);
  });

  it.each([
    { name: 'empty', bytes: [] },
    { name: 'unterminated', bytes: [0x80, 0x80] },
    { name: 'eleven bytes', bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] },
  ])('readUvarint returns undefined for $name input', ({ bytes }) => {
    expect(new BitReader(Uint8Array.from(bytes)).readUvarint()).toBeUndefined();
  });

  it('reads past the end as zeros and reports the overrun', () => {
    const r = new BitReader(Uint8Array.from([0xff]));
    expect(r.readBits(4)).toBe(0xf);
    expect(r.overrun()).toBe(false);
    expect(r.readBits(12)).toBe(0xf00);
    expect(r.overrun()).toBe(true);
    expect(r.peek32()).toBe(0);
  });

  it('float halves keep NaN payloads and the sign of zero', () => {
    for (const [hi, lo] of [
      [0x7ff00000, 0x00000002], // Prometheus stale marker
      [0xfff80000, 0x12345678],
      [0x7ff00000, 0x00000001], // signalling NaN
      [0x80000000, 0x00000000], // −0
      [0x00000000, 0x00000001], // smallest subnormal
    ] as const) {
      const v = floatFromBits(hi, lo);
      expect([floatHi(v), floatLo()]).toEqual([hi, lo]);
    }
  });
});
