/**
 * The fleet as the exporter's JSON API and the plugin see it: servers, their status levels, failure scenarios
 * and the request and response shapes of `/api/servers` and `/api/scenarios`. Types and zod schemas only.
 */
import { z } from 'zod';

/** SERVER_ROLES lists every role a server can have, in the order fleets are laid out. */
export const SERVER_ROLES = ['lb', 'web', 'api', 'db', 'cache', 'worker'] as const;

/** ServerRole is a server's job in the fleet, which sets its baselines and services. */
export type ServerRole = (typeof SERVER_ROLES)[number];

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

/** SERVER_STATUSES are the seed's three health levels plus `down` (the server does not answer). */
export const SERVER_STATUSES = ['healthy', 'warning', 'critical', 'down'] as const;

/** ServerStatus is one of SERVER_STATUSES. */
export type ServerStatus = (typeof SERVER_STATUSES)[number];

/** serverStatusSchema validates a server status. */
export const serverStatusSchema: z.ZodType<ServerStatus> = z.enum(SERVER_STATUSES);

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

const unixMs = z.number().int().nonnegative();

/** scenarioSchema validates a scenario as the API and the hub send it. */
export const scenarioSchema: z.ZodType<Scenario> = z.object({
  id: z.string(),
  kind: z.enum(SCENARIO_KINDS),
  server: z.string(),
  affected: z.array(z.string()),
  start: unixMs,
  end: unixMs,
  intensity: z.number().refine(Number.isFinite, 'must be a finite number'),
  source: z.enum(['schedule', 'api']),
  stoppedAt: unixMs.optional(),
});

/** ScenarioRequest is the body of `POST /api/scenarios` (duration and intensity have defaults). */
export interface ScenarioRequest {
  kind: ScenarioKind;
  server: string;
  durationSeconds?: number;
  intensity?: number;
}

/** ScenariosResponse is `GET /api/scenarios`: the active scenarios and the newest of the history (ground truth). */
export interface ScenariosResponse {
  now: number;
  active: Scenario[];
  history: Scenario[];
  /** truncated says the history had more scenarios than the `limit` returned. */
  truncated?: boolean;
}

/** ServerView is one server as `GET /api/servers` shows it: inventory plus its state at the latest frame. */
export interface ServerView extends ServerInfo {
  readonly status: ServerStatus | 'unknown';
  readonly alerts: string[];
  readonly up: boolean;
  readonly cpu: number;
  readonly memory: number;
  readonly disk: number;
  readonly network: { in: number; out: number };
  readonly activeScenarios: readonly string[];
}

/** ServersResponse is `GET /api/servers`. */
export interface ServersResponse {
  timestamp: number | null;
  servers: ServerView[];
}
