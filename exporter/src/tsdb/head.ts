/**
 * Head is the shared in-memory front of every backend: the series index, one open raw chunk per series, and
 * the rollup accumulators. Appends are in order only: a sample at or before the series' newest timestamp
 * is rejected (duplicate / out of order), counted and logged (rate-limited), never thrown. The open chunk is
 * cut when it holds `maxSamplesPerChunk` samples or when a sample crosses its epoch-aligned `chunkSpanMs`
 * boundary (2 h, like Prometheus), and the encoded chunk goes to the backend's HeadSink; completed rollup
 * pages go there too. Open samples stay unencoded (the ChunkBuilder contract has no reader) so queries can
 * read them, and `writeSeriesState`/`readSeriesState` give backends a compact form to persist them.
 */
import type { Logger } from 'pino';
import type { Labels } from '../util/labels.js';
import type { Chunk } from './chunkenc/chunk.js';
import type { ByteReader, ByteWriter } from './bytes.js';
import { encodeSamples, type ChunkCodec } from './codec.js';
import { TsdbError } from './errors.js';
import { SeriesIndex } from './index/series-index.js';
import { TsdbMetrics } from './metrics.js';
import {
  ROLLUP_AGGREGATES,
  ROLLUP_TIERS,
  RollupState,
  increaseStep,
  linkTiers,
  type RollupChunk,
  type RollupTier,
} from './rollup.js';
import type { SampleBuffer } from './sample-buffer.js';

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

/** INITIAL_OPEN_CAPACITY is the first allocation of a series' open-chunk arrays (grown ×2 as needed). */
const INITIAL_OPEN_CAPACITY = 32;

/** Slots of MemSeries.f (unboxed doubles for the per-sample path). */
const LAST_T = 0;
const PREV = 1;
const CHUNK_END = 2;

/** MemSeries is one series' head state. */
class MemSeries {
  ts = new Float64Array(INITIAL_OPEN_CAPACITY);
  vs = new Float64Array(INITIAL_OPEN_CAPACITY);
  /** n is the number of samples in the open chunk. */
  n = 0;
  /**
   * f holds [lastT, prev, chunkEnd]: the newest accepted timestamp (stale markers included), the newest
   * non-NaN value (NaN: none yet, for counter increases) and the open chunk's span end (valid when n > 0).
   */
  readonly f = new Float64Array([-Infinity, NaN, 0]);
  readonly rollups: RollupState[];

  constructor(
    readonly ref: number,
    readonly labels: Labels,
    withRollups: boolean,
  ) {
    this.rollups = withRollups ? linkTiers(ROLLUP_TIERS.map((t) => new RollupState(t, ref))) : [];
  }

  get lastT(): number {
    return this.f[LAST_T] ?? -Infinity;
  }

  grow(): void {
    const ts = new Float64Array(this.ts.length * 2);
    const vs = new Float64Array(this.vs.length * 2);
    ts.set(this.ts);
    vs.set(this.vs);
    this.ts = ts;
    this.vs = vs;
  }
}

/** Head holds the index and open state of every series; see the file comment. */
export class Head {
  readonly index = new SeriesIndex();
  readonly metrics: TsdbMetrics;
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
  /** cutRollup is created once so RollupState.add stays allocation-free. */
  private readonly cutRollup = (st: RollupState): void => this.encodeRollupPage(st);

