/**
 * RedisStorage is the Redis backend (ioredis): the shared Head (index, open chunks, rollup accumulators) in
 * memory, with Redis as the durable store. Key layout: ../../../docs/format/redis-keys.md.
 *
 * This file only wires the parts, each in its own file: the connection (redis-client.ts), loading at open
 * (redis-loader.ts), what Redis does not have yet (pending-writes.ts), the write path and its outage state
 * machine (write-queue.ts, write-state.ts), reads (redis-chunk-reader.ts), retention (redis-retention.ts)
 * and the self-metrics (redis-metrics.ts).
 *
 * A commit resolves when its pipeline is acknowledged, so a restart (close, reopen: state + log replay)
 * loses no acknowledged sample. While Redis is unreachable commits resolve at once and wait in memory, up
 * to `maxBufferedSamples`; the open chunk of each series and rollup chunks are never dropped.
 */
import { Registry } from 'prom-client';
import { DEFAULT_CODEC } from '../codec.js';
import { TsdbError } from '../errors.js';
import { Head } from '../head.js';
import { HeadAppender } from '../head-appender.js';
import { TsdbMetrics } from '../metrics.js';
import { HeadQuerier } from '../querier.js';
import { resolveRetention } from '../retention.js';
import type { Appender, AppenderOptions, Querier, Retention, Storage, StorageHealth } from '../storage.js';
import { ChunkDirectory } from './chunk-list.js';
import { RedisKeys } from './keys.js';
import { PendingWrites } from './pending-writes.js';
import { RedisChunkReader } from './redis-chunk-reader.js';
import {
  connectRedis,
  createRedisClient,
  redactUrl,
  redisWriteLink,
  type RedisClient,
} from './redis-client.js';
import { loadRedisStore } from './redis-loader.js';
import { RedisMetrics } from './redis-metrics.js';
import { resolveRedisOptions, type RedisStorageOptions, type ResolvedRedisOptions } from './redis-options.js';
import { expireRedisChunks } from './redis-retention.js';
import { WriteQueue } from './write-queue.js';
import { CONNECTION_CLOSED, type WriteState } from './write-state.js';

/** redactUrl hides a password in a Redis URL for logs and health details (defined in redis-client.ts). */
export { redactUrl };

/** RedisStorage implements Storage on Redis; create it with `RedisStorage.open`. */
export class RedisStorage implements Storage {
  readonly name = 'redis';
  readonly keys: RedisKeys;
  readonly head: Head;
  readonly retention: Retention;
  private readonly directory = new ChunkDirectory();
  private readonly pending: PendingWrites;
  private readonly queue: WriteQueue;
  private readonly reader: RedisChunkReader;
  private readonly metrics: RedisMetrics;

  private constructor(
    private readonly client: RedisClient,
    private readonly opts: ResolvedRedisOptions,
    registry: Registry,
  ) {
    this.keys = new RedisKeys(opts.keyPrefix);
    this.retention = opts.resolvedRetention;
    const codec = opts.codec ?? DEFAULT_CODEC;
    this.head = new Head({
      codec,
      sink: {
        rawChunk: (ref, minT, maxT, chunk) => this.pending.rawChunkCut(ref, minT, maxT, chunk),
        rollupChunk: (ref, chunk) => this.pending.rollupChunkCut(ref, chunk),
      },
      metrics: opts.metrics ?? new TsdbMetrics(registry),
      logger: opts.logger,
      ...(opts.chunkSpanMs === undefined ? {} : { chunkSpanMs: opts.chunkSpanMs }),
      ...(opts.maxSamplesPerChunk === undefined ? {} : { maxSamplesPerChunk: opts.maxSamplesPerChunk }),
      rollups: opts.rollups,
    });
    this.pending = new PendingWrites(this.head, this.keys, this.directory);
    this.metrics = new RedisMetrics({
      bufferedSamples: () => this.queue.bufferedSamples(),
      connected: () => this.queue.state.kind === 'up' || this.queue.state.kind === 'verifying',
    });
    this.queue = new WriteQueue({
      link: redisWriteLink(client, this.keys),
      pending: this.pending,
      clock: opts.clock,
      timer: opts.timer,
      logger: opts.logger,
      droppedSamples: this.metrics.droppedSamples,
      maxBufferedSamples: opts.maxBufferedSamples,
      initial:
        client.status === 'ready'
          ? { kind: 'up' }
          : { kind: 'down', since: opts.clock.now(), reason: CONNECTION_CLOSED },
    });
    this.reader = new RedisChunkReader({
      client,
      keys: this.keys,
      codec,
      directory: this.directory,
      unreachable: () => (this.queue.state.kind === 'down' ? this.queue.state.reason : undefined),
    });
    client.on('error', (err: Error) => this.queue.onLink({ type: 'linkError', message: err.message }));
    client.on('ready', () => this.queue.onLink({ type: 'ready' }));
    client.on('close', () => this.queue.onLink({ type: 'linkClosed' }));
  }

