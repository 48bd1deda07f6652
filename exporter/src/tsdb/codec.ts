/**
 * ChunkCodec is how the shared TSDB core creates and re-opens chunks without importing a particular
 * encoding: the head asks for chunks, backends decode stored bytes. The real codec lives in `chunkenc/`
 * (written separately); this seam lets the core, its tests and the backends pick one at construction.
 */
import type { Chunk, ChunkBuilder } from './chunkenc/chunk.js';
import { LosslessChunkBuilder, newChunkBuilder } from './chunkenc/builder.js';
import { DeadbandChunkBuilder } from './chunkenc/deadband.js';
import { decodeChunk } from './chunkenc/decode.js';
import { TsdbError } from './errors.js';

/** ChunkCodec creates chunk builders and decodes stored chunk bytes (whose first byte is the Encoding). */
export interface ChunkCodec {
  newBuilder(): ChunkBuilder;
  /** decode re-opens bytes produced by `Chunk.bytes()`; it may keep a reference to them. */
  decode(bytes: Uint8Array): Chunk;
  /**
   * encode builds one chunk from `ts[from, to)` / `vs[from, to)` (strictly increasing timestamps);
   * optional: a codec can reuse one builder here instead of allocating one per chunk.
   */
  encode?(ts: Float64Array, vs: Float64Array, from: number, to: number): Chunk;
  /** encodeBytes is `encode(…).bytes()` without re-opening the chunk (optional, as `encode`). */
  encodeBytes?(ts: Float64Array, vs: Float64Array, from: number, to: number): Uint8Array;
}

/** encodeSamples builds one chunk from parallel arrays `ts[from, to)` / `vs[from, to)`. */
export function encodeSamples(
  codec: ChunkCodec,
  ts: Float64Array,
  vs: Float64Array,
  from: number,
  to: number,
): Chunk {
  if (codec.encode) return codec.encode(ts, vs, from, to);
  const b = codec.newBuilder();
  for (let i = from; i < to; i++) b.append(ts[i] ?? 0, vs[i] ?? 0);
  return b.finish();
}

/**
 * encodeSampleBytes is `encodeSamples(…).bytes()` for callers that only keep the bytes (a sealed run): a
 * codec with `encodeBytes` skips re-opening the chunk, which for a chunk of a few samples costs a third of
 * encoding it.
 */
export function encodeSampleBytes(
  codec: ChunkCodec,
  ts: Float64Array,
  vs: Float64Array,
  from: number,
  to: number,
): Uint8Array {
  if (codec.encodeBytes) return codec.encodeBytes(ts, vs, from, to);
  return encodeSamples(codec, ts, vs, from, to).bytes();
}

/** SHARED_BUILDER is reused by DEFAULT_CODEC.encode (encoding is synchronous, so one suffices). */
const SHARED_BUILDER = new LosslessChunkBuilder();

/** DEFAULT_CODEC is the lossless codec of `chunkenc/` (decimal-aware, XOR fallback). */
export const DEFAULT_CODEC: ChunkCodec = {
  newBuilder: () => newChunkBuilder(),
  decode: (bytes) => decodeChunk(bytes),
  encode: (ts, vs, from, to) => {
    const b = SHARED_BUILDER;
    b.reset();
    b.appendMany(ts, vs, from, to);
    return b.finish();
  },
  encodeBytes: (ts, vs, from, to) => {
    const b = SHARED_BUILDER;
    b.reset();
    b.appendMany(ts, vs, from, to);
    return b.finishBytes();
  },
};

/**
 * deadbandCodec is the seed's "baseline + delta, skip changes ≤ threshold %" scheme as an opt-in codec: samples
 * within `thresholdPct` of the last stored one are dropped (bounded in count and time), the rest stored
 * losslessly. Lossy by design; the store benchmark reports its size and maximum error.
 */
export function deadbandCodec(thresholdPct: number): ChunkCodec {
  return {
    newBuilder: () => new DeadbandChunkBuilder({ thresholdPct }),
    decode: (bytes) => decodeChunk(bytes),
  };
}

/** CODEC_SPEC is the grammar of the CODEC option: `lossless` or `deadband:<percent>` (0 < percent ≤ 100). */
export const CODEC_SPEC = /^(lossless|deadband:(\d+(?:\.\d+)?))$/;

/** isCodecSpec tells whether `spec` names a codec (the CODEC option's validation). */
export function isCodecSpec(spec: string): boolean {
  const m = CODEC_SPEC.exec(spec);
  if (m?.[1] === 'lossless') return true;
  const pct = Number(m?.[2]);
  return pct > 0 && pct <= 100;
}

/** codecFromSpec turns a CODEC option value into a codec; throws TSDB_BAD_OPTIONS for anything else. */
export function codecFromSpec(spec: string): ChunkCodec {
  if (spec === 'lossless') return DEFAULT_CODEC;
  if (isCodecSpec(spec)) return deadbandCodec(Number(spec.slice('deadband:'.length)));
  throw new TsdbError(
    'TSDB_BAD_OPTIONS',
    `unknown codec ${JSON.stringify(spec)}: use lossless or deadband:<percent>`,
  );
}
