/**
 * Scoring: firing episodes against the scenarios' ground truth, into the report of contract/coverage.ts.
 *
 * - A scenario's window is [start, end + grace]. A firing episode that begins inside the window of a scenario
 *   affecting its server is a true fire, credited to every such scenario; one that begins outside every
 *   window, and fires after the warm-up, is a false alarm. Episodes still firing from before a window do not
 *   count as detecting it: the alert did not react to the failure.
 * - A scenario is detected when any alert fires for a server it affects (its origin, or a cascading
 *   failure's dependents); its time to fire is from its start to the first such episode.
 * - A flap is an episode that begins within flapWindowMs after the same alert (same label set) stopped.
 */
import {
  COVERAGE_REPORT_VERSION,
  type CoverageFiring,
  type CoverageKind,
  type CoverageReport,
  type CoverageRule,
  type CoverageScenario,
  type CoverageSettings,
  type CoverageSignal,
} from '../contract/coverage.js';
import type { ScenarioKind, ServerRole } from '../simulator/index.js';

const DAY_MS = 86_400_000;

/** Episode is one firing episode of one alert (one label set, `key`). */
export interface Episode extends CoverageFiring {
  readonly key: string;
}

/** ScenarioTruth is one injected scenario as scoring needs it. */
export interface ScenarioTruth {
  readonly id: string;
  readonly kind: ScenarioKind;
  readonly role: ServerRole;
  readonly intensity: number;
  readonly server: string;
  readonly dependents: readonly string[];
  readonly start: number;
  readonly end: number;
}

/** ScoreInput is everything scoring reads. */
export interface ScoreInput {
  readonly settings: CoverageSettings;
  readonly scenarios: readonly ScenarioTruth[];
  readonly episodes: readonly Episode[];
  /** alertNames are every alerting rule loaded (rules that never fired are reported too). */
  readonly alertNames: readonly string[];
  /** signals are key signals by scenario id; a missed scenario's is reported with it. */
  readonly signals?: ReadonlyMap<string, CoverageSignal>;
}

/** quantileNearest is the nearest-rank quantile of sorted values (null when empty). */
function quantileNearest(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null;
}

/** sortedRecord returns a record with its keys in sorted order (a stable JSON rendering). */
function sortedRecord(m: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k) ?? 0;
  return out;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** scoreCoverage turns episodes and ground truth into the report. */
