import { describe, expect, it } from 'vitest';
import { CASCADE_API_DELAY_MS, CASCADE_WEB_DELAY_MS } from './effects.js';
import { SimulatorError } from './errors.js';
import { Fleet } from './fleet.js';
import { SCENARIO_KINDS } from './layout.js';
import type { ScenarioSpec } from './scenarios.js';
import { GRID_MS } from './server-model.js';
import { FrameReader, firstBitDifference } from '../../test/simulator-testing.js';
import type { FleetFrame, ScenarioKind } from './types.js';

/** T0: a Wednesday afternoon on the grid; injections start at T0, fleets installed 2 h before, no schedule. */
const T0 = Date.UTC(2026, 0, 14, 14, 0, 0);
const opts = { seed: 21, epoch: T0 - 2 * 3_600_000, scenarioRatePerHour: 0 } as const;

/** serverSlice returns the values of server `id`'s series in a frame (without scenario markers if `model`). */
function serverSlice(fleet: Fleet, f: FleetFrame, id: string, model = false): Float64Array {
  const [a, b] = fleet.layout.serverSeries[fleet.serverIndex(id)] ?? [0, 0];
  return f.values.slice(a, model ? b - SCENARIO_KINDS.length : b);
}

/** rate is the per-second increase of a counter between two frames. */
function rate(
  r: FrameReader,
  a: FleetFrame,
  b: FleetFrame,
  name: string,
  labels: Record<string, string>,
): number {
  return (r.get(b, name, labels) - r.get(a, name, labels)) / ((b.t - a.t) / 1000);
}

/** meanLatency is the mean request duration between two frames (Δsum / Δcount) over all label sets. */
function meanLatency(r: FrameReader, a: FleetFrame, b: FleetFrame, server: string, status?: string): number {
  let sum = 0;
  let count = 0;
  for (const method of ['GET', 'POST'])
    for (const st of status ? [status] : ['200', '500']) {
      const l = { server, method, status: st };
      sum +=
        r.get(b, 'openmanager_http_request_duration_seconds_sum', l) -
        r.get(a, 'openmanager_http_request_duration_seconds_sum', l);
      count +=
        r.get(b, 'openmanager_http_request_duration_seconds_count', l) -
        r.get(a, 'openmanager_http_request_duration_seconds_count', l);
    }
  return sum / count;
}

function errorRate(r: FrameReader, a: FleetFrame, b: FleetFrame, server: string): number {
  return (
    rate(r, a, b, 'openmanager_http_requests_total', { server, method: 'GET', status: '500' }) +
    rate(r, a, b, 'openmanager_http_requests_total', { server, method: 'POST', status: '500' })
  );
}

interface Case {
  kind: ScenarioKind;
  server: string;
  durationSeconds: number;
  /** at: ms after the start where the effect is measured (over [at, at + 60 s]). */
  at: number;
  check: (c: {
    r: FrameReader;
    base: [FleetFrame, FleetFrame];
    hit: [FleetFrame, FleetFrame];
    server: string;
  }) => void;
}

