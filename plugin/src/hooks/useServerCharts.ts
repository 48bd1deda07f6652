import { useMemo } from 'react';
import type { TimeRange } from '@grafana/data';

import { exporterClient } from '../api/client';
import type { PromMatrixSeries, PromVectorSample, Scenario } from '../api/types';
import type { ChartQuery, Region } from '../components/TimeSeriesChart/TimeSeriesChart';
import type { ChartUnit } from '../utils/frames';
import { useAsync } from './useAsync';

/** MAX_POINTS is the points per series a chart asks for (a few per horizontal pixel is wasted work). */
export const MAX_POINTS = 300;
/** MIN_STEP_S is the exporter's tick (15 s): a finer step only repeats samples. */
export const MIN_STEP_S = 15;

/** ChartSpec is one chart of the Server page. */
export interface ChartSpec {
  id: string;
  title: string;
  unit: ChartUnit;
  min?: number;
  max?: number;
  queries: ChartQuery[];
}

/** stepFor picks a query step for a range: ≤ MAX_POINTS points, never below the tick. */
export function stepFor(fromMs: number, toMs: number): number {
  return Math.max(MIN_STEP_S, Math.ceil((toMs - fromMs) / 1000 / MAX_POINTS));
}

/** rateWindow is the rate() window for a step: at least 4 ticks (Grafana's $__rate_interval rule) and 2 steps. */
export function rateWindow(step: number): string {
  return `${Math.max(4 * MIN_STEP_S, 2 * step)}s`;
}

function quote(v: string): string {
  return JSON.stringify(v);
}

/** serverCharts lists the Server page's charts and their PromQL for one server and step. */
export function serverCharts(server: string, step: number): ChartSpec[] {
  const sel = `server=${quote(server)}`;
  const w = rateWindow(step);
  const latency = (q: number) =>
    `histogram_quantile(${q}, sum by (le) (rate(openmanager_http_request_duration_seconds_bucket{${sel}}[${w}])))`;
  return [
    {
      id: 'cpu',
      title: 'CPU',
      unit: 'percent',
      min: 0,
      max: 100,
      queries: [{ expr: `avg by (server) (openmanager_cpu_usage_percent{${sel}})`, legend: 'cpu' }],
    },
    {
      id: 'memory',
      title: 'Memory',
      unit: 'percent',
      min: 0,
      max: 100,
      queries: [{ expr: `openmanager_memory_usage_percent{${sel}}`, legend: 'memory' }],
    },
    {
      id: 'disk',
      title: 'Disk usage',
      unit: 'percent',
      min: 0,
      max: 100,
      queries: [{ expr: `openmanager_disk_usage_percent{${sel}}`, legend: '{{mount}}' }],
    },
    {
      id: 'network',
      title: 'Network in / out',
      unit: 'Bps',
      min: 0,
      queries: [
        { expr: `sum by (server) (rate(openmanager_network_receive_bytes_total{${sel}}[${w}]))`, legend: 'in' },
        { expr: `sum by (server) (rate(openmanager_network_transmit_bytes_total{${sel}}[${w}]))`, legend: 'out' },
      ],
    },
    {
      id: 'load',
      title: 'Load average',
      unit: 'short',
      min: 0,
      queries: [
        { expr: `openmanager_cpu_load_average_1m{${sel}}`, legend: '1m' },
        { expr: `openmanager_cpu_load_average_5m{${sel}}`, legend: '5m' },
        { expr: `openmanager_cpu_load_average_15m{${sel}}`, legend: '15m' },
      ],
    },
    {
      id: 'latency',
      title: 'HTTP latency',
      unit: 's',
      min: 0,
      queries: [
        { expr: latency(0.5), legend: 'p50' },
        { expr: latency(0.95), legend: 'p95' },
        { expr: latency(0.99), legend: 'p99' },
      ],
    },
    {
      id: 'requests',
      title: 'Requests and errors',
      unit: 'reqps',
      min: 0,
      queries: [
        { expr: `sum by (server) (rate(openmanager_http_requests_total{${sel}}[${w}]))`, legend: 'requests' },
        {
          expr: `sum by (server) (rate(openmanager_http_requests_total{${sel},status=~"5.."}[${w}]))`,
          legend: 'errors (5xx)',
        },
      ],
    },
  ];
}

/** ChartResult is one chart's spec and data (or its error). */
export interface ChartResult {
  spec: ChartSpec;
  series: PromMatrixSeries[] | undefined;
  error: string | undefined;
}

async function runChart(spec: ChartSpec, start: number, end: number, step: number): Promise<ChartResult> {
  try {
    const results = await Promise.all(
      spec.queries.map((q) => exporterClient.queryRange({ expr: q.expr, start, end, step }))
    );
    // Each query's series are named by the chart's legend so two queries' series never collide.
    const series = results.flatMap((rs, i) =>
      rs.map((s) => {
        const legend = spec.queries[i]?.legend ?? '';
        const name = legend.includes('{{')
          ? legend.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l: string) => s.metric[l] ?? '')
          : legend;
        return { metric: { ...s.metric, __name__: name }, values: s.values };
      })
    );
    return { spec, series, error: undefined };
  } catch (err) {
    return { spec, series: undefined, error: err instanceof Error ? err.message : String(err) };
  }
}

/** useServerCharts runs every chart's queries for a server over a time range (re-run when either changes). */
export function useServerCharts(server: string, timeRange: TimeRange): { charts: ChartResult[]; loading: boolean } {
  const fromMs = timeRange.from.valueOf();
  const toMs = timeRange.to.valueOf();
  const step = stepFor(fromMs, toMs);
  const specs = useMemo(() => serverCharts(server, step), [server, step]);
  const { data, loading } = useAsync(
    () => Promise.all(specs.map((s) => runChart(s, Math.floor(fromMs / 1000), Math.ceil(toMs / 1000), step))),
    [specs, fromMs, toMs]
  );
  const charts = data ?? specs.map((spec) => ({ spec, series: undefined, error: undefined }));
  return { charts, loading };
}

/** useServices returns the server's services and whether each is up (instant query of service_up). */
export function useServices(server: string): { services: PromVectorSample[] | undefined; error: string | undefined } {
  const { data, error } = useAsync(
    () => exporterClient.query(`openmanager_service_up{server=${quote(server)}}`),
    [server],
    15_000
  );
  return { services: data, error: error?.message };
}

/** scenarioRegions are the scenarios that touched `server`, as chart regions (the chart clips an active one's planned end). */
export function scenarioRegions(scenarios: readonly Scenario[], server: string): Region[] {
  return scenarios
    .filter((s) => s.server === server || s.affected.includes(server))
    .map((s) => ({
      start: s.start,
      end: Math.min(s.stoppedAt ?? s.end, s.end),
      label: s.kind,
    }));
}
