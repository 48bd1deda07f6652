/**
 * The decimal encoding. Monitoring values are mostly decimals with few digits (45.23 %, 1.5 load, byte and
 * packet counters), whose float64 bits look random to an XOR coder. Here a chunk's values become integers
 * m = v · 10^k (k the chunk's scale) — kept only if m / 10^k gives back the exact same bits — and the
 * integers are coded as levels, deltas, delta-of-deltas or deltas minus their mean (the smallest wins: deltas
 * suit gauges, delta-of-delta steady counters, biased deltas noisy counters), divided by their GCD, zig-zagged and bit-packed per block of 32, each block either
 * fixed-width or Rice-coded, whichever is shorter. Timestamps use the same block coder on their
 * delta-of-delta, so a block of 32 regular ticks costs one bit. Values that are no such decimal (NaN with its
 * payload, ±Inf, −0, arbitrary doubles) go to a per-chunk exception list as raw bits. The same machinery
 * also runs in float-bits mode (FLOAT_BITS), where the integers are bit patterns relative to the first value.
 * Ideas from VictoriaMetrics (decimal mantissa/exponent), M3TSZ (int-optimised floats) and ALP (exact
 * decimal test by round trip); the layout is our own: ../../../docs/format/chunks.md#decimal-encoding-2
 */

import { BitReader, BitWriter, floatFromBits, floatHi, floatLo, TWO_32 } from './bstream.js';
import { type Chunk, type ChunkIterator, Encoding } from './chunk.js';
import { ChunkError } from './errors.js';
import { isFastTs } from './timestamps.js';

/** DECIMAL_MAX_SCALE is the largest k (digits after the point) tried; 4 header bits hold it. */
export const DECIMAL_MAX_SCALE = 15;

/**
 * FLOAT_BITS is the pseudo-scale of the float-bits mode: the integers are the values' IEEE-754 bit patterns
 * minus the first value's. For full-precision floats that move slowly (a linear trend, float32-sourced
 * values, a float sum growing steadily) these differences are small where XOR sees random mantissa bits.
 */
export const FLOAT_BITS = DECIMAL_MAX_SCALE + 1;

/** HI_DIFF_LIMIT: a high-word difference below 2^18 keeps a bit-pattern difference exact and below 2^50. */
const HI_DIFF_LIMIT = 2 ** 18;

/** NOT_DECIMAL is what decimalScale returns for a value no scale represents exactly. */
export const NOT_DECIMAL = -1;

/**
 * MAX_SCALED bounds |m|: below 2^50, second differences stay below 2^52 and their zig-zag below 2^53, so all
 * integer arithmetic here is exact in float64.
 */
const MAX_SCALED = 2 ** 50;

/** DECIMAL_MAX_SAMPLES matches the XOR limit so a builder may switch encodings at any size. */
const DECIMAL_MAX_SAMPLES = 0xffff;

/** BLOCK is the number of integers sharing one width/Rice parameter: 32 balances header bits against fit. */
const BLOCK = 32;

/** RICE_SPAN: Rice parameters k ∈ [w−5, w−2] are tried (w the block's max width), so quotients stay ≤ 31. */
const RICE_SPAN = 5;

/** RANK_SLACK: orders whose packed estimate is within 15 % of the best are priced exactly (Rice can flip them). */
const RANK_SLACK = 1.15;

/** BLOCK_HEADER_BITS is a non-zero block's header: marker, mode and 6-bit width or Rice parameter. */
const BLOCK_HEADER_BITS = 8;

/** POW10 holds 10^k for k ≤ 15; every one is exact in float64 (10^22 is the last exact power). */
const POW10 = Array.from({ length: DECIMAL_MAX_SCALE + 1 }, (_, k) => 10 ** k);

/** POW2 holds 2^k for the widths a block can have (≤ 53). */
const POW2 = Array.from({ length: 64 }, (_, k) => 2 ** k);

