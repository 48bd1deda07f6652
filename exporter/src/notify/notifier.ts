/**
 * Notifier assembles the notification pipeline from a NotifyConfig:
 *
 *   rule transitions ──▶ Dispatcher (route, group, wait, dedup, silences) ──┐
 *   current alerts (every resend period) ──▶ AlertmanagerForwarder ─────────┼──▶ Outbox ──▶ Deliverer ──▶ receivers
 *                                                                            (data dir)   (order, backoff, dead letters)
 *
 * It owns the outbox and silences under `<dataDir>/notify/`, the receivers, and the self-metrics, and answers
 * `GET /api/notifications`. compose.ts feeds it from the rule manager and mounts its routes.
 */
import type { Registry } from 'prom-client';
import type { NotificationsResponse } from '../contract/notifications.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Timer } from '../util/timer.js';
import { AlertmanagerForwarder } from './alertmanager-forwarder.js';
import { AlertmanagerReceiver } from './alertmanager-receiver.js';
import type { AlertmanagerReceiverConfig, NotifyConfig, ReceiverConfig } from './config.js';
import { Deliverer } from './deliverer.js';
import { Dispatcher, type AlertUpdate, type GroupingReceiverConfig } from './dispatcher.js';
import { NotificationLog } from './notification-log.js';
import { createNotifyMetrics } from './notify-metrics.js';
import { FileOutbox, type Outbox } from './outbox.js';
import type { Receiver } from './receiver.js';
import { SilenceStore } from './silences.js';
import { SlackReceiver } from './slack-receiver.js';
import { WebhookReceiver } from './webhook-receiver.js';

/** NotifierDeps are the notifier's injected parts. */
export interface NotifierDeps {
  readonly config: NotifyConfig;
  /** dir holds the outbox and the silences (`<dataDir>/notify`). */
  readonly dir: string;
  /** wallClock and timer drive grouping, retries and ages (wall time, as Alertmanager's). */
  readonly wallClock: Clock;
  readonly timer: Timer;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly externalURL: () => string;
  readonly grafanaUrl: string | undefined;
  readonly evaluationIntervalMs: number;
  /** random draws backoff jitter (default Math.random). */
  readonly random?: () => number;
  /** outbox replaces the data-dir outbox (the Redis outbox when the store is Redis). */
  readonly outbox?: Outbox;
}

/** createReceiver builds the receiver a configuration describes. */
export function createReceiver(c: ReceiverConfig, grafanaUrl: string | undefined): Receiver {
  switch (c.type) {
    case 'slack':
      return new SlackReceiver(c, grafanaUrl);
    case 'webhook':
      return new WebhookReceiver(c);
    case 'alertmanager':
      return new AlertmanagerReceiver(c);
  }
}

/** Notifier is the assembled pipeline. */
export class Notifier {
  private constructor(
    readonly config: NotifyConfig,
    readonly outbox: Outbox,
    readonly silences: SilenceStore,
    readonly dispatcher: Dispatcher,
    readonly forwarder: AlertmanagerForwarder | undefined,
    readonly deliverer: Deliverer,
    private readonly log: NotificationLog,
  ) {}

  /** open opens the outbox and silences and builds the pipeline; nothing is sent before `start()`. */
  static async open(deps: NotifierDeps): Promise<Notifier> {
    const { config } = deps;
    const outbox = deps.outbox ?? (await FileOutbox.open(deps.dir));
    const silences = SilenceStore.open(deps.dir, deps.wallClock);
    const receivers = config.receivers.map((c) => createReceiver(c, deps.grafanaUrl));
    const late: { deliverer?: Deliverer } = {};
    const metrics = createNotifyMetrics(deps.registry, {
      receivers: () => receivers.map((r) => r.name),
      queueLength: (r) => outbox.pending(r).length,
      oldestPendingAgeMs: (r) => late.deliverer?.oldestPendingAgeMs(r) ?? 0,
    });
    const deliverer = new Deliverer({
      outbox,
      receivers,
      config: config.outbox,
      clock: deps.wallClock,
      timer: deps.timer,
      logger: deps.logger,
      metrics,
      ...(deps.random ? { random: deps.random } : {}),
    });
    late.deliverer = deliverer;
    const enqueued = (r: string): void => deliverer.kick(r);
    const log = NotificationLog.open(deps.dir, deps.wallClock.now(), deps.logger);
    log.recover(outbox.pending());
    const grouping = config.receivers.filter((c): c is GroupingReceiverConfig => c.type !== 'alertmanager');
    const dispatcher = new Dispatcher({
      receivers: grouping,
      outbox,
      silences,
      clock: deps.wallClock,
      timer: deps.timer,
      logger: deps.logger,
      externalURL: deps.externalURL,
      enqueued,
      log,
    });
    const ams = config.receivers.filter((c): c is AlertmanagerReceiverConfig => c.type === 'alertmanager');
    const forwarder =
      ams.length === 0
        ? undefined
        : new AlertmanagerForwarder({
            receivers: ams,
            outbox,
            silences,
            evaluationIntervalMs: deps.evaluationIntervalMs,
            externalURL: deps.externalURL,
            enqueued,
            wallNow: () => deps.wallClock.now(),
          });
    return new Notifier(config, outbox, silences, dispatcher, forwarder, deliverer, log);
  }

  /** alertsChanged takes one evaluation's alert changes (to firing, firing to resolved). */
  alertsChanged(updates: readonly AlertUpdate[]): void {
    if (updates.length > 0) this.dispatcher.update(updates);
  }

  /**
   * resolveGone notifies as resolved the alerts notified as firing before a restart that are not active now
   * (`active`: fingerprints of the firing and pending alerts once the rules caught up); returns how many.
   */
  resolveGone(active: ReadonlySet<string>, now: number): number {
    return this.dispatcher.resolveGone(active, now);
  }

  /** resend hands the Alertmanager receivers the current alerts at evaluation time `now`. */
  async resend(alerts: readonly AlertUpdate[], now: number): Promise<void> {
    await this.forwarder?.sync(alerts, now);
  }

  /** start delivers whatever the outbox holds (after a restart: everything not acknowledged before). */
  start(): void {
    this.deliverer.start();
  }

  /** stop stops grouping and sending, waits for sends in flight, and closes the outbox. */
  async stop(): Promise<void> {
    await this.dispatcher.stop();
    await this.forwarder?.idle();
    await this.deliverer.stop();
    await this.log.flush();
    await this.outbox.close();
  }

  /** notifications is `GET /api/notifications`. */
  notifications(): NotificationsResponse {
    return {
      receivers: this.deliverer.status(),
      recent: [...this.deliverer.recent()],
      deadLetters: [...this.outbox.deadLetters()].reverse().map((d) => ({
        id: d.entry.id,
        receiver: d.entry.receiver,
        groupKey: d.entry.notification.groupKey,
        status: d.entry.notification.status,
        alerts: d.entry.notification.alerts.length,
        createdAt: d.entry.createdAt,
        at: d.at,
        reason: d.reason,
      })),
      deadLettersTotal: this.outbox.deadLettersTotal,
    };
  }
}
