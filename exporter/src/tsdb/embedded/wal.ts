/**
 * The embedded store's write-ahead log: numbered segment files (`wal/00000001`, …) of framed records
 * (record-file.ts). Commits append one record each; a single writer chain writes them in order and groups
 * every record that arrived while the previous write was in flight into one write (group commit).
 *
 * Durability policy (`sync`):
 * - `'always'` (default): each group is fdatasync'ed before its commits resolve. An acknowledged sample
 *   survives a process kill AND a power loss; a commit costs one fsync of latency, shared by the group.
 * - `{ intervalMs }`: commits resolve once the group is written to the OS (it survives `kill -9`, the kernel
 *   holds the bytes), and the log is fdatasync'ed every `intervalMs`; a power loss or kernel crash can lose
 *   up to that much. Cheaper on slow disks.
 *
 * `seal()` closes the current segment for a snapshot: records appended before it are in segments ≤ the
 * number it resolves to, later ones after, so a snapshot covering that segment can drop it.
 */
import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ByteWriter } from '../bytes.js';
import { TsdbError } from '../errors.js';
import type { TsdbMetrics } from '../metrics.js';
import { readFrames, writeFrame } from './record-file.js';

/** WalSyncPolicy is the log's durability policy; see the file comment for the trade. */
export type WalSyncPolicy = 'always' | { readonly intervalMs: number };

/** WalOptions configures a Wal. */
export interface WalOptions {
  readonly sync: WalSyncPolicy;
  /** segmentBytes starts a new segment once the current one reaches this size. */
  readonly segmentBytes: number;
  readonly metrics: TsdbMetrics;
  readonly logger?: Logger;
}

/** SEGMENT_DIGITS is the zero-padded width of segment file names (sorts lexically = numerically). */
const SEGMENT_DIGITS = 8;

/** segmentName returns the file name of segment `n`. */
export function segmentName(n: number): string {
  return String(n).padStart(SEGMENT_DIGITS, '0');
}

/** listSegments returns the segment numbers present in `dir`, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** fsyncDir makes a directory's entries (created, renamed, deleted files) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * replayWal reads every record of the segments after `afterSegment`, in order, calling `onRecord` for each.
 * A torn or corrupt tail is truncated away (counted and logged). Returns the highest segment number seen.
 */
export async function replayWal(
  dir: string,
  afterSegment: number,
  onRecord: (payload: Uint8Array) => void,
  metrics: TsdbMetrics,
  logger?: Logger,
): Promise<number> {
  const segs = await listSegments(dir);
  for (const seg of segs) {
    if (seg <= afterSegment) continue;
    const path = join(dir, segmentName(seg));
    const buf = await readFile(path);
    const frames = readFrames(buf);
    for (const p of frames.payloads) onRecord(p);
    if (frames.torn) {
      metrics.walCorruptRecords.inc();
      logger?.warn(
        { segment: seg, validBytes: frames.validBytes, droppedBytes: buf.length - frames.validBytes },
        'write-ahead log has a torn or corrupt record; dropping it and everything after it in the segment',
      );
      await truncate(path, frames.validBytes);
    }
  }
  return segs.length > 0 ? (segs[segs.length - 1] ?? 0) : 0;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** Group is the records waiting for one write. */
interface Group {
  readonly frames: ByteWriter;
  readonly waiters: Waiter[];
  closed: boolean;
}

/** Wal appends records to the current segment; see the file comment. */
export class Wal {
  private fh: FileHandle | undefined;
  private segment: number;
  private segmentSize = 0;
  private group: Group | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private failed: Error | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly opts: WalOptions,
    firstSegment: number,
  ) {
    this.segment = firstSegment;
  }

  /** open starts a fresh segment after `lastSegment` in `dir` (existing segments are never appended to). */
  static async open(dir: string, lastSegment: number, opts: WalOptions): Promise<Wal> {
    await mkdir(dir, { recursive: true });
    const wal = new Wal(dir, opts, lastSegment + 1);
    wal.fh = await open(join(dir, segmentName(wal.segment)), 'a');
    await fsyncDir(dir);
    if (opts.sync !== 'always') {
      wal.timer = setInterval(
        () => void wal.enqueue(() => wal.syncIfDirty()).catch(() => undefined),
        opts.sync.intervalMs,
      );
      wal.timer.unref();
    }
    return wal;
  }

  /** currentSegment is the number of the segment being written. */
  get currentSegment(): number {
    return this.segment;
  }

  /** error is the last write failure, if the log is unhealthy. */
  get error(): Error | undefined {
    return this.failed;
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const p = this.chain.then(op);
    this.chain = p.catch((err: unknown) => {
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.opts.logger?.error({ err }, 'write-ahead log write failed');
    });
    return p;
  }

  /** append logs one record; it resolves when the record is durable per the sync policy. */
  append(payload: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TsdbError('TSDB_CLOSED', 'the store is closed'));
    let g = this.group;
    if (!g || g.closed) {
      const ng: Group = {
        frames: new ByteWriter(Math.max(1024, payload.length + 64)),
        waiters: [],
        closed: false,
      };
      this.group = g = ng;
      void this.enqueue(() => this.flush(ng));
    }
    writeFrame(g.frames, payload);
    const group = g;
    return new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
  }

  private async flush(g: Group): Promise<void> {
    g.closed = true;
    const bytes = g.frames.finish();
    const end = this.opts.metrics.walFsyncSeconds.startTimer();
    try {
      const fh = this.fh;
      if (!fh) throw new TsdbError('TSDB_CLOSED', 'the write-ahead log is closed');
      await fh.write(bytes);
      this.segmentSize += bytes.length;
      if (this.opts.sync === 'always') await fh.datasync();
      else this.dirty = true;
      end();
      this.failed = undefined;
      for (const w of g.waiters) w.resolve();
    } catch (err) {
      for (const w of g.waiters)
        w.reject(new TsdbError('TSDB_IO', 'write-ahead log write failed', { cause: err }));
      throw err;
    }
    if (this.segmentSize >= this.opts.segmentBytes) await this.rotate();
  }

  private async syncIfDirty(): Promise<void> {
    if (!this.dirty || !this.fh) return;
    this.dirty = false;
    await this.fh.datasync();
  }

  private async rotate(): Promise<void> {
    const old = this.fh;
    this.fh = undefined;
    if (old) {
      await old.datasync();
      await old.close();
    }
    this.segment++;
    this.segmentSize = 0;
    this.dirty = false;
    this.fh = await open(join(this.dir, segmentName(this.segment)), 'a');
    await fsyncDir(this.dir);
  }

  /**
   * seal ends the current segment now: records appended before this call land in segments ≤ the resolved
   * number, records appended after it in later ones.
   */
  seal(): Promise<number> {
    if (this.group) this.group.closed = true;
    let sealed = 0;
    return this.enqueue(async () => {
      sealed = this.segment;
      await this.rotate();
    }).then(() => sealed);
  }

  /** removeUpTo deletes segments ≤ `segment` (a durable snapshot covers them). */
  async removeUpTo(segment: number): Promise<void> {
    for (const seg of await listSegments(this.dir)) {
      if (seg <= segment && seg !== this.segment) await rm(join(this.dir, segmentName(seg)), { force: true });
    }
  }

  /** close waits for pending writes, syncs and closes the segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.group) this.group.closed = true;
    await this.enqueue(async () => {
      const fh = this.fh;
      this.fh = undefined;
      if (fh) {
        await fh.datasync();
        await fh.close();
      }
    });
  }
}
