/**
 * Integration: Debian's Prometheus 2.42 scrapes the real exporter (createApp, a 2-server fleet) and an extra
 * endpoint with hand-picked values every second, and remote-writes to the exporter's receiver, which stores
 * into the Redis backend; the samples must arrive with exactly the values and labels served. The receivers
 * require a token: Prometheus sends it as a bearer token (`authorization`) to the main one, as the basic-auth
 * password to a second, and a wrong one to a third, which must refuse every request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../test/exposition-parser.js';
import { createApp, type App } from '../app.js';
import { DEFAULT_OPTIONS } from '../options.js';
import { Fleet, generateFleet } from '../simulator/index.js';
import { deleteRedisPrefix } from '../tsdb/redis/redis-admin.js';
import { freePort } from '../tsdb/redis/redis-server-process.js';
import { RedisStorage } from '../tsdb/redis/redis-storage.js';
import type { AppendResult, Appender, SeriesData, Storage } from '../tsdb/storage.js';
import { createRemoteWriteRouter } from './remote-write.js';
import { pollUntil } from '../../test/poll.js';

const PROMETHEUS_BIN = '/usr/bin/prometheus';
const SHARED_REDIS = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
/** ARRIVAL_TIMEOUT_MS bounds the wait for remote-written samples (startup ~2 s + scrape 1 s + send 1 s). */
const ARRIVAL_TIMEOUT_MS = 30_000;

/** EXPOSITION is what the scrape target serves: values chosen to catch float formatting or rounding loss. */
const EXPOSITION = [
  '# HELP om_it_gauge A gauge with a fractional value.',
  '# TYPE om_it_gauge gauge',
  'om_it_gauge{server="web-01",role="web"} 42.125',
  'om_it_gauge{server="db-01",role="db"} -0.000123456789',
  '# HELP om_it_requests_total A counter.',
  '# TYPE om_it_requests_total counter',
  'om_it_requests_total{server="web-01",code="200"} 1234567890123',
  '# HELP om_it_tiny A tiny value.',
  '# TYPE om_it_tiny gauge',
  'om_it_tiny 1e-300',
  '',
].join('\n');

const WANT: { labels: Record<string, string>; value: number }[] = [
  { labels: { __name__: 'om_it_gauge', server: 'web-01', role: 'web' }, value: 42.125 },
  { labels: { __name__: 'om_it_gauge', server: 'db-01', role: 'db' }, value: -0.000123456789 },
  { labels: { __name__: 'om_it_requests_total', server: 'web-01', code: '200' }, value: 1234567890123 },
  { labels: { __name__: 'om_it_tiny' }, value: 1e-300 },
  { labels: { __name__: 'up' }, value: 1 },
];

/** VANISHING is served for the first scrapes only. */
const VANISHING =
  '# HELP om_it_vanishing Served three times.\n# TYPE om_it_vanishing gauge\nom_it_vanishing 7\n';
/** STALE_MARKER_BITS is Prometheus's staleness NaN (value.StaleNaN). */
const STALE_MARKER_BITS = 0x7ff0000000000002n;

/** TOKEN is REMOTE_WRITE_TOKEN for every receiver here. */
const TOKEN = `rw-${randomBytes(12).toString('hex')}`;

/** CountingSink is a storage that only counts what commits deliver (the basic-auth and wrong-token receivers). */
class CountingSink implements Pick<Storage, 'appender'> {
  committed = 0;
  appender(): Appender {
    let pending = 0;
    return {
      append: () => {
        pending++;
        return 0;
      },
      rollback: () => {
        pending = 0;
      },
      commit: (): Promise<AppendResult> => {
        this.committed += pending;
        return Promise.resolve({ appended: pending, outOfOrder: 0, duplicate: 0 });
      },
    };
  }
}

