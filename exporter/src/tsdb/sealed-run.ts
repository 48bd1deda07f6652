/**
 * SealedRun holds what the head has not cut yet for one series — its open raw samples, or a tier's
 * completed rollup buckets — compactly: rows of a timestamp and `k` values (timestamps strictly
 * increasing), the oldest sealed into encoded segments (each `k` chunks, one per value column, over the
 * segment's timestamps; layouts ../../../docs/format/chunks.md) and the newest in a small raw tail. The head
 * seals a full tail into a new segment instead of holding 8 bytes per number until the chunk span ends: a
 * 2 h raw chunk or a week of 1h buckets then costs its compressed size in memory. Segments merge as they
 * accumulate (MERGE_FANOUT), so sealing costs about log(seals) encodes per row rather than one per later
 * seal, and a prefix stays a few segments. Cutting decodes the run and encodes it once more from the same
 * numbers, so stored chunks are the bytes they would be without sealing.
 */
import type { ByteReader, ByteWriter } from './bytes.js';
import type { ChunkCodec } from './codec.js';
import { encodeSampleBytes } from './codec.js';
import type { SampleBuffer } from './sample-buffer.js';
import { TsdbError } from './errors.js';

/** LEN_BYTES is the size of a sealed column chunk's length (u32 little-endian). */
const LEN_BYTES = 4;

/** SEGMENT_HEADER_BYTES is a segment's row count (u32 little-endian) and level (u8). */
const SEGMENT_HEADER_BYTES = LEN_BYTES + 1;

/**
 * MERGE_FANOUT is how many segments of one level a seal merges into one of the next level. Each seal encodes
 * the rows it seals, plus, when they complete a level, those of the segments they join; a row is encoded
 * about once per level it climbs (log4 of the seals in a chunk's life: 2–3), where re-encoding the whole
 * prefix at every seal encoded it once per remaining seal (a 1m rollup chunk's 120 buckets, sealed 4 at a
 * time, 15 times on average). A prefix holds at most 3 segments per level.
 */
const MERGE_FANOUT = 4;

/** LEGACY_LEVEL marks a prefix read from the earlier layout (one segment): it merges only when cut. */
const LEGACY_LEVEL = 255;

/** NO_ROWS is the tail of a run that has never held a row (no allocation per idle series and tier). */
const NO_ROWS = new Float64Array(0);

/** scratch is the shared buffer `rows()` returns views of (runs are read synchronously, one at a time). */
let scratch = new Float64Array(1024);

function scratchFor(size: number): Float64Array {
  if (scratch.length < size) scratch = new Float64Array(Math.max(size, scratch.length * 2));
  return scratch;
}

/**
 * copyRows appends to `out` the rows of `d` (timestamps in [0, n), increasing; the first value column `stride`
 * further) whose timestamps are in [lo, hi]; the first is found by bisection, not by a scan from the oldest.
 */
export function copyRows(
  d: Float64Array,
  n: number,
  stride: number,
  lo: number,
  hi: number,
  out: SampleBuffer,
): void {
  let i = 0;
  for (let h = n; i < h;) {
    const mid = (i + h) >>> 1;
    if ((d[mid] ?? 0) < lo) i = mid + 1;
    else h = mid;
  }
  for (; i < n; i++) {
    const t = d[i] ?? 0;
    if (t > hi) break;
    out.push(t, d[stride + i] ?? 0);
  }
}

/**
 * DECODED_PREFIX_BUDGET bounds the numbers held by decoded copies of sealed prefixes (2 MiB): reads that reach
 * into a prefix — a rule's predict_linear over [1h], a delta over [10m] — repeat every evaluation until the
 * next seal, and would otherwise decode it each time. The shipped rules at 20 servers keep ~60 k numbers.
 */
export const DECODED_PREFIX_BUDGET = 262_144;

/**
 * DecodedPrefixes accounts the runs holding a decoded copy of their prefix, least recently read first, and
 * drops the oldest copies to stay within DECODED_PREFIX_BUDGET.
 */
class DecodedPrefixes {
  private readonly runs = new Map<SealedRun, number>();
  private held = 0;

  /** admit accounts `size` numbers for `run`, dropping older copies; false when it cannot fit at all. */
  admit(run: SealedRun, size: number): boolean {
    if (size > DECODED_PREFIX_BUDGET) return false;
    for (const old of this.runs.keys()) {
      if (this.held + size <= DECODED_PREFIX_BUDGET) break;
      // Forgets it here too (deleting the entry being visited is safe in a Map's iteration).
      old.dropDecoded();
    }
    this.runs.set(run, size);
    this.held += size;
    return true;
  }

