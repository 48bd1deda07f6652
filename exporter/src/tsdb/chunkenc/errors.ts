/**
 * The chunk codec's error catalogue. Builders throw these on misuse (the head validates first, so they signal
 * a bug upstream); iterators never throw — they stop and report one of these through `err()`.
 */

/** ChunkErrorCode is the stable code of a codec error; callers branch on it, never on the message. */
export type ChunkErrorCode =
  /** The bytes end before the header or a sample says they should. */
  | 'CHUNK_TRUNCATED'
  /** The bytes decode to something impossible (bad header field, timestamps not increasing, …). */
  | 'CHUNK_CORRUPT'
  /** The first byte names no encoding this build knows. */
  | 'CHUNK_UNKNOWN_ENCODING'
  /** A builder was given a timestamp that is not a safe integer or not after the previous one. */
  | 'CHUNK_BAD_TIMESTAMP'
  /** A builder already holds the most samples one chunk can encode. */
  | 'CHUNK_FULL'
  /** An option passed to a builder is out of range. */
  | 'CHUNK_BAD_OPTION';

/** ChunkError is every error the codec raises or reports; `code` is stable, the message says what to change. */
export class ChunkError extends Error {
  /** code identifies the failure for programs. */
  readonly code: ChunkErrorCode;

  constructor(code: ChunkErrorCode, message: string) {
    super(message);
    this.name = 'ChunkError';
    this.code = code;
  }
}
