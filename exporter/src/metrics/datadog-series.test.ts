import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StandInReceiver } from '../../test/stand-in-receiver.js';
import { DatadogSink, type DatadogSeries } from '../notify/datadog-sink.js';
import type { DatadogConfig } from '../notify/config.js';
import { Secret } from '../notify/secret.js';
import { Fleet } from '../simulator/index.js';
import { silentLogger } from '../util/logger.js';
import { DatadogSeriesBuilder } from './datadog-series.js';

const T0 = Date.UTC(2026, 10, 26, 12);
const KEY = 'dd-test-key-0123456789';

let stand: StandInReceiver;
beforeEach(async () => {
  stand = await StandInReceiver.start();
});
afterEach(async () => {
  await stand.close();
});

function sinkConfig(over: Partial<DatadogConfig> = {}): DatadogConfig {
  return {
    apiKey: new Secret(KEY, 'DATADOG_API_KEY'),
    url: new Secret(stand.url, 'DATADOG_URL'),
    intervalMs: 15_000,
    batchSize: 500,
    tags: ['env:test'],
    timeoutMs: 2_000,
    ...over,
  };
}

async function counter(registry: Registry, name: string, outcome: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('DataDog series push', () => {
  const fleet = new Fleet({ seed: 42, scenarioRatePerHour: 0, epoch: T0 - 3_600_000 });
  const frame = fleet.frameAt(T0);
  const series = new DatadogSeriesBuilder(fleet.layout).build(frame);

  it('builds one gauge point per gauge and counter series of the frame, host = server, labels as tags', () => {
    const i = fleet.layout.series.findIndex(
      (s) => s.labels.__name__ === 'openmanager_memory_usage_percent' && s.labels.server === 'web-01',
    );
    const mem = series.find((s) => s.metric === 'openmanager_memory_usage_percent' && s.host === 'web-01');
    expect(mem).toEqual({
      metric: 'openmanager_memory_usage_percent',
      points: [[T0 / 1000, frame.values[i]]],
      type: 'gauge',
      host: 'web-01',
      tags: ['role:web'],
    });
    const disk = series.find((s) => s.metric === 'openmanager_disk_usage_percent' && s.host === 'db-01');
    expect(disk?.tags).toContain('role:db');
    expect(disk?.tags.some((t) => t.startsWith('mount:'))).toBe(true);
    expect(series.some((s) => s.metric.endsWith('_bucket'))).toBe(false);
    expect(new Set(series.map((s) => s.host)).size).toBe(20);
  });

  it('posts the v1 payload in batches, with the API key header, every series exactly once', async () => {
    const registry = new Registry();
    const sink = new DatadogSink(sinkConfig({ batchSize: 100 }), silentLogger(), registry);
    const result = await sink.push(series);
    const want = Math.ceil(series.length / 100);
    expect(result).toEqual({ series: series.length, requests: want, failed: 0 });
    expect(stand.received).toHaveLength(want);
    for (const r of stand.received) {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/api/v1/series');
      expect(r.headers['dd-api-key']).toBe(KEY);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
    }
    const got = stand.received.flatMap((r) => (r.body as { series: DatadogSeries[] }).series);
    expect(got).toEqual(series.map((s) => ({ ...s, tags: [...s.tags, 'env:test'] })));
    expect(await counter(registry, 'openmanager_exporter_datadog_series_total', 'sent')).toBe(series.length);
  });

  it('counts a failed batch, goes on with the next, and never logs the key', async () => {
    const registry = new Registry();
    const lines: string[] = [];
    const logger = silentLogger();
    logger.warn = (obj: unknown, msg?: string) => {
      lines.push(JSON.stringify(obj) + (msg ?? ''));
    };
    stand.answer = (_r, i) =>
      i === 0
        ? { kind: 'status', status: 403, body: `bad key ${KEY}` }
        : { kind: 'status', status: 202, body: '{}' };
    const sink = new DatadogSink(sinkConfig({ batchSize: 500 }), logger, registry);
    const result = await sink.push(series.slice(0, 800));
    expect(result).toEqual({ series: 800, requests: 2, failed: 1 });
    expect(await counter(registry, 'openmanager_exporter_datadog_requests_total', 'failed')).toBe(1);
    expect(await counter(registry, 'openmanager_exporter_datadog_series_total', 'sent')).toBe(300);
    expect(lines.join('\n')).toContain('HTTP 403');
    expect(lines.join('\n')).not.toContain(KEY);
  });

  it('survives a DataDog that hangs or is away, within its timeout', async () => {
    stand.answer = () => ({ kind: 'hang' });
    const sink = new DatadogSink(sinkConfig({ timeoutMs: 300 }), silentLogger(), new Registry());
    expect(await sink.push(series.slice(0, 10))).toEqual({ series: 10, requests: 1, failed: 1 });
  });
});