/** Params byte fields: scale (bits 0–3), order (bits 4–5), has-exceptions (bit 6), float-bits mode (bit 7). */
const SCALE_MASK = 0x0f;
const ORDER_SHIFT = 4;
const EXCEPTIONS_FLAG = 0x40;
const BITS_FLAG = 0x80;

/** isDecimalAt reports whether v is exactly m / 10^k for an integer |m| < 2^50 (−0, NaN and ±Inf never are). */
function isDecimalAt(v: number, k: number): boolean {
  const p = POW10[k] ?? 1;
  const m = Math.round(v * p);
  return m < MAX_SCALED && m > -MAX_SCALED && m / p === v && (v !== 0 || 1 / v > 0);
}

/**
 * decimalScale returns the smallest k for which v is an exact decimal, or NOT_DECIMAL. Exactness is monotone
 * in k up to the largest k keeping |v|·10^k < 2^50, so one test there rejects a non-decimal value (most
 * floats) at once; `hint` (a recent answer) is then checked first: decimal at hint but not at hint − 1
 * settles it.
 */
export function decimalScale(v: number, hint = 0): number {
  if (v === 0) return 1 / v > 0 ? 0 : NOT_DECIMAL;
  // Integers (counters, most gauges) are decimal at 0 whenever |v| fits: what the search below finds.
  if (Number.isInteger(v) && v < MAX_SCALED && v > -MAX_SCALED) return 0;
  let top = DECIMAL_MAX_SCALE;
  const a = Math.abs(v); // NaN and ±Inf fail every comparison below and are rejected by isDecimalAt
  while (top > 0 && a * (POW10[top] ?? 1) >= MAX_SCALED) top--;
  if (!isDecimalAt(v, top)) return NOT_DECIMAL;
  if (hint > 0 && hint <= top && isDecimalAt(v, hint) && !isDecimalAt(v, hint - 1)) return hint;
  for (let k = 0; k < top; k++) {
    if (isDecimalAt(v, k)) return k;
  }
  return top;
}

/** bitLen returns the number of bits of a non-negative safe integer (0 for 0). */
function bitLen(x: number): number {
  return x < TWO_32 ? 32 - Math.clz32(x) : 64 - Math.clz32(Math.floor(x / TWO_32));
}

/** zigzag maps a signed safe integer (|x| < 2^52) to a non-negative one: 0, −1, 1, −2 … → 0, 1, 2, 3 … */
function zigzag(x: number): number {
  return x >= 0 ? x * 2 : -x * 2 - 1;
}

/** unzigzag inverts zigzag. */
function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** gcd of two non-negative safe integers. */
function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Scratch buffers reused across encodes (encoding is synchronous, so one set per process is enough). */
let scratchM = new Float64Array(256);
let scratchR = new Float64Array(256);
let scratchZ = new Float64Array(256);
let scratchZv = new Float64Array(256);
let scratchExc = new Uint8Array(256);

function ensureScratch(n: number): void {
  if (scratchM.length >= n) return;
  const size = Math.max(n, scratchM.length * 2);
  scratchM = new Float64Array(size);
  scratchR = new Float64Array(size);
  scratchZ = new Float64Array(size);
  scratchZv = new Float64Array(size);
  scratchExc = new Uint8Array(size);
}

/** WRITER is reused by every encode (encoding is synchronous); bytes() copies the result out. */
const WRITER = new BitWriter(4096);

/** Block choice codes: ZERO_BLOCK, PACKED + width, RICE + k. */
const ZERO_BLOCK = -1;
const RICE = 64;

/** blockCost receives the bit cost of the last chooseBlock call (a module slot avoids allocating a pair). */
let blockCost = 0;

