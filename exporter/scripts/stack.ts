/**
 * `npm run stack`: the docker-compose.yml topology without Docker — redis-server, the exporter (npm start's
 * bundle), Debian's prometheus and prometheus-alertmanager — as child processes of this script, from the same
 * config files the containers mount (rendered by ./stack/render.ts into the data directory), every one on
 * 127.0.0.1. It waits until each is ready, prints where they listen and how to point a local Grafana at the
 * provisioning, and stops them all on one Ctrl-C. Data lives in `./data/stack` (the compose file's named
 * volumes as folders), so a second start reuses it.
 *
 *   npm run stack [-- --data-dir DIR --ports default|free --scrape-interval 1s --evaluation-interval 1s
 *                     --rule-files GLOB,... --group-wait 1s --remote-write -- <exporter flags>]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseDuration } from '../src/util/duration.js';
import { hostPath, readCompose, REPO_ROOT, service, type ComposeService } from './stack/compose.js';
import { NotificationSink } from './stack/notification-sink.js';
import { findBinary, httpOk, PeerProcess, redisPong, waitFor } from './stack/peer-process.js';
import { renderAlertmanager, renderPrometheus, renderProvisioning, type AddressMap } from './stack/render.js';

/** EXPORTER_DIR is the exporter workspace. */
const EXPORTER_DIR = fileURLToPath(new URL('..', import.meta.url));

/** PLUGIN_ID is the app plugin's id (plugin/src/plugin.json), the folder name Grafana expects. */
const PLUGIN_ID = 'openmanager-fleet-app';

/** PEERS are the Debian packages the stack runs, with the binary each provides. */
export const PEERS = [
  { binary: 'redis-server', pkg: 'redis-server' },
  { binary: 'prometheus', pkg: 'prometheus' },
  { binary: 'prometheus-alertmanager', pkg: 'prometheus-alertmanager' },
] as const;

/**
 * DEFAULT_PORTS are the compose file's published ports (Grafana's excepted: it is not started here); Redis
 * gets 6380 because a machine with a Redis of its own has 6379 taken. A port in use falls back to a free one.
 */
const DEFAULT_PORTS = {
  exporter: 3001,
  prometheus: 9090,
  alertmanager: 9093,
  redis: 6380,
  sink: 9095,
} as const;

/** READY_TIMEOUT_MS bounds each peer's start; the exporter's first start backfills history (7 days by default). */
const READY_TIMEOUT_MS = { redis: 30_000, exporter: 15 * 60_000, alertmanager: 60_000, prometheus: 60_000 };

/** missingPackages returns the apt packages whose binaries are not on `path`. */
export function missingPackages(path = process.env.PATH ?? ''): string[] {
  return [...new Set(PEERS.filter((p) => findBinary(p.binary, path) === undefined).map((p) => p.pkg))];
}

/** StackOptions configure one stack; the defaults are a user's `npm run stack`. */
export interface StackOptions {
  readonly dataDir: string;
  readonly ports: 'default' | 'free';
  readonly scrapeIntervalMs?: number;
  readonly evaluationIntervalMs?: number;
  /** ruleFiles replaces the rules for both Prometheus and the exporter (globs; a test copy with short `for`s). */
  readonly ruleFiles?: readonly string[];
  readonly groupWaitMs?: number;
  readonly remoteWrite: boolean;
  /** exporterArgs are extra exporter flags (they win over the stack's env vars). */
  readonly exporterArgs: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/** StackUrls is where each part listens (printed, and the last line's JSON). */
export interface StackUrls {
  readonly exporter: string;
  readonly prometheus: string;
  readonly alertmanager: string;
  readonly redis: string;
  /** sink is the notification stand-in's URL, or undefined when both receivers' URLs were given. */
  readonly sink: string | undefined;
  readonly provisioning: string;
  readonly dataDir: string;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
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

/** mapArgs maps `--flag=/container/path` arguments of a compose command to host paths through its mounts. */
function mapArgs(svc: ComposeService, args: readonly string[], replace: Record<string, string>): string[] {
  return args.map((a) => {
    const m = /^(--[\w.-]+=)(\/.*)$/.exec(a);
    if (!m?.[1] || !m[2]) return a;
    return m[1] + (replace[m[2]] ?? hostPath(svc, m[2]) ?? m[2]);
  });
}

/** Stack is one running Docker-free stack. */
export class Stack {
  private readonly peers: PeerProcess[] = [];
  private sink: NotificationSink | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly options: StackOptions,
    private readonly print: (line: string) => void = (l) => console.log(l),
  ) {}

