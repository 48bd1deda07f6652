/**
 * What active scenarios do to each server at one grid instant: multipliers and additions the model applies
 * on top of its normal behaviour. Profiles depend only on time since start and the planned duration, so
 * stopping a scenario early never changes values already produced.
 */
import type { ScenarioEntry } from './scenarios.js';
import type { ServerInfo } from './types.js';

/** DISK_FILL_TARGET_FRACTION is where disk_fill drives its mount at intensity 1: ~98 % used. */
export const DISK_FILL_TARGET_FRACTION = 0.98;

/** LEAK_MAX_FRACTION is the share of memory a memory_leak adds by its planned end at intensity 1. */
const LEAK_MAX_FRACTION = 0.6;

/** NET_RAMP_MS, LATENCY_RAMP_MS, CASCADE_RAMP_MS: how fast effects build (saturation is quick, slowdowns creep). */
const NET_RAMP_MS = 20_000;
const LATENCY_RAMP_MS = 120_000;
const CASCADE_RAMP_MS = 60_000;

/**
 * SIZE holds the effect sizes (I = intensity 0..1). They are chosen so that intensity 1 crosses the seed's
 * critical thresholds (CPU > 95 %, memory > 85 %, disk > 90 %) and a mild episode still stands out of the noise.
 */
const SIZE = {
  /** cpu_spike: extra CPU demand as a fraction of the cores; above ~0.6 the run queue grows (load > cores). */
  spikeBase: 0.3,
  spikePerI: 0.8,
  /** network_saturation: latency factor and 5xx ratio added at full saturation (retransmits, timeouts). */
  netLatencyPerI: 2,
  netErrorsPerI: 0.02,
  /** service_crash: traffic still reaching the server (health checks, stale pools) and its 5xx ratio. */
  crashTraffic: 0.08,
  crashErrorsBase: 0.3,
  crashErrorsPerI: 0.5,
  /** latency_degradation: median latency factor, CPU from piled-up requests, 5xx from client timeouts. */
  slowLatencyPerI: 6,
  slowCpuPerI: 0.05,
  slowErrorsPerI: 0.005,
  /** cascading_failure on the database: lock waits, CPU, I/O and tasks blocked on I/O. */
  dbLatencyPerI: 5,
  dbCpuPerI: 0.25,
  dbIoPerI: 2,
  dbIoWaitPerI: 0.3,
  /** cascading_failure on API servers: requests wait on the database; a few time out. */
  apiLatencyPerI: 4,
  apiErrorsPerI: 0.02,
  /** cascading_failure on web servers: upstream timeouts answered as 5xx. */
  webErrorsBase: 0.05,
  webErrorsPerI: 0.25,
  webLatencyPerI: 1.5,
  /** disk_fill: share of the way to the target at intensity 0 (the rest scales with intensity). */
  fillBase: 0.6,
  /** disk_fill: bytes written ≈ this share of the data disk (from ~50 % used toward the target). */
  fillWrittenShare: 0.5,
  /** network_saturation: share of saturation at intensity 0. */
  satBase: 0.5,
} as const;

/** CASCADE_API_DELAY_MS / CASCADE_WEB_DELAY_MS: when a slow database reaches the API tier, then the web tier. */
export const CASCADE_API_DELAY_MS = 60_000;
export const CASCADE_WEB_DELAY_MS = 180_000;

/** Effects holds per-server effect values for one instant; `reset` restores only what was touched. */
export class Effects {
  /** traffic multiplies the request rate. */
  readonly traffic: Float64Array;
  /** cpuExtra is extra CPU demand as a fraction of the server's cores. */
  readonly cpuExtra: Float64Array;
  /** latency multiplies the median response time. */
  readonly latency: Float64Array;
  /** errors is added to the 5xx ratio. */
  readonly errors: Float64Array;
  /** leak is leaked memory as a fraction of total memory. */
  readonly leak: Float64Array;
  /** fill is 0..1 progress of the data mount toward DISK_FILL_TARGET_FRACTION. */
  readonly fill: Float64Array;
  /** fillWrite is extra write bytes/s on the data device while a disk fills. */
  readonly fillWrite: Float64Array;
  /** netSat is 0..1 saturation of the primary interface (drives errors and drops). */
  readonly netSat: Float64Array;
  /** io multiplies disk I/O. */
  readonly io: Float64Array;
  /** ioWait is tasks blocked on I/O (counted by the load average) as a fraction of cores. */
  readonly ioWait: Float64Array;
  /** crashed is a bitmask of crashed service indexes. */
  readonly crashed: Int32Array;
  /** down is 1 while the server does not answer. */
  readonly down: Uint8Array;
  /** reboot is 1 at the first grid instant after a server_down ended (the server boots). */
  readonly reboot: Uint8Array;
  private readonly touched: Int32Array;
  private readonly isTouched: Uint8Array;
  private nTouched = 0;

