/**
 * MemoryQueryable is an in-memory implementation of the storage contract (tsdb/storage.ts) for engine tests
 * and benchmarks: it keeps raw samples per series and computes rollup buckets on demand exactly as the
 * contract describes them (bucket stamped with its start, covering [start, start + width); `increase`
 * counter-reset aware and including the step from the previous bucket's last sample). The real backends
 * (tsdb/) must satisfy the same contract, so engine results carry over.
 */
import {
  TIER_WIDTH_MS,
  type Labels,
  type Matcher,
  type Querier,
  type Queryable,
  type RollupAggregate,
  type SelectHints,
  type SeriesData,
} from '../../tsdb/storage.js';
import { seriesKey } from '../../util/labels.js';
import { compileRegex } from '../../util/re2.js';
import { STALE_NAN, isStaleNaN } from '../../util/stale-marker.js';
import { lowerBound } from '../../util/lower-bound.js';

interface StoredSeries {
  readonly labels: Labels;
  ts: number[];
  /** vs holds values; staleness markers are kept in `stale` because V8 canonicalises NaNs in plain arrays. */
  vs: number[];
  stale: boolean[];
}

/** compileMatchers turns matchers into one predicate over label sets (regexes fully anchored). */
export function compileMatchers(matchers: readonly Matcher[]): (labels: Labels) => boolean {
  const preds = matchers.map((m) => {
    if (m.type === '=') return (v: string) => v === m.value;
    if (m.type === '!=') return (v: string) => v !== m.value;
    const re = compileRegex(m.value, { dotAll: true });
    return m.type === '=~' ? (v: string) => re.test(v) : (v: string) => !re.test(v);
  });
  return (labels) => matchers.every((m, i) => (preds[i] as (v: string) => boolean)(labels[m.name] ?? ''));
}

/** MemoryQueryable stores samples in memory and serves them through the Queryable contract. */
export class MemoryQueryable implements Queryable {
  private readonly series = new Map<string, StoredSeries>();
  /** selects counts select() calls, for tests of the cache and the tier rule. */
  selects: SelectHints[] = [];

  /** add appends one sample (time order per series is the caller's job; out-of-order ones are sorted in). */
  add(labels: Labels, t: number, v: number): void {
    const key = seriesKey(labels);
    let s = this.series.get(key);
    if (!s) {
      const clean: Record<string, string> = {};
      for (const [k, val] of Object.entries(labels)) if (val !== '') clean[k] = val;
      s = { labels: clean, ts: [], vs: [], stale: [] };
      this.series.set(key, s);
    }
    const last = s.ts[s.ts.length - 1];
    const stale = isStaleNaN(v);
    if (last === undefined || t > last) {
      s.ts.push(t);
      s.vs.push(v);
      s.stale.push(stale);
      return;
    }
    const i = lowerBound(s.ts, t);
    if (s.ts[i] === t) {
      s.vs[i] = v;
      s.stale[i] = stale;
    } else {
      s.ts.splice(i, 0, t);
      s.vs.splice(i, 0, v);
      s.stale.splice(i, 0, stale);
    }
  }

  /** clear drops every series. */
  clear(): void {
    this.series.clear();
  }

  /** seriesCount is the number of stored series. */
  get seriesCount(): number {
    return this.series.size;
  }

  querier(mint: number, maxt: number): Promise<Querier> {
    return Promise.resolve(new MemoryQuerier(this, mint, maxt));
  }

  /** matching returns stored series matching all matchers (internal to the querier). */
  matching(matchers: readonly Matcher[]): StoredSeries[] {
    const pred = compileMatchers(matchers);
    const out: StoredSeries[] = [];
    for (const s of this.series.values()) if (pred(s.labels)) out.push(s);
    return out.sort((a, b) => (seriesKey(a.labels) < seriesKey(b.labels) ? -1 : 1));
  }
}

