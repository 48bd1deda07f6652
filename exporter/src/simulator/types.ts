/**
 * The simulator's contract with the rest of the exporter. The fleet's series set (its layout) is fixed
 * for a fleet; every tick produces one frame of values aligned with that layout, so exposition and ingest
 * never hash label sets on the hot path.
 */
import type { Labels } from '../util/labels.js';

/** MetricType is a Prometheus metric family type. */
export type MetricType = 'gauge' | 'counter' | 'histogram';

/** FamilyDesc describes one metric family as exposed (HELP/TYPE). `name` has no `_total`/`_bucket` suffix. */
export interface FamilyDesc {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** unit as OpenMetrics names it (`bytes`, `seconds`, `percent`…), or '' when none. */
  readonly unit: string;
}

/**
 * SeriesDesc is one series of the fleet: `labels` includes `__name__` (the sample name, with any
 * `_total`, `_bucket`, `_sum` or `_count` suffix) and `server`. `family` indexes FleetLayout.families.
 */
export interface SeriesDesc {
  readonly family: number;
  readonly labels: Labels;
  /** server is the index of the server this series belongs to (FleetLayout.servers). */
  readonly server: number;
}

/** ServerRole is a server's job in the fleet, which sets its baselines and services. */
export type ServerRole = 'web' | 'api' | 'db' | 'cache' | 'worker' | 'lb';

/** ServerInfo is a server's static description (from the fleet file). */
export interface ServerInfo {
  readonly id: string;
  readonly role: ServerRole;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly disks: readonly { readonly mount: string; readonly device: string; readonly sizeBytes: number }[];
  readonly interfaces: readonly string[];
  readonly services: readonly string[];
  readonly zone: string;
}

/**
 * FleetLayout is the fixed series set of a fleet. Series of one server are contiguous:
 * `serverSeries[i]` = [first, end) indexes into `series` for server i. Families are ordered for exposition,
 * and within a server the series of one family are contiguous and in family order.
 */
export interface FleetLayout {
  readonly families: readonly FamilyDesc[];
  readonly servers: readonly ServerInfo[];
  readonly series: readonly SeriesDesc[];
  readonly serverSeries: readonly (readonly [number, number])[];
}

/** ServerStatus is the seed's three health levels plus `down` (the server does not answer). */
export type ServerStatus = 'healthy' | 'warning' | 'critical' | 'down';

/** ServerSummary is one server's headline state at a frame, in the seed's units (percent, bytes/s). */
export interface ServerSummary {
  readonly id: string;
  readonly role: ServerRole;
  readonly cpu: number;
  readonly memory: number;
  readonly disk: number;
  readonly networkIn: number;
  readonly networkOut: number;
  readonly up: boolean;
  /** activeScenarios are the ids of the scenarios affecting this server at the frame. */
  readonly activeScenarios: readonly string[];
}

/**
 * FleetFrame is the fleet's state at one instant. `values[k]` is the value of `layout.series[k]`.
 * A server that is down (`summaries[i].up === false`) has undefined values: exposition omits it and ingest
 * writes a staleness marker for each of its series once.
 */
export interface FleetFrame {
  readonly t: number;
  readonly values: Float64Array;
  readonly summaries: readonly ServerSummary[];
}

/** SCENARIO_KINDS lists every scenario kind, in the order of the `openmanager_scenario_active` series. */
export const SCENARIO_KINDS = [
  'cpu_spike',
  'memory_leak',
  'disk_fill',
  'network_saturation',
  'service_crash',
  'latency_degradation',
  'cascading_failure',
  'server_down',
] as const;

/** ScenarioKind names a failure scenario. */
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

/** Scenario is one failure episode: the ground truth later features (alerts, anomaly analysis) are scored on. */
export interface Scenario {
  readonly id: string;
  readonly kind: ScenarioKind;
  /** server is the id of the server it starts on (cascading failures spread to others, listed in `affected`). */
  readonly server: string;
  readonly affected: readonly string[];
  /** start and end in Unix ms; end may be cut short by DELETE (then `stoppedAt` is set). */
  readonly start: number;
  readonly end: number;
  readonly intensity: number;
  readonly source: 'schedule' | 'api';
  readonly stoppedAt?: number;
}
