/**
 * Head is the shared in-memory front of every backend: the series index and each series' in-memory head
 * (mem-series.ts: one open raw chunk, the rollup accumulators). Appends are in order only: a sample at or
 * before the series' newest timestamp is rejected (duplicate / out of order), counted and logged
 * (rate-limited), never thrown. The open chunk is cut when it holds `maxSamplesPerChunk` samples or when a
 * sample crosses its epoch-aligned `chunkSpanMs` boundary (2 h, like Prometheus); the chunk pipeline
 * (chunk-pipeline.ts) seals full tails, encodes what is cut and hands it, with completed rollup pages, to the
 * backend's HeadSink. What is not cut yet — open samples, pending rollup buckets — is held as a SealedRun
 * (encoded but for a short raw tail) that reads decode, and `writeSeriesState`/`readSeriesState` give
 * backends a compact form to persist it (series-state.ts).
 */
import type { Logger } from 'pino';
import { Mutex } from '../util/mutex.js';
import { Pacer } from '../util/pacer.js';
import type { Labels } from '../util/labels.js';
import type { ByteReader, ByteWriter } from './bytes.js';
import { ChunkPipeline, type HeadSink } from './chunk-pipeline.js';
import type { ChunkCodec } from './codec.js';
import { DecodedChunks } from './decoded-chunks.js';
import type { BatchEncoder } from './encode-pool.js';
import { TsdbError } from './errors.js';
import { SeriesIndex } from './index/series-index.js';
import { CHUNK_END, LAST_T, MemSeries, PREV } from './mem-series.js';
import { TsdbMetrics } from './metrics.js';
import { increaseStep, type PendingHooks, type RollupTier } from './rollup.js';
import type { SampleBuffer } from './sample-buffer.js';
import { captureSeriesState, readStateRef, restoreSeriesState, type SeriesState } from './series-state.js';

export type { HeadSink } from './chunk-pipeline.js';

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

/**
 * MIN_SAMPLE_TIME_MS and MAX_SAMPLE_TIME_MS bound a sample's time: JS Date's range (±8.64e15 ms, the bound of
 * every endpoint's time parameters). The chunk codecs take any integer ms within ±2^53, but a rollup bucket
 * starts at the sample's time floored to its width, so a sample near -2^53 would open a bucket the codec
 * cannot hold and fail the whole commit; the margin to 2^53 (3.7e14 ms) is far more than any bucket's width.
 */
export const MIN_SAMPLE_TIME_MS = -8_640_000_000_000_000;
export const MAX_SAMPLE_TIME_MS = 8_640_000_000_000_000;

/** AppendStatus is the outcome of one Head.append. */
export enum AppendStatus {
  Ok = 0,
  OutOfOrder = 1,
  Duplicate = 2,
  UnknownSeries = 3,
  /** OutOfBounds: not an integer ms within [MIN_SAMPLE_TIME_MS, MAX_SAMPLE_TIME_MS] (counted as out of order). */
  OutOfBounds = 4,
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
  private readonly pipeline: ChunkPipeline;
  private readonly codec: ChunkCodec;
  private readonly logger: Logger | undefined;
  private readonly chunkSpanMs: number;
  private readonly maxSamples: number;
  private readonly withRollups: boolean;
  private readonly now: () => number;
  private newSeries: number[] = [];
  private maxT = -Infinity;
  private history = 0;
  private rejectedOoo = 0;
  private rejectedDup = 0;
  private rejectedBounds = 0;
  private lastRejectedBounds = 0;
  private lastRejectLog = -Infinity;
  /** hooks are created once so RollupState.add stays allocation-free. */
  private readonly hooks: PendingHooks = {
    cut: (st) => this.pipeline.cutRollupPage(this.series[st.ref], st),
    room: (run) => this.pipeline.roomForPending(run),
  };

  constructor(opts: HeadOptions) {
    this.codec = opts.codec;
    this.metrics = opts.metrics ?? new TsdbMetrics();
    this.logger = opts.logger;
    this.chunkSpanMs = opts.chunkSpanMs ?? DEFAULT_CHUNK_SPAN_MS;
    this.maxSamples = opts.maxSamplesPerChunk ?? DEFAULT_MAX_SAMPLES_PER_CHUNK;
    this.withRollups = opts.rollups ?? true;
    this.now = opts.now ?? Date.now;
    this.decodedChunks = new DecodedChunks(opts.decodedChunkSamples);
    if (!(this.chunkSpanMs > 0) || !(this.maxSamples >= 1)) {
      throw new TsdbError('TSDB_BAD_OPTIONS', 'chunkSpanMs and maxSamplesPerChunk must be positive');
    }
    this.pipeline = new ChunkPipeline({
      codec: opts.codec,
      sink: opts.sink,
      metrics: this.metrics,
      encoder: opts.encoder,
    });
  }

  /** numSeries is the number of series in the head. */
  get numSeries(): number {
    return this.index.size;
  }

