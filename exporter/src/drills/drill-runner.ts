/**
 * DrillRunner runs game-day drills on the live fleet: each step of a drill becomes an injected scenario at
 * its offset from the start (offsets and durations divided by the run's speed), exactly as `POST
 * /api/scenarios` would inject it — so it is ground truth in the scenario history and in the
 * `openmanager_scenario_active` series the dashboards annotate, and the hub announces it. While a run lasts,
 * every alert that starts firing is recorded; when the last step has ended and the drill's settling time
 * passed (so alerts with a `for:` clause can still fire), or when the run is aborted, the report says for each step
 * whether an alert fired for its servers and how fast, which alerts fired for no step, and which receivers
 * were notified (from the deliverer's recent attempts).
 *
 * On the live clock, speed compresses the scenarios; the rules' `for:` durations and evaluation interval do
 * not shrink with it, so a drill run much faster than written can miss alerts that would fire at speed 1.
 * On a separate clock (contract DRILL_CLOCKS, coverage/drill-sandbox.ts) the drill runs on a fleet, store and rule manager
 * of its own whose clock runs `speed` times as fast, so nothing is compressed; the runner then follows the
 * sandbox's events (steps injected, alerts fired, its clock) instead of the live fleet's, and its times are
 * that clock's.
 *
 * One run at a time; the newest MAX_RUNS runs are kept in memory for the API.
 */
import type { DeliveryRecord } from '../contract/notifications.js';
import type {
  DrillAlert,
  DrillClock,
  DrillDefinition,
  DrillReport,
  DrillRun,
  DrillStepRun,
} from '../contract/drills.js';
import type { Scenario, ScenarioSpec } from '../simulator/index.js';
import { ERR_BAD_FIELD, ERR_DRILL_RUNNING, ERR_SIMULATION_BUSY, ERR_UNKNOWN_DRILL } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Timer, TimerHandle } from '../util/timer.js';
import type { SandboxStep } from '../coverage/drill-sandbox.js';
import type { SandboxMessage } from '../coverage/drill-sandbox-worker.js';

/** MAX_RUNS is how many runs the runner keeps for `GET /api/drills`. */
export const MAX_RUNS = 20;

/** MAX_ALERTS_PER_RUN bounds the alerts one run records (a fleet on fire must not grow memory without end). */
export const MAX_ALERTS_PER_RUN = 10_000;

/** FiredAlert is an alert that started firing, as the rule manager reports it. */
export interface FiredAlert {
  readonly alertname: string;
  readonly server: string;
  readonly severity: string;
}

/** SeparateClockRun is a drill for a separate clock: its steps at their simulated due times. */
export interface SeparateClockRun {
  readonly start: number;
  readonly end: number;
  readonly speed: number;
  readonly steps: readonly SandboxStep[];
}

/** SandboxHandle controls a drill running on a separate clock. */
export interface SandboxHandle {
  abort(): void;
}

/** DrillRunnerDeps are the runner's injected parts. */
export interface DrillRunnerDeps {
  readonly definitions: readonly DrillDefinition[];
  /** clock is the fleet's (simulated) time: step due times, alert times. */
  readonly clock: Clock;
  /** timer counts simulated ms (a scaled timer under --speed). */
  readonly timer: Timer;
  inject(spec: ScenarioSpec): Promise<Scenario>;
  stop(id: string): Promise<Scenario>;
  /** wallClock is the time of delivery records (wall time, unlike the fleet's under --speed). */
  readonly wallClock: Clock;
  /** deliveries are the deliverer's recent attempts, newest first (none without notifications). */
  deliveries(): readonly DeliveryRecord[];
  /**
   * separate starts a drill on a separate clock (coverage/drill-sandbox.ts) and reports its events to `onEvent`, ending with
   * `done` or `error`; absent, such drills are refused.
   */
  readonly separate?: (run: SeparateClockRun, onEvent: (e: SandboxMessage) => void) => SandboxHandle;
  /**
   * simulationBusy names the other simulation running now (a coverage job), if any: a drill on a separate
   * clock is then refused with ERR_SIMULATION_BUSY.
   */
  readonly simulationBusy?: () => string | undefined;
  readonly logger: Logger;
}

