/**
 * composeExporter assembles the whole exporter from options: it opens the storage backend (embedded by
 * default, Redis when `REDIS_URL` is set), builds the app, and plugs every module into the app's seams —
 * store ingest and the startup backfill, the Prometheus API and remote-write receiver, the WebSocket hub with
 * its SSE fallback. main.ts calls it; tests call it in-process with their own options and clocks.
 */
import { join } from 'node:path';
import express from 'express';
import type { Registry } from 'prom-client';
import { createApp, type App, type AppParts } from './app.js';
import { BUILD_INFO } from './build-info.js';
import { createPrometheusApiRouter, familiesMetadata } from './api/prometheus/index.js';
import { createRemoteWriteRouter, REMOTE_WRITE_PATH } from './api/remote-write.js';
import { toUnifiedMetrics } from './api/unified-metrics.js';
import {
  createHub,
  createStreamRouter,
  createTicketRouter,
  HUB_TICKET_PATH,
  StatusPublisher,
  type AlertInfo,
  type Hub,
  type SystemStatus,
} from './hub/index.js';
import type { ExporterOptions } from './options.js';
import { Analyzer } from './analysis/analyzer.js';
import { ANALYSIS_PATH, ANNOTATIONS_PATH, analysisRouter } from './analysis/routes.js';
import { ERR_BAD_PARAM } from './errors.js';
import { Engine } from './promql/index.js';
import type { Alert } from './rules/alerting-rule.js';
import { alertsData, rulesData } from './rules/api-data.js';
import { GO_TEMPLATES } from './rules/go-templates.js';
import { RuleManager } from './rules/manager.js';
import { createRuleMetrics } from './rules/rule-metrics.js';
import { RELOAD_PATH, rulesRouter } from './rules/routes.js';
import type { CompiledTemplate } from './rules/template.js';
import { SERVER_META_FAMILIES } from './simulator/index.js';
import { DEFAULT_EMBEDDED_OPTIONS, EmbeddedStorage } from './tsdb/embedded/embedded-storage.js';
import { backfill, Ingestor, type BackfillProgress } from './ingest/ingest.js';
import { SelfIngestor } from './ingest/self-ingest.js';
import { codecFromSpec } from './tsdb/codec.js';
import type { Retention, Storage } from './tsdb/storage.js';
import { resolveRetention } from './tsdb/retention.js';
import { systemClock, type Clock } from './util/clock.js';
import { JsonStateFile } from './util/json-state-file.js';
import type { Logger } from './util/logger.js';
import { exporterRoot } from './util/package-root.js';
import { scaledTimer, systemTimer, type Timer } from './util/timer.js';
import { describeConfig, loadNotifyConfig } from './notify/config.js';
import { Notifier } from './notify/notifier.js';
import { loadDrills } from './drills/drill-file.js';
import { DrillRunner } from './drills/drill-runner.js';
import { DRILLS_PATH, drillsRouter } from './drills/routes.js';
import { firedAlerts } from './coverage/drill-sandbox.js';
import { startSandbox } from './coverage/drill-sandbox-host.js';
import { COVERAGE_PATH, coverageRouter } from './api/coverage-routes.js';
import { CoverageJobs } from './coverage/jobs.js';
import type { Outbox } from './notify/outbox.js';
import { DatadogSink } from './notify/datadog-sink.js';
import { DatadogSeriesBuilder } from './metrics/datadog-series.js';
import { activeFingerprints, currentAlerts, transitionUpdates } from './notify/rule-alerts.js';
import { NOTIFICATIONS_PATH, notifyRouter, SILENCES_PATH } from './notify/routes.js';

/** STATUS_CHECK_MS is how often the system-status publisher looks for a change (it publishes at least every 30 s). */
const STATUS_CHECK_MS = 5_000;

/**
 * ComposeParts are the app's parts minus what composeExporter builds itself; `storage`, when given, replaces
 * the backend the options would open (tests hand in an in-memory store).
 */
export interface ComposeParts extends Pick<
  AppParts,
  'options' | 'logger' | 'registry' | 'fleet' | 'clock' | 'wallClock' | 'timer' | 'storage'