  /**
   * historyGeneration changes whenever samples a read has returned may read differently now: series deleted
   * or restored, retention at work. Appends cannot do that (a sample older than its series' newest is
   * rejected), so between two reads under one generation a series only gains samples newer than those it
   * had. The engine keeps range-function windows from one evaluation to the next on that promise
   * (promql/window-cache.ts).
   */
  get historyGeneration(): number {
    return this.history;
  }

  /** noteHistoryChanged starts a new history generation (see historyGeneration); backends call it around retention. */
  noteHistoryChanged(): void {
    this.history++;
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
    this.history++;
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
    if (!(t >= MIN_SAMPLE_TIME_MS && t <= MAX_SAMPLE_TIME_MS && Number.isInteger(t)))
      return this.outOfBounds(t);
    const f = s.f;
    const lastT = f[LAST_T] as number;
    if (t <= lastT) return this.reject(t === lastT);
    const o = s.open;
    let n = o.sealedN + o.m;
    if (n > 0 && (t >= (f[CHUNK_END] as number) || n >= this.maxSamples)) {
      this.pipeline.cutRaw(s);
      n = 0;
    }
    if (n === 0) f[CHUNK_END] = Math.floor(t / this.chunkSpanMs) * this.chunkSpanMs + this.chunkSpanMs;
    if (o.m === o.cap) this.pipeline.roomForRaw(o, this.maxSamples);
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

  /** outOfBounds counts a sample whose time the store cannot hold with the out-of-order ones, and logs it. */
  private outOfBounds(t: number): AppendStatus {
    this.rejectedBounds++;
    this.lastRejectedBounds = t;
    this.metrics.outOfOrderSamples.inc();
    this.logRejections();
    return AppendStatus.OutOfBounds;
  }

  /** reject counts (and now and then logs) a sample at or before its series' newest one. */
  private reject(duplicate: boolean): AppendStatus {
    if (duplicate) {
      this.rejectedDup++;
      this.metrics.duplicateSamples.inc();
    } else {
      this.rejectedOoo++;
      this.metrics.outOfOrderSamples.inc();
    }
    this.logRejections();
    return duplicate ? AppendStatus.Duplicate : AppendStatus.OutOfOrder;
  }

  private logRejections(): void {
    const now = this.now();
    if (now - this.lastRejectLog < REJECT_LOG_INTERVAL_MS) return;
    this.lastRejectLog = now;
    this.logger?.warn(
      {
        outOfOrder: this.rejectedOoo,
        duplicate: this.rejectedDup,
        ...(this.rejectedBounds > 0 && {
          outOfBounds: this.rejectedBounds,
          lastOutOfBounds: this.lastRejectedBounds,
        }),
      },
      'rejected samples older than or equal to their series newest sample, or outside the times the store holds',
    );
    this.rejectedBounds = 0;
    this.rejectedOoo = 0;
    this.rejectedDup = 0;
  }

  /**
   * beginDeferred starts collecting cut chunks unencoded (bulk appends); endDeferred sends them to the
   * encoder. Without an encoder both do nothing and cuts are encoded in-thread as always.
   */
  beginDeferred(): void {
    this.pipeline.beginDeferred();
  }

  /** endDeferred dispatches the chunks cut since beginDeferred to the encoder; see beginDeferred. */
  endDeferred(): void {
    this.pipeline.endDeferred();
  }

  /**
   * beginBulk starts a bulk ingest (a backfill): full open tails grow instead of being sealed until
   * endBulk; compactPaced() seals what they hold once the ingest is over.
   */
  beginBulk(): void {
    this.pipeline.beginBulk();
  }

  /** endBulk ends what beginBulk started. */
  endBulk(): void {
    this.pipeline.endBulk();
  }

  /** pendingCuts is the number of cut chunks not yet in the sink. */
  get pendingCuts(): number {
    return this.pipeline.pendingCuts;
  }

  /**
   * settle resolves once every chunk cut so far is in the sink (snapshots need the head and the sink to
   * agree); it rethrows an encoder failure (the cuts were encoded in-thread instead).
   */
  settle(): Promise<void> {
    return this.pipeline.settle();
  }

  /**
   * backpressure resolves when at most `maxBatches` deferred batches are still being encoded, so a bulk
   * ingest that outruns its encoder waits for it instead of holding ever more cut samples in memory.
   */
  backpressure(maxBatches: number): Promise<void> {
    return this.pipeline.backpressure(maxBatches);
  }

  /** releaseBuffers drops the spare batch buffers (after a bulk ingest; they are reallocated on demand). */
  releaseBuffers(): void {
    this.pipeline.releaseBuffers();
  }

  /**
   * compactPaced seals the open rows a bulk ingest left raw, so every series' tails are back to their live
   * size (call it after the ingest, e.g. from Storage.flush). It works in slices, giving the event loop a turn
   * whenever `pacer`'s slice is used up: after a backfill it seals every series, which in one go held the
   * loop for 0.4–0.7 s at 20 servers. Each slice holds the commit lock, as a flush's does (it changes series
   * as a commit does).
   */
  async compactPaced(pacer = new Pacer()): Promise<void> {
    await this.pacedUnderLock(pacer, (from) =>
      this.seriesSlice(from, pacer, (s) => this.pipeline.compactSeries(s)),
    );
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
   * flushPaced is `flush` in slices, giving the event loop a turn whenever `pacer`'s slice is used up (a flush
   * soon after a chunk or page boundary cuts and encodes every series at once). Each slice holds the commit
   * lock: a flush changes series as a commit does, and a snapshot capturing the head in slices under that
   * lock must see a flush's slice whole or not at all.
   */
  async flushPaced(now: number, deferred = false, pacer = new Pacer()): Promise<void> {
    await this.pacedUnderLock(pacer, (from) => this.flushSlice(now, deferred, from, pacer));
  }

  /** flushSlices is flushPaced for a caller that holds the commit lock (it stays held across the turns). */
  async flushSlices(now: number, deferred = false, pacer = new Pacer()): Promise<void> {
    for (let from = 0; from < this.series.length;) {
      if (from > 0) await pacer.yield();
      from = this.flushSlice(now, deferred, from, pacer);
    }
  }

  /** flushSlice flushes the series from index `from` on until `pacer`'s slice is used up; returns where it stopped. */
  private flushSlice(now: number, deferred: boolean, from: number, pacer: Pacer): number {
    // Deferred mode belongs to this slice only (a commit may run before the next).
    if (deferred) this.beginDeferred();
    try {
      return this.seriesSlice(from, pacer, (s) => this.pipeline.flushSeries(s, now));
    } finally {
      if (deferred) this.endDeferred();
    }
  }

  /**
   * pacedUnderLock runs `slice` from series 0 until it has passed the last, each call under the commit lock
   * and a turn of the event loop between calls: a slice changes series as a commit does, and a snapshot
   * capturing the head in slices under that lock sees a slice whole or not at all.
   */
  private async pacedUnderLock(pacer: Pacer, slice: (from: number) => number): Promise<void> {
    for (let from = 0; from < this.series.length;) {
      if (from > 0) await pacer.yield();
      const start = from;
      from = await this.commitLock.run(() => Promise.resolve(slice(start)));
    }
  }

  /** seriesSlice applies `visit` to the series from index `from` on until `pacer`'s slice is used up; returns where it stopped. */
  private seriesSlice(from: number, pacer: Pacer, visit: (s: MemSeries) => void): number {
    let i = from;
    while (i < this.series.length) {
      const s = this.series[i++];
      if (s) visit(s);
      if (pacer.due()) break;
    }
    return i;
  }

  private flushNow(now: number): void {
    for (const s of this.series) if (s) this.pipeline.flushSeries(s, now);
  }

  /**
   * memSeries returns the head state of series `ref` (undefined: not live), for a reader that asks several
   * things of each series (a select): one lookup instead of one per question. Its `labels` are the index's.
   */
  memSeries(ref: number): MemSeries | undefined {
    return this.series[ref];
  }

  /** openMinTime returns the oldest timestamp in the series' cut-but-unstored or open chunk (Infinity: none). */
  openMinTime(ref: number): number {
    return this.series[ref]?.openMinTime() ?? Infinity;
  }

  /** lastTime returns the newest timestamp of series `ref` (-Infinity when none). */
  lastTime(ref: number): number {
    return this.series[ref]?.lastT ?? -Infinity;
  }

  /** readRaw appends the samples in [mint, maxt] of the series' unstored cuts and open chunk to `out`. */
  readRaw(ref: number, mint: number, maxt: number, out: SampleBuffer): void {
    this.series[ref]?.readRaw(mint, maxt, out);
  }

  /** openRollupMinTime returns the oldest bucket start the head still holds for a tier (Infinity: none). */
  openRollupMinTime(ref: number, tier: RollupTier): number {
    return this.series[ref]?.openRollupMinTime(tier) ?? Infinity;
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
    this.series[ref]?.readRollup(tier, agg, mint, maxt, out);
  }

  /** deleteSeries forgets series entirely (retention found nothing left of them). */
  deleteSeries(refs: ReadonlySet<number>): void {
    this.history++;
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
    return captureSeriesState(s);
  }

  /**
   * readSeriesState restores what writeSeriesState wrote, or an earlier layout (sealed prefixes as one
   * segment, or runs as raw rows); the series must exist (restoreSeries first).
   */
  readSeriesState(r: ByteReader): void {
    const { ref, layout } = readStateRef(r);
    const s = this.series[ref];
    if (!s) throw new TsdbError('TSDB_CORRUPT', `state for unknown series ${ref}`);
    this.history++;
    restoreSeriesState(s, r, layout, this.codec);
    if (s.lastT > this.maxT) this.maxT = s.lastT;
  }

  /** noteMaxTime raises maxTime to `t` (backends call it for data restored outside the head). */
  noteMaxTime(t: number): void {
    if (t > this.maxT) this.maxT = t;
  }
}
