/**
 * createApp builds the exporter from injected parts — options, clocks, logger, registry, fleet, optional
 * storage — with no side effects until `start()`, so tests run it in-process and main.ts only wires.
 *
 * The seams other modules plug into, one line each:
 * - `app.onFrame(name, listener)`: every tick's frame, after the exposition cache is updated (store ingest,
 *   hub snapshots). Listeners are awaited in registration order; a failing one is logged and counted and
 *   never stops the others or the tick.
 * - `app.onScenario(listener)`: scenario started/stopped events (hub `alerts` channel).
 * - `app.use(path, handler, links?)` or `parts.routers`: extra routers (PromQL API, remote-write, SSE),
 *   mounted before the 404 handler even when added after construction; `links` list them on `/`.
 * - `app.addStartupTask(name, run)`: work done after listening and before the first tick (backfill);
 *   `/readyz` reports it pending until it resolves.
 * - `app.scheduler.register(job)`: periodic jobs (hub broadcast); `app.onStop(name, hook)`: shutdown work
 *   (closing WebSocket clients) run after jobs stopped and before storage closes.
 * - `app.server`: the http.Server (WebSocket upgrade handler).
 *
 * Jobs registered here (the seed's TimerManager list): `generation` (every tick, 15 s by default, high
 * priority; under --speed N every 15/N s of wall time), `health` (1 min: logs readiness changes),
 * `cleanup` (5 min: storage retention, only with storage). Their periods are wall time, except with
 * `--job-clock simulated`, where every job's period is simulated time (`app.jobClock`), so under --speed N
 * each job runs N× as often and an hour of the exporter's life passes in 60/N minutes. The seed's `broadcast`
 * (5 s) is registered by the
 * hub; its `analysis` job (30 s, ANALYSIS_INTERVAL) by composeAnalysis in compose.ts.
 */