/** chooseBlock picks the cheapest code for zz[from, to) and leaves its bit cost in blockCost. */
function chooseBlock(zz: Float64Array, from: number, to: number): number {
  let max = 0;
  for (let i = from; i < to; i++) {
    const z = zz[i] ?? 0;
    if (z > max) max = z;
  }
  if (max === 0) {
    blockCost = 1;
    return ZERO_BLOCK;
  }
  const len = to - from;
  const w = bitLen(max);
  let best = w;
  let bestCost = BLOCK_HEADER_BITS + len * w;
  for (let k = Math.max(0, w - RICE_SPAN); k <= w - 2; k++) {
    const inv = 1 / (POW2[k] ?? 1);
    let c = BLOCK_HEADER_BITS + len * (k + 1);
    for (let i = from; i < to && c < bestCost; i++) c += Math.floor((zz[i] ?? 0) * inv);
    if (c < bestCost) {
      bestCost = c;
      best = RICE + k;
    }
  }
  blockCost = bestCost;
  return best;
}

/** streamCost returns the bits writeStream would use for zz[0, len). */
function streamCost(zz: Float64Array, len: number): number {
  let bits = 0;
  for (let from = 0; from < len; from += BLOCK) {
    chooseBlock(zz, from, Math.min(len, from + BLOCK));
    bits += blockCost;
  }
  return bits;
}

/** writeStream bit-packs zz[0, len) block by block. */
function writeStream(w: BitWriter, zz: Float64Array, len: number): void {
  for (let from = 0; from < len; from += BLOCK) {
    const to = Math.min(len, from + BLOCK);
    const choice = chooseBlock(zz, from, to);
    if (choice === ZERO_BLOCK) {
      w.writeBit(0);
    } else if (choice < RICE) {
      w.writeBits(0b10, 2);
      w.writeBits(choice, 6);
      for (let i = from; i < to; i++) w.writeWide(zz[i] ?? 0, choice);
    } else {
      const k = choice - RICE;
      const pk = POW2[k] ?? 1;
      w.writeBits(0b11, 2);
      w.writeBits(k, 6);
      for (let i = from; i < to; i++) {
        const z = zz[i] ?? 0;
        const q = Math.floor(z / pk);
        w.writeBits(1, q + 1); // q zeros, then a one
        w.writeWide(z - q * pk, k);
      }
    }
  }
}

/** readStream decodes len integers into out (zig-zag undone); false if the bits are invalid. */
function readStream(br: BitReader, out: Float64Array, len: number): boolean {
  for (let from = 0; from < len; from += BLOCK) {
    const to = Math.min(len, from + BLOCK);
    if (br.readBit() === 0) {
      out.fill(0, from, to);
      continue;
    }
    const rice = br.readBit() === 1;
    const param = br.readBits(6);
    if (param > 53 || (!rice && param === 0)) return false;
    if (rice) {
      const pk = POW2[param] ?? 1;
      for (let i = from; i < to; i++) {
        const q = Math.clz32(br.peek32());
        if (q > 31) return false;
        br.pos += q + 1;
        out[i] = unzigzag(q * pk + br.readWide(param));
      }
    } else {
      for (let i = from; i < to; i++) out[i] = unzigzag(br.readWide(param));
    }
    if (br.overrun()) return false;
  }
  return true;
}

/** Difference orders: levels, deltas, delta-of-deltas, and deltas minus their chunk mean (`bias`). */
const ORDER_LEVEL = 0;
const ORDER_DELTA = 1;
const ORDER_DOD = 2;
const ORDER_BIASED_DELTA = 3;

/**
 * residuals writes the order-o differences of m[0, n) into r and returns their count, their GCD g, and the
 * order's header integer: m1 − m0 for ORDER_DOD, the bias in units of g for ORDER_BIASED_DELTA. A biased delta
 * suits counters with a steady rate and noise: it removes the rate without doubling the noise as dod does.
 */
