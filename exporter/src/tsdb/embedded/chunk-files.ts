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
import { crc32 } from 'node:zlib';
import type { Tier } from '../storage.js';
import { TsdbError } from '../errors.js';
import { FRAME_HEADER_BYTES, readFrames, writeFrame } from './record-file.js';
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

/** PENDING_INITIAL_BYTES is a file's first write buffer (a few hundred records; grows ×2 up to a flush). */
const PENDING_INITIAL_BYTES = 64 * 1024;

/** FLUSH_BYTES is how much a file buffers before writing it out (bounds memory during backfill). */
const FLUSH_BYTES = 1 << 20;

/** ChunkLocation says where a chunk record's payload lives: file id, payload offset and length. */
export interface ChunkLocation {
  readonly file: number;
  readonly offset: number;
  readonly length: number;
}

/** LoadedChunk is one record's header read back from a chunk file, with where its payload lives. */
export interface LoadedChunk extends ChunkLocation {
  readonly ref: number;
  /** tier is the record's tier index (0 raw, then ROLLUP_TIERS). */
  readonly tier: number;
  readonly minT: number;
  readonly maxT: number;
}

/** DecodedRecord is a chunk record's payload parsed; its chunks decode lazily. */
export interface DecodedRecord {
  readonly ref: number;
  readonly tier: Tier;
  readonly minT: number;
  readonly maxT: number;
  readonly chunks: readonly Chunk[];
}

/** READ_GAP_BYTES: payloads of one file closer than this are fetched with one read (a page-ish gap). */
const READ_GAP_BYTES = 16 * 1024;

/** READ_SPAN_BYTES caps one coalesced read. */
const READ_SPAN_BYTES = 1 << 20;

interface OpenFile {
  readonly name: string;
  readonly id: number;
  fh: FileHandle | undefined;
  /** length counts every appended byte, buffered or written. */
  length: number;
  /** pending holds appended bytes not yet written; replaced by a small one after each write-out. */
  pending: ByteWriter;
  dirty: boolean;
}

