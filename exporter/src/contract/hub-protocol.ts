/**
 * The hub's wire protocol (docs/hub-protocol.md): channel names, every message exchanged over `/ws` and
 * `/api/stream`, the payload of each channel, and the stable error and close codes. Types and zod schemas only
 * — no Node imports — so the Grafana plugin imports this very module and both ends validate the same shapes.
 */
import { z } from 'zod';
import { scenarioSchema } from './fleet.js';
import { unifiedMetricsSchema, type UnifiedMetrics } from './unified-metrics.js';

/**
 * PROTOCOL_VERSION is the version announced in `welcome`. It changes only on an incompatible change (a field
 * removed or its meaning changed); new optional fields and new message types keep the version, so clients
 * must ignore what they do not know.
 */
export const PROTOCOL_VERSION = 1;

/** CHANNELS are the hub's channels, in the order the seed lists them (shared/SEED.md, "Real-time streaming"). */
export const CHANNELS = ['server-metrics', 'system-status', 'alerts', 'ai-analysis'] as const;

/** Channel names one hub channel. */
export type Channel = (typeof CHANNELS)[number];

/** channelSchema validates a channel name. */
export const channelSchema = z.enum(CHANNELS);

/** isChannel tells whether a string names a hub channel. */
export function isChannel(s: string): s is Channel {
  return (CHANNELS as readonly string[]).includes(s);
}

/** MAX_FILTER_SERVERS bounds a subscription's server filter (10× the largest fleet the project targets). */
export const MAX_FILTER_SERVERS = 10_000;
/** MAX_ID_LENGTH bounds one server id or ping id in client messages (ids are short names like `web-01`). */
export const MAX_ID_LENGTH = 256;

// ---------------------------------------------------------------------------------------------------------
// Channel payloads

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const unixMs = z.number().int().nonnegative();

/** StorageHealth is a store's state as shown to operators (`/readyz`, `system-status`). */
export interface StorageHealth {
  readonly backend: string;
  readonly ok: boolean;
  readonly detail?: string;
  readonly series: number;
  readonly bufferedSamples?: number;
}

/** storageHealthSchema validates the storage part of `system-status`. */
export const storageHealthSchema: z.ZodType<StorageHealth> = z.object({
  backend: z.string(),
  ok: z.boolean(),
  detail: z.string().optional(),
  series: z.number().int().nonnegative(),
  bufferedSamples: z.number().int().nonnegative().optional(),
});

/** schedulerJobStatusSchema validates one scheduler job's state in `system-status`. */
export const schedulerJobStatusSchema = z.object({
  name: z.string(),
  intervalMs: z.number().nonnegative(),
  running: z.boolean(),
  runs: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  /** lastRunAt is when the last run started or, if the scheduler records only that, succeeded (Unix ms); null before. */
  lastRunAt: unixMs.nullable(),
  lastDurationMs: z.number().nonnegative().nullable(),
  lastError: z.string().nullable(),
});

/** SchedulerJobStatus is one scheduler job's state in `system-status`. */
export type SchedulerJobStatus = z.infer<typeof schedulerJobStatusSchema>;

/** connectionCountsSchema validates the hub's connection counts (by transport) in `system-status`. */
export const connectionCountsSchema = z.object({
  ws: z.number().int().nonnegative(),
  sse: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  limit: z.number().int().nonnegative(),
});

/** ConnectionCounts is the hub's live connections by transport and its limit. */
export type ConnectionCounts = z.infer<typeof connectionCountsSchema>;

/** systemStatusSchema validates the `system-status` payload: exporter, storage, scheduler and hub health. */
export const systemStatusSchema = z.object({
  exporter: z.object({
    version: z.string(),
    /** startedAt is the process start (Unix ms, wall clock). */
    startedAt: unixMs,
    uptimeSeconds: z.number().nonnegative(),
    nodeVersion: z.string(),
  }),
  /** simulator is absent when the exporter runs without the built-in fleet. */
  simulator: z
    .object({
      servers: z.number().int().nonnegative(),
      tickSeconds: z.number().positive(),
      speed: z.number().positive(),
      activeScenarios: z.number().int().nonnegative(),
    })
    .optional(),
  /** storage is null when the exporter runs without a store. */
  storage: storageHealthSchema.nullable(),
  scheduler: z.object({ jobs: z.array(schedulerJobStatusSchema) }),
  connections: connectionCountsSchema,
  /** coverage is the alert coverage job running now (`POST /api/coverage`), if any. */
  coverage: z
    .object({
      id: z.string(),
      simulatedMs: z.number().nonnegative(),
      totalMs: z.number().nonnegative(),
      phase: z.enum(['simulating', 'scoring']),
    })
    .optional(),
});

