import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { HUB_TICKET_PATH, hubTicketSchema } from '../contract/hub-protocol.js';
import { createHub, type Hub } from './hub.js';
import { createStreamRouter } from './sse-endpoint.js';
import { createTicketRouter } from './ticket-endpoint.js';

interface Running {
  hub: Hub;
  server: Server;
  base: string;
}

const running: Running[] = [];

async function start(token: string | null): Promise<Running> {
  const hub = createHub({ logger: pino({ level: 'silent' }), registry: new Registry(), token });
  const app = express();
  app.use(createTicketRouter(hub));
  app.use(createStreamRouter(hub));
  const server = createServer(app);
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const r = { hub, server, base: `127.0.0.1:${(server.address() as AddressInfo).port}` };
  running.push(r);
  return r;
}

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.hub.close();
    r.server.closeAllConnections();
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
  }
});

/** wsStatus opens a WebSocket and reports 'open' or the HTTP status that refused the upgrade. */
function wsStatus(url: string): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

const post = (r: Running, headers: Record<string, string> = {}) =>
  fetch(`http://${r.base}${HUB_TICKET_PATH}`, { method: 'POST', headers });

describe('POST /api/hub/ticket', () => {
  it.each([
    ['no Authorization', {}, 401],
    ['a wrong token', { Authorization: 'Bearer guess' }, 401],
    ['the hub token', { Authorization: 'Bearer s3cret' }, 200],
  ] as const)('with %s answers %i', async (_name, headers, status) => {
    const r = await start('s3cret');
    const res = await post(r, headers);
    expect(res.status).toBe(status);
    const body: unknown = await res.json();
    if (status === 200) {
      expect(hubTicketSchema.safeParse(body).success).toBe(true);
      expect(res.headers.get('cache-control')).toBe('no-store');
    } else {
      expect(body).toMatchObject({ type: 'error', code: 'unauthorized' });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('gives a ticket that opens /ws once, in place of the token', async () => {
    const r = await start('s3cret');
    const { ticket } = hubTicketSchema.parse(
      await (await post(r, { Authorization: 'Bearer s3cret' })).json(),
    );
    expect(await wsStatus(`ws://${r.base}/ws`)).toBe(401);
    expect(await wsStatus(`ws://${r.base}/ws?ticket=${ticket}`)).toBe('open');
    expect(await wsStatus(`ws://${r.base}/ws?ticket=${ticket}`)).toBe(401);
  });

  it('gives a ticket that opens the SSE stream once', async () => {
    const r = await start('s3cret');
    const { ticket } = hubTicketSchema.parse(
      await (await post(r, { Authorization: 'Bearer s3cret' })).json(),
    );
    const ac = new AbortController();
    const first = await fetch(`http://${r.base}/api/stream?ticket=${ticket}`, { signal: ac.signal });
    expect(first.status).toBe(200);
    ac.abort();
    const second = await fetch(`http://${r.base}/api/stream?ticket=${ticket}`);
    expect(second.status).toBe(401);
  });

  it('issues tickets to anyone when the hub has no token, and the hub still admits without one', async () => {
    const r = await start(null);
    const res = await post(r);
    expect(res.status).toBe(200);
    const { ticket } = hubTicketSchema.parse(await res.json());
    expect(await wsStatus(`ws://${r.base}/ws?ticket=${ticket}`)).toBe('open');
    expect(await wsStatus(`ws://${r.base}/ws`)).toBe('open');
  });
});
