/**
 * Bit streams for the chunk encodings: a growable MSB-first writer and a bounds-checked reader.
 * Layouts built from these: ../../../docs/format/chunks.md.
 *
 * JavaScript bitwise operators work on 32 bits, so 64-bit quantities (float bits, int64 timestamps) travel as
 * two unsigned 32-bit halves `hi`/`lo`; nothing on the hot path allocates or uses BigInt.
 */

/** TWO_32 is 2^32, used to split and join 64-bit integers held in JS numbers. */
export const TWO_32 = 4294967296;

/** GROW_FACTOR doubles the writer's buffer when full: amortised O(1) appends. */
const GROW_FACTOR = 2;

/** READ_PAD_BYTES lets the reader load a 5-byte window at the last valid byte without a bounds check. */
const READ_PAD_BYTES = 8;

/** FLOAT_VIEW converts between a float64 and its two 32-bit halves (big-endian: offset 0 is the high word). */
const FLOAT_VIEW = new DataView(new ArrayBuffer(8));

/** floatHi returns the high 32 bits of v's IEEE-754 pattern (sign, exponent, top of mantissa). */
export function floatHi(v: number): number {
  FLOAT_VIEW.setFloat64(0, v);
  return FLOAT_VIEW.getUint32(0);
}

/** floatLo returns the low 32 bits of the pattern of the value last passed to floatHi. Call floatHi first. */
export function floatLo(): number {
  return FLOAT_VIEW.getUint32(4);
}

/** floatFromBits rebuilds a float64 from its halves; NaN payloads survive (DataView copies raw bits). */
export function floatFromBits(hi: number, lo: number): number {
  FLOAT_VIEW.setUint32(0, hi);
  FLOAT_VIEW.setUint32(4, lo);
  return FLOAT_VIEW.getFloat64(0);
}

