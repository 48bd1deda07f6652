/**
 * EmbeddedStorage is the default backend: in-process, built from the shared core (Head, HeadQuerier) and,
 * when given a data dir, persisted there, with cut chunks kept on disk only (DiskChunkStore: per-chunk
 * metadata in memory, bytes read on demand); without one, MemChunkStore keeps them in memory:
 *
 * ```
 * <dataDir>/wal/00000007        write-ahead log segments (wal.ts): series + committed sample batches
 * <dataDir>/chunks/raw-<block>  cut chunks, append-only, one file per tier and time block (chunk-files.ts)
 * <dataDir>/snapshot-00000006   index + head state + chunk file lengths, covering wal segments ≤ 6
 * ```
 *
 * A commit resolves when its log record is durable under the sync policy, so after `kill -9` every
 * acknowledged sample is replayed. A snapshot (every `snapshotIntervalMs`, on `flush()`, on `close()`)
 * seals the log segment and takes the head's state between two commits, serialises it paced, fsyncs the
 * chunk files, writes itself atomically and deletes the covered log segments. Bulk appenders (backfill) skip the log and are made
 * durable by snapshots taken every `bulkSnapshotIntervalMs` and by `flush()`. Without a data dir everything
 * stays in memory (tests).
 *
 * Bulk appenders also let the head encode the chunks they cut on a worker thread (EncodePool), so a
 * backfill generates and applies the next frames while the last boundary's chunks are encoded on the other
 * core; every snapshot first waits for those chunks to reach the chunk files (Head.settle).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { ByteReader, ByteWriter } from '../bytes.js';
import { MemChunkStore } from '../chunk-store.js';
import { DEFAULT_CODEC, type ChunkCodec } from '../codec.js';
import { defaultEncodeWorkers, EncodePool } from '../encode-pool.js';
import { TsdbError } from '../errors.js';
import { HeadAppender, type CommittedBatch } from '../head-appender.js';
import { DEFAULT_CHUNK_SPAN_MS, Head } from '../head.js';
import { TsdbMetrics } from '../metrics.js';
import { HeadQuerier } from '../querier.js';
import { resolveRetention, retentionCutoffs, TIERS } from '../retention.js';
import { ROLLUP_CHUNK_SPAN_MS } from '../rollup.js';
import type {
  Appender,
  AppenderOptions,
  Querier,
  Retention,
  Storage,
  StorageHealth,
  Tier,
} from '../storage.js';
import { ChunkFiles } from './chunk-files.js';
import { DiskChunkStore } from './disk-chunk-store.js';
import {
  captureSnapshot,
  encodeSnapshot,
  readLatestSnapshot,
  writeSnapshot,
  type SnapshotCapture,
} from './snapshot.js';
import { replayWal, Wal, type WalSyncPolicy } from './wal.js';
import { Pacer } from '../../util/pacer.js';

/** EmbeddedStorageOptions configures an EmbeddedStorage; every field is optional. */
export interface EmbeddedStorageOptions {
  /** dataDir persists the store there; omitted = in-memory only. */
  readonly dataDir?: string;
  /** sync is the log durability policy (see wal.ts): 'always' (default) or { intervalMs }. */
  readonly sync?: WalSyncPolicy;
  /** snapshotIntervalMs is the period of automatic snapshots (0 disables the timer). */
  readonly snapshotIntervalMs?: number;
  /** bulkSnapshotIntervalMs is how often (wall time) a running backfill is made durable. */
  readonly bulkSnapshotIntervalMs?: number;
  /** walSegmentBytes starts a new log segment past this size. */
  readonly walSegmentBytes?: number;
  readonly retention?: Partial<Record<Tier, number>>;
  readonly chunkSpanMs?: number;
  readonly maxSamplesPerChunk?: number;
  /**
   * rollups keeps the 1m/5m/1h tiers (default true). A store whose readers never ask for a tier (the
   * coverage run, whose rules evaluate at a 15 s step, where the engine always reads raw samples) turns
   * them off and saves their bucketing and encoding.
   */
  readonly rollups?: boolean;
  readonly codec?: ChunkCodec;
  /**
   * encodeWorkers is how many worker threads encode the chunks bulk appends cut; default: one when the
   * machine has a second core and the store has a data dir, else 0 (in-thread). Only the default codec
   * runs on workers.
   */
  readonly encodeWorkers?: number;
  /**
   * sliceMs is how long a snapshot or a retention flush works before giving the event loop a turn (default
   * SLICE_MS); tests set 0 to turn between every two series.
   */
  readonly sliceMs?: number;
  readonly registry?: Registry;
  /** metrics are the store's self-metrics, built once per registry (default: built here, on `registry`). */
  readonly metrics?: TsdbMetrics;
  readonly logger?: Logger;
}

