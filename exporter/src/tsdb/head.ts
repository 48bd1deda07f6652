/**
 * Head is the shared in-memory front of every backend: the series index, one open raw chunk per series, and
 * the rollup accumulators. Appends are in order only: a sample at or before the series' newest timestamp
 * is rejected (duplicate / out of order), counted and logged (rate-limited), never thrown. The open chunk is
 * cut when it holds `maxSamplesPerChunk` samples or when a sample crosses its epoch-aligned `chunkSpanMs`
 * boundary (2 h, like Prometheus), and the encoded chunk goes to the backend's HeadSink; completed rollup
 * pages go there too. What is not cut yet — open samples, pending rollup buckets — is held as a SealedRun
 * (encoded but for a short raw tail) that reads decode, and `writeSeriesState`/`readSeriesState` give
 * backends a compact form to persist it.
 */
import type { Logger } from 'pino';
import type { Labels } from '../util/labels.js';
import type { Chunk, ChunkIterator, Encoding } from './chunkenc/chunk.js';
import type { ByteReader, ByteWriter } from './bytes.js';
import { encodeSamples, type ChunkCodec } from './codec.js';
import { DecodedChunks } from './decoded-chunks.js';
import { TASK_STRIDE, type EncodeResponse } from './encode-batch.js';
import type { BatchEncoder } from './encode-pool.js';
import { TsdbError } from './errors.js';
import { SeriesIndex } from './index/series-index.js';
import { TsdbMetrics } from './metrics.js';
import {
  ACC_SIZE,
  ROLLUP_AGGREGATES,
  ROLLUP_TIERS,
  RollupState,
  increaseStep,
  linkTiers,
  type PendingHooks,
  type RollupChunk,
  type RollupTier,
} from './rollup.js';
import type { SampleBuffer } from './sample-buffer.js';
import { SealedRun } from './sealed-run.js';
import { Mutex } from '../util/mutex.js';
import { Pacer } from '../util/pacer.js';

/** HeadSink receives what the head completes; the backend stores it (memory + disk, or Redis). */
export interface HeadSink {
  /** rawChunk takes a completed raw chunk of series `ref` holding samples in [minT, maxT]. */
  rawChunk(ref: number, minT: number, maxT: number, chunk: Chunk): void;
  /** rollupChunk takes a completed page of rollup buckets of series `ref`. */
  rollupChunk(ref: number, chunk: RollupChunk): void;
}

/** HeadOptions configures a Head. */
export interface HeadOptions {
  readonly codec: ChunkCodec;
  readonly sink: HeadSink;
  readonly metrics?: TsdbMetrics;
  readonly logger?: Logger;
  /** chunkSpanMs is the epoch-aligned time boundary raw chunks are cut at. */
  readonly chunkSpanMs?: number;
  /** maxSamplesPerChunk cuts a raw chunk early when it is this full. */
  readonly maxSamplesPerChunk?: number;
  /** rollups turns the 1m/5m/1h tiers on (default true). */
  readonly rollups?: boolean;
  /** now is the wall clock used only to rate-limit rejection logs. */
  readonly now?: () => number;
  /** decodedChunkSamples bounds the decoded stored chunks kept for repeated reads (decoded-chunks.ts). */
  readonly decodedChunkSamples?: number;
  /**
   * encoder encodes chunks cut during deferred appends (beginDeferred … endDeferred) off the main thread;
   * it must produce what `codec` would (encode-batch.ts uses DEFAULT_CODEC). Omitted: always in-thread.
   */
  readonly encoder?: BatchEncoder;
}

/** DEFAULT_CHUNK_SPAN_MS is Prometheus's head chunk range: 2 h, aligned to the epoch. */
export const DEFAULT_CHUNK_SPAN_MS = 2 * 3_600_000;

/**
 * DEFAULT_MAX_SAMPLES_PER_CHUNK is 480 = 2 h of 15 s ticks, so a live series fills exactly one chunk per
 * span; 4× Prometheus's 120 because the decimal codec's per-chunk header is worth amortising further.
 */
export const DEFAULT_MAX_SAMPLES_PER_CHUNK = 480;

/** REJECT_LOG_INTERVAL_MS rate-limits the rejected-samples log line to one per 10 s. */
const REJECT_LOG_INTERVAL_MS = 10_000;

