/**
 * HeadAppender is the Appender every backend hands out: it buffers samples, and at commit applies them to
 * the shared Head (which rejects out-of-order and duplicate ones) and then awaits the backend's persistence
 * hook with the accepted samples (WAL for the embedded store, a pipeline for Redis). The commit resolves
 * when the hook does, i.e. when the backend's durability policy is met: that is "acknowledged".
 *
 * Samples become visible to queries when applied, which is just before they are durable; a failed hook
 * rejects the commit (the caller must not treat those samples as acknowledged).
 */
import type { Labels } from '../util/labels.js';
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

/** INITIAL_BATCH_CAPACITY is the first buffer size of an appender (grown ×2; a 20-server frame is ~2 k). */
const INITIAL_BATCH_CAPACITY = 1024;

/** HeadAppender implements Appender on top of a Head and a CommitHook; reusable after commit/rollback. */
export class HeadAppender implements Appender {
  private refs = new Uint32Array(INITIAL_BATCH_CAPACITY);
  private ts = new Float64Array(INITIAL_BATCH_CAPACITY);
  private vs = new Float64Array(INITIAL_BATCH_CAPACITY);
  private n = 0;

  constructor(
    private readonly head: Head,
    private readonly hook: CommitHook,
    private readonly beforeApply?: () => void,
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
    this.beforeApply?.();
    let appended = 0;
    let outOfOrder = 0;
    let duplicate = 0;
    const { refs, ts, vs } = this;
    for (let i = 0; i < this.n; i++) {
      const ref = refs[i] ?? 0;
      const t = ts[i] ?? 0;
      const v = vs[i] ?? 0;
      const st = this.head.append(ref, t, v);
      if (st === AppendStatus.Ok) {
        // Compact accepted samples in place: the hook sees only what the head took.
        refs[appended] = ref;
        ts[appended] = t;
        vs[appended] = v;
        appended++;
      } else if (st === AppendStatus.Duplicate) duplicate++;
      else outOfOrder++;
    }
    this.n = 0;
    if (appended > 0) this.head.metrics.appendedSamples.inc(appended);
    const newSeries = this.head.drainNewSeries();
    if (appended > 0 || newSeries.length > 0) await this.hook({ newSeries, refs, ts, vs, n: appended });
    return { appended, outOfOrder, duplicate };
  }

  /** rollback drops the buffered samples (series already created stay, empty). */
  rollback(): void {
    this.n = 0;
  }
}
