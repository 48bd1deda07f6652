/**
 * DiskChunkStore is the embedded backend's chunk layer when it has a data dir: cut chunks (raw and rollup)
 * go to the chunk files at once and only compact metadata stays in memory — per series and tier one growable
 * Float64Array with five numbers per chunk (minT, maxT, file id, payload offset, payload length), not one
 * object per chunk. Reads fetch the needed payloads from the files (nearby ones in one read, see
 * ChunkFiles.read) through a small byte-bounded LRU of payloads. Same contract as MemChunkStore.
 */
import { Pacer } from '../../util/pacer.js';
import type { HeadSink } from '../head.js';
import type { ChunkReader, StoredChunk } from '../querier.js';
import type { Chunk } from '../chunkenc/chunk.js';
import type { RetentionResult } from '../chunk-store.js';
import { ROLLUP_AGGREGATES, ROLLUP_TIERS, type RollupChunk, type RollupTier } from '../rollup.js';
import type { Tier } from '../storage.js';
import type { ChunkFiles, ChunkLocation, LoadedChunk } from './chunk-files.js';

/** STRIDE is the numbers kept per chunk: minT, maxT, file, offset, length. */
const STRIDE = 5;

/** TIER_COUNT is raw plus the rollup tiers (the chunk files' tier index). */
const TIER_COUNT = 1 + ROLLUP_TIERS.length;

/** TIER_NAMES maps a tier index to its name. */
const TIER_NAMES: readonly Tier[] = ['raw', ...ROLLUP_TIERS];

/** RAW_HEADER_BYTES / ROLLUP_HEADER_BYTES: payload bytes that are not chunk bytes (see chunk-files.ts). */
const RAW_HEADER_BYTES = 4 + 1 + 8 + 8 + 1 + 4;
const ROLLUP_HEADER_BYTES = 4 + 1 + 8 + 8 + 1 + 4 * ROLLUP_AGGREGATES.length;

/** CACHE_BYTES bounds the payload LRU (a dashboard's hot chunks; the page cache does the rest). */
const CACHE_BYTES = 16 * 1024 * 1024;

/**
 * MIN_GROW is the least a MetaList grows by (entries); past it, it grows by a quarter of its entries, not ×2:
 * the lists live as long as their chunks (a week of raw and 1m chunks is 84 per series each), so what doubling
 * leaves unused (~25% on average, up to half) would stay resident for all of them.
 */
const MIN_GROW = 4;

/** MetaList is one series' chunks of one tier, oldest first. */
class MetaList {
  n = 0;
  a = new Float64Array(STRIDE * MIN_GROW);

  push(minT: number, maxT: number, loc: ChunkLocation): void {
    if ((this.n + 1) * STRIDE > this.a.length) {
      const next = new Float64Array(STRIDE * (this.n + Math.max(MIN_GROW, this.n >> 2)));
      next.set(this.a);
      this.a = next;
    }
    let i = this.n++;
    // Loading may interleave files; keep the list time-sorted (appends are almost always in order).
    while (i > 0 && (this.a[(i - 1) * STRIDE] ?? 0) > minT) {
      this.a.copyWithin(i * STRIDE, (i - 1) * STRIDE, i * STRIDE);
      i--;
    }
    this.a.set([minT, maxT, loc.file, loc.offset, loc.length], i * STRIDE);
  }

  minT(i: number): number {
    return this.a[i * STRIDE] ?? Infinity;
  }

  maxT(i: number): number {
    return this.a[i * STRIDE + 1] ?? -Infinity;
  }

  loc(i: number): ChunkLocation {
    const o = i * STRIDE;
    return { file: this.a[o + 2] ?? 0, offset: this.a[o + 3] ?? 0, length: this.a[o + 4] ?? 0 };
  }

  length(i: number): number {
    return this.a[i * STRIDE + 4] ?? 0;
  }

  /** dropFront removes the first k entries. */
  dropFront(k: number): void {
    this.a.copyWithin(0, k * STRIDE, this.n * STRIDE);
    this.n -= k;
    if (this.a.length > STRIDE * 8 && this.n * STRIDE * 4 < this.a.length)
      this.a = this.a.slice(0, this.n * STRIDE * 2);
  }
}

