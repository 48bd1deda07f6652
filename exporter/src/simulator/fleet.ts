/**
 * The fleet simulator. Values are a deterministic function of (seed, fleet, scenarios, instant):
 *
 * - Time is a fixed grid of `stepMs` (default 15 s, the tick period) anchored at Unix time 0. Per-step
 *   constants (load-average decay e^(-step/τ), AR(1) coefficients, swap rates) are derived from the step, so
 *   the behaviour does not depend on it; the values do (a different step is a different fleet). Each server's
 *   state at grid index n is
 *   obtained by stepping from its last boot: the fleet's epoch (installation), a planned maintenance reboot
 *   (every 5–9 days per server, staggered) or the end of a server_down scenario. Counters start at 0 at
 *   every boot, as after a real reboot, and are exact integrals of piecewise-constant rates.
 * - Randomness is counter-based (hash of seed, server, process, step), so stepping never consumes a
 *   stream and any two steppers reaching index n produce bit-identical states. Noise is AR(1) per process.
 * - Causality: seasonal traffic (UTC daily and weekly curves, per role) × noise × scenario effects gives the
 *   request rate; requests drive CPU demand, network bytes/packets, disk I/O and context switches; demand
 *   drives utilisation, the 1/5/15-minute load averages (Linux EWMAs of runnable tasks) and latency
 *   (queueing); latency shapes the request-duration histogram; memory pressure drives swap.
 * - An instant between grid points reports gauges of the grid point before it and counters advanced by their
 *   rate, so live ticks at any period ≥ 1 s, backfill at any step and random access all agree.
 * - Samples are emitted at a real source's resolution (precision.ts): percentages and load averages with 2
 *   decimals, counters in whole events, the latency `_sum` in whole milliseconds; the model state itself stays
 *   full precision. Summaries are derived from the emitted samples, so they match the series exactly.
 * - Checkpoints (hourly, memory-bounded) make random access to the past cost at most an hour of steps;
 *   the first access after start-up replays from the last boot (≤ 9 days, ~1 s for 20 servers).
 *
 * Frames at instants before `epoch` report every server down (the fleet did not exist yet).
 */
import type { Logger } from 'pino';
import { CheckpointStore, CHECKPOINT_INTERVAL_MS, DEFAULT_CHECKPOINT_BUDGET_BYTES } from './checkpoints.js';
import { Effects } from './effects.js';
import { SimulatorError } from './errors.js';
import { defaultFleet } from './fleet-file.js';
import { seedKey } from './hash.js';
import { buildFleetPlan, type ServerPlan } from './layout.js';
import { backupActivity, batchFromUser, ROLE_PROFILES, userSeason } from './profiles.js';
import {
  ScenarioBook,
  DEFAULT_SCENARIO_RATE_PER_HOUR,
  type HistoryPage,
  type ScenarioEntry,
  type ScenarioSpec,
  type ScenarioState,
} from './scenarios.js';
import { GRID_MS, H, MIN_STEP_MS, ServerModel, Status, stepParams } from './server-model.js';
import type { FleetFrame, FleetLayout, Scenario, ServerInfo, ServerSummary } from './types.js';

/** DEFAULT_SEED is the seed when none is configured. */
export const DEFAULT_SEED = 42;

/**
 * DEFAULT_EPOCH is when the simulated fleet was installed: 2025-01-01T00:00:00Z. Boots before an instant are
 * at most 9 days back (maintenance reboots), so a far-away epoch costs nothing.
 */
export const DEFAULT_EPOCH = Date.UTC(2025, 0, 1);

/** DEFAULT_HISTORY_MS is how far back history() reaches by default (8 days: the 7-day backfill and margin). */
export const DEFAULT_HISTORY_MS = 8 * 86_400_000;

