/**
 * Key signals: for each scenario kind, the series a failure of that kind shows up in (what the shipped rules
 * watch), as PromQL over one server. When no alert fired for a scenario, its key signal over the scenario's
 * window is what a rule author looks at first, so a run evaluates it with its own engine and store and the
 * report carries the values (contract `coverageSignalSchema`): the run's samples exist nowhere else.
 *
 * The window is the scenario's [start, end + grace] with SIGNAL_MARGIN_MS each side, so the baseline shows
 * around the failure; at most SIGNAL_MAX_POINTS steps on the tick grid, at most SIGNAL_MAX_SERIES series.
 */
import type { CoverageSignal } from '../contract/coverage.js';
import type { Engine } from '../promql/index.js';
import { parseExpr, quoteString, walkExpr } from '../promql/index.js';
import type { ScenarioKind } from '../simulator/index.js';
import type { Storage } from '../tsdb/storage.js';
import { METRIC_NAME } from '../util/labels.js';

/** KeySignal is one kind's query over a server selector, its legend, and the label naming each series. */
interface KeySignal {
  readonly expr: (selector: string) => string;
  readonly legend: string;
  readonly by?: string;
}

/** KEY_SIGNALS is each kind's key signal (see the file comment). */
const KEY_SIGNALS: Record<ScenarioKind, KeySignal> = {
  cpu_spike: { expr: (sel) => `avg by (server) (openmanager_cpu_usage_percent{${sel}})`, legend: 'CPU %' },
  memory_leak: {
    expr: (sel) => `max by (server) (openmanager_memory_usage_percent{${sel}})`,
    legend: 'memory %',
  },
  disk_fill: {
    expr: (sel) => `max by (server, mount) (openmanager_disk_usage_percent{${sel}})`,
    legend: 'disk %',
    by: 'mount',
  },
  network_saturation: {
    expr: (sel) => `sum by (server) (rate(openmanager_network_receive_bytes_total{${sel}}[5m]))`,
    legend: 'receive B/s',
  },
  service_crash: {
    expr: (sel) => `max by (server, service) (openmanager_service_up{${sel}})`,
    legend: 'service up',
    by: 'service',
  },
  latency_degradation: {
    expr: (sel) =>
      `histogram_quantile(0.99, sum by (le) (rate(openmanager_http_request_duration_seconds_bucket{${sel}}[5m])))`,
    legend: 'p99 latency s',
  },
  cascading_failure: {
    expr: (sel) =>
      `sum(rate(openmanager_http_requests_total{${sel},status=~"5.."}[5m])) / sum(rate(openmanager_http_requests_total{${sel}}[5m]))`,
    legend: '5xx ratio',
  },
  server_down: { expr: (sel) => `max by (server) (openmanager_server_up{${sel}})`, legend: 'server up' },
};

/** SIGNAL_MARGIN_MS widens a signal's window by 10 minutes each side. */
export const SIGNAL_MARGIN_MS = 10 * 60_000;

/** SIGNAL_READ_BACK_MS is how far before its window a signal reads: the [5m] rates' range and the lookback. */
export const SIGNAL_READ_BACK_MS = 5 * 60_000;

/** SIGNAL_MAX_POINTS bounds a signal's steps (a chart a few hundred pixels wide shows no more). */
const SIGNAL_MAX_POINTS = 240;

/** SIGNAL_MAX_SERIES bounds a signal's series (a server has a handful of mounts and services). */
const SIGNAL_MAX_SERIES = 12;

/** keySignalQuery is the PromQL of a kind's key signal over one server. */
export function keySignalQuery(kind: ScenarioKind, server: string): string {
  return KEY_SIGNALS[kind].expr(`server=${quoteString(server)}`);
}

/** keySignalMetricNames are the metric names the key signals of `kinds` select (a run must store them). */
export function keySignalMetricNames(kinds: readonly ScenarioKind[]): Set<string> {
  const names = new Set<string>();
  for (const kind of kinds)
    walkExpr(parseExpr(keySignalQuery(kind, 'x')), (n) => {
      if (n.type !== 'VectorSelector') return;
      for (const m of n.matchers) if (m.name === METRIC_NAME && m.type === '=') names.add(m.value);
    });
  return names;
}

/** SignalWindow is the stretch of time a scenario's signal covers, on the tick grid. */
export interface SignalWindow {
  readonly start: number;
  readonly end: number;
  readonly stepMs: number;
}

/** signalWindow is the window of a scenario (start, end) scored with `graceMs`, on a grid of `tickMs`. */
export function signalWindow(
  scenario: { readonly start: number; readonly end: number },
  graceMs: number,
  tickMs: number,
): SignalWindow {
  const start = Math.floor((scenario.start - SIGNAL_MARGIN_MS) / tickMs) * tickMs;
  const end = Math.ceil((scenario.end + graceMs + SIGNAL_MARGIN_MS) / tickMs) * tickMs;
  const stepMs = Math.max(1, Math.ceil((end - start) / tickMs / SIGNAL_MAX_POINTS)) * tickMs;
  return { start, end, stepMs };
}

/**
 * captureSignal evaluates `kind`'s key signal for `server` over `window` (its end clipped to `upTo`, the
 * newest sample stored) on `storage` with `engine`.
 */
export async function captureSignal(
  engine: Engine,
  storage: Storage,
  kind: ScenarioKind,
  server: string,
  window: SignalWindow,
  upTo: number,
): Promise<CoverageSignal> {
  const signal = KEY_SIGNALS[kind];
  const expr = keySignalQuery(kind, server);
  const { start, stepMs } = window;
  const end = Math.max(start, Math.min(window.end, Math.floor((upTo - start) / stepMs) * stepMs + start));
  const steps = Math.floor((window.end - start) / stepMs) + 1;
  const out = await engine.rangeQuery(storage, expr, start, end, stepMs);
  const matrix = out.result.resultType === 'matrix' ? out.result.result : [];
  const series = matrix.slice(0, SIGNAL_MAX_SERIES).map((s) => {
    const values = new Array<number | null>(steps).fill(null);
    s.timestamps.forEach((t, i) => {
      const v = s.values[i] ?? NaN;
      if (Number.isFinite(v)) values[Math.round((t - start) / stepMs)] = v;
    });
    return { name: (signal.by ? s.labels[signal.by] : undefined) ?? signal.legend, values };
  });
  series.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { expr, legend: signal.legend, start, stepMs, series };
}
