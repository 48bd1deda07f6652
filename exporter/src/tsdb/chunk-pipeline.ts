/**
 * The head's encode pipeline: what series complete becomes stored chunks. It seals a series' full raw tail
 * (sealed-run.ts), cuts open raw chunks and rollup pages, encodes them at once or — inside beginDeferred …
 * endDeferred (bulk appends) — in batches on the encoder (encode-pool.ts, another thread), and hands them to
 * the backend's sink strictly in cut order. Until the sink has a cut, reads see it through its series
 * (chunk-cut.ts).
 */
import type { Chunk } from './chunkenc/chunk.js';
import { RAW_TIER, type Batch, type Cut, type CutOwner } from './chunk-cut.js';
import { encodeSamples, type ChunkCodec } from './codec.js';
import { TASK_STRIDE, type EncodeResponse } from './encode-batch.js';
import type { BatchEncoder } from './encode-pool.js';
import { EncodedChunk } from './encoded-chunk.js';
import { TsdbError } from './errors.js';
import {
  CHUNK_END,
  PENDING_FIRST_ROWS,
  PENDING_TAIL_ROWS,
  RAW_FIRST_ROWS,
  RAW_KEEP_ROWS,
  RAW_TAIL_ROWS,
  type MemSeries,
} from './mem-series.js';
import type { TsdbMetrics } from './metrics.js';
import { ROLLUP_AGGREGATES, ROLLUP_TIERS, type RollupChunk, type RollupState } from './rollup.js';
import type { SealedRun } from './sealed-run.js';

/** HeadSink receives what the head completes; the backend stores it (memory + disk, or Redis). */
export interface HeadSink {
  /** rawChunk takes a completed raw chunk of series `ref` holding samples in [minT, maxT]. */
  rawChunk(ref: number, minT: number, maxT: number, chunk: Chunk): void;
  /** rollupChunk takes a completed page of rollup buckets of series `ref`. */
  rollupChunk(ref: number, chunk: RollupChunk): void;
}

/** ChunkPipelineOptions are what a pipeline works with (the head's). */
export interface ChunkPipelineOptions {
  readonly codec: ChunkCodec;
  readonly sink: HeadSink;
  readonly metrics: TsdbMetrics;
  /** encoder encodes deferred cuts off the main thread; it must produce what `codec` would. */
  readonly encoder: BatchEncoder | undefined;
}

/** ROLLUP_COLUMNS is the value columns of a rollup cut (one per aggregate). */
const ROLLUP_COLUMNS = ROLLUP_AGGREGATES.length;

/**
 * BATCH_DOUBLES is a deferred batch's buffer: 1 Mi doubles (8 MiB, ~a quarter of the 20-server fleet's 2 h
 * boundary), so the encoder starts on a boundary's first chunks while the head still cuts the rest.
 */
const BATCH_DOUBLES = 1 << 20;

/**
 * FREE_BATCHES is how many delivered batch buffers are kept for reuse: enough for the batches in flight
 * (MAX_ENCODING_BATCHES in head-appender.ts plus one boundary's worth), so a backfill allocates its shared
 * buffers once — fresh ones cost page faults, and an encode worker may hold on to old ones until it collects.
 */
const FREE_BATCHES = 16;

/** ChunkPipeline seals, cuts, encodes and delivers the head's chunks; see the file comment. */
export class ChunkPipeline {
  private readonly codec: ChunkCodec;
  private readonly sink: HeadSink;
  private readonly metrics: TsdbMetrics;
  private readonly encoder: BatchEncoder | undefined;
  /** bulk is true inside beginBulk … endBulk: full tails grow instead of being sealed. */
  private bulk = false;
  /** deferring is true inside beginDeferred … endDeferred: cuts go to `batch` unencoded. */
  private deferring = false;
  private batch: Batch | undefined;
  private readonly freeBuffers: Float64Array[] = [];
  private nextBatchId = 1;
  /** queue holds every cut not yet in the sink, in cut order, from queueHead on (the sink gets them so). */
  private queue: (Cut | undefined)[] = [];
  private queueHead = 0;
  /** inflight are the dispatched batches' completions. */
  private readonly inflight: Promise<void>[] = [];
  private encodeError: unknown;

  constructor(opts: ChunkPipelineOptions) {
    this.codec = opts.codec;
    this.sink = opts.sink;
    this.metrics = opts.metrics;
    this.encoder = opts.encoder;
  }

