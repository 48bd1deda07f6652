/**
 * composeExporter assembles the whole exporter from options: it opens the storage backend (embedded by
 * default, Redis when `REDIS_URL` is set), builds the app, and plugs every module into the app's seams —
 * store ingest and the startup backfill, the Prometheus API and remote-write receiver, the WebSocket hub with
 * its SSE fallback. main.ts calls it; tests call it in-process with their own options and clocks.
 */
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { createApp, type App, type AppParts } from './app.js';
import { BUILD_INFO } from './build-info.js';
import { createPrometheusApiRouter, familiesMetadata } from './api/prometheus/index.js';
import { createRemoteWriteRouter, REMOTE_WRITE_PATH } from './api/remote-write.js';
import { toUnifiedMetrics } from './api/unified-metrics.js';
import { createHub, createStreamRouter, StatusPublisher, type Hub, type SystemStatus } from './hub/index.js';
import type { ExporterOptions } from './options.js';
import { SERVER_META_FAMILIES } from './simulator/index.js';
import { EmbeddedStorage } from './tsdb/embedded/embedded-storage.js';
import { backfill, Ingestor, type BackfillProgress } from './ingest/ingest.js';
import type { Retention, Storage } from './tsdb/storage.js';
import { systemClock } from './util/clock.js';
import type { Logger } from './util/logger.js';

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
}

/** Exporter is a composed exporter: the app plus the parts tests and main.ts reach into. */
export interface Exporter {
  readonly app: App;
  readonly storage: Storage;
  readonly hub: Hub;
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
    return RedisStorage.open({ url: o.redisUrl, logger, registry, retention });
  }
  return EmbeddedStorage.open({ dataDir: join(o.dataDir, 'tsdb'), logger, registry, retention });
}

/** composeExporter builds the exporter; nothing listens or ticks until `app.start()`. */
export async function composeExporter(parts: ComposeParts): Promise<Exporter> {
  const { options, logger, registry, fleet } = parts;
  const clock = parts.clock ?? systemClock;
  const wallClock = parts.wallClock ?? systemClock;
  const storage = parts.storage ?? (await openStorage(options, logger, registry));
  const app = createApp({
    options,
    logger,
    registry,
    fleet,
    clock,
    wallClock,
    storage,
    ...(parts.timer ? { timer: parts.timer } : {}),
  });

  // Store: every tick's frame is appended; history is backfilled before the first tick.
  const ingestor = new Ingestor(storage, fleet.layout);
  app.onFrame('store', async (frame) => {
    await ingestor.ingest(frame);
  });
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
      engineOptions: {
        timeoutMs: options.queryTimeout,
        maxSamples: options.queryMaxSamples,
        maxConcurrent: options.queryMaxConcurrency,
      },
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
  app.scheduler.register({
    name: 'broadcast',
    intervalMs: Math.round(options.broadcastSeconds * 1000),
    priority: 'high',
    run: () => {
      const frame = app.latestFrame();
      if (frame) hub.publish('server-metrics', toUnifiedMetrics(frame.summaries), frame.t);
    },
  });
  const startedAt = wallClock.now();
  const status = new StatusPublisher(hub, {
    clock: wallClock,
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
  app.onStop('hub', () => hub.close());

  return { app, storage, hub };
}
