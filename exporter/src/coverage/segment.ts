/**
 * One segment of a coverage run: a set of Prometheus rule files against the planned scenarios over one
 * range of simulated time, in virtual time.
 *
 * The real parts, driven by simulated time only (no timer, no wall clock, so a seed gives the same report):
 * the fleet simulator with the planned scenarios injected (plan.ts), an in-memory EmbeddedStorage fed through
 * the Ingestor, and the exporter's RuleManager with its PromQL engine. The run goes in stretches of
 * STRETCH_MS: the stretch's frames are stored, then the manager replays its rule groups over the stretch
 * (`RuleManager.replay`: every group at every multiple of its interval, in dependency order, as live
 * evaluation would, each evaluation reading only samples at or before its own time), then the `ALERTS`
 * series the rules wrote are read back into firing episodes, and retention drops what no rule reads any more.
 *
 * Work the rules cannot observe is skipped: only the metric names the rules select are stored, rollup tiers
 * are off (at a 15 s step the engine never reads them) and chunks use the XOR encoding alone (the decimal
 * search of the default codec saves bytes at rest, which a run that keeps a day of samples does not need),
 * and alerts' annotation templates are not expanded (the report reads alert states only). The key signals
 * (signals.ts) of the scenarios the segment was asked for are stored too and evaluated once each scenario's
 * window is stored, before retention drops it.
 *
 * A segment is self-contained (options and a time range in, firing episodes out, progress through a
 * callback), so run.ts runs several on worker threads (segment-worker.ts) or one after the other in-thread.
 */
import { Registry } from 'prom-client';
import { Ingestor } from '../ingest/ingest.js';
import { DEFAULT_ENGINE_OPTIONS, Engine, walkExpr } from '../promql/index.js';
import { GO_TEMPLATES } from '../rules/go-templates.js';
import { AlertingRule, ALERT_NAME, ALERTS_METRIC, ALERT_STATE } from '../rules/alerting-rule.js';
import type { RuleGroup } from '../rules/group.js';
import { RuleManager } from '../rules/manager.js';
import type { CompiledTemplate } from '../rules/template.js';
import type { CoverageSignal } from '../contract/coverage.js';
import { createRuleMetrics } from '../rules/rule-metrics.js';
import { defaultFleet, Fleet, generateFleet, type ServerInfo } from '../simulator/index.js';
import { LosslessChunkBuilder } from '../tsdb/chunkenc/builder.js';
import { Encoding } from '../tsdb/chunkenc/chunk.js';
import { decodeChunk } from '../tsdb/chunkenc/decode.js';
import type { ChunkCodec } from '../tsdb/codec.js';
import { EmbeddedStorage } from '../tsdb/embedded/embedded-storage.js';
import { ManualClock } from '../util/clock.js';
import { METRIC_NAME, seriesKey, type Labels } from '../util/labels.js';
import { silentLogger } from '../util/logger.js';
import { CoverageError, type CoverageErrorCode, type CoverageOptions } from './options.js';
import { planScenarios } from './plan.js';
import type { Episode, ScenarioTruth } from './score.js';
import { captureSignal, keySignalMetricNames, signalWindow, type SignalWindow } from './signals.js';

/** STRETCH_MS is how much simulated time is stored before the rules replay over it (6 h). */
const STRETCH_MS = 6 * 3_600_000;

/** FRAMES_PER_COMMIT batches frames into one commit (as the backfill does: 40 frames, 10 min at 15 s). */
const FRAMES_PER_COMMIT = 40;

/**
 * RETENTION_MARGIN_MS is kept beyond the longest window the rules read (and the 5 min lookback), so a
 * stretch's first evaluations still find their whole windows: one stretch plus an hour.
 */
const RETENTION_MARGIN_MS = STRETCH_MS + 3_600_000;

/** LOOKBACK_MS is PromQL's instant-selector lookback (5 min). */
const LOOKBACK_MS = 5 * 60_000;

/** xorShared is XOR_CODEC's reused builder (encoding is synchronous). */
const xorShared = new LosslessChunkBuilder({ encodings: [Encoding.XOR] });

/** XOR_CODEC is the lossless codec limited to the XOR encoding (see the file comment). */
export const XOR_CODEC: ChunkCodec = {
  newBuilder: () => new LosslessChunkBuilder({ encodings: [Encoding.XOR] }),
  decode: (bytes) => decodeChunk(bytes),
  encode: (ts, vs, from, to) => {
    xorShared.reset();
    xorShared.appendMany(ts, vs, from, to);
    return xorShared.finish();
  },
};

