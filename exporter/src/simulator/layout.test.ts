import { describe, expect, it } from 'vitest';
import { defaultFleet } from './fleet-file.js';
import {
  buildFleetPlan,
  buildLayout,
  FAMILIES,
  HIST_STRIDE,
  LATENCY_BUCKETS,
  SCENARIO_KINDS,
} from './layout.js';

/** SEED_FAMILIES are shared/SEED.md's metric families with their label names (besides `server`). */
const SEED_FAMILIES: [string, string[]][] = [
  ['openmanager_cpu_usage_percent', ['core']],
  ['openmanager_cpu_load_average_1m', []],
  ['openmanager_cpu_load_average_5m', []],
  ['openmanager_cpu_load_average_15m', []],
  ['openmanager_cpu_context_switches_total', []],
  ['openmanager_memory_usage_percent', []],
  ['openmanager_memory_used_bytes', []],
  ['openmanager_memory_total_bytes', []],
  ['openmanager_memory_available_bytes', []],
  ['openmanager_swap_used_bytes', []],
  ['openmanager_disk_usage_percent', ['mount']],
  ['openmanager_disk_read_bytes_total', ['device']],
  ['openmanager_disk_write_bytes_total', ['device']],
  ['openmanager_disk_read_ops_total', ['device']],
  ['openmanager_disk_write_ops_total', ['device']],
  ['openmanager_network_receive_bytes_total', ['interface']],
  ['openmanager_network_transmit_bytes_total', ['interface']],
  ['openmanager_network_receive_packets_total', []],
  ['openmanager_network_transmit_packets_total', []],
  ['openmanager_network_receive_errors_total', []],
  ['openmanager_network_transmit_drops_total', []],
  ['openmanager_service_up', ['service']],
  ['openmanager_http_requests_total', ['method', 'status']],
  ['openmanager_http_request_duration_seconds_bucket', ['le', 'method', 'status']],
  ['openmanager_http_request_duration_seconds_sum', ['method', 'status']],
  ['openmanager_http_request_duration_seconds_count', ['method', 'status']],
  ['openmanager_scenario_active', ['scenario']],
];

describe('layout', () => {
  const servers = defaultFleet();
  const layout = buildLayout(servers);

  it.each(SEED_FAMILIES)('%s exists for every server with labels server + %j', (name, labels) => {
    const series = layout.series.filter((s) => s.labels.__name__ === name);
    expect(new Set(series.map((s) => s.labels.server))).toEqual(new Set(servers.map((s) => s.id)));
    for (const s of series)
      expect(Object.keys(s.labels).sort()).toEqual(['__name__', 'server', ...labels].sort());
  });

  it('has HELP, a type and a unit matching the name for every family', () => {
    expect(FAMILIES).toHaveLength(25);
    for (const f of FAMILIES) {
      expect(f.help.length).toBeGreaterThan(20);
      expect(f.name).not.toMatch(/_total$/);
      if (f.unit) expect(f.name.endsWith(`_${f.unit}`)).toBe(true);
    }
    const counters = FAMILIES.filter((f) => f.type === 'counter').map((f) => f.name);
    for (const s of layout.series) {
      const fam = layout.families[s.family];
      expect(s.labels.__name__?.startsWith(fam?.name ?? '?')).toBe(true);
      if (counters.includes(fam?.name ?? '')) expect(s.labels.__name__).toBe(`${fam?.name}_total`);
    }
  });

  it('describes cores, mounts, devices, interfaces and services of each server', () => {
    const db = layout.series.filter((s) => s.labels.server === 'db-01');
    const values = (name: string, label: string) =>
      db.filter((s) => s.labels.__name__ === name).map((s) => s.labels[label]);
    expect(values('openmanager_cpu_usage_percent', 'core')).toHaveLength(16);
    expect(values('openmanager_disk_usage_percent', 'mount')).toEqual(['/', '/var/lib/mysql']);
    expect(values('openmanager_disk_read_bytes_total', 'device')).toEqual(['nvme0n1', 'nvme1n1']);
    expect(values('openmanager_network_transmit_bytes_total', 'interface')).toEqual(['eth0', 'eth1']);
    expect(values('openmanager_service_up', 'service')).toEqual(['mysql']);
    expect(values('openmanager_scenario_active', 'scenario')).toEqual(SCENARIO_KINDS);
  });

  it('is a real histogram: buckets in le order ending at +Inf, then _sum and _count, per method and status', () => {
    const h = layout.series.filter(
      (s) => s.labels.server === 'web-01' && s.labels.__name__?.includes('duration'),
    );
    expect(h).toHaveLength(4 * HIST_STRIDE);
    const first = h.slice(0, HIST_STRIDE).map((s) => s.labels.le ?? s.labels.__name__);
    expect(first).toEqual([
      ...LATENCY_BUCKETS.map(String),
      '+Inf',
      'openmanager_http_request_duration_seconds_sum',
      'openmanager_http_request_duration_seconds_count',
    ]);
    expect(new Set(h.map((s) => `${s.labels.method} ${s.labels.status}`))).toEqual(
      new Set(['GET 200', 'GET 500', 'POST 200', 'POST 500']),
    );
  });

  it('keeps each server contiguous, families in order, 60–120 series per server', () => {
    const { plans } = buildFleetPlan(servers);
    let next = 0;
    layout.serverSeries.forEach(([a, b], i) => {
      expect(a).toBe(next);
      next = b;
      expect(b - a).toBeGreaterThanOrEqual(60);
      expect(b - a).toBeLessThanOrEqual(120);
      expect(plans[i]?.count).toBe(b - a);
      for (let k = a; k < b; k++) {
        expect(layout.series[k]?.server).toBe(i);
        if (k > a) expect(layout.series[k]?.family).toBeGreaterThanOrEqual(layout.series[k - 1]?.family ?? 0);
      }
    });
    expect(next).toBe(layout.series.length);
  });
});
