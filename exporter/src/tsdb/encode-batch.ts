/**
 * Encode batches: the unit of work the head hands to an encode worker (encode-pool.ts) during bulk appends.
 * A batch is one Float64Array holding every cut's samples plus a task list; each task is a run of `n`
 * timestamps followed by `k` value columns of `n` each (k = 1 for a raw chunk, 6 for a rollup page), and
 * encodes to `k` chunks with the lossless builder DEFAULT_CODEC uses in-thread (the same appendMany and
 * choice; only the bytes are kept), so a chunk's bytes do not depend on where it was encoded.
 */
import { LosslessChunkBuilder } from './chunkenc/builder.js';

/** EncodeRequest is one batch sent to a worker (structured-cloned). */
export interface EncodeRequest {
  readonly id: number;
  /** data holds the cuts' samples; tasks index into it. */
  readonly data: Float64Array;
  /** tasks holds (offset, n, k) per cut, TASK_STRIDE numbers each. */
  readonly tasks: Float64Array;
  readonly count: number;
}

/** EncodeResponse carries the encoded chunks of one request: chunk j is bytes[ends[j-1] ?? 0, ends[j]). */
export interface EncodeResponse {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
}

/** TASK_STRIDE is the numbers per task in EncodeRequest.tasks: offset, n, k. */
export const TASK_STRIDE = 3;

/** INITIAL_OUT_BYTES sizes the response buffer; chunks average ~0.8 B/sample, so it rarely regrows. */
const INITIAL_OUT_BYTES = 1 << 16;

/** BUILDER is reused by every encodeBatch call (encoding is synchronous). */
const BUILDER = new LosslessChunkBuilder();

/** encodeBatch encodes every task of `req` in order (the worker's job; also the in-thread fallback). */
export function encodeBatch(req: EncodeRequest): EncodeResponse {
  const { data, tasks, count } = req;
  let chunks = 0;
  for (let i = 0; i < count; i++) chunks += tasks[i * TASK_STRIDE + 2] ?? 0;
  const ends = new Uint32Array(chunks);
  let out = new Uint8Array(INITIAL_OUT_BYTES);
  let len = 0;
  let j = 0;
  for (let i = 0; i < count; i++) {
    const off = tasks[i * TASK_STRIDE] ?? 0;
    const n = tasks[i * TASK_STRIDE + 1] ?? 0;
    const k = tasks[i * TASK_STRIDE + 2] ?? 0;
    const ts = data.subarray(off, off + n);
    for (let c = 0; c < k; c++) {
      const o = off + (1 + c) * n;
      BUILDER.reset();
      BUILDER.appendMany(ts, data.subarray(o, o + n), 0, n);
      const b = BUILDER.finishBytes();
      if (len + b.length > out.length) {
        const next = new Uint8Array(Math.max(out.length * 2, len + b.length));
        next.set(out.subarray(0, len));
        out = next;
      }
      out.set(b, len);
      len += b.length;
      ends[j++] = len;
    }
  }
  return { id: req.id, bytes: out.subarray(0, len), ends };
}
