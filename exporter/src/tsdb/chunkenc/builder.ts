/**
 * The lossless chunk builder: buffers one series' samples and, on finish(), encodes them with every lossless
 * encoding that applies and keeps the smallest. Layouts: ../../../docs/format/chunks.md.
 */

import { type Chunk, type ChunkBuilder, Encoding } from './chunk.js';
import { ChunkError } from './errors.js';
import {
  DECIMAL_MAX_SCALE,
  DecimalChunk,
  decimalScale,
  encodeDecimal,
  FLOAT_BITS,
  NOT_DECIMAL,
} from './decimal.js';
import { checkAppendTimestamp } from './timestamps.js';
import { encodeXor, encodeXorWithin, XOR_MAX_SAMPLES, XorChunk } from './xor.js';

/** MAX_CHUNK_SAMPLES is the most samples one chunk holds (the XOR fallback's uint16 count). */
export const MAX_CHUNK_SAMPLES = XOR_MAX_SAMPLES;

/** INITIAL_CAPACITY fits the head's default chunk (480 samples = 2 h of 15 s ticks) without regrowth. */
const INITIAL_CAPACITY = 512;

/** EXCEPTION_MIN_BYTES is the least a decimal exception costs: 8 raw bytes plus a 1-byte position gap. */
const EXCEPTION_MIN_BYTES = 9;

/** OUTLIER_SHARE: up to 2 % of a chunk's values may become exceptions to keep a smaller scale. */
const OUTLIER_SHARE = 0.02;

/** LosslessEncoding names the encodings a lossless builder may choose from. */
export type LosslessEncoding = Encoding.XOR | Encoding.Decimal;

/** ChunkBuilderOptions tunes a lossless builder. */
export interface ChunkBuilderOptions {
  /** encodings lists the candidates finish() may choose from; default: all lossless ones. */
  encodings?: readonly LosslessEncoding[];
}

/** DEFAULT_ENCODINGS are tried by default; the smallest output wins. */
const DEFAULT_ENCODINGS: readonly LosslessEncoding[] = [Encoding.Decimal, Encoding.XOR];

/**
 * LosslessChunkBuilder implements ChunkBuilder. finish() does not consume the builder: the head may call it
 * to snapshot its open chunk for a query and keep appending.
 */
export class LosslessChunkBuilder implements ChunkBuilder {
  private ts = new Float64Array(INITIAL_CAPACITY);
  private vs = new Float64Array(INITIAL_CAPACITY);
  private n = 0;
  private readonly encodings: readonly LosslessEncoding[];
  private readonly tryDecimal: boolean;
  /** scaleCounts[k] counts values whose smallest exact scale is k. */
  private readonly scaleCounts = new Int32Array(DECIMAL_MAX_SCALE + 1);
  private nonDecimal = 0;
  private lastScale = 0;

  constructor(opts: ChunkBuilderOptions = {}) {
    const encodings = opts.encodings ?? DEFAULT_ENCODINGS;
    if (encodings.length === 0) {
      throw new ChunkError('CHUNK_BAD_OPTION', 'encodings must name at least one lossless encoding');
    }
    this.encodings = encodings;
    this.tryDecimal = encodings.includes(Encoding.Decimal);
  }

  /** append adds a sample; throws CHUNK_BAD_TIMESTAMP if t does not increase, CHUNK_FULL past the limit. */
  append(t: number, v: number): void {
    // Inline fast check; checkAppendTimestamp builds the error message only when it fails.
    if (!(this.n === 0 || t > (this.ts[this.n - 1] ?? 0)) || !Number.isSafeInteger(t)) {
      checkAppendTimestamp(t, this.n > 0 ? this.ts[this.n - 1] : undefined);
    }
    if (this.n >= MAX_CHUNK_SAMPLES) {
      throw new ChunkError(
        'CHUNK_FULL',
        `a chunk holds at most ${MAX_CHUNK_SAMPLES} samples; cut a new chunk`,
      );
    }
    if (this.n === this.ts.length) this.grow();
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
    if (this.tryDecimal) this.observeDecimal(v);
  }

