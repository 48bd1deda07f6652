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
  /** coverage is the share of buckets with a value: below MIN_PROFILE_COVERAGE the profile is not used. */
  readonly coverage: number;
  /**
   * clean is the profile with every unusual bucket (see buildProfile) replaced by the median of its
   * neighbourhood: the day without its incidents, and without a short daily job. The reference learns the
   * level and the noise scale against it; scoring uses `values`.
   */
  readonly clean: Float64Array;
}

/**
 * MIN_PROFILE_COVERAGE: a profile must know 90 % of the day (a fresh store with an hour of history has no daily
 * profile yet, and the level alone is the baseline until a day has passed).
 */
export const MIN_PROFILE_COVERAGE = 0.9;

/** ProfileOptions tell buildProfile which way harm lies and how small a change matters (a DetectorSpec's). */
export type ProfileOptions = Pick<DetectorSpec, 'direction' | 'floor'>;

/**
 * PROFILE_LOCAL_MS: a bucket is compared with the median of the buckets within 2 h either side. The window
 * is wider than twice the longest incident stretch worth excluding (back-to-back incidents of ~80 min), so
 * that stretch is a minority of it and the median ignores it, and narrow enough to follow the daily curve
 * (for a sinusoid the median of ±2 h lags the peak by under 4 % of the amplitude).
 */
const PROFILE_LOCAL_MS = 2 * 3_600_000;

/**
 * PROFILE_UNUSUAL_Z: a bucket further than 4 robust standard deviations (of all buckets' departures from their
 * local median, never below the signal's floor) from its local median is unusual. Noise alone rarely gets
 * there (replacing such a bucket by its local median changes little anyway); the incidents that poisoned the
 * level were 5 to 100 of them away. On the tuning seeds 3 found no more false positives and cost recall.
 */
const PROFILE_UNUSUAL_Z = 4;

/**
 * buildProfile builds the seasonal profile of (t, x) over a period of `periodMs` in buckets of `bucketMs`:
 * per bucket the median across periods (robust to a past incident on one day of several), then a 3-bucket
 * running mean, since the fleet's seasonality is smooth and single samples are noisy.
 *
 * With one or two days of history the median cannot outvote an incident, so given the signal's `options` the
 * profile is checked against itself (without them it is not, and `clean` is `values`): a bucket far from the
 * median of its ±2 h neighbourhood is unusual, and `clean` has that median instead. referenceOf learns the
 * level and the noise scale against `clean`: a level learnt against yesterday's incident, where a clean day
 * sits far below it, pulled the whole baseline down after it, and that (not the bump itself) turned
 * yesterday's incident into today's false alarm.
 *
 * In `values`, what scoring compares with, an unusual bucket in the harmless direction (a dip: a crash or an
 * outage took the server's traffic) is replaced as well, since expecting the dip again would make a normal
 * day look anomalous, and forgetting one that recurs costs only sensitivity. One in the harmful direction is
 * kept: a daily job (the 02:00 database backup) looks the same as a one-off incident until several days are
 * seen, and forgetting a job that recurs would raise a finding every night; keeping a one-off incident only
 * masks that time of day.
 */
export function buildProfile(
  t: ArrayLike<number>,
  x: ArrayLike<number>,
  periodMs = MS_PER_DAY,
  bucketMs = 300_000,
  options?: ProfileOptions,
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
  let known = 0;
  for (const v of raw) if (Number.isFinite(v)) known++;
  let clean: Float64Array | undefined;
  if (options) {
    const rawClean = Float64Array.from(raw);
    cleanUnusual(raw, rawClean, Math.max(1, Math.round(PROFILE_LOCAL_MS / bucketMs)), options);
    clean = smooth3(rawClean);
  }
  const values = smooth3(raw);
  return { periodMs, bucketMs, values, days: days.size, coverage: known / nb, clean: clean ?? values };
}

/** smooth3 is the circular 3-bucket running mean of `raw` (NaN buckets skipped). */
function smooth3(raw: Float64Array): Float64Array {
  const nb = raw.length;
  const out = new Float64Array(nb);
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
    out[b] = n > 0 ? sum / n : NaN;
  }
  return out;
}

/**
 * cleanUnusual finds the buckets of the circular profile `raw` that stand out of the median of their ±`half`
 * neighbours (see buildProfile) and replaces them by that median: all of them in `clean` (a copy of `raw`),
 * those in the harmless direction also in `raw`. Two passes: an incident fills part of its neighbours' windows
 * and, where the daily curve slopes, lifts their median (a 1 h bump in a ±2 h window by a third of the
 * window's spread), so the second pass takes the medians again without the buckets the first one found.
 */