/** AppendStatus is the outcome of one Head.append. */
export enum AppendStatus {
  Ok = 0,
  OutOfOrder = 1,
  Duplicate = 2,
  UnknownSeries = 3,
}

/**
 * RAW_TAIL_ROWS is how many open samples a series holds raw before the head seals them (sealed-run.ts):
 * 56 × 16 bytes, against ~1 byte per sealed sample. A seal keeps the newest RAW_KEEP_ROWS raw — 24 rows are
 * 6 min at 15 s ticks, more than PromQL's 5 min lookback and the [5m] ranges of the shipped rules — so rule
 * evaluations read recent samples without decoding the sealed prefix; it seals 56 − 24 = 32 rows at a time.
 * A fresh series starts at RAW_FIRST_ROWS and doubles.
 */
const RAW_TAIL_ROWS = 56;
const RAW_KEEP_ROWS = 24;
const RAW_FIRST_ROWS = 8;

/**
 * PENDING_TAIL_ROWS is how many completed rollup buckets a tier keeps raw before they are sealed: 4 × 56
 * bytes; a 1m bucket closes once a minute, so sealing (which re-encodes the tier's pending run) stays rare.
 * A fresh series starts at PENDING_FIRST_ROWS.
 */
const PENDING_TAIL_ROWS = 4;
const PENDING_FIRST_ROWS = 2;

/**
 * COMPACT_STATE_MARK opens a series state whose runs are stored as held (sealed bytes + raw tail); the
 * earlier layout, with every run decoded to raw rows, opens with the series ref, which never reaches it.
 */
const COMPACT_STATE_MARK = 0xffffffff;

/** RAW_TIER is Cut.tier for a raw chunk; rollup cuts hold their index in ROLLUP_TIERS. */
const RAW_TIER = -1;

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

/**
 * Batch collects the samples of deferred cuts as encode-batch.ts lays them out, in memory shared with the
 * encoder (nothing writes it after dispatch, so both sides read it without a copy).
 */
interface Batch {
  readonly data: Float64Array;
  len: number;
  readonly cuts: Cut[];
  /** undelivered counts the batch's cuts not yet in the sink; at 0 its buffer can be reused. */
  undelivered: number;
}

/**
 * Cut is a chunk the head has cut but not yet handed to its sink (its encoding is in flight, or it waits
 * behind one that is): `n` timestamps at src.data[off] followed by `k` value columns of `n`. Reads see it
 * through the head until the sink has it.
 */
interface Cut {
  readonly ref: number;
  /** tier is RAW_TIER or an index in ROLLUP_TIERS. */
  readonly tier: number;
  readonly minT: number;
  readonly maxT: number;
  readonly src: { readonly data: Float64Array };
  /** batch is the deferred batch holding the samples (undefined for a cut encoded at once). */
  readonly batch: Batch | undefined;
  readonly off: number;
  readonly n: number;
  readonly k: number;
  chunks: Chunk[] | undefined;
}

/** Slots of MemSeries.f (unboxed doubles for the per-sample path); the rollup accumulators follow. */
const LAST_T = 0;
const PREV = 1;
const CHUNK_END = 2;
const ACC_BASE = 3;

/** MemSeries is one series' head state. */
class MemSeries {
  /** open holds the open raw chunk's samples. */
  readonly open = new SealedRun(1);
  /**
   * f holds [lastT, prev, chunkEnd]: the newest accepted timestamp (stale markers included), the newest
   * non-NaN value (NaN: none yet, for counter increases) and the open chunk's span end (valid when the open
   * chunk has samples); then each rollup tier's open bucket (RollupState keeps its offset).
   */
  readonly f: Float64Array;
  readonly rollups: RollupState[];
  /** cuts are this series' cuts not yet in the sink, oldest first (undefined: none, the usual case). */
  cuts: Cut[] | undefined;

  constructor(
    readonly ref: number,
    readonly labels: Labels,
    withRollups: boolean,
  ) {
    const f = new Float64Array(ACC_BASE + (withRollups ? ROLLUP_TIERS.length * ACC_SIZE : 0));
    f[LAST_T] = -Infinity;
    f[PREV] = NaN;
    this.f = f;
    this.rollups = withRollups
      ? linkTiers(ROLLUP_TIERS.map((t, i) => new RollupState(t, ref, f, ACC_BASE + i * ACC_SIZE)))
      : [];
  }