  constructor(opts: HeadOptions) {
    this.codec = opts.codec;
    this.sink = opts.sink;
    this.metrics = opts.metrics ?? new TsdbMetrics();
    this.logger = opts.logger;
    this.chunkSpanMs = opts.chunkSpanMs ?? DEFAULT_CHUNK_SPAN_MS;
    this.maxSamples = opts.maxSamplesPerChunk ?? DEFAULT_MAX_SAMPLES_PER_CHUNK;
    this.withRollups = opts.rollups ?? true;
    this.now = opts.now ?? Date.now;
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
    let n = s.n;
    if (n > 0 && (t >= (f[CHUNK_END] as number) || n >= this.maxSamples)) {
      this.cutRaw(s);
      n = 0;
    }
    if (n === 0) f[CHUNK_END] = Math.floor(t / this.chunkSpanMs) * this.chunkSpanMs + this.chunkSpanMs;
    if (n === s.ts.length) s.grow();
    s.ts[n] = t;
    s.vs[n] = v;
    s.n = n + 1;
    f[LAST_T] = t;
    if (t > this.maxT) this.maxT = t;
    if (v === v) {
      // Only the finest tier sees samples; coarser tiers are fed by its closed buckets.
      const finest = s.rollups[0];
      if (finest) finest.add(t, v, increaseStep(f[PREV] as number, v), this.cutRollup);
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

  private cutRaw(s: MemSeries): void {
    const chunk = encodeSamples(this.codec, s.ts, s.vs, 0, s.n);
    const minT = s.ts[0] ?? 0;
    const maxT = s.ts[s.n - 1] ?? 0;
    s.n = 0;
    this.metrics.chunksCut.inc({ tier: 'raw' });
    this.sink.rawChunk(s.ref, minT, maxT, chunk);
  }

  private encodeRollupPage(st: RollupState): void {
    const p = st.pending;
    if (p.n === 0) return;
    const chunks: Chunk[] = [];
    for (let agg = 0; agg < ROLLUP_AGGREGATES.length; agg++) {
      chunks.push(encodeSamples(this.codec, p.starts, p.column(agg), 0, p.n));
    }
    const chunk: RollupChunk = { tier: st.tier, minT: p.start(0), maxT: p.start(p.n - 1), chunks };
    p.clear();
    st.pendingSpanEnd = NaN;
    this.metrics.chunksCut.inc({ tier: st.tier });
    this.sink.rollupChunk(st.ref, chunk);
  }

  /**
   * flush cuts every open raw chunk and pending rollup page whose span ended at or before `now`, so series
   * that stopped (a server that went down) do not keep their data in the head forever.
   */
  flush(now: number): void {
    for (const s of this.series) {
      if (!s) continue;
      if (s.n > 0 && (s.f[CHUNK_END] ?? 0) <= now) this.cutRaw(s);
      for (const r of s.rollups) if (r.pending.n > 0 && r.pendingSpanEnd <= now) this.encodeRollupPage(r);
    }
  }

  /** openMinTime returns the oldest timestamp in the series' open chunk (Infinity when it is empty). */
  openMinTime(ref: number): number {
    const s = this.series[ref];
    return s && s.n > 0 ? (s.ts[0] ?? Infinity) : Infinity;
  }

  /** lastTime returns the newest timestamp of series `ref` (-Infinity when none). */
  lastTime(ref: number): number {
    return this.series[ref]?.lastT ?? -Infinity;
  }

  /** readRaw appends the open chunk's samples in [mint, maxt] to `out`. */
  readRaw(ref: number, mint: number, maxt: number, out: SampleBuffer): void {
    const s = this.series[ref];
    if (!s) return;
    for (let i = 0; i < s.n; i++) {
      const t = s.ts[i] ?? 0;
      if (t < mint) continue;
      if (t > maxt) break;
      out.push(t, s.vs[i] ?? 0);
    }
  }

  /** openRollupMinTime returns the oldest bucket start the head still holds for a tier (Infinity: none). */
  openRollupMinTime(ref: number, tier: RollupTier): number {
    const r = this.series[ref]?.rollups[ROLLUP_TIERS.indexOf(tier)];
    if (!r) return Infinity;
    if (r.pending.n > 0) return r.pending.start(0);
    return r.openRows()[0]?.[0] ?? Infinity;
  }

  /** readRollup appends the head's buckets (pending and open) of one tier and aggregate index to `out`. */
  readRollup(
    ref: number,
    tier: RollupTier,
    agg: number,
    mint: number,
    maxt: number,
    out: SampleBuffer,
  ): void {
    this.series[ref]?.rollups[ROLLUP_TIERS.indexOf(tier)]?.read(agg, mint, maxt, out);
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
   * rollup accumulators) with raw float bits, for snapshots and Redis. Layout: see readSeriesState.
   */
  writeSeriesState(ref: number, w: ByteWriter): void {
    const s = this.series[ref];
    if (!s) throw new TsdbError('TSDB_CORRUPT', `series ${ref} is not in the head`);
    w.u32(ref);
    w.f64s(s.f, 0, 3);
    w.u32(s.n);
    w.f64s(s.ts, 0, s.n);
    w.f64s(s.vs, 0, s.n);
    w.u8(s.rollups.length);
    for (const r of s.rollups) {
      w.f64(r.openStart);
      for (let agg = 0; agg < ROLLUP_AGGREGATES.length; agg++) w.f64(r.openValue(agg));
      w.f64(r.pendingSpanEnd);
      w.u32(r.pending.n);
      for (let f = 0; f <= ROLLUP_AGGREGATES.length; f++)
        w.f64s(r.pending.data, f * r.pending.capacity, r.pending.n);
    }
  }

  /** readSeriesState restores what writeSeriesState wrote; the series must exist (restoreSeries first). */
  readSeriesState(r: ByteReader): void {
    const ref = r.u32();
    const s = this.series[ref];
    if (!s) throw new TsdbError('TSDB_CORRUPT', `state for unknown series ${ref}`);
    r.f64s(s.f, 0, 3);
    const n = r.u32();
    while (s.ts.length < n) s.grow();
    r.f64s(s.ts, 0, n);
    r.f64s(s.vs, 0, n);
    s.n = n;
    if (s.lastT > this.maxT) this.maxT = s.lastT;
    const tiers = r.u8();
    for (let i = 0; i < tiers; i++) {
      const st = s.rollups[i];
      const openStart = r.f64();
      const vals = ROLLUP_AGGREGATES.map(() => r.f64());
      const pendingSpanEnd = r.f64();
      const pn = r.u32();
      const cap = Math.max(32, pn);
      const data = new Float64Array(cap * (ROLLUP_AGGREGATES.length + 1));
      for (let f = 0; f <= ROLLUP_AGGREGATES.length; f++) r.f64s(data, f * cap, pn);
      if (!st) continue; // rollups disabled since the state was written
      st.restoreOpen(openStart, vals);
      st.pendingSpanEnd = pendingSpanEnd;
      st.pending.data = data;
      st.pending.capacity = cap;
      st.pending.n = pn;
    }
  }

  /** noteMaxTime raises maxTime to `t` (backends call it for data restored outside the head). */
  noteMaxTime(t: number): void {
    if (t > this.maxT) this.maxT = t;
  }
}
