import { describe, expect, it } from 'vitest';
import type { DrillDefinition } from '../contract/drills.js';
import type { DeliveryRecord } from '../contract/notifications.js';
import { Fleet } from '../simulator/index.js';
import { ManualClock } from '../util/clock.js';
import { silentLogger } from '../util/logger.js';
import { ManualTimer } from '../util/timer.js';
import { DrillRunner } from './drill-runner.js';

const T0 = Date.UTC(2026, 0, 5, 12);
const S = 1_000;
const M = 60 * S;

/** rig runs drills on a real simulated fleet in virtual time; deliveries are appended by the test. */
function rig(settleMs = 2 * M) {
  const clock = new ManualClock(T0);
  const wall = new ManualClock(T0);
  const timer = new ManualTimer(clock);
  const fleet = new Fleet({ seed: 7, scenarioRatePerHour: 0, epoch: T0 - 3_600_000 });
  const servers = fleet.layout.servers;
  const db = servers.find((s) => s.role === 'db')?.id ?? '';
  const web = servers.find((s) => s.role === 'web')?.id ?? '';
  const deliveries: DeliveryRecord[] = [];
  const definitions: DrillDefinition[] = [
    {
      name: 'two-step',
      title: 'Two steps',
      description: 'a leak on the db, then a cascade from it',
      steps: [
        { afterSeconds: 0, kind: 'memory_leak', server: db, durationSeconds: 600, intensity: 0.9 },
        { afterSeconds: 300, kind: 'cascading_failure', server: db, durationSeconds: 600, intensity: 0.9 },
      ],
      durationSeconds: 900,
      settleSeconds: settleMs / 1000,
    },
  ];
  const runner = new DrillRunner({
    definitions,
    clock,
    wallClock: wall,
    timer,
    inject: (spec) => Promise.resolve(fleet.inject(spec, clock.now())),
    stop: (id) => Promise.resolve(fleet.stop(id, clock.now())),
    deliveries: () => [...deliveries].reverse(),
    logger: silentLogger(),
  });
  const advance = async (ms: number): Promise<void> => {
    timer.advance(ms);
    wall.advance(ms);
    await Promise.resolve();
  };
  return { clock, timer, fleet, runner, db, web, deliveries, advance };
}

const delivery = (at: number, receiver: string, outcome: DeliveryRecord['outcome']): DeliveryRecord => ({
  at,
  receiver,
  id: 1,
  groupKey: '{}:{alertname="HighMemoryUsage"}',
  status: 'firing',
  alerts: 1,
  attempt: 1,
  outcome,
  latencyMs: 3,
  error: null,
  idempotencyKey: 'k',
});