  get lastT(): number {
    return this.f[LAST_T] ?? -Infinity;
  }
}

/** Head holds the index and open state of every series; see the file comment. */
export class Head {
  readonly index = new SeriesIndex();
  readonly metrics: TsdbMetrics;
  /** decodedChunks caches the decoded samples of stored raw chunks for the queriers over this head. */
  readonly decodedChunks: DecodedChunks;
  /**
   * commitLock is held by a commit from applying its first sample to starting its log write, and by a
   * snapshot while it takes the head's state: each sees the other whole (head-appender.ts).
   */
  readonly commitLock = new Mutex();
  private readonly series: (MemSeries | undefined)[] = [];
  private readonly codec: ChunkCodec;
  private readonly sink: HeadSink;
  private readonly logger: Logger | undefined;
  private readonly chunkSpanMs: number;
  private readonly maxSamples: number;
  private readonly withRollups: boolean;
  private readonly now: () => number;
  private newSeries: number[] = [];
  private maxT = -Infinity;
  private rejectedOoo = 0;
  private rejectedDup = 0;
  private lastRejectLog = -Infinity;
  /** hooks are created once so RollupState.add stays allocation-free. */
  private readonly hooks: PendingHooks = {
    cut: (st) => this.encodeRollupPage(st),
    room: (run) => this.makeRoom(run, PENDING_FIRST_ROWS, PENDING_TAIL_ROWS, Infinity),
  };
  /** bulk is true inside beginBulk … endBulk: full tails grow instead of being sealed. */
  private bulk = false;
  private readonly encoder: BatchEncoder | undefined;
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

  constructor(opts: HeadOptions) {
    this.codec = opts.codec;
    this.sink = opts.sink;
    this.metrics = opts.metrics ?? new TsdbMetrics();
    this.logger = opts.logger;
    this.chunkSpanMs = opts.chunkSpanMs ?? DEFAULT_CHUNK_SPAN_MS;
    this.maxSamples = opts.maxSamplesPerChunk ?? DEFAULT_MAX_SAMPLES_PER_CHUNK;
    this.withRollups = opts.rollups ?? true;
    this.now = opts.now ?? Date.now;
    this.encoder = opts.encoder;
    this.decodedChunks = new DecodedChunks(opts.decodedChunkSamples);
    if (!(this.chunkSpanMs > 0) || !(this.maxSamples >= 1)) {
      throw new TsdbError('TSDB_BAD_OPTIONS', 'chunkSpanMs and maxSamplesPerChunk must be positive');
    }
  }

  /** numSeries is the number of series in the head. */
  get numSeries(): number {
    return this.index.size;
  }

  /** maxTime is the newest accepted timestamp of any series (-Infinity when empty). */
  get maxTime(): number {
    return this.maxT;
  }

  /** getOrCreate returns the ref of `labels`, creating the series (and queuing it for `drainNewSeries`). */
  getOrCreate(labels: Labels): number {
    const r = this.index.getOrCreate(labels);
    if (r.created) {
      this.series[r.ref] = new MemSeries(r.ref, r.labels, this.withRollups);
      this.newSeries.push(r.ref);
      this.metrics.headSeries.set(this.index.size);
    }
    return r.ref;
  }

  /** has says whether `ref` is a live series. */
  has(ref: number): boolean {
    return this.series[ref] !== undefined;
  }

  /** restoreSeries re-creates a series with a known ref (snapshot / log replay); it is not queued as new. */
  restoreSeries(ref: number, labels: Labels): void {
    if (this.series[ref]) return;
    this.index.restore(ref, labels);
    const canon = this.index.labels(ref);
    if (!canon) return;
    this.series[ref] = new MemSeries(ref, canon, this.withRollups);
    this.metrics.headSeries.set(this.index.size);
  }

  /** drainNewSeries returns the refs created since the last drain (backends log them before their samples). */
  drainNewSeries(): number[] {
    const out = this.newSeries;
    this.newSeries = [];
    return out;
  }

