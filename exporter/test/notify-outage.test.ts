/**
 * A webhook that is down for 10 minutes, time-compressed: the whole notifier (dispatcher, data-dir outbox,
 * deliverer, the real webhook receiver over HTTP to a local stand-in) runs on an injected manual clock and
 * timer. Alerts keep firing during the outage; every attempt is refused with 503; once the webhook is back,
 * it receives every notification, in the order they were made, within one max_backoff, and nothing is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTBOX, DEFAULT_ROUTE, type NotifyConfig } from '../src/notify/config.js';
import { Notifier } from '../src/notify/notifier.js';
import { Secret } from '../src/notify/secret.js';
import { ManualClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/logger.js';
import { ManualTimer } from '../src/util/timer.js';
import { OK, StandInReceiver } from './stand-in-receiver.js';

const T0 = Date.UTC(2026, 0, 5, 12);
const OUTAGE_MS = 10 * 60_000;
const ALERT_EVERY_MS = 30_000;

let hook: StandInReceiver;
let notifier: Notifier;
let dir: string;
const clock = new ManualClock(T0);
const timer = new ManualTimer(clock);

beforeAll(async () => {
  hook = await StandInReceiver.start();
  hook.answer = () =>
    clock.now() < T0 + OUTAGE_MS ? { kind: 'status', status: 503, body: 'maintenance' } : OK;
  dir = mkdtempSync(join(tmpdir(), 'om-outage-'));
  const config: NotifyConfig = {
    receivers: [
      {
        type: 'webhook',
        name: 'hook',
        url: new Secret(`${hook.url}/hook`, 'WEBHOOK_URL'),
        matchers: [],
        sendResolved: true,
        timeoutMs: 2_000,
        maxAlerts: 0,
        ...DEFAULT_ROUTE,
      },
    ],
    outbox: DEFAULT_OUTBOX,
    datadog: undefined,
    source: 'test',
  };
  notifier = await Notifier.open({
    config,
    dir,
    wallClock: clock,
    timer,
    logger: silentLogger(),
    registry: new Registry(),
    externalURL: () => 'http://exporter.test',
    grafanaUrl: undefined,
    evaluationIntervalMs: 15_000,
    random: () => 0.5,
  });
  notifier.start();
});

afterAll(async () => {
  await notifier.stop();
  await hook.close();
  rmSync(dir, { recursive: true, force: true });
});

/** advance moves time in 1 s steps, letting each step's sends (real HTTP) finish before the next. */
async function advance(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 1_000) {
    timer.advance(Math.min(1_000, left));
    await notifier.dispatcher.idle();
    await notifier.deliverer.idle();
  }
}

describe('a webhook down for 10 minutes', () => {
  it('gets every notification afterwards, in order, and nothing is lost', async () => {
    const made: string[] = [];
    for (let t = 0; t < OUTAGE_MS; t += ALERT_EVERY_MS) {
      const server = `srv-${String(made.length).padStart(2, '0')}`;
      made.push(server);
      notifier.alertsChanged([
        {
          labels: { alertname: 'HighCPUUsage', server, severity: 'warning' },
          annotations: { summary: `High CPU on ${server}` },
          status: 'firing',
          startsAt: clock.now(),
          endsAt: undefined,
          value: 90,
          generatorURL: 'http://exporter.test/graph',
        },
      ]);
      await advance(ALERT_EVERY_MS);
    }
    const duringOutage = hook.received.length;
    // Backoff kept the attempts few: far below one per second of the outage.
    expect(duringOutage).toBeGreaterThan(5);
    expect(duringOutage).toBeLessThan(40);
    const status = notifier.deliverer.status()[0];
    expect(status?.queued).toBe(made.length);
    expect(status?.lastError).toBe('HTTP 503: maintenance');

    await advance(DEFAULT_OUTBOX.maxBackoffMs + 30_000);
    const delivered = hook.received
      .slice(duringOutage)
      .map((r) => (r.body as { groupLabels: { server: string } }).groupLabels.server);
    expect(delivered).toEqual(made);
    expect(notifier.outbox.size).toBe(0);
    expect(notifier.outbox.deadLetters()).toEqual([]);
    const recent = notifier.notifications().recent;
    expect(recent.filter((r) => r.outcome === 'delivered')).toHaveLength(made.length);
  }, 120_000);
});