/**
 * openRunStorage opens the in-memory store a run in virtual time works on: no rollups and XOR chunks (see the
 * file comment), raw samples kept for `retentionMs` behind the newest retention point.
 */
export function openRunStorage(registry: Registry, retentionMs: number): Promise<EmbeddedStorage> {
  return EmbeddedStorage.open({
    registry,
    logger: silentLogger(),
    rollups: false,
    codec: XOR_CODEC,
    retention: { raw: retentionMs },
  });
}

/** fleetOf returns the servers of a run: explicit ones, the shipped fleet at 20, else a generated fleet. */
export function fleetOf(opts: CoverageOptions): readonly ServerInfo[] {
  if (opts.fleet) return opts.fleet;
  return opts.servers === 20 ? defaultFleet() : generateFleet(opts.servers, opts.seed);
}

/**
 * RuleInfo is what a run needs to know about its rules: the metric names they select (undefined = some
 * selector names none, so every series is kept), the longest window any reads, how far back an alert's
 * state depends on data (`reachMs`), the alert names and the longest group interval.
 */
export interface RuleInfo {
  readonly names: ReadonlySet<string> | undefined;
  readonly longestMs: number;
  readonly reachMs: number;
  readonly alertNames: readonly string[];
  readonly maxIntervalMs: number;
}

/**
 * REACH_MARGIN_MS is added to an alert's reach: an hour covers the short windows (a rate over [5m]) of the
 * recordings that a long window reads, and `for` and `keep_firing_for` are added on top.
 */
const REACH_MARGIN_MS = 3_600_000;

/** ruleInfo walks every rule's expression (see RuleInfo). */
export function ruleInfo<T>(groups: readonly RuleGroup<T>[], evaluationIntervalMs: number): RuleInfo {
  const names = new Set<string>();
  const alertNames: string[] = [];
  let anyName = false;
  let longestMs = 0;
  let reachMs = 0;
  let maxIntervalMs = evaluationIntervalMs;
  for (const g of groups) {
    maxIntervalMs = Math.max(maxIntervalMs, g.intervalMs);
    for (const r of g.rules) {
      let window = LOOKBACK_MS;
      walkExpr(r.rule.spec.expr, (n) => {
        if (n.type === 'MatrixSelector' || n.type === 'SubqueryExpr') window = Math.max(window, n.rangeMs);
        if (n.type !== 'VectorSelector') return;
        window = Math.max(window, LOOKBACK_MS + Math.max(0, n.offsetMs));
        const m = n.matchers.find((x) => x.name === METRIC_NAME && x.type === '=');
        if (m) names.add(m.value);
        else anyName = true;
      });
      longestMs = Math.max(longestMs, window);
      if (r.rule instanceof AlertingRule) {
        alertNames.push(r.rule.name);
        const held = r.rule.spec.forMs + r.rule.spec.keepFiringForMs;
        reachMs = Math.max(reachMs, window + held + g.intervalMs);
      }
    }
  }
  return {
    names: anyName ? undefined : names,
    longestMs,
    reachMs: reachMs + REACH_MARGIN_MS,
    alertNames,
    maxIntervalMs,
  };
}

/** SegmentEpisode is a firing episode seen by one segment; `open` when still firing at the segment's end. */
export interface SegmentEpisode extends Episode {
  readonly open: boolean;
}

/** EpisodeTracker turns the `ALERTS{alertstate="firing"}` samples, in time order, into firing episodes. */
class EpisodeTracker {
  private readonly open = new Map<
    string,
    { alertname: string; server: string; start: number; last: number }
  >();
  private readonly done: SegmentEpisode[] = [];

  /** maxGapMs: samples further apart than this belong to different episodes (the longest group interval). */
  constructor(private readonly maxGapMs: number) {}

