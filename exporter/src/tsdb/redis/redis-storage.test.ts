import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { seriesKey, type Labels } from '../../util/labels.js';
import { rollupFromSamples } from '../rollup.js';
import { runStorageContract } from '../../../test/storage-contract.js';
import type { SeriesData, Storage } from '../storage.js';
import { deleteRedisPrefix } from './redis-admin.js';
import { RedisStorage } from './redis-storage.js';
import type { RedisStorageOptions } from './redis-options.js';
import { STALE_NAN } from '../../util/stale-marker.js';

/** SHARED_REDIS is the peer Redis every machine of the project runs (see HELPERS.md). */
const SHARED_REDIS = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

const bits = (a: Float64Array): bigint[] => [...new BigUint64Array(a.buffer, a.byteOffset, a.length)];

const prefixes: string[] = [];
const stores: Storage[] = [];

function newPrefix(): string {
  const p = `omtest-${randomBytes(6).toString('hex')}`;
  prefixes.push(p);
  return p;
}

async function open(prefix: string, extra: Partial<RedisStorageOptions> = {}): Promise<RedisStorage> {
  const s = await RedisStorage.open({
    url: SHARED_REDIS,
    keyPrefix: prefix,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    maxSamplesPerChunk: 10,
    ...extra,
  }).catch((err: unknown) => {
    throw new Error(`the Redis peer at ${SHARED_REDIS} is required for this test: ${String(err)}`);
  });
  stores.push(s);
  return s;
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const p of prefixes.splice(0)) await deleteRedisPrefix(SHARED_REDIS, p);
});

interface Expected {
  labels: Labels;
  ts: number[];
  vs: Float64Array;
}

/** workload writes three series in mixed commit sizes, crossing chunk cuts (10 samples) and 1m buckets. */
async function writeWorkload(s: Storage): Promise<Expected[]> {
  const series: Expected[] = [
    { labels: { __name__: 'node_load1', server: 'web-01' }, ts: [], vs: new Float64Array(95) },
    { labels: { __name__: 'node_load1', server: 'db-01' }, ts: [], vs: new Float64Array(95) },
    {
      labels: { __name__: 'http_requests_total', server: 'web-01', code: '200' },
      ts: [],
      vs: new Float64Array(95),
    },
  ];
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < 95; i++) {
    series[0]!.vs[i] = i === 50 ? STALE_NAN : Math.round(Math.sin(i / 7) * 1000) / 100;
    series[1]!.vs[i] = i % 17 === 0 ? -0 : i * 0.1 + 1e-12;
    series[2]!.vs[i] = i < 60 ? i * 3 : (i - 60) * 2; // a counter reset at i = 60
    for (const e of series) e.ts.push(t0 + i * 15_000);
  }
  // One sample per commit for the first 40 ticks (live mode), then batches of 11 (backfill-like).
  let i = 0;
  while (i < 95) {
    const n = i < 40 ? 1 : 11;
    const app = s.appender();
    for (let j = i; j < Math.min(95, i + n); j++) {
      for (const e of series) app.append(0, e.labels, e.ts[j]!, e.vs[j]!);
    }
    const r = await app.commit();
    expect(r.outOfOrder + r.duplicate).toBe(0);
    i += n;
  }
  return series;
}

function byServer(data: SeriesData[]): Map<string, SeriesData> {
  return new Map(data.map((d) => [seriesKey(d.labels), d]));
}

async function expectAll(s: Storage, expected: Expected[]): Promise<void> {
  const q = await s.querier(-Infinity, Infinity);
  const got = byServer(await q.select([{ type: '=~', name: '__name__', value: '.+' }]));
  expect(got.size).toBe(expected.length);
  for (const e of expected) {
    const d = got.get(seriesKey(e.labels));
    expect(d, JSON.stringify(e.labels)).toBeDefined();
    expect([...d!.timestamps]).toEqual(e.ts);
    expect(bits(d!.values)).toEqual(bits(e.vs));
  }
  // The 1m tier agrees with rollups computed from the raw samples (sum and reset-aware increase).
  const counter = expected[2]!;
  const ref = rollupFromSamples(counter.ts, counter.vs, 60_000);
  for (const [agg, pick] of [
    ['sum', (b: (typeof ref)[number]) => b.sum],
    ['increase', (b: (typeof ref)[number]) => b.increase],
  ] as const) {
    const [tier] = await q.select([{ type: '=', name: '__name__', value: 'http_requests_total' }], {
      start: -Infinity,
      end: Infinity,
      tier: '1m',
      aggregate: agg,
    });
    expect([...tier!.timestamps]).toEqual(ref.map((b) => b.start));
    expect([...tier!.values]).toEqual(ref.map(pick));
  }
  expect(await s.lastTimestamp()).toBe(Math.max(...expected.flatMap((e) => e.ts)));
}

