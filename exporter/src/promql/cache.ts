/**
 * QueryCache is the seed's LRU-with-TTL applied to range-query results (issue 4, requirement 5).
 *
 * A range query's steps are cut into step-aligned windows of `stepsPerWindow` steps on an absolute grid
 * (window j holds the steps phase + k·step with k in [j·K, (j+1)·K)), so a dashboard refresh that moves
 * start and end forward by a step reuses every window but the newest. PromQL evaluates each step
 * independently, so a window's result does not depend on which query computed it — except for `@ start()` /
 * `@ end()`, whose queries bypass the cache.
 *
 * Freshness rule: a window is stored only when its last step is at least `settleMs` (default 2 min) older
 * than now, i.e. when samples for it can no longer arrive; the newest windows are always recomputed. A stored
 * window is served for at most `ttlMs` (default 5 min), which bounds how stale a result can be when data is
 * backfilled or deleted behind the cache. Memory is bounded by `maxBytes` (estimated; least-recently-used
 * windows are evicted first). The hit ratio (windows served / windows asked) is exported as
 * `openmanager_exporter_query_cache_hit_ratio` on the injected registry.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Queryable } from '../tsdb/storage.js';
import { seriesKey, type Labels } from '../util/labels.js';
import { walkExpr, type Expr } from './ast.js';
import type { Engine, MatrixSeries, QueryOptions, QueryOutcome, QueryStats } from './engine.js';
import { queryTimeout, tooManyResultPoints } from './errors.js';
import { sortByLabels } from './labels-util.js';
import { exprToString } from './printer.js';
import { Pacer } from '../util/pacer.js';

/** QueryCacheOptions configures the cache; see DEFAULT_QUERY_CACHE_OPTIONS. */
export interface QueryCacheOptions {
  readonly maxBytes: number;
  readonly ttlMs: number;
  readonly stepsPerWindow: number;
  readonly settleMs: number;
  /** now returns the current time in ms (injected so tests can move time). */
  readonly now: () => number;
}

/** DEFAULT_QUERY_CACHE_OPTIONS are the seed's figures: 100 MB, 5 min TTL; 60-step windows; 2 min settle. */
export const DEFAULT_QUERY_CACHE_OPTIONS: QueryCacheOptions = {
  maxBytes: 100 * 1024 * 1024,
  ttlMs: 5 * 60_000,
  stepsPerWindow: 60,
  settleMs: 2 * 60_000,
  now: () => Date.now(),
};

interface Entry {
  readonly series: MatrixSeries[];
  readonly bytes: number;
  readonly expires: number;
}

/**
 * MAX_WINDOWS bounds the windows one query walks: the API allows 11,000 steps, which is 184 windows of 60 steps;
 * a caller without that limit (or a tiny `stepsPerWindow`) gets a direct evaluation instead of a long walk.
 */
const MAX_WINDOWS = 1_000;

/** BYTES_PER_POINT approximates a cached point: two numbers in JS arrays (8 bytes each). */
const BYTES_PER_POINT = 16;
/** BYTES_PER_SERIES approximates per-series overhead (object headers, arrays). */
const BYTES_PER_SERIES = 96;

/** usesStartOrEnd reports whether an expression depends on the query's start/end through `@`. */
function usesStartOrEnd(e: Expr): boolean {
  let uses = false;
  walkExpr(e, (n) => {
    if (
      (n.type === 'VectorSelector' || n.type === 'SubqueryExpr') &&
      n.at !== undefined &&
      n.at.kind !== 'time'
    )
      uses = true;
  });
  return uses;
}

/** QueryCache caches range-query windows; one instance is shared by all API requests. */
export class QueryCache {
  readonly options: QueryCacheOptions;
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(options: Partial<QueryCacheOptions> = {}, registry?: Registry) {
    this.options = { ...DEFAULT_QUERY_CACHE_OPTIONS, ...options };
    if (registry) this.register(registry);
  }

