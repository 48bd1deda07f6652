/**
 * Little-endian byte writer/reader for the TSDB's own binary records (WAL, snapshots, head state). Floats
 * are copied as raw IEEE-754 bits through a Float64Array/Uint8Array alias, so NaN payloads (Prometheus's
 * stale marker) survive bit-exactly.
 */
import { TsdbError } from './errors.js';

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const TEXT_ENCODER = new TextEncoder();
const TEXT_DECODER = new TextDecoder('utf-8', { fatal: true });

/** ByteWriter appends little-endian values to a growable buffer. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private n = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** length is the number of bytes written so far. */
  get length(): number {
    return this.n;
  }

  private reserve(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.n + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.n++] = v;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.n, v, true);
    this.n += 4;
  }

  /** f64 writes the raw bits of `v` (NaN payloads preserved). */
  f64(v: number): void {
    this.reserve(8);
    F64[0] = v;
    this.buf.set(F64_BYTES, this.n);
    this.n += 8;
  }

  /** f64s writes `count` raw floats from `arr` starting at `from`. */
  f64s(arr: Float64Array, from: number, count: number): void {
    this.reserve(8 * count);
    this.buf.set(new Uint8Array(arr.buffer, arr.byteOffset + 8 * from, 8 * count), this.n);
    this.n += 8 * count;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  /** bytesRaw appends `b` without a length prefix. */
  bytesRaw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }

  /**
   * string writes `s` as a u32 byte length and its UTF-8, in place: no temporary array per string (series
   * records hold thousands of label strings). ASCII is copied directly; anything else goes through encodeInto.
   */
  string(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.reserve(4 + 3 * s.length);
    const buf = this.buf;
    const at = this.n + 4;
    let len = 0;
    while (len < s.length) {
      const c = s.charCodeAt(len);
      if (c >= 0x80) break;
      buf[at + len++] = c;
    }
    if (len < s.length) len = TEXT_ENCODER.encodeInto(s, buf.subarray(at)).written;
    this.view.setUint32(this.n, len, true);
    this.n = at + len;
  }

  /** patchU32 overwrites a u32 written earlier at `offset` (for length prefixes). */
  patchU32(offset: number, v: number): void {
    this.view.setUint32(offset, v, true);
  }

  /** finish returns a view of the bytes written (valid until the next write). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }

  /** reset empties the writer, keeping its buffer. */
  reset(): void {
    this.n = 0;
  }
}

/** ByteReader reads what ByteWriter wrote, throwing TSDB_CORRUPT on a short buffer. */
export class ByteReader {
  private readonly view: DataView;
  private off = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** remaining is the number of unread bytes. */
  get remaining(): number {
    return this.buf.length - this.off;
  }

  private need(n: number): void {
    if (this.off + n > this.buf.length) {
      throw new TsdbError('TSDB_CORRUPT', `record truncated: need ${n} bytes at offset ${this.off}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++] ?? 0;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.off, true);
    this.off += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    F64_BYTES.set(this.buf.subarray(this.off, this.off + 8));
    this.off += 8;
    return F64[0] ?? 0;
  }

  /** f64s reads `count` raw floats into `out` at `at`. */
  f64s(out: Float64Array, at: number, count: number): void {
    this.need(8 * count);
    new Uint8Array(out.buffer, out.byteOffset + 8 * at, 8 * count).set(
      this.buf.subarray(this.off, this.off + 8 * count),
    );
    this.off += 8 * count;
  }

  /** bytes returns a view (not a copy) of a length-prefixed byte string. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  string(): string {
    return TEXT_DECODER.decode(this.bytes());
  }
}