let itScrapes = 0;
let app: App;
let port: number;
let prometheus: ChildProcess | undefined;
let prometheusExited: Promise<void> = Promise.resolve();
let prometheusLog = '';
let store: RedisStorage;
const basicSink = new CountingSink();
const wrongSink = new CountingSink();
const wrongRegistry = new Registry();
let dir: string;
const prefix = `omtest-rw-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} is missing: install the Debian package prometheus (see .ci/run)`);
  }
  store = await RedisStorage.open({
    url: SHARED_REDIS,
    keyPrefix: prefix,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
  });
  dir = mkdtempSync(join(tmpdir(), 'om-prom-'));
  const logger = pino({ level: 'silent' });
  const receiver = createRemoteWriteRouter({ storage: store, logger, token: TOKEN });
  const basicReceiver = createRemoteWriteRouter({
    storage: basicSink,
    logger,
    token: TOKEN,
    path: '/basic/api/v1/write',
  });
  const wrongReceiver = createRemoteWriteRouter({
    storage: wrongSink,
    logger,
    token: TOKEN,
    path: '/wrong/api/v1/write',
    registry: wrongRegistry,
  });
  // A tick period of an hour with the scheduler off: the exposition stays one frame for the whole test.
  app = createApp({
    options: { ...DEFAULT_OPTIONS, port: 0, tickSeconds: 3600, dataDir: join(dir, 'exporter') },
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    fleet: new Fleet({ servers: generateFleet(2, 42), scenarioRatePerHour: 0 }),
    journal: null,
    routers: [
      ['/', receiver],
      ['/', basicReceiver],
      ['/', wrongReceiver],
      [
        '/it-metrics',
        (_req, res) => {
          // A series that vanishes after three scrapes: Prometheus then writes its stale marker.
          const vanishing = ++itScrapes <= 3 ? VANISHING : '';
          res.type('text/plain; version=0.0.4').send(EXPOSITION + vanishing);
        },
      ],
    ],
  });
  await app.start({ schedule: false });
  await app.tick();
  port = Number(new URL(app.url).port);

  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 900ms',
    'scrape_configs:',
    '  - job_name: om-it',
    '    metrics_path: /it-metrics',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${port}']`,
    '  - job_name: om-exporter',
    '    metrics_path: /api/prometheus/metrics',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${port}']`,
    'remote_write:',
    `  - url: http://127.0.0.1:${port}/api/prometheus/api/v1/write`,
    `    authorization: { credentials: ${TOKEN} }`,
    '    queue_config: { batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 1s }',
    '    metadata_config: { send: false }',
    `  - url: http://127.0.0.1:${port}/basic/api/v1/write`,
    `    basic_auth: { username: prometheus, password: ${TOKEN} }`,
    '    queue_config: { batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 1s }',
    '    metadata_config: { send: false }',
    `  - url: http://127.0.0.1:${port}/wrong/api/v1/write`,
    `    authorization: { credentials: not-${TOKEN} }`,
    '    queue_config: { batch_send_deadline: 500ms, min_backoff: 100ms, max_backoff: 1s }',
    '    metadata_config: { send: false }',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const promPort = await freePort();
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (d: Buffer) => {
    prometheusLog = (prometheusLog + d.toString()).slice(-4000);
  });
  prometheus = child;
  prometheusExited = new Promise((resolve) => child.once('exit', () => resolve()));
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    prometheus.kill('SIGTERM');
    await prometheusExited;
  }
  await app?.stop();
  await store?.close();
  await deleteRedisPrefix(SHARED_REDIS, prefix);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pick(data: SeriesData[], labels: Record<string, string>): SeriesData | undefined {
  return data.find((d) => Object.entries(labels).every(([k, v]) => d.labels[k] === v));
}

/** waitForSeries polls the store until `ready` holds for the series of `job` (bounded by ARRIVAL_TIMEOUT_MS). */
function waitForSeries(job: string, ready: (data: SeriesData[]) => boolean): Promise<SeriesData[]> {
  return pollUntil(
    `samples of ${job} (prometheus log: ${prometheusLog})`,
    async () => {
      const q = await store.querier(-Infinity, Infinity);
      const data = await q.select([{ type: '=', name: 'job', value: job }]);
      return ready(data) ? data : undefined;
    },
    {
      timeoutMs: ARRIVAL_TIMEOUT_MS,
      intervalMs: 100,
      giveUp: () => (prometheus?.exitCode !== null ? `prometheus exited early: ${prometheusLog}` : undefined),
    },
  );
}

