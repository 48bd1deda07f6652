import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
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
});
