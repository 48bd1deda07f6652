/**
 * One server's dynamics on the fleet's step grid (15 s by default). A server's state is a block of a Float64Array:
 *
 *   [ hidden (HIDDEN slots) | sample per series (count) | integral per series (count) | rate per series (count) ]
 *
 * `integral` is a counter's exact integral since boot; `rate` its rate over the grid interval that starts at
 * the state's instant, so a counter at any instant inside the interval is integral + rate × elapsed (exact
 * integral of a piecewise-constant rate, never decreasing). `sample` holds the gauges at full precision.
 *
 * The state is never rounded, so the dynamics do not depend on how values are printed. emit is the one place
 * where samples take a real source's resolution (precision.ts): it copies the gauges out in one go, rounds
 * percentages and load averages to 2 decimals, and writes each counter in whole events (the histogram's
 * `_sum` in whole milliseconds). Frame summaries are derived from those emitted samples (cpuOf, memoryOf,
 * diskOf), so a dashboard's headline always matches the series behind it.
 */
import { DISK_FILL_TARGET_FRACTION, dataMountIndex, type Effects } from './effects.js';
import { hashPair, hashStep, stringKey, symmetric, unit, xorshift32 } from './hash.js';
import {
  HIST_STRIDE,
  HTTP_METHODS,
  HTTP_STATUSES,
  LATENCY_BUCKETS,
  SeriesKind,
  type ServerPlan,
} from './layout.js';
import { normalCdf } from './normal-cdf.js';
import { floorMilli, roundCenti } from './precision.js';
import { MS_PER_DAY, MS_PER_WEEK, ROLE_PROFILES, type RoleProfile } from './profiles.js';
import type { ServerInfo } from './types.js';

/** GRID_MS is the default model step: the seed's generation interval and Prometheus' default scrape interval. */
export const GRID_MS = 15_000;

/** MIN_STEP_MS is the shortest model step (the tick period must be ≥ 1 s). */
export const MIN_STEP_MS = 1_000;

/** Hidden state slots. */
export const H = {
  status: 0,
  index: 1,
  boot: 2,
  arReq: 3,
  arCpu: 4,
  arLat: 5,
  arMem: 6,
  arIo: 7,
  arNet: 8,
  load1: 9,
  load5: 10,
  load15: 11,
  swap: 12,
  // 13–15: unused (the CPU, memory and disk summaries are derived from the emitted samples).
  netIn: 16,
  netOut: 17,
  runnable: 18,
} as const;

/** HIDDEN is the number of hidden slots before the per-series values. */
export const HIDDEN = 20;

/** Status values of H.status. */
export const Status = { invalid: 0, up: 1, down: 2, notInstalled: 3 } as const;

/** LOAD_WINDOWS_S are the load averages' time constants: 1, 5 and 15 minutes. */
const LOAD_WINDOWS_S = [60, 300, 900] as const;

/**
 * loadDecay returns the per-step decay factors of the 1/5/15-minute load averages for a step of `stepMs`.
 * Linux multiplies by EXP_1 = e^(-5s/1min) (and 5, 15 min) every 5 s (kernel/sched/loadavg.c); k such
 * updates with the same runnable count equal one update by e^(-5k s/τ), so a step of s seconds uses e^(-s/τ).
 */
export function loadDecay(stepMs: number): readonly [number, number, number] {
  const s = stepMs / 1000;
  return [
    Math.exp(-s / LOAD_WINDOWS_S[0]),
    Math.exp(-s / LOAD_WINDOWS_S[1]),
    Math.exp(-s / LOAD_WINDOWS_S[2]),
  ];
}

/** AR(1) processes: φ per 15 s (correlation time ≈ 15 s / (1 - φ)) and stationary standard deviation. */
const AR = {
  req: { phi: 0.97, sd: 0.07 }, // traffic level, log scale: drifts over ~8 min
  cpu: { phi: 0.8, sd: 0.02 }, // CPU demand not explained by traffic, fraction of cores
  lat: { phi: 0.9, sd: 0.08 }, // latency, log scale
  mem: { phi: 0.995, sd: 0.012 }, // memory use, fraction of total: slow wander (caches, heaps)
  io: { phi: 0.7, sd: 0.25 }, // disk I/O, log scale: bursty
  net: { phi: 0.85, sd: 0.05 }, // bytes per request, log scale
} as const;

