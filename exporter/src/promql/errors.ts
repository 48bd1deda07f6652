/**
 * The PromQL error catalogue. Every error the parser or engine raises carries an `errorType` with the exact
 * spelling of Prometheus's API (`bad_data`, `execution`, `timeout`, …); the HTTP layer maps each type to a
 * status code in one place (api/prometheus/envelope.ts). Messages follow Prometheus's wording so clients
 * that match on them (Grafana, promtool) behave the same.
 */

/** ErrorType is the Prometheus API `errorType` an error is reported under. */
export type ErrorType =
  'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'not_found' | 'unavailable';

/** PromQLError is the base class of every error raised by the parser, the engine and the API. */
export class PromQLError extends Error {
  /** errorType is the stable code clients see. */
  readonly errorType: ErrorType;

  constructor(errorType: ErrorType, message: string) {
    super(message);
    this.name = 'PromQLError';
    this.errorType = errorType;
  }
}

/**
 * ParseError is a syntax or type error at a position; its message reads `line:col: parse error: detail`,
 * as Prometheus's `ParseErr.Error()` prints it (col is 1-based).
 */
export class ParseError extends PromQLError {
  /** detail is the message without the position prefix. */
  readonly detail: string;
  /** pos is the 0-based character offset the error points at. */
  readonly pos: number;

  constructor(query: string, pos: number, detail: string) {
    super('bad_data', `${positionPrefix(query, pos)} parse error: ${detail}`);
    this.name = 'ParseError';
    this.detail = detail;
    this.pos = pos;
  }
}

/** positionPrefix renders `line:col:` for an offset the way Prometheus does. */
function positionPrefix(query: string, pos: number): string {
  if (pos < 0 || pos > query.length) return 'invalid position:';
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < pos; i++) {
    if (query[i] === '\n') {
      line++;
      lastBreak = i;
    }
  }
  return `${line}:${pos - lastBreak}:`;
}

/** tooManySamples is raised when a query would hold more than the engine's `maxSamples` in memory. */
export function tooManySamples(): PromQLError {
  return new PromQLError(
    'execution',
    'query processing would load too many samples into memory in query execution',
  );
}

/**
 * tooManySamplesInFlight is raised when the queries running together would hold more than the engine's
 * `maxSamplesInFlight`: the query itself is within its limit, so the client may retry when the others are done.
 */
export function tooManySamplesInFlight(): PromQLError {
  return new PromQLError(
    'unavailable',
    'the queries running now hold too many samples in memory; retry when they are done',
  );
}

/**
 * tooManyResultPoints is raised when a result would hold more points than the engine's `maxResultPoints`:
 * evaluating it fitted the sample budget, but its answer (tens of bytes of JSON a point) would not fit a
 * client or this process.
 */
export function tooManyResultPoints(points: number, limit: number): PromQLError {
  return new PromQLError(
    'execution',
    `query result would hold ${points} points, more than the limit of ${limit}: select fewer series or use a larger step`,
  );
}

/** queryTimeout is raised when a query runs past the engine's `timeoutMs`. */
export function queryTimeout(): PromQLError {
  return new PromQLError('timeout', 'query timed out in query execution');
}

/** executionError is a runtime error of a well-formed query (matching conflicts, bad label names…). */
export function executionError(message: string): PromQLError {
  return new PromQLError('execution', message);
}
