/**
 * One connected subscriber of the hub, whatever its transport (WebSocket or SSE): its subscriptions, its
 * server filter, and the bookkeeping for backpressure, heartbeats and abuse.
 */
import type { EncodedMessage } from './encoded-message.js';
import type { Channel } from '../contract/hub-protocol.js';

/** TransportKind names how a client is connected; it is the `transport` label of the hub's metrics. */
export type TransportKind = 'ws' | 'sse';

/** ClientTransport is what the hub needs from a connection: writing shared frames, buffering, closing. */
export interface ClientTransport {
  readonly kind: TransportKind;
  /** bufferedBytes is how much is queued for the client and not yet handed to the kernel. */
  bufferedBytes(): number;
  /** send queues a message without waiting; returns the bytes queued (0 when the connection is not open). */
  send(message: EncodedMessage): number;
  /** heartbeat sends a liveness probe: a WebSocket ping, an SSE comment. */
  heartbeat(): void;
  /** close ends the connection politely (a close frame with `code` for WebSocket). */
  close(code: number, reason: string): void;
  /** terminate drops the connection at once. */
  terminate(): void;
}

/** ServerFilter is a subscription's server filter: the ids, and a key equal for equal id sets. */
export interface ServerFilter {
  readonly key: string;
  readonly ids: ReadonlySet<string>;
}

/** makeServerFilter builds a ServerFilter from a client's list; null means "all servers". */
export function makeServerFilter(servers: readonly string[] | null): ServerFilter | null {
  if (servers === null) return null;
  const ids = new Set(servers);
  return { key: JSON.stringify([...ids].sort()), ids };
}

/** HubClient is one subscriber: per-connection state the hub reads on every broadcast. */
export class HubClient {
  readonly channels = new Set<Channel>();
  filter: ServerFilter | null = null;
  /** stale holds the channels whose latest snapshot was skipped by backpressure and is owed on drain. */
  readonly stale = new Set<Channel>();
  /** skipped counts the snapshots this client missed because of backpressure. */
  skipped = 0;
  /** alive is cleared at each heartbeat and set by any sign of life (pong, message). */
  alive = true;
  /** closing is set once the hub decided to close the client; it gets nothing more. */
  closing = false;
  private readonly errorTimes: number[] = [];
  private messageWindowStart = Number.NEGATIVE_INFINITY;
  private messagesInWindow = 0;

  constructor(
    readonly id: string,
    readonly transport: ClientTransport,
  ) {}

  /**
   * recordMessage counts a client message in a fixed window of `windowMs` starting at its first message and
   * returns the count so far in the current window (cheap enough for every message).
   */
  recordMessage(now: number, windowMs: number): number {
    if (now - this.messageWindowStart >= windowMs) {
      this.messageWindowStart = now;
      this.messagesInWindow = 0;
    }
    return ++this.messagesInWindow;
  }

  /**
   * recordError notes a protocol error at `now` (ms, monotonic) and returns how many errors fall in the last
   * `windowMs`, dropping older ones so the list stays bounded by the abuse limit.
   */
  recordError(now: number, windowMs: number): number {
    this.errorTimes.push(now);
    while (this.errorTimes.length > 0 && (this.errorTimes[0] ?? now) <= now - windowMs)
      this.errorTimes.shift();
    return this.errorTimes.length;
  }
}