  /**
   * appendMany adds ts[from, to) / vs[from, to) as `append` would sample by sample (same checks and errors),
   * with one capacity check and bulk copies: the head encodes whole cut chunks this way.
   */
  appendMany(ts: Float64Array, vs: Float64Array, from: number, to: number): void {
    const count = to - from;
    let ok = this.n + count <= MAX_CHUNK_SAMPLES;
    let prev = this.n > 0 ? (this.ts[this.n - 1] ?? 0) : -Infinity;
    for (let i = from; i < to && ok; i++) {
      const t = ts[i] ?? 0;
      ok = t > prev && Number.isSafeInteger(t);
      prev = t;
    }
    if (!ok) {
      // Let append raise the same error at the same sample.
      for (let i = from; i < to; i++) this.append(ts[i] ?? 0, vs[i] ?? 0);
      return;
    }
    while (this.n + count > this.ts.length) this.grow();
    this.ts.set(ts.subarray(from, to), this.n);
    this.vs.set(vs.subarray(from, to), this.n);
    this.n += count;
    if (this.tryDecimal) for (let i = from; i < to; i++) this.observeDecimal(vs[i] ?? 0);
  }

  /** observeDecimal records v's smallest exact scale (or that it has none). */
  private observeDecimal(v: number): void {
    const k = decimalScale(v, this.lastScale);
    if (k !== NOT_DECIMAL) {
      this.scaleCounts[k] = (this.scaleCounts[k] ?? 0) + 1;
      this.lastScale = k;
    } else this.nonDecimal++;
  }

  /**
   * decimalScales returns the scales worth trying, each with how many values it leaves as exceptions: the
   * scale that fits every decimal value, and a smaller one if only a few values (≤ OUTLIER_SHARE of the
   * chunk) need more digits — those become exceptions rather than multiplying every integer by 10^Δk.
   */
  private decimalScales(): { k: number; exceptions: number }[] {
    let kMax = -1;
    for (let k = DECIMAL_MAX_SCALE; k >= 0; k--) {
      if ((this.scaleCounts[k] ?? 0) > 0) {
        kMax = k;
        break;
      }
    }
    if (kMax < 0) return [{ k: 0, exceptions: this.n }];
    const allowed = Math.max(1, Math.floor(this.n * OUTLIER_SHARE));
    let above = 0;
    let kAlt = kMax;
    for (let k = kMax; k > 0; k--) {
      const more = above + (this.scaleCounts[k] ?? 0);
      if (more > allowed) break;
      above = more;
      kAlt = k - 1;
    }
    const out = [{ k: kMax, exceptions: this.nonDecimal }];
    if (kAlt < kMax) out.push({ k: kAlt, exceptions: this.nonDecimal + above });
    return out;
  }

  numSamples(): number {
    return this.n;
  }

  /** minTime returns the first sample's timestamp, or undefined when empty. */
  minTime(): number | undefined {
    return this.n > 0 ? this.ts[0] : undefined;
  }

  /** maxTime returns the last sample's timestamp, or undefined when empty. */
  maxTime(): number | undefined {
    return this.n > 0 ? this.ts[this.n - 1] : undefined;
  }

  /**
   * finish encodes the samples so far and returns the smallest of its candidates: XOR; Decimal at the scale
   * fitting every decimal value (and at a smaller one when only a few values need more digits); Decimal's
   * float-bits mode when some values are no short decimal. A decimal candidate is skipped only when a lower
   * bound of its size (EXCEPTION_MIN_BYTES per exception) already loses. An empty builder gives an empty
   * XOR chunk.
   */
  finish(): Chunk {
    return decodeLossless(this.finishBytes());
  }

