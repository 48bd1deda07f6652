/**
 * The Prometheus HTTP API's response shapes as the exporter serves them (web/api/v1/api.go): the envelope,
 * query results, and the rules and alerts endpoints. The plugin reads them through Grafana's data-source
 * proxy or the plugin proxy; the exporter builds them (api/prometheus, rules/api-data.ts).
 */

/** PromSuccess is a success envelope. */
export interface PromSuccess<T> {
  status: 'success';
  data: T;
  warnings?: string[];
}

/** PromError is an error envelope; `errorType` is one of Prometheus's (bad_data, execution, timeout, …). */
export interface PromError {
  status: 'error';
  errorType: string;
  error: string;
}

/** PromVectorSample is one series of an instant-vector result. */
export interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** PromMatrixSeries is one series of a range-query result. */
export interface PromMatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** PromAlertState is an alert's state. */
export type PromAlertState = 'inactive' | 'pending' | 'firing';

/** PromAlert is one alert of `/api/v1/alerts` and of an alerting rule in `/api/v1/rules`. */
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: PromAlertState;
  /** activeAt is RFC 3339; keepFiringSince too, present while keep_firing_for holds the alert. */
  activeAt?: string;
  keepFiringSince?: string;
  /** value is the expression's value, formatted as Go's %e (`9.5e+01`). */
  value: string;
}

/** PromRuleCommon is what alerting and recording rules share in `/api/v1/rules`. */
interface PromRuleCommon {
  name: string;
  query: string;
  labels: Record<string, string>;
  health: 'unknown' | 'ok' | 'err';
  lastError?: string;
  /** evaluationTime is seconds; lastEvaluation RFC 3339 (Go's zero time before the first). */
  evaluationTime: number;
  lastEvaluation: string;
}

/** PromAlertingRule is an alerting rule with its alerts. */
export interface PromAlertingRule extends PromRuleCommon {
  type: 'alerting';
  state: PromAlertState;
  /** duration and keepFiringFor are seconds. */
  duration: number;
  keepFiringFor: number;
  annotations: Record<string, string>;
  alerts?: PromAlert[];
}

/** PromRecordingRule is a recording rule. */
export interface PromRecordingRule extends PromRuleCommon {
  type: 'recording';
}

/** PromRule is one rule of `/api/v1/rules`. */
export type PromRule = PromAlertingRule | PromRecordingRule;

/** PromRuleGroup is one rule group of `/api/v1/rules`. */
export interface PromRuleGroup {
  name: string;
  file: string;
  rules: PromRule[];
  /** interval and evaluationTime are seconds. */
  interval: number;
  limit: number;
  evaluationTime: number;
  lastEvaluation: string;
}

/** PromRulesData is `/api/v1/rules`' data. */
export interface PromRulesData {
  groups: PromRuleGroup[];
}

/** PromAlertsData is `/api/v1/alerts`' data. */
export interface PromAlertsData {
  alerts: PromAlert[];
}
