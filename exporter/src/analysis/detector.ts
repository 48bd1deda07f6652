/**
 * The per-series detector: a baseline (seasonal profile plus level, a trend, or a constant "up"), the residual
 * of the recent samples against it standardised by a robust scale (median/MAD of the residuals of a reference
 * window that ends a guard interval before now, so a change in progress does not teach the baseline), and two
 * tests on the standardised residual: a point test (two consecutive samples past a threshold) for steps and
 * spikes, and a CUSUM for drifts (leaks, fills) whose onset dates the change. Pure functions over Float64Array.
 */
import { cusum, lag1Autocorrelation, median, robustScale, scoreOf } from './robust-stats.js';

/** MS_PER_DAY is one day in ms: the period of the daily profile. */
export const MS_PER_DAY = 86_400_000;

/**
 * SeasonalProfile is a series' typical value by time of day: `values[b]` is the median, over the days seen, of
 * the samples falling in bucket b (bucketMs wide) of the period, NaN where no day had a sample.
 */
export interface SeasonalProfile {
  readonly periodMs: number;
  readonly bucketMs: number;
  readonly values: Float64Array;
  /** days is how many distinct periods contributed. */
  readonly days: number;
}

/**
 * buildProfile builds the seasonal profile of (t, x) over a period of `periodMs` in buckets of `bucketMs`:
 * per bucket the median across periods (robust to a past incident on one day), then a 3-bucket running mean,
 * since the fleet's seasonality is smooth and single samples are noisy.
 */
