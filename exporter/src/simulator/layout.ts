/**
 * The fleet's fixed series set: every `openmanager_*` family of shared/SEED.md with its HELP text, and for
 * each server a contiguous block of series in family order. Alongside the public FleetLayout this builds a
 * ServerPlan per server: where each kind of series sits inside the server's block, so the model writes
 * values by offset and never touches labels on the hot path.
 */
import { METRIC_NAME } from '../util/labels.js';
import {
  SCENARIO_KINDS,
  type FamilyDesc,
  type FleetLayout,
  type SeriesDesc,
  type ServerInfo,
} from './types.js';

/** SCENARIO_KINDS is re-exported here beside the layout whose scenario series follow its order. */
export { SCENARIO_KINDS };

/** HTTP_METHODS are the `method` label values of the HTTP families (reads and writes). */
export const HTTP_METHODS = ['GET', 'POST'] as const;

/** HTTP_STATUSES are the `status` label values of the HTTP families (success and server error). */
export const HTTP_STATUSES = ['200', '500'] as const;

/** LATENCY_BUCKETS are the histogram's finite upper bounds in seconds: the Prometheus clients' DefBuckets. */
export const LATENCY_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** HIST_STRIDE is the number of series per histogram label set: finite buckets, `+Inf`, `_sum`, `_count`. */
export const HIST_STRIDE = LATENCY_BUCKETS.length + 3;

/** HTTP_COMBOS is the number of (method, status) label sets. */
export const HTTP_COMBOS = HTTP_METHODS.length * HTTP_STATUSES.length;

/** Fam indexes FAMILIES; the order is the exposition order. */
export const Fam = {
  cpuUsage: 0,
  load1: 1,
  load5: 2,
  load15: 3,
  contextSwitches: 4,
  memUsage: 5,
  memUsed: 6,
  memTotal: 7,
  memAvailable: 8,
  swapUsed: 9,
  diskUsage: 10,
  diskReadBytes: 11,
  diskWriteBytes: 12,
  diskReadOps: 13,
  diskWriteOps: 14,
  netRxBytes: 15,
  netTxBytes: 16,
  netRxPackets: 17,
  netTxPackets: 18,
  netRxErrors: 19,
  netTxDrops: 20,
  serviceUp: 21,
  httpRequests: 22,
  httpDuration: 23,
  scenarioActive: 24,
} as const;

const g = (name: string, unit: string, help: string): FamilyDesc => ({ name, help, type: 'gauge', unit });
const c = (name: string, unit: string, help: string): FamilyDesc => ({ name, help, type: 'counter', unit });

/** FAMILIES are the exposed metric families (names without `_total`), indexed by Fam. */
/**
 * SCENARIO_ACTIVE_FAMILY is the scenario ground truth: unlike the server's own series it comes from the
 * simulator, so it is exported and stored for a server that is down too (a server_down is ground truth as well).
 */
export const SCENARIO_ACTIVE_FAMILY = 'openmanager_scenario_active';

export const FAMILIES: readonly FamilyDesc[] = [
  g(
    'openmanager_cpu_usage_percent',
    'percent',
    'CPU time spent busy on one core over the last interval, in percent (0-100).',
  ),
  g(
    'openmanager_cpu_load_average_1m',
    '',
    'Load average over 1 minute: exponentially damped mean of runnable and uninterruptible tasks, as Linux computes it.',
  ),
  g(
    'openmanager_cpu_load_average_5m',
    '',
    'Load average over 5 minutes: exponentially damped mean of runnable and uninterruptible tasks, as Linux computes it.',
  ),
  g(
    'openmanager_cpu_load_average_15m',
    '',
    'Load average over 15 minutes: exponentially damped mean of runnable and uninterruptible tasks, as Linux computes it.',
  ),
  c('openmanager_cpu_context_switches', '', 'Context switches since boot.'),
  g(
    'openmanager_memory_usage_percent',
    'percent',
    'Memory in use (total minus available) as a percentage of total memory.',
  ),
  g('openmanager_memory_used_bytes', 'bytes', 'Memory in use in bytes: total minus available.'),
  g('openmanager_memory_total_bytes', 'bytes', 'Total usable physical memory in bytes.'),
  g(
    'openmanager_memory_available_bytes',
    'bytes',
    'Memory available for new work without swapping (free plus reclaimable page cache), in bytes.',
  ),
  g('openmanager_swap_used_bytes', 'bytes', 'Swap space in use in bytes.'),
  g('openmanager_disk_usage_percent', 'percent', 'Used space of a mounted filesystem in percent (0-100).'),
  c('openmanager_disk_read_bytes', 'bytes', 'Bytes read from a block device since boot.'),
  c('openmanager_disk_write_bytes', 'bytes', 'Bytes written to a block device since boot.'),
  c('openmanager_disk_read_ops', '', 'Read operations completed on a block device since boot.'),
  c('openmanager_disk_write_ops', '', 'Write operations completed on a block device since boot.'),
  c('openmanager_network_receive_bytes', 'bytes', 'Bytes received on a network interface since boot.'),
  c('openmanager_network_transmit_bytes', 'bytes', 'Bytes transmitted on a network interface since boot.'),
  c('openmanager_network_receive_packets', '', 'Packets received on all interfaces since boot.'),
  c('openmanager_network_transmit_packets', '', 'Packets transmitted on all interfaces since boot.'),
  c(
    'openmanager_network_receive_errors',
    '',
    'Receive errors (bad frames, overruns) on all interfaces since boot.',
  ),
  c(
    'openmanager_network_transmit_drops',
    '',
    'Packets dropped on transmit (full queues) on all interfaces since boot.',
  ),
  g('openmanager_service_up', '', 'Whether a service on the server is running (1) or not (0).'),
  c('openmanager_http_requests', '', 'HTTP requests served since boot, by method and status code.'),
  {
    name: 'openmanager_http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method and status code.',
    type: 'histogram',
    unit: 'seconds',
  },
  g(
    SCENARIO_ACTIVE_FAMILY,
    '',
    'Whether a failure scenario of this kind currently affects the server (1) or not (0): the ground truth.',
  ),
];

