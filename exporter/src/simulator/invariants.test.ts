import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fleet } from './fleet.js';
import { generateFleet } from './generate-fleet.js';
import { LATENCY_BUCKETS } from './layout.js';
import { GRID_MS, loadDecay } from './server-model.js';
import type { FleetFrame, FleetLayout } from './types.js';

const T0 = Date.UTC(2026, 0, 14, 14, 0, 0);

/** Per-server series indexes by role in the invariants, computed once per layout. */
interface ServerIndex {
  cores: number[];
  load: [number, number, number];
  memUsage: number;
  memUsed: number;
  memTotal: number;
  memAvailable: number;
  swap: number;
  disks: number[];
  rx: number[];
  counters: number[];
  sums: Set<number>;
  /** hist: per label set, the bucket indexes in `le` order (+Inf last), then _count, then the requests counter. */
  hist: { buckets: number[]; count: number; requests: number }[];
  zeroOne: number[];
  scenario: number[];
}

function indexLayout(layout: FleetLayout): ServerIndex[] {
  return layout.servers.map((_, i) => {
    const [first, end] = layout.serverSeries[i] ?? [0, 0];
    const idx: ServerIndex = {
      cores: [],
      load: [-1, -1, -1],
      memUsage: -1,
      memUsed: -1,
      memTotal: -1,
      memAvailable: -1,
      swap: -1,
      disks: [],
      rx: [],
      counters: [],
      sums: new Set(),
      hist: [],
      zeroOne: [],
      scenario: [],
    };
    const hist = new Map<string, { buckets: [number, number][]; count: number; requests: number }>();
    const h = (l: Readonly<Record<string, string>>) => {
      const key = `${l.method} ${l.status}`;
      let e = hist.get(key);
      if (!e) hist.set(key, (e = { buckets: [], count: -1, requests: -1 }));
      return e;
    };
    for (let k = first; k < end; k++) {
      const s = layout.series[k];
      if (!s) continue;
      const name = s.labels.__name__ ?? '';
      const fam = layout.families[s.family];
      if (fam?.type !== 'gauge') idx.counters.push(k);
      if (name.endsWith('_sum')) idx.sums.add(k);
      switch (name) {
        case 'openmanager_cpu_usage_percent':
          idx.cores.push(k);
          break;
        case 'openmanager_cpu_load_average_1m':
          idx.load[0] = k;
          break;
        case 'openmanager_cpu_load_average_5m':
          idx.load[1] = k;
          break;
        case 'openmanager_cpu_load_average_15m':
          idx.load[2] = k;
          break;
        case 'openmanager_memory_usage_percent':
          idx.memUsage = k;
          break;
        case 'openmanager_memory_used_bytes':
          idx.memUsed = k;
          break;
        case 'openmanager_memory_total_bytes':
          idx.memTotal = k;
          break;
        case 'openmanager_memory_available_bytes':
          idx.memAvailable = k;
          break;
        case 'openmanager_swap_used_bytes':
          idx.swap = k;
          break;
        case 'openmanager_disk_usage_percent':
          idx.disks.push(k);
          break;
        case 'openmanager_network_receive_bytes_total':
          idx.rx.push(k);
          break;
        case 'openmanager_service_up':
          idx.zeroOne.push(k);
          break;
        case 'openmanager_scenario_active':
          idx.scenario.push(k);
          break;
        case 'openmanager_http_request_duration_seconds_bucket':
          h(s.labels).buckets.push([s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), k]);
          break;
        case 'openmanager_http_request_duration_seconds_count':
          h(s.labels).count = k;
          break;
        case 'openmanager_http_requests_total':
          h(s.labels).requests = k;
          break;
      }
    }
    idx.hist = [...hist.values()].map((e) => ({
      buckets: e.buckets.sort((a, b) => a[0] - b[0]).map((b) => b[1]),
      count: e.count,
      requests: e.requests,
    }));
    return idx;
  });
}

const v = (f: FleetFrame, k: number): number => f.values[k] ?? NaN;

/** CENTI_HALF is the largest rounding error of a value emitted with 2 decimals. */
const CENTI_HALF = 0.005;

/** TWO_DECIMALS / THREE_DECIMALS match how a 2- or 3-decimal double prints (JavaScript's shortest form). */
const TWO_DECIMALS = /^\d+(\.\d{1,2})?$/;
const THREE_DECIMALS = /^\d+(\.\d{1,3})?$/;

