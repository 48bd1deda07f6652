/**
 * HeadAppender is the Appender every backend hands out: it buffers samples, and at commit applies them to
 * the shared Head (which rejects out-of-order and duplicate ones) and then awaits the backend's persistence
 * hook with the accepted samples (WAL for the embedded store, a pipeline for Redis). The commit resolves
 * when the hook does, i.e. when the backend's durability policy is met: that is "acknowledged".
 *
 * Samples become visible to queries when applied, which is just before they are durable; a failed hook
 * rejects the commit (the caller must not treat those samples as acknowledged).
 *
 * Applying is paced (util/pacer.ts): a commit whose samples cut or seal many series' chunks at once (every
 * series crosses a chunk or rollup boundary in the same tick) gives the event loop a turn every slice instead
 * of holding it for the whole batch. Commits still apply one at a time: the head's commit lock is held from
 * the first sample to the hook's start, so what the hook logs comes in the order the head took it (log replay
 * must see a series' samples in order) and a snapshot never sees half a commit.
 */
import type { Labels } from '../util/labels.js';
import { Pacer } from '../util/pacer.js';
import type { Appender, AppendResult, SeriesRef } from './storage.js';
import { AppendStatus, type Head } from './head.js';

/** CommittedBatch is the accepted part of one commit: `n` samples in parallel arrays (borrowed, valid until the hook resolves). */
export interface CommittedBatch {
  /** newSeries are series created since the previous commit of any appender, to persist before samples. */
  readonly newSeries: readonly number[];
  readonly refs: Uint32Array;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly n: number;
}

/** CommitHook persists a batch; the commit resolves when the returned promise does. */
export type CommitHook = (batch: CommittedBatch) => Promise<void>;

/**
 * INITIAL_BATCH_CAPACITY is the first buffer size of an appender, grown ×2 (a 20-server frame is ~2 k):
 * small, as most appenders hold a few samples (a rule's output: one appender per rule evaluation).
 */
const INITIAL_BATCH_CAPACITY = 64;

/**
 * SORT_THRESHOLD is the batch size from which commit applies samples grouped by series (a stable counting
 * sort by ref): a backfill batch holds ~40 frames × 2 k series, and touching each series' head state 40
 * times in a row instead of once per frame keeps it in cache (measured ~2× faster on the 20-server fleet).
 */
const SORT_THRESHOLD = 4096;

/**
 * MAX_ENCODING_BATCHES bounds how many of the head's 8 MiB deferred batches may still be encoding when a
 * deferring commit returns: 6 is about one 2 h boundary of the 20-server fleet (4–6 batches), so the next
 * frames are generated and applied while the encoder works, with at most ~48 MiB of cut samples waiting;
 * past it the committing thread waits for the encoder (Head.backpressure). 12 measured no faster.
 */
const MAX_ENCODING_BATCHES = 6;

/** HeadAppenderOptions tunes a HeadAppender. */
export interface HeadAppenderOptions {
  /**
   * deferEncoding lets the head encode the chunks a commit cuts on its encoder (another thread) while the
   * caller goes on: for bulk appends, whose chunks are durable only after a snapshot, which settles them.
   */
  readonly deferEncoding?: boolean;
  /**
   * bulk marks a large ingest (a backfill): the head grows the series' open buffers instead of sealing
   * them every few rows; Storage.flush compacts them afterwards (Head.compact).
   */
  readonly bulk?: boolean;
  /** sliceMs is how long a commit applies samples before giving the event loop a turn (default SLICE_MS). */
  readonly sliceMs?: number;
}

/**
 * PACE_EVERY is how many samples are applied between two looks at the clock: one sample may seal or cut a
 * chunk (up to ~1 ms), so a slice overshoots by at most a few ms.
 */
const PACE_EVERY = 8;

/**
 * HeadAppender implements Appender on top of a Head and a CommitHook; reusable once commit or rollback has
 * settled (not while a commit is in flight).
 */
export class HeadAppender implements Appender {
  private refs = new Uint32Array(INITIAL_BATCH_CAPACITY);
  private ts = new Float64Array(INITIAL_BATCH_CAPACITY);
  private vs = new Float64Array(INITIAL_BATCH_CAPACITY);
  private n = 0;
  private order = new Uint32Array(0);
  private counts = new Uint32Array(0);
  /** Sorted copies of the accepted samples, reused across commits (a backfill commits ~80 k samples 1,400 times a day). */
  private sr = new Uint32Array(0);
  private st = new Float64Array(0);
  private sv = new Float64Array(0);

  constructor(
    private readonly head: Head,
    private readonly hook: CommitHook,
    private readonly beforeApply?: () => void,
    private readonly opts: HeadAppenderOptions = {},
  ) {}

