/**
 * RedisStorage is the Redis backend (ioredis): the shared Head (index, open chunks, rollup accumulators) in
 * memory, with Redis as the durable store. Key layout: ../../../docs/format/redis-keys.md.
 *
 * Writes: each commit's accepted samples are applied to the Head, then one pipeline persists what changed —
 * new series in the registry, whole cut chunks (raw and rollup), and per touched series either the new
 * samples as 16-byte records written with SETRANGE into its `:log` (idempotent, unlike APPEND), or, when the
 * series cut a chunk, a checkpoint of its head state (`:state`) with the log emptied. A commit resolves when
 * its pipeline is acknowledged, so a restart (close, reopen: state + log replay) loses no acknowledged sample.
 * Commits that arrive while a pipeline is in flight are coalesced into the next one.
 *
 * Outage: when Redis is unreachable, commits resolve at once and their changes wait in memory (cut chunks
 * keep their bytes, dirty series are remembered); a pipeline that failed is kept and retried first. On
 * reconnect everything is flushed in order. The wait is bounded by `maxBufferedSamples`: past it the oldest
 * cut raw chunks are dropped (counted in openmanager_exporter_tsdb_redis_dropped_samples_total, logged).
 * The open chunk of each series (at most maxSamplesPerChunk samples) and rollup chunks are never dropped.
 */
import { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Labels } from '../../util/labels.js';
import type { Chunk } from '../chunkenc/chunk.js';
import { decodeChunk } from '../chunkenc/decode.js';
import { newChunkBuilder } from '../chunkenc/builder.js';
import { ByteReader, ByteWriter } from '../bytes.js';
import type { ChunkCodec } from '../codec.js';
import { TsdbError } from '../errors.js';
import { Head, type HeadSink } from '../head.js';
import { HeadAppender, type CommittedBatch } from '../head-appender.js';
import { TsdbMetrics } from '../metrics.js';
import { HeadQuerier, type ChunkReader, type StoredChunk } from '../querier.js';
import { resolveRetention, retentionCutoffs } from '../retention.js';
import { ROLLUP_TIERS, type RollupChunk, type RollupTier } from '../rollup.js';
import { SampleBuffer } from '../sample-buffer.js';
import type { Appender, AppenderOptions, Querier, Retention, Storage, StorageHealth } from '../storage.js';
import { clusterSlot } from './cluster-slot.js';
import type { ChunkList } from './chunk-list.js';
import { SeriesChunks, decodeRollupBlob, encodeRollupBlob, type ChunkMeta } from './chunk-list.js';
import { decodeHeadRecords, encodeHeadRecords, HEAD_RECORD_BYTES } from './head-record.js';
import { KEY_LAYOUT_VERSION, RedisKeys, chunkField, parseChunkField } from './keys.js';
import { resolveRedisOptions, type RedisStorageOptions, type ResolvedRedisOptions } from './redis-options.js';

/** LOSSLESS_CODEC is the default ChunkCodec: the chunkenc lossless builder and decoder. */
export const LOSSLESS_CODEC: ChunkCodec = { newBuilder: () => newChunkBuilder(), decode: decodeChunk };

/** LOAD_BATCH_SERIES is how many series' keys one pipeline reads at open (bounds reply memory). */
const LOAD_BATCH_SERIES = 512;

/** RECONNECT_MAX_DELAY_MS caps ioredis's reconnect backoff (100 ms steps up to 2 s). */
const RECONNECT_MAX_DELAY_MS = 2_000;

/** WRITE_RETRY_MS is the pause before retrying a pipeline Redis refused while connected (e.g. OOM). */
const WRITE_RETRY_MS = 1_000;

/**
 * BULK_CHECKPOINT_INTERVAL_MS is how often (wall time) a running backfill's head states are written; between
 * those, bulk commits persist only cut chunks (the same 30 s the embedded store snapshots a backfill at).
 */
const BULK_CHECKPOINT_INTERVAL_MS = 30_000;

/** BULK_BACKLOG_SAMPLES is how far a bulk writer may run ahead of Redis before its commit waits (memory bound). */
const BULK_BACKLOG_SAMPLES = 2_000_000;

/** DROP_LOG_INTERVAL_MS rate-limits the "dropped buffered samples" log line to one per 10 s. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** Persist tracks what of one series Redis already has. */
class Persist {
  registered = false;
  /** logCount is the number of records in the series' `:log` since its checkpoint. */
  logCount = 0;
  /** lastWrittenT is the newest timestamp handed to a pipeline. */
  lastWrittenT = -Infinity;
  /** openCount is the number of samples in the head's open chunk. */
  openCount = 0;
  /** flushedOpen is how many of those are already in Redis (checkpoint + log). */
  flushedOpen = 0;
  needCheckpoint = false;
  dirty = false;
  /** deferred marks a series changed by bulk commits only, whose state waits for a checkpoint round. */
  deferred = false;
}

