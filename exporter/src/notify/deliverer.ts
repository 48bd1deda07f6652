/**
 * Deliverer drains the outbox into the receivers: for each receiver, its notifications in outbox order, up to
 * the receiver's concurrency but never two of one group at once (so a group's notifications arrive in the
 * order they were made), spaced by the receiver's minimum interval (Slack's one message per second).
 *
 * A failure pauses the whole receiver, not just the notification: with exponential backoff and jitter
 * (initial_backoff doubling up to max_backoff, each pause drawn from its upper half), or exactly the
 * receiver's Retry-After on a 429. While paused nothing is sent; after the pause one notification — the
 * oldest — probes; after its success the backlog drains one notification at a time, and only what was queued
 * after the recovery goes out at full concurrency. So a receiver that was down gets everything afterwards in
 * exactly the order it was queued. A notification older than max_age becomes a dead
 * letter instead of being sent; one the receiver refuses for good (a 4xx other than 408/429) becomes one at
 * once.
 *
 * Time comes from an injected clock and timer, so a ten-minute outage runs in a test in milliseconds.
 */
import type { DeliveryRecord, NotificationOutcome, ReceiverStatus } from '../contract/notifications.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Timer, TimerHandle } from '../util/timer.js';
import type { OutboxConfig } from './config.js';
import { DeliveryError } from './http-client.js';
import { idempotencyKey } from './notification.js';
import type { NotifyMetrics } from './notify-metrics.js';
import type { Outbox, OutboxEntry } from './outbox.js';
import type { Receiver } from './receiver.js';

/** RECENT_RECORDS is how many delivery attempts `recent()` keeps for the API. */
export const RECENT_RECORDS = 200;

/** DelivererDeps are the deliverer's injected parts. */
export interface DelivererDeps {
  readonly outbox: Outbox;
  readonly receivers: readonly Receiver[];
  readonly config: OutboxConfig;
  /** clock is wall time: entry ages, pauses and records. */
  readonly clock: Clock;
  readonly timer: Timer;
  readonly logger: Logger;
  readonly metrics?: NotifyMetrics;
  /** random draws jitter in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/** ReceiverState is one receiver's delivery state. */
class ReceiverState {
  readonly inFlight = new Set<number>();
  readonly inFlightGroups = new Set<string>();
  /** pausedUntil is when sending may resume after a failure (0 = not paused). */
  pausedUntil = 0;
  consecutiveFailures = 0;
  /**
   * drainUpTo is the newest entry id queued when the receiver recovered from failures: the backlog up to it
   * goes one at a time, so it arrives in exactly the order it was queued.
   */
  drainUpTo = 0;
  lastSendAt = -Infinity;
  lastError: string | null = null;
  wake: TimerHandle;
  wakeAt = Infinity;
  constructor(readonly receiver: Receiver) {}
}

/** Deliverer sends the outbox's notifications (see the file comment). */
export class Deliverer {
  private readonly states = new Map<string, ReceiverState>();
  private readonly attempts = new Map<number, number>();
  /** keys caches each pending entry's idempotency key (a digest of its alerts). */
  private readonly keys = new Map<number, string>();
  private readonly recentRecords: DeliveryRecord[] = [];
  private readonly sends = new Set<Promise<void>>();
  private running = false;

  constructor(private readonly deps: DelivererDeps) {
    for (const r of deps.receivers) this.states.set(r.name, new ReceiverState(r));
  }

  /** start begins delivering whatever the outbox holds (after a restart: everything unacknowledged). */
  start(): void {
    this.running = true;
    for (const name of this.states.keys()) this.pump(name);
  }

  /** kick tells the deliverer that a receiver's queue grew. */
  kick(receiver: string): void {
    if (this.running) this.pump(receiver);
  }

  /** stop sends nothing new and waits for the sends in flight (their acks are written). */
  async stop(): Promise<void> {
    this.running = false;
    for (const s of this.states.values()) this.disarm(s);
    await Promise.allSettled([...this.sends]);
  }

  /** idle resolves once nothing is in flight (tests and benches). */
  async idle(): Promise<void> {
    while (this.sends.size > 0) await Promise.allSettled([...this.sends]);
  }

  /** recent lists the latest attempts, newest first. */
  recent(): readonly DeliveryRecord[] {
    return [...this.recentRecords].reverse();
  }

  /** status describes every receiver's queue and health. */
  status(): ReceiverStatus[] {
    const now = this.deps.clock.now();
    return [...this.states.values()].map((s) => ({
      name: s.receiver.name,
      type: s.receiver.type,
      queued: this.deps.outbox.pending(s.receiver.name).length,
      oldestPendingAgeSeconds: this.oldestPendingAgeMs(s.receiver.name) / 1000,
      inFlight: s.inFlight.size,
      pausedUntil: s.pausedUntil > now ? s.pausedUntil : null,
      consecutiveFailures: s.consecutiveFailures,
      lastError: s.lastError,
    }));
  }