function residuals(
  m: Float64Array,
  n: number,
  order: number,
  r: Float64Array,
): { len: number; g: number; extra: number } {
  let len = 0;
  let g = 0;
  let extra = 0;
  if (order === ORDER_LEVEL) {
    const m0 = m[0] ?? 0;
    for (let i = 1; i < n; i++) {
      const x = (m[i] ?? 0) - m0;
      r[len++] = x;
      if (g !== 1) g = gcd(Math.abs(x), g);
    }
  } else if (order === ORDER_DELTA || order === ORDER_BIASED_DELTA) {
    let sum = 0;
    for (let i = 1; i < n; i++) {
      const x = (m[i] ?? 0) - (m[i - 1] ?? 0);
      r[len++] = x;
      sum += x;
      if (g !== 1) g = gcd(Math.abs(x), g);
    }
    if (order === ORDER_BIASED_DELTA && len > 0) {
      const unit = g === 0 ? 1 : g;
      extra = Math.round(sum / len / unit);
      const bias = extra * unit;
      for (let i = 0; i < len; i++) r[i] = (r[i] ?? 0) - bias;
    }
  } else {
    for (let i = 2; i < n; i++) {
      const x = (m[i] ?? 0) - 2 * (m[i - 1] ?? 0) + (m[i - 2] ?? 0);
      r[len++] = x;
      if (g !== 1) g = gcd(Math.abs(x), g);
    }
    extra = (m[1] ?? 0) - (m[0] ?? 0);
  }
  return { len, g: g === 0 ? 1 : g, extra };
}

/** Residuals is what residuals() returns: count, GCD and the order's header integer. */
interface Residuals {
  len: number;
  g: number;
  extra: number;
}

/** lastResiduals receives the residuals of the last orderCost call (its zig-zagged stream is left in z). */
let lastResiduals: Residuals = { len: 0, g: 1, extra: 0 };

/**
 * orderCost prices coding m[0, n) as order-`order` differences with the given stream cost function, leaving
 * the zig-zagged residual stream in z and its header in lastResiduals (the encoder writes the winner's).
 */
function orderCost(
  m: Float64Array,
  n: number,
  order: number,
  r: Float64Array,
  z: Float64Array,
  cost: (zz: Float64Array, len: number) => number,
): number {
  const res = residuals(m, n, order, r);
  const { len, g, extra } = res;
  for (let i = 0; i < len; i++) z[i] = zigzag((r[i] ?? 0) / g);
  lastResiduals = res;
  let bits = cost(z, len) + uvarintBits(g);
  if (order === ORDER_DOD || order === ORDER_BIASED_DELTA) bits += uvarintBits(zigzag(extra));
  return bits;
}

/**
 * blockBits prices one block of the packed estimate (fixed-width blocks only: close enough to rank the
 * difference orders; Rice then only makes the chosen one shorter) whose largest zig-zagged residual is `max`. */
function blockBits(max: number, len: number): number {
  return max === 0 ? 1 : BLOCK_HEADER_BITS + len * bitLen(max);
}

/**
 * packedEstimates returns the packed estimate (orderCost with blockBits per block) of all four orders (Infinity for ORDER_DOD
 * when n < 3) in two passes over m instead of four residual passes and four pricing passes: the first finds
 * each order's GCD (and the deltas' mean for the bias), the second the per-block maxima of every order.
 */
