/**
 * ChunkCodec is how the shared TSDB core creates and re-opens chunks without importing a particular
 * encoding: the head asks for chunks, backends decode stored bytes. The real codec lives in `chunkenc/`
 * (written separately); this seam lets the core, its tests and the backends pick one at construction.
 */
import type { Chunk, ChunkBuilder } from './chunkenc/chunk.js';
import { LosslessChunkBuilder, newChunkBuilder } from './chunkenc/builder.js';
import { decodeChunk } from './chunkenc/decode.js';

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
};
