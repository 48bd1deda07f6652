/**
 * bench:analysis — the anomaly analysis (src/analysis) scored against the simulator's ground truth, beside the
 * static threshold rules of rules/*.yml evaluated by the exporter's own rule manager over the same store.
 *
 * Per seed: a 20-server fleet whose schedule injects scenarios of every kind (SCENARIO_RATE per hour, 12 by
 * default, all eight kinds), stored in an in-memory embedded store from 26 h before the scored window (daily
 * profiles need a day) to its end (EVAL_HOURS, 4 by default). Then the exporter's rule manager replays the
 * rules of rules/*.yml over the window (firings read back from its ALERTS series) and the analysis runs every
 * 30 s of it. Both only ever read samples at or before their evaluation time, so storing first gives the same
 * outcome as live ticks at a fraction of the cost. The analysis reads the store only; the scenario book is
 * read here, after the fact, to score.
 *
 * Scoring: a scenario counts as detected when a finding (or a firing alert) for its server starts inside the
 * scenario window, up to 2 ticks after its end (the grace); the delay is that start minus the scenario's
 * start. A finding (firing alert) is a true positive when it starts inside the window (plus grace) of a
 * scenario affecting its server (a cascading failure's API and web servers included), else a false positive;
 * false positives count against the kind their signal (alert) points to. Scenarios that began before the
 * evaluation or end after it are not scored (nor are findings that match them).
 *
 * Seeds: the analysis was tuned on seeds 7, 11, 13, 17, 19, 23 and 29 only; the reported seeds (default 101,
 * 202, 303) were not looked at while tuning. `BENCH_ANALYSIS_SEEDS=7,11,13,17 BENCH_ANALYSIS_DEBUG=1 npm run
 * bench:analysis -w exporter` reruns tuning seeds with the report of false positives and misses.
 *
 * Output: a table per scenario kind (analysis and static rules side by side), then one JSON line:
 * `f1`, `precision`, `recall`, `median_delay_s`, `f1_static_rules`, `delay_s_static_rules`, `cpu_pct_20`, and
 * `api_p99_ms` (GET /api/analysis, 200 sequential requests after each seed's last run, worst seed).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { Registry } from 'prom-client';
import { Analyzer } from '../src/analysis/analyzer.js';
import { ANALYSIS_PATH, analysisRouter } from '../src/analysis/routes.js';
import type { SignalName } from '../src/analysis/signals.js';
import type { Scenario, ScenarioKind } from '../src/contract/fleet.js';
import { SCENARIO_KINDS } from '../src/contract/fleet.js';
import { backfill } from '../src/ingest/ingest.js';
import { DEFAULT_ENGINE_OPTIONS, Engine } from '../src/promql/index.js';
import { GO_TEMPLATES } from '../src/rules/go-templates.js';
import { RuleManager } from '../src/rules/manager.js';
import { createRuleMetrics } from '../src/rules/rule-metrics.js';
import { Fleet } from '../src/simulator/index.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import { ManualClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/logger.js';
import { exporterRoot } from '../src/util/package-root.js';

const TICK_MS = 15_000;
const ANALYSIS_MS = 30_000;
const HOUR = 3_600_000;
/** GRACE_MS: a detection up to 2 ticks after a scenario's end still counts (the brief's grace). */
const GRACE_MS = 2 * TICK_MS;
/** HISTORY_MS: 26 h of backfill, so the daily profiles of the first evaluated hour have a whole day behind them. */
const HISTORY_MS = 26 * HOUR;
/** WARMUP_MS: the analysis and the rules start this long before the scored window (pending `for`, windows). */
const WARMUP_MS = 20 * 60_000;
const EVAL_HOURS = Number(process.env.BENCH_ANALYSIS_HOURS ?? 4);
/** SCENARIO_RATE: scheduled scenarios per hour across the fleet (the default is 3; more gives more events). */
const SCENARIO_RATE = Number(process.env.BENCH_ANALYSIS_RATE ?? 12);
const SEEDS = (process.env.BENCH_ANALYSIS_SEEDS ?? '101,202,303').split(',').map(Number);
/** START is a Monday 00:00 UTC, so the evaluated hours cover a night and a working morning. */
const START = Date.UTC(2026, 2, 2);

/** Detection is one finding or firing alert: the server it names, when it started, what it points to. */
interface Detection {
  readonly server: string;
  readonly at: number;
  /** kind is the scenario kind its signal or alert points to (charged with it when it is a false positive). */
  readonly kind: ScenarioKind;
  /** detail says what it was (for the debug report). */
  readonly detail?: string;
}

