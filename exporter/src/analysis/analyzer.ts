/**
 * Analyzer is the anomaly analysis of the fleet, run on the scheduler (every 30 s by default). It reads the
 * store only through PromQL — never the simulator or its scenario book — and each run
 *
 * 1. reads the samples of every key signal (signals.ts) since its last run, one range query per signal for
 *    the whole fleet, into per-series windows of the last 3 h 20 min;
 * 2. rebuilds the daily profile of one seasonal signal per run when it is older than an hour (from up to a
 *    week of history at 5-minute steps);
 * 3. scores every series (detector.ts), keeps per-server scores and the fleet anomaly rate (the share of
 *    anomalous server signals, Netdata's anomaly rate), opens a finding when a signal's score reaches 0.5
 *    and resolves it after 5 min below 0.3;
 * 4. forecasts disk-full and memory-exhaustion ETAs and the next hour of CPU per server;
 * 5. orders multi-server incidents by onset along the fleet's dependency edges (root-cause.ts);
 * 6. writes its results to the store as series (`openmanager_anomaly_score{server,signal}`,
 *    `openmanager_forecast{server,signal,bound}`, `openmanager_eta_seconds{server,resource}`, …), so
 *    dashboards and rules use them like any other, and tells its listeners (the hub's `ai-analysis`).
 *
 * All work is paced (util/pacer.ts): a run gives the event loop a turn every ~10 ms.
 */
import type {
  AiAnalysis,
  AnalysisFinding,
  AnalysisState,
  Annotation,
  RootCause,
  ServerForecast,
  ServerRole,
  ServerScore,
} from '../contract/index.js';
import { SERVER_ROLES } from '../contract/fleet.js';
import type { Engine, MatrixSeries } from '../promql/index.js';
import type { Storage } from '../tsdb/storage.js';
import type { Logger } from '../util/logger.js';
import { METRIC_NAME, type Labels } from '../util/labels.js';
import { Pacer } from '../util/pacer.js';
import {
  buildProfile,
  MIN_PROFILE_COVERAGE,
  DEFAULT_WINDOWS,
  referenceOf,
  scoreSeries,
  type Reference,
  type DetectorWindows,
  type SeasonalProfile,
  type SeriesScore,
} from './detector.js';
import { etaToLimit, forecastBand, type Eta } from './forecast.js';
import { hhmm, rootCauses, type AnomalousServer } from './root-cause.js';
import { SeriesWindow } from './series-window.js';
import { SIGNALS, signalDef, type SignalDef, type SignalName } from './signals.js';

/** MODEL names the analysis in its messages. */
export const MODEL = { name: 'openmanager-robust', version: '1' } as const;

/** AnalyzerOptions tune the analysis; every field but stepMs has a default. */
export interface AnalyzerOptions {
  /** stepMs is the sample interval of the store (the tick): the resolution the signals are read at. */
  readonly stepMs: number;
  /** intervalMs is how often the analysis runs (ANALYSIS_INTERVAL, 30 s); reported by the API. */
  readonly intervalMs?: number;
  readonly windows?: DetectorWindows;
  /** openScore opens a finding (0.5); closeScore and closeAfterMs resolve it (below 0.3 for 5 min). */
  readonly openScore?: number;
  readonly closeScore?: number;
  readonly closeAfterMs?: number;
  /** historyMs is how far back daily profiles look (7 days: the raw retention). */
  readonly historyMs?: number;
  /** profileRefreshMs is how old a profile may grow before it is rebuilt (1 h). */
  readonly profileRefreshMs?: number;
  /** keepFindings bounds the resolved findings kept for the API and annotations (500). */
  readonly keepFindings?: number;
  /** sliceMs is how long a run works before giving the event loop a turn (SLICE_MS); tests set 0. */
  readonly sliceMs?: number;
}

/** AnalyzerDeps are the analyzer's injected parts. */
export interface AnalyzerDeps {
  readonly engine: Engine;
  readonly storage: Storage;
  readonly logger: Logger;
}