/** SQRT3 scales a uniform [-1, 1) draw to unit variance. */
const SQRT3 = Math.sqrt(3);

/** ArStep is an AR(1) process at a given step: x' = phi·x + innovation·u, u uniform in [-1, 1). */
interface ArStep {
  readonly phi: number;
  readonly innovation: number;
}

/** arStep rescales a 15 s AR(1) process to a step of `stepMs`, keeping its correlation time and variance. */
function arStep(p: { phi: number; sd: number }, stepMs: number): ArStep {
  const phi = Math.pow(p.phi, stepMs / GRID_MS);
  return { phi, innovation: p.sd * Math.sqrt(1 - phi * phi) * SQRT3 };
}

/**
 * StepParams are the step-dependent constants of the model: everything expressed "per step" is derived
 * from a per-15 s or per-second figure, so a fleet stepped every second behaves like one stepped every 15 s.
 */
export interface StepParams {
  readonly stepMs: number;
  readonly stepS: number;
  readonly loadDecay: readonly [number, number, number];
  readonly req: ArStep;
  readonly cpu: ArStep;
  readonly lat: ArStep;
  readonly mem: ArStep;
  readonly io: ArStep;
  readonly net: ArStep;
  readonly swapOut: number;
  readonly swapKeep: number;
}

/** stepParams computes the StepParams of a step of `stepMs` (≥ MIN_STEP_MS). */
export function stepParams(stepMs: number): StepParams {
  const k = stepMs / GRID_MS;
  return {
    stepMs,
    stepS: stepMs / 1000,
    loadDecay: loadDecay(stepMs),
    req: arStep(AR.req, stepMs),
    cpu: arStep(AR.cpu, stepMs),
    lat: arStep(AR.lat, stepMs),
    mem: arStep(AR.mem, stepMs),
    io: arStep(AR.io, stepMs),
    net: arStep(AR.net, stepMs),
    swapOut: SWAP_OUT_PER_15S * k,
    swapKeep: Math.pow(1 - SWAP_DECAY_PER_15S, k),
  };
}

/** CORE_JITTER is the per-core, per-step deviation from the server mean, in percentage points (±). */
const CORE_JITTER = 3;

/** PAGE_BYTES rounds memory and swap to whole 4 KiB pages, as the kernel reports them. */
const PAGE_BYTES = 4096;

/** MEM_MIN_FRACTION / MEM_MAX_FRACTION bound used memory (the kernel and OOM killer keep it inside). */
const MEM_MIN_FRACTION = 0.05;
const MEM_MAX_FRACTION = 0.985;

/** SWAP_PRESSURE is the used fraction above which the kernel starts swapping out. */
const SWAP_PRESSURE = 0.88;

/** SWAP_OUT_PER_15S is swapped out per 15 s per unit of pressure (fraction of total memory). */
const SWAP_OUT_PER_15S = 0.02;

/** SWAP_DECAY_PER_15S: without pressure, swapped pages return slowly (half-life ≈ 6 h). */
const SWAP_DECAY_PER_15S = 0.0005;

/** LINK_BYTES_PER_S is the capacity of one 1 Gbit/s interface. */
const LINK_BYTES_PER_S = 125_000_000;

/** RX_PACKET_BYTES / TX_PACKET_BYTES are mean packet sizes (small requests and ACKs in, MTU-sized data out). */
const RX_PACKET_BYTES = 700;
const TX_PACKET_BYTES = 1200;

/** BASE_RX_ERROR_RATIO / BASE_TX_DROP_RATIO: a healthy NIC still sees a bad frame now and then. */
const BASE_RX_ERROR_RATIO = 1e-7;
const BASE_TX_DROP_RATIO = 2e-7;

/** LATENCY_SIGMA is the log-normal shape of response times (p99 ≈ 4× the median). */
const LATENCY_SIGMA = 0.6;

