/**
 * Chunk files: the embedded store's cut chunks on disk, append-only, one file per tier and time block
 * (`chunks/raw-<blockStartMs>`, `chunks/1m-<blockStartMs>`, …) so retention deletes whole files. Records use
 * the shared framing (record-file.ts); a payload is
 * `[u32 ref][u8 tier index (0 raw, 1 1m, 2 5m, 3 1h)][f64 minT][f64 maxT][u8 n][n × (u32 len, chunk bytes)]`
 * with one chunk for raw and one per ROLLUP_AGGREGATES entry for rollups.
 *
 * Writes are buffered and not fsync'ed on their own: until a snapshot records each file's length, the
 * write-ahead log still holds the samples, and on restart bytes past the recorded length are cut off and
 * re-created by log replay. `sync()` (called by the snapshot) writes and fsyncs everything first.
 */
import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ByteReader, ByteWriter } from '../bytes.js';
import type { Chunk, ChunkIterator, Encoding } from '../chunkenc/chunk.js';
import type { ChunkCodec } from '../codec.js';
import { ROLLUP_TIERS, type RollupChunk } from '../rollup.js';
import type { Tier } from '../storage.js';
import { readFrames, writeFrame } from './record-file.js';
import { fsyncDir } from './wal.js';

/** CHUNK_TIERS is the tier order of the tier-index byte. */
const CHUNK_TIERS: readonly Tier[] = ['raw', ...ROLLUP_TIERS];

/** DAY_MS is one day in ms. */
const DAY_MS = 86_400_000;

/**
 * BLOCK_MS is each tier's file time block: 1 d for raw and 1m (a day of 2 h chunks), 4 d for 5m (eight
 * 12 h chunks), 28 d for 1h (four 7 d chunks); each a multiple of the tier's epoch-aligned chunk span.
 */
export const BLOCK_MS: Readonly<Record<Tier, number>> = {
  raw: DAY_MS,
  '1m': DAY_MS,
  '5m': 4 * DAY_MS,
  '1h': 28 * DAY_MS,
};

/** FLUSH_BYTES is how much a file buffers before writing it out (bounds memory during backfill). */
const FLUSH_BYTES = 1 << 20;

/** LoadedChunk is one record read back from a chunk file. */
export type LoadedChunk =
  | {
      readonly kind: 'raw';
      readonly ref: number;
      readonly minT: number;
      readonly maxT: number;
      readonly chunk: Chunk;
    }
  | { readonly kind: 'rollup'; readonly ref: number; readonly chunk: RollupChunk };

interface OpenFile {
  fh: FileHandle | undefined;
  /** length counts every appended byte, buffered or written. */
  length: number;
  readonly pending: ByteWriter;
  dirty: boolean;
}

/** LazyChunk defers decoding stored bytes until the chunk is read. */
class LazyChunk implements Chunk {
  private decoded: Chunk | undefined;
  constructor(
    private readonly raw: Uint8Array,
    private readonly codec: ChunkCodec,
  ) {}
  get encoding(): Encoding {
    return this.get().encoding;
  }
  private get(): Chunk {
    this.decoded ??= this.codec.decode(this.raw);
    return this.decoded;
  }
  numSamples(): number {
    return this.get().numSamples();
  }
  bytes(): Uint8Array {
    return this.raw;
  }
  iterator(): ChunkIterator {
    return this.get().iterator();
  }
}

/** ChunkFiles appends chunk records to block files and reads them back; see the file comment. */
export class ChunkFiles {
  private readonly files = new Map<string, OpenFile>();
  private readonly payload = new ByteWriter(4096);
  private chain: Promise<void> = Promise.resolve();
  private failed: Error | undefined;

  constructor(
    private readonly dir: string,
    private readonly codec: ChunkCodec,
    private readonly maxChunkSpanMs: Readonly<Record<Tier, number>>,
    private readonly logger?: Logger,
  ) {}

  /** error is the last write failure, if any. */
  get error(): Error | undefined {
    return this.failed;
  }

  private fileFor(tier: Tier, minT: number): [string, OpenFile] {
    const block = Math.floor(minT / BLOCK_MS[tier]) * BLOCK_MS[tier];
    const name = `${tier}-${block}`;
    let f = this.files.get(name);
    if (!f) {
      f = { fh: undefined, length: 0, pending: new ByteWriter(64 * 1024), dirty: false };
      this.files.set(name, f);
    }
    return [name, f];
  }

  /** appendRaw queues a raw chunk record. */
  appendRaw(ref: number, minT: number, maxT: number, chunk: Chunk): void {
    this.append('raw', ref, minT, maxT, [chunk]);
  }

  /** appendRollup queues a rollup chunk record. */
  appendRollup(ref: number, rc: RollupChunk): void {
    this.append(rc.tier, ref, rc.minT, rc.maxT, rc.chunks);
  }

