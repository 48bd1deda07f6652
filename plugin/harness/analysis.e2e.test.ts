/**
 * The Analysis page and the Fleet page's anomaly markers in Chromium against a real exporter started here with a
 * few hours of history (so the analysis has baselines) and simulated time 10× faster: a disk fill and a memory
 * leak injected through the API become open findings with forecasts of when the disk fills and the memory runs
 * out, the Scenes charts of the fleet anomaly rate draw the analysis series through the data source stand-in,
 * the Fleet tiles of those servers carry an anomaly marker, and no page errors. Screenshots go to
 * test-artifacts/ (gitignored).
 */
import fs from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';

import { testIds } from '../src/components/testIds';
import { launchBrowser, watchErrors } from './browser';
import { startExporter, type RunningExporter } from './exporter';
import { exporterSettings, startHarnessServer, type HarnessServer } from './server';

const ARTIFACTS = path.resolve(__dirname, '../test-artifacts');
const APP = '/a/openmanager-fleet-app';
/** SPEED runs simulated time 10× faster: the analysis runs every 3 s wall-clock. */
const SPEED = 10;
/** BACKFILL gives the detector its reference window (3 h 20 min) before the scenarios start. */
const BACKFILL = '4h';
/**
 * SCENARIOS are injected once the exporter is up. Measured here, the detector opened db-01's leak finding about 10
 * points above its expected level (85 % where 75 % was expected) whatever the leak's pace: a leak planned over 40
 * minutes (60 points at intensity 1, 1.5 a minute) got there in ~7 simulated minutes, 46 s wall-clock; one planned
 * over two hours took 120 s, as long as the wait below.
 */
const SCENARIOS = [
  { kind: 'disk_fill', server: 'web-02', durationSeconds: 7200 },
  { kind: 'memory_leak', server: 'db-01', durationSeconds: 2400 },
];
/** FINDING_TIMEOUT_MS bounds the wait for findings: over twice the ~45 s they take on a quiet machine. */
const FINDING_TIMEOUT_MS = 120_000;
const sel = (id: string) => `[data-testid="${id}"]`;

describe('the Analysis page in Chromium against a real exporter', () => {
  let exporter: RunningExporter;
  let server: HarnessServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    exporter = await startExporter(['--backfill', BACKFILL, '--speed', String(SPEED), '--scenario-rate', '0']);
    server = await startHarnessServer(exporterSettings(exporter));
    browser = await launchBrowser();
    for (const scenario of SCENARIOS) {
      const res = await fetch(`${exporter.url}/api/scenarios`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${exporter.token}` },
        body: JSON.stringify({ ...scenario, intensity: 1 }),
      });
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await exporter?.stop();
  });

  async function open(route: string): Promise<Page> {
    const page = await browser.context.newPage();
    watchErrors(page, route, pageErrors);
    await page.goto(`${server.url}${APP}/${route}`);
    return page;
  }

  test('injected scenarios become findings with forecasts, and the charts draw the analysis series', async () => {
    // At 10× speed the simulated clock runs ahead of the browser's: the analysis writes its series at simulated
    // times, so the charts' range reaches two hours past the wall clock's now (through the URL, as a user would).
    const page = await open(`analysis?from=now-6h&to=${encodeURIComponent('now+2h')}`);
    const finding = (srv: string, signal: string) =>
      `${sel(testIds.analysis.finding)}[data-server="${srv}"][data-signal="${signal}"][data-state="open"]`;
    await page.waitForSelector(finding('web-02', 'disk'), { timeout: FINDING_TIMEOUT_MS });
    await page.waitForSelector(finding('db-01', 'memory'), { timeout: FINDING_TIMEOUT_MS });
    await expect(page.locator(finding('web-02', 'disk')).innerText()).resolves.toMatch(/disk filling/);

    // A disk that fills fast is forecast, and the filling server is among the soonest.
    const diskEta = page.locator(`${sel(testIds.analysis.eta)}[data-resource="disk"][data-server="web-02"]`);
    await diskEta.waitFor({ timeout: FINDING_TIMEOUT_MS });
    await expect(diskEta.innerText()).resolves.toMatch(/95 %/);
    const memEta = page.locator(`${sel(testIds.analysis.eta)}[data-resource="memory"][data-server="db-01"]`);
    await memEta.waitFor({ timeout: FINDING_TIMEOUT_MS });

    await expect(page.locator(sel(testIds.analysis.status)).innerText()).resolves.toMatch(
      /Fleet anomaly rate \d+\.\d %/
    );
    await page.waitForSelector(`${sel(testIds.live.indicator)}[data-state="live"]`, { timeout: 30_000 });

    // The Scenes charts draw the series the analysis writes (three charts, each with samples and a canvas). Like a
    // dashboard without auto-refresh they queried once, when the page opened, maybe before the first run: reload.
    await page.reload();
    await page.waitForFunction(
      (s) => {
        const charts = [...document.querySelectorAll(s)];
        return (
          charts.length === 3 &&
          charts.every((c) => Number(c.getAttribute('data-points')) > 0 && c.querySelector('canvas'))
        );
      },
      `${sel(testIds.analysis.scene)} ${sel(testIds.server.chart)}`,
      { timeout: 60_000 }
    );
    // The injected scenarios are shaded on the fleet charts.
    const regions = await page
      .locator(`${sel(testIds.analysis.scene)} ${sel(testIds.server.chart)}`)
      .first()
      .getAttribute('data-regions');
    expect(Number(regions)).toBeGreaterThanOrEqual(2);
    expect(new URL(page.url()).searchParams.get('to')).toBe('now+2h');
    await page.screenshot({ path: path.join(ARTIFACTS, 'analysis.png'), fullPage: true });
    await page.close();
  });

  test('the Fleet tiles of the anomalous servers carry the anomaly marker', async () => {
    const page = await open('fleet');
    const marked = (srv: string) =>
      `${sel(testIds.fleet.tile)}[data-server="${srv}"] ${sel(testIds.fleet.tileAnomaly)}`;
    await page.waitForSelector(marked('web-02'), { timeout: FINDING_TIMEOUT_MS });
    await expect(page.locator(marked('web-02')).innerText()).resolves.toContain('disk');
    // A server without a scenario is not marked.
    await expect(page.locator(marked('lb-01')).count()).resolves.toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'fleet-anomaly.png'), fullPage: true });
    await page.close();
  });

  test('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
