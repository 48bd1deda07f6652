/**
 * The Server-Sent Events fallback of the hub, for proxies that do not pass WebSocket: GET
 * `/api/stream?channels=a,b&servers=x,y` streams the same messages as `/ws` (welcome, subscriptions, data),
 * one JSON message per event as a single `data:` line, under the same limit, Origin and token rules.
 */
import type { IncomingMessage } from 'node:http';
import { Router, type Request, type Response } from 'express';
import type { EncodedMessage } from './encoded-message.js';
import type { ClientTransport } from './hub-client.js';
import type { Hub } from './hub.js';
import {
  CHANNELS,
  isChannel,
  MAX_FILTER_SERVERS,
  MAX_ID_LENGTH,
  type Channel,
  type ErrorMessage,
  type HubErrorCode,
} from '../contract/hub-protocol.js';

/** StreamRouterOptions configures the SSE endpoint. */
export interface StreamRouterOptions {
  /** path of the endpoint (default `/api/stream`). */
  readonly path?: string;
  /** retryMs is the reconnection delay suggested to EventSource (the `retry:` field). */
  readonly retryMs?: number;
}

/** DEFAULT_SSE_RETRY_MS: reconnect after one server-metrics period (5 s) rather than the browser's ~3 s. */
const DEFAULT_SSE_RETRY_MS = 5000;
/** LIMIT_RETRY_AFTER_S is the Retry-After of a 503 at the connection limit (one server-metrics period). */
const LIMIT_RETRY_AFTER_S = 5;

/** SseTransport writes shared SSE events to one HTTP response. */
class SseTransport implements ClientTransport {
  readonly kind = 'sse';
  constructor(private readonly res: Response) {}
  bufferedBytes(): number {
    return this.res.writableLength;
  }
  send(message: EncodedMessage): number {
    if (this.res.writableEnded || this.res.destroyed) return 0;
    const event = message.sse();
    this.res.write(event);
    return event.length;
  }
  heartbeat(): void {
    // A comment line: EventSource ignores it, proxies see traffic and do not time the stream out.
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(`: heartbeat ${Date.now()}\n\n`);
  }
  close(): void {
    this.res.end();
  }
  terminate(): void {
    this.res.destroy();
  }
}

function refuse(res: Response, status: number, code: HubErrorCode, message: string): void {
  res.status(status).json({ type: 'error', code, message } satisfies ErrorMessage);
}

/** listParam reads a comma-separated query parameter (repeated parameters are joined). */
function listParam(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  return parts
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * createStreamRouter returns an express router serving the hub's SSE endpoint. `channels` defaults to all
 * channels; `servers` sets the server-metrics filter as in `subscribe`.
 */
export function createStreamRouter(hub: Hub, options: StreamRouterOptions = {}): Router {
  const path = options.path ?? '/api/stream';
  const retryMs = options.retryMs ?? DEFAULT_SSE_RETRY_MS;
  const router = Router();
  router.get(path, (req: Request, res: Response) => {
    const denied = hub.checkAccess(req as IncomingMessage);
    if (denied !== null) {
      hub.metrics.rejected.inc({ reason: denied.code === 'unauthorized' ? 'token' : 'origin' });
      if (denied.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      refuse(res, denied.status, denied.code, denied.message);
      return;
    }
    const requested = listParam(req.query.channels) ?? [...CHANNELS];
    const unknown = requested.filter((c) => !isChannel(c));
    if (unknown.length > 0 || requested.length === 0) {
      refuse(
        res,
        400,
        'unknown_channel',
        `Unknown or missing channel(s) ${JSON.stringify(unknown)}; use ${CHANNELS.join(', ')}.`,
      );
      return;
    }
    // `servers=` (empty) means no filter, like an absent parameter.
    const serverList = listParam(req.query.servers);
    const servers = serverList !== undefined && serverList.length > 0 ? serverList : undefined;
    if (
      servers !== undefined &&
      (servers.length > MAX_FILTER_SERVERS || servers.some((s) => s.length > MAX_ID_LENGTH))
    ) {
      refuse(
        res,
        400,
        'invalid_message',
        `servers: at most ${MAX_FILTER_SERVERS} ids of at most ${MAX_ID_LENGTH} chars.`,
      );
      return;
    }
    if (!hub.isAcceptingClients()) {
      hub.metrics.rejected.inc({ reason: 'limit' });
      res.setHeader('Retry-After', String(LIMIT_RETRY_AFTER_S));
      refuse(res, 503, 'connection_limit', 'The hub is at its connection limit; retry later.');
      return;
    }
    const origin = req.headers.origin;
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    // nginx buffers proxied responses unless told not to; an SSE stream must not be buffered.
    res.setHeader('X-Accel-Buffering', 'no');
    if (origin !== undefined) {
      // The Origin already passed the allow-list: let a cross-origin EventSource read the stream.
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    res.flushHeaders();
    res.write(`retry: ${retryMs}\n\n`);
    const client = hub.openClient(new SseTransport(res));
    if (client === null) {
      res.end();
      return;
    }
    req.socket.setNoDelay(true);
    res.on('drain', () => hub.drained(client));
    res.on('close', () => hub.removeClient(client));
    hub.subscribeClient(client, requested as Channel[], servers);
  });
  return router;
}