const CASES: Case[] = [
  {
    kind: 'cpu_spike',
    server: 'api-01',
    durationSeconds: 600,
    at: 120_000,
    check: ({ r, base, hit, server }) => {
      const i = r.layout.servers.findIndex((s) => s.id === server);
      expect(hit[0].summaries[i]?.cpu).toBeGreaterThan(90);
      expect((hit[0].summaries[i]?.cpu ?? 0) - (base[0].summaries[i]?.cpu ?? 0)).toBeGreaterThan(30);
      const l1 = (f: FleetFrame) => r.get(f, 'openmanager_cpu_load_average_1m', { server });
      expect(l1(hit[0])).toBeGreaterThan(l1(base[0]) + 2);
    },
  },
  {
    kind: 'memory_leak',
    server: 'web-01',
    durationSeconds: 1800,
    at: 1_700_000,
    check: ({ r, base, hit, server }) => {
      const mem = (f: FleetFrame) => r.get(f, 'openmanager_memory_usage_percent', { server });
      expect(mem(hit[0])).toBeGreaterThan(mem(base[0]) + 40);
      const swap = (f: FleetFrame) => r.get(f, 'openmanager_swap_used_bytes', { server });
      expect(swap(hit[0])).toBeGreaterThan(swap(base[0]));
    },
  },
  {
    kind: 'disk_fill',
    server: 'db-01',
    durationSeconds: 1200,
    at: 1_200_000 - 60_000 - GRID_MS,
    check: ({ r, base, hit, server }) => {
      const disk = (f: FleetFrame) =>
        r.get(f, 'openmanager_disk_usage_percent', { server, mount: '/var/lib/mysql' });
      expect(disk(hit[1])).toBeGreaterThan(94);
      expect(disk(base[1])).toBeLessThan(80);
      const w = (p: [FleetFrame, FleetFrame]) =>
        rate(r, p[0], p[1], 'openmanager_disk_write_bytes_total', { server, device: 'nvme1n1' });
      expect(w(hit)).toBeGreaterThan(w(base) * 2);
    },
  },
  {
    kind: 'network_saturation',
    server: 'lb-01',
    durationSeconds: 600,
    at: 60_000,
    check: ({ r, base, hit, server }) => {
      for (const name of [
        'openmanager_network_receive_errors_total',
        'openmanager_network_transmit_drops_total',
      ])
        expect(rate(r, hit[0], hit[1], name, { server })).toBeGreaterThan(
          rate(r, base[0], base[1], name, { server }) * 100 + 1,
        );
      const tx = rate(r, hit[0], hit[1], 'openmanager_network_transmit_bytes_total', {
        server,
        interface: 'eth0',
      });
      expect(tx).toBeGreaterThan(50_000_000);
      expect(meanLatency(r, hit[0], hit[1], server)).toBeGreaterThan(
        meanLatency(r, base[0], base[1], server) * 1.5,
      );
    },
  },
  {
    kind: 'service_crash',
    server: 'cache-01',
    durationSeconds: 300,
    at: 30_000,
    check: ({ r, base, hit, server }) => {
      expect(r.get(hit[0], 'openmanager_service_up', { server, service: 'redis' })).toBe(0);
      expect(r.get(base[0], 'openmanager_service_up', { server, service: 'redis' })).toBe(1);
      expect(errorRate(r, hit[0], hit[1], server)).toBeGreaterThan(
        errorRate(r, base[0], base[1], server) * 5,
      );
    },
  },
  {
    kind: 'latency_degradation',
    server: 'api-02',
    durationSeconds: 900,
    at: 300_000,
    check: ({ r, base, hit, server }) => {
      expect(meanLatency(r, hit[0], hit[1], server)).toBeGreaterThan(
        meanLatency(r, base[0], base[1], server) * 3,
      );
    },
  },
  {
    kind: 'server_down',
    server: 'web-03',
    durationSeconds: 300,
    at: 60_000,
    check: ({ r, hit, server }) => {
      const i = r.layout.servers.findIndex((s) => s.id === server);
      expect(hit[0].summaries[i]?.up).toBe(false);
      expect(r.get(hit[0], 'openmanager_cpu_load_average_1m', { server })).toBeNaN();
      expect(r.get(hit[0], 'openmanager_scenario_active', { server, scenario: 'server_down' })).toBe(1);
    },
  },
];

