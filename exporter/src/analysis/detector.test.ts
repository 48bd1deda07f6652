/**
 * The detectors on synthetic series with known anomalies: a clean diurnal day raises nothing; steps, leaks,
 * spikes and fills are found and dated; the robust statistics behave as their definitions say.
 */
import { describe, expect, it } from 'vitest';
import {
  buildProfile,
  MS_PER_DAY,
  profileAt,
  referenceOf,
  scoreSeries,
  type DetectorSpec,
} from './detector.js';
import { cusum, mad, median, quantile, robustScale, scoreOf, theilSen } from './robust-stats.js';
import { mulberry32 } from '../util/prng.js';
import { signalDef } from './signals.js';

const TICK = 15_000;
/** T0 is a midnight (UTC), so the synthetic diurnal curve peaks mid-afternoon as the simulator's does. */
const T0 = Date.UTC(2026, 0, 5);

/** SEASONAL is the CPU signal's tuning (the other seasonal signals differ only in their floor). */
const SEASONAL: DetectorSpec = signalDef('cpu').detector;

/** noise returns a seeded Gaussian AR(1) sequence with stationary standard deviation `sd` and coefficient `phi`. */
function noise(n: number, sd: number, phi: number, seed: number): Float64Array {
  const rnd = mulberry32(seed);
  const out = new Float64Array(n);
  let s = 0;
  const innov = sd * Math.sqrt(1 - phi * phi);
  for (let i = 0; i < n; i++) {
    // Box–Muller: a standard normal draw.
    const g = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    s = phi * s + innov * g;
    out[i] = s;
  }
  return out;
}

/** diurnal is a smooth daily curve from 20 at night to 60 in the afternoon (percent). */
function diurnal(t: number): number {
  const h = ((t % MS_PER_DAY) / 3_600_000 + 24) % 24;
  return 40 - 20 * Math.cos((2 * Math.PI * (h - 4)) / 24);
}

/** series builds `days` days of a diurnal signal with noise, plus `extra(t)` (the injected anomaly). */
function series(days: number, seed: number, extra: (t: number) => number = () => 0) {
  const n = Math.round((days * MS_PER_DAY) / TICK);
  const e = noise(n, 2, 0.9, seed);
  const t = Float64Array.from({ length: n }, (_, i) => T0 + i * TICK);
  const x = Float64Array.from(t, (ti, i) => diurnal(ti) + (e[i] as number) + extra(ti));
  return { t, x };
}

/**
 * sweep scores the series at every tick of its last day with the profile of the days before (as the analysis
 * runs) and returns the first time the score reached 0.5 and the highest score seen.
 */
function sweep(t: Float64Array, x: Float64Array, spec: DetectorSpec, from: number) {
  const i0 = t.findIndex((v) => v >= from);
  const profile = buildProfile(t.subarray(0, i0), x.subarray(0, i0), undefined, undefined, spec);
  let first: number | undefined;
  let onset: number | undefined;
  let max = 0;
  for (let i = i0; i < t.length; i += 2) {
    const lo = Math.max(0, i - 800);
    const s = scoreSeries(t.subarray(lo, i + 1), x.subarray(lo, i + 1), t[i]!, spec, profile);
    max = Math.max(max, s.score);
    if (first === undefined && s.score >= 0.5) {
      first = t[i];
      onset = s.onset;
    }
  }
  return { first, onset, max };
}

describe('robust statistics', () => {
  it.each([
    { name: 'odd', x: [3, 1, 2], median: 2, mad: 1 },
    { name: 'even', x: [4, 1, 3, 2], median: 2.5, mad: 1 },
    { name: 'an outlier does not move them', x: [1, 2, 3, 4, 1000], median: 3, mad: 1 },
    { name: 'NaN is skipped', x: [NaN, 5, 7], median: 6, mad: 1 },
  ])('median and MAD: $name', ({ x, median: m, mad: d }) => {
    expect(median(Float64Array.from(x))).toBe(m);
    expect(mad(Float64Array.from(x))).toBe(d);
  });

  it('quantile interpolates; robustScale keeps its floor', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([0, 10], 0.5)).toBe(5);
    expect(robustScale([5, 5, 5, 5], 0.3)).toBe(0.3);
    expect(robustScale(noise(5000, 1, 0, 1), 0.01)).toBeCloseTo(1, 1);
  });

  it('CUSUM alarms after a mean shift and dates it; it stays quiet on noise', () => {
    const z = noise(400, 1, 0, 7);
    for (let i = 300; i < 400; i++) z[i] = (z[i] as number) + 2;
    const r = cusum(z, 0.5, 5);
    expect(r.alarm).toBeGreaterThanOrEqual(300);
    expect(r.alarm).toBeLessThan(315);
    expect(Math.abs(r.onset - 300)).toBeLessThan(6);
    expect(cusum(noise(400, 1, 0, 8), 0.5, 8).alarm).toBe(-1);
  });

  it('Theil–Sen ignores wild points and its interval holds the true slope', () => {
    const t = Float64Array.from({ length: 60 }, (_, i) => i);
    const e = noise(60, 0.5, 0, 3);
    const y = Float64Array.from(t, (ti, i) => 2 * ti + 10 + (e[i] as number));
    y[10] = 500;
    y[40] = -500;
    const fit = theilSen(t, y)!;
    expect(fit.slope).toBeCloseTo(2, 1);
    expect(fit.slopeLow).toBeLessThanOrEqual(2);
    expect(fit.slopeHigh).toBeGreaterThanOrEqual(2);
    expect(fit.intercept).toBeCloseTo(10, 0);
    expect(theilSen([1, 2], [1, 2])).toBeUndefined();
  });

  it('scoreOf is 0.5 at the threshold and rises to 1', () => {
    expect(scoreOf(0)).toBe(0);
    expect(scoreOf(1)).toBe(0.5);
    expect(scoreOf(2)).toBeCloseTo(0.9375);
    expect(scoreOf(10)).toBeCloseTo(1);
  });
});