/** AnalysisRun is what one run produced: the hub payload and how long it took. */
export interface AnalysisRun {
  readonly payload: AiAnalysis;
  /** opened are the findings this run opened. */
  readonly opened: readonly AnalysisFinding[];
  readonly elapsedMs: number;
}

/** RunListener hears every finished run. */
export type RunListener = (run: AnalysisRun) => void;

/** PROFILE_STEP_MS is the step of the history read for daily profiles (5 min: 2,016 points for a week). */
const PROFILE_STEP_MS = 300_000;
/**
 * REFERENCE_REFRESH_MS: a series' reference (level, scale, autocorrelation) is relearnt every 5 min, not every
 * run; its window is hours long, so it barely moves in between, and relearning is most of a run's cost.
 */
const REFERENCE_REFRESH_MS = 300_000;
/**
 * QUARANTINE_MAX_MS: a finding's samples stay out of its baseline for at most 2 h; an anomaly that lasts
 * longer becomes the new normal (a resized server, a new release).
 */
const QUARANTINE_MAX_MS = 2 * 3_600_000;
/** FORECAST_HORIZON_MS and FORECAST_STEP_MS: the CPU band covers the next hour in 5-minute steps. */
const FORECAST_HORIZON_MS = 3_600_000;
const FORECAST_STEP_MS = 300_000;
/** ROOT_CAUSE_LOOKBACK_MS: open anomalies whose onset is older than an hour no longer start incidents. */
const ROOT_CAUSE_LOOKBACK_MS = 3_600_000;
/** LIMIT_PERCENT is where disk and memory run out. */
const LIMIT_PERCENT = 100;
/** CRITICAL_SCORE: findings scoring above it are critical, below warning (availability is always critical). */
const CRITICAL_SCORE = 0.95;

/** WindowEntry is one series' recent samples with the server (and filesystem) it belongs to. */
interface WindowEntry {
  readonly server: string;
  readonly mount: string;
  readonly w: SeriesWindow;
}

/** ScoredSignal is a server signal's score this run and the series (key) it came from. */
interface ScoredSignal {
  readonly score: SeriesScore;
  readonly key: string;
}

/** OpenFinding is a finding in progress. */
interface OpenFinding {
  readonly id: string;
  readonly server: string;
  readonly signal: SignalName;
  readonly onset: number;
  readonly detectedAt: number;
  lastAnomalousAt: number;
  peak: number;
  value: number;
  expected: number;
}

/** Analyzer holds the analysis state between runs. */
export class Analyzer {
  private readonly opts: Required<Omit<AnalyzerOptions, 'windows' | 'sliceMs'>> & {
    windows: DetectorWindows;
    sliceMs?: number;
  };
  private readonly windows = new Map<
    SignalName,
    Map<string, { server: string; mount: string; w: SeriesWindow }>
  >();
  private readonly lastRead = new Map<SignalName, number>();
  private readonly references = new Map<string, { at: number; ref: Reference }>();
  /**
   * quarantine holds, per server signal, the spans of its findings: baselines do not learn from them, so a
   * long anomaly is not taken for the new normal, and the return to normal after it is not an anomaly. Once a
   * span has ended, the drift test starts after it: the evidence inside was reported by that finding.
   */
  private readonly quarantine = new Map<string, [number, number][]>();
  private readonly profiles = new Map<SignalName, { builtAt: number; byKey: Map<string, SeasonalProfile> }>();
  private roles = new Map<string, ServerRole>();
  private rolesAt = -Infinity;
  private readonly open = new Map<string, OpenFinding>();
  private resolved: AnalysisFinding[] = [];
  private readonly listeners: RunListener[] = [];
  private state: AnalysisState;
  private stateJson: string | undefined;
  private runs = 0;

