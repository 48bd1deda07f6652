import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Labels } from '../../util/labels.js';
import type { Storage } from '../storage.js';
import { RedisServerProcess } from './redis-server-process.js';
import { RedisStorage } from './redis-storage.js';
import { pollUntil } from '../../../test/poll.js';

/** WAIT_MS bounds every wait for a state change (a Redis restart and reconnect take well under a second). */
const WAIT_MS = 15_000;

/** waitFor waits for the store to reach a state while a real Redis stops and starts. */
const waitFor = (what: string, cond: () => boolean): Promise<true> =>
  pollUntil(what, () => cond(), { timeoutMs: WAIT_MS });

let server: RedisServerProcess;
let n = 0;

beforeAll(async () => {
  server = await RedisServerProcess.start();
});

afterAll(async () => {
  await server.destroy();
});

async function open(
  prefix: string,
  registry: Registry,
  maxBufferedSamples = 1_000_000,
): Promise<RedisStorage> {
  return RedisStorage.open({
    url: server.url,
    keyPrefix: prefix,
    logger: pino({ level: 'silent' }),
    registry,
    maxSamplesPerChunk: 10,
    maxBufferedSamples,
  });
}

async function write(s: Storage, labels: readonly Labels[], from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) {
    const app = s.appender();
    for (const l of labels) app.append(0, l, i * 1000, i * 0.5);
    expect(await app.commit()).toMatchObject({ appended: labels.length });
  }
}

async function timestamps(s: Storage, labels: Labels): Promise<number[]> {
  const q = await s.querier(-Infinity, Infinity);
  const [d] = await q.select(
    Object.entries(labels).map(([name, value]) => ({ type: '=' as const, name, value })),
  );
  return d ? [...d.timestamps] : [];
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => (from + i) * 1000);

async function dropped(registry: Registry): Promise<number> {
  const m = await registry.getSingleMetric('openmanager_exporter_tsdb_redis_dropped_samples_total')?.get();
  return m?.values[0]?.value ?? 0;
}

describe('RedisStorage during a Redis outage', () => {
  it('buffers writes while Redis is down and flushes them all on reconnect', async () => {
    const prefix = `outage-${++n}`;
    const registry = new Registry();
    const store = await open(prefix, registry);
    const series = [
      { __name__: 'up', server: 'a' },
      { __name__: 'up', server: 'b' },
    ];
    await write(store, series, 1, 25);
    expect(store.health()).toMatchObject({ ok: true, bufferedSamples: 0 });

    await server.stop();
    await waitFor('the store to notice Redis is down', () => !store.health().ok);
    await write(store, series, 26, 65);
    const down = store.health();
    expect(down.ok).toBe(false);
    expect(down.detail).toMatch(/unreachable.*buffering 80 samples/);
    expect(down.bufferedSamples).toBe(80);
    // The newest data (head and buffered chunks) stays readable; older chunks need Redis.
    const q = await store.querier(61_000, 65_000);
    expect((await q.select([{ type: '=', name: 'server', value: 'a' }]))[0]?.timestamps.length).toBe(5);
    await expect(timestamps(store, series[0]!)).rejects.toMatchObject({ code: 'TSDB_IO' });

    await server.restart();
    await waitFor('the buffer to drain', () => store.health().ok && store.health().bufferedSamples === 0);
    expect(await dropped(registry)).toBe(0);
    await store.close();

    const reopened = await open(prefix, new Registry());
    for (const l of series) expect(await timestamps(reopened, l)).toEqual(range(1, 65));
    await reopened.close();
  });

  it('keeps every acknowledged sample when Redis dies under a stream of commits (pipelines in flight retried)', async () => {
    const prefix = `outage-${++n}`;
    const store = await open(prefix, new Registry());
    const labels = { __name__: 'stream', server: 'd' };
    let i = 0;
    let stop = false;
    // A writer that commits as fast as it can, like remote write under load, across the whole outage.
    const writer = (async () => {
      while (!stop) {
        i++;
        const app = store.appender();
        app.append(0, labels, i * 1000, i);
        await app.commit();
        // Yield to I/O like a network-driven writer would (a commit during an outage resolves at once).
        await new Promise((r) => setImmediate(r));
      }
    })();
    await waitFor('some writes', () => i > 50);
    await server.stop();
    await waitFor('the store to notice Redis is down', () => !store.health().ok);
    const atOutage = i;
    await waitFor('writes during the outage', () => i > atOutage + 50);
    await server.restart();
    // The writer keeps one commit in flight, so "drained" means connected and no more than that one pending.
    await waitFor(
      'the buffer to drain',
      () => store.health().ok && (store.health().bufferedSamples ?? 0) <= 1,
    );
    const atRecovery = i;
    await waitFor('writes after recovery', () => i > atRecovery + 50);
    stop = true;
    await writer;
    await store.close();
    const reopened = await open(prefix, new Registry());
    expect(await timestamps(reopened, labels)).toEqual(range(1, i));
    await reopened.close();
  });

  it('rewrites what it still holds when Redis comes back empty (restarted without persistence)', async () => {
    const prefix = `outage-${++n}`;
    const store = await open(prefix, new Registry());
    const labels = { __name__: 'wiped', server: 'e' };
    await write(store, [labels], 1, 25); // chunks [1-10] [11-20] in Redis, 21-25 in the head
    await server.stop();
    await waitFor('the store to notice Redis is down', () => !store.health().ok);
    await write(store, [labels], 26, 45); // chunks [21-30] [31-40] buffered, 41-45 in the head
    await server.restartEmpty();
    await waitFor('the buffer to drain', () => store.health().ok && store.health().bufferedSamples === 0);
    await store.close();
    const reopened = await open(prefix, new Registry());
    expect(await timestamps(reopened, labels)).toEqual(range(21, 45));
    await reopened.close();
  });

  it('drops the oldest buffered chunks past maxBufferedSamples, counted, and keeps the newest', async () => {
    const prefix = `outage-${++n}`;
    const registry = new Registry();
    const store = await open(prefix, registry, 25);
    const labels = { __name__: 'load', server: 'c' };
    await write(store, [labels], 1, 5);

    await server.stop();
    await waitFor('the store to notice Redis is down', () => !store.health().ok);
    await write(store, [labels], 6, 60);
    // Chunks hold 10 samples. Samples 1-5 were in Redis before the outage; 6-60 (55) are buffered, bounded
    // at 25: each time the count passes 25, the oldest cut chunk goes — [1-10], [11-20], [21-30], [31-40].
    // What is left: the chunk [41-50] and the open chunk [51-60].
    expect(await dropped(registry)).toBe(40);
    expect(store.health().bufferedSamples).toBe(20);
    expect(await timestamps(store, labels)).toEqual(range(41, 60));

    await server.restart();
    await waitFor('the buffer to drain', () => store.health().ok && store.health().bufferedSamples === 0);
    await store.close();
    const reopened = await open(prefix, new Registry());
    expect(await timestamps(reopened, labels)).toEqual(range(41, 60));
    await reopened.close();
  });
});
