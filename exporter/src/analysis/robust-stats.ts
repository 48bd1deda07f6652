/**
 * Robust statistics the analysis is built from, as pure functions over Float64Array: median and MAD (a scale
 * that one outlier cannot move), a two-sided CUSUM change-point detector (Page, 1954) that also dates the
 * change, and the Theil–Sen slope with Sen's rank-based confidence interval (ETAs). NaN marks a missing
 * sample everywhere and is skipped.
 */

/** MAD_TO_SIGMA scales a median absolute deviation to the standard deviation of a normal law (1 / Φ⁻¹(3/4)). */
export const MAD_TO_SIGMA = 1.4826;

/** finite copies the finite values of `x[from, to)` into a new array. */
function finite(x: ArrayLike<number>, from = 0, to = x.length): Float64Array {
  const out = new Float64Array(Math.max(0, to - from));
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = x[i] as number;
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n);
}

/** median returns the median of the finite values of `x[from, to)`, NaN when there are none. */
export function median(x: ArrayLike<number>, from = 0, to = x.length): number {
  const v = finite(x, from, to).sort();
  const n = v.length;
  if (n === 0) return NaN;
  const h = n >> 1;
  return n % 2 === 1 ? (v[h] as number) : ((v[h - 1] as number) + (v[h] as number)) / 2;
}

/** quantile returns the q-quantile (0 ≤ q ≤ 1, linear interpolation) of the finite values of `x`. */
export function quantile(x: ArrayLike<number>, q: number): number {
  const v = finite(x).sort();
  const n = v.length;
  if (n === 0) return NaN;
  const pos = Math.min(1, Math.max(0, q)) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return (v[lo] as number) + ((v[hi] as number) - (v[lo] as number)) * (pos - lo);
}

/** mad returns the median absolute deviation from the median of the finite values of `x[from, to)`. */
export function mad(x: ArrayLike<number>, from = 0, to = x.length): number {
  const v = finite(x, from, to);
  const m = median(v);
  for (let i = 0; i < v.length; i++) v[i] = Math.abs((v[i] as number) - m);
  return median(v);
}

/**
 * robustScale is the noise level of `x[from, to)` as a standard deviation estimated from the MAD, never below
 * `floor` (a deterministic signal has MAD 0; the floor is the smallest change that matters).
 */
export function robustScale(x: ArrayLike<number>, floor: number, from = 0, to = x.length): number {
  const s = MAD_TO_SIGMA * mad(x, from, to);
  return Number.isFinite(s) && s > floor ? s : floor;
}

/**
 * lag1Autocorrelation is the lag-1 autocorrelation of the finite values of `x[from, to)` (pairs with a missing
 * member are skipped), clipped to [0, 0.99]: the memory of a noise process, which a drift test must allow for.
 */
export function lag1Autocorrelation(x: ArrayLike<number>, from = 0, to = x.length): number {
  const m = median(x, from, to);
  let num = 0;
  let den = 0;
  for (let i = from; i < to; i++) {
    const a = (x[i] as number) - m;
    if (!Number.isFinite(a)) continue;
    den += a * a;
    const b = (x[i + 1] as number) - m;
    if (i + 1 < to && Number.isFinite(b)) num += a * b;
  }
  if (!(den > 0)) return 0;
  return Math.min(0.99, Math.max(0, num / den));
}

/** CusumResult is the state of a one-sided CUSUM after a run over a series. */
export interface CusumResult {
  /** stat is the CUSUM statistic after the last sample (in units of the input). */
  readonly stat: number;
  /** prevStat is the statistic before the last finite sample (a one-sample spike lifts stat, not both). */
  readonly prevStat: number;
  /** alarm is the first index where the statistic reached the threshold, -1 when it never did. */
  readonly alarm: number;
  /**
   * onset is where the change that raised the alarm (or, without an alarm, the current excursion) began: the
   * index after the statistic was last zero. -1 when the statistic is zero at the end and never alarmed.
   */
  readonly onset: number;
}