/** SystemStatus is the `system-status` payload. */
export type SystemStatus = z.infer<typeof systemStatusSchema>;

/** ALERT_STATES are the states of the alert state machine (Prometheus's inactive → pending → firing). */
export const ALERT_STATES = ['inactive', 'pending', 'firing'] as const;

/** alertInfoSchema validates one alert instance as sent on `alerts` once alerting exists. */
export const alertInfoSchema = z.object({
  name: z.string(),
  state: z.enum(ALERT_STATES),
  severity: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  /** value is the value of the rule's expression at the last evaluation; null when unknown. */
  value: finite.nullable(),
  /** activeAt is when the alert became pending (Unix ms); null while inactive. */
  activeAt: unixMs.nullable(),
  /** firedAt is when it started firing (Unix ms), null before; resolvedAt when it resolved, null before. */
  firedAt: unixMs.nullable().optional(),
  resolvedAt: unixMs.nullable().optional(),
});

/** AlertInfo is one alert instance. */
export type AlertInfo = z.infer<typeof alertInfoSchema>;

/**
 * alertsEventSchema validates the `alerts` payload, discriminated by `event`. Each event also carries the whole
 * current state (`activeScenarios`, `activeAlerts`), so the channel's last message — which a new subscriber
 * receives at once — is a complete snapshot and not just the last change.
 */
export const alertsEventSchema = z.discriminatedUnion('event', [
  z.object({
    event: z.literal('scenario_started'),
    scenario: scenarioSchema,
    activeScenarios: z.array(scenarioSchema),
  }),
  z.object({
    event: z.literal('scenario_stopped'),
    scenario: scenarioSchema,
    activeScenarios: z.array(scenarioSchema),
  }),
  z.object({
    event: z.literal('alert_state_changed'),
    alert: alertInfoSchema,
    previousState: z.enum(ALERT_STATES),
    /** changedAt is the evaluation time of the change (Unix ms). */
    changedAt: unixMs,
    activeAlerts: z.array(alertInfoSchema),
  }),
]);

/** AlertsEvent is the `alerts` payload. */
export type AlertsEvent = z.infer<typeof alertsEventSchema>;

/** FINDING_KINDS are the kinds of analysis finding. */
export const FINDING_KINDS = ['anomaly', 'trend', 'forecast', 'correlation', 'threshold'] as const;

const timeWindowSchema = z
  .object({ start: unixMs, end: unixMs })
  .refine((w) => w.start <= w.end, 'window.start must not be after window.end');

/** analysisFindingSchema validates one finding of the analysis feature. */
export const analysisFindingSchema = z.object({
  id: z.string(),
  server: z.string(),
  /** metric is the metric family the finding is about, e.g. `openmanager_cpu_usage_percent`. */
  metric: z.string(),
  kind: z.enum(FINDING_KINDS),
  /** score is the finding's strength in [0, 1]; 1 is certain. */
  score: z.number().min(0).max(1),
  severity: z.enum(['info', 'warning', 'critical']),
  /** window is the time range the finding covers (Unix ms). */
  window: timeWindowSchema,
  summary: z.string(),
  value: finite.optional(),
  expected: finite.optional(),
  /** scenarioId links a finding to the ground-truth scenario it matches, when one does. */
  scenarioId: z.string().optional(),
  /** signal is the analysis signal (`cpu`, `memory`, `disk`, `network`, `latency`, `errors`, `service`, `up`). */
  signal: z.string().optional(),
  /** state: `open` while the anomaly lasts, `resolved` once it has been quiet; window.end is its last anomalous time. */
  state: z.enum(['open', 'resolved']).optional(),
  /** detectedAt is the analysis run that opened the finding (Unix ms); window.start is the estimated onset. */
  detectedAt: unixMs.optional(),
});

