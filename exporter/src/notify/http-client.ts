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
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
  /** headers are the answer's headers, names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
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

/** networkError turns a request failure into a retryable DeliveryError naming its cause, never the URL. */
export function networkError(err: unknown, timeoutMs: number, secrets: readonly Secret[]): DeliveryError {
  const e = err as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return new DeliveryError('retryable', `no answer within ${timeoutMs} ms (timeout)`);
  const code = e.code ?? e.cause?.code;
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
  const retryAfterMs = parseRetryAfter(reply.headers['retry-after'] ?? null, now);
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

/** AGENT_MAX_SOCKETS bounds the connections to one receiver host (far above any receiver's concurrency). */
const AGENT_MAX_SOCKETS = 64;

/**
 * AGENTS keep connections to receivers alive between notifications: a burst of a thousand notifications to
 * one webhook reuses a handful of sockets instead of opening a thousand.
 */
const AGENTS = {
  http: new HttpAgent({ keepAlive: true, maxSockets: AGENT_MAX_SOCKETS }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: AGENT_MAX_SOCKETS }),
};

/** TimeoutError is the deadline of one exchange passing. */
class TimeoutError extends Error {
  constructor() {
    super('timeout');
    this.name = 'TimeoutError';
  }
}

/**
 * fetchBounded makes one request with node's HTTP client (a keep-alive agent; fetch costs several times the
 * CPU per request, which a burst of notifications on a busy machine feels): the deadline covers the whole
 * exchange, at most `maxResponseBytes` of the answer are read (then the socket is dropped), redirects are not
 * followed. It resolves to the reply whatever its status and rejects with a retryable DeliveryError when no
 * answer came.
 */
export function fetchBounded(
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
  opts: Pick<PostOptions, 'timeoutMs' | 'secrets' | 'maxResponseBytes'>,
): Promise<HttpReply> {
  const max = opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  return new Promise<HttpReply>((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new DeliveryError('permanent', 'the receiver URL is not a valid URL'));
      return;
    }
    const https = u.protocol === 'https:';
    const body = Buffer.from(init.body, 'utf8');
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      init.signal?.removeEventListener('abort', onAbort);
      reject(networkError(err, opts.timeoutMs, opts.secrets));
    };
    const req = (https ? httpsRequest : httpRequest)(
      u,
      {
        method: init.method,
        headers: { ...init.headers, 'content-length': String(body.length) },
        agent: https ? AGENTS.https : AGENTS.http,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (truncated: boolean): void => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          init.signal?.removeEventListener('abort', onAbort);
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers,
            body: Buffer.concat(chunks),
            truncated,
          });
        };
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          const room = max - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            done(true);
            res.destroy(); // the rest is never read: the socket is dropped, not reused
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => done(false));
        res.on('error', fail);
        res.on('close', () => fail(new Error('the receiver closed the connection mid-answer')));
      },
    );
    const onAbort = (): void => {
      req.destroy(new TimeoutError());
    };
    const deadline = setTimeout(onAbort, opts.timeoutMs);
    deadline.unref();
    if (init.signal?.aborted) onAbort();
    else init.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.end(body);
  });
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
