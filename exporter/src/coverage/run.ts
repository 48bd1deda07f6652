/**
 * runCoverage: a set of Prometheus rule files against every failure scenario kind, in virtual time.
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
 * search of the default codec saves bytes at rest, which a run that keeps a day of samples does not need).
 *
 * The function is self-contained (options in, report out, progress through a callback), so a CLI, a worker
 * thread or an HTTP handler can run it.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import type { CoverageProgress, CoverageReport, CoverageSettings } from '../contract/coverage.js';
import { Ingestor } from '../ingest/ingest.js';
import { DEFAULT_ENGINE_OPTIONS, Engine, walkExpr } from '../promql/index.js';
import { GO_TEMPLATES } from '../rules/go-templates.js';
import { AlertingRule, ALERT_NAME, ALERTS_METRIC, ALERT_STATE } from '../rules/alerting-rule.js';
import type { RuleGroup } from '../rules/group.js';
import { RuleManager } from '../rules/manager.js';
import type { CompiledTemplate } from '../rules/template.js';
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
import { exporterRoot } from '../util/package-root.js';
import { CoverageError, resolveCoverageOptions, type CoverageOptions } from './options.js';
import { planScenarios } from './plan.js';
import { scoreCoverage, type Episode, type ScenarioTruth } from './score.js';

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
const XOR_CODEC: ChunkCodec = {
  newBuilder: () => new LosslessChunkBuilder({ encodings: [Encoding.XOR] }),
  decode: (bytes) => decodeChunk(bytes),
  encode: (ts, vs, from, to) => {
    xorShared.reset();
    xorShared.appendMany(ts, vs, from, to);
    return xorShared.finish();
  },
};

/** CoverageProgressListener hears how far a run got (after every stretch, and when scoring). */
export type CoverageProgressListener = (p: CoverageProgress) => void;

/** fleetOf returns the servers of a run: explicit ones, the shipped fleet at 20, else a generated fleet. */
function fleetOf(opts: CoverageOptions): readonly ServerInfo[] {
  if (opts.fleet) return opts.fleet;
  return opts.servers === 20 ? defaultFleet() : generateFleet(opts.servers, opts.seed);
}

/** RuleReads is what the loaded rules read: metric names (undefined = any series), the longest window. */
interface RuleReads {
  readonly names: ReadonlySet<string> | undefined;
  readonly longestMs: number;
}

/** ruleReads walks every rule's expression for the metric names it selects and its longest range window. */
function ruleReads<T>(groups: readonly RuleGroup<T>[]): RuleReads {
  const names = new Set<string>();
  let anyName = false;
  let longestMs = 0;
  for (const g of groups)
    for (const r of g.rules)
      walkExpr(r.rule.spec.expr, (n) => {
        if (n.type === 'MatrixSelector') longestMs = Math.max(longestMs, n.rangeMs);
        if (n.type === 'SubqueryExpr') longestMs = Math.max(longestMs, n.rangeMs);
        if (n.type !== 'VectorSelector') return;
        longestMs = Math.max(longestMs, n.offsetMs > 0 ? n.offsetMs : 0);
        const m = n.matchers.find((x) => x.name === METRIC_NAME && x.type === '=');
        if (m) names.add(m.value);
        else anyName = true;
      });
  return { names: anyName ? undefined : names, longestMs };
}

/** EpisodeTracker turns the `ALERTS{alertstate="firing"}` samples, in time order, into firing episodes. */
class EpisodeTracker {
  private readonly open = new Map<
    string,
    { alertname: string; server: string; start: number; last: number }
  >();
  readonly done: Episode[] = [];

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
        if (cur) this.close(key, t);
        continue;
      }
      if (cur && t - cur.last <= this.maxGapMs) {
        cur.last = t;
        continue;
      }
      if (cur) this.close(key, cur.last + this.maxGapMs);
      this.open.set(key, {
        alertname: labels[ALERT_NAME] ?? '',
        server: labels.server ?? '',
        start: t,
        last: t,
      });
    }
  }

  private close(key: string, end: number): void {
    const cur = this.open.get(key);
    if (!cur) return;
    this.open.delete(key);
    this.done.push({ key, alertname: cur.alertname, server: cur.server, start: cur.start, end });
  }

  /** finish closes every open episode at `end` (still firing when the run ended). */
  finish(end: number): Episode[] {
    for (const key of [...this.open.keys()].sort()) this.close(key, end);
    return this.done;
  }
}

/** defaultRuleFiles are the repository's shipped rule files, `rules/*.yml` beside the exporter package. */
function defaultRuleFiles(): string[] {
  const root = exporterRoot();
  if (!root)
    throw new CoverageError(
      'COVERAGE_RULES_INVALID',
      'no rule files given and the shipped rules/ folder cannot be found: pass ruleFiles',
      'ruleFiles',
    );
  return [join(root, '..', 'rules', '*.yml')];
}

/**
 * runCoverage runs the rule files of `options` against every planned scenario in virtual time and returns
 * the report (contract/coverage.ts). Throws CoverageError for bad options or rule files that do not load.
 */
