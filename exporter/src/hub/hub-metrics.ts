/**
 * The hub's self-metrics (`openmanager_exporter_hub_*`), registered on an injected prom-client registry.
 * Hot-path counters are incremented once per broadcast with the broadcast's totals, never once per client.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TransportKind } from './hub-client.js';

/** BROADCAST_BUCKETS (seconds) span 50 µs (a handful of clients) to 1 s (thousands with a big fleet). */
const BROADCAST_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

/** HubMetrics holds the hub's metric objects. */
export class HubMetrics {
  readonly messagesSent: Counter<'channel'>;
  readonly messagesSkipped: Counter<'channel'>;
  readonly broadcastDuration: Histogram<'channel'>;
  readonly bytesSent: Counter<'transport'>;
  readonly rejected: Counter<'reason'>;
  readonly clientErrors: Counter<'code'>;
  readonly reaped: Counter;

  constructor(registry: Registry, counts: () => Readonly<Record<TransportKind, number>>) {
    const registers = [registry];
    new Gauge({
      name: 'openmanager_exporter_hub_connections',
      help: 'Open hub connections by transport (ws, sse).',
      labelNames: ['transport'],
      registers,
      collect() {
        const c = counts();
        this.set({ transport: 'ws' }, c.ws);
        this.set({ transport: 'sse' }, c.sse);
      },
    });
    this.messagesSent = new Counter({
      name: 'openmanager_exporter_hub_messages_sent_total',
      help: 'Data messages queued to clients, by channel (one per recipient).',
      labelNames: ['channel'],
      registers,
    });
    this.messagesSkipped = new Counter({
      name: 'openmanager_exporter_hub_messages_skipped_total',
      help: 'Data messages not sent to a client because its send buffer was over the backpressure threshold.',
      labelNames: ['channel'],
      registers,
    });
    this.broadcastDuration = new Histogram({
      name: 'openmanager_exporter_hub_broadcast_duration_seconds',
      help: 'Time to serialise, compress and queue one published message to every subscriber.',
      labelNames: ['channel'],
      buckets: BROADCAST_BUCKETS,
      registers,
    });
    this.bytesSent = new Counter({
      name: 'openmanager_exporter_hub_sent_bytes_total',
      help: 'Bytes queued to clients (after compression), by transport.',
      labelNames: ['transport'],
      registers,
    });
    this.rejected = new Counter({
      name: 'openmanager_exporter_hub_connections_rejected_total',
      help: 'Connections refused, by reason (origin, token, limit, closed).',
      labelNames: ['reason'],
      registers,
    });
    this.clientErrors = new Counter({
      name: 'openmanager_exporter_hub_client_errors_total',
      help: 'Protocol errors caused by clients, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.reaped = new Counter({
      name: 'openmanager_exporter_hub_connections_reaped_total',
      help: 'WebSocket connections terminated because they missed a heartbeat.',
      registers,
    });
  }
}