  constructor(
    options: AnalyzerOptions,
    private readonly deps: AnalyzerDeps,
  ) {
    this.opts = {
      intervalMs: 30_000,
      openScore: 0.5,
      closeScore: 0.3,
      closeAfterMs: 300_000,
      historyMs: 7 * 86_400_000,
      profileRefreshMs: 3_600_000,
      keepFindings: 500,
      ...options,
      windows: options.windows ?? DEFAULT_WINDOWS,
    };
    this.state = {
      generatedAt: null,
      intervalMs: this.opts.intervalMs,
      runs: 0,
      lastRunMs: null,
      fleetAnomalyRate: 0,
      scores: [],
      findings: [],
      rootCauses: [],
      forecasts: [],
    };
  }

  /** onRun registers a listener for finished runs; returns the function that removes it. */
  onRun(listener: RunListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** current is the state `GET /api/analysis` returns. */
  current(): AnalysisState {
    return this.state;
  }

  /** currentJson is `current()` serialised once per run (the API answers with it as is). */
  currentJson(): string {
    this.stateJson ??= JSON.stringify(this.state);
    return this.stateJson;
  }

  /** findings returns the open and the kept resolved findings overlapping [from, to], newest first. */
  findings(from = -Infinity, to = Infinity): AnalysisFinding[] {
    const all = [...[...this.open.values()].map((f) => this.toFinding(f, 'open')), ...this.resolved];
    return all
      .filter((f) => f.window.end >= from && f.window.start <= to)
      .sort((a, b) => b.window.start - a.window.start);
  }

  /** annotations returns the findings overlapping [from, to] as annotation events. */
  annotations(from?: number, to?: number): Annotation[] {
    return this.findings(from, to).map((f) => ({
      id: f.id,
      time: f.window.start,
      timeEnd: f.window.end,
      title: `${f.server}: ${signalDef(f.signal as SignalName).phrase}`,
      text: f.summary,
      tags: ['openmanager', 'analysis', f.server, f.signal ?? '', f.severity],
    }));
  }

  /** run analyses the store as of `now` (simulated ms, aligned down to the sample interval). */
  async run(now: number): Promise<AnalysisRun> {
    const began = performance.now();
    const pacer = new Pacer(this.opts.sliceMs);
    const step = this.opts.stepMs;
    const at = Math.floor(now / step) * step;
    await this.refreshRoles(at);
    for (const def of SIGNALS) await this.read(def, at, pacer);
    await this.refreshOneProfile(at, pacer);

    // Score every series; a server's signal score is its highest series' (the fullest-growing filesystem).
    const scores = new Map<string, Map<SignalName, ScoredSignal>>();
    for (const def of SIGNALS) {
      const profiles = this.profiles.get(def.name)?.byKey;
      const profileAt = this.profiles.get(def.name)?.builtAt ?? -Infinity;
      for (const [key, s] of this.windows.get(def.name) ?? []) {
        const profile = profiles?.get(key);
        const refKey = `${def.name}|${key}`;
        const excluded = this.quarantine.get(`${s.server}|${def.name}`);
        let ref = this.references.get(refKey);
        if (
          def.detector.baseline !== 'up' &&
          (!ref || at - ref.at >= REFERENCE_REFRESH_MS || ref.at < profileAt)
        ) {
          const exclude = excluded
            ? (ti: number): boolean => excluded.some(([a, b]) => ti >= a && ti <= b)
            : undefined;
          ref = { at, ref: referenceOf(s.w.t, s.w.x, at, def.detector, profile, this.opts.windows, exclude) };
          this.references.set(refKey, ref);
        }
        let testFrom = -Infinity;
        for (const [, b] of excluded ?? []) if (b <= at && b > testFrom) testFrom = b;
        const sc = scoreSeries(
          s.w.t,
          s.w.x,
          at,
          def.detector,
          profile,
          this.opts.windows,
          ref?.ref,
          testFrom,
        );
        let per = scores.get(s.server);
        if (!per) scores.set(s.server, (per = new Map<SignalName, ScoredSignal>()));
        const prev = per.get(def.name);
        if (!prev || sc.score > prev.score.score) per.set(def.name, { score: sc, key });
        await pacer.pace();
      }
    }

    const opened = this.updateFindings(at, scores);
    const serverScores = this.serverScores(scores);
    let pairs = 0;
    let anomalous = 0;
    for (const per of scores.values())
      for (const { score } of per.values()) {
        pairs++;
        if (score.score >= this.opts.openScore) anomalous++;
      }
    const fleetAnomalyRate = pairs > 0 ? anomalous / pairs : 0;
    const forecasts = await this.forecasts(at, scores, pacer);
    const hints = this.rootCauses(at);
    await this.write(at, scores, serverScores, fleetAnomalyRate, forecasts, pacer);

    const findings = [
      ...[...this.open.values()].map((f) => this.toFinding(f, 'open')),
      ...this.resolved.filter((f) => f.window.end >= at - this.opts.closeAfterMs - this.opts.intervalMs),
    ];
    const payload: AiAnalysis = {
      generatedAt: at,
      window: { start: at - this.opts.windows.referenceMs - this.opts.windows.guardMs, end: at },
      findings,
      model: { ...MODEL },
      scores: serverScores,
      fleetAnomalyRate,
      rootCauses: hints,
    };
    const elapsedMs = performance.now() - began;
    this.runs++;
    this.state = {
      generatedAt: at,
      intervalMs: this.opts.intervalMs,
      runs: this.runs,
      lastRunMs: elapsedMs,
      fleetAnomalyRate,
      scores: serverScores,
      findings: this.findings().slice(0, 100),
      rootCauses: hints,
      forecasts,
    };
    this.stateJson = undefined;
    const result: AnalysisRun = { payload, opened, elapsedMs };
    for (const l of this.listeners) {
      try {
        l(result);
      } catch (err) {
        this.deps.logger.error({ err }, 'analysis listener failed');
      }
    }
    return result;
  }

  /** read appends the signal's samples since its last read (or its whole window the first time). */
  private async read(def: SignalDef, at: number, pacer: Pacer): Promise<void> {
    const step = this.opts.stepMs;
    const span = this.opts.windows.referenceMs + this.opts.windows.guardMs;
    const last = this.lastRead.get(def.name);
    const fresh = last === undefined || at - last > span;
    const from = fresh ? at - span + step : last + step;
    if (from > at) return;
    let result: MatrixSeries[];
    try {
      const out = await this.deps.engine.rangeQuery(this.deps.storage, def.query, from, at, step);
      result = out.result.resultType === 'matrix' ? out.result.result : [];
    } catch (err) {
      this.deps.logger.warn({ signal: def.name, err: (err as Error).message }, 'analysis query failed');
      return;
    }
    let byKey = this.windows.get(def.name);
    if (!byKey || fresh) this.windows.set(def.name, (byKey = new Map<string, WindowEntry>()));
    for (const s of result) {
      await pacer.pace();
      const server = s.labels.server;
      if (server === undefined) continue;
      const mount = s.labels.mount ?? '';
      const key = mount === '' ? server : `${server}|${mount}`;
      let entry = byKey.get(key);
      if (!entry) byKey.set(key, (entry = { server, mount, w: new SeriesWindow(span) }));
      for (let i = 0; i < s.timestamps.length; i++)
        entry.w.push(s.timestamps[i] as number, def.transform(s.values[i] as number));
    }
    for (const entry of byKey.values()) entry.w.trim(at);
    this.lastRead.set(def.name, at);
  }

  /** refreshOneProfile rebuilds the stalest seasonal profile when it is older than profileRefreshMs. */
  private async refreshOneProfile(at: number, pacer: Pacer): Promise<void> {
    let stalest: SignalDef | undefined;
    let builtAt = Infinity;
    for (const def of SIGNALS) {
      if (def.detector.baseline !== 'seasonal') continue;
      const b = this.profiles.get(def.name)?.builtAt ?? -Infinity;
      if (b < builtAt) {
        builtAt = b;
        stalest = def;
      }
    }
    if (!stalest || at - builtAt < this.opts.profileRefreshMs) return;
    const end = at - this.opts.windows.guardMs;
    const start = Math.floor((at - this.opts.historyMs) / PROFILE_STEP_MS) * PROFILE_STEP_MS;
    const byKey = new Map<string, SeasonalProfile>();
    try {
      const out = await this.deps.engine.rangeQuery(
        this.deps.storage,
        stalest.query,
        start,
        end,
        PROFILE_STEP_MS,
      );
      if (out.result.resultType === 'matrix')
        for (const s of out.result.result) {
          await pacer.pace();
          const server = s.labels.server;
          if (server === undefined) continue;
          const mount = s.labels.mount ?? '';
          const x = Float64Array.from(s.values, (v) => stalest.transform(v));
          byKey.set(
            mount === '' ? server : `${server}|${mount}`,
            buildProfile(s.timestamps, x, undefined, PROFILE_STEP_MS, stalest.detector),
          );
        }
    } catch (err) {
      this.deps.logger.warn(
        { signal: stalest.name, err: (err as Error).message },
        'analysis profile query failed',
      );
    }
    this.profiles.set(stalest.name, { builtAt: at, byKey });
  }

  /** refreshRoles reads each server's role from `openmanager_server_info` (hourly, or when a server is new). */
  private async refreshRoles(at: number): Promise<void> {
    if (at - this.rolesAt < this.opts.profileRefreshMs && this.roles.size > 0) return;
    try {
      const out = await this.deps.engine.instantQuery(this.deps.storage, 'openmanager_server_info', at);
      if (out.result.resultType !== 'vector') return;
      const roles = new Map<string, ServerRole>();
      for (const s of out.result.result) {
        const role = s.labels.role as ServerRole | undefined;
        if (s.labels.server && role && (SERVER_ROLES as readonly string[]).includes(role))
          roles.set(s.labels.server, role);
      }
      this.roles = roles;
      this.rolesAt = at;
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'analysis could not read server roles');
    }
  }