/** AnalysisFinding is one finding of the analysis feature. */
export type AnalysisFinding = z.infer<typeof analysisFindingSchema>;

/** serverScoreSchema validates one server's anomaly score in an analysis run. */
export const serverScoreSchema = z.object({
  server: z.string(),
  /** score is the server's anomaly score in [0, 1]: the highest of its signals'. */
  score: z.number().min(0).max(1),
  /** signals are the per-signal scores in [0, 1]. */
  signals: z.record(z.string(), z.number().min(0).max(1)),
});

/** ServerScore is one server's anomaly score in an analysis run. */
export type ServerScore = z.infer<typeof serverScoreSchema>;

/** rootCauseSchema validates a root-cause hint: the likely origin of an incident spanning several servers. */
export const rootCauseSchema = z.object({
  origin: z.string(),
  signal: z.string(),
  /** onset is when the origin's anomaly began (Unix ms). */
  onset: unixMs,
  affected: z.array(
    z.object({ server: z.string(), signal: z.string(), onset: unixMs, lagSeconds: z.number() }),
  ),
  /** explanation is one line: "db-01 memory leak since 14:02 UTC; api-01..04 latency rose 40 s later". */
  explanation: z.string(),
});

/** RootCause is a root-cause hint. */
export type RootCause = z.infer<typeof rootCauseSchema>;

/** aiAnalysisSchema validates the `ai-analysis` payload: one analysis run's findings. */
export const aiAnalysisSchema = z.object({
  /** generatedAt is when the run finished (Unix ms). */
  generatedAt: unixMs,
  /** window is the data range the run analysed. */
  window: timeWindowSchema,
  findings: z.array(analysisFindingSchema),
  model: z.object({ name: z.string(), version: z.string() }).optional(),
  /** scores are every server's anomaly score at this run. */
  scores: z.array(serverScoreSchema).optional(),
  /** fleetAnomalyRate is the share of (server, signal) pairs anomalous at this run, in [0, 1]. */
  fleetAnomalyRate: z.number().min(0).max(1).optional(),
  rootCauses: z.array(rootCauseSchema).optional(),
});

/** AiAnalysis is the `ai-analysis` payload. */
export type AiAnalysis = z.infer<typeof aiAnalysisSchema>;

/** ChannelPayload maps each channel to the type of its `data`. */
export interface ChannelPayload {
  'server-metrics': UnifiedMetrics;
  'system-status': SystemStatus;
  alerts: AlertsEvent;
  'ai-analysis': AiAnalysis;
}

/** CHANNEL_PAYLOAD_SCHEMAS maps each channel to the schema of its `data`. */
export const CHANNEL_PAYLOAD_SCHEMAS: { readonly [C in Channel]: z.ZodType<ChannelPayload[C]> } = {
  'server-metrics': unifiedMetricsSchema,
  'system-status': systemStatusSchema,
  alerts: alertsEventSchema,
  'ai-analysis': aiAnalysisSchema,
};

// ---------------------------------------------------------------------------------------------------------
// Client → server

const idSchema = z.union([z.string().max(MAX_ID_LENGTH), z.number()]);

/**
 * subscribeMessageSchema validates `subscribe`: adds channels to the subscription. `servers` sets the
 * server-metrics filter (a list of server ids), `null` clears it, absent keeps the current one.
 */
export const subscribeMessageSchema = z.object({
  type: z.literal('subscribe'),
  channels: z.array(channelSchema).min(1).max(CHANNELS.length),
  servers: z.array(z.string().min(1).max(MAX_ID_LENGTH)).max(MAX_FILTER_SERVERS).nullable().optional(),
});

/** unsubscribeMessageSchema validates `unsubscribe`: removes channels from the subscription. */
export const unsubscribeMessageSchema = z.object({
  type: z.literal('unsubscribe'),
  channels: z.array(channelSchema).min(1).max(CHANNELS.length),
});

/** pingMessageSchema validates an application-level `ping`; the optional `id` is echoed in `pong`. */
export const pingMessageSchema = z.object({ type: z.literal('ping'), id: idSchema.optional() });

