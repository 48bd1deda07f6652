/**
 * Real Prometheus (Debian's 2.42) scrapes the exporter: the per-server targets found through /api/sd and the
 * combined endpoint. It must see `up == 1` for every server and the seed's series, then `up == 0` for exactly
 * the server a server_down scenario takes down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { createSelfRegistry } from '../src/metrics/self-metrics.js';
import { DEFAULT_OPTIONS } from '../src/options.js';
import { Fleet } from '../src/simulator/index.js';
import { silentLogger } from '../src/util/logger.js';
import { SEED_SERIES } from './seed-families.js';
import { pollUntil } from './poll.js';

const PROMETHEUS = '/usr/bin/prometheus';
const TOKEN = 'prom-test';
const DOWN_SERVER = 'db-01';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** waitFor waits for real Prometheus to report something (`probe` returns it, or undefined until then). */
const waitFor = <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, probe, { timeoutMs: ms, intervalMs: 250 });

describe('Prometheus 2.42 scraping the exporter', () => {
  let app: App;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let promLog = '';
  const dir = mkdtempSync(join(tmpdir(), 'om-prom-'));

  const query = async (q: string): Promise<VectorSample[]> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data: { result: VectorSample[] } };
    if (body.status !== 'success') throw new Error(`query ${q} failed: ${JSON.stringify(body)}`);
    return body.data.result;
  };

  const upByServer = async (): Promise<Map<string, string>> =>
    new Map((await query('up{job="fleet"}')).map((s) => [s.metric.server ?? '', s.value[1]]));

  beforeAll(async () => {
    if (!existsSync(PROMETHEUS)) {
      throw new Error(
        `${PROMETHEUS} is missing: install Debian's "prometheus" package (apt-get install -y prometheus)`,
      );
    }
    const options = {
      ...DEFAULT_OPTIONS,
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      tickSeconds: 1,
      apiToken: TOKEN,
      scenarioRate: 0,
    };
    // No random scenarios (rate 0): only the injected server_down may take a target down.
    const fleet = new Fleet({ seed: 11, scenarioRatePerHour: 0, epoch: Date.now() - 3_600_000 });
    app = createApp({
      options,
      logger: silentLogger(),
      registry: createSelfRegistry(),
      fleet,
      journal: null,
    });
    await app.start();
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const exporter = new URL(app.url).host;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: fleet
    honor_labels: true
    http_sd_configs:
      - url: http://${exporter}/api/sd
        refresh_interval: 1s
  - job_name: openmanager-metrics
    metrics_path: /api/prometheus/metrics
    static_configs:
      - targets: ['${exporter}']
`,
    );
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.stderr?.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-4000)));
    await waitFor('Prometheus to be ready', 30_000, async () =>
      (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined,
    );
  });

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom?.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees every per-server target up and the seed series; server_down takes exactly one target down', async () => {
    const up = await waitFor('up == 1 for all 20 per-server targets', 40_000, async () => {
      const m = await upByServer();
      return m.size === 20 && [...m.values()].every((v) => v === '1') ? m : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nprometheus log:\n${promLog}`);
    });
    expect(up.has(DOWN_SERVER)).toBe(true);

    const names = await waitFor('the seed series from the combined job', 20_000, async () => {
      const r = await query('count by (__name__) ({job="openmanager-metrics",__name__=~"openmanager_.+"})');
      const set = new Set(r.map((s) => s.metric.__name__));
      return SEED_SERIES.every((n) => set.has(n)) ? set : undefined;
    });
    expect([...names].sort()).toEqual(expect.arrayContaining([...SEED_SERIES]));
    const servers = await query(
      'count by (server) (openmanager_memory_total_bytes{job="openmanager-metrics"})',
    );
    expect(servers).toHaveLength(20);
    const perTarget = await query(`openmanager_memory_total_bytes{job="fleet",server="${DOWN_SERVER}"}`);
    expect(perTarget).toHaveLength(1);

    const res = await fetch(`${app.url}/api/scenarios`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ kind: 'server_down', server: DOWN_SERVER, durationSeconds: 600 }),
    });
    expect(res.status).toBe(201);

    const after = await waitFor(`up == 0 for ${DOWN_SERVER}`, 20_000, async () => {
      const m = await upByServer();
      return m.get(DOWN_SERVER) === '0' ? m : undefined;
    });
    const downs = [...after].filter(([, v]) => v !== '1').map(([s]) => s);
    expect(downs).toEqual([DOWN_SERVER]);
    const combinedUp = await query('up{job="openmanager-metrics"}');
    expect(combinedUp.map((s) => s.value[1])).toEqual(['1']);
  });
});
