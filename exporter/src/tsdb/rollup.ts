/**
 * Rollup tiers (1m, 5m, 1h): per series and tier, buckets keeping min, max, sum, count, last and a
 * counter-reset-aware increase, fed by the head as samples arrive. A bucket covers [start, start + width)
 * and is stamped with its start. Completed buckets collect in a pending page; when the page reaches its
 * time span (ROLLUP_CHUNK_SPAN_MS) the head encodes it as six chunks (one per aggregate, sharing the bucket
 * timestamps) and hands that RollupChunk to the backend's sink.
 *
 * NaN values (stale markers included) are not samples for rollups: they are skipped, and the increase
 * carries across them (a counter that resumes after a gap contributes its growth, or its value after a
 * reset, to the bucket where it resumes). Each sample's increase contribution is `v - prev` when
 * `v >= prev`, else `v` (a reset), prev being the previous non-NaN sample of the series, in any bucket;
 * so increases of consecutive buckets add up to the increase over the whole range.
 */
import type { Chunk } from './chunkenc/chunk.js';
import type { SampleBuffer } from './sample-buffer.js';
import { TIER_WIDTH_MS, type RollupAggregate, type Tier } from './storage.js';

/** RollupTier is a tier that has buckets. */
export type RollupTier = Exclude<Tier, 'raw'>;

/** ROLLUP_TIERS lists the rollup tiers, finest first. */
export const ROLLUP_TIERS: readonly RollupTier[] = ['1m', '5m', '1h'];

/** ROLLUP_AGGREGATES is the fixed order of a bucket's values, in pages, chunks and snapshots. */
export const ROLLUP_AGGREGATES: readonly RollupAggregate[] = [
  'min',
  'max',
  'sum',
  'count',
  'last',
  'increase',
];

/** AGG_INDEX maps an aggregate to its position in ROLLUP_AGGREGATES. */
export const AGG_INDEX: Readonly<Record<RollupAggregate, number>> = {
  min: 0,
  max: 1,
  sum: 2,
  count: 3,
  last: 4,
  increase: 5,
};

/**
 * ROLLUP_CHUNK_SPAN_MS is the time span of one rollup chunk per tier, aligned to the epoch: 2 h of 1m
 * buckets (120, Prometheus's samples-per-chunk sweet spot), 12 h of 5m buckets (144), 7 d of 1h buckets
 * (168). The spans bound how many completed buckets the head holds unencoded.
 */
export const ROLLUP_CHUNK_SPAN_MS: Readonly<Record<RollupTier, number>> = {
  '1m': 2 * 3_600_000,
  '5m': 12 * 3_600_000,
  '1h': 7 * 86_400_000,
};

/** RollupChunk is an encoded run of buckets of one series and tier: `chunks[i]` holds ROLLUP_AGGREGATES[i]. */
export interface RollupChunk {
  readonly tier: RollupTier;
  /** minT and maxT are the first and last bucket starts. */
  readonly minT: number;
  readonly maxT: number;
  readonly chunks: readonly Chunk[];
}

/** FIELDS is the number of values per bucket (start + the six aggregates). */
const FIELDS = 7;

/** RollupPage is a plain buffer of buckets: row i is [start, min, max, sum, count, last, increase]. */
export class RollupPage {
  data: Float64Array;
  n = 0;
  constructor(capacity = 8) {
    this.data = new Float64Array(capacity * FIELDS);
  }
  /** push appends one bucket row. */
  push(start: number, min: number, max: number, sum: number, count: number, last: number, inc: number): void {
    if ((this.n + 1) * FIELDS > this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    const o = this.n * FIELDS;
    const d = this.data;
    d[o] = start;
    d[o + 1] = min;
    d[o + 2] = max;
    d[o + 3] = sum;
    d[o + 4] = count;
    d[o + 5] = last;
    d[o + 6] = inc;
    this.n++;
  }
  /** start returns the bucket start of row i. */
  start(i: number): number {
    return this.data[i * FIELDS] ?? 0;
  }
  /** value returns aggregate `agg` (an AGG_INDEX) of row i. */
  value(i: number, agg: number): number {
    return this.data[i * FIELDS + 1 + agg] ?? 0;
  }
  clear(): void {
    this.n = 0;
  }
}

/** RollupState accumulates one series' buckets of one tier. */
export class RollupState {
  /** open bucket: start is NaN when no bucket is open. */
  openStart = NaN;
  min = 0;
  max = 0;
  sum = 0;
  count = 0;
  last = 0;
  inc = 0;
  /** pending holds completed buckets not yet encoded into a RollupChunk. */
  readonly pending = new RollupPage();
  /** pendingSpanEnd is the end of the chunk span the pending buckets belong to (NaN when empty). */
  pendingSpanEnd = NaN;

