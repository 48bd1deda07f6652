/**
 * Differential test: Debian's Prometheus 2.42 and our API hold THE SAME samples (two hours of the simulated
 * 20-server fleet at 15 s: promtool backfills Prometheus from OpenMetrics text, our embedded store gets the
 * same values through its appender), then ≥ 150 dashboard-style, alert-style and edge-case queries run
 * against both, as instant and as range queries. Results must agree: label sets exact, values within 1e-6
 * relative, NaN = NaN, errors of the same errorType on both sides.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import {
  appendAll,
  fleetSamples,
  startOurApi,
  startPrometheus,
  type ApiPeer,
  type PrometheusPeer,
} from './promql-peer.js';

const HOUR = 3_600_000;
// Data lies in the recent past (inside Prometheus's retention), hour-aligned.
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const START = END - 2 * HOUR;
const AT = (END - 40 * 60_000) / 1000;

const QUERIES: string[] = [
  // Dashboard panels.
  'openmanager_cpu_usage_percent',
  'avg by (server) (openmanager_cpu_usage_percent)',
  'max by (server) (openmanager_cpu_usage_percent)',
  'topk(5, avg by (server) (openmanager_cpu_usage_percent))',
  'bottomk(3, avg by (server) (openmanager_cpu_usage_percent))',
  'sum by (server) (rate(openmanager_network_receive_bytes_total[5m]))',
  'sum by (server) (rate(openmanager_network_transmit_bytes_total[5m])) * 8',
  'sum by (server, interface) (irate(openmanager_network_receive_bytes_total[1m]))',
  'histogram_quantile(0.99, sum by (le, server) (rate(openmanager_http_request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0.5, sum by (le) (rate(openmanager_http_request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0.9, rate(openmanager_http_request_duration_seconds_bucket{server=~"api.*"}[5m]))',
  'sum(rate(openmanager_http_requests_total[5m])) by (status)',
  'sum(rate(openmanager_http_requests_total{status=~"5.."}[5m])) / sum(rate(openmanager_http_requests_total[5m]))',
  'rate(openmanager_http_request_duration_seconds_sum[5m]) / rate(openmanager_http_request_duration_seconds_count[5m])',
  'predict_linear(openmanager_disk_usage_percent[1h], 4 * 3600)',
  'openmanager_memory_used_bytes / openmanager_memory_total_bytes * 100',
  '100 * (1 - openmanager_memory_available_bytes / openmanager_memory_total_bytes)',
  'avg_over_time(openmanager_cpu_load_average_1m[10m])',
  'max_over_time(openmanager_cpu_usage_percent[15m])',
  'min_over_time(openmanager_memory_usage_percent[30m])',
  'quantile_over_time(0.95, openmanager_cpu_usage_percent[10m])',
  'stddev_over_time(openmanager_cpu_load_average_1m[10m])',
  'stdvar_over_time(openmanager_memory_usage_percent[10m])',
  'increase(openmanager_disk_read_bytes_total[10m])',
  'rate(openmanager_disk_write_ops_total[5m])',
  'deriv(openmanager_memory_used_bytes[10m])',
  'delta(openmanager_disk_usage_percent[30m])',
  'idelta(openmanager_cpu_load_average_5m[5m])',
  'changes(openmanager_service_up[30m])',
  'resets(openmanager_network_receive_bytes_total[1h])',
  'count by (server) (openmanager_service_up == 1)',
  'sum by (server) (openmanager_service_up)',
  'count(openmanager_cpu_usage_percent) by (server)',
  'avg(openmanager_cpu_load_average_15m)',
  'quantile(0.9, openmanager_cpu_usage_percent)',
  'stddev by (server) (openmanager_cpu_usage_percent)',
  'count_values("up", openmanager_service_up)',
  'group by (server) (openmanager_scenario_active)',
  'sum without (core) (openmanager_cpu_usage_percent)',
  'openmanager_swap_used_bytes / 1024 / 1024',
  'holt_winters(openmanager_cpu_load_average_1m[10m], 0.3, 0.3)',
  'last_over_time(openmanager_disk_usage_percent[5m])',
  'sum by (server) (rate(openmanager_cpu_context_switches_total[5m]))',
  'rate(openmanager_network_receive_errors_total[5m]) + rate(openmanager_network_transmit_drops_total[5m])',
  'sum(rate(openmanager_network_receive_packets_total[5m])) by (server) / sum(rate(openmanager_network_transmit_packets_total[5m])) by (server)',
  'openmanager_memory_usage_percent * on(server) group_left() avg by (server) (openmanager_cpu_usage_percent) / 100',
  'openmanager_disk_usage_percent / on(server) group_left max by (server) (openmanager_disk_usage_percent)',
  'label_replace(avg by (server) (openmanager_cpu_usage_percent), "host", "$1", "server", "(.*)-\\\\d+")',
  'label_join(openmanager_memory_usage_percent, "id", "/", "server", "__name__")',
  'sort_desc(avg by (server) (openmanager_cpu_usage_percent))',
  'sort(sum by (server) (openmanager_memory_used_bytes))',
  'absent(openmanager_cpu_usage_percent{server="nonexistent"})',
  'absent(openmanager_cpu_usage_percent)',
  'absent_over_time(openmanager_service_up{service="nope"}[5m])',
  'present_over_time(openmanager_service_up[5m])',
  'count_over_time(openmanager_cpu_load_average_1m[5m])',
  'sum_over_time(openmanager_scenario_active[30m])',
  'timestamp(openmanager_cpu_load_average_1m)',
  'time() - timestamp(openmanager_cpu_load_average_1m)',
  'vector(1)',
  'scalar(sum(openmanager_memory_total_bytes))',
  // Offset, @ and subqueries.
  'openmanager_cpu_usage_percent offset 10m',
  'rate(openmanager_network_receive_bytes_total[5m] offset 30m)',
  'openmanager_memory_usage_percent - openmanager_memory_usage_percent offset 15m',
  'openmanager_http_requests_total offset -10m',
  'rate(openmanager_http_requests_total[1m] offset 1h)',
  'timestamp(openmanager_cpu_load_average_1m offset 5m)',
  `openmanager_cpu_load_average_1m @ ${AT}`,
  `rate(openmanager_network_transmit_bytes_total[5m] @ ${AT})`,
  'avg by (server) (openmanager_cpu_usage_percent) @ end()',
  'openmanager_cpu_load_average_1m @ start()',
  'max_over_time(avg by (server) (openmanager_cpu_usage_percent)[30m:1m])',
  'avg_over_time(rate(openmanager_http_requests_total[5m])[15m:1m])',
  'min_over_time(sum(rate(openmanager_network_receive_bytes_total[2m]))[20m:30s])',
  'rate(openmanager_http_requests_total{server=~"web.*"}[5m:30s])',
  'deriv(sum(openmanager_memory_used_bytes)[30m:])',
  'max_over_time(openmanager_cpu_usage_percent{server=~"db.*"}[1m:15s])',
  'sum_over_time((openmanager_service_up == 0)[30m:1m])',
  `sum_over_time(openmanager_cpu_load_average_1m[10m:1m] @ ${AT})`,
  // Alert rules.
  'avg by (server) (openmanager_cpu_usage_percent) > 80',
  'openmanager_memory_usage_percent > 90',
  'openmanager_disk_usage_percent > bool 85',
  'openmanager_service_up == 0',
  'sum by (server) (rate(openmanager_http_requests_total{status=~"5.."}[5m])) / sum by (server) (rate(openmanager_http_requests_total[5m])) > 0.05',
  'histogram_quantile(0.95, sum by (le, server) (rate(openmanager_http_request_duration_seconds_bucket[5m]))) > 0.5',
  'predict_linear(openmanager_disk_usage_percent[1h], 86400) >= 100',
  '(openmanager_memory_usage_percent > 50) and on(server) (avg by (server) (openmanager_cpu_usage_percent) > 20)',
  'openmanager_memory_usage_percent unless on(server) openmanager_scenario_active == 1',
  'max by (server) (openmanager_scenario_active) == 1 or on(server) vector(0)',
  'changes(openmanager_service_up[1h]) > 0',
  'rate(openmanager_network_receive_errors_total[5m]) > 0',
  'openmanager_cpu_load_average_1m > on(server) group_left openmanager_cpu_load_average_15m * 2',
  'count(openmanager_memory_usage_percent > 70)',
  'max(openmanager_disk_usage_percent) by (server) >= 80',
  'sum(openmanager_scenario_active) > 0',
  'abs(delta(openmanager_memory_used_bytes[10m])) > 1e8',
  'avg by (server) (rate(openmanager_cpu_context_switches_total[5m])) > 1000',
  // Edge cases and every function family.
  '1 + 1',
  '2 ^ 0.5',
  'openmanager_cpu_usage_percent / 0',
  '-openmanager_cpu_load_average_1m',
  'ceil(openmanager_cpu_usage_percent)',
  'floor(openmanager_memory_usage_percent / 10) * 10',
  'round(openmanager_cpu_load_average_1m, 0.1)',
  'round(openmanager_cpu_load_average_1m)',
  'clamp(openmanager_cpu_usage_percent, 20, 80)',
  'clamp_min(openmanager_cpu_load_average_1m, 1)',
  'clamp_max(openmanager_cpu_load_average_1m, 1)',
  'sqrt(openmanager_memory_used_bytes)',
  'ln(openmanager_memory_total_bytes)',
  'log2(openmanager_memory_total_bytes)',
  'log10(openmanager_network_receive_bytes_total)',
  'exp(openmanager_cpu_load_average_1m)',
  'sgn(delta(openmanager_memory_used_bytes[5m]))',
  'sin(openmanager_cpu_load_average_1m) + cos(openmanager_cpu_load_average_1m)',
  'tan(openmanager_cpu_load_average_1m) - sinh(openmanager_cpu_load_average_1m / 10)',
  'cosh(openmanager_cpu_load_average_1m / 10) * tanh(openmanager_cpu_load_average_1m)',
  'asinh(openmanager_cpu_load_average_1m) + atan(openmanager_cpu_load_average_1m)',
  'acosh(openmanager_cpu_load_average_1m + 1) + atanh(clamp_max(openmanager_cpu_load_average_1m / 100, 0.5))',
  'asin(clamp(openmanager_cpu_load_average_1m / 100, -1, 1))',
  'openmanager_cpu_load_average_1m atan2 openmanager_cpu_load_average_5m',
  'deg(acos(clamp(openmanager_cpu_load_average_1m / 100, -1, 1)))',
  'rad(openmanager_cpu_usage_percent)',
  'hour(timestamp(openmanager_cpu_load_average_1m))',
  'minute(timestamp(openmanager_cpu_load_average_1m))',
  'day_of_week()',
  'day_of_month()',
  'day_of_year()',
  'days_in_month()',
  'month()',
  'year()',
  'pi()',
  'time()',
  'openmanager_cpu_usage_percent{server=~"web.*", core!="0"}',
  '{__name__=~"openmanager_memory_.*_bytes", server="db-01"}',
  // RE2 flag groups in a matcher (JavaScript would need the flag outside the pattern).
  'openmanager_memory_usage_percent{server=~"(?i)WEB-01"}',
  'label_replace(openmanager_memory_usage_percent{server="web-01"}, "role", "$1", "server", "(?P<r>[[:alpha:]]+)-\\d+")',
  'openmanager_memory_usage_percent{server!~"web.*|api.*"}',
  'nonexistent_metric',
  'sum(nonexistent_metric)',
  'count(nonexistent_metric) or vector(0)',
  'openmanager_cpu_usage_percent + on(server) openmanager_memory_usage_percent',
  'sum(openmanager_cpu_usage_percent) / count(openmanager_cpu_usage_percent)',
  'topk(3, openmanager_cpu_usage_percent)',
  'bottomk by (server) (1, openmanager_cpu_usage_percent)',
  'topk by (server) (2, openmanager_cpu_usage_percent)',
  'quantile by (server) (0.5, openmanager_cpu_usage_percent)',
  'stdvar(openmanager_cpu_load_average_1m)',
  'group(openmanager_service_up)',
  'min(openmanager_memory_usage_percent) without (server)',
  'count_values without (server) ("val", round(openmanager_cpu_load_average_1m))',
  'rate(openmanager_cpu_load_average_1m[5m])',
  'irate(openmanager_http_requests_total[5m])',
  'increase(openmanager_http_requests_total[1h])',
  'sum by (method) (increase(openmanager_http_requests_total[30m]))',
  'histogram_quantile(0.5, openmanager_http_request_duration_seconds_bucket)',
  'histogram_quantile(1, sum by (le) (rate(openmanager_http_request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0, sum by (le) (rate(openmanager_http_request_duration_seconds_bucket[5m])))',
  'avg_over_time(openmanager_memory_usage_percent[2h])',
  'count_over_time(openmanager_cpu_load_average_1m[3h])',
  'label_replace(openmanager_service_up, "svc", "$1", "service", "(.*)")',
  'label_replace(openmanager_service_up, "service", "", "service", ".*")',
  'sort(openmanager_cpu_load_average_1m)',
  '(openmanager_cpu_load_average_1m > 1) * 100',
  'openmanager_cpu_load_average_1m > 0.5 < 2',
  '100 - openmanager_memory_usage_percent',
  'openmanager_memory_used_bytes + openmanager_memory_available_bytes - openmanager_memory_total_bytes',
  'sum by (server) (openmanager_disk_read_bytes_total)',
  'avg(rate(openmanager_disk_read_bytes_total[5m])) by (device)',
  'max by (device) (openmanager_disk_usage_percent)',
  'sum(openmanager_scenario_active) by (scenario)',
  'openmanager_memory_total_bytes > bool 0',
  '1 > bool 2',
  'sum(rate({__name__=~"openmanager_network_.*_bytes_total"}[5m])) by (__name__)',
  'rate({__name__=~"openmanager_network_.*_bytes_total"}[5m])',
  'openmanager_cpu_usage_percent[5m]',
  'sum(rate(openmanager_http_requests_total[5m]',
];

interface Envelope {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}
type Sample = { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] };

function close(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
  return Math.abs(x - y) <= 1e-6 * Math.max(Math.abs(x), Math.abs(y));
}

const key = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort());

/** diff returns why two envelopes disagree, or undefined when they agree. */
function diff(ours: Envelope, theirs: Envelope, ordered: boolean): string | undefined {
  if (ours.status !== theirs.status || ours.errorType !== theirs.errorType)
    return `status ${ours.status}/${ours.errorType ?? ''} (${ours.error ?? ''}) vs ${theirs.status}/${theirs.errorType ?? ''} (${theirs.error ?? ''})`;
  if (ours.status !== 'success') return undefined;
  const a = ours.data;
  const b = theirs.data;
  if (!a || !b || a.resultType !== b.resultType) return `resultType ${a?.resultType} vs ${b?.resultType}`;
  if (a.resultType === 'scalar' || a.resultType === 'string') {
    const [ta, va] = a.result as [number, string];
    const [tb, vb] = b.result as [number, string];
    return ta === tb && close(va, vb) ? undefined : `scalar ${ta} ${va} vs ${tb} ${vb}`;
  }
  const ra = a.result as Sample[];
  const rb = b.result as Sample[];
  if (ra.length !== rb.length) return `${ra.length} vs ${rb.length} series`;
  // Ordered results (sort, sort_desc, topk…) must list the same values in the same order; which of several
  // series with an equal value comes first is unspecified in Prometheus (Go's unstable sort.Sort), and the
  // fleet's 2-decimal gauges tie often. The per-series comparison below still checks every series' values.
  if (ordered && ra.some((s, i) => !close(s.value?.[1] ?? '', rb[i]?.value?.[1] ?? '')))
    return 'order differs';
  const byKey = new Map(rb.map((s) => [key(s.metric), s]));
  for (const s of ra) {
    const o = byKey.get(key(s.metric));
    if (!o) return `series ${key(s.metric)} only in ours`;
    const pa = s.value ? [s.value] : (s.values ?? []);
    const pb = o.value ? [o.value] : (o.values ?? []);
    if (pa.length !== pb.length) return `${key(s.metric)}: ${pa.length} vs ${pb.length} points`;
    for (let i = 0; i < pa.length; i++) {
      const [ta, va] = pa[i] as [number, string];
      const [tb, vb] = pb[i] as [number, string];
      if (ta !== tb || !close(va, vb)) return `${key(s.metric)} @${ta}: ${va} vs ${tb} ${vb}`;
    }
  }
  return undefined;
}