class MemoryQuerier implements Querier {
  constructor(
    private readonly db: MemoryQueryable,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  select(matchers: readonly Matcher[], hints?: SelectHints): Promise<SeriesData[]> {
    const start = hints?.start ?? this.mint;
    const end = hints?.end ?? this.maxt;
    if (hints) this.db.selects.push(hints);
    const out: SeriesData[] = [];
    for (const s of this.db.matching(matchers)) {
      if (hints?.tier && hints.tier !== 'raw') {
        const buckets = rollup(s, TIER_WIDTH_MS[hints.tier], hints.aggregate ?? 'last', start, end);
        if (buckets.timestamps.length > 0) out.push({ labels: s.labels, ...buckets });
        continue;
      }
      const lo = lowerBound(s.ts, start);
      const hi = lowerBound(s.ts, end + 1);
      if (hi <= lo) continue;
      const values = Float64Array.from(s.vs.slice(lo, hi));
      for (let k = lo; k < hi; k++) if (s.stale[k]) values[k - lo] = STALE_NAN;
      out.push({ labels: s.labels, timestamps: Float64Array.from(s.ts.slice(lo, hi)), values });
    }
    return Promise.resolve(out);
  }

  series(matchers: readonly Matcher[]): Promise<Labels[]> {
    return Promise.resolve(this.inWindow(matchers).map((s) => s.labels));
  }

  labelNames(matchers?: readonly Matcher[]): Promise<string[]> {
    const names = new Set<string>();
    for (const s of this.inWindow(matchers ?? [])) for (const k of Object.keys(s.labels)) names.add(k);
    return Promise.resolve([...names].sort());
  }

  labelValues(name: string, matchers?: readonly Matcher[]): Promise<string[]> {
    const values = new Set<string>();
    for (const s of this.inWindow(matchers ?? [])) {
      const v = s.labels[name];
      if (v !== undefined) values.add(v);
    }
    return Promise.resolve([...values].sort());
  }

  private inWindow(matchers: readonly Matcher[]): StoredSeries[] {
    return this.db.matching(matchers).filter((s) => {
      const i = lowerBound(s.ts, this.mint);
      return i < s.ts.length && (s.ts[i] as number) <= this.maxt;
    });
  }
}

/** rollup computes the buckets of width `w` whose start lies in [start, end], per the storage contract. */
function rollup(
  s: StoredSeries,
  w: number,
  aggregate: RollupAggregate,
  start: number,
  end: number,
): { timestamps: Float64Array; values: Float64Array } {
  const firstBucket = Math.floor(start / w) * w;
  const from = firstBucket < start ? firstBucket + w : firstBucket;
  const ts: number[] = [];
  const vs: number[] = [];
  // For `increase`, the sample before the first bucket is the baseline.
  let i = lowerBound(s.ts, from);
  let prev: number | undefined;
  for (let k = i - 1; k >= 0; k--) {
    if (!s.stale[k]) {
      prev = s.vs[k];
      break;
    }
  }
  while (i < s.ts.length) {
    const t = s.ts[i] as number;
    const b = Math.floor(t / w) * w;
    if (b > end) break;
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let count = 0;
    let last = NaN;
    let inc = 0;
    while (i < s.ts.length && (s.ts[i] as number) < b + w) {
      const v = s.vs[i] as number;
      const stale = s.stale[i] === true;
      i++;
      if (stale) continue;
      if (v < min || Number.isNaN(min)) min = v;
      if (v > max || Number.isNaN(max)) max = v;
      sum += v;
      count++;
      last = v;
      if (prev !== undefined) inc += v < prev ? v : v - prev;
      prev = v;
    }
    if (count === 0) continue;
    ts.push(b);
    vs.push(
      aggregate === 'min'
        ? min
        : aggregate === 'max'
          ? max
          : aggregate === 'sum'
            ? sum
            : aggregate === 'count'
              ? count
              : aggregate === 'last'
                ? last
                : inc,
    );
  }
  return { timestamps: Float64Array.from(ts), values: Float64Array.from(vs) };
}
