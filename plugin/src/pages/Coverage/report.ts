/**
 * Pure views of a coverage report (exporter/src/coverage, schema `coverageReportSchema`) for the Coverage page:
 * the scenario kind × rule matrix, each kind's timeline rows, and the Explore link to the series that should
 * have fired for a missed scenario. Kept apart from React so the arithmetic is tested on its own.
 */
import type { CoverageReport, CoverageScenario, ScenarioKind } from '../../api/types';
import { exploreUrl, type ExploreQuery } from '../../utils/links';

/** MatrixCell is how many of a kind's scenarios one rule fired for, and that count's share of the kind's runs. */
export interface MatrixCell {
  count: number;
  share: number;
}

/** MatrixRow is one scenario kind: a cell per rule column, and its own detected/missed totals. */
export interface MatrixRow {
  kind: ScenarioKind;
  scenarios: number;
  detected: number;
  misses: number;
  cells: MatrixCell[];
}

/** Matrix is the kind × rule table: rule columns (alert names) and one row per kind that ran. */
export interface Matrix {
  rules: string[];
  rows: MatrixRow[];
}

/**
 * buildMatrix lays the report out as kinds (rows) × rules (columns): every rule the report scored, those that
 * caught something first (in the report's order), so a rule that never fires for any kind still shows as a
 * column of zeroes rather than silently disappearing.
 */
export function buildMatrix(report: CoverageReport): Matrix {
  const caughtAny = (r: CoverageReport['rules'][number]) => Object.values(r.caught).some((n) => n > 0);
  const rules = [...report.rules.filter(caughtAny), ...report.rules.filter((r) => !caughtAny(r))];
  const rows = report.kinds
    .filter((k) => k.scenarios > 0)
    .map((k) => ({
      kind: k.kind,
      scenarios: k.scenarios,
      detected: k.detected,
      misses: k.misses,
      cells: rules.map((r) => {
        const count = r.caught[k.kind] ?? 0;
        return { count, share: count / k.scenarios };
      }),
    }));
  return { rules: rules.map((r) => r.alertname), rows };
}

/** TimelineMark is one alert firing drawn on a scenario's bar, in ms from the scenario's start. */
export interface TimelineMark {
  alertname: string;
  server: string;
  /** dependent is true when it fired on a dependent server (a cascade's API or web tier), not the origin. */
  dependent: boolean;
  fromMs: number;
  toMs: number;
}

/** TimelineRow is one scenario of a kind with the alerts that fired on its servers during its window. */
export interface TimelineRow {
  scenario: CoverageScenario;
  durationMs: number;
  marks: TimelineMark[];
}

/** Timeline is one kind's rows and the span (ms from a scenario's start) the chart's x axis covers. */
export interface Timeline {
  kind: ScenarioKind;
  spanMs: number;
  rows: TimelineRow[];
}

/**
 * buildTimeline collects one kind's scenarios (sorted by intensity, role, start, as the HTML report does) with
 * the firings that began on their servers between the scenario's start and its end plus the grace period the
 * scoring allows; the span is the longest scenario plus that grace.
 */
export function buildTimeline(report: CoverageReport, kind: ScenarioKind): Timeline {
  const grace = report.settings.graceMs;
  const scenarios = report.scenarios
    .filter((s) => s.kind === kind)
    .sort((a, b) => a.intensity - b.intensity || a.role.localeCompare(b.role) || a.start - b.start);
  const rows = scenarios.map((s) => {
    const servers = new Set([s.server, ...s.dependents]);
    const marks = report.firings
      .filter((f) => servers.has(f.server) && f.start >= s.start && f.start <= s.end + grace)
      .map((f) => ({
        alertname: f.alertname,
        server: f.server,
        dependent: f.server !== s.server,
        fromMs: f.start - s.start,
        toMs: f.end - s.start,
      }));
    return { scenario: s, durationMs: s.end - s.start, marks };
  });
  const spanMs = rows.length === 0 ? 0 : Math.max(...rows.map((r) => r.durationMs)) + grace;
  return { kind, spanMs, rows };
}

/** quote escapes a label value for a PromQL string literal. */
function quote(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * KEY_SIGNALS is, per scenario kind, the series that shows the failure (what the shipped rules watch), as a
 * PromQL template over one server's selector: the first thing to look at when no alert fired.
 */
const KEY_SIGNALS: Record<ScenarioKind, { expr: (sel: string) => string; legend: string }> = {
  cpu_spike: { expr: (sel) => `avg by (server) (openmanager_cpu_usage_percent{${sel}})`, legend: 'CPU %' },
  memory_leak: { expr: (sel) => `max by (server) (openmanager_memory_usage_percent{${sel}})`, legend: 'memory %' },
  disk_fill: { expr: (sel) => `max by (server, mount) (openmanager_disk_usage_percent{${sel}})`, legend: '{{mount}}' },
  network_saturation: {
    expr: (sel) => `sum by (server) (rate(openmanager_network_receive_bytes_total{${sel}}[5m]))`,
    legend: 'receive B/s',
  },
  service_crash: { expr: (sel) => `max by (server, service) (openmanager_service_up{${sel}})`, legend: '{{service}}' },
  latency_degradation: {
    expr: (sel) =>
      `histogram_quantile(0.99, sum by (le) (rate(openmanager_http_request_duration_seconds_bucket{${sel}}[5m])))`,
    legend: 'p99 latency',
  },
  cascading_failure: {
    expr: (sel) =>
      `sum(rate(openmanager_http_requests_total{${sel},status=~"5.."}[5m])) / sum(rate(openmanager_http_requests_total{${sel}}[5m]))`,
    legend: '5xx ratio',
  },
  server_down: { expr: (sel) => `max by (server) (openmanager_server_up{${sel}})`, legend: 'server up' },
};

/** MISS_LINK_MARGIN_MS widens the Explore window by 10 minutes each side, so the baseline shows around the failure. */
const MISS_LINK_MARGIN_MS = 10 * 60_000;

/** missQueries are the queries a missed scenario's Explore link opens: the ground truth and the key signal. */
export function missQueries(s: Pick<CoverageScenario, 'kind' | 'server'>): ExploreQuery[] {
  const sel = `server=${quote(s.server)}`;
  const key = KEY_SIGNALS[s.kind];
  return [
    { expr: `openmanager_scenario_active{${sel}}`, legendFormat: '{{kind}}' },
    { expr: key.expr(sel), legendFormat: key.legend },
  ];
}

/**
 * missExploreUrl opens, in Explore on `datasourceUid`, the series that should have fired for a missed scenario
 * over its window (plus a margin and the scoring's grace after it).
 */
export function missExploreUrl(s: CoverageScenario, datasourceUid: string, graceMs: number): string {
  return exploreUrl(datasourceUid, missQueries(s), {
    from: s.start - MISS_LINK_MARGIN_MS,
    to: s.end + graceMs + MISS_LINK_MARGIN_MS,
  });
}

/** alertColour gives the i-th alert name a hue 137.5° (the golden angle) from the previous one: distinct for dozens. */
export function alertColour(i: number): string {
  return `hsl(${Math.round((i * 137.508) % 360)}, 65%, 55%)`;
}

/** alertColours maps every alert name that fired in the report to its colour, alphabetically, as the HTML report. */
export function alertColours(report: CoverageReport): Map<string, string> {
  const names = [...new Set(report.firings.map((f) => f.alertname))].sort();
  return new Map(names.map((n, i) => [n, alertColour(i)]));
}
