/**
 * The notifiers' self-metrics, on the exporter's injected registry: outcomes per receiver, the outbox's queue
 * length and oldest pending age (read at scrape time), and how long receivers take to answer.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { NOTIFICATION_OUTCOMES as OUTCOMES } from '../contract/notifications.js';

/** QueueView is what the gauges read at scrape time. */
export interface QueueView {
  receivers(): readonly string[];
  queueLength(receiver: string): number;
  /** oldestPendingAgeMs is the age of the receiver's oldest undelivered notification, 0 when none. */
  oldestPendingAgeMs(receiver: string): number;
}

/** LATENCY_BUCKETS span a loopback answer (1 ms) to a receiver at its 10 s timeout. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** NotifyMetrics are the counters and histograms the deliverer updates. */
export interface NotifyMetrics {
  readonly notifications: Counter<'receiver' | 'outcome'>;
  readonly latency: Histogram<'receiver'>;
}

/** createNotifyMetrics registers the notifiers' metrics on `registry`, with the gauges reading `view`. */
export function createNotifyMetrics(registry: Registry, view: QueueView): NotifyMetrics {
  const notifications = new Counter({
    name: 'openmanager_notifications_total',
    help: 'Notification attempts by receiver and outcome (delivered, failed, rate_limited, dead_lettered).',
    labelNames: ['receiver', 'outcome'],
    registers: [registry],
  });
  for (const receiver of view.receivers())
    for (const outcome of OUTCOMES) notifications.inc({ receiver, outcome }, 0);
  new Gauge({
    name: 'openmanager_notifications_queue_length',
    help: 'Notifications in the outbox not yet acknowledged by their receiver.',
    labelNames: ['receiver'],
    registers: [registry],
    collect() {
      for (const r of view.receivers()) this.set({ receiver: r }, view.queueLength(r));
    },
  });
  new Gauge({
    name: 'openmanager_notifications_oldest_pending_age_seconds',
    help: "Age of the receiver's oldest notification not yet acknowledged (0 when none waits).",
    labelNames: ['receiver'],
    registers: [registry],
    collect() {
      for (const r of view.receivers()) this.set({ receiver: r }, view.oldestPendingAgeMs(r) / 1000);
    },
  });
  const latency = new Histogram({
    name: 'openmanager_notifications_latency_seconds',
    help: 'Time a receiver took to answer one send (successful or not).',
    labelNames: ['receiver'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return { notifications, latency };
}
