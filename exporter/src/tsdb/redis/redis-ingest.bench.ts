/**
 * Redis ingest benchmark: backfills a fleet-shaped workload (20 servers × 60 series, 15 s ticks) into the
 * Redis backend and prints throughput and Redis memory per stored sample. Run:
 *   REDIS_URL=redis://127.0.0.1:6379 BENCH_DAYS=1 npx tsx src/tsdb/redis/redis-ingest.bench.ts
 * The last line is one JSON object with `redis_ingest_ksamples_s` and `redis_bytes_per_sample`.
 */
import { measureRedisIngest, syntheticFleetWorkload } from './measure-ingest.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const days = Number(process.env.BENCH_DAYS ?? '1');
const r = await measureRedisIngest({ url, workload: syntheticFleetWorkload(days) });
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
