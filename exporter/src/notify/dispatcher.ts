/**
 * Dispatcher routes and groups alerts as Alertmanager's dispatcher does, in small: each grouping receiver
 * (Slack, webhook) takes the alerts its matchers select; they are grouped by the receiver's `group_by`
 * labels; a new group is first flushed after `group_wait` (so alerts that fire together go out together), then
 * every `group_interval`. A flush sends a notification only when something changed since the group's last one
 * (a new firing alert, or a newly resolved one when `send_resolved`), or when `repeat_interval` has passed
 * (Alertmanager's DedupStage). Silenced alerts are left out of notifications while their silence holds.
 * Resolved alerts leave their group once notified (or once found not worth a notification); an empty group is
 * dropped.
 *
 * A flush writes the notification to the outbox (durable before anything is sent) and tells the deliverer.
 * Time comes from an injected clock and timer.
 */
import type { Clock } from '../util/clock.js';
import type { Labels } from '../util/labels.js';
import type { Logger } from '../util/logger.js';
import type { Timer, TimerHandle } from '../util/timer.js';
import type { RouteTiming, SlackReceiverConfig, WebhookReceiverConfig } from './config.js';
import { formatMatchers, matchesAll } from './matchers.js';
import {
  commonOf,
  fingerprint,
  labelSetString,
  ZERO_TIME,
  type AlertStatus,
  type Notification,
  type NotifyAlert,
} from './notification.js';
import type { NotificationLog, NotifiedState } from './notification-log.js';
import type { Outbox } from './outbox.js';

/** AlertUpdate is an alert's new state as the rule manager reports it (times in ms). */
export interface AlertUpdate {
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  readonly status: AlertStatus;
  readonly startsAt: number;
  /** endsAt is when a resolved alert resolved; undefined while firing. */
  readonly endsAt: number | undefined;
  readonly value: number | null;
  readonly generatorURL: string;
}

/** GroupingReceiverConfig is a receiver the dispatcher groups for. */
export type GroupingReceiverConfig = SlackReceiverConfig | WebhookReceiverConfig;

/** SilenceCheck tells whether an alert is silenced now. */
export interface SilenceCheck {
  isSilenced(labels: Labels, now?: number): boolean;
}

/** DispatcherDeps are the dispatcher's injected parts. */
export interface DispatcherDeps {
  readonly receivers: readonly GroupingReceiverConfig[];
  readonly outbox: Outbox;
  readonly silences: SilenceCheck;
  /** clock and timer are wall time: group_wait and friends. */
  readonly clock: Clock;
  readonly timer: Timer;
  readonly logger: Logger;
  readonly externalURL: () => string;
  /** enqueued is told after a receiver's notifications were written to the outbox (the deliverer's kick). */
  readonly enqueued: (receiver: string) => void;
  /** log keeps what each group's last notification said across restarts (default: memory only). */
  readonly log?: NotificationLog;
}

/** AggregationGroup is one receiver's alerts with the same group labels. */
class AggregationGroup {
  readonly alerts = new Map<string, AlertUpdate>();
  notified: NotifiedState | undefined;
  timer: TimerHandle;
  /** flushedOnce tells that the group_wait flush happened; later flushes come every group_interval. */
  flushedOnce = false;
  flushing = false;
  constructor(
    readonly receiver: GroupingReceiverConfig,
    readonly key: string,
    readonly labels: Labels,
  ) {}
}

