import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { encodeLossless, LosslessChunkBuilder, MAX_CHUNK_SAMPLES, newChunkBuilder } from './builder.js';
import { Encoding } from './chunk.js';
import { decodeChunk } from './decode.js';
import { encodeDecimal, FLOAT_BITS } from './decimal.js';
import { ChunkError } from './errors.js';
import { readChunk } from './read-chunk.js';
import { encodeXor } from './xor.js';
import { STALE_NAN } from '../../util/stale-marker.js';

const VIEW = new DataView(new ArrayBuffer(8));

function bitsOf(v: number): bigint {
  VIEW.setFloat64(0, v);
  return VIEW.getBigUint64(0);
}

function fromBits(b: bigint): number {
  VIEW.setBigUint64(0, b);
  return VIEW.getFloat64(0);
}

/** sameBits compares two floats' 64-bit patterns (cheaper than BigInt per value). */
function sameBits(a: number, b: number): boolean {
  VIEW.setFloat64(0, a);
  const ah = VIEW.getUint32(0);
  const al = VIEW.getUint32(4);
  VIEW.setFloat64(0, b);
  return ah === VIEW.getUint32(0) && al === VIEW.getUint32(4);
}

/** expectExact asserts that bytes decode to exactly ts/vs, values compared as bit patterns. */
function expectExact(bytes: Uint8Array, ts: ArrayLike<number>, vs: ArrayLike<number>): void {
  // Decode a copy so a chunk that wrongly aliased its builder's buffers would be caught.
  const got = readChunk(decodeChunk(bytes.slice()));
  expect(got.err).toBeUndefined();
  expect(got.ts.length).toBe(ts.length);
  for (let i = 0; i < ts.length; i++) {
    if (got.ts[i] !== ts[i] || !sameBits(got.vs[i]!, vs[i]!)) {
      expect({ i, t: got.ts[i], v: bitsOf(got.vs[i]!) }).toEqual({ i, t: ts[i], v: bitsOf(vs[i]!) });
    }
  }
}

/** codeOf runs f and returns the code of the ChunkError it throws (failing if it throws nothing else). */
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ChunkError);
    return (e as ChunkError).code;
  }
  return 'no error';
}

// ---- generators ---------------------------------------------------------------------------------------------

const arbBitsDouble = fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })).map(([hi, lo]) => {
  VIEW.setUint32(0, hi);
  VIEW.setUint32(4, lo);
  return VIEW.getFloat64(0);
});
const arbNaN = fc
  .bigInt({ min: 1n, max: (1n << 52n) - 1n })
  .chain((payload) => fc.constantFrom(0x7ff0000000000000n | payload, 0xfff0000000000000n | payload))
  .map(fromBits);
const arbSubnormal = fc
  .tuple(fc.bigInt({ min: 1n, max: (1n << 52n) - 1n }), fc.boolean())
  .map(([m, neg]) => fromBits((neg ? 1n << 63n : 0n) | m));
const arbSpecial = fc.oneof(
  fc.constantFrom(
    STALE_NAN,
    NaN,
    Infinity,
    -Infinity,
    -0,
    0,
    Number.MAX_VALUE,
    -Number.MIN_VALUE,
    2 ** 50,
    -(2 ** 53),
  ),
  arbNaN,
  arbSubnormal,
);
const arbScale = fc.integer({ min: 0, max: 15 });
const arbDecimal = fc
  .tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 12 }))
  .map(([m, k]) => m / 10 ** k);

