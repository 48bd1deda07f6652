/**
 * MemChunkStore keeps the chunks the head has cut (raw and rollup) in memory, per series and tier, and
 * serves them to HeadQuerier. It is the embedded backend's chunk layer and usable as a read cache by others.
 * An optional listener sees every newly cut chunk (the embedded store appends them to its chunk files).
 */
import { Pacer } from '../util/pacer.js';
import type { Chunk } from './chunkenc/chunk.js';
import type { HeadSink } from './head.js';
import type { ChunkReader, StoredChunk } from './querier.js';
import { ROLLUP_TIERS, type RollupChunk, type RollupTier } from './rollup.js';
import type { Tier } from './storage.js';

/** SeriesChunks are one series' stored chunks, oldest first, per tier. */
interface SeriesChunks {
  raw: StoredChunk[];
  rollups: RollupChunk[][];
}

/** RetentionResult says what applyRetention dropped. */
export interface RetentionResult {
  readonly dropped: Record<Tier, number>;
  /** emptyRefs are series with no stored chunk left in any tier. */
  readonly emptyRefs: number[];
}

/** NONE is what overlapping returns when nothing overlaps (no allocation for the usual recent read). */
const NONE: readonly never[] = Object.freeze([]);

/** overlapping returns the entries of a time-sorted list that overlap [mint, maxt]. */
function overlapping<T extends { minT: number; maxT: number }>(
  list: readonly T[],
  mint: number,
  maxt: number,
): readonly T[] {
  const last = list[list.length - 1];
  if (!last || last.maxT < mint) return NONE;
  const out: T[] = [];
  for (const c of list) {
    if (c.maxT < mint) continue;
    if (c.minT > maxt) break;
    out.push(c);
  }
  return out;
}

/** MemChunkStore implements HeadSink and ChunkReader in memory. */
export class MemChunkStore implements HeadSink, ChunkReader {
  private readonly byRef = new Map<number, SeriesChunks>();
  private bytes = 0;
  private chunks = 0;

  constructor(private readonly listener?: HeadSink) {}

  private get(ref: number): SeriesChunks {
    let s = this.byRef.get(ref);
    if (!s) {
      s = { raw: [], rollups: ROLLUP_TIERS.map(() => []) };
      this.byRef.set(ref, s);
    }
    return s;
  }

  rawChunk(ref: number, minT: number, maxT: number, chunk: Chunk): void {
    this.addRaw(ref, minT, maxT, chunk);
    this.listener?.rawChunk(ref, minT, maxT, chunk);
  }

  rollupChunk(ref: number, chunk: RollupChunk): void {
    this.addRollup(ref, chunk);
    this.listener?.rollupChunk(ref, chunk);
  }

  /** addRaw stores a raw chunk without notifying the listener (loading from disk). */
  addRaw(ref: number, minT: number, maxT: number, chunk: Chunk): void {
    const list = this.get(ref).raw;
    list.push({ minT, maxT, chunk });
    // Loading may interleave files; keep lists time-sorted (appends are almost always in order).
    for (let i = list.length - 1; i > 0 && (list[i]?.minT ?? 0) < (list[i - 1]?.minT ?? 0); i--) {
      [list[i - 1], list[i]] = [list[i] as StoredChunk, list[i - 1] as StoredChunk];
    }
    this.bytes += chunk.bytes().length;
    this.chunks++;
  }

  /** addRollup stores a rollup chunk without notifying the listener (loading from disk). */
  addRollup(ref: number, chunk: RollupChunk): void {
    const list = this.get(ref).rollups[ROLLUP_TIERS.indexOf(chunk.tier)];
    if (!list) return;
    list.push(chunk);
    for (let i = list.length - 1; i > 0 && (list[i]?.minT ?? 0) < (list[i - 1]?.minT ?? 0); i--) {
      [list[i - 1], list[i]] = [list[i] as RollupChunk, list[i - 1] as RollupChunk];
    }
    for (const c of chunk.chunks) this.bytes += c.bytes().length;
    this.chunks++;
  }