/** LATENCY_MEAN_FACTOR is mean / median of that log-normal: e^(σ²/2). */
const LATENCY_MEAN_FACTOR = Math.exp((LATENCY_SIGMA * LATENCY_SIGMA) / 2);

/** METHOD_LATENCY: writes take longer than reads. */
const METHOD_LATENCY = [1, 1.8] as const;

/** ERROR_LATENCY: failed requests return faster than good ones (early exits), except under timeouts. */
const ERROR_LATENCY = 0.6;

/** BACKUP_READ_BYTES_PER_S / BACKUP_SHIP_BYTES_PER_S: the nightly database dump reads and ships its data. */
const BACKUP_READ_BYTES_PER_S = 150_000_000;
const BACKUP_SHIP_BYTES_PER_S = 60_000_000;

/** BACKUP_CPU_SHARE: the nightly dump compresses on ~15 % of a database's cores; BACKUP_IO_WAIT on 10 %. */
const BACKUP_CPU_SHARE = 0.15;
const BACKUP_IO_WAIT_SHARE = 0.1;

/** MIN_DEMAND_SHARE: even an idle box keeps ~0.5 % of its cores busy (kernel threads, agents). */
const MIN_DEMAND_SHARE = 0.005;

/** QUEUEING: latency factor 1 + QUEUEING·ρ/(1-ρ) (M/M/1-like growth, ×1.25 at 50 %, ×13 at 98 %). */
const QUEUEING = 0.25;

/** MAX_UTILISATION caps ρ in the queueing factor (latency stays finite when the box is pegged). */
const MAX_UTILISATION = 0.98;

/** OVERLOAD_UTILISATION: above it requests start timing out; OVERLOAD_ERRORS 5xx per unit of excess. */
const OVERLOAD_UTILISATION = 0.92;
const OVERLOAD_ERRORS = 2;

/** MAX_ERROR_RATIO: some requests still succeed in the worst outage (cached pages, retries). */
const MAX_ERROR_RATIO = 0.95;

/** IO_FLOOR: a share of disk I/O happens without traffic (logs, journald, metrics agents). */
const IO_FLOOR = 0.3;

/** CTX_IDLE: context switches at idle relative to the per-core rate at full utilisation + 1. */
const CTX_IDLE = 0.4;

/** SAT_TX_BASE / SAT_TX_PER_I / SAT_RX_PER_I: a saturating flood's share of line rate (tx near 100 % at I=1). */
const SAT_TX_BASE = 0.6;
const SAT_TX_PER_I = 0.38;
const SAT_RX_PER_I = 0.35;

/** SAT_RX_ERRORS / SAT_TX_DROPS: errored and dropped packet ratios at full saturation (overruns, full queues). */
const SAT_RX_ERRORS = 0.002;
const SAT_TX_DROPS = 0.01;

/** DISK_GROWTH_PERIOD_MS: data grows for a week, then retention cleanup frees it (a weekly sawtooth). */
const DISK_GROWTH_PERIOD_MS = MS_PER_WEEK;

const LN_LE = Float64Array.from(LATENCY_BUCKETS, (le) => Math.log(le));
const NB = LATENCY_BUCKETS.length;
const INV_SIGMA = 1 / LATENCY_SIGMA;

/** AR process salts for the per-server keys. */
const SALT = { req: 1, cpu: 2, lat: 3, mem: 4, io: 5, net: 6, core: 7, boot: 8 } as const;

/** ServerModel holds one server's static parameters and steps its state. */
export class ServerModel {
  /** stateSize is the number of Float64 slots of this server's state block. */
  readonly stateSize: number;
  private readonly p: RoleProfile;
  private readonly peakRps: number;
  private readonly scale: number;
  private readonly cores: number;
  private readonly coreWeight: Float64Array;
  private readonly memTotal: number;
  private readonly swapFloor: number;
  private readonly swapMax: number;
  private readonly diskBase: Float64Array;
  private readonly diskGrowth: Float64Array;
  private readonly diskPhase: Float64Array;
  private readonly dataMount: number;
  private readonly deviceWeight: Float64Array;
  private readonly ifaceWeight: Float64Array;
  private readonly counters: Int32Array;
  private readonly milliCounter: Uint8Array;
  /** centi are the series emitted with 2 decimals (SeriesKind.centiGauge). */
  private readonly centi: Int32Array;
  private readonly isDb: boolean;
  private readonly kReq: number;
  private readonly kCpu: number;
  private readonly kLat: number;
  private readonly kMem: number;
  private readonly kIo: number;
  private readonly kNet: number;
  private readonly kCore: number;
  private readonly kBoot: number;
  /** periodSteps / phaseSteps place the planned maintenance reboots (every 5–9 days). */
  readonly periodSteps: number;
  readonly phaseSteps: number;

