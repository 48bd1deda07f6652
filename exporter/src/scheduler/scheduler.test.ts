import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../util/clock.js';
import { silentLogger } from '../util/logger.js';
import { Scheduler, type JobContext } from './scheduler.js';
import { ManualTimer } from '../util/timer.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0); // a multiple of every interval used below

function setup(start = T0) {
  const clock = new ManualClock(start);
  const timer = new ManualTimer(clock);
  const registry = new Registry();
  const scheduler = new Scheduler({ clock, timer, logger: silentLogger(), registry });
  return { clock, timer, registry, scheduler };
}

/** deferred gives a promise the test resolves by hand, to hold a job "in flight". */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const v = values.find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want));
  return v?.value ?? Number.NaN;
}

describe('Scheduler', () => {
  it('runs on the schedule, not after the previous run: slots stay multiples of the interval', async () => {
    const { timer, scheduler, clock } = setup(T0 + 4_000); // start mid-slot
    const slots: number[] = [];
    const startedAt: number[] = [];
    scheduler.register({
      name: 'gen',
      intervalMs: 15_000,
      run: ({ scheduledAt }) => {
        slots.push(scheduledAt);
        startedAt.push(clock.now());
      },
    });
    scheduler.start();
    await scheduler.settled();
    for (let i = 0; i < 4; i++) {
      timer.advance(15_000);
      await scheduler.settled();
    }
    expect(slots).toEqual([T0, T0 + 15_000, T0 + 30_000, T0 + 45_000, T0 + 60_000]);
    // the first run is for the current slot, at start; the rest exactly on their slots
    expect(startedAt).toEqual([T0 + 4_000, T0 + 15_000, T0 + 30_000, T0 + 45_000, T0 + 60_000]);
    await scheduler.stop();
  });

  it('runAtStart=false waits for the next slot', async () => {
    const { timer, scheduler } = setup(T0 + 1_000);
    const slots: number[] = [];
    scheduler.register({
      name: 'x',
      intervalMs: 5_000,
      runAtStart: false,
      run: (c) => void slots.push(c.scheduledAt),
    });
    scheduler.start();
    expect(slots).toEqual([]);
    timer.advance(4_000);
    await scheduler.settled();
    expect(slots).toEqual([T0 + 5_000]);
    await scheduler.stop();
  });

  it('never overlaps a job with itself: slots that come while it runs are skipped and counted', async () => {
    const { timer, scheduler, registry } = setup();
    const hold = deferred();
    let runs = 0;
    scheduler.register({
      name: 'slow',
      intervalMs: 1_000,
      run: async () => {
        runs++;
        if (runs === 1) await hold.promise;
      },
    });
    scheduler.start();
    timer.advance(3_000); // slots T0+1s, +2s, +3s come while the first run is held
    expect(runs).toBe(1);
    hold.resolve();
    await scheduler.settled();
    timer.advance(1_000);
    await scheduler.settled();
    expect(runs).toBe(2);
    const [stats] = scheduler.stats();
    expect(stats?.skippedOverlap).toBe(3);
    expect(
      await metricValue(registry, 'openmanager_exporter_scheduler_job_skipped_total', {
        job: 'slow',
        reason: 'overlap',
      }),
    ).toBe(3);
    await scheduler.stop();
  });

  it('skips slots a stalled process slept through instead of replaying them in a burst', async () => {
    const { clock, scheduler } = setup();
    const slots: number[] = [];
    scheduler.register({ name: 'j', intervalMs: 1_000, run: (c) => void slots.push(c.scheduledAt) });
    scheduler.start();
    await scheduler.settled();
    // The process stalls: the clock jumps 5.5 s before the timer callback gets to run.
    clock.advance(5_500);
    (scheduler as unknown as { fire(): void }).fire();
    await scheduler.settled();
    expect(slots).toEqual([T0, T0 + 5_000]);
    expect(scheduler.stats()[0]?.skippedLate).toBe(4);
    await scheduler.stop();
  });

  it('isolates errors: a failing job is counted and keeps its schedule; others still run', async () => {
    const { timer, scheduler, registry } = setup();
    let ok = 0;
    let bad = 0;
    scheduler.register({
      name: 'bad',
      intervalMs: 1_000,
      run: () => {
        bad++;
        throw new Error('boom');
      },
    });
    scheduler.register({ name: 'ok', intervalMs: 1_000, run: () => void ok++ });
    scheduler.start();
    await scheduler.settled();
    timer.advance(1_000);
    await scheduler.settled();
    timer.advance(1_000);
    await scheduler.settled();
    expect([bad, ok]).toEqual([3, 3]);
    const stats = Object.fromEntries(scheduler.stats().map((s) => [s.name, s]));
    expect(stats.bad?.failures).toBe(3);
    expect(stats.bad?.lastError).toBe('boom');
    expect(stats.ok?.lastSuccess).toBe(T0 + 2_000);
    expect(
      await metricValue(registry, 'openmanager_exporter_scheduler_job_failures_total', { job: 'bad' }),
    ).toBe(3);
    expect(
      await metricValue(registry, 'openmanager_exporter_scheduler_job_failures_total', { job: 'ok' }),
    ).toBe(0);
    expect(
      await metricValue(registry, 'openmanager_exporter_scheduler_job_last_success_timestamp_seconds', {
        job: 'ok',
      }),
    ).toBe((T0 + 2_000) / 1000);
    expect(
      await metricValue(registry, 'openmanager_exporter_scheduler_job_duration_seconds', {
        job: 'ok',
        le: '+Inf',
      }),
    ).toBe(3);
    await scheduler.stop();
  });

  it('starts jobs due at the same instant in priority order', async () => {
    const { timer, scheduler } = setup();
    const order: string[] = [];
    const job = (name: string, priority: 'high' | 'normal' | 'low') => ({
      name,
      intervalMs: 5_000,
      priority,
      run: () => void order.push(name),
    });
    scheduler.register(job('cleanup', 'low'));
    scheduler.register(job('broadcast', 'normal'));
    scheduler.register(job('generation', 'high'));
    scheduler.start();
    await scheduler.settled();
    timer.advance(5_000);
    await scheduler.settled();
    expect(order).toEqual(['generation', 'broadcast', 'cleanup', 'generation', 'broadcast', 'cleanup']);
    await scheduler.stop();
  });

  it('starts jobs due at the same instant in separate turns of the event loop', async () => {
    const { scheduler } = setup();
    const order: string[] = [];
    const job = (name: string) => ({
      name,
      intervalMs: 5_000,
      run: () => {
        order.push(name);
        // Queued by this job's run: it comes before the next job only if that job starts in a later turn.
        setImmediate(() => order.push(`turn after ${name}`));
      },
    });
    scheduler.register(job('a'));
    scheduler.register(job('b'));
    scheduler.register(job('c'));
    scheduler.start();
    await scheduler.settled();
    expect(order.slice(0, 5)).toEqual(['a', 'turn after a', 'b', 'turn after b', 'c']);
    await scheduler.stop();
  });

  it('blames an event-loop block on the jobs in flight, and only on those', async () => {
    const { scheduler, registry } = setup();
    const hold = deferred();
    scheduler.register({ name: 'busy', intervalMs: 5_000, run: () => hold.promise });
    scheduler.register({ name: 'idle', intervalMs: 5_000, runAtStart: false, run: () => {} });
    scheduler.start();
    await new Promise((r) => setImmediate(r));
    scheduler.noteLoopLag(120, performance.now() - 10, 125);
    // Lag while the process was off the CPU (a busy host) counts only as far as it used the CPU.
    scheduler.noteLoopLag(900, performance.now() - 10, 30);
    hold.resolve();
    await scheduler.settled();
    // A block that started after the run ended is not the job's.
    scheduler.noteLoopLag(300, performance.now() + 1, 300);
    const stats = Object.fromEntries(scheduler.stats().map((s) => [s.name, s]));
    expect(stats.busy?.maxLoopBlockMs).toBe(120);
    expect(stats.idle?.maxLoopBlockMs).toBe(0);
    expect(
      await metricValue(registry, 'openmanager_exporter_scheduler_job_loop_block_max_seconds', {
        job: 'busy',
      }),
    ).toBe(0.12);
    await scheduler.stop();
  });

  it('stop() disarms the timer and waits for runs in flight, which see the abort signal', async () => {
    const { timer, scheduler } = setup();
    const hold = deferred();
    let finished = false;
    let aborted = false;
    scheduler.register({
      name: 'long',
      intervalMs: 1_000,
      run: async (ctx: JobContext) => {
        await hold.promise;
        aborted = ctx.signal.aborted;
        finished = true;
      },
    });
    scheduler.start();
    const stopping = scheduler.stop();
    expect(timer.size).toBe(0);
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    hold.resolve();
    await stopping;
    expect(finished).toBe(true);
    expect(aborted).toBe(true);
    timer.advance(10_000);
    expect(scheduler.stats()[0]?.runs).toBe(1);
  });

  it('rejects duplicate names and non-positive intervals', () => {
    const { scheduler } = setup();
    scheduler.register({ name: 'a', intervalMs: 1, run: () => {} });
    expect(() => scheduler.register({ name: 'a', intervalMs: 1, run: () => {} })).toThrow(
      /already registered/,
    );
    expect(() => scheduler.register({ name: 'b', intervalMs: 0, run: () => {} })).toThrow(
      /positive interval/,
    );
  });
});
