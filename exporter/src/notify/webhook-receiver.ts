/**
 * WebhookReceiver posts Alertmanager's webhook payload (version "4": receiver, status, alerts, groupLabels,
 * commonLabels, commonAnnotations, externalURL, groupKey, truncatedAlerts) to WEBHOOK_URL, so any endpoint
 * written for Alertmanager's webhook_config reads the exporter's notifications unchanged. The idempotency
 * key rides in the `Idempotency-Key` header.
 */
import { BUILD_INFO } from '../build-info.js';
import type { WebhookReceiverConfig } from './config.js';
import { postJson } from './http-client.js';
import type { Notification } from './notification.js';
import { IDEMPOTENCY_HEADER, type Receiver, type SendContext } from './receiver.js';

/** WEBHOOK_CONCURRENCY is how many groups' notifications may be in flight to one webhook at once. */
export const WEBHOOK_CONCURRENCY = 16;

/** USER_AGENT identifies the exporter to receivers. */
export const USER_AGENT = `OpenManager-Exporter/${BUILD_INFO.version}`;

/** WebhookMessage is Alertmanager's webhook payload (notify/webhook/webhook.go `Message`, version 4). */
export interface WebhookMessage {
  readonly receiver: string;
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly {
    readonly status: 'firing' | 'resolved';
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly startsAt: string;
    readonly endsAt: string;
    readonly generatorURL: string;
    readonly fingerprint: string;
  }[];
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly version: '4';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
}

/** webhookMessage renders a notification as Alertmanager's webhook payload. */
export function webhookMessage(n: Notification): WebhookMessage {
  return {
    receiver: n.receiver,
    status: n.status,
    alerts: n.alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
    })),
    groupLabels: n.groupLabels,
    commonLabels: n.commonLabels,
    commonAnnotations: n.commonAnnotations,
    externalURL: n.externalURL,
    version: '4',
    groupKey: n.groupKey,
    truncatedAlerts: n.truncatedAlerts,
  };
}

/** WebhookReceiver delivers to a generic webhook. */
export class WebhookReceiver implements Receiver {
  readonly type = 'webhook';
  readonly concurrency = WEBHOOK_CONCURRENCY;
  readonly minIntervalMs = 0;

  constructor(private readonly config: WebhookReceiverConfig) {}

  get name(): string {
    return this.config.name;
  }

  async send(n: Notification, ctx: SendContext): Promise<void> {
    await postJson(this.config.url.reveal(), webhookMessage(n), {
      timeoutMs: this.config.timeoutMs,
      headers: { [IDEMPOTENCY_HEADER]: ctx.idempotencyKey, 'user-agent': USER_AGENT },
      secrets: [this.config.url],
    });
  }
}
