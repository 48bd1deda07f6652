import { Gauge, type Registry } from 'prom-client';
import type { Readiness, ReadinessCheck } from '../api/health-routes.js';
import type { Storage } from '../tsdb/storage.js';
import type { Logger } from '../util/logger.js';

interface StartupTask {
  readonly name: string;
  readonly run: () => Promise<void>;
  done: boolean;
  error?: string;
}

/**
 * Startup holds the work done after listening and before the first tick (the backfill) and answers what
 * /readyz reports: ready once every startup task finished without error, a first frame exists, and the store
 * (when there is one) takes writes. A failed task keeps the exporter serving but not ready.
 */
export class Startup {
  private readonly tasks: StartupTask[] = [];
  private finished = false;
  private lastReady: boolean | undefined;

  constructor(
    private readonly logger: Logger,
    /** lastFrameT is the newest frame's simulated time, or undefined before the first tick. */
    private readonly lastFrameT: () => number | undefined,
    private readonly storage?: Storage,
  ) {}

  /** add queues a startup task; tasks run in the order added. */
  add(name: string, run: () => Promise<void>): void {
    this.tasks.push({ name, run, done: false });
  }

  /** runAll runs the tasks one after another, logging each one's duration or failure; it never throws. */
  async runAll(): Promise<void> {
    for (const task of this.tasks) {
      const began = performance.now();
      try {
        await task.run();
        this.logger.info({ task: task.name, ms: Math.round(performance.now() - began) }, 'startup task done');
      } catch (err) {
        task.error = err instanceof Error ? err.message : String(err);
        this.logger.error({ err, task: task.name }, 'startup task failed');
      } finally {
        task.done = true;
      }
    }
    this.finished = true;
  }

  /** readiness is what /readyz reports: one check per condition, each with its detail. */
  readiness(): Readiness {
    const checks: Record<string, ReadinessCheck> = {};
    const pending = this.pending();
    const failed = this.tasks
      .filter((t) => t.error !== undefined)
      .map((t) => ({ task: t.name, error: t.error }));
    checks.startup = {
      ok: this.finished && pending.length === 0 && failed.length === 0,
      detail: { pending, failed },
    };
    const last = this.lastFrameT();
    checks.tick = { ok: last !== undefined, detail: { lastFrame: last ?? null } };
    if (this.storage) {
      const h = this.storage.health();
      checks.storage = { ok: h.ok, detail: h };
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  /** pendingText says on /metrics what the exporter still waits for before the fleet's families appear. */
  pendingText(): string {
    const pending = this.pending();
    return pending.length ? `${pending.join(', ')} running` : 'waiting for the first tick';
  }

  /** registerMetrics adds the readiness gauges, computed at scrape time as /readyz would answer then. */
  registerMetrics(registry: Registry): void {
    const { storage } = this;
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
    const readiness = (): Readiness => this.readiness();
    new Gauge({
      name: 'openmanager_exporter_ready',
      help: 'Whether the exporter is ready (1) as /readyz reports, at the time of the scrape.',
      registers: [registry],
      collect() {
        this.set(readiness().ready ? 1 : 0);
      },
    });
  }

  /** checkHealth logs readiness when it changed since the last check (the seed's 1-minute health job). */
  checkHealth(): void {
    const r = this.readiness();
    if (r.ready !== this.lastReady) {
      if (r.ready) this.logger.info('health: ready');
      else this.logger.warn({ checks: r.checks }, 'health: not ready');
    }
    this.lastReady = r.ready;
  }

  private pending(): string[] {
    return this.tasks.filter((t) => !t.done).map((t) => t.name);
  }
}
