/**
 * DecodedChunks keeps the decoded samples of recently read stored raw chunks, so that reads repeating every
 * few seconds — rule groups evaluated every 15 s, dashboards refreshing — decode each chunk once instead of
 * at every read. A stored chunk never changes (the head only appends new ones, refs are never reused), so
 * an entry is valid for as long as the chunk with its ref, time range and sample count exists.
 *
 * Memory is bounded by a number of samples (16 bytes each). Eviction is least-recently-used among entries
 * idle for IDLE_MS: a read larger than what is free (a week of many series) is served without being cached
 * rather than flushing what periodic reads use; a busy cache simply stops admitting. Entries unread for
 * EXPIRE_MS go whether or not room is needed: a one-off read of much history (the rules replayed over the
 * backfill after a first start, a week's dashboard) would otherwise keep its samples, up to the whole bound,
 * for the life of the process. What a reader gets is always copied out of the entry, so nothing outside can
 * change a cached sample.
 */
import type { StoredChunk } from './querier.js';
import { TsdbError } from './errors.js';
import { lowerBound } from '../util/lower-bound.js';

/** DEFAULT_DECODED_CHUNK_SAMPLES bounds the cache: 8 M samples, 128 MiB. */
export const DEFAULT_DECODED_CHUNK_SAMPLES = 8_000_000;

/**
 * IDLE_MS is how long an entry must have gone unread before it may be evicted: four 15 s rule intervals,
 * so a rule group's working set survives any burst of other reads.
 */
const IDLE_MS = 60_000;

/**
 * EXPIRE_MS is how long an entry may go unread before it is dropped even without pressure for room: the
 * same minute as IDLE_MS, four 15 s rule intervals, so what a rule group reads every interval stays.
 */
export const EXPIRE_MS = IDLE_MS;

/**
 * EXPIRE_EVERY_MS spaces the looks for expired entries, and EXPIRE_BATCH bounds the entries one look drops,
 * so dropping a full cache (~17 k entries after the rules replayed a day of history at 20 servers) holds the
 * loop for about a millisecond at a time, not for several at once.
 */
const EXPIRE_EVERY_MS = 1_000;
const EXPIRE_BATCH = 8_192;

/**
 * Decoded is one chunk's samples. `ts` and `vs` are views of one buffer: every ArrayBuffer is an entry the
 * garbage collector sweeps after each full collection (on the main thread when the next scavenge comes
 * first), so a cache of thousands of chunks keeps one per chunk, not two.
 */
interface Decoded {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly maxT: number;
  lastUsed: number;
}

/** DecodedRange is a view of a chunk's samples [lo, hi) within a read's window; copy before keeping. */
export interface DecodedRange {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly lo: number;
  readonly hi: number;
}

/** DecodedChunks is the cache; one per Head, shared by every querier over it. */
export class DecodedChunks {
  private readonly entries = new Map<string, Decoded>();
  private samples = 0;
  private lastExpire = -Infinity;
  hits = 0;
  misses = 0;

  constructor(
    /** maxSamples bounds the decoded samples held (0 disables the cache). */
    readonly maxSamples: number = DEFAULT_DECODED_CHUNK_SAMPLES,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** size is the number of samples held. */
  get size(): number {
    return this.samples;
  }

  /**
   * read returns the samples of stored chunk `c` of series `ref` with timestamps in [mint, maxt], decoding
   * it (and caching the result when there is room) on a miss. Throws TSDB_CORRUPT on corrupt bytes.
   */
  read(ref: number, c: StoredChunk, mint: number, maxt: number): DecodedRange {
    const key = `${ref}:${c.minT}`;
    const now = this.now();
    this.tidy(now);
    let d = this.entries.get(key);
    if (d && (d.maxT !== c.maxT || d.ts.length !== c.chunk.numSamples())) {
      this.drop(key, d);
      d = undefined;
    }
    if (d) {
      this.hits++;
      d.lastUsed = now;
      // Re-inserting moves the entry to the end: the Map's order is least recently used first.
      this.entries.delete(key);
      this.entries.set(key, d);
    } else {
      this.misses++;
      d = decode(c, now);
      this.admit(key, d);
    }
    const { ts, vs } = d;
    return { ts, vs, lo: lowerBound(ts, mint), hi: upperBound(ts, maxt) };
  }

  /**
   * tidy looks for expired entries when EXPIRE_EVERY_MS has passed since the last look: reads call it, and
   * so do the head's commits, which come every tick whether or not anything reads stored chunks.
   */
  tidy(now: number = this.now()): void {
    if (now - this.lastExpire >= EXPIRE_EVERY_MS) this.expire(now);
  }

  /**
   * expire drops up to EXPIRE_BATCH entries unread for EXPIRE_MS. The Map's order is least recently read
   * first (a read re-inserts its entry), so the expired ones lead it.
   */
  expire(now: number = this.now()): void {
    this.lastExpire = now;
    const before = now - EXPIRE_MS;
    let dropped = 0;
    for (const [k, e] of this.entries) {
      if (e.lastUsed > before || dropped === EXPIRE_BATCH) break;
      this.drop(k, e);
      dropped++;
    }
  }

  /** entryCount is the number of chunks held (for tests). */
  get entryCount(): number {
    return this.entries.size;
  }

  /** clear drops every entry. */
  clear(): void {
    this.entries.clear();
    this.samples = 0;
  }

  private admit(key: string, d: Decoded): void {
    const n = d.ts.length;
    if (n > this.maxSamples) return;
    if (this.samples + n > this.maxSamples) {
      const idleBefore = d.lastUsed - IDLE_MS;
      for (const [k, e] of this.entries) {
        if (this.samples + n <= this.maxSamples || e.lastUsed > idleBefore) break;
        this.drop(k, e);
      }
      if (this.samples + n > this.maxSamples) return;
    }
    this.entries.set(key, d);
    this.samples += n;
  }

  private drop(key: string, d: Decoded): void {
    this.entries.delete(key);
    this.samples -= d.ts.length;
  }
}

/** decode reads every sample of a stored chunk. */
function decode(c: StoredChunk, now: number): Decoded {
  const n = c.chunk.numSamples();
  const both = new Float64Array(2 * n);
  const ts = both.subarray(0, n);
  const vs = both.subarray(n);
  const it = c.chunk.iterator();
  let i = 0;
  while (i < n && it.next()) {
    ts[i] = it.at();
    vs[i] = it.value();
    i++;
  }
  const err = it.err();
  if (err) throw new TsdbError('TSDB_CORRUPT', `corrupt chunk: ${err.message}`, { cause: err });
  if (i !== n) throw new TsdbError('TSDB_CORRUPT', `corrupt chunk: ${i} of ${n} samples decoded`);
  return { ts, vs, maxT: c.maxT, lastUsed: now };
}

/** upperBound is the first index whose timestamp is > t. */
function upperBound(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
