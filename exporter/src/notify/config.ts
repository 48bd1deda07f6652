/**
 * The notification configuration: a YAML file (`NOTIFY_CONFIG` / `--notify-config`, example in
 * exporter/config/notify.example.yml) that says which receivers exist, which alerts each one takes (matchers)
 * and how alerts are grouped and timed, in Alertmanager's vocabulary (group_by, group_wait, group_interval,
 * repeat_interval). Credentials never live in the file: each receiver reads its URL or key from an env var
 * (SLACK_WEBHOOK_URL, WEBHOOK_URL, ALERTMANAGER_URL, DATADOG_API_KEY with DATADOG_SITE or DATADOG_URL), held in
 * a Secret so it is never logged or served.
 *
 * Without a file, every receiver whose env var is set runs with the defaults below; with a file, a receiver
 * the file names whose env var is unset is a configuration error (exit 2), never a silent no-op. Unknown keys
 * are errors too, so a typo (`group_wiat`) cannot quietly leave a default in force.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../options.js';
import { parseDuration } from '../util/duration.js';
import { parseYamlAs } from '../util/yaml-schema.js';
import { LABEL_NAME_RE } from '../util/labels.js';
import { parseMatchers, type LabelMatcher } from './matchers.js';
import { Secret } from './secret.js';

/** RECEIVER_TYPES are the kinds of receiver the exporter can deliver to. */
export const RECEIVER_TYPES = ['slack', 'webhook', 'alertmanager'] as const;

/** ReceiverType names one kind of receiver. */
export type ReceiverType = (typeof RECEIVER_TYPES)[number];

/** DEFAULT_URL_ENV is the env var each kind of receiver reads its URL from unless `url_env` names another. */
export const DEFAULT_URL_ENV: Readonly<Record<ReceiverType, string>> = {
  slack: 'SLACK_WEBHOOK_URL',
  webhook: 'WEBHOOK_URL',
  alertmanager: 'ALERTMANAGER_URL',
};

/**
 * DEFAULT_ROUTE is Alertmanager's route defaults (group_wait 30 s, group_interval 5 m, repeat_interval 4 h),
 * grouping by alert and server as the fleet's alerts are per server.
 */
export const DEFAULT_ROUTE: RouteTiming = {
  groupBy: ['alertname', 'server'],
  groupWaitMs: 30_000,
  groupIntervalMs: 300_000,
  repeatIntervalMs: 4 * 3_600_000,
};

/** DEFAULT_RESEND_DELAY_MS is Prometheus's `--rules.alert.resend-delay` (1 m). */
export const DEFAULT_RESEND_DELAY_MS = 60_000;

/** DEFAULT_TIMEOUT_MS bounds one request to a receiver (Alertmanager's notifier timeout is 10 s as well). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * DEFAULT_OUTBOX: a notification is retried for up to 24 h (then dead-lettered), backing off from 1 s to at
 * most 1 min so a receiver back after an outage is served within a minute; at most 10,000 wait per receiver
 * (a day of a 1,000-server fleet's alerts flapping every few minutes), so a receiver that is gone for good
 * cannot grow memory and disk without end.
 */
export const DEFAULT_OUTBOX: OutboxConfig = {
  maxAgeMs: 24 * 3_600_000,
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  maxPending: 10_000,
};

/** DEFAULT_DATADOG: one push per 15 s tick (the seed's interval), 500 series per request. */
export const DEFAULT_DATADOG = { intervalMs: 15_000, batchSize: 500 } as const;

/** DEFAULT_DATADOG_SITE is DataDog's US1 site, used when neither DATADOG_URL nor DATADOG_SITE is set. */
export const DEFAULT_DATADOG_SITE = 'datadoghq.com';

/** RouteTiming is how one receiver groups and times its notifications. */
export interface RouteTiming {
  /** groupBy lists the labels that make a group; `['...']` groups by every label (one alert per group). */
  readonly groupBy: readonly string[];
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
}

