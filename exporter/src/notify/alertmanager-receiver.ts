/**
 * AlertmanagerReceiver posts alerts to an Alertmanager's API v2 (`POST /api/v2/alerts`: labels, annotations,
 * startsAt, endsAt, generatorURL), as Prometheus's notifier does, so an existing Alertmanager routes, groups,
 * silences and inhibits the exporter's alerts. Its notifications come from the AlertmanagerForwarder (every
 * alert re-sent each resend_delay, firing ones with endsAt a few evaluations ahead), not from the grouping
 * dispatcher: grouping is Alertmanager's job. One request at a time keeps the stream in order.
 */
import type { AlertmanagerReceiverConfig } from './config.js';
import { postJson } from './http-client.js';
import type { Notification } from './notification.js';
import { IDEMPOTENCY_HEADER, type Receiver, type SendContext } from './receiver.js';
import { USER_AGENT } from './webhook-receiver.js';

/** ALERTS_PATH is Alertmanager's alert ingestion endpoint (API v2). */
export const ALERTS_PATH = 'api/v2/alerts';

/** PostableAlert is one alert as Alertmanager's API v2 takes it. */
export interface PostableAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
}

/** postableAlerts renders a notification's alerts as Alertmanager's API v2 body. */
export function postableAlerts(n: Notification): PostableAlert[] {
  return n.alerts.map((a) => ({
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    generatorURL: a.generatorURL,
  }));
}

/** alertsUrl joins the Alertmanager base URL (with or without a path prefix) and the alerts endpoint. */
export function alertsUrl(base: string): string {
  return new URL(ALERTS_PATH, base.endsWith('/') ? base : `${base}/`).toString();
}

/** AlertmanagerReceiver delivers to an Alertmanager. */
export class AlertmanagerReceiver implements Receiver {
  readonly type = 'alertmanager';
  readonly concurrency = 1;
  readonly minIntervalMs = 0;

  constructor(private readonly config: AlertmanagerReceiverConfig) {}

  get name(): string {
    return this.config.name;
  }

  async send(n: Notification, ctx: SendContext): Promise<void> {
    await postJson(alertsUrl(this.config.url.reveal()), postableAlerts(n), {
      timeoutMs: this.config.timeoutMs,
      headers: { [IDEMPOTENCY_HEADER]: ctx.idempotencyKey, 'user-agent': USER_AGENT },
      secrets: [this.config.url],
    });
  }
}