/** SeriesKind says how the model turns a series' state into a sample. */
export const SeriesKind = {
  /** gauge: the stored value as is (already whole: bytes, 0/1). */
  gauge: 0,
  /** intCounter: an integral of a rate, floored to a whole number (requests, bytes, packets…). */
  intCounter: 1,
  /** milliCounter: an integral of a rate floored to whole thousandths (the histogram's `_sum`, whole ms). */
  milliCounter: 2,
  /** scenario: `openmanager_scenario_active`, computed from the scenario book at the exact instant. */
  scenario: 3,
  /** centiGauge: a gauge rounded to 2 decimals (percentages, load averages), as real sources print them. */
  centiGauge: 4,
} as const;

/**
 * ServerPlan locates a server's series: all offsets are relative to `first` (the server's first index in
 * FleetLayout.series); `kinds[k]` is the SeriesKind of series `first + k`.
 */
export interface ServerPlan {
  readonly first: number;
  readonly count: number;
  readonly kinds: Uint8Array;
  readonly cores: number;
  readonly cpu: number;
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  readonly contextSwitches: number;
  readonly memUsage: number;
  readonly memUsed: number;
  readonly memTotal: number;
  readonly memAvailable: number;
  readonly swapUsed: number;
  readonly mounts: number;
  readonly diskUsage: number;
  /** devices are the distinct block devices of the server's disks, in first-seen order. */
  readonly devices: readonly string[];
  readonly diskReadBytes: number;
  readonly diskWriteBytes: number;
  readonly diskReadOps: number;
  readonly diskWriteOps: number;
  readonly interfaces: number;
  readonly netRxBytes: number;
  readonly netTxBytes: number;
  readonly netRxPackets: number;
  readonly netTxPackets: number;
  readonly netRxErrors: number;
  readonly netTxDrops: number;
  readonly services: number;
  readonly serviceUp: number;
  /** httpRequests is the first of HTTP_COMBOS series, ordered method-major (GET 200, GET 500, POST 200, …). */
  readonly httpRequests: number;
  /** httpDuration is the first of HTTP_COMBOS blocks of HIST_STRIDE series: buckets by `le`, +Inf, _sum, _count. */
  readonly httpDuration: number;
  readonly scenarioActive: number;
}

/** FleetPlan is a layout plus the per-server plans the model writes through. */
export interface FleetPlan {
  readonly layout: FleetLayout;
  readonly plans: readonly ServerPlan[];
}

/** formatLe renders a bucket bound as Prometheus clients do (`0.005`, `1`, `+Inf`). */
function formatLe(le: number): string {
  return le === Infinity ? '+Inf' : String(le);
}

