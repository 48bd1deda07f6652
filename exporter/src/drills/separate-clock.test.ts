/**
 * Drills on a separate clock: the DrillRunner driving the real sandbox (coverage/drill-sandbox.ts) in-thread
 * — its own two-server fleet, store and rule manager over a small rule file — at a speed no live-clock drill
 * could keep an alert's `for:` at. The live fleet is never touched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { drillRunSchema, type DrillDefinition } from '../contract/drills.js';
import type { SandboxEvent } from '../coverage/drill-sandbox.js';
import { CoverageJobs } from '../coverage/jobs.js';
import { runSandboxInThread } from '../coverage/drill-sandbox-host.js';
import { defaultFleet } from '../simulator/index.js';
import { ManualClock } from '../util/clock.js';
import { silentLogger } from '../util/logger.js';
import { ManualTimer } from '../util/timer.js';
import { DrillRunner, type SeparateClockRun } from './drill-runner.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 7);
const S = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'drill-separate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'down.yml'),
  `groups:
  - name: down
    rules:
      - alert: ServerIsDown
        expr: openmanager_server_up == 0
        for: 2m
        labels: { severity: critical }
`,
);

const servers = defaultFleet().filter((s) => s.id === 'web-01' || s.id === 'db-01');

const definitions: DrillDefinition[] = [
  {
    name: 'db-down',
    title: 'Database down',
    description: 'the database goes down for five minutes, a minute in',
    steps: [{ afterSeconds: 60, kind: 'server_down', server: 'db-01', durationSeconds: 300, intensity: 1 }],
    durationSeconds: 360,
    settleSeconds: 120,
  },
];

/** rig is a runner whose separate clock is the real sandbox in-thread; `ended` resolves at its last event. */
function rig(simulationBusy?: () => string | undefined) {
  const clock = new ManualClock(T0);
  const injected: string[] = [];
  const events: (SandboxEvent['type'] | 'error')[] = [];
  const requests: SeparateClockRun[] = [];
  let ended: () => void = () => undefined;
  const done = new Promise<void>((r) => (ended = r));
  const runner = new DrillRunner({
    definitions,
    clock,
    wallClock: clock,
    timer: new ManualTimer(clock),
    inject: (spec) => {
      injected.push(spec.kind);
      return Promise.reject(new Error('the live fleet must not be touched'));
    },
    stop: () => Promise.reject(new Error('the live fleet must not be touched')),
    deliveries: () => [],
    separate: (run, onEvent) => {
      requests.push(run);
      const req = {
        ...run,
        servers,
        seed: 3,
        ruleFiles: ['down.yml'],
        cwd: dir,
        evaluationIntervalMs: 15 * S,
        tickMs: 15 * S,
      };
      return runSandboxInThread(req, (e) => {
        events.push(e.type);
        onEvent(e);
        if (e.type === 'done' || e.type === 'error') ended();
      });
    },
    ...(simulationBusy && { simulationBusy }),
    logger: silentLogger(),
  });
  return { runner, injected, events, requests, done };
}

