/**
 * PendingWrites is what Redis does not have yet, and what of each series it does have. It is plain data
 * (no I/O, no timers): the write queue decides when to `take` it as one pipeline and what to do when Redis
 * is away. Key layout and write protocol: ../../../docs/format/redis-keys.md.
 *
 * A pipeline carries, in order: new series in the registry, whole cut chunks (raw and rollup), and per
 * touched series either its new samples as 16-byte records written with SETRANGE into its `:log`
 * (idempotent, unlike APPEND), or, when the series cut a chunk, a checkpoint of its head state (`:state`)
 * with the log emptied; then loose commands (retention deletes, prunes at open, a rewritten `:meta`).
 */
import { ByteWriter } from '../bytes.js';
import type { Chunk } from '../chunkenc/chunk.js';
import type { Head } from '../head.js';
import type { CommittedBatch } from '../head-appender.js';
import type { RollupChunk, RollupTier } from '../rollup.js';
import { SampleBuffer } from '../sample-buffer.js';
import { encodeRollupBlob, type ChunkDirectory, type ChunkMeta } from './chunk-list.js';
import { encodeHeadRecords, HEAD_RECORD_BYTES } from './head-record.js';
import { KEY_LAYOUT_VERSION, chunkField, type RedisKeys } from './keys.js';
import type { CommandArgs } from './redis-client.js';

/** SCRATCH_SAMPLES is the initial size of the buffer a series' open samples are read into (grows). */
const SCRATCH_SAMPLES = 512;

/** STATE_BUFFER_BYTES is the initial size of the buffer a head state is serialized into (grows). */
const STATE_BUFFER_BYTES = 4096;

/**
 * SeriesWrites tracks what of one series Redis already has. `queued` says whether the series is on the list
 * for the next pipeline (dirty), or changed by bulk commits only and waiting for a checkpoint round (deferred).
 */
class SeriesWrites {
  registered = false;
  /** logCount is the number of records in the series' `:log` since its checkpoint. */
  logCount = 0;
  /** lastWrittenT is the newest timestamp handed to a pipeline. */
  lastWrittenT = -Infinity;
  /** openCount is the number of samples in the head's open chunk. */
  openCount = 0;
  /** flushedOpen is how many of those are already in Redis (checkpoint + log). */
  flushedOpen = 0;
  needCheckpoint = false;
  queued: 'no' | 'dirty' | 'deferred' = 'no';
}

/** PendingChunk is a cut chunk waiting for the next pipeline. */
export interface PendingChunk {
  readonly ref: number;
  readonly tier: 'raw' | RollupTier;
  readonly meta: ChunkMeta;
  /** unflushed counts this chunk's samples Redis does not have yet (some may be in the log). */
  readonly unflushed: number;
}

/** WriteBatch is one pipeline's worth of pending writes, taken out of PendingWrites. */
export interface WriteBatch {
  readonly commands: readonly CommandArgs[];
  /** chunks are the cut chunks the commands write; their bytes are dropped once Redis acknowledges. */
  readonly chunks: readonly PendingChunk[];
  /** samples is how many accepted samples Redis will have once it acknowledges the batch. */
  readonly samples: number;
}

/** PendingWrites collects what the next pipeline must carry; see the file comment. */
export class PendingWrites {
  private readonly series: (SeriesWrites | undefined)[] = [];
  private fifo: PendingChunk[] = [];
  private dirty: number[] = [];
  private deferred: number[] = [];
  private unregistered: number[] = [];
  private loose: CommandArgs[] = [];
  /** unflushed counts accepted samples Redis does not have and no taken batch carries. */
  private unflushed = 0;
  /** replaying is true only inside replayLog: chunks cut then are already in Redis (as log records). */
  private replaying = false;
  private readonly scratch = new SampleBuffer(SCRATCH_SAMPLES);
  private readonly writer = new ByteWriter(STATE_BUFFER_BYTES);

  constructor(
    private readonly head: Head,
    private readonly keys: RedisKeys,
    private readonly directory: ChunkDirectory,
  ) {}

  /** samples is the number of accepted samples Redis does not have and no taken batch carries. */
  get samples(): number {
    return this.unflushed;
  }

  /** empty says whether the next pipeline would carry nothing. */
  get empty(): boolean {
    return (
      this.unregistered.length === 0 &&
      this.fifo.length === 0 &&
      this.dirty.length === 0 &&
      this.loose.length === 0
    );
  }

  // ---- open ----------------------------------------------------------------------------------------------

  /** registered records a series read from the registry at open: Redis has its labels. */
  registered(ref: number): void {
    this.of(ref).registered = true;
  }

