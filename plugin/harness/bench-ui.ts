/**
 * `npm run bench:ui`: how fast the app's pages load and apply live updates, in Chromium (the harness's production
 * React build) against real exporters started here. Four figures:
 *
 * - `update_ms_p95_200`: the Fleet page applying one live update with 200 servers (exporter broadcasting every
 *   BROADCAST_S): hub message → React commit, timed in the page with User Timing (src/utils/perf.ts).
 * - `fleet_first_render_ms_p50_200`: navigation inside the loaded app to the Fleet page's first full render with
 *   200 servers (every tile with live values and its CPU sparkline).
 * - `server_page_load_ms_p50`: navigation inside the loaded app to every chart of the Server page drawn with data
 *   (20 servers, an hour of history) — the seed's dashboard-load figure.
 * - `alerts_update_ms_p95_1000`: the Alerts page applying one live update with 1,000 active alerts (a bench rule
 *   file: 1,000 steady alerts and one that flips every second, so each update carries the full list).
 *
 * Page loads are timed as Grafana users meet them: Grafana and the plugin are loaded, and a click in the menu
 * navigates (here `locationService.push` from a blank page outside the app, so each load mounts its page afresh,
 * its queries and hub connection included). A cold document load (bundle download and parse) is printed for
 * reference. Prints a table per figure and, last, one JSON line with the four figures. Targets: page loads
 * ≤ 600 ms, updates ≤ 50 ms.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Page } from 'playwright-core';

import { testIds } from '../src/components/testIds';
import { chartSpecs } from '../src/pages/Server/charts';
import { ALERTS_UPDATE_MEASURE, CHART_DRAWN_MARK, FLEET_RENDER_MARKS, FLEET_UPDATE_MEASURE } from '../src/utils/perf';
import { launchBrowser } from './browser';
import { startExporter, type RunningExporter } from './exporter';
import { exporterSettings, startHarnessServer, type HarnessServer } from './server';

/** SERVERS is the large fleet the Fleet and Alerts figures are named after; SMALL_FLEET the seed's 20. */
const SERVERS = 200;
const SMALL_FLEET = 20;
/** BROADCAST_S, and TICK_S shorter than it, make every broadcast carry new values (the worst case: most tiles change). */
const BROADCAST_S = 0.25;
const TICK_S = 0.1;
/** WARMUP and SAMPLES: the first updates include lazy chunk and JIT warm-up, then SAMPLES are kept. */
const WARMUP = 10;
const SAMPLES = 100;
/** LOADS is how many page loads each load figure takes its median over (after one warm-up load). */
const LOADS = 10;
/** ALERTS is the alert count the alerts figure is named after; ALERT_SAMPLES the updates it keeps (one a second). */
const ALERTS = 1000;
const ALERT_WARMUP = 3;
const ALERT_SAMPLES = 40;
const ALERTS_TICK_S = 1;
/** TARGETS_MS are the targets: page loads within half the seed's 1.2 s, updates within 50 ms. */
const TARGETS_MS = { load: 600, update: 50 };
const APP = '/a/openmanager-fleet-app';
const BLANK = '/harness/blank';
const sel = (id: string) => `[data-testid="${id}"]`;

/**
 * BENCH_RULES are the alerts figure's rules: the first 1,000 per-core CPU series (a stable set: every value is
 * multiplied by 0 and topk keeps the first of equal values) fire steadily, and BenchFlap fires for two seconds and
 * resolves for two, so the hub sends `alerts` events every couple of seconds, each carrying all active alerts.
 * The rule manager evaluates as frames arrive, so the exporter ticks every ALERTS_TICK_S.
 */
const BENCH_RULES = `groups:
  - name: bench-bulk
    interval: 5s
    rules:
      - alert: BenchCoreBusy
        expr: openmanager_cpu_usage_percent and on (server, core) topk(${ALERTS}, 0 * openmanager_cpu_usage_percent)
        labels: { severity: info }
        annotations: { summary: 'core {{ $labels.core }} of {{ $labels.server }} at {{ $value }} %' }
  - name: bench-flap
    interval: 1s
    rules:
      - alert: BenchFlap
        expr: vector(time() % 4) < 2
        labels: { severity: critical, server: bench-01 }
        annotations: { summary: 'fires for two seconds, resolves for two seconds' }
`;