describe('DrillRunner', () => {
  it('injects each step at its offset as a scenario of the fleet, then reports what fired for it', async () => {
    const r = rig();
    const run = await r.runner.start('two-step');
    // The first step is due at once: injected before start() returns.
    expect(run.steps[0]).toMatchObject({ scenarioId: expect.any(String) as unknown, affected: [r.db] });
    expect(run.steps[1]?.scenarioId).toBeNull();
    expect(r.fleet.active(r.clock.now()).map((s) => s.kind)).toEqual(['memory_leak']);

    await r.advance(4 * M);
    r.runner.alertsFired(r.clock.now(), [
      { alertname: 'HighMemoryUsage', server: r.db, severity: 'warning' },
    ]);
    r.deliveries.push(delivery(T0 + 4 * M + 500, 'slack', 'delivered'));
    await r.advance(1 * M);
    const cascade = r.runner.get(run.id).steps[1];
    expect(cascade?.dueAt).toBe(T0 + 5 * M);
    expect(cascade?.affected[0]).toBe(r.db);
    expect(cascade?.affected.length).toBeGreaterThan(1);
    expect(
      r.fleet
        .active(r.clock.now())
        .map((s) => s.kind)
        .sort(),
    ).toEqual(['cascading_failure', 'memory_leak']);
    // An alert on a server the cascade reached belongs to the cascade; one elsewhere to no step.
    const reached = cascade?.affected.find((s) => s !== r.db) ?? '';
    await r.advance(90 * S);
    r.runner.alertsFired(r.clock.now(), [
      { alertname: 'HighHTTPErrorRatio', server: reached, severity: 'warning' },
      { alertname: 'HighCPUUsage', server: 'elsewhere', severity: 'warning' },
    ]);
    r.deliveries.push(delivery(T0 + 7 * M, 'webhook', 'failed'));

    // Last step ends at 15 min, plus 2 min settling: still running at 16 min, finished at 17.
    await r.advance(16 * M - 6.5 * M);
    expect(r.runner.get(run.id).status).toBe('running');
    await r.advance(1 * M);
    const done = r.runner.get(run.id);
    expect(done.status).toBe('finished');
    expect(done.finishedAt).toBe(T0 + 17 * M);
    expect(done.report?.steps).toEqual([
      {
        step: 0,
        kind: 'memory_leak',
        server: r.db,
        detected: true,
        firstAlert: 'HighMemoryUsage',
        secondsToFirstAlert: 240,
        alerts: ['HighMemoryUsage'],
      },
      {
        step: 1,
        kind: 'cascading_failure',
        server: r.db,
        detected: true,
        firstAlert: 'HighHTTPErrorRatio',
        secondsToFirstAlert: 90,
        alerts: ['HighHTTPErrorRatio'],
      },
    ]);
    expect(done.report?.alerts.map((a) => [a.alertname, a.step])).toEqual([
      ['HighMemoryUsage', 0],
      ['HighHTTPErrorRatio', 1],
      ['HighCPUUsage', null],
    ]);
    expect(done.report?.unrelated).toBe(1);
    expect(done.report?.detectionRate).toBe(1);
    expect(done.report?.notifications.map((n) => [n.receiver, n.outcome])).toEqual([
      ['slack', 'delivered'],
      ['webhook', 'failed'],
    ]);
    expect(done.report?.receivers).toEqual(['slack']);
    // The runner forgets nothing of the fleet's ground truth: both scenarios are in its history.
    expect(
      r.fleet
        .latestHistory(r.clock.now(), T0, 10)
        .scenarios.map((s) => s.kind)
        .sort(),
    ).toEqual(['cascading_failure', 'memory_leak']);
  });

  it('reports a step nothing fired for as missed, and runs speed times faster', async () => {
    const r = rig(0);
    const run = await r.runner.start('two-step', 10);
    expect(run.endsAt).toBe(T0 + 90 * S);
    await r.advance(30 * S);
    const steps = r.runner.get(run.id).steps;
    expect(steps[1]?.dueAt).toBe(T0 + 30 * S);
    // Durations shrink with the speed: the leak ends after 60 s, not 600.
    const leak = r.fleet.latestHistory(r.clock.now(), T0, 10).scenarios.find((s) => s.kind === 'memory_leak');
    expect(leak ? leak.end - leak.start : 0).toBe(60 * S);
    await r.advance(60 * S);
    const done = r.runner.get(run.id);
    expect(done.report?.steps.map((s) => s.detected)).toEqual([false, false]);
    expect(done.report?.detectionRate).toBe(0);
  });

  it('one run at a time; an abort stops its scenarios and drops the steps not yet due', async () => {
    const r = rig();
    const run = await r.runner.start('two-step');
    await expect(r.runner.start('two-step')).rejects.toMatchObject({ code: 'OM_DRILL_RUNNING', status: 409 });
    await expect(r.runner.start('nope')).rejects.toMatchObject({ code: 'OM_UNKNOWN_DRILL', status: 404 });
    await r.advance(1 * M);
    const aborted = await r.runner.abort(run.id);
    expect(aborted.status).toBe('aborted');
    expect(aborted.steps[1]?.scenarioId).toBeNull();
    expect(r.fleet.active(r.clock.now())).toEqual([]);
    expect(r.timer.size).toBe(0);
    await r.advance(30 * M);
    expect(r.fleet.active(r.clock.now())).toEqual([]);
    // A new run may start once the previous one ended; the list is newest first.
    const next = await r.runner.start('two-step');
    expect(r.runner.list().map((x) => x.id)).toEqual([next.id, run.id]);
  });
});
