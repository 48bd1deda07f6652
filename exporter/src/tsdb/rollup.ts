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

/** FIELDS is the number of columns of a page: bucket start + the six aggregates. */
const FIELDS = 7;

/**
 * RollupPage is a plain column-major buffer of buckets in one Float64Array: column f occupies
 * [f·capacity, (f+1)·capacity); column 0 holds bucket starts, column 1 + agg the aggregate `agg` (an
 * AGG_INDEX), so each column can be encoded as a chunk without copying.
 */
export class RollupPage {
  data: Float64Array;
  capacity: number;
  n = 0;
  constructor(capacity = 32) {
    this.capacity = capacity;
    this.data = new Float64Array(capacity * FIELDS);
  }
  /** push appends one bucket from an accumulator laid out as RollupState.acc. */
  push(acc: Float64Array): void {
    if (this.n === this.capacity) this.resize(this.capacity * 2);
    const d = this.data;
    const c = this.capacity;
    const n = this.n;
    d[n] = acc[0] as number;
    d[c + n] = acc[1] as number;
    d[2 * c + n] = acc[2] as number;
    d[3 * c + n] = acc[3] as number;
    d[4 * c + n] = acc[4] as number;
    d[5 * c + n] = acc[5] as number;
    d[6 * c + n] = acc[6] as number;
    this.n = n + 1;
  }
  /** resize changes the capacity (≥ n), keeping the rows. */
  resize(capacity: number): void {
    const next = new Float64Array(capacity * FIELDS);
    for (let f = 0; f < FIELDS; f++) {
      next.set(this.data.subarray(f * this.capacity, f * this.capacity + this.n), f * capacity);
    }
    this.data = next;
    this.capacity = capacity;
  }
  /** starts is the bucket-start column (a view of length n). */
  get starts(): Float64Array {
    return this.data.subarray(0, this.n);
  }
  /** column returns the column of aggregate `agg` (an AGG_INDEX), a view of length n. */
  column(agg: number): Float64Array {
    const o = (1 + agg) * this.capacity;
    return this.data.subarray(o, o + this.n);
  }
  /** start returns the bucket start of row i. */
  start(i: number): number {
    return this.data[i] ?? 0;
  }
  /** value returns aggregate `agg` (an AGG_INDEX) of row i. */
  value(i: number, agg: number): number {
    return this.data[(1 + agg) * this.capacity + i] ?? 0;
  }
  clear(): void {
    this.n = 0;
  }
}

/** Accumulator slots of RollupState.acc (start first so a bucket row is acc[0..7)). */
const START = 0;
const MIN = 1;
const MAX = 2;
const SUM = 3;
const COUNT = 4;
const LAST = 5;
const INC = 6;
const END = 7;

/**
 * RollupState accumulates one series' buckets of one tier. The open bucket lives in a Float64Array
 * (unboxed doubles: this runs for every sample) as [start, min, max, sum, count, last, increase, end];
 * start is NaN when no bucket is open. Only the finest tier sees samples (`add`); each closed bucket is
 * merged into the next coarser tier (`merge`), which is exact because the widths nest (1m | 5m | 1h) and
 * every aggregate is decomposable — so a sample costs one bucket update, not one per tier.
 */
export class RollupState {
  readonly acc = new Float64Array([NaN, 0, 0, 0, 0, 0, 0, NaN]);
  /** pending holds completed buckets not yet encoded into a RollupChunk. */
  readonly pending = new RollupPage();
  /** pendingSpanEnd is the end of the chunk span the pending buckets belong to (NaN when empty). */
  pendingSpanEnd = NaN;
  /** parent is the next coarser tier, fed with this tier's closed buckets. */
  parent: RollupState | undefined;
  /** child is the next finer tier, whose open bucket reads of this tier must include. */
  child: RollupState | undefined;
  private readonly width: number;

  constructor(
    readonly tier: RollupTier,
    /** ref is the series this state belongs to (so a shared `cut` callback knows whose page it encodes). */
    readonly ref: number,
  ) {
    this.width = TIER_WIDTH_MS[tier];
  }

  /** openStart is the open bucket's start (NaN: none). */
  get openStart(): number {
    return this.acc[START] ?? NaN;
  }