interface ReceiverCommon {
  readonly name: string;
  readonly url: Secret;
  /** matchers select the alerts this receiver takes (all must match); empty = every alert. */
  readonly matchers: readonly LabelMatcher[];
  readonly sendResolved: boolean;
  readonly timeoutMs: number;
  /** maxAlerts caps the alerts of one notification (the rest are counted in `truncatedAlerts`); 0 = no cap. */
  readonly maxAlerts: number;
}

/** SlackReceiverConfig is a Slack incoming webhook. */
export interface SlackReceiverConfig extends ReceiverCommon, RouteTiming {
  readonly type: 'slack';
  readonly channel: string;
  readonly username: string;
  readonly iconEmoji: string | undefined;
}

/** WebhookReceiverConfig is a generic webhook taking Alertmanager's webhook payload (version 4). */
export interface WebhookReceiverConfig extends ReceiverCommon, RouteTiming {
  readonly type: 'webhook';
}

/** AlertmanagerReceiverConfig is an Alertmanager (API v2); it groups itself, so it has no route timing. */
export interface AlertmanagerReceiverConfig extends ReceiverCommon {
  readonly type: 'alertmanager';
  readonly resendDelayMs: number;
}

/** ReceiverConfig is one configured receiver. */
export type ReceiverConfig = SlackReceiverConfig | WebhookReceiverConfig | AlertmanagerReceiverConfig;

/** OutboxConfig bounds retries. */
export interface OutboxConfig {
  /** maxAgeMs is how long a notification is retried before it becomes a dead letter. */
  readonly maxAgeMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** maxPending bounds the notifications waiting per receiver; beyond it the oldest become dead letters. */
  readonly maxPending: number;
}

/** DatadogConfig is the optional metrics sink. */
export interface DatadogConfig {
  readonly apiKey: Secret;
  /** url is the API base (`https://api.datadoghq.com`, or a local receiver in tests). */
  readonly url: Secret;
  readonly intervalMs: number;
  readonly batchSize: number;
  readonly tags: readonly string[];
  readonly timeoutMs: number;
}

/** NotifyConfig is the whole notification configuration. */
export interface NotifyConfig {
  readonly receivers: readonly ReceiverConfig[];
  readonly outbox: OutboxConfig;
  readonly datadog: DatadogConfig | undefined;
  /** source is the file it came from, or `(environment)`. */
  readonly source: string;
}

const durationText = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'expected a duration like 30s, 5m or 4h',
});
const positiveDuration = durationText.refine((s) => (parseDuration(s) ?? 0) > 0, {
  message: 'expected a duration greater than 0, like 30s',
});
const labelName = z.string().regex(LABEL_NAME_RE, 'expected a label name like server');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an env var name like MY_WEBHOOK_URL');

const routeFields = {
  group_by: z.array(z.union([labelName, z.literal('...')])).optional(),
  group_wait: durationText.optional(),
  group_interval: positiveDuration.optional(),
  repeat_interval: positiveDuration.optional(),
};

const commonFields = {
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'expected 1–64 letters, digits, _ or -'),
  url_env: envName.optional(),
  matchers: z.array(z.string()).optional(),
  send_resolved: z.boolean().optional(),
  timeout: positiveDuration.optional(),
  max_alerts: z.number().int().min(0).optional(),
};

const receiverSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('slack'),
    ...commonFields,
    ...routeFields,
    channel: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    icon_emoji: z.string().min(1).optional(),
  }),
  z.strictObject({ type: z.literal('webhook'), ...commonFields, ...routeFields }),
  z.strictObject({
    type: z.literal('alertmanager'),
    ...commonFields,
    resend_delay: positiveDuration.optional(),
  }),
]);

