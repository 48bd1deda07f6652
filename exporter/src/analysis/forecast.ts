/**
 * Forecasts from one series' recent samples: when a growing resource reaches its limit (disk full, memory
 * exhausted), as an estimate with a 95 % interval from the Theil–Sen slope's interval, and a band for the
 * next hour of a seasonal signal (CPU) from its daily profile, level and noise scale. Pure functions.
 */
import { MIN_PROFILE_COVERAGE, profileAt, type SeasonalProfile, type SeriesScore } from './detector.js';
import { theilSen, Z_95 } from './robust-stats.js';

/** ETA_WINDOW_MS is the stretch of recent samples the trend is fitted on (30 min: a leak's or fill's pace). */
export const ETA_WINDOW_MS = 30 * 60_000;

/** ETA_MAX_POINTS bounds the points Theil–Sen sees (O(n²)); the window is thinned evenly to at most this. */
const ETA_MAX_POINTS = 20;

/** ETA_MAX_S: an ETA beyond 30 days says "not filling" and is not reported. */
export const ETA_MAX_S = 30 * 86_400;

/** Eta is when a resource reaches its limit: seconds from now, with a 95 % interval. */
export interface Eta {
  readonly seconds: number;
  readonly lower: number;
  /** upper is Infinity when the slope's interval reaches zero (growth not certain). */
  readonly upper: number;
  /** value is the newest sample; slopePerHour the fitted growth. */
  readonly value: number;
  readonly slopePerHour: number;
}

/**
 * etaToLimit fits the last ETA_WINDOW_MS of (t, x) and extrapolates to `limit`. Undefined when the series
 * does not grow (the fitted slope ≤ 0), when the estimate is beyond ETA_MAX_S, or with too few points.
 *
 * With a usable daily `profile` the fit is on the series less its daily shape: a morning's rise is the day
 * repeating, not a trend, and extrapolated as one it forecasts exhaustion for a healthy server.
 */
export function etaToLimit(
  t: ArrayLike<number>,
  x: ArrayLike<number>,
  now: number,
  limit: number,
  profile?: SeasonalProfile,
): Eta | undefined {
  const daily =
    profile !== undefined && profile.coverage >= MIN_PROFILE_COVERAGE
      ? (at: number): number => {
          const p = profileAt(profile, at);
          return Number.isFinite(p) ? p : 0;
        }
      : (): number => 0;
  let i0 = t.length;
  while (i0 > 0 && (t[i0 - 1] as number) > now - ETA_WINDOW_MS) i0--;
  const n = t.length - i0;
  if (n < 4) return undefined;
  const stride = Math.max(1, Math.ceil(n / ETA_MAX_POINTS));
  const ts: number[] = [];
  const xs: number[] = [];
  for (let i = t.length - 1; i >= i0; i -= stride) {
    ts.push(((t[i] as number) - now) / 1000);
    xs.push((x[i] as number) - daily(t[i] as number));
  }
  const fit = theilSen(ts, xs, Z_95);
  if (!fit || !(fit.slope > 0)) return undefined;
  let last = t.length - 1;
  while (last >= i0 && !Number.isFinite(x[last])) last--;
  const value = x[last] as number;
  const left = Math.max(0, limit - value);
  const seconds = left / fit.slope;
  if (!(seconds <= ETA_MAX_S)) return undefined;
  return {
    seconds,
    lower: fit.slopeHigh > 0 ? left / fit.slopeHigh : seconds,
    upper: fit.slopeLow > 0 ? left / fit.slopeLow : Infinity,
    value,
    slopePerHour: fit.slope * 3600,
  };
}

/** BandPoint is one point of a forecast band (in the signal's own units). */
export interface BandPoint {
  readonly t: number;
  readonly mean: number;
  readonly lower: number;
  readonly upper: number;
}

/**
 * forecastBand forecasts the next `horizonMs` every `stepMs` from the detector's view of the series: the
 * daily profile plus the current level (the level alone without a profile), ± 1.96 noise scales widened by
 * √(1 + hours ahead) for the level's drift; `invert` maps back from the detector's units, `clamp` bounds the
 * result (0–100 for a percentage).
 */
export function forecastBand(
  score: SeriesScore,
  now: number,
  profile: SeasonalProfile | undefined,
  horizonMs: number,
  stepMs: number,
  invert: (v: number) => number = (v) => v,
  clamp: readonly [number, number] = [-Infinity, Infinity],
): BandPoint[] {
  if (!Number.isFinite(score.level) || !Number.isFinite(score.scale)) return [];
  const useProfile = profile !== undefined && profile.coverage >= MIN_PROFILE_COVERAGE;
  const out: BandPoint[] = [];
  const bound = (v: number): number => Math.min(clamp[1], Math.max(clamp[0], invert(v)));
  for (let h = stepMs; h <= horizonMs; h += stepMs) {
    const at = now + h;
    const mean = useProfile ? profileAt(profile, at) + score.level : score.expected;
    const half = Z_95 * score.scale * Math.sqrt(1 + h / 3_600_000);
    out.push({ t: at, mean: bound(mean), lower: bound(mean - half), upper: bound(mean + half) });
  }
  return out;
}
