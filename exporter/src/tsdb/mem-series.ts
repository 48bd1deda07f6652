/**
 * One series' in-memory head: its labels, its open raw chunk (a SealedRun: sealed prefix and raw tail), the
 * accumulators of its rollup tiers, and its cuts not yet in the sink; and the reads of all of it. How
 * full tails are sealed and chunks cut is the chunk pipeline's business (chunk-pipeline.ts); the sizes of the
 * raw tails, which both sides and the state restore use, are here.
 */
import type { Labels } from '../util/labels.js';
import { readCut, RAW_TIER, type Cut, type CutOwner } from './chunk-cut.js';
import { ACC_SIZE, linkTiers, ROLLUP_TIERS, RollupState, type RollupTier } from './rollup.js';
import type { SampleBuffer } from './sample-buffer.js';
import { SealedRun, copyRows } from './sealed-run.js';

/**
 * RAW_TAIL_ROWS is how many open samples a series holds raw before they are sealed (sealed-run.ts):
 * 56 × 16 bytes, against ~1 byte per sealed sample; a seal keeps RAW_KEEP_ROWS of them, so it seals 32 rows
 * at a time.
 */
export const RAW_TAIL_ROWS = 56;

/**
 * RAW_KEEP_ROWS is how many of the newest samples a seal leaves raw: 24 rows are 6 min at 15 s ticks, more
 * than PromQL's 5 min lookback and the [5m] ranges of the shipped rules, so rule evaluations read recent
 * samples without decoding the sealed prefix.
 */
export const RAW_KEEP_ROWS = 24;

/** RAW_FIRST_ROWS is a fresh series' first raw tail (it doubles up to RAW_TAIL_ROWS). */
export const RAW_FIRST_ROWS = 8;

/**
 * PENDING_TAIL_ROWS is how many completed rollup buckets a tier keeps raw before they are sealed: 4 × 56
 * bytes; a 1m bucket closes once a minute, so sealing (which re-encodes the tier's pending run) stays rare.
 */
export const PENDING_TAIL_ROWS = 4;

/** PENDING_FIRST_ROWS is a tier's first pending tail (it doubles up to PENDING_TAIL_ROWS). */
export const PENDING_FIRST_ROWS = 2;

/** LAST_T is MemSeries.f's slot of the newest accepted timestamp (unboxed doubles for the per-sample path). */
export const LAST_T = 0;
/** PREV is MemSeries.f's slot of the newest non-NaN value. */
export const PREV = 1;
/** CHUNK_END is MemSeries.f's slot of the open chunk's span end. */
export const CHUNK_END = 2;
/** ACC_BASE is where the rollup tiers' accumulators start in MemSeries.f. */
export const ACC_BASE = 3;

/** MemSeries is one series' head state; see the file comment. */
export class MemSeries implements CutOwner {
  /** open holds the open raw chunk's samples. */
  readonly open = new SealedRun(1);
  /**
   * f holds [lastT, prev, chunkEnd]: the newest accepted timestamp (stale markers included), the newest
   * non-NaN value (NaN: none yet, for counter increases) and the open chunk's span end (valid when the open
   * chunk has samples); then each rollup tier's open bucket (RollupState keeps its offset).
   */
  readonly f: Float64Array;
  readonly rollups: RollupState[];
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

  /** lastT is the newest accepted timestamp (-Infinity when none). */
  get lastT(): number {
    return this.f[LAST_T] ?? -Infinity;
  }

  /** openMinTime returns the oldest timestamp in the cut-but-unstored or open raw chunk (Infinity: none). */
  openMinTime(): number {
    // Index loops, not `for (const c of this.cuts ?? [])`: every select asks every series (most have no cuts).
    const cuts = this.cuts;
    if (cuts)
      for (let i = 0; i < cuts.length; i++) if (cuts[i]?.tier === RAW_TIER) return cuts[i]?.minT ?? Infinity;
    return this.open.n > 0 ? this.open.minT : Infinity;
  }

  /** readRaw appends the samples in [mint, maxt] of the unstored cuts and the open chunk to `out`. */
  readRaw(mint: number, maxt: number, out: SampleBuffer): void {
    const cuts = this.cuts;
    if (cuts)
      for (let i = 0; i < cuts.length; i++) {
        const c = cuts[i];
        if (c?.tier === RAW_TIER) readCut(c, 0, mint, maxt, out);
      }
    const o = this.open;
    const n = o.n;
    if (n === 0 || o.maxT < mint || o.minT > maxt) return;
    // Reads of recent samples (the usual query) find them all in the tail and skip decoding the prefix.
    const inTail = o.tailFrom(mint);
    const d = inTail ? o.tail : o.readRows();
    copyRows(d, inTail ? o.m : n, inTail ? o.cap : n, mint, maxt, out);
  }

  /** openRollupMinTime returns the oldest bucket start held for a tier (Infinity: none). */
  openRollupMinTime(tier: RollupTier): number {
    const i = ROLLUP_TIERS.indexOf(tier);
    for (const c of this.cuts ?? []) if (c.tier === i) return c.minT;
    const r = this.rollups[i];
    if (!r) return Infinity;
    if (r.pending.n > 0) return r.pending.minT;
    return r.openRows()[0]?.[0] ?? Infinity;
  }

  /** readRollup appends the buckets (unstored, pending and open) of one tier and aggregate to `out`. */
  readRollup(tier: RollupTier, agg: number, mint: number, maxt: number, out: SampleBuffer): void {
    const i = ROLLUP_TIERS.indexOf(tier);
    for (const c of this.cuts ?? []) if (c.tier === i) readCut(c, agg, mint, maxt, out);
    this.rollups[i]?.read(agg, mint, maxt, out);
  }
}
