/**
 * The one HTTP client of the notifiers: JSON POSTs with a deadline that covers the whole exchange (a receiver
 * that hangs, before or during its answer, fails with a timeout), a bounded read of the answer (a receiver
 * that answers with a huge body costs at most MAX_RESPONSE_BYTES), no redirects, and errors that say what
 * went wrong without quoting the URL (a webhook's URL is its credential).
 *
 * DeliveryError classifies every failure the way Alertmanager's notifiers do: 5xx, 408, 429, timeouts and
 * network errors are worth retrying; any other answer outside 2xx is final (the request itself is wrong, and
 * sending it again cannot help).
 */
import { scrub, type Secret } from './secret.js';

/** MAX_RESPONSE_BYTES bounds how much of an answer is read (receivers answer "ok" or a short JSON). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** MAX_ERROR_BODY_CHARS is how much of a failed answer's body an error message quotes. */
const MAX_ERROR_BODY_CHARS = 200;

/** MAX_RETRY_AFTER_MS caps a receiver's Retry-After (an answer of "a day" would freeze its queue). */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** DeliveryErrorKind says whether sending the same notification again can succeed. */
export type DeliveryErrorKind = 'retryable' | 'permanent';

/** DeliveryError is a failed send, classified; its message is safe to log and to serve. */
export class DeliveryError extends Error {
  constructor(
    readonly kind: DeliveryErrorKind,
    message: string,
    /** status is the receiver's HTTP status, when it answered. */
    readonly status?: number,
    /** retryAfterMs is the receiver's Retry-After (429/503), when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** HttpReply is a receiver's answer: status, headers and at most MAX_RESPONSE_BYTES of the body. */
export interface HttpReply {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: Buffer;
  /** truncated tells that the body was longer than what was read. */
  readonly truncated: boolean;
}

/** PostOptions configure one POST. */
export interface PostOptions {
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** secrets are scrubbed from every error message (the URL, an API key). */
  readonly secrets: readonly Secret[];
  readonly maxResponseBytes?: number;
}

/** parseRetryAfter reads a Retry-After header (seconds, or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else {
    const at = Date.parse(v);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

/** readBounded reads a response body up to `max` bytes and cancels the rest. */
async function readBounded(res: Response, max: number): Promise<{ body: Buffer; truncated: boolean }> {
  if (!res.body) return { body: Buffer.alloc(0), truncated: false };
  const reader = res.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: Buffer.concat(chunks), truncated: false };
    const room = max - size;
    if (value.byteLength > room) {
      chunks.push(Buffer.from(value.buffer, value.byteOffset, room));
      await reader.cancel().catch(() => {});
      return { body: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    size += value.byteLength;
  }
}

/** networkError turns a fetch failure into a retryable DeliveryError naming its cause, never the URL. */
export function networkError(err: unknown, timeoutMs: number, secrets: readonly Secret[]): DeliveryError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new DeliveryError('retryable', `no answer within ${timeoutMs} ms (timeout)`);
  const code = e.cause?.code;
  const detail =
    code ?? scrub(e.cause?.message ?? e.message ?? String(err), secrets).slice(0, MAX_ERROR_BODY_CHARS);
  return new DeliveryError('retryable', `request failed: ${detail}`);
}

/** classify turns an answer outside 2xx into a DeliveryError; undefined for 2xx. */
export function classify(
  reply: HttpReply,
  secrets: readonly Secret[],
  now = Date.now(),
): DeliveryError | undefined {
  const { status } = reply;
  if (status >= 200 && status < 300) return undefined;
  const text = scrub(reply.body.toString('utf8', 0, MAX_ERROR_BODY_CHARS), secrets)
    .replace(/\s+/g, ' ')
    .trim();
  const what = `HTTP ${status}${text ? `: ${text}` : ''}`;
  const retryAfterMs = parseRetryAfter(reply.headers.get('retry-after'), now);
  if (status === 429 || status === 408 || status >= 500)
    return new DeliveryError('retryable', what, status, retryAfterMs);
  if (status >= 300 && status < 400)
    return new DeliveryError(
      'permanent',
      `HTTP ${status} redirect (not followed); point the URL at the final address`,
      status,
    );
  return new DeliveryError('permanent', what, status);
}

/**
 * fetchBounded is fetch with the deadline and the bounded read applied; it resolves to the reply whatever
 * its status and rejects with a retryable DeliveryError when no answer came.
 */
export async function fetchBounded(
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
  opts: Pick<PostOptions, 'timeoutMs' | 'secrets' | 'maxResponseBytes'>,
): Promise<HttpReply> {
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = init.signal ? AbortSignal.any([deadline, init.signal]) : deadline;
  try {
    const res = await fetch(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      redirect: 'manual',
      signal,
    });
    const { body, truncated } = await readBounded(res, opts.maxResponseBytes ?? MAX_RESPONSE_BYTES);
    return { status: res.status, statusText: res.statusText, headers: res.headers, body, truncated };
  } catch (err) {
    throw networkError(err, opts.timeoutMs, opts.secrets);
  }
}

/** postJson POSTs `body` as JSON and resolves on 2xx; otherwise rejects with a classified DeliveryError. */
export async function postJson(url: string, body: unknown, opts: PostOptions): Promise<HttpReply> {
  const reply = await fetchBounded(
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: JSON.stringify(body),
    },
    opts,
  );
  const err = classify(reply, opts.secrets);
  if (err) throw err;
  return reply;
}
