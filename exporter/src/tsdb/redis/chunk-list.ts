/**
 * ChunkList is the in-memory directory of one series' stored chunks in one tier: time ranges only, rebuilt at
 * open from the field names of the series' Redis hash (`HKEYS`), so queries know which fields to fetch
 * without scanning. A chunk not yet written to Redis (cut during an outage, or in flight) keeps its bytes
 * here so queries and retries still have it.
 */
import { ByteReader, ByteWriter } from '../bytes.js';
import type { ChunkCodec } from '../codec.js';
import { TsdbError } from '../errors.js';
import type { RollupChunk, RollupTier } from '../rollup.js';
import { ROLLUP_AGGREGATES } from '../rollup.js';

/** ChunkMeta is one stored chunk's directory entry. */
export interface ChunkMeta {
  readonly minT: number;
  readonly maxT: number;
  /** blob holds the encoded bytes until Redis has them (undefined once written). */
  blob: Buffer | undefined;
  /** samples is the raw sample count (0 for rollup chunks), for the outage buffer's accounting. */
  readonly samples: number;
}

/** ChunkList keeps a series' chunks of one tier ordered by minT (the head cuts them in time order). */
export class ChunkList {
  readonly items: ChunkMeta[] = [];

  /**
   * add appends a freshly cut chunk; out-of-order arrivals (restored lists) are sorted in. A chunk with the
   * same minT replaces the old entry: replaying a head log at open can re-cut a chunk Redis already holds.
   */
  add(meta: ChunkMeta): void {
    const same = this.items.findIndex((c) => c.minT === meta.minT);
    if (same >= 0) {
      this.items[same] = meta;
      return;
    }
    const last = this.items[this.items.length - 1];
    this.items.push(meta);
    if (last !== undefined && last.minT > meta.minT) this.items.sort((a, b) => a.minT - b.minT);
  }

  /** overlapping returns the chunks intersecting [mint, maxt], oldest first. */
  overlapping(mint: number, maxt: number): ChunkMeta[] {
    return this.items.filter((c) => c.maxT >= mint && c.minT <= maxt);
  }

  /** removeBefore drops and returns the chunks whose newest sample is older than `cutoff`. */
  removeBefore(cutoff: number): ChunkMeta[] {
    const gone = this.items.filter((c) => c.maxT < cutoff);
    if (gone.length > 0) {
      const keep = this.items.filter((c) => c.maxT >= cutoff);
      this.items.length = 0;
      this.items.push(...keep);
    }
    return gone;
  }

  /** remove drops one entry (an unwritten chunk discarded by the outage buffer). */
  remove(meta: ChunkMeta): void {
    const i = this.items.indexOf(meta);
    if (i >= 0) this.items.splice(i, 1);
  }

  /** minTime is the oldest timestamp in the list (Infinity when empty). */
  get minTime(): number {
    return this.items[0]?.minT ?? Infinity;
  }

  /** maxTime is the newest timestamp in the list (-Infinity when empty). */
  get maxTime(): number {
    return this.items[this.items.length - 1]?.maxT ?? -Infinity;
  }
}

/** SeriesChunks holds one series' chunk lists, raw and per rollup tier. */
export class SeriesChunks {
  readonly raw = new ChunkList();
  readonly tiers: Record<RollupTier, ChunkList> = {
    '1m': new ChunkList(),
    '5m': new ChunkList(),
    '1h': new ChunkList(),
  };

  /** minTime is the oldest timestamp of any tier (Infinity when nothing is stored). */
  get minTime(): number {
    return Math.min(
      this.raw.minTime,
      this.tiers['1m'].minTime,
      this.tiers['5m'].minTime,
      this.tiers['1h'].minTime,
    );
  }

  /** empty says whether no chunk of any tier is stored. */
  get empty(): boolean {
    return this.minTime === Infinity;
  }
}

/**
 * ChunkDirectory is the store's chunk directory: every series' SeriesChunks by ref. The loader fills it from
 * `HKEYS`, the write path adds cut chunks and forgets dropped ones, and the chunk reader looks fields up in it.
 */
export class ChunkDirectory {
  private readonly bySeries: (SeriesChunks | undefined)[] = [];

  /** get returns the chunks of `ref`, or undefined when none were ever recorded. */
  get(ref: number): SeriesChunks | undefined {
    return this.bySeries[ref];
  }

  /** of returns the chunks of `ref`, creating an empty entry the first time. */
  of(ref: number): SeriesChunks {
    let c = this.bySeries[ref];
    if (!c) this.bySeries[ref] = c = new SeriesChunks();
    return c;
  }

  /** delete forgets every chunk of `ref` (a series deleted by retention). */
  delete(ref: number): void {
    this.bySeries[ref] = undefined;
  }

  /** minTime is the oldest timestamp stored for `ref` in any tier (Infinity when nothing is). */
  minTime(ref: number): number {
    return this.bySeries[ref]?.minTime ?? Infinity;
  }
}

/**
 * encodeRollupBlob packs a RollupChunk's six aggregate chunks into one Redis value: u8 count, then per
 * aggregate (in ROLLUP_AGGREGATES order) a u32 little-endian length and the chunk bytes.
 */
export function encodeRollupBlob(chunk: RollupChunk): Buffer {
  const w = new ByteWriter(64 + chunk.chunks.reduce((n, c) => n + c.bytes().length + 4, 0));
  w.u8(chunk.chunks.length);
  for (const c of chunk.chunks) w.bytes(c.bytes());
  return Buffer.from(w.finish());
}

/** decodeRollupBlob reverses encodeRollupBlob (minT/maxT come from the hash field). */
export function decodeRollupBlob(
  codec: ChunkCodec,
  tier: RollupTier,
  minT: number,
  maxT: number,
  blob: Uint8Array,
): RollupChunk {
  const r = new ByteReader(blob);
  const n = r.u8();
  if (n !== ROLLUP_AGGREGATES.length) {
    throw new TsdbError(
      'TSDB_CORRUPT',
      `rollup blob holds ${n} aggregates, expected ${ROLLUP_AGGREGATES.length}`,
    );
  }
  const chunks = [];
  for (let i = 0; i < n; i++) chunks.push(codec.decode(r.bytes()));
  return { tier, minT, maxT, chunks };
}
