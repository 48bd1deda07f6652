/**
 * The rule for reading rollup tiers instead of raw samples (issue 4, requirement 4).
 *
 * A range function over a plain matrix selector, `f(sel[range])`, reads tier W (1h, then 5m, then 1m —
 * the coarsest that qualifies) when ALL of these hold:
 *  1. f has a bucket aggregate (TIER_AGGREGATES below): min/max/sum/count/avg/last/present_over_time,
 *     rate and increase;
 *  2. the query is long: its span (end − start + range) is at least `minBucketsPerQuery` (default 360) × W,
 *     so short dashboards always read raw samples;
 *  3. the grid aligns: range and step are multiples of W and every window end (eval time − offset, or the
 *     `@` time) is a multiple of W — so each window is exactly the buckets [end − range, end).
 *
 * Agreement with raw data (the documented error): the raw window is [end − range, end] with both ends
 * inclusive (Prometheus 2.x), the buckets cover [end − range, end). The two differ only by a sample lying
 * exactly on `end`; with samples off the bucket grid (scrapes at arbitrary phase) min/max/sum/count/avg
 * agree exactly. `last_over_time` agrees exactly. rate/increase read the bucket `increase` (which includes
 * the step from the previous bucket's last sample), i.e. the exact counter increase between the last sample
 * before the window and the last sample in it, where raw rate extrapolates from the samples inside; the two
 * differ by at most one scrape interval's worth of increase at each window edge, a relative error of
 * ≤ 2 × scrapeInterval / range for a steady counter (≤ 10 % for a 5m window at 15 s scrapes, ≤ 0.5 % at 1h).
 * When a tier returns no series (no rollups yet), the engine falls back to raw samples.
 */
import { TIER_WIDTH_MS, type RollupAggregate, type Tier } from '../tsdb/storage.js';

/** TierPlan says which tier and bucket aggregates serve a function, and how buckets combine. */
export interface TierPlan {
  readonly tier: Exclude<Tier, 'raw'>;
  readonly widthMs: number;
  /** aggregates to select (avg needs sum and count). */
  readonly aggregates: readonly RollupAggregate[];
  readonly combine: 'min' | 'max' | 'sum' | 'count' | 'avg' | 'last' | 'present' | 'rate' | 'increase';
}

/** TierOptions configures the rule; `minBucketsPerQuery` is rule 2's factor. */
export interface TierOptions {
  readonly enabled: boolean;
  readonly minBucketsPerQuery: number;
}

/** DEFAULT_TIER_OPTIONS enables tiers from 360 buckets per query (6 h at 1m, 30 h at 5m, 15 d at 1h). */
export const DEFAULT_TIER_OPTIONS: TierOptions = { enabled: true, minBucketsPerQuery: 360 };

/** TIER_AGGREGATES maps each tier-capable function to its bucket aggregates and combination. */
export const TIER_AGGREGATES: Readonly<Record<string, Pick<TierPlan, 'aggregates' | 'combine'>>> = {
  min_over_time: { aggregates: ['min'], combine: 'min' },
  max_over_time: { aggregates: ['max'], combine: 'max' },
  sum_over_time: { aggregates: ['sum'], combine: 'sum' },
  count_over_time: { aggregates: ['count'], combine: 'count' },
  avg_over_time: { aggregates: ['sum', 'count'], combine: 'avg' },
  last_over_time: { aggregates: ['last'], combine: 'last' },
  present_over_time: { aggregates: ['count'], combine: 'present' },
  rate: { aggregates: ['increase'], combine: 'rate' },
  increase: { aggregates: ['increase'], combine: 'increase' },
};

const TIERS_COARSEST_FIRST: readonly Exclude<Tier, 'raw'>[] = ['1h', '5m', '1m'];

/**
 * chooseTier applies the rule above to one range-function call; `ends` are the window ends (ms),
 * `span` the query's span in ms. It returns undefined when raw samples must be read.
 */
export function chooseTier(
  func: string,
  rangeMs: number,
  stepMs: number,
  ends: Float64Array,
  spanMs: number,
  options: TierOptions,
): TierPlan | undefined {
  if (!options.enabled) return undefined;
  const agg = TIER_AGGREGATES[func];
  if (!agg) return undefined;
  for (const tier of TIERS_COARSEST_FIRST) {
    const w = TIER_WIDTH_MS[tier];
    if (spanMs < options.minBucketsPerQuery * w) continue;
    if (rangeMs < w || rangeMs % w !== 0) continue;
    if (ends.length > 1 && stepMs % w !== 0) continue;
    const first = ends[0];
    if (first === undefined || first % w !== 0) continue;
    if (ends.length > 1 && (ends[1] ?? 0) - first !== stepMs) continue;
    return { tier, widthMs: w, ...agg };
  }
  return undefined;
}
