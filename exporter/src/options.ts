/**
 * The exporter's configuration: one table (OPTION_SPECS) from which the typed options object, the defaults,
 * the env-var and CLI-flag parsing and `--help` are all derived, so adding an option is one line here.
 * Every option has an env var and a flag of the same meaning; flags win over env vars, env vars over defaults.
 */
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { z } from 'zod';
import { isCodecSpec } from './tsdb/codec.js';
import { formatDuration, parseDuration } from './util/duration.js';

export { formatDuration, parseDuration } from './util/duration.js';

/** OptionSpec describes one option: its env var (the flag is derived), how its text is parsed, its default. */
interface OptionSpec<T> {
  readonly env: string;
  /** schema parses the option's text (from env or flag) into its value; its failure message is not shown. */
  readonly schema: z.ZodType<T, string>;
  readonly default: T;
  /** accepts says in words what values are valid; it is quoted by the exit-2 message and by `--help`. */
  readonly accepts: string;
  readonly help: string;
}

const int = (min: number, max: number): z.ZodType<number, string> =>
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const num = (min: number, max: number): z.ZodType<number, string> =>
  z
    .string()
    .regex(/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i)
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const duration = (): z.ZodType<number, string> =>
  z
    .string()
    .transform((s) => parseDuration(s) ?? -1)
    .pipe(z.number().min(0));

const text = (): z.ZodType<string, string> => z.string().min(1);
const optionalText = (): z.ZodType<string | undefined, string> =>
  z.string().transform((s) => (s === '' ? undefined : s));

const list = (): z.ZodType<string[], string> =>
  z.string().transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  );

/** labelPairs parses `k=v,k=v` into labels; names must be valid label names. */
const labelPairs = (): z.ZodType<Record<string, string>, string> =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .pipe(z.array(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*=.*$/)))
    .transform((pairs) =>
      Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])),
    );

const oneOf = <const T extends readonly [string, ...string[]]>(values: T): z.ZodType<T[number], string> =>
  z.enum(values);

const spec = <T>(
  env: string,
  schema: z.ZodType<T, string>,
  def: T,
  accepts: string,
  help: string,
): OptionSpec<T> => ({ env, schema, default: def, accepts, help });

/** LOG_LEVELS are pino's levels, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * JOB_CLOCKS are the clocks periodic jobs can run on: `wall` (the default: only generation follows --speed) or
 * `simulated` (every job's period is simulated time, so under --speed N the whole exporter runs N× as fast).
 */
export const JOB_CLOCKS = ['wall', 'simulated'] as const;

const DAY_MS = 86_400_000;

/** MAX_SAMPLES_IN_FLIGHT caps the in-flight sample budget at Prometheus's `--query.max-samples` default. */
const MAX_SAMPLES_IN_FLIGHT = 50_000_000;
/** SAMPLE_BYTES is what one sample a query holds takes: a timestamp and a value, 8 bytes each. */
const SAMPLE_BYTES = 16;

/**
 * samplesInFlightFor is the default budget of samples all running queries may hold together for a V8 heap
 * limit: a quarter of the heap at SAMPLE_BYTES a sample, at most MAX_SAMPLES_IN_FLIGHT. A fixed 50,000,000
 * (800 MB of samples) fits a large heap, but a small container's heap (V8 sizes it from the memory the
 * process may use) would run out before the budget refused anything; the rest of the heap stays for the
 * store, the results being written and everything else.
 */
export function samplesInFlightFor(heapLimitBytes: number): number {
  return Math.max(1, Math.min(MAX_SAMPLES_IN_FLIGHT, Math.floor(heapLimitBytes / 4 / SAMPLE_BYTES)));
}

/**
 * OPTION_SPECS is the single source of every option. Defaults: port 3001, scrape/tick 15 s, broadcast 5 s and
 * the retention tiers come from the seed (shared/SEED.md); 127.0.0.1 as the default host keeps a fresh
 * `npm start` off the network (set HOST=0.0.0.0 in containers).
 */
