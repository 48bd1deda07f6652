/**
 * How alerts read on the Alerts page and in the alert-list panel: severity and state colours, durations, values.
 */
import type { AlertRowState } from '../../hooks/alert-feed';

/** BadgeColor is the subset of @grafana/ui Badge colours used for alerts. */
export type BadgeColor = 'red' | 'orange' | 'blue' | 'purple' | 'green';

/** SEVERITY_COLOR colours a severity label; unknown severities are purple. */
export const SEVERITY_COLOR: Record<string, BadgeColor> = { critical: 'red', warning: 'orange', info: 'blue' };

/** STATE_COLOR colours an alert state. */
export const STATE_COLOR: Record<AlertRowState, BadgeColor> = { firing: 'red', pending: 'orange', resolved: 'green' };

/** severityColor is a severity's badge colour. */
export function severityColor(severity: string): BadgeColor {
  return SEVERITY_COLOR[severity] ?? 'purple';
}

/** humanDuration prints a duration compactly: `45s`, `12m`, `3h 5m`, `2d 4h`. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) {
    return `${s}s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m}m`;
  }
  const h = Math.floor(m / 60);
  if (h < 24) {
    return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  }
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** formatAlertValue prints an expression value with at most 4 significant digits; `—` when unknown. */
export function formatAlertValue(v: number | null): string {
  if (v === null) {
    return '—';
  }
  if (Number.isInteger(v)) {
    return String(v);
  }
  return String(Number(v.toPrecision(4)));
}

/** activeText says for how long an alert has been active, or how long ago it resolved. */
export function activeText(
  row: { state: AlertRowState; activeAt: number | null; resolvedAt: number | null },
  now: number
): string {
  if (row.state === 'resolved') {
    return row.resolvedAt === null ? 'resolved' : `resolved ${humanDuration(now - row.resolvedAt)} ago`;
  }
  return row.activeAt === null ? '—' : humanDuration(now - row.activeAt);
}