  constructor(readonly size: number) {
    this.traffic = new Float64Array(size).fill(1);
    this.cpuExtra = new Float64Array(size);
    this.latency = new Float64Array(size).fill(1);
    this.errors = new Float64Array(size);
    this.leak = new Float64Array(size);
    this.fill = new Float64Array(size);
    this.fillWrite = new Float64Array(size);
    this.netSat = new Float64Array(size);
    this.io = new Float64Array(size).fill(1);
    this.ioWait = new Float64Array(size);
    this.crashed = new Int32Array(size);
    this.down = new Uint8Array(size);
    this.reboot = new Uint8Array(size);
    this.touched = new Int32Array(size);
    this.isTouched = new Uint8Array(size);
  }

  private touch(i: number): void {
    if (this.isTouched[i]) return;
    this.isTouched[i] = 1;
    this.touched[this.nTouched++] = i;
  }

  /** reset returns every touched server to "no effect". */
  reset(): void {
    for (let k = 0; k < this.nTouched; k++) {
      const i = this.touched[k] ?? 0;
      this.traffic[i] = 1;
      this.cpuExtra[i] = 0;
      this.latency[i] = 1;
      this.errors[i] = 0;
      this.leak[i] = 0;
      this.fill[i] = 0;
      this.fillWrite[i] = 0;
      this.netSat[i] = 0;
      this.io[i] = 1;
      this.ioWait[i] = 0;
      this.crashed[i] = 0;
      this.down[i] = 0;
      this.reboot[i] = 0;
      this.isTouched[i] = 0;
    }
    this.nTouched = 0;
  }

  /**
   * apply adds the effects at grid instant `t` of `entries` (those overlapping (t - gridMs, t]).
   * Scenarios act while start ≤ t < end; a server_down that ended in (t - gridMs, t] sets `reboot`.
   */
  apply(entries: readonly ScenarioEntry[], t: number, gridMs: number, servers: readonly ServerInfo[]): void {
    for (const e of entries) {
      if (e.kind === 'server_down' && e.end > t - gridMs && e.end <= t) {
        this.touch(e.origin);
        this.reboot[e.origin] = 1;
      }
      if (!(e.start <= t && t < e.end)) continue;
      const elapsed = t - e.start;
      const planned = Math.max(1, e.plannedEnd - e.start);
      const progress = Math.min(1, elapsed / planned);
      const I = e.intensity;
      const o = e.origin;
      this.touch(o);
      switch (e.kind) {
        case 'cpu_spike':
          // Abrupt: a runaway process grabs the CPUs at once.
          this.cpuExtra[o] = (this.cpuExtra[o] ?? 0) + SIZE.spikeBase + SIZE.spikePerI * I;
          break;
        case 'memory_leak':
          // Linear growth over the planned duration; the clamp in the model stops it near 98.5 %.
          this.leak[o] = (this.leak[o] ?? 0) + LEAK_MAX_FRACTION * I * progress;
          break;
        case 'disk_fill': {
          const f = progress * (SIZE.fillBase + (1 - SIZE.fillBase) * I);
          if (f > (this.fill[o] ?? 0)) this.fill[o] = f;
          const data = largestDisk(servers[o]);
          this.fillWrite[o] =
            (this.fillWrite[o] ?? 0) +
            (SIZE.fillWrittenShare * data * (SIZE.fillBase + (1 - SIZE.fillBase) * I)) / (planned / 1000);
          break;
        }
        case 'network_saturation': {
          const r = Math.min(1, elapsed / NET_RAMP_MS);
          const s = r * (SIZE.satBase + (1 - SIZE.satBase) * I);
          if (s > (this.netSat[o] ?? 0)) this.netSat[o] = s;
          this.latency[o] = (this.latency[o] ?? 1) * (1 + SIZE.netLatencyPerI * I * r);
          this.errors[o] = (this.errors[o] ?? 0) + SIZE.netErrorsPerI * I * r;
          break;
        }
        case 'service_crash':
          // The service is gone: the load balancer stops sending most traffic, what still arrives fails.
          if (e.service >= 0) this.crashed[o] = (this.crashed[o] ?? 0) | (1 << e.service);
          this.traffic[o] = (this.traffic[o] ?? 1) * SIZE.crashTraffic;
          this.errors[o] = (this.errors[o] ?? 0) + SIZE.crashErrorsBase + SIZE.crashErrorsPerI * I;
          break;
        case 'latency_degradation': {
          const r = Math.min(1, elapsed / LATENCY_RAMP_MS);
          this.latency[o] = (this.latency[o] ?? 1) * (1 + SIZE.slowLatencyPerI * I * r);
          this.cpuExtra[o] = (this.cpuExtra[o] ?? 0) + SIZE.slowCpuPerI * I * r;
          this.errors[o] = (this.errors[o] ?? 0) + SIZE.slowErrorsPerI * I * r;
          break;
        }
        case 'cascading_failure':
          this.cascade(e, elapsed, servers);
          break;
        case 'server_down':
          this.down[o] = 1;
          break;
      }
    }
  }

