import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../util/clock.js';
import { silentLogger } from '../util/logger.js';
import { ManualTimer } from '../util/timer.js';
import type { OutboxConfig } from './config.js';
import { Deliverer } from './deliverer.js';
import { DeliveryError } from './http-client.js';
import type { Notification } from './notification.js';
import { createNotifyMetrics } from './notify-metrics.js';
import { FileOutbox, type Outbox } from './outbox.js';
import type { Receiver, SendContext } from './receiver.js';

const T0 = Date.UTC(2026, 0, 5);
const CONFIG: OutboxConfig = {
  maxAgeMs: 3_600_000,
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  maxPending: 10_000,
};

const dirs: string[] = [];
const outboxes: Outbox[] = [];
afterEach(async () => {
  for (const o of outboxes.splice(0)) await o.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'om-deliverer-'));
  dirs.push(d);
  return d;
}

function note(group: string, seq: number): Notification {
  return {
    receiver: 'fake',
    groupKey: `{}:{server="${group}"}`,
    status: 'firing',
    groupLabels: { server: group, seq: String(seq) },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    alerts: [],
    truncatedAlerts: 0,
  };
}

/** FakeReceiver stands in for an HTTP receiver: it answers as told by `answer(now)`. */
class FakeReceiver implements Receiver {
  readonly name = 'fake';
  readonly type = 'webhook' as const;
  readonly got: { seq: string; group: string; key: string; at: number }[] = [];
  answer: (now: number) => DeliveryError | undefined = () => undefined;
  constructor(
    private readonly clock: ManualClock,
    readonly concurrency = 4,
    readonly minIntervalMs = 0,
  ) {}
  send(n: Notification, ctx: SendContext): Promise<void> {
    const err = this.answer(this.clock.now());
    if (err) return Promise.reject(err);
    this.got.push({
      seq: n.groupLabels.seq ?? '',
      group: n.groupKey,
      key: ctx.idempotencyKey,
      at: this.clock.now(),
    });
    return Promise.resolve();
  }
}

interface Rig {
  clock: ManualClock;
  timer: ManualTimer;
  outbox: Outbox;
  receiver: FakeReceiver;
  deliverer: Deliverer;
  registry: Registry;
  enqueue(group: string, seq: number): Promise<void>;
  advance(ms: number): Promise<void>;
}

async function rig(
  opts: { concurrency?: number; minIntervalMs?: number; config?: OutboxConfig; dir?: string } = {},
): Promise<Rig> {
  const clock = new ManualClock(T0);
  const timer = new ManualTimer(clock);
  const outbox = await FileOutbox.open(opts.dir ?? tempDir());
  outboxes.push(outbox);
  const receiver = new FakeReceiver(clock, opts.concurrency, opts.minIntervalMs);
  const registry = new Registry();
  const late: { deliverer?: Deliverer } = {};
  const metrics = createNotifyMetrics(registry, {
    receivers: () => ['fake'],
    queueLength: (r) => outbox.pending(r).length,
    oldestPendingAgeMs: (r) => late.deliverer?.oldestPendingAgeMs(r) ?? 0,
  });
  const deliverer = new Deliverer({
    outbox,
    receivers: [receiver],
    config: opts.config ?? CONFIG,
    clock,
    timer,
    logger: silentLogger(),
    metrics,
    random: () => 0.5,
  });
  late.deliverer = deliverer;
  const d = deliverer;
  d.start();
  return {
    clock,
    timer,
    outbox,
    receiver,
    deliverer: d,
    registry,
    async enqueue(group, seq) {
      await outbox.add([{ receiver: 'fake', createdAt: clock.now(), notification: note(group, seq) }]);
      d.kick('fake');
      await d.idle();
    },
    async advance(ms) {
      // Step in 1 s slices so sends started by a timer finish before the next timer is due, as in real time.
      for (let left = ms; left > 0; left -= 1_000) {
        timer.advance(Math.min(1_000, left));
        await d.idle();
      }
    },
  };
}

