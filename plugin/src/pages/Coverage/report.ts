/**
 * Pure views of a coverage report (exporter/src/coverage, schema `coverageReportSchema`) for the Coverage page:
 * the scenario kind × rule matrix, each kind's timeline rows, and for a missed scenario the series that should
 * have fired (the key signal the run evaluated, laid out as a chart) and its Explore link. Kept apart from React so the arithmetic is tested on its own.
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

/** MISS_LINK_MARGIN_MS widens the Explore window by 10 minutes each side, so the baseline shows around the failure. */
const MISS_LINK_MARGIN_MS = 10 * 60_000;

/**
 * missQueries are the queries a missed scenario's Explore link opens: the ground truth and the key signal the
 * run evaluated for it (the report names its PromQL).
 */
export function missQueries(s: Pick<CoverageScenario, 'server' | 'signal'>): ExploreQuery[] {
  return [
    { expr: `openmanager_scenario_active{server=${quote(s.server)}}`, legendFormat: '{{kind}}' },
    ...(s.signal ? [{ expr: s.signal.expr }] : []),
  ];
}

/** SignalLine is one series of a missed scenario's key signal as an SVG path over a plot of a given size. */
export interface SignalLine {
  name: string;
  d: string;
}

/** SignalPlot is a key signal laid out on a plot: its lines, value range and where the scenario and grace lie. */
export interface SignalPlot {
  lines: SignalLine[];
  min: number;
  max: number;
  /** scenario and grace are [x0, x1] spans in plot units. */
  scenario: [number, number];
  grace: [number, number];
  spanMs: number;
}

/**
 * signalPlot lays a missed scenario's key signal out over a `width` × `height` plot: time left to right over the
 * signal's steps, values bottom to top between their minimum and maximum (a flat series in the middle); a
 * step without a value breaks its line. Undefined when the scenario carries no signal values.
 */
export function signalPlot(
  s: Pick<CoverageScenario, 'start' | 'end' | 'signal'>,
  graceMs: number,
  width: number,
  height: number
): SignalPlot | undefined {
  const sig = s.signal;
  const values = sig?.series.flatMap((r) => r.values.filter((v): v is number => v !== null)) ?? [];
  if (!sig || values.length === 0) {
    return undefined;
  }
  const steps = Math.max(...sig.series.map((r) => r.values.length));
  const spanMs = Math.max(1, (steps - 1) * sig.stepMs);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const x = (t: number) => (Math.min(Math.max(t - sig.start, 0), spanMs) / spanMs) * width;
  const y = (v: number) => (max > min ? height - ((v - min) / (max - min)) * height : height / 2);
  const lines = sig.series.map((r) => {
    let d = '';
    let pen = 'M';
    r.values.forEach((v, k) => {
      if (v === null) {
        pen = 'M';
        return;
      }
      d += `${pen}${x(sig.start + k * sig.stepMs).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = 'L';
    });
    return { name: r.name, d };
  });
  return {
    lines,
    min,
    max,
    scenario: [x(s.start), x(s.end)],
    grace: [x(s.end), x(s.end + graceMs)],
    spanMs,
  };
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