  rawChunks(ref: number, mint: number, maxt: number): readonly StoredChunk[] {
    return overlapping(this.byRef.get(ref)?.raw ?? [], mint, maxt);
  }

  rollupChunks(ref: number, tier: RollupTier, mint: number, maxt: number): readonly RollupChunk[] {
    return overlapping(this.byRef.get(ref)?.rollups[ROLLUP_TIERS.indexOf(tier)] ?? [], mint, maxt);
  }

  minTime(ref: number): number {
    const s = this.byRef.get(ref);
    if (!s) return Infinity;
    let m = s.raw[0]?.minT ?? Infinity;
    for (const l of s.rollups) m = Math.min(m, l[0]?.minT ?? Infinity);
    return m;
  }

  /** maxTime returns the newest stored sample time of any series (-Infinity when empty). */
  maxTime(): number {
    let m = -Infinity;
    for (const s of this.byRef.values()) m = Math.max(m, s.raw[s.raw.length - 1]?.maxT ?? -Infinity);
    return m;
  }

  /** forEachRaw calls `f` for every stored raw chunk (benchmarks, diagnostics). */
  forEachRaw(f: (ref: number, c: StoredChunk) => void): void {
    for (const [ref, s] of this.byRef) for (const c of s.raw) f(ref, c);
  }

  /** allRaw returns every stored raw chunk (benchmarks, diagnostics; same call as DiskChunkStore's). */
  allRaw(): Promise<StoredChunk[]> {
    const out: StoredChunk[] = [];
    this.forEachRaw((_ref, c) => out.push(c));
    return Promise.resolve(out);
  }

  /** rawStats returns the number of stored raw chunks, their samples and encoded bytes. */
  rawStats(): { chunks: number; samples: number; bytes: number } {
    let chunks = 0;
    let samples = 0;
    let bytes = 0;
    this.forEachRaw((_ref, c) => {
      chunks++;
      samples += c.chunk.numSamples();
      bytes += c.chunk.bytes().length;
    });
    return { chunks, samples, bytes };
  }

  /** stats returns the number of stored chunks and their encoded bytes. */
  stats(): { chunks: number; bytes: number } {
    return { chunks: this.chunks, bytes: this.bytes };
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
      let k = 0;
      while (k < s.raw.length && (s.raw[k]?.maxT ?? Infinity) < cutoffs.raw) {
        this.bytes -= s.raw[k]?.chunk.bytes().length ?? 0;
        k++;
      }
      if (k > 0) s.raw.splice(0, k);
      dropped.raw += k;
      ROLLUP_TIERS.forEach((tier, i) => {
        const list = s.rollups[i] ?? [];
        let j = 0;
        while (j < list.length && (list[j]?.maxT ?? Infinity) < cutoffs[tier]) {
          for (const c of list[j]?.chunks ?? []) this.bytes -= c.bytes().length;
          j++;
        }
        if (j > 0) list.splice(0, j);
        dropped[tier] += j;
      });
      if (s.raw.length === 0 && s.rollups.every((l) => l.length === 0)) emptyRefs.push(ref);
    }
    this.chunks -= dropped.raw + dropped['1m'] + dropped['5m'] + dropped['1h'];
    return { dropped, emptyRefs };
  }

  /** deleteSeries forgets the chunks of the given series. */
  deleteSeries(refs: Iterable<number>): void {
    for (const ref of refs) {
      const s = this.byRef.get(ref);
      if (!s) continue;
      for (const c of s.raw) this.bytes -= c.chunk.bytes().length;
      for (const l of s.rollups)
        for (const rc of l) for (const c of rc.chunks) this.bytes -= c.bytes().length;
      this.chunks -= s.raw.length + s.rollups.reduce((a, l) => a + l.length, 0);
      this.byRef.delete(ref);
    }
  }
}