  constructor(
    readonly index: number,
    readonly info: ServerInfo,
    readonly plan: ServerPlan,
    fleetKey: number,
    private readonly sp: StepParams = stepParams(GRID_MS),
  ) {
    const key = hashPair(fleetKey, stringKey(info.id));
    this.p = ROLE_PROFILES[info.role];
    // Servers of one role differ by ±15 % in traffic share (uneven balancing, hot shards).
    this.scale = 0.85 + 0.3 * unit(hashPair(key, 100));
    this.peakRps = this.p.rps * this.scale * Math.max(0.5, Math.min(2, info.cores / defaultCores(info.role)));
    this.cores = info.cores;
    this.isDb = info.role === 'db';
    this.stateSize = HIDDEN + 3 * plan.count;
    // Core 0 takes the interrupts; the rest differ a little (pinned threads, scheduler affinity).
    const w = Float64Array.from(
      { length: info.cores },
      (_, c) => 1 + 0.12 * symmetric(hashPair(key, 200 + c)) + (c === 0 ? 0.08 : 0),
    );
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    this.coreWeight = w.map((x) => x / mean);
    this.memTotal = info.memoryBytes;
    this.swapFloor = this.isDb
      ? 0
      : Math.floor((unit(hashPair(key, 300)) * 64 * 1024 * 1024) / PAGE_BYTES) * PAGE_BYTES;
    this.swapMax = Math.min(info.memoryBytes / 2, 8 * 1024 ** 3);
    this.dataMount = dataMountIndex(info);
    // Filesystems start 18–63 % full (the operating range of a maintained fleet).
    this.diskBase = Float64Array.from(info.disks, (_, m) => 18 + 45 * unit(hashPair(key, 400 + m)));
    // Percentage points per day; the data volume grows fastest.
    this.diskGrowth = Float64Array.from(
      info.disks,
      (_, m) => (m === this.dataMount ? 0.3 : 0.05) + 0.4 * unit(hashPair(key, 500 + m)),
    );
    this.diskPhase = Float64Array.from(info.disks, (_, m) =>
      Math.floor(unit(hashPair(key, 600 + m)) * DISK_GROWTH_PERIOD_MS),
    );
    const dataDevice = info.disks[this.dataMount]?.device;
    const devs = plan.devices.length;
    this.deviceWeight = Float64Array.from(plan.devices, (d) =>
      devs === 1 ? 1 : d === dataDevice ? 0.75 : 0.25 / (devs - 1),
    );
    const ifs = plan.interfaces;
    this.ifaceWeight = Float64Array.from({ length: ifs }, (_, k) =>
      ifs === 1 ? 1 : info.role === 'lb' ? 1 / ifs : k === 0 ? 0.8 : 0.2 / (ifs - 1),
    );
    const counters: number[] = [];
    const centi: number[] = [];
    plan.kinds.forEach((k, j) => {
      if (k === SeriesKind.intCounter || k === SeriesKind.milliCounter) counters.push(j);
      else if (k === SeriesKind.centiGauge) centi.push(j);
    });
    this.counters = Int32Array.from(counters);
    this.milliCounter = Uint8Array.from(counters, (j) => (plan.kinds[j] === SeriesKind.milliCounter ? 1 : 0));
    this.centi = Int32Array.from(centi);
    this.kReq = hashPair(key, SALT.req);
    this.kCpu = hashPair(key, SALT.cpu);
    this.kLat = hashPair(key, SALT.lat);
    this.kMem = hashPair(key, SALT.mem);
    this.kIo = hashPair(key, SALT.io);
    this.kNet = hashPair(key, SALT.net);
    this.kCore = hashPair(key, SALT.core);
    this.kBoot = hashPair(key, SALT.boot);
    const stepsPerDay = MS_PER_DAY / sp.stepMs;
    this.periodSteps = Math.round((5 + 4 * unit(hashPair(key, 700))) * stepsPerDay);
    this.phaseSteps = Math.floor(unit(hashPair(key, 701)) * this.periodSteps);
  }

