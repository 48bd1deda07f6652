/* eslint-disable @typescript-eslint/no-unsafe-assignment -- vitest's asymmetric matchers (expect.any…) are typed any */
/**
 * The composed exporter end to end, in-process: backfill → store → PromQL API, remote-write → store → API,
 * a scenario injected over HTTP → frames, store and the hub's `alerts` and `server-metrics` channels.
 */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressSync } from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { composeExporter, type Exporter } from '../src/compose.js';
import { encodeWriteRequest } from '../src/api/remote-write-proto.js';
import { createSelfRegistry } from '../src/metrics/self-metrics.js';
import { DEFAULT_OPTIONS, type ExporterOptions } from '../src/options.js';
import { Fleet } from '../src/simulator/index.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import { ManualClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/logger.js';

const TICK_MS = 15_000;
/** T0 is a tick-aligned instant in the past (2026-11-01T00:00:00Z) so runs are reproducible. */
const T0 = Date.UTC(2026, 10, 1);
const TOKEN = 'test-token';

interface PromEnvelope {
  status: string;
  data: {
    resultType: string;
    result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
  };
}

let ex: Exporter;
let base: string;
const clock = new ManualClock(T0);

async function query(expr: string, at: number): Promise<PromEnvelope> {
  const res = await fetch(
    `${base}/api/prometheus/api/v1/query?query=${encodeURIComponent(expr)}&time=${at / 1000}`,
  );
  expect(res.status).toBe(200);
  return (await res.json()) as PromEnvelope;
}

/** nextMessage resolves with the next parsed message of `ws` that satisfies `pred` (bounded by the test timeout). */
function nextMessage(
  ws: WebSocket,
  pred: (m: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (raw: Buffer): void => {
      const m = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      if (pred(m)) {
        ws.off('message', onMessage);
        resolve(m);
      }
    };
    ws.on('message', onMessage);
  });
}

/** compose builds an exporter on the test clock and an in-memory store, with a data dir of its own. */
async function compose(overrides: Partial<ExporterOptions>): Promise<Exporter> {
  const options: ExporterOptions = {
    ...DEFAULT_OPTIONS,
    // A data dir of its own: the scenario journal and the rules' progress must not come from another run.
    dataDir: mkdtempSync(join(tmpdir(), 'om-compose-')),
    port: 0,
    host: '127.0.0.1',
    scenarioRate: 0,
    ...overrides,
  };
  const logger = silentLogger();
  const registry = createSelfRegistry({ defaultMetrics: false });
  const fleet = new Fleet({ seed: options.seed, scenarioRatePerHour: 0 });
  const storage = await EmbeddedStorage.open({ registry, logger });
  return composeExporter({ options, logger, registry, fleet, clock, storage });
}

beforeAll(async () => {
  ex = await compose({ backfill: 3_600_000, apiToken: TOKEN });
  await ex.app.start({ schedule: false });
  base = ex.app.url;
}, 120_000);

afterAll(async () => {
  await ex?.app.stop();
});

