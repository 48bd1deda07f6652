/**
 * The XOR encoding of Gorilla (Pelkonen et al., VLDB 2015) with Prometheus's millisecond timestamp buckets:
 * timestamps as delta-of-delta in 1/16/20/24/68-bit codes, values as the XOR with the previous value's bits,
 * reusing the previous window of meaningful bits when it fits. It is the baseline the decimal encoding is
 * measured against and the fallback for values that are not exact decimals.
 * Byte layout: ../../../docs/format/chunks.md#xor-encoding-1
 */

import { BitReader, BitWriter, floatFromBits, floatHi, floatLo } from './bstream.js';
import { type Chunk, type ChunkIterator, Encoding } from './chunk.js';
import { ChunkError } from './errors.js';
import { bigDelta, bigDod, fromBig, isFastTs } from './timestamps.js';

/** XOR_MAX_SAMPLES is the most samples an XOR chunk holds: its count is a big-endian uint16, as in Prometheus. */
export const XOR_MAX_SAMPLES = 0xffff;

/** XOR_HEADER_BYTES is the encoding byte plus the uint16 sample count. */
const XOR_HEADER_BYTES = 3;

/**
 * DOD_BUCKETS are the delta-of-delta widths after the 1-bit zero code; Prometheus's values, sized for ms
 * timestamps: 14 bits covers ±8 s of jitter, 17 bits ±65 s, 20 bits ±524 s; anything else takes 64 bits.
 */
const DOD_BUCKETS = [14, 17, 20] as const;

/** NO_WINDOW marks "no previous leading/trailing window" (Prometheus uses 0xff for the same purpose). */
const NO_WINDOW = 0xff;

/** MAX_LEADING is the largest leading-zero count the 5-bit field can hold. */
const MAX_LEADING = 31;

/** WRITER is reused by every encode (encoding is synchronous); bytes() copies the result out. */
const WRITER = new BitWriter(4096);

/** inBucket reports whether dod fits the n-bit code: Prometheus's range −(2^(n−1) − 1) … 2^(n−1). */
function inBucket(dod: number, n: number): boolean {
  const half = 1 << (n - 1);
  return dod > -half && dod <= half;
}

/** ctz32 counts trailing zero bits of a non-zero 32-bit integer. */
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * encodeXor encodes the first n samples of (ts, vs) as an XOR chunk. Timestamps must be strictly increasing
 * safe integers (builders check); n ≤ XOR_MAX_SAMPLES.
 */
export function encodeXor(ts: ArrayLike<number>, vs: ArrayLike<number>, n: number = ts.length): Uint8Array {
  return encodeXorWithin(ts, vs, n, Infinity) ?? new Uint8Array(0);
}

/** BUDGET_CHECK_MASK: encodeXorWithin compares its size to the budget every 16 samples. */
const BUDGET_CHECK_MASK = 15;

/**
 * encodeXorWithin is encodeXor that gives up (returns undefined) once the chunk is sure to exceed
 * `maxBytes`: a builder that already holds a smaller candidate need not finish an XOR encode.
 */