  constructor(
    readonly tier: RollupTier,
    /** ref is the series this state belongs to (so a shared `cut` callback knows whose page it encodes). */
    readonly ref: number,
  ) {}

  /**
   * add folds one non-NaN sample (with its increase contribution) in. When the sample closes the open
   * bucket and that bucket starts a new chunk span, `cut` is called first to encode and clear the pending
   * page. Allocation-free for the ingest hot path (pass a `cut` created once).
   */
  add(t: number, v: number, inc: number, cut: (s: RollupState) => void): void {
    const width = TIER_WIDTH_MS[this.tier];
    const start = Math.floor(t / width) * width;
    if (start !== this.openStart) {
      if (this.openStart === this.openStart) this.close(cut);
      this.openStart = start;
      this.min = v;
      this.max = v;
      this.sum = v;
      this.count = 1;
      this.last = v;
      this.inc = inc;
      return;
    }
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sum += v;
    this.count++;
    this.last = v;
    this.inc += inc;
  }

  /** close moves the open bucket to pending, first cutting pending when the bucket starts a new span. */
  close(cut: (s: RollupState) => void): void {
    const start = this.openStart;
    if (start !== start) return;
    const span = ROLLUP_CHUNK_SPAN_MS[this.tier];
    if (this.pending.n > 0 && start >= this.pendingSpanEnd) cut(this);
    if (this.pending.n === 0) this.pendingSpanEnd = Math.floor(start / span) * span + span;
    this.pending.push(start, this.min, this.max, this.sum, this.count, this.last, this.inc);
    this.openStart = NaN;
  }

  /** read appends bucket values of `agg` with start in [mint, maxt] (pending, then the open bucket). */
  read(agg: number, mint: number, maxt: number, out: SampleBuffer): void {
    const p = this.pending;
    for (let i = 0; i < p.n; i++) {
      const s = p.start(i);
      if (s < mint || s > maxt) continue;
      out.push(s, p.value(i, agg));
    }
    const s = this.openStart;
    if (s === s && s >= mint && s <= maxt) out.push(s, this.openValue(agg));
  }

  /** openValue returns aggregate `agg` (an AGG_INDEX) of the open bucket. */
  openValue(agg: number): number {
    switch (agg) {
      case 0:
        return this.min;
      case 1:
        return this.max;
      case 2:
        return this.sum;
      case 3:
        return this.count;
      case 4:
        return this.last;
      default:
        return this.inc;
    }
  }
}

/** increaseStep is a sample's counter-increase contribution given the previous non-NaN value (NaN: none). */
export function increaseStep(prev: number, v: number): number {
  if (prev !== prev) return 0;
  return v >= prev ? v - prev : v;
}

/** ReferenceBucket is one bucket computed from raw samples by `rollupFromSamples`. */
export interface ReferenceBucket {
  readonly start: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  readonly count: number;
  readonly last: number;
  readonly increase: number;
}

/**
 * rollupFromSamples computes the buckets of one series straight from its raw samples: the definition the
 * incremental path must agree with (tests and the contract suite compare against it).
 */
export function rollupFromSamples(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  width: number,
): ReferenceBucket[] {
  const out: ReferenceBucket[] = [];
  let prev = NaN;
  let cur: { -readonly [K in keyof ReferenceBucket]: ReferenceBucket[K] } | undefined;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] ?? 0;
    const v = vs[i] ?? NaN;
    if (v !== v) continue;
    const inc = increaseStep(prev, v);
    prev = v;
    const start = Math.floor(t / width) * width;
    if (!cur || cur.start !== start) {
      if (cur) out.push(cur);
      cur = { start, min: v, max: v, sum: v, count: 1, last: v, increase: inc };
      continue;
    }
    cur.min = Math.min(cur.min, v);
    cur.max = Math.max(cur.max, v);
    cur.sum += v;
    cur.count++;
    cur.last = v;
    cur.increase += inc;
  }
  if (cur) out.push(cur);
  return out;
}
