/**
 * Synthetic workloads for codec benchmarks and tests: a fleet shaped like the exporter's (percent gauges
 * with 2 decimals, load averages, page-granular memory bytes, byte/packet/op counters, 0/1 service state,
 * 15 s ticks with a little scrape jitter) and a full-precision random walk (the case decimal coding cannot
 * help, where the builder must fall back to XOR). Seeded, so runs compare.
 */
import { mulberry32 } from '../../util/prng.js';

/** SeriesSamples is one series' samples in time order. */
export interface SeriesSamples {
  readonly name: string;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/** WorkloadOptions sizes a synthetic workload. */
export interface WorkloadOptions {
  /** servers in the fleet (the seed's fleet has 20). */
  servers?: number;
  /** samples per series. */
  samples?: number;
  /** stepMs between samples (the seed scrapes every 15 s). */
  stepMs?: number;
  /** jitterMs: each timestamp gets 0…jitterMs of scrape jitter (0 = perfectly regular ticks). */
  jitterMs?: number;
  /** start timestamp in ms. */
  start?: number;
  seed?: number;
}

/** DEFAULTS: 20 servers, one day of 15 s ticks, regular timestamps (the simulator's ticks are exact). */
const DEFAULTS: Required<WorkloadOptions> = {
  servers: 20,
  samples: 5760,
  stepMs: 15_000,
  jitterMs: 0,
  start: 1_764_000_000_000,
  seed: 42,
};

/** PAGE_BYTES is the memory page size; used-memory figures move in whole pages. */
const PAGE_BYTES = 4096;

/** SECTOR_BYTES is the disk sector size; disk byte counters move in whole sectors. */
const SECTOR_BYTES = 512;

/** round2 rounds to 2 decimals, as the seed formats percentages. */
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** syntheticFleet generates the fleet workload (about 45 series per server). */
export function syntheticFleet(opts: WorkloadOptions = {}): SeriesSamples[] {
  const o = { ...DEFAULTS, ...opts };
  const rnd = mulberry32(o.seed);
  const gauss = (): number => {
    const u = Math.max(1e-12, rnd());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
  const n = o.samples;
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = o.start + i * o.stepMs + Math.floor(rnd() * (o.jitterMs + 1));
  const out: SeriesSamples[] = [];
  const add = (name: string, f: (i: number) => number): void => {
    const vs = new Float64Array(n);
    for (let i = 0; i < n; i++) vs[i] = f(i);
    out.push({ name, ts: o.jitterMs > 0 ? ts.slice() : ts, vs });
  };
  const dayFrac = (i: number): number => ((i * o.stepMs) / 86_400_000) % 1;
  const diurnal = (i: number): number => 0.5 - 0.5 * Math.cos(2 * Math.PI * dayFrac(i));

  for (let s = 0; s < o.servers; s++) {
    const srv = `server-${String(s + 1).padStart(2, '0')}`;
    const base = 20 + rnd() * 40;
    const cores = 4 + Math.floor(rnd() * 3) * 2;
    // CPU per core: a mean-reverting walk around a diurnal baseline, percent with 2 decimals.
    for (let c = 0; c < cores; c++) {
      let x = base;
      add(`${srv} cpu_usage_percent{core=${c}}`, (i) => {
        x += 0.2 * (base + 25 * diurnal(i) - x) + gauss() * 3;
        return round2(Math.min(100, Math.max(0, x)));
      });
    }
    // Load averages: exponentially smoothed, 2 decimals.
    for (const [win, alpha] of [
      ['1m', 0.22],
      ['5m', 0.05],
      ['15m', 0.017],
    ] as const) {
      let l = cores * base * 0.01;
      add(`${srv} cpu_load_average_${win}`, (i) => {
        l += alpha * (cores * (base + 25 * diurnal(i)) * 0.01 + gauss() * 0.5 - l);
        return round2(Math.max(0, l));
      });
    }
    let cs = Math.floor(rnd() * 1e9);
    add(`${srv} cpu_context_switches_total`, () => (cs += Math.floor(15 * (4000 + rnd() * 2000))));
    // Memory: used bytes in pages, percent derived with 2 decimals, total constant.
    const total = (8 + Math.floor(rnd() * 8) * 8) * 2 ** 30;
    let used = total * (0.3 + rnd() * 0.3);
    const usedAt: number[] = [];
    add(`${srv} memory_used_bytes`, (i) => {
      used = Math.min(total * 0.98, Math.max(total * 0.1, used + gauss() * 4e6));
      const u = Math.round(used / PAGE_BYTES) * PAGE_BYTES;
      usedAt[i] = u;
      return u;
    });
    add(`${srv} memory_usage_percent`, (i) => round2(((usedAt[i] ?? 0) / total) * 100));
    add(`${srv} memory_available_bytes`, (i) => total - (usedAt[i] ?? 0));
    add(`${srv} memory_total_bytes`, () => total);
    add(`${srv} swap_used_bytes`, () => 0);
    // Disks: usage percent creeping up, byte counters in sectors, op counters.
    for (const [mount, device] of [
      ['/', 'sda'],
      ['/data', 'sdb'],
    ] as const) {
      let pct = 30 + rnd() * 40;
      add(`${srv} disk_usage_percent{mount=${mount}}`, () => round2((pct += 0.0004 + gauss() * 0.002)));
      for (const dir of ['read', 'write'] as const) {
        let bytes = Math.floor((rnd() * 1e12) / SECTOR_BYTES) * SECTOR_BYTES;
        let ops = Math.floor(rnd() * 1e9);
        const rate = 200 + rnd() * 800;
        const opsAt: number[] = [];
        add(`${srv} disk_${dir}_ops_total{device=${device}}`, (i) => {
          ops += Math.floor(15 * rate * (0.5 + rnd()));
          opsAt[i] = ops;
          return ops;
        });
        // Each op moves 1-8 sectors; the interval's average varies little.
        const opSectors = 1 + Math.floor(rnd() * 8);
        add(`${srv} disk_${dir}_bytes_total{device=${device}}`, (i) => {
          const dOps = (opsAt[i] ?? 0) - (opsAt[i - 1] ?? opsAt[i] ?? 0);
          return (bytes += Math.round(dOps * opSectors * (0.9 + 0.2 * rnd())) * SECTOR_BYTES);
        });
      }
    }
    // Network: byte and packet counters per interface, errors/drops rare.
    for (const iface of ['eth0', 'eth1']) {
      for (const dir of ['receive', 'transmit'] as const) {
        let pk = Math.floor(rnd() * 1e10);
        let by = pk * 800;
        const rate = 1000 + rnd() * 20_000;
        const avgPacket = 200 + Math.floor(rnd() * 1000);
        const pkAt: number[] = [];
        add(`${srv} network_${dir}_packets_total{interface=${iface}}`, (i) => {
          pk += Math.floor(15 * rate * (0.7 + 0.6 * diurnal(i)) * (0.8 + 0.4 * rnd()));
          pkAt[i] = pk;
          return pk;
        });
        add(`${srv} network_${dir}_bytes_total{interface=${iface}}`, (i) => {
          const dp = (pkAt[i] ?? 0) - (pkAt[i - 1] ?? pkAt[i] ?? 0);
          return (by += Math.round(dp * avgPacket * (0.9 + 0.2 * rnd())));
        });
      }
    }
    let errs = 0;
    add(`${srv} network_receive_errors_total`, () => (errs += rnd() < 0.002 ? 1 : 0));
    let drops = 0;
    add(`${srv} network_transmit_drops_total`, () => (drops += rnd() < 0.01 ? Math.ceil(rnd() * 5) : 0));
    // Services: up (1) with rare short outages.
    for (const svc of ['nginx', 'mysql', 'redis']) {
      let down = 0;
      add(`${srv} service_up{service=${svc}}`, () => {
        if (down > 0) down--;
        else if (rnd() < 0.0005) down = 4;
        return down > 0 ? 0 : 1;
      });
    }
    // Request latency summary: count (integer counter) and sum in seconds with ms resolution.
    let cnt = 0;
    let sumMs = 0;
    const cntAt: number[] = [];
    add(`${srv} http_request_duration_seconds_count`, (i) => {
      cnt += Math.floor(15 * (50 + 100 * diurnal(i)) * (0.9 + 0.2 * rnd()));
      cntAt[i] = cnt;
      return cnt;
    });
    add(`${srv} http_request_duration_seconds_sum`, (i) => {
      const dc = (cntAt[i] ?? 0) - (cntAt[i - 1] ?? 0);
      sumMs += Math.round(dc * (20 + 30 * rnd()));
      return sumMs / 1000;
    });
  }
  return out;
}

/** randomWalk generates full-precision float random walks: nothing here is a short decimal. */
export function randomWalk(opts: WorkloadOptions & { series?: number } = {}): SeriesSamples[] {
  const o = { ...DEFAULTS, ...opts };
  const rnd = mulberry32(o.seed + 1);
  const n = o.samples;
  const out: SeriesSamples[] = [];
  for (let s = 0; s < (opts.series ?? 100); s++) {
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    let v = rnd() * 1000;
    for (let i = 0; i < n; i++) {
      ts[i] = o.start + i * o.stepMs + Math.floor(rnd() * (o.jitterMs + 1));
      v += rnd() - 0.5;
      vs[i] = v;
    }
    out.push({ name: `walk_${s}`, ts, vs });
  }
  return out;
}
