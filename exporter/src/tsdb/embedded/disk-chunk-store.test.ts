import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SeriesData, Storage, Tier } from '../storage.js';
import { DiskChunkStore } from './disk-chunk-store.js';
import { EmbeddedStorage } from './embedded-storage.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'om-disk-chunks-'));
  dirs.push(d);
  return d;
};

/** SERIES × SAMPLES at 15 s (one day) with 32-sample chunks: many raw and 1m chunks over two day files. */
const SERIES = 8;
const SAMPLES = 5760;
const STEP = 15_000;
const T0 = Date.UTC(2026, 0, 1) - 43_200_000;

async function fill(s: Storage): Promise<void> {
  const app = s.appender({ bulk: true });
  const refs = new Array<number>(SERIES).fill(0);
  for (let i = 0; i < SAMPLES; i++) {
    for (let k = 0; k < SERIES; k++) {
      refs[k] = app.append(refs[k] ?? 0, { __name__: 'm', k: String(k) }, T0 + i * STEP, (i * (k + 1)) % 97);
    }
  }
  await app.commit();
}

async function read(s: Storage, tier: Tier): Promise<SeriesData[]> {
  const end = T0 + SAMPLES * STEP;
  const q = await s.querier(T0, end);
  const hints = tier === 'raw' ? undefined : { start: T0, end, tier, aggregate: 'max' as const };
  const out = await q.select([{ type: '=', name: '__name__', value: 'm' }], hints);
  return out.sort((a, b) => (a.labels.k ?? '').localeCompare(b.labels.k ?? ''));
}

const TIERS: readonly Tier[] = ['raw', '1m', '5m', '1h'];

describe('DiskChunkStore (embedded with a data dir)', () => {
  it('keeps only metadata in memory and reads chunks back equal to the in-memory store, before and after a flush and a reopen', async () => {
    const mem = await EmbeddedStorage.open({ maxSamplesPerChunk: 32 });
    const dir = await tempDir();
    let disk = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0, maxSamplesPerChunk: 32 });
    expect(disk.chunkStore).toBeInstanceOf(DiskChunkStore);
    await fill(mem);
    await fill(disk);
    const want = await Promise.all(TIERS.map((t) => read(mem, t)));
    expect(want[0]?.[0]?.timestamps.length).toBe(SAMPLES);
    // Before a flush many records are still in the files' write buffers.
    for (const [i, t] of TIERS.entries()) expect(await read(disk, t)).toEqual(want[i]);
    await disk.flush();
    for (const [i, t] of TIERS.entries()) expect(await read(disk, t)).toEqual(want[i]);
    expect(disk.stats().bytes).toBe(mem.stats().bytes);
    await disk.close();
    disk = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0, maxSamplesPerChunk: 32 });
    for (const [i, t] of TIERS.entries()) expect(await read(disk, t)).toEqual(want[i]);
    expect(disk.stats().bytes).toBe(mem.stats().bytes);
    await disk.close();
    await mem.close();
  });

  it('fails a read of a chunk whose bytes changed on disk with TSDB_CORRUPT', async () => {
    const dir = await tempDir();
    const s = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0, maxSamplesPerChunk: 32 });
    await fill(s);
    await s.flush();
    const raw = (await readdir(join(dir, 'chunks'))).filter((n) => n.startsWith('raw-')).sort();
    const fh = await open(join(dir, 'chunks', raw[0] ?? ''), 'r+');
    await fh.write(new Uint8Array([0xff, 0x00, 0xff]), 0, 3, 40);
    await fh.close();
    await expect(read(s, 'raw')).rejects.toMatchObject({ code: 'TSDB_CORRUPT' });
    await s.close();
  });
});