export const OPTION_SPECS = {
  port: spec('PORT', int(0, 65535), 3001, 'an integer 0–65535 (0 = any free port)', 'HTTP port'),
  host: spec('HOST', text(), '127.0.0.1', 'a host name or IP address', 'address to listen on'),
  dataDir: spec('DATA_DIR', text(), './data', 'a directory path', 'embedded store and scenario history'),
  redisUrl: spec('REDIS_URL', optionalText(), undefined, 'a redis:// URL', 'use Redis; unset = embedded'),
  servers: spec('SERVERS', int(1, 10_000), 20, 'an integer 1–10000', 'number of simulated servers'),
  seed: spec('SEED', int(0, 2 ** 31 - 1), 42, 'an integer 0–2147483647', 'simulator random seed'),
  tickSeconds: spec('TICK_SECONDS', num(0.01, 3600), 15, 'a number of seconds 0.01–3600', 'sample interval'),
  speed: spec('SPEED', num(0.01, 10_000), 1, 'a number 0.01–10000', 'simulated time runs N× wall time'),
  jobClock: spec(
    'JOB_CLOCK',
    oneOf(JOB_CLOCKS),
    'wall',
    JOB_CLOCKS.join(', '),
    'clock of the periodic jobs; simulated: broadcasts, status, health, cleanup and snapshots also run --speed× as often',
  ),
  backfill: spec(
    'BACKFILL',
    duration(),
    7 * DAY_MS,
    'a duration like 7d, 12h or 0',
    'history on first start',
  ),
  apiToken: spec('API_TOKEN', optionalText(), undefined, 'any string', 'bearer token; unset = no mutations'),
  remoteWriteToken: spec(
    'REMOTE_WRITE_TOKEN',
    optionalText(),
    undefined,
    'any string',
    'token remote write requires (bearer or basic-auth password); unset = open',
  ),
  fleetFile: spec('FLEET_FILE', optionalText(), undefined, 'a YAML file path', 'fleet description'),
  logLevel: spec('LOG_LEVEL', oneOf(LOG_LEVELS), 'info', LOG_LEVELS.join(', '), 'log verbosity'),
  broadcastSeconds: spec('BROADCAST_SECONDS', num(0.1, 3600), 5, 'seconds 0.1–3600', 'hub broadcast period'),
  scenarioRate: spec('SCENARIO_RATE', num(0, 3600), 3, 'scenarios per hour 0–3600', 'random failure rate'),
  wsMaxConnections: spec('WS_MAX_CONNECTIONS', int(1, 100_000), 1000, 'an integer 1–100000', 'hub limit'),
  allowedOrigins: spec('ALLOWED_ORIGINS', list(), [], 'comma-separated origins', 'empty = any origin'),
  hubToken: spec(
    'HUB_TOKEN',
    optionalText(),
    undefined,
    'any string',
    'token /ws and /api/stream require (or a ticket from POST /api/hub/ticket)',
  ),
  retentionRaw: spec('RETENTION_RAW', duration(), 7 * DAY_MS, 'a duration like 7d', 'raw samples kept'),
  retention1m: spec('RETENTION_1M', duration(), 30 * DAY_MS, 'a duration like 30d', '1m rollups kept'),
  retention5m: spec('RETENTION_5M', duration(), 90 * DAY_MS, 'a duration like 90d', '5m rollups kept'),
  retention1h: spec('RETENTION_1H', duration(), 365 * DAY_MS, 'a duration like 1y', '1h rollups kept'),
  queryTimeout: spec('QUERY_TIMEOUT', duration(), 120_000, 'a duration like 2m', 'PromQL query timeout'),
  queryMaxSamples: spec('QUERY_MAX_SAMPLES', int(1, 2 ** 31 - 1), 50_000_000, 'a positive integer', 'limit'),
  queryMaxSamplesInFlight: spec(
    'QUERY_MAX_SAMPLES_IN_FLIGHT',
    int(1, 2 ** 31 - 1),
    samplesInFlightFor(getHeapStatistics().heap_size_limit),
    'a positive integer',
    'samples all running queries hold together (beyond: 503, retry); default from the heap limit',
  ),
  queryMaxResultPoints: spec(
    'QUERY_MAX_RESULT_POINTS',
    int(1, 2 ** 31 - 1),
    10_000_000,
    'a positive integer',
    'points one PromQL result may hold (beyond: 422 execution)',
  ),
  queryMaxSubquerySteps: spec(
    'QUERY_MAX_SUBQUERY_STEPS',
    int(1, 2 ** 31 - 1),
    250_000,
    'a positive integer',
    'steps one PromQL subquery may evaluate (beyond: 422 execution)',
  ),
  queryMaxConcurrency: spec(
    'QUERY_MAX_CONCURRENCY',
    int(1, 1000),
    20,
    'an integer 1–1000',
    'PromQL queries evaluated at once (the rest wait)',
  ),
  rateLimitPerMinute: spec(
    'RATE_LIMIT_PER_MINUTE',
    int(1, 1_000_000),
    60,
    'an integer 1–1000000',
    'mutating requests per client and minute (scenarios, reloads)',
  ),
  remoteWriteRateLimitPerMinute: spec(
    'REMOTE_WRITE_RATE_LIMIT_PER_MINUTE',
    int(1, 10_000_000),
    6000,
    'an integer 1–10000000',
    'remote-write requests per client and minute',
  ),
  ruleFiles: spec(
    'RULE_FILES',
    list(),
    [],
    'comma-separated file globs (relative to the directory npm was started in)',
    'Prometheus rule files to evaluate; empty = the shipped rules/*.yml',
  ),
  evaluationInterval: spec(
    'EVALUATION_INTERVAL',
    duration(),
    15_000,
    'a duration like 15s',
    'rule groups without their own interval; also the step of subqueries written without one',
  ),
  externalLabels: spec(
    'EXTERNAL_LABELS',
    labelPairs(),
    {},
    'comma-separated name=value pairs',
    '$externalLabels in rule templates and labels of notifications',
  ),
  externalUrl: spec(
    'EXTERNAL_URL',
    optionalText(),
    undefined,
    'a URL',
    'how users reach the exporter ($externalURL, alert links); unset = its listening URL',
  ),
  notifyConfig: spec(
    'NOTIFY_CONFIG',
    optionalText(),
    undefined,
    'a YAML file path (see exporter/config/notify.example.yml)',
    'notification receivers, routing and outbox; unset = receivers from SLACK_WEBHOOK_URL, WEBHOOK_URL, ALERTMANAGER_URL, DATADOG_API_KEY',
  ),
  drillsDir: spec(
    'DRILLS_DIR',
    optionalText(),
    undefined,
    'a directory of drill YAML files',
    'game-day drills POST /api/drills can run; unset = the shipped exporter/drills/',
  ),
  grafanaUrl: spec(
    'GRAFANA_URL',
    optionalText(),
    undefined,
    'a URL like http://localhost:3000',
    "Grafana's base URL, for links to a server's page in notifications; unset = no link",
  ),
  codec: spec(
    'CODEC',
    z.string().refine(isCodecSpec),
    'lossless',
    'lossless or deadband:<percent> (0–100)',
    "chunk codec: bit-exact, or the seed's lossy skip-small-changes scheme",
  ),
  analysisInterval: spec(
    'ANALYSIS_INTERVAL',
    duration(),
    30_000,
    'a duration like 30s (0 = analysis off)',
    "anomaly analysis period, in simulated time (the seed's 30 s)",
  ),
  bodyLimitBytes: spec(
    'BODY_LIMIT_BYTES',
    int(1024, 2 ** 30),
    1_048_576,
    'bytes 1024–1073741824',
    'max body',
  ),
} as const;