/** FleetOptions configures a Fleet; every field has a default. */
export interface FleetOptions {
  /** servers of the fleet (default: defaultFleet(), the shipped 20 servers). */
  readonly servers?: readonly ServerInfo[];
  /** seed of every random choice (integer, default DEFAULT_SEED). */
  readonly seed?: number;
  /** scenarioRatePerHour is scheduled scenarios per hour across the fleet (default 3; 0 = none). */
  readonly scenarioRatePerHour?: number;
  /**
   * epoch is the fleet's installation time in Unix ms (default DEFAULT_EPOCH). Benchmarks of big fleets
   * set it shortly before their first instant, so the first frame does not replay days of history.
   */
  readonly epoch?: number;
  /** logger for scenario changes (default: none). */
  readonly logger?: Logger;
  /** checkpointBudgetBytes bounds checkpoint memory (default DEFAULT_CHECKPOINT_BUDGET_BYTES, 1 MiB). */
  readonly checkpointBudgetBytes?: number;
  /**
   * stepMs is the model's step in ms (default GRID_MS = 15 s; integer ≥ 1000): pass the tick period so that
   * every live tick advances the model by exactly one step. Replaying from a boot costs time ∝ 1 / stepMs.
   */
  readonly stepMs?: number;
}

/** FramesOptions tunes frames(). */
export interface FramesOptions {
  /**
   * reuse makes every yielded frame share one values array (overwritten by the next frame): for consumers
   * that copy or encode each frame before asking for the next one (backfill).
   */
  readonly reuse?: boolean;
}

/** Stepper is one cursor over time: state of every server at its grid index (`cursor`, -1 = none). */
class Stepper {
  readonly cursor: Float64Array;
  /** samples are per-server views of the sample regions of `state` (emit copies them). */
  readonly samples: Float64Array[];
  version: number;
  constructor(
    readonly state: Float64Array,
    models: readonly ServerModel[],
    offsets: Float64Array,
    version: number,
  ) {
    this.cursor = new Float64Array(models.length).fill(-1);
    this.samples = models.map((m, i) => m.samplesView(state, offsets[i] ?? 0));
    this.version = version;
  }
}

const EMPTY_IDS: readonly string[] = Object.freeze([]);

/**
 * REPLAY_WINDOW_STEPS is how many steps a replay computes its fleet-wide inputs for at a time: 3 arrays of
 * 4,096 doubles (96 KiB) stay in cache while every server steps through them.
 */
const REPLAY_WINDOW_STEPS = 4_096;

/** Fleet is the simulated fleet: its layout, its frames at any instant, and its failure scenarios. */
export class Fleet {
  /** layout is the fixed series set every frame's values are aligned with. */
  readonly layout: FleetLayout;
  /** seed is the seed in use. */
  readonly seed: number;
  /** epoch is the installation instant (Unix ms). */
  readonly epoch: number;
  /** gridMs is the model's step (stepMs): frames at grid instants are the model's own states. */
  readonly gridMs: number;
  private readonly checkpointEvery: number;
  private readonly plans: readonly ServerPlan[];
  private readonly models: readonly ServerModel[];
  private readonly offsets: Float64Array;
  private readonly isBatch: Uint8Array;
  private readonly book: ScenarioBook;
  private readonly checkpoints: CheckpointStore;
  private readonly fx: Effects;
  private readonly live: Stepper;
  private readonly stateDoubles: number;
  private readonly epochIndex: number;
  private readonly invalidations: number[] = [];
  private readonly start: Float64Array;
  private readonly downNow: Uint8Array;
  private readonly logger: Logger | undefined;