interface Active {
  readonly run: DrillRun;
  readonly settleMs: number;
  readonly startedWall: number;
  readonly steps: DrillStepRun[];
  readonly alerts: DrillAlert[];
  readonly timers: TimerHandle[];
  readonly scenarioEnds: Map<string, number>;
  /** sandbox runs a separate clock's drill; simulatedAt and phase follow its events. */
  sandbox?: SandboxHandle;
  simulatedAt: number | null;
  phase: DrillRun['phase'];
}

/** DrillRunner runs drills (see the file comment). */
export class DrillRunner {
  private readonly runs: DrillRun[] = [];
  private active: Active | undefined;
  private seq = 0;

  constructor(private readonly deps: DrillRunnerDeps) {}

  definitions(): readonly DrillDefinition[] {
    return this.deps.definitions;
  }

  /** list returns the kept runs, newest first, the running one as of now. */
  list(): DrillRun[] {
    return this.runs.map((r) => this.view(r)).reverse();
  }

  /** separateRun is the id of the drill running on a separate clock now, if one is. */
  separateRun(): string | undefined {
    return this.active?.sandbox ? this.active.run.id : undefined;
  }

  /** get returns one run; ERR_UNKNOWN_DRILL when it is not kept. */
  get(id: string): DrillRun {
    const run = this.runs.find((r) => r.id === id);
    if (!run) throw ERR_UNKNOWN_DRILL(`run "${id}"`);
    return this.view(run);
  }

  /**
   * start begins drill `name` now on `clock` (DRILL_CLOCKS); on the live clock its first steps due at once
   * are injected before it returns. ERR_UNKNOWN_DRILL for a name with no file, ERR_DRILL_RUNNING while
   * another run lasts, ERR_BAD_FIELD for a separate clock when the exporter has none to offer.
   */
  async start(name: string, speed = 1, clock: DrillClock = 'live'): Promise<DrillRun> {
    const def = this.deps.definitions.find((d) => d.name === name);
    if (!def) throw ERR_UNKNOWN_DRILL(`"${name}"`);
    if (this.active) throw ERR_DRILL_RUNNING(this.active.run.id);
    const separate = this.deps.separate;
    if (clock === 'separate' && !separate)
      throw ERR_BAD_FIELD('clock', 'this exporter cannot run drills on a separate clock');
    const other = clock === 'separate' ? this.deps.simulationBusy?.() : undefined;
    if (other !== undefined) throw ERR_SIMULATION_BUSY(other);
    const now = this.deps.clock.now();
    // On a separate clock nothing is compressed: the clock itself runs `speed` times as fast.
    const scale = clock === 'live' ? speed : 1;
    const steps: DrillStepRun[] = def.steps.map((s) => ({
      ...s,
      dueAt: Math.round(now + (s.afterSeconds * 1000) / scale),
      scenarioId: null,
      affected: [],
      error: null,
    }));
    const run: DrillRun = {
      id: `drill-${++this.seq}-${now}`,
      name: def.name,
      title: def.title,
      speed,
      clock,
      phase: clock === 'live' ? null : 'lead-in',
      simulatedAt: null,
      status: 'running',
      startedAt: now,
      endsAt: Math.round(now + (def.durationSeconds * 1000) / scale + def.settleSeconds * 1000),
      finishedAt: null,
      steps,
      report: null,
      error: null,
    };
    const active: Active = {
      run,
      settleMs: def.settleSeconds * 1000,
      startedWall: this.deps.wallClock.now(),
      steps,
      alerts: [],
      timers: [],
      scenarioEnds: new Map(),
      simulatedAt: null,
      phase: run.phase,
    };
    this.active = active;
    this.runs.push(run);
    if (this.runs.length > MAX_RUNS) this.runs.splice(0, this.runs.length - MAX_RUNS);
    this.deps.logger.info({ drill: def.name, id: run.id, speed, clock, endsAt: run.endsAt }, 'drill started');
    if (clock === 'separate' && separate) {
      active.sandbox = separate(
        {
          start: now,
          end: run.endsAt,
          speed,
          steps: steps.map((s) => ({
            dueAt: s.dueAt,
            kind: s.kind,
            server: s.server,
            durationSeconds: s.durationSeconds,
            intensity: s.intensity,
          })),
        },
        (e) => void this.onSandbox(active, e),
      );
      return this.view(run);
    }
    for (let i = 0; i < steps.length; i++) {
      const due = (steps[i]?.dueAt ?? now) - now;
      if (due <= 0) await this.injectStep(active, i);
      else active.timers.push(this.deps.timer.set(() => void this.injectStep(active, i), due));
    }
    active.timers.push(this.deps.timer.set(() => void this.finish(active, 'finished'), run.endsAt - now));
    return this.view(run);
  }

