import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../util/clock.js';
import { silentLogger } from '../util/logger.js';
import { ManualTimer } from '../util/timer.js';
import { DEFAULT_ROUTE, type WebhookReceiverConfig } from './config.js';
import { Dispatcher, needsUpdate, type AlertUpdate } from './dispatcher.js';
import { parseMatchers } from './matchers.js';
import { NotificationLog } from './notification-log.js';
import { fingerprint, type Notification } from './notification.js';
import { FileOutbox, type Outbox } from './outbox.js';
import { Secret } from './secret.js';
import { SilenceStore } from './silences.js';

const T0 = Date.UTC(2026, 0, 5, 12);
const S = 1_000;
const M = 60 * S;

const dirs: string[] = [];
const outboxes: Outbox[] = [];
afterEach(async () => {
  for (const o of outboxes.splice(0)) await o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function receiver(name: string, over: Partial<WebhookReceiverConfig> = {}): WebhookReceiverConfig {
  return {
    type: 'webhook',
    name,
    url: new Secret('http://127.0.0.1:9/hook', 'WEBHOOK_URL'),
    matchers: [],
    sendResolved: true,
    timeoutMs: 10 * S,
    maxAlerts: 0,
    ...DEFAULT_ROUTE,
    groupWaitMs: 30 * S,
    groupIntervalMs: 5 * M,
    repeatIntervalMs: 4 * 60 * M,
    ...over,
  };
}

function alert(name: string, server: string, over: Partial<AlertUpdate> = {}): AlertUpdate {
  return {
    labels: { alertname: name, server, severity: 'warning' },
    annotations: { summary: `${name} on ${server}` },
    status: 'firing',
    startsAt: T0,
    endsAt: undefined,
    value: 91.5,
    generatorURL: 'http://127.0.0.1:3001/graph?g0.expr=up',
    ...over,
  };
}

async function rig(receivers: WebhookReceiverConfig[], logDir?: string) {
  const clock = new ManualClock(T0);
  const timer = new ManualTimer(clock);
  const dir = mkdtempSync(join(tmpdir(), 'om-dispatch-'));
  dirs.push(dir);
  const log = NotificationLog.open(logDir, T0);
  const outbox = await FileOutbox.open(dir);
  outboxes.push(outbox);
  const silences = SilenceStore.open(undefined, clock);
  const kicks: string[] = [];
  const d = new Dispatcher({
    receivers,
    outbox,
    silences,
    clock,
    timer,
    logger: silentLogger(),
    externalURL: () => 'http://exporter.test',
    enqueued: (r) => kicks.push(r),
    log,
  });
  const sent = (r?: string): Notification[] => outbox.pending(r).map((e) => e.notification);
  const advance = async (ms: number): Promise<void> => {
    timer.advance(ms);
    await d.idle();
  };
  return { clock, timer, outbox, silences, d, sent, advance, kicks, log };
}

const fingerprintOf = (server: string): string => fingerprint(alert('HighCPU', server).labels);

const summary = (n: Notification): string =>
  `${n.status} ${JSON.stringify(n.groupLabels)} ${n.alerts.map((a) => `${a.labels.server}:${a.status}`).join(',')}`;

describe('Dispatcher', () => {
  it('waits group_wait, then sends the group’s alerts together; one group per alertname and server', async () => {
    const r = await rig([receiver('hook')]);
    r.d.update([alert('HighCPU', 'web-01')]);
    await r.advance(10 * S);
    r.d.update([
      alert('HighCPU', 'web-01', { labels: { alertname: 'HighCPU', server: 'web-01', core: '1' } }),
    ]);
    r.d.update([alert('HighCPU', 'web-02')]);
    await r.advance(19 * S);
    expect(r.sent()).toEqual([]);
    await r.advance(1 * S);
    expect(r.sent().map(summary)).toEqual([
      'firing {"alertname":"HighCPU","server":"web-01"} web-01:firing,web-01:firing',
    ]);
    await r.advance(10 * S);
    expect(r.sent()).toHaveLength(2);
    const n = r.sent()[0];
    expect(n).toMatchObject({
      receiver: 'hook',
      groupKey: '{}/{}:{alertname="HighCPU", server="web-01"}',
      // The second alert has no severity label: only the labels both share are common.
      commonLabels: { alertname: 'HighCPU', server: 'web-01' },
      commonAnnotations: { summary: 'HighCPU on web-01' },
      externalURL: 'http://exporter.test',
      truncatedAlerts: 0,
    });
    expect(n?.alerts[0]).toMatchObject({
      startsAt: new Date(T0).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      value: 91.5,
    });
    expect(r.kicks).toEqual(['hook', 'hook']);
  });

  it('after the first flush: new alerts wait for group_interval; no change sends nothing until repeat_interval', async () => {
    const r = await rig([receiver('hook', { groupBy: ['alertname'] })]);
    r.d.update([alert('HighCPU', 'web-01')]);
    await r.advance(30 * S);
    expect(r.sent()).toHaveLength(1);
    r.d.update([alert('HighCPU', 'web-02', { startsAt: T0 + 30 * S })]);
    await r.advance(4 * M);
    expect(r.sent()).toHaveLength(1);
    await r.advance(1 * M); // 5 min after the first flush
    expect(r.sent().map(summary)).toEqual([
      'firing {"alertname":"HighCPU"} web-01:firing',
      'firing {"alertname":"HighCPU"} web-01:firing,web-02:firing',
    ]);
    await r.advance(3 * 60 * M); // intervals with no change
    expect(r.sent()).toHaveLength(2);
    await r.advance(60 * M); // repeat_interval (4 h) since the last notification
    expect(r.sent()).toHaveLength(3);
  });

  it('sends resolved alerts with endsAt, then drops the emptied group', async () => {
    const r = await rig([receiver('hook')]);
    r.d.update([alert('HighCPU', 'web-01')]);
    await r.advance(30 * S);
    r.d.update([alert('HighCPU', 'web-01', { status: 'resolved', endsAt: T0 + 2 * M })]);
    await r.advance(5 * M);
    const last = r.sent()[1];
    expect(last?.status).toBe('resolved');
    expect(last?.alerts[0]?.endsAt).toBe(new Date(T0 + 2 * M).toISOString());
    expect(r.d.groupCount).toBe(0);
  });

  it('without send_resolved, a resolution is not sent; a resolution never notified as firing is not either', async () => {
    const r = await rig([receiver('quiet', { sendResolved: false }), receiver('hook')]);
    r.d.update([alert('HighCPU', 'web-01')]);
    await r.advance(30 * S);
    r.d.update([alert('HighCPU', 'web-01', { status: 'resolved', endsAt: T0 + M })]);
    await r.advance(5 * M);
    expect(r.sent('quiet').map((n) => n.status)).toEqual(['firing']);
    expect(r.sent('hook').map((n) => n.status)).toEqual(['firing', 'resolved']);
    // Fires and resolves inside group_wait: nothing at all.
    r.d.update([alert('Flap', 'web-03', { startsAt: r.clock.now() })]);
    await r.advance(10 * S);
    r.d.update([
      alert('Flap', 'web-03', {
        startsAt: r.clock.now() - 10 * S,
        status: 'resolved',
        endsAt: r.clock.now(),
      }),
    ]);
    await r.advance(30 * S);
    expect(r.sent('hook')).toHaveLength(2);
    expect(r.d.groupCount).toBe(0);
  });

  it('routes by matchers: only critical alerts reach the critical receiver', async () => {
    const r = await rig([
      receiver('oncall', { matchers: parseMatchers('severity="critical"') }),
      receiver('all'),
    ]);
    r.d.update([
      alert('HighCPU', 'web-01'),
      alert('CriticalCPU', 'web-02', {
        labels: { alertname: 'CriticalCPU', server: 'web-02', severity: 'critical' },
      }),
    ]);
    await r.advance(30 * S);
    expect(r.sent('oncall').map((n) => n.groupKey)).toEqual([
      '{}/{severity="critical"}:{alertname="CriticalCPU", server="web-02"}',
    ]);
    expect(r.sent('all')).toHaveLength(2);
  });

  it('leaves silenced alerts out while the silence holds, and sends them once it expired', async () => {
    const r = await rig([receiver('hook')]);
    const id = await r.silences.create({
      matchers: [{ name: 'server', value: 'web-0[12]', isRegex: true, isEqual: true }],
      startsAt: T0,
      endsAt: T0 + 10 * M,
      createdBy: 'test',
      comment: 'maintenance',
    });
    r.d.update([alert('HighCPU', 'web-01'), alert('HighCPU', 'web-03')]);
    await r.advance(30 * S);
    expect(r.sent().map((n) => n.groupLabels.server)).toEqual(['web-03']);
    await r.advance(5 * M);
    expect(r.sent()).toHaveLength(1);
    expect(await r.silences.expire(id)).toBe(true);
    expect(r.silences.get(id)?.status.state).toBe('expired');
    await r.advance(5 * M);
    expect(r.sent().map((n) => n.groupLabels.server)).toEqual(['web-03', 'web-01']);
  });

  it('caps alerts per notification at max_alerts and counts the rest', async () => {
    const r = await rig([receiver('hook', { groupBy: ['alertname'], maxAlerts: 2 })]);
    r.d.update(['a', 'b', 'c', 'd'].map((s) => alert('HighCPU', s)));
    await r.advance(30 * S);
    expect(r.sent()[0]).toMatchObject({ truncatedAlerts: 2 });
    expect(r.sent()[0]?.alerts).toHaveLength(2);
  });

  it('sends an alert that has been firing longer than group_wait at once', async () => {
    const r = await rig([receiver('hook')]);
    r.clock.advance(10 * M);
    r.d.update([alert('HighCPU', 'web-01')]);
    await r.advance(0);
    expect(r.sent()).toHaveLength(1);
  });

  it('after a restart, does not notify again what the persisted log says was notified; does notify changes', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'om-nflog-'));
    dirs.push(logDir);
    const before = await rig([receiver('hook')], logDir);
    before.d.update([alert('HighCPU', 'web-01'), alert('HighCPU', 'web-02')]);
    await before.advance(30 * S);
    expect(before.sent()).toHaveLength(2);
    await before.log.flush();
    // The process restarts; its rules fire the same alerts again, and one more.
    const after = await rig([receiver('hook')], logDir);
    after.d.update([alert('HighCPU', 'web-01'), alert('HighCPU', 'web-02'), alert('HighCPU', 'web-03')]);
    await after.advance(30 * S);
    expect(after.sent().map((n) => n.groupLabels.server)).toEqual(['web-03']);
  });

  it('after a crash before the log was written, the queued notifications stand for what was notified', async () => {
    const before = await rig([receiver('hook')]);
    before.d.update([alert('HighCPU', 'web-01'), alert('HighCPU', 'web-02')]);
    await before.advance(30 * S);
    expect(before.sent()).toHaveLength(2);
    // Killed now, before the log's coalesced save ran: the restarted process's log knows nothing; the outbox
    // holds both notifications.
    await before.d.stop();
    const log = NotificationLog.open(undefined, T0 + 30 * S);
    log.recover(before.outbox.pending());
    const after = new Dispatcher({
      receivers: [receiver('hook')],
      outbox: before.outbox,
      silences: before.silences,
      clock: before.clock,
      timer: before.timer,
      logger: silentLogger(),
      externalURL: () => 'http://exporter.test',
      enqueued: () => undefined,
      log,
    });
    // The restarted rules fire the same alerts again, and web-01 gets a second alert: only that change goes out.
    after.update([
      alert('HighCPU', 'web-01', { startsAt: T0 + 40 * S }),
      alert('HighCPU', 'web-02', { startsAt: T0 + 40 * S }),
      alert('HighCPU', 'web-01', { labels: { alertname: 'HighCPU', server: 'web-01', core: '3' } }),
    ]);
    before.timer.advance(30 * S);
    await after.idle();
    expect(before.sent().map(summary)).toEqual([
      'firing {"alertname":"HighCPU","server":"web-01"} web-01:firing',
      'firing {"alertname":"HighCPU","server":"web-02"} web-02:firing',
      'firing {"alertname":"HighCPU","server":"web-01"} web-01:firing,web-01:firing',
    ]);
  });

  it('after a restart, notifies as resolved what was firing before it and is not active any more', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'om-nflog-'));
    dirs.push(logDir);
    const before = await rig([receiver('hook')], logDir);
    before.d.update([alert('HighCPU', 'web-01'), alert('HighCPU', 'web-02')]);
    await before.advance(30 * S);
    await before.log.flush();
    // Restarted: web-02 still fires, web-01 stopped while the exporter was down.
    const after = await rig([receiver('hook')], logDir);
    const web02 = after.d.resolveGone(new Set([fingerprintOf('web-02')]), T0 + M);
    expect(web02).toBe(1);
    await after.advance(30 * S);
    expect(after.sent().map(summary)).toEqual([
      'resolved {"alertname":"HighCPU","server":"web-01"} web-01:resolved',
    ]);
    expect(after.sent()[0]?.alerts[0]).toMatchObject({
      startsAt: new Date(T0).toISOString(),
      endsAt: new Date(T0 + M).toISOString(),
      annotations: { summary: 'HighCPU on web-01' },
    });
    // Told once: the group is gone from the log, so a second check finds nothing to resolve.
    expect(after.d.resolveGone(new Set([fingerprintOf('web-02')]), T0 + 2 * M)).toBe(0);
    await after.advance(5 * M);
    expect(after.sent()).toHaveLength(1);
  });

  it('groups by every label with "..."', async () => {
    const r = await rig([receiver('hook', { groupBy: ['...'] })]);
    r.d.update([alert('HighCPU', 'a'), alert('HighCPU', 'b')]);
    await r.advance(30 * S);
    expect(r.sent().map((n) => n.groupKey)).toEqual([
      '{}/{}:{alertname="HighCPU", server="a", severity="warning"}',
      '{}/{}:{alertname="HighCPU", server="b", severity="warning"}',
    ]);
  });
});

