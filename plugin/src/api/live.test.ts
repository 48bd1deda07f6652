/**
 * @jest-environment-options {"customExportConditions": ["node", "require"]}
 */
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import type { AddressInfo } from 'net';

import { backoffDelay, deriveLiveUrl, LiveClient, redactUrl, ticketedUrlSource, type LiveState } from './live';
import { ExporterApiError } from './errors';
import type { AnyDataMessage } from './types';
import { metrics, server } from '../test/fixtures';

/** waitFor polls a condition (bounded) instead of sleeping. */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function dataMessage(cpu: number): string {
  return JSON.stringify({
    type: 'data',
    channel: 'server-metrics',
    timestamp: Date.now(),
    data: metrics([server('web-01', { cpu })]),
  });
}

describe('LiveClient against an in-process ws server', () => {
  let wss: WebSocketServer;
  let url: string;
  const sockets: WsSocket[] = [];
  const received: string[] = [];
  let client: LiveClient | undefined;

  beforeEach(async () => {
    sockets.length = 0;
    received.length = 0;
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
    wss.on('connection', (ws) => {
      sockets.push(ws);
      ws.on('message', (m) => received.push(String(m)));
    });
  });

  afterEach(async () => {
    client?.stop();
    for (const s of sockets) {
      s.terminate();
    }
    await new Promise((r) => wss.close(r));
  });

  test('subscribes, goes live on the first data message and delivers it', async () => {
    client = new LiveClient({ url, channels: ['server-metrics', 'alerts'] });
    const states: LiveState[] = [];
    const messages: AnyDataMessage[] = [];
    const arrivals: number[] = [];
    client.onState((s) => states.push(s));
    client.onMessage((m, receivedAt) => {
      messages.push(m);
      arrivals.push(receivedAt);
    });
    client.start();
    await waitFor(() => received.length === 1, 'the subscribe message');
    expect(JSON.parse(received[0] ?? '')).toEqual({ type: 'subscribe', channels: ['server-metrics', 'alerts'] });
    expect(client.state).toBe('connecting');
    sockets[0]?.send(JSON.stringify({ type: 'welcome', protocolVersion: 1 }));
    const sentAt = performance.now();
    sockets[0]?.send(dataMessage(42));
    await waitFor(() => messages.length === 1, 'a data message');
    // The arrival time is on the page clock (what update timings measure from), taken when the message came in.
    expect(arrivals[0]).toBeGreaterThanOrEqual(sentAt);
    expect(arrivals[0]).toBeLessThanOrEqual(performance.now());
    expect(client.state).toBe('live');
    expect(states).toEqual(['live']);
    expect(messages[0]?.channel).toBe('server-metrics');
  });

  test('turns stale when the connection drops and reconnects with backoff', async () => {
    client = new LiveClient({ url, channels: ['server-metrics'], initialBackoffMs: 20, maxBackoffMs: 50 });
    client.start();
    await waitFor(() => sockets.length === 1 && received.length === 1, 'the first connection');
    sockets[0]?.send(dataMessage(1));
    await waitFor(() => client?.state === 'live', 'live');
    sockets[0]?.close();
    await waitFor(() => client?.state === 'stale', 'stale after the close');
    await waitFor(() => sockets.length === 2 && received.length === 2, 'a reconnect');
    sockets[1]?.send(dataMessage(2));
    await waitFor(() => client?.state === 'live', 'live again');
    expect(client.reconnectAttempts).toBe(0);
  });

  test('keeps retrying while the hub is down', async () => {
    const deadUrl = url;
    await new Promise((r) => wss.close(r));
    client = new LiveClient({ url: deadUrl, channels: ['server-metrics'], initialBackoffMs: 10, maxBackoffMs: 20 });
    client.start();
    await waitFor(() => (client?.reconnectAttempts ?? 0) >= 2, 'two reconnect attempts');
    expect(client.state).toBe('connecting');
    // Three attempts in a row that never opened a socket: the page polls instead, and says why.
    await waitFor(() => client?.state === 'polling', 'polling after three failed attempts');
    expect(client.reason).toMatch(/^the hub at ws:\/\/127\.0\.0\.1:\d+\/ws refused the connection/);
    await waitFor(() => (client?.reconnectAttempts ?? 0) >= 5, 'still retrying while polling');
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
  });

  test('resolves a fresh URL (a new ticket) for every attempt', async () => {
    let issued = 0;
    client = new LiveClient({
      url: async () => `${url}?ticket=t${++issued}`,
      channels: ['server-metrics'],
      initialBackoffMs: 10,
      maxBackoffMs: 20,
    });
    const paths: string[] = [];
    wss.on('connection', (_ws, req) => paths.push(req.url ?? ''));
    client.start();
    await waitFor(() => sockets.length === 1 && received.length === 1, 'the first connection');
    sockets[0]?.close();
    await waitFor(() => sockets.length === 2, 'a reconnect');
    expect(paths).toEqual(['/ws?ticket=t1', '/ws?ticket=t2']);
  });

  test('polls, with the reason, while no URL can be had, and goes live once one can', async () => {
    let fail = true;
    client = new LiveClient({
      url: async () => {
        if (fail) {
          throw new Error('no hub ticket: the exporter requires its hub token');
        }
        return url;
      },
      channels: ['server-metrics'],
      initialBackoffMs: 10,
      maxBackoffMs: 20,
    });
    client.start();
    await waitFor(() => client?.state === 'polling', 'polling');
    expect(client.reason).toBe('no hub ticket: the exporter requires its hub token');
    fail = false;
    await waitFor(() => received.length === 1, 'a connection once a URL resolves');
    sockets[0]?.send(dataMessage(1));
    await waitFor(() => client?.state === 'live', 'live');
    expect(client.reason).toBeUndefined();
  });

  test('turns stale when data stops arriving on an open connection', async () => {
    client = new LiveClient({ url, channels: ['server-metrics'], staleAfterMs: 100 });
    client.start();
    await waitFor(() => received.length === 1, 'the subscribe message');
    sockets[0]?.send(dataMessage(1));
    await waitFor(() => client?.state === 'live', 'live');
    await waitFor(() => client?.state === 'stale', 'stale after staleAfterMs');
    sockets[0]?.send(dataMessage(2));
    await waitFor(() => client?.state === 'live', 'live after new data');
  });

  test('ignores non-data and malformed messages', async () => {
    client = new LiveClient({ url, channels: ['server-metrics'] });
    const messages: AnyDataMessage[] = [];
    client.onMessage((m) => messages.push(m));
    client.start();
    await waitFor(() => received.length === 1, 'the subscribe message');
    sockets[0]?.send('not json');
    sockets[0]?.send(JSON.stringify({ type: 'pong', serverTime: 1 }));
    sockets[0]?.send(dataMessage(3));
    await waitFor(() => messages.length === 1, 'the data message');
    expect(client.state).toBe('live');
  });
});

