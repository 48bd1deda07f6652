/**
 * EncodePool runs chunk encoding (encode-batch.ts) on a worker thread, so a bulk ingest (the startup
 * backfill) simulates and appends on the main thread while the chunks it cut are encoded on another core.
 * Results are the same bytes as in-thread encoding (same function, same input); the head delivers them to
 * its sink in cut order (head.ts). When no worker can be started the pool encodes in-thread, so a missing
 * worker file costs speed, never data.
 *
 * The worker entry is found next to this module: `encode-worker.js` when compiled (tsc), `tsdb/encode-worker.js`
 * beside the esbuild bundle (`npm start` builds both), or `encode-worker.ts` through tsx's loader when running
 * from source (dev, tests, benchmarks).
 *
 * A worker writes each response into one of a few SharedArrayBuffers the pool allocated here and reuses
 * (see encode-batch.ts for why); the pool copies the response out into memory of this thread at once. A
 * batch whose response does not fit is posted again with a buffer twice as large (new buffers keep that size).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import {
  chunkCount,
  encodeBatch,
  type EncodeRequest,
  type EncodeResponse,
  type WorkerReply,
  type WorkerRequest,
} from './encode-batch.js';
import { workerEntry } from '../util/worker-entry.js';

/** BatchEncoder encodes batches, possibly elsewhere; responses may arrive later but each resolves once. */
export interface BatchEncoder {
  encode(req: EncodeRequest): Promise<EncodeResponse>;
  close(): Promise<void>;
}

/**
 * POSTED_PER_WORKER is how many batches a worker holds at once: 2, so it starts the next as soon as one is
 * done while the rest wait in the pool's queue (for a worker that frees up first).
 */
const POSTED_PER_WORKER = 2;

/**
 * IDLE_MS is how long workers may sit without work before they are stopped (a backfill's commits come
 * every few ms; after it, the workers' memory goes back to the system). They restart on the next batch.
 */
const IDLE_MS = 5_000;

/**
 * INITIAL_OUT_BYTES sizes the response buffers at first: a head batch (8 MiB of samples, ~0.5 M values at
 * ~0.8 B each) needs ~0.5 MiB; one mostly of rollup pages up to ~2 MiB.
 */
const INITIAL_OUT_BYTES = 1 << 20;

/** defaultEncodeWorkers is one worker when the machine has a core to spare, else none (encode in-thread). */
export function defaultEncodeWorkers(): number {
  return availableParallelism() > 1 ? 1 : 0;
}

interface Pending {
  readonly req: EncodeRequest;
  readonly resolve: (r: EncodeResponse) => void;
  readonly reject: (err: unknown) => void;
}

/** Posted is a batch a worker has, with the response buffer it got. */
interface Posted extends Pending {
  readonly worker: Worker;
  readonly out: Uint8Array;
  readonly chunks: number;
}

/** settleInThread encodes `p` on this thread and settles its promise either way (never throws). */
function settleInThread(p: Pending): void {
  let res: EncodeResponse;
  try {
    res = encodeBatch(p.req);
  } catch (err) {
    p.reject(err);
    return;
  }
  p.resolve(res);
}

/** EncodePool implements BatchEncoder with worker threads; see the file comment. */
export class EncodePool implements BatchEncoder {
  private workers: Worker[] | undefined;
  private broken = false;
  private closed = false;
  /** pending are the batches posted to a worker, by id; queue the ones not posted yet, oldest first. */
  private readonly pending = new Map<number, Posted>();
  private readonly queue: Pending[] = [];
  private readonly posted = new Map<Worker, number>();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger | undefined;
  /** outs are the response buffers no worker has now; outBytes the size new ones get. */
  private readonly outs: Uint8Array[] = [];
  private outBytes: number;
  /** overflows counts responses that did not fit their buffer (diagnostics, tests). */
  overflows = 0;

  /** opts.outBytes is the first response buffers' size (default INITIAL_OUT_BYTES; tests use less). */
  constructor(
    private readonly opts: {
      readonly workers?: number;
      readonly logger?: Logger;
      readonly outBytes?: number;
    } = {},
  ) {
    this.logger = opts.logger;
    this.outBytes = opts.outBytes ?? INITIAL_OUT_BYTES;
  }

