import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, truncate, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedStorage } from './embedded-storage.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'om-wal-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;
const CHILD = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url));

async function readAll(store: EmbeddedStorage, name: string) {
  const q = await store.querier(0, Number.MAX_SAFE_INTEGER);
  return q.select([{ type: '=', name: '__name__', value: name }]);
}

describe('embedded store durability', () => {
  it('keeps every acknowledged sample after kill -9 of a real process', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lastAck = -1;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Wait (bounded) until the child acknowledged enough batches to have snapshotted and cut chunks.
    await new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`child made no progress: ${stderr}`)), 45_000);
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('ack ')) lastAck = Number(line.slice(4));
        if (lastAck >= 400) {
          clearTimeout(timeout);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timeout);
        if (lastAck < 400) reject(new Error(`child exited early: ${stderr}`));
      });
    });
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
    const store = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
    try {
      const got = await readAll(store, 'crash');
      expect(got).toHaveLength(10);
      for (const series of got) {
        // Every acknowledged batch is there, in order, without gaps; maybe a few unacknowledged ones more.
        expect(series.values.length).toBeGreaterThanOrEqual(lastAck + 1);
        for (let b = 0; b < series.values.length; b++) {
          expect(series.timestamps[b]).toBe(T0 + b * 1000);
          expect(series.values[b]).toBe(b);
        }
      }
      expect(await store.lastTimestamp()).toBeGreaterThanOrEqual(T0 + lastAck * 1000);
    } finally {
      await store.close();
    }
  });

  it.each([
    { name: 'a torn final record (truncated file)', damage: 'truncate' as const },
    { name: 'a corrupt final record (flipped byte)', damage: 'flip' as const },
  ])('drops $name by CRC and keeps everything before it', async ({ damage }) => {
    const dir = await tempDir();
    const crashed = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
    for (let b = 0; b < 20; b++) {
      const app = crashed.appender();
      app.append(0, { __name__: 'torn' }, T0 + b * 1000, b);
      await app.commit();
    }
    // Simulate a crash mid-write of the last record: no snapshot, damage the tail of the newest segment.
    await crashed.abandon();
    const walDir = join(dir, 'wal');
    const segs = (await readdir(walDir)).sort();
    const last = join(walDir, segs[segs.length - 1]!);
    const size = (await stat(last)).size;
    if (damage === 'truncate') await truncate(last, size - 5);
    else {
      const bytes = await readFile(last);
      bytes[size - 3] = (bytes[size - 3] ?? 0) ^ 0xff;
      await writeFile(last, bytes);
    }
    const registry = new Registry();
    const store = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0, registry });
    try {
      const got = await readAll(store, 'torn');
      expect(Array.from(got[0]?.values ?? [])).toEqual(Array.from({ length: 19 }, (_, i) => i));
      expect(await registry.metrics()).toContain('openmanager_exporter_tsdb_wal_corrupt_records_total 1');
      // The store keeps working: the next commit lands and survives another reopen.
      const app = store.appender();
      app.append(0, { __name__: 'torn' }, T0 + 19_000, 19);
      expect((await app.commit()).appended).toBe(1);
    } finally {
      await store.close();
    }
    const reopened = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
    expect((await readAll(reopened, 'torn'))[0]?.values.length).toBe(20);
    await reopened.close();
  });
});
