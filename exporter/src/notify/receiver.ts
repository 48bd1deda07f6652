/**
 * Receiver is the contract every notifier (Slack, Alertmanager, webhook) fulfils; the receiver contract suite
 * (test/receiver-contract.ts) checks it against each one:
 *
 * - `send` resolves only when the receiver acknowledged the notification (an HTTP 2xx), and then the outbox
 *   forgets it;
 * - it rejects with a DeliveryError — `retryable` (5xx, 408, 429 with its Retry-After, timeouts, network
 *   errors) or `permanent` (other answers: the request is wrong) — whose message never holds a credential;
 * - it gives up after its timeout, reads at most a bounded part of any answer, and never throws synchronously;
 * - it carries `idempotencyKey` to the receiver where the wire format has room (a header at least), so a
 *   receiver can recognise the duplicate an at-least-once delivery may bring.
 */
import type { ReceiverType } from './config.js';
import type { Notification } from './notification.js';

/** SendContext is what a send knows beyond the notification. */
export interface SendContext {
  readonly idempotencyKey: string;
  /** attempt counts sends of this notification in this process (1 = first). */
  readonly attempt: number;
}

/** IDEMPOTENCY_HEADER carries the idempotency key on every request. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Receiver delivers notifications to one destination. */
export interface Receiver {
  readonly name: string;
  readonly type: ReceiverType;
  /** concurrency is how many notifications may be in flight at once (never two of one group). */
  readonly concurrency: number;
  /** minIntervalMs is the least time between two sends (Slack: one message per second per webhook). */
  readonly minIntervalMs: number;
  send(notification: Notification, ctx: SendContext): Promise<void>;
}
