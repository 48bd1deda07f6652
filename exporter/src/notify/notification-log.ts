/**
 * NotificationLog remembers, per receiver and group, what the group's last notification said (which alerts
 * were firing and which resolved, and when) — Alertmanager's nflog. It persists in
 * `<dataDir>/notify/nflog.json`, so a restarted exporter, whose rules fire the same alerts again, does not
 * notify them again: only changes, and repeats after repeat_interval, go out. Saves are coalesced (one write per
 * turn of the event loop however many groups flushed in it); entries older than the retention are dropped.
 */
import { JsonStateFile } from '../util/json-state-file.js';
import type { Logger } from '../util/logger.js';
import type { NotifyAlert } from './notification.js';
import type { OutboxEntry } from './outbox.js';

/** NFLOG_RETENTION_MS is how long an entry is kept without an update (Alertmanager's default: 120 h). */
export const NFLOG_RETENTION_MS = 120 * 3_600_000;

/** NFLOG_FILE is the log's file under `<dataDir>/notify/`. */
export const NFLOG_FILE = 'nflog.json';

/**
 * NotifiedState is what a group's last notification said. `alerts` are its firing alerts as sent, so that
 * after a restart an alert that stopped firing while the exporter was down can still be notified as resolved.
 */
export interface NotifiedState {
  readonly firing: ReadonlySet<string>;
  readonly resolved: ReadonlySet<string>;
  readonly at: number;
  readonly alerts?: readonly NotifyAlert[];
}

interface Stored {
  readonly firing: string[];
  readonly resolved: string[];
  readonly at: number;
  readonly alerts?: NotifyAlert[];
}

/** NotificationLog is the persistent notification log. */
export class NotificationLog {
  private readonly entries = new Map<string, NotifiedState>();
  private saveQueued = false;
  /** queuedWrite resolves once the coalesced write queued for this turn is done. */
  private queuedWrite: Promise<void> = Promise.resolve();
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: JsonStateFile | undefined,
    private readonly logger: Logger | undefined,
  ) {}

  /** open loads the log under `dir` (undefined: memory only), dropping entries older than the retention at `now`. */
  static open(dir: string | undefined, now: number, logger?: Logger): NotificationLog {
    const file = dir === undefined ? undefined : new JsonStateFile(dir, NFLOG_FILE);
    const log = new NotificationLog(file, logger);
    let saved: { entries?: Record<string, Stored> } | undefined;
    try {
      saved = file?.load() as typeof saved;
    } catch (err) {
      // An unreadable log costs at most one repeated notification per group: start empty, say so.
      logger?.warn({ err, path: file?.path }, 'notification log unreadable; starting empty');
    }
    for (const [k, s] of Object.entries(saved?.entries ?? {}))
      if (now - s.at <= NFLOG_RETENTION_MS)
        log.entries.set(k, {
          firing: new Set(s.firing),
          resolved: new Set(s.resolved),
          at: s.at,
          ...(s.alerts ? { alerts: s.alerts } : {}),
        });
    return log;
  }

  /**
   * recover makes the log agree with the outbox after a restart: a notification is durable in the outbox
   * before its log entry is written, so a crash between the two leaves a queued notification the log does not
   * know of — and the restarted rules, firing the same alerts again, would be notified a second time under a
   * new idempotency key. Each pending entry newer than its group's log entry stands for what was notified.
   */
  recover(pending: readonly OutboxEntry[]): void {
    for (const e of pending) {
      const n = e.notification;
      const known = this.get(e.receiver, n.groupKey);
      if (known !== undefined && known.at >= e.createdAt) continue;
      const firing = new Set<string>();
      const resolved = new Set<string>();
      for (const a of n.alerts) (a.status === 'firing' ? firing : resolved).add(a.fingerprint);
      const alerts = n.alerts.filter((a) => a.status === 'firing');
      this.set(e.receiver, n.groupKey, { firing, resolved, at: e.createdAt, alerts });
    }
  }

  /** entries lists every group's state: [receiver, groupKey, state]. */
  *list(): IterableIterator<readonly [string, string, NotifiedState]> {
    for (const [k, state] of this.entries) {
      const i = k.indexOf('\n');
      yield [k.slice(0, i), k.slice(i + 1), state];
    }
  }

  get(receiver: string, groupKey: string): NotifiedState | undefined {
    return this.entries.get(key(receiver, groupKey));
  }

  set(receiver: string, groupKey: string, state: NotifiedState): void {
    this.entries.set(key(receiver, groupKey), state);
    this.queueSave();
  }

  delete(receiver: string, groupKey: string): void {
    if (this.entries.delete(key(receiver, groupKey))) this.queueSave();
  }

  /**
   * durable resolves once every change so far is written, sharing the write queued for this turn of the event
   * loop with every other change made in it (a thousand groups flushing at once cost one write, not a thousand).
   */
  durable(): Promise<void> {
    return this.saveQueued ? this.queuedWrite : this.saving;
  }

  /** flush resolves once every change so far is written (now, without waiting for the turn to end). */
  async flush(): Promise<void> {
    if (this.saveQueued) this.write();
    await this.saving;
  }

  private queueSave(): void {
    if (!this.file || this.saveQueued) return;
    this.saveQueued = true;
    this.queuedWrite = new Promise((resolve) =>
      setImmediate(() => {
        this.write();
        void this.saving.then(resolve);
      }),
    );
  }

  private write(): void {
    if (!this.saveQueued || !this.file) return;
    this.saveQueued = false;
    const out: Record<string, Stored> = {};
    for (const [k, s] of this.entries)
      out[k] = {
        firing: [...s.firing],
        resolved: [...s.resolved],
        at: s.at,
        ...(s.alerts ? { alerts: [...s.alerts] } : {}),
      };
    this.saving = this.file.save({ entries: out }).catch((err: unknown) => {
      this.logger?.error({ err }, 'cannot save the notification log');
    });
  }
}

function key(receiver: string, groupKey: string): string {
  return `${receiver}\n${groupKey}`;
}
