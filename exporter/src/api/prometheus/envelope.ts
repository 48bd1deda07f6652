/**
 * The Prometheus API v1 response envelope and the one mapping from `errorType` to HTTP status, after
 * Prometheus's `web/api/v1/api.go` (`respond` / `respondError`). Every handler answers through these two
 * functions, so clients always see `{status:"success",data}` or `{status:"error",errorType,error}` and never
 * a stack trace.
 */
import type { Response } from 'express';
import type { Logger } from 'pino';
import { PromQLError, type ErrorType } from '../../promql/errors.js';

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

/** respond sends a success envelope (with warnings when there are any). */
export function respond(res: Response, data: unknown, warnings: readonly string[] = []): void {
  res
    .status(200)
    .json(warnings.length > 0 ? { status: 'success', data, warnings } : { status: 'success', data });
}

/**
 * respondError sends an error envelope. PromQLErrors keep their type and message; anything else is an
 * internal error whose details go to the log only.
 */
export function respondError(res: Response, err: unknown, logger?: Logger): void {
  if (err instanceof PromQLError) {
    respondErrorWithStatus(res, ERROR_STATUS[err.errorType], err.errorType, err.message);
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
