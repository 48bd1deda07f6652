/**
 * SelfIngestor stores the exporter's own metrics (its prom-client registry, as `/metrics` serves it) next to
 * the fleet's, once per tick, with the labels a Prometheus scrape of `/metrics` would add (`job`,
 * `instance`). The exporter's own rule manager can then evaluate the self-health rules
 * (`openmanager_exporter_ready == 0`, storage unhealthy, rule evaluation failing) on its own store, as a
 * Prometheus scraping it would.
 */
import type { MetricValue, Registry } from 'prom-client';
import type { Storage } from '../tsdb/storage.js';
import { METRIC_NAME, seriesKey } from '../util/labels.js';
import { Pacer, SLICE_MS } from '../util/pacer.js';

/** SELF_JOB is the job label of the self-metrics, as the stack's Prometheus names its /metrics job. */
export const SELF_JOB = 'openmanager-exporter';

/** SelfIngestor appends the registry's samples; refs are cached per series. */
export class SelfIngestor {
  private readonly refs = new Map<string, number>();

  constructor(
    private readonly storage: Pick<Storage, 'appender'>,
    private readonly registry: Registry,
    /** instance returns the exporter's `host:port` (known once it listens). */
    private readonly instance: () => string,
    /** sliceMs is how long it reads metrics before giving the event loop a turn; tests set 0. */
    private readonly sliceMs = SLICE_MS,
  ) {}

  /**
   * ingest appends every self-metric sample at `t` (ms) and commits. The metrics are read one by one, not
   * with registry.getMetricsAsJSON(): reading a metric runs its collect() (the process metrics read /proc,
   * summaries compute their quantiles), 20–55 ms for the whole registry in one go at 20 servers on a busy
   * machine; one at a time, the loop gets a turn between them whenever the slice is used up. The registry
   * sets no default labels (getMetricsAsJSON would add them), so the samples are the same.
   */
  async ingest(t: number): Promise<void> {
    const app = this.storage.appender();
    const extra = { job: SELF_JOB, instance: this.instance() };
    const pacer = new Pacer(this.sliceMs);
    for (const { name } of this.registry.getMetricsAsArray()) {
      await pacer.pace();
      const metric = this.registry.getSingleMetric(name);
      if (metric === undefined) continue; // removed while we yielded
      const fam = await metric.get();
      for (const v of fam.values) {
        if (!Number.isFinite(v.value) && !Number.isNaN(v.value)) continue;
        const named = v as MetricValue<string> & { metricName?: string };
        const labels: Record<string, string> = { [METRIC_NAME]: named.metricName ?? fam.name, ...extra };
        for (const [k, x] of Object.entries(v.labels)) if (x !== undefined) labels[k] = String(x);
        const key = seriesKey(labels);
        this.refs.set(key, app.append(this.refs.get(key) ?? 0, labels, t, v.value));
      }
    }
    await app.commit();
  }
}