/** Dispatcher groups and times notifications (see the file comment). */
export class Dispatcher {
  private readonly groups = new Map<string, AggregationGroup>();
  private readonly flushes = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: DispatcherDeps) {}

  /** update takes alerts' new states: each is routed to every receiver whose matchers it matches. */
  update(alerts: readonly AlertUpdate[]): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    for (const a of alerts) {
      for (const r of this.deps.receivers) {
        if (!matchesAll(r.matchers, a.labels)) continue;
        const groupLabels = pickGroupLabels(a.labels, r);
        const key = `{}/${formatMatchers(r.matchers)}:${labelSetString(groupLabels)}`;
        const mapKey = `${r.name}\n${key}`;
        let g = this.groups.get(mapKey);
        if (!g) {
          // A resolution of an alert this receiver never heard of is not news; one the log says it was told of
          // as firing (before a restart) is.
          if (
            a.status === 'resolved' &&
            this.deps.log?.get(r.name, key)?.firing.has(fingerprint(a.labels)) !== true
          )
            continue;
          g = new AggregationGroup(r, key, groupLabels);
          g.notified = this.deps.log?.get(r.name, key);
          this.groups.set(mapKey, g);
          this.schedule(mapKey, g, r.groupWaitMs);
        }
        g.alerts.set(fingerprint(a.labels), a);
        // An alert older than group_wait in a group not yet flushed goes out at once (Alertmanager does too).
        if (!g.flushedOnce && !g.flushing && now - a.startsAt > r.groupWaitMs) this.schedule(mapKey, g, 0);
      }
    }
  }

  /**
   * resolveGone is Alertmanager's resolve-on-timeout after a restart: every alert the log says was notified as
   * firing, that is not among `active` (fingerprints of the alerts firing or pending now) and not in a live
   * group, is handed over as resolved at `now` — so a receiver hears that an alert which stopped while the
   * exporter was down is over, instead of seeing it firing for good.
   */
  resolveGone(active: ReadonlySet<string>, now: number): number {
    const log = this.deps.log;
    if (!log) return 0;
    const live = new Set<string>();
    for (const g of this.groups.values()) for (const fp of g.alerts.keys()) live.add(fp);
    const gone = new Map<string, AlertUpdate>();
    for (const [, , state] of log.list())
      for (const a of state.alerts ?? []) {
        if (active.has(a.fingerprint) || live.has(a.fingerprint) || gone.has(a.fingerprint)) continue;
        gone.set(a.fingerprint, {
          labels: a.labels,
          annotations: a.annotations,
          status: 'resolved',
          startsAt: Date.parse(a.startsAt),
          endsAt: now,
          value: a.value,
          generatorURL: a.generatorURL,
        });
      }
    if (gone.size > 0) this.update([...gone.values()]);
    return gone.size;
  }

  /** groupCount is the number of live groups (tests, status). */
  get groupCount(): number {
    return this.groups.size;
  }

  /** idle resolves once no flush is in progress (tests and benches). */
  async idle(): Promise<void> {
    while (this.flushes.size > 0) await Promise.allSettled([...this.flushes]);
  }

  /** stop cancels every timer and waits for flushes in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const g of this.groups.values()) this.deps.timer.clear(g.timer);
    await this.idle();
  }

  private schedule(mapKey: string, g: AggregationGroup, delayMs: number): void {
    if (g.timer !== undefined) this.deps.timer.clear(g.timer);
    g.timer = this.deps.timer.set(() => {
      g.timer = undefined;
      const p = this.flush(mapKey, g);
      this.flushes.add(p);
      void p.finally(() => this.flushes.delete(p));
    }, delayMs);
  }

  private async flush(mapKey: string, g: AggregationGroup): Promise<void> {
    if (this.stopped || this.groups.get(mapKey) !== g) return;
    const r = g.receiver;
    g.flushing = true;
    g.flushedOnce = true;
    const now = this.deps.clock.now();
    // The next flush is due group_interval after this one started, however long this one takes.
    this.schedule(mapKey, g, r.groupIntervalMs);
    try {
      const snapshot = [...g.alerts.entries()];
      const live = snapshot.filter(([, a]) => !this.deps.silences.isSilenced(a.labels, now));
      const firing = live.filter(([, a]) => a.status === 'firing');
      const resolved = live.filter(([, a]) => a.status === 'resolved');
      const firingSet = new Set(firing.map(([fp]) => fp));
      const resolvedSet = new Set(resolved.map(([fp]) => fp));
      if (needsUpdate(g.notified, firingSet, resolvedSet, r.sendResolved, now, r.repeatIntervalMs)) {
        const sent = r.sendResolved ? [...firing, ...resolved] : firing;
        if (sent.length > 0)
          await this.deps.outbox.add([
            {
              receiver: r.name,
              createdAt: now,
              notification: this.notification(
                g,
                sent.map(([, a]) => a),
              ),
            },
          ]);
        g.notified = {
          firing: firingSet,
          resolved: resolvedSet,
          at: now,
          alerts: firing.map(([, a]) => toNotifyAlert(a)),
        };
        this.deps.log?.set(r.name, g.key, g.notified);
        if (sent.length > 0) {
          // Sent only once the log says so too: a crash after the receiver got it must not make the restarted
          // rules' same alerts look new (a crash before is covered: the log is rebuilt from the outbox).
          await this.deps.log?.durable();
          this.deps.enqueued(r.name);
        }
      }
      // Resolved alerts were notified (or not worth it): they leave, unless they changed meanwhile.
      for (const [fp, a] of snapshot)
        if (a.status === 'resolved' && g.alerts.get(fp) === a) g.alerts.delete(fp);
    } catch (err) {
      // The outbox could not take it: keep every alert and try again at the next interval.
      this.deps.logger.error({ err, receiver: r.name, group: g.key }, 'cannot queue a notification');
    } finally {
      g.flushing = false;
    }
    if (g.alerts.size === 0) {
      this.deps.timer.clear(g.timer);
      this.groups.delete(mapKey);
      this.deps.log?.delete(r.name, g.key);
    }
  }

  private notification(g: AggregationGroup, alerts: readonly AlertUpdate[]): Notification {
    const r = g.receiver;
    // Firing first, then by start: the order Alertmanager's templates show, stable across retries.
    const sorted = [...alerts].sort((a, b) =>
      a.status === b.status ? a.startsAt - b.startsAt : a.status === 'firing' ? -1 : 1,
    );
    const kept = r.maxAlerts > 0 ? sorted.slice(0, r.maxAlerts) : sorted;
    const out: NotifyAlert[] = kept.map(toNotifyAlert);
    return {
      receiver: r.name,
      groupKey: g.key,
      status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      groupLabels: { ...g.labels },
      commonLabels: commonOf(sorted.map((a) => a.labels)),
      commonAnnotations: commonOf(sorted.map((a) => a.annotations)),
      externalURL: this.deps.externalURL(),
      alerts: out,
      truncatedAlerts: sorted.length - kept.length,
    };
  }
}

/** pickGroupLabels is the alert's values of the receiver's group_by labels (all labels for `...`). */
function pickGroupLabels(labels: Labels, r: RouteTiming): Labels {
  if (r.groupBy.includes('...')) return { ...labels };
  const out: Record<string, string> = {};
  for (const name of r.groupBy) {
    const v = labels[name];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/** toNotifyAlert is an alert update in the notification's (Alertmanager's) shape. */
export function toNotifyAlert(a: AlertUpdate): NotifyAlert {
  return {
    status: a.status,
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    startsAt: new Date(a.startsAt).toISOString(),
    endsAt: a.endsAt === undefined ? ZERO_TIME : new Date(a.endsAt).toISOString(),
    generatorURL: a.generatorURL,
    fingerprint: fingerprint(a.labels),
    value: a.value !== null && Number.isFinite(a.value) ? a.value : null,
  };
}

/**
 * needsUpdate is Alertmanager's DedupStage decision: notify when a firing alert is new since the last
 * notification, when everything resolved after something fired, when (with send_resolved) an alert newly
 * resolved, or when repeat_interval has passed.
 */
export function needsUpdate(
  last: NotifiedState | undefined,
  firing: ReadonlySet<string>,
  resolved: ReadonlySet<string>,
  sendResolved: boolean,
  now: number,
  repeatIntervalMs: number,
): boolean {
  if (last === undefined) return firing.size > 0;
  for (const fp of firing) if (!last.firing.has(fp)) return true;
  if (firing.size === 0) return last.firing.size > 0;
  if (sendResolved) for (const fp of resolved) if (!last.resolved.has(fp)) return true;
  return now - last.at >= repeatIntervalMs;
}
