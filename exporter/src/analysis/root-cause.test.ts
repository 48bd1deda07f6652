/** Root-cause hints and forecasts on hand-made incidents and series. */
import { describe, expect, it } from 'vitest';
import { buildProfile, scoreSeries } from './detector.js';
import { etaToLimit, forecastBand } from './forecast.js';
import { compressIds, rootCauses, type AnomalousServer } from './root-cause.js';
import { signalDef } from './signals.js';

const T = Date.UTC(2026, 2, 2, 14, 2);
const s = (
  server: string,
  role: AnomalousServer['role'],
  lagS: number,
  phrase = 'latency',
): AnomalousServer => ({
  server,
  role,
  onset: T + lagS * 1000,
  signal: phrase === 'memory leak' ? 'memory' : 'latency',
  phrase,
});

describe('rootCauses', () => {
  it('names the database of a cascade as the origin and the tiers after it, by onset', () => {
    const hints = rootCauses([
      s('web-02', 'web', 200, 'error ratio'),
      s('api-02', 'api', 45),
      s('db-01', 'db', 0, 'memory leak'),
      s('api-01', 'api', 40),
      s('web-01', 'web', 190, 'error ratio'),
      s('api-03', 'api', 35),
    ]);
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatchObject({ origin: 'db-01', signal: 'memory', onset: T });
    expect(hints[0]!.affected.map((a) => a.server)).toEqual([
      'api-03',
      'api-01',
      'api-02',
      'web-01',
      'web-02',
    ]);
    expect(hints[0]!.explanation).toBe(
      'db-01 memory leak since 14:02 UTC; api-01..03 latency rose 40 s later; web-01..02 error ratio rose 3 min later',
    );
  });

  it.each([
    { name: 'one server gives no hint', servers: [s('db-01', 'db', 0)], origins: [] },
    {
      name: 'servers without a dependency edge are separate',
      servers: [s('web-01', 'web', 0), s('cache-01', 'cache', 10)],
      origins: [],
    },
    {
      name: 'onsets more than 15 min apart are separate incidents',
      servers: [s('db-01', 'db', 0), s('api-01', 'api', 16 * 60)],
      origins: [],
    },
    {
      name: 'the deepest dependency is the origin even when it turned anomalous later',
      servers: [s('api-01', 'api', 0), s('cache-01', 'cache', 30)],
      origins: ['cache-01'],
    },
    {
      name: 'an unknown role joins nothing',
      servers: [s('x-1', undefined, 0), s('db-01', 'db', 5)],
      origins: [],
    },
  ])('$name', ({ servers, origins }) => {
    expect(rootCauses(servers).map((h) => h.origin)).toEqual(origins);
  });

  it('compresses runs of consecutive ids', () => {
    expect(compressIds(['api-03', 'api-01', 'api-02', 'web-05', 'db-01', 'db-03'])).toBe(
      'api-01..03, db-01, db-03, web-05',
    );
  });
});

describe('forecasts', () => {
  const t = Float64Array.from({ length: 240 }, (_, i) => T + i * 15_000);
  const now = t[239]!;

  it('a filling disk: the ETA to 100 % with an interval around it', () => {
    // 60 % growing 0.5 point a minute: the 40 points left take 80 min.
    const x = Float64Array.from(t, (ti, i) => 60 - 0.5 * ((now - ti) / 60_000) + (i % 3 === 0 ? 0.05 : 0));
    const eta = etaToLimit(t, x, now, 100)!;
    expect(eta.seconds / 60).toBeCloseTo(40 / 0.5, -1);
    expect(eta.lower).toBeLessThanOrEqual(eta.seconds);
    expect(eta.upper).toBeGreaterThanOrEqual(eta.seconds);
    expect(eta.slopePerHour).toBeCloseTo(30, 0);
  });

  it('no ETA for a flat or shrinking resource', () => {
    expect(
      etaToLimit(
        t,
        Float64Array.from(t, () => 50),
        now,
        100,
      ),
    ).toBeUndefined();
    expect(
      etaToLimit(
        t,
        Float64Array.from(t, (_, i) => 50 - i * 0.01),
        now,
        100,
      ),
    ).toBeUndefined();
  });

  it("with a daily profile, a morning's rise is no ETA and a leak on top of it is", () => {
    const days = Float64Array.from({ length: 2 * 5760 }, (_, i) => T - 2 * 86_400_000 + i * 15_000);
    // Memory swinging 30 points a day, now at its steepest rise (~2 points in the fitted 30 min).
    const curve = (ti: number): number => 55 + 15 * Math.sin((2 * Math.PI * (ti - now)) / 86_400_000);
    const profile = buildProfile(days, Float64Array.from(days, curve));
    const healthy = Float64Array.from(t, curve);
    // Read as a trend, the rise alone forecasts exhaustion within the day.
    expect(etaToLimit(t, healthy, now, 100)?.seconds).toBeLessThan(86_400);
    expect(etaToLimit(t, healthy, now, 100, profile)).toBeUndefined();
    // A leak of 0.2 point a minute on top of the same day: the ETA is the leak's.
    const leaking = Float64Array.from(t, (ti) => curve(ti) + 0.2 * ((ti - t[0]!) / 60_000));
    const eta = etaToLimit(t, leaking, now, 100, profile)!;
    expect(eta.slopePerHour).toBeCloseTo(12, 0);
    expect(eta.seconds).toBeCloseTo(((100 - leaking[239]!) / 12) * 3600, -2);
  });

  it('the CPU band follows the daily profile and holds the level', () => {
    const day = Float64Array.from({ length: 2 * 5760 }, (_, i) => T - 2 * 86_400_000 + i * 15_000);
    const curve = (ti: number): number => 40 + 20 * Math.sin((2 * Math.PI * ti) / 86_400_000);
    const profile = buildProfile(day, Float64Array.from(day, curve));
    const x = Float64Array.from(t, (ti) => curve(ti) + 3);
    const score = scoreSeries(t, x, now, signalDef('cpu').detector, profile);
    const band = forecastBand(score, now, profile, 3_600_000, 300_000, (v) => v, [0, 100]);
    expect(band).toHaveLength(12);
    for (const p of band) {
      expect(p.mean).toBeCloseTo(curve(p.t) + 3, 0);
      expect(p.lower).toBeLessThan(p.mean);
      expect(p.upper).toBeGreaterThan(p.mean);
    }
  });
});