/**
 * ewmaTolerance bounds how far the 5/15-minute load average may stray from the EWMA recovered from emitted
 * (2-decimal) values. With q = CENTI_HALF, runnable = (l1' - l1·d1) / (1 - d1) is off by ≤ q(1 + d1)/(1 - d1);
 * the predicted l' = l·d + runnable·(1 - d) adds q·d from l and the emitted l' itself q: the sum, plus float
 * slack. The model state is full precision, so this is the rounding's doing, not the dynamics'.
 */
function ewmaTolerance(d1: number, d: number, level: number): number {
  const q = CENTI_HALF;
  return q * d + ((q * (1 + d1)) / (1 - d1)) * (1 - d) + q + 1e-9 * Math.max(1, level);
}

/** frameViolations lists every invariant a single frame breaks (empty when all hold). */
function frameViolations(layout: FleetLayout, index: ServerIndex[], f: FleetFrame): string[] {
  const bad: string[] = [];
  index.forEach((x, i) => {
    const id = layout.servers[i]?.id ?? '?';
    const sum = f.summaries[i];
    const [first, end] = layout.serverSeries[i] ?? [0, 0];
    for (const k of x.scenario)
      if (v(f, k) !== 0 && v(f, k) !== 1) bad.push(`${id} scenario_active ${v(f, k)}`);
    if (!sum?.up) {
      for (let k = first; k < end; k++)
        if (!x.scenario.includes(k) && !Number.isNaN(v(f, k)))
          bad.push(`${id} down but series ${k} = ${v(f, k)}`);
      return;
    }
    for (let k = first; k < end; k++) if (!Number.isFinite(v(f, k))) bad.push(`${id} series ${k} not finite`);
    if (v(f, x.memUsed) + v(f, x.memAvailable) !== v(f, x.memTotal))
      bad.push(`${id} used + available ≠ total`);
    // The percentage is printed with 2 decimals: within half a hundredth of used / total.
    if (Math.abs(v(f, x.memUsage) - (v(f, x.memUsed) / v(f, x.memTotal)) * 100) > CENTI_HALF + 1e-9)
      bad.push(`${id} memory %`);
    for (const k of [...x.cores, x.memUsage, ...x.disks])
      if (!(v(f, k) >= 0 && v(f, k) <= 100)) bad.push(`${id} percent out of range: ${v(f, k)}`);
    for (const k of x.load) if (!(v(f, k) >= 0)) bad.push(`${id} negative load`);
    // Real sources' resolution: the values print (and parse back) as short decimals.
    for (const k of [...x.cores, ...x.load, x.memUsage, ...x.disks])
      if (!TWO_DECIMALS.test(String(v(f, k)))) bad.push(`${id} series ${k} not 2 decimals: ${v(f, k)}`);
    for (const k of x.sums)
      if (!THREE_DECIMALS.test(String(v(f, k)))) bad.push(`${id} _sum ${k} not whole ms: ${v(f, k)}`);
    if (!(v(f, x.swap) >= 0)) bad.push(`${id} negative swap`);
    for (const k of x.zeroOne) if (v(f, k) !== 0 && v(f, k) !== 1) bad.push(`${id} service_up ${v(f, k)}`);
    for (const k of x.counters)
      if (!(v(f, k) >= 0) || (!x.sums.has(k) && !Number.isInteger(v(f, k))))
        bad.push(`${id} counter ${k} = ${v(f, k)}`);
    for (const hs of x.hist) {
      if (hs.buckets.length !== LATENCY_BUCKETS.length + 1) bad.push(`${id} bucket count`);
      for (let b = 1; b < hs.buckets.length; b++)
        if (v(f, hs.buckets[b] ?? 0) < v(f, hs.buckets[b - 1] ?? 0)) bad.push(`${id} buckets not cumulative`);
      const inf = v(f, hs.buckets[hs.buckets.length - 1] ?? 0);
      if (inf !== v(f, hs.count) || inf !== v(f, hs.requests))
        bad.push(`${id} +Inf ≠ _count ≠ requests_total`);
    }
    const cpuMean = x.cores.reduce((a, k) => a + v(f, k), 0) / x.cores.length;
    if (Math.abs((sum.cpu ?? 0) - cpuMean) > 1e-9) bad.push(`${id} summary cpu ${sum.cpu} ≠ ${cpuMean}`);
    if (sum.memory !== v(f, x.memUsage)) bad.push(`${id} summary memory`);
    if (sum.disk !== Math.max(...x.disks.map((k) => v(f, k)))) bad.push(`${id} summary disk`);
  });
  return bad;
}

