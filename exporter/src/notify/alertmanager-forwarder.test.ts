import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../util/clock.js';
import { AlertmanagerForwarder, MAX_BATCH } from './alertmanager-forwarder.js';
import type { AlertmanagerReceiverConfig } from './config.js';
import type { AlertUpdate } from './dispatcher.js';
import { parseMatchers } from './matchers.js';
import { FileOutbox, type Outbox } from './outbox.js';
import { Secret } from './secret.js';
import { SilenceStore } from './silences.js';

const T0 = Date.UTC(2026, 0, 5, 12);
const dirs: string[] = [];
const boxes: Outbox[] = [];
afterEach(async () => {
  for (const b of boxes.splice(0)) await b.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const am = (over: Partial<AlertmanagerReceiverConfig> = {}): AlertmanagerReceiverConfig => ({
  type: 'alertmanager',
  name: 'am',
  url: new Secret('http://127.0.0.1:9093', 'ALERTMANAGER_URL'),
  matchers: [],
  sendResolved: true,
  timeoutMs: 10_000,
  maxAlerts: 0,
  resendDelayMs: 60_000,
  ...over,
});

const firing = (server: string, over: Partial<AlertUpdate> = {}): AlertUpdate => ({
  labels: { alertname: 'HighCPU', server, severity: 'warning' },
  annotations: {},
  status: 'firing',
  startsAt: T0,
  endsAt: undefined,
  value: 90,
  generatorURL: 'http://x/graph',
  ...over,
});

async function rig(receivers: AlertmanagerReceiverConfig[]) {
  const dir = mkdtempSync(join(tmpdir(), 'om-fwd-'));
  dirs.push(dir);
  const outbox = await FileOutbox.open(dir);
  boxes.push(outbox);
  const clock = new ManualClock(T0);
  const f = new AlertmanagerForwarder({
    receivers,
    outbox,
    silences: SilenceStore.open(undefined, clock),
    evaluationIntervalMs: 15_000,
    externalURL: () => 'http://exporter',
    enqueued: () => {},
    wallNow: () => clock.now(),
  });
  const batches = () =>
    outbox
      .pending()
      .map((e) => e.notification.alerts.map((a) => `${a.labels.server}:${a.status}:${a.endsAt}`));
  const sync = (alerts: AlertUpdate[], t: number): Promise<void> => {
    clock.set(t); // wall time moves with evaluation time here
    return f.sync(alerts, t);
  };
  return { f, outbox, batches, clock, sync };
}

describe('AlertmanagerForwarder', () => {
  it('sends firing alerts with endsAt 4 resend periods ahead, re-sends each resend_delay, sends a resolution at once', async () => {
    const r = await rig([am()]);
    await r.sync([firing('a')], T0);
    await r.sync([firing('a')], T0 + 15_000); // not due yet
    await r.sync([firing('a')], T0 + 60_000); // resend_delay passed
    await r.sync([firing('a', { status: 'resolved', endsAt: T0 + 75_000 })], T0 + 75_000);
    await r.sync([firing('a', { status: 'resolved', endsAt: T0 + 75_000 })], T0 + 90_000);
    expect(r.batches()).toEqual([
      ['a:firing:2026-01-05T12:04:00.000Z'],
      ['a:firing:2026-01-05T12:05:00.000Z'],
      ['a:resolved:2026-01-05T12:01:15.000Z'],
    ]);
  });

  it('applies matchers and batches 64 alerts per request', async () => {
    const r = await rig([am({ matchers: parseMatchers('server=~"s.*"') })]);
    const alerts = Array.from({ length: 130 }, (_, i) => firing(`s${i}`)).concat([firing('other')]);
    await r.sync(alerts, T0);
    expect(r.batches().map((b) => b.length)).toEqual([MAX_BATCH, MAX_BATCH, 2]);
    expect(
      r
        .batches()
        .flat()
        .some((s) => s.startsWith('other')),
    ).toBe(false);
  });

  it('clamps simulated times that run ahead of the wall clock (under --speed) to now', async () => {
    const r = await rig([am()]);
    r.clock.set(T0 - 3_600_000);
    await r.f.sync([firing('a', { status: 'resolved', endsAt: T0 + 60_000 })], T0 + 60_000);
    expect(r.batches()).toEqual([['a:resolved:2026-01-05T11:00:00.000Z']]);
    expect(r.outbox.pending()[0]?.notification.alerts[0]?.startsAt).toBe('2026-01-05T11:00:00.000Z');
  });
});