  /** touch marks `run`'s copy as just read. */
  touch(run: SealedRun): void {
    const n = this.runs.get(run);
    if (n === undefined) return;
    this.runs.delete(run);
    this.runs.set(run, n);
  }

  /** forget releases `run`'s copy from the account. */
  forget(run: SealedRun): void {
    const n = this.runs.get(run);
    if (n === undefined) return;
    this.held -= n;
    this.runs.delete(run);
  }

  /** size is the numbers held (for tests). */
  get size(): number {
    return this.held;
  }
}

/** decodedPrefixes is the process's account of decoded prefixes (runs are read on the main thread only). */
export const decodedPrefixes = new DecodedPrefixes();

/** SealedRun is one series' uncut rows; see the file comment. */
export class SealedRun {
  /**
   * tail holds the raw rows column-major: timestamps in [0, cap), value column c in [(1 + c)·cap,
   * (2 + c)·cap). Writers append at row `m` (the head's per-sample path writes it directly).
   */
  tail: Float64Array;
  /** cap is the tail's capacity in rows. */
  cap: number;
  /** m is the number of rows in the tail. */
  m = 0;
  /** sealedN is the number of rows in the sealed prefix (all older than the tail's). */
  sealedN = 0;
  /** sealedMinT and sealedMaxT are the sealed prefix's first and last timestamps (valid when sealedN > 0). */
  private sealedMinT = 0;
  private sealedMaxT = 0;
  /**
   * sealed is the prefix, its segments oldest first, each: u32 rows, u8 level, k u32 chunk lengths (all
   * little-endian), the k chunks; undefined when none. A seal replaces it, never changes it in place.
   */
  private sealed: Uint8Array | undefined;
  /** codec sealed the prefix (and decodes it). */
  private codec: ChunkCodec | undefined;
  /** decoded is the prefix decoded by a read (column-major, sealedN rows), kept until the prefix changes. */
  private decoded: Float64Array | undefined;

  constructor(
    /** k is the number of value columns per row. */
    readonly k: number,
    /** rows is the tail's first capacity (0: allocated by the first `resize`). */
    rows = 0,
  ) {
    this.cap = rows;
    this.tail = rows > 0 ? new Float64Array(rows * (1 + k)) : NO_ROWS;
  }

  /** n is the number of rows (sealed and raw). */
  get n(): number {
    return this.sealedN + this.m;
  }

  /** minT is the oldest row's timestamp (NaN when empty). */
  get minT(): number {
    if (this.sealedN > 0) return this.sealedMinT;
    return this.m > 0 ? (this.tail[0] ?? NaN) : NaN;
  }

  /** maxT is the newest row's timestamp (NaN when empty). */
  get maxT(): number {
    if (this.m > 0) return this.tail[this.m - 1] ?? NaN;
    return this.sealedN > 0 ? this.sealedMaxT : NaN;
  }

  /** sealedBytes is the memory the sealed prefix takes (0 when none). */
  get sealedBytes(): number {
    return this.sealed?.length ?? 0;
  }

  /** pushRow appends the row laid out as `src[o]` (timestamp), `src[o + 1 … o + k]`; the tail must have room. */
  pushRow(src: Float64Array, o: number): void {
    const m = this.m;
    const cap = this.cap;
    const d = this.tail;
    d[m] = src[o] as number;
    for (let c = 1; c <= this.k; c++) d[c * cap + m] = src[o + c] as number;
    this.m = m + 1;
  }

  /** resize sets the tail's capacity to `rows` (≥ m), keeping its rows. */
  resize(rows: number): void {
    if (rows < this.m) throw new TsdbError('TSDB_BAD_OPTIONS', 'a run tail cannot drop rows');
    if (rows === this.cap) return;
    const next = new Float64Array(rows * (1 + this.k));
    for (let c = 0; c <= this.k; c++) {
      next.set(this.tail.subarray(c * this.cap, c * this.cap + this.m), c * rows);
    }
    this.tail = next;
    this.cap = rows;
  }

