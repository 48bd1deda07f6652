/**
 * The Fleet page's state and how one live update is applied to it: unchanged servers keep their object
 * identity, so memoised tiles skip rendering and a 200-server update touches only what changed.
 */
import type { Scenario, UnifiedMetrics, UnifiedServer, UnifiedSummary } from '../api/types';

/** FleetState is the merged view of the fleet: servers in arrival order, indexed by id. */
export interface FleetState {
  servers: UnifiedServer[];
  byId: ReadonlyMap<string, UnifiedServer>;
  summary: UnifiedSummary | undefined;
  /** updatedAt is the timestamp of the last applied snapshot (Unix ms), 0 before the first. */
  updatedAt: number;
}

/** EMPTY_FLEET is the state before the first snapshot. */
export const EMPTY_FLEET: FleetState = { servers: [], byId: new Map(), summary: undefined, updatedAt: 0 };

function sameAlerts(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

/** sameServer tells whether two snapshots of one server would render identically. */
export function sameServer(a: UnifiedServer, b: UnifiedServer): boolean {
  return (
    a.id === b.id &&
    a.cpu === b.cpu &&
    a.memory === b.memory &&
    a.disk === b.disk &&
    a.status === b.status &&
    a.network.in === b.network.in &&
    a.network.out === b.network.out &&
    sameAlerts(a.alerts, b.alerts)
  );
}

/**
 * applySnapshot merges one server-metrics snapshot into the state. A server absent from the snapshot is
 * kept (a filtered subscription or a partial message must not make tiles vanish); the array and the map
 * are new only when something changed.
 */
export function applySnapshot(prev: FleetState, metrics: UnifiedMetrics, timestamp: number): FleetState {
  let changed = false;
  const byId = new Map(prev.byId);
  for (const next of metrics.servers) {
    const old = byId.get(next.id);
    if (!old) {
      byId.set(next.id, next);
      changed = true;
    } else if (!sameServer(old, next)) {
      byId.set(next.id, next);
      changed = true;
    }
  }
  if (!changed) {
    return { ...prev, summary: metrics.summary, updatedAt: timestamp };
  }
  const seen = new Set<string>();
  const servers: UnifiedServer[] = [];
  for (const s of prev.servers) {
    const current = byId.get(s.id);
    if (current) {
      servers.push(current);
      seen.add(s.id);
    }
  }
  for (const s of metrics.servers) {
    if (!seen.has(s.id)) {
      const current = byId.get(s.id);
      if (current) {
        servers.push(current);
        seen.add(s.id);
      }
    }
  }
  return { servers, byId, summary: metrics.summary, updatedAt: timestamp };
}

/** scenariosByServer maps each affected server to the kinds of its active scenarios. */
export function scenariosByServer(active: readonly Scenario[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const sc of active) {
    const servers = sc.affected.length ? sc.affected : [sc.server];
    for (const id of servers) {
      const list = out.get(id);
      if (list) {
        if (!list.includes(sc.kind)) {
          list.push(sc.kind);
        }
      } else {
        out.set(id, [sc.kind]);
      }
    }
  }
  return out;
}