  /** roomForRaw makes room for one sample in a series' full open tail (`limit`: the chunk's sample cap). */
  roomForRaw(run: SealedRun, limit: number): void {
    this.makeRoom(run, RAW_FIRST_ROWS, RAW_TAIL_ROWS, limit, RAW_KEEP_ROWS);
  }

  /** roomForPending makes room for one bucket in a rollup tier's full pending tail. */
  roomForPending(run: SealedRun): void {
    this.makeRoom(run, PENDING_FIRST_ROWS, PENDING_TAIL_ROWS, Infinity);
  }

  /**
   * makeRoom makes room for one row in a full tail: a first tail of `firstRows` (series and tiers that
   * never get a row allocate none); then it doubles (to at most `limit` rows) while smaller than `tailRows`
   * or during a bulk ingest — sealing every few rows there would re-encode each run over and over;
   * Head.compactPaced() seals afterwards — and is sealed otherwise.
   */
  private makeRoom(run: SealedRun, firstRows: number, tailRows: number, limit: number, keep = 0): void {
    const cap = run.cap;
    if (cap === 0) run.resize(Math.min(firstRows, limit));
    else if (this.bulk || cap < tailRows) run.resize(Math.min(cap * 2, Math.max(limit, cap + 1)));
    else run.seal(this.codec, tailRows, keep);
  }

  /** cutRaw cuts a series' open raw chunk: encoded now and handed to the sink, or queued behind earlier cuts. */
  cutRaw(s: MemSeries): void {
    const o = s.open;
    const n = o.n;
    const minT = o.minT;
    const maxT = o.maxT;
    this.metrics.chunksCut.inc({ tier: 'raw' });
    if (this.deferring || this.queueHead < this.queue.length) {
      const cut = this.newCut(s, RAW_TIER, minT, maxT, n, 1);
      o.rowsInto(cut.src.data, cut.off);
      o.clear();
      if (!this.deferring) this.encodeNow(cut);
      return;
    }
    // Nothing sealed (a chunk cut at once, or during a bulk ingest): encode straight from the tail.
    const d = o.sealedN === 0 ? o.tail : o.rows();
    const stride = o.sealedN === 0 ? o.cap : n;
    const chunk = encodeSamples(this.codec, d, d.subarray(stride), 0, n);
    o.clear();
    this.sink.rawChunk(s.ref, minT, maxT, chunk);
  }

  /**
   * cutRollupPage cuts a tier's pending buckets into a rollup chunk; the page of a series no longer in the
   * head (no `owner`) is encoded and handed over at once.
   */
  cutRollupPage(owner: CutOwner | undefined, st: RollupState): void {
    const p = st.pending;
    const n = p.n;
    if (n === 0) return;
    const tier = st.tier;
    const minT = p.minT;
    const maxT = p.maxT;
    const s = owner;
    if (s && (this.deferring || this.queueHead < this.queue.length)) {
      const cut = this.newCut(s, ROLLUP_TIERS.indexOf(tier), minT, maxT, n, ROLLUP_COLUMNS);
      p.rowsInto(cut.src.data, cut.off);
      p.clear();
      if (!this.deferring) this.encodeNow(cut);
    } else {
      const d = p.sealedN === 0 ? p.tail : p.rows();
      const stride = p.sealedN === 0 ? p.cap : n;
      const chunks: Chunk[] = [];
      for (let agg = 0; agg < ROLLUP_AGGREGATES.length; agg++) {
        chunks.push(encodeSamples(this.codec, d, d.subarray((1 + agg) * stride), 0, n));
      }
      p.clear();
      this.sink.rollupChunk(st.ref, { tier, minT, maxT, chunks });
    }
    st.pendingSpanEnd = NaN;
    this.metrics.chunksCut.inc({ tier });
  }

  /** flushSeries cuts a series' open raw chunk and pending rollup pages whose span ended at or before `now`. */
  flushSeries(s: MemSeries, now: number): void {
    if (s.open.n > 0 && (s.f[CHUNK_END] ?? 0) <= now) this.cutRaw(s);
    for (const r of s.rollups) if (r.pending.n > 0 && r.pendingSpanEnd <= now) this.cutRollupPage(s, r);
  }