  /** updateFindings opens, extends and resolves findings from this run's scores; returns those opened. */
  private updateFindings(at: number, scores: Map<string, Map<SignalName, ScoredSignal>>): AnalysisFinding[] {
    const opened: AnalysisFinding[] = [];
    for (const [server, per] of scores)
      for (const [signal, { score }] of per) {
        const id = `${server}|${signal}`;
        const f = this.open.get(id);
        if (f) {
          if (score.score >= this.opts.closeScore) f.lastAnomalousAt = at;
          if (score.score > f.peak) f.peak = score.score;
          if (Number.isFinite(score.value)) {
            f.value = score.value;
            f.expected = score.expected;
          }
        } else if (score.score >= this.opts.openScore) {
          const onset = Math.min(at, score.onset ?? at);
          const nf: OpenFinding = {
            id: `${server}:${signal}:${onset}`,
            server,
            signal,
            onset,
            detectedAt: at,
            lastAnomalousAt: at,
            peak: score.score,
            value: score.value,
            expected: score.expected,
          };
          this.open.set(id, nf);
          opened.push(this.toFinding(nf, 'open'));
          const spans = this.quarantine.get(id) ?? [];
          spans.push([onset, onset + QUARANTINE_MAX_MS]);
          this.quarantine.set(id, spans);
        }
      }
    // Resolve what has been quiet long enough, or whose series vanished (server down: `up` says so).
    for (const [id, f] of this.open) {
      if (at - f.lastAnomalousAt < this.opts.closeAfterMs) continue;
      this.open.delete(id);
      this.resolved.unshift(this.toFinding(f, 'resolved'));
      const span = this.quarantine.get(id)?.find(([a]) => a === f.onset);
      if (span) span[1] = Math.min(span[1], f.lastAnomalousAt + this.opts.closeAfterMs);
    }
    const forget = at - this.opts.windows.referenceMs - this.opts.windows.guardMs;
    for (const [id, spans] of this.quarantine) {
      const kept = spans.filter(([, b]) => b >= forget);
      if (kept.length > 0) this.quarantine.set(id, kept);
      else this.quarantine.delete(id);
    }
    if (this.resolved.length > this.opts.keepFindings) this.resolved.length = this.opts.keepFindings;
    return opened;
  }