  /** append adds one sample to series `ref`, or says why it was rejected. */
  append(ref: number, t: number, v: number): AppendStatus {
    const s = this.series[ref];
    if (!s) return AppendStatus.UnknownSeries;
    const f = s.f;
    const lastT = f[LAST_T] as number;
    if (t <= lastT) {
      if (t === lastT) {
        this.rejectedDup++;
        this.metrics.duplicateSamples.inc();
        this.logRejections();
        return AppendStatus.Duplicate;
      }
      this.rejectedOoo++;
      this.metrics.outOfOrderSamples.inc();
      this.logRejections();
      return AppendStatus.OutOfOrder;
    }
    const o = s.open;
    let n = o.sealedN + o.m;
    if (n > 0 && (t >= (f[CHUNK_END] as number) || n >= this.maxSamples)) {
      this.cutRaw(s);
      n = 0;
    }
    if (n === 0) f[CHUNK_END] = Math.floor(t / this.chunkSpanMs) * this.chunkSpanMs + this.chunkSpanMs;
    if (o.m === o.cap) this.makeRoom(o, RAW_FIRST_ROWS, RAW_TAIL_ROWS, this.maxSamples, RAW_KEEP_ROWS);
    const m = o.m;
    o.tail[m] = t;
    o.tail[o.cap + m] = v;
    o.m = m + 1;
    f[LAST_T] = t;
    if (t > this.maxT) this.maxT = t;
    if (v === v) {
      // Only the finest tier sees samples; coarser tiers are fed by its closed buckets.
      const finest = s.rollups[0];
      if (finest) finest.add(t, v, increaseStep(f[PREV] as number, v), this.hooks);
      f[PREV] = v;
    }
    return AppendStatus.Ok;
  }

  private logRejections(): void {
    const now = this.now();
    if (now - this.lastRejectLog < REJECT_LOG_INTERVAL_MS) return;
    this.lastRejectLog = now;
    this.logger?.warn(
      { outOfOrder: this.rejectedOoo, duplicate: this.rejectedDup },
      'rejected samples older than or equal to their series newest sample',
    );
    this.rejectedOoo = 0;
    this.rejectedDup = 0;
  }

  /**
   * makeRoom makes room for one row in a full tail: a first tail of `firstRows` (series and tiers that
   * never get a row allocate none); then it doubles (to at most `limit` rows) while smaller than `tailRows`
   * or during a bulk ingest — sealing every few rows there would re-encode each run over and over;
   * compact() seals afterwards — and is sealed otherwise, all but its newest `keep` rows.
   */
  private makeRoom(run: SealedRun, firstRows: number, tailRows: number, limit: number, keep = 0): void {
    const cap = run.cap;
    if (cap === 0) run.resize(Math.min(firstRows, limit));
    else if (this.bulk || cap < tailRows) run.resize(Math.min(cap * 2, Math.max(limit, cap + 1)));
    else run.seal(this.codec, tailRows, keep);
  }