export async function runCoverage(
  options: Partial<CoverageOptions> = {},
  onProgress: CoverageProgressListener = () => undefined,
): Promise<CoverageReport> {
  const opts = resolveCoverageOptions(options);
  const servers = fleetOf(opts);
  const plan = planScenarios(servers, opts);
  const start = opts.start;
  const end = plan.end;

  const logger = silentLogger();
  const registry = new Registry();
  const engine = new Engine(DEFAULT_ENGINE_OPTIONS, { registry });
  const clock = new ManualClock(start);
  const ruleFiles = opts.ruleFiles.length > 0 ? opts.ruleFiles : defaultRuleFiles();
  const metrics = createRuleMetrics(registry);
  const openRules = async (storage: EmbeddedStorage): Promise<RuleManager<CompiledTemplate>> => {
    const manager = new RuleManager(
      {
        ruleFiles,
        cwd: opts.cwd,
        evaluationIntervalMs: opts.evaluationIntervalMs,
        externalLabels: {},
        externalURL: () => 'http://coverage.invalid',
        watch: false,
        // The report reads alert states only; annotation templates (one runs a query per alert) are skipped.
        expandAnnotations: false,
      },
      { engine, storage, clock, logger, metrics, templates: GO_TEMPLATES },
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
        `no rule file matches ${ruleFiles.join(', ')} (relative to ${opts.cwd})`,
        'ruleFiles',
      );
    return manager;
  };

  // The store's retention follows what the rules read, and the manager holds its store from the start: the
  // rules are loaded once over a throwaway store to learn that (parsing costs milliseconds).
  const probe = await EmbeddedStorage.open({ registry: new Registry(), logger });
  let reads: RuleReads;
  try {
    reads = ruleReads((await openRules(probe)).loadedGroups());
  } finally {
    await probe.close();
  }
  const storage = await EmbeddedStorage.open({
    registry,
    logger,
    rollups: false,
    codec: XOR_CODEC,
    retention: { raw: Math.max(reads.longestMs, LOOKBACK_MS) + RETENTION_MARGIN_MS },
  });
  let manager: RuleManager<CompiledTemplate>;
  try {
    manager = await openRules(storage);
  } catch (err) {
    await storage.close();
    throw err;
  }
  const alertNames: string[] = [];
  let maxIntervalMs = opts.evaluationIntervalMs;
  for (const g of manager.loadedGroups()) {
    maxIntervalMs = Math.max(maxIntervalMs, g.intervalMs);
    for (const r of g.rules) if (r.rule instanceof AlertingRule) alertNames.push(r.rule.name);
  }

  try {
    const fleet = new Fleet({
      servers,
      seed: opts.seed,
      scenarioRatePerHour: 0,
      epoch: start,
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

    const names = reads.names;
    const ingestor = new Ingestor(storage, fleet.layout, (l) => !names || names.has(l[METRIC_NAME] ?? ''));
    const tracker = new EpisodeTracker(maxIntervalMs);
    const frames = fleet.frames(start, end, opts.tickMs, { reuse: true })[Symbol.iterator]();
    let storedUpTo = start - opts.tickMs;
    for (let from = start; from < end; from += STRETCH_MS) {
      const to = Math.min(end, from + STRETCH_MS);
      let app = storage.appender({ bulk: true });
      let pending = 0;
      while (storedUpTo + opts.tickMs <= to) {
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
      clock.set(to);
      // (from, to]: the first stretch starts one interval early so the rules also evaluate at `start`.
      await manager.replay(from === start ? start - opts.evaluationIntervalMs : from, to, { restore: false });
      const q = await storage.querier(from, to);
      const firing = await q.select(
        [
          { type: '=', name: METRIC_NAME, value: ALERTS_METRIC },
          { type: '=', name: ALERT_STATE, value: 'firing' },
        ],
        { start: from === start ? from : from + 1, end: to },
      );
      firing.sort((a, b) => {
        const ka = seriesKey(a.labels);
        const kb = seriesKey(b.labels);
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
      for (const s of firing) tracker.add(s.labels, s.timestamps, s.values);
      await storage.applyRetention(to);
      onProgress({ simulatedMs: to - start, totalMs: end - start, phase: 'simulating' });
    }
    await manager.close();
    onProgress({ simulatedMs: end - start, totalMs: end - start, phase: 'scoring' });

    const settings: CoverageSettings = {
      rules: ruleFiles.map(String).sort(),
      seed: opts.seed,
      servers: servers.length,
      kinds: [...opts.kinds],
      intensities: [...opts.intensities],
      repetitions: opts.repetitions,
      start,
      end,
      warmupMs: opts.warmupMs,
      quietMs: plan.quietMs,
      graceMs: opts.graceMs,
      flapWindowMs: opts.flapWindowMs,
      evaluationIntervalMs: opts.evaluationIntervalMs,
      tickMs: opts.tickMs,
    };
    return scoreCoverage({ settings, scenarios: truths, episodes: tracker.finish(end), alertNames });
  } finally {
    await manager.close();
    await storage.close();
  }
}
