import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStorageContract } from '../../../test/storage-contract.js';
import { EmbeddedStorage } from './embedded-storage.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('embedded storage', () => {
  runStorageContract({ name: 'embedded (in-memory)', create: () => EmbeddedStorage.open() });

  const persisted = new Map<EmbeddedStorage, string>();
  runStorageContract({
    name: 'embedded (data dir)',
    create: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'om-embedded-'));
      dirs.push(dir);
      const s = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
      persisted.set(s, dir);
      return s;
    },
    reopen: async (s) => {
      const dir = persisted.get(s as EmbeddedStorage);
      if (!dir) throw new Error('unknown store');
      await s.close();
      const r = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
      persisted.set(r, dir);
      return r;
    },
  });

  it('keeps raw samples and no rollup tier with rollups off', async () => {
    const read = async (rollups: boolean): Promise<[number, number]> => {
      const s = await EmbeddedStorage.open({ rollups });
      const app = s.appender();
      for (let k = 0; k < 600; k++) app.append(0, { __name__: 'm' }, k * 15_000, k);
      await app.commit();
      await s.applyRetention(600 * 15_000);
      const q = await s.querier(0, 600 * 15_000);
      const m = [{ type: '=' as const, name: '__name__', value: 'm' }];
      const raw = await q.select(m, { start: 0, end: 600 * 15_000 });
      const tier = await q.select(m, { start: 0, end: 600 * 15_000, tier: '1m', aggregate: 'max' });
      await s.close();
      return [raw[0]?.values.length ?? 0, tier[0]?.values.length ?? 0];
    };
    expect(await read(true)).toEqual([600, 150]);
    expect(await read(false)).toEqual([600, 0]);
  });
});