/**
 * DEFAULT_EMBEDDED_OPTIONS are the defaults: fsync per commit group, a snapshot every 5 min (bounds log
 * replay to ~5 min of ticks), a running backfill made durable every 60 s (at most a minute of generated
 * history to redo after a crash), 64 MiB log segments.
 */
export const DEFAULT_EMBEDDED_OPTIONS = {
  sync: 'always' as WalSyncPolicy,
  snapshotIntervalMs: 5 * 60_000,
  bulkSnapshotIntervalMs: 60_000,
  walSegmentBytes: 64 * 1024 * 1024,
};

/** optionsSchema validates the numeric options (the rest is typed). */
const optionsSchema = z.object({
  snapshotIntervalMs: z.number().int().nonnegative().optional(),
  bulkSnapshotIntervalMs: z.number().int().positive().optional(),
  walSegmentBytes: z.number().int().positive().optional(),
  encodeWorkers: z.number().int().nonnegative().optional(),
  chunkSpanMs: z.number().int().positive().optional(),
  sliceMs: z.number().nonnegative().optional(),
  maxSamplesPerChunk: z.number().int().min(1).max(0xffff).optional(),
});

/** WAL record types (first payload byte). */
const REC_SERIES = 1;
const REC_SAMPLES = 2;

/** EmbeddedStorage implements Storage in process; see the file comment. */
export class EmbeddedStorage implements Storage {
  readonly name = 'embedded';
  readonly metrics: TsdbMetrics;
  private readonly head: Head;
  /** chunkStore holds the cut chunks (exposed read-only for benchmarks and diagnostics). */
  readonly chunkStore: MemChunkStore | DiskChunkStore;
  private readonly retention: Retention;
  private readonly logger: Logger | undefined;
  private files: ChunkFiles | undefined;
  private wal: Wal | undefined;
  private timer: NodeJS.Timeout | undefined;
  private snapshotting: Promise<void> | undefined;
  private lastBulkSnapshot = Date.now();
  private closed = false;
  private readonly record = new ByteWriter(64 * 1024);
  private readonly pool: EncodePool | undefined;

  private constructor(private readonly opts: EmbeddedStorageOptions) {
    const parsed = optionsSchema.safeParse(opts);
    if (!parsed.success) {
      throw new TsdbError('TSDB_BAD_OPTIONS', `invalid embedded storage options: ${parsed.error.message}`);
    }
    this.metrics = opts.metrics ?? new TsdbMetrics(opts.registry);
    this.logger = opts.logger;
    this.retention = resolveRetention(opts.retention);
    const codec = opts.codec ?? DEFAULT_CODEC;
    if (opts.dataDir) {
      const span = opts.chunkSpanMs ?? DEFAULT_CHUNK_SPAN_MS;
      this.files = new ChunkFiles(
        join(opts.dataDir, 'chunks'),
        codec,
        { raw: span, ...ROLLUP_CHUNK_SPAN_MS },
        opts.logger,
      );
    }
    this.chunkStore = this.files ? new DiskChunkStore(this.files) : new MemChunkStore();
    const workers = opts.encodeWorkers ?? (opts.dataDir ? defaultEncodeWorkers() : 0);
    if (workers > 0 && codec === DEFAULT_CODEC) {
      this.pool = new EncodePool({ workers, ...(opts.logger && { logger: opts.logger }) });
    }
    this.head = new Head({
      ...(this.pool && { encoder: this.pool }),
      codec,
      sink: this.chunkStore,
      metrics: this.metrics,
      ...(opts.logger && { logger: opts.logger }),
      ...(opts.chunkSpanMs !== undefined && { chunkSpanMs: opts.chunkSpanMs }),
      ...(opts.maxSamplesPerChunk !== undefined && { maxSamplesPerChunk: opts.maxSamplesPerChunk }),
      ...(opts.rollups !== undefined && { rollups: opts.rollups }),
    });
  }

  /** open creates the store, recovering it from `dataDir` (snapshot + log replay) when one is given. */
  static async open(opts: EmbeddedStorageOptions = {}): Promise<EmbeddedStorage> {
    const s = new EmbeddedStorage(opts);
    if (opts.dataDir) await s.recover(opts.dataDir);
    return s;
  }

