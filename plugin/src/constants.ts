/**
 * Constants derived from plugin.json, so the id, page paths and proxy routes are written in one place.
 */
import pluginJson from './plugin.json';

/** PLUGIN_ID is the app's id as Grafana knows it. */
export const PLUGIN_ID = pluginJson.id;

/** PLUGIN_BASE_URL is the root of the app's pages inside Grafana. */
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;

/** ROUTES are the app's page paths below PLUGIN_BASE_URL. */
export enum ROUTES {
  Fleet = 'fleet',
  Coverage = 'coverage',
  Drills = 'drills',
  Server = 'server',
  Scenarios = 'scenarios',
  Alerts = 'alerts',
  Analysis = 'analysis',
}

/** PROXY_BASE_URL is the prefix of every exporter call: Grafana's plugin proxy for this app's `routes`. */
export const PROXY_BASE_URL = `api/plugin-proxy/${PLUGIN_ID}`;

type ProxyMethod = 'GET' | 'POST' | 'DELETE';

function routePath(path: string, method: ProxyMethod): string {
  const route = pluginJson.routes.find((r) => r.path === path && r.method === method);
  if (!route) {
    throw new Error(`plugin.json has no ${method} route "${path}"`);
  }
  return route.path;
}

/**
 * PROXY_ROUTES are the plugin.json route paths the API client uses (a missing one fails at load). Every route
 * names its method: Grafana forwards only that method, and only the mutating ones carry the API token.
 */
export const PROXY_ROUTES = {
  api: routePath('api', 'GET'),
  healthz: routePath('healthz', 'GET'),
  scenarios: routePath('api/scenarios', 'POST'),
  silences: routePath('api/silences', 'POST'),
  coverage: routePath('api/coverage', 'POST'),
  drills: routePath('api/drills', 'POST'),
  hubTicket: routePath('api/hub/ticket', 'POST'),
} as const;

/**
 * DEFAULT_DATASOURCE_UID is the uid of the provisioned "OpenManager" Prometheus data source (pointing at the
 * exporter's `/api/prometheus`); the app configuration may name another Prometheus-type source instead.
 */
export const DEFAULT_DATASOURCE_UID = 'openmanager';

/** DEFAULT_EXPORTER_URL is the exporter's default address (its default port, ../../shared/ARCHITECTURE.md). */
export const DEFAULT_EXPORTER_URL = 'http://localhost:3001';

/** HUB_PATH is the exporter's WebSocket endpoint (the hub protocol's `/ws`). */
export const HUB_PATH = '/ws';

/** prefixRoute turns an app route into a Grafana URL path. */
export function prefixRoute(route: string): string {
  return `${PLUGIN_BASE_URL}/${route}`;
}

/** serverPageUrl is the Grafana URL of one server's page. */
export function serverPageUrl(serverId: string): string {
  return prefixRoute(`${ROUTES.Server}/${encodeURIComponent(serverId)}`);
}

/** ACTIONS are the app's RBAC actions (plugin.json `roles`), which its routes require. */
export const ACTIONS = {
  silencesWrite: 'openmanager-fleet-app.silences:write',
  scenariosWrite: 'openmanager-fleet-app.scenarios:write',
  coverageWrite: 'openmanager-fleet-app.coverage:write',
  drillsWrite: 'openmanager-fleet-app.drills:write',
} as const;

/**
 * ANOMALY_THRESHOLD is the analysis' score at which a signal counts as anomalous: the exporter opens a finding at
 * 0.5 (its detector's tests fire there) and counts the pair in the fleet anomaly rate. Charts shade, and Fleet
 * tiles mark, from the same value.
 */
export const ANOMALY_THRESHOLD = 0.5;