  /**
   * add folds one non-NaN sample (with its increase contribution) in. When the sample closes the open
   * bucket and that bucket starts a new chunk span, `cut` is called first to encode and clear the pending
   * page. Allocation-free for the ingest hot path (pass a `cut` created once).
   */
  add(t: number, v: number, inc: number, cut: (s: RollupState) => void): void {
    const a = this.acc;
    if (t < (a[END] as number) && t >= (a[START] as number)) {
      if (v < (a[MIN] as number)) a[MIN] = v;
      if (v > (a[MAX] as number)) a[MAX] = v;
      a[SUM] = (a[SUM] as number) + v;
      a[COUNT] = (a[COUNT] as number) + 1;
      a[LAST] = v;
      a[INC] = (a[INC] as number) + inc;
      return;
    }
    if (a[START] === a[START]) this.close(cut);
    const start = Math.floor(t / this.width) * this.width;
    a[START] = start;
    a[END] = start + this.width;
    a[MIN] = v;
    a[MAX] = v;
    a[SUM] = v;
    a[COUNT] = 1;
    a[LAST] = v;
    a[INC] = inc;
  }

  /** merge folds a closed bucket of the finer tier (laid out as `acc`) into this tier. */
  merge(b: Float64Array, cut: (s: RollupState) => void): void {
    const a = this.acc;
    const t = b[START] as number;
    if (t < (a[END] as number) && t >= (a[START] as number)) {
      combineInto(a, b);
      return;
    }
    if (a[START] === a[START]) this.close(cut);
    const start = Math.floor(t / this.width) * this.width;
    a.set(b);
    a[START] = start;
    a[END] = start + this.width;
  }

  /** close moves the open bucket to pending (cutting pending first at a span boundary) and to the parent. */
  close(cut: (s: RollupState) => void): void {
    const start = this.acc[START] ?? NaN;
    if (start !== start) return;
    const span = ROLLUP_CHUNK_SPAN_MS[this.tier];
    if (this.pending.n > 0 && start >= this.pendingSpanEnd) cut(this);
    if (this.pending.n === 0) this.pendingSpanEnd = Math.floor(start / span) * span + span;
    this.pending.push(this.acc);
    this.parent?.merge(this.acc, cut);
    this.acc[START] = NaN;
    this.acc[END] = NaN;
  }

  /**
   * openRows returns the not-yet-closed buckets as reads see them: this tier's open bucket combined with
   * the finer tiers' open ones (which may already belong to a later bucket), oldest first.
   */
  openRows(): Float64Array[] {
    const rows: Float64Array[] = [];
    if (this.acc[START] === this.acc[START]) rows.push(this.acc.slice());
    for (const c of this.child?.openRows() ?? []) {
      const start = Math.floor((c[START] as number) / this.width) * this.width;
      const last = rows[rows.length - 1];
      if (last && last[START] === start) {
        combineInto(last, c);
      } else {
        const row = c.slice();
        row[START] = start;
        row[END] = start + this.width;
        rows.push(row);
      }
    }
    return rows;
  }

  /** read appends bucket values of `agg` with start in [mint, maxt] (pending, then the open buckets). */
  read(agg: number, mint: number, maxt: number, out: SampleBuffer): void {
    const p = this.pending;
    const starts = p.starts;
    const col = p.column(agg);
    for (let i = 0; i < p.n; i++) {
      const s = starts[i] ?? 0;
      if (s < mint || s > maxt) continue;
      out.push(s, col[i] ?? 0);
    }
    for (const row of this.openRows()) {
      const s = row[START] ?? NaN;
      if (s >= mint && s <= maxt) out.push(s, row[1 + agg] ?? NaN);
    }
  }

  /** openValue returns aggregate `agg` (an AGG_INDEX) of this tier's own open bucket. */
  openValue(agg: number): number {
    return this.acc[1 + agg] ?? NaN;
  }

  /** restoreOpen sets the open bucket (snapshot restore): start NaN means none. */
  restoreOpen(start: number, values: readonly number[]): void {
    this.acc[START] = start;
    this.acc[END] = start === start ? start + this.width : NaN;
    for (let i = 0; i < ROLLUP_AGGREGATES.length; i++) this.acc[1 + i] = values[i] ?? 0;
  }
}

/** combineInto folds bucket `b` (later in time) into bucket `a`, both laid out as RollupState.acc. */
function combineInto(a: Float64Array, b: Float64Array): void {
  if ((b[MIN] as number) < (a[MIN] as number)) a[MIN] = b[MIN] as number;
  if ((b[MAX] as number) > (a[MAX] as number)) a[MAX] = b[MAX] as number;
  a[SUM] = (a[SUM] as number) + (b[SUM] as number);
  a[COUNT] = (a[COUNT] as number) + (b[COUNT] as number);
  a[LAST] = b[LAST] as number;
  a[INC] = (a[INC] as number) + (b[INC] as number);
}

/** linkTiers wires states of ROLLUP_TIERS order (finest first) into a cascade and returns them. */
export function linkTiers(states: RollupState[]): RollupState[] {
  for (let i = 1; i < states.length; i++) {
    const fine = states[i - 1];
    const coarse = states[i];
    if (fine && coarse) {
      fine.parent = coarse;
      coarse.child = fine;
    }
  }
  return states;
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
