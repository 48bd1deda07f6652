/**
 * The seed's `server-metrics` shape (shared/SEED.md, "Real-time streaming"), served by GET /api/unified-metrics
 * and broadcast on the hub's `server-metrics` channel. Status thresholds live here and nowhere else.
 */
import type { ServerStatus, UnifiedMetrics, UnifiedServer } from '../contract/index.js';
import type { ServerSummary } from '../simulator/types.js';

export type { UnifiedMetrics, UnifiedServer, UnifiedSummary } from '../contract/index.js';

/**
 * STATUS_THRESHOLDS are the warning/critical levels (percent) per resource. They match the seed's alert
 * rules (HighCPUUsage > 80, CriticalCPUUsage > 95, HighMemoryUsage > 85) and its disk alerts.
 */
export const STATUS_THRESHOLDS = {
  cpu: { warning: 80, critical: 95 },
  memory: { warning: 85, critical: 95 },
  disk: { warning: 80, critical: 90 },
} as const;

type Resource = keyof typeof STATUS_THRESHOLDS;

/** FiringAlert is an alert rule firing for a server: its name and `severity` label. */
export interface FiringAlert {
  readonly name: string;
  readonly severity: string;
}

/** FiringAlerts returns the firing alerts of one server (by id); none when no rule manager runs. */
export type FiringAlerts = (server: string) => readonly FiringAlert[];

/**
 * serverStatus classifies one server: the worst level any resource reaches or any firing alert names
 * (`severity` critical or warning); `down` when it does not answer. Firing alerts are listed by name.
 */
export function serverStatus(
  s: ServerSummary,
  firing: readonly FiringAlert[] = [],
): { status: ServerStatus; alerts: string[] } {
  if (!s.up) return { status: 'down', alerts: ['server down', ...firing.map((a) => a.name)] };
  let status: ServerStatus = 'healthy';
  const alerts: string[] = [];
  for (const a of firing) {
    alerts.push(a.name);
    if (a.severity === 'critical') status = 'critical';
    else if (a.severity === 'warning' && status === 'healthy') status = 'warning';
  }
  for (const resource of Object.keys(STATUS_THRESHOLDS) as Resource[]) {
    const value = s[resource];
    const { warning, critical } = STATUS_THRESHOLDS[resource];
    if (value > critical) {
      status = 'critical';
      alerts.push(`${resource} > ${critical}%`);
    } else if (value > warning) {
      if (status === 'healthy') status = 'warning';
      alerts.push(`${resource} > ${warning}%`);
    }
  }
  return { status, alerts };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** toUnifiedMetrics builds the seed's message data from one frame's server summaries and firing alerts. */
export function toUnifiedMetrics(
  summaries: readonly ServerSummary[],
  firing: FiringAlerts = () => [],
): UnifiedMetrics {
  const servers: UnifiedServer[] = [];
  let healthy = 0;
  let warning = 0;
  let critical = 0;
  let cpuSum = 0;
  let memSum = 0;
  let upCount = 0;
  for (const s of summaries) {
    const { status, alerts } = serverStatus(s, firing(s.id));
    if (status === 'healthy') healthy++;
    else if (status === 'warning') warning++;
    else critical++;
    if (s.up) {
      cpuSum += s.cpu;
      memSum += s.memory;
      upCount++;
    }
    servers.push({
      id: s.id,
      cpu: s.up ? round2(s.cpu) : 0,
      memory: s.up ? round2(s.memory) : 0,
      disk: s.up ? round2(s.disk) : 0,
      network: { in: s.up ? Math.round(s.networkIn) : 0, out: s.up ? Math.round(s.networkOut) : 0 },
      status,
      alerts,
    });
  }
  return {
    servers,
    summary: {
      total_servers: summaries.length,
      healthy,
      warning,
      critical,
      avg_cpu: upCount ? round2(cpuSum / upCount) : 0,
      avg_memory: upCount ? round2(memSum / upCount) : 0,
    },
  };
}