/** rebooted reports whether server i restarted between two frames (its counters went back). */
function rebooted(x: ServerIndex, a: FleetFrame, b: FleetFrame): boolean {
  return x.counters.some((k) => v(b, k) < v(a, k));
}

/** pairViolations checks what must hold between consecutive frames of one server that did not reboot. */
function pairViolations(
  layout: FleetLayout,
  index: ServerIndex[],
  a: FleetFrame,
  b: FleetFrame,
  stepMs = GRID_MS,
): string[] {
  const bad: string[] = [];
  const decay = loadDecay(stepMs);
  index.forEach((x, i) => {
    if (!a.summaries[i]?.up || !b.summaries[i]?.up || rebooted(x, a, b)) return;
    const id = layout.servers[i]?.id ?? '?';
    // Counters never decrease without a reboot: a reboot resets every counter at once.
    for (const k of x.counters)
      if (v(b, k) < v(a, k) && v(a, k) > 0) bad.push(`${id} counter ${k} decreased without reboot`);
    if (b.t - a.t === stepMs && a.t % stepMs === 0) {
      // Load averages are EWMAs of one runnable count: recover it from the 1-minute one, check the others.
      const [l1, l5, l15] = x.load.map((k) => [v(a, k), v(b, k)] as const);
      if (!l1 || !l5 || !l15) return;
      const runnable = (l1[1] - l1[0] * decay[0]) / (1 - decay[0]);
      const e5 = l5[0] * decay[1] + runnable * (1 - decay[1]);
      const e15 = l15[0] * decay[2] + runnable * (1 - decay[2]);
      if (Math.abs(e5 - l5[1]) > ewmaTolerance(decay[0], decay[1], l5[1]))
        bad.push(`${id} load5 not an EWMA: ${e5} vs ${l5[1]}`);
      if (Math.abs(e15 - l15[1]) > ewmaTolerance(decay[0], decay[2], l15[1]))
        bad.push(`${id} load15 not an EWMA: ${e15} vs ${l15[1]}`);
      // Counters are integrals of the rates the summary reports (floors lose < 1 per series).
      const seconds = stepMs / 1000;
      const rxDelta = x.rx.reduce((s, k) => s + v(b, k) - v(a, k), 0) / seconds;
      const rxRate = a.summaries[i]?.networkIn ?? 0;
      if (Math.abs(rxDelta - rxRate) > x.rx.length / seconds + 1e-6 * rxRate)
        bad.push(`${id} rx ${rxDelta} vs rate ${rxRate}`);
    }
  });
  return bad;
}

