/**
 * Rollup tiers (1m, 5m, 1h): per series and tier, buckets keeping min, max, sum, count, last and a
 * counter-reset-aware increase, fed by the head as samples arrive. A bucket covers [start, start + width)
 * and is stamped with its start. Completed buckets collect in a pending run (sealed-run.ts); when it reaches its
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
import { SealedRun } from './sealed-run.js';
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

/**
 * PendingHooks are the head's callbacks for a state's pending buckets: `cut` encodes and clears them (a
 * chunk span ended), `room` makes room in a full tail (seals it, or grows it during a bulk ingest).
 */
export interface PendingHooks {
  cut(s: RollupState): void;
  room(run: SealedRun): void;
}

/** ACC_SIZE is the length of one tier's accumulator in RollupState.buf. */
export const ACC_SIZE = 8;

/** Accumulator slots, relative to RollupState.o (start first so a bucket row is [o, o + 7)). */
const START = 0;
const MIN = 1;
const MAX = 2;
const SUM = 3;
const COUNT = 4;
const LAST = 5;
const INC = 6;
const END = 7;

/**
 * RollupState accumulates one series' buckets of one tier. The open bucket lives in `buf` at `o` (unboxed
 * doubles in the series' shared state array: this runs for every sample) as [start, min, max, sum, count,
 * last, increase, end]; start is NaN when no bucket is open. Only the finest tier sees samples (`add`);
 * each closed bucket is merged into the next coarser tier (`merge`), which is exact because the widths nest
 * (1m | 5m | 1h) and every aggregate is decomposable — so a sample costs one bucket update, not one per tier.
 */
