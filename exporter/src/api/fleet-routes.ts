/**
 * The fleet's JSON API: the seed's unified metrics, server inventory and state, and failure scenarios
 * (list, inject, stop). Reads come from the latest frame; scenario changes go to the simulator and are
 * journaled under the data dir.
 */
import { Router, type Request } from 'express';
import type { ServerView } from '../contract/index.js';
import { ERR_BAD_PARAM, ERR_NOT_READY, ERR_UNKNOWN_SERVER } from '../errors.js';
import { DEFAULT_HISTORY_MS, parseScenarioSpec, type Fleet } from '../simulator/index.js';
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

function view(info: ServerInfo, s: ServerSummary | undefined, firing: FiringAlerts): ServerView {
  const { status, alerts }: Pick<ServerView, 'status' | 'alerts'> = s
    ? serverStatus(s, firing(info.id))
    : { status: 'unknown', alerts: [] };
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

/**
 * DEFAULT_HISTORY_LIMIT and MAX_HISTORY_LIMIT bound the scenarios `GET /api/scenarios` returns: the default
 * holds the default 8-day window at the default 3 scenarios per hour (~580) with room; the maximum keeps one
 * answer well under the 250 ms a request may hold the event loop (5,000 scenarios: ~0.9 MB, ~40 ms).
 */
export const DEFAULT_HISTORY_LIMIT = 1_000;
export const MAX_HISTORY_LIMIT = 5_000;

/** parseLimit reads `limit` (an integer 1 … MAX_HISTORY_LIMIT), DEFAULT_HISTORY_LIMIT when absent. */
function parseLimit(req: Request): number {
  const raw = req.query.limit;
  if (raw === undefined) return DEFAULT_HISTORY_LIMIT;
  const n = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_HISTORY_LIMIT))
    throw ERR_BAD_PARAM(
      'limit',
      `give an integer from 1 to ${MAX_HISTORY_LIMIT} (the newest scenarios first)`,
    );
  return n;
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
    const since = parseTime(req, 'since') ?? now - DEFAULT_HISTORY_MS;
    if (since > now) throw ERR_BAD_PARAM('since', 'must not be in the future');
    const limit = parseLimit(req);
    // The newest `limit` scenarios only: all of them since the fleet's epoch (`since=0`) are ~30,000 at 3 per
    // hour, 8.8 MB of JSON that held the event loop ~0.4 s per request.
    const { scenarios, truncated } = fleet.latestHistory(now, since, limit);
    res.json({ now, active: fleet.active(now), history: scenarios, truncated });
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
