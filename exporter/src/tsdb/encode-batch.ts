/**
 * Encode batches: the unit of work the head hands to an encode worker (encode-pool.ts) during bulk appends.
 * A batch is one Float64Array holding every cut's samples plus a task list; each task is a run of `n`
 * timestamps followed by `k` value columns of `n` each (k = 1 for a raw chunk, 6 for a rollup page), and
 * encodes to `k` chunks with the lossless builder DEFAULT_CODEC uses in-thread (the same appendMany and
 * choice; only the bytes are kept), so a chunk's bytes do not depend on where it was encoded.
 *
 * A worker writes its response into memory the pool allocated on the main thread and reuses
 * (encodeBatchInto), not into buffers of its own: memory a thread mallocs stays in that thread's glibc arena,
 * and responses the main thread freed (when it collected the chunks, long after the worker moved on) went
 * back to the worker's arena, which kept tens of MB after a backfill that no thread used again.
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

/** WorkerRequest is a request as the pool posts it to a worker, with shared memory for the response. */
export interface WorkerRequest extends EncodeRequest {
  /** out is a SharedArrayBuffer view the pool allocated and reuses; see encodeBatchInto. */
  readonly out: Uint8Array;
  /** chunks is chunkCount(req), which the pool has counted already. */
  readonly chunks: number;
}

/** WorkerReply is a worker's answer: the request's id and encodeBatchInto's result. */
export interface WorkerReply {
  readonly id: number;
  /** len is the chunk bytes' length in the request's `out`, undefined when they did not fit. */
  readonly len: number | undefined;
}

/** TASK_STRIDE is the numbers per task in EncodeRequest.tasks: offset, n, k. */
export const TASK_STRIDE = 3;

/** INITIAL_OUT_BYTES sizes the response buffer; chunks average ~0.8 B/sample, so it rarely regrows. */
const INITIAL_OUT_BYTES = 1 << 16;

/** BUILDER is reused by every encodeBatch call (encoding is synchronous). */
const BUILDER = new LosslessChunkBuilder();

/** chunkCount is how many chunks `req` encodes to (its tasks' k summed). */
export function chunkCount(req: EncodeRequest): number {
  let chunks = 0;
  for (let i = 0; i < req.count; i++) chunks += req.tasks[i * TASK_STRIDE + 2] ?? 0;
  return chunks;
}

/**
 * encodeTasks encodes every task of `req` in order into `out` from its start, recording each chunk's end in
 * `ends`; past out's end it regrows `out` when `grow`, else gives up. Returns the bytes written (a view of
 * `out` or of its regrown copy), or undefined when it gave up.
 */
function encodeTasks(
  req: EncodeRequest,
  ends: Uint32Array,
  out: Uint8Array,
  grow: boolean,
): Uint8Array | undefined {
  const { data, tasks, count } = req;
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
        if (!grow) return undefined;
        const next = new Uint8Array(Math.max(out.length * 2, len + b.length));
        next.set(out.subarray(0, len));
        out = next;
      }
      out.set(b, len);
      len += b.length;
      ends[j++] = len;
    }
  }
  return out.subarray(0, len);
}

/** encodeBatch encodes every task of `req` in order into buffers of its own (the in-thread encoder). */
export function encodeBatch(req: EncodeRequest): EncodeResponse {
  const ends = new Uint32Array(chunkCount(req));
  const bytes = encodeTasks(req, ends, new Uint8Array(INITIAL_OUT_BYTES), true) ?? new Uint8Array(0);
  return { id: req.id, bytes, ends };
}

/**
 * encodeBatchInto encodes `req` as encodeBatch does but into `out` (4-byte aligned): the `chunks` ends as
 * u32 at its start, then the chunk bytes. Returns the chunk bytes' length, or undefined when `out` is too
 * small (nothing else is allocated).
 */
export function encodeBatchInto(req: EncodeRequest, out: Uint8Array, chunks: number): number | undefined {
  const at = 4 * chunks;
  if (at > out.length) return undefined;
  const ends = new Uint32Array(out.buffer, out.byteOffset, chunks);
  return encodeTasks(req, ends, out.subarray(at), false)?.length;
}
