/**
 * The client side of bench/hub.bench.ts: one child process holding thousands of WebSocket connections to the
 * hub, each subscribed to server-metrics with permessage-deflate negotiated, recording when each data message
 * arrives. Two client kinds:
 *   - `raw`: a minimal RFC 6455 client over `net`. It stamps a data frame's arrival when its last byte has been
 *     read, keeps the frame, and inflates and checks every kept frame (its timestamp names the round) once the
 *     rounds are over. The clients stand in for browsers on their own machines, which decode in parallel;
 *     decoding 1,000 messages one after another in this one process would add the harness's own CPU time to
 *     the latency of the later clients. Every message is still decoded and attributed by its own timestamp.
 *   - `ws`: the ws library's client, which inflates each message on arrival through an async zlib stream
 *     queued behind a process-wide limiter; with thousands of connections in one process that queue and the
 *     decoding dominate the latency (the row shows what a Node.js consumer in one process sees).
 * Driven over IPC:
 *   {cmd:'connect', url, total, kind} → opens connections until `total` are subscribed → {event:'connected', total}
 *   {cmd:'reset'}                → forgets arrivals and kept frames (after warm-up)
 *   {cmd:'report', sends}        → {event:'report', latencies summary} joined with the parent's send times
 *   {cmd:'now'}                  → {event:'now', now} (clock cross-check)
 * Receive and send times are both `performance.timeOrigin + performance.now()`: wall-clock based and
 * sub-millisecond, comparable between two processes on one machine.
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { constants as zlibConstants, createInflateRaw } from 'node:zlib';
import { WebSocket } from 'ws';

/** CONNECT_CONCURRENCY bounds handshakes in flight so the hub's accept queue is not flooded. */
const CONNECT_CONCURRENCY = 200;

interface Send {
  readonly timestamp: number;
  readonly sentAt: number;
}

/** ClientKind selects the client implementation (see the file comment). */
export type ClientKind = 'raw' | 'ws';

type Command =
  | { cmd: 'connect'; url: string; total: number; kind: ClientKind }
  | { cmd: 'reset' }
  | { cmd: 'report'; sends: Send[] }
  | { cmd: 'now' }
  | { cmd: 'exit' };

const now = (): number => performance.timeOrigin + performance.now();
const sockets: { terminate(): void }[] = [];
let subscribed = 0;
/** arrivals maps a message timestamp to the receive times of every client that got it. */
let arrivals = new Map<number, number[]>();
const TIMESTAMP_KEY = '"timestamp":';

function send(msg: unknown): void {
  process.send?.(msg);
}

/** KeptFrame is a raw client's data frame as read, decoded after the rounds (see the file comment). */
interface KeptFrame {
  readonly at: number;
  readonly compressed: boolean;
  readonly payload: Buffer;
}
/** kept holds the raw clients' data frames since the last reset, in arrival order. */
let kept: KeptFrame[] = [];

/** onData records the arrival of one decoded data message at `at`. */
function onData(data: Buffer, at: number): void {
  // The hub fixes the key order (type, channel, timestamp, data): read the timestamp without parsing the
  // whole snapshot, as a dashboard's first step would be cheap anyway.
  const head = data.subarray(0, 96).toString('latin1');
  if (!head.startsWith('{"type":"data"')) return;
  const i = head.indexOf(TIMESTAMP_KEY);
  const ts = Number(head.slice(i + TIMESTAMP_KEY.length, head.indexOf(',', i)));
  let list = arrivals.get(ts);
  if (list === undefined) arrivals.set(ts, (list = []));
  list.push(at);
}

function openWs(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: true });
    sockets.push(ws);
    let ready = false;
    ws.on('error', (err) => {
      if (!ready) reject(err);
    });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channels: ['server-metrics'] })));
    ws.on('message', (data: Buffer) => {
      if (!ready && data.subarray(0, 24).toString('latin1').startsWith('{"type":"subscriptions"')) {
        ready = true;
        subscribed++;
        resolve();
        return;
      }
      onData(data, now());
    });
  });
}