export class RollupState {
  /** pending holds completed buckets not yet encoded into a RollupChunk (rows: start + six aggregates). */
  readonly pending: SealedRun;
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
    /** buf holds the open bucket at `o` (ACC_SIZE slots), initialised here. */
    readonly buf: Float64Array,
    readonly o: number,
  ) {
    this.width = TIER_WIDTH_MS[tier];
    this.pending = new SealedRun(ROLLUP_AGGREGATES.length);
    buf.fill(0, o, o + ACC_SIZE);
    buf[o + START] = NaN;
    buf[o + END] = NaN;
  }

  /** openStart is the open bucket's start (NaN: none). */
  get openStart(): number {
    return this.buf[this.o + START] ?? NaN;
  }

  /**
   * add folds one non-NaN sample (with its increase contribution) in. When the sample closes the open
   * bucket and that bucket starts a new chunk span, `hooks.cut` is called first to encode and clear the
   * pending buckets. Allocation-free for the ingest hot path.
   */
  add(t: number, v: number, inc: number, hooks: PendingHooks): void {
    const a = this.buf;
    const o = this.o;
    if (t < (a[o + END] as number) && t >= (a[o + START] as number)) {
      if (v < (a[o + MIN] as number)) a[o + MIN] = v;
      if (v > (a[o + MAX] as number)) a[o + MAX] = v;
      a[o + SUM] = (a[o + SUM] as number) + v;
      a[o + COUNT] = (a[o + COUNT] as number) + 1;
      a[o + LAST] = v;
      a[o + INC] = (a[o + INC] as number) + inc;
      return;
    }
    if (a[o + START] === a[o + START]) this.close(hooks);
    const start = Math.floor(t / this.width) * this.width;
    a[o + START] = start;
    a[o + END] = start + this.width;
    a[o + MIN] = v;
    a[o + MAX] = v;
    a[o + SUM] = v;
    a[o + COUNT] = 1;
    a[o + LAST] = v;
    a[o + INC] = inc;
  }

  /** merge folds a closed bucket of the finer tier (laid out as an accumulator at `b[bo]`) into this tier. */
  merge(b: Float64Array, bo: number, hooks: PendingHooks): void {
    const a = this.buf;
    const o = this.o;
    const t = b[bo + START] as number;
    if (t < (a[o + END] as number) && t >= (a[o + START] as number)) {
      combineInto(a, o, b, bo);
      return;
    }
    if (a[o + START] === a[o + START]) this.close(hooks);
    const start = Math.floor(t / this.width) * this.width;
    for (let i = 0; i < ACC_SIZE; i++) a[o + i] = b[bo + i] as number;
    a[o + START] = start;
    a[o + END] = start + this.width;
  }

  /** close moves the open bucket to pending (cutting pending first at a span boundary) and to the parent. */
  close(hooks: PendingHooks): void {
    const a = this.buf;
    const o = this.o;
    const start = a[o + START] ?? NaN;
    if (start !== start) return;
    const span = ROLLUP_CHUNK_SPAN_MS[this.tier];
    const p = this.pending;
    if (p.n > 0 && start >= this.pendingSpanEnd) hooks.cut(this);
    if (p.n === 0) this.pendingSpanEnd = Math.floor(start / span) * span + span;
    if (p.m === p.cap) hooks.room(p);
    p.pushRow(a, o);
    this.parent?.merge(a, o, hooks);
    a[o + START] = NaN;
    a[o + END] = NaN;
  }

  /**
   * openRows returns the not-yet-closed buckets as reads see them: this tier's open bucket combined with
   * the finer tiers' open ones (which may already belong to a later bucket), oldest first.
   */
  openRows(): Float64Array[] {
    const rows: Float64Array[] = [];
    const o = this.o;
    if (this.buf[o + START] === this.buf[o + START]) rows.push(this.buf.slice(o, o + ACC_SIZE));
    for (const c of this.child?.openRows() ?? []) {
      const start = Math.floor((c[START] as number) / this.width) * this.width;
      const last = rows[rows.length - 1];
      if (last && last[START] === start) {
        combineInto(last, 0, c, 0);
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
    const n = p.n;
    if (n > 0 && !(p.maxT < mint || p.minT > maxt)) {
      const d = p.rows();
      const vo = (1 + agg) * n;
      for (let i = 0; i < n; i++) {
        const s = d[i] ?? 0;
        if (s < mint || s > maxt) continue;
        out.push(s, d[vo + i] ?? 0);
      }
    }
    for (const row of this.openRows()) {
      const s = row[START] ?? NaN;
      if (s >= mint && s <= maxt) out.push(s, row[1 + agg] ?? NaN);
    }
  }

  /** openValue returns aggregate `agg` (an AGG_INDEX) of this tier's own open bucket. */
  openValue(agg: number): number {
    return this.buf[this.o + 1 + agg] ?? NaN;
  }

  /** restoreOpen sets the open bucket (snapshot restore): start NaN means none. */
  restoreOpen(start: number, values: readonly number[]): void {
    const a = this.buf;
    const o = this.o;
    a[o + START] = start;
    a[o + END] = start === start ? start + this.width : NaN;
    for (let i = 0; i < ROLLUP_AGGREGATES.length; i++) a[o + 1 + i] = values[i] ?? 0;
  }
}

/** combineInto folds bucket `b[bo]` (later in time) into bucket `a[ao]`, both laid out as accumulators. */
function combineInto(a: Float64Array, ao: number, b: Float64Array, bo: number): void {
  if ((b[bo + MIN] as number) < (a[ao + MIN] as number)) a[ao + MIN] = b[bo + MIN] as number;
  if ((b[bo + MAX] as number) > (a[ao + MAX] as number)) a[ao + MAX] = b[bo + MAX] as number;
  a[ao + SUM] = (a[ao + SUM] as number) + (b[bo + SUM] as number);
  a[ao + COUNT] = (a[ao + COUNT] as number) + (b[bo + COUNT] as number);
  a[ao + LAST] = b[bo + LAST] as number;
  a[ao + INC] = (a[ao + INC] as number) + (b[bo + INC] as number);
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
