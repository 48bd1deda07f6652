/**
 * The TSDB's error catalogue: one class, stable codes, messages that say what to change. The API layer maps
 * `code` to an HTTP status / Prometheus errorType once.
 */

/** TsdbErrorCode is the stable identifier of a TSDB failure. */
export type TsdbErrorCode =
  | 'TSDB_BAD_MATCHER'
  | 'TSDB_BAD_REGEX'
  | 'TSDB_BAD_LABELS'
  | 'TSDB_CLOSED'
  | 'TSDB_CORRUPT'
  | 'TSDB_IO'
  | 'TSDB_BAD_OPTIONS'
  | 'TSDB_BAD_HINTS'
  | 'TSDB_TOO_MANY_SAMPLES'
  | 'TSDB_ABORTED';

/** TsdbError is every error the TSDB throws on purpose; `code` is stable, `message` is for humans. */
export class TsdbError extends Error {
  constructor(
    readonly code: TsdbErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TsdbError';
  }
}
