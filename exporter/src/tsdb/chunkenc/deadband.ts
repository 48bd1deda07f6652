/**
 * The seed's "baseline + delta" compression, kept as an explicit, opt-in LOSSY mode (it is never the
 * default): a sample is dropped when its value is within `thresholdPct` % of the last stored value (the
 * baseline); a sample is stored anyway once `maxSkipSamples` in a row were dropped or `maxSkipMs` passed,
 * which re-sets the baseline periodically as the seed's step 4 says and keeps gaps shorter than PromQL's
 * 5-minute lookback. The stored samples are then encoded losslessly (decimal or XOR). Dropped samples are
 * gone: a reader sees the previous stored value in their place, so the error per sample is at most
 * thresholdPct % of the baseline. The builder measures the largest error it introduced.
 * Byte layout: ../../../docs/format/chunks.md#deadband-encoding-3
 */

import { z } from 'zod';

import { BitReader, BitWriter, floatHi, floatLo } from './bstream.js';
import { decodeLossless, LosslessChunkBuilder } from './builder.js';
import { type Chunk, type ChunkBuilder, type ChunkIterator, Encoding } from './chunk.js';
import { ChunkError } from './errors.js';
import { checkAppendTimestamp } from './timestamps.js';

/** DEFAULT_THRESHOLD_PCT is the seed's threshold ("changes of 5 % or less are skipped"). */
export const DEFAULT_THRESHOLD_PCT = 5;

/** DEFAULT_MAX_SKIP_SAMPLES re-sets the baseline at least every 20 samples (5 min of 15 s ticks). */
export const DEFAULT_MAX_SKIP_SAMPLES = 20;

/** DEFAULT_MAX_SKIP_MS stores a sample at least every 4 min, inside PromQL's 5 min lookback (no false staleness). */
export const DEFAULT_MAX_SKIP_MS = 240_000;

/** BASIS_POINTS_PER_PCT scales the threshold into the integer the chunk header records. */
const BASIS_POINTS_PER_PCT = 100;

/** DeadbandOptionsSchema validates deadband options (from config or flags). */
export const DeadbandOptionsSchema = z.object({
  /** thresholdPct: values within this percentage of the baseline are dropped. */
  thresholdPct: z.number().gt(0).max(100).default(DEFAULT_THRESHOLD_PCT),
  /** maxSkipSamples: at most this many samples in a row are dropped. */
  maxSkipSamples: z.number().int().min(1).default(DEFAULT_MAX_SKIP_SAMPLES),
  /** maxSkipMs: a sample is stored at least this often (ms). */
  maxSkipMs: z.number().int().min(1).default(DEFAULT_MAX_SKIP_MS),
});

/** DeadbandOptions are the validated deadband settings. */
export type DeadbandOptions = z.infer<typeof DeadbandOptionsSchema>;

/** DeadbandChunkBuilder drops samples within the threshold and encodes the rest losslessly. */
export class DeadbandChunkBuilder implements ChunkBuilder {
  private readonly opts: DeadbandOptions;
  private readonly inner = new LosslessChunkBuilder();
  private seen = 0;
  private skipped = 0;
  private skippedInRow = 0;
  private baseHi = 0;
  private baseLo = 0;
  private base = 0;
  private baseT = 0;
  /** pending is the last dropped sample: finish() stores it so the chunk ends at the true last timestamp. */
  private pendingT: number | undefined;
  private pendingV = 0;
  private maxErrPct = 0;
  private maxAbsErr = 0;

  /** Validates options with DeadbandOptionsSchema; throws CHUNK_BAD_OPTION with zod's message otherwise. */
  constructor(opts: Partial<DeadbandOptions> = {}) {
    const parsed = DeadbandOptionsSchema.safeParse(opts);
    if (!parsed.success) {
      throw new ChunkError('CHUNK_BAD_OPTION', `deadband options: ${parsed.error.message}`);
    }
    this.opts = parsed.data;
  }

  /** append keeps or drops the sample; timestamps are validated as in LosslessChunkBuilder. */
  append(t: number, v: number): void {
    checkAppendTimestamp(t, this.pendingT ?? this.inner.maxTime());
    this.seen++;
    if (this.inner.numSamples() > 0 && this.canSkip(t, v)) {
      this.pendingT = t;
      this.pendingV = v;
      this.skipped++;
      this.skippedInRow++;
      return;
    }
    this.inner.append(t, v);
    this.pendingT = undefined;
    this.skippedInRow = 0;
    this.base = v;
    this.baseHi = floatHi(v);
    this.baseLo = floatLo();
    this.baseT = t;
  }