  /** lastPeriodicBoot returns the latest planned maintenance reboot at or before grid index n. */
  lastPeriodicBoot(n: number): number {
    const r = (((n - this.phaseSteps) % this.periodSteps) + this.periodSteps) % this.periodSteps;
    return n - r;
  }

  /** isPeriodicBoot reports whether grid index n is a planned maintenance reboot. */
  isPeriodicBoot(n: number): boolean {
    return (((n - this.phaseSteps) % this.periodSteps) + this.periodSteps) % this.periodSteps === 0;
  }

  /** boot starts the server fresh at grid index n: counters 0, load averages 0, noise from its stationary law. */
  boot(st: Float64Array, o: number, n: number, t: number, season: number, backup: number, fx: Effects): void {
    st.fill(0, o, o + this.stateSize);
    st[o + H.status] = Status.up;
    st[o + H.boot] = n;
    st[o + H.arReq] = AR.req.sd * SQRT3 * symmetric(hashStep(this.kReq ^ this.kBoot, n));
    st[o + H.arCpu] = AR.cpu.sd * SQRT3 * symmetric(hashStep(this.kCpu ^ this.kBoot, n));
    st[o + H.arLat] = AR.lat.sd * SQRT3 * symmetric(hashStep(this.kLat ^ this.kBoot, n));
    st[o + H.arMem] = AR.mem.sd * SQRT3 * symmetric(hashStep(this.kMem ^ this.kBoot, n));
    st[o + H.arIo] = AR.io.sd * SQRT3 * symmetric(hashStep(this.kIo ^ this.kBoot, n));
    st[o + H.arNet] = AR.net.sd * SQRT3 * symmetric(hashStep(this.kNet ^ this.kBoot, n));
    st[o + H.swap] = this.swapFloor;
    this.compute(st, o, n, t, season, backup, fx);
  }

  /** step advances a running server from grid index n - 1 to n. */
  step(st: Float64Array, o: number, n: number, t: number, season: number, backup: number, fx: Effects): void {
    const count = this.plan.count;
    const a = o + HIDDEN + count;
    const r = a + count;
    // Integrate the counters' rates over the interval just ended.
    const counters = this.counters;
    const stepS = this.sp.stepS;
    for (let k = 0; k < counters.length; k++) {
      const j = counters[k] ?? 0;
      st[a + j] = (st[a + j] ?? 0) + (st[r + j] ?? 0) * stepS;
    }
    const { req, cpu, lat, mem, io, net } = this.sp;
    st[o + H.arReq] = req.phi * (st[o + H.arReq] ?? 0) + req.innovation * symmetric(hashStep(this.kReq, n));
    st[o + H.arCpu] = cpu.phi * (st[o + H.arCpu] ?? 0) + cpu.innovation * symmetric(hashStep(this.kCpu, n));
    st[o + H.arLat] = lat.phi * (st[o + H.arLat] ?? 0) + lat.innovation * symmetric(hashStep(this.kLat, n));
    st[o + H.arMem] = mem.phi * (st[o + H.arMem] ?? 0) + mem.innovation * symmetric(hashStep(this.kMem, n));
    st[o + H.arIo] = io.phi * (st[o + H.arIo] ?? 0) + io.innovation * symmetric(hashStep(this.kIo, n));
    st[o + H.arNet] = net.phi * (st[o + H.arNet] ?? 0) + net.innovation * symmetric(hashStep(this.kNet, n));
    this.compute(st, o, n, t, season, backup, fx);
  }

