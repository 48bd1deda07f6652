/**
 * The lossless chunk builder: buffers one series' samples and, on finish(), encodes them with every lossless
 * encoding that applies and keeps the smallest. Layouts: ../../../docs/format/chunks.md.
 */

import { type Chunk, type ChunkBuilder, Encoding } from './chunk.js';
import { ChunkError } from './errors.js';
import { checkAppendTimestamp } from './timestamps.js';
import { encodeXor, XOR_MAX_SAMPLES, XorChunk } from './xor.js';

/** MAX_CHUNK_SAMPLES is the most samples one chunk holds (the XOR fallback's uint16 count). */
export const MAX_CHUNK_SAMPLES = XOR_MAX_SAMPLES;

/** INITIAL_CAPACITY fits the head's default chunk (120 samples = 30 min of 15 s ticks) without regrowth. */
const INITIAL_CAPACITY = 128;

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

  constructor(opts: ChunkBuilderOptions = {}) {
    const encodings = opts.encodings ?? DEFAULT_ENCODINGS;
    if (encodings.length === 0) {
      throw new ChunkError('CHUNK_BAD_OPTION', 'encodings must name at least one lossless encoding');
    }
    this.encodings = encodings;
  }

  /** append adds a sample; throws CHUNK_BAD_TIMESTAMP if t does not increase, CHUNK_FULL past the limit. */
  append(t: number, v: number): void {
    checkAppendTimestamp(t, this.n > 0 ? this.ts[this.n - 1] : undefined);
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

  /** finish encodes the samples so far with the smallest applicable lossless encoding. */
  finish(): Chunk {
    let best: Uint8Array | undefined;
    for (const enc of this.encodings) {
      const b = encodeLossless(enc, this.ts, this.vs, this.n);
      if (b !== undefined && (best === undefined || b.length < best.length)) best = b;
    }
    // XOR applies to every input; it is the fallback when the caller excluded it and nothing else applied.
    return decodeLossless(best ?? encodeXor(this.ts, this.vs, this.n));
  }

  /** reset empties the builder for the next chunk, keeping its buffers. */
  reset(): void {
    this.n = 0;
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
    case Encoding.Decimal:
      return undefined;
  }
}

/** decodeLossless wraps bytes of a lossless encoding; throws ChunkError for other or unknown encodings. */
export function decodeLossless(bytes: Uint8Array): Chunk {
  switch (bytes[0]) {
    case Encoding.XOR:
      return new XorChunk(bytes);
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
