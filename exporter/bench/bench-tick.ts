/** benchTick times live ticks of a generated fleet; shared by fleet.bench.ts and the exporter's bench harness. */
import { Fleet } from '../src/simulator/fleet.js';
import { generateFleet } from '../src/simulator/generate-fleet.js';
import { GRID_MS } from '../src/simulator/server-model.js';

/** TickBench is the outcome of benchTick, in milliseconds per tick. */
export interface TickBench {
  readonly servers: number;
  readonly series: number;
  readonly ticks: number;
  readonly p50: number;
  readonly mean: number;
  readonly max: number;
  /** firstMs is the first frame's cost (the fleet booted one hour before, so one hour is replayed). */
  readonly firstMs: number;
}

/** BENCH_START is a fixed instant for reproducible benchmarks (2026-01-14T12:00:00Z, a busy Wednesday noon). */
const BENCH_START = Date.UTC(2026, 0, 14, 12, 0, 0);

/**
 * benchTick builds a fleet of n generated servers installed one hour before BENCH_START, takes the first
 * frame, then times `ticks` consecutive 15 s ticks (frameAt with a reused values array).
 */
export function benchTick(n: number, ticks = 40): TickBench {
  const fleet = new Fleet({ servers: generateFleet(n, 1), seed: 1, epoch: BENCH_START - 3_600_000 });
  let t0 = performance.now();
  const first = fleet.frameAt(BENCH_START);
  const firstMs = performance.now() - t0;
  const out = first.values;
  const times: number[] = [];
  for (let k = 1; k <= ticks; k++) {
    t0 = performance.now();
    fleet.frameAt(BENCH_START + k * GRID_MS, out);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    servers: n,
    series: fleet.layout.series.length,
    ticks,
    p50: times[Math.floor(times.length / 2)] ?? NaN,
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    max: times[times.length - 1] ?? NaN,
    firstMs,
  };
}