  private register(registry: Registry): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the metric as `this`.
    const cache = this;
    new Gauge({
      name: 'openmanager_exporter_query_cache_hit_ratio',
      help: 'Share of range-query windows served from the query result cache since start.',
      registers: [registry],
      collect() {
        const total = cache.hits + cache.misses;
        this.set(total === 0 ? 0 : cache.hits / total);
      },
    });
    new Gauge({
      name: 'openmanager_exporter_query_cache_bytes',
      help: 'Estimated memory held by the query result cache.',
      registers: [registry],
      collect() {
        this.set(cache.bytes);
      },
    });
    const requests = new Counter({
      name: 'openmanager_exporter_query_cache_requests_total',
      help: 'Range-query windows asked of the cache, by result.',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        requests.reset();
        requests.inc({ result: 'hit' }, cache.hits);
        requests.inc({ result: 'miss' }, cache.misses);
      },
    });
  }

  /** stats returns the cache's counters. */
  stats(): { hits: number; misses: number; bytes: number; entries: number; hitRatio: number } {
    const total = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.bytes,
      entries: this.entries.size,
      hitRatio: total === 0 ? 0 : this.hits / total,
    };
  }

  /** clear drops every entry (counters are kept). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /** rangeQuery answers a range query, reusing cached windows and computing the rest with `engine`. */
  async rangeQuery(
    engine: Engine,
    queryable: Queryable,
    expr: Expr,
    start: number,
    end: number,
    step: number,
    opts: QueryOptions = {},
  ): Promise<QueryOutcome> {
    const K = this.options.stepsPerWindow;
    const width = step * K;
    const phase = ((start % step) + step) % step;
    const firstWin = Math.floor((start - phase) / width);
    const lastWin = Math.floor((end - phase) / width);
    // Window numbers must count exactly (w++ must move): beyond 2^53 they would not, so such a query (and any
    // whose windows are not a small finite set) is evaluated directly.
    const windows = lastWin - firstWin + 1;
    if (
      usesStartOrEnd(expr) ||
      end < start ||
      !Number.isSafeInteger(firstWin) ||
      !Number.isSafeInteger(lastWin) ||
      !(windows <= MAX_WINDOWS)
    )
      return engine.rangeQuery(queryable, expr, start, end, step, opts);
    const now = this.options.now();
    // The query's deadline covers cutting and merging the windows too: for a result of millions of points they
    // take seconds after the evaluations.
    const deadline = opts.deadline ?? Infinity;
    const keyBase = `${exprToString(expr)}\u0000${step}\u0000${phase}\u0000`;
    const parts: MatrixSeries[][] = [];
    const stats: QueryStats = { samplesLoaded: 0, tiersUsed: [] };
    const pacer = new Pacer();

    // Walk the windows, batching consecutive misses into one engine evaluation.
    let pending: number[] = [];
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const first = pending[0] as number;
      const last = pending[pending.length - 1] as number;
      const lastStep = phase + ((last + 1) * K - 1) * step;
      const firstStep = phase + first * K * step;
      const settled = now - this.options.settleMs;
      // Settled windows are computed whole (so they can be stored); unsettled ones only as far as needed.
      const from = firstStep + (K - 1) * step <= settled ? firstStep : Math.max(start, firstStep);
      const to = lastStep <= settled ? lastStep : Math.min(end, lastStep);
      const out = await engine.rangeQuery(queryable, expr, from, to, step, opts);
      stats.samplesLoaded += out.stats.samplesLoaded;
      stats.tiersUsed.push(...out.stats.tiersUsed);
      if (out.result.resultType !== 'matrix') throw new Error('range query returned a non-matrix result');
      for (const w of pending) {
        if (pacer.due()) await turnWithin(pacer, deadline);
        const ws = phase + w * K * step;
        const we = ws + (K - 1) * step;
        const series = sliceSeries(out.result.result, ws, we);
        if (we <= settled && ws >= from && we <= to) this.put(keyBase + String(w), series, now);
        parts.push(series);
      }
      pending = [];
    };
    for (let w = firstWin; w <= lastWin; w++) {
      const hit = this.get(keyBase + String(w), now);
      if (hit) {
        this.hits++;
        await flush();
        parts.push(hit);
      } else {
        this.misses++;
        pending.push(w);
      }
    }
    await flush();
    // Windows from the cache and from evaluations each fit the result bound; their union must too.
    const result = await mergeWindows(parts, start, end, deadline);
    let points = 0;
    for (const s of result) points += s.timestamps.length;
    const limit = engine.options.maxResultPoints;
    if (points > limit) throw tooManyResultPoints(points, limit);
    return { result: { resultType: 'matrix', result }, stats };
  }

  private get(key: string, now: number): MatrixSeries[] | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(key);
      this.bytes -= e.bytes;
      return undefined;
    }
    // Re-insert to mark as most recently used (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.series;
  }

  private put(key: string, series: MatrixSeries[], now: number): void {
    let bytes = 0;
    for (const s of series)
      bytes += BYTES_PER_SERIES + JSON.stringify(s.labels).length * 2 + s.timestamps.length * BYTES_PER_POINT;
    if (bytes > this.options.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    while (this.bytes + bytes > this.options.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      const e = this.entries.get(oldest.value);
      this.entries.delete(oldest.value);
      this.bytes -= e?.bytes ?? 0;
    }
    this.entries.set(key, { series, bytes, expires: now + this.options.ttlMs });
    this.bytes += bytes;
  }
}