/** checkFrame returns the payload of the frame at `at` in `buf` after checking its length and CRC. */
function checkFrame(buf: Uint8Array, at: number, length: number, file: string): Uint8Array {
  const view = new DataView(buf.buffer, buf.byteOffset + at, FRAME_HEADER_BYTES);
  const payload = buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
  if (view.getUint32(0, true) !== length || crc32(payload) !== view.getUint32(4, true)) {
    throw new TsdbError('TSDB_CORRUPT', `chunk record at ${at} of ${file} fails its check`);
  }
  return payload;
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
  /** byId maps a file id (ChunkLocation.file) to its file; ids are never reused within a process. */
  private readonly byId: (OpenFile | undefined)[] = [];
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
    f ??= this.register(name, 0);
    return [name, f];
  }

  private register(name: string, length: number): OpenFile {
    const f: OpenFile = {
      name,
      id: this.byId.length,
      fh: undefined,
      length,
      pending: new ByteWriter(PENDING_INITIAL_BYTES),
      dirty: false,
    };
    this.files.set(name, f);
    this.byId.push(f);
    return f;
  }

  /** appendRaw queues a raw chunk record and returns where its payload will live. */
  appendRaw(ref: number, minT: number, maxT: number, chunk: Chunk): ChunkLocation {
    return this.append('raw', ref, minT, maxT, [chunk]);
  }

  /** appendRollup queues a rollup chunk record and returns where its payload will live. */
  appendRollup(ref: number, rc: RollupChunk): ChunkLocation {
    return this.append(rc.tier, ref, rc.minT, rc.maxT, rc.chunks);
  }

  private append(
    tier: Tier,
    ref: number,
    minT: number,
    maxT: number,
    chunks: readonly Chunk[],
  ): ChunkLocation {
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
    const payload = p.finish();
    const loc = { file: f.id, offset: f.length + FRAME_HEADER_BYTES, length: payload.length };
    writeFrame(f.pending, payload);
    f.length += f.pending.length - before;
    if (f.pending.length >= FLUSH_BYTES) void this.enqueue(() => this.writeOut(name, f));
    return loc;
  }

  /**
   * read returns the payloads at `locs` (in that order), CRC-checked. Reads queue behind pending writes so
   * a record is either still in its file's buffer or wholly on disk; nearby payloads of one file share a read.
   */
  read(locs: readonly ChunkLocation[]): Promise<Uint8Array[]> {
    const run = this.chain.then(() => this.readNow(locs));
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async readNow(locs: readonly ChunkLocation[]): Promise<Uint8Array[]> {
    const out: Uint8Array[] = new Array<Uint8Array>(locs.length);
    const order = locs.map((_, i) => i);
    order.sort((a, b) => {
      const x = locs[a] as ChunkLocation;
      const y = locs[b] as ChunkLocation;
      return x.file - y.file || x.offset - y.offset;
    });
    let i = 0;
    while (i < order.length) {
      const first = locs[order[i] ?? 0] as ChunkLocation;
      const f = this.byId[first.file];
      if (!f) throw new TsdbError('TSDB_CORRUPT', `chunk file ${first.file} is gone`);
      const start = first.offset - FRAME_HEADER_BYTES;
      let end = first.offset + first.length;
      let j = i + 1;
      for (; j < order.length; j++) {
        const l = locs[order[j] ?? 0] as ChunkLocation;
        if (l.file !== first.file || l.offset - FRAME_HEADER_BYTES - end > READ_GAP_BYTES) break;
        if (l.offset + l.length - start > READ_SPAN_BYTES) break;
        end = Math.max(end, l.offset + l.length);
      }
      const buf = await this.readRange(f, start, end);
      for (let k = i; k < j; k++) {
        const idx = order[k] ?? 0;
        const l = locs[idx] as ChunkLocation;
        out[idx] = checkFrame(buf, l.offset - FRAME_HEADER_BYTES - start, l.length, f.name);
      }
      i = j;
    }
    return out;
  }

  /** readRange returns the file's bytes [start, end): from disk, or from the write buffer past the disk end. */
  private async readRange(f: OpenFile, start: number, end: number): Promise<Uint8Array> {
    const onDisk = f.length - f.pending.length;
    // A copy: the buffer is reused once written out.
    if (start >= onDisk) return f.pending.finish().slice(start - onDisk, end - onDisk);
    if (end > onDisk) throw new TsdbError('TSDB_CORRUPT', `read across the write buffer of ${f.name}`);
    f.fh ??= await open(join(this.dir, f.name), 'a+');
    const buf = new Uint8Array(end - start);
    const { bytesRead } = await f.fh.read(buf, 0, buf.length, start);
    if (bytesRead !== buf.length) {
      throw new TsdbError(
        'TSDB_CORRUPT',
        `short read of ${f.name} at ${start}: ${bytesRead} of ${buf.length}`,
      );
    }
    return buf;
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
    const bytes = f.pending.finish();
    // A fresh small buffer: a drained one keeps its grown capacity (≥ FLUSH_BYTES) for every file ever written.
    f.pending = new ByteWriter(PENDING_INITIAL_BYTES);
    f.fh ??= await open(join(this.dir, name), 'a+');
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
   * load scans the files a snapshot covers, each cut to its recorded length (bytes past it came from samples
   * the log will replay), and reports each record's header and location; files the snapshot does not know
   * are deleted. Corrupt records end a file early. Chunk bytes are not kept: reads fetch them again.
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
      const f = this.files.get(name) ?? this.register(name, frames.validBytes);
      f.length = frames.validBytes;
      for (const p of frames.payloads) {
        const r = new ByteReader(p);
        const ref = r.u32();
        const tier = r.u8();
        const minT = r.f64();
        const maxT = r.f64();
        onChunk({
          ref,
          tier,
          minT,
          maxT,
          file: f.id,
          offset: p.byteOffset - buf.byteOffset,
          length: p.length,
        });
      }
    }
  }

  /** decode parses a payload returned by `read`; its chunks are views decoded on first use. */
  decode(payload: Uint8Array): DecodedRecord {
    const r = new ByteReader(payload);
    const ref = r.u32();
    const tier = CHUNK_TIERS[r.u8()] ?? 'raw';
    const minT = r.f64();
    const maxT = r.f64();
    const n = r.u8();
    const chunks: Chunk[] = [];
    for (let i = 0; i < n; i++) chunks.push(new LazyChunk(r.bytes(), this.codec));
    return { ref, tier, minT, maxT, chunks };
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
        this.byId[f.id] = undefined;
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