  private async recover(dataDir: string): Promise<void> {
    const started = Date.now();
    await mkdir(dataDir, { recursive: true });
    const snap = await readLatestSnapshot(dataDir, this.logger);
    const files = this.files;
    const store = this.chunkStore;
    if (!files || !(store instanceof DiskChunkStore)) return;
    await files.load(snap?.fileLengths ?? new Map(), (c) => store.addLoaded(c));
    snap?.restoreHead(this.head);
    let replayed = 0;
    const walDir = join(dataDir, 'wal');
    const last = await replayWal(
      walDir,
      snap?.walSegment ?? 0,
      (p) => {
        replayed += this.replayRecord(p);
      },
      this.metrics,
      this.logger,
    );
    this.head.drainNewSeries();
    this.head.noteMaxTime(this.chunkStore.maxTime());
    this.wal = await Wal.open(walDir, Math.max(last, snap?.walSegment ?? 0), {
      sync: this.opts.sync ?? DEFAULT_EMBEDDED_OPTIONS.sync,
      segmentBytes: this.opts.walSegmentBytes ?? DEFAULT_EMBEDDED_OPTIONS.walSegmentBytes,
      metrics: this.metrics,
      ...(this.logger && { logger: this.logger }),
    });
    const interval = this.opts.snapshotIntervalMs ?? DEFAULT_EMBEDDED_OPTIONS.snapshotIntervalMs;
    if (interval > 0) {
      this.timer = setInterval(() => void this.snapshot().catch(() => undefined), interval);
      this.timer.unref();
    }
    this.logger?.info(
      { dataDir, series: this.head.numSeries, replayedSamples: replayed, ms: Date.now() - started },
      'embedded store opened',
    );
  }

