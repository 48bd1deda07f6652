/**
 * The foundation benchmark (`npm run bench -w exporter`, issue 2 requirement 10). Prints a table, then one
 * JSON line with: scrape_ms_p50_20, scrape_ms_p50_1000 (HTTP GET of the cached combined body between ticks),
 * naive_registry_ms_p50_1000 (a plain prom-client Registry holding the same series, `registry.metrics()`,
 * same run), tick_ms_1000 and tick_ms_10000 (frameAt + exposition update, p50 of warm ticks), rss_mb_20
 * (VmRSS of a real exporter process started by package.json's own `prestart` and `start` scripts, as
 * `npm start` runs them, at 20 servers, after warm-up scrapes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { ExporterProcess } from '../test/exporter-process.js';
import { createApp } from '../src/app.js';
import { FleetExposition } from '../src/metrics/fleet-exposition.js';
import { createSelfRegistry } from '../src/metrics/self-metrics.js';
import { DEFAULT_OPTIONS } from '../src/options.js';
import { Fleet, defaultFleet, generateFleet } from '../src/simulator/index.js';
import type { FleetFrame, FleetLayout } from '../src/simulator/types.js';
import { ManualClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/logger.js';

const EXPORTER_DIR = fileURLToPath(new URL('..', import.meta.url));

const TICK_MS = 15_000;
const START = Date.UTC(2026, 10, 26, 0, 0, 0);

const p50 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
};
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

function makeFleet(servers: number): Fleet {
  // A recent epoch keeps the first frame from replaying days of history (the steady state is what we time).
  return new Fleet({
    servers: servers === 20 ? defaultFleet() : generateFleet(servers, 1),
    seed: 42,
    scenarioRatePerHour: 3,
    epoch: START - 3_600_000,
  });
}

interface TickTimes {
  /** ms is the whole tick: fleet.frameAt + exposition.update (which renders the combined text body). */
  readonly ms: number[];
  readonly frameMs: number[];
  readonly renderMs: number[];
  readonly frame: FleetFrame;
}

/** tickTimes times `n` warm ticks (the first two, which replay the model from its last boot, are not timed). */
function tickTimes(fleet: Fleet, n: number): TickTimes {
  const exposition = new FleetExposition(fleet.layout);
  let frame = fleet.frameAt(START);
  exposition.update(frame);
  frame = fleet.frameAt(START + TICK_MS);
  exposition.update(frame);
  const ms: number[] = [];
  const frameMs: number[] = [];
  const renderMs: number[] = [];
  for (let i = 2; i < n + 2; i++) {
    const t0 = performance.now();
    frame = fleet.frameAt(START + i * TICK_MS);
    const t1 = performance.now();
    exposition.update(frame);
    const t2 = performance.now();
    ms.push(t2 - t0);
    frameMs.push(t1 - t0);
    renderMs.push(t2 - t1);
  }
  return { ms, frameMs, renderMs, frame };
}

/** naiveRegistry fills a prom-client Registry with the same series (one metric per sample name). */
function naiveRegistry(layout: FleetLayout, frame: FleetFrame): Registry {
  const registry = new Registry();
  const metrics = new Map<string, Gauge | Counter>();
  layout.series.forEach((s, k) => {
    const name = s.labels.__name__ ?? '';
    const { __name__: _n, ...labels } = s.labels;
    let m = metrics.get(name);
    if (!m) {
      const fam = layout.families[s.family];
      const opts = { name, help: fam?.help ?? name, labelNames: Object.keys(labels), registers: [registry] };
      m = fam?.type === 'counter' ? new Counter(opts) : new Gauge(opts);
      metrics.set(name, m);
    }
    if (!frame.summaries[s.server]?.up) return;
    const v = frame.values[k] ?? 0;
    if (m instanceof Counter) m.inc(labels, v);
    else m.set(labels, v);
  });
  return registry;
}

async function naiveTimes(registry: Registry, n: number): Promise<number[]> {
  await registry.metrics(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await registry.metrics();
    ms.push(performance.now() - t0);
  }
  return ms;
}

function httpGet(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** scrapeTimes serves `servers` from an in-process app and times HTTP scrapes of the cached combined body. */
async function scrapeTimes(servers: number, n: number): Promise<{ ms: number[]; bytes: number }> {
  const clock = new ManualClock(START);
  const dir = mkdtempSync(join(tmpdir(), 'om-bench-'));
  const app = createApp({
    options: { ...DEFAULT_OPTIONS, port: 0, dataDir: dir },
    logger: silentLogger(),
    registry: createSelfRegistry(),
    fleet: makeFleet(servers),
    clock,
    wallClock: clock,
    journal: null,
  });
  await app.start({ schedule: false });
  await app.tick();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = `${app.url}/api/prometheus/metrics`;
  let bytes = await httpGet(url, agent);
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    bytes = await httpGet(url, agent);
    ms.push(performance.now() - t0);
  }
  agent.destroy();
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
  return { ms, bytes };
}

/** ExporterRss is what exporterRss reads from /proc, in MB. */
interface ExporterRss {
  /** warm is VmRSS after the warm-up scrapes of every scrape endpoint. */
  readonly warm: number;
  /** queried is VmRSS after one instant and one range PromQL query (the engine parses, evaluates and caches). */
  readonly queried: number;
}

const readRssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

/**
 * exporterRss starts a real exporter process — `bundle` runs package.json's start script exactly as `npm start`
 * does, `tsx` the sources — with `backfill` (default none, 1 s ticks), waits until it is ready (a backfill
 * done) and then `settleMs`, scrapes every endpoint for a few ticks, and reads its VmRSS from /proc; then once
 * more after a PromQL query.
 */