import type { Server } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { requireToken } from './api/auth.js';
import { createRateLimitMetrics, perClientRateLimit, type RateLimitedRoute } from './api/http-policy.js';
import type { Readiness } from './api/health-routes.js';
import type { EndpointLink } from './api/landing-page.js';
import { ScenarioJournal } from './api/scenario-journal.js';
import type { FiringAlerts } from './api/unified-metrics.js';
import { GenerationLoop, type FrameListener, type ScenarioListener } from './app/generation-loop.js';
import { HttpServer } from './app/http-server.js';
import { Startup } from './app/startup.js';
import { EventLoopLag } from './metrics/event-loop-lag.js';
import { FleetExposition } from './metrics/fleet-exposition.js';
import type { ExporterOptions } from './options.js';
import { Scheduler } from './scheduler/scheduler.js';
import { scaledTimer, type Timer } from './util/timer.js';
import type { Fleet, Scenario, ScenarioSpec } from './simulator/index.js';
import type { FleetFrame } from './simulator/types.js';
import type { Storage } from './tsdb/storage.js';
import { systemClock, type Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';

export type { FrameListener, ScenarioEvent, ScenarioListener } from './app/generation-loop.js';

/** AppParts are everything createApp needs; only `options`, `logger`, `registry` and `fleet` are required. */
export interface AppParts {
  readonly options: ExporterOptions;
  readonly logger: Logger;
  /** registry is the exporter's own prom-client registry (served on /metrics); never the global one. */
  readonly registry: Registry;
  readonly fleet: Fleet;
  /** clock is simulated time: frames and scenarios (ScaledClock under --speed). Default: the wall clock. */
  readonly clock?: Clock;
  /**
   * wallClock and timer drive the scheduler (with `--job-clock simulated`, `clock` and timer do). Defaults: the
   * wall clock and setTimeout (setTimeout scaled by --speed under a simulated job clock).
   */
  readonly wallClock?: Clock;
  readonly timer?: Timer;
  /** storage, when given, is health-checked for /readyz, retention-cleaned every 5 min and closed on stop. */
  readonly storage?: Storage;
  /** routers are mounted in order before the 404 handler: [path, handler]. */
  readonly routers?: ReadonlyArray<readonly [string, RequestHandler]>;
  /** firingAlerts lists a server's firing alerts (the rule manager) for the JSON API's status. */
  readonly firingAlerts?: FiringAlerts;
  /** journal persists injected scenarios; default: `<dataDir>/scenarios.json`; null disables it. */
  readonly journal?: ScenarioJournal | null;
}

/** App is a built exporter. */
export interface App {
  readonly server: Server;
  readonly express: express.Express;
  readonly scheduler: Scheduler;
  readonly exposition: FleetExposition;
  /** jobClock is the clock the scheduler's periods are measured on: the wall clock, or simulated time. */
  readonly jobClock: Clock;
  /** loopLag measures event-loop blocking from start() to stop(). */
  readonly loopLag: EventLoopLag;
  readonly fleet: Fleet;
  readonly options: ExporterOptions;
  /** url is the base URL once listening (e.g. http://127.0.0.1:3001), else ''. */
  readonly url: string;
  onFrame(name: string, listener: FrameListener): () => void;
  onScenario(listener: ScenarioListener): () => void;
  /**
   * injectScenario starts a scenario now, as `POST /api/scenarios` does (journal, hub events); it throws the
   * simulator's SCENARIO_INVALID for an invalid spec or an unknown server.
   */
  injectScenario(spec: ScenarioSpec): Promise<Scenario>;
  /** stopScenario ends an active scenario now, as `DELETE /api/scenarios/:id` does. */
  stopScenario(id: string): Promise<Scenario>;
  use(path: string, handler: RequestHandler, links?: readonly EndpointLink[]): void;
  addStartupTask(name: string, run: () => Promise<void>): void;
  onStop(name: string, hook: () => Promise<void> | void): void;
  /** rateLimiter builds a per-client limiter for a mutating route, counted in the app's rate-limit metric. */
  rateLimiter(route: RateLimitedRoute, perMinute: number): RequestHandler;
  /** mutationGuard is the rate limit and bearer-token check every mutating JSON route puts first. */
  mutationGuard(route: string): RequestHandler[];
  /** latestFrame is the newest frame, or undefined before the first tick. */
  latestFrame(): FleetFrame | undefined;
  /** tick runs the generation pipeline now (tests drive it with a ManualClock instead of the scheduler). */
  tick(): Promise<void>;
  /** readiness is what /readyz reports. */
  readiness(): Readiness;
  /** start listens, runs startup tasks, then starts the scheduler (unless `schedule: false`). */
  start(opts?: { schedule?: boolean }): Promise<void>;
  /** stop stops jobs, waits for work in flight, closes HTTP (keep-alive sockets included) and storage. */
  stop(): Promise<void>;
}

/** CLEANUP_INTERVAL_MS and HEALTH_INTERVAL_MS are the seed's cache-cleanup (5 min) and health (1 min) periods. */
const CLEANUP_INTERVAL_MS = 300_000;
const HEALTH_INTERVAL_MS = 60_000;

/**
 * createApp builds the exporter; nothing listens or ticks until `start()`. It composes three objects — the
 * generation loop (frame and scenario state), startup tasks with readiness, and the HTTP server — plus the
 * scheduler's jobs and the shutdown order.
 */
export function createApp(parts: AppParts): App {
  const { options, registry, fleet, storage, logger } = parts;
  const clock = parts.clock ?? systemClock;
  const tickMs = Math.round(options.tickSeconds * 1000);
  const journal = parts.journal === undefined ? new ScenarioJournal(options.dataDir) : parts.journal;
  const simulatedJobs = options.jobClock === 'simulated';
  const jobClock = simulatedJobs ? clock : (parts.wallClock ?? systemClock);
  const timer = parts.timer ?? (simulatedJobs ? scaledTimer(options.speed) : undefined);
  const scheduler = new Scheduler({ clock: jobClock, ...(timer ? { timer } : {}), logger, registry });
  const exposition = new FleetExposition(fleet.layout);
  const loopLag = new EventLoopLag(registry);
  loopLag.onSample((lagMs, sinceMs, cpuMs) => scheduler.noteLoopLag(lagMs, sinceMs, cpuMs));
  const generation = new GenerationLoop({ fleet, exposition, clock, tickMs, logger, registry });
  const startup = new Startup(logger, () => generation.lastFrameT, storage);
  const readiness = (): Readiness => startup.readiness();
  const stopHooks: { name: string; hook: () => Promise<void> | void }[] = [];

  const rateLimitMetrics = createRateLimitMetrics(registry);
  /**
   * mutationGuard protects a mutating route: the per-client rate limit first (it also slows token
   * guessing), then the bearer token.
   */
  const mutationGuard = (route: string): RequestHandler[] => [
    perClientRateLimit({ name: route, envelope: 'catalogue' }, options.rateLimitPerMinute, rateLimitMetrics),
    requireToken(options.apiToken),
  ];
  startup.registerMetrics(registry);

  if (journal) restoreScenarios(journal, fleet);

  scheduler.register({
    name: 'generation',
    // On the wall clock a slot lasts tickMs / speed (under --speed N a 15 s tick comes every 15/N s).
    intervalMs: simulatedJobs ? tickMs : Math.max(1, Math.round(tickMs / options.speed)),
    priority: 'high',
    run: () => generation.generate(),
  });
  scheduler.register({
    name: 'health',
    intervalMs: HEALTH_INTERVAL_MS,
    priority: 'low',
    run: () => startup.checkHealth(),
  });
  if (storage) {
    scheduler.register({
      name: 'cleanup',
      intervalMs: CLEANUP_INTERVAL_MS,
      priority: 'low',
      runAtStart: false,
      run: () => storage.applyRetention(clock.now()),
    });
  }

  const scenarioChanged = async (change: 'started' | 'stopped', scenario: Scenario): Promise<void> => {
    if (journal) await journal.save(fleet.toJSON());
    generation.scenarioChanged(change, scenario, clock.now());
  };

  const http = new HttpServer({
    options,
    logger,
    registry,
    exposition,
    readiness,
    pending: () => startup.pendingText(),
    ...(parts.routers ? { routers: parts.routers } : {}),
    fleetRoutes: {
      fleet,
      clock,
      frame: () => exposition.frame,
      ...(parts.firingAlerts ? { firing: parts.firingAlerts } : {}),
      // The JSON body is parsed after the guard: never for a request that is refused anyway.
      guard: [...mutationGuard('scenarios'), express.json({ limit: options.bodyLimitBytes })],
      onScenarioChange: scenarioChanged,
    },
  });

  let stopping: Promise<void> | undefined;

  return {
    server: http.server,
    express: http.express,
    scheduler,
    exposition,
    jobClock,
    loopLag,
    fleet,
    options,
    get url() {
      return http.url;
    },
    onFrame: (name, fn) => generation.onFrame(name, fn),
    onScenario: (listener) => generation.onScenario(listener),
    async injectScenario(spec) {
      const scenario = fleet.inject(spec, clock.now());
      await scenarioChanged('started', scenario);
      return scenario;
    },
    async stopScenario(id) {
      const scenario = fleet.stop(id, clock.now());
      await scenarioChanged('stopped', scenario);
      return scenario;
    },
    use: (path, handler, links) => http.use(path, handler, links),
    addStartupTask: (name, run) => startup.add(name, run),
    onStop(name, hook) {
      stopHooks.push({ name, hook });
    },
    rateLimiter: (route, perMinute) => perClientRateLimit(route, perMinute, rateLimitMetrics),
    mutationGuard,
    latestFrame: () => exposition.frame,
    tick: () => generation.generate(),
    readiness,
    async start(opts = {}) {
      loopLag.start();
      await http.listen();
      await startup.runAll();
      if (opts.schedule !== false) scheduler.start();
    },
    stop() {
      stopping ??= (async () => {
        await scheduler.stop();
        const closing = http.close();
        for (const { name, hook } of [...stopHooks].reverse()) {
          try {
            await hook();
          } catch (err) {
            logger.error({ err, hook: name }, 'stop hook failed');
          }
        }
        await closing;
        if (journal) await journal.save(fleet.toJSON());
        if (storage) await storage.close();
        loopLag.stop();
      })();
      return stopping;
    },
  };
}

/** restoreScenarios loads the injected scenarios saved before a restart into the fleet. */
function restoreScenarios(journal: ScenarioJournal, fleet: Fleet): void {
  try {
    const saved = journal.load();
    if (saved !== undefined) fleet.restore(saved);
  } catch (err) {
    // Starting without the journal would silently lose the scenario ground truth: refuse, and say what to do.
    throw new Error(
      `cannot restore scenarios from ${journal.path}: ${(err as Error).message}; fix or remove that file`,
    );
  }
}