> {
  /** onBackfillProgress receives backfill progress (main.ts draws a bar on a terminal). */
  readonly onBackfillProgress?: (p: BackfillProgress) => void;
  /** env holds the notifiers' credentials (SLACK_WEBHOOK_URL …); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Exporter is a composed exporter: the app plus the parts tests and main.ts reach into. */
export interface Exporter {
  readonly app: App;
  readonly storage: Storage;
  readonly hub: Hub;
  readonly rules: RuleManager<CompiledTemplate>;
  readonly notifier: Notifier;
  readonly drills: DrillRunner;
  /** analysis is the anomaly analysis; undefined when ANALYSIS_INTERVAL is 0. */
  readonly analysis?: Analyzer;
}

/** retentionOf maps the options' per-tier retention onto the store's. */
function retentionOf(o: ExporterOptions): Retention {
  return { raw: o.retentionRaw, '1m': o.retention1m, '5m': o.retention5m, '1h': o.retention1h };
}

/** openStorage opens the backend the options choose: Redis when a URL is set, else the embedded store. */
export async function openStorage(o: ExporterOptions, logger: Logger, registry: Registry): Promise<Storage> {
  const retention = retentionOf(o);
  if (o.redisUrl !== undefined) {
    // Loaded on demand: ioredis and the Redis backend cost ~9 MB of RSS (bench/run.ts) the embedded default never uses.
    const { RedisStorage } = await import('./tsdb/redis/redis-storage.js');
    return RedisStorage.open({ url: o.redisUrl, logger, registry, retention, codec: codecFromSpec(o.codec) });
  }
  return EmbeddedStorage.open({
    dataDir: join(o.dataDir, 'tsdb'),
    // Snapshots are the scheduler's `snapshot` job (composeExporter), timed, paced and on the job clock.
    snapshotIntervalMs: 0,
    logger,
    registry,
    retention,
    codec: codecFromSpec(o.codec),
  });
}

/** composeExporter builds the exporter; nothing listens or ticks until `app.start()`. */
export async function composeExporter(parts: ComposeParts): Promise<Exporter> {
  const { options, logger, registry, fleet } = parts;
  const clock = parts.clock ?? systemClock;
  const wallClock = parts.wallClock ?? systemClock;
  const storage = parts.storage ?? (await openStorage(options, logger, registry));
  const ownsSnapshots = parts.storage === undefined && storage instanceof EmbeddedStorage;
  // One engine serves the API and the rule manager, so both share its limits and its 20 query slots.
  const engine = new Engine(
    {
      timeoutMs: options.queryTimeout,
      maxSamples: options.queryMaxSamples,
      maxSamplesInFlight: options.queryMaxSamplesInFlight,
      maxResultPoints: options.queryMaxResultPoints,
      maxSubquerySteps: options.queryMaxSubquerySteps,
      maxConcurrent: options.queryMaxConcurrency,
      noStepSubqueryIntervalMs: options.evaluationInterval,
    },
    { registry },
  );
  // The app is built before the rule manager (which needs its URL); the firing alerts are read late, and so
  // is the drill runner, which coverage jobs ask whether a drill on a separate clock runs.
  const late: { rules?: RuleManager<CompiledTemplate>; drills?: DrillRunner } = {};
  const app = createApp({
    options,
    logger,
    registry,
    fleet,
    clock,
    wallClock,
    storage,
    firingAlerts: (server) => late.rules?.firingFor(server) ?? [],
    ...(parts.timer ? { timer: parts.timer } : {}),
  });
  // Store: every tick's frame is appended; history is backfilled before the first tick.
  const ingestor = new Ingestor(storage, fleet.layout);
  app.onFrame('store', async (frame) => {
    await ingestor.ingest(frame);
  });
  // The exporter's own metrics too, so its self-health rules have data in its own store.
  const self = new SelfIngestor(storage, registry, () => new URL(app.url || 'http://unknown').host);
  app.onFrame('self-metrics', (frame) => self.ingest(frame.t));
  const tickMs = Math.round(options.tickSeconds * 1000);
  if (options.backfill > 0) {
    app.addStartupTask('backfill', async () => {
      // Backfill up to the slot before "now", then again for the slots that passed while it ran, so the
      // first live tick continues the history without a gap; backfill itself resumes after the newest sample.
      for (let pass = 0; pass < 3; pass++) {
        const to = Math.floor(clock.now() / tickMs) * tickMs - tickMs;
        const from = Math.floor((clock.now() - options.backfill) / tickMs) * tickMs;
        const r = await backfill(fleet, storage, {
          from,
          to,
          stepMs: tickMs,
          ...(parts.onBackfillProgress ? { onProgress: parts.onBackfillProgress } : {}),
        });
        logger.info({ pass, frames: r.frames, samples: r.samples, ms: Math.round(r.elapsedMs) }, 'backfill');
        if (r.frames <= 1) break;
      }
    });
  }
  // Rules come after the store and the backfill: a frame is stored before rules evaluate at its time, and the
  // startup replay runs over the history the backfill just wrote (startup tasks run in the order added).
  const ruleManager = await composeRules({ options, app, engine, storage, clock, logger, registry });
  late.rules = ruleManager;
  const notifier = await composeNotify({
    options,
    app,
    rules: ruleManager,
    clock,
    wallClock,
    timer: parts.timer ?? systemTimer,
    logger,
    registry,
    env: parts.env ?? process.env,
  });

  // Query API and remote-write receiver (the receiver's path lies under the API's, so it goes first).
  app.use(
    REMOTE_WRITE_PATH,
    app.rateLimiter({ name: 'remote_write', envelope: 'prometheus' }, options.remoteWriteRateLimitPerMinute),
  );
  app.use('/', createRemoteWriteRouter({ storage, logger, registry, token: options.remoteWriteToken }), [
    { method: 'POST', path: REMOTE_WRITE_PATH, description: 'Prometheus remote_write 1.0 receiver' },
  ]);
  app.use(
    '/api/prometheus/api/v1',
    createPrometheusApiRouter({
      queryable: storage,
      logger,
      registry,
      metadata: familiesMetadata([...fleet.layout.families, ...SERVER_META_FAMILIES]),
      engine,
      rules: (filters) => rulesData(ruleManager.loadedGroups(), filters),
      alerts: () => alertsData(ruleManager.alerts()),
      bodyLimitBytes: options.bodyLimitBytes,
      now: () => clock.now(),
    }),
    [
      {
        method: 'GET',
        path: '/api/prometheus/api/v1/query?query=up',
        description: 'Prometheus HTTP API (query, query_range, series, labels, metadata…)',
      },
      { method: 'GET', path: '/api/prometheus/api/v1/labels', description: 'label names' },
      { method: 'GET', path: '/api/prometheus/api/v1/status/buildinfo', description: 'build info' },
    ],
  );

  // Real-time hub: WebSocket on /ws, SSE on /api/stream.
  const hub = createHub({
    logger,
    registry,
    clock: wallClock,
    maxConnections: options.wsMaxConnections,
    allowedOrigins: options.allowedOrigins.length > 0 ? [...options.allowedOrigins] : null,
    token: options.hubToken ?? null,
  });
  hub.attach(app.server);
  app.use('/', createStreamRouter(hub), [
    { method: 'GET', path: '/api/stream?channels=server-metrics', description: 'live updates (SSE)' },
  ]);
  app.use(
    '/',
    createTicketRouter(hub, {
      guard: [app.rateLimiter({ name: 'hub_ticket', envelope: 'catalogue' }, options.rateLimitPerMinute)],
    }),
    [{ method: 'POST', path: HUB_TICKET_PATH, description: 'single-use ticket for /ws (bearer hub token)' }],
  );
  app.scheduler.register({
    name: 'broadcast',
    intervalMs: Math.round(options.broadcastSeconds * 1000),
    priority: 'high',
    // Not waiting for the fan-out to reach every client (it goes on over several loop turns): a slot that comes
    // first publishes the newer state, which replaces the older one for the clients not reached yet.
    run: () => {
      const frame = app.latestFrame();
      if (frame)
        hub.publish(
          'server-metrics',
          toUnifiedMetrics(frame.summaries, (server) => ruleManager.firingFor(server)),
          frame.t,
        );
    },
  });
  if (ownsSnapshots) {
    app.scheduler.register({
      name: 'snapshot',
      intervalMs: DEFAULT_EMBEDDED_OPTIONS.snapshotIntervalMs,
      priority: 'low',
      runAtStart: false,
      run: () => storage.snapshot(),
    });
  }
  // Coverage jobs and drills on a separate clock each simulate a fleet of their own: one at a time.
  const coverage = composeCoverage({
    options,
    app,
    ruleFiles: ruleManager.options.ruleFiles,
    cwd: ruleManager.options.cwd,
    wallClock,
    logger,
    simulationBusy: () => {
      const id = late.drills?.separateRun();
      return id === undefined ? undefined : `drill run "${id}" on a separate clock`;
    },
  });
  const startedAt = wallClock.now();
  const status = new StatusPublisher(hub, {
    clock: app.jobClock,
    collect: (): SystemStatus => ({
      exporter: {
        version: BUILD_INFO.version,
        startedAt,
        uptimeSeconds: (wallClock.now() - startedAt) / 1000,
        nodeVersion: process.version,
      },
      simulator: {
        servers: fleet.layout.servers.length,
        tickSeconds: options.tickSeconds,
        speed: options.speed,
        activeScenarios: fleet.active(clock.now()).length,
      },
      storage: storage.health(),
      scheduler: {
        jobs: app.scheduler.stats().map((j) => ({
          name: j.name,
          intervalMs: j.intervalMs,
          running: j.running,
          runs: j.runs,
          failures: j.failures,
          lastRunAt: j.lastSuccess ?? null,
          lastDurationMs: null,
          lastError: j.lastError ?? null,
        })),
      },
      connections: hub.connectionCounts(),
      ...coverageStatus(coverage),
    }),
  });
  app.scheduler.register({
    name: 'system-status',
    intervalMs: STATUS_CHECK_MS,
    priority: 'low',
    run: () => {
      status.tick();
    },
  });
  app.onScenario((e) => {
    hub.publish(
      'alerts',
      {
        event: e.type === 'started' ? 'scenario_started' : 'scenario_stopped',
        scenario: e.scenario,
        activeScenarios: fleet.active(e.at),
      },
      e.at,
    );
  });
  ruleManager.onTransitions(({ ts, transitions }) => {
    for (const t of transitions) {
      hub.publish(
        'alerts',
        {
          event: 'alert_state_changed',
          alert: alertInfo(t.alert, t.to),
          previousState: t.from ?? 'inactive',
          changedAt: ts,
          activeAlerts: ruleManager.alerts().map((a) => alertInfo(a.alert, a.alert.state)),
        },
        ts,
      );
    }
  });
  app.onStop('hub', () => hub.close());
  const drills = composeDrills({
    options,
    app,
    rules: ruleManager,
    notifier,
    clock,
    wallClock,
    timer: parts.timer ?? scaledTimer(options.speed),
    logger,
    simulationBusy: () => {
      const job = coverage.current();
      return job === undefined ? undefined : `coverage job "${job.id}"`;
    },
  });
  late.drills = drills;
  const analysis =
    options.analysisInterval > 0
      ? composeAnalysis({ options, app, engine, storage, logger, hub })
      : undefined;

  return { app, storage, hub, rules: ruleManager, notifier, drills, ...(analysis ? { analysis } : {}) };
}

/**
 * composeDrills loads the game-day drills (DRILLS_DIR, default the shipped exporter/drills/; an invalid file
 * throws ConfigError: main exits 2), feeds the runner the alerts that start firing, and mounts the drills API.
 * Steps are injected through the app, as `POST /api/scenarios` injects: journal, hub events, ground truth.
 */
function composeDrills(deps: {
  readonly options: ExporterOptions;
  readonly app: App;
  readonly rules: RuleManager<CompiledTemplate>;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly wallClock: Clock;
  readonly timer: Timer;
  readonly logger: Logger;
  readonly simulationBusy: () => string | undefined;
}): DrillRunner {
  const { options, app, rules, logger } = deps;
  const shipped = exporterRoot();
  const dir = options.drillsDir ?? (shipped ? join(shipped, 'drills') : undefined);
  const runner = new DrillRunner({
    definitions: dir === undefined ? [] : loadDrills(dir, app.fleet.layout.servers),
    clock: deps.clock,
    wallClock: deps.wallClock,
    timer: deps.timer,
    inject: (spec) => app.injectScenario(spec),
    stop: (id) => app.stopScenario(id),
    deliveries: () => deps.notifier.notifications().recent,
    separate: (run, onEvent) =>
      startSandbox(
        {
          ...run,
          servers: app.fleet.layout.servers,
          seed: options.seed,
          ruleFiles: rules.options.ruleFiles,
          cwd: rules.options.cwd,
          evaluationIntervalMs: options.evaluationInterval,
          // The model's step, as the live fleet's (main.ts): whole seconds.
          tickMs: Math.max(1000, Math.round(options.tickSeconds * 1000)),
        },
        onEvent,
      ),
    simulationBusy: deps.simulationBusy,
    logger,
  });
  rules.onTransitions(({ ts, transitions }) => {
    const fired = firedAlerts(transitions);
    if (fired.length > 0) runner.alertsFired(ts, fired);
  });
  app.use(
    '/',
    drillsRouter(runner, [...app.mutationGuard('drills'), express.json({ limit: options.bodyLimitBytes })]),
    [{ method: 'GET', path: DRILLS_PATH, description: 'game-day drills and their runs (POST starts one)' }],
  );
  app.onStop('drills', () => runner.stop());
  return runner;
}

/**
 * composeCoverage mounts the alert coverage API: jobs run the coverage run in a worker thread over the
 * request's rule files, or over the exporter's own (RULE_FILES, default the shipped rules/).
 */
function composeCoverage(deps: {
  readonly options: ExporterOptions;
  readonly app: App;
  readonly ruleFiles: readonly string[];
  readonly cwd: string;
  readonly wallClock: Clock;
  readonly logger: Logger;
  readonly simulationBusy: () => string | undefined;
}): CoverageJobs {
  const { options, app } = deps;
  const jobs = new CoverageJobs({
    ruleFiles: deps.ruleFiles,
    cwd: deps.cwd,
    clock: deps.wallClock,
    logger: deps.logger,
    simulationBusy: deps.simulationBusy,
  });
  app.use(
    '/',
    coverageRouter(jobs, [...app.mutationGuard('coverage'), express.json({ limit: options.bodyLimitBytes })]),
    [
      {
        method: 'GET',
        path: COVERAGE_PATH,
        description: 'alert coverage jobs (POST runs your rules against every scenario)',
      },
    ],
  );
  app.onStop('coverage', () => jobs.stop());
  return jobs;
}

/** coverageStatus is the running coverage job's progress as `system-status` carries it. */
function coverageStatus(jobs: CoverageJobs): Pick<SystemStatus, 'coverage'> {
  const job = jobs.current();
  return job ? { coverage: { id: job.id, ...job.progress } } : {};
}

/** alertInfo is one alert as the hub's `alerts` channel carries it. */
function alertInfo(a: Alert, state: Alert['state']): AlertInfo {
  return {
    name: a.labels.alertname ?? '',
    state,
    severity: a.labels.severity ?? '',
    labels: { ...a.labels },
    annotations: { ...a.annotations },
    value: Number.isFinite(a.value) ? a.value : null,
    activeAt: a.activeAt,
    firedAt: a.firedAt ?? null,
    resolvedAt: a.resolvedAt ?? null,
  };
}

/**
 * composeAnalysis builds the anomaly analysis and plugs it in: a scheduler job every ANALYSIS_INTERVAL of
 * simulated time (so every ANALYSIS_INTERVAL / SPEED of wall time) that analyses the store as of the newest
 * frame, `GET /api/analysis` and its annotations, and the hub's `ai-analysis` channel.
 */
function composeAnalysis(deps: {
  readonly options: ExporterOptions;
  readonly app: App;
  readonly engine: Engine;
  readonly storage: Storage;
  readonly logger: Logger;
  readonly hub: Hub;
}): Analyzer {
  const { options, app, engine, storage, logger, hub } = deps;
  const analyzer = new Analyzer(
    { stepMs: Math.round(options.tickSeconds * 1000), intervalMs: options.analysisInterval },
    { engine, storage, logger },
  );
  analyzer.onRun((run) => hub.publish('ai-analysis', run.payload, run.payload.generatedAt));
  app.scheduler.register({
    name: 'analysis',
    // On the simulated job clock (--job-clock simulated) a period is simulated time already; on the wall one
    // ANALYSIS_INTERVAL of simulated time lasts ANALYSIS_INTERVAL / SPEED.
    intervalMs:
      options.jobClock === 'simulated'
        ? options.analysisInterval
        : Math.max(1, Math.round(options.analysisInterval / options.speed)),
    priority: 'low',
    run: async () => {
      // Nothing to analyse before the first frame (backfill still running).
      const frame = app.latestFrame();
      if (frame) await analyzer.run(frame.t);
    },
  });
  app.use('/', analysisRouter(analyzer, ERR_BAD_PARAM), [
    {
      method: 'GET',
      path: ANALYSIS_PATH,
      description: 'anomaly analysis: scores, findings, root causes, forecasts',
    },
    { method: 'GET', path: ANNOTATIONS_PATH, description: 'analysis findings as annotation events' },
  ]);
  return analyzer;
}

/**
 * SERVING_REPLAY_CHUNK_STEPS: the exporter serves while its rules replay over the backfill, so each replay
 * query covers 2 h (480 steps at 15 s), not 12: splitting a 12-hour result of the HTTP bucket recording
 * into per-step vectors (2.7 M objects) held the event loop for 200–300 ms at a time.
 */
const SERVING_REPLAY_CHUNK_STEPS = 480;

/** RULES_STATE_FILE keeps, under the data dir, how far rule evaluation got (a restart replays from there). */
const RULES_STATE_FILE = 'rules-state.json';

/** RULES_STATE_SAVE_MS is how often (wall time) the rules' progress is saved while running. */
const RULES_STATE_SAVE_MS = 60_000;

/**
 * composeRules builds the rule manager over the shipped rule files (or RULE_FILES) and plugs it in: loaded now
 * (a bad file is logged and leaves no rules, as a reload would), evaluated after each stored frame, replayed
 * over backfilled history at startup, reloaded by `POST /-/reload` and file changes, closed on stop.
 */
async function composeRules(deps: {
  readonly options: ExporterOptions;
  readonly app: App;
  readonly engine: Engine;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
}): Promise<RuleManager<CompiledTemplate>> {
  const { options, app, engine, storage, clock, logger, registry } = deps;
  const shipped = exporterRoot();
  const ruleFiles =
    options.ruleFiles.length > 0 ? options.ruleFiles : shipped ? [join(shipped, '..', 'rules', '*.yml')] : [];
  const rules = new RuleManager(
    {
      ruleFiles,
      // Relative globs mean relative to where the user ran npm (npm runs the workspace script elsewhere).
      cwd: process.env.INIT_CWD ?? process.cwd(),
      evaluationIntervalMs: options.evaluationInterval,
      externalLabels: options.externalLabels,
      externalURL: () => options.externalUrl ?? app.url,
      replayChunkSteps: SERVING_REPLAY_CHUNK_STEPS,
    },
    { engine, storage, clock, logger, metrics: createRuleMetrics(registry), templates: GO_TEMPLATES },
  );
  await rules.reload();
  const state = new JsonStateFile(options.dataDir, RULES_STATE_FILE);
  let savedAt = 0;
  const save = async (): Promise<void> => {
    const last = rules.lastEvaluation();
    if (last !== undefined) await state.save({ lastEvaluation: last });
  };
  const tickMs = Math.round(options.tickSeconds * 1000);
  /** storedUpTo is the newest frame in the store (this listener comes after the store's). */
  let storedUpTo = Math.floor(clock.now() / tickMs) * tickMs - tickMs;
  app.onFrame('rules', (frame) => {
    storedUpTo = frame.t;
    // Not awaited: the tick goes on while rules evaluate; a group still running at its next slot misses it.
    void rules
      .tick(frame.t)
      .then(async () => {
        if (Date.now() - savedAt < RULES_STATE_SAVE_MS) return;
        savedAt = Date.now();
        await save();
      })
      .catch((err: unknown) => logger.error({ err }, 'saving the rules progress failed'));
  });
  app.addStartupTask('rules', async () => {
    storedUpTo = Math.floor(clock.now() / tickMs) * tickMs - tickMs;
    if (options.backfill === 0) {
      await rules.restoreForState(storedUpTo);
      return;
    }
    const saved = readLastEvaluation(state);
    const from = Math.max(saved ?? -Infinity, Math.floor((clock.now() - options.backfill) / tickMs) * tickMs);
    const began = performance.now();
    // In the background: the exporter is ready once the backfill is; rules go live when the replay caught up.
    void rules
      .replayInBackground(from, () => storedUpTo)
      .then(async () => {
        logger.info({ from, ms: Math.round(performance.now() - began) }, 'rules replayed over history');
        await save();
      })
      .catch((err: unknown) => logger.error({ err }, 'saving the rules progress failed'));
  });
  app.use('/', rulesRouter(rules, app.mutationGuard('rules_reload')), [
    { method: 'POST', path: RELOAD_PATH, description: 'reload the rule files (bearer token)' },
  ]);
  app.onStop('rules', async () => {
    await rules.close();
    await save();
  });
  return rules;
}

/** readLastEvaluation reads the saved rules progress, or undefined when there is none (or it is unreadable). */
function readLastEvaluation(state: JsonStateFile): number | undefined {
  try {
    const saved = state.load() as { lastEvaluation?: unknown } | undefined;
    return typeof saved?.lastEvaluation === 'number' ? saved.lastEvaluation : undefined;
  } catch {
    return undefined;
  }
}

/**
 * openRedisOutbox keeps the notification outbox in the store's Redis, on a connection of its own, so that
 * with a Redis store an exporter started anywhere sends what the previous one left unacknowledged.
 */
async function openRedisOutbox(url: string, logger: Logger): Promise<Outbox> {
  // Loaded on demand, as the Redis store is: the embedded default never pays for ioredis.
  const [{ createRedisClient, connectRedis }, { resolveRedisOptions }, { RedisOutbox }] = await Promise.all([
    import('./tsdb/redis/redis-client.js'),
    import('./tsdb/redis/redis-options.js'),
    import('./notify/redis-outbox.js'),
  ]);
  const opts = resolveRedisOptions({ url, logger }, resolveRetention());
  const client = createRedisClient(opts);
  const ignore = (): void => undefined;
  client.on('error', ignore);
  await connectRedis(client, opts);
  client.off('error', ignore);
  // Outages are logged by the store's own connection; the outbox's commands fail at once meanwhile.
  client.on('error', (err: Error) => logger.debug({ err: err.message }, 'notification outbox: Redis error'));
  return RedisOutbox.open(client, opts.keyPrefix, true);
}

/** NOTIFY_DIR is the notifiers' directory under the data dir (outbox, silences). */
const NOTIFY_DIR = 'notify';

/**
 * composeNotify builds the notifiers from NOTIFY_CONFIG and the credential env vars (a bad configuration throws
 * ConfigError: main exits 2) and plugs them in: rule transitions go to the dispatcher; Alertmanager receivers
 * get the current alerts at every evaluation interval and right after a change; delivery starts once the rules
 * have been restored (a startup task), so notifications left unacknowledged by a crash go out first; the
 * notifications and silences API is mounted; stop waits for sends in flight.
 */
async function composeNotify(deps: {
  readonly options: ExporterOptions;
  readonly app: App;
  readonly rules: RuleManager<CompiledTemplate>;
  readonly clock: Clock;
  readonly wallClock: Clock;
  readonly timer: Timer;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly env: NodeJS.ProcessEnv;
}): Promise<Notifier> {
  const { options, app, rules, clock, logger } = deps;
  const config = loadNotifyConfig(options.notifyConfig, deps.env);
  const externalURL = (): string => options.externalUrl ?? app.url;
  const notifier = await Notifier.open({
    config,
    dir: join(options.dataDir, NOTIFY_DIR),
    ...(options.redisUrl === undefined ? {} : { outbox: await openRedisOutbox(options.redisUrl, logger) }),
    wallClock: deps.wallClock,
    timer: deps.timer,
    logger,
    registry: deps.registry,
    externalURL,
    grafanaUrl: options.grafanaUrl,
    evaluationIntervalMs: options.evaluationInterval,
  });
  logger.info(describeConfig(config), 'notifications configured');
  const resend = async (): Promise<void> => {
    await notifier.resend(currentAlerts(rules.loadedGroups(), externalURL()), clock.now());
  };
  let resendQueued = false;
  rules.onTransitions(({ group, file, transitions }) => {
    notifier.alertsChanged(transitionUpdates(rules.loadedGroups(), group, file, transitions, externalURL()));
    // Several groups change in one tick: one Alertmanager sync after them all.
    if (notifier.forwarder && !resendQueued) {
      resendQueued = true;
      setImmediate(() => {
        resendQueued = false;
        resend().catch((err: unknown) => logger.error({ err }, 'cannot queue alerts for Alertmanager'));
      });
    }
  });
  if (notifier.forwarder) {
    app.scheduler.register({
      name: 'notify-alertmanager',
      // Prometheus sends at each evaluation; under --speed N the evaluation interval passes N times faster.
      intervalMs: Math.max(1_000, Math.round(options.evaluationInterval / options.speed)),
      priority: 'low',
      run: resend,
    });
  }
  // After a restart, once the rules caught up and evaluated a frame: the alerts notified as firing before it
  // that are neither firing nor pending now stopped while the exporter was down, and are notified as resolved.
  let caughtUp = false;
  let goneChecked = false;
  app.addStartupTask('notify', () => {
    notifier.start();
    void rules.whenCaughtUp().then(() => {
      caughtUp = true;
    });
    return Promise.resolve();
  });
  app.onFrame('notify-resolve-gone', async () => {
    if (goneChecked || !caughtUp) return;
    goneChecked = true;
    await rules.idle();
    const n = notifier.resolveGone(activeFingerprints(rules.loadedGroups()), deps.wallClock.now());
    if (n > 0) logger.info({ alerts: n }, 'alerts that stopped while the exporter was down: resolved');
  });
  app.use(
    '/',
    notifyRouter({
      notifications: () => notifier.notifications(),
      silences: notifier.silences,
      clock: deps.wallClock,
      guard: [...app.mutationGuard('silences'), express.json({ limit: options.bodyLimitBytes })],
    }),
    [
      {
        method: 'GET',
        path: NOTIFICATIONS_PATH,
        description: 'notification receivers, recent deliveries, dead letters',
      },
      { method: 'GET', path: SILENCES_PATH, description: 'silences (POST/DELETE with the bearer token)' },
    ],
  );
  app.onStop('notify', () => notifier.stop());
  if (config.datadog) {
    const sink = new DatadogSink(config.datadog, logger, deps.registry);
    const builder = new DatadogSeriesBuilder(app.fleet.layout);
    let pushedT: number | undefined;
    app.scheduler.register({
      name: 'datadog',
      intervalMs: config.datadog.intervalMs,
      priority: 'low',
      runAtStart: false,
      run: async () => {
        const frame = app.latestFrame();
        if (!frame || frame.t === pushedT) return; // nothing new since the last push
        pushedT = frame.t;
        await sink.push(builder.build(frame));
      },
    });
  }
  return notifier;
}