/** sliceSeries keeps the points of each series inside [from, to]. */
function sliceSeries(series: MatrixSeries[], from: number, to: number): MatrixSeries[] {
  const out: MatrixSeries[] = [];
  for (const s of series) {
    // Times are sorted: the window's points are one run, found by bisection. Scanning every point for
    // every window was windows × points: 182 windows of a 10 M-point result held the loop for seconds.
    const lo = firstIndex(s.timestamps, (t) => t >= from);
    const hi = firstIndex(s.timestamps, (t) => t > to);
    if (hi > lo)
      out.push({ labels: s.labels, timestamps: s.timestamps.slice(lo, hi), values: s.values.slice(lo, hi) });
  }
  return out;
}

/** firstIndex is the index of the first element of sorted `ts` for which the monotone `past` holds (or ts.length). */
function firstIndex(ts: readonly number[], past: (t: number) => boolean): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (past(ts[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** turnWithin gives the event loop a turn, then fails with `timeout` when the query's deadline has passed. */
async function turnWithin(pacer: Pacer, deadline: number): Promise<void> {
  await pacer.yield();
  if (performance.now() > deadline) throw queryTimeout();
}

/**
 * Merged is one series of a merge: its window slices' points in [start, end], counted (`n`), then copied
 * (`at` of them so far).
 */
interface Merged {
  readonly labels: Labels;
  n: number;
  at: number;
  timestamps: number[];
  values: number[];
}

/**
 * mergeWindows joins per-window results (in time order) into one matrix restricted to [start, end], giving the
 * event loop a turn between windows and failing with `timeout` past `deadline`. A series' key is computed
 * once per labels object (each window's slice of one evaluation shares it). It counts each series' points
 * first and then fills arrays of that size: growing them point by point copied each one a dozen times, and
 * for a result of millions of points that garbage made the collector hold the loop for 200–500 ms at a time.
 */
async function mergeWindows(
  parts: MatrixSeries[][],
  start: number,
  end: number,
  deadline: number,
): Promise<MatrixSeries[]> {
  const byKey = new Map<string, Merged>();
  const keys = new Map<Labels, string>();
  const pacer = new Pacer();
  // Pass 1: each part's series, its run of points in [start, end] (times are sorted), and the totals.
  const runs: { m: Merged; s: MatrixSeries; lo: number; hi: number }[] = [];
  for (const part of parts) {
    if (pacer.due()) await turnWithin(pacer, deadline);
    for (const s of part) {
      const lo = firstIndex(s.timestamps, (t) => t >= start);
      const hi = firstIndex(s.timestamps, (t) => t > end);
      if (hi <= lo) continue;
      let k = keys.get(s.labels);
      if (k === undefined) {
        k = seriesKey(s.labels);
        keys.set(s.labels, k);
      }
      let m = byKey.get(k);
      if (!m) {
        m = { labels: s.labels, n: 0, at: 0, timestamps: [], values: [] };
        byKey.set(k, m);
      }
      m.n += hi - lo;
      runs.push({ m, s, lo, hi });
    }
  }
  // Pass 2: copy the runs, in time order, into arrays of their series' size.
  for (const [i, r] of runs.entries()) {
    if (i % 256 === 0 && pacer.due()) await turnWithin(pacer, deadline);
    const { m, s, lo, hi } = r;
    if (m.at === 0) {
      m.timestamps = new Array<number>(m.n);
      m.values = new Array<number>(m.n);
    }
    for (let j = lo; j < hi; j++, m.at++) {
      m.timestamps[m.at] = s.timestamps[j] as number;
      m.values[m.at] = s.values[j] as number;
    }
  }
  const kept = [...byKey.values()].map(({ labels, timestamps, values }) => ({ labels, timestamps, values }));
  return sortByLabels(
    kept,
    (s) => s.labels,
    () => pacer.pace(),
  );
}
