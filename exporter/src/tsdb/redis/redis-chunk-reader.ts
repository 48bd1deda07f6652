/**
 * RedisChunkReader is the Redis backend's ChunkReader for the shared HeadQuerier: it finds a series' chunks
 * overlapping a window in the in-memory ChunkDirectory and fetches their bytes with one `HMGET` per series
 * and tier. Chunks Redis does not have yet (cut during an outage, or in flight) are served from memory, so
 * the newest data stays readable while Redis is away; older chunks then fail with TSDB_IO.
 */
import type { ChunkCodec } from '../codec.js';
import { TsdbError } from '../errors.js';
import type { ChunkReader, StoredChunk } from '../querier.js';
import type { RollupChunk, RollupTier } from '../rollup.js';
import { decodeRollupBlob, type ChunkDirectory, type ChunkMeta } from './chunk-list.js';
import { chunkField, type RedisKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

/** RedisChunkReaderDeps are where the reader looks chunks up and fetches them from. */
export interface RedisChunkReaderDeps {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly codec: ChunkCodec;
  readonly directory: ChunkDirectory;
  /** unreachable returns why Redis cannot be reached now, or undefined while it can. */
  readonly unreachable: () => string | undefined;
}

/** RedisChunkReader implements ChunkReader on the chunk directory and Redis; see the file comment. */
export class RedisChunkReader implements ChunkReader {
  constructor(private readonly deps: RedisChunkReaderDeps) {}

  async rawChunks(ref: number, mint: number, maxt: number): Promise<StoredChunk[]> {
    const metas = this.deps.directory.get(ref)?.raw.overlapping(mint, maxt) ?? [];
    if (metas.length === 0) return [];
    const blobs = await this.fetch(this.deps.keys.raw(ref), metas);
    const out: StoredChunk[] = [];
    metas.forEach((m, i) => {
      const b = blobs[i];
      if (b) out.push({ minT: m.minT, maxT: m.maxT, chunk: this.deps.codec.decode(b) });
    });
    return out;
  }

  async rollupChunks(ref: number, tier: RollupTier, mint: number, maxt: number): Promise<RollupChunk[]> {
    const metas = this.deps.directory.get(ref)?.tiers[tier].overlapping(mint, maxt) ?? [];
    if (metas.length === 0) return [];
    const blobs = await this.fetch(this.deps.keys.rollup(ref, tier), metas);
    const out: RollupChunk[] = [];
    metas.forEach((m, i) => {
      const b = blobs[i];
      if (b) out.push(decodeRollupBlob(this.deps.codec, tier, m.minT, m.maxT, b));
    });
    return out;
  }

  minTime(ref: number): number {
    return this.deps.directory.minTime(ref);
  }

  /** fetch returns the bytes of each chunk, from memory or Redis; undefined for one retention just removed. */
  private async fetch(key: string, metas: readonly ChunkMeta[]): Promise<(Buffer | undefined)[]> {
    const missing = metas.filter((m) => m.blob === undefined);
    const fetched = new Map<ChunkMeta, Buffer>();
    if (missing.length > 0) {
      const down = this.deps.unreachable();
      if (down !== undefined) {
        throw new TsdbError('TSDB_IO', `Redis is unreachable (${down}); stored chunks cannot be read`);
      }
      let replies: (Buffer | null)[];
      try {
        replies = await this.deps.client.hmgetBuffer(key, ...missing.map((m) => chunkField(m.minT, m.maxT)));
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
}
