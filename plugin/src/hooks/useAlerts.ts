import { exporterClient } from '../api/client';
import type { PromAlert, PromRuleGroup } from '../api/types';
import { useAsync, type AsyncState } from './useAsync';

/** ALERTS_REFRESH_MS matches the rules' 15 s evaluation interval (the seed's Prometheus setting). */
export const ALERTS_REFRESH_MS = 15_000;

/** SEVERITY_ORDER ranks severities worst first; unknown ones sort last. */
export const SEVERITY_ORDER = ['critical', 'warning', 'info', 'none'];

/** AlertGroup is the alerts of one severity, grouped by server. */
export interface AlertGroup {
  severity: string;
  servers: Array<{ server: string; alerts: PromAlert[] }>;
  count: number;
}

/** groupAlerts groups alerts by severity (worst first), then by server (sorted by id). */
export function groupAlerts(alerts: readonly PromAlert[]): AlertGroup[] {
  const bySeverity = new Map<string, Map<string, PromAlert[]>>();
  for (const a of alerts) {
    if (a.state === 'inactive') {
      continue;
    }
    const severity = a.labels.severity ?? 'none';
    const server = a.labels.server ?? a.labels.instance ?? '(no server)';
    const servers = bySeverity.get(severity) ?? new Map<string, PromAlert[]>();
    bySeverity.set(severity, servers);
    servers.set(server, [...(servers.get(server) ?? []), a]);
  }
  const rank = (s: string) => {
    const i = SEVERITY_ORDER.indexOf(s);
    return i === -1 ? SEVERITY_ORDER.length : i;
  };
  return [...bySeverity.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([severity, servers]) => ({
      severity,
      servers: [...servers.entries()]
        .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
        .map(([server, list]) => ({ server, alerts: list })),
      count: [...servers.values()].reduce((n, l) => n + l.length, 0),
    }));
}

/** useAlerts polls the exporter's Prometheus alerts and rules endpoints. */
export function useAlerts(): AsyncState<{ alerts: PromAlert[]; groups: PromRuleGroup[] }> {
  return useAsync(
    async () => {
      const [alerts, groups] = await Promise.all([exporterClient.alerts(), exporterClient.rules()]);
      return { alerts, groups };
    },
    [],
    ALERTS_REFRESH_MS
  );
}