/**
 * sameSelections says whether two results hold, per timestamp, the same sorted values (within `close`): what
 * topk/bottomk selected, whichever series carried them. Prometheus breaks ties in topk/bottomk by the shape
 * of its heap (unspecified), the fleet's 2-decimal gauges tie often, and an avg of tied gauges can differ in
 * its last bit between the engines (they add in different orders), so for those two a different series with
 * an equal value is no error.
 */
function sameSelections(a: Envelope, b: Envelope): boolean {
  const selections = (r: Envelope): [number, string[]][] => {
    const at = new Map<number, string[]>();
    for (const s of (r.data?.result ?? []) as Sample[]) {
      for (const [t, v] of s.value ? [s.value] : (s.values ?? [])) at.set(t, [...(at.get(t) ?? []), v]);
    }
    return [...at.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([t, vs]) => [t, vs.sort((x, y) => Number(x) - Number(y))]);
  };
  const sa = selections(a);
  const sb = selections(b);
  return (
    sa.length === sb.length &&
    sa.every(([t, vs], i) => {
      const [tb, vb] = sb[i] ?? [NaN, []];
      return t === tb && vs.length === vb.length && vs.every((v, j) => close(v, vb[j] ?? ''));
    })
  );
}

let prom: PrometheusPeer;
let ours: ApiPeer;
let store: EmbeddedStorage;