/** arbValues generates n values of one of the shapes monitoring data takes (and some it never should). */
function arbValues(n: number): fc.Arbitrary<number[]> {
  const scaled = (k: number) => (m: number) => m / 10 ** k;
  return fc.oneof(
    // arbitrary bit patterns: NaN payloads, subnormals, everything
    fc.array(arbBitsDouble, { minLength: n, maxLength: n }),
    // decimals at one scale, independent
    arbScale.chain((k) =>
      fc.array(fc.integer({ min: -1e12, max: 1e12 }).map(scaled(k)), { minLength: n, maxLength: n }),
    ),
    // constant series (any value)
    fc.oneof(arbSpecial, arbDecimal, arbBitsDouble).map((v) => Array<number>(n).fill(v)),
    // counters: non-negative increments at a scale, occasionally reset
    fc
      .tuple(
        arbScale,
        fc.integer({ min: 0, max: 1e9 }),
        fc.array(fc.integer({ min: -5, max: 100_000 }), { minLength: n, maxLength: n }),
      )
      .map(([k, start, incs]) => {
        let c = start;
        return incs.map((d) => (c = d < 0 ? 0 : c + d) / 10 ** k);
      }),
    // random walks of decimals (gauges with k digits)
    fc
      .tuple(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.integer({ min: 0, max: 5000 }),
      )
      .chain(([k, start, step]) =>
        fc.array(fc.integer({ min: -step, max: step }), { minLength: n, maxLength: n }).map((ds) => {
          let m = start;
          return ds.map((d) => (m += d) / 10 ** k);
        }),
      ),
    // full-precision random walk
    fc
      .tuple(
        fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
        fc.array(fc.double({ noNaN: true, min: -1, max: 1 })),
      )
      .map(([start, steps]) => {
        let v = start;
        return Array.from({ length: n }, (_, i) => (v += steps[i % Math.max(1, steps.length)] ?? 0.5));
      }),
    // decimals with specials sprinkled in (stale markers, NaN payloads, −0, ±Inf, subnormals)
    fc.array(fc.oneof({ weight: 6, arbitrary: arbDecimal }, { weight: 1, arbitrary: arbSpecial }), {
      minLength: n,
      maxLength: n,
    }),
    // integers near the edges of the scaled range
    fc.array(
      fc.oneof(
        fc.integer({ min: -(2 ** 50) - 5, max: -(2 ** 50) + 5 }),
        fc.integer({ min: 2 ** 50 - 5, max: 2 ** 53 - 1 }),
      ),
      { minLength: n, maxLength: n },
    ),
  );
}

/** arbTimestamps generates n strictly increasing safe-integer timestamps. */
function arbTimestamps(n: number): fc.Arbitrary<number[]> {
  return fc.oneof(
    // regular ticks with jitter below one step
    fc
      .tuple(
        fc.oneof(fc.integer({ min: -(2 ** 45), max: 2 ** 45 }), fc.constant(1_764_000_000_000)),
        fc.constantFrom(1, 1000, 15_000, 60_000, 10_000_000),
        fc.integer({ min: 0, max: 100 }),
      )
      .chain(([start, step, jitterPct]) => {
        const maxJitter = Math.floor(((step - 1) * jitterPct) / 100);
        return fc
          .array(fc.integer({ min: 0, max: maxJitter }), { minLength: n, maxLength: n })
          .map((js) => js.map((j, i) => start + i * step + j));
      }),
    // irregular gaps
    fc
      .tuple(
        fc.integer({ min: -(2 ** 45), max: 2 ** 45 }),
        fc.array(fc.integer({ min: 1, max: 2 ** 32 }), { minLength: n, maxLength: n }),
      )
      .map(([start, gaps]) => {
        let t = start;
        return gaps.map((g) => (t += g));
      }),
    // extreme timestamps at both ends of the safe range (XOR's BigInt paths)
    fc
      .tuple(fc.boolean(), fc.array(fc.integer({ min: 1, max: 2 ** 44 }), { minLength: n, maxLength: n }))
      .map(([low, gaps]) => {
        const total = gaps.reduce((a, b) => a + b, 0);
        let t = low ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER - total;
        return gaps.map((g) => (t += g));
      }),
  );
}

