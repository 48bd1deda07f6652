/**
 * DatadogSink pushes the fleet's series to DataDog's v1 series API (`POST /api/v1/series`, header
 * `DD-API-KEY`), the seed's integration: each series as `{metric, points: [[ts, value]], type, host, tags}`,
 * batched `batch_size` series per request, once per scheduler run (default every 15 s tick). It is a metrics
 * sink, not a notifier: a batch that fails is counted and logged, not queued — the next push carries fresh
 * values, and replaying stale gauges would only draw a wrong line. The API key is a Secret and never appears
 * in a log line or an error.
 */
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../util/logger.js';
import type { DatadogConfig } from './config.js';
import { DeliveryError, postJson } from './http-client.js';
import { USER_AGENT } from './webhook-receiver.js';

/** SERIES_PATH is DataDog's v1 series endpoint. */
export const SERIES_PATH = 'api/v1/series';

/** DatadogSeries is one series of the v1 payload. */
export interface DatadogSeries {
  readonly metric: string;
  /** points are `[unix seconds, value]` pairs. */
  readonly points: readonly (readonly [number, number])[];
  readonly type: 'gauge' | 'count' | 'rate';
  readonly host: string;
  readonly tags: readonly string[];
}

/** PushResult says what one push did. */
export interface PushResult {
  readonly series: number;
  readonly requests: number;
  readonly failed: number;
}

/** DatadogSink sends series to DataDog in batches. */
export class DatadogSink {
  private readonly series: Counter<'outcome'>;
  private readonly requests: Counter<'outcome'>;

  constructor(
    private readonly config: DatadogConfig,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.series = new Counter({
      name: 'openmanager_exporter_datadog_series_total',
      help: 'Series pushed to DataDog, by outcome (sent, failed).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.requests = new Counter({
      name: 'openmanager_exporter_datadog_requests_total',
      help: 'Requests to the DataDog series API, by outcome (sent, failed).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    for (const outcome of ['sent', 'failed']) {
      this.series.inc({ outcome }, 0);
      this.requests.inc({ outcome }, 0);
    }
  }

  /** url is the series endpoint under the configured API base. */
  private url(): string {
    const base = this.config.url.reveal();
    return new URL(SERIES_PATH, base.endsWith('/') ? base : `${base}/`).toString();
  }

  /** push sends `series` (the configured tags added to each), batch by batch, in order; never throws. */
  async push(series: readonly DatadogSeries[]): Promise<PushResult> {
    let failed = 0;
    let requests = 0;
    const extra = this.config.tags;
    for (let i = 0; i < series.length; i += this.config.batchSize) {
      const batch = series
        .slice(i, i + this.config.batchSize)
        .map((s) => (extra.length > 0 ? { ...s, tags: [...s.tags, ...extra] } : s));
      requests++;
      try {
        await postJson(
          this.url(),
          { series: batch },
          {
            timeoutMs: this.config.timeoutMs,
            headers: { 'DD-API-KEY': this.config.apiKey.reveal(), 'user-agent': USER_AGENT },
            secrets: [this.config.apiKey, this.config.url],
          },
        );
        this.series.inc({ outcome: 'sent' }, batch.length);
        this.requests.inc({ outcome: 'sent' });
      } catch (err) {
        failed++;
        this.series.inc({ outcome: 'failed' }, batch.length);
        this.requests.inc({ outcome: 'failed' });
        const message = err instanceof DeliveryError ? err.message : 'unexpected failure';
        this.logger.warn(
          { series: batch.length, error: message },
          'DataDog push failed; the next push sends fresh values',
        );
      }
    }
    return { series: series.length, requests, failed };
  }
}
