/**
 * ExporterApiError is every failed exporter call as the pages see it: the exporter's own message (its
 * `{"error":{"code","message"}}` body, or the Prometheus envelope's `error`), never a generic "request failed".
 */
export class ExporterApiError extends Error {
  constructor(
    message: string,
    /** status is the HTTP status (0 when the request never got an answer). */
    readonly status: number,
    /** code is the exporter's stable error code, the Prometheus `errorType`, or a client-side code. */
    readonly code: string
  ) {
    super(message);
    this.name = 'ExporterApiError';
  }
}

/** CLIENT_ERROR_CODES are the codes the client itself assigns when the exporter did not give one. */
export const CLIENT_ERROR_CODES = {
  unreachable: 'OM_CLIENT_UNREACHABLE',
  http: 'OM_CLIENT_HTTP',
  badResponse: 'OM_CLIENT_BAD_RESPONSE',
} as const;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * toExporterApiError converts whatever getBackendSrv().fetch() rejected with (a FetchError whose `data` is
 * the response body) into an ExporterApiError carrying the exporter's message.
 */
export function toExporterApiError(err: unknown): ExporterApiError {
  if (err instanceof ExporterApiError) {
    return err;
  }
  if (!isRecord(err)) {
    return new ExporterApiError(String(err), 0, CLIENT_ERROR_CODES.unreachable);
  }
  const status = typeof err.status === 'number' ? err.status : 0;
  const data = err.data;
  if (isRecord(data)) {
    // The exporter's JSON API: {"error":{"code","message"}}.
    if (isRecord(data.error) && typeof data.error.message === 'string') {
      const code = typeof data.error.code === 'string' ? data.error.code : CLIENT_ERROR_CODES.http;
      return new ExporterApiError(data.error.message, status, code);
    }
    // The Prometheus API: {"status":"error","errorType","error"}.
    if (typeof data.error === 'string') {
      const code = typeof data.errorType === 'string' ? data.errorType : CLIENT_ERROR_CODES.http;
      return new ExporterApiError(data.error, status, code);
    }
    // The exporter's hub endpoints: {"type":"error","code","message"}.
    if (data.type === 'error' && typeof data.code === 'string' && typeof data.message === 'string') {
      return new ExporterApiError(data.message, status, data.code);
    }
    // Grafana's proxy itself (no exporter URL configured, exporter down…): {"message"}.
    if (typeof data.message === 'string') {
      return new ExporterApiError(data.message, status, CLIENT_ERROR_CODES.http);
    }
  }
  if (typeof data === 'string' && data.trim() !== '') {
    return new ExporterApiError(data.trim().slice(0, 500), status, CLIENT_ERROR_CODES.http);
  }
  const statusText = typeof err.statusText === 'string' && err.statusText ? err.statusText : '';
  if (status === 0) {
    return new ExporterApiError(
      `the exporter could not be reached${statusText ? ` (${statusText})` : ''}`,
      0,
      CLIENT_ERROR_CODES.unreachable
    );
  }
  return new ExporterApiError(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`, status, CLIENT_ERROR_CODES.http);
}