describe('invariants over a busy window', () => {
  const fleet = new Fleet({ seed: 11, epoch: T0 - 3 * 3_600_000, scenarioRatePerHour: 30 });
  const layout = fleet.layout;
  const index = indexLayout(layout);
  fleet.inject({ kind: 'memory_leak', server: 'api-02', durationSeconds: 1800, intensity: 1 }, T0 + 60_000);
  fleet.inject({ kind: 'disk_fill', server: 'db-02', durationSeconds: 1200, intensity: 1 }, T0 + 120_000);
  fleet.inject({ kind: 'server_down', server: 'web-02', durationSeconds: 300, intensity: 1 }, T0 + 600_000);
  fleet.inject({ kind: 'cpu_spike', server: 'worker-01', durationSeconds: 600, intensity: 1 }, T0);
  const frames = [...fleet.frames(T0, T0 + 2 * 3_600_000, GRID_MS)];

  it('every frame satisfies the gauge, histogram and summary invariants', () => {
    const bad = frames.flatMap((f) => frameViolations(layout, index, f));
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('counters never decrease, load averages are EWMAs and counters integrate the rates', () => {
    const bad: string[] = [];
    for (let k = 1; k < frames.length; k++) {
      const a = frames[k - 1];
      const b = frames[k];
      if (a && b) bad.push(...pairViolations(layout, index, a, b));
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('exercised scenarios: the schedule and the injections were active', () => {
    const kinds = new Set(fleet.history(T0 + 2 * 3_600_000, T0).map((s) => s.kind));
    expect(kinds.size).toBeGreaterThanOrEqual(5);
    expect(frames.some((f) => f.summaries.some((s) => !s.up))).toBe(true);
  });

  it('off-grid instants (1 s ticks) keep the invariants and counters monotone', () => {
    const live = new Fleet({ seed: 11, epoch: T0 - 3 * 3_600_000, scenarioRatePerHour: 30 });
    let prev: FleetFrame | undefined;
    const bad: string[] = [];
    for (let t = T0 + 1_234; t < T0 + 1_234 + 200_000; t += 1_000) {
      const f = live.frameAt(t);
      bad.push(...frameViolations(layout, index, f));
      if (prev) bad.push(...pairViolations(layout, index, prev, f));
      prev = f;
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

describe('other model steps (tick periods)', () => {
  it.each([1_000, 5_000, 60_000])('a %d ms step keeps every invariant, with EWMAs per step', (stepMs) => {
    const fleet = new Fleet({ seed: 12, stepMs, epoch: T0 - 3_600_000, scenarioRatePerHour: 20 });
    const index = indexLayout(fleet.layout);
    const frames = [...fleet.frames(T0, T0 + 200 * stepMs, stepMs)];
    const bad: string[] = [];
    frames.forEach((f, k) => {
      bad.push(...frameViolations(fleet.layout, index, f));
      const prev = frames[k - 1];
      if (prev) bad.push(...pairViolations(fleet.layout, index, prev, f, stepMs));
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('keeps the behaviour: traffic, CPU and load levels agree between 1 s and 15 s steps', () => {
    const servers = generateFleet(8, 12);
    const fine = new Fleet({
      seed: 12,
      servers,
      stepMs: 1_000,
      epoch: T0 - 1_200_000,
      scenarioRatePerHour: 0,
    });
    const coarse = new Fleet({ seed: 12, servers, epoch: T0 - 1_200_000, scenarioRatePerHour: 0 });
    const mean = (f: Fleet, pick: (x: FleetFrame) => number) => {
      let s = 0;
      let n = 0;
      for (const x of f.frames(T0, T0 + 1_800_000, 30_000)) {
        s += pick(x);
        n++;
      }
      return s / n;
    };
    for (const pick of [
      (x: FleetFrame) => x.summaries.reduce((a, s) => a + s.cpu, 0),
      (x: FleetFrame) => x.summaries.reduce((a, s) => a + s.networkOut, 0),
    ]) {
      const a = mean(fine, pick);
      const b = mean(coarse, pick);
      expect(Math.abs(a - b) / b).toBeLessThan(0.1);
    }
  });
});

describe('reboots', () => {
  it('planned maintenance reboots reset counters without the server going down, a few days apart', () => {
    // One-minute steps: the reboot schedule is in days, so a coarse step checks it at a quarter of the cost.
    const fleet = new Fleet({
      seed: 2,
      servers: generateFleet(4, 2),
      stepMs: 60_000,
      epoch: T0 - 3_600_000,
      scenarioRatePerHour: 0,
    });
    const index = indexLayout(fleet.layout);
    const resets: number[][] = fleet.layout.servers.map(() => []);
    let prev: FleetFrame | undefined;
    let down = 0;
    for (const f of fleet.frames(T0, T0 + 20 * 86_400_000, 10 * 60_000)) {
      if (!f.summaries.every((s) => s.up)) down++;
      if (prev) index.forEach((x, i) => prev && rebooted(x, prev, f) && resets[i]?.push(f.t));
      prev = f;
    }
    expect(down).toBe(0);
    for (const r of resets) {
      expect(r.length).toBeGreaterThanOrEqual(2);
      for (let k = 1; k < r.length; k++) {
        const gapDays = ((r[k] ?? 0) - (r[k - 1] ?? 0)) / 86_400_000;
        expect(gapDays).toBeGreaterThanOrEqual(5 - 0.01);
        expect(gapDays).toBeLessThanOrEqual(9 + 0.01);
      }
    }
  });
});

describe('property: random seeds and instants keep the invariants', () => {
  it('holds for any seed, installation age and tick offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 365 * 86_400_000 }),
        fc.integer({ min: 0, max: 6 * 3_600_000 }),
        fc.integer({ min: 1_000, max: 60_000 }),
        (seed, offset, age, tick) => {
          const t = Date.UTC(2026, 0, 1) + offset;
          const fleet = new Fleet({
            seed,
            servers: generateFleet(8, seed),
            epoch: t - age,
            scenarioRatePerHour: 20,
          });
          const index = indexLayout(fleet.layout);
          const a = fleet.frameAt(t);
          const b = fleet.frameAt(t + tick);
          const bad = [
            ...frameViolations(fleet.layout, index, a),
            ...frameViolations(fleet.layout, index, b),
            ...pairViolations(fleet.layout, index, a, b),
          ];
          expect(bad).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  });
});
