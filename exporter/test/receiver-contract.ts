/**
 * The receiver contract suite: one set of behaviours every notifier must show (notify/receiver.ts), run by
 * each receiver's test file (`runReceiverContract({ name, create, path, checkPayload })`) against a local
 * stand-in server that answers as commanded. It covers the exact payload on success, the idempotency key,
 * retryable answers (500, 503, 429 with Retry-After, 408), final ones (400, 404, a redirect), a receiver that
 * hangs (timeout), one that answers with a huge body (bounded read), one that is not there (connection
 * refused), and that no error message quotes the credential.
 */
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../src/notify/http-client.js';
import type { Notification } from '../src/notify/notification.js';
import type { Receiver } from '../src/notify/receiver.js';
import { StandInReceiver, type Received } from './stand-in-receiver.js';

/** CONTRACT_TIMEOUT_MS is the receivers' timeout in the suite: short, so the hang case is quick. */
export const CONTRACT_TIMEOUT_MS = 400;

/** SECRET_PATH is the credential part of the URL every receiver is given; no error may show it. */
export const SECRET_PATH = '/services/T0SECRET/B0SECRET/xyzSECRETxyz';

/** ReceiverContractFactory makes one kind of receiver for the suite. */
export interface ReceiverContractFactory {
  readonly name: string;
  /** create builds the receiver for `url` (the stand-in's, with SECRET_PATH) and CONTRACT_TIMEOUT_MS. */
  create(url: string): Receiver;
  /** path is the request path the receiver must use for `url` (SECRET_PATH for most). */
  readonly path: string;
  /** checkPayload asserts the exact request for `notification` (body and headers). */
  checkPayload(req: Received, notification: Notification): void;
}

/** CONTRACT_NOTIFICATION is the notification the suite sends; it has two alerts, one resolved. */
export const CONTRACT_NOTIFICATION: Notification = {
  receiver: 'contract',
  groupKey: '{}/{}:{alertname="HighCPUUsage", server="web-01"}',
  status: 'firing',
  groupLabels: { alertname: 'HighCPUUsage', server: 'web-01' },
  commonLabels: { alertname: 'HighCPUUsage', server: 'web-01', severity: 'warning' },
  commonAnnotations: {},
  externalURL: 'http://127.0.0.1:3001',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighCPUUsage', server: 'web-01', severity: 'warning', core: '0' },
      annotations: {
        summary: 'High CPU usage on web-01',
        description: 'CPU usage is 91.5% on web-01',
        runbook_url: 'https://runbooks.example/cpu',
      },
      startsAt: '2026-01-05T12:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:3001/graph?g0.expr=cpu&g0.tab=1',
      fingerprint: '0123456789abcdef',
      value: 91.5,
    },
    {
      status: 'resolved',
      labels: { alertname: 'HighCPUUsage', server: 'web-01', severity: 'warning', core: '1' },
      annotations: { summary: 'High CPU usage on web-01', description: 'CPU usage is 80.1% on web-01' },
      startsAt: '2026-01-05T11:50:00.000Z',
      endsAt: '2026-01-05T12:01:00.000Z',
      generatorURL: 'http://127.0.0.1:3001/graph?g0.expr=cpu&g0.tab=1',
      fingerprint: 'fedcba9876543210',
      value: 80.1,
    },
  ],
  truncatedAlerts: 0,
};

const CTX = { idempotencyKey: 'abc123-firing-7', attempt: 1 };

async function sendError(r: Receiver, n: Notification = CONTRACT_NOTIFICATION): Promise<DeliveryError> {
  try {
    await r.send(n, CTX);
  } catch (err) {
    expect(err).toBeInstanceOf(DeliveryError);
    const e = err as DeliveryError;
    expect(e.message).not.toContain('SECRET');
    return e;
  }
  throw new Error('send succeeded where it should have failed');
}

/** freePortUrl returns a URL on 127.0.0.1 where nothing listens (a port just released). */
async function freePortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** runReceiverContract registers the suite for one kind of receiver. */
export function runReceiverContract(f: ReceiverContractFactory): void {
  describe(`receiver contract: ${f.name}`, () => {
    let stand: StandInReceiver;
    let receiver: Receiver;
    beforeEach(async () => {
      stand = await StandInReceiver.start();
      receiver = f.create(stand.url + SECRET_PATH);
    });
    afterEach(async () => {
      await stand.close();
    });

    it('sends the exact payload once and resolves on 2xx', async () => {
      await receiver.send(CONTRACT_NOTIFICATION, CTX);
      expect(stand.received).toHaveLength(1);
      const req = stand.received[0]!;
      expect(req.method).toBe('POST');
      expect(req.path).toBe(f.path);
      expect(req.headers['content-type']).toMatch(/^application\/json/);
      expect(req.headers['idempotency-key']).toBe(CTX.idempotencyKey);
      f.checkPayload(req, CONTRACT_NOTIFICATION);
    });

    it.each<[string, number, string | undefined, number | undefined]>([
      ['500', 500, undefined, undefined],
      ['503 with Retry-After', 503, '2', 2_000],
      ['429 with Retry-After', 429, '7', 7_000],
      ['408', 408, undefined, undefined],
    ])('treats %s as retryable', async (_name, status, retryAfter, wantRetryAfter) => {
      stand.answer = () => ({
        kind: 'status',
        status,
        body: 'try later',
        ...(retryAfter ? { retryAfter } : {}),
      });
      const e = await sendError(receiver);
      expect(e).toMatchObject({ kind: 'retryable', status });
      expect(e.retryAfterMs).toBe(wantRetryAfter);
      expect(e.message).toContain(`HTTP ${status}`);
    });

    it.each([400, 403, 404])('treats %d as final', async (status) => {
      stand.answer = () => ({ kind: 'status', status, body: `echo ${SECRET_PATH}` });
      const e = await sendError(receiver);
      expect(e).toMatchObject({ kind: 'permanent', status });
    });

    it('does not follow a redirect', async () => {
      stand.answer = () => ({ kind: 'redirect', location: `${stand.url}/elsewhere` });
      const e = await sendError(receiver);
      expect(e).toMatchObject({ kind: 'permanent', status: 302 });
      expect(stand.received).toHaveLength(1);
    });

    it('gives up on a receiver that never answers, after its timeout', async () => {
      stand.answer = () => ({ kind: 'hang' });
      const began = performance.now();
      const e = await sendError(receiver);
      expect(e.kind).toBe('retryable');
      expect(e.message).toMatch(/timeout/);
      expect(performance.now() - began).toBeLessThan(CONTRACT_TIMEOUT_MS + 2_000);
    });

    it('reads a bounded part of a huge answer', async () => {
      stand.answer = () => ({ kind: 'huge', bytes: 200 * 1024 * 1024 });
      await receiver.send(CONTRACT_NOTIFICATION, CTX).catch((err: unknown) => {
        // A receiver may also fail it (a timeout while reading), but never read it all.
        expect(err).toBeInstanceOf(DeliveryError);
      });
      expect(stand.hugeBytesSent).toBeLessThan(32 * 1024 * 1024);
    });

    it('reports a receiver that is not there as retryable, without the credential', async () => {
      const r = f.create((await freePortUrl()) + SECRET_PATH);
      const e = await sendError(r);
      expect(e.kind).toBe('retryable');
      expect(e.message).toMatch(/ECONNREFUSED/);
    });
  });
}
