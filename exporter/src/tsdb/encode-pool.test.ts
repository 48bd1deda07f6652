import { describe, expect, it } from 'vitest';
import { encodeBatch, TASK_STRIDE, type EncodeRequest, type EncodeResponse } from './encode-batch.js';
import { EncodePool } from './encode-pool.js';

/**
 * request builds a batch of `cuts` raw cuts of 480 two-decimal samples, every `fullEvery`-th cut
 * full-precision instead.
 */
function request(id: number, cuts: number, fullEvery = 5): EncodeRequest {
  const n = 480;
  const data = new Float64Array(new SharedArrayBuffer(8 * cuts * n * 2));
  const tasks = new Float64Array(cuts * TASK_STRIDE);
  for (let c = 0; c < cuts; c++) {
    const off = c * 2 * n;
    for (let i = 0; i < n; i++) {
      data[off + i] = 1_768_000_000_000 + i * 15_000;
      data[off + n + i] =
        c % fullEvery === 0 ? Math.sin(c + i) : Math.round(5000 + 100 * Math.sin(c * i)) / 100;
    }
    tasks.set([off, n, 1], c * TASK_STRIDE);
  }
  return { id, data, tasks, count: cuts };
}

/** expectSame checks that `got` holds the chunks in-thread encoding of `req` gives. */
function expectSame(got: EncodeResponse, req: EncodeRequest): void {
  const want = encodeBatch(req);
  expect(got.id).toBe(req.id);
  expect(Array.from(got.ends)).toEqual(Array.from(want.ends));
  expect(Buffer.from(got.bytes).equals(Buffer.from(want.bytes))).toBe(true);
}

describe('EncodePool', () => {
  it('returns the bytes in-thread encoding gives, from a worker (queued or posted) and after close', async () => {
    const pool = new EncodePool({ workers: 1 });
    const reqs = [1, 2, 3, 4, 5].map((id) => request(id, 40));
    // Two are posted to the worker at once, the others wait in the pool's queue.
    const got = await Promise.all(reqs.map((r) => pool.encode(r)));
    for (const [i, r] of got.entries()) expectSame(r, reqs[i]!);
    const late = pool.encode(request(6, 10));
    await pool.close();
    expect((await late).ends.length).toBe(10);
  });

  it('returns the same bytes whether a response fits the memory it was given or not', async () => {
    // 64 KiB holds a batch of 40 two-decimal cuts (~1 B/value), not one of full-precision ones (~8 B/value):
    // that one is posted again with larger buffers until it fits, and later ones fit at once.
    const pool = new EncodePool({ workers: 1, outBytes: 64 * 1024 });
    const small = [1, 2].map((id) => request(id, 40, 1_000));
    for (const r of small) expectSame(await pool.encode(r), r);
    expect(pool.overflows).toBe(0);
    const full = request(3, 40, 1);
    expectSame(await pool.encode(full), full);
    const grown = pool.overflows;
    expect(grown).toBeGreaterThan(0);
    const again = [4, 5].map((id) => request(id, 40, 1));
    for (const r of again) expectSame(await pool.encode(r), r);
    expect(pool.overflows).toBe(grown);
    await pool.close();
  });

  it('encodes in-thread when asked for no workers', async () => {
    const pool = new EncodePool({ workers: 0 });
    const r = await pool.encode(request(1, 3));
    expect(r.ends.length).toBe(3);
    await pool.close();
  });
});