  add(labels: Labels, ts: Float64Array, vs: Float64Array): void {
    const key = seriesKey(labels);
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i] ?? 0;
      const v = vs[i] ?? NaN;
      const cur = this.open.get(key);
      if (Number.isNaN(v)) {
        // A staleness marker: the rule stopped returning this alert at t.
        if (cur) this.close(key, t, false);
        continue;
      }
      if (cur && t - cur.last <= this.maxGapMs) {
        cur.last = t;
        continue;
      }
      if (cur) this.close(key, cur.last + this.maxGapMs, false);
      this.open.set(key, {
        alertname: labels[ALERT_NAME] ?? '',
        server: labels.server ?? '',
        start: t,
        last: t,
      });
    }
  }

  private close(key: string, end: number, open: boolean): void {
    const cur = this.open.get(key);
    if (!cur) return;
    this.open.delete(key);
    this.done.push({ key, alertname: cur.alertname, server: cur.server, start: cur.start, end, open });
  }

  /** finish closes every episode still firing at `end` (marked open) and returns them all. */
  finish(end: number): SegmentEpisode[] {
    for (const key of [...this.open.keys()].sort()) this.close(key, end, true);
    return this.done;
  }
}

/** openRules loads the rule files of `opts` into a RuleManager over `storage`; CoverageError when they fail. */
export async function openRules(
  opts: CoverageOptions,
  storage: EmbeddedStorage,
  clock: ManualClock,
  registry: Registry,
): Promise<RuleManager<CompiledTemplate>> {
  const manager = new RuleManager(
    {
      ruleFiles: opts.ruleFiles,
      cwd: opts.cwd,
      evaluationIntervalMs: opts.evaluationIntervalMs,
      externalLabels: {},
      externalURL: () => 'http://coverage.invalid',
      watch: false,
      // The report reads alert states only; annotation templates (one runs a query per alert) are skipped.
      expandAnnotations: false,
    },
    {
      engine: new Engine(DEFAULT_ENGINE_OPTIONS, { registry }),
      storage,
      clock,
      logger: silentLogger(),
      metrics: createRuleMetrics(registry),
      templates: GO_TEMPLATES,
    },
  );
  const loaded = await manager.reload();
  if (!loaded.ok)
    throw new CoverageError(
      'COVERAGE_RULES_INVALID',
      loaded.errors.map((e) => e.message).join('; '),
      'ruleFiles',
    );
  if (loaded.files === 0)
    throw new CoverageError(
      'COVERAGE_RULES_INVALID',
      `no rule file matches ${opts.ruleFiles.join(', ')} (relative to ${opts.cwd})`,
      'ruleFiles',
    );
  return manager;
}

/** loadRuleInfo loads the rules once over a throwaway store and describes them (parsing costs milliseconds). */
export async function loadRuleInfo(opts: CoverageOptions): Promise<RuleInfo> {
  const registry = new Registry();
  const probe = await EmbeddedStorage.open({ registry, logger: silentLogger() });
  try {
    const manager = await openRules(opts, probe, new ManualClock(opts.start), registry);
    await manager.close();
    return ruleInfo(manager.loadedGroups(), opts.evaluationIntervalMs);
  } finally {
    await probe.close();
  }
}

/** SegmentRequest is the workerData a segment worker (segment-worker.ts) starts with. */
export interface SegmentRequest {
  readonly options: CoverageOptions;
  readonly from: number;
  readonly to: number;
  /** signals are the planned scenarios (indexes) whose key signal this segment evaluates. */
  readonly signals: readonly number[];
}

/** SegmentMessage is what a segment worker posts: progress, then its result or the error that stopped it. */
export type SegmentMessage =
  | { readonly type: 'progress'; readonly doneMs: number }
  | { readonly type: 'result'; readonly result: SegmentResult }
  | {
      readonly type: 'error';
      readonly error: {
        readonly message: string;
        readonly code?: CoverageErrorCode;
        readonly field?: string;
      };
    };

/**
 * SegmentResult is what a segment returns: the ground truth of every planned scenario, its episodes, and the
 * key signals it was asked for, by scenario id.
 */
export interface SegmentResult {
  readonly truths: ScenarioTruth[];
  readonly episodes: SegmentEpisode[];
  readonly signals: [string, CoverageSignal][];
}

/**
 * runSegment simulates and evaluates (from, to] (rules first evaluate at `from`) with every planned scenario
 * injected, and returns the firing episodes seen and the key signals of the planned scenarios `signals`
 * (indexes); `onProgress` hears the simulated ms done after each stretch. `opts.ruleFiles` must be resolved.
 */