  /**
   * open connects to Redis, loads the series registry and every series' chunk directory, head checkpoint
   * and log, and returns a ready store. Throws TSDB_IO when Redis cannot be reached within connectTimeoutMs,
   * TSDB_BAD_OPTIONS when the options (or a registry another Redis store reports to) are unusable.
   */
  static async open(options: RedisStorageOptions): Promise<RedisStorage> {
    const opts = resolveRedisOptions(options, resolveRetention(options.retention));
    const registry = opts.registry ?? new Registry();
    RedisMetrics.assertFree(registry);
    const client = createRedisClient(opts);
    // Until the store listens, connection errors only matter as connect's rejection (no unhandled 'error').
    const ignore = (): void => undefined;
    client.on('error', ignore);
    await connectRedis(client, opts);
    client.off('error', ignore);
    const store = new RedisStorage(client, opts, registry);
    try {
      await loadRedisStore({
        client,
        keys: store.keys,
        head: store.head,
        directory: store.directory,
        pending: store.pending,
        clock: opts.clock,
        logger: opts.logger,
      });
      // Replayed logs are checkpointed now, so the next restart starts from states.
      await store.flushNow();
      store.metrics.register(registry);
    } catch (err) {
      client.disconnect();
      throw err;
    }
    return store;
  }

  /** bufferedSamples is the number of accepted samples Redis has not acknowledged yet. */
  bufferedSamples(): number {
    return this.queue.bufferedSamples();
  }

  /**
   * flushNow writes everything pending and resolves when Redis has it; it returns early (data still buffered)
   * while Redis is unreachable or refusing writes.
   */
  flushNow(): Promise<void> {
    return this.queue.flushNow();
  }

  /** flush makes everything committed so far durable in Redis, bulk appends included (Storage.flush). */
  async flush(): Promise<void> {
    // A bulk ingest's open rows were left raw; seal them now that it is over, a slice at a time.
    await this.head.compactPaced();
    return this.flushNow();
  }

  appender(options?: AppenderOptions): Appender {
    const bulk = options?.bulk === true;
    return new HeadAppender(
      this.head,
      (batch) => this.queue.commit(batch, bulk),
      () => this.assertOpen(),
      { bulk },
    );
  }

  querier(mint: number, maxt: number): Promise<Querier> {
    if (this.closed) return Promise.reject(closedError());
    return Promise.resolve(new HeadQuerier(this.head, this.reader, mint, maxt));
  }

  lastTimestamp(): Promise<number | undefined> {
    const t = this.head.maxTime;
    return Promise.resolve(t === -Infinity ? undefined : t);
  }

  /**
   * applyRetention cuts head chunks whose span ended, drops whole chunks older than each tier's retention
   * (HDEL, or discarded if not yet written), and deletes series with nothing left in any tier.
   */
  async applyRetention(now: number): Promise<void> {
    this.assertOpen();
    // Reads while chunks are dropped, and after, may differ from reads before (Head.historyGeneration).
    this.head.noteHistoryChanged();
    this.head.flush(now);
    // Chunks cut by the flush need their series' checkpoint in the same pipeline.
    this.pending.queueCheckpoints();
    expireRedisChunks(
      {
        head: this.head,
        keys: this.keys,
        directory: this.directory,
        pending: this.pending,
        retention: this.retention,
        logger: this.opts.logger,
      },
      now,
    );
    await this.flushNow();
    this.head.noteHistoryChanged();
  }

  health(): StorageHealth {
    const state = this.queue.state;
    return {
      backend: this.name,
      ok: (state.kind === 'up' && state.refusing === undefined) || state.kind === 'verifying',
      detail: this.describe(state),
      series: this.head.numSeries,
      bufferedSamples: this.bufferedSamples(),
    };
  }

  /** close flushes what Redis can take and disconnects; samples still buffered during an outage are lost. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.close();
    if (this.client.status === 'ready') {
      try {
        await this.client.quit();
        return;
      } catch {
        // fall through to a hard disconnect
      }
    }
    this.client.disconnect();
  }

  /** describe is the health detail of `state`, for operators. */
  private describe(state: WriteState): string {
    switch (state.kind) {
      case 'closed':
        return 'closed';
      case 'down':
        return `Redis unreachable since ${new Date(state.since).toISOString()} (${state.reason}); buffering ${this.bufferedSamples()} samples (max ${this.opts.maxBufferedSamples})`;
      case 'up':
        if (state.refusing !== undefined) return `Redis refuses writes: ${state.refusing}`;
        break;
      case 'verifying':
        break;
    }
    return `connected to ${redactUrl(this.opts.url)}, prefix ${this.keys.prefix}`;
  }

  private get closed(): boolean {
    return this.queue.state.kind === 'closed';
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function closedError(): TsdbError {
  return new TsdbError('TSDB_CLOSED', 'the Redis store is closed');
}