  /** append buffers one sample; a 0 or unknown ref is resolved (or created) from `labels`. */
  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    const r = ref !== 0 && this.head.has(ref) ? ref : this.head.getOrCreate(labels);
    if (this.n === this.refs.length) this.grow();
    this.refs[this.n] = r;
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
    return r;
  }

  private grow(): void {
    const cap = this.refs.length * 2;
    const refs = new Uint32Array(cap);
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    refs.set(this.refs);
    ts.set(this.ts);
    vs.set(this.vs);
    this.refs = refs;
    this.ts = ts;
    this.vs = vs;
  }

  /** commit applies the buffered samples and resolves once the backend made the accepted ones durable. */
  async commit(): Promise<AppendResult> {
    const defer = this.opts.deferEncoding === true;
    let logged: Promise<void> | undefined;
    const result = await this.head.commitLock.run(async () => {
      const r = await this.apply();
      const { head, refs, ts, vs } = this;
      if (r.appended > 0) head.metrics.appendedSamples.inc(r.appended);
      const newSeries = head.drainNewSeries();
      // Started under the lock (the hook queues its log record synchronously), awaited after it.
      if (r.appended > 0 || newSeries.length > 0)
        logged = this.hook({ newSeries, refs, ts, vs, n: r.appended });
      return r;
    });
    if (logged) await logged;
    if (defer) await this.head.backpressure(MAX_ENCODING_BATCHES);
    // Commits come every tick: decoded chunks nothing reads any more go even when no read comes to drop them.
    this.head.decodedChunks.tidy();
    return result;
  }

  /**
   * apply hands the buffered samples to the head, pacing, and compacts the accepted ones to the front of
   * the buffers, in the order the head took them.
   */
  private async apply(): Promise<AppendResult> {
    this.beforeApply?.();
    let appended = 0;
    let outOfOrder = 0;
    let duplicate = 0;
    const n = this.n;
    const { refs, ts, vs } = this;
    const head = this.head;
    const pacer = new Pacer(this.opts.sliceMs);
    this.enter();
    try {
      // Large batches are applied series by series (a stable sort, so each series keeps its own order) and
      // compacted into scratch arrays; small ones in arrival order, compacted in place (appended ≤ i). Either
      // way the hook then sees only what the head took, in the order it took it.
      const order = n >= SORT_THRESHOLD ? this.sortedOrder(n) : undefined;
      if (order !== undefined && this.sr.length < n) {
        this.sr = new Uint32Array(this.refs.length);
        this.st = new Float64Array(this.refs.length);
        this.sv = new Float64Array(this.refs.length);
      }
      const [dr, dt, dv] = order === undefined ? [refs, ts, vs] : [this.sr, this.st, this.sv];
      for (let j = 0; j < n; j++) {
        if (j % PACE_EVERY === 0 && pacer.due()) {
          // The head's bulk and deferred modes belong to this commit's slices only.
          this.leave();
          await pacer.yield();
          this.beforeApply?.();
          this.enter();
        }
        const i = order === undefined ? j : (order[j] ?? 0);
        const ref = refs[i] ?? 0;
        const t = ts[i] ?? 0;
        const v = vs[i] ?? 0;
        const status = head.append(ref, t, v);
        if (status === AppendStatus.Ok) {
          dr[appended] = ref;
          dt[appended] = t;
          dv[appended] = v;
          appended++;
        } else if (status === AppendStatus.Duplicate) duplicate++;
        else outOfOrder++;
      }
      if (order !== undefined) {
        refs.set(dr.subarray(0, appended));
        ts.set(dt.subarray(0, appended));
        vs.set(dv.subarray(0, appended));
      }
    } finally {
      this.leave();
      this.n = 0;
    }
    return { appended, outOfOrder, duplicate };
  }

  /** enter puts the head in this appender's modes (bulk, deferred encoding) for one slice; leave ends them. */
  private enter(): void {
    if (this.opts.bulk === true) this.head.beginBulk();
    if (this.opts.deferEncoding === true) this.head.beginDeferred();
  }

  private leave(): void {
    if (this.opts.deferEncoding === true) this.head.endDeferred();
    if (this.opts.bulk === true) this.head.endBulk();
  }

  /** sortedOrder returns the indexes 0..n-1 stably sorted by ref (counting sort: refs are small integers). */
  private sortedOrder(n: number): Uint32Array {
    const refs = this.refs;
    let maxRef = 0;
    for (let i = 0; i < n; i++) if ((refs[i] ?? 0) > maxRef) maxRef = refs[i] ?? 0;
    if (this.counts.length < maxRef + 2) this.counts = new Uint32Array(maxRef + 2);
    const counts = this.counts;
    counts.fill(0, 0, maxRef + 2);
    for (let i = 0; i < n; i++) {
      const k = (refs[i] ?? 0) + 1;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (let r = 1; r < maxRef + 2; r++) counts[r] = (counts[r] ?? 0) + (counts[r - 1] ?? 0);
    if (this.order.length < n) this.order = new Uint32Array(this.refs.length);
    const order = this.order;
    for (let i = 0; i < n; i++) {
      const r = refs[i] ?? 0;
      order[counts[r] ?? 0] = i;
      counts[r] = (counts[r] ?? 0) + 1;
    }
    return order;
  }

  /** rollback drops the buffered samples (series already created stay, empty). */
  rollback(): void {
    this.n = 0;
  }
}
