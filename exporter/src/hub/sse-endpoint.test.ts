import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { toUnifiedMetrics, type UnifiedMetrics } from '../api/unified-metrics.js';
import { createHub, type Hub, type HubInit } from './hub.js';
import { serverMessageSchema, type ServerMessage } from '../contract/hub-protocol.js';
import { createStreamRouter } from './sse-endpoint.js';
import { pollUntil } from '../../test/poll.js';

const WAIT_MS = 5000;

function fleet(n: number): UnifiedMetrics {
  return toUnifiedMetrics(
    Array.from({ length: n }, (_, i) => ({
      id: `srv-${i}`,
      role: 'db' as const,
      cpu: 10 + i,
      memory: 20 + i,
      disk: 30 + i,
      networkIn: 100 * i,
      networkOut: 50 * i,
      up: true,
      activeScenarios: [],
    })),
  );
}

/** SseReader reads a real fetch() stream and splits it into SSE events (data messages and comments). */
class SseReader {
  readonly messages: ServerMessage[] = [];
  readonly comments: string[] = [];
  readonly fields: string[] = [];
  private buffer = '';
  private ended = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(
    readonly response: Response,
    readonly abort: AbortController,
  ) {
    if (response.body === null) throw new Error('no body');
    this.reader = response.body.getReader();
  }

  /** next reads until `pred` holds for some parsed message, then removes and returns it (bounded). */
  async next(pred: (m: ServerMessage) => boolean = () => true, timeoutMs = WAIT_MS): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i >= 0) return this.messages.splice(i, 1)[0]!;
      if (this.ended) throw new Error('stream ended');
      await this.readChunk(deadline);
    }
  }

  /** nextComment reads until a comment line arrives. */
  async nextComment(timeoutMs = WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.comments.length === 0) await this.readChunk(deadline);
    return this.comments.shift()!;
  }

  private async readChunk(deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('timed out reading the stream')),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      const { value, done } = await Promise.race([this.reader.read(), timeout]);
      if (done) this.ended = true;
      else this.buffer += this.decoder.decode(value, { stream: true });
    } finally {
      clearTimeout(timer);
    }
    let sep: number;
    while ((sep = this.buffer.indexOf('\n\n')) >= 0) {
      const event = this.buffer.slice(0, sep);
      this.buffer = this.buffer.slice(sep + 2);
      for (const line of event.split('\n')) {
        if (line.startsWith('data: '))
          this.messages.push(serverMessageSchema.parse(JSON.parse(line.slice(6))));
        else if (line.startsWith(':')) this.comments.push(line);
        else this.fields.push(line);
      }
    }
  }
}

interface Harness {
  hub: Hub;
  server: Server;
  registry: Registry;
  base: string;
  streams: SseReader[];
  open(query: string, headers?: Record<string, string>): Promise<SseReader>;
}
const harnesses: Harness[] = [];

async function start(init: HubInit = {}): Promise<Harness> {
  const registry = new Registry();
  const hub = createHub({ logger: pino({ level: 'silent' }), registry, ...init });
  const app = express();
  app.use(createStreamRouter(hub));
  const server = createServer(app);
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const h: Harness = {
    hub,
    server,
    registry,
    base,
    streams: [],
    async open(query, headers = {}) {
      const abort = new AbortController();
      const res = await fetch(`${base}/api/stream${query}`, { headers, signal: abort.signal });
      const reader = new SseReader(res, abort);
      h.streams.push(reader);
      return reader;
    },
  };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    for (const s of h.streams) s.abort.abort();
    await h.hub.close();
    h.server.closeAllConnections();
    await new Promise<void>((resolve) => h.server.close(() => resolve()));
  }
});

/** until waits for the hub's state to satisfy `cond`. */
const until = (cond: () => boolean, what: string): Promise<true> =>
  pollUntil(what, () => cond(), { timeoutMs: WAIT_MS, intervalMs: 5 });

