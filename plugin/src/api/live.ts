/**
 * The live client: one WebSocket to the exporter's hub (exporter/docs/hub-protocol.md), reconnecting with
 * exponential backoff, and a live/stale/polling state the pages show. It connects directly (the app plugin proxy
 * does not carry WebSocket), to a URL resolved before every attempt: with a fresh single-use ticket bought
 * through the plugin proxy, so the hub token stays on Grafana's server.
 */
import type { HUB_TICKET_PARAM as CONTRACT_TICKET_PARAM } from '@openmanager/exporter/contract';

import { DEFAULT_EXPORTER_URL, HUB_PATH } from '../constants';
import { toExporterApiError } from './errors';
import type { AnyDataMessage, Channel, ClientMessage, HubTicket } from './types';

/** HUB_TICKET_PARAM is the hub's ticket query parameter (typed against the contract's, so the two cannot drift). */
export const HUB_TICKET_PARAM: typeof CONTRACT_TICKET_PARAM = 'ticket';

/**
 * LiveState is what the indicator shows: connecting (never had data), live, stale (data is old, reconnecting),
 * or polling (live updates cannot be had — no ticket, or the hub refuses or is unreachable — so pages poll
 * through the proxy; `LiveClient.reason` says why). The client keeps trying in every state but live.
 */
export type LiveState = 'connecting' | 'live' | 'stale' | 'polling';

/** LiveStatus is a LiveState with the reason for polling, as hooks hand it to pages. */
export interface LiveStatus {
  state: LiveState;
  /** reason says why live updates are unavailable (set while polling). */
  reason?: string;
}

/** LiveUrlSource resolves the URL of the next connection attempt; it rejects when no live URL can be had. */
export type LiveUrlSource = () => Promise<string>;

/** LIVE_DEFAULTS are the timing defaults; the hub broadcasts server-metrics every 5 s (hub protocol). */
export const LIVE_DEFAULTS = {
  /** staleAfterMs: two missed 5 s broadcasts plus slack mark the data stale. */
  staleAfterMs: 12_000,
  /** initialBackoffMs: the first reconnect waits about this long. */
  initialBackoffMs: 500,
  /** maxBackoffMs: reconnects never wait longer (a restarted exporter is picked up within this). */
  maxBackoffMs: 15_000,
  /** pollAfterFailures: this many attempts in a row that never opened a socket mean "poll instead". */
  pollAfterFailures: 3,
} as const;

/** LiveClientOptions configures a LiveClient; only url and channels are required. */
export interface LiveClientOptions {
  /** url is the hub URL, or a source resolving one per attempt (a URL carrying a fresh ticket). */
  url: string | LiveUrlSource;
  channels: Channel[];
  /** servers limits server-metrics to these ids (the hub's server filter). */
  servers?: string[];
  staleAfterMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  pollAfterFailures?: number;
  /** WebSocketImpl replaces the global WebSocket (tests). */
  WebSocketImpl?: typeof WebSocket;
  /** random replaces Math.random for the backoff jitter (tests). */
  random?: () => number;
}

type Listener<T> = (value: T) => void;

/**
 * MessageListener receives each data message and `receivedAt`, the page clock (performance.now()) when its
 * WebSocket message began to be handled, before parsing: live-update timings start there.
 */
export type MessageListener = (msg: AnyDataMessage, receivedAt: number) => void;

