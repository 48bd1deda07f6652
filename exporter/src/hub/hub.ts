/**
 * The real-time hub (docs/hub-protocol.md): WebSocket clients at `/ws` (and SSE clients through
 * sse-endpoint.ts) subscribe to channels; the app publishes each channel's latest state and the hub fans it
 * out — serialised and compressed once per distinct server filter, written to every socket without waiting,
 * skipped (and counted) for a client whose send buffer is over the backpressure threshold. A socket write
 * costs a system call (10–30 µs), so at 1,000 clients the fan-out is paced (util/pacer.ts): it gives the
 * event loop a turn whenever its slice is used up, and a newer message on the channel replaces it for the
 * clients not reached yet.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { systemClock, type Clock } from '../util/clock.js';
import { Pacer, SLICE_MS } from '../util/pacer.js';
import { checkAccess, requestUrl, type AccessDenial, type AccessRules } from './access.js';
import { parseClientMessage } from './client-message.js';
import { EncodedMessage, type CompressionSettings } from './encoded-message.js';
import {
  HubClient,
  makeServerFilter,
  type ClientTransport,
  type ServerFilter,
  type TransportKind,
} from './hub-client.js';
import { HubError } from './hub-errors.js';
import { HubMetrics } from './hub-metrics.js';
import {
  CHANNEL_PAYLOAD_SCHEMAS,
  CHANNELS,
  CLOSE_CODES,
  isChannel,
  MAX_FILTER_SERVERS,
  PROTOCOL_VERSION,
  type Channel,
  type ChannelPayload,
  type ConnectionCounts,
  type DataMessage,
  type ErrorMessage,
  type HubErrorCode,
  type HubLimits,
  type PongMessage,
  type SubscriptionsMessage,
  type WelcomeMessage,
} from '../contract/hub-protocol.js';
import { TicketBook, TICKET_TTL_MS } from './tickets.js';
import { NO_DEFLATE, parseNegotiatedDeflate, type DeflateParams } from './ws-frame.js';

/** UpgradeServer is an HTTP or HTTPS server whose `upgrade` events the hub listens to. */
export type UpgradeServer = HttpServer | HttpsServer;

/** HubOptions are the hub's tunables; every one has a default in DEFAULT_HUB_OPTIONS. */
export interface HubOptions {
  /** path is the WebSocket endpoint on the attached HTTP server. */
  readonly path: string;
  /** maxConnections caps WebSocket + SSE clients together; beyond it WebSocket closes with 1013, SSE gets 503. */
  readonly maxConnections: number;
  /** heartbeatMs: ping interval; a WebSocket client that has not answered the previous ping is dropped. */
  readonly heartbeatMs: number;
  /** maxFrameBytes is ws's `maxPayload`: a bigger client frame closes the connection with 1009. */
  readonly maxFrameBytes: number;
  /** maxMessageBytes: a bigger client message (within maxFrameBytes) gets a `message_too_large` error. */
  readonly maxMessageBytes: number;
  /** backpressureBytes: data for a client with more than this queued is skipped until it drains. */
  readonly backpressureBytes: number;
  /** allowedOrigins is the Origin allow-list (null = any origin); see access.ts. */
  readonly allowedOrigins: readonly string[] | null;
  /** token, when set, is required from every client (`?token=` or `Authorization: Bearer`) or a ticket. */
  readonly token: string | null;
  /** ticketTtlMs is how long a ticket from `POST /api/hub/ticket` admits one connection (tickets.ts). */
  readonly ticketTtlMs: number;
  /** abuseMaxErrors protocol errors within abuseWindowMs close the connection with 1008. */
  readonly abuseMaxErrors: number;
  readonly abuseWindowMs: number;
  /** maxMessagesPerWindow: client messages accepted per abuseWindowMs; more get `rate_limited` (an error). */
  readonly maxMessagesPerWindow: number;
  /** compression: permessage-deflate settings, or false to refuse the extension. */
  readonly compression: CompressionSettings | false;
  /** validatePublished checks every published payload against its channel schema before sending it. */
  readonly validatePublished: boolean;
  /** closeGraceMs: how long close() waits for clients to finish the close handshake before dropping them. */
  readonly closeGraceMs: number;
  /** sliceMs: how long one broadcast writes to sockets before giving the event loop a turn. */
  readonly sliceMs: number;
}