/** Stats summarises a set of timings (ms). */
interface Stats {
  n: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? NaN,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    max: s[s.length - 1] ?? NaN,
    mean: s.reduce((a, x) => a + x, 0) / Math.max(1, s.length),
  };
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const round2 = (v: number) => Math.round(v * 100) / 100;

function printTable(title: string, rows: Array<[string, string]>): void {
  console.log(`\n${title}`);
  for (const [k, v] of rows) {
    console.log(`  ${k.padEnd(22)} ${v}`);
  }
}

function statRows(s: Stats, target: number, figure: 'p50' | 'p95'): Array<[string, string]> {
  const value = s[figure];
  return [
    ['samples', String(s.n)],
    ['min', ms(s.min)],
    ['p50', ms(s.p50)],
    ['p95', ms(s.p95)],
    ['max', ms(s.max)],
    [`target (${figure})`, `≤ ${target} ms — ${value <= target ? 'met' : 'MISSED'}`],
  ];
}

/** Session is a harness server on one exporter and a page that collects page errors. */
interface Session {
  exporter: RunningExporter;
  server: HarnessServer;
  page: Page;
  errors: string[];
}

async function withSession<T>(
  browser: Awaited<ReturnType<typeof launchBrowser>>,
  exporterArgs: string[],
  fn: (s: Session) => Promise<T>
): Promise<T> {
  // Progress goes to stderr: stdout is the tables and the JSON line.
  console.error(`bench:ui: exporter ${exporterArgs.join(' ')}`);
  const exporter = await startExporter(exporterArgs);
  const server = await startHarnessServer(exporterSettings(exporter));
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    const result = await fn({ exporter, server, page, errors });
    if (errors.length) {
      throw new Error(`page errors: ${errors.join('; ')}`);
    }
    return result;
  } finally {
    await page.close();
    await server.close();
    await exporter.stop();
  }
}

/** navigate pushes `route` on the loaded app's history and returns the page clock at the push. */
async function navigate(page: Page, route: string): Promise<number> {
  return page.evaluate((r) => {
    const t0 = performance.now();
    window.__OM_NAVIGATE__?.(r);
    return t0;
  }, route);
}

/** resetTo leaves the app for the blank page and clears the marks a load sets. */
async function resetTo(page: Page): Promise<void> {
  await navigate(page, BLANK);
  await page.waitForSelector('[data-testid="harness-blank"]', { state: 'attached' });
  await page.evaluate(() => performance.clearMarks());
}

/** markTime waits for the marks `names` and returns the latest one's time on the page clock. */
async function marksTime(page: Page, names: readonly string[], timeoutMs = 60_000): Promise<number> {
  await page.waitForFunction((ns) => ns.every((n) => performance.getEntriesByName(n, 'mark').length > 0), names, {
    timeout: timeoutMs,
    polling: 'raf',
  });
  return page.evaluate(
    (ns) => Math.max(...ns.map((n) => performance.getEntriesByName(n, 'mark')[0]?.startTime ?? NaN)),
    names
  );
}

async function fleetUpdates(s: Session): Promise<Stats> {
  const { page } = s;
  await page.goto(`${s.server.url}${APP}/fleet`);
  await page.waitForFunction(
    ([t, n]) => document.querySelectorAll(t as string).length === n,
    [sel(testIds.fleet.tile), SERVERS] as const,
    { timeout: 60_000 }
  );
  await page.waitForSelector(`${sel(testIds.live.indicator)}[data-state="live"]`, { timeout: 60_000 });
  const wanted = WARMUP + SAMPLES;
  await page.waitForFunction(
    ([name, n]) => performance.getEntriesByName(name as string, 'measure').length >= (n as number),
    [FLEET_UPDATE_MEASURE, wanted] as const,
    { timeout: (wanted * BROADCAST_S + 60) * 1000, polling: 500 }
  );
  const durations = await page.evaluate(
    (name) => performance.getEntriesByName(name, 'measure').map((e) => e.duration),
    FLEET_UPDATE_MEASURE
  );
  return stats(durations.slice(WARMUP, WARMUP + SAMPLES));
}

