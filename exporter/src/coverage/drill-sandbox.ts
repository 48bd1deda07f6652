/**
 * A drill on a separate simulated clock: the drill's steps run on a fleet of their own — the live fleet's
 * servers and seed, no random scenarios — with its own in-memory store and its own rule manager over the
 * exporter's rule files, and the clock of that fleet runs `speed` times as fast as the wall clock. Unlike a
 * drill on the live clock (whose speed-up divides step offsets and durations while rules keep their `for:`
 * and evaluation interval), nothing is compressed: a 40-minute leak leaks for 40 simulated minutes and a
 * `for: 5m` waits 5 simulated minutes, so the run shows what the drill would do at speed 1, in minutes.
 *
 * The parts are the coverage run's (coverage/segment.ts): the real simulator, store, Ingestor and
 * RuleManager with its PromQL engine, driven by simulated time only. First the lead-in — the history the
 * rules read (their longest window, `for` and an hour) — is simulated and replayed as fast as it goes, so the
 * rules start from a settled state; then every tick is stored, the steps are injected when due, the rules are
 * evaluated at their intervals as live, and each alert that starts firing is reported with its simulated
 * time. Paced to the wall clock at `speed` (flat out when the machine cannot keep up, which `progress`
 * events show). Runs in-thread (tests) or on a worker (drill-sandbox-worker.ts), events through a callback.
 */
import { Registry } from 'prom-client';
import { Ingestor } from '../ingest/ingest.js';
import type { CompiledTemplate } from '../rules/template.js';
import type { RuleManager } from '../rules/manager.js';
import type { AlertTransition } from '../rules/alerting-rule.js';
import { Fleet, type ScenarioKind, type ServerInfo } from '../simulator/index.js';
import { ManualClock } from '../util/clock.js';
import { METRIC_NAME } from '../util/labels.js';
import { resolveCoverageOptions } from './options.js';
import { loadRuleInfo, openRules, openRunStorage } from './segment.js';
import type { FiredAlert } from '../drills/drill-runner.js';

/** SandboxStep is one drill step at its simulated due time. */
export interface SandboxStep {
  readonly dueAt: number;
  readonly kind: ScenarioKind;
  readonly server: string;
  readonly durationSeconds: number;
  readonly intensity: number;
}

/** SandboxRequest is everything a sandbox run needs (plain data: it crosses to a worker thread). */
export interface SandboxRequest {
  readonly servers: readonly ServerInfo[];
  readonly seed: number;
  readonly ruleFiles: readonly string[];
  readonly cwd: string;
  readonly evaluationIntervalMs: number;
  readonly tickMs: number;
  /** start is the drill's first simulated instant (its first tick is the next multiple of tickMs). */
  readonly start: number;
  /** end is when the run stops: the last step's end plus the settling time. */
  readonly end: number;
  readonly speed: number;
  readonly steps: readonly SandboxStep[];
}

/** SandboxEvent is what a sandbox run reports, in order. */
export type SandboxEvent =
  | { readonly type: 'lead-in'; readonly doneMs: number; readonly totalMs: number }
  | {
      readonly type: 'injected';
      readonly step: number;
      readonly id: string;
      readonly start: number;
      readonly end: number;
      readonly affected: readonly string[];
    }
  | { readonly type: 'inject-failed'; readonly step: number; readonly message: string }
  | { readonly type: 'fired'; readonly at: number; readonly alerts: readonly FiredAlert[] }
  | { readonly type: 'progress'; readonly simulatedAt: number }
  | { readonly type: 'done'; readonly simulatedAt: number; readonly aborted: boolean };

/** LEAD_IN_STRETCH_MS is how much lead-in is stored before the rules replay over it (6 h, as coverage). */
const LEAD_IN_STRETCH_MS = 6 * 3_600_000;

/** PROGRESS_EVERY_MS is how often (wall time) a progress event is sent while the drill runs. */
const PROGRESS_EVERY_MS = 500;

/** RETENTION_EVERY_MS is how often (simulated) the store drops what no rule reads any more. */
const RETENTION_EVERY_MS = 3_600_000;

/** firedAlerts are the alerts of `transitions` that started firing, as a drill records them. */
export function firedAlerts(transitions: readonly AlertTransition[]): FiredAlert[] {
  return transitions
    .filter((t) => t.to === 'firing')
    .map((t) => ({
      alertname: t.alert.labels.alertname ?? t.rule,
      server: t.alert.labels.server ?? '',
      severity: t.alert.labels.severity ?? '',
    }));
}

