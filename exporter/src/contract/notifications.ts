/**
 * The notifications API as the plugin sees it: `GET /api/notifications` (each receiver's queue, recent
 * deliveries and failures, dead letters) and the silences of `GET/POST/DELETE /api/silences` (Alertmanager's
 * v2 silence shape, so anything that reads Alertmanager silences reads ours). Types and zod schemas only.
 */
import { z } from 'zod';

const unixMs = z.number().int().nonnegative();

/** NOTIFICATION_OUTCOMES are how one delivery attempt can end (also the `outcome` label of the metric). */
export const NOTIFICATION_OUTCOMES = ['delivered', 'failed', 'rate_limited', 'dead_lettered'] as const;

/** NotificationOutcome is one of NOTIFICATION_OUTCOMES. */
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

/** RECEIVER_KINDS are the kinds of receiver. */
export const RECEIVER_KINDS = ['slack', 'webhook', 'alertmanager'] as const;

/** deliveryRecordSchema validates one delivery attempt in `recent`. */
export const deliveryRecordSchema = z.object({
  /** at is when the attempt ended (Unix ms). */
  at: unixMs,
  receiver: z.string(),
  /** id is the notification's outbox id. */
  id: z.number().int().positive(),
  groupKey: z.string(),
  status: z.enum(['firing', 'resolved']),
  alerts: z.number().int().nonnegative(),
  attempt: z.number().int().nonnegative(),
  outcome: z.enum(NOTIFICATION_OUTCOMES),
  /** latencyMs is how long the receiver took to answer; null when no request was made (expired). */
  latencyMs: z.number().nonnegative().nullable(),
  /** error says why the attempt failed; null on success. Never holds a credential. */
  error: z.string().nullable(),
  idempotencyKey: z.string(),
});

/** DeliveryRecord is one delivery attempt. */
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;

/** receiverStatusSchema validates one receiver's state. */
export const receiverStatusSchema = z.object({
  name: z.string(),
  type: z.enum(RECEIVER_KINDS),
  /** queued counts notifications not yet acknowledged. */
  queued: z.number().int().nonnegative(),
  oldestPendingAgeSeconds: z.number().nonnegative(),
  inFlight: z.number().int().nonnegative(),
  /** pausedUntil is when the next attempt may start after failures or a 429 (Unix ms); null when not paused. */
  pausedUntil: unixMs.nullable(),
  consecutiveFailures: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
});

/** ReceiverStatus is one receiver's queue and health. */
export type ReceiverStatus = z.infer<typeof receiverStatusSchema>;

/** deadLetterInfoSchema validates one dead letter. */
export const deadLetterInfoSchema = z.object({
  id: z.number().int().positive(),
  receiver: z.string(),
  groupKey: z.string(),
  status: z.enum(['firing', 'resolved']),
  alerts: z.number().int().nonnegative(),
  createdAt: unixMs,
  /** at is when it was given up on (Unix ms). */
  at: unixMs,
  reason: z.string(),
});

/** DeadLetterInfo is a notification given up on (too old, or refused for good), kept for inspection. */
export type DeadLetterInfo = z.infer<typeof deadLetterInfoSchema>;

/** notificationsResponseSchema validates `GET /api/notifications`. */
export const notificationsResponseSchema = z.object({
  receivers: z.array(receiverStatusSchema),
  /** recent are the latest attempts, newest first. */
  recent: z.array(deliveryRecordSchema),
  /** deadLetters are the newest dead letters kept, newest first; deadLettersTotal counts all of them. */
  deadLetters: z.array(deadLetterInfoSchema),
  deadLettersTotal: z.number().int().nonnegative(),
});

/** NotificationsResponse is `GET /api/notifications`. */
export type NotificationsResponse = z.infer<typeof notificationsResponseSchema>;

/** silenceMatcherSchema validates one matcher of a silence (Alertmanager v2: isRegex, isEqual). */
export const silenceMatcherSchema = z.object({
  name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a label name'),
  value: z.string().max(1024),
  isRegex: z.boolean(),
  isEqual: z.boolean().default(true),
});

/** SilenceMatcher is one matcher of a silence. */
export type SilenceMatcher = z.infer<typeof silenceMatcherSchema>;

/** SILENCE_STATES are a silence's states: before startsAt, in force, after endsAt (or expired by DELETE). */
export const SILENCE_STATES = ['pending', 'active', 'expired'] as const;

/** MAX_SILENCE_MATCHERS bounds the matchers of one silence. */
export const MAX_SILENCE_MATCHERS = 32;

/** postSilenceSchema validates `POST /api/silences`: endsAt, or a duration from startsAt (default now). */
export const postSilenceSchema = z
  .strictObject({
    matchers: z.array(silenceMatcherSchema).min(1).max(MAX_SILENCE_MATCHERS),
    /** startsAt and endsAt are RFC 3339 times. */
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    /** duration is a Prometheus duration (`2h`) from startsAt, instead of endsAt. */
    duration: z.string().optional(),
    createdBy: z.string().min(1).max(256),
    comment: z.string().max(4096).default(''),
  })
  .refine((s) => (s.endsAt === undefined) !== (s.duration === undefined), {
    message: 'give either endsAt or duration',
  });

/** PostSilence is the body of `POST /api/silences`. */
export type PostSilence = z.input<typeof postSilenceSchema>;

/** silenceSchema validates one silence as the API shows it (Alertmanager's GettableSilence). */
export const silenceSchema = z.object({
  id: z.string(),
  matchers: z.array(silenceMatcherSchema),
  startsAt: z.string(),
  endsAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  status: z.object({ state: z.enum(SILENCE_STATES) }),
});

/** Silence is one silence. */
export type Silence = z.infer<typeof silenceSchema>;

/** silencesResponseSchema validates `GET /api/silences`. */
export const silencesResponseSchema = z.object({ silences: z.array(silenceSchema) });

/** SilencesResponse is `GET /api/silences`. */
export type SilencesResponse = z.infer<typeof silencesResponseSchema>;
