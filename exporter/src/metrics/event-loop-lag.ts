/**
 * EventLoopLag measures how long the event loop was blocked: a timer due every RESOLUTION_MS records how late
 * it fired. A late timer means every request, tick and broadcast queued behind the same block waited at least
 * as long, so the histogram is the exporter's answer to "did anything hold the loop?". Exported as
 * `openmanager_exporter_event_loop_lag_seconds` (histogram) and `openmanager_exporter_event_loop_lag_max_seconds`
 * (the largest lag seen since start), on the injected registry.
 *
 * prom-client's default `nodejs_eventloop_lag_*` gauges come from perf_hooks' monitorEventLoopDelay, which gives
 * percentiles but no bucket counts; a histogram lets PromQL ask "how often over 50 ms" over any window.
 */
import { Gauge, Histogram, type Registry } from 'prom-client';

/** RESOLUTION_MS is the sampling period: blocks shorter than this are seen as at most this much lag. */
export const RESOLUTION_MS = 10;

/**
 * LAG_BUCKETS_SECONDS bracket the budgets that matter here: 5–25 ms (timer noise), 50 ms (the budget for any
 * periodic job), 250 ms (the most any request may block the loop), up to 10 s (a stall).
 */
export const LAG_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * LagListener receives every lag sample: `lagMs` is how late the timer fired and `sinceMs` (performance.now()
 * ms) when it was armed, so whatever ran between `sinceMs` and now held the loop for up to `lagMs`; `cpuMs` is
 * the CPU time the process used meanwhile (all its threads), so a lag the process spent off the CPU — a busy
 * host not running it — is told apart from one its own work caused (that one is at most `cpuMs`).
 */
export type LagListener = (lagMs: number, sinceMs: number, cpuMs: number) => void;

/** EventLoopLag samples the event loop's lag while started. */
export class EventLoopLag {
  private readonly histogram: Histogram;
  private readonly listeners: LagListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedAt = 0;
  private cpuAtArm: NodeJS.CpuUsage = { user: 0, system: 0 };
  private due = 0;
  private maxMs = 0;

  constructor(registry: Registry) {
    this.histogram = new Histogram({
      name: 'openmanager_exporter_event_loop_lag_seconds',
      help: `How late a timer due every ${RESOLUTION_MS} ms fired: the time the event loop was blocked.`,
      buckets: LAG_BUCKETS_SECONDS,
      registers: [registry],
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect() with the metric as `this`.
    const lag = this;
    new Gauge({
      name: 'openmanager_exporter_event_loop_lag_max_seconds',
      help: 'The largest event-loop lag seen since the exporter started.',
      registers: [registry],
      collect() {
        this.set(lag.maxMs / 1000);
      },
    });
  }

  /** max returns the largest lag seen since start, in ms. */
  max(): number {
    return this.maxMs;
  }

  /** onSample registers a listener for every lag sample (the scheduler blames blocks on the jobs in flight). */
  onSample(listener: LagListener): void {
    this.listeners.push(listener);
  }

  /** start begins sampling (idempotent); the timer does not keep the process alive. */
  start(): void {
    if (this.timer) return;
    this.arm();
  }

  /** stop ends sampling. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.armedAt = performance.now();
    this.cpuAtArm = process.cpuUsage();
    this.due = this.armedAt + RESOLUTION_MS;
    this.timer = setTimeout(() => this.fire(), RESOLUTION_MS);
    this.timer.unref();
  }

  private fire(): void {
    const lateMs = Math.max(0, performance.now() - this.due);
    this.histogram.observe(lateMs / 1000);
    if (lateMs > this.maxMs) this.maxMs = lateMs;
    if (this.listeners.length > 0) {
      const cpu = process.cpuUsage(this.cpuAtArm);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      for (const l of this.listeners) l(lateMs, this.armedAt, cpuMs);
    }
    this.arm();
  }
}
