/**
 * TsdbMetrics are the store's self-metrics, registered on an injected prom-client registry (never the global
 * one). Every backend shares these names; build them once per registry and hand them to the store (a store
 * reopened on the same registry takes the same instance).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** TsdbMetrics groups the TSDB's counters and gauges. */
export class TsdbMetrics {
  readonly appendedSamples: Counter;
  readonly outOfOrderSamples: Counter;
  readonly duplicateSamples: Counter;
  readonly chunksCut: Counter<'tier'>;
  readonly headSeries: Gauge;
  readonly retentionDroppedChunks: Counter<'tier'>;
  readonly walFsyncSeconds: Histogram;
  readonly walCorruptRecords: Counter;
  readonly snapshotSeconds: Histogram;
  readonly snapshotFailures: Counter;

  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.appendedSamples = new Counter({
      name: 'openmanager_exporter_tsdb_appended_samples_total',
      help: 'Samples accepted into the store.',
      registers,
    });
    this.outOfOrderSamples = new Counter({
      name: 'openmanager_exporter_tsdb_out_of_order_samples_total',
      help: 'Samples rejected because their timestamp is older than the series newest sample.',
      registers,
    });
    this.duplicateSamples = new Counter({
      name: 'openmanager_exporter_tsdb_duplicate_samples_total',
      help: 'Samples rejected because the series already has a sample at that timestamp.',
      registers,
    });
    this.chunksCut = new Counter({
      name: 'openmanager_exporter_tsdb_chunks_cut_total',
      help: 'Chunks completed by the head and handed to the backend, by tier.',
      labelNames: ['tier'],
      registers,
    });
    this.headSeries = new Gauge({
      name: 'openmanager_exporter_tsdb_head_series',
      help: 'Series in the store index.',
      registers,
    });
    this.retentionDroppedChunks = new Counter({
      name: 'openmanager_exporter_tsdb_retention_dropped_chunks_total',
      help: 'Chunks deleted because they fell out of their tier retention.',
      labelNames: ['tier'],
      registers,
    });
    this.walFsyncSeconds = new Histogram({
      name: 'openmanager_exporter_tsdb_wal_fsync_duration_seconds',
      help: 'Duration of write-ahead-log write+fsync batches.',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers,
    });
    this.walCorruptRecords = new Counter({
      name: 'openmanager_exporter_tsdb_wal_corrupt_records_total',
      help: 'Torn or corrupt write-ahead-log records dropped during replay.',
      registers,
    });
    this.snapshotSeconds = new Histogram({
      name: 'openmanager_exporter_tsdb_snapshot_duration_seconds',
      help: 'Duration of store snapshots.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers,
    });
    this.snapshotFailures = new Counter({
      name: 'openmanager_exporter_tsdb_snapshot_failures_total',
      help: 'Snapshots that failed (the write-ahead log is kept until one succeeds).',
      registers,
    });
  }
}