export function scoreCoverage(input: ScoreInput): CoverageReport {
  const { settings } = input;
  const scoredFrom = settings.start + settings.warmupMs;
  const inWindow = (s: ScenarioTruth, t: number): boolean => t >= s.start && t <= s.end + settings.graceMs;
  const affects = (s: ScenarioTruth, server: string): 'origin' | 'dependent' | undefined =>
    s.server === server ? 'origin' : s.dependents.includes(server) ? 'dependent' : undefined;

  const firstFire = new Map<string, number>();
  const originAlerts = new Map<string, Set<string>>();
  const dependentAlerts = new Map<string, Set<string>>();
  const ruleTrue = new Map<string, number>();
  const ruleFalse = new Map<string, number>();
  const ruleCaught = new Map<string, Map<ScenarioKind, Set<string>>>();
  let falseAlarms = 0;

  const episodes = [...input.episodes].sort(
    (a, b) => a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  for (const e of episodes) {
    let matched = false;
    for (const s of input.scenarios) {
      const role = affects(s, e.server);
      if (!role || !inWindow(s, e.start)) continue;
      matched = true;
      if ((firstFire.get(s.id) ?? Infinity) > e.start) firstFire.set(s.id, e.start);
      const sets = role === 'origin' ? originAlerts : dependentAlerts;
      const set = sets.get(s.id) ?? new Set<string>();
      set.add(e.alertname);
      sets.set(s.id, set);
      const byKind = ruleCaught.get(e.alertname) ?? new Map<ScenarioKind, Set<string>>();
      byKind.set(s.kind, (byKind.get(s.kind) ?? new Set<string>()).add(s.id));
      ruleCaught.set(e.alertname, byKind);
    }
    if (matched) ruleTrue.set(e.alertname, (ruleTrue.get(e.alertname) ?? 0) + 1);
    else if (e.end > scoredFrom) {
      // Firing in the scored time without a cause (one that began in the warm-up and goes on counts too).
      ruleFalse.set(e.alertname, (ruleFalse.get(e.alertname) ?? 0) + 1);
      falseAlarms++;
    }
  }

  // Flaps: per label set, episodes in start order.
  const ruleFlaps = new Map<string, number>();
  const lastEnd = new Map<string, number>();
  for (const e of episodes) {
    const prev = lastEnd.get(e.key);
    if (prev !== undefined && e.start - prev <= settings.flapWindowMs)
      ruleFlaps.set(e.alertname, (ruleFlaps.get(e.alertname) ?? 0) + 1);
    lastEnd.set(e.key, e.end);
  }

  const scenarios: CoverageScenario[] = input.scenarios.map((s) => {
    const first = firstFire.get(s.id);
    return {
      id: s.id,
      kind: s.kind,
      role: s.role,
      intensity: s.intensity,
      server: s.server,
      dependents: [...s.dependents],
      start: s.start,
      end: s.end,
      detected: first !== undefined,
      timeToFireS: first === undefined ? null : (first - s.start) / 1000,
      alerts: [...(originAlerts.get(s.id) ?? [])].sort(),
      dependentAlerts: [...(dependentAlerts.get(s.id) ?? [])].sort(),
      ...(first === undefined && input.signals?.has(s.id) && { signal: input.signals.get(s.id) }),
    };
  });

  const kinds: CoverageKind[] = settings.kinds.map((kind) => {
    const of = scenarios.filter((s) => s.kind === kind);
    const detected = of.filter((s) => s.detected);
    const delays = detected.map((s) => s.timeToFireS ?? 0).sort((a, b) => a - b);
    const alerts = new Map<string, number>();
    const deps = new Map<string, number>();
    for (const s of of) {
      for (const a of s.alerts) alerts.set(a, (alerts.get(a) ?? 0) + 1);
      for (const a of s.dependentAlerts) deps.set(a, (deps.get(a) ?? 0) + 1);
    }
    const cells = new Map<
      string,
      { intensity: number; role: ServerRole; scenarios: number; detected: number }
    >();
    for (const s of of) {
      const k = `${s.intensity}|${s.role}`;
      const c = cells.get(k) ?? { intensity: s.intensity, role: s.role, scenarios: 0, detected: 0 };
      c.scenarios++;
      if (s.detected) c.detected++;
      cells.set(k, c);
    }
    return {
      kind,
      scenarios: of.length,
      detected: detected.length,
      misses: of.length - detected.length,
      detectionRate: of.length > 0 ? round3(detected.length / of.length) : 0,
      timeToFireS: {
        median: quantileNearest(delays, 0.5),
        p90: quantileNearest(delays, 0.9),
        max: delays.length > 0 ? (delays[delays.length - 1] ?? null) : null,
      },
      alerts: sortedRecord(alerts),
      dependentAlerts: sortedRecord(deps),
      cells: [...cells.values()].sort(
        (a, b) => a.intensity - b.intensity || (a.role < b.role ? -1 : a.role > b.role ? 1 : 0),
      ),
    };
  });

  const names = [...new Set([...input.alertNames, ...episodes.map((e) => e.alertname)])].sort();
  const rules: CoverageRule[] = names.map((alertname) => {
    const byKind = ruleCaught.get(alertname);
    const caught = new Map<string, number>();
    for (const kind of settings.kinds) caught.set(kind, byKind?.get(kind)?.size ?? 0);
    return {
      alertname,
      trueFires: ruleTrue.get(alertname) ?? 0,
      falseAlarms: ruleFalse.get(alertname) ?? 0,
      flaps: ruleFlaps.get(alertname) ?? 0,
      caught: sortedRecord(caught),
      neverCaught: settings.kinds.filter((k) => (byKind?.get(k)?.size ?? 0) === 0),
    };
  });

  const total = scenarios.length;
  const found = scenarios.filter((s) => s.detected).length;
  const scoredDays = Math.max(0, settings.end - scoredFrom) / DAY_MS;
  return {
    version: COVERAGE_REPORT_VERSION,
    settings,
    summary: {
      scenarios: total,
      detected: found,
      detectionRate: total > 0 ? round3(found / total) : 0,
      falseAlarms,
      falseAlarmsPerDay: scoredDays > 0 ? round3(falseAlarms / scoredDays) : 0,
      scoredDays: round3(scoredDays),
      simulatedDays: round3((settings.end - settings.start) / DAY_MS),
      kindsMissed: kinds.filter((k) => k.scenarios > 0 && k.detected === 0).map((k) => k.kind),
    },
    kinds,
    rules,
    scenarios,
    firings: episodes.map((e) => ({ alertname: e.alertname, server: e.server, start: e.start, end: e.end })),
  };
}