/** clientFrame builds a masked client frame (RFC 6455 §5.3: clients must mask) for small payloads. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error('bench client frames are small');
  const mask = randomBytes(4);
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return out;
}

/** DEFLATE_TAIL is appended before inflating a permessage-deflate message (RFC 7692 §7.2.2). */
const DEFLATE_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** INFLATE_OUT_BYTES bounds one inflated message; the bench's snapshots are ~3 KB. */
const INFLATE_OUT_BYTES = 256 * 1024;
/** inflateOut is the one output buffer every connection inflates into (the process is single-threaded). */
const inflateOut = Buffer.allocUnsafe(INFLATE_OUT_BYTES);

/**
 * ZlibHandle is the part of node:zlib's native handle that its own `inflateRawSync` drives. Node has no public
 * synchronous API that keeps one inflate context per connection, and allocating a fresh 32 KB window per
 * message (what `inflateRawSync` does) costs more than the inflate itself plus GC pressure at thousands of
 * messages per round — unlike a browser, which keeps its context. The bench uses the handle the same way.
 */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
}

/** Inflater is a permessage-deflate decoder, reset after every message (server_no_context_takeover). */
class Inflater {
  private readonly handle: ZlibHandle;
  /** writeState is where the handle reports [avail_out, avail_in] after writeSync. */
  private readonly writeState: Uint32Array;
  constructor() {
    // The handle and its state array are node:zlib internals (see ZlibHandle); the typed view is checked once
    // by the first inflate of the bench (a wrong size fails the subscription handshake).
    const z = createInflateRaw() as unknown as { _handle: ZlibHandle; _writeState: Uint32Array };
    this.handle = z._handle;
    this.writeState = z._writeState;
  }
  /** inflate decodes one message; the result is valid until the next call on any Inflater. */
  inflate(payload: Buffer): Buffer {
    const input = Buffer.concat([payload, DEFLATE_TAIL]);
    this.handle.writeSync(
      zlibConstants.Z_SYNC_FLUSH,
      input,
      0,
      input.length,
      inflateOut,
      0,
      INFLATE_OUT_BYTES,
    );
    if ((this.writeState[1] ?? 1) !== 0) throw new Error('inflate: message larger than INFLATE_OUT_BYTES');
    const produced = INFLATE_OUT_BYTES - (this.writeState[0] ?? 0);
    // server_no_context_takeover: every message starts from an empty window.
    this.handle.reset();
    return inflateOut.subarray(0, produced);
  }
}

