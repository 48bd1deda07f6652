/**
 * SealedRun holds what the head has not cut yet for one series — its open raw samples, or a tier's
 * completed rollup buckets — compactly: rows of a timestamp and `k` values (timestamps strictly
 * increasing), the oldest sealed into `k` encoded chunks (one per value column, each over the shared
 * timestamps; layouts ../../../docs/format/chunks.md) and the newest in a small raw tail. The head seals a
 * full tail (re-encoding the whole run, so one prefix is kept, not a list) instead of holding 8 bytes per
 * number until the chunk span ends: a 2 h raw chunk or a week of 1h buckets then costs its compressed size
 * in memory. Cutting decodes the run and encodes it once more from the same numbers, so stored chunks are
 * the bytes they would be without sealing.
 */
import type { ByteReader, ByteWriter } from './bytes.js';
import type { ChunkCodec } from './codec.js';
import { encodeSamples } from './codec.js';
import { TsdbError } from './errors.js';

/** LEN_BYTES is the size of a sealed column chunk's length (u32 little-endian). */
const LEN_BYTES = 4;

/** NO_ROWS is the tail of a run that has never held a row (no allocation per idle series and tier). */
const NO_ROWS = new Float64Array(0);

/** scratch is the shared buffer `rows()` returns views of (runs are read synchronously, one at a time). */
let scratch = new Float64Array(1024);

function scratchFor(size: number): Float64Array {
  if (scratch.length < size) scratch = new Float64Array(Math.max(size, scratch.length * 2));
  return scratch;
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
  /** sealed is the prefix: k u32 little-endian chunk lengths, then the k chunks; undefined when none. */
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
   * seal encodes every row but the newest `keep` (prefix and tail) into a new prefix with `codec`; the tail,
   * resized to `rows` (more than `keep`), holds the kept rows, so reads of the newest rows stay decode-free.
   */
  seal(codec: ChunkCodec, rows: number, keep = 0): void {
    if (!(rows > keep))
      throw new TsdbError('TSDB_BAD_OPTIONS', 'a sealed run must keep fewer rows than its tail');
    const n = this.n;
    if (this.m <= keep) {
      this.resize(rows);
      return;
    }
    const s = n - keep;
    const d = this.rows();
    const ts = d.subarray(0, s);
    const parts: Uint8Array[] = [];
    let size = LEN_BYTES * this.k;
    for (let c = 1; c <= this.k; c++) {
      const bytes = encodeSamples(codec, ts, d.subarray(c * n, c * n + s), 0, s).bytes();
      parts.push(bytes);
      size += bytes.length;
    }
    const out = new Uint8Array(size);
    let at = LEN_BYTES * this.k;
    parts.forEach((p, i) => {
      for (let j = 0; j < LEN_BYTES; j++) out[LEN_BYTES * i + j] = (p.length >>> (8 * j)) & 0xff;
      out.set(p, at);
      at += p.length;
    });
    this.sealedMinT = ts[0] ?? 0;
    this.sealedMaxT = ts[s - 1] ?? 0;
    this.dropDecoded();
    this.sealed = out;
    this.codec = codec;
    this.sealedN = s;
    // The kept rows are the tail's newest; they move to the front of the (resized) tail.
    const old = this.tail;
    const oldCap = this.cap;
    const from = this.m - keep;
    if (this.cap !== rows) {
      this.tail = new Float64Array(rows * (1 + this.k));
      this.cap = rows;
    }
    for (let c = 0; c <= this.k; c++) {
      this.tail.set(old.subarray(c * oldCap + from, c * oldCap + from + keep), c * rows);
    }
    this.m = keep;
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

  /** read replaces the rows with what `write` stored; `codec` decodes the prefix when it is read. */
  read(r: ByteReader, codec: ChunkCodec): void {
    const sealedN = r.u32();
    let sealed: Uint8Array | undefined;
    if (sealedN > 0) {
      this.sealedMinT = r.f64();
      this.sealedMaxT = r.f64();
      // A copy: the view would keep the whole record (a snapshot file) alive.
      sealed = r.bytes().slice();
      if (sealed.length < LEN_BYTES * this.k)
        throw new TsdbError('TSDB_CORRUPT', `a sealed run of ${sealedN} rows has ${sealed.length} bytes`);
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
    let at = LEN_BYTES * this.k;
    for (let c = 1; c <= this.k; c++) {
      let len = 0;
      for (let j = LEN_BYTES - 1; j >= 0; j--) len = len * 256 + (b[LEN_BYTES * (c - 1) + j] ?? 0);
      const it = codec.decode(b.subarray(at, at + len)).iterator();
      at += len;
      const vo = off + c * stride;
      let i = 0;
      while (i < this.sealedN && it.next()) {
        if (c === 1) dst[off + i] = it.at();
        dst[vo + i] = it.value();
        i++;
      }
      const err = it.err();
      if (err || i !== this.sealedN) {
        throw new TsdbError('TSDB_CORRUPT', `a sealed run decoded ${i} of ${this.sealedN} rows`, {
          cause: err,
        });
      }
    }
  }
}
