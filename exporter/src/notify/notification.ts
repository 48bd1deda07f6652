/**
 * The notification model every receiver renders from: alerts in Alertmanager's shape (status, labels,
 * annotations, startsAt/endsAt in RFC 3339, generatorURL, fingerprint) grouped as Alertmanager groups them
 * (groupKey, groupLabels, commonLabels, commonAnnotations). It is what the outbox stores, so it is plain JSON.
 */
import { createHash } from 'node:crypto';
import type { Labels } from '../util/labels.js';

/** ZERO_TIME is Go's zero time in RFC 3339: Alertmanager's endsAt of an alert that has not ended. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** AlertStatus is an alert's state as notifications carry it. */
export type AlertStatus = 'firing' | 'resolved';

/** NotifyAlert is one alert in a notification (Alertmanager's template.Alert plus its current value). */
export interface NotifyAlert {
  readonly status: AlertStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
  /** value is the alert expression's value at its last evaluation (Slack's "current value"); null if unknown. */
  readonly value: number | null;
}

/** Notification is one message for one receiver: a group's alerts at one flush. */
export interface Notification {
  readonly receiver: string;
  /** groupKey identifies the group (Alertmanager's format: `{}/{matchers}:{groupLabels}`). */
  readonly groupKey: string;
  readonly status: AlertStatus;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly alerts: readonly NotifyAlert[];
  /** truncatedAlerts counts alerts left out by the receiver's max_alerts. */
  readonly truncatedAlerts: number;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;
/** SEPARATOR is Prometheus's model.SeparatorByte. */
const SEPARATOR = 0xff;

/**
 * fingerprint is Prometheus's `model.LabelSet.Fingerprint()` as Alertmanager prints it (16 hex digits): FNV-1a
 * 64 over the sorted names and values, each followed by the separator byte 0xff. Equal to the fingerprint a
 * real Alertmanager reports for the same labels.
 */
export function fingerprint(labels: Labels): string {
  let h = FNV_OFFSET;
  const feed = (b: number): void => {
    h ^= BigInt(b);
    h = (h * FNV_PRIME) & MASK_64;
  };
  for (const name of Object.keys(labels).sort()) {
    for (const b of Buffer.from(name, 'utf8')) feed(b);
    feed(SEPARATOR);
    for (const b of Buffer.from(labels[name] ?? '', 'utf8')) feed(b);
    feed(SEPARATOR);
  }
  return h.toString(16).padStart(16, '0');
}

/** labelSetString prints labels as Alertmanager's LabelSet.String(): `{a="1", b="2"}`, names sorted. */
export function labelSetString(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k] ?? '')}`);
  return `{${parts.join(', ')}}`;
}

/** commonOf returns the pairs every map shares (Alertmanager's commonLabels / commonAnnotations). */
export function commonOf(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((m) => m[k] === v)) out[k] = v;
  return out;
}

/**
 * idempotencyKey is a notification's key, stable across retries and restarts: a digest of the receiver, the
 * groupKey, the status and the alerts' states, then the status and the outbox sequence number. A receiver
 * that sees a key twice has seen a duplicate (a crash hit between send and acknowledge).
 */
export function idempotencyKey(
  receiver: string,
  groupKey: string,
  status: AlertStatus,
  alerts: readonly NotifyAlert[],
  seq: number,
): string {
  const h = createHash('sha256').update(`${receiver}\n${groupKey}\n${status}`);
  for (const a of alerts) h.update(`\n${a.fingerprint} ${a.status} ${a.startsAt} ${a.endsAt}`);
  return `${h.digest('hex').slice(0, 24)}-${status}-${seq}`;
}