  /** encode resolves with the batch's chunks (in-thread when no worker runs). */
  encode(req: EncodeRequest): Promise<EncodeResponse> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.start()) return Promise.resolve(encodeBatch(req));
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  /** pump posts queued batches to workers with room. */
  private pump(): void {
    for (const w of this.workers ?? []) {
      let n = this.posted.get(w) ?? 0;
      while (n < POSTED_PER_WORKER) {
        const p = this.queue.shift();
        if (!p) return;
        const chunks = chunkCount(p.req);
        let out = this.outs.pop();
        while (out && out.length < this.outBytes) out = this.outs.pop();
        out ??= new Uint8Array(new SharedArrayBuffer(this.outBytes));
        this.pending.set(p.req.id, { ...p, worker: w, out, chunks });
        // A worker must keep the process alive while it owes a response, and not after.
        if (n === 0) w.ref();
        const req: WorkerRequest = { ...p.req, out, chunks };
        w.postMessage(req);
        this.posted.set(w, ++n);
      }
    }
  }

  private start(): Worker[] | undefined {
    if (this.workers || this.broken || this.closed) return this.workers;
    const count = this.opts.workers ?? defaultEncodeWorkers();
    const spec =
      count > 0 ? workerEntry(import.meta.url, 'encode-worker', './tsdb/encode-worker.js') : undefined;
    if (!spec) {
      this.broken = true;
      if (count > 0) this.logger?.warn('chunk encode worker not found; encoding on the main thread');
      return undefined;
    }
    const workers: Worker[] = [];
    for (let i = 0; i < count; i++) {
      const w = new Worker(spec.entry, { eval: spec.eval });
      w.unref();
      w.on('message', (reply: WorkerReply) => this.done(reply));
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (!this.closed && this.workers?.includes(w)) {
          this.fail(new Error(`chunk encode worker exited with code ${code}`));
        }
      });
      workers.push(w);
    }
    this.workers = workers;
    return workers;
  }

  private done(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    const n = (this.posted.get(p.worker) ?? 1) - 1;
    this.posted.set(p.worker, n);
    if (n === 0) p.worker.unref();
    if (reply.len === undefined) {
      // It did not fit: post it again, first in line, and make the buffers twice as large from now on.
      this.overflows++;
      this.outBytes = Math.max(this.outBytes, 2 * p.out.length);
      this.queue.unshift({ req: p.req, resolve: p.resolve, reject: p.reject });
      this.pump();
      return;
    }
    // One exact-size copy holds both; the buffer goes to the next batch.
    const at = 4 * p.chunks;
    const copy = p.out.slice(0, at + reply.len);
    const res = { id: reply.id, ends: new Uint32Array(copy.buffer, 0, p.chunks), bytes: copy.subarray(at) };
    this.outs.push(p.out);
    this.pump();
    if (this.pending.size === 0 && this.queue.length === 0) {
      this.idleTimer = setTimeout(() => this.stopIdle(), IDLE_MS);
      this.idleTimer.unref();
    }
    p.resolve(res);
  }

  /** stopIdle stops the workers when they still have nothing to do (they restart on demand). */
  private stopIdle(): void {
    this.idleTimer = undefined;
    if (this.pending.size > 0 || this.queue.length > 0 || !this.workers) return;
    const workers = this.workers;
    this.workers = undefined;
    this.posted.clear();
    this.outs.length = 0;
    for (const w of workers) void w.terminate();
  }

  /** fail stops using workers and encodes what they still owed in-thread, so no cut is lost. */
  private fail(err: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.logger?.warn({ err }, 'chunk encode worker failed; encoding on the main thread');
    const workers = this.workers ?? [];
    this.workers = undefined;
    for (const w of workers) void w.terminate();
    const owed = [...this.pending.values(), ...this.queue].sort((a, b) => a.req.id - b.req.id);
    this.pending.clear();
    this.queue.length = 0;
    for (const p of owed) settleInThread(p);
  }

  /** close stops the workers (after the caller awaited what it needs). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const workers = this.workers ?? [];
    this.workers = undefined;
    this.outs.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
    // Anything still owed is encoded here so its promise settles.
    for (const p of [...this.pending.values(), ...this.queue]) settleInThread(p);
    this.pending.clear();
    this.queue.length = 0;
  }
}