describe('scenario effects', () => {
  it.each(CASES)(
    '$kind on $server changes the right series in the right direction, and nothing else',
    (c) => {
      const base = new Fleet(opts);
      const hit = new Fleet(opts);
      const s = hit.inject(
        { kind: c.kind, server: c.server, durationSeconds: c.durationSeconds, intensity: 1 },
        T0,
      );
      expect(s).toMatchObject({
        kind: c.kind,
        server: c.server,
        start: T0,
        end: T0 + c.durationSeconds * 1000,
        source: 'api',
      });
      expect(s.affected).toEqual([c.server]);
      const at = [T0 + c.at, T0 + c.at + 60_000];
      const b = at.map((t) => base.frameAt(t)) as [FleetFrame, FleetFrame];
      const h = at.map((t) => hit.frameAt(t)) as [FleetFrame, FleetFrame];
      c.check({ r: new FrameReader(hit.layout), base: b, hit: h, server: c.server });
      // scenario_active marks the server, the summary lists the scenario.
      const r = new FrameReader(hit.layout);
      expect(r.get(h[0], 'openmanager_scenario_active', { server: c.server, scenario: c.kind })).toBe(1);
      expect(h[0].summaries[hit.serverIndex(c.server)]?.activeScenarios).toEqual([s.id]);
      // Every other server is untouched, bit for bit.
      for (const other of hit.layout.servers)
        if (other.id !== c.server)
          expect(
            firstBitDifference(serverSlice(hit, h[0], other.id), serverSlice(base, b[0], other.id)),
          ).toBe(-1);
      // After the end the marker is gone and the scenario is in the history with its end.
      const after = T0 + c.durationSeconds * 1000 + 2 * GRID_MS;
      expect(
        r.get(hit.frameAt(after), 'openmanager_scenario_active', { server: c.server, scenario: c.kind }),
      ).toBe(0);
      expect(hit.history(after)).toEqual([s]);
      expect(hit.active(after)).toEqual([]);
    },
  );

  it('cascading_failure: a slow database, then slow APIs, then web 5xx; other roles untouched', () => {
    const base = new Fleet(opts);
    const hit = new Fleet(opts);
    const r = new FrameReader(hit.layout);
    const s = hit.inject(
      { kind: 'cascading_failure', server: 'db-01', durationSeconds: 1200, intensity: 1 },
      T0,
    );
    const apis = hit.layout.servers.filter((x) => x.role === 'api').map((x) => x.id);
    const webs = hit.layout.servers.filter((x) => x.role === 'web').map((x) => x.id);
    expect(s.affected).toEqual(['db-01', ...apis, ...webs]);
    const pair = (f: Fleet, t: number) => [f.frameAt(t), f.frameAt(t + 60_000)] as [FleetFrame, FleetFrame];
    // Phase 1 (first minute): only the database is slow.
    const early = T0 + 15_000;
    const [be, he] = [pair(base, early), pair(hit, early)];
    expect(meanLatency(r, he[0], he[1], 'db-01')).toBeGreaterThan(meanLatency(r, be[0], be[1], 'db-01') * 2);
    for (const id of [...apis, ...webs])
      expect(firstBitDifference(serverSlice(hit, he[0], id, true), serverSlice(base, be[0], id, true))).toBe(
        -1,
      );
    // Phase 2: API latency up, web not yet failing.
    const mid = T0 + CASCADE_API_DELAY_MS + 60_000;
    const [bm, hm] = [pair(base, mid), pair(hit, mid)];
    for (const id of apis)
      expect(meanLatency(r, hm[0], hm[1], id, '200')).toBeGreaterThan(
        meanLatency(r, bm[0], bm[1], id, '200') * 2,
      );
    // Phase 3: web servers answer 5xx.
    const late = T0 + CASCADE_WEB_DELAY_MS + 120_000;
    const [bl, hl] = [pair(base, late), pair(hit, late)];
    for (const id of webs)
      expect(errorRate(r, hl[0], hl[1], id)).toBeGreaterThan(errorRate(r, bl[0], bl[1], id) * 10);
    for (const id of [...apis, ...webs, 'db-01'])
      expect(r.get(hl[0], 'openmanager_scenario_active', { server: id, scenario: 'cascading_failure' })).toBe(
        1,
      );
    for (const x of hit.layout.servers.filter((x) => !s.affected.includes(x.id)))
      expect(firstBitDifference(serverSlice(hit, hl[0], x.id), serverSlice(base, bl[0], x.id))).toBe(-1);
  });

  it('memory leaks grow linearly and disk fills ramp toward ~98 %', () => {
    const f = new Fleet(opts);
    const r = new FrameReader(f.layout);
    f.inject({ kind: 'memory_leak', server: 'worker-02', durationSeconds: 3600, intensity: 0.5 }, T0);
    f.inject({ kind: 'disk_fill', server: 'worker-02', durationSeconds: 3600, intensity: 1 }, T0);
    const used = (t: number) => r.get(f.frameAt(t), 'openmanager_memory_used_bytes', { server: 'worker-02' });
    const disk = (t: number) =>
      r.get(f.frameAt(t), 'openmanager_disk_usage_percent', { server: 'worker-02', mount: '/data' });
    const d1 = used(T0 + 1200_000) - used(T0);
    const d2 = used(T0 + 2400_000) - used(T0 + 1200_000);
    expect(d1).toBeGreaterThan(0);
    expect(Math.abs(d2 - d1) / d1).toBeLessThan(0.35);
    expect(disk(T0 + 1800_000)).toBeGreaterThan(disk(T0) + 10);
    expect(disk(T0 + 3600_000 - GRID_MS)).toBeGreaterThan(97);
    expect(disk(T0 + 3600_000 - GRID_MS)).toBeLessThanOrEqual(98);
  });

  it('server_down: the server is down for its duration, then reboots with counters from zero', () => {
    const f = new Fleet(opts);
    const r = new FrameReader(f.layout);
    const i = f.serverIndex('api-03');
    const l = { server: 'api-03', method: 'GET', status: '200' };
    const before = r.get(f.frameAt(T0 - GRID_MS), 'openmanager_http_requests_total', l);
    f.inject({ kind: 'server_down', server: 'api-03', durationSeconds: 120, intensity: 1 }, T0 + 1_000);
    expect(f.frameAt(T0).summaries[i]?.up).toBe(true);
    expect(f.frameAt(T0 + 1_000).summaries[i]?.up).toBe(false);
    expect(f.frameAt(T0 + 121_000 - 1).summaries[i]?.up).toBe(false);
    const back = f.frameAt(T0 + 135_000);
    expect(back.summaries[i]?.up).toBe(true);
    const after = r.get(back, 'openmanager_http_requests_total', l);
    expect(after).toBeLessThan(before / 100);
    expect(r.get(back, 'openmanager_cpu_context_switches_total', { server: 'api-03' })).toBe(0);
    // Linux load averages start from zero after boot.
    expect(r.get(back, 'openmanager_cpu_load_average_15m', { server: 'api-03' })).toBeLessThan(1);
  });

  it('stopping early keeps the past and ends the effect', () => {
    const f = new Fleet(opts);
    const r = new FrameReader(f.layout);
    const s = f.inject({ kind: 'memory_leak', server: 'api-01', durationSeconds: 1800, intensity: 1 }, T0);
    const past = [...f.frames(T0, T0 + 600_000, GRID_MS)].map((x) => x.values);
    f.frameAt(T0 + 600_000);
    const stopped = f.stop(s.id, T0 + 600_000);
    expect(stopped).toMatchObject({ id: s.id, end: T0 + 600_000, stoppedAt: T0 + 600_000 });
    const again = [...f.frames(T0, T0 + 600_000 - GRID_MS, GRID_MS)].map((x) => x.values);
    again.forEach((v, k) => expect(firstBitDifference(v, past[k] ?? new Float64Array())).toBe(-1));
    const mem = (t: number) => r.get(f.frameAt(t), 'openmanager_memory_usage_percent', { server: 'api-01' });
    expect(mem(T0 + 600_000 - GRID_MS)).toBeGreaterThan(mem(T0 + 630_000) + 10);
    expect(f.active(T0 + 630_000)).toEqual([]);
    expect(() => f.stop('nope', T0)).toThrowError(
      expect.objectContaining({ code: 'SCENARIO_NOT_FOUND' }) as Error,
    );
  });
});