/** fleetLoads times LOADS navigations to the Fleet page (after a warm-up one) and one cold document load. */
async function fleetLoads(s: Session, servers: number): Promise<{ full: Stats; tiles: Stats; coldMs: number }> {
  const { page } = s;
  await page.goto(`${s.server.url}${APP}/fleet`);
  const coldMs = await marksTime(page, [FLEET_RENDER_MARKS.full]);
  const count = await page.locator(sel(testIds.fleet.tile)).count();
  if (count !== servers) {
    throw new Error(`the Fleet page showed ${count} tiles, not ${servers}`);
  }
  const routes = Array.from({ length: LOADS + 1 }, () => `${APP}/fleet`);
  const full: number[] = [];
  const tiles: number[] = [];
  for (const route of routes) {
    await resetTo(page);
    const t0 = await navigate(page, route);
    full.push((await marksTime(page, [FLEET_RENDER_MARKS.full])) - t0);
    tiles.push((await marksTime(page, [FLEET_RENDER_MARKS.tiles])) - t0);
  }
  return { full: stats(full.slice(1)), tiles: stats(tiles.slice(1)), coldMs };
}

/** serverLoads times LOADS navigations to Server pages (a different server each time) and one cold load. */
async function serverLoads(s: Session): Promise<{ load: Stats; coldMs: number; charts: number }> {
  const { page } = s;
  const infos = (await (await fetch(`${s.exporter.url}/api/servers`)).json()) as
    Array<{ id: string }> | { servers: Array<{ id: string }> };
  const ids = (Array.isArray(infos) ? infos : infos.servers).map((i) => i.id);
  // Every chart marks `om:chart-drawn:<title>` the first time it draws data.
  const marks = chartSpecs(ids[0] ?? '').map((c) => CHART_DRAWN_MARK + c.title);
  await page.goto(`${s.server.url}${APP}/server/${ids[0]}`);
  const coldMs = await marksTime(page, marks);
  const loads: number[] = [];
  for (let i = 1; i <= LOADS + 1; i++) {
    await resetTo(page);
    const t0 = await navigate(page, `${APP}/server/${ids[i % ids.length]}`);
    loads.push((await marksTime(page, marks)) - t0);
  }
  return { load: stats(loads.slice(1)), coldMs, charts: marks.length };
}