async function exporterRss(entry: 'bundle' | 'tsx', backfill = '0', settleMs = 0): Promise<ExporterRss> {
  const child = await ExporterProcess.start({
    entry,
    backfill,
    tickSeconds: backfill === '0' ? 1 : 15,
    startupTimeoutMs: 300_000,
    rssLimitMb: 0,
  });
  try {
    const url = child.url;
    const agent = new Agent({ keepAlive: true });
    await new Promise((r) => setTimeout(r, settleMs));
    for (let i = 0; i < 10; i++) {
      for (const path of [
        '/metrics',
        '/api/prometheus/metrics',
        '/probe?target=web-01',
        '/api/unified-metrics',
      ]) {
        await httpGet(url + path, agent);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    const warm = readRssMb(child.pid);
    const now = Date.now() / 1000;
    const q = encodeURIComponent('sum by (server) (rate(openmanager_network_receive_bytes_total[1m]))');
    await httpGet(`${url}/api/prometheus/api/v1/query?query=up`, agent);
    await httpGet(
      `${url}/api/prometheus/api/v1/query_range?query=${q}&start=${now - 60}&end=${now}&step=5`,
      agent,
    );
    await new Promise((r) => setTimeout(r, 300));
    const queried = readRssMb(child.pid);
    agent.destroy();
    return { warm, queried };
  } finally {
    await child.stop();
  }
}

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  const tickRows = (label: string, t: TickTimes): void => {
    rows.push([`tick p50, ${label} (ms)`, round(p50(t.ms)).toString()]);
    rows.push([
      `  of which frameAt / render, p50 (ms)`,
      `${round(p50(t.frameMs))} / ${round(p50(t.renderMs))}`,
    ]);
    // The minimum shows the code's own cost when the machine is shared (other processes only ever add time).
    rows.push([
      `  min tick / frameAt / render (ms)`,
      [t.ms, t.frameMs, t.renderMs].map((x) => round(Math.min(...x))).join(' / '),
    ]);
  };
  const f20 = makeFleet(20);
  tickRows('20 servers', tickTimes(f20, 10));

  const f1000 = makeFleet(1000);
  const t1000 = tickTimes(f1000, 8);
  tickRows('1,000 servers', t1000);
  rows.push(['series at 1,000 servers', String(f1000.layout.series.length)]);
  const naive = await naiveTimes(naiveRegistry(f1000.layout, t1000.frame), 7);
  rows.push(['naive prom-client registry.metrics() p50, 1,000 servers (ms)', round(p50(naive)).toString()]);

  const s20 = await scrapeTimes(20, 200);
  rows.push(['cached scrape p50 over HTTP, 20 servers (ms)', round(p50(s20.ms), 3).toString()]);
  rows.push(['body size, 20 servers (bytes)', String(s20.bytes)]);
  const s1000 = await scrapeTimes(1000, 40);
  rows.push(['cached scrape p50 over HTTP, 1,000 servers (ms)', round(p50(s1000.ms), 3).toString()]);
  rows.push(['body size, 1,000 servers (bytes)', String(s1000.bytes)]);
  rows.push(['naive / cached at 1,000 servers', `${round(p50(naive) / p50(s1000.ms), 1)}×`]);

  const f10000 = makeFleet(10_000);
  const t10000 = tickTimes(f10000, 4);
  tickRows('10,000 servers', t10000);

  // rss_mb_20 is measured the way `npm start` runs the exporter: package.json's prestart (the esbuild bundle)
  // and start scripts, read from the file so the bench follows them. `npm run dev` (tsx) is shown beside it.
  const scripts = (
    JSON.parse(readFileSync(join(EXPORTER_DIR, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  const prestart = spawnSync('npm', ['run', 'prestart'], { cwd: EXPORTER_DIR, stdio: 'inherit' });
  if (prestart.status !== 0) throw new Error(`prestart failed: ${scripts.prestart}`);
  const rssStart = await exporterRss('bundle');
  rows.push(['npm start', scripts.start ?? '']);
  rows.push(['exporter RSS at 20 servers, npm start (MB)', round(rssStart.warm, 1).toString()]);
  rows.push(['  after its first PromQL queries (MB)', round(rssStart.queried, 1).toString()]);
  // The same after a day of history at the default 15 s tick (npm start's first run backfills 7 d).
  // Read 10 s after it is ready: the backfill's dropped batch buffers are garbage until the next full GC.
  const rssDay = await exporterRss('bundle', '1d', 10_000);
  rows.push([
    'exporter RSS at 20 servers 10 s after a 1 d backfill, npm start (MB)',
    round(rssDay.warm, 1).toString(),
  ]);
  const rssDev = await exporterRss('tsx');
  rows.push([
    'exporter RSS at 20 servers, node --import tsx src/main.ts (MB)',
    round(rssDev.warm, 1).toString(),
  ]);
  const rss = rssStart.warm;

  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n');
  process.stdout.write(
    JSON.stringify({
      scrape_ms_p50_20: round(p50(s20.ms), 3),
      scrape_ms_p50_1000: round(p50(s1000.ms), 3),
      naive_registry_ms_p50_1000: round(p50(naive)),
      tick_ms_1000: round(p50(t1000.ms)),
      tick_ms_10000: round(p50(t10000.ms)),
      rss_mb_20: round(rss, 1),
    }) + '\n',
  );
}

await main();
