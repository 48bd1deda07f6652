/**
 * The exporter's entry point and its only module with side effects: parse options (exit 2 on invalid
 * configuration), build the parts, start, and stop cleanly on SIGTERM/SIGINT (exit 0).
 */
import type { App } from './app.js';
import { BUILD_INFO } from './build-info.js';
import { composeExporter, type Exporter } from './compose.js';
import { createSelfRegistry } from './metrics/self-metrics.js';
import { ConfigError, helpText, parseOptions, type ExporterOptions } from './options.js';
import { Fleet, defaultFleet, generateFleet, loadFleetFile } from './simulator/index.js';
import type { ServerInfo } from './simulator/types.js';
import { ScaledClock, systemClock, type Clock } from './util/clock.js';
import { createLogger } from './util/logger.js';
import type { BackfillProgress } from './ingest/ingest.js';

/** STOP_TIMEOUT_MS bounds a graceful stop; past it the process exits 1 rather than hang (e.g. a stuck peer). */
const STOP_TIMEOUT_MS = 15_000;

/** DEFAULT_FLEET_SIZE is the size of the shipped fleet file: asking for it means "the shipped fleet". */
const DEFAULT_FLEET_SIZE = 20;

function fleetServers(options: ExporterOptions): ServerInfo[] {
  if (options.fleetFile !== undefined) return loadFleetFile(options.fleetFile);
  if (options.servers === DEFAULT_FLEET_SIZE) return defaultFleet();
  return generateFleet(options.servers, options.seed);
}

function readOptions(): ExporterOptions {
  try {
    const parsed = parseOptions(process.argv.slice(2), process.env);
    if (parsed.help) {
      process.stdout.write(helpText() + '\n');
      process.exit(0);
    }
    if (parsed.version) {
      const b = BUILD_INFO;
      process.stdout.write(
        `openmanager-exporter ${b.version} (revision ${b.revision}, node ${b.nodeVersion})\n`,
      );
      process.exit(0);
    }
    return parsed.options;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** BAR_WIDTH is the backfill progress bar's width in characters. */
const BAR_WIDTH = 30;

/**
 * progressReporter draws a backfill progress bar on a terminal (stderr), or logs every tenth of the way
 * when stderr is not a terminal (containers, CI).
 */
function progressReporter(logger: ReturnType<typeof createLogger>): (p: BackfillProgress) => void {
  let lastDecile = -1;
  return (p) => {
    const done = p.framesTotal === 0 ? 1 : p.framesDone / p.framesTotal;
    if (process.stderr.isTTY) {
      const filled = Math.round(done * BAR_WIDTH);
      const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
      const line = `backfill [${bar}] ${(done * 100).toFixed(0)}% ${p.samples} samples, ${(p.elapsedMs / 1000).toFixed(1)} s`;
      process.stderr.write(`\r${line}${done >= 1 ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor(done * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      logger.info({ percent: decile * 10, samples: p.samples }, 'backfill progress');
    }
  };
}

async function main(): Promise<void> {
  const options = readOptions();
  const logger = createLogger(options.logLevel);
  let servers: ServerInfo[];
  try {
    servers = fleetServers(options);
  } catch (err) {
    // A fleet file that cannot be read or validated is invalid configuration too.
    process.stderr.write(`invalid configuration: FLEET_FILE / --fleet-file: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const clock: Clock = options.speed === 1 ? systemClock : new ScaledClock(options.speed);
  const registry = createSelfRegistry();
  // The model steps once per tick (it needs whole seconds; shorter ticks sample a 1 s model).
  const stepMs = Math.max(1000, Math.round(options.tickSeconds * 1000));
  const fleet = new Fleet({
    servers,
    seed: options.seed,
    scenarioRatePerHour: options.scenarioRate,
    logger,
    stepMs,
  });
  let app: App;
  let exporter: Exporter;
  try {
    exporter = await composeExporter({
      options,
      logger,
      registry,
      fleet,
      clock,
      onBackfillProgress: progressReporter(logger),
    });
    app = exporter.app;
  } catch (err) {
    // An invalid notification configuration (NOTIFY_CONFIG, a receiver's env var) is a configuration error.
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    // The store could not be opened (Redis unreachable, a data dir we cannot write): say which, no stack.
    const where = options.redisUrl !== undefined ? 'REDIS_URL / --redis-url' : 'DATA_DIR / --data-dir';
    process.stderr.write(`cannot open the store (${where}): ${(err as Error).message}\n`);
    process.exit(1);
  }

  let signals = 0;
  const shutdown = (signal: string): void => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping');
    const bound = setTimeout(() => {
      logger.error('graceful stop timed out');
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    bound.unref();
    app.stop().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // SIGHUP reloads the rule files, as it makes Prometheus reload its configuration.
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading rule files');
    void exporter.rules.reload();
  });

  logger.info(
    {
      servers: servers.length,
      series: fleet.layout.series.length,
      tickSeconds: options.tickSeconds,
      speed: options.speed,
    },
    'starting',
  );
  await app.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