  /**
   * seal encodes the tail's rows but the newest `keep` into a new segment of the prefix with `codec`, merged
   * with the newest segments as MERGE_FANOUT says; the tail, resized to `rows` (more than `keep`), holds the
   * kept rows, so reads of the newest rows stay decode-free.
   */
  seal(codec: ChunkCodec, rows: number, keep = 0): void {
    if (!(rows > keep))
      throw new TsdbError('TSDB_BAD_OPTIONS', 'a sealed run must keep fewer rows than its tail');
    if (this.m <= keep) {
      this.resize(rows);
      return;
    }
    const add = this.m - keep;
    // The new segment is of level 0; with the MERGE_FANOUT − 1 segments before it of the same level, it
    // becomes one segment of the next level, and so on up.
    const segs = this.segments();
    let from = segs.length;
    let level = 0;
    while (from >= MERGE_FANOUT - 1 && level < LEGACY_LEVEL - 1) {
      let same = true;
      for (let i = from - (MERGE_FANOUT - 1); i < from; i++) if (segs[i]?.level !== level) same = false;
      if (!same) break;
      from -= MERGE_FANOUT - 1;
      level++;
    }
    // Segments another codec wrote are merged too: a prefix is decoded with one codec.
    if (this.codec !== undefined && this.codec !== codec) from = 0;
    const merged = segs[from];
    const keepBytes = merged ? merged.at : (this.sealed?.length ?? 0);
    const keepRows = merged ? merged.row : this.sealedN;
    // The merged segments' rows, decoded, then the tail's sealed rows: column-major, `s` rows apart.
    const s = this.sealedN - keepRows + add;
    const d = scratchFor(s * (1 + this.k));
    if (merged && this.sealed && this.codec) {
      const got = decodeSegments(this.sealed, merged.at, this.sealed.length, this.codec, this.k, d, 0, s);
      if (got !== s - add)
        throw new TsdbError('TSDB_CORRUPT', `a sealed run's last segments decoded ${got} of ${s - add} rows`);
    }
    for (let c = 0; c <= this.k; c++)
      d.set(this.tail.subarray(c * this.cap, c * this.cap + add), c * s + (s - add));
    const ts = d.subarray(0, s);
    const parts: Uint8Array[] = [];
    let size = keepBytes + SEGMENT_HEADER_BYTES + LEN_BYTES * this.k;
    for (let c = 1; c <= this.k; c++) {
      const bytes = encodeSampleBytes(codec, ts, d.subarray(c * s, c * s + s), 0, s);
      parts.push(bytes);
      size += bytes.length;
    }
    const out = new Uint8Array(size);
    if (this.sealed && keepBytes > 0) out.set(this.sealed.subarray(0, keepBytes));
    let at = keepBytes;
    writeU32(out, at, s);
    out[at + LEN_BYTES] = level;
    at += SEGMENT_HEADER_BYTES;
    parts.forEach((p, i) => writeU32(out, at + LEN_BYTES * i, p.length));
    at += LEN_BYTES * this.k;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    if (this.sealedN === 0) this.sealedMinT = ts[0] ?? 0;
    this.sealedMaxT = ts[s - 1] ?? 0;
    this.dropDecoded();
    this.sealed = out;
    this.codec = codec;
    this.sealedN += add;
    // The kept rows are the tail's newest; they move to the front of the (resized) tail.
    const old = this.tail;
    const oldCap = this.cap;
    if (this.cap !== rows) {
      this.tail = new Float64Array(rows * (1 + this.k));
      this.cap = rows;
    }
    for (let c = 0; c <= this.k; c++) {
      this.tail.set(old.subarray(c * oldCap + add, c * oldCap + add + keep), c * rows);
    }
    this.m = keep;
  }

  /** segments lists the sealed prefix's segments, oldest first: byte offset, first row and level. */
  private segments(): Segment[] {
    const b = this.sealed;
    const out: Segment[] = [];
    if (!b) return out;
    let at = 0;
    let row = 0;
    while (at < b.length) {
      const rows = readU32(b, at);
      out.push({ at, row, level: b[at + LEN_BYTES] ?? 0 });
      at = segmentEnd(b, at, this.k);
      row += rows;
    }
    return out;
  }

  /**
   * rows returns every row column-major in a shared scratch buffer: timestamps in [0, n), value column c
   * in [c·n, (c + 1)·n) for c = 1…k. The view is valid until the next `rows()` of any run.
   */
  rows(): Float64Array {
    const n = this.n;
    const d = scratchFor(n * (1 + this.k));
    this.rowsInto(d, 0);
    return d;
  }

