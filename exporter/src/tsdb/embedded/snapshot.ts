/**
 * Snapshots of the embedded store: `snapshot-<walSegment>` holds everything the write-ahead log segments
 * up to `walSegment` contributed — the series index, each chunk file's length, and every series' head state
 * (open samples, rollup accumulators). Restart = load the newest valid snapshot, cut chunk files to the
 * recorded lengths, replay the later log segments. Layout:
 * `"OMSNAP01"[u32 crc32(body)][body]`, body = `[u32 walSegment][f64 maxTime][u32 nextRef]`
 * `[u32 nSeries][(u32 ref, u32 nLabels, (string name, string value)×nLabels)×nSeries]`
 * `[u32 nFiles][(string name, f64 length)×nFiles][u32 nStates][Head.writeSeriesState×nStates]`.
 * Written to a temp file, fsync'ed, renamed into place, directory fsync'ed: a crash leaves the old one.
 *
 * Taking a snapshot is two steps, both paced (util/pacer.ts: a turn for the event loop every slice, so at
 * 20 servers neither holds the loop for more than a few ms): `captureSnapshot` copies the head's state
 * series by series (short tails are copied, sealed prefixes shared) under the head's commit lock, which
 * keeps every commit and flush out until the copy is whole, so the copy is the head at one instant; then
 * `encodeSnapshot` serialises and checksums that copy while appends go on. Series states are
 * Head.writeSeriesState records, whose runs keep their sealed bytes (nothing is decoded;
 * docs/format/redis-keys.md, "Checkpoint").
 */
import { crc32 } from 'node:zlib';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ByteReader, ByteWriter } from '../bytes.js';
import { TsdbError } from '../errors.js';
import type { Head } from '../head.js';
import type { SeriesState } from '../series-state.js';
import type { Labels } from '../../util/labels.js';
import { Pacer } from '../../util/pacer.js';
import { fsyncDir } from './wal.js';

/** SNAPSHOT_MAGIC opens every snapshot file (format version 1). */
const SNAPSHOT_MAGIC = new TextEncoder().encode('OMSNAP01');

/** SNAPSHOT_PREFIX names snapshot files: `snapshot-<wal segment, 8 digits>`. */
const SNAPSHOT_PREFIX = 'snapshot-';

/** SEGMENT_OFFSET is where the body's wal segment field sits (after the magic and the crc). */
const SEGMENT_OFFSET = SNAPSHOT_MAGIC.length + 4;

/** SnapshotCapture is the head's state and the chunk files' lengths taken at one instant. */
export interface SnapshotCapture {
  readonly maxTime: number;
  readonly nextRef: number;
  readonly series: readonly (readonly [number, Labels])[];
  readonly fileLengths: ReadonlyMap<string, number>;
  readonly states: readonly SeriesState[];
}

/**
 * captureSnapshot copies the head's state and takes the chunk-file lengths, giving the event loop a turn
 * between series whenever `pacer`'s slice is used up. The copy is one instant's only if nothing changes the
 * head meanwhile: call it holding the head's commit lock (commits and Head.flushPaced take it), with no
 * cut chunk pending, until it resolves.
 */
export async function captureSnapshot(
  head: Head,
  fileLengths: ReadonlyMap<string, number>,
  pacer = new Pacer(),
): Promise<SnapshotCapture> {
  const series = [...head.index.entries()];
  const maxTime = head.maxTime;
  const nextRef = head.index.nextRef;
  const lengths = new Map(fileLengths);
  const states: SeriesState[] = [];
  for (const ref of [...head.refs()]) {
    if (pacer.due()) await pacer.yield();
    states.push(head.captureSeriesState(ref));
  }
  return { maxTime, nextRef, series, fileLengths: lengths, states };
}

/** CRC_PIECE_BYTES is how much of a snapshot is checksummed between two looks at the pacer (~1 ms). */
const CRC_PIECE_BYTES = 1 << 20;

/**
 * encodeSnapshot serialises a capture as the snapshot of log segment `walSegment` (the segment sealed when
 * it was captured) and checksums it, giving the event loop a turn whenever `pacer`'s slice is used up.
 */