  /** toFinding is the wire form of a finding. */
  private toFinding(f: OpenFinding, state: 'open' | 'resolved'): AnalysisFinding {
    const def = signalDef(f.signal);
    const availability = def.detector.baseline === 'up';
    const value = def.invert(f.value);
    const expected = def.invert(f.expected);
    const detail = availability
      ? ''
      : `: ${formatValue(value, def.unit)} where ${formatValue(expected, def.unit)} was expected`;
    return {
      id: f.id,
      server: f.server,
      metric: def.metric,
      kind: 'anomaly',
      score: Math.min(1, Math.max(0, f.peak)),
      severity: availability || f.peak >= CRITICAL_SCORE ? 'critical' : 'warning',
      window: { start: f.onset, end: Math.max(f.onset, f.lastAnomalousAt) },
      summary: `${f.server} ${def.phrase} since ${hhmm(f.onset)} UTC${detail}`,
      ...(Number.isFinite(value) ? { value } : {}),
      ...(Number.isFinite(expected) ? { expected } : {}),
      signal: f.signal,
      state,
      detectedAt: f.detectedAt,
    };
  }

  private serverScores(scores: Map<string, Map<SignalName, { score: SeriesScore }>>): ServerScore[] {
    const out: ServerScore[] = [];
    for (const [server, per] of [...scores].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const signals: Record<string, number> = {};
      let max = 0;
      for (const [name, { score }] of per) {
        signals[name] = clamp01(score.score);
        max = Math.max(max, score.score);
      }
      out.push({ server, score: clamp01(max), signals });
    }
    return out;
  }

