/**
 * The live client: one WebSocket to the exporter's hub (issue 5's protocol), reconnecting with exponential
 * backoff, and a live/stale state the pages show. It connects directly (the app plugin proxy does not carry
 * WebSocket), to the URL from the app settings.
 */
import { DEFAULT_EXPORTER_URL, HUB_PATH } from '../constants';
import type { AnyDataMessage, Channel, ClientMessage } from './types';

/** LiveState is what the indicator shows: connecting (never had data), live, or stale (data is old). */
export type LiveState = 'connecting' | 'live' | 'stale';

/** LIVE_DEFAULTS are the timing defaults; the hub broadcasts server-metrics every 5 s (issue 5). */
export const LIVE_DEFAULTS = {
  /** staleAfterMs: two missed 5 s broadcasts plus slack mark the data stale. */
  staleAfterMs: 12_000,
  /** initialBackoffMs: the first reconnect waits about this long. */
  initialBackoffMs: 500,
  /** maxBackoffMs: reconnects never wait longer (a restarted exporter is picked up within this). */
  maxBackoffMs: 15_000,
} as const;

/** LiveClientOptions configures a LiveClient; only url and channels are required. */
export interface LiveClientOptions {
  url: string;
  channels: Channel[];
  /** servers limits server-metrics to these ids (the hub's server filter). */
  servers?: string[];
  staleAfterMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** WebSocketImpl replaces the global WebSocket (tests). */
  WebSocketImpl?: typeof WebSocket;
  /** random replaces Math.random for the backoff jitter (tests). */
  random?: () => number;
}

type Listener<T> = (value: T) => void;

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
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private staleTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private readonly messageListeners = new Set<Listener<AnyDataMessage>>();
  private readonly stateListeners = new Set<Listener<LiveState>>();
  private readonly opts: Required<Omit<LiveClientOptions, 'servers' | 'WebSocketImpl'>> &
    Pick<LiveClientOptions, 'servers' | 'WebSocketImpl'>;

  constructor(options: LiveClientOptions) {
    this.opts = {
      staleAfterMs: LIVE_DEFAULTS.staleAfterMs,
      initialBackoffMs: LIVE_DEFAULTS.initialBackoffMs,
      maxBackoffMs: LIVE_DEFAULTS.maxBackoffMs,
      random: Math.random,
      ...options,
    };
  }

  /** state is the current live/stale state. */
  get state(): LiveState {
    return this.stateValue;
  }

  /** reconnectAttempts counts the reconnects since the last data message. */
  get reconnectAttempts(): number {
    return this.attempt;
  }

  /** onMessage registers a listener for every data message; returns its unsubscribe. */
  onMessage(listener: Listener<AnyDataMessage>): () => void {
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

  private setState(next: LiveState): void {
    if (next === this.stateValue) {
      return;
    }
    this.stateValue = next;
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
    const Impl = this.opts.WebSocketImpl ?? WebSocket;
    let socket: WebSocket;
    try {
      socket = new Impl(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const subscribe: ClientMessage = { type: 'subscribe', channels: this.opts.channels };
      if (this.opts.servers) {
        subscribe.servers = this.opts.servers;
      }
      socket.send(JSON.stringify(subscribe));
    };
    socket.onmessage = (event: MessageEvent) => {
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
        l(parsed);
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
      if (this.stateValue === 'live') {
        this.setState('stale');
      }
      this.scheduleReconnect();
    };
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
