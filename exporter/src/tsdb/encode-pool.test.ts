import { describe, expect, it } from 'vitest';
import { encodeBatch, TASK_STRIDE, type EncodeRequest } from './encode-batch.js';
import { EncodePool } from './encode-pool.js';

/** request builds a batch of `cuts` raw cuts of 480 two-decimal samples (a few full-precision). */
function request(id: number, cuts: number): EncodeRequest {
  const n = 480;
  const data = new Float64Array(new SharedArrayBuffer(8 * cuts * n * 2));
  const tasks = new Float64Array(cuts * TASK_STRIDE);
  for (let c = 0; c < cuts; c++) {
    const off = c * 2 * n;
    for (let i = 0; i < n; i++) {
      data[off + i] = 1_768_000_000_000 + i * 15_000;
      data[off + n + i] = c % 5 === 0 ? Math.sin(c + i) : Math.round(5000 + 100 * Math.sin(c * i)) / 100;
    }
    tasks.set([off, n, 1], c * TASK_STRIDE);
  }
  return { id, data, tasks, count: cuts };
}

describe('EncodePool', () => {
  it('returns the bytes in-thread encoding gives, from a worker, from assist and after close', async () => {
    const pool = new EncodePool({ workers: 1 });
    const reqs = [1, 2, 3, 4, 5].map((id) => request(id, 40));
    const pending = reqs.map((r) => pool.encode(r));
    // Two are posted to the worker; the newest waiting one is taken here.
    expect(pool.assist()).toBe(true);
    const got = await Promise.all(pending);
    for (const [i, r] of got.entries()) {
      const want = encodeBatch(reqs[i]!);
      expect(r.id).toBe(reqs[i]!.id);
      expect(Array.from(r.ends)).toEqual(Array.from(want.ends));
      expect(Buffer.from(r.bytes).equals(Buffer.from(want.bytes))).toBe(true);
    }
    expect(pool.assist()).toBe(false);
    const late = pool.encode(request(6, 10));
    await pool.close();
    expect((await late).ends.length).toBe(10);
  });

  it('encodes in-thread when asked for no workers', async () => {
    const pool = new EncodePool({ workers: 0 });
    const r = await pool.encode(request(1, 3));
    expect(r.ends.length).toBe(3);
    await pool.close();
  });
});
