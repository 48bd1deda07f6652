/**
 * RedisStorageOptions: one typed options object for the Redis backend, with DEFAULT_REDIS_OPTIONS and a zod
 * check that turns a bad value into a TSDB_BAD_OPTIONS error saying what to change.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { systemTimer, type Timer } from '../../util/timer.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Retention, Tier } from '../storage.js';
import type { ChunkCodec } from '../codec.js';
import { TsdbError } from '../errors.js';
import type { TsdbMetrics } from '../metrics.js';
import { DEFAULT_KEY_PREFIX } from './keys.js';

/** RedisStorageOptions configures RedisStorage.open. */
export interface RedisStorageOptions {
  /** url is the Redis URL (`redis://[user:pass@]host:port[/db]`), as in REDIS_URL. */
  readonly url: string;
  readonly logger: Logger;
  /**
   * cluster treats `url` as a seed node of a Redis Cluster (ioredis Cluster client); writes are split into
   * one pipeline per node. The key layout is the same as on a single Redis.
   */
  readonly cluster?: boolean;
  /** keyPrefix namespaces every key (default `om`); tests use a random one. */
  readonly keyPrefix?: string;
  /** maxBufferedSamples bounds the samples held for Redis while it is unreachable; the oldest go first. */
  readonly maxBufferedSamples?: number;
  /** connectTimeoutMs bounds the first connection at open (the store needs Redis once to load its index). */
  readonly connectTimeoutMs?: number;
  /** retention overrides the default per-tier retention (ms). */
  readonly retention?: Partial<Record<Tier, number>>;
  /** registry receives the store's self-metrics (a private registry when absent). */
  readonly registry?: Registry;
  /** metrics are the store's TSDB self-metrics, built once per registry (default: built here, on `registry`). */
  readonly metrics?: TsdbMetrics;
  /** codec overrides the chunk codec (default: the lossless chunkenc builder). */
  readonly codec?: ChunkCodec;
  /** chunkSpanMs / maxSamplesPerChunk tune the head's chunk cutting (defaults from head.ts). */
  readonly chunkSpanMs?: number;
  readonly maxSamplesPerChunk?: number;
  /** rollups turns the 1m/5m/1h tiers on (default true). */
  readonly rollups?: boolean;
  /**
   * clock is the time of outage bookkeeping: when Redis went away, the backfill checkpoint interval, the
   * rate limit of the drop log, `:meta` `created` (default: the wall clock).
   */
  readonly clock?: Clock;
  /** timer schedules the retry of a pipeline Redis refused (default: setTimeout). */
  readonly timer?: Timer;
}

/**
 * DEFAULT_MAX_BUFFERED_SAMPLES is 1 M samples: ~3.5 h of the default 20-server fleet (≈ 4,800 samples a
 * minute), held compressed in cut chunks while Redis is away.
 */
export const DEFAULT_MAX_BUFFERED_SAMPLES = 1_000_000;

/** DEFAULT_CONNECT_TIMEOUT_MS is how long open() waits for the first connection (10 s). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** DEFAULT_REDIS_OPTIONS holds the defaults of the optional knobs. */
export const DEFAULT_REDIS_OPTIONS = {
  keyPrefix: DEFAULT_KEY_PREFIX,
  maxBufferedSamples: DEFAULT_MAX_BUFFERED_SAMPLES,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  rollups: true,
  clock: systemClock,
  timer: systemTimer,
} as const;

const schema = z.object({
  url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://'),
  maxBufferedSamples: z.number().int().nonnegative().optional(),
  connectTimeoutMs: z.number().int().positive().optional(),
  chunkSpanMs: z.number().int().positive().optional(),
  maxSamplesPerChunk: z.number().int().positive().optional(),
});

/** ResolvedRedisOptions is RedisStorageOptions with every default applied. */
export type ResolvedRedisOptions = RedisStorageOptions &
  Required<
    Pick<
      RedisStorageOptions,
      'keyPrefix' | 'maxBufferedSamples' | 'connectTimeoutMs' | 'rollups' | 'clock' | 'timer'
    >
  > & {
    readonly resolvedRetention: Retention;
  };

/** resolveRedisOptions validates `opts` and applies the defaults; throws TSDB_BAD_OPTIONS. */
export function resolveRedisOptions(opts: RedisStorageOptions, retention: Retention): ResolvedRedisOptions {
  const parsed = schema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TsdbError(
      'TSDB_BAD_OPTIONS',
      `invalid Redis store option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? parsed.error.message}`,
    );
  }
  return {
    ...opts,
    keyPrefix: opts.keyPrefix ?? DEFAULT_REDIS_OPTIONS.keyPrefix,
    maxBufferedSamples: opts.maxBufferedSamples ?? DEFAULT_REDIS_OPTIONS.maxBufferedSamples,
    connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_REDIS_OPTIONS.connectTimeoutMs,
    rollups: opts.rollups ?? DEFAULT_REDIS_OPTIONS.rollups,
    clock: opts.clock ?? DEFAULT_REDIS_OPTIONS.clock,
    timer: opts.timer ?? DEFAULT_REDIS_OPTIONS.timer,
    resolvedRetention: retention,
  };
}