  /** abort ends a running drill now: its steps not yet due are dropped and its active scenarios stopped. */
  async abort(id: string): Promise<DrillRun> {
    const run = this.runs.find((r) => r.id === id);
    if (!run) throw ERR_UNKNOWN_DRILL(`run "${id}"`);
    if (this.active?.run === run) await this.finish(this.active, 'aborted');
    return this.get(id);
  }

  /**
   * alertsFired records alerts of the live rules that started firing at `at` (the rule manager's transitions
   * to firing) into a run on the live clock.
   */
  alertsFired(at: number, alerts: readonly FiredAlert[]): void {
    const a = this.active;
    if (a?.run.clock === 'live') this.record(a, at, alerts);
  }

  /** onSandbox follows a separate clock's run through its events. */
  private async onSandbox(a: Active, e: SandboxMessage): Promise<void> {
    if (this.active !== a) return;
    switch (e.type) {
      case 'lead-in':
        return;
      case 'progress':
        a.phase = 'drill';
        a.simulatedAt = e.simulatedAt;
        return;
      case 'injected': {
        const s = a.steps[e.step];
        if (!s) return;
        a.steps[e.step] = { ...s, dueAt: e.start, scenarioId: e.id, affected: [...e.affected] };
        a.scenarioEnds.set(e.id, e.end);
        return;
      }
      case 'inject-failed': {
        const s = a.steps[e.step];
        if (s) a.steps[e.step] = { ...s, error: e.message };
        return;
      }
      case 'fired':
        a.phase = 'drill';
        a.simulatedAt = Math.max(a.simulatedAt ?? e.at, e.at);
        this.record(a, e.at, e.alerts);
        return;
      case 'done':
        a.simulatedAt = e.simulatedAt;
        return this.finish(a, e.aborted ? 'aborted' : 'finished');
      case 'error':
        this.deps.logger.error({ drill: a.run.name, err: e.message }, 'drill on a separate clock failed');
        return this.finish(a, 'aborted', e.message);
    }
  }

  /** record adds alerts that started firing at `at` to run `a`, each tied to the latest step it fired for. */
  private record(a: Active, at: number, alerts: readonly FiredAlert[]): void {
    for (const f of alerts) {
      if (a.alerts.length >= MAX_ALERTS_PER_RUN) return;
      let step: number | null = null;
      for (let i = a.steps.length - 1; i >= 0; i--) {
        const s = a.steps[i];
        if (s?.scenarioId && s.dueAt <= at && s.affected.includes(f.server)) {
          step = i;
          break;
        }
      }
      const from = step === null ? undefined : a.steps[step]?.dueAt;
      a.alerts.push({
        ...f,
        firedAt: at,
        step,
        secondsAfterStep: from === undefined ? null : (at - from) / 1000,
      });
    }
  }

  /** stop ends a running drill as aborted (the exporter is shutting down). */
  async stop(): Promise<void> {
    if (this.active) await this.finish(this.active, 'aborted');
  }