async function alertUpdates(s: Session): Promise<{ update: Stats; rows: number; coldMs: number }> {
  const { page } = s;
  // Wait for the rule manager to have all bench alerts active before the page loads them.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = (await (await fetch(`${s.exporter.url}/api/prometheus/api/v1/alerts`)).json()) as {
      data: { alerts: unknown[] };
    };
    if (body.data.alerts.length >= ALERTS) {
      break;
    }
    if (Date.now() > deadline) {
      throw new Error(`only ${body.data.alerts.length} of ${ALERTS} bench alerts became active`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const t0 = Date.now();
  await page.goto(`${s.server.url}${APP}/alerts`);
  // The page shows 100 rows a page; its counts cover every active alert.
  const active = () =>
    page
      .locator(sel(testIds.alerts.counts))
      .innerText()
      .then((t) => [...t.matchAll(/(\d+) (firing|pending)/g)].reduce((n, m) => n + Number(m[1]), 0));
  await page.waitForFunction(
    ([counts, n]) =>
      [...(document.querySelector(counts)?.textContent ?? '').matchAll(/(\d+) (firing|pending)/g)].reduce(
        (sum, m) => sum + Number(m[1]),
        0
      ) >= (n as number),
    [sel(testIds.alerts.counts), ALERTS] as const,
    { timeout: 60_000 }
  );
  await page.waitForSelector(sel(testIds.alerts.row));
  const coldMs = Date.now() - t0;
  await page.waitForSelector(`${sel(testIds.live.indicator)}[data-state="live"]`, { timeout: 60_000 });
  const wanted = ALERT_WARMUP + ALERT_SAMPLES;
  await page.waitForFunction(
    ([name, n]) => performance.getEntriesByName(name as string, 'measure').length >= (n as number),
    [ALERTS_UPDATE_MEASURE, wanted] as const,
    { timeout: (wanted * 4 + 60) * 1000, polling: 500 }
  );
  const durations = await page.evaluate(
    (name) => performance.getEntriesByName(name, 'measure').map((e) => e.duration),
    ALERTS_UPDATE_MEASURE
  );
  const rows = await active();
  return { update: stats(durations.slice(ALERT_WARMUP, wanted)), rows, coldMs };
}

async function main(): Promise<void> {
  const browser = await launchBrowser();
  const ruleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-bench-rules-'));
  const ruleFile = path.join(ruleDir, 'bench.yml');
  fs.writeFileSync(ruleFile, BENCH_RULES);
  const quiet = ['--scenario-rate', '0'];
  try {
    const update = await withSession(
      browser,
      [
        '--servers',
        String(SERVERS),
        '--tick-seconds',
        String(TICK_S),
        '--broadcast-seconds',
        String(BROADCAST_S),
        '--backfill',
        '0',
        ...quiet,
      ],
      fleetUpdates
    );
    const fleet200 = await withSession(browser, ['--servers', String(SERVERS), '--backfill', '15m', ...quiet], (s) =>
      fleetLoads(s, SERVERS)
    );
    const small = await withSession(
      browser,
      ['--servers', String(SMALL_FLEET), '--backfill', '1h', ...quiet],
      async (s) => ({
        fleet: await fleetLoads(s, SMALL_FLEET),
        server: await serverLoads(s),
      })
    );
    const alerts = await withSession(
      browser,
      [
        '--servers',
        String(SERVERS),
        '--tick-seconds',
        String(ALERTS_TICK_S),
        '--backfill',
        '0',
        '--rule-files',
        ruleFile,
        ...quiet,
      ],
      alertUpdates
    );

    console.log('Chromium, the harness production React build, exporters started here; 2 shared cores.');
    printTable(
      `Fleet page, one live update applied (hub message → commit), ${SERVERS} servers, broadcast every ${BROADCAST_S * 1000} ms`,
      [...statRows(update, TARGETS_MS.update, 'p95'), ['mean', ms(update.mean)]]
    );
    printTable(`Fleet page, navigation → first full render (tiles + sparklines), ${SERVERS} servers`, [
      ...statRows(fleet200.full, TARGETS_MS.load, 'p50'),
      ['tiles only, p50', ms(fleet200.tiles.p50)],
      ['cold document load', ms(fleet200.coldMs)],
    ]);
    printTable(`Fleet page, navigation → first full render, ${SMALL_FLEET} servers`, [
      ...statRows(small.fleet.full, TARGETS_MS.load, 'p50'),
      ['tiles only, p50', ms(small.fleet.tiles.p50)],
      ['cold document load', ms(small.fleet.coldMs)],
    ]);
    printTable(
      `Server page, navigation → all ${small.server.charts} charts drawn with data (${SMALL_FLEET} servers, 1 h of history)`,
      [...statRows(small.server.load, TARGETS_MS.load, 'p50'), ['cold document load', ms(small.server.coldMs)]]
    );
    printTable(`Alerts page, one live update applied (hub event → commit), ${alerts.rows} active alerts`, [
      ...statRows(alerts.update, TARGETS_MS.update, 'p95'),
      ['mean', ms(alerts.update.mean)],
      ['cold load to all rows', ms(alerts.coldMs)],
    ]);
    console.log(
      JSON.stringify({
        update_ms_p95_200: round2(update.p95),
        server_page_load_ms_p50: round2(small.server.load.p50),
        fleet_first_render_ms_p50_200: round2(fleet200.full.p50),
        alerts_update_ms_p95_1000: round2(alerts.update.p95),
      })
    );
  } finally {
    await browser.close();
    fs.rmSync(ruleDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