/** READ_BUFFER is where every raw client's socket reads (the process is single-threaded; see openRaw). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** openRaw is a minimal WebSocket client: handshake, unmasked server frames, ping → pong, sync inflate. */
function openRaw(url: string): Promise<void> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    // onread: the socket reads into one shared buffer and calls back directly, without the stream layer's
    // per-read 64 KiB allocation and 'data' event (a browser's network stack costs the page nothing either).
    // Whatever is kept past the callback is copied out of READ_BUFFER.
    const socket: Socket = netConnect({
      host: hostname,
      port: Number(port),
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, chunk: Uint8Array): boolean => {
          onChunk(Buffer.from(chunk.buffer, chunk.byteOffset, n));
          if (buf.length > 0 && buf.buffer === READ_BUFFER.buffer) buf = Buffer.from(buf);
          return true; // keep reading
        },
      },
    });
    sockets.push({ terminate: () => socket.destroy() });
    socket.setNoDelay(true);
    let handshaken = false;
    let ready = false;
    let buf: Buffer = Buffer.alloc(0);
    socket.on('error', (err) => {
      if (!ready) reject(err);
    });
    socket.on('connect', () => {
      socket.write(
        `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n',
      );
    });
    const onChunk = (chunk: Buffer): void => {
      const at = now();
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!handshaken) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101') || !/permessage-deflate/i.test(head)) {
          reject(new Error(`handshake refused or deflate not negotiated: ${head.split('\r\n')[0] ?? ''}`));
          socket.destroy();
          return;
        }
        handshaken = true;
        buf = buf.subarray(end + 4);
        socket.write(
          clientFrame(0x1, Buffer.from(JSON.stringify({ type: 'subscribe', channels: ['server-metrics'] }))),
        );
      }
      for (;;) {
        if (buf.length < 2) return;
        const b0 = buf[0] ?? 0;
        let len = (buf[1] ?? 0) & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = buf.readUInt32BE(2) * 2 ** 32 + buf.readUInt32BE(6);
          off = 10;
        }
        if (buf.length < off + len) return;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        const opcode = b0 & 0x0f;
        if (opcode === 0x9) socket.write(clientFrame(0xa, payload));
        else if (opcode === 0x8) socket.end();
        else if (opcode === 0x1) {
          const compressed = (b0 & 0x40) !== 0;
          if (ready) kept.push({ at, compressed, payload: Buffer.from(payload) });
          else {
            const text = compressed ? inflater.inflate(payload) : payload;
            if (text.subarray(0, 24).toString('latin1').startsWith('{"type":"subscriptions"')) {
              ready = true;
              subscribed++;
              resolve();
            }
          }
        }
      }
    };
  });
}

async function connect(url: string, total: number, kind: ClientKind): Promise<void> {
  let next = sockets.length;
  const workers = Array.from({ length: CONNECT_CONCURRENCY }, async () => {
    while (next < total) {
      next++;
      await (kind === 'raw' ? openRaw(url) : openWs(url));
    }
  });
  await Promise.all(workers);
}

/** REPORT_WAIT_MS bounds how long a report waits for messages still in flight (a slow run, not a lost one). */
const REPORT_WAIT_MS = 30_000;

/** inflater decodes every raw client's frames: one context serves all, as each message stands alone. */
const inflater = new Inflater();

/** decodeKept inflates the kept frames in arrival order and records each as an arrival of its timestamp. */
function decodeKept(): void {
  for (const f of kept) onData(f.compressed ? inflater.inflate(f.payload) : f.payload, f.at);
  kept = [];
}

/** awaitArrivals waits (bounded) until every subscribed client has received every sent message. */
async function awaitArrivals(sends: Send[]): Promise<void> {
  const deadline = Date.now() + REPORT_WAIT_MS;
  const complete = (): boolean => {
    decodeKept();
    return sends.every((s) => (arrivals.get(s.timestamp)?.length ?? 0) >= subscribed);
  };
  while (!complete() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function report(sends: Send[]): unknown {
  const latencies: number[] = [];
  let expected = 0;
  for (const s of sends) {
    expected += subscribed;
    for (const at of arrivals.get(s.timestamp) ?? []) latencies.push(at - s.sentAt);
  }
  const sorted = Float64Array.from(latencies).sort();
  return {
    event: 'report',
    received: sorted.length,
    expected,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
    min: sorted.length ? sorted[0] : Number.NaN,
    cpu: process.cpuUsage(),
  };
}

process.on('message', (raw: unknown) => {
  const m = raw as Command;
  switch (m.cmd) {
    case 'connect':
      connect(m.url, m.total, m.kind).then(
        () => send({ event: 'connected', total: subscribed }),
        (err: unknown) => send({ event: 'error', message: String(err) }),
      );
      break;
    case 'reset':
      arrivals = new Map();
      kept = [];
      send({ event: 'reset', cpu: process.cpuUsage() });
      break;
    case 'report':
      void awaitArrivals(m.sends).then(() => send(report(m.sends)));
      break;
    case 'now':
      send({ event: 'now', now: now() });
      break;
    case 'exit':
      for (const ws of sockets) ws.terminate();
      process.disconnect();
      break;
  }
});
send({ event: 'ready' });
