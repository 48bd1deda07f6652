import { describe, expect, it, vi } from 'vitest';
import { Fleet } from './fleet.js';
import { defaultFleet } from './fleet-file.js';
import { GRID_MS, ServerModel } from './server-model.js';
import { firstBitDifference } from '../../test/simulator-testing.js';

/** T0 is a fixed Wednesday afternoon; fleets are installed two hours before so tests replay little. */
const T0 = Date.UTC(2026, 0, 14, 14, 0, 0);
const EPOCH = T0 - 2 * 3_600_000;

describe('Fleet determinism', () => {
  it('gives bit-identical frames for the same seed and instants, across instances', () => {
    const a = new Fleet({ seed: 7, epoch: EPOCH });
    const b = new Fleet({ seed: 7, epoch: EPOCH });
    for (const t of [T0, T0 + 15_000, T0 + 22_500, T0 + 3_600_000]) {
      const fa = a.frameAt(t);
      const fb = b.frameAt(t);
      expect(firstBitDifference(fa.values, fb.values)).toBe(-1);
      expect(fa.summaries).toEqual(fb.summaries);
    }
  });

  it('differs for another seed', () => {
    const a = new Fleet({ seed: 7, epoch: EPOCH }).frameAt(T0);
    const b = new Fleet({ seed: 8, epoch: EPOCH }).frameAt(T0);
    expect(firstBitDifference(a.values, b.values)).not.toBe(-1);
  });

  it('backfill frames equal live ticks bit for bit, at grid and off-grid steps', () => {
    for (const step of [15_000, 10_000, 1_000]) {
      const from = T0 - 30 * GRID_MS + 3_000;
      const to = from + 40 * step;
      const live = new Fleet({ seed: 3, epoch: EPOCH });
      const fill = new Fleet({ seed: 3, epoch: EPOCH });
      const frames = [...fill.frames(from, to, step)];
      expect(frames).toHaveLength(41);
      for (const f of frames) {
        const l = live.frameAt(f.t);
        expect(firstBitDifference(l.values, f.values)).toBe(-1);
        expect(l.summaries).toEqual(f.summaries);
      }
    }
  });

  it('random access to the past agrees with stepping there', () => {
    const stepped = new Fleet({ seed: 5, epoch: EPOCH });
    for (let t = T0; t <= T0 + 300 * GRID_MS; t += GRID_MS) stepped.frameAt(t);
    const target = T0 + 123 * GRID_MS + 4_000;
    const direct = new Fleet({ seed: 5, epoch: EPOCH }).frameAt(target);
    expect(firstBitDifference(stepped.frameAt(target).values, direct.values)).toBe(-1);
  });

  it('replaying many steps at once equals ticking through them, scenarios included', () => {
    const make = () => {
      const f = new Fleet({ seed: 13, epoch: EPOCH, scenarioRatePerHour: 40 });
      f.inject(
        { kind: 'cascading_failure', server: 'db-02', durationSeconds: 900, intensity: 0.9 },
        T0 + 5_000,
      );
      f.inject({ kind: 'server_down', server: 'api-02', durationSeconds: 200, intensity: 1 }, T0 + 300_000);
      f.inject({ kind: 'memory_leak', server: 'api-02', durationSeconds: 3000, intensity: 1 }, T0 + 100_000);
      return f;
    };
    const ticked = make();
    const jumped = make();
    const checks = [T0 + 40 * GRID_MS, T0 + 97 * GRID_MS + 7_000, T0 + 180 * GRID_MS];
    for (let t = T0; t <= T0 + 180 * GRID_MS; t += GRID_MS) {
      const a = ticked.frameAt(t);
      if (checks.includes(t)) expect(firstBitDifference(a.values, jumped.frameAt(t).values)).toBe(-1);
    }
    const off = checks[1] ?? 0;
    expect(firstBitDifference(ticked.frameAt(off).values, jumped.frameAt(off).values)).toBe(-1);
    expect(ticked.history(T0 + 180 * GRID_MS, T0).length).toBeGreaterThan(5);
  });

  it('a replay longer than one window of season inputs equals ticking through it', () => {
    // 2 h at a 1 s step is 7,200 steps: the replay walks them in two windows, the ticked fleet one by one.
    const make = () => {
      const f = new Fleet({ seed: 17, epoch: EPOCH, scenarioRatePerHour: 40, stepMs: 1_000 });
      f.inject(
        { kind: 'memory_leak', server: 'api-02', durationSeconds: 3000, intensity: 1 },
        EPOCH + 3_000_000,
      );
      return f;
    };
    const ticked = make();
    for (let t = EPOCH; t < T0; t += 1_000) ticked.frameAt(t);
    const a = ticked.frameAt(T0);
    const b = make().frameAt(T0);
    expect(firstBitDifference(a.values, b.values)).toBe(-1);
    expect(a.summaries).toEqual(b.summaries);
  });

  it('the default fleet has 20 servers and about 100 series each', () => {
    const f = new Fleet({ epoch: EPOCH });
    expect(f.layout.servers.map((s) => s.id)).toEqual(defaultFleet().map((s) => s.id));
    const per = f.layout.series.length / 20;
    expect(per).toBeGreaterThanOrEqual(60);
    expect(per).toBeLessThanOrEqual(120);
  });
});

describe('Fleet.prepare', () => {
  // Installed 10 days before T0: the first frame at T0 replays every server from its last boot (days).
  const LONG_EPOCH = T0 - 10 * 86_400_000;
  const options = { seed: 5, epoch: LONG_EPOCH, scenarioRatePerHour: 6 };

  it('replays in turns of an interval each, leaving the first frame little to replay, with the same frames', async () => {
    const plain = new Fleet(options);
    const prepared = new Fleet(options);
    const servers = prepared.layout.servers.length;
    // Model steps (and boots) between turns: each turn's work is one hourly interval (240 steps of 15 s) per server.
    const steps = vi.spyOn(ServerModel.prototype, 'step');
    const boots = vi.spyOn(ServerModel.prototype, 'boot');
    const work = (): number => steps.mock.calls.length + boots.mock.calls.length;
    const perTurn: number[] = [];
    let seen = 0;
    const take = (): void => {
      perTurn.push(work() - seen);
      seen = work();
    };
    await prepared.prepare(T0, () => {
      take();
      return Promise.resolve();
    });
    take();
    // Days of replay, cut into intervals.
    expect(perTurn.length).toBeGreaterThan(24);
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(servers * 240);

    const from = T0 - 2 * GRID_MS;
    const preparedFrames = [...prepared.frames(from, T0 + 20 * GRID_MS, GRID_MS)];
    // From the checkpoints prepare left: under an interval per server to the first frame, one per frame after.
    expect(work() - seen).toBeLessThanOrEqual(servers * (240 + 22));
    steps.mockRestore();
    boots.mockRestore();

    const plainFrames = [...plain.frames(from, T0 + 20 * GRID_MS, GRID_MS)];
    expect(preparedFrames).toHaveLength(plainFrames.length);
    plainFrames.forEach((f, k) => {
      const p = preparedFrames[k];
      expect(firstBitDifference(f.values, p?.values ?? new Float64Array())).toBe(-1);
      expect(p?.summaries).toEqual(f.summaries);
    });
  });

  it('does nothing before the fleet is installed', async () => {
    let turns = 0;
    await new Fleet(options).prepare(LONG_EPOCH - 3_600_000, () => {
      turns++;
      return Promise.resolve();
    });
    expect(turns).toBe(0);
  });
});