/** buildFleetPlan lays out every series of `servers` and returns the layout with the per-server plans. */
export function buildFleetPlan(servers: readonly ServerInfo[]): FleetPlan {
  const series: SeriesDesc[] = [];
  const serverSeries: (readonly [number, number])[] = [];
  const plans: ServerPlan[] = [];
  servers.forEach((info, si) => {
    const first = series.length;
    const kinds: number[] = [];
    const server = info.id;
    const add = (family: number, kind: number, labels: Record<string, string>, suffix = ''): number => {
      const fam = FAMILIES[family];
      if (!fam) throw new Error(`unknown family ${family}`);
      series.push({ family, server: si, labels: { [METRIC_NAME]: fam.name + suffix, server, ...labels } });
      kinds.push(kind);
      return series.length - 1 - first;
    };
    const many = (
      family: number,
      kind: number,
      label: string,
      values: readonly string[],
      suffix = '',
    ): number => {
      let at = -1;
      for (const v of values) {
        const k = add(family, kind, { [label]: v }, suffix);
        if (at < 0) at = k;
      }
      return at;
    };
    const { gauge, intCounter, milliCounter, scenario, centiGauge } = SeriesKind;
    const coreNames = Array.from({ length: info.cores }, (_, i) => String(i));
    const devices = [...new Set(info.disks.map((d) => d.device))];
    const cpu = many(Fam.cpuUsage, centiGauge, 'core', coreNames);
    const load1 = add(Fam.load1, centiGauge, {});
    const load5 = add(Fam.load5, centiGauge, {});
    const load15 = add(Fam.load15, centiGauge, {});
    const contextSwitches = add(Fam.contextSwitches, intCounter, {}, '_total');
    const memUsage = add(Fam.memUsage, centiGauge, {});
    const memUsed = add(Fam.memUsed, gauge, {});
    const memTotal = add(Fam.memTotal, gauge, {});
    const memAvailable = add(Fam.memAvailable, gauge, {});
    const swapUsed = add(Fam.swapUsed, gauge, {});
    const diskUsage = many(
      Fam.diskUsage,
      centiGauge,
      'mount',
      info.disks.map((d) => d.mount),
    );
    const diskReadBytes = many(Fam.diskReadBytes, intCounter, 'device', devices, '_total');
    const diskWriteBytes = many(Fam.diskWriteBytes, intCounter, 'device', devices, '_total');
    const diskReadOps = many(Fam.diskReadOps, intCounter, 'device', devices, '_total');
    const diskWriteOps = many(Fam.diskWriteOps, intCounter, 'device', devices, '_total');
    const netRxBytes = many(Fam.netRxBytes, intCounter, 'interface', info.interfaces, '_total');
    const netTxBytes = many(Fam.netTxBytes, intCounter, 'interface', info.interfaces, '_total');
    const netRxPackets = add(Fam.netRxPackets, intCounter, {}, '_total');
    const netTxPackets = add(Fam.netTxPackets, intCounter, {}, '_total');
    const netRxErrors = add(Fam.netRxErrors, intCounter, {}, '_total');
    const netTxDrops = add(Fam.netTxDrops, intCounter, {}, '_total');
    const serviceUp =
      info.services.length > 0 ? many(Fam.serviceUp, gauge, 'service', info.services) : kinds.length;
    let httpRequests = -1;
    for (const method of HTTP_METHODS)
      for (const status of HTTP_STATUSES) {
        const k = add(Fam.httpRequests, intCounter, { method, status }, '_total');
        if (httpRequests < 0) httpRequests = k;
      }
    let httpDuration = -1;
    for (const method of HTTP_METHODS)
      for (const status of HTTP_STATUSES) {
        for (const le of [...LATENCY_BUCKETS, Infinity]) {
          const k = add(Fam.httpDuration, intCounter, { method, status, le: formatLe(le) }, '_bucket');
          if (httpDuration < 0) httpDuration = k;
        }
        add(Fam.httpDuration, milliCounter, { method, status }, '_sum');
        add(Fam.httpDuration, intCounter, { method, status }, '_count');
      }
    const scenarioActive = many(Fam.scenarioActive, scenario, 'scenario', SCENARIO_KINDS);
    const count = series.length - first;
    serverSeries.push([first, first + count] as const);
    plans.push({
      first,
      count,
      kinds: Uint8Array.from(kinds),
      cores: info.cores,
      cpu,
      load1,
      load5,
      load15,
      contextSwitches,
      memUsage,
      memUsed,
      memTotal,
      memAvailable,
      swapUsed,
      mounts: info.disks.length,
      diskUsage,
      devices,
      diskReadBytes,
      diskWriteBytes,
      diskReadOps,
      diskWriteOps,
      interfaces: info.interfaces.length,
      netRxBytes,
      netTxBytes,
      netRxPackets,
      netTxPackets,
      netRxErrors,
      netTxDrops,
      services: info.services.length,
      serviceUp,
      httpRequests,
      httpDuration,
      scenarioActive,
    });
  });
  return { layout: { families: FAMILIES, servers, series, serverSeries }, plans };
}

/** buildLayout returns the fixed series set of a fleet of `servers`. */
export function buildLayout(servers: readonly ServerInfo[]): FleetLayout {
  return buildFleetPlan(servers).layout;
}

/**
 * findSeries returns the index in `layout.series` of the series with sample name `name` whose labels
 * include `labels` (first match), or -1. A linear scan: for tests, tools and one-off lookups, not per tick.
 */
export function findSeries(
  layout: FleetLayout,
  name: string,
  labels: Readonly<Record<string, string>>,
): number {
  const want = Object.entries(labels);
  return layout.series.findIndex(
    (s) => s.labels[METRIC_NAME] === name && want.every(([k, v]) => s.labels[k] === v),
  );
}
