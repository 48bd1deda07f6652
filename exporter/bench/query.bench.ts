/**
 * bench:query — PromQL latency of our API against Debian's Prometheus 2.42 holding the same samples, and
 * 30-day range queries through rollup tiers against the same queries on raw samples.
 *
 * Data: the simulated 20-server fleet (exporter/src/simulator) over 7 days at a 120 s step, restricted to the
 * ~250 series the dashboard queries read (CPU, load, memory, disk, network, HTTP requests and the GET/200
 * latency histogram); Prometheus gets them through `promtool tsdb create-blocks-from openmetrics`, our
 * embedded store through its appender. Every query is a range query as Grafana sends it (form POST), over
 * the newest 1 h (step 15 s), 24 h (step 120 s) and 7 d (step 600 s), alternating between the two servers;
 * our query cache is off so every request evaluates. The 30-day part uses a cheap synthetic generator
 * (20 servers × gauge + counter at 120 s) in a second embedded store and calls the engine directly.
 *
 * Output: a table, then one JSON line: ours/Prometheus median-latency ratios per range, the tier/raw
 * median-latency ratio at 30 d, and our p99 at 24 h.
 */
import { Engine } from '../src/promql/engine.js';
import { DEFAULT_TIER_OPTIONS } from '../src/promql/tiers.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import type { Labels } from '../src/tsdb/storage.js';
import {
  appendAll,
  fleetSamples,
  startOurApi,
  startPrometheus,
  type FleetSeries,
} from '../test/promql-peer.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** DATA_STEP_MS is the sample spacing of the bench data (documented above: 7 d of 250 series stays ~1.3 M samples). */
const DATA_STEP_MS = 120_000;
/** ITERATIONS is how often each query runs per range and server. */
const ITERATIONS = Number(process.env.BENCH_QUERY_ITERATIONS ?? 5);

const QUERIES = [
  'avg by (server) (openmanager_cpu_usage_percent)',
  'max by (server) (openmanager_cpu_usage_percent)',
  'topk(5, avg by (server) (openmanager_cpu_usage_percent))',
  'openmanager_memory_usage_percent',
  'avg(openmanager_memory_usage_percent)',
  'sum by (server) (rate(openmanager_network_receive_bytes_total[5m]))',
  'sum by (server) (rate(openmanager_network_transmit_bytes_total[5m])) * 8',
  'topk(3, sum by (server) (rate(openmanager_network_receive_bytes_total[5m])))',
  'histogram_quantile(0.95, sum by (le, server) (rate(openmanager_http_request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0.5, sum by (le) (rate(openmanager_http_request_duration_seconds_bucket[5m])))',
  'sum by (server) (rate(openmanager_http_requests_total[5m]))',
  'sum(rate(openmanager_http_requests_total{status=~"5.."}[5m])) / sum(rate(openmanager_http_requests_total[5m]))',
  'predict_linear(openmanager_disk_usage_percent[1h], 86400)',
  'max by (server) (openmanager_disk_usage_percent)',
  'openmanager_cpu_load_average_1m',
  'avg_over_time(openmanager_cpu_load_average_1m[10m])',
  'max_over_time(openmanager_cpu_usage_percent[10m])',
  'count(openmanager_memory_usage_percent > 80)',
  'sum(openmanager_memory_used_bytes) / sum(openmanager_memory_total_bytes)',
  'increase(openmanager_http_requests_total[1h])',
  'deriv(openmanager_disk_usage_percent[30m])',
  'quantile(0.9, avg by (server) (openmanager_cpu_usage_percent))',
];

const RANGES = [
  { name: '1h', span: HOUR, step: 15 },
  { name: '24h', span: DAY, step: 120 },
  { name: '7d', span: 7 * DAY, step: 600 },
] as const;

/** keep selects the series the dashboard queries read (the histogram only for GET 200). */
function keep(l: Labels): boolean {
  const n = l.__name__ ?? '';
  if (n.startsWith('openmanager_http_request_duration_seconds'))
    return l.method === 'GET' && l.status === '200';
  if (n === 'openmanager_cpu_usage_percent') return l.core === '0' || l.core === '1';
  return [
    'openmanager_cpu_load_average_1m',
    'openmanager_memory_usage_percent',
    'openmanager_memory_used_bytes',
    'openmanager_memory_total_bytes',
    'openmanager_disk_usage_percent',
    'openmanager_network_receive_bytes_total',
    'openmanager_network_transmit_bytes_total',
    'openmanager_http_requests_total',
  ].includes(n);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

async function timed(base: string, params: Record<string, string>): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${base}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  const body = (await res.json()) as { status: string; error?: string };
  if (body.status !== 'success') throw new Error(`${base}: ${params.query}: ${body.error ?? res.status}`);
  return performance.now() - t;
}

const log = (m: string): void => console.error(`[bench:query] ${m}`);

