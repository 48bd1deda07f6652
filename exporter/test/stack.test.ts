/**
 * `npm run stack` with the real peers (redis-server, the exporter, Debian's prometheus and
 * prometheus-alertmanager), started as a user starts it — the CLI, in its own process — with short intervals:
 * scrape and rule evaluation every second, Alertmanager's group_wait 1 s and a test copy of the rules whose
 * ServerDown waits 1 s instead of 1 m. It checks that Prometheus scrapes every per-server target and the
 * combined job, loads and evaluates the rule groups, records `up == 0` for a server a server_down scenario
 * takes down and fires ServerDown, that Alertmanager delivers it to a local webhook receiver and that the
 * exporter's own rule manager fires it too; that every query that ships (each dashboard panel, each
 * Grafana-managed alert query) returns data from the data source it names; and that one SIGINT stops every
 * process while a second start reuses the data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DATASOURCE_UIDS } from '../scripts/gen-grafana-alerts.js';
import { REPO_ROOT } from '../scripts/stack/compose.js';
import { missingPackages, type StackUrls } from '../scripts/stack.js';
import { EXPORTER_DIR } from './exporter-process.js';
import { pollUntil } from './poll.js';

const TOKEN = 'stack-test-token';
const DOWN_SERVER = 'db-01';
/** SERVER is the value of the dashboards' `server` variable (a server that stays up). */
const SERVER = 'web-01';
const SERVERS = 20;
/**
 * TICK_SECONDS is the exporter's tick. The simulator's step is the tick, and its first frame replays each
 * server from its last boot (up to 9 days) in steps: 1 s steps cost 15 times npm start's ~1 s, 5 s steps 3.
 */
const TICK_SECONDS = 5;
/** START_TIMEOUT_MS bounds one stack start (no backfill) on a loaded 2-core machine. */
const START_TIMEOUT_MS = 90_000;
/** STOP_TIMEOUT_MS bounds one SIGINT-to-exit (each peer stops within the stack's own 20 s bound). */
const STOP_TIMEOUT_MS = 60_000;

/**
 * EMPTY_WHILE_HEALTHY are alert queries that return series only while their alert fires, with why the stack
 * cannot make them fire here: they are only checked to evaluate without error.
 */
const EMPTY_WHILE_HEALTHY: Readonly<Record<string, string>> = {
  ExporterDown: 'fires only when Prometheus cannot scrape the exporter, which the running stack needs',
};

interface PromResponse<T> {
  status: string;
  data: T;
  error?: string;
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** RunningStack is the stack CLI child with the URLs it printed. */
interface RunningStack {
  child: ChildProcess;
  urls: StackUrls;
  output: () => string;
  exited: Promise<number | null>;
}

function startStack(dataDir: string, rulesGlob: string, env: NodeJS.ProcessEnv): Promise<RunningStack> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/stack.ts',
      ...['--data-dir', dataDir, '--ports', 'free', '--rule-files', rulesGlob],
      ...['--scrape-interval', '1s', '--evaluation-interval', '1s', '--group-wait', '1s'],
      ...['--', '--tick-seconds', String(TICK_SECONDS), '--backfill', '0', '--scenario-rate', '0'],
    ],
    { cwd: EXPORTER_DIR, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stack = (urls: StackUrls): RunningStack => ({ child, urls, output: () => out, exited });
  return pollUntil(
    'the stack to print its URLs',
    () => {
      const m = /^stack: urls (\{.*\})$/m.exec(out);
      return m?.[1] === undefined ? undefined : stack(JSON.parse(m[1]) as StackUrls);
    },
    {
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 100,
      giveUp: () => (child.exitCode === null ? undefined : `the stack exited (${child.exitCode}):\n${out}`),
    },
  ).catch((err: Error) => {
    child.kill('SIGINT');
    throw new Error(`${err.message}\n--- stack output ---\n${out}`);
  });
}

