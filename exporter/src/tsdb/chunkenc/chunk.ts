/**
 * The chunk contract: a chunk holds the samples of one series over a time span, compressed.
 * Layout of every encoding: ../../../docs/format/chunks.md.
 */

/** Encoding identifies a chunk's byte layout (its first byte on disk and in Redis). */
export enum Encoding {
  /** XOR is the Gorilla / Prometheus encoding: dod timestamps, XOR'd float bits. */
  XOR = 1,
  /** Decimal stores exact decimals as scaled integers with delta-of-delta and bit packing. */
  Decimal = 2,
  /** Deadband is the seed's lossy scheme (skip changes under a threshold); never the default. */
  Deadband = 3,
}

/** ChunkIterator walks a chunk's samples. `at()` is undefined before the first `next()` returns true. */
export interface ChunkIterator {
  next(): boolean;
  /** seek advances to the first sample with timestamp >= t; returns false when there is none. */
  seek(t: number): boolean;
  /** at returns the current timestamp (ms). */
  at(): number;
  /** value returns the current value (bit-exact as appended, for lossless encodings). */
  value(): number;
  /** err returns the decode error, if iteration stopped because the bytes were corrupt. */
  err(): Error | undefined;
}

/** Chunk is an immutable, encoded run of samples; `bytes()` is owned by the chunk — copy before mutating. */
export interface Chunk {
  readonly encoding: Encoding;
  numSamples(): number;
  bytes(): Uint8Array;
  iterator(): ChunkIterator;
}

/**
 * ChunkBuilder accumulates samples in time order and encodes them. Timestamps must strictly increase
 * (the head enforces this before calling). `finish()` chooses the best lossless encoding for the values seen.
 */
export interface ChunkBuilder {
  append(t: number, v: number): void;
  numSamples(): number;
  finish(): Chunk;
}