export function buildProfile(
  t: ArrayLike<number>,
  x: ArrayLike<number>,
  periodMs = MS_PER_DAY,
  bucketMs = 300_000,
): SeasonalProfile {
  const nb = Math.round(periodMs / bucketMs);
  const cells: number[][] = Array.from({ length: nb }, () => []);
  const days = new Set<number>();
  for (let i = 0; i < Math.min(t.length, x.length); i++) {
    const v = x[i] as number;
    const ti = t[i] as number;
    if (!Number.isFinite(v)) continue;
    const phase = (((ti % periodMs) + periodMs) % periodMs) / bucketMs;
    cells[Math.floor(phase) % nb]?.push(v);
    days.add(Math.floor(ti / periodMs));
  }
  const raw = Float64Array.from(cells, (c) => (c.length > 0 ? median(c) : NaN));
  const values = new Float64Array(nb);
  for (let b = 0; b < nb; b++) {
    let sum = 0;
    let n = 0;
    for (let d = -1; d <= 1; d++) {
      const v = raw[(b + d + nb) % nb] as number;
      if (Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    values[b] = n > 0 ? sum / n : NaN;
  }
  return { periodMs, bucketMs, values, days: days.size };
}

/** profileAt is the profile's value at instant t, interpolated linearly between bucket centres. */
export function profileAt(p: SeasonalProfile, t: number): number {
  const nb = p.values.length;
  const pos = (((t % p.periodMs) + p.periodMs) % p.periodMs) / p.bucketMs - 0.5;
  const lo = Math.floor(pos);
  const f = pos - lo;
  const a = p.values[(lo + nb) % nb] as number;
  const b = p.values[(lo + 1) % nb] as number;
  if (!Number.isFinite(a)) return b;
  if (!Number.isFinite(b)) return a;
  return a + (b - a) * f;
}

/**
 * BaselineKind picks the baseline: `seasonal` (daily profile plus the reference window's level: traffic-driven
 * signals), `trend` (the reference window's robust trend extrapolated: disk usage, which only grows between
 * clean-ups), `up` (1 = healthy: service and server availability).
 */
export type BaselineKind = 'seasonal' | 'trend' | 'up';

/** DetectorSpec tunes the detector for one signal. */
export interface DetectorSpec {
  readonly baseline: BaselineKind;
  /** direction is the harmful direction; changes the other way are not anomalies (a disk clean-up). */
  readonly direction: 'up' | 'down';
  /** floor is the least noise scale, in the signal's (transformed) units: the smallest change that matters. */
  readonly floor: number;
  /** zThreshold: two consecutive standardised residuals past it raise the point test to score 0.5. */
  readonly zThreshold: number;
  /** cusumK (allowance) and cusumH (threshold) of the drift test, in standard deviations. */
  readonly cusumK: number;
  readonly cusumH: number;
}

/** DetectorWindows are the time spans the detector looks at. */
export interface DetectorWindows {
  /** referenceMs: residuals of (now − referenceMs, now − guardMs] give the level and the noise scale. */
  readonly referenceMs: number;
  /** guardMs: the newest samples the baseline does not learn from; the tests run over them. */
  readonly guardMs: number;
}

/** DEFAULT_WINDOWS: a 3 h reference (long enough for a stable MAD, short against the weekly drift), 20 min guard. */
export const DEFAULT_WINDOWS: DetectorWindows = { referenceMs: 3 * 3_600_000, guardMs: 20 * 60_000 };

/** MIN_REFERENCE_POINTS: with fewer reference samples the scale is not trusted and the floor is doubled. */
const MIN_REFERENCE_POINTS = 20;

/** SeriesScore is what the detector says about the newest sample of one series. */
export interface SeriesScore {
  /**
   * score in [0, 1]: the stronger of the point test and the CUSUM, 0.5 at either's threshold; both must hold
   * for the last two samples, so one wild sample scores nothing.
   */
  readonly score: number;
  /** z is the newest standardised residual (harmful direction positive). */
  readonly z: number;
  /** onset is when the change began (ms): the CUSUM's onset, or the first sample past the point threshold. */
  readonly onset: number | undefined;
  /** value and expected are the newest sample and the baseline there (transformed units). */
  readonly value: number;
  readonly expected: number;
  /** scale is the noise scale used (transformed units). */
  readonly scale: number;
}

/** NO_SCORE is the score of a series with no recent sample. */
const NO_SCORE: SeriesScore = { score: 0, z: 0, onset: undefined, value: NaN, expected: NaN, scale: NaN };

/**
 * scoreSeries scores the newest sample of (t, x) (time order, tick resolution, NaN = missing) at `now`.
 * `profile` is the seasonal profile (seasonal baseline only; without one the level alone is the baseline).
 */
export function scoreSeries(
  t: ArrayLike<number>,
  x: ArrayLike<number>,
  now: number,
  spec: DetectorSpec,
  profile?: SeasonalProfile,
  windows: DetectorWindows = DEFAULT_WINDOWS,
): SeriesScore {
  const n = Math.min(t.length, x.length);
  let last = n - 1;
  while (last >= 0 && !Number.isFinite(x[last])) last--;
  if (last < 0 || (t[last] as number) <= now - windows.guardMs) return NO_SCORE;
  if (spec.baseline === 'up') return scoreUp(t, x, last);

  const refStart = now - windows.referenceMs;
  const refEnd = now - windows.guardMs;
  let i0 = 0;
  while (i0 < n && (t[i0] as number) <= refStart) i0++;
  let i1 = i0;
  while (i1 < n && (t[i1] as number) <= refEnd) i1++;
  const base = baselineOf(t, x, i0, i1, n, spec, profile);
  const resid = new Float64Array(n);
  for (let i = i0; i < n; i++) resid[i] = (x[i] as number) - (base[i] as number);
  let refCount = 0;
  for (let i = i0; i < i1; i++) if (Number.isFinite(resid[i])) refCount++;
  const level = refCount > 0 ? median(resid, i0, i1) : 0;
  const floor = refCount >= MIN_REFERENCE_POINTS ? spec.floor : 2 * spec.floor;
  const scale = refCount > 0 ? robustScale(resid, floor, i0, i1) : floor;
  const sign = spec.direction === 'up' ? 1 : -1;
  const z = new Float64Array(n - i1);
  for (let i = i1; i < n; i++) z[i - i1] = (sign * ((resid[i] as number) - level)) / scale;

  // The drift test runs on prewhitened residuals: noise with memory (traffic wanders for minutes, memory for
  // an hour) is AR(1)-like, so e = r − ρ·r₋₁ is white with scale·√(1−ρ²), and a drift (a leak's slope β per
  // sample) shows in it as a lasting shift of about ρ·β: sums of e grow with the drift, not with the wander.
  const rho = refCount >= MIN_REFERENCE_POINTS ? lag1Autocorrelation(resid, i0, i1) : 0;
  const se = Math.max(scale * Math.sqrt(1 - rho * rho), spec.floor / 2);
  const e = new Float64Array(n - i1).fill(NaN);
  for (let i = Math.max(i1, 1); i < n; i++) {
    const a = (resid[i] as number) - level;
    const b = (resid[i - 1] as number) - level;
    e[i - i1] = (sign * (Number.isFinite(b) ? a - rho * b : a * Math.sqrt(1 - rho * rho))) / se;
  }
  const cs = cusum(e, spec.cusumK, spec.cusumH);
  const zLast = z[last - i1] ?? NaN;
  let prev = last - 1;
  while (prev >= i1 && !Number.isFinite(x[prev])) prev--;
  const zPrev = prev >= i1 ? (z[prev - i1] as number) : NaN;
  const persistent = Number.isFinite(zPrev) ? Math.min(zLast, zPrev) : 0;
  const score = Math.max(
    scoreOf(persistent / spec.zThreshold),
    scoreOf(Math.min(cs.stat, cs.prevStat) / spec.cusumH),
  );
  let onset: number | undefined;
  if (cs.onset >= 0) onset = t[i1 + cs.onset];
  else if (persistent >= spec.zThreshold) {
    let k = last;
    while (k - 1 >= i1 && (z[k - 1 - i1] as number) >= spec.zThreshold) k--;
    onset = t[k];
  }
  return {
    score,
    z: zLast,
    onset,
    value: x[last] as number,
    expected: (base[last] as number) + level,
    scale,
  };
}

/** baselineOf returns the baseline at every index ≥ i0 (before the level is added). */
function baselineOf(
  t: ArrayLike<number>,
  x: ArrayLike<number>,
  i0: number,
  i1: number,
  n: number,
  spec: DetectorSpec,
  profile: SeasonalProfile | undefined,
): Float64Array {
  const base = new Float64Array(n);
  if (spec.baseline === 'seasonal') {
    if (profile && profile.days > 0)
      for (let i = i0; i < n; i++) {
        const p = profileAt(profile, t[i] as number);
        base[i] = Number.isFinite(p) ? p : 0;
      }
    return base;
  }
  // trend: the median step per ms of the reference window (robust to one clean-up drop), anchored at its end.
  const steps: number[] = [];
  for (let i = i0 + 1; i < i1; i++) {
    const dx = (x[i] as number) - (x[i - 1] as number);
    const dt = (t[i] as number) - (t[i - 1] as number);
    if (Number.isFinite(dx) && dt > 0) steps.push(dx / dt);
  }
  const slope = steps.length > 0 ? median(steps) : 0;
  for (let i = i0; i < n; i++) base[i] = slope * ((t[i] as number) - (t[i1 - 1] ?? t[i0] ?? 0));
  return base;
}

/** scoreUp scores an availability signal: anything below 1 is down, dated from the start of the outage. */
function scoreUp(t: ArrayLike<number>, x: ArrayLike<number>, last: number): SeriesScore {
  const v = x[last] as number;
  if (v >= 1) return { score: 0, z: 0, onset: undefined, value: v, expected: 1, scale: 1 };
  let k = last;
  while (k - 1 >= 0 && !((x[k - 1] as number) >= 1)) k--;
  return { score: 1, z: Infinity, onset: t[k], value: v, expected: 1, scale: 1 };
}