export function encodeXorWithin(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  n: number,
  maxBytes: number,
): Uint8Array | undefined {
  const maxBits = maxBytes * 8;
  if (n > XOR_MAX_SAMPLES) {
    throw new ChunkError('CHUNK_FULL', `an XOR chunk holds at most ${XOR_MAX_SAMPLES} samples, got ${n}`);
  }
  const w = WRITER;
  w.reset();
  w.writeByte(Encoding.XOR);
  w.writeByte(n >>> 8);
  w.writeByte(n & 0xff);
  if (n === 0) return w.bytes();

  let t = ts[0] ?? 0;
  w.writeVarint(t);
  let hi = floatHi(vs[0] ?? 0);
  let lo = floatLo();
  w.writeBits64(hi, lo, 64);

  let t1 = t; // previous timestamp
  let t2 = t; // the one before
  let leading = NO_WINDOW;
  let trailing = 0;
  for (let i = 1; i < n; i++) {
    if ((i & BUDGET_CHECK_MASK) === 0 && w.bitLength() > maxBits) return undefined;
    t = ts[i] ?? 0;
    if (i === 1) {
      if (isFastTs(t) && isFastTs(t1)) w.writeUvarint(t - t1);
      else w.writeUvarintBig(bigDelta(t, t1));
    } else if (isFastTs(t) && isFastTs(t1) && isFastTs(t2)) {
      writeDod(w, t - t1 - (t1 - t2));
    } else {
      const dod = bigDod(t, t1, t2);
      const small = fromBig(dod);
      if (small !== undefined && Math.abs(small) < 2 ** 31) writeDod(w, small);
      else {
        w.writeBits(0b1111, 4);
        w.writeBigInt64(dod);
      }
    }
    t2 = t1;
    t1 = t;

    const vh = floatHi(vs[i] ?? 0);
    const vl = floatLo();
    const xh = (vh ^ hi) >>> 0;
    const xl = (vl ^ lo) >>> 0;
    hi = vh;
    lo = vl;
    if ((xh | xl) === 0) {
      w.writeBit(0);
      continue;
    }
    let lead = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
    const trail = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
    if (lead > MAX_LEADING) lead = MAX_LEADING;
    if (leading !== NO_WINDOW && lead >= leading && trail >= trailing) {
      w.writeBits(0b10, 2);
      writeShifted(w, xh, xl, trailing, 64 - leading - trailing);
    } else {
      leading = lead;
      trailing = trail;
      const sig = 64 - lead - trail;
      w.writeBits(0b11, 2);
      w.writeBits(lead, 5);
      // 64 significant bits do not fit 6 bits; 0 stands for 64 (0 is impossible: xor ≠ 0 here).
      w.writeBits(sig & 63, 6);
      writeShifted(w, xh, xl, trail, sig);
    }
  }
  return w.bitLength() > maxBits ? undefined : w.bytes();
}

/** writeDod writes a delta-of-delta (|dod| < 2^31) in the smallest Prometheus bucket that holds it. */
function writeDod(w: BitWriter, dod: number): void {
  if (dod === 0) {
    w.writeBit(0);
  } else if (inBucket(dod, 14)) {
    w.writeBits(0b10, 2);
    w.writeBits(dod, 14);
  } else if (inBucket(dod, 17)) {
    w.writeBits(0b110, 3);
    w.writeBits(dod, 17);
  } else if (inBucket(dod, 20)) {
    w.writeBits(0b1110, 4);
    w.writeBits(dod, 20);
  } else {
    w.writeBits(0b1111, 4);
    w.writeInt64(dod);
  }
}

/** writeShifted writes n bits of the 64-bit (xh, xl) shifted right by s. */
function writeShifted(w: BitWriter, xh: number, xl: number, s: number, n: number): void {
  if (s >= 32) w.writeBits(xh >>> (s - 32), n);
  else if (s === 0) w.writeBits64(xh, xl, n);
  else w.writeBits64(xh >>> s, (xl >>> s) | (xh << (32 - s)), n);
}

/** XorChunk is an immutable XOR-encoded chunk over bytes produced by encodeXor. */
export class XorChunk implements Chunk {
  readonly encoding = Encoding.XOR;
  private readonly b: Uint8Array;

  /** Wraps bytes; throws CHUNK_TRUNCATED/CHUNK_CORRUPT if the header is short or names another encoding. */
  constructor(bytes: Uint8Array) {
    if (bytes.length < XOR_HEADER_BYTES) {
      throw new ChunkError('CHUNK_TRUNCATED', `XOR chunk of ${bytes.length} bytes has no complete header`);
    }
    if (bytes[0] !== Encoding.XOR) {
      throw new ChunkError('CHUNK_CORRUPT', `first byte ${bytes[0]} is not the XOR encoding ${Encoding.XOR}`);
    }
    this.b = bytes;
  }

  numSamples(): number {
    return ((this.b[1] ?? 0) << 8) | (this.b[2] ?? 0);
  }

  bytes(): Uint8Array {
    return this.b;
  }

  iterator(): ChunkIterator {
    return new XorIterator(this.b, this.numSamples());
  }
}

/** XorIterator decodes an XOR chunk one sample at a time. */
class XorIterator implements ChunkIterator {
  private readonly br: BitReader;
  private readonly total: number;
  private read = 0;
  private t = 0;
  private t1 = 0;
  private hi = 0;
  private lo = 0;
  private val = 0;
  private leading = 0;
  private trailing = 0;
  /** windowOpen turns true at the first `11` value code; a `10` before it is corrupt. */
  private windowOpen = false;
  private error: ChunkError | undefined;

  constructor(bytes: Uint8Array, total: number) {
    this.br = new BitReader(bytes, XOR_HEADER_BYTES);
    this.total = total;
  }

