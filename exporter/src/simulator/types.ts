/**
 * The simulator's contract with the rest of the exporter. The fleet's series set (its layout) is fixed
 * for a fleet; every tick produces one frame of values aligned with that layout, so exposition and ingest
 * never hash label sets on the hot path.
 */
import type { ServerInfo, ServerRole } from '../contract/fleet.js';
import type { Labels } from '../util/labels.js';

// The wire shapes of the fleet (servers, statuses, scenarios) are the contract's; the simulator uses them as is.
export { SCENARIO_KINDS } from '../contract/fleet.js';
export type { Scenario, ScenarioKind, ServerInfo, ServerRole, ServerStatus } from '../contract/fleet.js';

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