/** Pending is a cut chunk waiting for the next pipeline. */
interface Pending {
  readonly ref: number;
  readonly tier: 'raw' | RollupTier;
  readonly meta: ChunkMeta;
  /** unflushed counts this chunk's samples Redis does not have yet (some may be in the log). */
  readonly unflushed: number;
}

/** Inflight is a built pipeline: kept until Redis acknowledges it, retried as is after a failure. */
interface Inflight {
  readonly commands: (string | number | Buffer)[][];
  readonly chunks: readonly Pending[];
  readonly samples: number;
  waiters: (() => void)[];
}

type CommandArgs = (string | number | Buffer)[];

/** RedisStorage implements Storage on Redis; create it with `RedisStorage.open`. */
export class RedisStorage implements Storage {
  readonly name = 'redis';
  readonly keys: RedisKeys;
  readonly head: Head;
  readonly retention: Retention;
  private readonly logger: Logger;
  private readonly codec: ChunkCodec;
  private readonly persist: (Persist | undefined)[] = [];
  private readonly chunks: (SeriesChunks | undefined)[] = [];
  private fifo: Pending[] = [];
  private dirtyList: number[] = [];
  private deferredList: number[] = [];
  private lastBulkCheckpoint = Date.now();
  private unregistered: number[] = [];
  private extra: CommandArgs[] = [];
  private waiters: (() => void)[] = [];
  private inflight: Inflight | undefined;
  /** unflushed counts accepted samples Redis does not have and no pipeline carries yet. */
  private unflushed = 0;
  private connected = false;
  private flushing = false;
  private verifying = false;
  private closed = false;
  private loading = false;
  private writeError: string | undefined;
  private linkError: string | undefined;
  private downSince: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastDropLog = -Infinity;
  private droppedSinceLog = 0;
  private readonly scratch = new SampleBuffer(512);
  private readonly writer = new ByteWriter(4096);
  private readonly droppedSamples: Counter;
  private readonly reader: ChunkReader;
  /** idle resolves waiters of `whenIdle` when a flush loop ends with nothing left. */
  private idleWaiters: (() => void)[] = [];

  private constructor(
    private readonly client: Redis | Cluster,
    private readonly opts: ResolvedRedisOptions,
    registry: Registry,
  ) {
    this.logger = opts.logger;
    this.keys = new RedisKeys(opts.keyPrefix);
    this.retention = opts.resolvedRetention;
    this.codec = opts.codec ?? LOSSLESS_CODEC;
    const sink: HeadSink = {
      rawChunk: (ref, minT, maxT, chunk) => this.onRawChunk(ref, minT, maxT, chunk),
      rollupChunk: (ref, chunk) => this.onRollupChunk(ref, chunk),
    };
    this.head = new Head({
      codec: this.codec,
      sink,
      metrics: new TsdbMetrics(registry),
      logger: this.logger,
      ...(opts.chunkSpanMs === undefined ? {} : { chunkSpanMs: opts.chunkSpanMs }),
      ...(opts.maxSamplesPerChunk === undefined ? {} : { maxSamplesPerChunk: opts.maxSamplesPerChunk }),
      rollups: opts.rollups,
    });
    const reuse = <T>(name: string, make: () => T): T =>
      (registry.getSingleMetric(name) as T | undefined) ?? make();
    this.droppedSamples = reuse(
      'openmanager_exporter_tsdb_redis_dropped_samples_total',
      () =>
        new Counter({
          name: 'openmanager_exporter_tsdb_redis_dropped_samples_total',
          help: 'Samples dropped from the Redis outage buffer because it overflowed (oldest first).',
          registers: [registry],
        }),
    );
    // Gauges read this instance at scrape time; reusing a registry rebinds them to the newest store.
    const store = (): RedisStorage => this;
    registry.removeSingleMetric('openmanager_exporter_tsdb_redis_buffered_samples');
    registry.removeSingleMetric('openmanager_exporter_tsdb_redis_connected');
    new Gauge({
      name: 'openmanager_exporter_tsdb_redis_buffered_samples',
      help: 'Accepted samples not yet acknowledged by Redis (outage buffer plus the pipeline in flight).',
      registers: [registry],
      collect() {
        this.set(store().bufferedSamples());
      },
    });
    new Gauge({
      name: 'openmanager_exporter_tsdb_redis_connected',
      help: '1 when the Redis connection is ready, 0 while writes are being buffered.',
      registers: [registry],
      collect() {
        this.set(store().connected ? 1 : 0);
      },
    });
    this.reader = {
      rawChunks: (ref, mint, maxt) => this.readRawChunks(ref, mint, maxt),
      rollupChunks: (ref, tier, mint, maxt) => this.readRollupChunks(ref, tier, mint, maxt),
      minTime: (ref) => this.chunks[ref]?.minTime ?? Infinity,
    };
  }

