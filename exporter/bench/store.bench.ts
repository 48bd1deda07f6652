/**
 * Store benchmark (issue 3, requirement 12): `npm run bench:store -w exporter`.
 *
 * 1. Backfills BENCH_DAYS (default 7) of the default 20-server simulated fleet into the embedded store with
 *    a data dir, as a first start does (bulk appends, rollups, chunk files, final snapshot; the cut chunks
 *    encoded on the store's default encode worker when the machine has a second core): wall seconds, and
 *    CPU seconds of all threads.
 * 2. Sizes the raw chunks the head cut (our codec, real fleet data, 7 days) and re-encodes the very same
 *    chunks as Gorilla/Prometheus XOR and as the lossy deadband mode; times encode and decode of them in
 *    CPU seconds (the machine is shared, CPU time is the steadier clock).
 * 3. The full-precision random walk workload of the codec's own measure (chunkenc/workloads.ts).
 * 4. Redis ingest throughput and memory per sample through the Redis backend's measureRedisIngest, on
 *    BENCH_REDIS_HOURS (default 6) of the same fleet (REDIS_URL, default redis://127.0.0.1:6379); null
 *    when no Redis answers.
 * Prints a table, then one JSON line with exactly the keys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Fleet } from '../src/simulator/index.js';
import { LosslessChunkBuilder } from '../src/tsdb/chunkenc/builder.js';
import { Encoding, type Chunk } from '../src/tsdb/chunkenc/chunk.js';
import { DeadbandChunkBuilder } from '../src/tsdb/chunkenc/deadband.js';
import { decodeChunk } from '../src/tsdb/chunkenc/decode.js';
import { measureCodec } from '../src/tsdb/chunkenc/measure.js';
import { randomWalk } from '../src/tsdb/chunkenc/workloads.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import { defaultEncodeWorkers } from '../src/tsdb/encode-pool.js';
import { backfill } from '../src/ingest/ingest.js';
import { measureRedisIngest, type IngestWorkload } from '../src/tsdb/redis/measure-ingest.js';

const DAY_MS = 86_400_000;
/** STEP_MS is the simulator's tick (15 s). */
const STEP_MS = 15_000;
const days = Number(process.env.BENCH_DAYS ?? 7);
const redisHours = Number(process.env.BENCH_REDIS_HOURS ?? 6);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** END is a fixed instant so runs compare (2026-01-14 00:00 UTC). */
const END = Date.UTC(2026, 0, 14);
/** DEADBAND_PCT is the seed's threshold (skip changes under 5 %). */
const DEADBAND_PCT = 5;

const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const rows: [string, string][] = [];
const row = (k: string, v: string | number) =>
  rows.push([k, typeof v === 'number' ? String(+v.toFixed(4)) : v]);

// 1. Backfill.
const dir = await mkdtemp(join(tmpdir(), 'om-bench-store-'));
const fleet = new Fleet();
const store = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
const from = END - days * DAY_MS;
let lastPct = -1;
const wall0 = performance.now();
const cpu0 = cpuS();
const bf = await backfill(fleet, store, {
  from,
  to: END,
  stepMs: STEP_MS,
  onProgress: (p) => {
    const pct = Math.floor((100 * p.framesDone) / p.framesTotal);
    if (pct % 10 === 0 && pct !== lastPct && process.stderr.isTTY) process.stderr.write(`\rbackfill ${pct}%`);
    lastPct = pct;
  },
});
const backfillS = (performance.now() - wall0) / 1000;
const backfillCpuS = cpuS() - cpu0;
if (process.stderr.isTTY) process.stderr.write('\r');
row(`backfill ${days} d × ${fleet.layout.servers.length} servers (wall s)`, backfillS);
row('backfill CPU s (all threads)', backfillCpuS);
row('backfill encode worker threads', defaultEncodeWorkers());
row('backfill series / samples', `${fleet.layout.series.length} / ${bf.samples}`);
row('backfill samples/s (wall)', Math.round(bf.samples / backfillS));
const all = store.stats();
row('stored bytes, all tiers (raw + rollups)', all.bytes);

