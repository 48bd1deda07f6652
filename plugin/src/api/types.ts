/**
 * The exporter's data shapes, imported type-only from the exporter workspace so both ends share one
 * definition (nothing from the exporter is bundled), plus the response shapes of the JSON and Prometheus APIs
 * that the exporter does not export as types.
 */
export type { UnifiedMetrics, UnifiedServer, UnifiedSummary } from '../../../exporter/src/api/unified-metrics';
export type {
  Scenario,
  ScenarioKind,
  ServerInfo,
  ServerRole,
  ServerStatus,
} from '../../../exporter/src/simulator/types';
export type {
  AlertsEvent,
  AnyDataMessage,
  Channel,
  ClientMessage,
  SystemStatus,
} from '../../../exporter/src/hub/protocol';

import type { Scenario, ScenarioKind, ServerInfo } from '../../../exporter/src/simulator/types';

/** ScenariosResponse is GET /api/scenarios: the active scenarios and the whole history (ground truth). */
export interface ScenariosResponse {
  active: Scenario[];
  history: Scenario[];
}

/** ScenarioRequest is the body of POST /api/scenarios (issue 2). */
export interface ScenarioRequest {
  kind: ScenarioKind;
  server: string;
  durationSeconds: number;
  intensity: number;
}

/** ServersResponse is GET /api/servers: the fleet's static description. */
export type ServersResponse = ServerInfo[];

/** HealthResponse is GET /healthz; only `status` is relied on, the rest is shown as-is. */
export interface HealthResponse {
  status: string;
  [key: string]: unknown;
}

/** PromVectorSample is one series of an instant-vector result. */
export interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** PromMatrixSeries is one series of a range-query result. */
export interface PromMatrixSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** PromAlert is one alert of /api/v1/alerts (Prometheus HTTP API). */
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt?: string;
  value?: string;
}

/** PromRule is one rule of /api/v1/rules; alerting rules carry their alerts. */
export interface PromRule {
  name: string;
  query: string;
  type: 'alerting' | 'recording';
  health?: string;
  state?: 'pending' | 'firing' | 'inactive';
  duration?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  alerts?: PromAlert[];
  lastError?: string;
}

/** PromRuleGroup is one rule group of /api/v1/rules. */
export interface PromRuleGroup {
  name: string;
  file: string;
  interval?: number;
  rules: PromRule[];
}