/** clientMessageSchema validates any client → server message. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  subscribeMessageSchema,
  unsubscribeMessageSchema,
  pingMessageSchema,
]);

/** SubscribeMessage is a client's `subscribe`. */
export type SubscribeMessage = z.infer<typeof subscribeMessageSchema>;
/** UnsubscribeMessage is a client's `unsubscribe`. */
export type UnsubscribeMessage = z.infer<typeof unsubscribeMessageSchema>;
/** PingMessage is a client's `ping`. */
export type PingMessage = z.infer<typeof pingMessageSchema>;
/** ClientMessage is any client → server message. */
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** CLIENT_MESSAGE_TYPES are the `type` values a client may send. */
export const CLIENT_MESSAGE_TYPES = ['subscribe', 'unsubscribe', 'ping'] as const;

// ---------------------------------------------------------------------------------------------------------
// Server → client

/**
 * HUB_ERROR_CODES is the catalogue of `error.code` values (stable: clients may branch on them) with what each
 * means. Codes marked HTTP are sent only as the JSON body of a refused SSE request or WebSocket upgrade.
 */
export const HUB_ERROR_CODES = {
  invalid_json: 'The message is not valid JSON.',
  invalid_message: 'The message is JSON but does not match the schema of its type.',
  unknown_type: 'The message `type` is not one of subscribe, unsubscribe, ping.',
  unknown_channel: 'A channel in the message is not one of the hub channels.',
  message_too_large: 'The message exceeds the maximum client message size (see welcome.limits).',
  binary_not_supported: 'Binary frames are not part of the protocol; send JSON text.',
  rate_limited:
    'More messages than the hub accepts per window (see welcome.limits); the message was ignored.',
  too_many_errors: 'Too many protocol errors in a short time; the connection is closed with 1008.',
  unauthorized:
    'HTTP 401: the hub requires a token (`?token=` or `Authorization: Bearer`) or a ticket (`?ticket=`).',
  origin_not_allowed: 'HTTP 403: the request Origin is not in the allow-list.',
  connection_limit: 'HTTP 503 (SSE): the connection limit is reached; WebSocket gets close code 1013.',
  not_found: 'HTTP 404: no such hub path.',
} as const;

/** HubErrorCode is a stable error code of the protocol. */
export type HubErrorCode = keyof typeof HUB_ERROR_CODES;

/** HUB_ERROR_CODE_LIST lists every error code (for schemas and docs). */
export const HUB_ERROR_CODE_LIST = Object.keys(HUB_ERROR_CODES) as [HubErrorCode, ...HubErrorCode[]];

/**
 * CLOSE_CODES are the WebSocket close codes the hub uses (RFC 6455 §7.4.1; 1013 from the IANA registry).
 * 1009 is sent by the ws library itself when a frame exceeds `maxPayload`.
 */
export const CLOSE_CODES = {
  /** GOING_AWAY: the exporter is shutting down. */
  GOING_AWAY: 1001,
  /** POLICY_VIOLATION: repeated protocol errors (abuse). */
  POLICY_VIOLATION: 1008,
  /** MESSAGE_TOO_BIG: a frame over the hard frame limit. */
  MESSAGE_TOO_BIG: 1009,
  /** TRY_AGAIN_LATER: the connection limit is reached. */
  TRY_AGAIN_LATER: 1013,
} as const;

/** hubLimitsSchema validates the limits announced in `welcome`. */
export const hubLimitsSchema = z.object({
  /** maxMessageBytes: larger client messages get `message_too_large`. */
  maxMessageBytes: z.number().int().positive(),
  /** maxFrameBytes: larger frames close the connection with 1009. */
  maxFrameBytes: z.number().int().positive(),
  /** heartbeatMs: the server pings this often and drops a client that missed one ping. */
  heartbeatMs: z.number().int().positive(),
  maxFilterServers: z.number().int().positive(),
  /** maxMessagesPerWindow client messages are accepted per windowMs; more get `rate_limited`. */
  maxMessagesPerWindow: z.number().int().positive(),
  windowMs: z.number().int().positive(),
});

/** welcomeMessageSchema validates `welcome`, the first message on every connection. */
export const welcomeMessageSchema = z.object({
  type: z.literal('welcome'),
  protocolVersion: z.number().int().positive(),
  channels: z.array(channelSchema),
  /** connectionId names the connection in the exporter's logs. */
  connectionId: z.string(),
  serverTime: unixMs,
  limits: hubLimitsSchema,
});

