/**
 * WindowCache keeps the windows of range functions from one instant evaluation of an expression to the next,
 * so that a rule evaluating `quantile_over_time(x[1d])` or `predict_linear(x[1h], …)` every 15 s reads only
 * the samples that arrived since, instead of the whole window of every series again.
 *
 * What is kept, per range-function call node: for every series the selector returned, exactly the samples a
 * fresh read of the window returned (staleness markers included) and the newest one's time. The next
 * evaluation asks the store only for samples after that time (SelectHints.from), appends them, and drops
 * those that fell out of the window; the function then runs over the same samples a fresh read would hand it,
 * with the same code, so results are bit-identical. A function with an incremental form (SlidingWindow:
 * quantile_over_time) keeps that form too, fed with the samples that enter and leave.
 *
 * That is exact because of the store's promise (Querier.historyGeneration): under one generation a series
 * only gains samples newer than every sample it had. Anything else forces a fresh read of the node, which
 * rebuilds its windows: another generation (retention, deleted or restored series), another store, an
 * evaluation time before the previous one, a series the cache does not know (a new series, or one that came
 * back after its window emptied: the order of the result must be the store's, as a fresh read gives it).
 *
 * Only wide windows are kept (MIN_KEPT_SAMPLES per series: an hour at 15 s, not five minutes), and memory
 * is bounded by a budget of samples held over all nodes: a node that does not fit is read plainly (nodes
 * idle for IDLE_MS make room).
 */
import type { Labels } from '../util/labels.js';
import { isStaleNaN } from '../util/stale-marker.js';
import type { Call } from './ast.js';
import type { SlidingWindow } from './functions.js';

/** SeriesWindow is one series' samples in a node's last window, in time order, staleness markers included. */
export class SeriesWindow {
  ts: Float64Array;
  vs: Float64Array;
  /** n is the number of samples held in ts/vs[0, n). */
  n = 0;
  /** newest is the time of the newest sample the store returned for the series (-Infinity: none). */
  newest = -Infinity;

  constructor(
    capacity: number,
    /** sliding is the function's incremental form over the window's non-stale values, when it has one. */
    readonly sliding: SlidingWindow | undefined,
  ) {
    this.ts = new Float64Array(Math.max(4, capacity));
    this.vs = new Float64Array(Math.max(4, capacity));
  }

  /** push appends samples newer than `newest` (older ones the window has already), keeping stale ones raw. */
  push(ts: Float64Array, vs: Float64Array, len: number): void {
    let i = 0;
    while (i < len && (ts[i] as number) <= this.newest) i++;
    if (i === len) return;
    const need = this.n + len - i;
    if (need > this.ts.length) {
      const cap = Math.max(need, this.ts.length * 2);
      const nts = new Float64Array(cap);
      const nvs = new Float64Array(cap);
      nts.set(this.ts.subarray(0, this.n));
      nvs.set(this.vs.subarray(0, this.n));
      this.ts = nts;
      this.vs = nvs;
    }
    for (; i < len; i++) {
      const v = vs[i] as number;
      this.ts[this.n] = ts[i] as number;
      this.vs[this.n++] = v;
      if (this.sliding && !(v !== v && isStaleNaN(v))) this.sliding.add(v);
    }
    this.newest = this.ts[this.n - 1] as number;
  }

  /** trim drops the samples before `start` (the window's first time, inclusive). */
  trim(start: number): void {
    let k = 0;
    while (k < this.n && (this.ts[k] as number) < start) {
      const v = this.vs[k] as number;
      if (this.sliding && !(v !== v && isStaleNaN(v))) this.sliding.remove(v);
      k++;
    }
    if (k === 0) return;
    this.ts.copyWithin(0, k, this.n);
    this.vs.copyWithin(0, k, this.n);
    this.n -= k;
  }

  /** samples is the number of samples held (the budget's unit). */
  get samples(): number {
    return this.n;
  }
}

