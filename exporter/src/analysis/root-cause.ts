/**
 * Root-cause hints: when several servers turn anomalous together, the one the others depend on, and whose
 * trouble began first, is the likely origin. Servers are related through the fleet's dependency edges between
 * roles (lb → web → api → db/cache, worker → db/cache): anomalous servers joined by an edge (in either
 * direction) whose onsets lie within CORRELATION_WINDOW_MS form one incident; its origin is the member none of
 * whose own dependencies is anomalous in the incident, earliest onset first. Pure functions.
 */
import type { ServerRole } from '../contract/fleet.js';

/**
 * ROLE_DEPENDENCIES are the calls between tiers of the fleet file's three-tier service: each role lists the
 * roles it depends on (load balancers call web servers, web servers the API, the API and workers the database
 * and the cache).
 */
export const ROLE_DEPENDENCIES: Readonly<Record<ServerRole, readonly ServerRole[]>> = {
  lb: ['web'],
  web: ['api'],
  api: ['db', 'cache'],
  worker: ['db', 'cache'],
  db: [],
  cache: [],
};

/** CORRELATION_WINDOW_MS: onsets further apart than 15 min are separate incidents. */
export const CORRELATION_WINDOW_MS = 15 * 60_000;

/** AnomalousServer is one server's earliest open anomaly. */
export interface AnomalousServer {
  readonly server: string;
  readonly role: ServerRole | undefined;
  /** onset is when its anomaly began (ms); signal and phrase name it ("latency", "memory leak"). */
  readonly onset: number;
  readonly signal: string;
  readonly phrase: string;
}

/** RootCauseHint names the likely origin of an incident that spans several servers. */
export interface RootCauseHint {
  readonly origin: string;
  readonly signal: string;
  readonly onset: number;
  /** affected are the other servers of the incident, by onset. */
  readonly affected: { server: string; signal: string; onset: number; lagSeconds: number }[];
  /** explanation is one line for people: "db-01 memory leak since 14:02; api-01..04 latency rose 40 s later". */
  readonly explanation: string;
}

/** dependsOn says whether role a calls role b directly. */
function dependsOn(a: ServerRole | undefined, b: ServerRole | undefined): boolean {
  return a !== undefined && b !== undefined && ROLE_DEPENDENCIES[a].includes(b);
}

/**
 * rootCauses groups the anomalous servers into incidents and names each incident's origin; incidents of one
 * server give no hint (the finding says it all). Hints come newest incident first.
 */
export function rootCauses(servers: readonly AnomalousServer[]): RootCauseHint[] {
  const list = [...servers].sort((a, b) => a.onset - b.onset || (a.server < b.server ? -1 : 1));
  const parent = list.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i] as number] as number;
    return i;
  };
  for (let i = 0; i < list.length; i++)
    for (let j = i + 1; j < list.length; j++) {
      const a = list[i] as AnomalousServer;
      const b = list[j] as AnomalousServer;
      if (b.onset - a.onset > CORRELATION_WINDOW_MS) break;
      if (dependsOn(a.role, b.role) || dependsOn(b.role, a.role)) parent[find(j)] = find(i);
    }
  const groups = new Map<number, AnomalousServer[]>();
  list.forEach((s, i) => {
    const root = find(i);
    const g = groups.get(root);
    if (g) g.push(s);
    else groups.set(root, [s]);
  });
  const hints: RootCauseHint[] = [];
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    // The origin: no anomalous dependency of its own in the incident; the earliest such (members are by onset).
    const origin =
      members.find((m) => !members.some((o) => o !== m && dependsOn(m.role, o.role))) ?? members[0];
    if (!origin) continue;
    const affected = members
      .filter((m) => m !== origin)
      .map((m) => ({
        server: m.server,
        signal: m.signal,
        onset: m.onset,
        lagSeconds: Math.round((m.onset - origin.onset) / 1000),
      }));
    hints.push({
      origin: origin.server,
      signal: origin.signal,
      onset: origin.onset,
      affected,
      explanation: explain(
        origin,
        members.filter((m) => m !== origin),
      ),
    });
  }
  return hints.sort((a, b) => b.onset - a.onset);
}

/** hhmm formats an instant as UTC hours and minutes (the simulator's clock is UTC). */
export function hhmm(t: number): string {
  return new Date(t).toISOString().slice(11, 16);
}

/**
 * explain writes the one-line explanation: the origin and its onset, then each role of the others with its
 * servers (consecutive ids compressed: api-01..04), what rose and how much later (the median lag).
 */
function explain(origin: AnomalousServer, others: readonly AnomalousServer[]): string {
  const parts = [`${origin.server} ${origin.phrase} since ${hhmm(origin.onset)} UTC`];
  const byRole = new Map<string, AnomalousServer[]>();
  for (const o of others) {
    const key = `${o.role ?? '?'}|${o.phrase}`;
    const g = byRole.get(key);
    if (g) g.push(o);
    else byRole.set(key, [o]);
  }
  const groups = [...byRole.values()].sort((a, b) => minOnset(a) - minOnset(b));
  for (const g of groups) {
    const lags = g.map((o) => Math.max(0, o.onset - origin.onset) / 1000).sort((a, b) => a - b);
    const lag = lags[Math.floor((lags.length - 1) / 2)] ?? 0;
    parts.push(`${compressIds(g.map((o) => o.server))} ${g[0]?.phrase ?? ''} rose ${formatLag(lag)} later`);
  }
  return parts.join('; ');
}

function minOnset(g: readonly AnomalousServer[]): number {
  return Math.min(...g.map((o) => o.onset));
}

/** formatLag writes a lag as seconds under two minutes, else minutes. */
function formatLag(seconds: number): string {
  return seconds < 120 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

/**
 * compressIds lists server ids with runs of consecutive numbers of one prefix compressed: [api-01, api-02,
 * api-03, web-05] → "api-01..03, web-05".
 */
export function compressIds(ids: readonly string[]): string {
  const parsed = [...ids]
    .map((id) => {
      const m = /^(.*?)(\d+)$/.exec(id);
      return m
        ? { id, prefix: m[1] ?? '', num: Number(m[2]), width: (m[2] ?? '').length }
        : { id, prefix: id, num: NaN, width: 0 };
    })
    .sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : a.num - b.num));
  const out: string[] = [];
  for (let i = 0; i < parsed.length;) {
    const first = parsed[i]!;
    let j = i;
    while (
      j + 1 < parsed.length &&
      parsed[j + 1]!.prefix === first.prefix &&
      parsed[j + 1]!.num === parsed[j]!.num + 1
    )
      j++;
    const last = parsed[j]!;
    out.push(j > i ? `${first.id}..${String(last.num).padStart(last.width, '0')}` : first.id);
    i = j + 1;
  }
  return out.join(', ');
}