function cleanUnusual(raw: Float64Array, clean: Float64Array, half: number, options: ProfileOptions): void {
  const nb = raw.length;
  const none = new Uint8Array(nb);
  const first = unusualBuckets(raw, localMedians(raw, half, none), options);
  const local = localMedians(raw, half, first);
  const marks = unusualBuckets(raw, local, options);
  const sign = options.direction === 'up' ? 1 : -1;
  for (let b = 0; b < nb; b++) {
    if (!marks[b]) continue;
    if (sign * ((raw[b] as number) - (local[b] as number)) < 0) raw[b] = local[b] as number;
    clean[b] = local[b] as number;
  }
}

/** localMedians is, per bucket of the circular `raw`, the median of its ±`half` neighbours not in `skip`. */
function localMedians(raw: Float64Array, half: number, skip: Uint8Array): Float64Array {
  const nb = raw.length;
  const out = new Float64Array(nb);
  const window = new Float64Array(2 * half + 1);
  for (let b = 0; b < nb; b++) {
    for (let d = -half; d <= half; d++) {
      const k = (((b + d) % nb) + nb) % nb;
      window[d + half] = skip[k] ? NaN : (raw[k] as number);
    }
    out[b] = median(window);
  }
  return out;
}

/**
 * unusualBuckets marks the buckets further than PROFILE_UNUSUAL_Z robust scales (of all departures, never below
 * the floor) from `local`, in either direction.
 */
function unusualBuckets(raw: Float64Array, local: Float64Array, options: ProfileOptions): Uint8Array {
  const dev = Float64Array.from(raw, (v, b) => v - (local[b] as number));
  const scale = robustScale(dev, options.floor);
  const marks = new Uint8Array(raw.length);
  if (!(scale > 0)) return marks;
  for (let b = 0; b < raw.length; b++)
    if (Math.abs(dev[b] as number) > PROFILE_UNUSUAL_Z * scale) marks[b] = 1;
  return marks;
}

/**
 * profileAt is the profile's value at instant t, interpolated linearly between bucket centres; `clean` reads
 * the profile without its unusual stretches.
 */
export function profileAt(p: SeasonalProfile, t: number, clean = false): number {
  const v = clean ? p.clean : p.values;
  const nb = v.length;
  const pos = (((t % p.periodMs) + p.periodMs) % p.periodMs) / p.bucketMs - 0.5;
  const lo = Math.floor(pos);
  const f = pos - lo;
  const a = v[(lo + nb) % nb] as number;
  const b = v[(lo + 1) % nb] as number;
  if (!Number.isFinite(a)) return b;
  if (!Number.isFinite(b)) return a;
  return a + (b - a) * f;
}

/**
 * BaselineKind picks the baseline: `seasonal` (daily profile plus the reference window's level: traffic-driven
 * signals), `level` (the reference window's level alone: ratios such as the error ratio, where the traffic's
 * daily swing cancels and a profile would carry only past incidents), `trend` (the reference window's robust
 * trend extrapolated: disk usage, which only grows between clean-ups), `up` (1 = healthy: service and server
 * availability).
 */
export type BaselineKind = 'seasonal' | 'level' | 'trend' | 'up';

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

/** LEVEL_MS: the level is the median residual of the reference window's newest hour. */
const LEVEL_MS = 3_600_000;

/** DRIFT_MIN_Z: the drift test needs the last two samples at least two noise scales on the harmful side. */
const DRIFT_MIN_Z = 2;

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
  /** level is the reference window's median residual: baseline(t) = profile or trend at t + level. */
  readonly level: number;
}

/** NO_SCORE is the score of a series with no recent sample. */
const NO_SCORE: SeriesScore = {
  score: 0,
  z: 0,
  onset: undefined,
  value: NaN,
  expected: NaN,
  scale: NaN,
  level: NaN,
};

/**
 * Reference is what the detector learns from a series' reference window: the level and noise scale of its
 * residuals, their lag-1 autocorrelation, and (trend baseline) the slope and its anchor. It changes slowly,
 * so the analysis recomputes it every few minutes and scores each run's new samples against it.
 */