  /**
   * replayLog appends a series' log records, read at open, to the head. Chunks this cuts hold samples
   * Redis already has, so they count as flushed; the series is checkpointed by the next pipeline.
   */
  replayLog(ref: number, ts: Float64Array, vs: Float64Array): void {
    this.replaying = true;
    try {
      for (let j = 0; j < ts.length; j++) this.head.append(ref, ts[j] ?? 0, vs[j] ?? 0);
    } finally {
      this.replaying = false;
    }
    const w = this.of(ref);
    w.needCheckpoint = true;
    this.markDirty(ref, w);
  }

  /** loaded records that Redis has all of a loaded series' open chunk. */
  loaded(ref: number): void {
    const w = this.of(ref);
    this.scratch.clear();
    this.head.readRaw(ref, -Infinity, Infinity, this.scratch);
    w.openCount = this.scratch.n;
    w.flushedOpen = this.scratch.n;
    w.lastWrittenT = this.head.lastTime(ref);
  }

  // ---- the head's sink and commits -----------------------------------------------------------------------

  /** rawChunkCut queues a raw chunk the head cut, keeping its bytes in the directory until Redis has them. */
  rawChunkCut(ref: number, minT: number, maxT: number, chunk: Chunk): void {
    const w = this.of(ref);
    const samples = chunk.numSamples();
    const meta: ChunkMeta = { minT, maxT, blob: Buffer.from(chunk.bytes()), samples };
    this.directory.of(ref).raw.add(meta);
    const unflushed = this.replaying ? 0 : Math.max(0, samples - w.flushedOpen);
    this.fifo.push({ ref, tier: 'raw', meta, unflushed });
    w.openCount -= samples;
    w.flushedOpen = 0;
    w.needCheckpoint = true;
  }

  /** rollupChunkCut queues a rollup chunk the head cut. */
  rollupChunkCut(ref: number, chunk: RollupChunk): void {
    const w = this.of(ref);
    const meta: ChunkMeta = { minT: chunk.minT, maxT: chunk.maxT, blob: encodeRollupBlob(chunk), samples: 0 };
    this.directory.of(ref).tiers[chunk.tier].add(meta);
    this.fifo.push({ ref, tier: chunk.tier, meta, unflushed: 0 });
    w.needCheckpoint = true;
  }

  /**
   * committed notes a commit's accepted samples. A bulk commit (backfill) defers its series' head states to
   * the next checkpoint round (promoteDeferred); its cut chunks go with the next pipeline as any.
   */
  committed(batch: CommittedBatch, bulk: boolean): void {
    for (const ref of batch.newSeries) {
      this.of(ref);
      this.unregistered.push(ref);
    }
    const { refs, n } = batch;
    for (let i = 0; i < n; i++) {
      const ref = refs[i] ?? 0;
      const w = this.of(ref);
      w.openCount++;
      if (!bulk) this.markDirty(ref, w);
      else if (w.queued === 'no') {
        w.queued = 'deferred';
        this.deferred.push(ref);
      }
    }
    this.unflushed += n;
  }

  /** promoteDeferred queues the head states of bulk-written series for the next pipeline. */
  promoteDeferred(): void {
    for (const ref of this.deferred) {
      const w = this.series[ref];
      if (w?.queued === 'deferred') this.markDirty(ref, w);
    }
    this.deferred = [];
  }

  /** queueCheckpoints queues the head state of every series that cut a chunk since its last checkpoint. */
  queueCheckpoints(): void {
    this.series.forEach((w, ref) => {
      if (w?.needCheckpoint) this.markDirty(ref, w);
    });
  }

  /** queue appends a loose command to the next pipeline (after its chunks and head states). */
  queue(command: CommandArgs): void {
    this.loose.push(command);
  }

  // ---- forgetting ----------------------------------------------------------------------------------------

  /** forgetChunks drops queued chunks that retention removed before Redis got them. */
  forgetChunks(metas: ReadonlySet<ChunkMeta>): void {
    if (metas.size === 0) return;
    this.fifo = this.fifo.filter((c) => {
      if (!metas.has(c.meta)) return true;
      this.unflushed -= c.unflushed;
      return false;
    });
  }

  /** deleteSeries forgets series retention deleted from the head, and deletes their keys in Redis. */
  deleteSeries(dead: ReadonlySet<number>): void {
    if (dead.size === 0) return;
    for (const ref of dead) {
      this.loose.push(['del', ...this.keys.seriesKeys(ref)]);
      this.loose.push(['hdel', this.keys.series, String(ref)]);
      this.series[ref] = undefined;
      this.directory.delete(ref);
    }
    this.dirty = this.dirty.filter((r) => !dead.has(r));
  }

  /**
   * dropOldest drops the oldest queued raw chunks while more than `max` samples wait, and returns how many
   * samples went. Open chunks and rollup chunks are never dropped.
   */
  dropOldest(max: number): number {
    let dropped = 0;
    let i = 0;
    while (this.unflushed > max && i < this.fifo.length) {
      const c = this.fifo[i];
      if (!c || c.tier !== 'raw') {
        i++;
        continue;
      }
      this.fifo.splice(i, 1);
      this.directory.get(c.ref)?.raw.remove(c.meta);
      this.unflushed -= c.unflushed;
      dropped += c.meta.samples;
    }
    return dropped;
  }

