/**
 * The Prometheus API v1 response envelope and the one mapping from `errorType` to HTTP status, after
 * Prometheus's `web/api/v1/api.go` (`respond` / `respondError`). Every handler answers through these two
 * functions, so clients always see `{status:"success",data}` or `{status:"error",errorType,error}` and never
 * a stack trace.
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { clientError } from '../../errors.js';
import { PromQLError, type ErrorType } from '../../promql/index.js';
import { Pacer } from '../../util/pacer.js';

/** ERROR_STATUS is Prometheus's errorType → HTTP status table (499 is its "client closed request"). */
export const ERROR_STATUS: Readonly<Record<ErrorType, number>> = {
  bad_data: 400,
  execution: 422,
  canceled: 499,
  timeout: 503,
  internal: 500,
  not_found: 404,
  unavailable: 503,
};

/**
 * ApiError is an error of the HTTP layer in front of the API, answered in the envelope with its own status:
 * 413 (body too large), 415 (unsupported body encoding), 429 (rate limited); `errorType` stays one of
 * Prometheus's, so clients that switch on it keep working.
 */
export class ApiError extends PromQLError {
  constructor(
    errorType: ErrorType,
    message: string,
    readonly status: number,
  ) {
    super(errorType, message);
    this.name = 'ApiError';
  }
}

/**
 * JsonChunks is a `data` too large to serialise in one go (a query result of millions of points would hold
 * the event loop in JSON.stringify for seconds): its JSON text as fragments, written one by one.
 */
export class JsonChunks {
  constructor(readonly fragments: () => Iterable<string>) {}
}

/**
 * respond sends a success envelope (with warnings when there are any). JsonChunks data is streamed: one
 * fragment at a time, waiting for the socket to drain and giving the event loop a turn every slice.
 */
export async function respond(res: Response, data: unknown, warnings: readonly string[] = []): Promise<void> {
  const tail = warnings.length > 0 ? `,"warnings":${JSON.stringify(warnings)}}` : '}';
  if (!(data instanceof JsonChunks)) {
    res
      .status(200)
      .json(warnings.length > 0 ? { status: 'success', data, warnings } : { status: 'success', data });
    return;
  }
  res.status(200).type('application/json');
  res.write('{"status":"success","data":');
  const pacer = new Pacer();
  for (const fragment of data.fragments()) {
    if (res.destroyed) return;
    if (!res.write(fragment)) await drainedOrClosed(res);
    if (pacer.due()) await pacer.yield();
  }
  res.end(tail);
}

/**
 * drainedOrClosed resolves when the socket can take more or the client went away, removing both listeners
 * either way (a long response waits for drain thousands of times).
 */
function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * respondError sends an error envelope. PromQLErrors keep their type and message; anything else is an
 * internal error whose details go to the log only.
 */
export function respondError(res: Response, err: unknown, logger?: Logger): void {
  if (err instanceof PromQLError) {
    const status = err instanceof ApiError ? err.status : ERROR_STATUS[err.errorType];
    respondErrorWithStatus(res, status, err.errorType, err.message);
    return;
  }
  logger?.error({ err }, 'prometheus api: internal error');
  respondErrorWithStatus(res, 500, 'internal', 'internal server error');
}

/**
 * respondErrorWithStatus sends an error envelope with an explicit HTTP status, for routes under the API path
 * whose statuses Prometheus's errorType table does not cover (the remote-write receiver's 401, 403, 413, 415).
 * The message goes to the client as-is: pass only text written for the client, never a caught error's.
 */
export function respondErrorWithStatus(
  res: Response,
  status: number,
  errorType: ErrorType,
  message: string,
): void {
  res.status(status).json({ status: 'error', errorType, error: message });
}

/**
 * fromBodyParserError maps express's body-parser failures (they carry `type` and `status`) to envelope errors,
 * or returns undefined for anything else.
 */
export function fromBodyParserError(err: unknown): ApiError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  if (!('type' in err)) {
    const client = clientError(err);
    return client ? new ApiError('bad_data', client.message, client.status) : undefined;
  }
  const e = err as { type?: unknown; limit?: unknown; charset?: unknown; encoding?: unknown };
  switch (e.type) {
    case 'entity.too.large':
      return new ApiError('bad_data', `request body exceeds ${Number(e.limit)} bytes`, 413);
    case 'encoding.unsupported':
      return new ApiError('bad_data', `unsupported content encoding ${JSON.stringify(e.encoding)}`, 415);
    case 'charset.unsupported':
      return new ApiError('bad_data', `unsupported charset ${JSON.stringify(e.charset)}`, 415);
    case 'entity.parse.failed':
    case 'request.size.invalid':
    case 'request.aborted':
    case 'parameters.too.many':
      return new ApiError('bad_data', 'invalid request body', 400);
    default: {
      const client = clientError(err);
      return client ? new ApiError('bad_data', client.message, client.status) : undefined;
    }
  }
}

/** envelopeErrorHandler is the last middleware of a Prometheus route: whatever was thrown ends in the envelope. */
export function envelopeErrorHandler(logger?: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) return next(err);
    respondError(res, fromBodyParserError(err) ?? err, logger);
  };
}
