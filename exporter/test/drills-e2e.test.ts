/**
 * A game-day drill end to end, in-process on a manual clock: started over HTTP (the bearer token required),
 * its step is injected at its offset — announced on the hub's `alerts` channel as the scenario it is, and in
 * the `openmanager_scenario_active` series the dashboards' "Scenarios" annotation query reads — the shipped
 * ServerDown rule fires for it, the notifier delivers to a stand-in webhook, and the drill's report names
 * the alert, its delay from the step, and the receiver.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { Exporter } from '../src/compose.js';
import { drillRunSchema, drillsResponseSchema, type DrillRun } from '../src/contract/drills.js';
import { ManualClock } from '../src/util/clock.js';
import { ManualTimer } from '../src/util/timer.js';
import { postJson, startInProcess, subscribeHub, testOptions } from './in-process.js';
import { pollUntil } from './poll.js';
import { StandInReceiver } from './stand-in-receiver.js';

const TICK_MS = 15_000;
/** T0 is a tick-aligned instant (2026-11-03T14:00:00Z) so runs are reproducible. */
const T0 = Date.UTC(2026, 10, 3, 14);
const TOKEN = 'test-token';
const SERVER = 'web-01';
/** The shipped annotation query of the dashboards' "Scenarios" annotation. */
const ANNOTATION_EXPR = 'max by (server, scenario) (openmanager_scenario_active) > 0';

const DRILL = `
title: Web server down
description: web-01 goes down for three minutes.
settle: 2m
steps:
  - { after: 30s, kind: server_down, server: ${SERVER}, duration: 3m }
`;
const NOTIFY = `
route: { group_wait: 1s, group_interval: 1m, repeat_interval: 4h }
receivers:
  - { name: hook, type: webhook }
`;

let ex: Exporter;
let base: string;
let hook: StandInReceiver;
const clock = new ManualClock(T0);
const timer = new ManualTimer(clock);
const hubEvents: { event: string; scenario?: { id: string; kind: string; server: string } }[] = [];
let ws: WebSocket;

/**
 * step moves the clock one tick (firing due timers: drill steps, group_wait) and runs the pipeline (frame →
 * store → rules, whose evaluation the pipeline does not wait for), then lets notifications queued meanwhile
 * be sent: their HTTP is real, their time is not.
 */
async function step(): Promise<void> {
  timer.advance(TICK_MS);
  await ex.app.tick();
  await ex.rules.idle();
  await ex.notifier.dispatcher.idle();
  await ex.notifier.deliverer.idle();
}

const post = (path: string, body: unknown, token: string | null = TOKEN): Promise<Response> =>
  postJson(`${base}${path}`, body, token);

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'om-drills-'));
  mkdirSync(join(dir, 'drills'));
  writeFileSync(join(dir, 'drills', 'web-down.yml'), DRILL);
  writeFileSync(join(dir, 'notify.yml'), NOTIFY);
  hook = await StandInReceiver.start();
  const options = testOptions(dir, TOKEN, {
    drillsDir: join(dir, 'drills'),
    notifyConfig: join(dir, 'notify.yml'),
  });
  ex = await startInProcess(options, {
    clock,
    wallClock: clock,
    timer,
    env: { WEBHOOK_URL: `${hook.url}/hook` },
  });
  base = ex.app.url;
  ws = await subscribeHub(ex, ['alerts'], (_channel, data) =>
    hubEvents.push(data as (typeof hubEvents)[number]),
  );
  for (let i = 0; i < 4; i++) await step();
  // The startup replay evaluates the rules over what is stored; live ticks evaluate them once it caught up.
  await ex.rules.whenCaughtUp();
}, 120_000);

afterAll(async () => {
  ws?.close();
  await ex?.app.stop();
  await hook?.close();
});

describe('a drill over HTTP', () => {
  let run: DrillRun;

  it('lists the drills; refuses a start without the token, an unknown drill and a bad body', async () => {
    const list = drillsResponseSchema.parse(await (await fetch(`${base}/api/drills`)).json());
    expect(list.definitions.map((d) => [d.name, d.steps.length, d.settleSeconds])).toEqual([
      ['web-down', 1, 120],
    ]);
    expect((await post('/api/drills', { name: 'web-down' }, null)).status).toBe(401);
    const unknown = await post('/api/drills', { name: 'nope' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'OM_UNKNOWN_DRILL' } });
    const bad = await post('/api/drills', { name: 'web-down', speed: 0 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'OM_BAD_FIELD', message: /speed/ } });
  });

  it('starts, injects its step at its offset, and announces it on the hub', async () => {
    const res = await post('/api/drills', { name: 'web-down' });
    expect(res.status).toBe(201);
    run = drillRunSchema.parse(await res.json());
    expect(res.headers.get('location')).toBe(`/api/drills/${run.id}`);
    expect(run).toMatchObject({ status: 'running', startedAt: clock.now(), endsAt: clock.now() + 330_000 });
    expect(run.steps[0]?.scenarioId).toBeNull();
    expect((await post('/api/drills', { name: 'web-down' })).status).toBe(409);
    await step();
    await step();
    // The step's injection writes the scenario journal before the run shows it: wait for that write.
    const now = await pollUntil('the step injected', async () => {
      const r = drillRunSchema.parse(await (await fetch(`${base}/api/drills/${run.id}`)).json());
      return r.steps[0]?.scenarioId ? r : undefined;
    });
    const id = now.steps[0]?.scenarioId;
    expect(now.steps[0]?.dueAt).toBe(run.startedAt + 30_000);
    const announced = await pollUntil('the hub event', () =>
      hubEvents.find((e) => e.event === 'scenario_started' && e.scenario?.id === id),
    );
    expect(announced.scenario).toMatchObject({ kind: 'server_down', server: SERVER });
  });

  it('ends with a report: ServerDown fired for the step, and the webhook was notified', async () => {
    while (clock.now() < run.endsAt) await step();
    const done = drillRunSchema.parse(await (await fetch(`${base}/api/drills/${run.id}`)).json());
    expect(done.status).toBe('finished');
    const s = done.report?.steps[0];
    expect(s).toMatchObject({
      kind: 'server_down',
      server: SERVER,
      detected: true,
      firstAlert: 'ServerDown',
    });
    // `for: 1m` at a 15 s evaluation: between one and two minutes after the step.
    expect(s?.secondsToFirstAlert).toBeGreaterThanOrEqual(60);
    expect(s?.secondsToFirstAlert).toBeLessThanOrEqual(120);
    expect(done.report?.detectionRate).toBe(1);
    expect(done.report?.receivers).toEqual(['hook']);
    expect(hook.received.some((r) => JSON.stringify(r.body).includes('ServerDown'))).toBe(true);
  });

  it('is ground truth in the series the dashboards annotate', async () => {
    const q = new URLSearchParams({
      query: ANNOTATION_EXPR,
      start: String(run.startedAt / 1000),
      end: String(run.endsAt / 1000),
      step: '15',
    });
    const body = (await (await fetch(`${base}/api/prometheus/api/v1/query_range?${q}`)).json()) as {
      data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    const series = body.data.result.find(
      (r) => r.metric.server === SERVER && r.metric.scenario === 'server_down',
    );
    expect(series).toBeDefined();
    const times = series!.values.map(([t]) => t * 1000);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(run.startedAt + 30_000);
    expect(Math.max(...times)).toBeLessThanOrEqual(run.startedAt + 30_000 + 180_000);
  });
});
