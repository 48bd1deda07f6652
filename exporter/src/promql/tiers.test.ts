import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { MemoryQueryable } from './promqltest/memory-queryable.js';
import { chooseTier, DEFAULT_TIER_OPTIONS } from './tiers.js';

// Three days of 15 s scrapes at an off-grid phase (+7 s), with a counter reset and a gap.
const SCRAPE_MS = 15_000;
const DAYS = 3;
const db = new MemoryQueryable();
let counter = 0;
for (let t = 7_000; t < DAYS * 86_400_000; t += SCRAPE_MS) {
  const hour = t / 3_600_000;
  if (hour > 30 && hour < 30.5) continue; // a scrape gap
  counter = hour > 40 && hour < 40.01 ? 3 : counter + 5 + Math.floor(3 * Math.sin(t / 1e6) + 3);
  db.add({ __name__: 'cpu_seconds_total', host: 'a' }, t, counter);
  db.add({ __name__: 'mem_used', host: 'a' }, t, 100 + 50 * Math.sin(t / 3e6) + ((t / SCRAPE_MS) % 7));
  db.add({ __name__: 'mem_used', host: 'b' }, t, 300 + 20 * Math.cos(t / 5e6));
}

const START = 86_400_000; // day 1, on every tier grid
const END = START + 2 * 86_400_000 - 3_600_000;
const STEP = 3_600_000;

function rel(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

describe('rollup tiers', () => {
  it.each([
    ['min_over_time(mem_used[1h])', 0],
    ['max_over_time(mem_used[1h])', 0],
    ['sum_over_time(mem_used[1h])', 1e-9],
    ['count_over_time(mem_used[1h])', 0],
    ['avg_over_time(mem_used[1h])', 1e-9],
    ['last_over_time(mem_used[1h])', 0],
    ['present_over_time(mem_used[1h])', 0],
    // Counter functions: documented bound 2 × scrape interval / range (tiers.ts).
    ['rate(cpu_seconds_total[1h])', (2 * SCRAPE_MS) / 3_600_000],
    ['increase(cpu_seconds_total[1h])', (2 * SCRAPE_MS) / 3_600_000],
    ['sum by (host) (rate(cpu_seconds_total[2h]))', (2 * SCRAPE_MS) / 7_200_000],
  ])('%s agrees with raw samples within %f', async (query, bound) => {
    const tiered = await new Engine().rangeQuery(db, query, START, END, STEP);
    const raw = await new Engine({ tiers: { ...DEFAULT_TIER_OPTIONS, enabled: false } }).rangeQuery(
      db,
      query,
      START,
      END,
      STEP,
    );
    expect(tiered.stats.tiersUsed.length).toBeGreaterThan(0);
    expect(raw.stats.tiersUsed).toEqual([]);
    expect(tiered.stats.samplesLoaded).toBeLessThan(raw.stats.samplesLoaded / 5);
    const t = tiered.result;
    const r = raw.result;
    if (t.resultType !== 'matrix' || r.resultType !== 'matrix') throw new Error('expected matrices');
    expect(t.result.map((s) => s.labels)).toEqual(r.result.map((s) => s.labels));
    let worst = 0;
    t.result.forEach((s, i) => {
      const rs = r.result[i]!;
      expect(s.timestamps).toEqual(rs.timestamps);
      s.values.forEach((v, k) => {
        const e = rel(v, rs.values[k]!);
        // The reset and the gap hours are where raw extrapolation and bucket increases legitimately differ most.
        const ts = s.timestamps[k]!;
        const nearAnomaly = Math.abs(ts / 3_600_000 - 30.5) <= 2 || Math.abs(ts / 3_600_000 - 40) <= 2;
        if (!nearAnomaly) worst = Math.max(worst, e);
      });
    });
    expect(worst).toBeLessThanOrEqual(bound);
  });

  it.each([
    ['not long enough', 'rate', 3_600_000, 60_000, START, 2 * 3_600_000],
    ['range off the grid', 'rate', 90_000, 300_000, START, 2 * 86_400_000],
    ['step off the grid', 'max_over_time', 3_600_000, 90_000, START, 2 * 86_400_000],
    ['window ends off the grid', 'max_over_time', 3_600_000, 3_600_000, START + 1000, 2 * 86_400_000],
    [
      'function without a bucket aggregate',
      'quantile_over_time',
      3_600_000,
      3_600_000,
      START,
      2 * 86_400_000,
    ],
  ])('reads raw samples when %s', (_why, func, range, step, first, span) => {
    const ends = Float64Array.from([first, first + step]);
    expect(chooseTier(func, range, step, ends, span, DEFAULT_TIER_OPTIONS)).toBeUndefined();
  });

  it.each([
    [2 * 86_400_000, '5m'],
    [20 * 86_400_000, '1h'],
    [8 * 3_600_000, '1m'],
  ])('picks the coarsest qualifying tier for a span of %d ms', (span, tier) => {
    const ends = Float64Array.from([START, START + 3_600_000]);
    expect(chooseTier('rate', 3_600_000, 3_600_000, ends, span, DEFAULT_TIER_OPTIONS)?.tier).toBe(tier);
  });

  it('falls back to raw samples when the store has no rollups', async () => {
    const noRollups = new MemoryQueryable();
    for (let t = 0; t < 2 * 86_400_000; t += 60_000) noRollups.add({ __name__: 'g' }, t, t / 60_000);
    const rollupless = {
      querier: async (mint: number, maxt: number) => {
        const q = await noRollups.querier(mint, maxt);
        return {
          ...q,
          select: (m: Parameters<typeof q.select>[0], h?: Parameters<typeof q.select>[1]) =>
            h?.tier && h.tier !== 'raw' ? Promise.resolve([]) : q.select(m, h),
          series: q.series.bind(q),
          labelNames: q.labelNames.bind(q),
          labelValues: q.labelValues.bind(q),
        };
      },
    };
    const out = await new Engine().rangeQuery(
      rollupless,
      'max_over_time(g[1h])',
      86_400_000,
      86_400_000 + 3 * 3_600_000,
      3_600_000,
    );
    expect(out.stats.tiersUsed).toEqual([]);
    expect(out.result).toEqual({
      resultType: 'matrix',
      result: [
        {
          labels: {},
          timestamps: [86_400_000, 90_000_000, 93_600_000, 97_200_000],
          values: [1440, 1500, 1560, 1620],
        },
      ],
    });
  });
});
