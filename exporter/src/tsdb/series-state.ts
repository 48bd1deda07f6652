/**
 * A series' head state as a record — its open samples, last timestamp, previous value and rollup accumulators
 * — for the embedded store's snapshots and Redis checkpoints. Layout: docs/format/redis-keys.md,
 * "Checkpoint". Runs are stored as held (sealed segments + raw tail), so writing decodes nothing; records of
 * the earlier layouts — sealed prefixes of one segment without its header, or every run as raw rows — are
 * still read.
 */
import type { ByteReader, ByteWriter } from './bytes.js';
import type { ChunkCodec } from './codec.js';
import { ACC_BASE, PENDING_TAIL_ROWS, RAW_KEEP_ROWS, RAW_TAIL_ROWS, type MemSeries } from './mem-series.js';
import { ROLLUP_AGGREGATES } from './rollup.js';
import { SealedRun } from './sealed-run.js';

/**
 * SEGMENTED_STATE_MARK opens a record whose runs are stored as held, their sealed prefixes as segments;
 * PREFIX_STATE_MARK the earlier layout whose sealed prefixes were one segment without its header; the layout
 * before both opens with the series ref, which never reaches them.
 */
const SEGMENTED_STATE_MARK = 0xfffffffe;
const PREFIX_STATE_MARK = 0xffffffff;

/** StateLayout is how a record stores its runs: as held (sealed segments, or one sealed prefix), or raw rows. */
export type StateLayout = 'segments' | 'prefix' | 'raw';

/** TierState is one rollup tier's part of a SeriesState. */
interface TierState {
  readonly openStart: number;
  readonly values: readonly number[];
  readonly pendingSpanEnd: number;
  readonly pending: SealedRun;
}

/** SeriesState is one series' open state taken at an instant (`captureSeriesState`). */
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

  /** write serialises the state as `readStateRef` and `restoreSeriesState` read it. */
  write(w: ByteWriter): void {
    w.u32(SEGMENTED_STATE_MARK);
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

/**
 * captureSeriesState copies a series' open state as it is now (cheap: tails are short, sealed prefixes are
 * shared), so a snapshot can take every series at one instant and serialise them later, paced.
 */
export function captureSeriesState(s: MemSeries): SeriesState {
  return new SeriesState(
    s.ref,
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

/** StateRef is the head of a state record: whose it is, and in which layout. */
export interface StateRef {
  readonly ref: number;
  readonly layout: StateLayout;
}

/** readStateRef reads which series a state record is for. */
export function readStateRef(r: ByteReader): StateRef {
  const first = r.u32();
  if (first === SEGMENTED_STATE_MARK) return { ref: r.u32(), layout: 'segments' };
  if (first === PREFIX_STATE_MARK) return { ref: r.u32(), layout: 'prefix' };
  return { ref: first, layout: 'raw' };
}

/** restoreSeriesState reads the rest of a state record (after `readStateRef`) into series `s`. */
export function restoreSeriesState(
  s: MemSeries,
  r: ByteReader,
  layout: StateLayout,
  codec: ChunkCodec,
): void {
  r.f64s(s.f, 0, ACC_BASE);
  readRun(s.open, r, layout, codec, RAW_TAIL_ROWS, RAW_KEEP_ROWS);
  const tiers = r.u8();
  for (let i = 0; i < tiers; i++) {
    const st = s.rollups[i];
    const openStart = r.f64();
    const vals = ROLLUP_AGGREGATES.map(() => r.f64());
    const pendingSpanEnd = r.f64();
    // With rollups disabled since the state was written, the rows are read into a run that is dropped.
    const pending = st?.pending ?? new SealedRun(ROLLUP_AGGREGATES.length);
    readRun(pending, r, layout, codec, PENDING_TAIL_ROWS, 0);
    if (!st) continue;
    st.restoreOpen(openStart, vals);
    st.pendingSpanEnd = pendingSpanEnd;
  }
}

/**
 * readRun replaces `run`'s rows with those of a record (as SealedRun.write stores them, or stored them
 * before prefixes were segmented; or, in the raw layout, a row count and k + 1 columns of raw rows), sealed
 * (but the newest `keep`) when its raw rows do not fit a live tail of `tailRows`.
 */
function readRun(
  run: SealedRun,
  r: ByteReader,
  layout: StateLayout,
  codec: ChunkCodec,
  tailRows: number,
  keep: number,
): void {
  if (layout !== 'raw') run.read(r, codec, layout === 'segments');
  else {
    const n = r.u32();
    run.clear();
    run.resize(Math.max(run.cap, n));
    for (let c = 0; c <= run.k; c++) r.f64s(run.tail, c * run.cap, n);
    run.m = n;
  }
  if (run.cap > tailRows) run.seal(codec, tailRows, keep);
}