  private append(tier: Tier, ref: number, minT: number, maxT: number, chunks: readonly Chunk[]): void {
    const p = this.payload;
    p.reset();
    p.u32(ref);
    p.u8(CHUNK_TIERS.indexOf(tier));
    p.f64(minT);
    p.f64(maxT);
    p.u8(chunks.length);
    for (const c of chunks) p.bytes(c.bytes());
    const [name, f] = this.fileFor(tier, minT);
    const before = f.pending.length;
    writeFrame(f.pending, p.finish());
    f.length += f.pending.length - before;
    if (f.pending.length >= FLUSH_BYTES) void this.enqueue(() => this.writeOut(name, f));
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const p = this.chain.then(op);
    this.chain = p.catch((err: unknown) => {
      this.failed = err instanceof Error ? err : new Error(String(err));
      this.logger?.error({ err }, 'chunk file write failed');
    });
    return p;
  }

  private async writeOut(name: string, f: OpenFile): Promise<void> {
    if (f.pending.length === 0) return;
    const bytes = f.pending.finish().slice();
    f.pending.reset();
    f.fh ??= await open(join(this.dir, name), 'a');
    await f.fh.write(bytes);
    f.dirty = true;
  }

  /** lengths returns every file's logical length (what a snapshot taken now covers). */
  lengths(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, f] of this.files) out.set(name, f.length);
    return out;
  }

  /** sync writes out every buffer and fsyncs every file written since the last sync. */
  async sync(): Promise<void> {
    await this.enqueue(async () => {
      let created = false;
      for (const [name, f] of this.files) {
        if (!f.fh && f.pending.length > 0) created = true;
        await this.writeOut(name, f);
        if (f.dirty && f.fh) {
          await f.fh.datasync();
          f.dirty = false;
        }
      }
      if (created) await fsyncDir(this.dir);
    });
  }

  /**
   * load reads the files a snapshot covers, each cut to its recorded length (bytes past it came from samples
   * the log will replay); files the snapshot does not know are deleted. Corrupt records end a file early.
   */
  async load(lengths: ReadonlyMap<string, number>, onChunk: (c: LoadedChunk) => void): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      const want = lengths.get(name);
      if (want === undefined) {
        await rm(path, { force: true });
        continue;
      }
      let buf: Uint8Array = await readFile(path);
      if (buf.length > want) {
        await truncate(path, want);
        buf = buf.subarray(0, want);
      }
      const frames = readFrames(buf);
      if (frames.torn || buf.length < want) {
        this.logger?.warn(
          { file: name, validBytes: frames.validBytes, expected: want },
          'chunk file is damaged',
        );
        await truncate(path, frames.validBytes);
      }
      for (const p of frames.payloads) onChunk(this.decode(p));
      this.files.set(name, {
        fh: undefined,
        length: frames.validBytes,
        pending: new ByteWriter(64 * 1024),
        dirty: false,
      });
    }
  }

  private decode(payload: Uint8Array): LoadedChunk {
    const r = new ByteReader(payload);
    const ref = r.u32();
    const tier = CHUNK_TIERS[r.u8()] ?? 'raw';
    const minT = r.f64();
    const maxT = r.f64();
    const n = r.u8();
    // Views into the file buffer (it holds exactly these chunks), decoded lazily on first read so a restart
    // does not parse every chunk header of a week of data.
    const chunks: Chunk[] = [];
    for (let i = 0; i < n; i++) chunks.push(new LazyChunk(r.bytes(), this.codec));
    if (tier === 'raw') {
      const chunk = chunks[0];
      if (!chunk) throw new Error(`raw chunk record of series ${ref} holds no chunk`);
      return { kind: 'raw', ref, minT, maxT, chunk };
    }
    return { kind: 'rollup', ref, chunk: { tier, minT, maxT, chunks } };
  }

  /** dropBefore deletes the block files whose every chunk ended before its tier's cutoff. */
  async dropBefore(cutoffs: Readonly<Record<Tier, number>>): Promise<number> {
    let dropped = 0;
    await this.enqueue(async () => {
      for (const [name, f] of [...this.files]) {
        const dash = name.indexOf('-');
        const tier = name.slice(0, dash) as Tier;
        const block = Number(name.slice(dash + 1));
        // A chunk lives in the block of its minT and may run one chunk span past the block's end.
        if (block + BLOCK_MS[tier] + this.maxChunkSpanMs[tier] > cutoffs[tier]) continue;
        if (f.fh) await f.fh.close();
        this.files.delete(name);
        await rm(join(this.dir, name), { force: true });
        dropped++;
      }
    });
    return dropped;
  }

  /** close writes out buffers and closes every file. */
  async close(): Promise<void> {
    await this.sync();
    await this.enqueue(async () => {
      for (const f of this.files.values()) {
        if (f.fh) await f.fh.close();
        f.fh = undefined;
      }
    });
  }
}