/** DiskChunkStore implements HeadSink and ChunkReader over ChunkFiles; see the file comment. */
export class DiskChunkStore implements HeadSink, ChunkReader {
  private readonly byRef = new Map<number, MetaList[]>();
  private readonly cache = new Map<number, Uint8Array>();
  private cacheBytes = 0;
  private bytes = 0;
  private chunks = 0;

  constructor(private readonly files: ChunkFiles) {}

  private list(ref: number, tier: number): MetaList {
    let s = this.byRef.get(ref);
    if (!s) {
      s = [];
      for (let i = 0; i < TIER_COUNT; i++) s.push(new MetaList());
      this.byRef.set(ref, s);
    }
    return s[tier] as MetaList;
  }

  private add(ref: number, tier: number, minT: number, maxT: number, loc: ChunkLocation): void {
    this.list(ref, tier).push(minT, maxT, loc);
    this.bytes += loc.length - (tier === 0 ? RAW_HEADER_BYTES : ROLLUP_HEADER_BYTES);
    this.chunks++;
  }

  rawChunk(ref: number, minT: number, maxT: number, chunk: Chunk): void {
    this.add(ref, 0, minT, maxT, this.files.appendRaw(ref, minT, maxT, chunk));
  }

  rollupChunk(ref: number, chunk: RollupChunk): void {
    const loc = this.files.appendRollup(ref, chunk);
    this.add(ref, 1 + ROLLUP_TIERS.indexOf(chunk.tier), chunk.minT, chunk.maxT, loc);
  }

  /** addLoaded records a chunk found in the files on startup. */
  addLoaded(c: LoadedChunk): void {
    if (c.tier < 0 || c.tier >= TIER_COUNT) return;
    this.add(c.ref, c.tier, c.minT, c.maxT, c);
  }

  /** payloads reads the payloads of entries [from, to) of `l`, through the LRU. */
  private async payloads(l: MetaList, from: number, to: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    const missing: ChunkLocation[] = [];
    const missingAt: number[] = [];
    for (let i = from; i < to; i++) {
      const loc = l.loc(i);
      const key = loc.file * 2 ** 32 + loc.offset;
      const hit = this.cache.get(key);
      if (hit) {
        this.cache.delete(key);
        this.cache.set(key, hit);
        out.push(hit);
      } else {
        missing.push(loc);
        missingAt.push(out.length);
        out.push(new Uint8Array(0));
      }
    }
    if (missing.length > 0) {
      const got = await this.files.read(missing);
      got.forEach((p, k) => {
        out[missingAt[k] ?? 0] = p;
        const loc = missing[k] as ChunkLocation;
        this.remember(loc.file * 2 ** 32 + loc.offset, p);
      });
    }
    return out;
  }

