import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { MemoryQueryable } from './promqltest/memory-queryable.js';

const STEP = 15_000;
const DAY = 86_400_000;

/** A week of 15 s samples for 20 series: enough that the queries below take minutes unchecked. */
function week(): MemoryQueryable {
  const db = new MemoryQueryable();
  for (let s = 0; s < 20; s++)
    for (let t = 0; t <= 7 * DAY; t += STEP)
      db.add({ __name__: 'load', server: `s${s}` }, t, Math.sin(t / 3_600_000 + s) * 10 + 50);
  return db;
}

describe('engine limits: no query holds the event loop or runs past its deadline', () => {
  const db = week();

  it.each([
    ['a subquery with billions of steps', 'max_over_time(load[10000y:1s])'],
    ['a nested subquery that multiplies steps', 'max_over_time(max_over_time(load[1y:1s])[1d:1m])'],
  ])('%s fails at once with the sample budget, without allocating', async (_name, query) => {
    await expect(new Engine().instantQuery(db, query, 7 * DAY)).rejects.toMatchObject({
      errorType: 'execution',
      message: 'query processing would load too many samples into memory in query execution',
    });
  });

  it('stops a long evaluation at its deadline, inside the loop, and lets other work run meanwhile', async () => {
    // quantile_over_time over [1d] windows at 11,000 steps: ~10^10 operations without a deadline.
    const engine = new Engine({ timeoutMs: 300 });
    let other = false;
    setImmediate(() => {
      other = true;
    });
    const outcome = engine.rangeQuery(db, 'quantile_over_time(0.5, load[1d])', DAY, 7 * DAY, 47_000);
    await expect(outcome).rejects.toMatchObject({ errorType: 'timeout' });
    expect(other).toBe(true);
  });

  it('queues queries beyond maxConcurrent; the wait counts against each deadline', async () => {
    const engine = new Engine({ maxConcurrent: 1 });
    const long = engine.rangeQuery(db, 'quantile_over_time(0.5, load[1d])', DAY, 7 * DAY, 47_000, {
      deadline: performance.now() + 400,
    });
    const quick = engine.instantQuery(db, 'count(load)', 7 * DAY, { deadline: performance.now() + 60_000 });
    const starved = engine
      .instantQuery(db, 'count(load)', 7 * DAY, { deadline: performance.now() + 1 })
      .catch((err: unknown) => err);
    expect(engine.gate.stats()).toEqual({ running: 1, queued: 2 });
    await expect(long).rejects.toMatchObject({ errorType: 'timeout' });
    expect(await starved).toMatchObject({ errorType: 'timeout' });
    const ok = await quick;
    expect(ok.result).toMatchObject({ resultType: 'vector', result: [{ v: 20 }] });
  });
});