  /**
   * finishBytes returns the bytes finish() would wrap: for callers that only store them (an encode worker),
   * it skips parsing the header back.
   */
  finishBytes(): Uint8Array {
    const xor = this.encodings.includes(Encoding.XOR);
    // Mostly decimal values: price the decimal candidates first, then XOR only up to the best of them (XOR
    // keeps winning ties, as when it goes first). Otherwise XOR first, which prunes the decimal candidates.
    if (this.tryDecimal && xor && this.nonDecimal * 2 <= this.n) {
      const dec = this.bestDecimal(undefined);
      const x = encodeXorWithin(this.ts, this.vs, this.n, dec?.length ?? Infinity);
      return x ?? dec ?? encodeXor(this.ts, this.vs, this.n);
    }
    let best: Uint8Array | undefined;
    if (xor) best = encodeXor(this.ts, this.vs, this.n);
    // XOR applies to every input; it is the fallback when the caller excluded it and nothing else applied.
    return this.bestDecimal(best) ?? encodeXor(this.ts, this.vs, this.n);
  }

  /** bestDecimal returns the smallest decimal candidate if it is smaller than `best`, else `best`. */
  private bestDecimal(start: Uint8Array | undefined): Uint8Array | undefined {
    let best = start;
    if (this.tryDecimal) {
      for (const { k, exceptions } of this.decimalScales()) {
        if (best !== undefined && exceptions * EXCEPTION_MIN_BYTES >= best.length) continue;
        const b = encodeDecimal(this.ts, this.vs, this.n, k);
        if (b !== undefined && (best === undefined || b.length < best.length)) best = b;
      }
      // Values that are no short decimal may still be slowly moving floats: try their bit patterns.
      if (this.nonDecimal > 0) {
        const b = encodeDecimal(this.ts, this.vs, this.n, FLOAT_BITS);
        if (b !== undefined && (best === undefined || b.length < best.length)) best = b;
      }
    }
    return best;
  }

  /** reset empties the builder for the next chunk, keeping its buffers. */
  reset(): void {
    this.n = 0;
    this.scaleCounts.fill(0);
    this.nonDecimal = 0;
  }

  private grow(): void {
    const ts = new Float64Array(this.ts.length * 2);
    ts.set(this.ts);
    const vs = new Float64Array(this.vs.length * 2);
    vs.set(this.vs);
    this.ts = ts;
    this.vs = vs;
  }
}

/** encodeLossless encodes with one encoding; undefined when that encoding cannot represent the samples. */
export function encodeLossless(
  enc: LosslessEncoding,
  ts: Float64Array,
  vs: Float64Array,
  n: number,
): Uint8Array | undefined {
  switch (enc) {
    case Encoding.XOR:
      return encodeXor(ts, vs, n);
    case Encoding.Decimal: {
      let k = 0;
      for (let i = 0; i < n; i++) k = Math.max(k, decimalScale(vs[i] ?? 0));
      return encodeDecimal(ts, vs, n, k);
    }
  }
}

/** decodeLossless wraps bytes of a lossless encoding; throws ChunkError for other or unknown encodings. */
export function decodeLossless(bytes: Uint8Array): Chunk {
  switch (bytes[0]) {
    case Encoding.XOR:
      return new XorChunk(bytes);
    case Encoding.Decimal:
      return new DecimalChunk(bytes);
    case undefined:
      throw new ChunkError('CHUNK_TRUNCATED', 'empty chunk: no encoding byte');
    default:
      throw new ChunkError('CHUNK_UNKNOWN_ENCODING', `unknown or lossy chunk encoding ${bytes[0]}`);
  }
}

/** newChunkBuilder returns a lossless builder (the default everywhere; the deadband mode is opt-in). */
export function newChunkBuilder(opts: ChunkBuilderOptions = {}): LosslessChunkBuilder {
  return new LosslessChunkBuilder(opts);
}
