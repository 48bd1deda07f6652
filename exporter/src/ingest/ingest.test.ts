import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Fleet, generateFleet } from '../simulator/index.js';
import { EmbeddedStorage } from '../tsdb/embedded/embedded-storage.js';
import { Ingestor, backfill, seriesPerFrame, type BackfillProgress } from './ingest.js';
import { bitsOf } from '../../test/storage-contract.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const START = Date.UTC(2026, 0, 14, 12);
const STEP = 15_000;

function newFleet(): Fleet {
  return new Fleet({
    servers: generateFleet(2, 7),
    seed: 7,
    scenarioRatePerHour: 0,
    epoch: START - 86_400_000,
  });
}

describe('Ingestor', () => {
  it('appends every series of a frame by ref and matches the frame values', async () => {
    const fleet = newFleet();
    const store = await EmbeddedStorage.open();
    const ing = new Ingestor(store, fleet.layout);
    for (let k = 0; k < 3; k++) {
      const r = await ing.ingest(fleet.frameAt(START + k * STEP));
      expect(r).toEqual({ appended: seriesPerFrame(fleet.layout), outOfOrder: 0, duplicate: 0 });
    }
    const frame = fleet.frameAt(START + 2 * STEP);
    const q = await store.querier(START, START + 2 * STEP);
    const desc = fleet.layout.series[5]!;
    const got = await q.select(
      Object.entries(desc.labels).map(([name, value]) => ({ type: '=' as const, name, value })),
    );
    expect(got).toHaveLength(1);
    expect(got[0]?.values[2]).toBe(frame.values[5]);
    expect(store.health().series).toBe(seriesPerFrame(fleet.layout));
    await store.close();
  });

  it('writes only the series its filter keeps, meta series included', async () => {
    const fleet = newFleet();
    const store = await EmbeddedStorage.open();
    const kept = new Set(['openmanager_cpu_usage_percent', 'openmanager_server_up']);
    const ing = new Ingestor(store, fleet.layout, (l) => kept.has(l.__name__ ?? ''));
    const r = await ing.ingest(fleet.frameAt(START));
    const cpu = fleet.layout.series.filter(
      (d) => d.labels.__name__ === 'openmanager_cpu_usage_percent',
    ).length;
    const servers = fleet.layout.servers.length;
    expect(cpu).toBeGreaterThan(0);
    expect(r.appended).toBe(cpu + servers);
    const q = await store.querier(START, START);
    expect(await q.labelValues('__name__')).toEqual([...kept].sort());
    await store.close();
  });

  it('writes one stale marker per model series when a server goes down; server_up and the scenario ground truth go on', async () => {
    const fleet = newFleet();
    const store = await EmbeddedStorage.open();
    const ing = new Ingestor(store, fleet.layout);
    const server = fleet.layout.servers[1]!.id;
    const [first, end] = fleet.layout.serverSeries[1]!;
    await ing.ingest(fleet.frameAt(START));
    fleet.inject({ kind: 'server_down', server, durationSeconds: 60 }, START + STEP / 2);
    let downFrames = 0;
    for (let k = 1; k <= 8; k++) {
      const frame = fleet.frameAt(START + k * STEP);
      if (frame.summaries[1]?.up === false) downFrames++;
      await ing.ingest(frame);
    }
    expect(downFrames).toBeGreaterThanOrEqual(2);
    const q = await store.querier(START, START + 8 * STEP);
    const all = await q.select([{ type: '=', name: 'server', value: server }]);
    const meta = (name: string) => all.find((s) => s.labels.__name__ === name);
    const got = all.filter((s) => !s.labels.__name__?.startsWith('openmanager_server_'));
    expect(got).toHaveLength(end - first);
    // The up series stays, 0 while down; info stays 1 throughout.
    expect(Array.from(meta('openmanager_server_up')?.values ?? []).filter((v) => v === 0)).toHaveLength(
      downFrames,
    );
    expect(Array.from(meta('openmanager_server_info')?.values ?? [])).toEqual(new Array(9).fill(1));
    expect(meta('openmanager_server_info')?.labels.role).toBe(fleet.layout.servers[1]!.role);
    const truth = got.filter((s) => s.labels.__name__ === 'openmanager_scenario_active');
    expect(truth).toHaveLength(8);
    for (const s of got) {
      const stale = Array.from(s.values, bitsOf).filter((b) => b === 0x7ff0000000000002n);
      if (truth.includes(s)) {
        // Ground truth comes from the simulator, not the server: a sample every frame, the outage included.
        expect(stale).toHaveLength(0);
        expect(s.values.length).toBe(9);
        const down = Array.from(s.values).filter((v) => v === 1).length;
        expect(down).toBe(s.labels.scenario === 'server_down' ? downFrames : 0);
        continue;
      }
      expect(stale).toHaveLength(1);
      // Samples before the outage, one marker, and the samples after it came back.
      expect(s.values.length).toBe(9 - downFrames + 1);
    }
    await store.close();
  });
});