  /** compute derives every gauge and rate of the state at grid index n from its hidden state. */
  private compute(
    st: Float64Array,
    o: number,
    n: number,
    t: number,
    season: number,
    backup: number,
    fx: Effects,
  ): void {
    const i = this.index;
    const p = this.p;
    const plan = this.plan;
    const v = o + HIDDEN;
    const r = v + 2 * plan.count;
    const cores = this.cores;
    st[o + H.index] = n;

    // Traffic drives everything else.
    const traffic = this.peakRps * season * Math.exp(st[o + H.arReq] ?? 0) * (fx.traffic[i] ?? 1);
    const dbBackup = this.isDb ? backup : 0;

    // CPU: background + per-request work + scenario demand + unexplained noise, capped by the cores.
    let demand =
      p.backgroundCores +
      dbBackup * BACKUP_CPU_SHARE * cores +
      traffic * p.cpuPerRequest +
      ((fx.cpuExtra[i] ?? 0) + (st[o + H.arCpu] ?? 0)) * cores;
    if (demand < MIN_DEMAND_SHARE * cores) demand = MIN_DEMAND_SHARE * cores;
    const busy = demand < cores ? demand : cores;
    const util = busy / cores;
    const meanPct = util * 100;
    let seq = hashStep(this.kCore, n) | 1;
    const cw = this.coreWeight;
    for (let c = 0; c < cores; c++) {
      seq = xorshift32(seq);
      let x = meanPct * (cw[c] ?? 1) + CORE_JITTER * symmetric(seq);
      if (x < 0) x = 0;
      else if (x > 100) x = 100;
      st[v + plan.cpu + c] = x;
    }

    // Load averages: Linux-style EWMAs of runnable + uninterruptible tasks (demand beyond the cores queues).
    const runnable = demand + ((fx.ioWait[i] ?? 0) + dbBackup * BACKUP_IO_WAIT_SHARE) * cores;
    st[o + H.runnable] = runnable;
    // Indexed, not destructured: destructuring allocates an iterator per call (~0.5 GB over a cold start's replay).
    const decay = this.sp.loadDecay;
    const e1 = decay[0];
    const e5 = decay[1];
    const e15 = decay[2];
    const l1 = (st[o + H.load1] ?? 0) * e1 + runnable * (1 - e1);
    const l5 = (st[o + H.load5] ?? 0) * e5 + runnable * (1 - e5);
    const l15 = (st[o + H.load15] ?? 0) * e15 + runnable * (1 - e15);
    st[o + H.load1] = l1;
    st[o + H.load5] = l5;
    st[o + H.load15] = l15;
    st[v + plan.load1] = l1;
    st[v + plan.load5] = l5;
    st[v + plan.load15] = l15;

    // Latency: queueing makes it climb as utilisation approaches 1 (M/M/1-like factor, capped).
    const q = util > MAX_UTILISATION ? MAX_UTILISATION : util;
    const latency =
      p.latency * (1 + (QUEUEING * q) / (1 - q)) * Math.exp(st[o + H.arLat] ?? 0) * (fx.latency[i] ?? 1);
    const overload = util > OVERLOAD_UTILISATION ? (util - OVERLOAD_UTILISATION) * OVERLOAD_ERRORS : 0;
    let errRatio = p.errorRatio + (fx.errors[i] ?? 0) + overload;
    if (errRatio > MAX_ERROR_RATIO) errRatio = MAX_ERROR_RATIO;

    // Memory: used + available = total exactly (whole pages).
    let memFrac = p.memBase + p.memLoad * util + (st[o + H.arMem] ?? 0) + (fx.leak[i] ?? 0);
    if (memFrac < MEM_MIN_FRACTION) memFrac = MEM_MIN_FRACTION;
    else if (memFrac > MEM_MAX_FRACTION) memFrac = MEM_MAX_FRACTION;
    const total = this.memTotal;
    const used = Math.round((memFrac * total) / PAGE_BYTES) * PAGE_BYTES;
    st[v + plan.memTotal] = total;
    st[v + plan.memUsed] = used;
    st[v + plan.memAvailable] = total - used;
    st[v + plan.memUsage] = (used / total) * 100;

    // Swap: grows while memory is under pressure, drains slowly afterwards.
    let swap = st[o + H.swap] ?? 0;
    const pressure = memFrac - SWAP_PRESSURE;
    if (pressure > 0) swap += pressure * this.sp.swapOut * total;
    else swap = this.swapFloor + (swap - this.swapFloor) * this.sp.swapKeep;
    if (swap > this.swapMax) swap = this.swapMax;
    if (swap < this.swapFloor) swap = this.swapFloor;
    st[o + H.swap] = swap;
    st[v + plan.swapUsed] = Math.round(swap / PAGE_BYTES) * PAGE_BYTES;

    // Disk usage: a weekly sawtooth (growth, then retention cleanup), plus a disk_fill on the data mount.
    for (let m = 0; m < plan.mounts; m++) {
      const since =
        (((t - (this.diskPhase[m] ?? 0)) % DISK_GROWTH_PERIOD_MS) + DISK_GROWTH_PERIOD_MS) %
        DISK_GROWTH_PERIOD_MS;
      let pct = (this.diskBase[m] ?? 0) + ((this.diskGrowth[m] ?? 0) * since) / MS_PER_DAY;
      if (m === this.dataMount) pct += (DISK_FILL_TARGET_FRACTION * 100 - pct) * (fx.fill[i] ?? 0);
      if (pct > 100) pct = 100;
      else if (pct < 0) pct = 0;
      st[v + plan.diskUsage + m] = pct;
    }

    // Disk I/O follows traffic (plus the nightly backup on databases).
    const rel = traffic / this.peakRps;
    const ioLevel =
      (IO_FLOOR + (1 - IO_FLOOR) * rel) * Math.exp(st[o + H.arIo] ?? 0) * (fx.io[i] ?? 1) * this.scale;
    const read = p.diskRead * ioLevel + dbBackup * BACKUP_READ_BYTES_PER_S;
    const write = p.diskWrite * ioLevel + (fx.fillWrite[i] ?? 0);
    const devs = plan.devices.length;
    for (let d = 0; d < devs; d++) {
      const w = this.deviceWeight[d] ?? 0;
      const rb = read * w;
      const wb = write * w;
      st[r + plan.diskReadBytes + d] = rb;
      st[r + plan.diskWriteBytes + d] = wb;
      st[r + plan.diskReadOps + d] = rb / p.readIoSize;
      st[r + plan.diskWriteOps + d] = wb / p.writeIoSize;
    }

    // Network follows requests; saturation pins the primary link and brings errors and drops.
    const netLevel = Math.exp(st[o + H.arNet] ?? 0);
    const rxBase = (traffic * p.bytesIn + p.backgroundNet) * netLevel;
    const txBase = (traffic * p.bytesOut + p.backgroundNet) * netLevel + dbBackup * BACKUP_SHIP_BYTES_PER_S;
    const sat = fx.netSat[i] ?? 0;
    let rx = 0;
    let tx = 0;
    for (let k = 0; k < plan.interfaces; k++) {
      const w = this.ifaceWeight[k] ?? 0;
      let rxK = rxBase * w;
      let txK = txBase * w;
      if (k === 0 && sat > 0) {
        // A flood on the primary interface: transmit pinned near line rate, heavy inbound.
        const txSat = LINK_BYTES_PER_S * (SAT_TX_BASE + SAT_TX_PER_I * sat);
        const rxSat = LINK_BYTES_PER_S * SAT_RX_PER_I * sat;
        if (txK < txSat) txK = txSat;
        if (rxK < rxSat) rxK = rxSat;
      }
      st[r + plan.netRxBytes + k] = rxK;
      st[r + plan.netTxBytes + k] = txK;
      rx += rxK;
      tx += txK;
    }
    const rxPk = rx / RX_PACKET_BYTES;
    const txPk = tx / TX_PACKET_BYTES;
    st[r + plan.netRxPackets] = rxPk;
    st[r + plan.netTxPackets] = txPk;
    st[r + plan.netRxErrors] = rxPk * (BASE_RX_ERROR_RATIO + sat * SAT_RX_ERRORS);
    st[r + plan.netTxDrops] = txPk * (BASE_TX_DROP_RATIO + sat * SAT_TX_DROPS);
    st[o + H.netIn] = rx;
    st[o + H.netOut] = tx;

    st[r + plan.contextSwitches] =
      cores * p.contextSwitchesPerCore * (CTX_IDLE + util) + traffic * p.contextSwitchesPerRequest;

    const crashed = fx.crashed[i] ?? 0;
    for (let s = 0; s < plan.services; s++) st[v + plan.serviceUp + s] = (crashed >> s) & 1 ? 0 : 1;

    // HTTP: requests by method and status; latency histogram from a log-normal around the median.
    let combo = 0;
    for (let m = 0; m < HTTP_METHODS.length; m++) {
      const mRate = traffic * (m === 0 ? p.getShare : 1 - p.getShare);
      const mLatency = latency * (METHOD_LATENCY[m] ?? 1);
      for (let s = 0; s < HTTP_STATUSES.length; s++, combo++) {
        const rate = mRate * (s === 0 ? 1 - errRatio : errRatio);
        const median = s === 0 ? mLatency : mLatency * ERROR_LATENCY;
        st[r + plan.httpRequests + combo] = rate;
        const base = r + plan.httpDuration + combo * HIST_STRIDE;
        const lnMed = Math.log(median);
        let prev = 0;
        for (let b = 0; b < NB; b++) {
          let f = normalCdf(((LN_LE[b] ?? 0) - lnMed) * INV_SIGMA);
          if (f < prev) f = prev;
          st[base + b] = rate * f;
          prev = f;
        }
        st[base + NB] = rate;
        st[base + NB + 1] = rate * median * LATENCY_MEAN_FACTOR;
        st[base + NB + 2] = rate;
      }
    }
  }