/** SIGNAL_KIND maps an analysis signal to the scenario kind it most directly points to. */
const SIGNAL_KIND: Readonly<Record<SignalName, ScenarioKind>> = {
  up: 'server_down',
  service: 'service_crash',
  cpu: 'cpu_spike',
  memory: 'memory_leak',
  disk: 'disk_fill',
  network: 'network_saturation',
  latency: 'latency_degradation',
  errors: 'latency_degradation',
};

/** alertKind maps an alert name to the scenario kind it points to. */
function alertKind(name: string): ScenarioKind {
  if (/CPU|Load/i.test(name)) return 'cpu_spike';
  if (/Memory|Swap|OOM/i.test(name)) return 'memory_leak';
  if (/Disk/i.test(name)) return 'disk_fill';
  if (/Network|Packet|Drop|Error.*Interface/i.test(name)) return 'network_saturation';
  if (/Service/i.test(name)) return 'service_crash';
  if (/Down|Up/i.test(name)) return 'server_down';
  return 'latency_degradation';
}

interface KindStats {
  scenarios: number;
  detected: number;
  delays: number[];
  tp: number;
  fp: number;
}

interface SystemStats {
  readonly byKind: Map<ScenarioKind, KindStats>;
}

function emptyStats(): SystemStats {
  return {
    byKind: new Map(SCENARIO_KINDS.map((k) => [k, { scenarios: 0, detected: 0, delays: [], tp: 0, fp: 0 }])),
  };
}

/** score adds one seed's detections against its scenarios to `stats`. */
function score(
  stats: SystemStats,
  scenarios: readonly Scenario[],
  detections: readonly Detection[],
  from: number,
  to: number,
): void {
  const inWindow = (s: Scenario, d: Detection): boolean => d.at >= s.start && d.at <= s.end + GRACE_MS;
  const scored = scenarios.filter((s) => s.start >= from && s.end + GRACE_MS <= to);
  for (const s of scored) {
    const k = stats.byKind.get(s.kind)!;
    k.scenarios++;
    const hits = detections.filter((d) => d.server === s.server && inWindow(s, d));
    if (hits.length > 0) {
      k.detected++;
      k.delays.push((Math.min(...hits.map((d) => d.at)) - s.start) / 1000);
    }
  }
  for (const d of detections) {
    if (d.at < from || d.at > to) continue;
    const match = scenarios.find((s) => s.affected.includes(d.server) && inWindow(s, d));
    if (match) {
      // Matches of unscored scenarios (cut by the window's edges) are neither credited nor charged.
      if (scored.includes(match)) stats.byKind.get(match.kind)!.tp++;
    } else stats.byKind.get(d.kind)!.fp++;
  }
}

interface Figures {
  precision: number;
  recall: number;
  f1: number;
  delay: number;
  n: number;
}

function figures(list: readonly KindStats[]): Figures {
  const tp = list.reduce((a, k) => a + k.tp, 0);
  const fp = list.reduce((a, k) => a + k.fp, 0);
  const n = list.reduce((a, k) => a + k.scenarios, 0);
  const det = list.reduce((a, k) => a + k.detected, 0);
  const precision = tp + fp > 0 ? tp / (tp + fp) : 1;
  const recall = n > 0 ? det / n : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, delay: median(list.flatMap((k) => k.delays)), n };
}