export interface Reference {
  /** end is the reference window's end (ms): samples after it are the ones tested. */
  readonly end: number;
  readonly level: number;
  readonly scale: number;
  readonly rho: number;
  /** innovationScale is the MAD scale of the prewhitened residuals r − ρ·r₋₁ (the drift test's unit). */
  readonly innovationScale: number;
  /** slope (per ms) and anchor (ms) of the trend baseline; 0 for the others. */
  readonly slope: number;
  readonly anchor: number;
  /** count is the number of reference samples. */
  readonly count: number;
}

/**
 * baseAt is the baseline at time t before the level is added (profile or trend; 0 without either); `clean`
 * reads the profile without its unusual stretches (what the reference learns against).
 */
function baseAt(
  spec: DetectorSpec,
  ref: Pick<Reference, 'slope' | 'anchor'>,
  profile: SeasonalProfile | undefined,
  t: number,
  clean = false,
): number {
  if (spec.baseline === 'trend') return ref.slope * (t - ref.anchor);
  if (spec.baseline === 'seasonal' && profile && profile.coverage >= MIN_PROFILE_COVERAGE) {
    const p = profileAt(profile, t, clean);
    return Number.isFinite(p) ? p : 0;
  }
  return 0;
}

/**
 * referenceOf learns the reference of (t, x) at `now` from the samples in (now − referenceMs,
 * now − guardMs]: the trend slope (median step per ms, robust to one clean-up drop) anchored at the window's
 * end, then the residuals' median over its newest hour (level), MAD scale (never below the floor; twice the
 * floor with fewer than MIN_REFERENCE_POINTS samples), lag-1 autocorrelation and the scale of the prewhitened
 * residuals. Seasonal residuals are taken against the profile's `clean` curve (its past incidents replaced).
 * Samples for which `exclude` is true (the analysis passes its own past anomalies) are not learnt from.
 */
export function referenceOf(
  t: ArrayLike<number>,
  x: ArrayLike<number>,
  now: number,
  spec: DetectorSpec,
  profile?: SeasonalProfile,
  windows: DetectorWindows = DEFAULT_WINDOWS,
  exclude?: (t: number) => boolean,
): Reference {
  const n = Math.min(t.length, x.length);
  const refStart = now - windows.referenceMs;
  const end = now - windows.guardMs;
  let i0 = 0;
  while (i0 < n && (t[i0] as number) <= refStart) i0++;
  let i1 = i0;
  while (i1 < n && (t[i1] as number) <= end) i1++;
  let slope = 0;
  let anchor = end;
  if (spec.baseline === 'trend') {
    const steps: number[] = [];
    for (let i = i0 + 1; i < i1; i++) {
      const dx = (x[i] as number) - (x[i - 1] as number);
      const dt = (t[i] as number) - (t[i - 1] as number);
      if (Number.isFinite(dx) && dt > 0) steps.push(dx / dt);
    }
    slope = steps.length > 0 ? median(steps) : 0;
    anchor = i1 > i0 ? (t[i1 - 1] as number) : end;
  }
  const resid = new Float64Array(Math.max(0, i1 - i0));
  let count = 0;
  // Residuals are learnt against the clean profile: against yesterday's incident a clean day's residuals are
  // far off, and learnt as the level they would shift the whole baseline after it.
  for (let i = i0; i < i1; i++) {
    const ti = t[i] as number;
    const r = exclude?.(ti) ? NaN : (x[i] as number) - baseAt(spec, { slope, anchor }, profile, ti, true);
    resid[i - i0] = r;
    if (Number.isFinite(r)) count++;
  }
  const floor = count >= MIN_REFERENCE_POINTS ? spec.floor : 2 * spec.floor;
  const rho = count >= MIN_REFERENCE_POINTS ? lag1Autocorrelation(resid) : 0;
  // The level comes from the reference's newest hour only: the profile's error drifts over the day (the
  // weekly cycle changes the daily amplitude), and a level learnt on average 50 min ago lags it less.
  let l0 = i0;
  while (l0 < i1 && (t[l0] as number) <= end - LEVEL_MS) l0++;
  const recent = median(resid, l0 - i0, i1 - i0);
  const innov = new Float64Array(Math.max(0, resid.length - 1));
  for (let i = 1; i < resid.length; i++) innov[i - 1] = (resid[i] as number) - rho * (resid[i - 1] as number);
  const scale = count > 0 ? robustScale(resid, floor) : floor;
  return {
    end,
    level: Number.isFinite(recent) ? recent : count > 0 ? median(resid) : NaN,
    scale,
    rho,
    innovationScale:
      count >= MIN_REFERENCE_POINTS ? robustScale(innov, floor / 2) : scale * Math.sqrt(1 - rho * rho),
    slope,
    anchor,
    count,
  };
}

