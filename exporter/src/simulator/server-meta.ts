/**
 * Per-server series that are not part of the machine model: `openmanager_server_up{server}` (1, or 0 while a
 * `server_down` scenario holds it down) and `openmanager_server_info{server,role,zone}` = 1. Unlike the
 * model's series, which vanish while a server is down (as a real target's would), these two stay present,
 * so PromQL and rules over the exporter's own store see a down server as down instead of missing, and can
 * group anything by role with `* on (server) group_left (role) openmanager_server_info`.
 */
import { METRIC_NAME, type Labels } from '../util/labels.js';
import type { FamilyDesc, ServerInfo, ServerSummary } from './types.js';

/** SERVER_META_FAMILIES are the two families, in the order their series come per server. */
export const SERVER_META_FAMILIES: readonly FamilyDesc[] = [
  {
    name: 'openmanager_server_up',
    help: 'Whether the server answers (1) or is down (0); present while it is down, unlike its other series.',
    type: 'gauge',
    unit: '',
  },
  {
    name: 'openmanager_server_info',
    help: "The server's role and zone as labels, value 1: a join target for grouping by role or zone.",
    type: 'gauge',
    unit: '',
  },
];

/** serverMetaLabels returns the labels of one server's meta series, in SERVER_META_FAMILIES order. */
export function serverMetaLabels(info: ServerInfo): readonly [Labels, Labels] {
  return [
    { [METRIC_NAME]: 'openmanager_server_up', server: info.id },
    { [METRIC_NAME]: 'openmanager_server_info', server: info.id, role: info.role, zone: info.zone },
  ];
}

/** serverMetaValues returns one server's meta values at a frame, in SERVER_META_FAMILIES order. */
export function serverMetaValues(summary: ServerSummary | undefined): readonly [number, number] {
  return [summary?.up === false ? 0 : 1, 1];
}