  /** start starts every peer in dependency order, each awaited ready; on a failure it stops what it started. */
  async start(): Promise<StackUrls> {
    try {
      return await this.startAll();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async port(name: keyof typeof DEFAULT_PORTS): Promise<number> {
    const preferred = DEFAULT_PORTS[name];
    if (this.options.ports === 'default' && (await portFree(preferred))) return preferred;
    return freePort();
  }

  private spawn(
    name: string,
    command: string,
    args: readonly string[],
    cwd?: string,
    env?: NodeJS.ProcessEnv,
  ) {
    const logFile = join(this.options.dataDir, 'logs', `${name}.log`);
    const p = PeerProcess.start({ name, command, args, cwd, env, logFile });
    this.peers.push(p);
    return p;
  }

  private async startAll(): Promise<StackUrls> {
    const missing = missingPackages(this.options.env.PATH);
    if (missing.length > 0)
      throw new Error(
        `npm run stack runs Debian's packages, and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} ` +
          `missing. Install with:\n  sudo apt-get install -y ${missing.join(' ')}`,
      );
    const dataDir = this.options.dataDir;
    const volumes = join(dataDir, 'volumes');
    const rendered = join(dataDir, 'config');
    for (const d of [volumes, rendered, join(dataDir, 'logs')]) mkdirSync(d, { recursive: true });
    const services = readCompose(volumes);
    const [redisSvc, exporterSvc, promSvc, amSvc, grafanaSvc] = (
      ['redis', 'exporter', 'prometheus', 'alertmanager', 'grafana'] as const
    ).map((n) => service(services, n)) as [
      ComposeService,
      ComposeService,
      ComposeService,
      ComposeService,
      ComposeService,
    ];
    for (const s of services.values())
      for (const m of s.mounts) if (m.volume !== undefined) mkdirSync(m.host, { recursive: true });

    const ports = {
      redis: await this.port('redis'),
      exporter: await this.port('exporter'),
      alertmanager: await this.port('alertmanager'),
      prometheus: await this.port('prometheus'),
    };
    const local = (p: number): string => `127.0.0.1:${p}`;
    const addresses: AddressMap = new Map([
      [`exporter:${exporterSvc.containerPort}`, local(ports.exporter)],
      [`prometheus:${promSvc.containerPort}`, local(ports.prometheus)],
      [`alertmanager:${amSvc.containerPort}`, local(ports.alertmanager)],
      [`redis:6379`, local(ports.redis)],
    ]);
    const urls = {
      exporter: `http://${local(ports.exporter)}`,
      prometheus: `http://${local(ports.prometheus)}`,
      alertmanager: `http://${local(ports.alertmanager)}`,
      redis: `redis://${local(ports.redis)}`,
    };

    // Redis: the compose command (append-only file on) plus where to listen and keep its files.
    const [redisBin = 'redis-server', ...redisArgs] = redisSvc.command;
    const redisDir = hostPath(redisSvc, '/data') ?? join(volumes, 'redis-data');
    const redis = this.spawn('redis', redisBin, [
      ...redisArgs,
      ...['--bind', '127.0.0.1', '--port', String(ports.redis), '--dir', redisDir, '--daemonize', 'no'],
    ]);
    this.print(`stack: redis-server on ${urls.redis}`);
    await waitFor('redis-server', redis, () => redisPong('127.0.0.1', ports.redis), READY_TIMEOUT_MS.redis);

    // The exporter: npm start's bundle and node flags, the compose service's literal settings.
    this.print(`stack: exporter on ${urls.exporter} (waiting for /readyz: a first start backfills history)`);
    const exporter = this.startExporter(exporterSvc, promSvc, ports.exporter, urls.redis);
    await waitFor(
      'the exporter',
      exporter,
      () => httpOk(`${urls.exporter}/readyz`),
      READY_TIMEOUT_MS.exporter,
      500,
    );

    // Alertmanager: receivers without a URL deliver to the printing stand-in.
    const env = this.options.env;
    let receivers = { WEBHOOK_URL: env.WEBHOOK_URL, SLACK_WEBHOOK_URL: env.SLACK_WEBHOOK_URL };
    if (!receivers.WEBHOOK_URL || !receivers.SLACK_WEBHOOK_URL) {
      this.sink = await NotificationSink.start(
        this.options.ports === 'default' && (await portFree(DEFAULT_PORTS.sink)) ? DEFAULT_PORTS.sink : 0,
        (line) => this.print(`notification: ${line}`),
      );
      receivers = {
        WEBHOOK_URL: receivers.WEBHOOK_URL || `${this.sink.url}/webhook`,
        SLACK_WEBHOOK_URL: receivers.SLACK_WEBHOOK_URL || `${this.sink.url}/slack`,
      };
    }
    const amConfig = join(rendered, 'alertmanager.yml');
    const amSource = hostPath(amSvc, '/etc/alertmanager/alertmanager.yml');
    if (amSource === undefined)
      throw new Error('docker-compose.yml mounts no /etc/alertmanager/alertmanager.yml');
    writeFileSync(
      amConfig,
      renderAlertmanager(readFileSync(amSource, 'utf8'), receivers, {
        groupWaitMs: this.options.groupWaitMs,
      }),
      { mode: 0o600 },
    );
    const alertmanager = this.spawn('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${amConfig}`,
      ...mapArgs(amSvc, amSvc.command, {}),
      `--web.listen-address=${local(ports.alertmanager)}`,
    ]);
    await waitFor(
      'Alertmanager',
      alertmanager,
      () => httpOk(`${urls.alertmanager}/-/ready`),
      READY_TIMEOUT_MS.alertmanager,
    );

    // Prometheus: prometheus.yml with local addresses and paths.
    const promSource = hostPath(promSvc, '/etc/prometheus/prometheus.yml');
    if (promSource === undefined)
      throw new Error('docker-compose.yml mounts no /etc/prometheus/prometheus.yml');
    const promConfig = join(rendered, 'prometheus.yml');
    writeFileSync(
      promConfig,
      renderPrometheus(readFileSync(promSource, 'utf8'), promSvc, addresses, {
        scrapeIntervalMs: this.options.scrapeIntervalMs,
        evaluationIntervalMs: this.options.evaluationIntervalMs,
        ruleFiles: this.options.ruleFiles,
        remoteWrite: this.options.remoteWrite,
      }),
    );
    const prometheus = this.spawn('prometheus', 'prometheus', [
      ...mapArgs(promSvc, promSvc.command, { '/etc/prometheus/prometheus.yml': promConfig }),
      `--web.listen-address=${local(ports.prometheus)}`,
    ]);
    await waitFor(
      'Prometheus',
      prometheus,
      () => httpOk(`${urls.prometheus}/-/ready`),
      READY_TIMEOUT_MS.prometheus,
    );

    const provisioning = this.renderGrafana(grafanaSvc, urls.exporter, urls.prometheus, ports.exporter);
    this.watchForCrashes();
    return { ...urls, sink: this.sink?.url, provisioning, dataDir };
  }

  private startExporter(
    exporterSvc: ComposeService,
    promSvc: ComposeService,
    port: number,
    redisUrl: string,
  ): PeerProcess {
    const bundle = join(EXPORTER_DIR, 'scripts/bundle.ts');
    execFileSync(process.execPath, ['--import', 'tsx', bundle], { cwd: EXPORTER_DIR, stdio: 'inherit' });
    const pkg = JSON.parse(readFileSync(join(EXPORTER_DIR, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const startScript = pkg.scripts.start;
    if (startScript === undefined) throw new Error('exporter/package.json has no start script');
    const tokenFile = join(this.options.dataDir, 'api-token');
    let token = this.options.env.API_TOKEN;
    if (!token) {
      if (!existsSync(tokenFile)) writeFileSync(tokenFile, randomBytes(24).toString('hex'), { mode: 0o600 });
      token = readFileSync(tokenFile, 'utf8').trim();
    }
    // The compose service's literal settings (EXTERNAL_LABELS …); those that name a place are set here.
    const literal = Object.fromEntries(
      Object.entries(exporterSvc.environment).filter(([, v]) => !v.includes('${')),
    );
    const promGlobal = (
      parse(readFileSync(hostPath(promSvc, '/etc/prometheus/prometheus.yml') ?? '', 'utf8')) as {
        global?: { external_labels?: Record<string, string> };
      }
    ).global;
    const env: NodeJS.ProcessEnv = {
      ...this.options.env,
      ...literal,
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: redisUrl,
      DATA_DIR: hostPath(exporterSvc, '/data') ?? join(this.options.dataDir, 'volumes', 'exporter-data'),
      API_TOKEN: token,
      // The exporter's rule templates see the same external labels as Prometheus's.
      EXTERNAL_LABELS: Object.entries(promGlobal?.external_labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
      ...(this.options.ruleFiles ? { RULE_FILES: this.options.ruleFiles.join(',') } : {}),
      ...(this.options.evaluationIntervalMs !== undefined
        ? { EVALUATION_INTERVAL: `${this.options.evaluationIntervalMs}ms` }
        : {}),
    };
    return this.spawn(
      'exporter',
      'sh',
      ['-c', `exec ${startScript} "$@"`, 'sh', ...this.options.exporterArgs],
      EXPORTER_DIR,
      env,
    );
  }

  /** renderGrafana writes the provisioning for a local Grafana and links the built plugin beside it. */
  private renderGrafana(grafana: ComposeService, exporterUrl: string, promUrl: string, exporterPort: number) {
    const out = join(this.options.dataDir, 'grafana', 'provisioning');
    rmSync(out, { recursive: true, force: true });
    const provisioningSrc = hostPath(grafana, '/etc/grafana/provisioning');
    if (provisioningSrc === undefined)
      throw new Error('docker-compose.yml mounts no /etc/grafana/provisioning');
    renderProvisioning(provisioningSrc, out, grafana, {
      OPENMANAGER_EXPORTER_URL: exporterUrl,
      OPENMANAGER_PROMETHEUS_URL: promUrl,
      OPENMANAGER_LIVE_URL: `ws://127.0.0.1:${exporterPort}/ws`,
    });
    const plugins = join(this.options.dataDir, 'grafana', 'plugins');
    const link = join(plugins, PLUGIN_ID);
    const dist = hostPath(grafana, `/var/lib/grafana/plugins/${PLUGIN_ID}`);
    mkdirSync(plugins, { recursive: true });
    if (dist !== undefined) {
      // Again on every start: the link may dangle (plugin not built yet) or point at an old checkout.
      rmSync(link, { force: true });
      symlinkSync(dist, link, 'dir');
      if (!existsSync(dist))
        this.print(`stack: ${dist} is missing: build the plugin with npm run build -w plugin`);
    }
    return out;
  }

  /** watchForCrashes stops the whole stack when one peer exits on its own, saying which and why. */
  private watchForCrashes(): void {
    for (const p of this.peers) {
      void p.exited.then(() => {
        if (this.stopping) return;
        this.print(`stack: ${p.describe()}`);
        this.print('stack: stopping everything');
        void this.stop().then(() => process.exit(1));
      });
    }
  }

  /** stop stops the peers in reverse start order (Prometheus first, Redis last), each bounded. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const p of [...this.peers].reverse()) await p.stop();
      await this.sink?.close();
    })();
    return this.stopping;
  }

  /** kill ends every peer at once (a second Ctrl-C). */
  kill(): void {
    for (const p of this.peers) p.killNow();
  }
}

function durationMs(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new Error(`--${flag} takes a duration such as 1s or 15s, not "${value}"`);
  return ms;
}

/** parseStackArgs reads the command line (`--` separates the exporter's own flags). */
export function parseStackArgs(argv: readonly string[], env: NodeJS.ProcessEnv): StackOptions {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const { values } = parseArgs({
    args: [...own],
    options: {
      'data-dir': { type: 'string' },
      ports: { type: 'string' },
      'scrape-interval': { type: 'string' },
      'evaluation-interval': { type: 'string' },
      'rule-files': { type: 'string' },
      'group-wait': { type: 'string' },
      'remote-write': { type: 'boolean' },
    },
    strict: true,
  });
  // npm runs scripts in the workspace folder; paths on the command line are relative to where npm was run.
  const base = env.INIT_CWD ?? process.cwd();
  const ports = values.ports ?? 'default';
  if (ports !== 'default' && ports !== 'free')
    throw new Error(`--ports takes default or free, not "${ports}"`);
  return {
    dataDir: values['data-dir'] ? resolve(base, values['data-dir']) : join(REPO_ROOT, 'data', 'stack'),
    ports,
    scrapeIntervalMs: durationMs('scrape-interval', values['scrape-interval']),
    evaluationIntervalMs: durationMs('evaluation-interval', values['evaluation-interval']),
    ruleFiles: values['rule-files']
      ?.split(',')
      .filter((f) => f !== '')
      .map((f) => resolve(base, f)),
    groupWaitMs: durationMs('group-wait', values['group-wait']),
    remoteWrite: values['remote-write'] === true,
    exporterArgs: dash < 0 ? [] : argv.slice(dash + 1),
    env,
  };
}

/** describeStack is what a user reads once the stack is up. */
function describeStack(urls: StackUrls, startedMs: number): string {
  const rel = (p: string): string => {
    const r = relative(process.env.INIT_CWD ?? process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  const grafanaDir = resolve(urls.provisioning, '..');
  return [
    `stack: ready in ${(startedMs / 1000).toFixed(1)} s; data in ${rel(urls.dataDir)} (kept for the next start)`,
    `  exporter      ${urls.exporter}   (API token: $API_TOKEN or ${rel(join(urls.dataDir, 'api-token'))})`,
    `  prometheus    ${urls.prometheus}`,
    `  alertmanager  ${urls.alertmanager}`,
    `  redis         ${urls.redis}`,
    ...(urls.sink
      ? [`  notifications ${urls.sink} (printed here; set WEBHOOK_URL / SLACK_WEBHOOK_URL to deliver)`]
      : []),
    `  logs          ${rel(join(urls.dataDir, 'logs'))}/`,
    `  grafana provisioning: ${rel(urls.provisioning)}`,
    `    for a local Grafana 12 (plugin built with npm run build -w plugin):`,
    `    GF_PATHS_PROVISIONING=${urls.provisioning} GF_PATHS_PLUGINS=${join(grafanaDir, 'plugins')} \\`,
    `    GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=${PLUGIN_ID} API_TOKEN=… WEBHOOK_URL=… SLACK_WEBHOOK_URL=… grafana server`,
    'Ctrl-C stops everything.',
  ].join('\n');
}

async function main(): Promise<void> {
  let options: StackOptions;
  try {
    options = parseStackArgs(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`stack: ${(err as Error).message}`);
    process.exit(2);
  }
  const stack = new Stack(options);
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts > 1) {
      console.log('stack: killing everything now');
      stack.kill();
      return;
    }
    console.log('stack: stopping (Ctrl-C again to kill at once)');
    void stack.stop().then(() => {
      console.log('stack: stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  console.log(`stack: starting in ${options.dataDir}`);
  try {
    const urls = await stack.start();
    console.log(describeStack(urls, Date.now() - started));
    console.log(`stack: urls ${JSON.stringify(urls)}`);
  } catch (err) {
    console.error(`stack: ${(err as Error).message}`);
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main();