beforeAll(async () => {
  const series = fleetSamples(START, END, 15_000);
  store = await EmbeddedStorage.open({});
  await appendAll(() => store.appender(), series);
  [prom, ours] = await Promise.all([startPrometheus(series), startOurApi({ queryable: store })]);
}, 180_000);

afterAll(async () => {
  await Promise.all([prom?.stop(), ours?.stop(), store?.close()]);
});

/** get sends a form POST (as Grafana does), or a GET for the endpoints Prometheus serves only by GET. */
async function get(base: string, path: string, params: Record<string, string>): Promise<Envelope> {
  const body = new URLSearchParams(params).toString();
  const res = path.startsWith('label/')
    ? await fetch(`${base}/api/v1/${path}?${body}`)
    : await fetch(`${base}/api/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
  return (await res.json()) as Envelope;
}

describe('PromQL differential test against Prometheus 2.42', () => {
  it(`agrees on ${QUERIES.length} queries, each as an instant and a range query`, async () => {
    const disagreements: string[] = [];
    let agreed = 0;
    const instant = { time: String((END - 7 * 60_000 + 13_000) / 1000) };
    const range = { start: String((START + 20 * 60_000) / 1000), end: String(END / 1000), step: '60' };
    for (const query of QUERIES) {
      for (const [path, params] of [
        ['query', instant],
        ['query_range', range],
      ] as const) {
        const [a, b] = await Promise.all([
          get(ours.base, path, { query, ...params }),
          get(prom.base, path, { query, ...params }),
        ]);
        let why = diff(a, b, path === 'query' && /^sort/.test(query));
        if (why && /^(topk|bottomk)\b/.test(query) && sameSelections(a, b)) why = undefined;
        if (why) disagreements.push(`${path} ${query}: ${why}`);
        else agreed++;
      }
    }
    expect(disagreements).toEqual([]);
    expect(agreed).toBeGreaterThanOrEqual(300);
  });

  it.each([
    [
      'series',
      { 'match[]': 'openmanager_memory_usage_percent', start: String(START / 1000), end: String(END / 1000) },
    ],
    [
      'labels',
      { 'match[]': 'openmanager_http_requests_total', start: String(START / 1000), end: String(END / 1000) },
    ],
    ['label/server/values', {}],
    ['label/__name__/values', { 'match[]': '{server="db-01"}' }],
    [
      'format_query',
      { query: 'sum(rate(foo{b="c",a=~"x"}[5m]))by(job) > bool on(x)group_left(y) bar offset 1h' },
    ],
    ...[
      'topk(3,x)without(a)',
      'x[5m:] @ start()',
      '-x offset -5m',
      'a or b and c unless d',
      '1e6 + 0.5',
      'x @ 100.5',
      'label_replace(x, "a", "$1", "b", "(.*)")',
      'count_values("v", x)',
      '(a + b) * c',
      'quantile_over_time(0.9, x[1h30m])',
      'a / ignoring(b) group_left c',
      'holt_winters(x[10m], 0.5, 0.5)',
    ].map((query) => ['format_query', { query }]),
  ] as [string, Record<string, string>][])('agrees on %s %o', async (path, params) => {
    const [a, b] = await Promise.all([get(ours.base, path, params), get(prom.base, path, params)]);
    if (Array.isArray(a.data) && Array.isArray(b.data)) {
      const sortKey = (x: unknown): string => (typeof x === 'string' ? x : key(x as Record<string, string>));
      a.data = [...(a.data as unknown[])].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : 1)) as never;
      b.data = [...(b.data as unknown[])].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : 1)) as never;
    }
    expect(a).toEqual(b);
  });
});