export async function runSegment(
  opts: CoverageOptions,
  from: number,
  to: number,
  onProgress: (doneMs: number) => void = () => undefined,
  signals: readonly number[] = [],
): Promise<SegmentResult> {
  const servers = fleetOf(opts);
  const plan = planScenarios(servers, opts);
  const info = await loadRuleInfo(opts);
  const registry = new Registry();
  const clock = new ManualClock(from);
  const storage = await openRunStorage(registry, info.longestMs + RETENTION_MARGIN_MS);
  try {
    const manager = await openRules(opts, storage, clock, registry);
    const fleet = new Fleet({
      servers,
      seed: opts.seed,
      scenarioRatePerHour: 0,
      epoch: opts.start,
      stepMs: opts.tickMs,
    });
    const truths: ScenarioTruth[] = plan.scenarios.map((p) => {
      const origin = servers[p.origin];
      if (!origin) throw new Error(`coverage: planned server ${p.origin} is not in the fleet`);
      const s = fleet.inject(
        { kind: p.kind, server: origin.id, durationSeconds: p.durationMs / 1000, intensity: p.intensity },
        p.start,
      );
      const planned = p.affected.map((i) => servers[i]?.id ?? '');
      if (s.affected.join() !== planned.join())
        throw new Error(
          `coverage: ${s.id} affects ${s.affected.join()}, the plan expected ${planned.join()}`,
        );
      return {
        id: s.id,
        kind: p.kind,
        role: p.role,
        intensity: p.intensity,
        server: origin.id,
        dependents: s.affected.slice(1),
        start: s.start,
        end: s.end,
      };
    });

    // Signals wanted, oldest window end first; each is evaluated once its whole window is stored.
    const wanted = signals
      .map((i) => {
        const truth = truths[i];
        if (!truth) throw new Error(`coverage: no planned scenario ${i} for a signal`);
        return { truth, window: signalWindow(truth, opts.graceMs, opts.tickMs) };
      })
      .sort((a, b) => a.window.end - b.window.end || (a.truth.id < b.truth.id ? -1 : 1));
    const captured: [string, CoverageSignal][] = [];
    const signalEngine = new Engine(DEFAULT_ENGINE_OPTIONS, { registry: new Registry() });
    const captureUpTo = async (t: number): Promise<void> => {
      while (wanted.length > 0 && ((wanted[0]?.window.end ?? Infinity) <= t || t >= to)) {
        const w = wanted.shift() as { truth: ScenarioTruth; window: SignalWindow };
        const signal = await captureSignal(signalEngine, storage, w.truth.kind, w.truth.server, w.window, t);
        captured.push([w.truth.id, signal]);
      }
    };

    const ruleNames = info.names;
    const names =
      ruleNames && new Set([...ruleNames, ...keySignalMetricNames(wanted.map((w) => w.truth.kind))]);
    const ingestor = new Ingestor(storage, fleet.layout, (l) => !names || names.has(l[METRIC_NAME] ?? ''));
    const tracker = new EpisodeTracker(info.maxIntervalMs);
    const frames = fleet.frames(from, to, opts.tickMs, { reuse: true })[Symbol.iterator]();
    let storedUpTo = from - opts.tickMs;
    for (let a = from; a < to; a += STRETCH_MS) {
      const b = Math.min(to, a + STRETCH_MS);
      let app = storage.appender({ bulk: true });
      let pending = 0;
      while (storedUpTo + opts.tickMs <= b) {
        const next = frames.next();
        if (next.done) break;
        ingestor.appendFrame(app, next.value);
        storedUpTo = next.value.t;
        if (++pending === FRAMES_PER_COMMIT) {
          await app.commit();
          app = storage.appender({ bulk: true });
          pending = 0;
        }
      }
      await app.commit();
      clock.set(b);
      // (a, b]: the first stretch starts one interval early so the rules also evaluate at `from`.
      await manager.replay(a === from ? from - opts.evaluationIntervalMs : a, b, { restore: false });
      const q = await storage.querier(a, b);
      const firing = await q.select(
        [
          { type: '=', name: METRIC_NAME, value: ALERTS_METRIC },
          { type: '=', name: ALERT_STATE, value: 'firing' },
        ],
        { start: a === from ? a : a + 1, end: b },
      );
      firing.sort((x, y) => {
        const kx = seriesKey(x.labels);
        const ky = seriesKey(y.labels);
        return kx < ky ? -1 : kx > ky ? 1 : 0;
      });
      for (const s of firing) tracker.add(s.labels, s.timestamps, s.values);
      await captureUpTo(b);
      await storage.applyRetention(b);
      onProgress(b - from);
    }
    await manager.close();
    await captureUpTo(to);
    return { truths, episodes: tracker.finish(to), signals: captured };
  } finally {
    await storage.close();
  }
}