  /**
   * emit writes this server's samples at `dtS` seconds after the state's instant into `out` (from
   * plan.first), at the resolution a real source reports; `samples` is a view of this server's sample
   * region. Scenario series are left to the caller. A pure function of the state and dtS, so live ticks and
   * backfill emit bit-identical values.
   */
  emit(st: Float64Array, o: number, samples: Float64Array, out: Float64Array, dtS: number): void {
    const first = this.plan.first;
    out.set(samples, first);
    const centi = this.centi;
    for (let k = 0; k < centi.length; k++) {
      const at = first + (centi[k] ?? 0);
      out[at] = roundCenti(out[at] ?? 0);
    }
    const a = o + HIDDEN + this.plan.count;
    const r = a + this.plan.count;
    const counters = this.counters;
    const isMilli = this.milliCounter;
    for (let k = 0; k < counters.length; k++) {
      const j = counters[k] ?? 0;
      const x = (st[a + j] ?? 0) + (st[r + j] ?? 0) * dtS;
      out[first + j] = isMilli[k] ? floorMilli(x) : Math.floor(x);
    }
  }

  /** cpuOf returns the server's CPU summary from emitted samples: the mean of its per-core percentages. */
  cpuOf(out: Float64Array): number {
    const at = this.plan.first + this.plan.cpu;
    let sum = 0;
    for (let c = 0; c < this.cores; c++) sum += out[at + c] ?? 0;
    return sum / this.cores;
  }

  /** memoryOf returns the server's memory summary from emitted samples: its memory usage percentage. */
  memoryOf(out: Float64Array): number {
    return out[this.plan.first + this.plan.memUsage] ?? 0;
  }

  /** diskOf returns the server's disk summary from emitted samples: its fullest filesystem, in percent. */
  diskOf(out: Float64Array): number {
    const at = this.plan.first + this.plan.diskUsage;
    let max = 0;
    for (let m = 0; m < this.plan.mounts; m++) {
      const x = out[at + m] ?? 0;
      if (x > max) max = x;
    }
    return max;
  }

  /** samplesView returns the view of this server's sample region inside a state array at offset o. */
  samplesView(st: Float64Array, o: number): Float64Array {
    return st.subarray(o + HIDDEN, o + HIDDEN + this.plan.count);
  }
}

/** defaultCores is the core count a role's peak rate is calibrated for (bigger boxes take more traffic). */
function defaultCores(role: ServerInfo['role']): number {
  switch (role) {
    case 'lb':
    case 'web':
    case 'cache':
      return 4;
    case 'api':
    case 'worker':
      return 8;
    case 'db':
      return 16;
  }
}
