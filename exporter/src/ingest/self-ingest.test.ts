import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EmbeddedStorage } from '../tsdb/embedded/embedded-storage.js';
import { METRIC_NAME } from '../util/labels.js';
import { SelfIngestor, SELF_JOB } from './self-ingest.js';

const T = Date.UTC(2026, 10, 1);

describe('SelfIngestor', () => {
  it('stores every sample getMetricsAsJSON gives, reading the metrics in slices', async () => {
    const registry = new Registry();
    const order: string[] = [];
    new Counter({ name: 'a_total', help: 'a', labelNames: ['k'], registers: [registry] }).inc({ k: 'x' }, 3);
    new Gauge({
      name: 'b',
      help: 'b',
      registers: [registry],
      collect() {
        order.push('collect b');
        this.set(7);
      },
    });
    const h = new Histogram({ name: 'c_seconds', help: 'c', buckets: [0.1, 1], registers: [registry] });
    h.observe(0.5);
    const s = new Summary({ name: 'd', help: 'd', percentiles: [0.5], registers: [registry] });
    s.observe(2);
    const storage = await EmbeddedStorage.open();
    // A zero slice turns the loop before every metric: a callback queued before the ingest runs before the
    // second metric (the gauge) is collected.
    setImmediate(() => order.push('other'));
    await new SelfIngestor(storage, registry, () => 'host:1', 0).ingest(T);
    expect(order).toEqual(['other', 'collect b']);

    const expected: string[] = [];
    for (const fam of await registry.getMetricsAsJSON())
      for (const v of fam.values) {
        const name = (v as { metricName?: string }).metricName ?? fam.name;
        const labels = Object.entries(v.labels)
          .map(([k, x]) => `${k}=${String(x)}`)
          .sort();
        expected.push(`${name}{${labels.join(',')}} ${v.value}`);
      }
    const q = await storage.querier(T, T);
    const got: string[] = [];
    for (const series of await q.select([{ type: '=', name: 'job', value: SELF_JOB }])) {
      const { [METRIC_NAME]: name, job, instance, ...rest } = series.labels;
      expect([job, instance]).toEqual([SELF_JOB, 'host:1']);
      const labels = Object.entries(rest)
        .map(([k, x]) => `${k}=${x}`)
        .sort();
      got.push(`${name}{${labels.join(',')}} ${series.values[0]}`);
    }
    expect(got.sort()).toEqual(expected.sort());
    expect(got.length).toBeGreaterThan(8);
    await storage.close();
  });
});