/**
 * scoreSeries scores the newest sample of (t, x) (time order, tick resolution, NaN = missing) at `now`.
 * `profile` is the seasonal profile (seasonal baseline only; without one the level alone is the baseline);
 * `reference`, when given, is a recent referenceOf (the analysis reuses one for a few minutes), else it is
 * learnt now. The drift test runs over the samples after the reference window and after `testFrom` (the end
 * of a finding already reported and resolved: a CUSUM still carrying that incident's mass would reopen it on
 * the first two noisy samples after it).
 */
export function scoreSeries(
  t: ArrayLike<number>,
  x: ArrayLike<number>,
  now: number,
  spec: DetectorSpec,
  profile?: SeasonalProfile,
  windows: DetectorWindows = DEFAULT_WINDOWS,
  reference?: Reference,
  testFrom = -Infinity,
): SeriesScore {
  const n = Math.min(t.length, x.length);
  let last = n - 1;
  while (last >= 0 && !Number.isFinite(x[last])) last--;
  if (last < 0 || (t[last] as number) <= now - windows.guardMs) return NO_SCORE;
  if (spec.baseline === 'up') return scoreUp(t, x, last);

  const ref = reference ?? referenceOf(t, x, now, spec, profile, windows);
  const level = Number.isFinite(ref.level) ? ref.level : 0;
  const scale = ref.scale;
  const rho = ref.rho;
  // Tested: the samples after the reference window, and one before it (the prewhitening's predecessor).
  const from = Math.max(ref.end, testFrom);
  let i1 = last;
  while (i1 > 0 && (t[i1 - 1] as number) > from) i1--;
  const sign = spec.direction === 'up' ? 1 : -1;
  const m = last - i1 + 1;
  const z = new Float64Array(m);
  // The drift test runs on prewhitened residuals: noise with memory (traffic wanders for minutes, memory for
  // an hour) is AR(1)-like, so e = r − ρ·r₋₁ is nearly white (its scale learnt from the reference), and a drift
  // (a leak's slope β per sample) shows in it as a lasting shift of about ρ·β: sums of e grow with the drift,
  // not with the wander.
  const se = Math.max(ref.innovationScale, spec.floor / 2);
  const e = new Float64Array(m).fill(NaN);
  let before = i1 > 0 ? (x[i1 - 1] as number) - baseAt(spec, ref, profile, t[i1 - 1] as number) - level : NaN;
  for (let i = i1; i <= last; i++) {
    const a = (x[i] as number) - baseAt(spec, ref, profile, t[i] as number) - level;
    z[i - i1] = (sign * a) / scale;
    e[i - i1] = (sign * (Number.isFinite(before) ? a - rho * before : a * Math.sqrt(1 - rho * rho))) / se;
    if (Number.isFinite(a)) before = a;
  }
  const cs = cusum(e, spec.cusumK, spec.cusumH);
  const zLast = z[m - 1] ?? NaN;
  let prev = last - 1;
  while (prev >= i1 && !Number.isFinite(x[prev])) prev--;
  const zPrev = prev >= i1 ? (z[prev - i1] as number) : NaN;
  const persistent = Number.isFinite(zPrev) ? Math.min(zLast, zPrev) : 0;
  // A drift counts only while the series stands on the harmful side of its baseline (a series climbing back
  // from below its baseline drifts upward too, harmlessly).
  const drift = persistent >= DRIFT_MIN_Z ? Math.min(cs.stat, cs.prevStat) : 0;
  const score = Math.max(scoreOf(persistent / spec.zThreshold), scoreOf(drift / spec.cusumH));
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
    expected: baseAt(spec, ref, profile, t[last] as number) + level,
    scale,
    level,
  };
}

/** scoreUp scores an availability signal: anything below 1 is down, dated from the start of the outage. */
function scoreUp(t: ArrayLike<number>, x: ArrayLike<number>, last: number): SeriesScore {
  const v = x[last] as number;
  if (v >= 1) return { score: 0, z: 0, onset: undefined, value: v, expected: 1, scale: 1, level: 0 };
  let k = last;
  while (k - 1 >= 0 && !((x[k - 1] as number) >= 1)) k--;
  return { score: 1, z: Infinity, onset: t[k], value: v, expected: 1, scale: 1, level: 0 };
}
