import { describe, expect, it } from 'vitest';

import { Encoding } from './chunk.js';
import { decimalScale, encodeDecimal, FLOAT_BITS, NOT_DECIMAL } from './decimal.js';
import { decodeChunk } from './decode.js';
import { readChunk } from './read-chunk.js';

const STALE = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;
const T0 = 1_764_000_000_000;

function bits(v: number): bigint {
  return new BigUint64Array(new Float64Array([v]).buffer)[0]!;
}

describe('decimalScale', () => {
  it.each([
    { v: 0, k: 0 },
    { v: 42, k: 0 },
    { v: -7, k: 0 },
    { v: 45.2, k: 1 },
    { v: 45.23, k: 2 },
    { v: 0.1, k: 1 },
    { v: 0.3, k: 1 },
    { v: 0.1 + 0.2, k: 17 }, // 0.30000000000000004: no scale ≤ 15 → NOT_DECIMAL
    { v: 1e-15, k: 15 },
    { v: 123456.789, k: 3 },
    { v: 2 ** 50 - 1, k: 0 },
    { v: 2 ** 50, k: NOT_DECIMAL }, // beyond the exact-arithmetic bound
    { v: -0, k: NOT_DECIMAL },
    { v: NaN, k: NOT_DECIMAL },
    { v: STALE, k: NOT_DECIMAL },
    { v: Infinity, k: NOT_DECIMAL },
    { v: 5e-324, k: NOT_DECIMAL },
    { v: Math.PI, k: NOT_DECIMAL },
  ])('decimalScale($v) = $k', ({ v, k }) => {
    expect(decimalScale(v)).toBe(k === 17 ? NOT_DECIMAL : k);
    if (k !== NOT_DECIMAL && k !== 17) expect(decimalScale(v, k)).toBe(k); // with a correct hint
    expect(decimalScale(v, 3)).toBe(decimalScale(v)); // a hint never changes the answer
  });
});

/** roundTrip encodes with scale k, decodes, and checks bits; returns the chunk size. */
function roundTrip(ts: number[], vs: number[], k: number): number {
  const bytes = encodeDecimal(ts, vs, ts.length, k);
  expect(bytes).toBeDefined();
  const c = decodeChunk(bytes!);
  expect(c.encoding).toBe(Encoding.Decimal);
  expect(c.numSamples()).toBe(ts.length);
  const got = readChunk(c);
  expect(got.err).toBeUndefined();
  expect(Array.from(got.ts)).toEqual(ts);
  expect(Array.from(got.vs, bits)).toEqual(vs.map(bits));
  return bytes!.length;
}

const ticks = (n: number, step = 15_000) => Array.from({ length: n }, (_, i) => T0 + i * step);

describe('decimal encoding', () => {
  it.each([
    { name: 'single sample', ts: [T0], vs: [1.5], k: 1 },
    { name: 'two samples', ts: [-10, 5], vs: [2.25, -1], k: 2 },
    { name: 'exception first', ts: ticks(5), vs: [NaN, 1, 2, 3, 4], k: 0 },
    { name: 'exception last (stale marker)', ts: ticks(5), vs: [1, 2, 3, 4, STALE], k: 0 },
    { name: 'all exceptions', ts: ticks(4), vs: [NaN, -0, Infinity, 5e-324], k: 0 },
    { name: 'value beyond 2^50', ts: ticks(3), vs: [1, 2 ** 52, 3], k: 0 },
    { name: 'too many digits for k', ts: ticks(3), vs: [1.5, 1.25, 1.125], k: 1 },
    { name: 'max scale', ts: ticks(3), vs: [1e-15, 2e-15, 3e-15], k: 15 },
    { name: 'negative timestamps', ts: [-(2 ** 49), -(2 ** 49) + 7, -3, 0, 11], vs: [0, 1, 2, 3, 4], k: 0 },
    { name: 'irregular gaps', ts: [0, 1, 1000, 1001, 5_000_000, 5_000_003], vs: [9, 8, 7, 6, 5, 4], k: 0 },
  ])('round-trips $name', ({ ts, vs, k }) => {
    roundTrip(ts, vs, k);
  });

  it.each([
    { name: 'timestamp beyond 2^50', ts: [0, 2 ** 50], vs: [1, 2], k: 0 },
    { name: 'no samples', ts: [], vs: [], k: 0 },
    { name: 'scale out of range', ts: [1], vs: [1], k: FLOAT_BITS + 1 },
  ])('declines $name (the builder then uses XOR)', ({ ts, vs, k }) => {
    expect(encodeDecimal(ts, vs, ts.length, k)).toBeUndefined();
  });

  it.each([
    // Regular ticks + constant: header only, ~1 bit per 32 samples per stream.
    { name: 'constant on regular ticks', vs: (_: number) => 42, maxBytes: 20 },
    // A counter growing by a fixed step: order 2 makes every residual zero.
    { name: 'linear counter', vs: (i: number) => 1e12 + i * 1500, maxBytes: 26 },
    // A noisy counter (rate 1000 ± 50): deltas minus their mean need ~7 bits, delta-of-deltas ~8.
    { name: 'noisy counter', vs: (i: number) => 1e9 + i * 1000 + (((i * 7919) % 101) - 50), maxBytes: 118 },
    // Page-sized steps: the GCD (4096) divides out.
    { name: 'page-granular gauge', vs: (i: number) => 8e9 + ((i * 7919) % 13) * 4096, maxBytes: 90 },
    // A 2-decimal gauge in a ±0.5 band: ~7 bits per sample.
    {
      name: 'two-decimal gauge',
      vs: (i: number) => Math.round(5000 + 50 * Math.sin(i)) / 100,
      maxBytes: 130,
    },
  ])('compresses $name of 120 samples to ≤ $maxBytes bytes', ({ vs, maxBytes }) => {
    const ts = ticks(120);
    const values = ts.map((_, i) => vs(i));
    const k = Math.max(...values.map((v) => decimalScale(v)));
    expect(roundTrip(ts, values, k)).toBeLessThanOrEqual(maxBytes);
  });

  it.each([
    { name: 'a linear float trend', vs: (i: number) => 59.71831229412717 + i * 5.63984e-5, maxBytes: 60 },
    { name: 'float32 values', vs: (i: number) => Math.fround(22 + Math.sin(i / 9) / 10), maxBytes: 330 },
    { name: 'stale markers', vs: () => STALE, maxBytes: 30 },
    {
      name: 'a NaN among float32 values',
      vs: (i: number) => (i === 7 ? NaN : Math.fround(1 + i / 4096)),
      maxBytes: 60,
    },
  ])('float-bits mode round-trips $name of 120 samples in ≤ $maxBytes bytes', ({ vs, maxBytes }) => {
    const ts = ticks(120);
    expect(
      roundTrip(
        ts,
        ts.map((_, i) => vs(i)),
        FLOAT_BITS,
      ),
    ).toBeLessThanOrEqual(maxBytes);
  });

  it('float-bits mode treats values far from the first (sign change, other exponent) as exceptions', () => {
    const ts = ticks(6);
    roundTrip(ts, [1.5, -1.5, 1.5000000000000002, 1e300, -0, 1.4999999999999998], FLOAT_BITS);
  });

  it('costs a regular 15 s tick stream about one bit per 32 samples', () => {
    const regular = ticks(480);
    const size = roundTrip(
      regular,
      regular.map(() => 1),
      0,
    );
    expect(size).toBeLessThanOrEqual(24);
  });
});
