/**
 * AlertmanagerForwarder does for Alertmanager receivers what Prometheus's rule manager does for its
 * Alertmanagers (rules/alerting.go `sendAlerts`, notifier/notifier.go): at each sync it sends every firing
 * alert and every alert resolved within the last 15 minutes that "needs sending" — resolved since it was last
 * sent, or not sent for `resend_delay` — with endsAt = the resolution time, or for a firing alert
 * `now + 4 × max(resend_delay, evaluation interval)` (times in Alertmanager's wall-clock domain), so Alertmanager resolves it by itself if the exporter
 * goes silent. Alerts go in batches of 64 (Prometheus's maxBatchSize), through the outbox like every
 * notification, in one ordered stream per receiver. Receiver matchers and silences apply as for the others.
 */
import type { Labels } from '../util/labels.js';
import type { AlertmanagerReceiverConfig } from './config.js';
import { toNotifyAlert, type AlertUpdate, type SilenceCheck } from './dispatcher.js';
import { matchesAll } from './matchers.js';
import { commonOf, fingerprint, type Notification, type NotifyAlert } from './notification.js';
import type { Outbox } from './outbox.js';

/** MAX_BATCH is Prometheus's notifier batch size (alerts per request). */
export const MAX_BATCH = 64;

/** VALID_FOR_EVALUATIONS is Prometheus's factor for a firing alert's endsAt (4 × the resend period). */
const VALID_FOR_EVALUATIONS = 4;

/** ALERTMANAGER_GROUP_KEY names the single ordered stream of an Alertmanager receiver. */
export const ALERTMANAGER_GROUP_KEY = '{}:{}';

/** ForwarderDeps are the forwarder's injected parts. */
export interface ForwarderDeps {
  readonly receivers: readonly AlertmanagerReceiverConfig[];
  readonly outbox: Outbox;
  readonly silences: SilenceCheck;
  readonly evaluationIntervalMs: number;
  readonly externalURL: () => string;
  readonly enqueued: (receiver: string) => void;
  /** wallNow is the outbox's clock (entry ages); alert times come from `sync`'s `now`. */
  readonly wallNow: () => number;
}

/** AlertmanagerForwarder sends alerts to Alertmanager receivers (see the file comment). */
export class AlertmanagerForwarder {
  /** lastSent maps receiver → alert identity (fingerprint and start) → when it was last sent. */
  private readonly lastSent = new Map<string, Map<string, number>>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ForwarderDeps) {
    for (const r of deps.receivers) this.lastSent.set(r.name, new Map());
  }

  /**
   * sync sends the alerts of `alerts` (every firing alert and recently resolved one, at evaluation time `now`)
   * that need sending. Calls are serialised, so batches reach the outbox in call order.
   */
  sync(alerts: readonly AlertUpdate[], now: number): Promise<void> {
    const run = this.syncing.then(() => this.syncNow(alerts, now));
    this.syncing = run.catch(() => {});
    return run;
  }

  /** idle resolves once every sync called so far is done. */
  idle(): Promise<void> {
    return this.syncing;
  }

  private async syncNow(alerts: readonly AlertUpdate[], now: number): Promise<void> {
    const wall = this.deps.wallNow();
    for (const r of this.deps.receivers) {
      const sent = this.lastSent.get(r.name) ?? new Map<string, number>();
      const validFor = VALID_FOR_EVALUATIONS * Math.max(r.resendDelayMs, this.deps.evaluationIntervalMs);
      const due: NotifyAlert[] = [];
      const seen = new Set<string>();
      for (const a of alerts) {
        if (!matchesAll(r.matchers, a.labels) || this.deps.silences.isSilenced(a.labels)) continue;
        if (a.status === 'resolved' && !r.sendResolved) continue;
        const id = identity(a.labels, a.startsAt);
        seen.add(id);
        const last = sent.get(id);
        const resolvedSinceSent = a.endsAt !== undefined && (last === undefined || a.endsAt > last);
        if (!resolvedSinceSent && last !== undefined && last + r.resendDelayMs > now) continue;
        // Alertmanager judges times by its wall clock: simulated time (ahead under --speed, or a slot not yet
        // reached) is clamped to now, or a resolution "in the future" would leave the alert firing there.
        const startsAt = Math.min(a.startsAt, wall);
        const endsAt = a.status === 'firing' ? wall + validFor : Math.min(a.endsAt ?? wall, wall);
        due.push(toNotifyAlert({ ...a, startsAt, endsAt }));
        sent.set(id, now);
      }
      // Forget alerts the rule manager no longer holds (resolved more than 15 minutes ago, or deleted).
      for (const id of sent.keys()) if (!seen.has(id)) sent.delete(id);
      if (due.length === 0) continue;
      const entries = [];
      for (let i = 0; i < due.length; i += MAX_BATCH)
        entries.push({
          receiver: r.name,
          createdAt: wall,
          notification: this.batch(r, due.slice(i, i + MAX_BATCH)),
        });
      await this.deps.outbox.add(entries);
      this.deps.enqueued(r.name);
    }
  }

  private batch(r: AlertmanagerReceiverConfig, alerts: NotifyAlert[]): Notification {
    return {
      receiver: r.name,
      groupKey: ALERTMANAGER_GROUP_KEY,
      status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      groupLabels: {},
      commonLabels: commonOf(alerts.map((a) => a.labels)),
      commonAnnotations: commonOf(alerts.map((a) => a.annotations)),
      externalURL: this.deps.externalURL(),
      alerts,
      truncatedAlerts: 0,
    };
  }
}

/** identity tells one alert instance from another with the same labels (it fired again after resolving). */
function identity(labels: Labels, startsAt: number): string {
  return `${fingerprint(labels)}@${startsAt}`;
}
