import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { pollUntil } from '../../test/poll.js';
import type { Matcher, Querier, Queryable, SelectHints } from '../tsdb/storage.js';
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
    // The subquery step bound would refuse these first; without it the sample budget must.
    const engine = new Engine({ maxSubquerySteps: Number.MAX_SAFE_INTEGER });
    await expect(engine.instantQuery(db, query, 7 * DAY)).rejects.toMatchObject({
      errorType: 'execution',
      message: 'query processing would load too many samples into memory in query execution',
    });
  });

  it('refuses a subquery over maxSubquerySteps before evaluating it, and runs one at the bound', async () => {
    // load[1h:1s] at one instant: 3,601 inner steps.
    await expect(
      new Engine({ maxSubquerySteps: 3_600 }).instantQuery(db, 'max_over_time(load[1h:1s])', 7 * DAY),
    ).rejects.toMatchObject({
      errorType: 'execution',
      message:
        'subquery would evaluate its expression at 3601 steps, more than the limit of 3600: use a larger subquery step or a shorter range',
    });
    const ok = await new Engine({ maxSubquerySteps: 3_601 }).instantQuery(
      db,
      'max_over_time(load[1h:1s])',
      7 * DAY,
    );
    expect(ok.result.result).toHaveLength(20);
    await expect(new Engine().instantQuery(db, 'vector(time())[1h30m:1ms]', 7 * DAY)).rejects.toMatchObject({
      errorType: 'execution',
    });
  });

  it('counts every count_values series against the sample budget', async () => {
    // Each step of vector(time()) is a distinct value: n steps make n series of n steps each.
    await expect(
      new Engine({ maxSamples: 1_000_000 }).rangeQuery(
        db,
        'count_values("v", vector(time()))',
        0,
        1_999_000,
        1_000,
      ),
    ).rejects.toMatchObject({ errorType: 'execution' });
    const ok = await new Engine({ maxSamples: 1_000_000 }).rangeQuery(
      db,
      'count_values("v", vector(time()))',
      0,
      499_000,
      1_000,
    );
    expect(ok.result.result).toHaveLength(500);
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

  it('refuses a query with 503 while the running ones hold the in-flight budget, and gives it back after', async () => {
    // The first query holds `load` stepped over a day (20 × 5,761) while its right-hand side waits for the
    // store; the second needs as much again, past 300,000 together, though each fits alone.
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let waiting = (): void => undefined;
    const reachedWait = new Promise<void>((resolve) => (waiting = resolve));
    const slowStore: Queryable = {
      async querier(mint, maxt) {
        const q = await db.querier(mint, maxt);
        return Object.assign(Object.create(q) as Querier, {
          select: async (matchers: readonly Matcher[], hints?: SelectHints) => {
            if (matchers.some((m) => m.name === '__name__' && m.value === 'wait')) {
              waiting();
              await held;
            }
            return q.select(matchers, hints);
          },
        });
      },
    };
    const engine = new Engine({ maxSamplesInFlight: 300_000 });
    const first = engine.rangeQuery(slowStore, 'load + on() group_left() wait', 6 * DAY, 7 * DAY, STEP);
    await reachedWait;
    // Both sides are selected at once: wait until the left one is stepped and its raw samples given back, so
    // the first query holds its step grid and the stepped `load` (1 + 20 series) × 5,761 steps.
    const steps = DAY / STEP + 1;
    await pollUntil(
      'the first query holding its stepped left side',
      () => engine.inFlight.samples === 21 * steps,
    );
    await expect(engine.rangeQuery(db, 'load', 6 * DAY, 7 * DAY, STEP)).rejects.toMatchObject({
      errorType: 'unavailable',
      message: 'the queries running now hold too many samples in memory; retry when they are done',
    });
    release();
    expect((await first).result.result).toHaveLength(0); // no `wait` series: nothing matches
    expect(engine.inFlight.samples).toBe(0);
    expect((await engine.rangeQuery(db, 'load', 6 * DAY, 7 * DAY, STEP)).result.result).toHaveLength(20);
  });

  it('refuses a result over maxResultPoints with 422 before copying it, and answers one at the limit', async () => {
    // `load @ end()` repeats one sample at every step: 20 series × 97 steps of a day at 15 min = 1,940 points.
    const engine = new Engine({ maxResultPoints: 1_939 });
    await expect(engine.rangeQuery(db, 'load @ end()', 6 * DAY, 7 * DAY, 900_000)).rejects.toMatchObject({
      errorType: 'execution',
      message:
        'query result would hold 1940 points, more than the limit of 1939: select fewer series or use a larger step',
    });
    expect(engine.inFlight.samples).toBe(0);
    const atLimit = new Engine({ maxResultPoints: 1_940 });
    const ok = await atLimit.rangeQuery(db, 'load @ end()', 6 * DAY, 7 * DAY, 900_000);
    expect(ok.result.resultType).toBe('matrix');
    if (ok.result.resultType !== 'matrix') return;
    expect(ok.result.result.map((s) => s.values.length)).toEqual(new Array(20).fill(97));
    // Instant vectors and raw range results count too: a sample per series, a point per raw sample.
    await expect(new Engine({ maxResultPoints: 19 }).instantQuery(db, 'load', 7 * DAY)).rejects.toMatchObject(
      {
        errorType: 'execution',
      },
    );
    await expect(
      new Engine({ maxResultPoints: 20 * 4 - 1 }).instantQuery(db, 'load[1m]', 7 * DAY),
    ).rejects.toMatchObject({ errorType: 'execution' });
    expect(
      (await new Engine({ maxResultPoints: 20 }).instantQuery(db, 'load', 7 * DAY)).result.result,
    ).toHaveLength(20);
  });
});
