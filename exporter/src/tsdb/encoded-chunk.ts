/**
 * EncodedChunk is a chunk an encoder made off the main thread, held as its bytes until something reads it.
 */
import type { Chunk, ChunkIterator, Encoding } from './chunkenc/chunk.js';
import type { ChunkCodec } from './codec.js';

/**
 * EncodedChunk wraps bytes an encoder made from `n` samples; it parses them only when read (sinks that
 * store bytes, as the disk store does, never pay for it).
 */
export class EncodedChunk implements Chunk {
  private decoded: Chunk | undefined;

  constructor(
    private readonly codec: ChunkCodec,
    private readonly b: Uint8Array,
    private readonly n: number,
  ) {}

  get encoding(): Encoding {
    return this.chunk().encoding;
  }

  numSamples(): number {
    return this.n;
  }

  bytes(): Uint8Array {
    return this.b;
  }

  iterator(): ChunkIterator {
    return this.chunk().iterator();
  }

  private chunk(): Chunk {
    return (this.decoded ??= this.codec.decode(this.b));
  }
}