  private remember(key: number, p: Uint8Array): void {
    if (p.length > CACHE_BYTES / 4) return;
    // Own the bytes: a view would pin a whole coalesced read buffer.
    const own = p.byteLength === p.buffer.byteLength ? p : p.slice();
    this.cache.set(key, own);
    this.cacheBytes += own.length;
    for (const [k, v] of this.cache) {
      if (this.cacheBytes <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cacheBytes -= v.length;
    }
  }

  /** range returns the entries [from, to) of `l` overlapping [mint, maxt]. */
  private static range(l: MetaList, mint: number, maxt: number): [number, number] {
    let from = 0;
    while (from < l.n && l.maxT(from) < mint) from++;
    let to = from;
    while (to < l.n && l.minT(to) <= maxt) to++;
    return [from, to];
  }

  rawChunks(
    ref: number,
    mint: number,
    maxt: number,
  ): Promise<readonly StoredChunk[]> | readonly StoredChunk[] {
    const l = this.byRef.get(ref)?.[0];
    if (!l) return [];
    const [from, to] = DiskChunkStore.range(l, mint, maxt);
    if (from === to) return [];
    return this.payloads(l, from, to).then((ps) =>
      ps.map((p, k) => {
        const chunk = this.files.decode(p).chunks[0];
        if (!chunk) throw new Error(`raw chunk record of series ${ref} holds no chunk`);
        return { minT: l.minT(from + k), maxT: l.maxT(from + k), chunk };
      }),
    );
  }

  rollupChunks(
    ref: number,
    tier: RollupTier,
    mint: number,
    maxt: number,
  ): Promise<readonly RollupChunk[]> | readonly RollupChunk[] {
    const l = this.byRef.get(ref)?.[1 + ROLLUP_TIERS.indexOf(tier)];
    if (!l) return [];
    const [from, to] = DiskChunkStore.range(l, mint, maxt);
    if (from === to) return [];
    return this.payloads(l, from, to).then((ps) =>
      ps.map((p, k) => ({
        tier,
        minT: l.minT(from + k),
        maxT: l.maxT(from + k),
        chunks: this.files.decode(p).chunks,
      })),
    );
  }

  minTime(ref: number): number {
    const s = this.byRef.get(ref);
    if (!s) return Infinity;
    let m = Infinity;
    for (const l of s) if (l.n > 0) m = Math.min(m, l.minT(0));
    return m;
  }

  /** maxTime returns the newest stored raw sample time of any series (-Infinity when empty). */
  maxTime(): number {
    let m = -Infinity;
    for (const s of this.byRef.values()) {
      const l = s[0];
      if (l && l.n > 0) m = Math.max(m, l.maxT(l.n - 1));
    }
    return m;
  }

  /** allRaw reads every stored raw chunk (benchmarks, diagnostics). */
  async allRaw(): Promise<StoredChunk[]> {
    const out: StoredChunk[] = [];
    for (const ref of this.byRef.keys()) {
      for (const c of await this.rawChunks(ref, -Infinity, Infinity)) out.push(c);
    }
    return out;
  }

  /** stats returns the number of stored chunks and their encoded bytes. */
  stats(): { chunks: number; bytes: number } {
    return { chunks: this.chunks, bytes: this.bytes };
  }

  /** metadataBytes is the memory the chunk metadata holds (diagnostics). */
  metadataBytes(): number {
    let n = 0;
    for (const s of this.byRef.values()) for (const l of s) n += l.a.byteLength;
    return n;
  }

  private forget(l: MetaList, tier: number, k: number): void {
    const header = tier === 0 ? RAW_HEADER_BYTES : ROLLUP_HEADER_BYTES;
    for (let i = 0; i < k; i++) this.bytes -= l.length(i) - header;
    this.chunks -= k;
  }

  /**
   * applyRetention drops whole chunks whose newest sample is older than their tier's cutoff, series by
   * series, giving the event loop a turn whenever `pacer`'s slice is used up (a reader sees each series
   * before or after its drop, never half of it).
   */
  async applyRetention(
    cutoffs: Readonly<Record<Tier, number>>,
    pacer = new Pacer(),
  ): Promise<RetentionResult> {
    const dropped: Record<Tier, number> = { raw: 0, '1m': 0, '5m': 0, '1h': 0 };
    const emptyRefs: number[] = [];
    for (const [ref, s] of this.byRef) {
      if (pacer.due()) await pacer.yield();
      s.forEach((l, tier) => {
        const name = TIER_NAMES[tier] ?? 'raw';
        let k = 0;
        while (k < l.n && l.maxT(k) < cutoffs[name]) k++;
        if (k === 0) return;
        this.forget(l, tier, k);
        l.dropFront(k);
        dropped[name] += k;
      });
      if (s.every((l) => l.n === 0)) emptyRefs.push(ref);
    }
    return { dropped, emptyRefs };
  }

  /** deleteSeries forgets the chunks of the given series. */
  deleteSeries(refs: Iterable<number>): void {
    for (const ref of refs) {
      const s = this.byRef.get(ref);
      if (!s) continue;
      s.forEach((l, tier) => this.forget(l, tier, l.n));
      this.byRef.delete(ref);
    }
  }
}