function packedEstimates(m: Float64Array, n: number): number[] {
  const m0 = m[0] ?? 0;
  let gL = 0;
  let gD = 0;
  let gDD = 0;
  let sum = 0;
  let prevD = 0;
  for (let i = 1; i < n; i++) {
    const mi = m[i] ?? 0;
    const d = mi - (m[i - 1] ?? 0);
    sum += d;
    if (gL !== 1) gL = gcd(Math.abs(mi - m0), gL);
    if (gD !== 1) gD = gcd(Math.abs(d), gD);
    if (i >= 2 && gDD !== 1) gDD = gcd(Math.abs(d - prevD), gDD);
    prevD = d;
  }
  const len = n - 1;
  const uL = gL === 0 ? 1 : gL;
  const uD = gD === 0 ? 1 : gD;
  const uDD = gDD === 0 ? 1 : gDD;
  const extraB = len > 0 ? Math.round(sum / len / uD) : 0;
  const bias = extraB * uD;
  let bitsL = 0;
  let bitsD = 0;
  let bitsB = 0;
  let bitsDD = 0;
  let maxL = 0;
  let maxD = 0;
  let maxB = 0;
  let maxDD = 0;
  prevD = 0;
  for (let j = 0; j < len; j++) {
    const i = j + 1;
    const mi = m[i] ?? 0;
    const d = mi - (m[i - 1] ?? 0);
    const zl = zigzag((mi - m0) / uL);
    const zd = zigzag(d / uD);
    const zb = zigzag((d - bias) / uD);
    if (zl > maxL) maxL = zl;
    if (zd > maxD) maxD = zd;
    if (zb > maxB) maxB = zb;
    if ((j + 1) % BLOCK === 0 || j === len - 1) {
      const bl = (j % BLOCK) + 1;
      bitsL += blockBits(maxL, bl);
      bitsD += blockBits(maxD, bl);
      bitsB += blockBits(maxB, bl);
      maxL = 0;
      maxD = 0;
      maxB = 0;
    }
    if (i >= 2) {
      const k = j - 1; // the dod stream's index
      const zdd = zigzag((d - prevD) / uDD);
      if (zdd > maxDD) maxDD = zdd;
      if ((k + 1) % BLOCK === 0 || k === len - 2) {
        bitsDD += blockBits(maxDD, (k % BLOCK) + 1);
        maxDD = 0;
      }
    }
    prevD = d;
  }
  return [
    bitsL + uvarintBits(uL),
    bitsD + uvarintBits(uD),
    n < 3 ? Infinity : bitsDD + uvarintBits(uDD) + uvarintBits(zigzag((m[1] ?? 0) - m0)),
    bitsB + uvarintBits(uD) + uvarintBits(zigzag(extraB)),
  ];
}

/** varintBits returns the bits of a uvarint holding x. */
function uvarintBits(x: number): number {
  return 8 * Math.max(1, Math.ceil(bitLen(x) / 7));
}

/**
 * encodeDecimal encodes the first n samples with scale k (0 … DECIMAL_MAX_SCALE, or FLOAT_BITS for the
 * float-bits mode); values not representable become exceptions. Returns undefined when the encoding does not
 * apply: no samples, more than 65 535, k out of range, or a timestamp beyond ±2^50 ms.
 */
