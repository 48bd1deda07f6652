import type {
  AlertInfo,
  AnalysisFinding,
  AnalysisState,
  RootCause,
  ServerForecast,
  ServerScore,
  PromAlert,
  PromRuleGroup,
  Scenario,
  ServerInfo,
  UnifiedMetrics,
  UnifiedServer,
} from '../api/types';

/** server builds one server-metrics entry. */
export function server(id: string, over: Partial<UnifiedServer> = {}): UnifiedServer {
  return { id, cpu: 20, memory: 40, disk: 50, network: { in: 1000, out: 500 }, status: 'healthy', alerts: [], ...over };
}

/** metrics builds a server-metrics payload with a consistent summary. */
export function metrics(servers: UnifiedServer[]): UnifiedMetrics {
  const count = (s: string) => servers.filter((x) => x.status === s).length;
  return {
    servers,
    summary: {
      total_servers: servers.length,
      healthy: count('healthy'),
      warning: count('warning'),
      critical: count('critical') + count('down'),
      avg_cpu: servers.reduce((n, s) => n + s.cpu, 0) / Math.max(1, servers.length),
      avg_memory: servers.reduce((n, s) => n + s.memory, 0) / Math.max(1, servers.length),
    },
  };
}

/** info builds a server description. */
export function info(id: string, role: ServerInfo['role']): ServerInfo {
  return {
    id,
    role,
    cores: 4,
    memoryBytes: 8 * 2 ** 30,
    disks: [{ mount: '/', device: 'sda', sizeBytes: 100e9 }],
    interfaces: ['eth0'],
    services: ['nginx'],
    zone: 'a',
  };
}

/** scenario builds a scenario record. */
export function scenario(id: string, over: Partial<Scenario> = {}): Scenario {
  return {
    id,
    kind: 'cpu_spike',
    server: 'web-01',
    affected: ['web-01'],
    start: Date.UTC(2026, 0, 1, 12),
    end: Date.UTC(2026, 0, 1, 12, 10),
    intensity: 0.8,
    source: 'api',
    ...over,
  };
}

/** promAlert builds one alert of the Prometheus alerts API. */
export function promAlert(name: string, labels: Record<string, string>, over: Partial<PromAlert> = {}): PromAlert {
  return {
    labels: { alertname: name, ...labels },
    annotations: { summary: `${name} on ${labels.server ?? '?'}` },
    state: 'firing',
    activeAt: '2026-01-01T12:00:00Z',
    value: '9.5e+01',
    ...over,
  };
}

/** alertInfo builds one alert as the hub's `alerts` channel carries it. */
export function alertInfo(name: string, labels: Record<string, string>, over: Partial<AlertInfo> = {}): AlertInfo {
  return {
    name,
    state: 'firing',
    severity: labels.severity ?? '',
    labels: { alertname: name, ...labels },
    annotations: { summary: `${name} on ${labels.server ?? '?'}` },
    value: 95,
    activeAt: Date.UTC(2026, 0, 1, 12),
    firedAt: null,
    resolvedAt: null,
    ...over,
  };
}

/** ruleGroup builds a rules-API group with alerting rules of the given names. */
export function ruleGroup(name: string, alerting: string[]): PromRuleGroup {
  return {
    name,
    file: `rules/${name}.yml`,
    interval: 15,
    limit: 0,
    evaluationTime: 0.001,
    lastEvaluation: '2026-01-01T12:00:00Z',
    rules: alerting.map((r) => ({
      type: 'alerting' as const,
      name: r,
      query: `${r}_expr > 1`,
      labels: {},
      annotations: {},
      health: 'ok' as const,
      evaluationTime: 0.001,
      lastEvaluation: '2026-01-01T12:00:00Z',
      state: 'inactive' as const,
      duration: 300,
      keepFiringFor: 0,
    })),
  };
}

/** T0 is the analysis fixtures' run time (Unix ms). */
export const T0 = Date.UTC(2026, 0, 1, 12);

/** finding builds one analysis finding, open since 10 minutes before T0. */
export function finding(id: string, over: Partial<AnalysisFinding> = {}): AnalysisFinding {
  return {
    id,
    server: 'db-01',
    metric: 'openmanager_memory_usage_percent',
    kind: 'anomaly',
    score: 0.9,
    severity: 'warning',
    window: { start: T0 - 600_000, end: T0 },
    summary: 'db-01 memory leak since 11:50 UTC: 82 % where 73 % was expected',
    signal: 'memory',
    state: 'open',
    detectedAt: T0 - 570_000,
    ...over,
  };
}

/** score builds one server's analysis score from its per-signal scores (the server's is the highest). */
export function score(server: string, signals: Record<string, number>): ServerScore {
  return { server, score: Math.max(0, ...Object.values(signals)), signals };
}

/** forecast builds one server's forecasts: no CPU band, a disk and a memory ETA when given (in hours). */
export function forecast(server: string, diskHours?: number, memoryHours?: number): ServerForecast {
  const eta = (h: number) => ({ seconds: h * 3600, lower: h * 1800, upper: h * 7200, value: 80, slopePerHour: 2 });
  return {
    server,
    cpu: [],
    disk: diskHours === undefined ? null : { ...eta(diskHours), mount: '/var/log' },
    memory: memoryHours === undefined ? null : eta(memoryHours),
  };
}

/** rootCause builds a root-cause hint with one affected server. */
export function rootCause(origin: string, affected: string): RootCause {
  return {
    origin,
    signal: 'memory',
    onset: T0 - 600_000,
    affected: [{ server: affected, signal: 'latency', onset: T0 - 560_000, lagSeconds: 40 }],
    explanation: `${origin} memory leak since 11:50 UTC; ${affected} latency rose 40 s later`,
  };
}

/** analysisState builds a `GET /api/analysis` answer at T0. */
export function analysisState(over: Partial<AnalysisState> = {}): AnalysisState {
  return {
    generatedAt: T0,
    intervalMs: 30_000,
    runs: 12,
    lastRunMs: 42,
    fleetAnomalyRate: 0.0125,
    scores: [],
    findings: [],
    rootCauses: [],
    forecasts: [],
    ...over,
  };
}