  /** forecasts computes every server's CPU band and its disk and memory ETAs. */
  private async forecasts(
    at: number,
    scores: Map<string, Map<SignalName, ScoredSignal>>,
    pacer: Pacer,
  ): Promise<ServerForecast[]> {
    const out: ServerForecast[] = [];
    const cpu = signalDef('cpu');
    const cpuProfiles = this.profiles.get('cpu')?.byKey;
    const disks = this.windows.get('disk');
    const memory = this.windows.get('memory');
    for (const server of [...scores.keys()].sort()) {
      const cpuScore = scores.get(server)?.get('cpu')?.score;
      const band = cpuScore
        ? forecastBand(
            cpuScore,
            at,
            cpuProfiles?.get(server),
            FORECAST_HORIZON_MS,
            FORECAST_STEP_MS,
            cpu.invert,
            [0, 100],
          )
        : [];
      let disk: ServerForecast['disk'] = null;
      for (const d of disks?.values() ?? []) {
        if (d.server !== server) continue;
        const eta = etaToLimit(d.w.t, d.w.x, at, LIMIT_PERCENT);
        if (eta && (disk === null || eta.seconds < disk.seconds)) disk = { ...wireEta(eta), mount: d.mount };
      }
      const m = memory?.get(server);
      // Memory rises and falls with the day: without a daily profile yet (less than a day of history) a rise
      // is extrapolated only once the detector flags it, else every morning would forecast exhaustion.
      const memProfile = this.profiles.get('memory')?.byKey.get(server);
      const usable = memProfile !== undefined && memProfile.coverage >= MIN_PROFILE_COVERAGE;
      const flagged = this.open.has(`${server}|memory`);
      const memEta =
        m && (usable || flagged) ? etaToLimit(m.w.t, m.w.x, at, LIMIT_PERCENT, memProfile) : undefined;
      out.push({ server, cpu: band, disk, memory: memEta ? wireEta(memEta) : null });
      await pacer.pace();
    }
    return out;
  }