export function encodeDecimal(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  n: number,
  k: number,
): Uint8Array | undefined {
  if (n === 0 || n > DECIMAL_MAX_SAMPLES || k < 0 || k > FLOAT_BITS) return undefined;
  if (!isFastTs(ts[0] ?? 0) || !isFastTs(ts[n - 1] ?? 0)) return undefined;
  ensureScratch(n);
  const m = scratchM;
  const r = scratchR;
  const z = scratchZ;
  const exc = scratchExc;
  const bitsMode = k === FLOAT_BITS;
  const p = bitsMode ? 1 : (POW10[k] ?? 1);
  const refHi = floatHi(vs[0] ?? 0);
  const refLo = floatLo();

  // Integers; exceptions keep the previous integer so they cost nothing in the difference stream.
  let exceptions = 0;
  let prev = NaN;
  for (let i = 0; i < n; i++) {
    const v = vs[i] ?? 0;
    let mi: number;
    let ok: boolean;
    if (bitsMode) {
      const dh = floatHi(v) - refHi;
      mi = dh * TWO_32 + (floatLo() - refLo);
      ok = dh < HI_DIFF_LIMIT && dh > -HI_DIFF_LIMIT && mi < MAX_SCALED && mi > -MAX_SCALED;
    } else {
      mi = Math.round(v * p);
      ok = mi < MAX_SCALED && mi > -MAX_SCALED && mi / p === v && (v !== 0 || 1 / v > 0);
    }
    if (ok) {
      exc[i] = 0;
      m[i] = mi + 0; // + 0 turns a −0 from Math.round(−0.4) into 0
      if (prev !== prev) for (let j = 0; j < i; j++) m[j] = m[i] ?? 0; // leading exceptions take the first value
      prev = mi;
    } else {
      exc[i] = 1;
      exceptions++;
      m[i] = prev === prev ? prev : 0;
    }
  }

  // Choose the difference order with the fewest bits: rank by the one-pass packed estimate, then price the
  // close contenders (within RANK_SLACK) exactly, Rice blocks included.
  const estimates = packedEstimates(m, n);
  const floor = Math.min(...estimates);
  let bestOrder = estimates.indexOf(floor);
  let contenders = 0;
  for (const e of estimates) if (e <= floor * RANK_SLACK) contenders++;
  // A lone contender needs no exact pricing (the common case: it saves a Rice search per block and order).
  // The winner's zig-zagged values are kept in zv (buffers swap) so they are not derived a second time.
  let bestBits = Infinity;
  let best: Residuals | undefined;
  let zv = scratchZv;
  let zt = z;
  for (let order = ORDER_LEVEL; order <= ORDER_BIASED_DELTA && contenders > 1; order++) {
    if ((estimates[order] ?? Infinity) > floor * RANK_SLACK) continue;
    const bits = orderCost(m, n, order, r, zt, streamCost);
    if (bits < bestBits) {
      bestBits = bits;
      bestOrder = order;
      best = lastResiduals;
      [zv, zt] = [zt, zv];
    }
  }
  if (!best) {
    best = residuals(m, n, bestOrder, r);
    for (let i = 0; i < best.len; i++) zv[i] = zigzag((r[i] ?? 0) / best.g);
  }

  const w = WRITER;
  w.reset();
  w.writeByte(Encoding.Decimal);
  w.writeUvarint(n);
  const t0 = ts[0] ?? 0;
  w.writeVarint(t0);
  if (n >= 2) w.writeUvarint((ts[1] ?? 0) - t0);
  w.writeByte(
    (bitsMode ? BITS_FLAG : k) | (bestOrder << ORDER_SHIFT) | (exceptions > 0 ? EXCEPTIONS_FLAG : 0),
  );
  const { len, g, extra } = best;
  w.writeUvarint(g);
  w.writeVarint(m[0] ?? 0);
  if (bestOrder === ORDER_DOD || bestOrder === ORDER_BIASED_DELTA) w.writeVarint(extra);
  if (bitsMode) w.writeBits64(refHi, refLo, 64);

  if (exceptions > 0) {
    w.writeUvarint(exceptions);
    let last = -1;
    for (let i = 0; i < n; i++) {
      if (exc[i] === 0) continue;
      const v = vs[i] ?? 0;
      w.writeUvarint(i - last - 1);
      last = i;
      w.writeBits64(floatHi(v), floatLo(), 64);
    }
  }

  // Timestamp delta-of-deltas (|t| < 2^50, so exact), then the value residuals.
  for (let i = 2; i < n; i++) {
    zt[i - 2] = zigzag((ts[i] ?? 0) - 2 * (ts[i - 1] ?? 0) + (ts[i - 2] ?? 0));
  }
  writeStream(w, zt, Math.max(0, n - 2));
  writeStream(w, zv, len);
  return w.bytes();
}

/** DecimalHeader is the parsed fixed part of a decimal chunk. */
interface DecimalHeader {
  n: number;
  t0: number;
  delta1: number;
  scale: number;
  order: number;
  hasExceptions: boolean;
  g: number;
  m0: number;
  /** extra is m1 − m0 for ORDER_DOD, the bias in units of g for ORDER_BIASED_DELTA, else 0. */
  extra: number;
  /** bitsMode: the integers are bit patterns relative to refHi/refLo (FLOAT_BITS), not scaled decimals. */
  bitsMode: boolean;
  refHi: number;
  refLo: number;
}

/** truncatedHeader is the error of a chunk that ends inside its header. */
function truncatedHeader(): ChunkError {
  return new ChunkError('CHUNK_TRUNCATED', 'decimal chunk ends inside its header');
}

/** badHeader is the error of a header field `what` that no encoder writes. */
function badHeader(what: string): ChunkError {
  return new ChunkError('CHUNK_CORRUPT', `decimal chunk header has an invalid ${what}`);
}

