/**
 * StandInReceiver is a local HTTP server standing in for Slack, a webhook, DataDog or Alertmanager in tests
 * and benches: it records every request (method, path, headers, parsed JSON body, arrival time) and answers
 * as commanded — a status with an optional Retry-After, no answer at all (a hung receiver), a huge streamed
 * body, or a per-request function. It listens on 127.0.0.1 on an ephemeral port and closes every socket on
 * close(), so a hung request never outlives its test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Received is one recorded request. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly raw: string;
  /** body is the parsed JSON body, or undefined when it was not JSON. */
  readonly body: unknown;
  /** at is the arrival time (performance.now() ms) once the body was read. */
  readonly at: number;
}

/** Answer says how to answer one request. */
export type Answer =
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly retryAfter?: string }
  | { readonly kind: 'hang' }
  | { readonly kind: 'huge'; readonly bytes: number }
  | { readonly kind: 'redirect'; readonly location: string };

/** OK is the default answer: 200 with Slack's body "ok". */
export const OK: Answer = { kind: 'status', status: 200, body: 'ok' };

/** HUGE_CHUNK is the piece a huge answer is streamed in. */
const HUGE_CHUNK = Buffer.alloc(64 * 1024, 'x');

/** StandInReceiver is one stand-in server. */
export class StandInReceiver {
  readonly received: Received[] = [];
  /** answer decides each request's answer (default OK); replace it to command failures. */
  answer: (req: Received, index: number) => Answer = () => OK;
  /** hugeBytesSent counts the bytes of huge answers written before the client went away. */
  hugeBytesSent = 0;
  private listeners: ((r: Received) => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** start listens on 127.0.0.1:<ephemeral>. */
  static async start(): Promise<StandInReceiver> {
    const holder: { self?: StandInReceiver } = {};
    const server = createServer((req, res) => {
      void holder.self?.handle(req, res);
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.self = new StandInReceiver(server, `http://127.0.0.1:${port}`);
    return holder.self;
  }

  /** onRequest calls `fn` for each request as it arrives. */
  onRequest(fn: (r: Received) => void): void {
    this.listeners.push(fn);
  }

  /** waitFor resolves once `n` requests arrived (event-driven, bounded by `timeoutMs`). */
  waitFor(n: number, timeoutMs = 10_000): Promise<Received[]> {
    if (this.received.length >= n) return Promise.resolve(this.received.slice(0, n));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`stand-in receiver got ${this.received.length} of ${n} requests in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      this.onRequest(() => {
        if (this.received.length >= n) {
          clearTimeout(timer);
          resolve(this.received.slice(0, n));
        }
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const r: Received = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      raw,
      body,
      at: performance.now(),
    };
    const index = this.received.length;
    this.received.push(r);
    for (const l of this.listeners) l(r);
    const a = this.answer(r, index);
    switch (a.kind) {
      case 'status':
        if (a.retryAfter !== undefined) res.setHeader('retry-after', a.retryAfter);
        res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body ?? '');
        return;
      case 'redirect':
        res.writeHead(302, { location: a.location }).end();
        return;
      case 'hang':
        return; // never answers; close() cuts the socket
      case 'huge': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        let left = a.bytes;
        const write = (): void => {
          while (left > 0 && !res.destroyed) {
            const chunk = HUGE_CHUNK.subarray(0, Math.min(left, HUGE_CHUNK.length));
            left -= chunk.length;
            this.hugeBytesSent += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', write);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        res.on('close', () => {
          left = 0;
        });
        write();
        return;
      }
    }
  }

  /** close stops listening and cuts every connection, hung ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
