/**
 * RedisMetrics are the Redis backend's own self-metrics (the TSDB-wide ones are TsdbMetrics). Built once per
 * store, unregistered, and registered on the store's registry only when it has opened, so a failed open
 * leaves the registry as it was. The gauges read the store at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { TsdbError } from '../errors.js';

/** RedisMetricsSource is what the gauges read at scrape time. */
export interface RedisMetricsSource {
  /** bufferedSamples is the number of accepted samples Redis has not acknowledged. */
  bufferedSamples(): number;
  /** connected says whether the connection to Redis is up (writes are not being buffered). */
  connected(): boolean;
}

/** DROPPED_SAMPLES is the counter of samples the outage buffer dropped. */
const DROPPED_SAMPLES = 'openmanager_exporter_tsdb_redis_dropped_samples_total';
/** BUFFERED_SAMPLES is the gauge of samples Redis has not acknowledged yet. */
const BUFFERED_SAMPLES = 'openmanager_exporter_tsdb_redis_buffered_samples';
/** CONNECTED is the gauge of the connection state. */
const CONNECTED = 'openmanager_exporter_tsdb_redis_connected';

/** RedisMetrics holds the Redis backend's counter and gauges. */
export class RedisMetrics {
  readonly droppedSamples: Counter;
  private readonly all: readonly (Counter | Gauge)[];

  constructor(source: RedisMetricsSource) {
    this.droppedSamples = new Counter({
      name: DROPPED_SAMPLES,
      help: 'Samples dropped from the Redis outage buffer because it overflowed (oldest first).',
      registers: [],
    });
    const buffered = new Gauge({
      name: BUFFERED_SAMPLES,
      help: 'Accepted samples not yet acknowledged by Redis (outage buffer plus the pipeline in flight).',
      registers: [],
      collect() {
        this.set(source.bufferedSamples());
      },
    });
    const connected = new Gauge({
      name: CONNECTED,
      help: '1 when the Redis connection is ready, 0 while writes are being buffered.',
      registers: [],
      collect() {
        this.set(source.connected() ? 1 : 0);
      },
    });
    this.all = [this.droppedSamples, buffered, connected];
  }

  /**
   * assertFree throws TSDB_BAD_OPTIONS when `registry` already holds these metrics: another Redis store
   * registered them, and one registry reports one store.
   */
  static assertFree(registry: Registry): void {
    for (const name of [DROPPED_SAMPLES, BUFFERED_SAMPLES, CONNECTED]) {
      if (registry.getSingleMetric(name) !== undefined) {
        throw new TsdbError(
          'TSDB_BAD_OPTIONS',
          `the metrics registry already holds ${name} of another Redis store; give each store its own registry`,
        );
      }
    }
  }

  /** register adds the metrics to `registry` (once, when the store has opened). */
  register(registry: Registry): void {
    for (const m of this.all) registry.registerMetric(m);
  }
}
