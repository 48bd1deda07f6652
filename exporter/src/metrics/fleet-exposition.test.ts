import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExposition, promtoolCheckMetrics } from '../../test/exposition-parser.js';
import type {
  FamilyDesc,
  FleetFrame,
  FleetLayout,
  SeriesDesc,
  ServerInfo,
  ServerSummary,
} from '../simulator/types.js';
import { ALL_SERVERS, FleetExposition, writeDigits } from './fleet-exposition.js';
import { SERVER_META_FAMILIES } from '../simulator/server-meta.js';
import { Fleet } from '../simulator/index.js';
import { OPENMETRICS_EOF } from './text-format.js';

const FAMILIES: FamilyDesc[] = [
  { name: 'openmanager_cpu_usage_percent', help: 'CPU busy in percent.', type: 'gauge', unit: 'percent' },
  {
    name: 'openmanager_disk_read_bytes',
    help: 'Bytes read\\since boot.\nSecond line.',
    type: 'counter',
    unit: 'bytes',
  },
  {
    name: 'openmanager_http_request_duration_seconds',
    help: 'Latency "quoted".',
    type: 'histogram',
    unit: 'seconds',
  },
  { name: 'openmanager_service_up', help: 'Service up.', type: 'gauge', unit: '' },
];

function server(id: string): ServerInfo {
  return { id, role: 'web', cores: 2, memoryBytes: 1, disks: [], interfaces: [], services: [], zone: 'z1' };
}

/** fixture builds a 3-server layout: web-1 with every family, web-2 without service_up, a tricky label on db-1. */
function fixture(): FleetLayout {
  const servers = [server('web-1'), server('web-2'), server('db-1')];
  const series: SeriesDesc[] = [];
  const serverSeries: [number, number][] = [];
  servers.forEach((s, i) => {
    const first = series.length;
    const add = (family: number, name: string, labels: Record<string, string> = {}) =>
      series.push({ family, server: i, labels: { __name__: name, server: s.id, ...labels } });
    add(0, 'openmanager_cpu_usage_percent', { core: '0' });
    add(0, 'openmanager_cpu_usage_percent', { core: '1' });
    add(1, 'openmanager_disk_read_bytes_total', {
      device: i === 2 ? 'we"ird\\dev\nice' : i === 1 ? 'sdé→' : 'sda',
    });
    for (const le of ['0.1', '1', '+Inf']) add(2, 'openmanager_http_request_duration_seconds_bucket', { le });
    add(2, 'openmanager_http_request_duration_seconds_sum');
    add(2, 'openmanager_http_request_duration_seconds_count');
    if (i !== 1) add(3, 'openmanager_service_up', { service: 'nginx' });
    serverSeries.push([first, series.length]);
  });
  return { families: FAMILIES, servers, series, serverSeries };
}

function frame(layout: FleetLayout, t: number, down: ReadonlySet<number> = new Set()): FleetFrame {
  const values = new Float64Array(layout.series.length);
  const perServer = [
    [12.5, 80, 1e21, 2, 5, 7, 3.25, 7, 1],
    [Number.NaN, Number.POSITIVE_INFINITY, 0, 0, 0, 0, 0, 0],
    [-0, Number.NEGATIVE_INFINITY, 123456789, 1, 1, 1, 0.5, 1, 0],
  ];
  layout.serverSeries.forEach(([a, b], i) => {
    for (let k = a; k < b; k++) values[k] = down.has(i) ? Number.NaN : (perServer[i]?.[k - a] ?? 0);
  });
  const summaries: ServerSummary[] = layout.servers.map((s, i) => ({
    id: s.id,
    role: s.role,
    cpu: 10,
    memory: 10,
    disk: 10,
    networkIn: 0,
    networkOut: 0,
    up: !down.has(i),
    activeScenarios: [],
  }));
  return { t, values, summaries };
}