describe('backoffDelay', () => {
  test.each([
    [0, 0, 250],
    [0, 1, 500],
    [1, 0, 500],
    [3, 1, 4000],
    [10, 1, 15000],
    [10, 0, 7500],
  ])('attempt %i with random %d waits %i ms (initial 500, max 15000)', (attempt, random, expected) => {
    expect(backoffDelay(attempt, 500, 15000, () => random)).toBe(expected);
  });
});

describe('deriveLiveUrl', () => {
  test.each([
    ['http://localhost:3001', 'ws://localhost:3001/ws'],
    ['https://exporter.example:8443/', 'wss://exporter.example:8443/ws'],
    ['http://proxy/openmanager', 'ws://proxy/openmanager/ws'],
    ['', 'ws://localhost:3001/ws'],
    [undefined, 'ws://localhost:3001/ws'],
  ])('%s → %s', (input, expected) => {
    expect(deriveLiveUrl(input)).toBe(expected);
  });
});

describe('ticketedUrlSource', () => {
  const base = 'ws://exporter:3001/ws';
  test('adds a fresh ticket to the hub URL', async () => {
    let n = 0;
    const source = ticketedUrlSource(base, async () => ({ ticket: `t-${++n}`, expiresAt: 0 }));
    await expect(source()).resolves.toBe('ws://exporter:3001/ws?ticket=t-1');
    await expect(source()).resolves.toBe('ws://exporter:3001/ws?ticket=t-2');
  });

  test.each([
    ['an exporter without tickets (404) gets the bare URL', 404, 'missing', base],
    [
      'a refused hub token (401) says to set it',
      401,
      'A ticket costs the hub token',
      /set "Hub token" in the app configuration/,
    ],
    ['anything else is reported as it is', 502, 'Bad Gateway', /^no hub ticket: Bad Gateway$/],
  ])('%s', async (_name, status, message, expected) => {
    const source = ticketedUrlSource(base, () => Promise.reject(new ExporterApiError(message, status, 'x')));
    if (typeof expected === 'string') {
      await expect(source()).resolves.toBe(expected);
    } else {
      await expect(source()).rejects.toThrow(expected);
    }
  });
});

describe('redactUrl', () => {
  test.each([
    ['ws://h:1/ws?ticket=secret', 'ws://h:1/ws'],
    ['not a url?token=x', 'not a url'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});