async function main(): Promise<void> {
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  const start = end - 7 * DAY;
  log('simulating 7 d of the fleet…');
  const series = fleetSamples(start, end, DATA_STEP_MS, keep);
  const samples = series.reduce((a, s) => a + s.timestamps.length, 0);
  log(`${series.length} series, ${samples} samples; loading both servers…`);
  const store = await EmbeddedStorage.open({});
  await appendAll(() => store.appender(), series);
  const prom = await startPrometheus(series, log);
  const ours = await startOurApi({ queryable: store, cache: false });
  const rows: { range: string; who: string; p50: number; p99: number }[] = [];
  const ratio: Record<string, number> = {};
  let p99Ours24h = NaN;
  try {
    for (const r of RANGES) {
      const params = (query: string): Record<string, string> => ({
        query,
        start: String((end - r.span) / 1000),
        end: String(end / 1000),
        step: String(r.step),
      });
      // One warm-up round per server so both have their caches and JIT in the same state.
      for (const q of QUERIES) {
        await timed(ours.base, params(q));
        await timed(prom.base, params(q));
      }
      const oursT: number[] = [];
      const promT: number[] = [];
      for (let i = 0; i < ITERATIONS; i++)
        for (const q of QUERIES) {
          oursT.push(await timed(ours.base, params(q)));
          promT.push(await timed(prom.base, params(q)));
        }
      rows.push({ range: r.name, who: 'ours', p50: percentile(oursT, 50), p99: percentile(oursT, 99) });
      rows.push({ range: r.name, who: 'prometheus', p50: percentile(promT, 50), p99: percentile(promT, 99) });
      ratio[r.name] = percentile(oursT, 50) / percentile(promT, 50);
      if (r.name === '24h') p99Ours24h = percentile(oursT, 99);
      log(`${r.name} done`);
    }
  } finally {
    await Promise.all([prom.stop(), ours.stop()]);
    await store.close();
  }

  log('30 d: synthetic store for tiers vs raw…');
  const tierRatio = await tiers30d();
  rows.push({ range: '30d', who: 'tiers', p50: tierRatio.tiers.p50, p99: tierRatio.tiers.p99 });
  rows.push({ range: '30d', who: 'raw', p50: tierRatio.raw.p50, p99: tierRatio.raw.p99 });

  console.log(
    `queries: ${QUERIES.length}, iterations: ${ITERATIONS}, data: ${series.length} series, ${samples} samples`,
  );
  console.log('range  server        p50 ms    p99 ms');
  for (const row of rows)
    console.log(
      `${row.range.padEnd(6)} ${row.who.padEnd(12)} ${row.p50.toFixed(2).padStart(8)} ${row.p99.toFixed(2).padStart(9)}`,
    );
  console.log(
    JSON.stringify({
      ratio_vs_prometheus_1h: round(ratio['1h'] ?? NaN),
      ratio_vs_prometheus_24h: round(ratio['24h'] ?? NaN),
      ratio_vs_prometheus_7d: round(ratio['7d'] ?? NaN),
      tier_ratio_30d: round(tierRatio.tiers.p50 / tierRatio.raw.p50),
      p99_ms_24h: round(p99Ours24h),
    }),
  );
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** tiers30d times 30-day dashboard queries with tiers on and off over the same embedded store. */
async function tiers30d(): Promise<{
  tiers: { p50: number; p99: number };
  raw: { p50: number; p99: number };
}> {
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  const start = end - 30 * DAY;
  const series: FleetSeries[] = [];
  for (let s = 0; s < 20; s++) {
    const cpu: FleetSeries = {
      labels: { __name__: 'cpu_percent', server: `srv-${s}` },
      timestamps: [],
      values: [],
    };
    const net: FleetSeries = {
      labels: { __name__: 'net_bytes_total', server: `srv-${s}` },
      timestamps: [],
      values: [],
    };
    let counter = 0;
    // Scrape phase off the bucket grid (+7 s), as real scrapes are.
    for (let t = start + 7_000; t <= end; t += DATA_STEP_MS) {
      cpu.timestamps.push(t);
      cpu.values.push(50 + 30 * Math.sin(t / 3e6 + s) + 5 * Math.sin(t / 7e4));
      counter += 1e5 * (1.5 + Math.sin(t / 5e6 + s));
      net.timestamps.push(t);
      net.values.push(Math.round(counter));
    }
    series.push(cpu, net);
  }
  const store = await EmbeddedStorage.open({});
  await appendAll(() => store.appender(), series);
  const queries = [
    'max_over_time(cpu_percent[1h])',
    'avg_over_time(cpu_percent[1h])',
    'max by (server) (max_over_time(cpu_percent[1h]))',
    'rate(net_bytes_total[1h])',
    'sum by (server) (increase(net_bytes_total[1h]))',
  ];
  const tiered = new Engine();
  const raw = new Engine({ tiers: { ...DEFAULT_TIER_OPTIONS, enabled: false } });
  const tt: number[] = [];
  const rt: number[] = [];
  try {
    for (let i = 0; i <= ITERATIONS; i++)
      for (const q of queries) {
        let t = performance.now();
        const a = await tiered.rangeQuery(store, q, start + DAY, end, HOUR);
        const ta = performance.now() - t;
        t = performance.now();
        await raw.rangeQuery(store, q, start + DAY, end, HOUR);
        const tr = performance.now() - t;
        if (a.stats.tiersUsed.length === 0) throw new Error(`${q} did not use a tier`);
        if (i > 0) {
          tt.push(ta);
          rt.push(tr);
        }
      }
  } finally {
    await store.close();
  }
  return {
    tiers: { p50: percentile(tt, 50), p99: percentile(tt, 99) },
    raw: { p50: percentile(rt, 50), p99: percentile(rt, 99) },
  };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