describe('seasonal profile', () => {
  it('learns the daily curve from past days', () => {
    const { t, x } = series(3, 11);
    const p = buildProfile(t, x);
    expect(p.days).toBe(3);
    for (const h of [0, 4, 10, 16, 22])
      expect(profileAt(p, T0 + h * 3_600_000)).toBeCloseTo(diurnal(h * 3_600_000), -0.3);
  });
});

/**
 * One day of history is all a fresh store has (the analysis starts once a profile covers the day): that day
 * is the whole profile, past incidents included. Day 1 below carries an incident, day 2 is clean and is swept
 * with day 1's profile as the analysis does.
 */
describe('a profile learnt from a day with incidents', () => {
  const day2 = T0 + MS_PER_DAY;
  const at = (h: number): number => T0 + h * 3_600_000;
  const during = (ti: number, from: number, to: number): boolean => ti >= at(from) && ti < at(to);

  it.each([
    { name: 'a 40-minute CPU spike', extra: (ti: number) => (during(ti, 10, 10.67) ? 30 : 0) },
    {
      name: 'a memory-leak-shaped ramp',
      extra: (ti: number) => (during(ti, 9, 10) ? (30 * (ti - at(9))) / 3_600_000 : 0),
    },
    {
      name: 'back-to-back incidents for 80 minutes',
      extra: (ti: number) => (during(ti, 13, 14.33) ? 25 : 0),
    },
    { name: 'a dip (the server lost its traffic)', extra: (ti: number) => (during(ti, 15, 15.5) ? -25 : 0) },
  ])('$name the day before raises nothing on a clean day', ({ extra }) => {
    for (const seed of [31, 32, 33]) {
      const { t, x } = series(2, seed, (ti) => (ti < day2 ? extra(ti) : 0));
      expect(sweep(t, x, SEASONAL, day2).max).toBeLessThan(0.5);
    }
  });

  it("learns today's level and noise scale where yesterday had an incident", () => {
    // Yesterday CPU ran 30 points high from 09:00 to 10:00; at 10:20 the reference's newest hour is that hour.
    const { t, x } = series(2, 35, (ti) => (during(ti, 9, 10) ? 30 : 0));
    const now = day2 + 10 * 3_600_000 + 20 * 60_000;
    const i0 = t.findIndex((v) => v >= day2);
    const i = t.findIndex((v) => v === now);
    const profile = buildProfile(t.subarray(0, i0), x.subarray(0, i0), undefined, undefined, SEASONAL);
    const ref = referenceOf(t.subarray(i - 800, i + 1), x.subarray(i - 800, i + 1), now, SEASONAL, profile);
    // The noise is AR(1) with a standard deviation of 2: the level is within it, the scale about it.
    expect(Math.abs(ref.level)).toBeLessThan(2);
    expect(ref.scale).toBeLessThan(4);
  });

  it("an error ratio expects today's level, whatever outages filled yesterday morning", () => {
    // Yesterday from 08:00 upstream failures (a cascading failure reaches every web server) failed 5 to 25 %
    // of the requests in 20 of every 35 minutes, so the profile's ±2 h median there is an outage, not the
    // normal 0.2 %; then a 40-minute outage failed 40 % until 11:40, and the rest of the day was clean.
    const spec = signalDef('errors').detector;
    const n = Math.round((2 * MS_PER_DAY) / TICK);
    const e = noise(n, 0.03, 0.5, 42);
    const t = Float64Array.from({ length: n }, (_, i) => T0 + i * TICK);
    const outage = (ti: number): number => {
      if (during(ti, 11, 11 + 2 / 3)) return 40;
      if (!during(ti, 8, 11)) return 0;
      const since = ti - at(8);
      return since % 2_100_000 < 1_200_000 ? 5 + (Math.floor(since / 2_100_000) % 5) * 5 : 0;
    };
    const x = Float64Array.from(t, (ti, i) => Math.max(0, 0.2 + e[i]! + outage(ti)));
    expect(sweep(t, x, spec, day2).max).toBeLessThan(0.5);
    // It expects today's 0.2 % at every time of day (a profile expected 40 % at 11:00, which would mask an
    // outage today): yesterday's outages are not a daily pattern.
    const i0 = t.findIndex((v) => v >= day2);
    const profile = buildProfile(t.subarray(0, i0), x.subarray(0, i0), undefined, undefined, spec);
    let worst = 0;
    for (let i = i0 + 800; i < n; i += 40) {
      const s = scoreSeries(t.subarray(i - 800, i + 1), x.subarray(i - 800, i + 1), t[i]!, spec, profile);
      worst = Math.max(worst, Math.abs(s.expected - 0.2));
    }
    expect(worst).toBeLessThan(0.1);
  });

  it("an error ratio poisoned by yesterday's outage raises nothing on a clean day", () => {
    const spec = signalDef('errors').detector;
    const n = Math.round((2 * MS_PER_DAY) / TICK);
    const e = noise(n, 0.03, 0.5, 41);
    const t = Float64Array.from({ length: n }, (_, i) => T0 + i * TICK);
    // 0.2 % of requests fail normally; yesterday an upstream outage failed 20 % of them for 30 minutes.
    const x = Float64Array.from(t, (ti, i) => Math.max(0, 0.2 + e[i]! + (during(ti, 1, 1.5) ? 20 : 0)));
    expect(sweep(t, x, spec, day2).max).toBeLessThan(0.5);
  });

  it('a bump that recurs every day stays in the profile: no finding then, one for a real spike', () => {
    // A nightly job (the database backup) lifts CPU by 15 points from 02:00 to 03:00 every day.
    const job = (ti: number): number => {
      const h = ((ti - T0) % MS_PER_DAY) / 3_600_000;
      return h >= 2 && h < 3 ? 15 * Math.sin(Math.PI * (h - 2)) : 0;
    };
    const { t, x } = series(2, 34, job);
    expect(sweep(t, x, SEASONAL, day2).max).toBeLessThan(0.5);
    const spike = at(24 + 5);
    const s = series(2, 34, (ti) => job(ti) + (ti >= spike && ti < spike + 600_000 ? 25 : 0));
    const r = sweep(s.t, s.x, SEASONAL, day2);
    expect(r.first).toBeDefined();
    expect(r.first! - spike).toBeLessThanOrEqual(2 * TICK);
  });
});