  /**
   * open connects to Redis, loads the series registry and every series' chunk directory, head checkpoint
   * and log, and returns a ready store. Throws TSDB_IO when Redis cannot be reached within connectTimeoutMs.
   */
  static async open(options: RedisStorageOptions): Promise<RedisStorage> {
    const opts = resolveRedisOptions(options, resolveRetention(options.retention));
    const retryStrategy = (times: number): number => Math.min(100 * times, RECONNECT_MAX_DELAY_MS);
    const redisOptions = {
      // Fail commands at once while disconnected: the store buffers by itself and must not block.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: opts.connectTimeoutMs,
    };
    let client: Redis | Cluster;
    if (opts.cluster) {
      const seed = new URL(opts.url);
      client = new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: retryStrategy,
        redisOptions: {
          ...redisOptions,
          ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
          ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
        },
      });
    } else {
      client = new Redis(opts.url, { lazyConnect: true, ...redisOptions, retryStrategy });
    }
    const store = new RedisStorage(client, opts, opts.registry ?? new Registry());
    client.on('error', (err: Error) => store.onLinkError(err));
    client.on('ready', () => store.onReady());
    client.on('close', () => store.onClose());
    try {
      await withTimeout(
        client.connect(),
        opts.connectTimeoutMs,
        `no connection within ${opts.connectTimeoutMs} ms`,
      );
    } catch (err) {
      client.disconnect();
      throw new TsdbError(
        'TSDB_IO',
        `cannot reach Redis at ${redactUrl(opts.url)}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    store.connected = client.status === 'ready';
    try {
      await store.load();
    } catch (err) {
      client.disconnect();
      throw err;
    }
    return store;
  }

  // ---- loading -------------------------------------------------------------------------------------------

  private async load(): Promise<void> {
    this.loading = true;
    const meta = await this.client.hgetall(this.keys.meta);
    if (meta.version === undefined) {
      await this.client.hset(this.keys.meta, {
        version: String(KEY_LAYOUT_VERSION),
        created: String(Date.now()),
      });
    } else if (meta.version !== String(KEY_LAYOUT_VERSION)) {
      throw new TsdbError(
        'TSDB_CORRUPT',
        `Redis prefix ${this.keys.prefix} holds key layout v${meta.version}; this exporter reads v${KEY_LAYOUT_VERSION} (use another prefix or DB)`,
      );
    }
    const registry = await this.client.hgetall(this.keys.series);
    const refs: number[] = [];
    for (const [field, json] of Object.entries(registry)) {
      const ref = Number(field);
      if (!Number.isSafeInteger(ref) || ref <= 0) {
        throw new TsdbError('TSDB_CORRUPT', `Redis series registry holds a bad ref ${JSON.stringify(field)}`);
      }
      this.head.restoreSeries(ref, JSON.parse(json) as Labels);
      const p = this.persistOf(ref);
      p.registered = true;
      refs.push(ref);
    }
    if (meta.nextRef !== undefined) this.head.index.reserveRefs(Number(meta.nextRef));
    refs.sort((a, b) => a - b);
    for (let i = 0; i < refs.length; i += LOAD_BATCH_SERIES) {
      await this.loadSeries(refs.slice(i, i + LOAD_BATCH_SERIES));
    }
    this.loading = false;
    this.logger.info(
      { series: refs.length, prefix: this.keys.prefix, maxTime: this.head.maxTime },
      'redis store loaded',
    );
    // Replayed logs are checkpointed now, so the next restart starts from states.
    await this.flushNow();
  }

  /**
   * exec runs commands as one pipeline and returns the replies in order. On a cluster, a pipeline may only
   * touch one node, so the commands are split per node (a series' keys share a slot, so its commands stay
   * together and in order) and the node pipelines run in parallel.
   */
  private async exec(commands: readonly CommandArgs[]): Promise<[Error | null, unknown][]> {
    const client = this.client;
    if (!(client instanceof Cluster)) return (await client.pipeline(commands as CommandArgs[]).exec()) ?? [];
    const groups = new Map<string, number[]>();
    commands.forEach((c, i) => {
      const slot = clusterSlot(String(c[1]));
      const node = client.slots[slot]?.[0] ?? `slot:${slot}`;
      let g = groups.get(node);
      if (!g) groups.set(node, (g = []));
      g.push(i);
    });
    const out = new Array<[Error | null, unknown]>(commands.length);
    await Promise.all(
      [...groups.values()].map(async (idx) => {
        const res = (await client.pipeline(idx.map((i) => commands[i] ?? [])).exec()) ?? [];
        idx.forEach((i, k) => (out[i] = res[k] ?? [new Error('pipeline reply missing'), null]));
      }),
    );
    return out;
  }

  private async loadSeries(refs: readonly number[]): Promise<void> {
    const commands: CommandArgs[] = [];
    for (const ref of refs) {
      commands.push(['hkeys', this.keys.raw(ref)]);
      for (const tier of ROLLUP_TIERS) commands.push(['hkeys', this.keys.rollup(ref, tier)]);
      commands.push(['getBuffer', this.keys.state(ref)]);
      commands.push(['getBuffer', this.keys.log(ref)]);
    }
    const results = await this.exec(commands);
    const per = 2 + ROLLUP_TIERS.length + 2 - 1;
    refs.forEach((ref, i) => {
      const at = (k: number): unknown => {
        const [err, value] = results[i * per + k] ?? [new Error('missing reply'), null];
        if (err) throw new TsdbError('TSDB_IO', `loading series ${ref}: ${err.message}`, { cause: err });
        return value;
      };
      const sc = this.chunksOf(ref);
      fillList(sc.raw, at(0) as string[]);
      ROLLUP_TIERS.forEach((tier, k) => fillList(sc.tiers[tier], at(1 + k) as string[]));
      const state = at(1 + ROLLUP_TIERS.length) as Buffer | null;
      const log = at(2 + ROLLUP_TIERS.length) as Buffer | null;
      if (state && state.length > 0) this.head.readSeriesState(new ByteReader(state));
      this.pruneAfterCheckpoint(ref, sc);
      this.head.noteMaxTime(sc.raw.maxTime);
      const p = this.persistOf(ref);
      if (log && log.length > 0) {
        const { ts, vs } = decodeHeadRecords(log);
        for (let j = 0; j < ts.length; j++) this.head.append(ref, ts[j] ?? 0, vs[j] ?? 0);
        p.needCheckpoint = true;
        this.markDirty(ref, p);
      }
      this.scratch.clear();
      this.head.readRaw(ref, -Infinity, Infinity, this.scratch);
      p.openCount = this.scratch.n;
      p.flushedOpen = this.scratch.n;
      p.lastWrittenT = this.head.lastTime(ref);
    });
  }

  /**
   * pruneAfterCheckpoint drops chunks cut after the series' last checkpoint: their samples are also in the
   * restored open chunk or the log about to be replayed (a crash between a chunk write and its checkpoint),
   * or they came from bulk commits whose state was never checkpointed, which the contract lets a crash lose.
   * Without this, such samples would be read twice.
   */
  private pruneAfterCheckpoint(ref: number, sc: SeriesChunks): void {
    const rawFrom = Math.min(this.head.openMinTime(ref), this.head.lastTime(ref) + 1);
    this.pruneList(this.keys.raw(ref), sc.raw, rawFrom);
    for (const tier of ROLLUP_TIERS) {
      const open = this.head.openRollupMinTime(ref, tier);
      this.pruneList(this.keys.rollup(ref, tier), sc.tiers[tier], open === Infinity ? -Infinity : open);
    }
  }

  private pruneList(key: string, list: ChunkList, from: number): void {
    const stale = list.items.filter((c) => c.minT >= from);
    if (stale.length === 0) return;
    for (const c of stale) list.remove(c);
    this.extra.push(['hdel', key, ...stale.map((c) => chunkField(c.minT, c.maxT))]);
  }

  // ---- the write path ------------------------------------------------------------------------------------

  private persistOf(ref: number): Persist {
    let p = this.persist[ref];
    if (!p) this.persist[ref] = p = new Persist();
    return p;
  }

  private chunksOf(ref: number): SeriesChunks {
    let c = this.chunks[ref];
    if (!c) this.chunks[ref] = c = new SeriesChunks();
    return c;
  }

  private markDirty(ref: number, p: Persist): void {
    p.deferred = false;
    if (p.dirty) return;
    p.dirty = true;
    this.dirtyList.push(ref);
  }

  private onRawChunk(ref: number, minT: number, maxT: number, chunk: Chunk): void {
    const p = this.persistOf(ref);
    const samples = chunk.numSamples();
    const meta: ChunkMeta = { minT, maxT, blob: Buffer.from(chunk.bytes()), samples };
    this.chunksOf(ref).raw.add(meta);
    // While loading, cut chunks come from replaying samples Redis already has in the log.
    const unflushed = this.loading ? 0 : Math.max(0, samples - p.flushedOpen);
    this.fifo.push({ ref, tier: 'raw', meta, unflushed });
    p.openCount -= samples;
    p.flushedOpen = 0;
    p.needCheckpoint = true;
  }

  private onRollupChunk(ref: number, chunk: RollupChunk): void {
    const p = this.persistOf(ref);
    const meta: ChunkMeta = { minT: chunk.minT, maxT: chunk.maxT, blob: encodeRollupBlob(chunk), samples: 0 };
    this.chunksOf(ref).tiers[chunk.tier].add(meta);
    this.fifo.push({ ref, tier: chunk.tier, meta, unflushed: 0 });
    p.needCheckpoint = true;
  }

  /**
   * commitHook is the HeadAppender's persistence hook: note what changed, then flush or buffer it. A bulk
   * commit (backfill) resolves without waiting for Redis unless the backlog is large; its series' head states
   * are written every BULK_CHECKPOINT_INTERVAL_MS and by flush().
   */
  private commitHook(batch: CommittedBatch, bulk: boolean): Promise<void> {
    for (const ref of batch.newSeries) {
      this.persistOf(ref);
      this.unregistered.push(ref);
    }
    const { refs, n } = batch;
    for (let i = 0; i < n; i++) {
      const ref = refs[i] ?? 0;
      const p = this.persistOf(ref);
      p.openCount++;
      if (!bulk) this.markDirty(ref, p);
      else if (!p.deferred && !p.dirty) {
        p.deferred = true;
        this.deferredList.push(ref);
      }
    }
    this.unflushed += n;
    if (!this.connected) {
      this.enforceBound();
      return Promise.resolve();
    }
    if (bulk && Date.now() - this.lastBulkCheckpoint >= BULK_CHECKPOINT_INTERVAL_MS) this.promoteDeferred();
    if (bulk && this.bufferedSamples() < BULK_BACKLOG_SAMPLES) {
      this.kick();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.kick();
    });
  }

  /** promoteDeferred queues the head states of bulk-written series for the next pipeline. */
  private promoteDeferred(): void {
    for (const ref of this.deferredList) {
      const p = this.persist[ref];
      if (!p || !p.deferred) continue;
      p.deferred = false;
      this.markDirty(ref, p);
    }
    this.deferredList = [];
    this.lastBulkCheckpoint = Date.now();
  }

  /** build turns everything pending into one pipeline's commands (synchronously, so it sees a consistent head). */
  private build(): Inflight | undefined {
    if (
      this.unregistered.length === 0 &&
      this.fifo.length === 0 &&
      this.dirtyList.length === 0 &&
      this.extra.length === 0
    ) {
      return undefined;
    }
    const commands: CommandArgs[] = [];
    for (const ref of this.unregistered) {
      const labels = this.head.index.labels(ref);
      const p = this.persist[ref];
      if (!labels || !p || p.registered) continue;
      commands.push(['hset', this.keys.series, String(ref), JSON.stringify(labels)]);
      p.registered = true;
    }
    if (this.unregistered.length > 0) {
      commands.push(['hset', this.keys.meta, 'nextRef', String(this.head.index.nextRef)]);
    }
    const chunks = this.fifo;
    for (const c of chunks) {
      if (!c.meta.blob) continue;
      const key = c.tier === 'raw' ? this.keys.raw(c.ref) : this.keys.rollup(c.ref, c.tier);
      commands.push(['hset', key, chunkField(c.meta.minT, c.meta.maxT), c.meta.blob]);
    }
    for (const ref of this.dirtyList) {
      const p = this.persist[ref];
      if (!p) continue;
      p.dirty = false;
      if (!this.head.has(ref)) continue;
      if (p.needCheckpoint) {
        this.writer.reset();
        this.head.writeSeriesState(ref, this.writer);
        commands.push(['set', this.keys.state(ref), Buffer.from(this.writer.finish())]);
        commands.push(['del', this.keys.log(ref)]);
        p.logCount = 0;
        p.needCheckpoint = false;
      } else {
        this.scratch.clear();
        this.head.readRaw(ref, p.lastWrittenT + 1, Infinity, this.scratch);
        if (this.scratch.n > 0) {
          const bytes = encodeHeadRecords(this.scratch.ts, this.scratch.vs, 0, this.scratch.n);
          commands.push(['setrange', this.keys.log(ref), p.logCount * HEAD_RECORD_BYTES, bytes]);
          p.logCount += this.scratch.n;
        }
      }
      p.lastWrittenT = this.head.lastTime(ref);
      p.flushedOpen = p.openCount;
    }
    commands.push(...this.extra);
    const inflight: Inflight = { commands, chunks, samples: this.unflushed, waiters: this.waiters };
    this.unregistered = [];
    this.fifo = [];
    this.dirtyList = [];
    this.extra = [];
    this.waiters = [];
    this.unflushed = 0;
    return inflight;
  }

  private kick(): void {
    if (this.flushing || !this.connected || this.verifying) return;
    this.flushing = true;
    void this.flushLoop().finally(() => {
      this.flushing = false;
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of idle) w();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.connected) {
      let inflight: Inflight | undefined;
      try {
        inflight = this.inflight ??= this.build();
      } catch (err) {
        this.logger.error({ err }, 'redis store: building a write pipeline failed');
        this.writeError = (err as Error).message;
        return;
      }
      if (!inflight) return;
      try {
        const results = await this.exec(inflight.commands);
        const failed = results.find(([err]) => err);
        if (failed?.[0]) throw failed[0];
        if (results.length !== inflight.commands.length) throw new Error('pipeline reply incomplete');
      } catch (err) {
        this.onWriteFailure(inflight, err as Error);
        return;
      }
      for (const c of inflight.chunks) c.meta.blob = undefined;
      this.inflight = undefined;
      if (this.writeError !== undefined) {
        this.logger.info('redis store: writes succeed again');
        this.writeError = undefined;
      }
      for (const w of inflight.waiters) w();
    }
  }

  private onWriteFailure(inflight: Inflight, err: Error): void {
    // The samples are in memory and the pipeline is kept for a retry: the commits are acknowledged as buffered.
    const waiters = [...inflight.waiters, ...this.waiters];
    inflight.waiters = [];
    this.waiters = [];
    for (const w of waiters) w();
    if (this.client.status === 'ready') {
      if (this.writeError === undefined)
        this.logger.error({ err }, 'redis store: Redis refused a write pipeline; retrying');
      this.writeError = err.message;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.kick(), WRITE_RETRY_MS);
      this.retryTimer.unref();
    } else {
      this.markDown(err.message);
    }
  }

  /** enforceBound drops the oldest buffered raw chunks while the buffer is over maxBufferedSamples. */
  private enforceBound(): void {
    const max = this.opts.maxBufferedSamples;
    if (this.unflushed <= max) return;
    let i = 0;
    while (this.unflushed > max && i < this.fifo.length) {
      const c = this.fifo[i];
      if (!c || c.tier !== 'raw') {
        i++;
        continue;
      }
      this.fifo.splice(i, 1);
      this.chunks[c.ref]?.raw.remove(c.meta);
      this.unflushed -= c.unflushed;
      this.droppedSamples.inc(c.meta.samples);
      this.droppedSinceLog += c.meta.samples;
    }
    const now = Date.now();
    if (this.droppedSinceLog > 0 && now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.logger.warn(
        { dropped: this.droppedSinceLog, buffered: this.bufferedSamples(), max },
        'redis store: outage buffer full, dropped the oldest buffered samples',
      );
      this.droppedSinceLog = 0;
      this.lastDropLog = now;
    }
  }

  private markDown(reason: string): void {
    if (this.connected || this.downSince === undefined) {
      this.downSince ??= Date.now();
      this.logger.warn(
        { reason, maxBufferedSamples: this.opts.maxBufferedSamples },
        'redis store: Redis unreachable, buffering writes in memory',
      );
    }
    this.connected = false;
    this.linkError = reason;
  }

  private onLinkError(err: Error): void {
    // ioredis reports every failed reconnect attempt here; the state change is logged once in markDown.
    this.linkError = err.message;
  }

  private onReady(): void {
    if (this.closed) return;
    const wasDown = this.downSince !== undefined;
    this.connected = true;
    this.linkError = undefined;
    if (!wasDown) {
      this.kick();
      return;
    }
    this.logger.info(
      { buffered: this.bufferedSamples(), downMs: Date.now() - (this.downSince ?? Date.now()) },
      'redis store: Redis reachable again, flushing buffered writes',
    );
    this.downSince = undefined;
    this.verifying = true;
    void this.verifyAfterReconnect();
  }

  /** verifyAfterReconnect checks the store survived the outage before flushing into it. */
  private async verifyAfterReconnect(): Promise<void> {
    try {
      const version = await this.client.hget(this.keys.meta, 'version');
      if (version === null) this.recoverLostStore();
    } catch (err) {
      // The link dropped again; the next 'ready' verifies anew. Waiters of flushNow see "disconnected".
      this.linkError = (err as Error).message;
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of idle) w();
      return;
    } finally {
      this.verifying = false;
    }
    this.kick();
  }

  /**
   * recoverLostStore handles a Redis that came back without this store's keys (restarted without
   * persistence, flushed): everything still in memory — registry, buffered chunks, head states — is written
   * again; chunks that were only in Redis are gone, and are forgotten so queries do not look for them.
   */
  private recoverLostStore(): void {
    let lostChunks = 0;
    this.extra.push([
      'hset',
      this.keys.meta,
      'version',
      String(KEY_LAYOUT_VERSION),
      'created',
      String(Date.now()),
    ]);
    for (const ref of this.head.refs()) {
      const p = this.persistOf(ref);
      if (p.registered) {
        p.registered = false;
        this.unregistered.push(ref);
      }
      p.needCheckpoint = true;
      p.logCount = 0;
      this.markDirty(ref, p);
      const sc = this.chunks[ref];
      if (!sc) continue;
      for (const list of [sc.raw, sc.tiers['1m'], sc.tiers['5m'], sc.tiers['1h']]) {
        for (const m of list.items.filter((c) => c.blob === undefined)) {
          list.remove(m);
          lostChunks++;
        }
      }
    }
    this.logger.error(
      { series: this.head.numSeries, lostChunks },
      'redis store: Redis came back without this store (restarted without persistence?); rewriting what is in memory, older chunks are lost',
    );
  }

  private onClose(): void {
    if (this.closed) return;
    if (this.connected) this.markDown(this.linkError ?? 'connection closed');
  }

  /** bufferedSamples is the number of accepted samples Redis has not acknowledged yet. */
  bufferedSamples(): number {
    return this.unflushed + (this.inflight?.samples ?? 0);
  }

  private hasPending(): boolean {
    return (
      this.flushing ||
      this.inflight !== undefined ||
      this.unregistered.length > 0 ||
      this.fifo.length > 0 ||
      this.dirtyList.length > 0 ||
      this.extra.length > 0
    );
  }

  /**
   * flushNow writes everything pending and resolves when Redis has it; it returns early (data still buffered)
   * while Redis is unreachable or refusing writes.
   */
  async flushNow(): Promise<void> {
    this.promoteDeferred();
    while (this.connected && this.writeError === undefined && this.hasPending()) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      this.kick();
      await idle;
    }
  }

  /** flush makes everything committed so far durable in Redis, bulk appends included (Storage.flush). */
  flush(): Promise<void> {
    // A bulk ingest's open rows were left raw; seal them now that it is over.
    this.head.compact();
    return this.flushNow();
  }

  // ---- reads ---------------------------------------------------------------------------------------------

  private async fetch(key: string, metas: readonly ChunkMeta[]): Promise<(Buffer | undefined)[]> {
    const missing = metas.filter((m) => m.blob === undefined);
    const fetched = new Map<ChunkMeta, Buffer>();
    if (missing.length > 0) {
      if (!this.connected) {
        throw new TsdbError(
          'TSDB_IO',
          `Redis is unreachable (${this.linkError ?? 'disconnected'}); stored chunks cannot be read`,
        );
      }
      let replies: (Buffer | null)[];
      try {
        replies = await this.client.hmgetBuffer(key, ...missing.map((m) => chunkField(m.minT, m.maxT)));
      } catch (err) {
        throw new TsdbError('TSDB_IO', `reading ${key} from Redis: ${(err as Error).message}`, {
          cause: err,
        });
      }
      missing.forEach((m, i) => {
        const b = replies[i];
        if (b) fetched.set(m, b);
      });
    }
    // A chunk gone from Redis was removed by retention between the directory lookup and the read.
    return metas.map((m) => m.blob ?? fetched.get(m));
  }

  private async readRawChunks(ref: number, mint: number, maxt: number): Promise<StoredChunk[]> {
    const metas = this.chunks[ref]?.raw.overlapping(mint, maxt) ?? [];
    if (metas.length === 0) return [];
    const blobs = await this.fetch(this.keys.raw(ref), metas);
    const out: StoredChunk[] = [];
    metas.forEach((m, i) => {
      const b = blobs[i];
      if (b) out.push({ minT: m.minT, maxT: m.maxT, chunk: this.codec.decode(b) });
    });
    return out;
  }

  private async readRollupChunks(
    ref: number,
    tier: RollupTier,
    mint: number,
    maxt: number,
  ): Promise<RollupChunk[]> {
    const metas = this.chunks[ref]?.tiers[tier].overlapping(mint, maxt) ?? [];
    if (metas.length === 0) return [];
    const blobs = await this.fetch(this.keys.rollup(ref, tier), metas);
    const out: RollupChunk[] = [];
    metas.forEach((m, i) => {
      const b = blobs[i];
      if (b) out.push(decodeRollupBlob(this.codec, tier, m.minT, m.maxT, b));
    });
    return out;
  }

  // ---- Storage -------------------------------------------------------------------------------------------

  appender(options?: AppenderOptions): Appender {
    const bulk = options?.bulk === true;
    return new HeadAppender(
      this.head,
      (batch) => this.commitHook(batch, bulk),
      () => {
        if (this.closed) throw new TsdbError('TSDB_CLOSED', 'the Redis store is closed');
      },
      { bulk },
    );
  }

  querier(mint: number, maxt: number): Promise<Querier> {
    if (this.closed) return Promise.reject(new TsdbError('TSDB_CLOSED', 'the Redis store is closed'));
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
    if (this.closed) throw new TsdbError('TSDB_CLOSED', 'the Redis store is closed');
    this.head.flush(now);
    // Chunks cut by the flush need their series' checkpoint in the same pipeline.
    this.persist.forEach((p, ref) => {
      if (p?.needCheckpoint) this.markDirty(ref, p);
    });
    const cut = retentionCutoffs(now, this.retention);
    const dead = new Set<number>();
    const droppedPending = new Set<ChunkMeta>();
    for (const ref of this.head.refs()) {
      const sc = this.chunks[ref];
      if (sc) {
        this.expire(ref, 'raw', sc.raw, cut.raw, droppedPending);
        for (const tier of ROLLUP_TIERS) this.expire(ref, tier, sc.tiers[tier], cut[tier], droppedPending);
      }
      const lastT = this.head.lastTime(ref);
      const oldest = Math.min(cut.raw, cut['1m'], cut['5m'], cut['1h']);
      if ((sc?.empty ?? true) && lastT < oldest && this.head.openMinTime(ref) === Infinity) dead.add(ref);
    }
    if (droppedPending.size > 0) {
      this.fifo = this.fifo.filter((c) => {
        if (!droppedPending.has(c.meta)) return true;
        this.unflushed -= c.unflushed;
        return false;
      });
    }
    if (dead.size > 0) {
      for (const ref of dead) {
        this.extra.push(['del', ...this.keys.seriesKeys(ref)]);
        this.extra.push(['hdel', this.keys.series, String(ref)]);
        this.persist[ref] = undefined;
        this.chunks[ref] = undefined;
      }
      this.dirtyList = this.dirtyList.filter((r) => !dead.has(r));
      this.head.deleteSeries(dead);
      this.logger.info({ series: dead.size }, 'redis store: retention deleted series with no data left');
    }
    await this.flushNow();
  }

  private expire(
    ref: number,
    tier: 'raw' | RollupTier,
    list: ChunkList,
    cutoff: number,
    droppedPending: Set<ChunkMeta>,
  ): void {
    const gone = list.removeBefore(cutoff);
    if (gone.length === 0) return;
    const key = tier === 'raw' ? this.keys.raw(ref) : this.keys.rollup(ref, tier);
    const fields: string[] = [];
    for (const m of gone) {
      if (m.blob !== undefined) droppedPending.add(m);
      fields.push(chunkField(m.minT, m.maxT));
    }
    // HDEL even for chunks still pending: a failed pipeline being retried may write them first.
    this.extra.push(['hdel', key, ...fields]);
    this.head.metrics.retentionDroppedChunks.inc({ tier }, gone.length);
  }

  health(): StorageHealth {
    const buffered = this.bufferedSamples();
    let detail: string;
    if (this.closed) detail = 'closed';
    else if (!this.connected) {
      detail = `Redis unreachable since ${new Date(this.downSince ?? Date.now()).toISOString()} (${this.linkError ?? 'disconnected'}); buffering ${buffered} samples (max ${this.opts.maxBufferedSamples})`;
    } else if (this.writeError !== undefined) detail = `Redis refuses writes: ${this.writeError}`;
    else detail = `connected to ${redactUrl(this.opts.url)}, prefix ${this.keys.prefix}`;
    return {
      backend: this.name,
      ok: !this.closed && this.connected && this.writeError === undefined,
      detail,
      series: this.head.numSeries,
      bufferedSamples: buffered,
    };
  }

  /** close flushes what Redis can take and disconnects; samples still buffered during an outage are lost. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.connected) {
      try {
        await this.flushNow();
      } catch (err) {
        this.logger.error({ err }, 'redis store: final flush failed');
      }
    }
    this.closed = true;
    clearTimeout(this.retryTimer);
    const buffered = this.bufferedSamples();
    if (buffered > 0) {
      this.logger.warn(
        { buffered },
        'redis store: closing with samples Redis never acknowledged; they are lost',
      );
    }
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
}

function fillList(list: ChunkList, fields: readonly string[]): void {
  for (const f of fields) {
    const { minT, maxT } = parseChunkField(f);
    list.add({ minT, maxT, blob: undefined, samples: 0 });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** redactUrl hides a password in a Redis URL for logs and health details. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
