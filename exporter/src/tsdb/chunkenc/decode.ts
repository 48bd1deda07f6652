/**
 * decodeChunk: the one entry point that turns stored chunk bytes (from disk or Redis) back into a Chunk,
 * dispatching on the first byte. Layouts: ../../../docs/format/chunks.md.
 */

import { decodeLossless } from './builder.js';
import { type Chunk, Encoding } from './chunk.js';
import { DeadbandChunk } from './deadband.js';

/**
 * decodeChunk wraps stored bytes in the Chunk of their encoding. It checks the header only and throws a
 * ChunkError (CHUNK_TRUNCATED, CHUNK_UNKNOWN_ENCODING, CHUNK_CORRUPT) if that is unusable; damage further in
 * is reported by the iterator's err(). The chunk keeps a reference to `bytes`: do not mutate them.
 */
export function decodeChunk(bytes: Uint8Array): Chunk {
  return bytes[0] === Encoding.Deadband ? new DeadbandChunk(bytes) : decodeLossless(bytes);
}