/**
 * cusum runs Page's one-sided CUSUM over standardised values `z` (upward: S = max(0, S + z − k)): it alarms
 * once S ≥ h, after a shift of the mean by δ > k within about h / (δ − k) samples, and rarely on noise (the
 * usual k = 0.5, h = 5 give an in-control run length near 900 samples for unit-variance noise). The onset is
 * the change-point estimate CUSUM is known for: where the excursion that crossed h began. NaN samples leave
 * the statistic unchanged.
 */
export function cusum(z: ArrayLike<number>, k: number, h: number): CusumResult {
  let s = 0;
  let prev = 0;
  let start = -1;
  let alarm = -1;
  let onset = -1;
  for (let i = 0; i < z.length; i++) {
    const v = z[i] as number;
    if (!Number.isFinite(v)) continue;
    const next = Math.max(0, s + v - k);
    prev = s;
    if (s === 0 && next > 0) start = i;
    s = next;
    if (s === 0) start = -1;
    if (alarm < 0 && s >= h) {
      alarm = i;
      onset = start;
    }
  }
  if (alarm < 0) onset = s > 0 ? start : -1;
  return { stat: s, prevStat: prev, alarm, onset };
}

/** LinearFit is a line through time-stamped points, with a confidence interval on its slope. */
export interface LinearFit {
  /** slope per unit of `t`; intercept is the value at t = 0 (use `at`). */
  readonly slope: number;
  readonly intercept: number;
  /** slopeLow and slopeHigh bound the slope at the requested confidence. */
  readonly slopeLow: number;
  readonly slopeHigh: number;
  /** n is the number of points fitted. */
  readonly n: number;
}

/** fitAt evaluates a fit at time `t`. */
export function fitAt(fit: LinearFit, t: number): number {
  return fit.intercept + fit.slope * t;
}

/** Z_95 is the two-sided 95 % quantile of the standard normal law. */
export const Z_95 = 1.959964;

/**
 * theilSen fits a line to (t, y) robustly: the slope is the median of the slopes of all pairs (Theil 1950,
 * Sen 1968), the intercept the median of y − slope·t, so up to ~29 % of wild points do not move it. Its
 * confidence interval is Sen's distribution-free one: the pairwise slopes ranked (N ∓ C)/2 with
 * C = z·√(n(n−1)(2n+5)/18). O(n²): callers pass at most a few hundred points. Undefined with fewer than 3
 * finite points.
 */
export function theilSen(t: ArrayLike<number>, y: ArrayLike<number>, z = Z_95): LinearFit | undefined {
  const ts: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < Math.min(t.length, y.length); i++) {
    const a = t[i] as number;
    const b = y[i] as number;
    if (Number.isFinite(a) && Number.isFinite(b)) {
      ts.push(a);
      ys.push(b);
    }
  }
  const n = ts.length;
  if (n < 3) return undefined;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let m = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const dt = (ts[j] as number) - (ts[i] as number);
      if (dt !== 0) slopes[m++] = ((ys[j] as number) - (ys[i] as number)) / dt;
    }
  if (m === 0) return undefined;
  const sorted = slopes.subarray(0, m).sort();
  const slope = median(sorted);
  const resid = new Float64Array(n);
  for (let i = 0; i < n; i++) resid[i] = (ys[i] as number) - slope * (ts[i] as number);
  const intercept = median(resid);
  const c = z * Math.sqrt((n * (n - 1) * (2 * n + 5)) / 18);
  const lo = Math.max(0, Math.floor((m - c) / 2));
  const hi = Math.min(m - 1, Math.ceil((m + c) / 2));
  return { slope, intercept, slopeLow: sorted[lo] as number, slopeHigh: sorted[hi] as number, n };
}

/**
 * scoreOf maps evidence `u` (a statistic divided by its alarm threshold) to an anomaly score in [0, 1]:
 * 1 − 2^(−u²), so the threshold itself scores 0.5, half of it 0.16 and twice it 0.94.
 */
export function scoreOf(u: number): number {
  if (!(u > 0)) return 0;
  return 1 - Math.pow(2, -u * u);
}
