/**
 * Classic-histogram functions, after Prometheus's `promql/quantile.go`: `histogram_quantile` over `le` buckets
 * (coalesced, made monotonic, linearly interpolated inside the bucket that holds the rank).
 */
import { seriesKey, type Labels } from '../util/labels.js';
import type { Expr } from './ast.js';
import type { CallFn } from './eval-context.js';
import { dropName } from './labels-util.js';
import { newStepSeries, type StepSeries } from './value.js';

/** histogramQuantile is `histogram_quantile(φ, buckets)` over classic `le` buckets. */
export const histogramQuantile: CallFn = async (ctx, call, f) => {
  const n = f.ts.length;
  const q = await ctx.evalScalar(call.args[0] as Expr, f);
  const vec = await ctx.evalVector(call.args[1] as Expr, f);
  const groups = new Map<string, { labels: Labels; buckets: { le: number; s: StepSeries }[] }>();
  for (const s of vec.series) {
    const b = bucketOf(s.labels);
    if (!b) continue;
    let g = groups.get(b.key);
    if (!g) {
      g = { labels: b.rest, buckets: [] };
      groups.set(b.key, g);
    }
    g.buckets.push({ le: b.le, s });
  }
  const out: StepSeries[] = [];
  for (const g of groups.values()) {
    if (ctx.pacer.due()) await ctx.turn();
    g.buckets.sort((a, b) => a.le - b.le);
    const r = newStepSeries(g.labels, n);
    let any = false;
    for (let i = 0; i < n; i++) {
      const bs: { upperBound: number; count: number }[] = [];
      for (const b of g.buckets)
        if (b.s.present[i]) bs.push({ upperBound: b.le, count: b.s.values[i] as number });
      if (bs.length === 0) continue;
      r.values[i] = bucketQuantile(q[i] ?? NaN, bs);
      r.present[i] = 1;
      any = true;
    }
    if (any) out.push(r);
  }
  // One series per bucket group: keyed by its labels, so distinct.
  return { kind: 'vector', series: out, distinct: true };
};

/** Bucket is a bucket series' bound and its histogram's labels (without `le` and the name) and their key. */
interface Bucket {
  readonly le: number;
  readonly rest: Labels;
  readonly key: string;
}

/**
 * buckets remembers each label set's Bucket (null: not a bucket): a rule reads the same bucket series every
 * interval, as the same label set objects, and parsing `le` and keying the rest was most of its cost. Label
 * sets are never changed in place. Weak: entries go with their series.
 */
const buckets = new WeakMap<Labels, Bucket | null>();

/** bucketOf returns the Bucket of a series' labels, or null when it has no valid `le`. */
function bucketOf(labels: Labels): Bucket | null {
  const known = buckets.get(labels);
  if (known !== undefined) return known;
  const leStr = labels.le;
  const le = leStr === undefined ? undefined : parseLe(leStr);
  let b: Bucket | null = null;
  if (le !== undefined) {
    const { le: _le, ...rest } = dropName(labels);
    b = { le, rest, key: seriesKey(rest) };
  }
  buckets.set(labels, b);
  return b;
}

/** parseLe parses a bucket bound as Go's ParseFloat (accepting +Inf). */
function parseLe(s: string): number | undefined {
  const t = s.trim();
  if (/^\+?inf(inity)?$/i.test(t)) return Infinity;
  if (/^-inf(inity)?$/i.test(t)) return -Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** bucketQuantile is Prometheus's classic-histogram quantile (linear interpolation inside the bucket). */
export function bucketQuantile(q: number, buckets: { upperBound: number; count: number }[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  buckets.sort((a, b) => a.upperBound - b.upperBound);
  const last = buckets[buckets.length - 1];
  if (!last || last.upperBound !== Infinity) return NaN;
  // Coalesce buckets with the same bound, then force counts to be monotonic.
  const bs: { upperBound: number; count: number }[] = [];
  for (const b of buckets) {
    const prev = bs[bs.length - 1];
    if (prev && prev.upperBound === b.upperBound) prev.count += b.count;
    else bs.push({ ...b });
  }
  let max = -Infinity;
  for (const b of bs) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (bs.length < 2) return NaN;
  const observations = bs[bs.length - 1]?.count ?? 0;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let idx = bs.length - 1;
  for (let i = 0; i < bs.length - 1; i++) {
    if ((bs[i]?.count ?? 0) >= rank) {
      idx = i;
      break;
    }
  }
  if (idx === bs.length - 1) return bs[bs.length - 2]?.upperBound ?? NaN;
  const b = bs[idx] as { upperBound: number; count: number };
  if (idx === 0 && b.upperBound <= 0) return b.upperBound;
  let bucketStart = 0;
  let count = b.count;
  if (idx > 0) {
    const p = bs[idx - 1] as { upperBound: number; count: number };
    bucketStart = p.upperBound;
    count -= p.count;
    rank -= p.count;
  }
  return bucketStart + (b.upperBound - bucketStart) * (rank / count);
}
