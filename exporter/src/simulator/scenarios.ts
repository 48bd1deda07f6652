/**
 * Failure scenarios: the random schedule (a pure function of seed and time, so backfill and live ticks see
 * the same episodes), on-demand injection, stopping, persistence of what was injected, and the history that
 * later features are scored against.
 *
 * Schedule: time is cut into SCHEDULE_SLOT_MS slots; slot j holds ⌊p⌋ or ⌈p⌉ scenarios (p = rate × slot
 * length), and scenario k of slot j takes its start, kind, server, duration and intensity from
 * hash(seed, j, k). Any window's scenarios are therefore found by decoding the few slots that can overlap it.
 */
import { z } from 'zod';
import { SimulatorError } from './errors.js';
import { hashPair, seedKey, unit } from './hash.js';
import { SCENARIO_KINDS } from './layout.js';
import type { Scenario, ScenarioKind, ServerInfo } from './types.js';

/** DEFAULT_SCENARIO_RATE_PER_HOUR is the default number of scheduled scenarios per hour across the fleet. */
export const DEFAULT_SCENARIO_RATE_PER_HOUR = 3;

/** SCHEDULE_SLOT_MS is the schedule's slot length (10 min: fine enough for rates up to several per hour). */
export const SCHEDULE_SLOT_MS = 600_000;

/** DURATION_RANGE_S is each kind's scheduled duration range [min, max] in seconds. */
export const DURATION_RANGE_S: Readonly<Record<ScenarioKind, readonly [number, number]>> = {
  cpu_spike: [180, 900],
  memory_leak: [1200, 3600],
  disk_fill: [900, 3600],
  network_saturation: [180, 900],
  service_crash: [120, 600],
  latency_degradation: [300, 1200],
  cascading_failure: [600, 1800],
  server_down: [120, 600],
};

/** MAX_SCHEDULED_MS is the longest scheduled scenario, which bounds how far back a window lookup decodes. */
const MAX_SCHEDULED_MS = Math.max(...Object.values(DURATION_RANGE_S).map((r) => r[1])) * 1000;

/** KIND_WEIGHTS is how often the schedule picks each kind (relative): benign spikes often, outages rarely. */
const KIND_WEIGHTS: Readonly<Record<ScenarioKind, number>> = {
  cpu_spike: 20,
  memory_leak: 12,
  disk_fill: 10,
  network_saturation: 12,
  service_crash: 12,
  latency_degradation: 16,
  cascading_failure: 8,
  server_down: 10,
};

/** MAX_DURATION_S bounds an injected scenario (one week: longer is an outage, not a scenario). */
export const MAX_DURATION_S = 7 * 86_400;

/** DEFAULT_INJECT_INTENSITY is the intensity of an injected scenario that names none. */
export const DEFAULT_INJECT_INTENSITY = 0.8;

/** CASCADE_MAX_PER_TIER caps how many api and web servers one cascading failure reaches (big fleets). */
export const CASCADE_MAX_PER_TIER = 8;

/** ScenarioSpec is an on-demand scenario request (the body of POST /api/scenarios). */
export interface ScenarioSpec {
  readonly kind: ScenarioKind;
  readonly server: string;
  /** durationSeconds defaults to the middle of the kind's scheduled range. */
  readonly durationSeconds?: number;
  /** intensity is 0..1, default DEFAULT_INJECT_INTENSITY. */
  readonly intensity?: number;
}

const specSchema = z.strictObject({
  kind: z.enum(SCENARIO_KINDS, {
    message: `kind must be one of ${SCENARIO_KINDS.join(', ')}`,
  }),
  server: z.string({ message: 'server must be a server id' }).min(1, 'server must be a server id'),
  durationSeconds: z
    .number({ message: 'durationSeconds must be a number of seconds' })
    .positive('durationSeconds must be > 0')
    .max(MAX_DURATION_S, `durationSeconds must be ≤ ${MAX_DURATION_S}`)
    .optional(),
  intensity: z
    .number({ message: 'intensity must be a number between 0 and 1' })
    .min(0, 'intensity must be between 0 and 1')
    .max(1, 'intensity must be between 0 and 1')
    .optional(),
});