async function stopStack(s: RunningStack): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  s.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the stack did not stop within ${STOP_TIMEOUT_MS} ms`)),
      STOP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([s.exited, bound]);
  } finally {
    clearTimeout(timer);
  }
}

async function get<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as PromResponse<T>;
  if (body.status !== 'success') throw new Error(`${url}: ${JSON.stringify(body).slice(0, 500)}`);
  return body.data;
}

/** instant runs an instant query against a Prometheus API base (`…/api/v1`). */
const instant = async (api: string, q: string, time?: number): Promise<Sample[]> =>
  (
    await get<{ result: Sample[] }>(
      `${api}/query?query=${encodeURIComponent(q)}${time === undefined ? '' : `&time=${time}`}`,
    )
  ).result;

/** interpolate replaces the variables Grafana would before sending a dashboard query. */
function interpolate(expr: string): string {
  return expr
    .replace(/\$\{server\}|\$server\b/g, SERVER)
    .replace(/\$__rate_interval\b|\$\{__rate_interval\}/g, '1m')
    .replace(/\$__interval\b|\$\{__interval\}/g, '15s')
    .replace(/\$__range\b/g, '1h');
}

interface Panel {
  title: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

/** dashboardQueries lists every panel query of the provisioned (plugin) dashboards. */
function dashboardQueries(): Array<[string, string]> {
  const dir = join(REPO_ROOT, 'plugin/src/dashboards');
  const out: Array<[string, string]> = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const walk = (panels: Panel[]): void => {
      for (const p of panels) {
        for (const t of p.targets ?? []) if (t.expr) out.push([`${f} / ${p.title}`, interpolate(t.expr)]);
        walk(p.panels ?? []);
      }
    };
    walk((JSON.parse(readFileSync(join(dir, f), 'utf8')) as { panels?: Panel[] }).panels ?? []);
  }
  return out;
}

interface GrafanaRule {
  title: string;
  data: Array<{ refId: string; datasourceUid: string; model: { expr?: string } }>;
}

/** alertQueries lists every data-source query of the provisioned Grafana-managed rules. */
function alertQueries(): Array<{ rule: string; refId: string; uid: string; expr: string }> {
  const doc = parse(readFileSync(join(REPO_ROOT, 'provisioning/alerting/rules.yml'), 'utf8')) as {
    groups: Array<{ rules: GrafanaRule[] }>;
  };
  return doc.groups.flatMap((g) =>
    g.rules.flatMap((r) =>
      r.data
        .filter((d) => d.model.expr !== undefined)
        .map((d) => ({ rule: r.title, refId: d.refId, uid: d.datasourceUid, expr: d.model.expr ?? '' })),
    ),
  );
}

/** Receiver is the local webhook receiver Alertmanager delivers to. */
class Receiver {
  private constructor(
    private readonly server: Server,
    readonly bodies: Array<{ path: string; body: unknown }>,
  ) {}
  static async start(): Promise<Receiver> {
    const bodies: Array<{ path: string; body: unknown }> = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8').on('data', (d: string) => (raw += d));
      req.on('end', () => {
        bodies.push({ path: req.url ?? '', body: JSON.parse(raw) as unknown });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return new Receiver(server, bodies);
  }
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('npm run stack with the real peers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'om-stack-'));
  const dataDir = join(dir, 'data');
  const rulesDir = join(dir, 'rules');
  let receiver: Receiver;
  let stack: RunningStack | undefined;
  /** firstRunAt is an instant during the first run when every target had been scraped (seconds). */
  let firstRunAt = 0;
  const env = (): NodeJS.ProcessEnv => ({
    API_TOKEN: TOKEN,
    WEBHOOK_URL: `${receiver.url}/webhook`,
    SLACK_WEBHOOK_URL: `${receiver.url}/slack`,
  });
  const promApi = (): string => `${stack?.urls.prometheus}/api/v1`;
  const exporterApi = (): string => `${stack?.urls.exporter}/api/prometheus/api/v1`;

  beforeAll(async () => {
    const missing = missingPackages();
    if (missing.length > 0)
      throw new Error(
        `the stack test needs Debian's ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}`,
      );
    // The test copy of the rules: ServerDown waits 1 s instead of a minute.
    cpSync(join(REPO_ROOT, 'rules'), rulesDir, { recursive: true });
    const file = join(rulesDir, 'service_alerts.yml');
    const doc = parse(readFileSync(file, 'utf8')) as {
      groups: Array<{ rules: Array<Record<string, unknown>> }>;
    };
    for (const g of doc.groups) for (const r of g.rules) if (r.alert === 'ServerDown') r.for = '1s';
    writeFileSync(file, stringify(doc));
    receiver = await Receiver.start();
    stack = await startStack(dataDir, join(rulesDir, '*.yml'), env());
  }, START_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    if (stack) await stopStack(stack).catch(() => stack?.child.kill('SIGKILL'));
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  }, STOP_TIMEOUT_MS + 10_000);

  it('Prometheus scrapes every per-server target and the combined job, and evaluates the rule groups', async () => {
    const up = await pollUntil(
      `up == 1 for the ${SERVERS} per-server targets and the combined job`,
      async () => {
        const r = await instant(promApi(), 'up{job=~"openmanager-servers|openmanager-metrics"}');
        const servers = r.filter((s) => s.metric.job === 'openmanager-servers' && s.value[1] === '1');
        const combined = r.filter((s) => s.metric.job === 'openmanager-metrics' && s.value[1] === '1');
        return servers.length === SERVERS && combined.length === 1 ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(new Set(up.map((s) => s.metric.server).filter(Boolean)).size).toBe(SERVERS);
    // An instant at which both Prometheus and the exporter hold samples of the first run.
    firstRunAt = Date.now() / 1000;
    // Each fleet series once: the per-server job keeps only its own `up`, the combined job has the series.
    const copies = await instant(promApi(), 'count by (server) (openmanager_memory_total_bytes)');
    expect(copies).toHaveLength(SERVERS);
    expect(copies.every((s) => s.value[1] === '1')).toBe(true);

    const groups = await pollUntil(
      'every rule group evaluated, healthy',
      async () => {
        const data = await get<{
          groups: Array<{
            name: string;
            lastEvaluation: string;
            rules: Array<{ health: string; name: string }>;
          }>;
        }>(`${promApi()}/rules`);
        const g = data.groups;
        const done = g.length > 0 && g.every((x) => !x.lastEvaluation.startsWith('0001'));
        return done && g.every((x) => x.rules.every((r) => r.health === 'ok')) ? g : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const shipped = readdirSync(join(REPO_ROOT, 'rules'))
      .filter((f) => f.endsWith('.yml'))
      .flatMap(
        (f) =>
          (parse(readFileSync(join(REPO_ROOT, 'rules', f), 'utf8')) as { groups: Array<{ name: string }> })
            .groups,
      )
      .map((g) => g.name)
      .sort();
    expect(groups.map((g) => g.name).sort()).toEqual(shipped);
  });

  it('server_down: up == 0 for that target, ServerDown fires in Prometheus, Alertmanager and the exporter', async () => {
    const res = await fetch(`${stack?.urls.exporter}/api/scenarios`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ kind: 'server_down', server: DOWN_SERVER, durationSeconds: 600 }),
    });
    expect(res.status).toBe(201);

    const down = await pollUntil(
      `up == 0 for ${DOWN_SERVER}`,
      async () => {
        const r = await instant(promApi(), 'up{job="openmanager-servers"} == 0');
        return r.length > 0 ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(down.map((s) => s.metric.server)).toEqual([DOWN_SERVER]);

    const firing = (alerts: Array<{ labels: Record<string, string>; state: string }>) =>
      alerts.some(
        (a) => a.labels.alertname === 'ServerDown' && a.labels.server === DOWN_SERVER && a.state === 'firing',
      );
    await pollUntil(
      'ServerDown firing in Prometheus',
      async () =>
        firing(
          (
            await get<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>(
              `${promApi()}/alerts`,
            )
          ).alerts,
        ),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    await pollUntil(
      'ServerDown firing in the exporter rule manager',
      async () =>
        firing(
          (
            await get<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>(
              `${exporterApi()}/alerts`,
            )
          ).alerts,
        ),
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const delivered = await pollUntil(
      'Alertmanager to deliver ServerDown to the webhook and, critical, to Slack',
      () => {
        const hook = receiver.bodies.find(
          (b) =>
            b.path === '/webhook' &&
            (b.body as { alerts: Array<{ labels: Record<string, string> }> }).alerts.some(
              (a) => a.labels.alertname === 'ServerDown' && a.labels.server === DOWN_SERVER,
            ),
        );
        const slack = receiver.bodies.find(
          (b) => b.path === '/slack' && JSON.stringify(b.body).includes('ServerDown'),
        );
        return hook && slack ? hook : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const body = delivered.body as {
      status: string;
      groupLabels: Record<string, string>;
      alerts: Array<{ labels: Record<string, string> }>;
    };
    expect(body.status).toBe('firing');
    expect(body.groupLabels).toEqual({ alertname: 'ServerDown', server: DOWN_SERVER });
    // Prometheus's external labels ride along with the alert.
    expect(body.alerts[0]?.labels).toMatchObject({
      cluster: 'openmanager',
      environment: 'demo',
      severity: 'critical',
    });
  });

  it('every dashboard panel query returns data from the exporter and from Prometheus', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    const empty: string[] = [];
    for (const [where, q] of queries) {
      for (const [source, api] of [
        ['OpenManager', exporterApi()],
        ['Prometheus', promApi()],
      ] as const) {
        const r = await instant(api, q);
        if (r.length === 0) empty.push(`${source}: ${where}: ${q}`);
      }
    }
    expect(empty).toEqual([]);
  });

  it('every Grafana-managed alert query returns data from the data source it names', async () => {
    const apis: Record<string, string> = {
      [DATASOURCE_UIDS.exporter]: exporterApi(),
      [DATASOURCE_UIDS.prometheus]: promApi(),
    };
    const empty: string[] = [];
    for (const q of alertQueries()) {
      const api = apis[q.uid];
      if (api === undefined) throw new Error(`${q.rule}: data source ${q.uid} is not one of the stack's`);
      // Recording rules need a few evaluations before rate windows hold two samples.
      const r = await pollUntil(`${q.rule} ${q.refId} to evaluate`, () => instant(api, q.expr), {
        timeoutMs: 10_000,
      });
      if (r.length === 0 && EMPTY_WHILE_HEALTHY[q.rule] === undefined)
        empty.push(`${q.rule} ${q.refId} (${q.uid}): ${q.expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('one SIGINT stops every process; a second start reuses the data', async () => {
    if (!stack) throw new Error('no stack');
    const first = stack.urls;
    expect(await stopStack(stack)).toBe(0);
    expect(stack.output()).toContain('stack: stopped');
    for (const url of [
      `${first.exporter}/readyz`,
      `${first.prometheus}/-/ready`,
      `${first.alertmanager}/-/ready`,
    ]) {
      await expect(fetch(url, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    }

    stack = await startStack(dataDir, join(rulesDir, '*.yml'), env());
    // Samples scraped and stored during the first run are still there, in Prometheus and in the exporter's
    // Redis (its append-only file).
    const at = firstRunAt;
    expect(await instant(promApi(), `up{job="openmanager-servers",server="${SERVER}"}`, at)).toHaveLength(1);
    expect(
      await instant(exporterApi(), `openmanager_memory_usage_percent{server="${SERVER}"}`, at),
    ).toHaveLength(1);
  });
});