describe('RedisStorage', () => {
  it('reads back every sample bit-exactly, before and after a restart', async () => {
    const prefix = newPrefix();
    const s1 = await open(prefix);
    const expected = await writeWorkload(s1);
    await expectAll(s1, expected);
    await s1.close();
    const s2 = await open(prefix);
    expect(s2.health()).toMatchObject({ backend: 'redis', ok: true, series: 3, bufferedSamples: 0 });
    await expectAll(s2, expected);
    // The reopened store keeps appending where it left off and rejects the past.
    const app = s2.appender();
    app.append(0, expected[0]!.labels, expected[0]!.ts.at(-1)!, 1);
    app.append(0, expected[0]!.labels, expected[0]!.ts.at(-1)! + 15_000, 2);
    expect(await app.commit()).toEqual({ appended: 1, outOfOrder: 0, duplicate: 1 });
  });

  it('has every acknowledged sample in Redis without a close (a crashed exporter loses nothing)', async () => {
    const prefix = newPrefix();
    const writer = await open(prefix);
    const expected = await writeWorkload(writer);
    // A second store opened from Redis while the first one is still running sees exactly what was acked.
    const reader = await open(prefix);
    await expectAll(reader, expected);
  });

  it('reopens an interrupted bulk backfill consistently: a prefix of it, no duplicates, resumable', async () => {
    const prefix = newPrefix();
    const writer = await open(prefix);
    const labels = [
      { __name__: 'bf', server: 'a' },
      { __name__: 'bf', server: 'b' },
    ];
    const t0 = 1_700_000_000_000;
    const step = 15_000;
    const total = 203;
    const writeRange = async (s: Storage, from: number, to: number, bulk: boolean): Promise<void> => {
      for (let i = from; i < to; i += 25) {
        const app = s.appender({ bulk });
        for (let j = i; j < Math.min(to, i + 25); j++)
          for (const l of labels) app.append(0, l, t0 + j * step, j);
        await app.commit();
      }
    };
    await writeRange(writer, 0, 100, true);
    await writer.flush();
    await writeRange(writer, 100, total, true);
    // Wait (bounded) for the chunk pipelines; the head states of bulk series are deliberately not written yet.
    const deadline = Date.now() + 10_000;
    while (writer.health().bufferedSamples !== 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    const reader = await open(prefix);
    const last = await reader.lastTimestamp();
    const resumeAt = last === undefined ? 0 : (last - t0) / step + 1;
    expect(resumeAt).toBe(100); // what flush() made durable
    const q = await reader.querier(-Infinity, Infinity);
    for (const d of await q.select([{ type: '=', name: '__name__', value: 'bf' }])) {
      expect([...d.timestamps]).toEqual(Array.from({ length: resumeAt }, (_, j) => t0 + j * step));
    }
    // Resuming from lastTimestamp() completes the history without gaps or duplicates.
    await writeRange(reader, resumeAt, total, true);
    await reader.flush();
    await reader.close();
    const final = await open(prefix);
    const q2 = await final.querier(-Infinity, Infinity);
    const got = await q2.select([{ type: '=', name: '__name__', value: 'bf' }]);
    expect(got).toHaveLength(2);
    for (const d of got) expect([...d.values]).toEqual(Array.from({ length: total }, (_, j) => j));
  });

  it('applies retention per tier and deletes series with nothing left', async () => {
    const prefix = newPrefix();
    const s = await open(prefix, {
      retention: { raw: 3_600_000, '1m': 7_200_000, '5m': 7_200_000, '1h': 7_200_000 },
    });
    const t0 = 1_700_000_000_000;
    const app = s.appender();
    for (let i = 0; i < 40; i++) app.append(0, { __name__: 'old', a: '1' }, t0 + i * 60_000, i);
    for (let i = 0; i < 40; i++)
      app.append(0, { __name__: 'new', a: '1' }, t0 + 4 * 3_600_000 + i * 60_000, i);
    await app.commit();
    const now = t0 + 4 * 3_600_000 + 40 * 60_000;
    await s.applyRetention(now);
    const q = await s.querier(-Infinity, Infinity);
    const raw = await q.select([{ type: '=', name: 'a', value: '1' }]);
    expect(raw.map((d) => d.labels.__name__)).toEqual(['new']);
    expect(raw[0]!.timestamps.length).toBe(40);
    await s.close();
    const again = await open(prefix, {
      retention: { raw: 3_600_000, '1m': 7_200_000, '5m': 7_200_000, '1h': 7_200_000 },
    });
    const q2 = await again.querier(-Infinity, Infinity);
    expect(await q2.labelValues('__name__')).toEqual(['new']);
  });

  it('refuses a prefix that would break hash-tag slotting', async () => {
    await expect(
      RedisStorage.open({ url: SHARED_REDIS, keyPrefix: 'a{b}', logger: pino({ level: 'silent' }) }),
    ).rejects.toMatchObject({ code: 'TSDB_BAD_OPTIONS' });
  });

  it('fails open with TSDB_IO when Redis is unreachable', async () => {
    await expect(
      RedisStorage.open({
        url: 'redis://127.0.0.1:1',
        logger: pino({ level: 'silent' }),
        connectTimeoutMs: 2_000,
      }),
    ).rejects.toMatchObject({ code: 'TSDB_IO' });
  });
});

describe('RedisStorage storage contract', () => {
  const prefixOf = new Map<Storage, string>();
  runStorageContract({
    name: 'redis',
    create: async () => {
      const prefix = newPrefix();
      const s = await open(prefix, { maxSamplesPerChunk: undefined });
      prefixOf.set(s, prefix);
      return s;
    },
    reopen: async (s) => {
      const prefix = prefixOf.get(s);
      if (prefix === undefined) throw new Error('unknown store');
      await s.close();
      const r = await open(prefix, { maxSamplesPerChunk: undefined });
      prefixOf.set(r, prefix);
      return r;
    },
  });
});