  /** oldestPendingAgeMs is the age of a receiver's oldest unacknowledged notification (0 when none). */
  oldestPendingAgeMs(receiver: string): number {
    const first = this.deps.outbox.pending(receiver)[0];
    return first ? Math.max(0, this.deps.clock.now() - first.createdAt) : 0;
  }

  /** pump starts every send the receiver's state allows now, and arms a wake-up for the next one. */
  private pump(name: string): void {
    const s = this.states.get(name);
    if (!s || !this.running) return;
    const { clock, config, outbox } = this.deps;
    const now = clock.now();
    this.shed(s, now);
    if (now < s.pausedUntil) return this.arm(s, s.pausedUntil);
    // After a failure only one probe is in flight until a send succeeds again; then the backlog drains one at
    // a time (in queue order), and only what is queued after the recovery goes out concurrently again.
    const oldest = outbox.pending(name)[0];
    const draining = oldest !== undefined && oldest.id <= s.drainUpTo;
    const limit = s.consecutiveFailures > 0 || draining ? 1 : s.receiver.concurrency;
    // A copy: expiring an entry removes it from the outbox's list while the loop runs.
    for (const entry of [...outbox.pending(name)]) {
      if (s.inFlight.size >= limit) break;
      if (s.inFlight.has(entry.id) || s.inFlightGroups.has(entry.notification.groupKey)) continue;
      if (now - entry.createdAt > config.maxAgeMs) {
        this.expire(s, entry, now);
        continue;
      }
      const nextSlot = s.lastSendAt + s.receiver.minIntervalMs;
      if (now < nextSlot) return this.arm(s, nextSlot);
      this.send(s, entry, now);
    }
  }

  /** shed dead-letters the oldest waiting notifications beyond max_pending (never one in flight). */
  private shed(s: ReceiverState, now: number): void {
    const { outbox, config } = this.deps;
    const pending = outbox.pending(s.receiver.name);
    let excess = pending.length - config.maxPending;
    if (excess <= 0) return;
    const reason = `outbox full: more than ${config.maxPending} notifications waiting for this receiver (max_pending)`;
    for (const entry of [...pending]) {
      if (excess <= 0) break;
      if (s.inFlight.has(entry.id)) continue;
      this.drop(s, entry, now, reason);
      excess--;
    }
  }

  private arm(s: ReceiverState, at: number): void {
    if (s.wake !== undefined && s.wakeAt <= at) return;
    this.disarm(s);
    s.wakeAt = at;
    s.wake = this.deps.timer.set(() => {
      s.wake = undefined;
      s.wakeAt = Infinity;
      this.pump(s.receiver.name);
    }, at - this.deps.clock.now());
  }

  private disarm(s: ReceiverState): void {
    if (s.wake !== undefined) this.deps.timer.clear(s.wake);
    s.wake = undefined;
    s.wakeAt = Infinity;
  }

  private expire(s: ReceiverState, entry: OutboxEntry, now: number): void {
    const attempts = this.attempts.get(entry.id) ?? 0;
    this.drop(
      s,
      entry,
      now,
      `not delivered within max_age (${Math.round(this.deps.config.maxAgeMs / 1000)} s, ${attempts} attempts; last error: ${s.lastError ?? 'none'})`,
    );
  }

  /** drop turns a waiting notification into a dead letter without sending it. */
  private drop(s: ReceiverState, entry: OutboxEntry, now: number, reason: string): void {
    const attempts = this.attempts.get(entry.id) ?? 0;
    this.attempts.delete(entry.id);
    this.track(
      this.deps.outbox.deadLetter(entry.id, now, reason).catch((err: unknown) => {
        this.deps.logger.error({ err, receiver: s.receiver.name }, 'cannot record a dead letter');
      }),
    );
    this.record(s, entry, attempts, 'dead_lettered', null, reason, now);
    this.keys.delete(entry.id);
    this.deps.logger.warn({ receiver: s.receiver.name, id: entry.id, reason }, 'notification dead-lettered');
  }

  private track(p: Promise<void>): void {
    this.sends.add(p);
    void p.finally(() => this.sends.delete(p));
  }

