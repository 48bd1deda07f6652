/**
 * measureRedisIngest: the Redis backend's ingest throughput and memory per stored sample, for the store
 * benchmark (issue 3, requirement 12: `redis_ingest_ksamples_s`, `redis_bytes_per_sample`). It backfills a
 * workload through the public Storage API (bulk appends, as the exporter's backfill does) into a fresh key
 * prefix, then sums `MEMORY USAGE` of every key under that prefix — exact per key, and unaffected by other
 * users of a shared Redis, unlike an INFO used_memory delta.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Labels } from '../../util/labels.js';
import { deleteRedisPrefix } from './redis-admin.js';
import { RedisStorage } from './redis-storage.js';
import { RedisKeys } from './keys.js';

/** IngestWorkload describes samples on a regular grid: every series has a value at every step. */
export interface IngestWorkload {
  readonly labels: readonly Labels[];
  /** start is the first timestamp (ms); step i is at start + i * stepMs. */
  readonly start: number;
  readonly stepMs: number;
  readonly steps: number;
  /** value returns series `s`'s value at step `i` (called outside the timed region). */
  value(s: number, i: number): number;
}

/** RedisIngestOptions configures one measurement. */
export interface RedisIngestOptions {
  readonly url: string;
  readonly workload: IngestWorkload;
  /** batchSteps is how many steps of every series go in one commit (default 240 = 1 h of 15 s ticks). */
  readonly batchSteps?: number;
  /** bulk uses bulk appenders, as the backfill does (default true); false acknowledges every commit. */
  readonly bulk?: boolean;
  /** keep leaves the keys in Redis (under `keyPrefix`) instead of deleting them afterwards. */
  readonly keep?: boolean;
  readonly keyPrefix?: string;
  readonly logger?: Logger;
}

/** RedisIngestResult is what one measurement found. */
export interface RedisIngestResult {
  readonly samples: number;
  readonly series: number;
  /** seconds is the time spent in append + commit and the final flush (value generation excluded). */
  readonly seconds: number;
  readonly ksamplesPerSec: number;
  /** redisBytes is the sum of MEMORY USAGE over every key of the store. */
  readonly redisBytes: number;
  readonly bytesPerSample: number;
  /** rawBytesPerSample counts only the raw chunk hashes (codec + hash overhead, no rollups or head state). */
  readonly rawBytesPerSample: number;
  readonly keys: number;
  /** bytesByKind splits redisBytes by key kind (raw, 1m, 5m, 1h, state, log, meta, series). */
  readonly bytesByKind: Readonly<Record<string, number>>;
}

/** BATCH_STEPS_DEFAULT is one hour of 15 s ticks per commit, the size the backfill commits in. */
const BATCH_STEPS_DEFAULT = 240;

/** MEMORY_PIPELINE is how many MEMORY USAGE calls go in one pipeline. */
const MEMORY_PIPELINE = 1000;

/** measureRedisIngest runs the workload into a fresh prefix and reports throughput and Redis memory. */
export async function measureRedisIngest(opts: RedisIngestOptions): Promise<RedisIngestResult> {
  const prefix = opts.keyPrefix ?? `ombench-${randomBytes(4).toString('hex')}`;
  const logger = opts.logger ?? pino({ level: 'silent' });
  const { workload } = opts;
  const batchSteps = opts.batchSteps ?? BATCH_STEPS_DEFAULT;
  const bulk = opts.bulk ?? true;
  const nSeries = workload.labels.length;
  const store = await RedisStorage.open({
    url: opts.url,
    keyPrefix: prefix,
    logger,
    registry: new Registry(),
  });
  let seconds = 0;
  let samples = 0;
  try {
    const refs = new Array<number>(nSeries).fill(0);
    const values = new Float64Array(nSeries * batchSteps);
    for (let from = 0; from < workload.steps; from += batchSteps) {
      const to = Math.min(workload.steps, from + batchSteps);
      for (let s = 0; s < nSeries; s++) {
        for (let i = from; i < to; i++) values[s * batchSteps + (i - from)] = workload.value(s, i);
      }
      const t0 = performance.now();
      const app = store.appender({ bulk });
      for (let s = 0; s < nSeries; s++) {
        const labels = workload.labels[s] ?? {};
        for (let i = from; i < to; i++) {
          refs[s] = app.append(
            refs[s] ?? 0,
            labels,
            workload.start + i * workload.stepMs,
            values[s * batchSteps + (i - from)] ?? 0,
          );
        }
      }
      const r = await app.commit();
      samples += r.appended;
      seconds += (performance.now() - t0) / 1000;
    }
    const t0 = performance.now();
    await store.flush();
    seconds += (performance.now() - t0) / 1000;
    await store.close();
    const { total, byKind, keys } = await memoryOfPrefix(opts.url, prefix);
    const raw = byKind.raw ?? 0;
    return {
      samples,
      series: nSeries,
      seconds,
      ksamplesPerSec: samples / seconds / 1000,
      redisBytes: total,
      bytesPerSample: total / samples,
      rawBytesPerSample: raw / samples,
      keys,
      bytesByKind: byKind,
    };
  } finally {
    await store.close();
    if (!opts.keep) await deleteRedisPrefix(opts.url, prefix);
  }
}

/** memoryOfPrefix sums MEMORY USAGE (exact: SAMPLES 0) over the keys of a store prefix. */
export async function memoryOfPrefix(
  url: string,
  prefix: string,
): Promise<{ total: number; byKind: Record<string, number>; keys: number }> {
  const pattern = new RedisKeys(prefix).pattern;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const all: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      all.push(...batch);
    } while (cursor !== '0');
    let total = 0;
    const byKind: Record<string, number> = {};
    for (let i = 0; i < all.length; i += MEMORY_PIPELINE) {
      const keys = all.slice(i, i + MEMORY_PIPELINE);
      const p = client.pipeline();
      for (const k of keys) p.memory('USAGE', k, 'SAMPLES', 0);
      const res = (await p.exec()) ?? [];
      res.forEach(([err, v], j) => {
        if (err) throw err;
        const bytes = Number(v);
        total += bytes;
        const kind = keys[j]?.slice((keys[j]?.lastIndexOf(':') ?? -1) + 1) ?? '';
        byKind[kind] = (byKind[kind] ?? 0) + bytes;
      });
    }
    return { total, byKind, keys: all.length };
  } finally {
    client.disconnect();
  }
}

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

/** syntheticFleetWorkload makes gauges with two decimals (cpu %, memory GB …) and integer counters, deterministically. */
export function syntheticFleetWorkload(days: number): IngestWorkload {
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
