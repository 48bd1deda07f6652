import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { backfill } from '../ingest/ingest.js';
import { DEFAULT_ENGINE_OPTIONS, Engine } from '../promql/index.js';
import { Fleet } from '../simulator/index.js';
import { EmbeddedStorage } from '../tsdb/embedded/embedded-storage.js';
import { silentLogger } from '../util/logger.js';
import { Analyzer, type AnalysisRun } from './analyzer.js';

const TICK = 15_000;
const H = 3_600_000;
/** T0 is where the runs start; the store holds the 4 h before it (a reference window and more). */
const T0 = Date.UTC(2026, 2, 2, 12);

describe('Analyzer', () => {
  it('run in slices gives the loop turns and the same results as a run at once', async () => {
    const registry = new Registry();
    const logger = silentLogger();
    const fleet = new Fleet({ seed: 7, scenarioRatePerHour: 12, epoch: T0 - 5 * H });
    const storage = await EmbeddedStorage.open({ registry, logger });
    await backfill(fleet, storage, { from: T0 - 4 * H, to: T0 + 2 * 60_000, stepMs: TICK });
    const engine = new Engine(DEFAULT_ENGINE_OPTIONS, { registry });
    const analyzer = (sliceMs: number): Analyzer =>
      new Analyzer({ stepMs: TICK, sliceMs }, { engine, storage, logger });
    const sliced = analyzer(0);
    const whole = analyzer(Infinity);
    // The wire payload and the API state without the run's duration, which differs by nature.
    const result = (r: AnalysisRun, a: Analyzer): unknown => ({
      payload: r.payload,
      opened: r.opened,
      state: { ...a.current(), lastRunMs: null },
    });
    for (const at of [T0, T0 + 60_000, T0 + 2 * 60_000]) {
      // A zero slice turns the loop at every unit of work (a series read, scored, forecast, written): count
      // the turns other callbacks get while the run goes on.
      let turns = 0;
      let running = true;
      const count = (): void => {
        turns++;
        if (running) setImmediate(count);
      };
      setImmediate(count);
      const a = await sliced.run(at);
      running = false;
      expect(turns).toBeGreaterThan(3 * fleet.layout.servers.length);
      const b = await whole.run(at);
      expect(result(a, sliced)).toEqual(result(b, whole));
    }
    expect(sliced.current().scores.length).toBe(fleet.layout.servers.length);
    await storage.close();
  }, 60_000);
});