  private send(s: ReceiverState, entry: OutboxEntry, now: number): void {
    const { receiver } = s;
    const group = entry.notification.groupKey;
    const attempt = (this.attempts.get(entry.id) ?? 0) + 1;
    this.attempts.set(entry.id, attempt);
    s.inFlight.add(entry.id);
    s.inFlightGroups.add(group);
    s.lastSendAt = now;
    const n = entry.notification;
    const key = this.keyOf(entry);
    const began = performance.now();
    const run = (async () => {
      let error: unknown;
      try {
        await receiver.send(n, { idempotencyKey: key, attempt });
      } catch (err) {
        error = err;
      }
      const latencyMs = performance.now() - began;
      this.deps.metrics?.latency.observe({ receiver: receiver.name }, latencyMs / 1000);
      const at = this.deps.clock.now();
      try {
        if (error === undefined) await this.delivered(s, entry, attempt, latencyMs, at);
        else await this.failed(s, entry, attempt, latencyMs, at, error);
      } catch (err) {
        // The outbox could not record the outcome: the entry stays pending and is sent again later.
        this.deps.logger.error({ err, receiver: receiver.name }, 'cannot record a delivery outcome');
      } finally {
        s.inFlight.delete(entry.id);
        s.inFlightGroups.delete(group);
        this.pump(receiver.name);
      }
    })();
    this.track(run);
  }

  private delivered(
    s: ReceiverState,
    entry: OutboxEntry,
    attempt: number,
    latencyMs: number,
    at: number,
  ): Promise<void> {
    if (s.consecutiveFailures > 0) s.drainUpTo = this.deps.outbox.pending(s.receiver.name).at(-1)?.id ?? 0;
    s.consecutiveFailures = 0;
    s.pausedUntil = 0;
    s.lastError = null;
    this.attempts.delete(entry.id);
    // The slot is free once the outbox forgot the entry in memory; its log write need not hold it: an ack lost
    // to a crash means one duplicate send, which at-least-once allows.
    this.track(
      this.deps.outbox.ack(entry.id).catch((err: unknown) => {
        this.deps.logger.error({ err, receiver: s.receiver.name }, 'cannot record an acknowledgement');
      }),
    );
    this.record(s, entry, attempt, 'delivered', latencyMs, null, at);
    this.keys.delete(entry.id);
    return Promise.resolve();
  }

  private async failed(
    s: ReceiverState,
    entry: OutboxEntry,
    attempt: number,
    latencyMs: number,
    at: number,
    err: unknown,
  ): Promise<void> {
    const e =
      err instanceof DeliveryError ? err : new DeliveryError('retryable', 'receiver failed unexpectedly');
    if (!(err instanceof DeliveryError))
      this.deps.logger.error(
        { err, receiver: s.receiver.name },
        'receiver threw something other than a DeliveryError',
      );
    s.lastError = e.message;
    if (e.kind === 'permanent') {
      this.attempts.delete(entry.id);
      const reason = `refused by the receiver: ${e.message}`;
      await this.deps.outbox.deadLetter(entry.id, at, reason);
      this.record(s, entry, attempt, 'dead_lettered', latencyMs, reason, at);
      this.keys.delete(entry.id);
      this.deps.logger.warn(
        { receiver: s.receiver.name, id: entry.id, reason },
        'notification dead-lettered',
      );
      return;
    }
    s.consecutiveFailures++;
    const rateLimited = e.status === 429;
    const delay = e.retryAfterMs ?? this.backoff(s.consecutiveFailures);
    s.pausedUntil = Math.max(s.pausedUntil, at + delay);
    this.record(s, entry, attempt, rateLimited ? 'rate_limited' : 'failed', latencyMs, e.message, at);
    this.deps.logger.warn(
      { receiver: s.receiver.name, id: entry.id, attempt, retryInMs: delay, error: e.message },
      'notification not delivered; will retry',
    );
  }

  private keyOf(entry: OutboxEntry): string {
    let key = this.keys.get(entry.id);
    if (key === undefined) {
      const n = entry.notification;
      key = idempotencyKey(entry.receiver, n.groupKey, n.status, n.alerts, entry.id);
      this.keys.set(entry.id, key);
    }
    return key;
  }

  /** backoff is the pause after the n-th consecutive failure: initial·2^(n−1) capped, jittered in its upper half. */
  private backoff(n: number): number {
    const { initialBackoffMs, maxBackoffMs } = this.deps.config;
    const base = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(30, n - 1));
    const random = this.deps.random ?? Math.random;
    return Math.round(base / 2 + (random() * base) / 2);
  }

  private record(
    s: ReceiverState,
    entry: OutboxEntry,
    attempt: number,
    outcome: NotificationOutcome,
    latencyMs: number | null,
    error: string | null,
    at: number,
  ): void {
    const n = entry.notification;
    this.deps.metrics?.notifications.inc({ receiver: s.receiver.name, outcome });
    this.recentRecords.push({
      at,
      receiver: s.receiver.name,
      id: entry.id,
      groupKey: n.groupKey,
      status: n.status,
      alerts: n.alerts.length,
      attempt,
      outcome,
      latencyMs: latencyMs === null ? null : Math.round(latencyMs * 1000) / 1000,
      error,
      idempotencyKey: this.keyOf(entry),
    });
    if (this.recentRecords.length > RECENT_RECORDS)
      this.recentRecords.splice(0, this.recentRecords.length - RECENT_RECORDS);
  }
}
