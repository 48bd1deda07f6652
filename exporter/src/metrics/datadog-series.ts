/**
 * datadogSeries turns one frame of the fleet into DataDog v1 series (the seed's push: `metric`,
 * `points [[ts, value]]`, `tags`, `host`): every gauge and counter series with a value (a down server's
 * series have none), named as Prometheus names them, `host` = the server id, tags `role:<role>` and each
 * other label as `name:value`. Histogram buckets are left out: DataDog's v1 API has no histogram type, and
 * 12 bucket series per latency series would triple the payload for no readable graph. Counters go as gauges
 * of their running total, as DataDog's OpenMetrics check sends monotonic counters it has no baseline for.
 */
import type { DatadogSeries } from '../notify/datadog-sink.js';
import type { FleetFrame, FleetLayout } from '../simulator/types.js';

/** DatadogSeriesBuilder keeps each series' fixed part (name, host, tags) and adds a frame's points. */
export class DatadogSeriesBuilder {
  private readonly fixed: { index: number; metric: string; host: string; tags: string[] }[] = [];

  constructor(layout: FleetLayout) {
    layout.series.forEach((s, index) => {
      const family = layout.families[s.family];
      if (!family || family.type === 'histogram') return;
      const server = layout.servers[s.server];
      const tags = [`role:${server?.role ?? 'unknown'}`];
      for (const [k, v] of Object.entries(s.labels))
        if (k !== '__name__' && k !== 'server') tags.push(`${k}:${v}`);
      this.fixed.push({ index, metric: s.labels.__name__ ?? family.name, host: s.labels.server ?? '', tags });
    });
  }

  /** build returns the frame's series with one point each (timestamp in Unix seconds). */
  build(frame: FleetFrame): DatadogSeries[] {
    const ts = Math.floor(frame.t / 1000);
    const out: DatadogSeries[] = [];
    for (const f of this.fixed) {
      const v = frame.values[f.index];
      if (v === undefined || !Number.isFinite(v)) continue;
      out.push({ metric: f.metric, points: [[ts, v]], type: 'gauge', host: f.host, tags: f.tags });
    }
    return out;
  }
}