function median(v: readonly number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** runSeed simulates one seed and returns its scenarios, both systems' detections and the analysis CPU time. */
async function runSeed(seed: number): Promise<{
  scenarios: Scenario[];
  /** past is every scenario since the history began (the debug report shows what a baseline saw). */
  past: Scenario[];
  analysis: Detection[];
  rules: Detection[];
  cpuMs: number;
  runs: number;
  from: number;
  to: number;
  apiP99: number;
}> {
  const logger = silentLogger();
  const registry = new Registry();
  const fleet = new Fleet({ seed, scenarioRatePerHour: SCENARIO_RATE, epoch: START - HISTORY_MS - HOUR });
  const storage = await EmbeddedStorage.open({ registry, logger });
  const engine = new Engine(DEFAULT_ENGINE_OPTIONS, { registry });
  const from = START;
  const to = START + EVAL_HOURS * HOUR;
  const clock = new ManualClock(to);
  const phase = { store: 0, rules: 0 };
  // Every frame is stored first (in bulk), then the rules and the analysis run over it as they would have
  // live: each evaluation reads only samples at or before its own time, so the outcome is the same and the
  // bench spends its time on evaluation instead of on per-tick commits.
  let p0 = performance.now();
  await backfill(fleet, storage, { from: from - HISTORY_MS, to, stepMs: TICK_MS });
  phase.store = performance.now() - p0;

  const root = exporterRoot();
  if (!root) throw new Error('cannot find the exporter package root (for rules/*.yml)');
  const rules = new RuleManager(
    {
      ruleFiles: [join(root, '..', 'rules', '*.yml')],
      cwd: root,
      evaluationIntervalMs: TICK_MS,
      externalLabels: {},
      externalURL: () => 'http://bench',
      watch: false,
    },
    { engine, storage, clock, logger, metrics: createRuleMetrics(registry), templates: GO_TEMPLATES },
  );
  const loaded = await rules.reload();
  if (!loaded.ok) throw new Error(`rules did not load: ${loaded.errors.map((e) => e.message).join('; ')}`);
  p0 = performance.now();
  await rules.replay(from - WARMUP_MS, to);
  await rules.close();
  phase.rules = performance.now() - p0;
  const firing = await firingEdges(engine, storage, from - WARMUP_MS, to);

  const analyzer = new Analyzer({ stepMs: TICK_MS, intervalMs: ANALYSIS_MS }, { engine, storage, logger });
  const analysis: Detection[] = [];
  analyzer.onRun((run) => {
    for (const f of run.opened)
      analysis.push({
        server: f.server,
        at: f.detectedAt ?? f.window.start,
        kind: SIGNAL_KIND[f.signal as SignalName],
        detail: f.summary,
      });
  });
  let cpuMs = 0;
  let runs = 0;
  for (let t = from - WARMUP_MS; t <= to; t += ANALYSIS_MS) {
    const c0 = process.cpuUsage();
    await analyzer.run(t);
    const c = process.cpuUsage(c0);
    if (t >= from) {
      cpuMs += (c.user + c.system) / 1000;
      runs++;
    }
  }
  const apiP99 = await apiLatencyP99(analyzer);
  await storage.close();
  if (process.env.BENCH_ANALYSIS_DEBUG)
    console.error(
      `seed ${seed}: store ${Math.round(phase.store)} ms, rules ${Math.round(phase.rules)} ms, analysis ${Math.round(cpuMs)} ms CPU`,
    );
  return {
    scenarios: fleet.history(to, from - HOUR),
    past: fleet.history(to, from - HISTORY_MS),
    analysis,
    rules: firing,
    cpuMs,
    runs,
    from,
    to,
    apiP99,
  };
}

/** API_REQUESTS: sequential GET /api/analysis requests timed after a seed's last run. */
const API_REQUESTS = 200;

/** apiLatencyP99 serves the analysis routes on a free port and returns the p99 of GET /api/analysis in ms. */
async function apiLatencyP99(analyzer: Analyzer): Promise<number> {
  const app = express();
  app.use(analysisRouter(analyzer, (name, reason) => new Error(`${name}: ${reason}`)));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const times: number[] = [];
  for (let i = 0; i < API_REQUESTS; i++) {
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}${ANALYSIS_PATH}`);
    await res.arrayBuffer();
    times.push(performance.now() - t0);
  }
  server.close();
  times.sort((a, b) => a - b);
  return times[Math.ceil(0.99 * times.length) - 1] ?? NaN;
}

/**
 * firingEdges reads when each alert began firing from the rule manager's `ALERTS` series: every step where an
 * alert's firing series appears after being absent is one firing.
 */
async function firingEdges(
  engine: Engine,
  storage: EmbeddedStorage,
  from: number,
  to: number,
): Promise<Detection[]> {
  const out: Detection[] = [];
  const res = await engine.rangeQuery(storage, 'ALERTS{alertstate="firing"}', from, to, TICK_MS);
  if (res.result.resultType !== 'matrix') return out;
  for (const s of res.result.result) {
    const server = s.labels.server;
    if (!server) continue;
    let prev = -Infinity;
    for (const t of s.timestamps) {
      if (t - prev > TICK_MS)
        out.push({
          server,
          at: t,
          kind: alertKind(s.labels.alertname ?? ''),
          detail: s.labels.alertname ?? '',
        });
      prev = t;
    }
  }
  return out;
}

/**
 * debugReport prints the false positives and the missed scenarios of one seed (for tuning on seed 7 and other
 * non-report seeds). Under each false positive it lists the scenarios that touched the same server in the
 * 26 h before it (`past`): the daily profile and the reference window learn from those hours, so an incident
 * there is the first suspect.
 */
function debugReport(
  scenarios: readonly Scenario[],
  past: readonly Scenario[],
  dets: readonly Detection[],
  from: number,
  to: number,
): void {
  const iso = (t: number): string => new Date(t).toISOString().slice(5, 19);
  for (const d of dets) {
    if (d.at < from) continue;
    const match = scenarios.find(
      (s) => s.affected.includes(d.server) && d.at >= s.start && d.at <= s.end + GRACE_MS,
    );
    if (match) continue;
    console.error(`  FP ${iso(d.at)} ${d.server} ${d.kind} ${d.detail ?? ''}`);
    for (const s of past)
      if (s.affected.includes(d.server) && s.start < d.at && s.end > d.at - HISTORY_MS)
        console.error(
          `      earlier ${iso(s.start)}–${iso(s.end)} ${s.kind} on ${s.server} I=${s.intensity}`,
        );
  }
  for (const s of scenarios) {
    if (s.start < from || s.end + GRACE_MS > to) continue;
    const hit = dets.some((d) => d.server === s.server && d.at >= s.start && d.at <= s.end + GRACE_MS);
    if (!hit) console.error(`  MISS ${iso(s.start)}–${iso(s.end)} ${s.server} ${s.kind} I=${s.intensity}`);
  }
}

const pct = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–');
const sec = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)}` : '–');

async function main(): Promise<void> {
  const began = performance.now();
  const ours = emptyStats();
  const theirs = emptyStats();
  let cpuMs = 0;
  let runs = 0;
  let apiP99 = 0;
  for (const seed of SEEDS) {
    const t0 = performance.now();
    const r = await runSeed(seed);
    score(ours, r.scenarios, r.analysis, r.from, r.to);
    if (process.env.BENCH_ANALYSIS_DEBUG) debugReport(r.scenarios, r.past, r.analysis, r.from, r.to);
    score(theirs, r.scenarios, r.rules, r.from, r.to);
    cpuMs += r.cpuMs;
    runs += r.runs;
    apiP99 = Math.max(apiP99, r.apiP99);
    console.error(
      `seed ${seed}: ${r.scenarios.length} scenarios, ${r.analysis.length} findings, ${r.rules.length} firing alerts, ` +
        `${Math.round((performance.now() - t0) / 1000)} s`,
    );
  }

  const header = ['kind', 'n', 'P', 'R', 'F1', 'delay s', '│', 'rules P', 'R', 'F1', 'delay s'];
  const rows: string[][] = [];
  for (const kind of SCENARIO_KINDS) {
    const a = figures([ours.byKind.get(kind)!]);
    const b = figures([theirs.byKind.get(kind)!]);
    rows.push([
      kind,
      String(a.n),
      pct(a.precision),
      pct(a.recall),
      pct(a.f1),
      sec(a.delay),
      '│',
      pct(b.precision),
      pct(b.recall),
      pct(b.f1),
      sec(b.delay),
    ]);
  }
  const all = figures([...ours.byKind.values()]);
  const allRules = figures([...theirs.byKind.values()]);
  rows.push([
    'all',
    String(all.n),
    pct(all.precision),
    pct(all.recall),
    pct(all.f1),
    sec(all.delay),
    '│',
    pct(allRules.precision),
    pct(allRules.recall),
    pct(allRules.f1),
    sec(allRules.delay),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(
    `analysis vs static rules — seeds ${SEEDS.join(', ')}, ${EVAL_HOURS} h each, ${SCENARIO_RATE} scenarios/h`,
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const cpuPct = runs > 0 ? (cpuMs / runs / ANALYSIS_MS) * 100 : NaN;
  console.log(
    `GET /api/analysis: p99 ${apiP99.toFixed(1)} ms over ${API_REQUESTS} requests per seed (worst seed)`,
  );
  console.log(
    `analysis: ${runs} runs, ${(cpuMs / Math.max(1, runs)).toFixed(1)} ms CPU per run (every 30 s) = ${cpuPct.toFixed(2)} % of one core; bench ${Math.round((performance.now() - began) / 1000)} s`,
  );
  console.log(
    JSON.stringify({
      f1: round(all.f1),
      precision: round(all.precision),
      recall: round(all.recall),
      median_delay_s: round(all.delay),
      f1_static_rules: round(allRules.f1),
      delay_s_static_rules: round(allRules.delay),
      cpu_pct_20: round(cpuPct),
      api_p99_ms: round(apiP99),
    }),
  );
}

function round(v: number): number | null {
  return Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null;
}

await main();
