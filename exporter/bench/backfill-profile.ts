/**
 * Backfill profile helper: `BENCH_HOURS=12 tsx bench/backfill-profile.ts` backfills that much history of the
 * default fleet into a fresh embedded store with a data dir (as `npm start` does) and prints wall and CPU
 * seconds and the process's RSS / heap after a GC. Run under `node --cpu-prof --import tsx` to profile the
 * store's ingest path (each thread, the chunk encode worker included, writes its own profile); run with
 * `--expose-gc` for a steadier heap figure. Then reads one metric back (every
 * series, whole window) through the on-disk chunks, cold and warm.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fleet } from '../src/simulator/index.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import { defaultEncodeWorkers } from '../src/tsdb/encode-pool.js';
import { backfill } from '../src/ingest/ingest.js';

const HOUR_MS = 3_600_000;
/** STEP_MS is the simulator's tick (15 s). */
const STEP_MS = 15_000;
/** END is the store bench's fixed instant (2026-01-14 00:00 UTC). */
const END = Date.UTC(2026, 0, 14);
const hours = Number(process.env.BENCH_HOURS ?? 12);

const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const dir = await mkdtemp(join(tmpdir(), 'om-backfill-profile-'));
const store = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
const wall0 = performance.now();
const cpu0 = cpuS();
const bf = await backfill(new Fleet(), store, { from: END - hours * HOUR_MS, to: END, stepMs: STEP_MS });
await store.flush();
const wall = (performance.now() - wall0) / 1000;
const cpu = cpuS() - cpu0;
(globalThis as { gc?: () => void }).gc?.();
const mem = process.memoryUsage();
const MB = 1024 * 1024;
// Read-back through the on-disk chunks: every series of one metric over the whole window, cold then warm.
const q = await store.querier(END - hours * HOUR_MS, END);
const name = (await q.labelValues('__name__'))[0] ?? '';
const readMs: number[] = [];
let readSamples = 0;
for (let i = 0; i < 2; i++) {
  const t0 = performance.now();
  const got = await q.select([{ type: '=', name: '__name__', value: name }]);
  readMs.push(Math.round(performance.now() - t0));
  readSamples = got.reduce((a, s) => a + s.timestamps.length, 0);
}
console.log(
  JSON.stringify({
    read_metric: name,
    read_samples: readSamples,
    read_cold_ms: readMs[0],
    read_warm_ms: readMs[1],
    hours,
    encode_workers: defaultEncodeWorkers(),
    samples: bf.samples,
    wall_s: +wall.toFixed(2),
    cpu_s: +cpu.toFixed(2),
    rss_mb: Math.round(mem.rss / MB),
    heap_used_mb: Math.round(mem.heapUsed / MB),
    array_buffers_mb: Math.round(mem.arrayBuffers / MB),
    stored_bytes: store.stats().bytes,
  }),
);
await store.close();
await rm(dir, { recursive: true, force: true });
