/**
 * loadRedisStore reads a store back from Redis at open ("Open (restart)" in
 * ../../../docs/format/redis-keys.md): it checks the key layout version, restores the series registry, and
 * per series — pipelined LOAD_BATCH_SERIES at a time — the chunk directory of every tier (`HKEYS`), the head
 * checkpoint and the log, which it replays through the head. What it finds to fix (chunks cut after the
 * checkpoint, replayed logs to checkpoint) is queued on PendingWrites for the first pipeline.
 */
import type { Logger } from 'pino';
import type { Labels } from '../../util/labels.js';
import type { Clock } from '../../util/clock.js';
import { ByteReader } from '../bytes.js';
import { TsdbError } from '../errors.js';
import type { Head } from '../head.js';
import { ROLLUP_TIERS } from '../rollup.js';
import type { ChunkDirectory, ChunkList, SeriesChunks } from './chunk-list.js';
import { decodeHeadRecords } from './head-record.js';
import { KEY_LAYOUT_VERSION, chunkField, parseChunkField, type RedisKeys } from './keys.js';
import type { PendingWrites } from './pending-writes.js';
import { execPipeline, type CommandArgs, type RedisClient } from './redis-client.js';

/** LOAD_BATCH_SERIES is how many series' keys one pipeline reads at open (bounds reply memory). */
const LOAD_BATCH_SERIES = 512;

/** REPLIES_PER_SERIES is how many replies one series' load brings: HKEYS raw and per tier, GET state and log. */
const REPLIES_PER_SERIES = 1 + ROLLUP_TIERS.length + 2;

/** RedisLoadDeps are what loading fills in (head, directory, pending writes) and where from. */
export interface RedisLoadDeps {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly head: Head;
  readonly directory: ChunkDirectory;
  readonly pending: PendingWrites;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** loadRedisStore loads the store under `deps.keys` into memory; see the file comment. */
export async function loadRedisStore(deps: RedisLoadDeps): Promise<void> {
  const { client, keys, head, logger } = deps;
  const meta = await checkMeta(deps);
  const registry = await client.hgetall(keys.series);
  const refs: number[] = [];
  for (const [field, json] of Object.entries(registry)) {
    const ref = Number(field);
    if (!Number.isSafeInteger(ref) || ref <= 0) {
      throw new TsdbError('TSDB_CORRUPT', `Redis series registry holds a bad ref ${JSON.stringify(field)}`);
    }
    head.restoreSeries(ref, JSON.parse(json) as Labels);
    deps.pending.registered(ref);
    refs.push(ref);
  }
  if (meta.nextRef !== undefined) head.index.reserveRefs(Number(meta.nextRef));
  refs.sort((a, b) => a - b);
  for (let i = 0; i < refs.length; i += LOAD_BATCH_SERIES) {
    await loadSeries(deps, refs.slice(i, i + LOAD_BATCH_SERIES));
  }
  logger.info({ series: refs.length, prefix: keys.prefix, maxTime: head.maxTime }, 'redis store loaded');
}

/** checkMeta returns the `:meta` hash, creating it for a new store; throws TSDB_CORRUPT on another layout. */
async function checkMeta({ client, keys, clock }: RedisLoadDeps): Promise<Record<string, string>> {
  const meta = await client.hgetall(keys.meta);
  if (meta.version === undefined) {
    await client.hset(keys.meta, { version: String(KEY_LAYOUT_VERSION), created: String(clock.now()) });
  } else if (meta.version !== String(KEY_LAYOUT_VERSION)) {
    throw new TsdbError(
      'TSDB_CORRUPT',
      `Redis prefix ${keys.prefix} holds key layout v${meta.version}; this exporter reads v${KEY_LAYOUT_VERSION} (use another prefix or DB)`,
    );
  }
  return meta;
}

async function loadSeries(deps: RedisLoadDeps, refs: readonly number[]): Promise<void> {
  const { keys, head, directory, pending } = deps;
  const commands: CommandArgs[] = [];
  for (const ref of refs) {
    commands.push(['hkeys', keys.raw(ref)]);
    for (const tier of ROLLUP_TIERS) commands.push(['hkeys', keys.rollup(ref, tier)]);
    commands.push(['getBuffer', keys.state(ref)]);
    commands.push(['getBuffer', keys.log(ref)]);
  }
  const results = await execPipeline(deps.client, commands);
  refs.forEach((ref, i) => {
    const at = (k: number): unknown => {
      const [err, value] = results[i * REPLIES_PER_SERIES + k] ?? [new Error('missing reply'), null];
      if (err) throw new TsdbError('TSDB_IO', `loading series ${ref}: ${err.message}`, { cause: err });
      return value;
    };
    const sc = directory.of(ref);
    fillList(sc.raw, at(0) as string[]);
    ROLLUP_TIERS.forEach((tier, k) => fillList(sc.tiers[tier], at(1 + k) as string[]));
    const state = at(1 + ROLLUP_TIERS.length) as Buffer | null;
    const log = at(2 + ROLLUP_TIERS.length) as Buffer | null;
    if (state && state.length > 0) head.readSeriesState(new ByteReader(state));
    pruneAfterCheckpoint(deps, ref, sc);
    head.noteMaxTime(sc.raw.maxTime);
    if (log && log.length > 0) {
      const { ts, vs } = decodeHeadRecords(log);
      pending.replayLog(ref, ts, vs);
    }
    pending.loaded(ref);
  });
}

/**
 * pruneAfterCheckpoint drops chunks cut after the series' last checkpoint: their samples are also in the
 * restored open chunk or the log about to be replayed (a crash between a chunk write and its checkpoint),
 * or they came from bulk commits whose state was never checkpointed, which the contract lets a crash lose.
 * Without this, such samples would be read twice.
 */
function pruneAfterCheckpoint(deps: RedisLoadDeps, ref: number, sc: SeriesChunks): void {
  const { head, keys } = deps;
  const rawFrom = Math.min(head.openMinTime(ref), head.lastTime(ref) + 1);
  pruneList(deps, keys.raw(ref), sc.raw, rawFrom);
  for (const tier of ROLLUP_TIERS) {
    const open = head.openRollupMinTime(ref, tier);
    pruneList(deps, keys.rollup(ref, tier), sc.tiers[tier], open === Infinity ? -Infinity : open);
  }
}

function pruneList(deps: RedisLoadDeps, key: string, list: ChunkList, from: number): void {
  const stale = list.items.filter((c) => c.minT >= from);
  if (stale.length === 0) return;
  for (const c of stale) list.remove(c);
  deps.pending.queue(['hdel', key, ...stale.map((c) => chunkField(c.minT, c.maxT))]);
}

function fillList(list: ChunkList, fields: readonly string[]): void {
  for (const f of fields) {
    const { minT, maxT } = parseChunkField(f);
    list.add({ minT, maxT, blob: undefined, samples: 0 });
  }
}