/**
 * DEFAULT_HUB_OPTIONS: 1,000 connections is issue 5's target (10× the seed's 100). Heartbeat 30 s sits under
 * the 60 s idle timeout of common proxies (nginx `proxy_read_timeout`). Client messages are tiny
 * (subscribe with a filter of at most MAX_FILTER_SERVERS ids ≈ 200 KiB), so 256 KiB is the soft limit and
 * 1 MiB the hard frame limit. 256 KiB of backpressure is ~80 snapshots of a 20-server fleet (≈3 KiB each) and
 * above Node's 16 KiB socket high-water mark, so a client over it always gets a `drain`. 10 errors in 10 s is
 * far beyond what a correct client produces, and so are 100 messages in 10 s (a dashboard sends a
 * handful of subscribes and a ping every few seconds). Deflate threshold 1 KiB and level 6 are ws's and zlib's defaults.
 */
export const DEFAULT_HUB_OPTIONS: HubOptions = {
  path: '/ws',
  maxConnections: 1000,
  heartbeatMs: 30_000,
  maxFrameBytes: 1024 * 1024,
  maxMessageBytes: 256 * 1024,
  backpressureBytes: 256 * 1024,
  allowedOrigins: null,
  token: null,
  ticketTtlMs: TICKET_TTL_MS,
  abuseMaxErrors: 10,
  abuseWindowMs: 10_000,
  maxMessagesPerWindow: 100,
  compression: { threshold: 1024, level: 6 },
  validatePublished: true,
  closeGraceMs: 2000,
  sliceMs: SLICE_MS,
};

/** HubInit is what createHub takes: any subset of HubOptions plus the injected logger, registry and clock. */
export interface HubInit extends Partial<HubOptions> {
  /** logger defaults to a silent pino logger. */
  readonly logger?: Logger;
  /** registry receives the hub's metrics; defaults to a private registry. */
  readonly registry?: Registry;
  /** clock stamps published messages that come without a timestamp. */
  readonly clock?: Clock;
}

/**
 * PublishResult reports what `publish` did before returning: its first slice of the fan-out. The rest, when
 * there are more subscribers than one slice reaches, follows in later turns of the event loop (`delivered`).
 */
export interface PublishResult {
  /** sent is the number of clients the message was queued to. */
  readonly sent: number;
  /** skipped is the number of subscribers skipped by backpressure. */
  readonly skipped: number;
  /** pending is the number of subscribers left for later turns. */
  readonly pending: number;
  /** encodings is the number of distinct serialisations (one per server filter in use). */
  readonly encodings: number;
  readonly durationMs: number;
}

/** FAN_OUT_CHECK_EVERY is how many sockets are written between two looks at the clock (~0.5 ms of writes). */
const FAN_OUT_CHECK_EVERY = 16;

/** FanOut is one broadcast's progress: the subscribers it was published to and how far it got. */
interface FanOut {
  readonly channel: Channel;
  readonly last: LastMessage;
  readonly clients: readonly HubClient[];
  readonly started: number;
  /** pacer is the slice this fan-out writes in, shared with the fan-outs in flight when it was published. */
  readonly pacer: Pacer;
  /** joined tells that other fan-outs were in flight at publish: it waits for a turn when their slice is used up. */
  readonly joined: boolean;
  next: number;
  sent: number;
  skipped: number;
}

/** ClientInfo is one client as reported by Hub.clients() (tests, diagnostics). */
export interface ClientInfo {
  readonly id: string;
  readonly transport: TransportKind;
  readonly channels: readonly Channel[];
  readonly servers: readonly string[] | null;
  readonly skipped: number;
  readonly bufferedBytes: number;
}