/** deriveLiveUrl turns the exporter's HTTP URL into its hub URL (http→ws, https→wss, path + /ws). */
export function deriveLiveUrl(exporterUrl: string | undefined): string {
  const base = (exporterUrl && exporterUrl.trim()) || DEFAULT_EXPORTER_URL;
  try {
    const url = new URL(base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${HUB_PATH}`;
    url.search = '';
    url.hash = '';
    return url.toString();
  } catch {
    return `ws://localhost:3001${HUB_PATH}`;
  }
}

/** backoffDelay is the wait before reconnect attempt `attempt` (0-based): doubling, capped, with jitter. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  // "Equal jitter": at least half the ceiling, so a fleet of dashboards does not reconnect in lockstep.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * ticketedUrlSource resolves `baseUrl` with a fresh single-use ticket from `buyTicket` for every attempt. An
 * exporter without the ticket endpoint (404) gets the bare URL (its hub then admits or refuses on its own); any
 * other failure rejects with a reason the page shows while it polls.
 */
export function ticketedUrlSource(baseUrl: string, buyTicket: () => Promise<HubTicket>): LiveUrlSource {
  return async () => {
    let ticket: string;
    try {
      ticket = (await buyTicket()).ticket;
    } catch (err) {
      const e = toExporterApiError(err);
      if (e.status === 404) {
        return baseUrl;
      }
      if (e.status === 401) {
        throw new Error(
          `no hub ticket: the exporter requires its hub token; set "Hub token" in the app configuration (${e.message})`
        );
      }
      throw new Error(`no hub ticket: ${e.message}`);
    }
    const url = new URL(baseUrl);
    url.searchParams.set(HUB_TICKET_PARAM, ticket);
    return url.toString();
  };
}

/** redactUrl drops the query (a ticket or token) from a URL shown to the user. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.search = '';
    return u.toString();
  } catch {
    return url.split('?')[0] ?? url;
  }
}

function isDataMessage(x: unknown): x is AnyDataMessage {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as { type?: unknown }).type === 'data' &&
    typeof (x as { channel?: unknown }).channel === 'string'
  );
}

/** LiveClient keeps one hub connection open while started and fans its data messages out to listeners. */
export class LiveClient {
  private socket: WebSocket | null = null;
  private stateValue: LiveState = 'connecting';
  private reasonValue: string | undefined;
  private attempt = 0;
  /** failedOpens counts attempts in a row that ended before a socket opened. */
  private failedOpens = 0;
  /** generation invalidates an attempt still resolving its URL when the client stops or restarts. */
  private generation = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private staleTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private readonly messageListeners = new Set<MessageListener>();
  private readonly stateListeners = new Set<Listener<LiveState>>();
  private readonly opts: Required<Omit<LiveClientOptions, 'servers' | 'WebSocketImpl'>> &
    Pick<LiveClientOptions, 'servers' | 'WebSocketImpl'>;

  constructor(options: LiveClientOptions) {
    this.opts = {
      staleAfterMs: LIVE_DEFAULTS.staleAfterMs,
      initialBackoffMs: LIVE_DEFAULTS.initialBackoffMs,
      maxBackoffMs: LIVE_DEFAULTS.maxBackoffMs,
      pollAfterFailures: LIVE_DEFAULTS.pollAfterFailures,
      random: Math.random,
      ...options,
    };
  }

  /** state is the current live/stale state. */
  get state(): LiveState {
    return this.stateValue;
  }

  /** reason says why live updates are unavailable while polling; undefined otherwise. */
  get reason(): string | undefined {
    return this.stateValue === 'polling' ? this.reasonValue : undefined;
  }

  /** reconnectAttempts counts the reconnects since the last data message. */
  get reconnectAttempts(): number {
    return this.attempt;
  }

  /** onMessage registers a listener for every data message; returns its unsubscribe. */
  onMessage(listener: MessageListener): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** onState registers a listener for state changes; returns its unsubscribe. */
  onState(listener: Listener<LiveState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** start opens the connection (idempotent). */
  start(): void {
    if (this.started) {
      return;
    }
    this.started = true;
    this.connect();
  }

  /** stop closes the connection and cancels reconnects. */
  stop(): void {
    this.started = false;
    this.generation++;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
      socket.close();
    }
  }

  private setState(next: LiveState, reason?: string): void {
    if (next === this.stateValue && reason === this.reasonValue) {
      return;
    }
    this.stateValue = next;
    this.reasonValue = reason;
    for (const l of this.stateListeners) {
      l(next);
    }
  }

  private clearTimers(): void {
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    if (this.staleTimer) {
      clearTimeout(this.staleTimer);
      this.staleTimer = null;
    }
  }

  private armStaleTimer(): void {
    if (this.staleTimer) {
      clearTimeout(this.staleTimer);
    }
    this.staleTimer = setTimeout(() => {
      this.staleTimer = null;
      if (this.stateValue === 'live') {
        this.setState('stale');
      }
    }, this.opts.staleAfterMs);
  }

  private connect(): void {
    const source = this.opts.url;
    if (typeof source === 'string') {
      this.open(source);
      return;
    }
    const generation = this.generation;
    source().then(
      (url) => {
        if (this.started && generation === this.generation) {
          this.open(url);
        }
      },
      (err: unknown) => {
        if (this.started && generation === this.generation) {
          this.setState('polling', err instanceof Error ? err.message : String(err));
          this.scheduleReconnect();
        }
      }
    );
  }

  private open(url: string): void {
    const Impl = this.opts.WebSocketImpl ?? WebSocket;
    let socket: WebSocket;
    try {
      socket = new Impl(url);
    } catch {
      this.openFailed(url);
      return;
    }
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.failedOpens = 0;
      const subscribe: ClientMessage = { type: 'subscribe', channels: this.opts.channels };
      if (this.opts.servers) {
        subscribe.servers = this.opts.servers;
      }
      socket.send(JSON.stringify(subscribe));
    };
    socket.onmessage = (event: MessageEvent) => {
      const receivedAt = performance.now();
      let parsed: unknown;
      try {
        parsed = JSON.parse(typeof event.data === 'string' ? event.data : String(event.data));
      } catch {
        return;
      }
      if (!isDataMessage(parsed)) {
        return;
      }
      this.attempt = 0;
      this.setState('live');
      this.armStaleTimer();
      for (const l of this.messageListeners) {
        l(parsed, receivedAt);
      }
    };
    socket.onerror = () => {
      // onclose follows; reconnect is handled there.
    };
    socket.onclose = () => {
      if (this.socket !== socket) {
        return;
      }
      this.socket = null;
      if (!opened) {
        this.openFailed(url);
        return;
      }
      if (this.stateValue === 'live') {
        this.setState('stale');
      }
      this.scheduleReconnect();
    };
  }

  /** openFailed handles an attempt that never opened a socket: after a few in a row, pages poll instead. */
  private openFailed(url: string): void {
    this.failedOpens++;
    if (this.failedOpens >= this.opts.pollAfterFailures) {
      this.setState(
        'polling',
        `the hub at ${redactUrl(url)} refused the connection or cannot be reached (check the live URL and ALLOWED_ORIGINS)`
      );
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.started) {
      return;
    }
    const delay = backoffDelay(this.attempt, this.opts.initialBackoffMs, this.opts.maxBackoffMs, this.opts.random);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.started) {
        this.connect();
      }
    }, delay);
  }
}
