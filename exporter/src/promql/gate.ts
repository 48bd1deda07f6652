/**
 * QueryGate bounds how many queries evaluate at once, as Prometheus's `--query.max-concurrency` (default 20):
 * the rest wait in arrival order, and the wait counts against each query's deadline (a query that waits past
 * its timeout fails with `timeout` without running). The queue itself is bounded too: beyond `maxQueued`
 * waiting queries a new one is refused at once with `unavailable` (HTTP 503), so a flood of requests costs a
 * counter increment each, not memory.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PromQLError, queryTimeout } from './errors.js';

/** DEFAULT_MAX_CONCURRENT is Prometheus's `--query.max-concurrency` default. */
export const DEFAULT_MAX_CONCURRENT = 20;

/** DEFAULT_MAX_QUEUED bounds waiting queries: 50 per running slot, more than any dashboard refresh sends. */
export const DEFAULT_MAX_QUEUED = 1_000;

/** QUEUE_WAIT_BUCKETS span a free slot (1 ms) to the default 2 min timeout, in seconds. */
const QUEUE_WAIT_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 30, 60, 120];

/** GateMetrics are the gate's self-metrics (built once, by the caller that owns the registry). */
export interface GateMetrics {
  readonly running: Gauge;
  readonly queued: Gauge;
  readonly queuedTotal: Counter;
  readonly rejected: Counter<'reason'>;
  readonly wait: Histogram;
}

/** createGateMetrics registers the gate's metrics on `registry`. */
export function createGateMetrics(registry: Registry): GateMetrics {
  const registers = [registry];
  return {
    running: new Gauge({
      name: 'openmanager_exporter_query_running',
      help: 'PromQL queries evaluating now.',
      registers,
    }),
    queued: new Gauge({
      name: 'openmanager_exporter_query_queue_length',
      help: 'PromQL queries waiting for an evaluation slot now.',
      registers,
    }),
    queuedTotal: new Counter({
      name: 'openmanager_exporter_query_queued_total',
      help: 'PromQL queries that had to wait for an evaluation slot.',
      registers,
    }),
    rejected: new Counter({
      name: 'openmanager_exporter_query_rejected_total',
      help: 'PromQL queries refused before running: reason="queue_full" (503) or "timeout" (waited past the deadline).',
      labelNames: ['reason'],
      registers,
    }),
    wait: new Histogram({
      name: 'openmanager_exporter_query_queue_wait_seconds',
      help: 'Time PromQL queries waited for an evaluation slot.',
      buckets: QUEUE_WAIT_BUCKETS,
      registers,
    }),
  };
}

interface Waiter {
  readonly grant: () => void;
  readonly timer: NodeJS.Timeout;
}

/** QueryGate hands out at most `maxConcurrent` evaluation slots. */
export class QueryGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly maxConcurrent = DEFAULT_MAX_CONCURRENT,
    private readonly maxQueued = DEFAULT_MAX_QUEUED,
    private readonly metrics?: GateMetrics,
  ) {}

  /** stats returns the running and waiting counts. */
  stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  /**
   * acquire resolves with a release function once a slot is free; rejects with `timeout` when `deadline`
   * (performance.now() ms) passes first, or at once with `unavailable` when the queue is full.
   */
  acquire(deadline: number): Promise<() => void> {
    if (this.running < this.maxConcurrent) {
      this.take();
      this.metrics?.wait.observe(0);
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxQueued) {
      this.metrics?.rejected.inc({ reason: 'queue_full' });
      return Promise.reject(
        new PromQLError(
          'unavailable',
          `too many queries: ${this.maxConcurrent} running and ${this.maxQueued} waiting; retry later`,
        ),
      );
    }
    this.metrics?.queuedTotal.inc();
    const queuedAt = performance.now();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          this.metrics?.wait.observe((performance.now() - queuedAt) / 1000);
          this.take();
          resolve(this.releaser());
        },
        timer: setTimeout(
          () => {
            const i = this.waiting.indexOf(waiter);
            if (i >= 0) this.waiting.splice(i, 1);
            this.metrics?.queued.set(this.waiting.length);
            this.metrics?.rejected.inc({ reason: 'timeout' });
            reject(queryTimeout());
          },
          Math.max(0, deadline - performance.now()),
        ),
      };
      this.waiting.push(waiter);
      this.metrics?.queued.set(this.waiting.length);
    });
  }

  private take(): void {
    this.running++;
    this.metrics?.running.set(this.running);
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.metrics?.running.set(this.running);
      const next = this.waiting.shift();
      this.metrics?.queued.set(this.waiting.length);
      next?.grant();
    };
  }
}
