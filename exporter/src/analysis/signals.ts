/**
 * The key signals the analysis watches on every server, as a table: the PromQL that yields one series per
 * server (per filesystem for disk) from the store, the transform that makes its noise roughly additive, and
 * the detector's tuning. Adding a signal is adding a row.
 */
import type { DetectorSpec } from './detector.js';

/** SIGNAL_NAMES are the signals, in the order findings and scores list them. */
export const SIGNAL_NAMES = [
  'up',
  'service',
  'cpu',
  'memory',
  'disk',
  'network',
  'latency',
  'errors',
] as const;

/** SignalName names one signal (the `signal` label of the analysis series). */
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** SignalDef describes one signal. */
export interface SignalDef {
  readonly name: SignalName;
  /** metric is the metric family the signal reads (a finding's `metric`). */
  readonly metric: string;
  /** query returns one series per server (labels: server, and `mount` for disk). */
  readonly query: string;
  /** transform maps a sample to the detector's scale (log for multiplicative noise); invert maps back. */
  readonly transform: (v: number) => number;
  readonly invert: (v: number) => number;
  readonly detector: DetectorSpec;
  /** phrase names an anomaly of this signal in explanations ("db-01 memory leak since 14:02"). */
  readonly phrase: string;
  /** unit formats a sample for summaries. */
  readonly unit: string;
}

const identity = (v: number): number => v;
/** LATENCY_FLOOR_S keeps log() finite for an idle server (1 ms is below every role's median latency). */
const LATENCY_FLOOR_S = 0.001;

/**
 * Thresholds: 5 standard deviations for two consecutive samples; a CUSUM allowance of 1 σ and threshold 8 on
 * the prewhitened residual, whose in-control run length (~10⁷ samples by Siegmund's approximation) leaves
 * room for the profile's small bias, while a lasting shift of 2 σ alarms within 8 samples. Floors are the
 * smallest change that matters in each signal's units: 1.5 CPU points, 1 memory point (memory wanders
 * for an hour, more than a 3 h window's MAD shows), 0.05 disk points,
 * 10 % of latency (log: queueing makes a
 * busy hour's latency vary more than a 3 h MAD shows), 0.3 points of error ratio; network errors and drops are counted in log1p(events/s).
 *
 * The error ratio has no daily profile (baseline `level`): errors over requests cancels the traffic's daily
 * swing, so the profile learnt only the day's incidents, and where a busy day's outages (a cascading failure
 * reaches every web server) covered most of a few hours, even a profile cleaned of unusual stretches took them
 * for the normal level and expected a negative ratio after them.
 */
export const SIGNALS: readonly SignalDef[] = [
  {
    name: 'up',
    metric: 'openmanager_server_up',
    query: 'min by (server) (openmanager_server_up)',
    transform: identity,
    invert: identity,
    detector: { baseline: 'up', direction: 'down', floor: 1, zThreshold: 1, cusumK: 0.5, cusumH: 8 },
    phrase: 'down',
    unit: '',
  },
  {
    name: 'service',
    metric: 'openmanager_service_up',
    query: 'min by (server) (openmanager_service_up)',
    transform: identity,
    invert: identity,
    detector: { baseline: 'up', direction: 'down', floor: 1, zThreshold: 1, cusumK: 0.5, cusumH: 8 },
    phrase: 'service down',
    unit: '',
  },
  {
    name: 'cpu',
    metric: 'openmanager_cpu_usage_percent',
    query: 'avg by (server) (openmanager_cpu_usage_percent)',
    transform: identity,
    invert: identity,
    detector: { baseline: 'seasonal', direction: 'up', floor: 1.5, zThreshold: 5, cusumK: 1, cusumH: 8 },
    phrase: 'CPU spike',
    unit: '%',
  },
  {
    name: 'memory',
    metric: 'openmanager_memory_usage_percent',
    query: 'max by (server) (openmanager_memory_usage_percent)',
    transform: identity,
    invert: identity,
    detector: { baseline: 'seasonal', direction: 'up', floor: 1, zThreshold: 5, cusumK: 1, cusumH: 8 },
    phrase: 'memory leak',
    unit: '%',
  },
  {
    name: 'disk',
    metric: 'openmanager_disk_usage_percent',
    query: 'max by (server, mount) (openmanager_disk_usage_percent)',
    transform: identity,
    invert: identity,
    detector: { baseline: 'trend', direction: 'up', floor: 0.05, zThreshold: 5, cusumK: 1, cusumH: 8 },
    phrase: 'disk filling',
    unit: '%',
  },
  {
    name: 'network',
    metric: 'openmanager_network_receive_errors_total',
    query:
      'sum by (server) (rate(openmanager_network_receive_errors_total[1m]))' +
      ' + sum by (server) (rate(openmanager_network_transmit_drops_total[1m]))',
    transform: (v) => Math.log1p(Math.max(0, v)),
    invert: (v) => Math.expm1(v),
    detector: { baseline: 'seasonal', direction: 'up', floor: 0.3, zThreshold: 5, cusumK: 1, cusumH: 8 },
    phrase: 'network errors and drops',
    unit: '/s',
  },
  {
    name: 'latency',
    metric: 'openmanager_http_request_duration_seconds',
    query:
      'sum by (server) (rate(openmanager_http_request_duration_seconds_sum[1m]))' +
      ' / sum by (server) (rate(openmanager_http_request_duration_seconds_count[1m]))',
    transform: (v) => Math.log(Math.max(LATENCY_FLOOR_S, v)),
    invert: (v) => Math.exp(v),
    detector: { baseline: 'seasonal', direction: 'up', floor: 0.1, zThreshold: 5, cusumK: 1, cusumH: 8 },
    phrase: 'latency',
    unit: 's',
  },
  {
    name: 'errors',
    metric: 'openmanager_http_requests_total',
    query:
      '100 * sum by (server) (rate(openmanager_http_requests_total{status=~"5.."}[1m]))' +
      ' / sum by (server) (rate(openmanager_http_requests_total[1m]))',
    transform: identity,
    invert: identity,
    detector: { baseline: 'level', direction: 'up', floor: 0.3, zThreshold: 5, cusumK: 1, cusumH: 8 },
    phrase: 'error ratio',
    unit: '%',
  },
];

/** signalDef returns the definition of a signal. */
export function signalDef(name: SignalName): SignalDef {
  const d = SIGNALS.find((s) => s.name === name);
  if (!d) throw new Error(`unknown signal ${name}`);
  return d;
}