/** BitWriter appends bits most-significant first into a byte buffer that grows as needed. */
export class BitWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** len counts the completed bytes in buf. */
  private len = 0;
  /** acc holds the nacc (< 8) bits not yet forming a whole byte, right-aligned. */
  private acc = 0;
  private nacc = 0;

  constructor(capacity = 128) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** reset empties the writer, keeping its buffer, so one writer can encode chunk after chunk. */
  reset(): void {
    this.len = 0;
    this.acc = 0;
    this.nacc = 0;
  }

  /** bitLength returns how many bits have been written. */
  bitLength(): number {
    return this.len * 8 + this.nacc;
  }

  /** writeBit appends one bit (0 or 1). */
  writeBit(bit: number): void {
    this.put(bit & 1, 1);
  }

  /** writeByte appends 8 bits. */
  writeByte(b: number): void {
    this.put(b & 0xff, 8);
  }

  /** writeBits appends the low n bits of v, 0 ≤ n ≤ 32, v an unsigned or signed 32-bit integer. */
  writeBits(v: number, n: number): void {
    if (n > 24) {
      // put() keeps at most 7 + 24 = 31 bits in a signed 32-bit register, so longer writes go in two steps.
      this.put((v >>> 24) & ((1 << (n - 24)) - 1), n - 24);
      this.put(v & 0xffffff, 24);
    } else if (n > 0) {
      this.put(v & ((1 << n) - 1), n);
    }
  }

  /** writeBits64 appends the low n bits (0 ≤ n ≤ 64) of the 64-bit integer hi·2^32 + lo. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.writeBits(hi, n - 32);
      this.writeBits(lo, 32);
    } else {
      this.writeBits(lo, n);
    }
  }

  /** writeWide appends the low n bits (n ≤ 53) of a non-negative safe integer x. */
  writeWide(x: number, n: number): void {
    if (n > 32) {
      this.writeBits(Math.floor(x / TWO_32), n - 32);
      this.writeBits(x >>> 0, 32);
    } else {
      this.writeBits(x >>> 0, n);
    }
  }

  /** writeInt64 appends a safe integer as 64-bit two's complement. */
  writeInt64(x: number): void {
    this.writeBits64(Math.floor(x / TWO_32) >>> 0, x >>> 0, 64);
  }

  /** writeBigInt64 appends a BigInt in [-2^63, 2^63) as 64-bit two's complement (rare, slow path). */
  writeBigInt64(x: bigint): void {
    const u = BigInt.asUintN(64, x);
    this.writeBits64(Number(u >> 32n), Number(u & 0xffffffffn), 64);
  }

  /** writeUvarint appends a non-negative safe integer as a LEB128 varint (Go's binary.PutUvarint). */
  writeUvarint(x: number): void {
    while (x >= 128) {
      this.writeByte((x % 128) | 128);
      x = Math.floor(x / 128);
    }
    this.writeByte(x);
  }

  /** writeUvarintBig appends a non-negative BigInt < 2^64 as a LEB128 varint. */
  writeUvarintBig(x: bigint): void {
    while (x >= 128n) {
      this.writeByte(Number(x & 127n) | 128);
      x >>= 7n;
    }
    this.writeByte(Number(x));
  }

  /** writeVarint appends a safe integer zig-zag encoded as a varint (Go's binary.PutVarint). */
  writeVarint(x: number): void {
    if (Math.abs(x) < SAFE_ZIGZAG) {
      this.writeUvarint(x >= 0 ? x * 2 : -x * 2 - 1);
    } else {
      const b = BigInt(x);
      this.writeUvarintBig(b >= 0n ? b * 2n : -b * 2n - 1n);
    }
  }

  /** bytes returns a copy of what was written, the last byte zero-padded. The writer stays usable. */
  bytes(): Uint8Array {
    // One allocation (slice), not a view plus a copy: chunks are small and an encoder makes several per chunk.
    const size = this.len + (this.nacc > 0 ? 1 : 0);
    if (size > this.buf.length) this.grow();
    const out = this.buf.slice(0, size);
    if (this.nacc > 0) out[this.len] = (this.acc << (8 - this.nacc)) & 0xff;
    return out;
  }

  /** setByte overwrites an already completed byte, for headers whose value is known only at the end. */
  setByte(index: number, b: number): void {
    this.view.setUint8(index, b);
  }

  /** put appends m ≤ 24 bits x (already masked). */
  private put(x: number, m: number): void {
    if (this.len + 4 > this.buf.length) this.grow();
    let acc = (this.acc << m) | x;
    let nacc = this.nacc + m;
    while (nacc >= 8) {
      nacc -= 8;
      this.view.setUint8(this.len++, acc >>> nacc);
    }
    acc &= (1 << nacc) - 1;
    this.acc = acc;
    this.nacc = nacc;
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * GROW_FACTOR);
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** SAFE_ZIGZAG bounds |x| for which 2|x| + 1 is still an exact JS integer (2^52). */
const SAFE_ZIGZAG = 2 ** 52;

/** MAX_VARINT_BYTES is the longest LEB128 encoding of a 64-bit integer (Go's binary.MaxVarintLen64). */
const MAX_VARINT_BYTES = 10;

/**
 * BitReader reads what BitWriter wrote. Reads past the end return zero bits instead of throwing; callers
 * check `overrun()` once per sample (cheap) and report truncation through their iterator's `err()`.
 */
export class BitReader {
  private readonly view: DataView;
  /** pos is the index of the next bit to read. */
  pos = 0;
  /** limit is the number of valid bits. */
  readonly limit: number;
  /** hi and lo receive the halves of the last readBits64 result (a reader-owned pair avoids allocation). */
  hi = 0;
  lo = 0;
  private readonly safeBytes: number;

  /** Copies `bytes` (from `byteOffset`) into a padded buffer so reads near the end need no per-byte checks. */
  constructor(bytes: Uint8Array, byteOffset = 0) {
    const n = Math.max(0, bytes.length - byteOffset);
    const buf = new Uint8Array(n + READ_PAD_BYTES);
    buf.set(bytes.subarray(byteOffset));
    this.view = new DataView(buf.buffer);
    this.limit = n * 8;
    this.safeBytes = n + READ_PAD_BYTES - 5;
  }

