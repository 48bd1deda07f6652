/**
 * The Redis backend's connection: the ioredis client (single node or Cluster) configured so that commands
 * fail at once while disconnected (the store buffers by itself and must never block on Redis), the first
 * connect with its timeout, and pipelines — split per node on a cluster.
 */
import { Cluster, Redis } from 'ioredis';
import { TsdbError } from '../errors.js';
import { clusterSlot } from './cluster-slot.js';
import type { RedisKeys } from './keys.js';
import type { ResolvedRedisOptions } from './redis-options.js';
import type { WriteLink } from './write-queue.js';

/** CommandArgs is one Redis command as a pipeline takes it: the command name, then its arguments. */
export type CommandArgs = (string | number | Buffer)[];

/** PipelineReply is one command's outcome in a pipeline: an error, or null and the reply. */
export type PipelineReply = [Error | null, unknown];

/** RedisClient is either ioredis client; the store runs the same commands on both. */
export type RedisClient = Redis | Cluster;

/** RECONNECT_MAX_DELAY_MS caps ioredis's reconnect backoff (100 ms steps up to 2 s). */
const RECONNECT_MAX_DELAY_MS = 2_000;

/** DEFAULT_REDIS_PORT is the port of a cluster seed URL that names none. */
const DEFAULT_REDIS_PORT = 6379;

/** createRedisClient builds the client `opts` describe, not yet connected (lazyConnect). */
export function createRedisClient(opts: ResolvedRedisOptions): RedisClient {
  const retryStrategy = (times: number): number => Math.min(100 * times, RECONNECT_MAX_DELAY_MS);
  const redisOptions = {
    // Fail commands at once while disconnected: the store buffers by itself and must not block.
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: opts.connectTimeoutMs,
  };
  if (!opts.cluster) return new Redis(opts.url, { lazyConnect: true, ...redisOptions, retryStrategy });
  const seed = new URL(opts.url);
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || DEFAULT_REDIS_PORT) }], {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...redisOptions,
      ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
      ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
    },
  });
}

/**
 * connectRedis makes the first connection, which the store needs to load its index; throws TSDB_IO (and
 * drops the client) when Redis cannot be reached within connectTimeoutMs.
 */
export async function connectRedis(client: RedisClient, opts: ResolvedRedisOptions): Promise<void> {
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
}

/**
 * execPipeline runs commands as one pipeline and returns the replies in order. On a cluster, a pipeline may
 * only touch one node, so the commands are split per node (a series' keys share a slot, so its commands stay
 * together and in order) and the node pipelines run in parallel.
 */
export async function execPipeline(
  client: RedisClient,
  commands: readonly CommandArgs[],
): Promise<PipelineReply[]> {
  if (!(client instanceof Cluster)) return (await client.pipeline(commands as CommandArgs[]).exec()) ?? [];
  const groups = new Map<string, number[]>();
  commands.forEach((c, i) => {
    const slot = clusterSlot(String(c[1]));
    const node = client.slots[slot]?.[0] ?? `slot:${slot}`;
    let g = groups.get(node);
    if (!g) groups.set(node, (g = []));
    g.push(i);
  });
  const out = new Array<PipelineReply>(commands.length);
  await Promise.all(
    [...groups.values()].map(async (idx) => {
      const res = (await client.pipeline(idx.map((i) => commands[i] ?? [])).exec()) ?? [];
      idx.forEach((i, k) => (out[i] = res[k] ?? [new Error('pipeline reply missing'), null]));
    }),
  );
  return out;
}

/** redisWriteLink is the write queue's view of `client`, for the store under `keys`. */
export function redisWriteLink(client: RedisClient, keys: RedisKeys): WriteLink {
  return {
    exec: (commands) => execPipeline(client, commands),
    ready: () => client.status === 'ready',
    storeFound: async () => (await client.hget(keys.meta, 'version')) !== null,
  };
}

/** redactUrl hides a password in a Redis URL for logs and health details. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
