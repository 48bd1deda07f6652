/**
 * The Server page's charts as data: one spec per chart, its PromQL queries for one server and the analysis signal
 * it shows. Free of Grafana's runtime, so node code (the UI benchmark) reads it too; serverScene.ts builds the
 * scene from it.
 */
import type { ChartUnit } from '../../scenes/ChartPanel/frames';

/** ChartQuery is one PromQL query of a chart and its legend format. */
export interface ChartQuery {
  expr: string;
  legend: string;
}

/** ChartSpec is one chart: its queries and, when the analysis watches it, the analysis signal it shows. */
export interface ChartSpec {
  id: string;
  title: string;
  unit: ChartUnit;
  min?: number;
  max?: number;
  queries: ChartQuery[];
  /** signal is the `signal` label of the analysis series (`openmanager_forecast`, `openmanager_anomaly_score`). */
  signal?: string;
}

/**
 * serverSelector is the label matcher of one server. The scene is built per server (the server is the page's
 * path), so queries carry it literally: they run at once, without waiting for the server variable's options.
 */
export function serverSelector(server: string): string {
  return `server=${JSON.stringify(server)}`;
}

/** chartSpecs are the Server page's charts for one server; `$__rate_interval` is the data source's to fill. */
export function chartSpecs(server: string): ChartSpec[] {
  const sel = serverSelector(server);
  const latency = (q: number) =>
    `histogram_quantile(${q}, sum by (le) (rate(openmanager_http_request_duration_seconds_bucket{${sel}}[$__rate_interval])))`;
  return [
    {
      id: 'cpu',
      title: 'CPU',
      unit: 'percent',
      min: 0,
      max: 100,
      signal: 'cpu',
      queries: [{ expr: `avg by (server) (openmanager_cpu_usage_percent{${sel}})`, legend: 'cpu' }],
    },
    {
      id: 'memory',
      title: 'Memory',
      unit: 'percent',
      min: 0,
      max: 100,
      signal: 'memory',
      queries: [{ expr: `openmanager_memory_usage_percent{${sel}}`, legend: 'memory' }],
    },
    {
      id: 'disk',
      title: 'Disk usage',
      unit: 'percent',
      min: 0,
      max: 100,
      signal: 'disk',
      queries: [{ expr: `openmanager_disk_usage_percent{${sel}}`, legend: '{{mount}}' }],
    },
    {
      id: 'network',
      title: 'Network in / out',
      unit: 'Bps',
      min: 0,
      signal: 'network',
      queries: [
        {
          expr: `sum by (server) (rate(openmanager_network_receive_bytes_total{${sel}}[$__rate_interval]))`,
          legend: 'in',
        },
        {
          expr: `sum by (server) (rate(openmanager_network_transmit_bytes_total{${sel}}[$__rate_interval]))`,
          legend: 'out',
        },
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
      signal: 'latency',
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
      signal: 'errors',
      queries: [
        {
          expr: `sum by (server) (rate(openmanager_http_requests_total{${sel}}[$__rate_interval]))`,
          legend: 'requests',
        },
        {
          expr: `sum by (server) (rate(openmanager_http_requests_total{${sel},status=~"5.."}[$__rate_interval]))`,
          legend: 'errors (5xx)',
        },
      ],
    },
  ];
}