  constructor(opts: FleetOptions = {}) {
    const servers = opts.servers ?? defaultFleet();
    if (servers.length === 0)
      throw new SimulatorError('FLEET_OPTIONS_INVALID', 'servers: the fleet is empty', 'servers');
    const seed = opts.seed ?? DEFAULT_SEED;
    if (!Number.isSafeInteger(seed))
      throw new SimulatorError('FLEET_OPTIONS_INVALID', `seed must be an integer, got ${seed}`, 'seed');
    const epoch = opts.epoch ?? DEFAULT_EPOCH;
    if (!Number.isFinite(epoch))
      throw new SimulatorError(
        'FLEET_OPTIONS_INVALID',
        `epoch must be a Unix time in ms, got ${epoch}`,
        'epoch',
      );
    const stepMs = opts.stepMs ?? GRID_MS;
    if (!Number.isSafeInteger(stepMs) || stepMs < MIN_STEP_MS)
      throw new SimulatorError(
        'FLEET_OPTIONS_INVALID',
        `stepMs must be an integer ≥ ${MIN_STEP_MS}, got ${stepMs}`,
        'stepMs',
      );
    this.seed = seed;
    this.epoch = epoch;
    this.gridMs = stepMs;
    this.checkpointEvery = Math.max(1, Math.round(CHECKPOINT_INTERVAL_MS / stepMs));
    this.epochIndex = Math.ceil(epoch / stepMs);
    this.logger = opts.logger;
    const { layout, plans } = buildFleetPlan(servers);
    this.layout = layout;
    this.plans = plans;
    const key = seedKey(seed);
    const sp = stepParams(stepMs);
    this.models = servers.map((info, i) => new ServerModel(i, info, plans[i] ?? missing(i), key, sp));
    this.offsets = new Float64Array(servers.length);
    let total = 0;
    this.models.forEach((m, i) => {
      this.offsets[i] = total;
      total += m.stateSize;
    });
    this.stateDoubles = total;
    this.isBatch = Uint8Array.from(servers, (s) => (ROLE_PROFILES[s.role].season === 'batch' ? 1 : 0));
    this.book = new ScenarioBook(servers, seed, {
      ratePerHour: opts.scenarioRatePerHour ?? DEFAULT_SCENARIO_RATE_PER_HOUR,
      epoch,
    });
    this.book.onChange((from) => this.invalidate(from));
    this.checkpoints = new CheckpointStore(
      servers.length,
      total / servers.length,
      opts.checkpointBudgetBytes ?? DEFAULT_CHECKPOINT_BUDGET_BYTES,
    );
    this.fx = new Effects(servers.length);
    this.start = new Float64Array(servers.length);
    this.downNow = new Uint8Array(servers.length);
    this.live = this.newStepper();
  }

  private newStepper(): Stepper {
    return new Stepper(
      new Float64Array(this.stateDoubles),
      this.models,
      this.offsets,
      this.invalidations.length,
    );
  }

  /** invalidate forgets every state at or after `from` (a scenario changed from then on). */
  private invalidate(from: number): void {
    this.invalidations.push(from);
    this.checkpoints.dropFrom(Math.ceil(from / this.gridMs));
  }

  private sync(st: Stepper): void {
    if (st.version === this.invalidations.length) return;
    let from = Infinity;
    for (let k = st.version; k < this.invalidations.length; k++)
      from = Math.min(from, this.invalidations[k] ?? Infinity);
    const n = Math.ceil(from / this.gridMs);
    for (let i = 0; i < st.cursor.length; i++) if ((st.cursor[i] ?? -1) >= n) st.cursor[i] = -1;
    st.version = this.invalidations.length;
  }

  /** advance brings every server of `st` to grid index n. */
  private advance(st: Stepper, n: number): void {
    this.sync(st);
    const N = this.models.length;
    const start = this.start;
    const cold: number[] = [];
    for (let i = 0; i < N; i++) {
      const c = st.cursor[i] ?? -1;
      if (c === n) start[i] = Infinity;
      else if (c >= 0 && c < n && n - c <= this.checkpointEvery) start[i] = c + 1;
      else cold.push(i);
    }
    if (cold.length > 0) this.coldStart(st, cold, n);
    let lo = Infinity;
    for (let i = 0; i < N; i++) if ((start[i] ?? Infinity) < lo) lo = start[i] ?? Infinity;
    if (lo > n) return;
    if (lo === n) this.stepAll(st, n);
    else this.replay(st, lo, n);
  }

  /** stepAll advances every server due at grid index m (a live tick: one step for the whole fleet). */
  private stepAll(st: Stepper, m: number): void {
    const t = m * this.gridMs;
    this.fx.reset();
    this.fx.apply(this.book.overlapping(t - this.gridMs, t), t, this.gridMs, this.layout.servers);
    const user = userSeason(t);
    const batch = batchFromUser(user, t);
    const backup = backupActivity(t);
    const start = this.start;
    for (let i = 0; i < this.models.length; i++) {
      if ((start[i] ?? Infinity) > m) continue;
      this.stepOne(st, i, m, t, this.isBatch[i] ? batch : user, backup);
    }
  }

