import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { MemoryQueryable } from './promqltest/memory-queryable.js';

const STEP = 15_000;

describe('functions: float arithmetic as Prometheus does it, to the last bit', () => {
  // The script tests (testdata/*.test) compare within 1e-6, as Prometheus's promqltest does; these rows pin
  // the exact float, so recording rules write the same values as a Prometheus evaluating the same rules.
  it.each([
    // A counter from 1069 (at 15 s) to 1485 (at 300 s), read at 307 s: extrapolated by 8 s at the start and
    // 7 s at the end. Prometheus multiplies by one factor, (extrapolated / sampled) / range; multiplying by
    // the first ratio and then dividing by the range rounds differently (1.4596491228070176).
    // `promtool test rules` with Debian's Prometheus 2.42 gives 1.4596491228070174.
    ['rate(c[5m])', 307_000, 1.4596491228070174],
  ])('%s at %i ms is exactly %d', async (query, at, want) => {
    const db = new MemoryQueryable();
    for (let k = 1; k <= 20; k++) db.add({ __name__: 'c' }, k * STEP, k === 20 ? 1485 : 1069 + (k - 1));
    const out = await new Engine().instantQuery(db, query, at);
    expect(out.result).toMatchObject({ resultType: 'vector', result: [{ v: want }] });
  });
});

describe('quantile_over_time over overlapping windows (the sliding form) equals one window at a time', () => {
  // A range query whose step is shorter than its range moves a sorted window (QuantileWindow) instead of
  // selecting ranks per step; instant queries take the per-window path. Values with NaNs, repeats, both
  // zeros, infinities and gaps; several quantiles, including out-of-range ones.
  it.each([0, 0.1, 0.5, 0.9, 1, -1, 2])('q = %d', async (q) => {
    const db = new MemoryQueryable();
    let seed = 12345;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pool = [NaN, 0, -0, 1, 1, 2.5, -3, Infinity, -Infinity];
    for (let k = 1; k <= 400; k++) {
      if (rand() < 0.1) continue; // a gap: windows of uneven size, some empty
      const v =
        rand() < 0.4 ? (pool[Math.floor(rand() * pool.length)] as number) : Math.round(rand() * 20) / 4;
      db.add({ __name__: 'x', i: 'a' }, k * STEP, v);
      if (k % 3 === 0) db.add({ __name__: 'x', i: 'b' }, k * STEP, -v);
    }
    const engine = new Engine();
    const query = `quantile_over_time(${q}, x[2m])`;
    const range = await engine.rangeQuery(db, query, 0, 420 * STEP, STEP);
    if (range.result.resultType !== 'matrix') throw new Error('expected a matrix');
    const matrix = range.result.result;
    let compared = 0;
    for (let k = 0; k <= 420; k++) {
      const inst = await engine.instantQuery(db, query, k * STEP);
      if (inst.result.resultType !== 'vector') throw new Error('expected a vector');
      for (const s of inst.result.result) {
        const series = matrix.find((m) => m.labels.i === s.labels.i);
        const at = series ? Array.from(series.timestamps).indexOf(k * STEP) : -1;
        expect(at, `${s.labels.i} at step ${k}`).toBeGreaterThanOrEqual(0);
        expect(
          Object.is(series?.values[at], s.v),
          `${s.labels.i} at step ${k}: ${series?.values[at]} vs ${s.v}`,
        ).toBe(true);
        compared++;
      }
      const steps = matrix.filter((m) => Array.from(m.timestamps).includes(k * STEP)).length;
      expect(steps).toBe(inst.result.result.length);
    }
    expect(compared).toBeGreaterThan(500);
  });
});