  /**
   * readRows is `rows()` for a query: the prefix is decoded once and its copy kept (within
   * DECODED_PREFIX_BUDGET) until the next seal, so repeated reads copy it instead of decoding it again.
   */
  readRows(): Float64Array {
    const s = this.sealedN;
    if (s === 0) return this.rows();
    let p = this.decoded;
    if (p) decodedPrefixes.touch(this);
    else {
      p = new Float64Array(s * (1 + this.k));
      this.decodeSealed(p, 0, s);
      if (decodedPrefixes.admit(this, p.length)) this.decoded = p;
    }
    const n = this.n;
    const d = scratchFor(n * (1 + this.k));
    for (let c = 0; c <= this.k; c++) {
      d.set(p.subarray(c * s, (c + 1) * s), c * n);
      d.set(this.tail.subarray(c * this.cap, c * this.cap + this.m), c * n + s);
    }
    return d;
  }

  /** dropDecoded forgets the decoded copy of the prefix (it changed, or the budget needs the room). */
  dropDecoded(): void {
    if (this.decoded === undefined) return;
    this.decoded = undefined;
    decodedPrefixes.forget(this);
  }

  /** rowsInto writes the rows as `rows()` lays them out at `dst[off]`. */
  rowsInto(dst: Float64Array, off: number): void {
    const n = this.n;
    const s = this.sealedN;
    if (s > 0) this.decodeSealed(dst, off, n);
    for (let c = 0; c <= this.k; c++) {
      dst.set(this.tail.subarray(c * this.cap, c * this.cap + this.m), off + c * n + s);
    }
  }

  /**
   * readRecent appends the rows in [lo, hi] (timestamps, then the first value column) to `out` and returns
   * true when the tail holds every row from `lo` on and the run reaches back to `lo` (so nothing older, in
   * the prefix or in stored chunks, can be in the window); otherwise it returns false and appends nothing.
   * It is a query's usual read — a recent window — in one call.
   */
  readRecent(lo: number, hi: number, out: SampleBuffer): boolean {
    const m = this.m;
    if (m === 0) return false;
    if (this.sealedN > 0 ? lo <= this.sealedMaxT : (this.tail[0] ?? 0) > lo) return false;
    copyRows(this.tail, m, this.cap, lo, hi, out);
    return true;
  }

  /**
   * tailFrom says whether every row with timestamp ≥ t is in the raw tail, so a read of [t, …] can skip
   * decoding the prefix.
   */
  tailFrom(t: number): boolean {
    return this.sealedN === 0 || t > this.sealedMaxT;
  }

  /**
   * clone returns a copy of the rows as they are now, unaffected by later appends, seals and clears of this
   * run: the tail's rows are copied, the sealed prefix is shared (it is replaced, never changed in place).
   */
  clone(): SealedRun {
    const c = new SealedRun(this.k, this.m);
    for (let col = 0; col <= this.k; col++) {
      c.tail.set(this.tail.subarray(col * this.cap, col * this.cap + this.m), col * this.m);
    }
    c.m = this.m;
    c.sealedN = this.sealedN;
    c.sealedMinT = this.sealedMinT;
    c.sealedMaxT = this.sealedMaxT;
    c.sealed = this.sealed;
    c.codec = this.codec;
    return c;
  }

  /** stateBytes is the size `write` produces. */
  get stateBytes(): number {
    const sealed = this.sealedN > 0 ? 8 + 8 + 4 + (this.sealed?.length ?? 0) : 0;
    return 4 + sealed + 4 + 8 * this.m * (1 + this.k);
  }

  /**
   * write stores the run as it is held (docs/format/redis-keys.md, "Checkpoint"): the sealed prefix as its
   * bytes, the tail as raw float bits; nothing is decoded.
   */
  write(w: ByteWriter): void {
    w.u32(this.sealedN);
    if (this.sealedN > 0) {
      w.f64(this.sealedMinT);
      w.f64(this.sealedMaxT);
      w.bytes(this.sealed ?? new Uint8Array(0));
    }
    w.u32(this.m);
    for (let c = 0; c <= this.k; c++) w.f64s(this.tail, c * this.cap, this.m);
  }

