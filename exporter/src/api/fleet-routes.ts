/**
 * The fleet's JSON API: the seed's unified metrics, server inventory and state, and failure scenarios
 * (list, inject, stop). Reads come from the latest frame; scenario changes go to the simulator and are
 * journaled under the data dir.
 */
import { Router, type Request } from 'express';
import { ERR_BAD_PARAM, ERR_NOT_READY, ERR_UNKNOWN_SERVER } from '../errors.js';
import { parseScenarioSpec, type Fleet } from '../simulator/index.js';
import type { FleetFrame, Scenario, ServerInfo, ServerSummary } from '../simulator/types.js';
import type { Clock } from '../util/clock.js';
import { parseTimeMs } from './time-params.js';
import { serverStatus, toUnifiedMetrics, type FiringAlerts } from './unified-metrics.js';
import type { RequestHandler } from 'express';

/** FleetRoutesDeps are what the fleet API reads and calls. */
export interface FleetRoutesDeps {
  readonly fleet: Fleet;
  readonly clock: Clock;
  /** frame returns the latest frame, or undefined before the first tick. */
  readonly frame: () => FleetFrame | undefined;
  /** guard protects mutating routes (rate limit, bearer token) and parses their JSON body. */
  readonly guard: readonly RequestHandler[];
  /** firing lists a server's firing alerts (the rule manager); none by default. */
  readonly firing?: FiringAlerts;
  /** onScenarioChange is told about every injected or stopped scenario (journal, hub events). */
  readonly onScenarioChange: (change: 'started' | 'stopped', scenario: Scenario) => Promise<void>;
}

/** ServerView is one server as `GET /api/servers` shows it: inventory plus its state at the latest frame. */
export interface ServerView extends ServerInfo {
  readonly status: string;
  readonly alerts: string[];
  readonly up: boolean;
  readonly cpu: number;
  readonly memory: number;
  readonly disk: number;
  readonly network: { in: number; out: number };
  readonly activeScenarios: readonly string[];
}

function view(info: ServerInfo, s: ServerSummary | undefined, firing: FiringAlerts): ServerView {
  const { status, alerts } = s ? serverStatus(s, firing(info.id)) : { status: 'unknown', alerts: [] };
  return {
    ...info,
    status,
    alerts,
    up: s?.up ?? false,
    cpu: s?.cpu ?? 0,
    memory: s?.memory ?? 0,
    disk: s?.disk ?? 0,
    network: { in: s?.networkIn ?? 0, out: s?.networkOut ?? 0 },
    activeScenarios: s?.activeScenarios ?? [],
  };
}

/** parseTime reads a time parameter as the Prometheus API does (time-params.ts); returns ms. */
function parseTime(req: Request, name: string): number | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw ERR_BAD_PARAM(name, 'give it once');
  const ms = parseTimeMs(raw);
  if (ms === undefined) throw ERR_BAD_PARAM(name, `"${raw}" is neither Unix seconds nor RFC 3339`);
  return ms;
}

/** fleetRouter serves /api/unified-metrics, /api/servers[/:id] and /api/scenarios[/:id]. */
export function fleetRouter(deps: FleetRoutesDeps): Router {
  const { fleet, clock } = deps;
  const firing = deps.firing ?? (() => []);
  const r = Router();
  const requireFrame = (): FleetFrame => {
    const f = deps.frame();
    if (!f) throw ERR_NOT_READY('no tick yet');
    return f;
  };

  r.get('/api/unified-metrics', (_req, res) => {
    res.json(toUnifiedMetrics(requireFrame().summaries, firing));
  });

  r.get('/api/servers', (_req, res) => {
    const f = deps.frame();
    res.json({
      timestamp: f?.t ?? null,
      servers: fleet.layout.servers.map((info, i) => view(info, f?.summaries[i], firing)),
    });
  });

  r.get('/api/servers/:id', (req, res) => {
    const i = fleet.serverIndex(req.params.id);
    const info = fleet.layout.servers[i];
    if (i < 0 || !info) throw ERR_UNKNOWN_SERVER(req.params.id);
    const f = deps.frame();
    const [first, end] = fleet.layout.serverSeries[i] ?? [0, 0];
    res.json({
      timestamp: f?.t ?? null,
      server: { ...view(info, f?.summaries[i], firing), series: end - first },
    });
  });

  r.get('/api/scenarios', (req, res) => {
    const now = clock.now();
    const since = parseTime(req, 'since');
    if (since !== undefined && since > now) throw ERR_BAD_PARAM('since', 'must not be in the future');
    res.json({
      now,
      active: fleet.active(now),
      history: since === undefined ? fleet.history(now) : fleet.history(now, since),
    });
  });

  r.post('/api/scenarios', ...deps.guard, async (req, res) => {
    // parseScenarioSpec is the simulator's zod schema: a 400 names the field. An unknown server is a 404.
    const spec = parseScenarioSpec(req.body);
    if (fleet.serverIndex(spec.server) < 0) throw ERR_UNKNOWN_SERVER(spec.server);
    const scenario = fleet.inject(spec, clock.now());
    await deps.onScenarioChange('started', scenario);
    res
      .status(201)
      .location(`/api/scenarios/${encodeURIComponent(scenario.id)}`)
      .json({ scenario });
  });

  r.delete('/api/scenarios/:id', ...deps.guard, async (req, res) => {
    const scenario = fleet.stop(String(req.params.id), clock.now());
    await deps.onScenarioChange('stopped', scenario);
    res.json({ scenario });
  });

  return r;
}