  private replayRecord(p: Uint8Array): number {
    const r = new ByteReader(p);
    const type = r.u8();
    if (type === REC_SERIES) {
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const ref = r.u32();
        const labels: Record<string, string> = {};
        const k = r.u32();
        for (let j = 0; j < k; j++) {
          const name = r.string();
          labels[name] = r.string();
        }
        this.head.restoreSeries(ref, labels);
      }
      return 0;
    }
    if (type === REC_SAMPLES) {
      const n = r.u32();
      const refs = new Uint32Array(n);
      for (let i = 0; i < n; i++) refs[i] = r.u32();
      const ts = new Float64Array(n);
      const vs = new Float64Array(n);
      r.f64s(ts, 0, n);
      r.f64s(vs, 0, n);
      for (let i = 0; i < n; i++) this.head.append(refs[i] ?? 0, ts[i] ?? 0, vs[i] ?? 0);
      return n;
    }
    throw new TsdbError('TSDB_CORRUPT', `unknown write-ahead log record type ${type}`);
  }

  private encodeSeriesRecord(refs: readonly number[]): Uint8Array {
    const w = this.record;
    w.reset();
    w.u8(REC_SERIES);
    w.u32(refs.length);
    for (const ref of refs) {
      const labels = this.head.index.labels(ref) ?? {};
      w.u32(ref);
      const names = Object.keys(labels);
      w.u32(names.length);
      for (const name of names) {
        w.string(name);
        w.string(labels[name] ?? '');
      }
    }
    return w.finish().slice();
  }

  private encodeSamplesRecord(b: CommittedBatch): Uint8Array {
    const w = this.record;
    w.reset();
    w.u8(REC_SAMPLES);
    w.u32(b.n);
    for (let i = 0; i < b.n; i++) w.u32(b.refs[i] ?? 0);
    w.f64s(b.ts, 0, b.n);
    w.f64s(b.vs, 0, b.n);
    return w.finish().slice();
  }

  private checkOpen(): void {
    if (this.closed) throw new TsdbError('TSDB_CLOSED', 'the embedded store is closed');
  }

  appender(options?: AppenderOptions): Appender {
    this.checkOpen();
    const bulk = options?.bulk === true;
    return new HeadAppender(
      this.head,
      async (batch) => {
        const wal = this.wal;
        if (!wal) return;
        if (batch.newSeries.length > 0) {
          const p = wal.append(this.encodeSeriesRecord(batch.newSeries));
          if (bulk) await p;
        }
        if (!bulk) {
          if (batch.n > 0) await wal.append(this.encodeSamplesRecord(batch));
          else await wal.append(this.encodeSeriesRecord([]));
          return;
        }
        const interval = this.opts.bulkSnapshotIntervalMs ?? DEFAULT_EMBEDDED_OPTIONS.bulkSnapshotIntervalMs;
        if (Date.now() - this.lastBulkSnapshot >= interval) await this.snapshot();
      },
      () => this.checkOpen(),
      { deferEncoding: bulk, bulk },
    );
  }

  querier(mint: number, maxt: number): Promise<Querier> {
    this.checkOpen();
    return Promise.resolve(new HeadQuerier(this.head, this.chunkStore, mint, maxt));
  }

  lastTimestamp(): Promise<number | undefined> {
    const t = this.head.maxTime;
    return Promise.resolve(t === -Infinity ? undefined : t);
  }

  /**
   * snapshot makes everything committed so far durable (bulk appends included) and truncates the log.
   * Concurrent calls share one run. A no-op for in-memory stores.
   */
  snapshot(): Promise<void> {
    if (!this.wal || !this.files || !this.opts.dataDir) return this.head.settle();
    if (this.snapshotting) return this.snapshotting;
    const wal = this.wal;
    const files = this.files;
    const dataDir = this.opts.dataDir;
    const run = (async () => {
      const end = this.metrics.snapshotSeconds.startTimer();
      let cut: { sealed: Promise<number>; capture: SnapshotCapture } | undefined;
      while (!cut) {
        // Chunks cut by bulk appends must be in the chunk files the snapshot records (and out of the head);
        // the chunks this snapshot cuts are encoded the same way first (on the encoder, while this thread
        // serves other work).
        await this.head.flushPaced(this.head.maxTime, true, this.pacer());
        while (this.head.pendingCuts > 0) await this.head.settle();
        // Under the commit lock, which commits and flushes take too: the sealed segment, the chunk-file
        // lengths and the head state describe the same instant, though the capture gives the loop turns
        // (a commit that cut chunks before we got the lock sends us round again).
        cut = await this.head.commitLock.run(async () => {
          if (this.head.pendingCuts > 0) return undefined;
          const pacer = this.pacer();
          await this.head.flushSlices(this.head.maxTime, false, pacer);
          const sealed = wal.seal();
          return { sealed, capture: await captureSnapshot(this.head, files.lengths(), pacer) };
        });
      }
      this.lastBulkSnapshot = Date.now();
      const segment = await cut.sealed;
      const bytes = await encodeSnapshot(cut.capture, segment, this.pacer());
      await files.sync();
      await writeSnapshot(dataDir, segment, bytes);
      await wal.removeUpTo(segment);
      end();
    })();
    this.snapshotting = run
      .catch((err: unknown) => {
        this.metrics.snapshotFailures.inc();
        this.logger?.error({ err }, 'snapshot failed; the write-ahead log is kept');
        throw err;
      })
      .finally(() => {
        this.snapshotting = undefined;
      });
    return this.snapshotting;
  }

  /**
   * flush makes everything committed so far durable (a snapshot); a bulk ingest's spare buffers go and the
   * open rows it left raw are sealed.
   */
  async flush(): Promise<void> {
    await this.snapshot();
    this.head.releaseBuffers();
    await this.head.compactPaced(this.pacer());
  }

  async applyRetention(now: number): Promise<void> {
    this.checkOpen();
    const cutoffs = retentionCutoffs(now, this.retention);
    // Reads while chunks are dropped, and after, may differ from reads before (Head.historyGeneration).
    this.head.noteHistoryChanged();
    await this.head.flushPaced(now, false, this.pacer());
    const res = await this.chunkStore.applyRetention(cutoffs, this.pacer());
    this.head.noteHistoryChanged();
    for (const tier of TIERS)
      if (res.dropped[tier] > 0) this.metrics.retentionDroppedChunks.inc({ tier }, res.dropped[tier]);
    // A series with nothing stored and no sample for the longest retention is gone for good.
    const gone = new Set(res.emptyRefs.filter((ref) => this.head.lastTime(ref) < cutoffs['1h']));
    if (gone.size > 0) {
      // Between commits: a commit that revives one of them finds it either whole or gone.
      await this.head.commitLock.run(() => {
        this.head.deleteSeries(gone);
        this.chunkStore.deleteSeries(gone);
        return Promise.resolve();
      });
    }
    if (this.files) await this.files.dropBefore(cutoffs);
  }

  /** pacer starts a piece of paced work with the store's slice. */
  private pacer(): Pacer {
    return new Pacer(this.opts.sliceMs);
  }

  health(): StorageHealth {
    const err = this.wal?.error ?? this.files?.error;
    return {
      backend: this.name,
      ok: !this.closed && !err,
      ...(err && { detail: `write failed: ${err.message}` }),
      ...(this.closed && { detail: 'closed' }),
      series: this.head.numSeries,
    };
  }

  /** stats reports stored chunk bytes and counts (for benchmarks and status pages). */
  stats(): { series: number; chunks: number; bytes: number } {
    return { series: this.head.numSeries, ...this.chunkStore.stats() };
  }

  /**
   * abandon closes the files WITHOUT a snapshot, leaving the data dir as a crash would (only the log and
   * earlier snapshots): for recovery tests.
   */
  async abandon(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.closed = true;
    // Chunks still encoding would be written after the files close; a crash would lose them (no snapshot).
    await this.head.settle().catch(() => undefined);
    await this.pool?.close();
    await this.wal?.close();
    await this.files?.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.snapshotting) await this.snapshotting.catch(() => undefined);
    if (this.wal) await this.snapshot().catch(() => undefined);
    await this.head.settle().catch(() => undefined);
    this.closed = true;
    await this.pool?.close();
    await this.wal?.close();
    await this.files?.close();
  }
}