  /** compactSeries seals the rows a bulk ingest left raw, so the series' tails are back to their live size. */
  compactSeries(s: MemSeries): void {
    if (s.open.cap > RAW_TAIL_ROWS) s.open.seal(this.codec, RAW_TAIL_ROWS, RAW_KEEP_ROWS);
    for (const r of s.rollups) {
      if (r.pending.cap > PENDING_TAIL_ROWS) r.pending.seal(this.codec, PENDING_TAIL_ROWS);
    }
  }

  /**
   * newCut queues a cut of `s`'s samples with room for its samples: in the open batch when deferring, else in
   * its own buffer (it is encoded at once but must wait for the cuts before it).
   */
  private newCut(s: CutOwner, tier: number, minT: number, maxT: number, n: number, k: number): Cut {
    const size = n * (1 + k);
    let src: { readonly data: Float64Array };
    let batch: Batch | undefined;
    let off = 0;
    if (this.deferring) {
      if (this.batch && this.batch.len + size > this.batch.data.length) this.dispatch();
      batch = this.batch ??= this.newBatch(size);
      off = batch.len;
      batch.len += size;
      batch.undelivered++;
      src = batch;
    } else {
      src = { data: new Float64Array(size) };
    }
    const cut: Cut = { owner: s, tier, minT, maxT, src, batch, off, n, k, chunks: undefined };
    batch?.cuts.push(cut);
    this.queue.push(cut);
    (s.cuts ??= []).push(cut);
    return cut;
  }

  private newBatch(size: number): Batch {
    let data = size <= BATCH_DOUBLES ? this.freeBuffers.pop() : undefined;
    data ??= new Float64Array(new SharedArrayBuffer(8 * Math.max(size, BATCH_DOUBLES)));
    return { data, len: 0, cuts: [], undelivered: 0 };
  }

  /** encodeNow encodes a queued cut in-thread (it still waits for the cuts queued before it). */
  private encodeNow(cut: Cut): void {
    this.encodeCut(cut);
    this.deliver();
  }

  private encodeCut(cut: Cut): void {
    const d = cut.src.data;
    const ts = d.subarray(cut.off, cut.off + cut.n);
    const chunks: Chunk[] = [];
    for (let c = 0; c < cut.k; c++) {
      const o = cut.off + (1 + c) * cut.n;
      chunks.push(encodeSamples(this.codec, ts, d.subarray(o, o + cut.n), 0, cut.n));
    }
    cut.chunks = chunks;
  }

  /**
   * beginDeferred starts collecting cut chunks unencoded (bulk appends); endDeferred sends them to the
   * encoder. Without an encoder both do nothing and cuts are encoded in-thread as always.
   */
  beginDeferred(): void {
    if (this.encoder) this.deferring = true;
  }

  /**
   * beginBulk starts a bulk ingest (a backfill): full open tails grow instead of being sealed until
   * endBulk; Head.compactPaced() seals what they hold once the ingest is over.
   */
  beginBulk(): void {
    this.bulk = true;
  }

  /** endBulk ends what beginBulk started. */
  endBulk(): void {
    this.bulk = false;
  }

  /** endDeferred dispatches the chunks cut since beginDeferred to the encoder; see beginDeferred. */
  endDeferred(): void {
    this.deferring = false;
    this.dispatch();
  }

  /** dispatch sends the open batch to the encoder. */
  private dispatch(): void {
    const b = this.batch;
    this.batch = undefined;
    const encoder = this.encoder;
    if (!b || b.cuts.length === 0 || !encoder) return;
    const tasks = new Float64Array(b.cuts.length * TASK_STRIDE);
    b.cuts.forEach((c, i) => {
      tasks[i * TASK_STRIDE] = c.off;
      tasks[i * TASK_STRIDE + 1] = c.n;
      tasks[i * TASK_STRIDE + 2] = c.k;
    });
    const req = { id: this.nextBatchId++, data: b.data, tasks, count: b.cuts.length };
    const done: Promise<void> = encoder
      .encode(req)
      .then(
        (res) => {
          this.landed(done);
          this.fill(b.cuts, res);
          this.deliver();
        },
        (err: unknown) => {
          this.landed(done);
          this.encodeHere(b.cuts, err);
        },
      )
      // A sink that throws (its files are gone) must not become an unhandled rejection; settle reports it.
      .catch((err: unknown) => {
        this.encodeError = err;
      });
    this.inflight.push(done);
  }

