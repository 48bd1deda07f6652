/**
 * The notifiers in the composed exporter, in-process: a rule fires → the dispatcher groups it → the outbox →
 * a local webhook receives Alertmanager's payload; the silences API (token-guarded), `GET /api/notifications`
 * and the metrics, with whole envelopes and error cases. Simulated time and the notifiers' timers are manual.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exporter } from '../src/compose.js';
import { notificationsResponseSchema, silenceSchema } from '../src/contract/notifications.js';
import { DEFAULT_OPTIONS, type ExporterOptions } from '../src/options.js';
import { Fleet } from '../src/simulator/index.js';
import { ManualClock } from '../src/util/clock.js';
import { ManualTimer } from '../src/util/timer.js';
import { startInProcess } from './in-process.js';
import { pollUntil } from './poll.js';
import { StandInReceiver } from './stand-in-receiver.js';

const T0 = Date.UTC(2026, 10, 1);
const TOKEN = 'test-token';
const RULES = `
groups:
  - name: notify-test
    interval: 15s
    rules:
      - alert: MemoryPresent
        expr: openmanager_memory_total_bytes{server=~"web-0[12]"} > 0
        labels: { severity: critical }
        annotations:
          summary: 'memory on {{ $labels.server }}'
          description: 'total {{ $value }} bytes'
`;
const NOTIFY = `
route: { group_wait: 30s, group_interval: 5m }
receivers:
  - { name: hook, type: webhook, matchers: ['severity="critical"'], timeout: 15s }
`;

let ex: Exporter;
let base: string;
let hook: StandInReceiver;
let dir: string;
const clock = new ManualClock(T0);
const timer = new ManualTimer(clock);
let fleet: Fleet;

/**
 * evaluateNextSlot moves time a tick at a time until the rules have evaluated the newest slot (a tick that
 * renders several frames evaluates only the first of them: the later slots find the group still running).
 */
async function evaluateNextSlot(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    timer.advance(15_000);
    await ex.app.tick();
    const slot = Math.floor(clock.now() / 15_000) * 15_000;
    const done = await pollUntil('the rules to evaluate', () => ex.rules.lastEvaluation() === slot, {
      timeoutMs: 3_000,
    }).catch(() => false);
    if (done) return;
  }
  throw new Error('the rules did not evaluate the newest slot in 6 ticks');
}

async function send(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  hook = await StandInReceiver.start();
  dir = mkdtempSync(join(tmpdir(), 'om-notify-compose-'));
  writeFileSync(join(dir, 'rules.yml'), RULES);
  writeFileSync(join(dir, 'notify.yml'), NOTIFY);
  const options: ExporterOptions = {
    ...DEFAULT_OPTIONS,
    dataDir: join(dir, 'data'),
    port: 0,
    backfill: 0,
    apiToken: TOKEN,
    scenarioRate: 0,
    ruleFiles: [join(dir, 'rules.yml')],
    notifyConfig: join(dir, 'notify.yml'),
    grafanaUrl: 'http://grafana.test',
  };
  fleet = new Fleet({ seed: options.seed, scenarioRatePerHour: 0 });
  ex = await startInProcess(options, {
    fleet,
    clock,
    wallClock: clock,
    timer,
    env: { WEBHOOK_URL: `${hook.url}/hook/secret-token` },
  });
  base = ex.app.url;
}, 120_000);