describe('scoreSeries on synthetic anomalies', () => {
  const day3 = T0 + 2 * MS_PER_DAY;

  it.each([11, 12, 13, 14])('a clean diurnal day raises no anomaly (seed %i)', (seed) => {
    const { t, x } = series(3, seed);
    expect(sweep(t, x, SEASONAL, day3).max).toBeLessThan(0.5);
  });

  it('finds a step within two ticks and dates it', () => {
    const at = day3 + 14 * 3_600_000;
    const { t, x } = series(3, 21, (ti) => (ti >= at ? 25 : 0));
    const r = sweep(t, x, SEASONAL, day3);
    expect(r.first).toBeDefined();
    expect(r.first! - at).toBeLessThanOrEqual(2 * TICK);
    expect(Math.abs(r.onset! - at)).toBeLessThanOrEqual(2 * TICK);
  });

  it("finds the simulator's slowest leak (24 points an hour, memory-like noise) within 20 minutes", () => {
    const at = day3 + 9 * 3_600_000;
    const n = Math.round((3 * MS_PER_DAY) / TICK);
    const slow = noise(n, 1.2, 0.995, 22);
    const fast = noise(n, 0.3, 0.8, 23);
    const t = Float64Array.from({ length: n }, (_, i) => T0 + i * TICK);
    const x = Float64Array.from(
      t,
      (ti, i) => 50 + diurnal(ti) / 10 + slow[i]! + fast[i]! + (ti >= at ? ((ti - at) / 3_600_000) * 24 : 0),
    );
    const r = sweep(t, x, signalDef('memory').detector, day3);
    expect(r.first).toBeDefined();
    expect(r.first! - at).toBeLessThanOrEqual(20 * 60_000);
    expect(r.onset!).toBeLessThan(r.first!);
  });

  it('ignores a single-sample spike but finds a short burst', () => {
    const at = day3 + 12 * 3_600_000;
    const one = series(3, 23, (ti) => (ti === at ? 40 : 0));
    expect(sweep(one.t, one.x, SEASONAL, day3).max).toBeLessThan(0.5);
    const burst = series(3, 23, (ti) => (ti >= at && ti < at + 4 * TICK ? 40 : 0));
    expect(sweep(burst.t, burst.x, SEASONAL, day3).first).toBeLessThanOrEqual(at + 2 * TICK);
  });

  it('evidence of a resolved finding does not reopen it: the drift test starts after it', () => {
    // A 15-minute spike from 12:05, reported, and resolved at 12:25 (5 quiet minutes after it); at 12:27 the
    // CPU is normal and only its last two samples wander 2.5 noise scales up (noise does that every few hours).
    // The reference ends 20 minutes before now, so most of the spike is among the samples tested.
    const at = day3 + 12 * 3_600_000 + 300_000;
    const resolvedAt = at + 20 * 60_000;
    const now = at + 22 * 60_000;
    const { t, x } = series(3, 25, (ti) => (ti >= at && ti < at + 900_000 ? 40 : 0));
    const i = t.findIndex((v) => v === now);
    const lo = i - 800;
    const wt = t.subarray(lo, i + 1);
    const wx = x.subarray(lo, i + 1);
    const profile = buildProfile(t.subarray(0, lo), x.subarray(0, lo), undefined, undefined, SEASONAL);
    const ref = referenceOf(wt, wx, now, SEASONAL, profile, undefined, (ti) => ti >= at && ti <= resolvedAt);
    const calm = scoreSeries(wt, wx, now, SEASONAL, profile, undefined, ref);
    const lift = 2.5 * calm.scale - (calm.value - calm.expected);
    wx[wx.length - 1] = wx[wx.length - 1]! + lift;
    wx[wx.length - 2] = wx[wx.length - 2]! + lift;
    // Without the finding's end the CUSUM still carries the spike and the wander reopens it.
    expect(scoreSeries(wt, wx, now, SEASONAL, profile, undefined, ref).score).toBeGreaterThanOrEqual(0.5);
    expect(scoreSeries(wt, wx, now, SEASONAL, profile, undefined, ref, resolvedAt).score).toBeLessThan(0.5);
  });

  it('a change in the harmless direction is not an anomaly', () => {
    const at = day3 + 14 * 3_600_000;
    const { t, x } = series(3, 24, (ti) => (ti >= at ? -25 : 0));
    expect(sweep(t, x, SEASONAL, day3).max).toBeLessThan(0.5);
  });

  it('trend baseline: a steady grower and its clean-up are normal, a fill is not', () => {
    const spec = signalDef('disk').detector;
    const n = Math.round(MS_PER_DAY / TICK);
    const t = Float64Array.from({ length: n }, (_, i) => T0 + i * TICK);
    const grow = (ti: number) => 40 + (0.5 * (ti - T0)) / MS_PER_DAY;
    const cleanAt = T0 + 10 * 3_600_000;
    const clean = Float64Array.from(t, (ti) => Math.round((grow(ti) - (ti >= cleanAt ? 8 : 0)) * 100) / 100);
    const fillAt = T0 + 15 * 3_600_000;
    const fill = Float64Array.from(
      clean,
      (v, i) => v + (t[i]! >= fillAt ? ((t[i]! - fillAt) / 3_600_000) * 40 : 0),
    );
    let maxClean = 0;
    let first: number | undefined;
    for (let i = 800; i < n; i++) {
      const lo = i - 800;
      maxClean = Math.max(
        maxClean,
        scoreSeries(t.subarray(lo, i + 1), clean.subarray(lo, i + 1), t[i]!, spec).score,
      );
      const s = scoreSeries(t.subarray(lo, i + 1), fill.subarray(lo, i + 1), t[i]!, spec);
      if (first === undefined && s.score >= 0.5) first = t[i];
    }
    expect(maxClean).toBeLessThan(0.5);
    expect(first! - fillAt).toBeLessThanOrEqual(4 * TICK);
  });

  it('up baseline: any sample below 1 is down, dated from the outage start', () => {
    const spec = signalDef('service').detector;
    const t = Float64Array.from({ length: 10 }, (_, i) => T0 + i * TICK);
    const x = Float64Array.from([1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    const s = scoreSeries(t, x, t[9]!, spec);
    expect(s.score).toBe(1);
    expect(s.onset).toBe(t[6]);
    expect(scoreSeries(t.subarray(0, 6), x.subarray(0, 6), t[5]!, spec).score).toBe(0);
  });

  it('no recent sample, no score', () => {
    const { t, x } = series(1, 3);
    expect(scoreSeries(t, x, t[t.length - 1]! + 3_600_000, SEASONAL).score).toBe(0);
  });
});
