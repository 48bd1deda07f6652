/**
 * Publishing `system-status` "on change and every 30 s" (issue 5): the app's scheduler calls `tick()` often
 * (every few seconds); it publishes when anything but the always-moving fields changed, or when the refresh
 * interval has passed since the last publication.
 */
import type { Clock } from '../util/clock.js';
import type { Hub } from './hub.js';
import type { SystemStatus } from '../contract/hub-protocol.js';

/** DEFAULT_STATUS_REFRESH_MS is issue 5's "every 30 s". */
export const DEFAULT_STATUS_REFRESH_MS = 30_000;

/** StatusPublisherOptions configures a StatusPublisher. */
export interface StatusPublisherOptions {
  /** collect builds the current status (cheap: called on every tick). */
  readonly collect: () => SystemStatus;
  readonly refreshMs?: number;
  /** clock measures the refresh interval and stamps messages. */
  readonly clock: Clock;
}

/**
 * statusFingerprint is the status without the fields that change on every call (uptime, last run times and
 * durations), so that only meaningful changes trigger an early publication.
 */
export function statusFingerprint(s: SystemStatus): string {
  return JSON.stringify({
    ...s,
    exporter: { ...s.exporter, uptimeSeconds: 0 },
    scheduler: {
      jobs: s.scheduler.jobs.map((j) => ({
        ...j,
        runs: 0,
        lastRunAt: null,
        lastDurationMs: null,
        running: false,
      })),
    },
  });
}

/** StatusPublisher decides when to publish `system-status`. */
export class StatusPublisher {
  private lastFingerprint: string | undefined;
  private lastPublishedAt = Number.NEGATIVE_INFINITY;
  private readonly refreshMs: number;

  constructor(
    private readonly hub: Hub,
    private readonly options: StatusPublisherOptions,
  ) {
    this.refreshMs = options.refreshMs ?? DEFAULT_STATUS_REFRESH_MS;
  }

  /** tick publishes the status if it changed or is due; returns whether it published. */
  tick(): boolean {
    const status = this.options.collect();
    const fingerprint = statusFingerprint(status);
    const now = this.options.clock.now();
    if (fingerprint === this.lastFingerprint && now - this.lastPublishedAt < this.refreshMs) return false;
    this.hub.publish('system-status', status, now);
    this.lastFingerprint = fingerprint;
    this.lastPublishedAt = now;
    return true;
  }
}