describe('DrillRunner on a separate clock', () => {
  it('runs the steps uncompressed on a fleet of its own and reports alerts at their simulated delays', async () => {
    const r = rig();
    const run = await r.runner.start('db-down', 1000, 'separate');
    expect(run).toMatchObject({ clock: 'separate', phase: 'lead-in', simulatedAt: null, speed: 1000 });
    // Offsets are not divided by the speed: the clock itself runs faster.
    expect(run.steps[0]?.dueAt).toBe(T0 + 60 * S);
    expect(run.endsAt).toBe(T0 + 480 * S);
    expect(r.requests[0]).toMatchObject({ start: T0, end: T0 + 480 * S, speed: 1000 });
    // Live alerts are not the separate run's.
    r.runner.alertsFired(T0 + 90 * S, [{ alertname: 'LiveAlert', server: 'db-01', severity: 'warning' }]);
    await r.done;

    const done = r.runner.get(run.id);
    expect(drillRunSchema.parse(done)).toEqual(done);
    expect(done).toMatchObject({ status: 'finished', phase: 'drill', error: null });
    expect(done.simulatedAt).toBeGreaterThanOrEqual(done.endsAt - 15 * S);
    expect(done.finishedAt).toBe(done.simulatedAt);
    expect(done.steps[0]).toMatchObject({ scenarioId: expect.any(String) as unknown, affected: ['db-01'] });
    // The rule's `for: 2m` holds in simulated time: the alert fires 2 min (plus up to two evaluations) after
    // the step — at speed 1000 on the live clock the step would have lasted 0.3 s.
    const step = done.report?.steps[0];
    expect(step).toMatchObject({ detected: true, firstAlert: 'ServerIsDown', alerts: ['ServerIsDown'] });
    expect(step?.secondsToFirstAlert).toBeGreaterThanOrEqual(120);
    expect(step?.secondsToFirstAlert).toBeLessThanOrEqual(150);
    expect(done.report?.alerts.map((a) => [a.alertname, a.server, a.step])).toEqual([
      ['ServerIsDown', 'db-01', 0],
    ]);
    expect(done.report).toMatchObject({ notifications: [], receivers: [], detectionRate: 1, unrelated: 0 });
    expect(r.injected).toEqual([]);
    expect(r.events[0]).toBe('lead-in');
    expect(r.events.at(-1)).toBe('done');
  });

  it('an abort ends the sandbox at its next tick; a second run waits for the first', async () => {
    const r = rig();
    const run = await r.runner.start('db-down', 1, 'separate');
    await expect(r.runner.start('db-down', 1, 'separate')).rejects.toMatchObject({
      code: 'OM_DRILL_RUNNING',
    });
    const aborted = await r.runner.abort(run.id);
    expect(aborted).toMatchObject({ status: 'aborted', clock: 'separate' });
    await r.done;
    expect(r.events.at(-1)).toBe('done');
    // At speed 1 the drill's 8 minutes would take 8 minutes of wall time: it ended long before.
    expect(r.events).not.toContain('injected');
    expect(r.runner.get(run.id).status).toBe('aborted');
  });

  it('runs one simulation at a time: no separate clock while a coverage job runs, and no job during one', async () => {
    let coverage: string | undefined = 'coverage job "cov-1"';
    const r = rig(() => coverage);
    await expect(r.runner.start('db-down', 1000, 'separate')).rejects.toMatchObject({
      code: 'OM_SIMULATION_BUSY',
      status: 409,
      message:
        'coverage job "cov-1" is running; drills on a separate clock and coverage jobs run one at a time',
    });
    expect(r.requests).toHaveLength(0);
    expect(r.runner.separateRun()).toBeUndefined();
    coverage = undefined;
    const run = await r.runner.start('db-down', 1000, 'separate');
    expect(r.runner.separateRun()).toBe(run.id);
    const jobs = new CoverageJobs({
      ruleFiles: ['down.yml'],
      cwd: dir,
      clock: new ManualClock(T0),
      logger: silentLogger(),
      simulationBusy: () => {
        const id = r.runner.separateRun();
        return id === undefined ? undefined : `drill run "${id}" on a separate clock`;
      },
    });
    expect(() => jobs.start({})).toThrow(
      `drill run "${run.id}" on a separate clock is running; coverage jobs and drills on a separate clock run one at a time`,
    );
    expect(jobs.list()).toHaveLength(0);
    await r.runner.abort(run.id);
    expect(r.runner.separateRun()).toBeUndefined();
    await r.done;
  });

  it('refuses a separate clock when the exporter offers none', async () => {
    const clock = new ManualClock(T0);
    const runner = new DrillRunner({
      definitions,
      clock,
      wallClock: clock,
      timer: new ManualTimer(clock),
      inject: () => Promise.reject(new Error('unused')),
      stop: () => Promise.reject(new Error('unused')),
      deliveries: () => [],
      logger: silentLogger(),
    });
    await expect(runner.start('db-down', 10, 'separate')).rejects.toMatchObject({ status: 400 });
  });
});