/** parseScenarioSpec validates an untrusted request body; errors are SCENARIO_INVALID naming the field. */
export function parseScenarioSpec(input: unknown): ScenarioSpec {
  const res = specSchema.safeParse(input);
  if (!res.success) {
    const issue = res.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    const message =
      issue?.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue?.message;
    throw new SimulatorError('SCENARIO_INVALID', `${field}: ${message ?? 'invalid scenario'}`, field);
  }
  return res.data;
}

/** HistoryPage is the newest part of a scenario history: `truncated` says older scenarios may exist. */
export interface HistoryPage {
  readonly scenarios: Scenario[];
  readonly truncated: boolean;
}

/** ScenarioEntry is a scenario with what the model needs: server indexes and the planned end (ramps). */
export interface ScenarioEntry {
  readonly id: string;
  readonly kind: ScenarioKind;
  readonly kindIndex: number;
  readonly origin: number;
  /** affected are server indexes, origin first. */
  readonly affected: Int32Array;
  readonly start: number;
  /** end is the actual end (planned, or the stop time). */
  end: number;
  /** plannedEnd fixes the ramps' slopes so stopping early never rewrites the past. */
  readonly plannedEnd: number;
  readonly intensity: number;
  /** service is the index (in ServerInfo.services) a service_crash takes down, else -1. */
  readonly service: number;
  readonly source: 'schedule' | 'api';
  stoppedAt: number | undefined;
}

const persistedEntry = z.object({
  id: z.string(),
  kind: z.enum(SCENARIO_KINDS),
  server: z.string(),
  start: z.number(),
  end: z.number(),
  plannedEnd: z.number(),
  intensity: z.number().min(0).max(1),
  stoppedAt: z.number().optional(),
});

const persistedState = z.object({
  version: z.literal(1),
  nextSeq: z.number().int().min(1),
  injected: z.array(persistedEntry),
  stopped: z.array(z.object({ id: z.string(), stoppedAt: z.number() })),
});

/** ScenarioState is what must survive a restart: injected scenarios and early stops of scheduled ones. */
export type ScenarioState = z.infer<typeof persistedState>;

/** ScenarioBookOptions configures the schedule. */
export interface ScenarioBookOptions {
  /** ratePerHour is scheduled scenarios per hour across the fleet (0 disables the schedule). */
  readonly ratePerHour: number;
  /** epoch: nothing is scheduled to start before it (the fleet does not exist yet). */
  readonly epoch: number;
}

/**
 * SLOT_CACHE_MAX bounds decoded schedule slots kept in memory (288 slots = 2 days). Live ticks touch the last
 * few; a replay from a boot days back or an 8-day history() decodes older slots again (a few ms), which is
 * cheaper than keeping ~0.7 KB per scheduled scenario for weeks.
 */
const SLOT_CACHE_MAX = 288;