  /**
   * encodeHere encodes a failed batch's cuts in-thread and delivers them; the encoder's error surfaces at the
   * next settle (a snapshot fails and says so).
   */
  private encodeHere(cuts: readonly Cut[], err: unknown): void {
    this.encodeError = err;
    for (const c of cuts) {
      try {
        this.encodeCut(c);
      } catch (e) {
        // Unencodable (a codec bug): drop the cut rather than block every later one.
        this.encodeError = e;
        c.chunks = [];
      }
    }
    this.deliver();
  }

  /** landed forgets a finished batch. */
  private landed(done: Promise<void>): void {
    const i = this.inflight.indexOf(done);
    if (i >= 0) void this.inflight.splice(i, 1);
  }

  /** fill wraps a response's bytes as the chunks of `cuts`, in order. */
  private fill(cuts: readonly Cut[], res: EncodeResponse): void {
    let j = 0;
    let start = 0;
    for (const c of cuts) {
      const chunks: Chunk[] = [];
      for (let i = 0; i < c.k; i++) {
        const end = res.ends[j++] ?? start;
        chunks.push(new EncodedChunk(this.codec, res.bytes.subarray(start, end), c.n));
        start = end;
      }
      c.chunks = chunks;
    }
  }

  /** deliver hands the encoded cuts at the front of the queue to the sink, in cut order. */
  private deliver(): void {
    const q = this.queue;
    while (this.queueHead < q.length) {
      const c = q[this.queueHead];
      const chunks = c?.chunks;
      if (!c || !chunks) break;
      q[this.queueHead++] = undefined;
      const owner = c.owner;
      if (owner.cuts) {
        owner.cuts.shift();
        if (owner.cuts.length === 0) owner.cuts = undefined;
      }
      const b = c.batch;
      if (b && --b.undelivered === 0 && b.data.length === BATCH_DOUBLES) {
        if (this.freeBuffers.length < FREE_BATCHES) this.freeBuffers.push(b.data);
      }
      if (chunks.length === 0) continue;
      if (c.tier === RAW_TIER) {
        const chunk = chunks[0];
        if (chunk) this.sink.rawChunk(c.owner.ref, c.minT, c.maxT, chunk);
      } else {
        const tier = ROLLUP_TIERS[c.tier] ?? '1m';
        this.sink.rollupChunk(c.owner.ref, { tier, minT: c.minT, maxT: c.maxT, chunks });
      }
    }
    if (this.queueHead === q.length) {
      this.queue = [];
      this.queueHead = 0;
    }
  }

  /** pendingCuts is the number of cut chunks not yet in the sink. */
  get pendingCuts(): number {
    return this.queue.length - this.queueHead;
  }

  /**
   * settle resolves once every chunk cut so far is in the sink (snapshots need the head and the sink to
   * agree); it rethrows an encoder failure (the cuts were encoded in-thread instead).
   */
  async settle(): Promise<void> {
    while (this.pendingCuts > 0) {
      const next = this.inflight[0];
      if (next) {
        // Waits for the encoder rather than encoding a batch here: a batch is up to 8 MiB of samples, and
        // encoding one on this thread held the event loop for ~130 ms during a live snapshot (a flush at a
        // chunk boundary cuts every series).
        await next;
        continue;
      }
      // Nothing in flight (only possible mid-apply): encode what is left here.
      for (let i = this.queueHead; i < this.queue.length; i++) {
        const c = this.queue[i];
        if (c && !c.chunks) this.encodeCut(c);
      }
      this.batch = undefined;
      this.deliver();
    }
    const err = this.encodeError;
    if (err !== undefined) {
      this.encodeError = undefined;
      throw err instanceof Error
        ? err
        : new TsdbError('TSDB_CORRUPT', 'chunk encoding failed', { cause: err });
    }
  }

  /** releaseBuffers drops the spare batch buffers (after a bulk ingest; they are reallocated on demand). */
  releaseBuffers(): void {
    this.freeBuffers.length = 0;
  }

  /**
   * backpressure resolves when at most `maxBatches` deferred batches are still being encoded, so a bulk
   * ingest that outruns its encoder waits for it instead of holding ever more cut samples in memory. It
   * waits rather than encoding a batch on this thread, which held the loop for ~230 ms at a backfill's
   * start and made a 12 h backfill no faster (3.39–3.52 s without, 3.59 s with).
   */
  async backpressure(maxBatches: number): Promise<void> {
    while (this.inflight.length > maxBatches) {
      await this.inflight[0];
    }
  }
}