afterAll(async () => {
  await ex?.app.stop();
  await hook?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('notifications in the composed exporter', () => {
  it('delivers a firing rule to the webhook after group_wait, in Alertmanager’s payload', async () => {
    await ex.app.tick();
    await pollUntil('two firing groups', () => ex.notifier.dispatcher.groupCount === 2);
    timer.advance(29_000);
    await ex.notifier.dispatcher.idle();
    expect(hook.received).toHaveLength(0);
    timer.advance(1_000);
    const got = await hook.waitFor(2);
    const bodies = got.map((r) => r.body as Record<string, unknown>);
    expect(bodies.map((b) => b.groupKey).sort()).toEqual([
      '{}/{severity="critical"}:{alertname="MemoryPresent", server="web-01"}',
      '{}/{severity="critical"}:{alertname="MemoryPresent", server="web-02"}',
    ]);
    const b = bodies.find((x) => (x.groupLabels as Record<string, string>).server === 'web-01');
    expect(b).toMatchObject({
      version: '4',
      receiver: 'hook',
      status: 'firing',
      externalURL: base,
      truncatedAlerts: 0,
      commonAnnotations: { summary: 'memory on web-01' },
    });
    const alert = (b?.alerts as Record<string, unknown>[])[0];
    expect(alert).toMatchObject({
      status: 'firing',
      startsAt: new Date(T0).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: `${base}/graph?g0.expr=${encodeURIComponent('openmanager_memory_total_bytes{server=~"web-0[12]"} > 0')}&g0.tab=1`,
    });
    expect(got[0]?.path).toBe('/hook/secret-token');
    await ex.notifier.deliverer.idle();
    expect(ex.notifier.outbox.size).toBe(0);
  });

  it('serves GET /api/notifications in the contract shape, without credentials', async () => {
    const res = await fetch(`${base}/api/notifications`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('secret-token');
    const body = notificationsResponseSchema.parse(JSON.parse(text));
    expect(body.receivers).toEqual([
      expect.objectContaining({
        name: 'hook',
        type: 'webhook',
        queued: 0,
        consecutiveFailures: 0,
        lastError: null,
      }),
    ]);
    expect(body.recent.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    expect(body.deadLetters).toEqual([]);
  });

  it('exports the notification metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^openmanager_notifications_total\{receiver="hook",outcome="delivered"\} 2$/m);
    expect(text).toMatch(/^openmanager_notifications_queue_length\{receiver="hook"\} 0$/m);
    expect(text).toMatch(/^openmanager_notifications_oldest_pending_age_seconds\{receiver="hook"\} 0$/m);
    expect(text).toMatch(/^openmanager_notifications_latency_seconds_count\{receiver="hook"\} 2$/m);
  });

  it('creates, lists, reads and expires silences with the token; refuses without it', async () => {
    const body = {
      matchers: [{ name: 'server', value: 'web-01', isRegex: false }],
      duration: '2h',
      createdBy: 'ops',
      comment: 'maintenance',
    };
    expect(await send('POST', '/api/silences', body, null)).toMatchObject({
      status: 401,
      body: { error: { code: 'OM_UNAUTHORIZED' } },
    });
    const created = await send('POST', '/api/silences', body);
    expect(created.status).toBe(201);
    const id = String(created.body.silenceID);
    const list = (await (await fetch(`${base}/api/silences`)).json()) as { silences: unknown[] };
    expect(list.silences).toHaveLength(1);
    const one = silenceSchema.parse(await (await fetch(`${base}/api/silences/${id}`)).json());
    expect(one).toMatchObject({
      id,
      matchers: [{ name: 'server', value: 'web-01', isRegex: false, isEqual: true }],
      createdBy: 'ops',
      status: { state: 'active' },
      startsAt: new Date(clock.now()).toISOString(),
      endsAt: new Date(clock.now() + 7_200_000).toISOString(),
    });
    expect(ex.notifier.silences.isSilenced({ server: 'web-01' })).toBe(true);
    const expired = await send('DELETE', `/api/silences/${id}`);
    expect(expired).toMatchObject({ status: 200, body: { id, status: { state: 'expired' } } });
    expect(ex.notifier.silences.isSilenced({ server: 'web-01' })).toBe(false);
  });

  it.each<[string, unknown, string]>([
    ['no matchers', { matchers: [], duration: '1h', createdBy: 'x' }, 'matchers'],
    [
      'both end and duration',
      {
        matchers: [{ name: 'a', value: 'b', isRegex: false }],
        duration: '1h',
        endsAt: '2030-01-01T00:00:00Z',
        createdBy: 'x',
      },
      'either endsAt or duration',
    ],
    [
      'bad label name',
      { matchers: [{ name: '1a', value: 'b', isRegex: false }], duration: '1h', createdBy: 'x' },
      'matchers.0.name',
    ],
    [
      'bad regex',
      { matchers: [{ name: 'a', value: '(', isRegex: true }], duration: '1h', createdBy: 'x' },
      'missing closing',
    ],
    [
      'past end',
      {
        matchers: [{ name: 'a', value: 'b', isRegex: false }],
        endsAt: '2020-01-01T00:00:00Z',
        createdBy: 'x',
      },
      'endsAt',
    ],
    [
      'bad duration',
      { matchers: [{ name: 'a', value: 'b', isRegex: false }], duration: 'soon', createdBy: 'x' },
      'duration',
    ],
    [
      'unknown field',
      { matchers: [{ name: 'a', value: 'b', isRegex: false }], duration: '1h', createdBy: 'x', extra: 1 },
      'extra',
    ],
  ])('rejects a silence with %s (400 naming the problem)', async (_name, body, problem) => {
    const r = await send('POST', '/api/silences', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'OM_BAD_FIELD' } });
    expect(JSON.stringify(r.body)).toContain(problem);
  });

  it('answers 404 in the catalogue envelope for an unknown silence', async () => {
    expect(await send('DELETE', '/api/silences/nope')).toEqual({
      status: 404,
      body: {
        error: {
          code: 'OM_UNKNOWN_SILENCE',
          message: 'no silence "nope"; GET /api/silences lists the silences',
        },
      },
    });
    const res = await fetch(`${base}/api/silences/nope`);
    expect(res.status).toBe(404);
  });

  it('a receiver that hangs leaves the rule manager and the API unaffected, and times out', async () => {
    hook.answer = () => ({ kind: 'hang' });
    // web-02 goes down: its alert resolves, and the resolution is due at the group's next interval.
    fleet.inject({ kind: 'server_down', server: 'web-02', durationSeconds: 600 }, clock.now());
    await evaluateNextSlot();
    expect(ex.rules.alerts().some((a) => a.alert.labels.server === 'web-02')).toBe(false);
    timer.advance(5 * 60_000);
    await ex.notifier.dispatcher.idle();
    await pollUntil('a send to hang', () => ex.notifier.deliverer.status()[0]?.inFlight === 1);
    // While the send hangs: rules evaluate, the APIs answer.
    await evaluateNextSlot();
    const alerts = await fetch(`${base}/api/prometheus/api/v1/alerts`);
    expect(alerts.status).toBe(200);
    const notes = notificationsResponseSchema.parse(await (await fetch(`${base}/api/notifications`)).json());
    // (The receiver's timeout is 15 s: far longer than the steps above take even on a loaded machine.)
    expect(notes.receivers[0]).toMatchObject({ inFlight: 1, queued: 1 });
    // After its timeout the hung send fails as retryable and waits for a retry.
    const status = await pollUntil('the hung send to time out', () => {
      const s = ex.notifier.deliverer.status()[0];
      return s?.lastError?.includes('timeout') ? s : undefined;
    });
    expect(status).toMatchObject({ queued: 1, inFlight: 0 });
    expect(status.consecutiveFailures).toBeGreaterThanOrEqual(1);
    expect(hook.received.at(-1)?.body).toMatchObject({
      status: 'resolved',
      groupLabels: { server: 'web-02' },
    });
  });
});