  /**
   * read replaces the rows with what `write` stored; `codec` decodes the prefix when it is read. `segmented`
   * false reads the earlier layout, whose prefix is one segment without its header.
   */
  read(r: ByteReader, codec: ChunkCodec, segmented = true): void {
    const sealedN = r.u32();
    let sealed: Uint8Array | undefined;
    if (sealedN > 0) {
      this.sealedMinT = r.f64();
      this.sealedMaxT = r.f64();
      const bytes = r.bytes();
      // A copy either way: the view would keep the whole record (a snapshot file) alive.
      if (segmented) sealed = bytes.slice();
      else {
        sealed = new Uint8Array(SEGMENT_HEADER_BYTES + bytes.length);
        writeU32(sealed, 0, sealedN);
        sealed[LEN_BYTES] = LEGACY_LEVEL;
        sealed.set(bytes, SEGMENT_HEADER_BYTES);
      }
      let rows = 0;
      for (let at = 0; at < sealed.length; at = segmentEnd(sealed, at, this.k)) rows += readU32(sealed, at);
      if (rows !== sealedN)
        throw new TsdbError('TSDB_CORRUPT', `a sealed run of ${sealedN} rows has segments of ${rows}`);
    }
    const m = r.u32();
    this.clear();
    this.resize(Math.max(this.cap, m));
    for (let c = 0; c <= this.k; c++) r.f64s(this.tail, c * this.cap, m);
    this.m = m;
    this.sealedN = sealedN;
    this.sealed = sealed;
    this.codec = sealed ? codec : undefined;
  }

  /** clear drops every row, keeping the tail's capacity. */
  clear(): void {
    this.dropDecoded();
    this.m = 0;
    this.sealedN = 0;
    this.sealed = undefined;
  }

  /** decodeSealed writes the prefix's rows at `dst[off]`, columns `stride` apart. */
  private decodeSealed(dst: Float64Array, off: number, stride: number): void {
    const b = this.sealed;
    const codec = this.codec;
    if (!b || !codec) return;
    const rows = decodeSegments(b, 0, b.length, codec, this.k, dst, off, stride);
    if (rows !== this.sealedN)
      throw new TsdbError('TSDB_CORRUPT', `a sealed run decoded ${rows} of ${this.sealedN} rows`);
  }
}

/** Segment is where one segment of a sealed prefix starts: its byte offset, its first row, its level. */
interface Segment {
  readonly at: number;
  readonly row: number;
  readonly level: number;
}

function readU32(b: Uint8Array, at: number): number {
  let v = 0;
  for (let j = LEN_BYTES - 1; j >= 0; j--) v = v * 256 + (b[at + j] ?? 0);
  return v;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  for (let j = 0; j < LEN_BYTES; j++) b[at + j] = (v >>> (8 * j)) & 0xff;
}

/** segmentEnd returns where the segment at `at` ends, or throws TSDB_CORRUPT when it overruns `b`. */
function segmentEnd(b: Uint8Array, at: number, k: number): number {
  let end = at + SEGMENT_HEADER_BYTES + LEN_BYTES * k;
  if (end > b.length) throw new TsdbError('TSDB_CORRUPT', 'a sealed run segment is cut short');
  for (let c = 0; c < k; c++) end += readU32(b, at + SEGMENT_HEADER_BYTES + LEN_BYTES * c);
  if (end > b.length) throw new TsdbError('TSDB_CORRUPT', 'a sealed run segment is cut short');
  return end;
}

/**
 * decodeSegments writes the rows of the segments in `b[from, to)` at `dst[off]` (timestamps, then each of the
 * k value columns, `stride` apart), one after the other, and returns how many rows they held.
 */
function decodeSegments(
  b: Uint8Array,
  from: number,
  to: number,
  codec: ChunkCodec,
  k: number,
  dst: Float64Array,
  off: number,
  stride: number,
): number {
  let row = 0;
  for (let at = from; at < to;) {
    const rows = readU32(b, at);
    const end = segmentEnd(b, at, k);
    let chunkAt = at + SEGMENT_HEADER_BYTES + LEN_BYTES * k;
    for (let c = 1; c <= k; c++) {
      const len = readU32(b, at + SEGMENT_HEADER_BYTES + LEN_BYTES * (c - 1));
      const it = codec.decode(b.subarray(chunkAt, chunkAt + len)).iterator();
      chunkAt += len;
      const to0 = off + row;
      const vo = off + c * stride + row;
      let i = 0;
      while (i < rows && row + i < stride && it.next()) {
        if (c === 1) dst[to0 + i] = it.at();
        dst[vo + i] = it.value();
        i++;
      }
      const err = it.err();
      if (err || i !== rows)
        throw new TsdbError('TSDB_CORRUPT', `a sealed run segment decoded ${i} of ${rows} rows`, {
          cause: err,
        });
    }
    row += rows;
    at = end;
  }
  return row;
}