async function counter(registry: Registry, outcome: string): Promise<number> {
  const m = await registry.getSingleMetric('openmanager_notifications_total')?.get();
  return m?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('Deliverer', () => {
  it('delivers in outbox order and acknowledges each delivery', async () => {
    const r = await rig();
    for (let i = 0; i < 6; i++) await r.enqueue(`g${i % 2}`, i);
    expect(r.receiver.got.map((g) => g.seq)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(r.outbox.size).toBe(0);
    expect(await counter(r.registry, 'delivered')).toBe(6);
    expect(r.deliverer.recent()[0]).toMatchObject({
      outcome: 'delivered',
      receiver: 'fake',
      id: 6,
      error: null,
    });
    await r.deliverer.stop();
  });

  it('a receiver down for 10 minutes gets everything afterwards, in order, with backoff capped at max_backoff', async () => {
    const r = await rig();
    const downUntil = T0 + 10 * 60_000;
    const attempts: number[] = [];
    r.receiver.answer = (now) => {
      if (now >= downUntil) return undefined;
      attempts.push(now);
      return new DeliveryError('retryable', 'HTTP 503: unavailable', 503);
    };
    // A notification every 30 s during the outage, from 20 groups.
    for (let i = 0; i < 20; i++) {
      await r.enqueue(`g${i}`, i);
      await r.advance(30_000);
    }
    expect(r.receiver.got).toEqual([]);
    expect(r.outbox.size).toBe(20);
    const status = r.deliverer.status()[0];
    expect(status?.consecutiveFailures).toBeGreaterThan(3);
    expect(status?.lastError).toBe('HTTP 503: unavailable');
    // Backoff: 0.75 s, 1.5 s, 3 s … (jitter 0.5 → 3/4 of the base), never more than max_backoff apart.
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] ?? 0));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(CONFIG.maxBackoffMs);
    expect(gaps[0]).toBe(750);
    expect(attempts.length).toBeLessThan(30);
    // Back up: within one max_backoff everything arrives, in the order queued.
    await r.advance(CONFIG.maxBackoffMs);
    expect(r.receiver.got.map((g) => Number(g.seq))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(r.outbox.size).toBe(0);
    expect(r.outbox.deadLetters()).toEqual([]);
    expect(await counter(r.registry, 'failed')).toBe(attempts.length);
    await r.deliverer.stop();
  });

  it('waits exactly the Retry-After of a 429 and counts it as rate_limited', async () => {
    const r = await rig({ concurrency: 1 });
    let first = true;
    r.receiver.answer = () => {
      if (!first) return undefined;
      first = false;
      return new DeliveryError('retryable', 'HTTP 429: slow down', 429, 7_000);
    };
    await r.enqueue('g', 1);
    expect(r.receiver.got).toEqual([]);
    expect(r.deliverer.status()[0]?.pausedUntil).toBe(T0 + 7_000);
    await r.advance(6_000);
    expect(r.receiver.got).toEqual([]);
    await r.advance(1_000);
    expect(r.receiver.got.map((g) => g.at)).toEqual([T0 + 7_000]);
    expect(await counter(r.registry, 'rate_limited')).toBe(1);
    await r.deliverer.stop();
  });

  it('spaces sends by the receiver minimum interval (Slack: 1 per second)', async () => {
    const r = await rig({ concurrency: 1, minIntervalMs: 1_000 });
    await r.outbox.add(
      Array.from({ length: 5 }, (_, i) => ({
        receiver: 'fake',
        createdAt: T0,
        notification: note(`g${i}`, i),
      })),
    );
    r.deliverer.kick('fake');
    await r.deliverer.idle();
    await r.advance(5_000);
    expect(r.receiver.got.map((g) => g.at - T0)).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
    await r.deliverer.stop();
  });

  it('dead-letters a notification the receiver refuses for good, and goes on with the next', async () => {
    const r = await rig();
    r.receiver.answer = () => new DeliveryError('permanent', 'HTTP 400: bad payload', 400);
    await r.enqueue('g', 1);
    r.receiver.answer = () => undefined;
    await r.enqueue('g', 2);
    expect(r.receiver.got.map((g) => g.seq)).toEqual(['2']);
    expect(r.outbox.deadLetters().map((d) => d.reason)).toEqual([
      'refused by the receiver: HTTP 400: bad payload',
    ]);
    expect(await counter(r.registry, 'dead_lettered')).toBe(1);
    await r.deliverer.stop();
  });

  it('dead-letters a notification older than max_age, keeping the last error', async () => {
    const r = await rig({ config: { ...CONFIG, maxAgeMs: 120_000 } });
    r.receiver.answer = () => new DeliveryError('retryable', 'request failed: ECONNREFUSED');
    await r.enqueue('g', 1);
    await r.advance(180_000);
    expect(r.outbox.size).toBe(0);
    const [dead] = r.outbox.deadLetters();
    expect(dead?.reason).toMatch(
      /not delivered within max_age \(120 s, \d+ attempts; last error: request failed: ECONNREFUSED\)/,
    );
    await r.deliverer.stop();
  });

  it('keeps at most max_pending waiting: the oldest beyond it become dead letters', async () => {
    const r = await rig({ config: { ...CONFIG, maxPending: 5 } });
    r.receiver.answer = () => new DeliveryError('retryable', 'HTTP 503', 503);
    for (let i = 0; i < 8; i++) await r.enqueue(`g${i}`, i);
    expect(r.outbox.pending().map((e) => e.notification.groupLabels.seq)).toEqual(['3', '4', '5', '6', '7']);
    expect(r.outbox.deadLetters().map((d) => d.entry.notification.groupLabels.seq)).toEqual(['0', '1', '2']);
    expect(r.outbox.deadLetters()[0]?.reason).toMatch(/outbox full: more than 5 notifications waiting/);
    await r.deliverer.stop();
  });

  it('never sends two notifications of one group at once, and keeps each group in order', async () => {
    const r = await rig({ concurrency: 8 });
    let inFlight = 0;
    let maxPerGroup = 0;
    const open = new Map<string, number>();
    const order: string[] = [];
    r.receiver.send = async (n: Notification) => {
      inFlight++;
      const g = n.groupKey;
      open.set(g, (open.get(g) ?? 0) + 1);
      maxPerGroup = Math.max(maxPerGroup, open.get(g) ?? 0);
      await new Promise((res) => setImmediate(res));
      order.push(`${g}#${n.groupLabels.seq ?? ''}`);
      open.set(g, (open.get(g) ?? 1) - 1);
      inFlight--;
    };
    await r.outbox.add(
      Array.from({ length: 30 }, (_, i) => ({
        receiver: 'fake',
        createdAt: T0,
        notification: note(`g${i % 3}`, i),
      })),
    );
    r.deliverer.kick('fake');
    await r.deliverer.idle();
    expect(maxPerGroup).toBe(1);
    expect(inFlight).toBe(0);
    for (const g of ['g0', 'g1', 'g2']) {
      const seqs = order.filter((o) => o.includes(`"${g}"`)).map((o) => Number(o.split('#')[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(10);
    }
    await r.deliverer.stop();
  });

  it('after a crash between send and acknowledge, sends again with the same idempotency key', async () => {
    const dir = tempDir();
    const r = await rig({ dir });
    // The process dies right after the receiver took the notification, before the send completes: no ack.
    const got: string[] = [];
    r.receiver.send = (_n, ctx) => {
      got.push(ctx.idempotencyKey);
      return new Promise<void>(() => {});
    };
    await r.outbox.add([{ receiver: 'fake', createdAt: T0, notification: note('g', 1) }]);
    r.deliverer.kick('fake');
    expect(got).toHaveLength(1);
    const again = await rig({ dir });
    await again.deliverer.idle();
    expect(again.receiver.got).toHaveLength(1);
    expect(again.receiver.got[0]?.key).toBe(got[0]);
    expect(again.outbox.size).toBe(0);
    await again.deliverer.stop();
  });
});