interface LastMessage {
  readonly message: DataMessage;
  /** encoded caches this message's serialisation per server-filter key ('' = unfiltered). */
  readonly encoded: Map<string, EncodedMessage>;
}

/** NO_COMPRESSION makes EncodedMessage never deflate (threshold beyond any payload). */
const NO_COMPRESSION: CompressionSettings = { threshold: Number.POSITIVE_INFINITY, level: 0 };

/** WsTransport writes shared frames straight to the socket ws negotiated (see ws-frame.ts for why). */
class WsTransport implements ClientTransport {
  readonly kind = 'ws';
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly deflate: DeflateParams,
  ) {}
  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }
  send(message: EncodedMessage): number {
    if (this.ws.readyState !== WebSocket.OPEN) return 0;
    const frame = message.wsFrame(this.deflate);
    this.socket.write(frame);
    return frame.length;
  }
  heartbeat(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  terminate(): void {
    this.ws.terminate();
  }
}

function rawDataLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function rawDataText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/** rejectUpgrade answers a refused upgrade with a plain HTTP response whose body is a protocol `error`. */
function rejectUpgrade(socket: Duplex, status: number, code: HubErrorCode, message: string): void {
  const body = JSON.stringify({ type: 'error', code, message } satisfies ErrorMessage);
  const extra = status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
  );
}

/** Hub fans out the latest state of each channel to WebSocket and SSE subscribers. */
export class Hub {
  /** options are the resolved options (defaults filled in). */
  readonly options: HubOptions;
  readonly metrics: HubMetrics;
  /** tickets issues and redeems the single-use tickets that admit a client in place of the token. */
  readonly tickets: TicketBook;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly compression: CompressionSettings;
  private readonly wss: WebSocketServer;
  private readonly clientSet = new Set<HubClient>();
  private readonly counts: Record<TransportKind, number> = { ws: 0, sse: 0 };
  private readonly subscribers = new Map<Channel, Set<HubClient>>(CHANNELS.map((c) => [c, new Set()]));
  private readonly last = new Map<Channel, LastMessage>();
  private readonly negotiated = new WeakMap<IncomingMessage, DeflateParams>();
  private readonly attached = new Map<
    UpgradeServer,
    (req: IncomingMessage, socket: Duplex, head: Buffer) => void
  >();
  private readonly heartbeatTimer: NodeJS.Timeout;
  private nextId = 1;
  private closed = false;
  /** beating is true while a heartbeat round paces through the clients. */
  private beating = false;
  private onEmpty: (() => void) | undefined;
  /** fanOuts are the broadcasts still writing to their subscribers in later loop turns. */
  private readonly fanOuts = new Set<Promise<void>>();
  /**
   * fanOutPacer is the slice the fan-outs in flight share: publishes made one after another in one stretch
   * of the loop (the rule manager publishes each alert transition of an evaluation) write within one slice
   * in all instead of one slice each.
   */
  private fanOutPacer: Pacer | undefined;