describe('injection validation', () => {
  const f = new Fleet(opts);
  it.each([
    [{ kind: 'cpu_spike', server: 'api-01', intensity: 1.5 }, 'intensity'],
    [{ kind: 'cpu_spike', server: 'api-01', intensity: -0.1 }, 'intensity'],
    [{ kind: 'cpu_spike', server: 'nope' }, 'server'],
    [{ kind: 'meteor', server: 'api-01' }, 'kind'],
    [{ kind: 'cpu_spike', server: 'api-01', durationSeconds: 0 }, 'durationSeconds'],
    [{ kind: 'cpu_spike', server: 'api-01', durationSeconds: 'long' }, 'durationSeconds'],
    [{ kind: 'cpu_spike', server: 'api-01', extra: 1 }, 'body'],
  ])('%j is refused naming %s', (spec, field) => {
    let err: unknown;
    try {
      f.inject(spec as unknown as ScenarioSpec, T0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimulatorError);
    expect(err).toMatchObject({ code: 'SCENARIO_INVALID', field, status: 400 });
    expect((err as Error).message.startsWith(field)).toBe(true);
  });
});

describe('schedule', () => {
  const DAY = 86_400_000;
  it('is reproducible from the seed, independent of instance and query order', () => {
    const a = new Fleet({ seed: 9, epoch: T0 - 3 * DAY });
    const b = new Fleet({ seed: 9, epoch: T0 - 3 * DAY });
    const ha = a.history(T0 + DAY, T0);
    b.history(T0 + 12 * 3_600_000, T0 + 3_600_000);
    expect(b.history(T0 + DAY, T0)).toEqual(ha);
    expect(new Fleet({ seed: 10, epoch: T0 - 3 * DAY }).history(T0 + DAY, T0)).not.toEqual(ha);
  });

  it.each([
    [0, 0, 0],
    [3, 45, 100],
    [12, 230, 350],
  ])('at %d per hour yields a plausible count per day', (rate, lo, hi) => {
    const f = new Fleet({ seed: 4, epoch: T0 - 3 * DAY, scenarioRatePerHour: rate });
    const n = f.history(T0 + DAY, T0).filter((s) => s.start >= T0).length;
    expect(n).toBeGreaterThanOrEqual(lo);
    expect(n).toBeLessThanOrEqual(hi);
  });

  it.each([
    // [rate per hour, window in days, limit]: under the limit (nothing cut), cut by the limit, cut at one.
    [3, 2, 1_000],
    [3, 20, 100],
    [12, 3, 50],
    [3, 20, 1],
  ])(
    'latestHistory at %d per hour over %d days, limit %d: the newest slice of history()',
    (rate, days, limit) => {
      const f = new Fleet({ seed: 4, epoch: T0 - 30 * DAY, scenarioRatePerHour: rate });
      f.inject({ kind: 'cpu_spike', server: 'web-01', durationSeconds: 600 }, T0 + DAY - 60_000);
      const now = T0 + DAY;
      const all = f.history(now, now - days * DAY);
      const page = f.latestHistory(now, now - days * DAY, limit);
      expect(page.scenarios).toEqual(all.slice(Math.max(0, all.length - limit)));
      expect(page.truncated).toBe(all.length > limit);
    },
  );

  it('latestHistory back to the epoch decodes only what the limit needs and says it cut', () => {
    const f = new Fleet({ seed: 4, epoch: T0 - 400 * DAY, scenarioRatePerHour: 3 });
    const page = f.latestHistory(T0, 0, 10);
    expect(page.scenarios).toEqual(f.history(T0, T0 - DAY).slice(-10));
    expect(page.truncated).toBe(true);
  });

  it('draws every kind, sane durations and intensities, and cascades start on a database', () => {
    const f = new Fleet({ seed: 4, epoch: T0 - 3 * DAY, scenarioRatePerHour: 12 });
    const h = f.history(T0 + 2 * DAY, T0);
    expect(new Set(h.map((s) => s.kind))).toEqual(new Set(SCENARIO_KINDS));
    for (const s of h) {
      expect(s.source).toBe('schedule');
      expect(s.end - s.start).toBeGreaterThanOrEqual(120_000);
      expect(s.end - s.start).toBeLessThanOrEqual(3_600_000);
      expect(s.intensity).toBeGreaterThanOrEqual(0.4);
      expect(s.intensity).toBeLessThanOrEqual(1);
      if (s.kind === 'cascading_failure') expect(s.server).toMatch(/^db-/);
    }
  });

  it('scheduled scenarios are what frames show: scenario_active and down servers match the ground truth', () => {
    const f = new Fleet({ seed: 4, epoch: T0 - 3_600_000, scenarioRatePerHour: 12 });
    const r = new FrameReader(f.layout);
    const h = f.history(T0 + 3 * 3_600_000, T0).filter((s) => s.start >= T0);
    expect(h.length).toBeGreaterThan(20);
    for (const s of h) {
      const mid = Math.floor((s.start + s.end) / 2);
      const frame = f.frameAt(mid);
      for (const id of s.affected)
        expect(r.get(frame, 'openmanager_scenario_active', { server: id, scenario: s.kind })).toBe(1);
      if (s.kind === 'server_down') expect(frame.summaries[f.serverIndex(s.server)]?.up).toBe(false);
      expect(frame.summaries[f.serverIndex(s.server)]?.activeScenarios).toContain(s.id);
    }
  });

  it('a scheduled scenario can be stopped, and the stop survives a restart', () => {
    const f = new Fleet({ seed: 4, epoch: T0 - 3 * DAY, scenarioRatePerHour: 12 });
    const s = f.history(T0 + DAY, T0).find((x) => x.start > T0 + 3_600_000 && x.kind !== 'server_down');
    if (!s) throw new Error('no scheduled scenario found');
    const stopAt = s.start + 30_000;
    f.stop(s.id, stopAt);
    const restarted = new Fleet({ seed: 4, epoch: T0 - 3 * DAY, scenarioRatePerHour: 12 });
    restarted.restore(JSON.parse(JSON.stringify(f.toJSON())));
    const again = restarted.history(T0 + DAY, T0).find((x) => x.id === s.id);
    expect(again).toMatchObject({ end: stopAt, stoppedAt: stopAt });
  });
});

describe('persistence', () => {
  it('injected scenarios survive a restart: same history, same frames', () => {
    const f = new Fleet(opts);
    f.inject({ kind: 'memory_leak', server: 'api-01', durationSeconds: 1800, intensity: 0.7 }, T0);
    const crash = f.inject({ kind: 'service_crash', server: 'web-02', durationSeconds: 600 }, T0 + 60_000);
    f.stop(crash.id, T0 + 300_000);
    const frame = f.frameAt(T0 + 900_000);
    const saved = JSON.parse(JSON.stringify(f.toJSON())) as unknown;
    const g = new Fleet(opts);
    g.restore(saved);
    expect(g.history(T0 + 900_000)).toEqual(f.history(T0 + 900_000));
    expect(firstBitDifference(g.frameAt(T0 + 900_000).values, frame.values)).toBe(-1);
    const next = g.inject({ kind: 'cpu_spike', server: 'api-01' }, T0 + 1_000_000);
    expect(next.id).not.toBe(crash.id);
    expect(next).toMatchObject({ intensity: 0.8, end: T0 + 1_000_000 + 540_000 });
  });

  it('restoring drops scenarios on servers that left the fleet and rejects malformed state', () => {
    const f = new Fleet(opts);
    f.inject({ kind: 'cpu_spike', server: 'api-01' }, T0);
    const state = f.toJSON();
    const g = new Fleet({ ...opts, servers: f.layout.servers.filter((s) => s.id !== 'api-01') });
    g.restore(state);
    expect(g.history(T0 + 60_000)).toEqual([]);
    expect(() => g.restore({ version: 2 })).toThrowError(
      expect.objectContaining({ code: 'SCENARIO_STATE_INVALID' }) as Error,
    );
  });

  it('an injection invalidates cached future states of a running fleet', () => {
    const f = new Fleet(opts);
    const r = new FrameReader(f.layout);
    const before = f.frameAt(T0 + 600_000);
    f.inject({ kind: 'cpu_spike', server: 'api-04', durationSeconds: 900, intensity: 1 }, T0);
    const after = f.frameAt(T0 + 600_000);
    expect(after.summaries[f.serverIndex('api-04')]?.cpu).toBeGreaterThan(90);
    expect(r.get(before, 'openmanager_scenario_active', { server: 'api-04', scenario: 'cpu_spike' })).toBe(0);
  });
});