describe('Prometheus 2.42 remote_write into the store', () => {
  it('delivers scraped samples unchanged', async () => {
    const started = Date.now();
    // Every expected series with at least two samples: two scrapes went through end to end.
    // and the vanished series ends in a NaN (its stale marker).
    const data = await waitForSeries(
      'om-it',
      (d) =>
        WANT.every((w) => (pick(d, w.labels)?.timestamps.length ?? 0) >= 2) &&
        Number.isNaN(pick(d, { __name__: 'om_it_vanishing' })?.values.at(-1)),
    );
    const instance = `127.0.0.1:${port}`;
    for (const w of WANT) {
      const d = pick(data, w.labels)!;
      // Exactly the served labels plus Prometheus's target labels, nothing lost or renamed.
      expect(d.labels).toEqual({ ...w.labels, job: 'om-it', instance });
      for (const v of d.values)
        expect(Object.is(v, w.value), `${JSON.stringify(w.labels)} = ${v}`).toBe(true);
      const ts = [...d.timestamps];
      for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBeGreaterThan(0);
      // Prometheus stamps each scrape with its start time: around the test, not in the future.
      expect(ts[0]!).toBeGreaterThanOrEqual(started - ARRIVAL_TIMEOUT_MS);
      expect(ts.at(-1)!).toBeLessThanOrEqual(Date.now());
    }
    // The stale marker arrives bit-exact, after the values served while the series existed.
    const vanished = pick(data, { __name__: 'om_it_vanishing' })!;
    const values = vanished.values;
    expect(Array.from(values.subarray(0, -1))).toEqual(Array<number>(values.length - 1).fill(7));
    expect(new BigUint64Array(values.buffer, values.byteOffset, values.length).at(-1)).toBe(
      STALE_MARKER_BITS,
    );
    // Prometheus's own synthetic series come along too (the first scrape had 5 samples).
    expect(pick(data, { __name__: 'scrape_samples_scraped' })?.values[0]).toBe(5);
  });

  it('delivers the real exporter exposition unchanged', async () => {
    const body = await (await fetch(`${app.url}/api/prometheus/metrics`)).text();
    const served = [...parseExposition(body, 'text').values()].flatMap((f) => f.samples);
    expect(served.length).toBeGreaterThan(50);
    const instance = `127.0.0.1:${port}`;
    const want = served.map((s) => ({ ...s.labels, __name__: s.name, job: 'om-exporter', instance }));
    const data = await waitForSeries('om-exporter', (d) => want.every((w) => pick(d, w) !== undefined));
    served.forEach((s, i) => {
      const d = pick(data, want[i]!)!;
      expect(d.labels).toEqual(want[i]);
      for (const v of d.values)
        expect(Object.is(v, s.value), `${JSON.stringify(want[i])} = ${v} ≠ ${s.value}`).toBe(true);
    });
  });

  it('writes with the token as basic-auth password, and a wrong token is refused', async () => {
    const refused = async (): Promise<number> => {
      const values = (
        await wrongRegistry.getSingleMetric('openmanager_exporter_remote_write_requests_total')?.get()
      )?.values;
      return values?.find((v) => v.labels.code === '403')?.value ?? 0;
    };
    const deadline = Date.now() + ARRIVAL_TIMEOUT_MS;
    while (basicSink.committed === 0 || (await refused()) === 0) {
      if (prometheus?.exitCode !== null) throw new Error(`prometheus exited early: ${prometheusLog}`);
      if (Date.now() > deadline) {
        throw new Error(
          `basic-auth samples: ${basicSink.committed}, 403s: ${await refused()} after ${ARRIVAL_TIMEOUT_MS} ms; ` +
            `prometheus log: ${prometheusLog}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(wrongSink.committed).toBe(0);
    // Prometheus logs the refusal (4xx is not retried) and, like the exporter, never the token.
    expect(prometheusLog).not.toContain(TOKEN);
  });
});