describe('backfill', () => {
  it('writes history in bulk with progress, and resumes after a restart instead of duplicating', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'om-backfill-'));
    dirs.push(dir);
    const fleet = newFleet();
    const from = START - 3 * 3_600_000;
    const mid = START - 3_600_000;
    let store = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
    const progress: BackfillProgress[] = [];
    const first = await backfill(fleet, store, {
      from,
      to: mid,
      stepMs: STEP,
      onProgress: (p) => progress.push(p),
    });
    const perFrame = seriesPerFrame(fleet.layout);
    expect(first).toMatchObject({ resumedFrom: from, frames: 481, samples: 481 * perFrame, rejected: 0 });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress[progress.length - 1]).toMatchObject({ framesDone: 481, framesTotal: 481, t: mid });
    expect(progress.every((p, i) => i === 0 || p.framesDone > progress[i - 1]!.framesDone)).toBe(true);
    // A crash right after backfill's flush: the bulk data is in the snapshot.
    await store.abandon();
    store = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0 });
    expect(await store.lastTimestamp()).toBe(mid);
    const second = await backfill(fleet, store, { from, to: START, stepMs: STEP });
    expect(second).toMatchObject({ resumedFrom: mid + STEP, frames: 240, rejected: 0 });
    const again = await backfill(fleet, store, { from, to: START, stepMs: STEP });
    expect(again).toMatchObject({ resumedFrom: undefined, frames: 0 });
    // The stored history equals the fleet's frames, without gaps or duplicates.
    const q = await store.querier(from, START);
    const got = await q.select([
      { type: '=', name: '__name__', value: fleet.layout.series[0]!.labels.__name__! },
    ]);
    const s0 = got.find((s) => s.labels.server === fleet.layout.series[0]!.labels.server)!;
    expect(s0.timestamps.length).toBe(721);
    expect(s0.values[300]).toBe(fleet.frameAt(from + 300 * STEP).values[0]);
    await store.close();
  });

  it('writes the same chunk files whether chunks are encoded on a worker or in-thread', async () => {
    const fleet = newFleet();
    const from = START - 5 * 3_600_000;
    const files: Map<string, Buffer>[] = [];
    for (const encodeWorkers of [0, 1]) {
      const dir = await mkdtemp(join(tmpdir(), 'om-backfill-workers-'));
      dirs.push(dir);
      const store = await EmbeddedStorage.open({ dataDir: dir, snapshotIntervalMs: 0, encodeWorkers });
      await backfill(fleet, store, { from, to: START, stepMs: STEP });
      await store.close();
      const names = (await readdir(join(dir, 'chunks'))).sort();
      files.push(
        new Map(
          await Promise.all(names.map(async (n) => [n, await readFile(join(dir, 'chunks', n))] as const)),
        ),
      );
    }
    const [inThread, worker] = files;
    expect([...worker!.keys()]).toEqual([...inThread!.keys()]);
    expect(inThread!.size).toBeGreaterThan(1);
    for (const [name, bytes] of inThread!) expect(worker!.get(name)?.equals(bytes), name).toBe(true);
  });
});
