/**
 * The fuzzer's client: sends one FuzzRequest to an exporter and returns what came back, always within a
 * deadline (an answer that does not arrive is a `timeout`, never a hang of the fuzzer). HTTP requests go
 * through node's client on a keep-alive agent; raw requests are bytes on a fresh socket; WebSocket sessions
 * send their frames and end with a `ping` whose `pong` says every frame was handled; SSE reads a stream's
 * first messages and disconnects.
 */
import type { Agent } from 'node:http';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { gunzipSync } from 'node:zlib';
import WebSocket from 'ws';
import type {
  BodySpec,
  FuzzRequest,
  FuzzResponse,
  HttpRequest,
  RawRequest,
  SseRequest,
  WsFrame,
  WsRequest,
} from './model.js';
import { bigWriteRequest, snappyCompress } from './remote-write.js';

/** ClientOptions configures sending. */
export interface ClientOptions {
  /** baseUrl is the exporter's URL, e.g. http://127.0.0.1:40123. */
  readonly baseUrl: string;
  /** deadlineMs bounds every answer; past it the request is abandoned and reported as `timeout`. */
  readonly deadlineMs: number;
  /** rawIdleMs is how long a raw request waits for a first byte (the server may rightly wait for more input). */
  readonly rawIdleMs: number;
  /** bodyLimit is how many bytes of a body are kept for the oracle. */
  readonly bodyLimit: number;
  readonly agent: Agent;
  /** nowMs anchors bodies built at send time (rw-big). */
  readonly nowMs: number;
}

/** DEFAULT_BODY_LIMIT keeps whole any body the exporter should send (the largest, /metrics, is ~1 MB). */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

/** WS_END_ID is the id of the ping that ends a WebSocket session. */
const WS_END_ID = 'fuzz-end';

const bigBodies = new Map<string, Buffer>();

/** materialize turns a BodySpec into bytes (large ones are built once and cached). */
export function materialize(body: BodySpec, nowMs: number): Buffer {
  if ('text' in body) return Buffer.from(body.text, 'utf8');
  if ('base64' in body) return Buffer.from(body.base64, 'base64');
  if ('fill' in body) return Buffer.alloc(body.fill.length, body.fill.byte);
  const key = `${body.rwBig.series}x${body.rwBig.samples}`;
  let b = bigBodies.get(key);
  if (b === undefined) {
    b = Buffer.from(snappyCompress(bigWriteRequest(body.rwBig.series, body.rwBig.samples, nowMs)));
    bigBodies.set(key, b);
  }
  return b;
}

function flatHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Collector gathers a body up to a limit, counting every byte. */
class Collector {
  private readonly parts: Buffer[] = [];
  private kept = 0;
  bytes = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.kept >= this.limit) return;
    const part = chunk.length > this.limit - this.kept ? chunk.subarray(0, this.limit - this.kept) : chunk;
    this.parts.push(part);
    this.kept += part.length;
  }
  get truncated(): boolean {
    return this.bytes > this.kept;
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function decodeBody(buf: Buffer, headers: Record<string, string>, truncated: boolean): string {
  if (!truncated && /\bgzip\b/i.test(headers['content-encoding'] ?? '') && buf.length > 0) {
    try {
      return gunzipSync(buf).toString('utf8');
    } catch (err) {
      return `<gzip body that does not decompress: ${(err as Error).message}>`;
    }
  }
  return buf.toString('utf8');
}

function sendHttp(r: HttpRequest, o: ClientOptions): Promise<FuzzResponse> {
  const url = new URL(o.baseUrl);
  const body = r.body === undefined ? undefined : materialize(r.body, o.nowMs);
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let req: ReturnType<typeof httpRequest> | undefined;
    const timer = setTimeout(() => {
      fail('timeout');
      req?.destroy();
    }, o.deadlineMs);
    const finish = (res: Omit<FuzzResponse, 'ms'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...res, ms: performance.now() - started });
    };
    const fail = (error: string): void =>
      finish({ status: 0, headers: {}, body: '', bodyBytes: 0, truncated: false, error });
    try {
      req = httpRequest({
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        headers: { ...r.headers, ...(body === undefined ? {} : { 'Content-Length': String(body.length) }) },
        agent: o.agent,
      });
    } catch (err) {
      // node's client refuses some methods, paths and header values before sending: nothing reached the exporter.
      fail(`client-refused: ${(err as Error).message}`);
      return;
    }
    req.on('response', (res) => {
      const c = new Collector(o.bodyLimit);
      const headers = flatHeaders(res.headers);
      // An event stream (/api/stream reached by a plain request) never ends by design: its first event is the
      // whole answer to judge, as for the SSE requests.
      const stream = res.statusCode === 200 && isEventStream(headers);
      const endStream = (): void => {
        finish({
          status: 200,
          headers,
          body: c.buffer().toString('utf8'),
          bodyBytes: c.bytes,
          truncated: c.truncated,
        });
        req?.destroy();
      };
      res.on('data', (d: Buffer) => {
        c.push(d);
        if (stream && c.buffer().includes('\n\n')) endStream();
      });
      res.on('end', () => {
        finish({
          status: res.statusCode ?? 0,
          headers,
          body: decodeBody(c.buffer(), headers, c.truncated),
          bodyBytes: c.bytes,
          truncated: c.truncated,
        });
      });
      res.on('error', (err) => fail(`response: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    req.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message));
    if (body === undefined) req.end();
    else req.end(body);
  });
}

/** isEventStream tells a server-sent event stream (it never ends; its first event is the answer). */
function isEventStream(headers: Record<string, string>): boolean {
  return /^text\/event-stream\b/i.test(headers['content-type'] ?? '');
}

/** statusOfRaw parses the final (non-1xx) status line and body of a raw HTTP/1.x response. */
function parseRaw(buf: Buffer): { status: number; headers: Record<string, string>; body: Buffer } {
  let rest = buf;
  for (;;) {
    const text = rest.toString('latin1');
    const m = /^HTTP\/\d\.\d (\d{3})[^\r\n]*\r\n/.exec(text);
    const end = text.indexOf('\r\n\r\n');
    if (!m || end < 0) return { status: 0, headers: {}, body: rest };
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of text.slice(m[0].length, end).split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let body = rest.subarray(end + 4);
    if (status >= 100 && status < 200 && status !== 101) {
      rest = body;
      continue;
    }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
    return { status, headers, body };
  }
}

function dechunk(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < b.length) {
    const eol = b.indexOf('\r\n', at, 'latin1');
    if (eol < 0) break;
    const size = parseInt(b.subarray(at, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function sendRaw(r: RawRequest, o: ClientOptions): Promise<FuzzResponse> {
  const url = new URL(o.baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    const c = new Collector(o.bodyLimit);
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { status, headers, body } = parseRaw(c.buffer());
      resolve({
        status,
        headers,
        body: decodeBody(body, headers, c.truncated),
        bodyBytes: c.bytes,
        truncated: c.truncated,
        ms: performance.now() - started,
        ...(error === undefined ? {} : { error }),
      });
    };
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    // No first byte within rawIdleMs: the exporter may rightly be waiting for the rest of a declared body.
    let timer = setTimeout(() => finish('no-response'), o.rawIdleMs);
    socket.on('data', (d: Buffer) => {
      if (c.bytes === 0) {
        clearTimeout(timer);
        timer = setTimeout(() => finish('timeout'), o.deadlineMs);
      }
      c.push(d);
      // An event stream never ends by design: its head and first event (within the first 64 KiB) are the answer.
      // Neither does a connection switched to WebSocket: the 101 head ends the HTTP exchange.
      if (c.bytes > 65_536) return;
      const seen = parseRaw(c.buffer());
      if (seen.status === 200 && isEventStream(seen.headers) && seen.body.includes('\n\n')) finish();
      if (seen.status === 101) finish();
    });
    socket.on('close', () => finish(c.bytes === 0 ? 'closed' : undefined));
    socket.on('error', (err) => finish((err as NodeJS.ErrnoException).code ?? err.message));
    socket.write(Buffer.from(r.latin1, 'latin1'));
  });
}

function frameData(f: WsFrame): { data: Buffer | string; binary: boolean } {
  if ('text' in f) return { data: f.text, binary: false };
  if ('binary' in f) return { data: Buffer.from(f.binary, 'base64'), binary: true };
  const buf = Buffer.alloc(f.fill.length, f.fill.byte);
  return { data: f.fill.binary ? buf : buf.toString('latin1'), binary: f.fill.binary };
}

/** rawDataBuffer joins what ws hands a message listener (one buffer, fragments, or an ArrayBuffer). */
export function rawDataBuffer(data: WebSocket.RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

/** MESSAGE_KEEP bounds how much of each received message a report keeps. */
const MESSAGE_KEEP = 2_000;

function sendWs(r: WsRequest, o: ClientOptions): Promise<FuzzResponse> {
  const started = performance.now();
  const wsUrl = o.baseUrl.replace(/^http/, 'ws') + r.path;
  return new Promise((resolve) => {
    const messages: string[] = [];
    let settled = false;
    let closeCode: number | undefined;
    let opened = false;
    let sent = 0;
    let rateLimited = 0;
    let windowLimit = Number.POSITIVE_INFINITY;
    const finish = (res: Partial<FuzzResponse>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      ws.terminate();
      resolve({
        // 101 once upgraded; a session that never opened and got no HTTP answer has no status.
        status: opened ? 101 : 0,
        headers: {},
        body: '',
        bodyBytes: 0,
        truncated: false,
        messages,
        ...(closeCode === undefined ? {} : { closeCode }),
        ...res,
        ms: performance.now() - started,
      });
    };
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl, {
        headers: r.headers,
        handshakeTimeout: o.deadlineMs,
        maxPayload: 64 * 1024 * 1024,
      });
    } catch (err) {
      resolve({
        status: 0,
        headers: {},
        body: '',
        bodyBytes: 0,
        truncated: false,
        ms: 0,
        error: `client-refused: ${(err as Error).message}`,
      });
      return;
    }
    const timer = setTimeout(() => finish({ error: 'timeout' }), o.deadlineMs);
    ws.on('unexpected-response', (_req, res) => {
      const c = new Collector(o.bodyLimit);
      res.on('data', (d: Buffer) => c.push(d));
      res.on('end', () =>
        finish({
          status: res.statusCode ?? 0,
          headers: flatHeaders(res.headers),
          body: c.buffer().toString('utf8'),
          bodyBytes: c.bytes,
          truncated: c.truncated,
          messages: [],
        }),
      );
      res.on('error', () => finish({ status: res.statusCode ?? 0, error: 'response error' }));
    });
    ws.on('error', (err) => {
      if (ws.readyState !== WebSocket.OPEN && messages.length === 0)
        finish({ status: 0, error: err.message });
    });
    ws.on('close', (code) => {
      closeCode = code;
      finish({});
    });
    ws.on('message', (data, isBinary) => {
      const bytes = rawDataBuffer(data);
      const text = isBinary ? `<binary ${bytes.length} bytes>` : bytes.toString('utf8');
      messages.push(text.length > MESSAGE_KEEP ? `${text.slice(0, MESSAGE_KEEP)}…` : text);
      let m: { type?: unknown; id?: unknown; code?: unknown; limits?: { maxMessagesPerWindow?: unknown } };
      try {
        m = JSON.parse(text) as typeof m;
      } catch {
        return;
      }
      if (m.type === 'welcome' && typeof m.limits?.maxMessagesPerWindow === 'number')
        windowLimit = m.limits.maxMessagesPerWindow;
      if (m.type === 'pong' && m.id === WS_END_ID) finish({});
      // Past the hub's per-window message limit the final ping is refused too: its refusal ends the session.
      if (m.type === 'error' && m.code === 'rate_limited' && ++rateLimited >= sent - windowLimit) finish({});
    });
    ws.on('open', () => {
      opened = true;
      const out = [
        ...r.frames.map(frameData),
        { data: JSON.stringify({ type: 'ping', id: WS_END_ID }), binary: false },
      ];
      for (const f of out) {
        if (ws.readyState !== WebSocket.OPEN) break;
        ws.send(f.data, { binary: f.binary });
        sent++;
      }
    });
  });
}

/** SSE_ENOUGH is the message after which an SSE read stops: the subscription is confirmed. */
const SSE_ENOUGH = /"type":"subscriptions"/;

function sendSse(r: SseRequest, o: ClientOptions): Promise<FuzzResponse> {
  const url = new URL(o.baseUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const messages: string[] = [];
    const c = new Collector(o.bodyLimit);
    let status = 0;
    let headers: Record<string, string> = {};
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({
        status,
        headers,
        body: c.buffer().toString('utf8'),
        bodyBytes: c.bytes,
        truncated: c.truncated,
        messages,
        ms: performance.now() - started,
        ...(error === undefined ? {} : { error }),
      });
    };
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path: r.path,
      headers: r.headers,
      agent: false,
    });
    const timer = setTimeout(() => finish('timeout'), o.deadlineMs);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      headers = flatHeaders(res.headers);
      let pending = '';
      res.on('data', (d: Buffer) => {
        c.push(d);
        if (status !== 200) return;
        pending += d.toString('utf8');
        let i: number;
        while ((i = pending.indexOf('\n\n')) >= 0) {
          const event = pending.slice(0, i);
          pending = pending.slice(i + 2);
          for (const line of event.split('\n'))
            if (line.startsWith('data:')) messages.push(line.slice(5).trim());
          if (SSE_ENOUGH.test(event)) {
            finish();
            return;
          }
        }
      });
      res.on('end', () => finish());
      res.on('error', () => finish(status === 0 ? 'response error' : undefined));
    });
    req.on('error', (err) => finish((err as NodeJS.ErrnoException).code ?? err.message));
    req.end();
  });
}

/** send sends one request and resolves with its response; it never rejects and never outlives the deadline. */
export function send(r: FuzzRequest, o: ClientOptions): Promise<FuzzResponse> {
  switch (r.kind) {
    case 'http':
      return sendHttp(r, o);
    case 'raw':
      return sendRaw(r, o);
    case 'ws':
      return sendWs(r, o);
    case 'sse':
      return sendSse(r, o);
  }
}
