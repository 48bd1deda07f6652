import { describe, expect, it } from 'vitest';
import { DEFAULT_CODEC } from './codec.js';
import { DecodedChunks, EXPIRE_MS } from './decoded-chunks.js';
import type { StoredChunk } from './querier.js';

/** stored builds a stored chunk of `n` samples every 15 s from `t0`, value = index + `base`. */
function stored(t0: number, n: number, base = 0): StoredChunk {
  const ts = Float64Array.from({ length: n }, (_, i) => t0 + i * 15_000);
  const vs = Float64Array.from({ length: n }, (_, i) => i + base);
  return {
    minT: t0,
    maxT: ts[n - 1] ?? t0,
    chunk: DEFAULT_CODEC.encode?.(ts, vs, 0, n) ?? DEFAULT_CODEC.newBuilder().finish(),
  };
}

const window = (cache: DecodedChunks, ref: number, c: StoredChunk, mint: number, maxt: number) => {
  const r = cache.read(ref, c, mint, maxt);
  return { ts: Array.from(r.ts.subarray(r.lo, r.hi)), vs: Array.from(r.vs.subarray(r.lo, r.hi)) };
};

describe('DecodedChunks', () => {
  it.each([
    { name: 'whole chunk', mint: -Infinity, maxt: Infinity, from: 0, to: 10 },
    { name: 'bounds inclusive', mint: 15_000, maxt: 45_000, from: 1, to: 4 },
    { name: 'between samples', mint: 1, maxt: 44_999, from: 1, to: 3 },
    { name: 'before the chunk', mint: -100, maxt: -1, from: 0, to: 0 },
    { name: 'after the chunk', mint: 200_000, maxt: 300_000, from: 10, to: 10 },
  ])('returns the samples in the window: $name', ({ mint, maxt, from, to }) => {
    const c = stored(0, 10);
    const cache = new DecodedChunks(1000);
    for (let pass = 0; pass < 2; pass++) {
      expect(window(cache, 1, c, mint, maxt)).toEqual({
        ts: Array.from({ length: to - from }, (_, i) => (from + i) * 15_000),
        vs: Array.from({ length: to - from }, (_, i) => from + i),
      });
    }
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 1, misses: 1 });
  });

  it('tells series and chunks apart, and decodes again when a chunk under the same key changed', () => {
    const cache = new DecodedChunks(1000);
    expect(window(cache, 1, stored(0, 4), 0, Infinity).vs).toEqual([0, 1, 2, 3]);
    expect(window(cache, 2, stored(0, 4, 10), 0, Infinity).vs).toEqual([10, 11, 12, 13]);
    expect(window(cache, 1, stored(60_000, 4, 20), 0, Infinity).vs).toEqual([20, 21, 22, 23]);
    // Same ref and start, more samples (another maxT): the entry is stale.
    expect(window(cache, 1, stored(0, 6, 30), 0, Infinity).vs).toEqual([30, 31, 32, 33, 34, 35]);
    expect(cache.misses).toBe(4);
    expect(cache.size).toBe(4 + 4 + 6);
  });

  it('evicts only entries idle for a minute, and serves without caching when nothing may go', () => {
    let now = 0;
    const cache = new DecodedChunks(10, () => now);
    const a = stored(0, 6);
    const b = stored(100_000, 6);
    window(cache, 1, a, 0, Infinity);
    window(cache, 2, b, 0, Infinity); // no room: a was read just now
    expect(cache.size).toBe(6);
    window(cache, 1, a, 0, Infinity);
    expect(cache.hits).toBe(1);
    now = 61_000;
    window(cache, 2, b, 0, Infinity); // a idle past the minute: evicted for b
    window(cache, 2, b, 0, Infinity);
    expect({ size: cache.size, hits: cache.hits, misses: cache.misses }).toEqual({
      size: 6,
      hits: 2,
      misses: 3,
    });
    // A chunk larger than the whole budget is never cached; 0 disables the cache.
    window(cache, 3, stored(0, 11), 0, Infinity);
    expect(cache.size).toBe(6);
    const off = new DecodedChunks(0);
    expect(window(off, 1, a, 0, Infinity).vs).toEqual([0, 1, 2, 3, 4, 5]);
    expect(off.size).toBe(0);
  });

  it('drops entries unread for EXPIRE_MS without pressure for room, a bounded batch per look', () => {
    let now = 0;
    const cache = new DecodedChunks(1_000_000, () => now);
    // A one-off read of much history, then a chunk a periodic reader keeps reading.
    for (let ref = 1; ref <= 20_000; ref++) window(cache, ref, stored(0, 4), 0, Infinity);
    const hot = stored(0, 4, 7);
    for (; now <= EXPIRE_MS + 2_000; now += 15_000) window(cache, 99_999, hot, 0, Infinity);
    // Each look drops at most a batch: one read has looked since the one-off entries expired.
    expect(cache.entryCount).toBeGreaterThan(1);
    expect(cache.entryCount).toBeLessThan(20_000);
    // Further looks (reads, commits) finish the job; the chunk read every 15 s stays.
    for (let i = 0; i < 3; i++) cache.expire(now);
    expect(cache.entryCount).toBe(1);
    expect(cache.size).toBe(4);
    const before = cache.hits;
    expect(window(cache, 99_999, hot, 0, Infinity).vs).toEqual([7, 8, 9, 10]);
    expect(cache.hits).toBe(before + 1);
    // An entry read exactly EXPIRE_MS ago goes; one read a second later stays.
    window(cache, 1, stored(0, 4), 0, Infinity);
    now += 1_000;
    window(cache, 99_999, hot, 0, Infinity);
    now += EXPIRE_MS - 1_000;
    cache.expire(now);
    expect(cache.entryCount).toBe(1);
    const hits = cache.hits;
    window(cache, 99_999, hot, 0, Infinity);
    expect(cache.hits).toBe(hits + 1);
  });

  it('holds one buffer per decoded chunk (timestamps and values are views of it)', () => {
    const cache = new DecodedChunks(1000);
    const r = cache.read(1, stored(0, 10), -Infinity, Infinity);
    expect(r.ts.buffer).toBe(r.vs.buffer);
    expect(Array.from(r.vs)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});