const TEXT_WEB1 = `# HELP openmanager_cpu_usage_percent CPU busy in percent.
# TYPE openmanager_cpu_usage_percent gauge
openmanager_cpu_usage_percent{server="web-1",core="0"} 12.5
openmanager_cpu_usage_percent{server="web-1",core="1"} 80
# HELP openmanager_disk_read_bytes_total Bytes read\\\\since boot.\\nSecond line.
# TYPE openmanager_disk_read_bytes_total counter
openmanager_disk_read_bytes_total{server="web-1",device="sda"} 1e+21
# HELP openmanager_http_request_duration_seconds Latency "quoted".
# TYPE openmanager_http_request_duration_seconds histogram
openmanager_http_request_duration_seconds_bucket{server="web-1",le="0.1"} 2
openmanager_http_request_duration_seconds_bucket{server="web-1",le="1"} 5
openmanager_http_request_duration_seconds_bucket{server="web-1",le="+Inf"} 7
openmanager_http_request_duration_seconds_sum{server="web-1"} 3.25
openmanager_http_request_duration_seconds_count{server="web-1"} 7
# HELP openmanager_service_up Service up.
# TYPE openmanager_service_up gauge
openmanager_service_up{server="web-1",service="nginx"} 1
# HELP openmanager_server_up Whether the server answers (1) or is down (0); present while it is down, unlike its other series.
# TYPE openmanager_server_up gauge
openmanager_server_up{server="web-1"} 1
# HELP openmanager_server_info The server's role and zone as labels, value 1: a join target for grouping by role or zone.
# TYPE openmanager_server_info gauge
openmanager_server_info{server="web-1",role="web",zone="z1"} 1
`;

