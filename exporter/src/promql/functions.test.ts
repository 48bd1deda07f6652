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