  next(): boolean {
    if (this.error !== undefined || this.read >= this.total) return false;
    const br = this.br;
    if (this.read === 0) {
      const t = br.readVarint();
      br.readBits64(64);
      if (t === undefined || br.overrun()) return this.fail('CHUNK_TRUNCATED', 'first sample');
      this.t = t;
      this.t1 = t;
      this.hi = br.hi;
      this.lo = br.lo;
      this.val = floatFromBits(this.hi, this.lo);
      this.read = 1;
      return true;
    }
    let t: number | undefined;
    if (this.read === 1) {
      const start = br.pos;
      const d = br.readUvarint();
      if (d !== undefined) t = this.t + d;
      else {
        br.pos = start;
        const big = br.readUvarintBig();
        if (big === undefined) return this.fail('CHUNK_TRUNCATED', 'second timestamp');
        t = fromBig(BigInt(this.t) + big);
      }
    } else {
      t = this.readTimestamp();
    }
    if (t === undefined || !Number.isSafeInteger(t) || t <= this.t) {
      return this.fail(
        br.overrun() ? 'CHUNK_TRUNCATED' : 'CHUNK_CORRUPT',
        `timestamp of sample ${this.read}`,
      );
    }
    this.t1 = this.t;
    this.t = t;
    if (!this.readValue()) return false;
    if (br.overrun()) return this.fail('CHUNK_TRUNCATED', `sample ${this.read}`);
    this.read++;
    return true;
  }

  /** readTimestamp decodes a delta-of-delta and returns the next timestamp (undefined if out of range). */
  private readTimestamp(): number | undefined {
    const br = this.br;
    // The code is up to four 1-bits ended by a 0: count the leading ones of the next bits.
    const ones = Math.min(4, Math.clz32(~br.peek32()));
    br.pos += ones === 4 ? 4 : ones + 1;
    let dod = 0;
    if (ones === 4) {
      const fast = br.readInt64();
      if (fast === undefined || !isFastTs(fast) || !isFastTs(this.t) || !isFastTs(this.t1)) {
        br.pos -= 64;
        return fromBig(br.readBigInt64() + 2n * BigInt(this.t) - BigInt(this.t1));
      }
      dod = fast;
    } else if (ones > 0) {
      const n = DOD_BUCKETS[ones - 1] ?? 0;
      const bits = br.readBits(n);
      dod = bits > 1 << (n - 1) ? bits - (1 << n) : bits;
    }
    if (isFastTs(this.t) && isFastTs(this.t1)) return this.t + (this.t - this.t1) + dod;
    return fromBig(BigInt(dod) + 2n * BigInt(this.t) - BigInt(this.t1));
  }

  /** readValue decodes one XOR'd value into hi/lo/val. */
  private readValue(): boolean {
    const br = this.br;
    if (br.readBit() === 0) return true;
    if (br.readBit() === 1) {
      this.leading = br.readBits(5);
      const sig = br.readBits(6) || 64;
      this.trailing = 64 - this.leading - sig;
      if (this.trailing < 0) return this.fail('CHUNK_CORRUPT', `value window of sample ${this.read}`);
      this.windowOpen = true;
    } else if (!this.windowOpen) {
      // The encoder opens a window before it reuses one.
      return this.fail('CHUNK_CORRUPT', 'window reuse before any window');
    }
    const s = this.trailing;
    br.readBits64(64 - this.leading - s);
    const h = br.hi;
    const l = br.lo;
    let xh: number;
    let xl: number;
    if (s >= 32) {
      xh = l << (s - 32);
      xl = 0;
    } else if (s === 0) {
      xh = h;
      xl = l;
    } else {
      xh = (h << s) | (l >>> (32 - s));
      xl = l << s;
    }
    this.hi = (this.hi ^ xh) >>> 0;
    this.lo = (this.lo ^ xl) >>> 0;
    this.val = floatFromBits(this.hi, this.lo);
    return true;
  }

  private fail(code: 'CHUNK_TRUNCATED' | 'CHUNK_CORRUPT', what: string): false {
    this.error = new ChunkError(
      code,
      code === 'CHUNK_TRUNCATED' ? `XOR chunk ends inside ${what}` : `XOR chunk has an invalid ${what}`,
    );
    return false;
  }

  seek(t: number): boolean {
    if (this.error !== undefined) return false;
    while (this.read === 0 || this.t < t) {
      if (!this.next()) return false;
    }
    return true;
  }

  at(): number {
    return this.t;
  }

  value(): number {
    return this.val;
  }

  err(): Error | undefined {
    return this.error;
  }
}