type Specs = typeof OPTION_SPECS;

/** ExporterOptions is the typed configuration object every module receives (derived from OPTION_SPECS). */
export type ExporterOptions = { readonly [K in keyof Specs]: Specs[K]['default'] };

/** OptionKey names one option. */
export type OptionKey = keyof ExporterOptions;

const KEYS = Object.keys(OPTION_SPECS) as OptionKey[];

/** flagName is the CLI flag of an option: its env var in kebab case (`TICK_SECONDS` → `tick-seconds`). */
export function flagName(key: OptionKey): string {
  return OPTION_SPECS[key].env.toLowerCase().replaceAll('_', '-');
}

/** DEFAULT_OPTIONS is the configuration a bare `npm start` runs with. */
export const DEFAULT_OPTIONS: ExporterOptions = Object.fromEntries(
  KEYS.map((k) => [k, OPTION_SPECS[k].default]),
) as ExporterOptions;

/** ConfigError is an invalid configuration; main exits with code 2 and prints its message. */
export class ConfigError extends Error {
  readonly code = 'OM_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** ParsedCommandLine is what parseOptions returns: options, or a request for help or the version. */
export type ParsedCommandLine =
  | { help: true; version?: false }
  | { help: false; version: true }
  | { help: false; version?: false; options: ExporterOptions };

/**
 * parseOptions reads options from `env` and `argv` (flags win). Throws ConfigError naming the key, the value
 * and the accepted values on the first invalid one.
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedCommandLine {
  const flagOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  for (const k of KEYS) flagOptions[flagName(k)] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: flagOptions,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run with --help to list the options.`);
  }
  if (values.help === true) return { help: true };
  if (values.version === true) return { help: false, version: true };
  const out: Record<string, unknown> = {};
  for (const k of KEYS) {
    const s = OPTION_SPECS[k] as OptionSpec<unknown>;
    const flag = flagName(k);
    const fromFlag = values[flag];
    const raw = typeof fromFlag === 'string' ? fromFlag : env[s.env];
    if (raw === undefined) {
      out[k] = s.default;
      continue;
    }
    const parsed = s.schema.safeParse(raw);
    if (!parsed.success) {
      const source = typeof fromFlag === 'string' ? `--${flag}` : `${s.env} (env)`;
      throw new ConfigError(
        `invalid configuration: ${s.env} / --${flag} = ${JSON.stringify(raw)} (from ${source}); ` +
          `accepted values: ${s.accepts}`,
      );
    }
    out[k] = parsed.data;
  }
  return { help: false, options: out as ExporterOptions };
}

function showDefault(value: unknown, key: OptionKey): string {
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) return value.length ? value.join(',') : '(empty)';
  const accepts = OPTION_SPECS[key].accepts;
  if (typeof value === 'number' && accepts.startsWith('a duration')) return formatDuration(value);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** helpText lists every option with its flag, env var, default and accepted values (`--help`). */
export function helpText(): string {
  const rows = KEYS.map((k) => {
    const s = OPTION_SPECS[k] as OptionSpec<unknown>;
    return [`--${flagName(k)}`, s.env, showDefault(s.default, k), `${s.help} (${s.accepts})`];
  });
  const head = ['flag', 'env', 'default', 'meaning (accepted values)'];
  const widths = [0, 1, 2].map((i) => Math.max(head[i]?.length ?? 0, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]): string =>
    r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ');
  return [
    'Usage: npm start -- [--flag value]…   (every flag also reads its env var; flags win)',
    '       npm start -- --version          (version, git revision, Node version)',
    '',
    line(head),
    ...rows.map(line),
  ].join('\n');
}