export async function encodeSnapshot(
  c: SnapshotCapture,
  walSegment: number,
  pacer = new Pacer(),
): Promise<Uint8Array> {
  // Sized once (labels at UTF-8's worst case): growing by doubling would copy tens of MB a few times.
  let size = SEGMENT_OFFSET + 4 + 8 + 4 + 4 + 4 + 4;
  for (const [, labels] of c.series) {
    await pacer.pace();
    size += 8;
    for (const [name, value] of Object.entries(labels)) size += 8 + 3 * (name.length + value.length);
  }
  for (const [name] of c.fileLengths) size += 4 + 3 * name.length + 8;
  for (const st of c.states) size += st.byteLength;
  const w = new ByteWriter(size);
  w.bytesRaw(SNAPSHOT_MAGIC);
  w.u32(0); // crc, set below once the body is written
  const bodyStart = w.length;
  w.u32(walSegment);
  w.f64(c.maxTime);
  w.u32(c.nextRef);
  w.u32(c.series.length);
  for (const [ref, labels] of c.series) {
    await pacer.pace();
    w.u32(ref);
    const names = Object.keys(labels);
    w.u32(names.length);
    for (const n of names) {
      w.string(n);
      w.string(labels[n] ?? '');
    }
  }
  w.u32(c.fileLengths.size);
  for (const [name, len] of c.fileLengths) {
    w.string(name);
    w.f64(len);
  }
  w.u32(c.states.length);
  for (const st of c.states) {
    await pacer.pace();
    st.write(w);
  }
  if (bodyStart !== SEGMENT_OFFSET) throw new Error('snapshot layout drifted');
  const bytes = w.finish();
  // crc32 continues from a previous value, so the body is checksummed a piece at a time.
  let crc = 0;
  for (let at = SEGMENT_OFFSET; at < bytes.length; at += CRC_PIECE_BYTES) {
    await pacer.pace();
    crc = crc32(bytes.subarray(at, Math.min(bytes.length, at + CRC_PIECE_BYTES)), crc);
  }
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(SNAPSHOT_MAGIC.length, crc, true);
  return bytes;
}

/** LoadedSnapshot is a parsed snapshot: its file lengths first, the head state applied on demand. */
export interface LoadedSnapshot {
  readonly walSegment: number;
  readonly fileLengths: Map<string, number>;
  /** restoreHead applies the snapshot's series and head state to an empty head. */
  restoreHead(head: Head): void;
}

/** decodeSnapshot verifies and parses a snapshot file's bytes; throws TSDB_CORRUPT when it is damaged. */
export function decodeSnapshot(buf: Uint8Array): LoadedSnapshot {
  const headerLen = SNAPSHOT_MAGIC.length + 4;
  if (buf.length < headerLen || !SNAPSHOT_MAGIC.every((b, i) => buf[i] === b)) {
    throw new TsdbError('TSDB_CORRUPT', 'not a snapshot file (bad magic)');
  }
  const crc = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(SNAPSHOT_MAGIC.length, true);
  const body = buf.subarray(headerLen);
  if (crc32(body) !== crc) throw new TsdbError('TSDB_CORRUPT', 'snapshot checksum mismatch');
  const r = new ByteReader(body);
  const walSegment = r.u32();
  const maxTime = r.f64();
  const nextRef = r.u32();
  const series: [number, Record<string, string>][] = [];
  const nSeries = r.u32();
  for (let i = 0; i < nSeries; i++) {
    const ref = r.u32();
    const labels: Record<string, string> = {};
    const n = r.u32();
    for (let j = 0; j < n; j++) {
      const name = r.string();
      labels[name] = r.string();
    }
    series.push([ref, labels]);
  }
  const fileLengths = new Map<string, number>();
  const nFiles = r.u32();
  for (let i = 0; i < nFiles; i++) {
    const name = r.string();
    fileLengths.set(name, r.f64());
  }
  return {
    walSegment,
    fileLengths,
    restoreHead(head: Head): void {
      for (const [ref, labels] of series) head.restoreSeries(ref, labels);
      head.index.reserveRefs(nextRef);
      const nStates = r.u32();
      for (let i = 0; i < nStates; i++) head.readSeriesState(r);
      head.noteMaxTime(maxTime);
    },
  };
}

/** listSnapshots returns the snapshot files of `dir`, newest (highest segment) first. */
async function listSnapshots(dir: string): Promise<{ name: string; segment: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith(SNAPSHOT_PREFIX) && /^\d+$/.test(n.slice(SNAPSHOT_PREFIX.length)))
    .map((name) => ({ name, segment: Number(name.slice(SNAPSHOT_PREFIX.length)) }))
    .sort((a, b) => b.segment - a.segment);
}

/** readLatestSnapshot returns the newest snapshot that verifies, skipping (and logging) damaged ones. */
export async function readLatestSnapshot(dir: string, logger?: Logger): Promise<LoadedSnapshot | undefined> {
  for (const { name } of await listSnapshots(dir)) {
    try {
      return decodeSnapshot(await readFile(join(dir, name)));
    } catch (err) {
      logger?.error({ err, file: name }, 'snapshot unreadable; trying an older one');
    }
  }
  return undefined;
}

/** writeSnapshot stores `bytes` as the snapshot of `walSegment` atomically and removes older snapshots. */
export async function writeSnapshot(dir: string, walSegment: number, bytes: Uint8Array): Promise<void> {
  const tmp = join(dir, 'snapshot.tmp');
  const fh = await open(tmp, 'w');
  try {
    await fh.write(bytes);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  const name = SNAPSHOT_PREFIX + String(walSegment).padStart(8, '0');
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
  for (const s of await listSnapshots(dir)) if (s.name !== name) await rm(join(dir, s.name), { force: true });
}
