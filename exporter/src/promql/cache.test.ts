import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SelectHints } from '../tsdb/storage.js';
import { QueryCache } from './cache.js';
import { Engine, type QueryOptions, type QueryOutcome } from './engine.js';
import type { Expr } from './ast.js';
import type { Queryable } from '../tsdb/storage.js';
import { parseExpr } from './parser.js';
import { MemoryQueryable } from './promqltest/memory-queryable.js';

const db = new MemoryQueryable();
for (let t = 0; t <= 6 * 3_600_000; t += 15_000) {
  db.add({ __name__: 'req_total', job: 'a' }, t, t / 1000);
  db.add({ __name__: 'req_total', job: 'b' }, t, t / 500);
}
const engine = new Engine();
const STEP = 15_000;

/** LateEngine answers as the engine, then lets `lateMs` pass (its evaluation took the query's whole time). */
class LateEngine extends Engine {
  constructor(private readonly lateMs: number) {
    super();
  }

  override async rangeQuery(
    q: Queryable,
    expr: Expr,
    start: number,
    end: number,
    step: number,
    opts?: QueryOptions,
  ): Promise<QueryOutcome> {
    const out = await super.rangeQuery(q, expr, start, end, step, opts);
    vi.advanceTimersByTime(this.lateMs);
    return out;
  }
}

describe('QueryCache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails with timeout when the deadline passes while it cuts and merges the windows', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const cache = new QueryCache({ now: () => 6 * 3_600_000 });
    const expr = parseExpr('req_total');
    const run = (lateMs: number) =>
      cache.rangeQuery(new LateEngine(lateMs), db, expr, 0, 6 * 3_600_000, STEP, {
        deadline: performance.now() + 5_000,
      });
    await expect(run(6_000)).rejects.toMatchObject({ errorType: 'timeout' });
    // Within the deadline the same query answers (from the windows the first run had no time to store).
    const out = await run(1_000);
    expect(out.result).toEqual((await engine.rangeQuery(db, expr, 0, 6 * 3_600_000, STEP)).result);
  });

  it('answers exactly like the engine and reuses windows when a dashboard refresh shifts by a step', async () => {
    let now = 6 * 3_600_000;
    const registry = new Registry();
    const cache = new QueryCache({ now: () => now }, registry);
    const expr = parseExpr('sum by (job) (rate(req_total[1m]))');
    const start = 5 * 3_600_000;
    for (let shift = 0; shift < 4; shift++) {
      const s = start + shift * STEP;
      const e = 6 * 3_600_000 + shift * STEP;
      now = e;
      const cached = await cache.rangeQuery(engine, db, expr, s, e, STEP);
      const direct = await engine.rangeQuery(db, expr, s, e, STEP);
      expect(cached.result).toEqual(direct.result);
    }
    const st = cache.stats();
    // 1 h at 15 s = 241 steps = 5 windows of 60; each refresh recomputes only the unsettled newest windows.
    expect(st.hits).toBeGreaterThanOrEqual(9);
    expect(st.hitRatio).toBeGreaterThan(0.4);
    const text = await registry.metrics();
    expect(text).toMatch(new RegExp(`^openmanager_exporter_query_cache_hit_ratio ${st.hitRatio}$`, 'm'));
  });

  it('never stores the newest, unsettled window and expires entries after the TTL', async () => {
    let now = 6 * 3_600_000;
    const cache = new QueryCache({ now: () => now, ttlMs: 60_000, settleMs: 120_000 });
    const expr = parseExpr('req_total');
    const s = 6 * 3_600_000 - 30 * STEP;
    await cache.rangeQuery(engine, db, expr, s, now, STEP);
    expect(cache.stats().entries).toBe(0);
    await cache.rangeQuery(engine, db, expr, 0, 59 * STEP, STEP);
    expect(cache.stats().entries).toBe(1);
    now += 61_000;
    const before = cache.stats().hits;
    await cache.rangeQuery(engine, db, expr, 0, 59 * STEP, STEP);
    expect(cache.stats().hits).toBe(before);
  });

  it('bounds its memory by evicting the least recently used windows', async () => {
    const cache = new QueryCache({ maxBytes: 4_000, now: () => 1e12 });
    const expr = parseExpr('req_total');
    for (let w = 0; w < 10; w++)
      await cache.rangeQuery(engine, db, expr, w * 60 * STEP, (w * 60 + 59) * STEP, STEP);
    expect(cache.stats().bytes).toBeLessThanOrEqual(4_000);
    expect(cache.stats().entries).toBeLessThan(10);
  });

  it('bypasses the cache for @ start()/end(), whose results depend on the query range', async () => {
    const cache = new QueryCache({ now: () => 1e12 });
    const expr = parseExpr('req_total @ end()');
    const seen: SelectHints[] = [];
    db.selects = seen;
    await cache.rangeQuery(engine, db, expr, 0, 600_000, STEP);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, entries: 0 });
    expect(seen.length).toBe(1);
  });

  it('refuses a result over the bound when cached windows and new ones add up past it', async () => {
    const now = 6 * 3_600_000;
    const cache = new QueryCache({ now: () => now });
    const expr = parseExpr('req_total');
    // The first hour's 2 × 241 points fit a bound of 600 and are stored; 2 h then need 2 × 481 points, of which
    // no single evaluation (the second hour only) holds more than the bound.
    const bounded = new Engine({ maxResultPoints: 600 });
    await cache.rangeQuery(bounded, db, expr, 3_600_000, 2 * 3_600_000, STEP);
    await expect(cache.rangeQuery(bounded, db, expr, 3_600_000, 3 * 3_600_000, STEP)).rejects.toMatchObject({
      errorType: 'execution',
      message:
        'query result would hold 962 points, more than the limit of 600: select fewer series or use a larger step',
    });
    expect(cache.stats().hits).toBeGreaterThan(0);
  });

  it('answers as the engine for any range and step, computing windows or serving them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5 * 3_600_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.constantFrom(1_000, 7_000, 15_000, 60_000),
        async (start, span, step) => {
          const cache = new QueryCache({ now: () => 7 * 3_600_000 });
          const expr = parseExpr('req_total');
          const direct = await engine.rangeQuery(db, expr, start, start + span, step);
          // First computed and stored, then served from the stored windows.
          expect((await cache.rangeQuery(engine, db, expr, start, start + span, step)).result).toEqual(
            direct.result,
          );
          expect((await cache.rangeQuery(engine, db, expr, start, start + span, step)).result).toEqual(
            direct.result,
          );
        },
      ),
      { numRuns: 40 },
    );
  });
});