  /** rootCauses names the likely origin of each incident among the open findings. */
  private rootCauses(at: number): RootCause[] {
    const earliest = new Map<string, OpenFinding>();
    for (const f of this.open.values()) {
      if (f.onset < at - ROOT_CAUSE_LOOKBACK_MS) continue;
      const e = earliest.get(f.server);
      if (!e || f.onset < e.onset) earliest.set(f.server, f);
    }
    const servers: AnomalousServer[] = [...earliest.values()].map((f) => ({
      server: f.server,
      role: this.roles.get(f.server),
      onset: f.onset,
      signal: f.signal,
      phrase: signalDef(f.signal).phrase,
    }));
    return rootCauses(servers);
  }

  /** write appends this run's results to the store at `at`. */
  private async write(
    at: number,
    scores: Map<string, Map<SignalName, { score: SeriesScore }>>,
    serverScores: readonly ServerScore[],
    fleetAnomalyRate: number,
    forecasts: readonly ServerForecast[],
    pacer: Pacer,
  ): Promise<void> {
    const app = this.deps.storage.appender();
    const add = (labels: Labels, v: number): void => {
      if (Number.isFinite(v)) app.append(0, labels, at, v);
    };
    for (const [server, per] of scores) {
      await pacer.pace();
      for (const [signal, { score }] of per)
        add({ [METRIC_NAME]: 'openmanager_anomaly_score', server, signal }, clamp01(score.score));
    }
    for (const s of serverScores)
      add({ [METRIC_NAME]: 'openmanager_server_anomaly_score', server: s.server }, s.score);
    add({ [METRIC_NAME]: 'openmanager_fleet_anomaly_rate' }, fleetAnomalyRate);
    add({ [METRIC_NAME]: 'openmanager_analysis_open_findings' }, this.open.size);
    for (const f of forecasts) {
      await pacer.pace();
      if (f.cpu.length > 0) {
        const lower = Math.min(...f.cpu.map((p) => p.lower));
        const upper = Math.max(...f.cpu.map((p) => p.upper));
        const mean = f.cpu.reduce((a, p) => a + p.mean, 0) / f.cpu.length;
        for (const [bound, v] of [
          ['lower', lower],
          ['mean', mean],
          ['upper', upper],
        ] as const)
          add({ [METRIC_NAME]: 'openmanager_forecast', server: f.server, signal: 'cpu', bound }, v);
      }
      for (const [resource, eta] of [
        ['disk', f.disk],
        ['memory', f.memory],
      ] as const) {
        if (!eta) continue;
        add({ [METRIC_NAME]: 'openmanager_eta_seconds', server: f.server, resource }, eta.seconds);
        add({ [METRIC_NAME]: 'openmanager_eta_lower_seconds', server: f.server, resource }, eta.lower);
        if (eta.upper !== null)
          add({ [METRIC_NAME]: 'openmanager_eta_upper_seconds', server: f.server, resource }, eta.upper);
      }
    }
    try {
      await app.commit();
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'analysis results not stored');
    }
  }
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

function wireEta(e: Eta): {
  seconds: number;
  lower: number;
  upper: number | null;
  value: number;
  slopePerHour: number;
} {
  return {
    seconds: e.seconds,
    lower: e.lower,
    upper: Number.isFinite(e.upper) ? e.upper : null,
    value: e.value,
    slopePerHour: e.slopePerHour,
  };
}

/** formatValue writes a value with its unit at a precision people read (3 significant digits). */
function formatValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '?';
  if (unit === 's') return v < 1 ? `${(v * 1000).toPrecision(3)} ms` : `${v.toPrecision(3)} s`;
  return `${Number(v.toPrecision(3))}${unit === '%' ? ' %' : ` ${unit}`}`.trimEnd();
}
