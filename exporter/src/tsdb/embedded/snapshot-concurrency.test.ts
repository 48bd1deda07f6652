import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EmbeddedStorage } from './embedded-storage.js';
import type * as SnapshotModule from './snapshot.js';

/** hooks lets the test act at the instant a snapshot starts its capture (under the commit lock). */
const hooks = vi.hoisted(() => ({ onCapture: undefined as (() => void) | undefined }));
vi.mock('./snapshot.js', async (importOriginal) => {
  const m = await importOriginal<typeof SnapshotModule>();
  return {
    ...m,
    captureSnapshot: (...args: Parameters<typeof m.captureSnapshot>) => {
      hooks.onCapture?.();
      return m.captureSnapshot(...args);
    },
  };
});

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;
const H = 3_600_000;
const SERIES = 40;

describe('embedded store snapshot taken in slices', () => {
  it('loses no sample to commits and a retention flush that come while it captures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'om-snap-'));
    dirs.push(dir);
    // A zero slice turns the loop between every two series of the capture and of the flush.
    const open = (): Promise<EmbeddedStorage> =>
      EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0, sliceMs: 0 });
    const store = await open();
    const expected = new Map<string, number[]>();
    const commit = async (from: number, to: number): Promise<void> => {
      const app = store.appender();
      for (let t = from; t < to; t += 15_000)
        for (let i = 0; i < SERIES; i++) {
          app.append(0, { __name__: 'snap', i: String(i) }, t, i * 1000 + t / 15_000);
          let ts = expected.get(String(i));
          if (!ts) expected.set(String(i), (ts = []));
          ts.push(t);
        }
      await app.commit();
    };
    await commit(T0, T0 + 1.5 * H);
    // The retention flush at T0 + 3 h cuts every open 2 h raw chunk, which the snapshot's own flush (up to
    // the newest sample) leaves open. Were it let in mid-capture, the series captured after it would miss
    // samples that sit in chunk-file bytes past the lengths the snapshot recorded, and the log that held
    // them is deleted with the snapshot.
    const during: Promise<void>[] = [];
    hooks.onCapture = () => {
      hooks.onCapture = undefined;
      during.push(store.applyRetention(T0 + 3 * H), commit(T0 + 1.5 * H, T0 + 1.6 * H));
    };
    await store.snapshot();
    expect(during).toHaveLength(2);
    await Promise.all(during);
    await store.abandon();

    const reopened = await open();
    try {
      const q = await reopened.querier(0, Number.MAX_SAFE_INTEGER);
      const got = await q.select([{ type: '=', name: '__name__', value: 'snap' }]);
      expect(got).toHaveLength(SERIES);
      for (const series of got) {
        const i = Number(series.labels.i);
        const ts = Array.from(series.timestamps);
        expect(ts).toEqual(expected.get(String(i)));
        expect(Array.from(series.values)).toEqual(ts.map((t) => i * 1000 + t / 15_000));
      }
    } finally {
      await reopened.close();
    }
  });
});