/** sleep waits `ms` of wall time. */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * runSandbox runs a drill on its own fleet and clock (see the file comment) and reports through `emit`;
 * `aborted()` is polled between ticks and ends the run early.
 */
export async function runSandbox(
  req: SandboxRequest,
  emit: (e: SandboxEvent) => void,
  aborted: () => boolean = () => false,
): Promise<void> {
  const tick = req.tickMs;
  const first = Math.ceil(req.start / tick) * tick;
  const opts = resolveCoverageOptions({
    ruleFiles: req.ruleFiles,
    cwd: req.cwd,
    seed: req.seed,
    fleet: req.servers,
    start: first,
    tickMs: req.tickMs,
    evaluationIntervalMs: req.evaluationIntervalMs,
  });
  const info = await loadRuleInfo(opts);
  const from = first - Math.ceil(info.reachMs / tick) * tick;
  const registry = new Registry();
  const clock = new ManualClock(from);
  const storage = await openRunStorage(registry, info.longestMs + LEAD_IN_STRETCH_MS + RETENTION_EVERY_MS);
  let manager: RuleManager<CompiledTemplate> | undefined;
  try {
    manager = await openRules(opts, storage, clock, registry);
    const fleet = new Fleet({
      servers: req.servers,
      seed: req.seed,
      scenarioRatePerHour: 0,
      epoch: from,
      stepMs: tick,
    });
    const names = info.names;
    const ingestor = new Ingestor(storage, fleet.layout, (l) => !names || names.has(l[METRIC_NAME] ?? ''));

    // The lead-in, as fast as it goes: stored in stretches, the rules replayed over each.
    for (let a = from; a < first; a += LEAD_IN_STRETCH_MS) {
      if (aborted()) break;
      const b = Math.min(first, a + LEAD_IN_STRETCH_MS);
      const app = storage.appender({ bulk: true });
      for (const frame of fleet.frames(a === from ? a : a + tick, b, tick, { reuse: true }))
        ingestor.appendFrame(app, frame);
      await app.commit();
      clock.set(b);
      await manager.replay(a === from ? from - opts.evaluationIntervalMs : a, b, { restore: false });
      await storage.applyRetention(b);
      emit({ type: 'lead-in', doneMs: b - from, totalMs: first - from });
    }

    manager.onTransitions(({ ts, transitions }) => {
      const alerts = firedAlerts(transitions);
      if (alerts.length > 0) emit({ type: 'fired', at: ts, alerts });
    });

    // The drill, paced: simulated instant t is due at wall time wallStart + (t − start) / speed.
    const pending = req.steps.map((s, i) => ({ s, i })).sort((x, y) => x.s.dueAt - y.s.dueAt || x.i - y.i);
    const wallStart = performance.now();
    let lastProgress = -Infinity;
    let lastRetention = first;
    let t = first;
    for (; t <= req.end && !aborted(); t += tick) {
      while (pending.length > 0 && (pending[0]?.s.dueAt ?? Infinity) <= t) {
        const { s, i } = pending.shift() as { s: SandboxStep; i: number };
        try {
          const sc = fleet.inject(
            { kind: s.kind, server: s.server, durationSeconds: s.durationSeconds, intensity: s.intensity },
            s.dueAt,
          );
          emit({ type: 'injected', step: i, id: sc.id, start: sc.start, end: sc.end, affected: sc.affected });
        } catch (err) {
          emit({ type: 'inject-failed', step: i, message: err instanceof Error ? err.message : String(err) });
        }
      }
      if (t > first) {
        const app = storage.appender();
        ingestor.appendFrame(app, fleet.frameAt(t));
        await app.commit();
      }
      clock.set(t);
      await manager.tick(t);
      if (t - lastRetention >= RETENTION_EVERY_MS) {
        await storage.applyRetention(t);
        lastRetention = t;
      }
      const wall = performance.now();
      if (wall - lastProgress >= PROGRESS_EVERY_MS) {
        emit({ type: 'progress', simulatedAt: t });
        lastProgress = wall;
      }
      const due = wallStart + (t + tick - req.start) / req.speed;
      // Behind schedule it runs on, giving the loop a turn (an abort message must get through).
      await (due > wall ? sleep(due - wall) : new Promise<void>((r) => setImmediate(r)));
    }
    emit({ type: 'done', simulatedAt: Math.min(t, req.end), aborted: aborted() });
  } finally {
    await manager?.close();
    await storage.close();
  }
}
