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
 * AnswerBudget bounds the writing of a query's answer by the query's own time: `points` is how many points
 * the answer holds, `deadline` when the query must be done (performance.now() ms, the clock `now` reads).
 */
export interface AnswerBudget {
  readonly points: number;
  readonly deadline: number;
  readonly now?: () => number;
}

/**
 * JsonChunks is a `data` too large to serialise in one go (a query result of millions of points would hold
 * the event loop in JSON.stringify for seconds): its JSON text as fragments, written one by one. A query's
 * answer carries its AnswerBudget, and its fragments count the points they render in `rendered`.
 */
export class JsonChunks {
  /** rendered is how many of the budget's points the fragments produced so far. */
  rendered = 0;

  constructor(
    readonly fragments: () => Iterable<string>,
    readonly budget?: AnswerBudget,
  ) {}
}

/**
 * ANSWER_HEAD_BYTES is how much of a budgeted answer is rendered before anything is sent (~130,000 points of a
 * range result): an answer that fits is sent whole, and the rendering rate of a longer one's head predicts how
 * long its rest takes.
 */
const ANSWER_HEAD_BYTES = 4 * 1024 * 1024;

/**
 * REST_MARGIN is how many times the predicted rendering time of an answer's rest must fit before the deadline:
 * sending it to the socket takes time too.
 */
const REST_MARGIN = 2;

/**
 * answerTimedOut is the 503 `timeout` of a query whose answer cannot be written in the query's time: the
 * query timeout bounds the whole request, so an answer of millions of points (a day of every series at a
 * short step, a subquery over years) is refused up front rather than streamed for longer than any client waits.
 */
function answerTimedOut(points: number): PromQLError {
  return new PromQLError(
    'timeout',
    `query timed out in writing the answer: ${points} points cannot be written within the query timeout`,
  );
}

/**
 * respond sends a success envelope (with warnings when there are any). JsonChunks data is streamed: one
 * fragment at a time, waiting for the socket to drain and giving the event loop a turn every slice. A
 * budgeted answer (a query's) is first rendered unsent up to ANSWER_HEAD_BYTES; it is refused with 503
 * `timeout`, nothing sent, when the deadline passes meanwhile or when its rest, at the rate the head was
 * rendered, would not be written in time.
 */
export async function respond(res: Response, data: unknown, warnings: readonly string[] = []): Promise<void> {
  const tail = warnings.length > 0 ? `,"warnings":${JSON.stringify(warnings)}}` : '}';
  if (!(data instanceof JsonChunks)) {
    res
      .status(200)
      .json(warnings.length > 0 ? { status: 'success', data, warnings } : { status: 'success', data });
    return;
  }
  const pacer = new Pacer();
  const fragments = data.fragments()[Symbol.iterator]();
  const head = data.budget ? await renderHead(data, data.budget, fragments, pacer) : [];
  res.status(200).type('application/json');
  res.write('{"status":"success","data":');
  for (const fragment of head) {
    if (res.destroyed) return;
    if (!res.write(fragment)) await drainedOrClosed(res);
  }
  for (let r = fragments.next(); !r.done; r = fragments.next()) {
    if (res.destroyed) return;
    if (!res.write(r.value)) await drainedOrClosed(res);
    if (pacer.due()) await pacer.yield();
  }
  res.end(tail);
}

/**
 * renderHead renders a budgeted answer's first ANSWER_HEAD_BYTES (all of a smaller one), or throws
 * answerTimedOut when the answer would not be written by the budget's deadline.
 */
async function renderHead(
  data: JsonChunks,
  budget: AnswerBudget,
  fragments: Iterator<string>,
  pacer: Pacer,
): Promise<string[]> {
  const now = budget.now ?? (() => performance.now());
  const began = now();
  const head: string[] = [];
  let bytes = 0;
  for (let r = fragments.next(); !r.done; r = fragments.next()) {
    head.push(r.value);
    bytes += r.value.length;
    const t = now();
    if (t > budget.deadline) throw answerTimedOut(budget.points);
    if (bytes >= ANSWER_HEAD_BYTES) {
      const rest = budget.points - data.rendered;
      const msPerPoint = (t - began) / Math.max(1, data.rendered);
      if (t + rest * msPerPoint * REST_MARGIN > budget.deadline) throw answerTimedOut(budget.points);
      return head;
    }
    if (pacer.due()) await pacer.yield();
  }
  return head;
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