/** NodeWindows is one call node's windows as of its last evaluation. */
export interface NodeWindows {
  /** source is the store the windows were read from (windows of one store say nothing of another's). */
  readonly source: object;
  readonly generation: number;
  readonly rangeMs: number;
  /** end is the last window's end (ms). */
  end: number;
  /** series are the windows in the order the store returned the series: the result's order. */
  readonly series: Map<Labels, SeriesWindow>;
  /** samples held over all series (the budget's unit). */
  samples: number;
}

/** DEFAULT_WINDOW_CACHE_SAMPLES bounds the samples kept: 1 M samples, ~16 MiB (two doubles each) plus sorted copies. */
export const DEFAULT_WINDOW_CACHE_SAMPLES = 1_000_000;

/**
 * MIN_KEPT_SAMPLES is the fewest samples per series (on average over a node's series) for which a node's
 * windows are kept: below, reading a window again costs about what moving it does (a [5m] window at 15 s is
 * 20 samples in the head's raw tail), and keeping thousands of small windows only holds memory.
 */
export const MIN_KEPT_SAMPLES = 64;

/**
 * IDLE_MS is how long (in evaluation time) a node's windows are kept without an evaluation when another
 * node needs their room: a rule removed by a reload leaves its windows behind.
 */
const IDLE_MS = 10 * 60_000;

/** WindowCache holds NodeWindows by call node (least recently used first), within a budget of samples. */
export class WindowCache {
  private readonly nodes = new Map<Call, NodeWindows>();
  /** wide marks the nodes whose last read found windows worth keeping (minPerSeries, MIN_KEPT_SAMPLES by default). */
  private readonly wide = new WeakMap<Call, boolean>();
  private held = 0;

  constructor(
    private readonly budget: number = DEFAULT_WINDOW_CACHE_SAMPLES,
    private readonly minPerSeries: number = MIN_KEPT_SAMPLES,
  ) {}

  /** enabled says whether the cache keeps anything at all (a budget of 0 turns it off). */
  get enabled(): boolean {
    return this.budget > 0;
  }

  /** take removes and returns a node's windows, if kept (the caller puts them back with put once updated). */
  take(call: Call): NodeWindows | undefined {
    const node = this.nodes.get(call);
    if (!node) return undefined;
    this.nodes.delete(call);
    this.held -= node.samples;
    return node;
  }

  /**
   * put keeps a node's windows, if they fit in the budget once the windows of nodes not evaluated for
   * IDLE_MS (evaluation time) are dropped; otherwise they are not kept, and the node is read plainly until
   * a read finds room for it (note). Nodes in use are never evicted for another: two that do not fit
   * together would otherwise rebuild each other's windows at every evaluation.
   */
  put(call: Call, node: NodeWindows): void {
    // Two evaluations of one node at once (each took nothing or its own copy): the last one put stays.
    const replaced = this.nodes.get(call);
    if (replaced) {
      this.nodes.delete(call);
      this.held -= replaced.samples;
    }
    if (this.held + node.samples > this.budget)
      for (const [other, windows] of this.nodes) {
        if (windows.end >= node.end - IDLE_MS) break;
        this.nodes.delete(other);
        this.held -= windows.samples;
      }
    if (this.held + node.samples > this.budget) {
      this.wide.set(call, false);
      return;
    }
    this.nodes.set(call, node);
    this.held += node.samples;
  }

  /**
   * worthKeeping says whether a node's windows are to be kept, from what its last read held (`samples` over
   * `series`): noted by note(), false for a node never read.
   */
  worthKeeping(call: Call): boolean {
    return this.wide.get(call) === true;
  }

  /**
   * note records what a read of a node's windows held (see worthKeeping): wide enough (minPerSeries
   * samples a series) and within the budget left.
   */
  note(call: Call, samples: number, series: number): void {
    this.wide.set(
      call,
      series > 0 && samples >= this.minPerSeries * series && this.held + samples <= this.budget,
    );
  }

  /** heldSamples is the number of samples kept over all nodes. */
  get heldSamples(): number {
    return this.held;
  }

  /** clear forgets every node. */
  clear(): void {
    this.nodes.clear();
    this.held = 0;
  }
}