/** subscriptionsMessageSchema validates `subscriptions`: the connection's subscription after a (un)subscribe. */
export const subscriptionsMessageSchema = z.object({
  type: z.literal('subscriptions'),
  channels: z.array(channelSchema),
  servers: z.array(z.string()).nullable(),
});

function dataSchema<C extends Channel>(channel: C, payload: z.ZodType<ChannelPayload[C]>) {
  return z.object({ type: z.literal('data'), channel: z.literal(channel), timestamp: unixMs, data: payload });
}

/** dataMessageSchema validates `data`: the seed's `{channel, timestamp, data}` message with `type` added. */
export const dataMessageSchema = z.discriminatedUnion('channel', [
  dataSchema('server-metrics', unifiedMetricsSchema),
  dataSchema('system-status', systemStatusSchema),
  dataSchema('alerts', alertsEventSchema),
  dataSchema('ai-analysis', aiAnalysisSchema),
]);

/** DataMessage is a `data` message of one channel (`timestamp` in Unix ms). */
export interface DataMessage<C extends Channel = Channel> {
  type: 'data';
  channel: C;
  timestamp: number;
  data: ChannelPayload[C];
}

/** AnyDataMessage is a `data` message of any channel, discriminated by `channel`. */
export type AnyDataMessage = { [C in Channel]: DataMessage<C> }[Channel];

/** pongMessageSchema validates `pong`, the reply to `ping`. */
export const pongMessageSchema = z.object({
  type: z.literal('pong'),
  id: idSchema.optional(),
  serverTime: unixMs,
});

/** errorMessageSchema validates `error`: a refused message; the connection stays open unless closed after. */
export const errorMessageSchema = z.object({
  type: z.literal('error'),
  code: z.enum(HUB_ERROR_CODE_LIST),
  message: z.string(),
});

/** serverMessageSchema validates any server → client message. */
export const serverMessageSchema = z.union([
  welcomeMessageSchema,
  subscriptionsMessageSchema,
  dataMessageSchema,
  pongMessageSchema,
  errorMessageSchema,
]);

// ---------------------------------------------------------------------------------------------------------
// Tickets: short-lived, single-use admission for browsers, which must never hold the hub token

/**
 * HUB_TICKET_PATH is the HTTP endpoint that exchanges the hub token for a ticket: `POST` with
 * `Authorization: Bearer <token>` (no token needed when the hub has none). A server-side proxy holding the token
 * calls it on the browser's behalf, and the browser opens `/ws?ticket=…` (or `/api/stream?ticket=…`).
 */
export const HUB_TICKET_PATH = '/api/hub/ticket';

/** HUB_TICKET_PARAM is the query parameter that carries a ticket on `/ws` and `/api/stream`. */
export const HUB_TICKET_PARAM = 'ticket';

/** hubTicketSchema validates the ticket endpoint's answer: the ticket and when it stops being accepted. */
export const hubTicketSchema = z.object({
  ticket: z.string().min(1),
  /** expiresAt is the last moment the ticket admits a connection (Unix ms); it admits one connection at most. */
  expiresAt: unixMs,
});

/** HubTicket is the ticket endpoint's answer. */
export type HubTicket = z.infer<typeof hubTicketSchema>;

/** HubLimits are the limits announced in `welcome`. */
export type HubLimits = z.infer<typeof hubLimitsSchema>;
/** WelcomeMessage is the server's first message. */
export type WelcomeMessage = z.infer<typeof welcomeMessageSchema>;
/** SubscriptionsMessage acknowledges a subscribe or unsubscribe. */
export type SubscriptionsMessage = z.infer<typeof subscriptionsMessageSchema>;
/** PongMessage is the reply to ping. */
export type PongMessage = z.infer<typeof pongMessageSchema>;
/** ErrorMessage reports a refused client message. */
export type ErrorMessage = z.infer<typeof errorMessageSchema>;
/** ServerMessage is any server → client message. */
export type ServerMessage =
  WelcomeMessage | SubscriptionsMessage | AnyDataMessage | PongMessage | ErrorMessage;
