/**
 * expireRedisChunks is retention on the Redis store: it drops whole chunks older than each tier's retention
 * from the chunk directory (queuing an `HDEL`, or forgetting them if Redis never got them) and deletes series
 * with nothing left in any tier. The caller flushes the queued deletes.
 */
import type { Logger } from 'pino';
import type { Head } from '../head.js';
import { retentionCutoffs } from '../retention.js';
import { ROLLUP_TIERS, type RollupTier } from '../rollup.js';
import type { Retention } from '../storage.js';
import type { ChunkDirectory, ChunkList, ChunkMeta } from './chunk-list.js';
import { chunkField, type RedisKeys } from './keys.js';
import type { PendingWrites } from './pending-writes.js';

/** RedisRetentionDeps are what retention reads and changes. */
export interface RedisRetentionDeps {
  readonly head: Head;
  readonly keys: RedisKeys;
  readonly directory: ChunkDirectory;
  readonly pending: PendingWrites;
  readonly retention: Retention;
  readonly logger: Logger;
}

/** expireRedisChunks applies `deps.retention` relative to `now`; see the file comment. */
export function expireRedisChunks(deps: RedisRetentionDeps, now: number): void {
  const { head, directory, pending } = deps;
  const cut = retentionCutoffs(now, deps.retention);
  const oldest = Math.min(cut.raw, cut['1m'], cut['5m'], cut['1h']);
  const dead = new Set<number>();
  const droppedPending = new Set<ChunkMeta>();
  for (const ref of head.refs()) {
    const sc = directory.get(ref);
    if (sc) {
      expireList(deps, ref, 'raw', sc.raw, cut.raw, droppedPending);
      for (const tier of ROLLUP_TIERS) expireList(deps, ref, tier, sc.tiers[tier], cut[tier], droppedPending);
    }
    if ((sc?.empty ?? true) && head.lastTime(ref) < oldest && head.openMinTime(ref) === Infinity)
      dead.add(ref);
  }
  pending.forgetChunks(droppedPending);
  if (dead.size > 0) {
    pending.deleteSeries(dead);
    head.deleteSeries(dead);
    deps.logger.info({ series: dead.size }, 'redis store: retention deleted series with no data left');
  }
}

function expireList(
  deps: RedisRetentionDeps,
  ref: number,
  tier: 'raw' | RollupTier,
  list: ChunkList,
  cutoff: number,
  droppedPending: Set<ChunkMeta>,
): void {
  const gone = list.removeBefore(cutoff);
  if (gone.length === 0) return;
  const key = tier === 'raw' ? deps.keys.raw(ref) : deps.keys.rollup(ref, tier);
  const fields: string[] = [];
  for (const m of gone) {
    if (m.blob !== undefined) droppedPending.add(m);
    fields.push(chunkField(m.minT, m.maxT));
  }
  // HDEL even for chunks still pending: a failed pipeline being retried may write them first.
  deps.pending.queue(['hdel', key, ...fields]);
  deps.head.metrics.retentionDroppedChunks.inc({ tier }, gone.length);
}