describe('FleetExposition', () => {
  it('renders one server in text 0.0.4 exactly, counters named x_total, help escaped', () => {
    const layout = fixture();
    const exp = new FleetExposition(layout);
    exp.update(frame(layout, 1000));
    expect(exp.body(0, 'text').bytes.toString()).toBe(TEXT_WEB1);
  });

  it('renders OpenMetrics: counter family without _total, UNIT only when the name ends in it, quotes escaped', () => {
    const layout = fixture();
    const exp = new FleetExposition(layout);
    exp.update(frame(layout, 1000));
    const body = exp.body(0, 'openmetrics').bytes.toString();
    expect(body).toContain(
      '# HELP openmanager_disk_read_bytes Bytes read\\\\since boot.\\nSecond line.\n' +
        '# TYPE openmanager_disk_read_bytes counter\n# UNIT openmanager_disk_read_bytes bytes\n' +
        'openmanager_disk_read_bytes_total{server="web-1",device="sda"} 1e+21\n',
    );
    expect(body).toContain('# HELP openmanager_http_request_duration_seconds Latency \\"quoted\\".\n');
    expect(body).toContain('# UNIT openmanager_http_request_duration_seconds seconds\n');
    expect(body).not.toContain('# UNIT openmanager_service_up');
    const fams = parseExposition(body + OPENMETRICS_EOF, 'openmetrics');
    expect([...fams.keys()]).toEqual([...FAMILIES, ...SERVER_META_FAMILIES].map((f) => f.name));
  });

  it('formats special values as Prometheus does and escapes label values', () => {
    const layout = fixture();
    const exp = new FleetExposition(layout);
    exp.update(frame(layout, 1000));
    const text = exp.body(ALL_SERVERS, 'text').bytes.toString();
    expect(text).toContain('openmanager_cpu_usage_percent{server="web-2",core="0"} NaN\n');
    expect(text).toContain('openmanager_cpu_usage_percent{server="web-2",core="1"} +Inf\n');
    expect(text).toContain('openmanager_cpu_usage_percent{server="db-1",core="0"} 0\n');
    expect(text).toContain('openmanager_cpu_usage_percent{server="db-1",core="1"} -Inf\n');
    expect(text).toContain(
      'openmanager_disk_read_bytes_total{server="db-1",device="we\\"ird\\\\dev\\nice"} 123456789\n',
    );
    const fams = parseExposition(text, 'text');
    const disk = fams.get('openmanager_disk_read_bytes_total');
    expect(disk?.samples.map((s) => s.labels.device)).toEqual(['sda', 'sdé→', 'we"ird\\dev\nice']);
  });

  it('combined body groups each family across servers and omits down servers', () => {
    const layout = fixture();
    const exp = new FleetExposition(layout);
    exp.update(frame(layout, 1000, new Set([0])));
    const fams = parseExposition(exp.body(ALL_SERVERS, 'text').bytes.toString(), 'text');
    const servers = (name: string) => [...new Set(fams.get(name)?.samples.map((s) => s.labels.server))];
    expect(servers('openmanager_cpu_usage_percent')).toEqual(['web-2', 'db-1']);
    expect(servers('openmanager_service_up')).toEqual(['db-1']);
    expect(exp.isUp(0)).toBe(false);
  });

  it('combined body keeps the scenario ground truth of a down server (its server_down is ground truth)', () => {
    const T = Date.UTC(2026, 0, 5, 12);
    const fleet = new Fleet({ seed: 3, scenarioRatePerHour: 0, epoch: T - 3_600_000 });
    const down = fleet.layout.servers[2]!.id;
    fleet.inject({ kind: 'server_down', server: down, durationSeconds: 300 }, T);
    const exp = new FleetExposition(fleet.layout);
    exp.update(fleet.frameAt(T + 60_000));
    const fams = parseExposition(exp.body(ALL_SERVERS, 'text').bytes.toString(), 'text');
    const of = (name: string) => fams.get(name)?.samples.filter((x) => x.labels.server === down) ?? [];
    expect(of('openmanager_cpu_usage_percent')).toEqual([]);
    const truth = of('openmanager_scenario_active');
    expect(truth).toHaveLength(8);
    expect(truth.filter((x) => x.value === 1).map((x) => x.labels.scenario)).toEqual(['server_down']);
    expect(fams.get('openmanager_scenario_active')?.samples).toHaveLength(8 * fleet.layout.servers.length);
  });

  it('a per-server body skips families the server has no series of', () => {
    const layout = fixture();
    const exp = new FleetExposition(layout);
    exp.update(frame(layout, 1000));
    const fams = parseExposition(exp.body(1, 'text').bytes.toString(), 'text');
    expect(fams.has('openmanager_service_up')).toBe(false);
    expect(fams.get('openmanager_cpu_usage_percent')?.samples).toHaveLength(2);
  });

  it('renders each body once per frame however many ask, gzip included; a new frame renders again', async () => {
    const layout = fixture();
    const exp = new FleetExposition(layout);
    exp.update(frame(layout, 1000));
    expect(exp.renders).toEqual({ text: 1, openmetrics: 0, gzip: 0 }); // eager combined text
    const asks = Array.from({ length: 50 }, () => [
      exp.gzipBody(ALL_SERVERS, 'text'),
      exp.gzipBody(ALL_SERVERS, 'openmetrics'),
      Promise.resolve(exp.body(ALL_SERVERS, 'openmetrics').bytes),
    ]).flat();
    const results = await Promise.all(asks);
    expect(exp.renders).toEqual({ text: 1, openmetrics: 1, gzip: 2 });
    expect(gunzipSync(results[0]!).equals(exp.body(ALL_SERVERS, 'text').bytes)).toBe(true);
    expect(new Set(results.filter((_, i) => i % 3 === 0)).size).toBe(1);
    exp.update(frame(layout, 16_000));
    await exp.gzipBody(ALL_SERVERS, 'text');
    expect(exp.renders).toEqual({ text: 2, openmetrics: 1, gzip: 3 });
  });

  it('promtool check metrics reports nothing on the text bodies', () => {
    const layout = fixture();
    const exp = new FleetExposition(layout);
    exp.update(frame(layout, 1000));
    for (const target of [ALL_SERVERS, 0, 1, 2]) {
      const r = promtoolCheckMetrics(exp.body(target, 'text').bytes);
      expect(r, `target ${target}`).toEqual({ status: 0, output: '' });
    }
  });

  it('rejects a frame that does not match the layout, and bodies before any frame', () => {
    const layout = fixture();
    const exp = new FleetExposition(layout);
    expect(() => exp.body(ALL_SERVERS, 'text')).toThrow(/no frame/);
    expect(() => exp.update({ t: 0, values: new Float64Array(3), summaries: [] })).toThrow(/3 values/);
  });
});

describe('writeDigits', () => {
  it('writes exactly what String() prints for every integer it is used for', () => {
    const buf = Buffer.alloc(32);
    const check = (x: number): void => {
      const end = writeDigits(buf, 3, x);
      expect(buf.toString('latin1', 3, end)).toBe(String(x));
    };
    for (const x of [0, 1, 9, 10, 99, 100, 101, 65536, 999_999_999_999_999, 123_456_789_012_345]) check(x);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => check(n % 1e15)),
      { numRuns: 2_000 },
    );
  });
});