  private cascade(e: ScenarioEntry, elapsed: number, servers: readonly ServerInfo[]): void {
    const I = e.intensity;
    for (let k = 0; k < e.affected.length; k++) {
      const i = e.affected[k] ?? 0;
      this.touch(i);
      if (k === 0) {
        // The database slows down: lock contention and I/O pile up.
        const r = Math.min(1, elapsed / CASCADE_RAMP_MS);
        this.latency[i] = (this.latency[i] ?? 1) * (1 + SIZE.dbLatencyPerI * I * r);
        this.cpuExtra[i] = (this.cpuExtra[i] ?? 0) + SIZE.dbCpuPerI * I * r;
        this.io[i] = (this.io[i] ?? 1) * (1 + SIZE.dbIoPerI * I * r);
        this.ioWait[i] = (this.ioWait[i] ?? 0) + SIZE.dbIoWaitPerI * I * r;
      } else if (servers[i]?.role === 'api') {
        // API requests wait on the database.
        const r = Math.min(1, Math.max(0, elapsed - CASCADE_API_DELAY_MS) / CASCADE_RAMP_MS);
        this.latency[i] = (this.latency[i] ?? 1) * (1 + SIZE.apiLatencyPerI * I * r);
        this.errors[i] = (this.errors[i] ?? 0) + SIZE.apiErrorsPerI * I * r;
      } else {
        // Web servers time out on the API and answer 5xx.
        const r = Math.min(1, Math.max(0, elapsed - CASCADE_WEB_DELAY_MS) / CASCADE_RAMP_MS);
        this.errors[i] = (this.errors[i] ?? 0) + (SIZE.webErrorsBase + SIZE.webErrorsPerI * I) * r;
        this.latency[i] = (this.latency[i] ?? 1) * (1 + SIZE.webLatencyPerI * I * r);
      }
    }
  }
}

/** largestDisk returns the size in bytes of a server's largest disk (its data volume). */
export function largestDisk(info: ServerInfo | undefined): number {
  let max = 0;
  for (const d of info?.disks ?? []) if (d.sizeBytes > max) max = d.sizeBytes;
  return max;
}

/** dataMountIndex returns the index of the mount a disk_fill fills: the largest disk (last on ties). */
export function dataMountIndex(info: ServerInfo): number {
  let best = 0;
  info.disks.forEach((d, k) => {
    if (d.sizeBytes >= (info.disks[best]?.sizeBytes ?? 0)) best = k;
  });
  return best;
}