  /** canSkip decides whether (t, v) may be dropped against the baseline, and records the error if so. */
  private canSkip(t: number, v: number): boolean {
    if (this.skippedInRow >= this.opts.maxSkipSamples || t - this.baseT >= this.opts.maxSkipMs) return false;
    const hi = floatHi(v);
    if (hi === this.baseHi && floatLo() === this.baseLo) return true; // identical bits, NaNs included
    if (!Number.isFinite(v) || !Number.isFinite(this.base)) return false;
    const diff = Math.abs(v - this.base);
    if (diff > (this.opts.thresholdPct / 100) * Math.abs(this.base)) return false;
    const denom = v !== 0 ? Math.abs(v) : Math.abs(this.base);
    const pct = denom === 0 ? 0 : (diff / denom) * 100;
    if (pct > this.maxErrPct) this.maxErrPct = pct;
    if (diff > this.maxAbsErr) this.maxAbsErr = diff;
    return true;
  }

  /** numSamples counts samples appended (stored or dropped), which is what the head cuts chunks by. */
  numSamples(): number {
    return this.seen;
  }

  /** storedSamples counts samples that will be in the chunk (a pending dropped last sample included). */
  storedSamples(): number {
    return this.inner.numSamples() + (this.pendingT !== undefined ? 1 : 0);
  }

  /** skippedSamples counts samples dropped so far. */
  skippedSamples(): number {
    return this.skipped;
  }

  /** maxErrorPct is the largest |dropped − baseline| / |dropped| · 100 so far (relative to the true value). */
  maxErrorPct(): number {
    return this.maxErrPct;
  }

  /** maxAbsError is the largest |dropped − baseline| so far. */
  maxAbsError(): number {
    return this.maxAbsErr;
  }

  /**
   * finish encodes the stored samples (plus the last sample, if it was dropped, so the chunk's time range is
   * right). Like the lossless builder it is a snapshot: appending may continue.
   */
  finish(): Chunk {
    let inner: Chunk;
    if (this.pendingT !== undefined) {
      // Encode a copy with the pending sample; the live builder keeps its baseline.
      const b = new LosslessChunkBuilder();
      const it = this.inner.finish().iterator();
      while (it.next()) b.append(it.at(), it.value());
      b.append(this.pendingT, this.pendingV);
      inner = b.finish();
    } else {
      inner = this.inner.finish();
    }
    return DeadbandChunk.wrap(inner, this.opts.thresholdPct);
  }

  /** reset starts a new chunk (the error statistics are kept: they describe the whole series). */
  reset(): void {
    this.inner.reset();
    this.seen = 0;
    this.skippedInRow = 0;
    this.pendingT = undefined;
  }
}

/** DeadbandChunk is a lossy chunk: a header naming the threshold, then a lossless chunk of the kept samples. */
export class DeadbandChunk implements Chunk {
  readonly encoding = Encoding.Deadband;
  private readonly b: Uint8Array;
  private readonly inner: Chunk;
  /** thresholdPct is the threshold the samples were dropped with (from the header). */
  readonly thresholdPct: number;

  /** Parses bytes; throws ChunkError if the header or the inner chunk's header is unusable. */
  constructor(bytes: Uint8Array) {
    const br = new BitReader(bytes);
    if (br.readByte() !== (Encoding.Deadband as number)) {
      throw new ChunkError('CHUNK_CORRUPT', `first byte ${bytes[0]} is not the deadband encoding`);
    }
    const bp = br.readUvarint();
    if (bp === undefined) throw new ChunkError('CHUNK_TRUNCATED', 'deadband chunk ends inside its header');
    this.thresholdPct = bp / BASIS_POINTS_PER_PCT;
    this.b = bytes;
    this.inner = decodeLossless(bytes.subarray(br.pos / 8));
  }

  /** wrap prefixes a lossless chunk with the deadband header. */
  static wrap(inner: Chunk, thresholdPct: number): DeadbandChunk {
    const w = new BitWriter(16);
    w.writeByte(Encoding.Deadband);
    w.writeUvarint(Math.round(thresholdPct * BASIS_POINTS_PER_PCT));
    const head = w.bytes();
    const ib = inner.bytes();
    const out = new Uint8Array(head.length + ib.length);
    out.set(head);
    out.set(ib, head.length);
    return new DeadbandChunk(out);
  }

  numSamples(): number {
    return this.inner.numSamples();
  }

  bytes(): Uint8Array {
    return this.b;
  }

  iterator(): ChunkIterator {
    return this.inner.iterator();
  }
}