const fileSchema = z.strictObject({
  route: z.strictObject(routeFields).optional(),
  receivers: z.array(receiverSchema).optional(),
  outbox: z
    .strictObject({
      max_age: positiveDuration.optional(),
      initial_backoff: positiveDuration.optional(),
      max_backoff: positiveDuration.optional(),
      max_pending: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
  datadog: z
    .strictObject({
      interval: positiveDuration.optional(),
      batch_size: z.number().int().min(1).max(10_000).optional(),
      tags: z.array(z.string().min(1)).optional(),
      timeout: positiveDuration.optional(),
    })
    .nullable()
    .optional(),
});

type FileShape = z.infer<typeof fileSchema>;

/** SEED_SLACK are the seed's Slack message settings (shared/SEED.md): channel #monitoring, a bot name. */
export const SEED_SLACK = { channel: '#monitoring', username: 'OpenManager' } as const;

const ms = (s: string | undefined, def: number): number =>
  s === undefined ? def : (parseDuration(s) ?? def);

/**
 * loadNotifyConfig reads the notification configuration from `path` (undefined = none: receivers come from
 * the env vars that are set) and the credentials from `env`. Throws ConfigError naming the file, line, field
 * and what to change.
 */
export function loadNotifyConfig(path: string | undefined, env: NodeJS.ProcessEnv): NotifyConfig {
  if (path === undefined) return fromEnvOnly(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `invalid configuration: NOTIFY_CONFIG / --notify-config: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseNotifyConfig(text, path, env);
}

/** parseNotifyConfig is loadNotifyConfig on the file's text (`source` names it in errors). */
export function parseNotifyConfig(text: string, source: string, env: NodeJS.ProcessEnv): NotifyConfig {
  const fail = (where: string, problem: string): never => {
    throw new ConfigError(`invalid notify config ${source}${where}: ${problem}`);
  };
  const file = parseYamlAs(text, fileSchema, fail);
  return build(file, source, env, fail);
}

/** fromEnvOnly is the configuration without a file: one receiver (defaults) per credential env var set. */
function fromEnvOnly(env: NodeJS.ProcessEnv): NotifyConfig {
  const receivers = RECEIVER_TYPES.filter((t) => nonEmpty(env[DEFAULT_URL_ENV[t]])).map((type) => ({
    type,
    name: type,
  }));
  const file: FileShape = { receivers, ...(nonEmpty(env.DATADOG_API_KEY) ? { datadog: {} } : {}) };
  return build(file, '(environment)', env, (where, problem) => {
    throw new ConfigError(`invalid notify configuration from the environment${where}: ${problem}`);
  });
}

function nonEmpty(s: string | undefined): s is string {
  return s !== undefined && s.trim() !== '';
}

/** urlSecret reads an http(s) URL from env var `name`; the message names the variable, never its value. */
function urlSecret(
  env: NodeJS.ProcessEnv,
  name: string,
  who: string,
  fail: (where: string, problem: string) => never,
): Secret {
  const value = env[name];
  if (!nonEmpty(value))
    return fail(` (${who})`, `needs the env var ${name} (its URL); set it or remove ${who}`);
  let u: URL;
  try {
    u = new URL(value.trim());
  } catch {
    return fail(` (${who})`, `${name} is not a valid URL; expected http(s)://host[:port]/path`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return fail(` (${who})`, `${name} must be an http:// or https:// URL, not ${u.protocol}`);
  return new Secret(u.toString(), name);
}

function build(
  file: FileShape,
  source: string,
  env: NodeJS.ProcessEnv,
  fail: (where: string, problem: string) => never,
): NotifyConfig {
  const route: RouteTiming = {
    groupBy: file.route?.group_by ?? DEFAULT_ROUTE.groupBy,
    groupWaitMs: ms(file.route?.group_wait, DEFAULT_ROUTE.groupWaitMs),
    groupIntervalMs: ms(file.route?.group_interval, DEFAULT_ROUTE.groupIntervalMs),
    repeatIntervalMs: ms(file.route?.repeat_interval, DEFAULT_ROUTE.repeatIntervalMs),
  };
  const names = new Set<string>();
  const receivers = (file.receivers ?? []).map((r, i): ReceiverConfig => {
    const who = `receivers[${i}] "${r.name}"`;
    if (names.has(r.name)) fail(` (${who})`, `receiver name "${r.name}" is used twice; names must be unique`);
    names.add(r.name);
    let matchers: LabelMatcher[];
    try {
      matchers = (r.matchers ?? []).flatMap((m) => parseMatchers(m));
    } catch (err) {
      return fail(` (${who}.matchers)`, (err as Error).message);
    }
    const common = {
      name: r.name,
      url: urlSecret(env, r.url_env ?? DEFAULT_URL_ENV[r.type], who, fail),
      matchers,
      sendResolved: r.send_resolved ?? true,
      timeoutMs: ms(r.timeout, DEFAULT_TIMEOUT_MS),
      maxAlerts: r.max_alerts ?? 0,
    };
    if (r.type === 'alertmanager')
      return { ...common, type: 'alertmanager', resendDelayMs: ms(r.resend_delay, DEFAULT_RESEND_DELAY_MS) };
    const timing: RouteTiming = {
      groupBy: r.group_by ?? route.groupBy,
      groupWaitMs: ms(r.group_wait, route.groupWaitMs),
      groupIntervalMs: ms(r.group_interval, route.groupIntervalMs),
      repeatIntervalMs: ms(r.repeat_interval, route.repeatIntervalMs),
    };
    if (r.type === 'webhook') return { ...common, ...timing, type: 'webhook' };
    return {
      ...common,
      ...timing,
      type: 'slack',
      channel: r.channel ?? SEED_SLACK.channel,
      username: r.username ?? SEED_SLACK.username,
      iconEmoji: r.icon_emoji,
    };
  });
  const outbox: OutboxConfig = {
    maxAgeMs: ms(file.outbox?.max_age, DEFAULT_OUTBOX.maxAgeMs),
    initialBackoffMs: ms(file.outbox?.initial_backoff, DEFAULT_OUTBOX.initialBackoffMs),
    maxBackoffMs: ms(file.outbox?.max_backoff, DEFAULT_OUTBOX.maxBackoffMs),
    maxPending: file.outbox?.max_pending ?? DEFAULT_OUTBOX.maxPending,
  };
  if (outbox.maxBackoffMs < outbox.initialBackoffMs)
    fail(' (outbox)', 'max_backoff must not be shorter than initial_backoff');
  let datadog: DatadogConfig | undefined;
  if (file.datadog !== undefined && file.datadog !== null) {
    const key = env.DATADOG_API_KEY;
    if (!nonEmpty(key)) fail(' (datadog)', 'needs the env var DATADOG_API_KEY; set it or remove datadog');
    const site = nonEmpty(env.DATADOG_SITE) ? env.DATADOG_SITE.trim() : DEFAULT_DATADOG_SITE;
    if (!/^[a-z0-9.-]+$/i.test(site))
      fail(' (datadog)', 'DATADOG_SITE must be a host name like datadoghq.eu');
    const url = nonEmpty(env.DATADOG_URL)
      ? urlSecret(env, 'DATADOG_URL', 'datadog', fail)
      : new Secret(`https://api.${site}`, 'DATADOG_SITE');
    datadog = {
      apiKey: new Secret(key.trim(), 'DATADOG_API_KEY'),
      url,
      intervalMs: ms(file.datadog.interval, DEFAULT_DATADOG.intervalMs),
      batchSize: file.datadog.batch_size ?? DEFAULT_DATADOG.batchSize,
      tags: file.datadog.tags ?? [],
      timeoutMs: ms(file.datadog.timeout, DEFAULT_TIMEOUT_MS),
    };
  }
  return { receivers, outbox, datadog, source };
}

/** describeConfig is a log-safe summary of a configuration (names, kinds, matchers; no credentials). */
export function describeConfig(c: NotifyConfig): Record<string, unknown> {
  return {
    source: c.source,
    receivers: c.receivers.map((r) => ({
      name: r.name,
      type: r.type,
      matchers: r.matchers.length,
      url: r.url.source,
    })),
    datadog: c.datadog ? { intervalMs: c.datadog.intervalMs, batchSize: c.datadog.batchSize } : false,
  };
}