describe('SSE fallback /api/stream', () => {
  it('streams welcome, subscriptions, the snapshot at once, then publications, as data: lines', async () => {
    const h = await start();
    const payload = fleet(5);
    h.hub.publish('server-metrics', payload, 1000);
    const s = await h.open('?channels=server-metrics,alerts&servers=srv-1,srv-3');
    expect(s.response.status).toBe(200);
    expect(s.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(s.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect((await s.next()).type).toBe('welcome');
    expect(s.fields).toContain('retry: 5000');
    expect(await s.next()).toEqual({
      type: 'subscriptions',
      channels: ['server-metrics', 'alerts'],
      servers: ['srv-1', 'srv-3'],
    });
    const filtered = {
      servers: payload.servers.filter((x) => x.id === 'srv-1' || x.id === 'srv-3'),
      summary: payload.summary,
    };
    expect(await s.next()).toEqual({
      type: 'data',
      channel: 'server-metrics',
      timestamp: 1000,
      data: filtered,
    });
    expect(h.hub.connectionCounts()).toMatchObject({ sse: 1, ws: 0, total: 1 });

    h.hub.publish('server-metrics', payload, 2000);
    expect(await s.next()).toMatchObject({ type: 'data', channel: 'server-metrics', timestamp: 2000 });
  });

  it('defaults to all channels and sends heartbeat comments', async () => {
    const h = await start({ heartbeatMs: 30 });
    const s = await h.open('');
    await s.next((m) => m.type === 'welcome');
    expect(await s.next()).toMatchObject({
      type: 'subscriptions',
      channels: ['server-metrics', 'system-status', 'alerts', 'ai-analysis'],
      servers: null,
    });
    expect(await s.nextComment()).toMatch(/^: heartbeat \d+$/);
  });

  it('forgets the client when the stream is closed', async () => {
    const h = await start();
    const s = await h.open('?channels=alerts');
    await s.next((m) => m.type === 'subscriptions');
    expect(h.hub.connectionCounts().sse).toBe(1);
    s.abort.abort();
    await until(() => h.hub.connectionCounts().sse === 0, 'SSE client removed');
  });

  it.each([
    ['unknown channel', {}, '?channels=server-metrics,weather', {}, 400, 'unknown_channel'],
    [
      'foreign origin',
      { allowedOrigins: ['https://grafana.example.com'] },
      '',
      { Origin: 'https://evil.example' },
      403,
      'origin_not_allowed',
    ],
    ['missing token', { token: 'tok' }, '', {}, 401, 'unauthorized'],
    ['wrong token', { token: 'tok' }, '?token=nope', {}, 401, 'unauthorized'],
  ] as const)('refuses %s with a JSON error', async (_name, init, query, headers, status, code) => {
    const h = await start(init);
    const res = await fetch(`${h.base}/api/stream${query}`, { headers });
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ type: 'error', code });
  });

  it.each([
    ['token in query', { token: 'tok' }, '?token=tok', {}],
    ['bearer token', { token: 'tok' }, '', { Authorization: 'Bearer tok' }],
    [
      'allowed origin (CORS header reflects it)',
      { allowedOrigins: ['https://grafana.example.com'] },
      '',
      { Origin: 'https://grafana.example.com' },
    ],
  ] as const)('admits %s', async (_name, init, query, headers) => {
    const h = await start(init);
    const s = await h.open(query, headers);
    expect(s.response.status).toBe(200);
    if ('Origin' in headers)
      expect(s.response.headers.get('access-control-allow-origin')).toBe(headers.Origin);
    expect((await s.next()).type).toBe('welcome');
  });

  it('shares the connection limit with WebSocket clients (503 with Retry-After)', async () => {
    const h = await start({ maxConnections: 1 });
    const ws = new WebSocket(h.base.replace('http', 'ws') + '/ws');
    await new Promise((resolve) => ws.once('message', resolve));
    const res = await fetch(`${h.base}/api/stream`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ type: 'error', code: 'connection_limit' });
    ws.terminate();
    await until(() => h.hub.connectionCounts().total === 0, 'ws client removed');
    const s = await h.open('?channels=alerts');
    expect((await s.next()).type).toBe('welcome');
  });
});
