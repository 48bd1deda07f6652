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
 * each job runs N× as often and an hour of the exporter's life passes in 60/N minutes. The seed's `broadcast` (5 s) is registered by the
 * hub; its `analysis` job (30 s) is not registered until the analysis feature exists — no placeholder runs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { Router, type RequestHandler } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';
import { requireToken } from './api/auth.js';
import {
  corsFor,
  createRateLimitMetrics,
  perClientRateLimit,
  securityHeaders,
  type RateLimitedRoute,
} from './api/http-policy.js';
import { errorHandler, notFound } from './api/error-handler.js';
import { fleetRouter } from './api/fleet-routes.js';
import { healthRouter, type Readiness, type ReadinessCheck } from './api/health-routes.js';
import { CORE_ENDPOINTS, landingRouter, type EndpointLink } from './api/landing-page.js';
import { ScenarioJournal } from './api/scenario-journal.js';
import type { FiringAlerts } from './api/unified-metrics.js';
import { EventLoopLag } from './metrics/event-loop-lag.js';
import { FleetExposition } from './metrics/fleet-exposition.js';
import { metricsRouter } from './metrics/metrics-routes.js';
import type { ExporterOptions } from './options.js';
import { Scheduler } from './scheduler/scheduler.js';
import { scaledTimer, type Timer } from './util/timer.js';
import type { Fleet } from './simulator/index.js';
import type { FleetFrame, Scenario } from './simulator/types.js';
import type { Storage } from './tsdb/storage.js';
import { systemClock, type Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';

/** FrameListener receives each tick's frame; the tick waits for it (bounded by the job never overlapping). */
export type FrameListener = (frame: FleetFrame) => Promise<void> | void;

/** ScenarioEvent tells that a scenario started or stopped (by schedule, by API, or by running out). */
export interface ScenarioEvent {
  readonly type: 'started' | 'stopped';
  readonly scenario: Scenario;
  /** at is the simulated time (ms) the change was seen. */
  readonly at: number;
}

/** ScenarioListener receives scenario events; it must not throw (errors are logged and dropped). */
export type ScenarioListener = (event: ScenarioEvent) => void;

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

/**
 * MAX_CATCH_UP_FRAMES bounds how many missed tick slots one generation run replays (a stalled process or a
 * sleeping laptop): 40 slots = 10 min at 15 s; beyond that the gap stays a gap (logged).
 */
const MAX_CATCH_UP_FRAMES = 40;

/** SHUTDOWN_GRACE_MS is how long stop() lets in-flight HTTP requests finish before cutting sockets. */
const SHUTDOWN_GRACE_MS = 5_000;

/** KEEP_ALIVE_TIMEOUT_MS keeps idle connections longer than a 15 s scrape interval with margin (as load balancers do). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** CLEANUP_INTERVAL_MS and HEALTH_INTERVAL_MS are the seed's cache-cleanup (5 min) and health (1 min) periods. */
const CLEANUP_INTERVAL_MS = 300_000;
const HEALTH_INTERVAL_MS = 60_000;

/** createApp builds the exporter; nothing listens or ticks until `start()`. */
export function createApp(parts: AppParts): App {
  const { options, registry, fleet, storage } = parts;
  const logger = parts.logger;
  const clock = parts.clock ?? systemClock;
  const wallClock = parts.wallClock ?? systemClock;
  const tickMs = Math.round(options.tickSeconds * 1000);
  const journal = parts.journal === undefined ? new ScenarioJournal(options.dataDir) : parts.journal;
  const simulatedJobs = options.jobClock === 'simulated';
  const jobClock = simulatedJobs ? clock : wallClock;
  const timer = parts.timer ?? (simulatedJobs ? scaledTimer(options.speed) : undefined);
  const scheduler = new Scheduler({ clock: jobClock, ...(timer ? { timer } : {}), logger, registry });
  const exposition = new FleetExposition(fleet.layout);
  const loopLag = new EventLoopLag(registry);
  loopLag.onSample((lagMs, sinceMs, cpuMs) => scheduler.noteLoopLag(lagMs, sinceMs, cpuMs));
  const frameListeners: { name: string; fn: FrameListener }[] = [];
  const scenarioListeners: ScenarioListener[] = [];
  const startupTasks: { name: string; run: () => Promise<void>; done: boolean; error?: string }[] = [];
  const stopHooks: { name: string; hook: () => Promise<void> | void }[] = [];
  const links: EndpointLink[] = [...CORE_ENDPOINTS];
  let lastFrameT: number | undefined;
  let knownActive = new Map<string, Scenario>();
  let url = '';
  let startupDone = false;
  let lastReady: boolean | undefined;

  const listenerFailures = new Counter({
    name: 'openmanager_exporter_frame_listener_failures_total',
    help: 'Frame listeners (store ingest, hub…) that threw or rejected, by listener.',
    labelNames: ['listener'],
    registers: [registry],
  });
  const lastTick = new Gauge({
    name: 'openmanager_exporter_last_frame_timestamp_seconds',
    help: 'Simulated time of the newest frame rendered.',
    registers: [registry],
  });
  const rateLimitMetrics = createRateLimitMetrics(registry);
  /**
   * mutationGuard protects a mutating route: the per-client rate limit first (it also slows token
   * guessing), then the bearer token.
   */
  const mutationGuard = (route: string): RequestHandler[] => [
    perClientRateLimit({ name: route, envelope: 'catalogue' }, options.rateLimitPerMinute, rateLimitMetrics),
    requireToken(options.apiToken),
  ];
  if (storage) {
    new Gauge({
      name: 'openmanager_exporter_storage_healthy',
      help: 'Whether the store takes writes (1) as /readyz reports it, at the time of the scrape.',
      labelNames: ['backend'],
      registers: [registry],
      collect() {
        this.set({ backend: storage.name }, storage.health().ok ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: 'openmanager_exporter_ready',
    help: 'Whether the exporter is ready (1) as /readyz reports, at the time of the scrape.',
    registers: [registry],
    collect() {
      this.set(readiness().ready ? 1 : 0);
    },
  });

  if (journal) {
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

  const emitScenario = (event: ScenarioEvent): void => {
    for (const l of scenarioListeners) {
      try {
        l(event);
      } catch (err) {
        logger.error({ err }, 'scenario listener failed');
      }
    }
  };

  /** diffScenarios emits start/stop events for scenarios that began or ended by time since the last frame. */
  const diffScenarios = (t: number): void => {
    const now = new Map(fleet.active(t).map((s) => [s.id, s]));
    for (const [id, s] of now)
      if (!knownActive.has(id)) emitScenario({ type: 'started', scenario: s, at: t });
    for (const [id, s] of knownActive)
      if (!now.has(id)) emitScenario({ type: 'stopped', scenario: s, at: t });
    knownActive = now;
  };

  const publish = async (frame: FleetFrame): Promise<void> => {
    for (const { name, fn } of frameListeners) {
      try {
        await fn(frame);
      } catch (err) {
        listenerFailures.inc({ listener: name });
        logger.error({ err, listener: name, t: frame.t }, 'frame listener failed');
      }
    }
  };

  /** generate renders every tick slot since the last frame (normally one) and hands each to the listeners. */
  const generate = async (): Promise<void> => {
    const slot = Math.floor(clock.now() / tickMs) * tickMs;
    let from = lastFrameT === undefined ? slot : lastFrameT + tickMs;
    if (from > slot) return; // still within the slot already rendered (wall timer ahead of the sim clock)
    if ((slot - from) / tickMs >= MAX_CATCH_UP_FRAMES) {
      logger.warn({ from, to: slot }, 'generation fell behind; skipping the gap');
      from = slot;
    }
    for (let t = from; t <= slot; t += tickMs) {
      const frame = fleet.frameAt(t);
      exposition.update(frame);
      lastFrameT = t;
      lastTick.set(t / 1000);
      diffScenarios(t);
      await publish(frame);
    }
  };

  const readiness = (): Readiness => {
    const checks: Record<string, ReadinessCheck> = {};
    const pending = startupTasks.filter((t) => !t.done).map((t) => t.name);
    const failed = startupTasks
      .filter((t) => t.error !== undefined)
      .map((t) => ({ task: t.name, error: t.error }));
    checks.startup = {
      ok: startupDone && pending.length === 0 && failed.length === 0,
      detail: { pending, failed },
    };
    checks.tick = { ok: lastFrameT !== undefined, detail: { lastFrame: lastFrameT ?? null } };
    if (storage) {
      const h = storage.health();
      checks.storage = { ok: h.ok, detail: h };
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  const pendingText = (): string => {
    const pending = startupTasks.filter((t) => !t.done).map((t) => t.name);
    return pending.length ? `${pending.join(', ')} running` : 'waiting for the first tick';
  };

  scheduler.register({
    name: 'generation',
    // On the wall clock a slot lasts tickMs / speed (under --speed N a 15 s tick comes every 15/N s).
    intervalMs: simulatedJobs ? tickMs : Math.max(1, Math.round(tickMs / options.speed)),
    priority: 'high',
    run: generate,
  });
  scheduler.register({
    name: 'health',
    intervalMs: HEALTH_INTERVAL_MS,
    priority: 'low',
    run: () => {
      const r = readiness();
      if (r.ready !== lastReady) {
        if (r.ready) logger.info('health: ready');
        else logger.warn({ checks: r.checks }, 'health: not ready');
      }
      lastReady = r.ready;
    },
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

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(securityHeaders());
  app.use(corsFor(options.allowedOrigins));
  app.use(healthRouter(readiness));
  app.use(landingRouter(() => links));
  app.use(metricsRouter({ exposition, registry, pending: pendingText }));
  app.use(
    fleetRouter({
      fleet,
      clock,
      frame: () => exposition.frame,
      ...(parts.firingAlerts ? { firing: parts.firingAlerts } : {}),
      // The JSON body is parsed after the guard: never for a request that is refused anyway.
      guard: [...mutationGuard('scenarios'), express.json({ limit: options.bodyLimitBytes })],
      onScenarioChange: async (change, scenario) => {
        if (journal) await journal.save(fleet.toJSON());
        if (change === 'started') knownActive.set(scenario.id, scenario);
        else knownActive.delete(scenario.id);
        emitScenario({ type: change, scenario, at: clock.now() });
      },
    }),
  );
  // Extension routers live in one Router mounted here, so ones added after construction still come before 404.
  const extensions = Router();
  app.use(extensions);
  for (const [path, handler] of parts.routers ?? []) extensions.use(path, handler);
  app.use(notFound);
  app.use(errorHandler(logger));

  const server = createServer(app);
  // Outlive clients' idle keep-alive (Go's default is 90 s, Prometheus scrapes every 15 s): otherwise a client
  // may reuse a socket the server is just closing and see a reset.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        const { address, port } = server.address() as AddressInfo;
        const host = address.includes(':') ? `[${address}]` : address;
        url = `http://${host}:${port}`;
        logger.info({ url }, `listening on ${url}`);
        resolve();
      });
    });

  const closeServer = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    grace.unref();
    await closed;
    clearTimeout(grace);
  };

  let stopping: Promise<void> | undefined;

  return {
    server,
    express: app,
    scheduler,
    exposition,
    jobClock,
    loopLag,
    fleet,
    options,
    get url() {
      return url;
    },
    onFrame(name, fn) {
      const entry = { name, fn };
      frameListeners.push(entry);
      listenerFailures.inc({ listener: name }, 0);
      return () => {
        const i = frameListeners.indexOf(entry);
        if (i >= 0) frameListeners.splice(i, 1);
      };
    },
    onScenario(listener) {
      scenarioListeners.push(listener);
      return () => {
        const i = scenarioListeners.indexOf(listener);
        if (i >= 0) scenarioListeners.splice(i, 1);
      };
    },
    use(path, handler, more = []) {
      extensions.use(path, handler);
      links.push(...more);
    },
    addStartupTask(name, run) {
      startupTasks.push({ name, run, done: false });
    },
    onStop(name, hook) {
      stopHooks.push({ name, hook });
    },
    rateLimiter: (route, perMinute) => perClientRateLimit(route, perMinute, rateLimitMetrics),
    mutationGuard,
    latestFrame: () => exposition.frame,
    tick: () => generate(),
    readiness,
    async start(opts = {}) {
      loopLag.start();
      await listen();
      for (const task of startupTasks) {
        const began = performance.now();
        try {
          await task.run();
          logger.info({ task: task.name, ms: Math.round(performance.now() - began) }, 'startup task done');
        } catch (err) {
          task.error = err instanceof Error ? err.message : String(err);
          logger.error({ err, task: task.name }, 'startup task failed');
        } finally {
          task.done = true;
        }
      }
      startupDone = true;
      if (opts.schedule !== false) scheduler.start();
    },
    stop() {
      stopping ??= (async () => {
        await scheduler.stop();
        const closing = closeServer();
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