/** byStartThenId orders scenarios by start, then id: a total order (ids are unique). */
function byStartThenId(a: ScenarioEntry, b: ScenarioEntry): number {
  return a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** ScenarioBook holds the scheduled and injected scenarios of one fleet. */
export class ScenarioBook {
  private readonly key: number;
  private readonly perSlot: number;
  private readonly index = new Map<string, number>();
  private readonly dbServers: number[];
  private readonly kindTable: { kind: ScenarioKind; upTo: number }[];
  private readonly slotCache = new Map<number, ScenarioEntry[]>();
  private readonly stopped = new Map<string, number>();
  private injected: ScenarioEntry[] = [];
  private nextSeq = 1;
  private readonly listeners: ((from: number) => void)[] = [];

  constructor(
    private readonly servers: readonly ServerInfo[],
    seed: number,
    private readonly opts: ScenarioBookOptions,
  ) {
    if (!(opts.ratePerHour >= 0) || !Number.isFinite(opts.ratePerHour))
      throw new SimulatorError(
        'FLEET_OPTIONS_INVALID',
        `scenarioRatePerHour must be ≥ 0, got ${opts.ratePerHour}`,
        'scenarioRatePerHour',
      );
    this.key = hashPair(seedKey(seed), 0x5ce7a210);
    this.perSlot = (opts.ratePerHour * SCHEDULE_SLOT_MS) / 3_600_000;
    servers.forEach((s, i) => this.index.set(s.id, i));
    this.dbServers = servers.flatMap((s, i) => (s.role === 'db' ? [i] : []));
    const total = SCENARIO_KINDS.reduce((a, k) => a + KIND_WEIGHTS[k], 0);
    let acc = 0;
    this.kindTable = SCENARIO_KINDS.map((kind) => {
      acc += KIND_WEIGHTS[kind] / total;
      return { kind, upTo: acc };
    });
  }

  /** onChange registers a listener told the earliest instant whose state a change (inject/stop/restore) affects. */
  onChange(listener: (from: number) => void): void {
    this.listeners.push(listener);
  }

  private changed(from: number): void {
    for (const l of this.listeners) l(from);
  }

  /** serverIndex returns the index of a server id, or -1. */
  serverIndex(id: string): number {
    return this.index.get(id) ?? -1;
  }

  private affectedFor(kind: ScenarioKind, origin: number): Int32Array {
    if (kind !== 'cascading_failure') return Int32Array.of(origin);
    const n = this.servers.length;
    const api: number[] = [];
    const web: number[] = [];
    for (let d = 1; d < n; d++) {
      const i = (origin + d) % n;
      const role = this.servers[i]?.role;
      if (role === 'api' && api.length < CASCADE_MAX_PER_TIER) api.push(i);
      else if (role === 'web' && web.length < CASCADE_MAX_PER_TIER) web.push(i);
    }
    api.sort((a, b) => a - b);
    web.sort((a, b) => a - b);
    return Int32Array.from([origin, ...api, ...web]);
  }

  private serviceFor(kind: ScenarioKind, origin: number, h: number): number {
    if (kind !== 'service_crash') return -1;
    const count = this.servers[origin]?.services.length ?? 0;
    return count > 0 ? Math.floor(unit(h) * count) : -1;
  }

  private decodeSlot(j: number): ScenarioEntry[] {
    const cached = this.slotCache.get(j);
    if (cached) return cached;
    const out: ScenarioEntry[] = [];
    const n = this.servers.length;
    if (this.perSlot > 0 && n > 0) {
      const h = hashPair(this.key, j);
      const whole = Math.floor(this.perSlot);
      const count = whole + (unit(h) < this.perSlot - whole ? 1 : 0);
      for (let k = 0; k < count; k++) {
        const hk = hashPair(h, k + 1);
        const start = j * SCHEDULE_SLOT_MS + Math.floor(unit(hashPair(hk, 1)) * SCHEDULE_SLOT_MS);
        if (start < this.opts.epoch) continue;
        const u = unit(hashPair(hk, 2));
        let kind: ScenarioKind = this.kindTable.find((e) => u < e.upTo)?.kind ?? 'cpu_spike';
        let origin = Math.floor(unit(hashPair(hk, 3)) * n);
        if (kind === 'cascading_failure') {
          if (this.dbServers.length === 0) kind = 'latency_degradation';
          else origin = this.dbServers[Math.floor(unit(hashPair(hk, 4)) * this.dbServers.length)] ?? origin;
        }
        if (kind === 'service_crash' && (this.servers[origin]?.services.length ?? 0) === 0)
          kind = 'cpu_spike';
        const [lo, hi] = DURATION_RANGE_S[kind];
        const durationMs = Math.round(lo + unit(hashPair(hk, 5)) * (hi - lo)) * 1000;
        const intensity = Math.round((0.4 + 0.6 * unit(hashPair(hk, 6))) * 100) / 100;
        const id = `sched-${j}-${k}`;
        const stoppedAt = this.stopped.get(id);
        const plannedEnd = start + durationMs;
        out.push({
          id,
          kind,
          kindIndex: SCENARIO_KINDS.indexOf(kind),
          origin,
          affected: this.affectedFor(kind, origin),
          start,
          end: stoppedAt === undefined ? plannedEnd : Math.min(plannedEnd, Math.max(start, stoppedAt)),
          plannedEnd,
          intensity,
          service: this.serviceFor(kind, origin, hashPair(hk, 7)),
          source: 'schedule',
          stoppedAt,
        });
      }
    }
    if (this.slotCache.size >= SLOT_CACHE_MAX) this.slotCache.clear();
    this.slotCache.set(j, out);
    return out;
  }

  /**
   * overlapping returns every scenario with start ≤ to and end > from (scheduled and injected), in start
   * order. The returned entries are the book's own: callers must not mutate them.
   */
  overlapping(from: number, to: number): ScenarioEntry[] {
    const out: ScenarioEntry[] = [];
    if (this.perSlot > 0) {
      const j0 = Math.floor((from - MAX_SCHEDULED_MS) / SCHEDULE_SLOT_MS);
      const j1 = Math.floor(to / SCHEDULE_SLOT_MS);
      for (let j = j0; j <= j1; j++)
        for (const e of this.decodeSlot(j)) if (e.start <= to && e.end > from) out.push(e);
    }
    for (const e of this.injected) if (e.start <= to && e.end > from) out.push(e);
    // One total order everywhere (effects combine in this order, so it must not depend on the window).
    if (out.length > 1) out.sort(byStartThenId);
    return out;
  }

  /** activeEntries returns the scenarios in effect at `t` (start ≤ t < end). */
  activeEntries(t: number): ScenarioEntry[] {
    return this.overlapping(t, t).filter((e) => e.start <= t && t < e.end);
  }

  /** inject starts a scenario at `now`; the spec must have passed parseScenarioSpec (or be trusted). */
  inject(spec: ScenarioSpec, now: number): Scenario {
    const checked = parseScenarioSpec(spec);
    const origin = this.serverIndex(checked.server);
    if (origin < 0)
      throw new SimulatorError('SCENARIO_INVALID', `server: unknown server "${checked.server}"`, 'server');
    if (checked.kind === 'service_crash' && (this.servers[origin]?.services.length ?? 0) === 0)
      throw new SimulatorError(
        'SCENARIO_INVALID',
        `server: "${checked.server}" runs no services to crash`,
        'server',
      );
    const [lo, hi] = DURATION_RANGE_S[checked.kind];
    const durationMs = Math.round((checked.durationSeconds ?? (lo + hi) / 2) * 1000);
    const id = `inj-${this.nextSeq++}`;
    const start = Math.floor(now);
    const entry: ScenarioEntry = {
      id,
      kind: checked.kind,
      kindIndex: SCENARIO_KINDS.indexOf(checked.kind),
      origin,
      affected: this.affectedFor(checked.kind, origin),
      start,
      end: start + durationMs,
      plannedEnd: start + durationMs,
      intensity: checked.intensity ?? DEFAULT_INJECT_INTENSITY,
      service: this.serviceFor(checked.kind, origin, hashPair(this.key, this.nextSeq)),
      source: 'api',
      stoppedAt: undefined,
    };
    this.injected.push(entry);
    this.changed(start);
    return this.toScenario(entry);
  }

  /** stop ends a scenario at `now` (a future one is cancelled); SCENARIO_NOT_FOUND for an unknown id. */
  stop(id: string, now: number): Scenario {
    const entry = this.find(id);
    if (!entry) throw new SimulatorError('SCENARIO_NOT_FOUND', `no scenario with id "${id}"`, 'id');
    if (entry.end <= now) return this.toScenario(entry);
    const at = Math.max(entry.start, Math.floor(now));
    entry.end = at;
    entry.stoppedAt = Math.floor(now);
    if (entry.source === 'schedule') this.stopped.set(entry.id, entry.stoppedAt);
    this.changed(at);
    return this.toScenario(entry);
  }

  private find(id: string): ScenarioEntry | undefined {
    const inj = this.injected.find((e) => e.id === id);
    if (inj) return inj;
    const m = /^sched-(-?\d+)-(\d+)$/.exec(id);
    if (!m) return undefined;
    return this.decodeSlot(Number(m[1])).find((e) => e.id === id);
  }

  /** toScenario is the public, immutable view of an entry. */
  toScenario(e: ScenarioEntry): Scenario {
    const s: Scenario = {
      id: e.id,
      kind: e.kind,
      server: this.servers[e.origin]?.id ?? '',
      affected: Array.from(e.affected, (i) => this.servers[i]?.id ?? ''),
      start: e.start,
      end: e.end,
      intensity: e.intensity,
      source: e.source,
      ...(e.stoppedAt === undefined ? {} : { stoppedAt: e.stoppedAt }),
    };
    return Object.freeze(s);
  }

  /** active returns the scenarios in effect at `now`. */
  active(now: number): Scenario[] {
    return this.activeEntries(now).map((e) => this.toScenario(e));
  }

  /** history returns every scenario that started by `now` and had not ended by `since`, in start order. */
  history(now: number, since: number): Scenario[] {
    return this.overlapping(since, now)
      .filter((e) => e.start <= now && e.end > since)
      .map((e) => this.toScenario(e));
  }

  /**
   * latestHistory returns the `limit` scenarios of history(now, since) that started last, in the same order,
   * and whether older ones may have been left out. It decodes schedule slots backwards from `now` and stops
   * once `limit` scheduled scenarios are found (every older slot's scenarios start earlier), so its cost
   * follows `limit`, not the length of the window: a window back to the epoch costs what the newest
   * `limit` scenarios cost.
   */
  latestHistory(now: number, since: number, limit: number): HistoryPage {
    const inWindow = (e: ScenarioEntry): boolean => e.start <= now && e.end > since;
    const found = this.injected.filter(inWindow);
    let stoppedEarly = false;
    if (this.perSlot > 0) {
      const oldest = Math.floor((since - MAX_SCHEDULED_MS) / SCHEDULE_SLOT_MS);
      let scheduled = 0;
      for (let j = Math.floor(now / SCHEDULE_SLOT_MS); j >= oldest; j--) {
        for (const e of this.decodeSlot(j)) {
          if (!inWindow(e)) continue;
          found.push(e);
          scheduled++;
        }
        if (scheduled >= limit && j > oldest) {
          stoppedEarly = true;
          break;
        }
      }
    }
    found.sort(byStartThenId);
    const kept = found.length > limit ? found.slice(found.length - limit) : found;
    return {
      scenarios: kept.map((e) => this.toScenario(e)),
      truncated: stoppedEarly || found.length > limit,
    };
  }

  /** toJSON returns the state to persist (injected scenarios and early stops); JSON-safe. */
  toJSON(): ScenarioState {
    return {
      version: 1,
      nextSeq: this.nextSeq,
      injected: this.injected.map((e) => ({
        id: e.id,
        kind: e.kind,
        server: this.servers[e.origin]?.id ?? '',
        start: e.start,
        end: e.end,
        plannedEnd: e.plannedEnd,
        intensity: e.intensity,
        ...(e.stoppedAt === undefined ? {} : { stoppedAt: e.stoppedAt }),
      })),
      stopped: [...this.stopped].map(([id, stoppedAt]) => ({ id, stoppedAt })),
    };
  }

  /**
   * restore replaces the injected scenarios and stops with a persisted state. Scenarios on servers that are
   * no longer in the fleet are dropped and their ids returned, so the caller can log them.
   */
  restore(json: unknown): { dropped: string[] } {
    const res = persistedState.safeParse(json);
    if (!res.success)
      throw new SimulatorError(
        'SCENARIO_STATE_INVALID',
        `persisted scenario state: ${res.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ')}`,
      );
    const dropped: string[] = [];
    const injected: ScenarioEntry[] = [];
    let earliest = Infinity;
    for (const p of res.data.injected) {
      const origin = this.serverIndex(p.server);
      if (origin < 0) {
        dropped.push(p.id);
        continue;
      }
      const seq = Number(/^inj-(\d+)$/.exec(p.id)?.[1] ?? 0);
      injected.push({
        id: p.id,
        kind: p.kind,
        kindIndex: SCENARIO_KINDS.indexOf(p.kind),
        origin,
        affected: this.affectedFor(p.kind, origin),
        start: p.start,
        end: p.end,
        plannedEnd: p.plannedEnd,
        intensity: p.intensity,
        service: this.serviceFor(p.kind, origin, hashPair(this.key, seq + 1)),
        source: 'api',
        stoppedAt: p.stoppedAt,
      });
      earliest = Math.min(earliest, p.start);
    }
    for (const e of this.injected) earliest = Math.min(earliest, e.start);
    this.injected = injected;
    this.nextSeq = Math.max(this.nextSeq, res.data.nextSeq);
    this.stopped.clear();
    for (const s of res.data.stopped) {
      this.stopped.set(s.id, s.stoppedAt);
      earliest = Math.min(earliest, s.stoppedAt);
    }
    this.slotCache.clear();
    if (earliest < Infinity) this.changed(earliest);
    return { dropped };
  }
}
