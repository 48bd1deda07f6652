/**
 * The JSON API's last two middlewares: 404 for unmatched paths and the error handler that turns anything
 * thrown into the catalogue's `{"error":{"code","message"}}` without leaking a stack trace.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ERR_NOT_FOUND, toExporterError } from '../errors.js';
import type { Logger } from '../util/logger.js';

/** notFound answers every request no route matched. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(ERR_NOT_FOUND(req.method, req.path));
};

/** errorHandler renders errors from the catalogue; unexpected ones are logged with their stack, not sent. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const e = toExporterError(err);
    if (e.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return next(err);
    res.status(e.status).json(e.toJSON());
  };
}