  /**
   * replay advances servers over many steps server by server (one server's state stays in cache), with the
   * fleet-wide inputs (seasonality, scenarios) computed once. Effects are applied per server from the
   * scenarios touching it, in the same order as stepAll, so both paths give bit-identical states. The range
   * is walked in windows of REPLAY_WINDOW_STEPS, so the per-step inputs stay small however far back the last
   * boot is (9 days at a 1 s step would be 3 arrays of 777,600 doubles, ~19 MB, for one start-up).
   */
  private replay(st: Stepper, lo: number, n: number): void {
    const g = this.gridMs;
    const size = Math.min(n - lo + 1, REPLAY_WINDOW_STEPS);
    const user = new Float64Array(size);
    const batch = new Float64Array(size);
    const backup = new Float64Array(size);
    const byServer = new Map<number, ScenarioEntry[]>();
    for (const e of this.book.overlapping(lo * g - g, n * g))
      for (const a of e.affected) {
        const list = byServer.get(a);
        if (list) list.push(e);
        else byServer.set(a, [e]);
      }
    const fx = this.fx;
    const servers = this.layout.servers;
    fx.reset();
    for (let w = lo; w <= n; w += size) {
      const end = Math.min(n, w + size - 1);
      for (let m = w; m <= end; m++) {
        const t = m * g;
        const u = userSeason(t);
        user[m - w] = u;
        batch[m - w] = batchFromUser(u, t);
        backup[m - w] = backupActivity(t);
      }
      for (let i = 0; i < this.models.length; i++) {
        const from = Math.max(this.start[i] ?? Infinity, w);
        if (from > end) continue;
        const season = this.isBatch[i] ? batch : user;
        const entries = byServer.get(i);
        for (let m = from; m <= end; m++) {
          const t = m * g;
          if (entries) {
            fx.reset();
            fx.apply(entries, t, g, servers);
          }
          this.stepOne(st, i, m, t, season[m - w] ?? 0, backup[m - w] ?? 0);
        }
        if (entries) fx.reset();
      }
    }
  }

  /**
   * coldStart picks, for servers without a usable cursor, the closest state to replay from: the cursor, a
   * checkpoint, or the last boot (epoch, maintenance reboot, or the end of a server_down).
   */
  private coldStart(st: Stepper, cold: readonly number[], n: number): void {
    const boots = new Map<number, number>();
    let lo = Infinity;
    for (const i of cold) {
      const model = this.models[i];
      if (!model) continue;
      const b = Math.max(this.epochIndex, model.lastPeriodicBoot(n));
      boots.set(i, b);
      if (b < lo) lo = b;
    }
    if (n >= this.epochIndex && lo <= n) {
      for (const e of this.book.overlapping(lo * this.gridMs - this.gridMs, n * this.gridMs)) {
        if (e.kind !== 'server_down') continue;
        const b = Math.ceil(e.end / this.gridMs);
        const cur = boots.get(e.origin);
        if (cur !== undefined && b <= n && b > cur) boots.set(e.origin, b);
      }
    }
    for (const i of cold) {
      const o = this.offsets[i] ?? 0;
      const size = this.models[i]?.stateSize ?? 0;
      if (n < this.epochIndex) {
        st.cursor[i] = -1;
        this.start[i] = n;
        continue;
      }
      const b = boots.get(i) ?? n;
      let from = b;
      let keep = false;
      const c = st.cursor[i] ?? -1;
      if (c >= 0 && c < n && c + 1 > from) {
        from = c + 1;
        keep = true;
      }
      const cp = this.checkpoints.latest(i, b, n);
      if (cp && cp.n + 1 > from) {
        st.state.set(cp.state, o);
        st.cursor[i] = cp.n;
        from = cp.n + 1;
        keep = true;
      }
      if (!keep) {
        st.state[o + H.status] = Status.invalid;
        st.cursor[i] = -1;
      }
      if (size === 0) from = Infinity;
      this.start[i] = from;
    }
  }