describe('composed exporter', () => {
  it('backfills the last hour into the store before the first tick, queryable through the API', async () => {
    expect(ex.app.readiness().checks.startup?.ok).toBe(true);
    const last = await ex.storage.lastTimestamp();
    expect(last).toBe(T0 - TICK_MS);
    const count = await query('count(openmanager_memory_total_bytes)', T0 - TICK_MS);
    expect(count.data.result[0]?.value?.[1]).toBe('20');
    const res = await fetch(
      `${base}/api/prometheus/api/v1/query_range?query=${encodeURIComponent('openmanager_memory_total_bytes{server="db-01"}')}` +
        `&start=${(T0 - 3_600_000) / 1000}&end=${(T0 - TICK_MS) / 1000}&step=15`,
    );
    const range = (await res.json()) as PromEnvelope;
    // One sample per tick over the hour: 240 points (start and end inclusive).
    expect(range.data.result[0]?.values).toHaveLength(240);
  });

  it('replays the rules over the backfilled hour, after the backfill wrote it', async () => {
    // The replay runs in the background once the backfill is done; the exporter is ready before it ends.
    await ex.rules.whenCaughtUp();
    // The shipped recording rule evaluated every 15 s over the hour, each point equal to its expression then.
    const recorded = await query(
      'count_over_time(server:openmanager_cpu_usage_percent:avg{server="db-01"}[1h])',
      T0 - TICK_MS,
    );
    expect(Number(recorded.data.result[0]?.value?.[1])).toBeGreaterThanOrEqual(239);
    const at = T0 - 1_800_000;
    const [rule, expr] = await Promise.all([
      query('server:openmanager_cpu_usage_percent:avg{server="db-01"}', at),
      query('avg by (server) (openmanager_cpu_usage_percent{server="db-01"})', at),
    ]);
    expect(rule.data.result[0]?.value?.[1]).toBe(expr.data.result[0]?.value?.[1]);
  });

  it('exports the store health among the self-metrics, and stores them for its own rules', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^openmanager_exporter_storage_healthy\{backend="embedded"\} 1$/m);
    await ex.app.tick();
    const stored = await query('openmanager_exporter_storage_healthy', T0);
    expect(stored.data.result).toEqual([
      {
        metric: {
          __name__: 'openmanager_exporter_storage_healthy',
          backend: 'embedded',
          job: 'openmanager-exporter',
          instance: new URL(base).host,
        },
        value: [T0 / 1000, '1'],
      },
    ]);
    const failures = await query('prometheus_rule_evaluation_failures_total', T0);
    expect(failures.data.result.length).toBeGreaterThan(5);
  });

  it('steps subqueries written without a step at the evaluation interval (15 s), as Prometheus does', async () => {
    // [1m:] at a 15 s step holds the steps at -60, -45, -30, -15 and 0 s of a minute-aligned instant (a 2.x
    // range is closed at both ends): 5, where Prometheus's 1 m default would hold 2.
    const r = await query(
      'count_over_time(openmanager_memory_total_bytes{server="db-01"}[1m:])',
      T0 - 60_000,
    );
    expect(r.data.result[0]?.value?.[1]).toBe('5');
  });

  it('appends each live tick after the backfill without a gap', async () => {
    await ex.app.tick();
    expect(await ex.storage.lastTimestamp()).toBe(T0);
    const r = await query('count_over_time(openmanager_cpu_load_average_1m{server="web-01"}[1m])', T0);
    // Prometheus 2.x range windows are closed: [T0 - 60 s, T0] holds the ticks at -60, -45, -30, -15 and 0 s.
    expect(r.data.result[0]?.value?.[1]).toBe('5');
  });

  it('stores what remote-write receives, next to the fleet', async () => {
    const body = compressSync(
      encodeWriteRequest({
        timeseries: [
          {
            labels: [
              { name: '__name__', value: 'external_gauge' },
              { name: 'job', value: 'agent' },
            ],
            samples: [
              { value: 1.5, timestamp: T0 - 30_000 },
              { value: 2.5, timestamp: T0 },
            ],
          },
        ],
      }),
    );
    const res = await fetch(`${base}/api/prometheus/api/v1/write`, {
      method: 'POST',
      headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf' },
      body: Buffer.from(body),
    });
    expect(res.status).toBe(204);
    const r = await query('sum_over_time(external_gauge{job="agent"}[1m])', T0);
    expect(r.data.result[0]?.value?.[1]).toBe('4');
  });

  it('pushes an injected scenario to hub subscribers and into the stored series', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
    const welcome = nextMessage(ws, (m) => m.type === 'welcome');
    await once(ws, 'open');
    await welcome;
    // The channel's current state arrives on subscribe and alert transitions share it: wait for the event.
    const alert = nextMessage(
      ws,
      (m) =>
        m.type === 'data' &&
        m.channel === 'alerts' &&
        (m.data as { event?: string }).event === 'scenario_started',
    );
    ws.send(JSON.stringify({ type: 'subscribe', channels: ['alerts', 'server-metrics'] }));

    const res = await fetch(`${base}/api/scenarios`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ kind: 'server_down', server: 'cache-01', durationSeconds: 600, intensity: 1 }),
    });
    expect(res.status).toBe(201);
    const event = (await alert) as { data: { event: string; scenario: { server: string; kind: string } } };
    expect(event.data.event).toBe('scenario_started');
    expect(event.data.scenario).toMatchObject({ server: 'cache-01', kind: 'server_down' });

    // The shipped ServerDown rule sees openmanager_server_up == 0 at the next tick: pending, on the hub.
    const pending = nextMessage(
      ws,
      (m) =>
        m.type === 'data' &&
        m.channel === 'alerts' &&
        (
          m.data as {
            event?: string;
            alert?: { name: string; state: string; labels: Record<string, string> };
          }
        ).alert?.name === 'ServerDown',
    );
    clock.advance(TICK_MS);
    await ex.app.tick();
    const transition = (await pending) as {
      data: { alert: { state: string; labels: Record<string, string> }; previousState: string };
    };
    expect(transition.data.alert).toMatchObject({
      state: 'pending',
      labels: { server: 'cache-01', severity: 'critical' },
    });
    expect(transition.data.previousState).toBe('inactive');
    const metrics = nextMessage(
      ws,
      (m) =>
        m.type === 'data' &&
        m.channel === 'server-metrics' &&
        (m.data as { servers: { id: string; status: string }[] }).servers.some(
          (s) => s.id === 'cache-01' && s.status === 'down',
        ),
    );
    await ex.app.scheduler.runNow('broadcast');
    const snapshot = (await metrics) as { data: { summary: { total_servers: number; critical: number } } };
    expect(snapshot.data.summary.total_servers).toBe(20);
    expect(snapshot.data.summary.critical).toBeGreaterThanOrEqual(1);
    ws.close();

    // The down server's series got stale markers: an instant query no longer returns them.
    const r = await query('openmanager_memory_total_bytes{server="cache-01"}', T0 + TICK_MS);
    expect(r.data.result).toHaveLength(0);
    const others = await query('count(openmanager_memory_total_bytes)', T0 + TICK_MS);
    expect(others.data.result[0]?.value?.[1]).toBe('19');
  });

  // The requests Grafana 12's Prometheus data source sends with `manageAlerts: true` (its alerting UI lists
  // data-source rules through them), with the headers Grafana's proxy adds.
  it.each([
    ['the rule list', '/rules', 'groups'],
    ['alerting rules without their alerts', '/rules?type=alert&exclude_alerts=true', 'groups'],
    [
      'one rule by name, group and file',
      '/rules?rule_name[]=ServerDown&rule_group[]=openmanager-service&file[]=',
      'groups',
    ],
    ['the active alerts', '/alerts', 'alerts'],
  ])("answers Grafana's request for %s in Prometheus's shape", async (name, path, key) => {
    const url = `${base}/api/prometheus/api/v1${path}`;
    const file = path.includes('file[]=')
      ? encodeURIComponent(
          ex.rules.loadedGroups().find((g) => g.spec.name === 'openmanager-service')?.spec.file ?? '',
        )
      : '';
    const res = await fetch(url + file, {
      headers: {
        'X-Grafana-Org-Id': '1',
        'User-Agent': 'Grafana/12.4.0',
        Accept: 'application/json, text/plain, */*',
      },
    });
    expect(res.status, name).toBe(200);
    const body = (await res.json()) as { status: string; data: Record<string, unknown[]> };
    expect(body.status).toBe('success');
    const list = body.data[key] ?? [];
    if (key === 'alerts') {
      // cache-01 is down (injected above): ServerDown is pending or firing.
      expect(list).toContainEqual(
        expect.objectContaining({
          labels: expect.objectContaining({ alertname: 'ServerDown', server: 'cache-01' }),
        }),
      );
      return;
    }
    const groups = list as {
      name: string;
      file: string;
      interval: number;
      rules: Record<string, unknown>[];
    }[];
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      expect(g).toMatchObject({ name: expect.any(String), file: expect.any(String), interval: 15 });
      for (const r of g.rules) {
        expect(r).toMatchObject({ name: expect.any(String), query: expect.any(String), health: 'ok' });
        expect(['alerting', 'recording']).toContain(r.type);
        if (path.includes('type=alert')) expect(r.type).toBe('alerting');
        if (path.includes('exclude_alerts')) expect(r).not.toHaveProperty('alerts');
        if (r.type === 'alerting')
          expect(r).toMatchObject({
            state: expect.stringMatching(/^(inactive|pending|firing)$/),
            duration: expect.any(Number),
          });
      }
    }
    if (path.includes('rule_name[]'))
      expect(groups.flatMap((g) => g.rules.map((r) => r.name))).toEqual(['ServerDown']);
  });

  it.each([
    { jobClock: 'wall' as const, everyMs: 500 },
    { jobClock: 'simulated' as const, everyMs: 30_000 },
  ])('at speed 60 on the $jobClock job clock runs the analysis every $everyMs ms of it', async (row) => {
    const other = await compose({ backfill: 0, speed: 60, jobClock: row.jobClock });
    try {
      const analysis = other.app.scheduler.stats().find((j) => j.name === 'analysis');
      expect(analysis?.intervalMs).toBe(row.everyMs);
    } finally {
      await other.app.stop();
    }
  });
});