describe('needsUpdate', () => {
  const set = (...xs: string[]): Set<string> => new Set(xs);
  it.each<[string, Parameters<typeof needsUpdate>, boolean]>([
    ['first, firing', [undefined, set('a'), set(), true, 0, 10], true],
    ['first, resolved only', [undefined, set(), set('a'), true, 0, 10], false],
    ['new firing', [{ firing: set('a'), resolved: set(), at: 0 }, set('a', 'b'), set(), true, 1, 10], true],
    ['same firing', [{ firing: set('a'), resolved: set(), at: 0 }, set('a'), set(), true, 1, 10], false],
    ['all resolved', [{ firing: set('a'), resolved: set(), at: 0 }, set(), set('a'), false, 1, 10], true],
    [
      'newly resolved',
      [{ firing: set('a', 'b'), resolved: set(), at: 0 }, set('a'), set('b'), true, 1, 10],
      true,
    ],
    [
      'newly resolved, not sent',
      [{ firing: set('a', 'b'), resolved: set(), at: 0 }, set('a'), set('b'), false, 1, 10],
      false,
    ],
    ['repeat due', [{ firing: set('a'), resolved: set(), at: 0 }, set('a'), set(), true, 10, 10], true],
  ])('%s', (_name, args, want) => {
    expect(needsUpdate(...args)).toBe(want);
  });
});
