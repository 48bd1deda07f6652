/**
 * The exporter's Alertmanager receiver against Prometheus's own Alertmanager 0.25: the composed exporter's
 * rules fire, the forwarder posts them to Alertmanager's API v2, Alertmanager groups them (by alertname and
 * server), applies its own silence, and delivers to a local webhook stand-in; then a server goes down, the
 * alert resolves, and Alertmanager delivers the resolution. Alertmanager's fingerprints must equal ours.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exporter } from '../src/compose.js';
import { fingerprint } from '../src/notify/notification.js';
import { DEFAULT_OPTIONS, type ExporterOptions } from '../src/options.js';
import { Fleet } from '../src/simulator/index.js';
import { ManualClock } from '../src/util/clock.js';
import { startAlertmanager, type AlertmanagerPeer } from './alertmanager-peer.js';
import { startInProcess } from './in-process.js';
import { pollUntil } from './poll.js';
import { StandInReceiver, type Received } from './stand-in-receiver.js';

const TICK = 15_000;
// Alertmanager judges endsAt against its wall clock, so simulated time starts now.
const T0 = Math.floor(Date.now() / TICK) * TICK;
const RULES = `
groups:
  - name: am-test
    interval: 15s
    rules:
      - alert: MemoryPresent
        expr: openmanager_memory_total_bytes{server=~"web-0[12]"} > 0
        labels: { severity: critical }
        annotations: { summary: 'memory on {{ $labels.server }}' }
`;

interface WebhookBody {
  receiver: string;
  status: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  version: string;
  alerts: {
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }[];
}

let am: AlertmanagerPeer;
let hook: StandInReceiver;
let ex: Exporter;
let dir: string;
const clock = new ManualClock(T0);
const fleet = new Fleet({ seed: 42, scenarioRatePerHour: 0, epoch: T0 - 3_600_000 });

const bodies = (): WebhookBody[] => hook.received.map((r: Received) => r.body as WebhookBody);

beforeAll(async () => {
  hook = await StandInReceiver.start();
  am = await startAlertmanager(`${hook.url}/am-webhook`);
  // Alertmanager's own silence: web-02 is muted there, not here.
  const silence = await fetch(`${am.base}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: [{ name: 'server', value: 'web-02', isRegex: false, isEqual: true }],
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'test',
      comment: 'muted in Alertmanager',
    }),
  });
  expect(silence.status).toBe(200);
  dir = mkdtempSync(join(tmpdir(), 'om-am-test-'));
  writeFileSync(join(dir, 'rules.yml'), RULES);
  writeFileSync(
    join(dir, 'notify.yml'),
    'receivers:\n  - { name: am, type: alertmanager, resend_delay: 1m }\n',
  );
  const options: ExporterOptions = {
    ...DEFAULT_OPTIONS,
    dataDir: join(dir, 'data'),
    port: 0,
    backfill: 0,
    scenarioRate: 0,
    ruleFiles: [join(dir, 'rules.yml')],
    notifyConfig: join(dir, 'notify.yml'),
  };
  ex = await startInProcess(options, { fleet, clock, env: { ALERTMANAGER_URL: am.base } });
}, 120_000);

afterAll(async () => {
  await ex?.app.stop();
  await am?.stop();
  await hook?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Alertmanager 0.25 as a peer', () => {
  it('receives the firing alerts, groups them, applies its silence, and delivers the webhook', async () => {
    await ex.app.tick();
    const got = await pollUntil(
      'Alertmanager to deliver web-01',
      () => bodies().find((b) => b.groupLabels.server === 'web-01' && b.status === 'firing'),
      {
        timeoutMs: 30_000,
        giveUp: () => (ex.notifier.outbox.deadLetters().length > 0 ? 'dead letter' : undefined),
      },
    );
    expect(got).toMatchObject({
      receiver: 'hook',
      version: '4',
      groupKey: '{}:{alertname="MemoryPresent", server="web-01"}',
      groupLabels: { alertname: 'MemoryPresent', server: 'web-01' },
    });
    const labels = { alertname: 'MemoryPresent', server: 'web-01', severity: 'critical' };
    expect(got.alerts).toHaveLength(1);
    const a = got.alerts[0]!;
    expect(a.labels).toEqual(labels);
    expect(a.annotations).toEqual({ summary: 'memory on web-01' });
    expect(Date.parse(a.startsAt)).toBe(T0);
    expect(a.fingerprint).toBe(fingerprint(labels));
    expect(a.generatorURL).toContain('/graph?g0.expr=');
    // web-02 reached Alertmanager, which suppressed it.
    const amAlerts = (await (await fetch(`${am.base}/api/v2/alerts`)).json()) as {
      labels: Record<string, string>;
      status: { state: string };
      fingerprint: string;
    }[];
    const states: Record<string, string> = {};
    for (const x of amAlerts) states[x.labels.server ?? ''] = x.status.state;
    expect(states).toEqual({ 'web-01': 'active', 'web-02': 'suppressed' });
    expect(amAlerts.find((x) => x.labels.server === 'web-02')?.fingerprint).toBe(
      fingerprint({ ...labels, server: 'web-02' }),
    );
    expect(bodies().some((b) => b.groupLabels.server === 'web-02')).toBe(false);
    expect(ex.notifier.deliverer.status()[0]).toMatchObject({ name: 'am', queued: 0, lastError: null });
  });

  it('delivers the resolution once the server goes down and the alert resolves', async () => {
    fleet.inject({ kind: 'server_down', server: 'web-01', durationSeconds: 600 }, clock.now());
    clock.advance(TICK);
    await ex.app.tick();
    const resolved = await pollUntil(
      'Alertmanager to deliver the resolution of web-01',
      () => bodies().find((b) => b.groupLabels.server === 'web-01' && b.status === 'resolved'),
      { timeoutMs: 30_000 },
    );
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', labels: { server: 'web-01' } });
    // The resolution time, clamped to Alertmanager's clock when the simulated slot is still ahead of it.
    expect(Date.parse(resolved.alerts[0]!.endsAt)).toBeLessThanOrEqual(T0 + TICK);
    expect(Date.parse(resolved.alerts[0]!.endsAt)).toBeGreaterThan(T0);
  });
});