  private cutRaw(s: MemSeries): void {
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

  private encodeRollupPage(st: RollupState): void {
    const p = st.pending;
    const n = p.n;
    if (n === 0) return;
    const tier = st.tier;
    const minT = p.minT;
    const maxT = p.maxT;
    const s = this.series[st.ref];
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

  /**
   * newCut queues a cut of series `s` with room for its samples: in the open batch when deferring, else in
   * its own buffer (it is encoded at once but must wait for the cuts before it).
   */
  private newCut(s: MemSeries, tier: number, minT: number, maxT: number, n: number, k: number): Cut {
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
    const cut: Cut = { ref: s.ref, tier, minT, maxT, src, batch, off, n, k, chunks: undefined };
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
   * endBulk; compact() seals what they hold once the ingest is over.
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
          // Encode the cuts here instead; the error surfaces at the next settle (a snapshot fails and says so).
          this.encodeError = err;
          for (const c of b.cuts) {
            try {
              this.encodeCut(c);
            } catch (e) {
              // Unencodable (a codec bug): drop the cut rather than block every later one.
              this.encodeError = e;
              c.chunks = [];
            }
          }
          this.deliver();
        },
      )
      // A sink that throws (its files are gone) must not become an unhandled rejection; settle reports it.
      .catch((err: unknown) => {
        this.encodeError = err;
      });
    this.inflight.push(done);
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
      const s = this.series[c.ref];
      if (s?.cuts) {
        s.cuts.shift();
        if (s.cuts.length === 0) s.cuts = undefined;
      }
      const b = c.batch;
      if (b && --b.undelivered === 0 && b.data.length === BATCH_DOUBLES) {
        if (this.freeBuffers.length < FREE_BATCHES) this.freeBuffers.push(b.data);
      }
      if (chunks.length === 0) continue;
      if (c.tier === RAW_TIER) {
        const chunk = chunks[0];
        if (chunk) this.sink.rawChunk(c.ref, c.minT, c.maxT, chunk);
      } else {
        const tier = ROLLUP_TIERS[c.tier] ?? '1m';
        this.sink.rollupChunk(c.ref, { tier, minT: c.minT, maxT: c.maxT, chunks });
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
        // Help the encoder with a batch it has not started rather than wait (the final flush of a backfill).
        if (this.encoder?.assist()) await Promise.resolve();
        else await next;
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
   * compact seals the open rows a bulk ingest left raw, so every series' tails are back to their live size
   * (call it after the ingest, e.g. from Storage.flush).
   */
  compact(): void {
    for (const s of this.series) {
      if (!s) continue;
      if (s.open.cap > RAW_TAIL_ROWS) s.open.seal(this.codec, RAW_TAIL_ROWS, RAW_KEEP_ROWS);
      for (const r of s.rollups) {
        if (r.pending.cap > PENDING_TAIL_ROWS) r.pending.seal(this.codec, PENDING_TAIL_ROWS);
      }
    }
  }

  /**
   * backpressure resolves when at most `maxBatches` deferred batches are still being encoded, so a bulk
   * ingest that outruns its encoder helps it (or waits) instead of holding ever more cut samples in memory.
   */
  async backpressure(maxBatches: number): Promise<void> {
    while (this.inflight.length > maxBatches) {
      // Rather than wait, encode a batch the workers have not started; its delivery runs before we go on.
      if (this.encoder?.assist()) await Promise.resolve();
      else await this.inflight[0];
    }
  }

  /**
   * flush cuts every open raw chunk and pending rollup page whose span ended at or before `now`, so series
   * that stopped (a server that went down) do not keep their data in the head forever. With `deferred` the
   * cut chunks go to the encoder (settle() waits for them), as a bulk commit's do.
   */
  flush(now: number, deferred = false): void {
    if (deferred) this.beginDeferred();
    try {
      this.flushNow(now);
    } finally {
      if (deferred) this.endDeferred();
    }
  }

  /**
   * flushPaced is `flush` in slices: it gives the event loop a turn whenever `pacer`'s slice is used up, since
   * a flush soon after a chunk or page boundary cuts and encodes every series at once.
   */
  async flushPaced(now: number, deferred = false, pacer = new Pacer()): Promise<void> {
    if (deferred) this.beginDeferred();
    try {
      for (const s of this.series) {
        if (pacer.due()) {
          // Deferred mode belongs to this flush's slices only (a commit may run in between).
          if (deferred) this.endDeferred();
          await pacer.yield();
          if (deferred) this.beginDeferred();
        }
        if (s) this.flushSeries(s, now);
      }
    } finally {
      if (deferred) this.endDeferred();
    }
  }

  private flushNow(now: number): void {
    for (const s of this.series) if (s) this.flushSeries(s, now);
  }

  private flushSeries(s: MemSeries, now: number): void {
    if (s.open.n > 0 && (s.f[CHUNK_END] ?? 0) <= now) this.cutRaw(s);
    for (const r of s.rollups) if (r.pending.n > 0 && r.pendingSpanEnd <= now) this.encodeRollupPage(r);
  }

  /** openMinTime returns the oldest timestamp in the series' cut-but-unstored or open chunk (Infinity: none). */
  openMinTime(ref: number): number {
    const s = this.series[ref];
    if (!s) return Infinity;
    for (const c of s.cuts ?? []) if (c.tier === RAW_TIER) return c.minT;
    return s.open.n > 0 ? s.open.minT : Infinity;
  }

  /** lastTime returns the newest timestamp of series `ref` (-Infinity when none). */
  lastTime(ref: number): number {
    return this.series[ref]?.lastT ?? -Infinity;
  }

  /** readRaw appends the samples in [mint, maxt] of the series' unstored cuts and open chunk to `out`. */
  readRaw(ref: number, mint: number, maxt: number, out: SampleBuffer): void {
    const s = this.series[ref];
    if (!s) return;
    if (s.cuts) for (const c of s.cuts) if (c.tier === RAW_TIER) readCut(c, 0, mint, maxt, out);
    const o = s.open;
    const n = o.n;
    if (n === 0 || o.maxT < mint || o.minT > maxt) return;
    // Reads of recent samples (the usual query) find them all in the tail and skip decoding the prefix.
    const inTail = o.tailFrom(mint);
    const d = inTail ? o.tail : o.rows();
    const to = inTail ? o.m : n;
    const stride = inTail ? o.cap : n;
    for (let i = 0; i < to; i++) {
      const t = d[i] ?? 0;
      if (t < mint) continue;
      if (t > maxt) break;
      out.push(t, d[stride + i] ?? 0);
    }
  }

  /** openRollupMinTime returns the oldest bucket start the head still holds for a tier (Infinity: none). */
  openRollupMinTime(ref: number, tier: RollupTier): number {
    const s = this.series[ref];
    const i = ROLLUP_TIERS.indexOf(tier);
    for (const c of s?.cuts ?? []) if (c.tier === i) return c.minT;
    const r = s?.rollups[i];
    if (!r) return Infinity;
    if (r.pending.n > 0) return r.pending.minT;
    return r.openRows()[0]?.[0] ?? Infinity;
  }

  /** readRollup appends the head's buckets (unstored, pending and open) of one tier and aggregate to `out`. */
  readRollup(
    ref: number,
    tier: RollupTier,
    agg: number,
    mint: number,
    maxt: number,
    out: SampleBuffer,
  ): void {
    const s = this.series[ref];
    const i = ROLLUP_TIERS.indexOf(tier);
    for (const c of s?.cuts ?? []) if (c.tier === i) readCut(c, agg, mint, maxt, out);
    s?.rollups[i]?.read(agg, mint, maxt, out);
  }

  /** deleteSeries forgets series entirely (retention found nothing left of them). */
  deleteSeries(refs: ReadonlySet<number>): void {
    for (const ref of refs) this.series[ref] = undefined;
    this.index.delete(refs);
    this.metrics.headSeries.set(this.index.size);
  }

  /** refs iterates the refs of all live series. */
  *refs(): IterableIterator<number> {
    for (const s of this.series) if (s) yield s.ref;
  }

  /**
   * writeSeriesState serialises one series' open state (open samples, last timestamp, previous value,
   * rollup accumulators), for snapshots and Redis. Layout: docs/format/redis-keys.md, "Checkpoint".
   */
  writeSeriesState(ref: number, w: ByteWriter): void {
    this.captureSeriesState(ref).write(w);
  }

  /**
   * captureSeriesState copies one series' open state as it is now (cheap: tails are short, sealed prefixes
   * are shared), so a snapshot can take every series at one instant and serialise them later, paced.
   */
  captureSeriesState(ref: number): SeriesState {
    const s = this.series[ref];
    if (!s) throw new TsdbError('TSDB_CORRUPT', `series ${ref} is not in the head`);
    return new SeriesState(
      ref,
      s.f.slice(0, ACC_BASE),
      s.open.clone(),
      s.rollups.map((r) => ({
        openStart: r.openStart,
        values: ROLLUP_AGGREGATES.map((_, agg) => r.openValue(agg)),
        pendingSpanEnd: r.pendingSpanEnd,
        pending: r.pending.clone(),
      })),
    );
  }

  /**
   * readSeriesState restores what writeSeriesState wrote, or the layout before it (runs as raw rows); the
   * series must exist (restoreSeries first).
   */
  readSeriesState(r: ByteReader): void {
    let ref = r.u32();
    const compact = ref === COMPACT_STATE_MARK;
    if (compact) ref = r.u32();
    const s = this.series[ref];
    if (!s) throw new TsdbError('TSDB_CORRUPT', `state for unknown series ${ref}`);
    r.f64s(s.f, 0, ACC_BASE);
    this.readRun(s.open, r, RAW_TAIL_ROWS, compact, RAW_KEEP_ROWS);
    if (s.lastT > this.maxT) this.maxT = s.lastT;
    const tiers = r.u8();
    for (let i = 0; i < tiers; i++) {
      const st = s.rollups[i];
      const openStart = r.f64();
      const vals = ROLLUP_AGGREGATES.map(() => r.f64());
      const pendingSpanEnd = r.f64();
      // With rollups disabled since the state was written, the rows are read into a run that is dropped.
      this.readRun(st?.pending ?? new SealedRun(ROLLUP_COLUMNS), r, PENDING_TAIL_ROWS, compact);
      if (!st) continue;
      st.restoreOpen(openStart, vals);
      st.pendingSpanEnd = pendingSpanEnd;
    }
  }

  /**
   * readRun replaces `run`'s rows with those of a state (`compact`: as SealedRun.write stores them; else a
   * row count and k + 1 columns of raw rows), sealed (but the newest `keep`) when its raw rows do not fit a
   * live tail of `tailRows`.
   */
  private readRun(run: SealedRun, r: ByteReader, tailRows: number, compact: boolean, keep = 0): void {
    if (compact) run.read(r, this.codec);
    else {
      const n = r.u32();
      run.clear();
      run.resize(Math.max(run.cap, n));
      for (let c = 0; c <= run.k; c++) r.f64s(run.tail, c * run.cap, n);
      run.m = n;
    }
    if (run.cap > tailRows) run.seal(this.codec, tailRows, keep);
  }

  /** noteMaxTime raises maxTime to `t` (backends call it for data restored outside the head). */
  noteMaxTime(t: number): void {
    if (t > this.maxT) this.maxT = t;
  }
}

/** TierState is one rollup tier's part of a SeriesState. */
interface TierState {
  readonly openStart: number;
  readonly values: readonly number[];
  readonly pendingSpanEnd: number;
  readonly pending: SealedRun;
}

/** SeriesState is one series' open state taken at an instant (Head.captureSeriesState). */
export class SeriesState {
  constructor(
    readonly ref: number,
    private readonly f: Float64Array,
    private readonly open: SealedRun,
    private readonly tiers: readonly TierState[],
  ) {}

  /** byteLength is the size `write` produces. */
  get byteLength(): number {
    let n = 4 + 4 + 8 * this.f.length + this.open.stateBytes + 1;
    for (const t of this.tiers) n += 8 * (2 + t.values.length) + t.pending.stateBytes;
    return n;
  }

  /**
   * write serialises the state as Head.readSeriesState reads it, runs as they are held (sealed prefixes as
   * their bytes: nothing is decoded). Layout: docs/format/redis-keys.md, "Checkpoint".
   */
  write(w: ByteWriter): void {
    w.u32(COMPACT_STATE_MARK);
    w.u32(this.ref);
    w.f64s(this.f, 0, this.f.length);
    this.open.write(w);
    w.u8(this.tiers.length);
    for (const t of this.tiers) {
      w.f64(t.openStart);
      for (const v of t.values) w.f64(v);
      w.f64(t.pendingSpanEnd);
      t.pending.write(w);
    }
  }
}

/** readCut appends column `col` of a cut's samples with timestamps in [mint, maxt] to `out`. */
function readCut(c: Cut, col: number, mint: number, maxt: number, out: SampleBuffer): void {
  if (c.maxT < mint || c.minT > maxt) return;
  const d = c.src.data;
  const vo = c.off + (1 + col) * c.n;
  for (let i = 0; i < c.n; i++) {
    const t = d[c.off + i] ?? 0;
    if (t < mint) continue;
    if (t > maxt) break;
    out.push(t, d[vo + i] ?? 0);
  }
}

/**
 * EncodedChunk wraps bytes an encoder made from `n` samples; it parses them only when read (sinks that
 * store bytes, as the disk store does, never pay for it).
 */
class EncodedChunk implements Chunk {
  private decoded: Chunk | undefined;

  constructor(
    private readonly codec: ChunkCodec,
    private readonly b: Uint8Array,
    private readonly n: number,
  ) {}

  get encoding(): Encoding {
    return this.chunk().encoding;
  }

  numSamples(): number {
    return this.n;
  }

  bytes(): Uint8Array {
    return this.b;
  }

  iterator(): ChunkIterator {
    return this.chunk().iterator();
  }

  private chunk(): Chunk {
    return (this.decoded ??= this.codec.decode(this.b));
  }
}