  private stepOne(st: Stepper, i: number, m: number, t: number, season: number, backup: number): void {
    const model = this.models[i];
    if (!model) return;
    const o = this.offsets[i] ?? 0;
    const s = st.state;
    st.cursor[i] = m;
    if (m < this.epochIndex) {
      s[o + H.status] = Status.notInstalled;
      return;
    }
    if (this.fx.down[i]) {
      s[o + H.status] = Status.down;
      s[o + H.index] = m;
    } else if (
      s[o + H.status] !== Status.up ||
      this.fx.reboot[i] ||
      m === this.epochIndex ||
      model.isPeriodicBoot(m)
    ) {
      model.boot(s, o, m, t, season, backup, this.fx);
    } else {
      model.step(s, o, m, t, season, backup, this.fx);
    }
    if (m % this.checkpointEvery === 0) this.checkpoints.save(i, m, s, o, model.stateSize);
  }

  private emit(st: Stepper, t: number, n: number, out: Float64Array): FleetFrame {
    const dtS = (t - n * this.gridMs) / 1000;
    const active = this.book.activeEntries(t);
    const ids = new Map<number, string[]>();
    for (const e of active) {
      if (e.kind === 'server_down') this.downNow[e.origin] = 1;
      for (const a of e.affected) {
        const list = ids.get(a);
        if (list) list.push(e.id);
        else ids.set(a, [e.id]);
      }
    }
    const s = st.state;
    const N = this.models.length;
    const summaries: ServerSummary[] = new Array<ServerSummary>(N);
    for (let i = 0; i < N; i++) {
      const model = this.models[i];
      const plan = this.plans[i];
      const info = this.layout.servers[i];
      if (!model || !plan || !info) continue;
      const o = this.offsets[i] ?? 0;
      const up = s[o + H.status] === Status.up && this.downNow[i] === 0;
      if (up) model.emit(s, o, st.samples[i] ?? model.samplesView(s, o), out, dtS);
      else out.fill(NaN, plan.first, plan.first + plan.count);
      out.fill(0, plan.first + plan.scenarioActive, plan.first + plan.count);
      summaries[i] = {
        id: info.id,
        role: info.role,
        cpu: up ? model.cpuOf(out) : 0,
        memory: up ? model.memoryOf(out) : 0,
        disk: up ? model.diskOf(out) : 0,
        networkIn: up ? (s[o + H.netIn] ?? 0) : 0,
        networkOut: up ? (s[o + H.netOut] ?? 0) : 0,
        up,
        activeScenarios: ids.get(i) ?? EMPTY_IDS,
      };
    }
    for (const e of active) {
      if (e.kind === 'server_down') this.downNow[e.origin] = 0;
      for (const a of e.affected) {
        const plan = this.plans[a];
        if (plan) out[plan.first + plan.scenarioActive + e.kindIndex] = 1;
      }
    }
    return { t, values: out, summaries };
  }

  /**
   * frameAt returns the fleet's state at instant `t` (Unix ms). Live ticks call it with increasing `t`;
   * any other order works too (slower). `out` may be passed to reuse a values array.
   */
  frameAt(t: number, out?: Float64Array): FleetFrame {
    checkInstant(t, 't');
    const n = Math.floor(t / this.gridMs);
    this.advance(this.live, n);
    return this.emit(this.live, t, n, out ?? new Float64Array(this.layout.series.length));
  }

  /**
   * prepare replays the fleet up to instant `t` one checkpoint interval at a time, awaiting `turn` between
   * intervals, so that frames() or frameAt() at `t` then start from a checkpoint at most an interval back.
   * Without it the first of them replays every server from its last boot (up to 9 days) in one synchronous
   * go, about a second at 20 servers, while the exporter already serves. It replays what advance() would
   * (each server from the cold start advance picks), so the states and checkpoints are the same. A scenario
   * change during a turn ends it early (frames() then replays the rest itself).
   */
  async prepare(t: number, turn: () => Promise<void>): Promise<void> {
    checkInstant(t, 't');
    const n = Math.floor(t / this.gridMs);
    if (n < this.epochIndex) return;
    const st = this.newStepper();
    const version = st.version;
    this.coldStart(
      st,
      this.models.map((_, i) => i),
      n,
    );
    // Each server's next step; `this.start` is scratch that a live tick may reuse during a turn.
    const next = Float64Array.from(this.start);
    let lo = Infinity;
    for (const s of next) lo = Math.min(lo, s);
    for (let w = lo; w <= n; w += this.checkpointEvery) {
      const end = Math.min(n, w + this.checkpointEvery - 1);
      this.start.set(next);
      this.replay(st, w, end);
      for (let i = 0; i < next.length; i++) if ((next[i] ?? Infinity) <= end) next[i] = end + 1;
      if (end === n) return;
      await turn();
      if (this.invalidations.length !== version) return;
    }
  }