  /** overrun reports whether a read went past the end of the data. */
  overrun(): boolean {
    return this.pos > this.limit;
  }

  /** remaining returns the number of unread bits (negative after an overrun). */
  remaining(): number {
    return this.limit - this.pos;
  }

  /** peek32 returns the next 32 bits without consuming them (zeros past the end). */
  peek32(): number {
    const b = this.pos >>> 3;
    if (b > this.safeBytes) return 0;
    const s = this.pos & 7;
    return ((this.view.getUint32(b) << s) | (this.view.getUint8(b + 4) >>> (8 - s))) >>> 0;
  }

  /** readBit consumes one bit. */
  readBit(): number {
    const b = this.pos >>> 3;
    const s = this.pos & 7;
    this.pos++;
    if (b > this.safeBytes) return 0;
    return (this.view.getUint8(b) >>> (7 - s)) & 1;
  }

  /** readBits consumes n bits (0 ≤ n ≤ 32) and returns them as an unsigned integer. */
  readBits(n: number): number {
    if (n === 0) return 0;
    const w = this.peek32();
    this.pos += n;
    return w >>> (32 - n);
  }

  /** readBits64 consumes n bits (0 ≤ n ≤ 64) into `hi`/`lo`. */
  readBits64(n: number): void {
    if (n > 32) {
      this.hi = this.readBits(n - 32);
      this.lo = this.readBits(32);
    } else {
      this.hi = 0;
      this.lo = this.readBits(n);
    }
  }

  /** readWide consumes n bits (n ≤ 53) as a non-negative safe integer. */
  readWide(n: number): number {
    if (n > 32) {
      const hi = this.readBits(n - 32);
      return hi * TWO_32 + this.readBits(32);
    }
    return this.readBits(n);
  }

  /** readInt64 consumes 64 bits as two's complement; returns undefined if the value is not a safe integer. */
  readInt64(): number | undefined {
    this.readBits64(64);
    const x = (this.hi | 0) * TWO_32 + this.lo;
    return Number.isSafeInteger(x) ? x : undefined;
  }

  /** readBigInt64 consumes 64 bits as a two's complement BigInt (rare, slow path). */
  readBigInt64(): bigint {
    this.readBits64(64);
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  /** readByte consumes 8 bits. */
  readByte(): number {
    return this.readBits(8);
  }

  /**
   * readUvarint consumes a LEB128 varint; returns undefined if it is malformed, runs past the end, or exceeds
   * the safe-integer range (use readUvarintBig for those).
   */
  readUvarint(): number | undefined {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.readByte();
      if (this.pos > this.limit) return undefined;
      x += (b & 127) * mul;
      if (b < 128) return x <= Number.MAX_SAFE_INTEGER ? x : undefined;
      mul *= 128;
    }
    return undefined;
  }

  /** readUvarintBig consumes a LEB128 varint of up to 64 bits as a BigInt; undefined if malformed. */
  readUvarintBig(): bigint | undefined {
    let x = 0n;
    let shift = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.readByte();
      if (this.pos > this.limit) return undefined;
      x |= BigInt(b & 127) << shift;
      if (b < 128) return x < 1n << 64n ? x : undefined;
      shift += 7n;
    }
    return undefined;
  }

  /** readVarint consumes a zig-zag varint as a safe integer; undefined if malformed or out of range. */
  readVarint(): number | undefined {
    const start = this.pos;
    const u = this.readUvarint();
    if (u !== undefined && u < Number.MAX_SAFE_INTEGER) {
      // u < 2^53 here, so halving is exact.
      return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    }
    this.pos = start;
    const big = this.readUvarintBig();
    if (big === undefined) return undefined;
    const x = big & 1n ? -((big + 1n) >> 1n) : big >> 1n;
    const n = Number(x);
    return Number.isSafeInteger(n) ? n : undefined;
  }
}