  private async injectStep(a: Active, i: number): Promise<void> {
    const s = a.steps[i];
    if (!s || this.active !== a) return;
    try {
      const scenario = await this.deps.inject({
        kind: s.kind,
        server: s.server,
        durationSeconds: Math.max(1, s.durationSeconds / a.run.speed),
        intensity: s.intensity,
      });
      a.steps[i] = { ...s, dueAt: scenario.start, scenarioId: scenario.id, affected: [...scenario.affected] };
      a.scenarioEnds.set(scenario.id, scenario.end);
      this.deps.logger.info({ drill: a.run.name, step: i, scenario: scenario.id }, 'drill step injected');
    } catch (err) {
      a.steps[i] = { ...s, error: err instanceof Error ? err.message : String(err) };
      this.deps.logger.warn({ err, drill: a.run.name, step: i }, 'drill step could not be injected');
    }
  }

  private async finish(
    a: Active,
    status: 'finished' | 'aborted',
    error: string | null = null,
  ): Promise<void> {
    if (this.active !== a) return;
    this.active = undefined;
    for (const t of a.timers) this.deps.timer.clear(t);
    a.sandbox?.abort();
    // A separate clock's run ends at that clock's time; its scenarios end with its fleet.
    const now = a.run.clock === 'live' ? this.deps.clock.now() : (a.simulatedAt ?? a.run.startedAt);
    if (status === 'aborted' && a.run.clock === 'live') {
      // The run's scenarios still in effect end with it, so an aborted drill leaves a quiet fleet behind.
      for (const [id, end] of a.scenarioEnds) {
        if (end <= now) continue;
        await this.deps.stop(id).catch((err: unknown) => {
          this.deps.logger.warn({ err, scenario: id }, 'could not stop a drill scenario');
        });
      }
    }
    const i = this.runs.indexOf(a.run);
    const done: DrillRun = {
      ...a.run,
      status,
      phase: a.phase,
      simulatedAt: a.simulatedAt,
      finishedAt: now,
      steps: a.steps,
      report: this.report(a),
      error,
    };
    if (i >= 0) this.runs[i] = done;
    this.deps.logger.info(
      { drill: done.name, id: done.id, status, detectionRate: done.report?.detectionRate },
      'drill ended',
    );
  }

  private report(a: Active): DrillReport {
    const wallNow = this.deps.wallClock.now();
    const settle = a.settleMs;
    const steps = a.steps.map((s, i) => {
      const end = (s.scenarioId ? a.scenarioEnds.get(s.scenarioId) : undefined) ?? s.dueAt;
      const mine = a.alerts.filter(
        (x) =>
          s.scenarioId && x.firedAt >= s.dueAt && x.firedAt <= end + settle && s.affected.includes(x.server),
      );
      const first = mine[0];
      return {
        step: i,
        kind: s.kind,
        server: s.server,
        detected: first !== undefined,
        firstAlert: first ? first.alertname : null,
        secondsToFirstAlert: first ? (first.firedAt - s.dueAt) / 1000 : null,
        alerts: [...new Set(mine.map((x) => x.alertname))].sort(),
      };
    });
    // A separate clock's alerts reach no receiver.
    const deliveries = a.run.clock === 'live' ? this.deps.deliveries() : [];
    const notifications = deliveries
      .filter((d) => d.at >= a.startedWall && d.at <= wallNow)
      .map((d) => ({
        at: d.at,
        receiver: d.receiver,
        groupKey: d.groupKey,
        status: d.status,
        outcome: d.outcome,
      }))
      .reverse();
    const injected = steps.filter((s) => a.steps[s.step]?.scenarioId);
    return {
      steps,
      alerts: a.alerts,
      unrelated: a.alerts.filter((x) => x.step === null).length,
      notifications,
      receivers: [
        ...new Set(notifications.filter((n) => n.outcome === 'delivered').map((n) => n.receiver)),
      ].sort(),
      detectionRate: injected.length === 0 ? 0 : injected.filter((s) => s.detected).length / injected.length,
    };
  }

  /** view is a run as the API shows it: a running run with its steps so far. */
  private view(run: DrillRun): DrillRun {
    const a = this.active;
    if (a?.run !== run) return run;
    return { ...run, steps: [...a.steps], phase: a.phase, simulatedAt: a.simulatedAt };
  }
}