  /**
   * rewriteAll queues everything memory holds for a Redis that lost this store (restarted without
   * persistence, flushed): `:meta`, the registry, queued chunks and every series' head state. Chunks that
   * only Redis had are gone; they are forgotten so queries do not look for them. Returns how many series
   * are rewritten and how many chunks were lost.
   */
  rewriteAll(now: number): { series: number; lostChunks: number } {
    let lostChunks = 0;
    // Chunks only Redis had are forgotten: reads of their series change (Head.historyGeneration).
    this.head.noteHistoryChanged();
    this.loose.push(['hset', this.keys.meta, 'version', String(KEY_LAYOUT_VERSION), 'created', String(now)]);
    for (const ref of this.head.refs()) {
      const w = this.of(ref);
      if (w.registered) {
        w.registered = false;
        this.unregistered.push(ref);
      }
      w.needCheckpoint = true;
      w.logCount = 0;
      this.markDirty(ref, w);
      const sc = this.directory.get(ref);
      if (!sc) continue;
      for (const list of [sc.raw, sc.tiers['1m'], sc.tiers['5m'], sc.tiers['1h']]) {
        for (const m of list.items.filter((c) => c.blob === undefined)) {
          list.remove(m);
          lostChunks++;
        }
      }
    }
    return { series: this.head.numSeries, lostChunks };
  }

  // ---- pipelines -----------------------------------------------------------------------------------------

  /**
   * take turns everything pending into one batch and empties the queue (synchronously, so it sees a
   * consistent head); undefined when nothing is pending.
   */
  take(): WriteBatch | undefined {
    if (this.empty) return undefined;
    const commands: CommandArgs[] = [];
    this.registerSeries(commands);
    const chunks = this.fifo;
    for (const c of chunks) {
      if (!c.meta.blob) continue;
      const key = c.tier === 'raw' ? this.keys.raw(c.ref) : this.keys.rollup(c.ref, c.tier);
      commands.push(['hset', key, chunkField(c.meta.minT, c.meta.maxT), c.meta.blob]);
    }
    for (const ref of this.dirty) this.writeHeadState(ref, commands);
    commands.push(...this.loose);
    const batch: WriteBatch = { commands, chunks, samples: this.unflushed };
    this.unregistered = [];
    this.fifo = [];
    this.dirty = [];
    this.loose = [];
    this.unflushed = 0;
    return batch;
  }

  /** acknowledged drops the bytes of the chunks Redis now has (the directory keeps their time ranges). */
  acknowledged(batch: WriteBatch): void {
    for (const c of batch.chunks) c.meta.blob = undefined;
  }

  private registerSeries(commands: CommandArgs[]): void {
    for (const ref of this.unregistered) {
      const labels = this.head.index.labels(ref);
      const w = this.series[ref];
      if (!labels || !w || w.registered) continue;
      commands.push(['hset', this.keys.series, String(ref), JSON.stringify(labels)]);
      w.registered = true;
    }
    if (this.unregistered.length > 0) {
      commands.push(['hset', this.keys.meta, 'nextRef', String(this.head.index.nextRef)]);
    }
  }

  /** writeHeadState writes a dirty series' checkpoint (after a cut) or appends its new samples to its log. */
  private writeHeadState(ref: number, commands: CommandArgs[]): void {
    const w = this.series[ref];
    if (!w) return;
    w.queued = 'no';
    if (!this.head.has(ref)) return;
    if (w.needCheckpoint) {
      this.writer.reset();
      this.head.writeSeriesState(ref, this.writer);
      commands.push(['set', this.keys.state(ref), Buffer.from(this.writer.finish())]);
      commands.push(['del', this.keys.log(ref)]);
      w.logCount = 0;
      w.needCheckpoint = false;
    } else {
      this.scratch.clear();
      this.head.readRaw(ref, w.lastWrittenT + 1, Infinity, this.scratch);
      if (this.scratch.n > 0) {
        const bytes = encodeHeadRecords(this.scratch.ts, this.scratch.vs, 0, this.scratch.n);
        commands.push(['setrange', this.keys.log(ref), w.logCount * HEAD_RECORD_BYTES, bytes]);
        w.logCount += this.scratch.n;
      }
    }
    w.lastWrittenT = this.head.lastTime(ref);
    w.flushedOpen = w.openCount;
  }

  private of(ref: number): SeriesWrites {
    let w = this.series[ref];
    if (!w) this.series[ref] = w = new SeriesWrites();
    return w;
  }

  private markDirty(ref: number, w: SeriesWrites): void {
    if (w.queued === 'dirty') return;
    w.queued = 'dirty';
    this.dirty.push(ref);
  }
}