// 2. Codec on the stored raw chunks.
const chunks: Chunk[] = (await store.chunkStore.allRaw()).map((c) => c.chunk);
let samples = 0;
let ourBytes = 0;
for (const c of chunks) {
  samples += c.numSamples();
  ourBytes += c.bytes().length;
}
const ts = new Float64Array(0xffff);
const vs = new Float64Array(0xffff);
const load = (c: Chunk): number => {
  const it = c.iterator();
  let n = 0;
  while (it.next()) {
    ts[n] = it.at();
    vs[n] = it.value();
    n++;
  }
  return n;
};
let decodeCpu = cpuS();
let check = 0;
for (const c of chunks) {
  const it = decodeChunk(c.bytes()).iterator();
  while (it.next()) check += it.value() === it.value() ? 1 : 0;
}
decodeCpu = cpuS() - decodeCpu;
const ours = new LosslessChunkBuilder();
const xor = new LosslessChunkBuilder({ encodings: [Encoding.XOR] });
let gorillaBytes = 0;
let encodeCpu = 0;
let deadbandBytes = 0;
let deadbandMaxErr = 0;
let decimalChunks = 0;
for (const c of chunks) {
  const n = load(c);
  const t0 = cpuS();
  ours.reset();
  for (let i = 0; i < n; i++) ours.append(ts[i] ?? 0, vs[i] ?? 0);
  const re = ours.finish();
  encodeCpu += cpuS() - t0;
  if (re.encoding === Encoding.Decimal) decimalChunks++;
  xor.reset();
  for (let i = 0; i < n; i++) xor.append(ts[i] ?? 0, vs[i] ?? 0);
  gorillaBytes += xor.finish().bytes().length;
  const db = new DeadbandChunkBuilder({ thresholdPct: DEADBAND_PCT });
  for (let i = 0; i < n; i++) db.append(ts[i] ?? 0, vs[i] ?? 0);
  deadbandBytes += db.finish().bytes().length;
  deadbandMaxErr = Math.max(deadbandMaxErr, db.maxErrorPct());
}
row('raw chunks / samples', `${chunks.length} / ${samples} (${check > 0 ? 'decoded' : 'empty'})`);
row('ours B/sample (fleet, raw)', ourBytes / samples);
row('gorilla B/sample (same chunks)', gorillaBytes / samples);
row('ours / gorilla', ourBytes / gorillaBytes);
row('decimal-encoded chunk share', decimalChunks / Math.max(1, chunks.length));
row(`deadband ${DEADBAND_PCT} % B/sample`, deadbandBytes / samples);
row('deadband max error %', deadbandMaxErr);
row('encode M samples / CPU s', samples / Math.max(1e-9, encodeCpu) / 1e6);
row('decode M samples / CPU s', samples / Math.max(1e-9, decodeCpu) / 1e6);
chunks.length = 0;

// 3. Full-precision random walk.
const walk = measureCodec(randomWalk({ samples: 5760, series: 100 }), { chunkSamples: 480, deadbandPct: 0 });
row('float walk ours B/sample', walk.bytesPerSample);
row('float walk gorilla B/sample', walk.gorillaBytesPerSample);
await store.close();
await rm(dir, { recursive: true, force: true });

// 4. Redis.
let redisKps: number | null = null;
let redisBps: number | null = null;
const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
const redisUp = await probe
  .connect()
  .then(() => probe.ping())
  .then(() => true)
  .catch(() => false);
probe.disconnect();
if (redisUp) {
  const steps = Math.round((redisHours * 3_600_000) / STEP_MS);
  const width = fleet.layout.series.length;
  const grid = new Float64Array(steps * width);
  let k = 0;
  for (const f of fleet.frames(END - (steps - 1) * STEP_MS, END, STEP_MS, { reuse: true })) {
    grid.set(f.values, k * width);
    k++;
  }
  const workload: IngestWorkload = {
    labels: fleet.layout.series.map((s) => s.labels),
    start: END - (steps - 1) * STEP_MS,
    stepMs: STEP_MS,
    steps,
    value: (s, i) => grid[i * width + s] ?? NaN,
  };
  const r = await measureRedisIngest({ url: redisUrl, workload });
  redisKps = r.ksamplesPerSec;
  redisBps = r.bytesPerSample;
  row(`redis ingest (${redisHours} h of the fleet) k samples/s`, r.ksamplesPerSec);
  row('redis bytes/sample (all keys)', r.bytesPerSample);
  row('redis raw-chunk bytes/sample', r.rawBytesPerSample);
} else {
  row('redis', `no Redis at ${redisUrl}: redis figures are null`);
}

const w = Math.max(...rows.map(([k]) => k.length));
console.log(`store benchmark (${new Date().toISOString()})`);
for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
const r4 = (x: number | null) => (x === null ? null : +x.toFixed(4));
console.log(
  JSON.stringify({
    bytes_per_sample: r4(ourBytes / samples),
    gorilla_bytes_per_sample: r4(gorillaBytes / samples),
    float_bytes_per_sample: r4(walk.bytesPerSample),
    float_gorilla_bytes_per_sample: r4(walk.gorillaBytesPerSample),
    deadband_bytes_per_sample: r4(deadbandBytes / samples),
    deadband_max_error_pct: r4(deadbandMaxErr),
    encode_msamples_s: r4(samples / Math.max(1e-9, encodeCpu) / 1e6),
    decode_msamples_s: r4(samples / Math.max(1e-9, decodeCpu) / 1e6),
    redis_ingest_ksamples_s: r4(redisKps),
    redis_bytes_per_sample: r4(redisBps),
    backfill_7d_20_servers_s: r4(backfillS),
  }),
);
