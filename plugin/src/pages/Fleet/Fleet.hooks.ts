import { useMemo } from 'react';

import type { ServerInfo, ServerStatus, UnifiedServer } from '../../api/types';
import { STATUS_ORDER } from './status';

/** SortKey is a Fleet page sort order. */
export type SortKey = 'name' | 'status' | 'cpu' | 'memory' | 'disk';

/** FleetFilter is the Fleet page's filter: a role and a status, or all. */
export interface FleetFilter {
  role: string;
  status: ServerStatus | 'all';
}

/** ALL is the filter value that matches everything. */
export const ALL = 'all';

/**
 * visibleServers filters and sorts the fleet. Sorting is stable and breaks ties by id, so tiles do not jump
 * between equal values from one update to the next.
 */
export function visibleServers(
  servers: readonly UnifiedServer[],
  infos: ReadonlyMap<string, ServerInfo>,
  filter: FleetFilter,
  sort: SortKey
): UnifiedServer[] {
  const out = servers.filter(
    (s) =>
      (filter.status === ALL || s.status === filter.status) &&
      (filter.role === ALL || infos.get(s.id)?.role === filter.role)
  );
  const byId = (a: UnifiedServer, b: UnifiedServer) => a.id.localeCompare(b.id, undefined, { numeric: true });
  const cmp: Record<SortKey, (a: UnifiedServer, b: UnifiedServer) => number> = {
    name: byId,
    status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || byId(a, b),
    cpu: (a, b) => b.cpu - a.cpu || byId(a, b),
    memory: (a, b) => b.memory - a.memory || byId(a, b),
    disk: (a, b) => b.disk - a.disk || byId(a, b),
  };
  return out.sort(cmp[sort]);
}

/** useVisibleServers memoises visibleServers: the list is rebuilt only when its inputs change. */
export function useVisibleServers(
  servers: readonly UnifiedServer[],
  infos: ReadonlyMap<string, ServerInfo>,
  filter: FleetFilter,
  sort: SortKey
): UnifiedServer[] {
  return useMemo(() => visibleServers(servers, infos, filter, sort), [servers, infos, filter, sort]);
}

/**
 * nextIndex is where a key press moves the focus in a grid of `count` tiles laid out `columns` wide
 * (undefined for keys that do not move).
 */
export function nextIndex(key: string, index: number, count: number, columns: number): number | undefined {
  if (count === 0) {
    return undefined;
  }
  const cols = Math.max(1, columns);
  switch (key) {
    case 'ArrowRight':
      return Math.min(count - 1, index + 1);
    case 'ArrowLeft':
      return Math.max(0, index - 1);
    case 'ArrowDown':
      return Math.min(count - 1, index + cols);
    case 'ArrowUp':
      return index - cols >= 0 ? index - cols : index;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return undefined;
  }
}