// Mostly head-sized chunks, some up to 600 samples (the head cuts at 480; blocks are 32 long).
const arbChunk = fc
  .oneof(
    { weight: 9, arbitrary: fc.integer({ min: 1, max: 130 }) },
    { weight: 1, arbitrary: fc.integer({ min: 131, max: 600 }) },
  )
  .chain((n) => fc.tuple(arbTimestamps(n), arbValues(n)))
  .map(([ts, vs]) => ({ ts: Float64Array.from(ts), vs: Float64Array.from(vs) }));

// ---- properties ---------------------------------------------------------------------------------------------

describe('lossless codec properties', () => {
  it('round-trips every generated chunk bit-exactly in every encoding; the builder picks the smallest', () => {
    let decimalChosen = 0;
    fc.assert(
      fc.property(arbChunk, ({ ts, vs }) => {
        const b = newChunkBuilder();
        for (let i = 0; i < ts.length; i++) b.append(ts[i]!, vs[i]!);
        const chunk = b.finish();
        expect(chunk.numSamples()).toBe(ts.length);
        expectExact(chunk.bytes(), ts, vs);

        const xor = encodeXor(ts, vs);
        expectExact(xor, ts, vs);
        expect(chunk.bytes().length).toBeLessThanOrEqual(xor.length);

        const dec = encodeLossless(Encoding.Decimal, ts, vs, ts.length);
        if (dec !== undefined) {
          expectExact(dec, ts, vs);
          expect(chunk.bytes().length).toBeLessThanOrEqual(dec.length);
        }
        const fbits = encodeDecimal(ts, vs, ts.length, FLOAT_BITS);
        if (fbits !== undefined) expectExact(fbits, ts, vs);
        if (chunk.encoding === Encoding.Decimal) decimalChosen++;
      }),
      { numRuns: 10_000 },
    );
    // The generators must exercise both encodings, or the property proves less than it claims.
    expect(decimalChosen).toBeGreaterThan(2000);
    // ~13 s of CPU; the generous bound only keeps a machine shared by many jobs from failing it.
  }, 240_000);

  it('seek lands on the first sample at or after the target, in every encoding', () => {
    fc.assert(
      fc.property(arbChunk, fc.integer({ min: -100, max: 1200 }), ({ ts, vs }, permille) => {
        const target = Math.round(ts[0]! + ((ts[ts.length - 1]! - ts[0]!) * permille) / 1000);
        const want = ts.findIndex((t) => t >= target);
        for (const bytes of [encodeXor(ts, vs), encodeLossless(Encoding.Decimal, ts, vs, ts.length)]) {
          if (bytes === undefined) continue;
          const it = decodeChunk(bytes).iterator();
          expect(it.seek(target)).toBe(want >= 0);
          if (want >= 0) {
            expect(it.at()).toBe(ts[want]);
            expect(bitsOf(it.value())).toBe(bitsOf(vs[want]!));
            // A second seek to an earlier time stays put (Prometheus semantics).
            expect(it.seek(ts[0]!)).toBe(true);
            expect(it.at()).toBe(ts[want]);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

// ---- builder behaviour --------------------------------------------------------------------------------------

describe('LosslessChunkBuilder', () => {
  it.each([
    { name: 'equal timestamp', ts: [10, 10] },
    { name: 'decreasing timestamp', ts: [10, 9] },
    { name: 'fractional timestamp', ts: [10.5] },
    { name: 'unsafe timestamp', ts: [2 ** 53] },
    { name: 'NaN timestamp', ts: [NaN] },
  ])('rejects $name with CHUNK_BAD_TIMESTAMP', ({ ts }) => {
    const b = newChunkBuilder();
    expect(codeOf(() => ts.forEach((t) => b.append(t, 1)))).toBe('CHUNK_BAD_TIMESTAMP');
  });

  it('refuses more than MAX_CHUNK_SAMPLES samples', () => {
    const b = newChunkBuilder();
    for (let i = 0; i < MAX_CHUNK_SAMPLES; i++) b.append(i, i % 7);
    expect(codeOf(() => b.append(MAX_CHUNK_SAMPLES, 1))).toBe('CHUNK_FULL');
    const c = b.finish();
    expect(c.numSamples()).toBe(MAX_CHUNK_SAMPLES);
    expect(readChunk(decodeChunk(c.bytes())).vs[MAX_CHUNK_SAMPLES - 1]).toBe((MAX_CHUNK_SAMPLES - 1) % 7);
  });

  it('finish() is a snapshot: appending afterwards and finishing again includes everything', () => {
    const b = newChunkBuilder();
    b.append(1000, 1.5);
    b.append(2000, 2.5);
    const first = b.finish();
    b.append(3000, 3.25);
    const second = b.finish();
    expect(first.numSamples()).toBe(2);
    expect(Array.from(readChunk(second).vs)).toEqual([1.5, 2.5, 3.25]);
    expect(Array.from(readChunk(first).vs)).toEqual([1.5, 2.5]);
  });

  it('finish() on an empty builder gives an empty chunk', () => {
    const c = decodeChunk(newChunkBuilder().finish().bytes());
    expect(c.numSamples()).toBe(0);
    const it = c.iterator();
    expect(it.next()).toBe(false);
    expect(it.seek(0)).toBe(false);
    expect(it.err()).toBeUndefined();
  });

  it('reset() starts a new chunk', () => {
    const b = newChunkBuilder();
    b.append(1000, NaN);
    b.reset();
    b.append(500, 4);
    expect(b.minTime()).toBe(500);
    expect(b.maxTime()).toBe(500);
    expect(Array.from(readChunk(b.finish()).vs)).toEqual([4]);
  });

  it.each([
    {
      name: 'gauge with 2 decimals',
      gen: (i: number) => Math.round(5000 + 300 * Math.sin(i / 7)) / 100,
      want: Encoding.Decimal,
    },
    { name: 'integer counter', gen: (i: number) => 1e9 + i * 4096, want: Encoding.Decimal },
    { name: 'full-precision floats', gen: (i: number) => Math.sin(i) * Math.PI, want: Encoding.XOR },
    // Float-bits mode (decimal layout over bit patterns) wins these: nothing changes / bits move slowly.
    { name: 'all stale markers', gen: () => STALE_NAN, want: Encoding.Decimal },
    {
      name: 'a full-precision linear trend',
      gen: (i: number) => 59.71831229412717 + i * 5.63984e-5,
      want: Encoding.Decimal,
    },
    {
      name: 'float32-sourced values',
      gen: (i: number) => Math.fround(22 + Math.sin(i / 9)),
      want: Encoding.Decimal,
    },
  ])('chooses $want for $name', ({ gen, want }) => {
    const b = newChunkBuilder();
    for (let i = 0; i < 120; i++) b.append(1_764_000_000_000 + i * 15_000, gen(i));
    expect(b.finish().encoding).toBe(want);
  });

  it('keeps a small scale when a few values need many digits (they become exceptions)', () => {
    const ts: number[] = [];
    const vs: number[] = [];
    for (let i = 0; i < 200; i++) {
      ts.push(i * 15_000);
      vs.push(i === 50 ? 0.123456789 : Math.round(100 * Math.cos(i / 9)) / 10);
    }
    const b = newChunkBuilder();
    ts.forEach((t, i) => b.append(t, vs[i]!));
    const chunk = b.finish();
    expect(chunk.encoding).toBe(Encoding.Decimal);
    expectExact(chunk.bytes(), ts, vs);
    const forcedMaxScale = encodeLossless(
      Encoding.Decimal,
      Float64Array.from(ts),
      Float64Array.from(vs),
      200,
    );
    expect(chunk.bytes().length).toBeLessThan(forcedMaxScale!.length);
  });

  it('honours a restricted encoding list', () => {
    const b = new LosslessChunkBuilder({ encodings: [Encoding.XOR] });
    b.append(1, 0.5);
    b.append(2, 0.75);
    expect(b.finish().encoding).toBe(Encoding.XOR);
    expect(codeOf(() => new LosslessChunkBuilder({ encodings: [] }))).toBe('CHUNK_BAD_OPTION');
  });
});