/**
 * readHeader parses a decimal chunk's header, leaving br at the exception list; throws ChunkError. Its errors
 * are built by module functions, not arrows made per call: every chunk read or sealed reads a header (twice),
 * and under tsx each function defined in a call is also named at run time (esbuild's keepNames).
 */
function readHeader(br: BitReader): DecimalHeader {
  if (br.readByte() !== (Encoding.Decimal as number)) throw badHeader('encoding byte');
  const n = br.readUvarint();
  if (n === undefined) throw truncatedHeader();
  if (n < 1 || n > DECIMAL_MAX_SAMPLES) throw badHeader('sample count');
  const t0 = br.readVarint();
  if (t0 === undefined) throw truncatedHeader();
  let delta1 = 0;
  if (n >= 2) {
    const d = br.readUvarint();
    if (d === undefined) throw truncatedHeader();
    delta1 = d;
  }
  const params = br.readByte();
  const g = br.readUvarint();
  const m0 = br.readVarint();
  if (g === undefined || m0 === undefined || br.overrun()) throw truncatedHeader();
  const scale = params & SCALE_MASK;
  const order = (params >> ORDER_SHIFT) & 3;
  const bitsMode = (params & BITS_FLAG) !== 0;
  if (bitsMode && scale !== 0) throw badHeader('params byte');
  if (g < 1) throw badHeader('gcd');
  if (!isFastTs(t0) || !isFastTs(t0 + delta1) || (n >= 2 && delta1 < 1)) throw badHeader('first timestamps');
  let extra = 0;
  if (order === ORDER_DOD || order === ORDER_BIASED_DELTA) {
    const x = br.readVarint();
    if (x === undefined) throw truncatedHeader();
    extra = x;
  }
  let refHi = 0;
  let refLo = 0;
  if (bitsMode) {
    br.readBits64(64);
    if (br.overrun()) throw truncatedHeader();
    refHi = br.hi;
    refLo = br.lo;
  }
  const hasExceptions = (params & EXCEPTIONS_FLAG) !== 0;
  return { n, t0, delta1, scale, order, hasExceptions, g, m0, extra, bitsMode, refHi, refLo };
}

/** DecimalChunk is an immutable decimal-encoded chunk over bytes produced by encodeDecimal. */
export class DecimalChunk implements Chunk {
  readonly encoding = Encoding.Decimal;
  private readonly b: Uint8Array;
  private readonly n: number;

  /** Wraps bytes; throws ChunkError if the header is truncated or invalid. */
  constructor(bytes: Uint8Array) {
    this.b = bytes;
    this.n = readHeader(new BitReader(bytes)).n;
  }

  numSamples(): number {
    return this.n;
  }

  bytes(): Uint8Array {
    return this.b;
  }

  iterator(): ChunkIterator {
    return new DecimalIterator(this.b);
  }
}

/** DecimalIterator decodes the whole chunk on the first next() (block coding is not sample-addressable). */
class DecimalIterator implements ChunkIterator {
  private readonly b: Uint8Array;
  private ts: Float64Array | undefined;
  private vs: Float64Array | undefined;
  private i = -1;
  private n = 0;
  private error: ChunkError | undefined;

  constructor(bytes: Uint8Array) {
    this.b = bytes;
  }

  next(): boolean {
    if (this.ts === undefined) {
      if (this.error !== undefined) return false;
      try {
        this.decode();
      } catch (e) {
        this.error = e instanceof ChunkError ? e : new ChunkError('CHUNK_CORRUPT', String(e));
        return false;
      }
    }
    if (this.i + 1 >= this.n) {
      this.i = this.n;
      return false;
    }
    this.i++;
    return true;
  }

