import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { toUnifiedMetrics, type UnifiedMetrics } from '../api/unified-metrics.js';
import type { ServerSummary } from '../simulator/types.js';
import { HubError } from './hub-errors.js';
import { createHub, type Hub, type HubInit } from './hub.js';
import { serverMessageSchema, type ServerMessage } from '../contract/hub-protocol.js';
import { pollUntil } from '../../test/poll.js';

const WAIT_MS = 5000;

/** fleet builds a realistic server-metrics payload of n servers (value varies with `t`). */
function fleet(n: number, t = 0): UnifiedMetrics {
  const summaries: ServerSummary[] = Array.from({ length: n }, (_, i) => ({
    id: `srv-${String(i).padStart(2, '0')}`,
    role: 'web',
    cpu: (i * 7 + t) % 100,
    memory: (i * 13 + t) % 100,
    disk: (i * 3 + t) % 100,
    networkIn: 1000 * i + t,
    networkOut: 500 * i + t,
    up: i % 11 !== 10,
    activeScenarios: [],
  }));
  return toUnifiedMetrics(summaries);
}

/** until waits for the hub's state to satisfy `cond`. */
const until = (cond: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<true> =>
  pollUntil(what, () => cond(), { timeoutMs, intervalMs: 5 });

/** TestClient is a real ws client that queues every parsed server message. */
class TestClient {
  readonly queue: { raw: string; msg: ServerMessage }[] = [];
  private notify: (() => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const raw = data.toString('utf8');
      this.queue.push({ raw, msg: serverMessageSchema.parse(JSON.parse(raw)) });
      this.notify?.();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static connect(url: string, opts: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, opts);
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** take removes and returns the first queued message matching `pred`, waiting for it (bounded). */
  async take<T extends ServerMessage = ServerMessage>(
    pred: (m: ServerMessage) => boolean = () => true,
    timeoutMs = WAIT_MS,
  ): Promise<{ raw: string; msg: T }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((e) => pred(e.msg));
      if (i >= 0) return this.queue.splice(i, 1)[0] as { raw: string; msg: T };
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching message; queue: ${JSON.stringify(this.queue.map((e) => e.msg.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.notify = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  send(x: unknown): void {
    this.ws.send(typeof x === 'string' ? x : JSON.stringify(x));
  }

  async subscribe(channels: string[], servers?: string[] | null): Promise<void> {
    this.send({ type: 'subscribe', channels, ...(servers === undefined ? {} : { servers }) });
    await this.take((m) => m.type === 'subscriptions');
  }
}

const isData = (channel: string, timestamp?: number) => (m: ServerMessage) =>
  m.type === 'data' && m.channel === channel && (timestamp === undefined || m.timestamp === timestamp);

interface Harness {
  hub: Hub;
  server: Server;
  registry: Registry;
  url: string;
  clients: TestClient[];
  connect(opts?: ClientOptions, query?: string): Promise<TestClient>;
}

const harnesses: Harness[] = [];

async function start(init: HubInit = {}, extraUpgrade?: (server: Server) => void): Promise<Harness> {
  const registry = new Registry();
  const hub = createHub({ logger: pino({ level: 'silent' }), registry, ...init });
  const server = createServer((_req, res) => res.writeHead(404).end());
  extraUpgrade?.(server);
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}/ws`;
  const h: Harness = {
    hub,
    server,
    registry,
    url,
    clients: [],
    async connect(opts = {}, query = '') {
      const c = await TestClient.connect(url + query, opts);
      h.clients.push(c);
      await c.take((m) => m.type === 'welcome');
      return c;
    },
  };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    for (const c of h.clients) c.ws.terminate();
    await h.hub.close();
    h.server.closeAllConnections();
    await new Promise<void>((resolve) => h.server.close(() => resolve()));
  }
});

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const v = metric?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('hub: handshake and subscriptions', () => {
  it('greets with welcome: protocol version, channels, limits', async () => {
    const h = await start({ maxMessageBytes: 1000, heartbeatMs: 20_000 });
    const c = await TestClient.connect(h.url);
    h.clients.push(c);
    const { msg } = await c.take();
    expect(msg).toMatchObject({
      type: 'welcome',
      protocolVersion: 1,
      channels: ['server-metrics', 'system-status', 'alerts', 'ai-analysis'],
      limits: { maxMessageBytes: 1000, heartbeatMs: 20_000 },
    });
    expect(h.hub.connectionCounts()).toEqual({ ws: 1, sse: 0, total: 1, limit: 1000 });
    expect(await metricValue(h.registry, 'openmanager_exporter_hub_connections', { transport: 'ws' })).toBe(
      1,
    );
  });

  it('sends the current snapshot at once on subscribe, in the seed shape with type first', async () => {
    const h = await start();
    const payload = fleet(20);
    h.hub.publish('server-metrics', payload, 1_700_000_000_000);
    const c = await h.connect();
    c.send({ type: 'subscribe', channels: ['server-metrics', 'alerts'] });
    const ack = await c.take((m) => m.type === 'subscriptions');
    expect(ack.msg).toEqual({ type: 'subscriptions', channels: ['server-metrics', 'alerts'], servers: null });
    const { raw, msg } = await c.take(isData('server-metrics'));
    expect(
      raw.startsWith(
        '{"type":"data","channel":"server-metrics","timestamp":1700000000000,"data":{"servers":[',
      ),
    ).toBe(true);
    expect(msg).toEqual({
      type: 'data',
      channel: 'server-metrics',
      timestamp: 1_700_000_000_000,
      data: payload,
    });
    // alerts has no state yet: no snapshot, and the next message is the next publication.
    h.hub.publish('server-metrics', fleet(20, 1), 1_700_000_005_000);
    expect((await c.take()).msg).toMatchObject({ type: 'data', timestamp: 1_700_000_005_000 });
  });

  it('delivers publications only for subscribed channels and stops after unsubscribe', async () => {
    const h = await start();
    const c = await h.connect();
    await c.subscribe(['server-metrics', 'ai-analysis']);
    const analysis = {
      generatedAt: 2000,
      window: { start: 1000, end: 2000 },
      findings: [
        {
          id: 'f1',
          server: 'srv-01',
          metric: 'openmanager_cpu_usage_percent',
          kind: 'anomaly' as const,
          score: 0.9,
          severity: 'warning' as const,
          window: { start: 1500, end: 2000 },
          summary: 'CPU 4σ above its weekly profile',
        },
      ],
    };
    h.hub.publish('ai-analysis', analysis, 2000);
    expect((await c.take()).msg).toEqual({
      type: 'data',
      channel: 'ai-analysis',
      timestamp: 2000,
      data: analysis,
    });
    c.send({ type: 'unsubscribe', channels: ['ai-analysis'] });
    expect((await c.take()).msg).toEqual({
      type: 'subscriptions',
      channels: ['server-metrics'],
      servers: null,
    });
    h.hub.publish('ai-analysis', analysis, 3000);
    h.hub.publish('server-metrics', fleet(3), 3000);
    expect((await c.take()).msg).toMatchObject({ type: 'data', channel: 'server-metrics', timestamp: 3000 });
    expect(c.queue).toEqual([]);
  });

  it('filters server-metrics by server id, keeps the summary fleet-wide, serialises once per filter', async () => {
    const h = await start();
    const all1 = await h.connect();
    const all2 = await h.connect();
    const some = await h.connect();
    await all1.subscribe(['server-metrics']);
    await all2.subscribe(['server-metrics']);
    await some.subscribe(['server-metrics'], ['srv-05', 'srv-02', 'nope']);
    const payload = fleet(20);
    const result = h.hub.publish('server-metrics', payload, 5000);
    expect(result).toMatchObject({ sent: 3, skipped: 0, encodings: 2 });
    const filtered = (await some.take(isData('server-metrics'))).msg;
    expect(filtered.type === 'data' && filtered.channel === 'server-metrics' && filtered.data).toEqual({
      servers: payload.servers.filter((s) => s.id === 'srv-02' || s.id === 'srv-05'),
      summary: payload.summary,
    });
    expect((await all1.take(isData('server-metrics'))).msg).toMatchObject({ data: payload });
    expect((await all2.take(isData('server-metrics'))).msg).toMatchObject({ data: payload });
    // Changing the filter re-sends the snapshot; `servers: null` clears it.
    some.send({ type: 'subscribe', channels: ['server-metrics'], servers: null });
    expect((await some.take()).msg).toEqual({
      type: 'subscriptions',
      channels: ['server-metrics'],
      servers: null,
    });
    expect((await some.take(isData('server-metrics', 5000))).msg).toMatchObject({ data: payload });
  });

  it('answers ping with pong echoing the id', async () => {
    const h = await start();
    const c = await h.connect();
    const before = Date.now();
    c.send({ type: 'ping', id: 'abc' });
    const { msg } = await c.take();
    expect(msg).toMatchObject({ type: 'pong', id: 'abc' });
    expect(msg.type === 'pong' && msg.serverTime).toBeGreaterThanOrEqual(before);
  });

  it.each([
    ['deflate, full window', { perMessageDeflate: true }, 'permessage-deflate'],
    [
      'deflate, server window limited to 10 bits',
      { perMessageDeflate: { serverMaxWindowBits: 10 } },
      'permessage-deflate',
    ],
    ['no deflate', { perMessageDeflate: false }, ''],
  ] as const)('delivers intact data with %s', async (_name, opts, ext) => {
    const h = await start();
    const c = await h.connect(opts);
    expect(c.ws.extensions).toBe(ext);
    await c.subscribe(['server-metrics']);
    const payload = fleet(200); // ≈25 KB: well over the 1 KiB deflate threshold
    const before = await metricValue(h.registry, 'openmanager_exporter_hub_sent_bytes_total', {
      transport: 'ws',
    });
    h.hub.publish('server-metrics', payload, 42);
    const wireBytes =
      (await metricValue(h.registry, 'openmanager_exporter_hub_sent_bytes_total', { transport: 'ws' })) -
      before;
    const jsonBytes = JSON.stringify(payload).length;
    // Compressed frames are a fraction of the JSON; plain frames are the JSON plus the envelope and header.
    if (ext === '') expect(wireBytes).toBeGreaterThan(jsonBytes);
    else expect(wireBytes).toBeLessThan(jsonBytes / 2);
    expect((await c.take(isData('server-metrics'))).msg).toEqual({
      type: 'data',
      channel: 'server-metrics',
      timestamp: 42,
      data: payload,
    });
  });

  it('rejects an invalid published payload with a typed error', () => {
    return start().then((h) => {
      const bad = { servers: [{ id: 'x' }], summary: {} } as unknown as UnifiedMetrics;
      expect(() => h.hub.publish('server-metrics', bad)).toThrow(HubError);
      try {
        h.hub.publish('server-metrics', bad);
      } catch (e) {
        expect((e as HubError).code).toBe('invalid_payload');
      }
      expect(() => h.hub.publish('server-metrics', fleet(1), Number.NaN)).toThrow(/timestamp NaN/);
      expect(h.hub.lastMessage('server-metrics')).toBeUndefined();
      h.hub.publish('server-metrics', fleet(1), 1234.7);
      expect(h.hub.lastMessage('server-metrics')?.timestamp).toBe(1234);
    });
  });
});

describe('hub: bad input and abuse', () => {
  it.each([
    ['invalid JSON', '{"type":', 'invalid_json'],
    ['not an object', '[1,2]', 'invalid_message'],
    ['no type', '{"channels":["alerts"]}', 'invalid_message'],
    ['unknown type', '{"type":"hello"}', 'unknown_type'],
    ['unknown channel', '{"type":"subscribe","channels":["alerts","stock-prices"]}', 'unknown_channel'],
    ['channels not an array', '{"type":"subscribe","channels":"alerts"}', 'invalid_message'],
    ['empty channels', '{"type":"subscribe","channels":[]}', 'invalid_message'],
    ['servers not strings', '{"type":"subscribe","channels":["alerts"],"servers":[1]}', 'invalid_message'],
    ['oversized message', JSON.stringify({ type: 'ping', id: 'x'.repeat(3000) }), 'message_too_large'],
    ['binary frame', Buffer.from('{"type":"ping"}'), 'binary_not_supported'],
  ] as const)('%s gets an error message and the connection stays usable', async (_name, input, code) => {
    const h = await start({ maxMessageBytes: 2048 });
    const c = await h.connect();
    c.ws.send(input);
    const { msg } = await c.take();
    expect(msg).toMatchObject({ type: 'error', code });
    c.send({ type: 'ping', id: 1 });
    expect((await c.take()).msg).toMatchObject({ type: 'pong', id: 1 });
    expect(await metricValue(h.registry, 'openmanager_exporter_hub_client_errors_total', { code })).toBe(1);
  });

  it('closes with 1009 on a frame over maxFrameBytes, other clients unaffected', async () => {
    const h = await start({ maxFrameBytes: 4096, maxMessageBytes: 1024 });
    const bad = await h.connect();
    const good = await h.connect();
    await good.subscribe(['server-metrics']);
    bad.ws.send('x'.repeat(10_000));
    expect((await bad.closed).code).toBe(1009);
    h.hub.publish('server-metrics', fleet(2), 7);
    expect((await good.take(isData('server-metrics', 7))).msg.type).toBe('data');
  });

  it('closes a client with 1008 after repeated errors; the hub and other clients carry on', async () => {
    const h = await start({ abuseMaxErrors: 5, abuseWindowMs: 60_000 });
    const abuser = await h.connect();
    const good = await h.connect();
    await good.subscribe(['alerts']);
    for (let i = 0; i < 5; i++) abuser.send('not json');
    const closed = await abuser.closed;
    expect(closed).toEqual({ code: 1008, reason: 'too many protocol errors' });
    const codes = abuser.queue.map((e) => (e.msg.type === 'error' ? e.msg.code : e.msg.type));
    expect(codes).toEqual([
      'invalid_json',
      'invalid_json',
      'invalid_json',
      'invalid_json',
      'invalid_json',
      'too_many_errors',
    ]);
    const scenario = {
      id: 's1',
      kind: 'cpu_spike' as const,
      server: 'srv-01',
      affected: ['srv-01'],
      start: 1000,
      end: 61_000,
      intensity: 0.8,
      source: 'api' as const,
    };
    h.hub.publish('alerts', { event: 'scenario_started', scenario, activeScenarios: [scenario] }, 1000);
    expect((await good.take()).msg).toMatchObject({
      type: 'data',
      channel: 'alerts',
      data: { event: 'scenario_started' },
    });
    await until(() => h.hub.connectionCounts().ws === 1, 'abuser removed');
  });
});

describe('hub: message rate', () => {
  it('answers rate_limited beyond maxMessagesPerWindow, then 1008 when the flood goes on', async () => {
    const h = await start({ maxMessagesPerWindow: 3, abuseMaxErrors: 2, abuseWindowMs: 60_000 });
    const c = await h.connect();
    for (let i = 0; i < 5; i++) c.send({ type: 'ping', id: i });
    expect((await c.closed).code).toBe(1008);
    expect(c.queue.map((e) => (e.msg.type === 'error' ? e.msg.code : e.msg.type))).toEqual([
      'pong',
      'pong',
      'pong',
      'rate_limited',
      'rate_limited',
      'too_many_errors',
    ]);
  });
});

describe('hub: admission', () => {
  it('closes connections beyond the limit with 1013 and admits again when one leaves', async () => {
    const h = await start({ maxConnections: 2 });
    const a = await h.connect();
    await h.connect();
    const third = await TestClient.connect(h.url);
    h.clients.push(third);
    expect(await third.closed).toEqual({ code: 1013, reason: 'connection limit reached' });
    expect(third.queue).toEqual([]);
    expect(
      await metricValue(h.registry, 'openmanager_exporter_hub_connections_rejected_total', {
        reason: 'limit',
      }),
    ).toBe(1);
    a.ws.close();
    await until(() => h.hub.connectionCounts().total === 1, 'slot freed');
    await h.connect();
    expect(h.hub.connectionCounts().total).toBe(2);
  });

  it.each([
    ['allowed origin', { origin: 'https://grafana.example.com' }, 'open'],
    ['allowed origin, different case and trailing slash', { origin: 'HTTPS://Grafana.Example.com/' }, 'open'],
    ['no Origin (not a browser)', {}, 'open'],
    ['foreign origin', { origin: 'https://evil.example' }, 403],
    ['allowed host, other port', { origin: 'https://grafana.example.com:8443' }, 403],
  ] as const)('Origin allow-list: %s', async (_name, opts, expected) => {
    const h = await start({ allowedOrigins: ['https://grafana.example.com'] });
    const result = await TestClient.connect(h.url, opts).then(
      (c) => {
        h.clients.push(c);
        return 'open';
      },
      (e: Error) => Number(/HTTP (\d+)/.exec(e.message)?.[1]),
    );
    expect(result).toBe(expected);
  });

  it.each([
    ['no token', {}, '', 401],
    ['wrong token in query', {}, '?token=guess', 401],
    ['token in query', {}, '?token=s3cret', 'open'],
    ['bearer header', { headers: { Authorization: 'Bearer s3cret' } }, '', 'open'],
    ['wrong bearer header', { headers: { Authorization: 'Bearer s3cre' } }, '', 401],
  ] as const)('token: %s', async (_name, opts, query, expected) => {
    const h = await start({ token: 's3cret' });
    const result = await TestClient.connect(h.url + query, opts).then(
      (c) => {
        h.clients.push(c);
        return 'open';
      },
      (e: Error) => Number(/HTTP (\d+)/.exec(e.message)?.[1]),
    );
    expect(result).toBe(expected);
  });

  it('leaves other upgrade paths to their own listener, answers 404 when it is the only one', async () => {
    const other = new WebSocketServer({ noServer: true });
    const h = await start({}, (server) =>
      server.on('upgrade', (req, socket, head) => {
        if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('other'));
      }),
    );
    const port = (h.server.address() as AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
    const first = await new Promise<string>((resolve) =>
      ws.once('message', (d: Buffer) => resolve(d.toString())),
    );
    expect(first).toBe('other');
    ws.terminate();
    other.close();

    const solo = await start();
    const soloPort = (solo.server.address() as AddressInfo).port;
    await expect(TestClient.connect(`ws://127.0.0.1:${soloPort}/nowhere`)).rejects.toThrow('HTTP 404');
    // A request target no URL parser accepts is not ours either, and does not throw in the upgrade listener.
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = connect(soloPort, '127.0.0.1', () =>
        sock.write(
          'GET // HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
      );
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 404')).toBe(true);
  });
});

describe('hub: liveness and backpressure', () => {
  it('reaps a connection that stops answering pings, keeps live ones', async () => {
    // 300 ms leaves the live client (same process) ample time to answer each ping even on a loaded machine.
    const h = await start({ heartbeatMs: 300 });
    const live = await h.connect();
    const dead = await h.connect({ autoPong: false });
    const closed = await dead.closed;
    expect(closed.code).toBe(1006);
    expect(await metricValue(h.registry, 'openmanager_exporter_hub_connections_reaped_total')).toBe(1);
    await until(() => h.hub.connectionCounts().ws === 1, 'dead client removed');
    // The live client has answered several heartbeats by now and still works.
    live.send({ type: 'ping' });
    expect((await live.take()).msg.type).toBe('pong');
  });

  it('skips and counts snapshots for a client that does not read, without delaying the others', async () => {
    const backpressureBytes = 64 * 1024;
    const h = await start({ backpressureBytes, compression: false });
    const fast = await h.connect();
    const slow = await h.connect();
    await fast.subscribe(['server-metrics']);
    await slow.subscribe(['server-metrics']);
    const slowSocket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    slowSocket.pause();
    const payload = fleet(300); // ≈40 KB per message
    // Publish until the paused client's kernel buffers are full and the hub starts skipping it. The fast
    // client receives every message before the next is published: it is never held back by the slow one.
    let ts = 0;
    while (h.hub.clients().every((c) => c.skipped === 0)) {
      ts++;
      if (ts > 3000) throw new Error('slow client was never skipped');
      const r = h.hub.publish('server-metrics', payload, ts);
      expect(r.sent + r.skipped).toBe(2);
      await fast.take(isData('server-metrics', ts));
      fast.queue.length = 0;
    }
    // A few more rounds while the slow client is stuck: all skipped for it, none for the fast one.
    for (let i = 0; i < 5; i++) {
      ts++;
      expect(h.hub.publish('server-metrics', payload, ts)).toMatchObject({ sent: 1, skipped: 1 });
      await fast.take(isData('server-metrics', ts));
    }
    const slowInfo = h.hub.clients().find((c) => c.skipped > 0)!;
    expect(slowInfo.skipped).toBeGreaterThanOrEqual(6);
    expect(slowInfo.bufferedBytes).toBeGreaterThan(backpressureBytes);
    expect(
      await metricValue(h.registry, 'openmanager_exporter_hub_messages_skipped_total', {
        channel: 'server-metrics',
      }),
    ).toBe(slowInfo.skipped);
    // Once it reads again it drains and receives the latest snapshot without waiting for the next publish.
    slowSocket.resume();
    await slow.take(isData('server-metrics', ts), 20_000);
  });
});

describe('hub: paced fan-out', () => {
  it('writes a broadcast to many clients over several loop turns, each client once', async () => {
    const h = await start({ sliceMs: 0, compression: false });
    const clients = await Promise.all(Array.from({ length: 40 }, () => h.connect()));
    await Promise.all(clients.map((c) => c.subscribe(['server-metrics'])));
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const r = h.hub.publish('server-metrics', fleet(3), 1000);
    // A zero slice ends after the first 16 sockets; the rest follow in later turns.
    expect(r).toMatchObject({ sent: 16, skipped: 0, pending: 24 });
    await h.hub.delivered();
    clearInterval(counting);
    expect(turns).toBeGreaterThan(0);
    for (const c of clients) await c.take(isData('server-metrics', 1000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(clients.every((c) => c.queue.length === 0)).toBe(true);
    expect(
      await metricValue(h.registry, 'openmanager_exporter_hub_messages_sent_total', {
        channel: 'server-metrics',
      }),
    ).toBe(40);
  });

  it('a newer message replaces one still fanning out: no client gets the older one after the newer', async () => {
    const h = await start({ sliceMs: 0, compression: false });
    const clients = await Promise.all(Array.from({ length: 40 }, () => h.connect()));
    await Promise.all(clients.map((c) => c.subscribe(['server-metrics'])));
    h.hub.publish('server-metrics', fleet(3, 1), 1000);
    h.hub.publish('server-metrics', fleet(3, 2), 2000);
    await h.hub.delivered();
    for (const c of clients) await c.take(isData('server-metrics', 2000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Only the older message's first slice was written, before the newer one; nobody else gets it.
    const seen = clients.map((c) => c.queue.map((e) => (e.msg.type === 'data' ? e.msg.timestamp : 0)));
    expect(seen.filter((ts) => ts.length > 0)).toEqual(Array.from({ length: 16 }, () => [1000]));
  });

  it('publishes made in a row share one slice: the next waits for a turn when it is used up', async () => {
    const h = await start({ sliceMs: 0, compression: false });
    const clients = await Promise.all(Array.from({ length: 40 }, () => h.connect()));
    await Promise.all(clients.map((c) => c.subscribe(['server-metrics', 'alerts'])));
    const scenario = {
      id: 's1',
      kind: 'cpu_spike' as const,
      server: 'srv-01',
      affected: ['srv-01'],
      start: 1000,
      end: 61_000,
      intensity: 0.8,
      source: 'api' as const,
    };
    const first = h.hub.publish('server-metrics', fleet(3), 1000);
    const second = h.hub.publish(
      'alerts',
      { event: 'scenario_started', scenario, activeScenarios: [] },
      1000,
    );
    // The first fan-out used up the zero slice: the second writes nothing before the loop has had a turn.
    expect(first).toMatchObject({ sent: 16, pending: 24 });
    expect(second).toMatchObject({ sent: 0, pending: 40 });
    await h.hub.delivered();
    for (const c of clients) {
      await c.take(isData('server-metrics', 1000));
      await c.take(isData('alerts', 1000));
    }
  });
});

describe('hub: shutdown', () => {
  it('closes clients with 1001 and refuses new upgrades', async () => {
    const h = await start();
    const c = await h.connect();
    await h.hub.close();
    expect((await c.closed).code).toBe(1001);
    await expect(TestClient.connect(h.url)).rejects.toThrow();
    expect(h.hub.publish('server-metrics', fleet(1)).sent).toBe(0);
  });
});
