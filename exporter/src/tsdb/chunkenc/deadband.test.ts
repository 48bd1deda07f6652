import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Encoding } from './chunk.js';
import { DeadbandChunk, DeadbandChunkBuilder } from './deadband.js';
import { decodeChunk } from './decode.js';
import { ChunkError } from './errors.js';
import { readChunk } from './read-chunk.js';

const STALE = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!;

function build(vs: number[], opts = {}, step = 15_000): { b: DeadbandChunkBuilder; ts: number[] } {
  const b = new DeadbandChunkBuilder(opts);
  const ts = vs.map((_, i) => 1_000_000 + i * step);
  ts.forEach((t, i) => b.append(t, vs[i]!));
  return { b, ts };
}

describe('deadband (lossy, opt-in)', () => {
  it.each([
    { name: 'small changes dropped', vs: [100, 101, 104, 105, 106, 99], kept: [100, 106, 99] },
    { name: 'exactly at the threshold dropped', vs: [100, 105, 95], kept: [100, 95] },
    { name: 'zero baseline keeps every change', vs: [0, 0, 0.001, 0.001], kept: [0, 0.001, 0.001] },
    { name: 'stale marker always kept', vs: [10, 10.1, STALE, STALE, 10], kept: [10, STALE, 10] },
    { name: 'sign flip kept', vs: [1, -1, -1.01], kept: [1, -1, -1.01] },
    { name: 'infinity kept', vs: [1, Infinity, Infinity, 1], kept: [1, Infinity, 1] },
  ])('$name', ({ vs, kept }) => {
    const { b } = build(vs, { thresholdPct: 5 });
    const got = readChunk(b.finish());
    expect(got.err).toBeUndefined();
    // The last sample is always present (finish() stores a pending dropped one).
    expect(Array.from(got.vs)).toEqual(kept);
    expect(b.numSamples()).toBe(vs.length);
  });

  it('re-sets the baseline after maxSkipSamples drops and after maxSkipMs', () => {
    const flat = Array<number>(50).fill(7);
    expect(build(flat, { maxSkipSamples: 10 }).b.finish().numSamples()).toBe(6); // 0,11,22,33,44 + last
    expect(build(flat, { maxSkipMs: 60_000, maxSkipSamples: 1000 }).b.finish().numSamples()).toBe(14); // every 4th + last
  });

  it('bounds the error of every dropped sample by the threshold and reports the maximum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -0.08, max: 0.08, noNaN: true }), { minLength: 2, maxLength: 400 }),
        fc.constantFrom(1, 5, 10),
        (steps, thresholdPct) => {
          let v = 100;
          const vs = steps.map((s) => (v = Math.round(v * (1 + s) * 100) / 100));
          const { b, ts } = build(vs, { thresholdPct });
          const chunk = decodeChunk(b.finish().bytes());
          expect(chunk.encoding).toBe(Encoding.Deadband);
          const got = readChunk(chunk);
          expect(got.err).toBeUndefined();
          // Reconstruct each original sample as the last stored value at or before it (what a query sees).
          let j = 0;
          let worst = 0;
          for (let i = 0; i < vs.length; i++) {
            while (j + 1 < got.ts.length && got.ts[j + 1]! <= ts[i]!) j++;
            const recon = got.vs[j]!;
            const err = Math.abs(vs[i]! - recon);
            expect(err).toBeLessThanOrEqual((thresholdPct / 100) * Math.abs(recon) + 1e-9);
            if (err > 0) worst = Math.max(worst, (err / Math.abs(vs[i]!)) * 100);
          }
          expect(b.maxErrorPct()).toBeGreaterThanOrEqual(worst - 1e-9);
          expect(got.ts.length + b.skippedSamples()).toBeGreaterThanOrEqual(vs.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('records its threshold in the chunk header', () => {
    const c = decodeChunk(build([1, 2, 3], { thresholdPct: 2.5 }).b.finish().bytes());
    expect(c).toBeInstanceOf(DeadbandChunk);
    expect((c as DeadbandChunk).thresholdPct).toBe(2.5);
  });

  it.each([
    { thresholdPct: 0 },
    { thresholdPct: -1 },
    { thresholdPct: 101 },
    { maxSkipSamples: 0 },
    { maxSkipMs: 1.5 },
  ])('rejects options %o with CHUNK_BAD_OPTION', (opts) => {
    let code = '';
    try {
      new DeadbandChunkBuilder(opts);
    } catch (e) {
      expect(e).toBeInstanceOf(ChunkError);
      code = (e as ChunkError).code;
    }
    expect(code).toBe('CHUNK_BAD_OPTION');
  });

  it('rejects a timestamp that does not increase past a dropped sample', () => {
    const b = new DeadbandChunkBuilder();
    b.append(1000, 1);
    b.append(2000, 1); // dropped, pending
    expect(() => b.append(1500, 1)).toThrow(ChunkError);
  });
});