  constructor(init: HubInit = {}) {
    const { logger, registry, clock, ...opts } = init;
    this.options = { ...DEFAULT_HUB_OPTIONS, ...opts };
    const o = this.options;
    if (!(o.maxConnections >= 0 && o.heartbeatMs > 0 && o.maxMessageBytes > 0 && o.maxFrameBytes > 0)) {
      throw new HubError(
        'invalid_options',
        'maxConnections ≥ 0, heartbeatMs, maxMessageBytes, maxFrameBytes > 0.',
      );
    }
    this.log = (logger ?? pino({ level: 'silent' })).child({ component: 'hub' });
    this.clock = clock ?? systemClock;
    this.tickets = new TicketBook({ clock: this.clock, ttlMs: o.ticketTtlMs });
    this.compression = o.compression === false ? NO_COMPRESSION : o.compression;
    this.metrics = new HubMetrics(registry ?? new Registry(), () => this.counts);
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: o.maxFrameBytes,
      // Negotiation only: the hub deflates its own frames (ws-frame.ts). server_no_context_takeover is what makes
      // one compressed frame valid for every client; client_no_context_takeover lets browsers free their window.
      perMessageDeflate:
        o.compression === false
          ? false
          : {
              serverNoContextTakeover: true,
              clientNoContextTakeover: true,
              threshold: o.compression.threshold,
            },
    });
    this.wss.on('headers', (headers: string[], req: IncomingMessage) => {
      this.negotiated.set(req, parseNegotiatedDeflate(headers));
    });
    this.heartbeatTimer = setInterval(() => void this.beat(), o.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  // ------------------------------------------------------------------------------------------------------
  // Publishing

  /**
   * publish makes `data` the channel's current state and sends it to every subscriber at once; subscribers
   * over the backpressure threshold are skipped and get the latest state when they drain. Never waits.
   * The hub keeps `data` by reference as the channel's snapshot: do not mutate it after publishing.
   * `timestamp` (Unix ms, the time of the state) is floored to an integer.
   */
  publish<C extends Channel>(
    channel: C,
    data: ChannelPayload[C],
    timestamp: number = this.clock.now(),
  ): PublishResult {
    if (!isChannel(channel)) throw new HubError('unknown_channel', `Got ${JSON.stringify(channel)}.`);
    const ts = Math.floor(timestamp);
    if (!Number.isFinite(ts) || ts < 0)
      throw new HubError('invalid_payload', `timestamp ${timestamp} is not Unix ms.`);
    if (this.options.validatePublished) {
      const parsed = CHANNEL_PAYLOAD_SCHEMAS[channel].safeParse(data);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new HubError(
          'invalid_payload',
          `${channel}: ${first?.path.join('.') ?? ''} ${first?.message ?? ''}`,
        );
      }
    }
    if (this.closed) return { sent: 0, skipped: 0, pending: 0, encodings: 0, durationMs: 0 };
    const started = performance.now();
    const message = { type: 'data', channel, timestamp: ts, data } as DataMessage;
    const last: LastMessage = { message, encoded: new Map() };
    this.last.set(channel, last);
    const joined = this.fanOuts.size > 0 && this.fanOutPacer !== undefined;
    if (!joined) this.fanOutPacer = new Pacer(this.options.sliceMs);
    const fan: FanOut = {
      channel,
      last,
      clients: [...(this.subscribers.get(channel) ?? [])],
      started,
      pacer: this.fanOutPacer ?? new Pacer(this.options.sliceMs),
      joined,
      next: 0,
      sent: 0,
      skipped: 0,
    };
    // Runs synchronously up to its first yield: the first slice is written before publish returns.
    const done = this.fanOut(fan);
    if (fan.next < fan.clients.length) {
      this.fanOuts.add(done);
      void done.finally(() => this.fanOuts.delete(done));
    }
    return {
      sent: fan.sent,
      skipped: fan.skipped,
      pending: fan.clients.length - fan.next,
      encodings: last.encoded.size,
      durationMs: performance.now() - started,
    };
  }

  /** delivered resolves once every broadcast published so far has been written to all its subscribers. */
  async delivered(): Promise<void> {
    while (this.fanOuts.size > 0) await Promise.all(this.fanOuts);
  }

  /**
   * fanOut writes a broadcast to its subscribers, pacing; it stops early for a newer message on the channel
   * (the clients not reached get that one) or a closed hub.
   */
  private async fanOut(fan: FanOut): Promise<void> {
    const { channel, last, clients, pacer } = fan;
    const subscribed = this.subscribers.get(channel);
    let wsBytes = 0;
    let sseBytes = 0;
    let sent = 0;
    let skipped = 0;
    const count = (): void => {
      if (sent > 0) this.metrics.messagesSent.inc({ channel }, sent);
      if (skipped > 0) this.metrics.messagesSkipped.inc({ channel }, skipped);
      if (wsBytes > 0) this.metrics.bytesSent.inc({ transport: 'ws' }, wsBytes);
      if (sseBytes > 0) this.metrics.bytesSent.inc({ transport: 'sse' }, sseBytes);
      fan.sent += sent;
      fan.skipped += skipped;
      sent = skipped = wsBytes = sseBytes = 0;
    };
    while (fan.next < clients.length) {
      // The first write of a fan-out that joined others waits too when their shared slice is used up.
      const check = fan.next > 0 ? fan.next % FAN_OUT_CHECK_EVERY === 0 : fan.joined;
      if (check && pacer.due()) {
        count();
        await pacer.yield();
        if (this.closed || this.last.get(channel) !== last) break;
      }
      const client = clients[fan.next++];
      // A client that left or unsubscribed since the publish is not written to.
      if (client === undefined || !subscribed?.has(client)) continue;
      const n = this.deliver(client, channel, last);
      if (n < 0) skipped++;
      else if (n > 0) {
        sent++;
        if (client.transport.kind === 'ws') wsBytes += n;
        else sseBytes += n;
      }
    }
    count();
    this.metrics.broadcastDuration.observe({ channel }, (performance.now() - fan.started) / 1000);
  }

  /** lastMessage returns the channel's current state as its `data` message, if anything was published. */
  lastMessage<C extends Channel>(channel: C): DataMessage<C> | undefined {
    return this.last.get(channel)?.message as DataMessage<C> | undefined;
  }

  /**
   * deliver sends the channel's latest message to one client, or marks it owed when the client is over the
   * backpressure threshold. Returns the bytes queued, or -1 when skipped.
   */
  private deliver(client: HubClient, channel: Channel, last: LastMessage): number {
    if (client.closing) return 0;
    if (client.transport.bufferedBytes() > this.options.backpressureBytes) {
      client.stale.add(channel);
      client.skipped++;
      return -1;
    }
    client.stale.delete(channel);
    return client.transport.send(this.encodeFor(channel, last, client.filter));
  }

  /** encodeFor returns the message serialised for a filter, building it on first use in this broadcast. */
  private encodeFor(channel: Channel, last: LastMessage, filter: ServerFilter | null): EncodedMessage {
    const key = channel === 'server-metrics' && filter !== null ? filter.key : '';
    let encoded = last.encoded.get(key);
    if (encoded !== undefined) return encoded;
    const { timestamp } = last.message;
    let data: unknown = last.message.data;
    if (key !== '' && filter !== null) {
      // Only servers[] is filtered: the summary stays fleet-wide (documented in hub-protocol.md).
      const m = last.message.data as ChannelPayload['server-metrics'];
      data = { servers: m.servers.filter((s) => filter.ids.has(s.id)), summary: m.summary };
    }
    // Built by hand to fix the key order: type, channel, timestamp, data (the seed's order with type first).
    const json = `{"type":"data","channel":${JSON.stringify(channel)},"timestamp":${timestamp},"data":${JSON.stringify(data)}}`;
    encoded = new EncodedMessage(json, this.compression);
    last.encoded.set(key, encoded);
    return encoded;
  }

  private sendControl(
    client: HubClient,
    message: WelcomeMessage | SubscriptionsMessage | PongMessage | ErrorMessage,
  ): void {
    if (client.closing && message.type !== 'error') return;
    client.transport.send(new EncodedMessage(JSON.stringify(message), this.compression));
  }

  // ------------------------------------------------------------------------------------------------------
  // Clients (transport-independent; the SSE endpoint uses these too)

  /** limits returns the limits announced in `welcome`. */
  limits(): HubLimits {
    return {
      maxMessageBytes: this.options.maxMessageBytes,
      maxFrameBytes: this.options.maxFrameBytes,
      heartbeatMs: this.options.heartbeatMs,
      maxFilterServers: MAX_FILTER_SERVERS,
      maxMessagesPerWindow: this.options.maxMessagesPerWindow,
      windowMs: this.options.abuseWindowMs,
    };
  }

  /** checkAccess applies the Origin allow-list and the token (or a ticket) to a request (upgrade or SSE). */
  checkAccess(req: IncomingMessage): AccessDenial | null {
    const rules: AccessRules = {
      allowedOrigins: this.options.allowedOrigins,
      token: this.options.token,
      redeemTicket: (ticket) => this.tickets.redeem(ticket),
    };
    return checkAccess(req, rules);
  }

  /** isAcceptingClients tells whether the hub is open and below its connection limit. */
  isAcceptingClients(): boolean {
    return !this.closed && this.clientSet.size < this.options.maxConnections;
  }

  /**
   * openClient registers a connected client and sends it `welcome`; null when the hub is closed or at its
   * connection limit (the caller refuses the connection the way its transport can).
   */
  openClient(transport: ClientTransport): HubClient | null {
    if (!this.isAcceptingClients()) {
      this.metrics.rejected.inc({ reason: this.closed ? 'closed' : 'limit' });
      return null;
    }
    const client = new HubClient(`${transport.kind}-${this.nextId++}`, transport);
    this.clientSet.add(client);
    this.counts[transport.kind]++;
    this.sendControl(client, {
      type: 'welcome',
      protocolVersion: PROTOCOL_VERSION,
      channels: [...CHANNELS],
      connectionId: client.id,
      serverTime: Date.now(),
      limits: this.limits(),
    });
    this.log.debug({ client: client.id }, 'client connected');
    return client;
  }

  /**
   * subscribeClient adds channels and, when `servers` is not undefined, sets the server filter (null clears it).
   * It acknowledges with `subscriptions`, then sends at once the current state of every channel named (and of
   * server-metrics when the filter changed).
   */
  subscribeClient(client: HubClient, channels: readonly Channel[], servers?: readonly string[] | null): void {
    if (client.closing) return;
    let filterChanged = false;
    if (servers !== undefined) {
      const filter = makeServerFilter(servers);
      filterChanged = (filter?.key ?? null) !== (client.filter?.key ?? null);
      client.filter = filter;
    }
    for (const ch of channels) {
      client.channels.add(ch);
      this.subscribers.get(ch)?.add(client);
    }
    this.sendSubscriptions(client);
    const snapshot = new Set<Channel>(channels);
    if (filterChanged && client.channels.has('server-metrics')) snapshot.add('server-metrics');
    for (const ch of CHANNELS) {
      const last = this.last.get(ch);
      if (snapshot.has(ch) && last !== undefined)
        this.countDelivery(client, ch, this.deliver(client, ch, last));
    }
  }

  /** unsubscribeClient removes channels from a client's subscription and acknowledges with `subscriptions`. */
  unsubscribeClient(client: HubClient, channels: readonly Channel[]): void {
    for (const ch of channels) {
      client.channels.delete(ch);
      client.stale.delete(ch);
      this.subscribers.get(ch)?.delete(client);
    }
    this.sendSubscriptions(client);
  }

  /** removeClient forgets a client whose connection ended. */
  removeClient(client: HubClient): void {
    if (!this.clientSet.delete(client)) return;
    this.counts[client.transport.kind]--;
    for (const ch of client.channels) this.subscribers.get(ch)?.delete(client);
    this.log.debug({ client: client.id, skipped: client.skipped }, 'client disconnected');
    if (this.clientSet.size === 0) this.onEmpty?.();
  }

  /** drained sends a client the latest state of the channels it missed while over the threshold. */
  drained(client: HubClient): void {
    for (const ch of client.stale) {
      const last = this.last.get(ch);
      if (last === undefined) client.stale.delete(ch);
      else if (this.countDelivery(client, ch, this.deliver(client, ch, last)) < 0) return;
    }
  }

  private countDelivery(client: HubClient, channel: Channel, n: number): number {
    if (n < 0) this.metrics.messagesSkipped.inc({ channel });
    else if (n > 0) {
      this.metrics.messagesSent.inc({ channel });
      this.metrics.bytesSent.inc({ transport: client.transport.kind }, n);
    }
    return n;
  }

  private sendSubscriptions(client: HubClient): void {
    this.sendControl(client, {
      type: 'subscriptions',
      channels: CHANNELS.filter((c) => client.channels.has(c)),
      servers: client.filter === null ? null : [...client.filter.ids],
    });
  }

  /**
   * protocolError sends `error` to a client and closes it with 1008 when it made too many errors recently.
   * The hub and the other clients are unaffected either way.
   */
  protocolError(client: HubClient, code: HubErrorCode, message: string): void {
    if (client.closing) return;
    this.metrics.clientErrors.inc({ code });
    this.sendControl(client, { type: 'error', code, message });
    const recent = client.recordError(performance.now(), this.options.abuseWindowMs);
    if (recent >= this.options.abuseMaxErrors) {
      this.metrics.clientErrors.inc({ code: 'too_many_errors' });
      this.sendControl(client, {
        type: 'error',
        code: 'too_many_errors',
        message: `${recent} protocol errors within ${this.options.abuseWindowMs} ms; closing the connection.`,
      });
      this.closeClient(client, CLOSE_CODES.POLICY_VIOLATION, 'too many protocol errors');
      this.log.warn({ client: client.id, errors: recent }, 'closing abusive client');
    }
  }

  private closeClient(client: HubClient, code: number, reason: string): void {
    client.closing = true;
    for (const ch of client.channels) this.subscribers.get(ch)?.delete(client);
    client.transport.close(code, reason);
  }

  /** connectionCounts returns the live connections by transport and the limit (for `system-status`). */
  connectionCounts(): ConnectionCounts {
    return {
      ws: this.counts.ws,
      sse: this.counts.sse,
      total: this.counts.ws + this.counts.sse,
      limit: this.options.maxConnections,
    };
  }

  /** clients lists the connected clients with their subscriptions and backpressure state. */
  clients(): ClientInfo[] {
    return [...this.clientSet].map((c) => ({
      id: c.id,
      transport: c.transport.kind,
      channels: CHANNELS.filter((ch) => c.channels.has(ch)),
      servers: c.filter === null ? null : [...c.filter.ids],
      skipped: c.skipped,
      bufferedBytes: c.transport.bufferedBytes(),
    }));
  }

  /** beat runs one heartbeat round over every client. */
  private async beat(): Promise<void> {
    // A round still pacing through its clients when the next is due (a loop held for a whole period) is
    // enough: the next would find the same clients owing a pong.
    if (this.beating) return;
    this.beating = true;
    try {
      const pacer = new Pacer(this.options.sliceMs);
      let n = 0;
      // Pinging a thousand sockets is tens of milliseconds: paced like a fan-out, over a copy of the set.
      for (const client of [...this.clientSet]) {
        if (++n % FAN_OUT_CHECK_EVERY === 0 && pacer.due()) {
          await pacer.yield();
          if (this.closed) return;
        }
        if (this.clientSet.has(client)) this.beatOne(client);
      }
    } finally {
      this.beating = false;
    }
  }

  /** beatOne drops a WebSocket client that did not answer the last ping, or pings it (SSE: a comment line). */
  private beatOne(client: HubClient): void {
    if (client.transport.kind === 'ws') {
      if (!client.alive) {
        this.metrics.reaped.inc();
        this.log.info({ client: client.id }, 'dropping client that missed a heartbeat');
        client.transport.terminate();
        return;
      }
      client.alive = false;
    }
    client.transport.heartbeat();
  }

  // ------------------------------------------------------------------------------------------------------
  // WebSocket endpoint

  /**
   * attach serves the hub's WebSocket path on an HTTP server. Upgrades to other paths are left to other
   * listeners; when the hub is the server's only upgrade listener they are answered 404.
   */
  attach(server: UpgradeServer): void {
    if (this.attached.has(server)) return;
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const path = requestUrl(req)?.pathname;
      if (path === this.options.path) this.handleUpgrade(req, socket, head);
      else if (server.listenerCount('upgrade') === 1)
        rejectUpgrade(socket, 404, 'not_found', `No WebSocket at ${path ?? req.url ?? ''}.`);
    };
    this.attached.set(server, listener);
    server.on('upgrade', listener);
  }

  /** detach stops serving WebSocket upgrades on a server (open connections stay). */
  detach(server: UpgradeServer): void {
    const listener = this.attached.get(server);
    if (listener !== undefined) server.off('upgrade', listener);
    this.attached.delete(server);
  }

  /** handleUpgrade admits one upgrade request to the hub (for apps that route upgrades themselves). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      this.metrics.rejected.inc({ reason: 'closed' });
      rejectUpgrade(socket, 503, 'connection_limit', 'The hub is shutting down.');
      return;
    }
    const denied = this.checkAccess(req);
    if (denied !== null) {
      this.metrics.rejected.inc({ reason: denied.code === 'unauthorized' ? 'token' : 'origin' });
      this.log.info({ origin: req.headers.origin, code: denied.code }, 'refused WebSocket upgrade');
      rejectUpgrade(socket, denied.status, denied.code, denied.message);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, socket));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage, socket: Duplex): void {
    const deflate = this.negotiated.get(req) ?? NO_DEFLATE;
    this.negotiated.delete(req);
    ws.on('error', (err) => this.log.debug({ err }, 'WebSocket error'));
    const client = this.openClient(new WsTransport(ws, socket, deflate));
    if (client === null) {
      ws.close(
        this.closed ? CLOSE_CODES.GOING_AWAY : CLOSE_CODES.TRY_AGAIN_LATER,
        this.closed ? 'server shutting down' : 'connection limit reached',
      );
      return;
    }
    ws.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('close', () => this.removeClient(client));
    socket.on('drain', () => this.drained(client));
  }

  private onMessage(client: HubClient, data: RawData, isBinary: boolean): void {
    client.alive = true;
    const { maxMessagesPerWindow, abuseWindowMs } = this.options;
    if (client.recordMessage(performance.now(), abuseWindowMs) > maxMessagesPerWindow) {
      this.protocolError(
        client,
        'rate_limited',
        `More than ${maxMessagesPerWindow} messages in ${abuseWindowMs} ms.`,
      );
      return;
    }
    if (isBinary) {
      this.protocolError(client, 'binary_not_supported', 'Send messages as JSON text frames.');
      return;
    }
    const size = rawDataLength(data);
    if (size > this.options.maxMessageBytes) {
      this.protocolError(
        client,
        'message_too_large',
        `Message of ${size} bytes exceeds the limit of ${this.options.maxMessageBytes} bytes.`,
      );
      return;
    }
    const parsed = parseClientMessage(rawDataText(data));
    if (!parsed.ok) {
      this.protocolError(client, parsed.code, parsed.message);
      return;
    }
    const msg = parsed.message;
    switch (msg.type) {
      case 'subscribe':
        this.subscribeClient(client, msg.channels, msg.servers);
        break;
      case 'unsubscribe':
        this.unsubscribeClient(client, msg.channels);
        break;
      case 'ping':
        this.sendControl(client, {
          type: 'pong',
          ...(msg.id === undefined ? {} : { id: msg.id }),
          serverTime: Date.now(),
        });
        break;
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * close stops accepting clients, closes every connection (1001 for WebSocket) and resolves once they are all
   * gone — dropping those that have not finished within closeGraceMs.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    for (const server of [...this.attached.keys()]) this.detach(server);
    const done = new Promise<void>((resolve) => {
      if (this.clientSet.size === 0) resolve();
      else this.onEmpty = resolve;
    });
    for (const client of this.clientSet)
      this.closeClient(client, CLOSE_CODES.GOING_AWAY, 'server shutting down');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.closeGraceMs);
    });
    await Promise.race([done, grace]);
    clearTimeout(timer);
    for (const client of [...this.clientSet]) {
      client.transport.terminate();
      this.removeClient(client);
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** createHub builds a Hub; attach it to the app's HTTP server with `hub.attach(server)`. */
export function createHub(init: HubInit = {}): Hub {
  return new Hub(init);
}
