/**
 * The coverage run's scenario plan: every kind × intensity × role cell `repetitions` times, each on one server
 * of the role, with a quiet period after it on every server it touches. A pure function of the fleet and the
 * options, so the same seed plans the same scenarios.
 *
 * Order: repetition-major (every cell once, then every cell again …), so the first part of a plan already
 * covers every cell. Placement: each scenario goes to the server of its role that is free first; it starts
 * once every server it affects (a cascading failure's API and web tiers too) has been quiet for `quietMs`.
 * Servers of different roles run their scenarios at the same time: alerts are attributed by server, and only
 * cascading failures reach beyond their origin.
 */
import { mulberry32 } from '../util/prng.js';
import {
  CASCADE_MAX_PER_TIER,
  DURATION_RANGE_S,
  SERVER_ROLES,
  type ScenarioKind,
  type ServerInfo,
  type ServerRole,
} from '../simulator/index.js';
import type { CoverageOptions } from './options.js';

/** PlannedScenario is one scenario to inject. `affected` are server indexes, origin first. */
export interface PlannedScenario {
  readonly kind: ScenarioKind;
  readonly intensity: number;
  readonly role: ServerRole;
  readonly repetition: number;
  readonly origin: number;
  readonly affected: readonly number[];
  readonly start: number;
  readonly durationMs: number;
}

/** ScenarioPlan is the whole plan: the scenarios in start order and the instant the run ends. */
export interface ScenarioPlan {
  readonly scenarios: readonly PlannedScenario[];
  /** quietMs is the quiet period used (stretched beyond the option by minDays). */
  readonly quietMs: number;
  readonly end: number;
}

/** PLAN_SEED_SALT separates the plan's random stream from other uses of the same seed. */
const PLAN_SEED_SALT = 0x0c0ffee5;

/** MAX_STRETCH_MS bounds the quiet period minDays may ask for (a year: beyond that nothing is gained). */
const MAX_STRETCH_MS = 366 * 86_400_000;

/**
 * rolesFor lists the roles a kind runs on in this fleet: a cascading failure starts at a database (its
 * effects model a slow database), a service crash needs a server with services; others run on every role.
 */
export function rolesFor(kind: ScenarioKind, servers: readonly ServerInfo[]): ServerRole[] {
  return SERVER_ROLES.filter((role) =>
    servers.some(
      (s) =>
        s.role === role &&
        (kind !== 'cascading_failure' || role === 'db') &&
        (kind !== 'service_crash' || s.services.length > 0),
    ),
  );
}

/**
 * cascadeAffected is the set of servers a cascading failure from `origin` reaches: the origin, then up to
 * CASCADE_MAX_PER_TIER API and web servers walking the fleet from it (the simulator's own rule; the run
 * checks that the injected scenario reports the same servers).
 */
export function cascadeAffected(servers: readonly ServerInfo[], origin: number): number[] {
  const n = servers.length;
  const api: number[] = [];
  const web: number[] = [];
  for (let d = 1; d < n; d++) {
    const i = (origin + d) % n;
    const role = servers[i]?.role;
    if (role === 'api' && api.length < CASCADE_MAX_PER_TIER) api.push(i);
    else if (role === 'web' && web.length < CASCADE_MAX_PER_TIER) web.push(i);
  }
  return [origin, ...api.sort((a, b) => a - b), ...web.sort((a, b) => a - b)];
}

interface Cell {
  readonly kind: ScenarioKind;
  readonly intensity: number;
  readonly role: ServerRole;
  readonly repetition: number;
  readonly durationMs: number;
}

/** cells lists every scenario to run, repetition-major, each with its duration drawn from the kind's range. */
function cells(servers: readonly ServerInfo[], opts: CoverageOptions): Cell[] {
  const rand = mulberry32(opts.seed ^ PLAN_SEED_SALT);
  const out: Cell[] = [];
  for (let repetition = 1; repetition <= opts.repetitions; repetition++)
    for (const kind of opts.kinds)
      for (const intensity of opts.intensities)
        for (const role of rolesFor(kind, servers)) {
          const [lo, hi] = DURATION_RANGE_S[kind];
          // Whole ticks, so every scenario starts and ends on the evaluation grid.
          const ticks = Math.max(1, Math.round(((lo + rand() * (hi - lo)) * 1000) / opts.tickMs));
          out.push({ kind, intensity, role, repetition, durationMs: ticks * opts.tickMs });
        }
  return out;
}

/** place puts the cells on servers with a quiet period of `quietMs`. */
function place(
  servers: readonly ServerInfo[],
  list: readonly Cell[],
  opts: CoverageOptions,
  quietMs: number,
): ScenarioPlan {
  const first = opts.start + Math.ceil(opts.warmupMs / opts.tickMs) * opts.tickMs;
  const free = new Array<number>(servers.length).fill(first);
  const byRole = new Map<ServerRole, number[]>();
  servers.forEach((s, i) => byRole.set(s.role, [...(byRole.get(s.role) ?? []), i]));
  const quiet = Math.ceil(quietMs / opts.tickMs) * opts.tickMs;
  const scenarios: PlannedScenario[] = [];
  let end = first;
  for (const c of list) {
    const candidates = (byRole.get(c.role) ?? []).filter(
      (i) => c.kind !== 'service_crash' || (servers[i]?.services.length ?? 0) > 0,
    );
    let best: { origin: number; affected: number[]; start: number } | undefined;
    for (const origin of candidates) {
      const affected = c.kind === 'cascading_failure' ? cascadeAffected(servers, origin) : [origin];
      const start = Math.max(...affected.map((i) => free[i] ?? first));
      if (!best || start < best.start) best = { origin, affected, start };
    }
    if (!best) continue;
    for (const i of best.affected) free[i] = best.start + c.durationMs + quiet;
    end = Math.max(end, best.start + c.durationMs + quiet);
    scenarios.push({
      kind: c.kind,
      intensity: c.intensity,
      role: c.role,
      repetition: c.repetition,
      origin: best.origin,
      affected: best.affected,
      start: best.start,
      durationMs: c.durationMs,
    });
  }
  scenarios.sort((a, b) => a.start - b.start || a.origin - b.origin);
  return { scenarios, quietMs: quiet, end };
}

/**
 * planScenarios plans the run: with the options' quiet period, or, when that ends before `minDays`, with
 * the shortest quiet period (found by bisection) that makes it last that long.
 */
export function planScenarios(servers: readonly ServerInfo[], opts: CoverageOptions): ScenarioPlan {
  const list = cells(servers, opts);
  const plan = place(servers, list, opts, opts.quietMs);
  const wanted = opts.start + opts.minDays * 86_400_000;
  if (plan.end >= wanted) return plan;
  let lo = opts.quietMs;
  let hi = MAX_STRETCH_MS;
  let best = place(servers, list, opts, hi);
  if (best.end < wanted) return { ...best, end: wanted };
  // The plan's end grows with the quiet period; 40 halvings of a year are finer than a tick.
  for (let k = 0; k < 40 && hi - lo > opts.tickMs; k++) {
    const mid = Math.floor((lo + hi) / 2);
    const p = place(servers, list, opts, mid);
    if (p.end >= wanted) {
      hi = mid;
      best = p;
    } else lo = mid;
  }
  return best;
}
