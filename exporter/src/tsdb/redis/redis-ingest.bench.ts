/**
 * Redis ingest benchmark: backfills a fleet-shaped workload (20 servers × 60 series, 15 s ticks) into the
 * Redis backend and prints throughput and Redis memory per stored sample. Run:
 *   REDIS_URL=redis://127.0.0.1:6379 BENCH_DAYS=1 npx tsx src/tsdb/redis/redis-ingest.bench.ts
 * The last line is one JSON object with `redis_ingest_ksamples_s` and `redis_bytes_per_sample`.
 */
import { measureRedisIngest, type IngestWorkload } from './measure-ingest.js';

/** SERVERS × SERIES_PER_SERVER is the default fleet's shape (the seed's 20 servers, ~60 series each). */
const SERVERS = 20;
const SERIES_PER_SERVER = 60;
/** STEP_MS is the simulator's default tick (15 s). */
const STEP_MS = 15_000;
const DAY_MS = 86_400_000;

function hash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return (h >>> 0) / 4294967296;
}

/** fleetWorkload makes gauges with two decimals (cpu %, memory GB …) and integer counters, deterministically. */
export function fleetWorkload(days: number): IngestWorkload {
  const labels = [];
  for (let s = 0; s < SERVERS; s++) {
    for (let m = 0; m < SERIES_PER_SERVER; m++) {
      const counter = m % 4 === 3;
      labels.push({
        __name__: counter ? `om_bench_counter_${m}_total` : `om_bench_gauge_${m}`,
        server: `server-${String(s + 1).padStart(2, '0')}`,
      });
    }
  }
  const start = Date.UTC(2026, 0, 5);
  const counters = new Float64Array(labels.length);
  return {
    labels,
    start,
    stepMs: STEP_MS,
    steps: Math.round((days * DAY_MS) / STEP_MS),
    value(s, i) {
      if (s % 4 === 3) {
        if (i === 0) counters[s] = 0;
        counters[s] = (counters[s] ?? 0) + Math.floor(hash(s, i) * 500);
        return counters[s] ?? 0;
      }
      const base = 40 + 30 * Math.sin(i / 240 + s) + 5 * hash(s, i);
      return Math.round(base * 100) / 100;
    },
  };
}

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const days = Number(process.env.BENCH_DAYS ?? '1');
const r = await measureRedisIngest({ url, workload: fleetWorkload(days) });
const rows: [string, string][] = [
  ['series', String(r.series)],
  ['samples', r.samples.toLocaleString('en')],
  ['ingest seconds', r.seconds.toFixed(2)],
  ['ingest k samples/s', r.ksamplesPerSec.toFixed(0)],
  ['Redis keys', String(r.keys)],
  ['Redis bytes (MEMORY USAGE)', r.redisBytes.toLocaleString('en')],
  ['bytes / sample (all keys)', r.bytesPerSample.toFixed(3)],
  ['bytes / sample (raw chunks only)', r.rawBytesPerSample.toFixed(3)],
];
for (const [kind, bytes] of Object.entries(r.bytesByKind)) {
  rows.push([`  bytes / sample in :${kind} keys`, (bytes / r.samples).toFixed(3)]);
}
for (const [k, v] of rows) console.log(`${k.padEnd(34)} ${v.padStart(16)}`);
console.log(
  JSON.stringify({
    redis_ingest_ksamples_s: Math.round(r.ksamplesPerSec),
    redis_bytes_per_sample: Math.round(r.bytesPerSample * 1000) / 1000,
  }),
);