  /** decode fills ts/vs; throws ChunkError (caught by next) on damage. */
  private decode(): void {
    const br = new BitReader(this.b);
    const h = readHeader(br);
    const n = h.n;
    const p = POW10[h.scale] ?? 1;
    const excPos: number[] = [];
    const excHi: number[] = [];
    const excLo: number[] = [];
    if (h.hasExceptions) {
      const count = br.readUvarint();
      if (count === undefined || count < 1 || count > n) throw corrupt('exception count', br);
      let pos = -1;
      for (let j = 0; j < count; j++) {
        const gap = br.readUvarint();
        if (gap === undefined || pos + gap + 1 >= n) throw corrupt('exception position', br);
        pos += gap + 1;
        br.readBits64(64);
        excPos.push(pos);
        excHi.push(br.hi);
        excLo.push(br.lo);
      }
      if (br.overrun()) throw corrupt('exception list', br);
    }

    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    const scratch = new Float64Array(Math.max(1, n));
    ts[0] = h.t0;
    if (n >= 2) ts[1] = h.t0 + h.delta1;
    if (!readStream(br, scratch, Math.max(0, n - 2))) throw corrupt('timestamp block', br);
    for (let i = 2; i < n; i++) {
      const t1 = ts[i - 1] ?? 0;
      const t = t1 + (t1 - (ts[i - 2] ?? 0)) + (scratch[i - 2] ?? 0);
      if (!(t > t1) || !isFastTs(t)) throw corrupt(`timestamp of sample ${i}`, br);
      ts[i] = t;
    }

    const len = h.order === ORDER_DOD ? Math.max(0, n - 2) : n - 1;
    if (!readStream(br, scratch, len)) throw corrupt('value block', br);
    if (br.overrun()) throw corrupt('value block', br);
    const g = h.g;
    // Rebuild the scaled integers in vs, then turn them into values.
    vs[0] = h.m0;
    if (h.order === ORDER_LEVEL) {
      for (let i = 1; i < n; i++) vs[i] = h.m0 + (scratch[i - 1] ?? 0) * g;
    } else if (h.order === ORDER_DOD) {
      if (n >= 2) vs[1] = h.m0 + h.extra;
      for (let i = 2; i < n; i++) {
        vs[i] = 2 * (vs[i - 1] ?? 0) - (vs[i - 2] ?? 0) + (scratch[i - 2] ?? 0) * g;
      }
    } else {
      const bias = h.order === ORDER_BIASED_DELTA ? h.extra * g : 0;
      for (let i = 1; i < n; i++) vs[i] = (vs[i - 1] ?? 0) + (scratch[i - 1] ?? 0) * g + bias;
    }
    if (h.bitsMode) {
      for (let i = 0; i < n; i++) {
        // ref + m in 64-bit two-word arithmetic (m is an exact integer, |m| < 2^50 for valid chunks).
        const mi = vs[i] ?? 0;
        const q = Math.floor(mi / TWO_32);
        let lo = h.refLo + (mi - q * TWO_32);
        let carry = 0;
        if (lo >= TWO_32) {
          lo -= TWO_32;
          carry = 1;
        }
        vs[i] = floatFromBits((h.refHi + q + carry) >>> 0, lo >>> 0);
      }
    } else if (p !== 1) {
      for (let i = 0; i < n; i++) vs[i] = (vs[i] ?? 0) / p;
    }
    for (let j = 0; j < excPos.length; j++) {
      vs[excPos[j] ?? 0] = floatFromBits(excHi[j] ?? 0, excLo[j] ?? 0);
    }
    this.ts = ts;
    this.vs = vs;
    this.n = n;
  }

  seek(t: number): boolean {
    if (this.i < 0 && !this.next()) return false;
    while (this.ts !== undefined && this.i < this.n && (this.ts[this.i] ?? 0) < t) {
      if (!this.next()) return false;
    }
    return this.i < this.n;
  }

  at(): number {
    return this.ts?.[this.i] ?? 0;
  }

  value(): number {
    return this.vs?.[this.i] ?? 0;
  }

  err(): Error | undefined {
    return this.error;
  }
}

/** corrupt builds the error for damage found after the header (truncation if the bits ran out). */
function corrupt(what: string, br: BitReader): ChunkError {
  return br.overrun()
    ? new ChunkError('CHUNK_TRUNCATED', `decimal chunk ends inside its ${what}`)
    : new ChunkError('CHUNK_CORRUPT', `decimal chunk has an invalid ${what}`);
}