  /**
   * frames yields the frames at from, from + stepMs, … ≤ to — bit-identical to frameAt at those instants —
   * with its own cursor, so a backfill never disturbs live ticks.
   */
  *frames(
    from: number,
    to: number,
    stepMs: number,
    opts: FramesOptions = {},
  ): Generator<FleetFrame, void, undefined> {
    checkInstant(from, 'from');
    checkInstant(to, 'to');
    if (!(stepMs >= 1) || !Number.isFinite(stepMs))
      throw new SimulatorError('FLEET_OPTIONS_INVALID', `stepMs must be ≥ 1, got ${stepMs}`, 'stepMs');
    const st = this.newStepper();
    const shared = opts.reuse ? new Float64Array(this.layout.series.length) : undefined;
    for (let k = 0; ; k++) {
      const t = from + k * stepMs;
      if (t > to) return;
      const n = Math.floor(t / this.gridMs);
      this.advance(st, n);
      yield this.emit(st, t, n, shared ?? new Float64Array(this.layout.series.length));
    }
  }

  /** serverIndex returns the index of a server id in layout.servers, or -1. */
  serverIndex(id: string): number {
    return this.book.serverIndex(id);
  }

  /** inject starts an on-demand scenario at `now`; throws SimulatorError SCENARIO_INVALID naming the field. */
  inject(spec: ScenarioSpec, now: number): Scenario {
    checkInstant(now, 'now');
    const s = this.book.inject(spec, now);
    this.logger?.info({ scenario: s }, 'scenario injected');
    return s;
  }

  /** stop ends a scenario (scheduled or injected) at `now`; SCENARIO_NOT_FOUND for an unknown id. */
  stop(id: string, now: number): Scenario {
    checkInstant(now, 'now');
    const s = this.book.stop(id, now);
    this.logger?.info({ scenario: s }, 'scenario stopped');
    return s;
  }

  /** active returns the scenarios in effect at `now`. */
  active(now: number): Scenario[] {
    return this.book.active(now);
  }

  /**
   * history returns the ground truth: every scenario (scheduled and injected) that started by `now` and was
   * still running at or after `since` (default: 8 days before `now`, never before the epoch).
   */
  history(now: number, since = now - DEFAULT_HISTORY_MS): Scenario[] {
    return this.book.history(now, Math.max(since, this.epoch));
  }

  /**
   * latestHistory returns the `limit` newest scenarios of history(now, since) and whether older ones were left
   * out; its cost follows `limit`, however far back `since` lies (for the API, where `since` is untrusted).
   */
  latestHistory(now: number, since: number, limit: number): HistoryPage {
    return this.book.latestHistory(now, Math.max(since, this.epoch), limit);
  }

  /** toJSON returns the scenario state to persist (injected scenarios, early stops) so restarts keep them. */
  toJSON(): ScenarioState {
    return this.book.toJSON();
  }

  /** restore loads a state saved by toJSON (call before the first frame); SCENARIO_STATE_INVALID if malformed. */
  restore(json: unknown): void {
    const { dropped } = this.book.restore(json);
    if (dropped.length > 0)
      this.logger?.warn({ dropped }, 'persisted scenarios name servers no longer in the fleet');
  }
}

function checkInstant(t: number, field: string): void {
  if (!Number.isFinite(t))
    throw new SimulatorError('FLEET_OPTIONS_INVALID', `${field} must be a finite Unix time in ms`, field);
}

function missing(i: number): never {
  throw new Error(`no plan for server ${i}`);
}
