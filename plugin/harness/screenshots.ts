/**
 * `npm run screenshots -w plugin`: renders the app's pages in headless Chromium (the browser harness) against a
 * real exporter with a few hours of history and a few injected scenarios, and writes the PNGs that plugin.json's
 * `info.screenshots` lists (src/img/screenshots/). Run it after a visible change to a page and commit the images.
 * The exporter runs at real speed, so the charts' "now" is the wall clock's; it waits for the analysis to find
 * the scenarios (a minute or two) before the Analysis and Fleet pages are taken.
 */
import path from 'path';
import type { Page } from 'playwright-core';

import { testIds } from '../src/components/testIds';
import pluginJson from '../src/plugin.json';
import { launchBrowser } from './browser';
import { startExporter } from './exporter';
import { exporterSettings, startHarnessServer } from './server';

const APP = '/a/openmanager-fleet-app';
const SRC = path.resolve(__dirname, '../src');
/** FINDINGS_TIMEOUT_MS bounds the wait for the analysis to open findings on the injected scenarios. */
const FINDINGS_TIMEOUT_MS = 240_000;
/** SETTLE_MS lets the last chart animation and font swap finish before a shot. */
const SETTLE_MS = 1_000;
const sel = (id: string) => `[data-testid="${id}"]`;

/** SCENARIOS are injected at start: something on every page to look at. */
const SCENARIOS = [
  { kind: 'disk_fill', server: 'web-02', durationSeconds: 7200, intensity: 1 },
  { kind: 'cpu_spike', server: 'web-01', durationSeconds: 7200, intensity: 0.9 },
  { kind: 'memory_leak', server: 'db-01', durationSeconds: 7200, intensity: 1 },
];

/** shotPath is where plugin.json says the screenshot named `name` lives. */
function shotPath(name: string): string {
  const shot = pluginJson.info.screenshots.find((s) => s.name === name);
  if (!shot) {
    throw new Error(`plugin.json lists no screenshot named "${name}"`);
  }
  return path.join(SRC, shot.path);
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(SETTLE_MS);
  await page.screenshot({ path: shotPath(name), fullPage: true });
  console.log(`${name}: ${path.relative(process.cwd(), shotPath(name))}`);
}

async function main(): Promise<void> {
  const exporter = await startExporter(['--backfill', '6h', '--scenario-rate', '0']);
  const server = await startHarnessServer(exporterSettings(exporter));
  const browser = await launchBrowser();
  try {
    for (const sc of SCENARIOS) {
      const res = await fetch(`${exporter.url}/api/scenarios`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${exporter.token}` },
        body: JSON.stringify(sc),
      });
      if (res.status !== 201) {
        throw new Error(`injecting ${sc.kind}: HTTP ${res.status} ${await res.text()}`);
      }
    }
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${server.url}${APP}/analysis`);
    await page.waitForFunction(
      (s) => document.querySelectorAll(s).length >= 2,
      `${sel(testIds.analysis.finding)}[data-state="open"]`,
      { timeout: FINDINGS_TIMEOUT_MS, polling: 1000 }
    );
    // The charts queried when the page opened; load it again for the series written since.
    await page.reload();
    await page.waitForSelector(sel(testIds.analysis.finding));
    await page.waitForFunction(
      (s) => [...document.querySelectorAll(s)].every((c) => Number(c.getAttribute('data-points')) > 0),
      `${sel(testIds.analysis.scene)} ${sel(testIds.server.chart)}`,
      { timeout: 60_000 }
    );
    await shoot(page, 'Analysis');

    await page.goto(`${server.url}${APP}/fleet`);
    await page.waitForSelector(`${sel(testIds.live.indicator)}[data-state="live"]`, { timeout: 60_000 });
    await page.waitForFunction((s) => document.querySelectorAll(s).length >= 20, sel(testIds.fleet.sparkline), {
      timeout: 60_000,
    });
    await page.waitForSelector(sel(testIds.fleet.tileAnomaly), { timeout: 60_000 });
    await shoot(page, 'Fleet');

    await page.goto(`${server.url}${APP}/server/web-01`);
    await page.waitForFunction(
      (s) => {
        const charts = [...document.querySelectorAll(s)];
        return charts.length >= 7 && charts.every((c) => Number(c.getAttribute('data-points')) > 0);
      },
      sel(testIds.server.chart),
      { timeout: 60_000 }
    );
    await shoot(page, 'Server');

    await page.goto(`${server.url}${APP}/alerts`);
    await page.waitForSelector(`${sel(testIds.alerts.row)}, ${sel(testIds.alerts.empty)}`, { timeout: 60_000 });
    await shoot(page, 'Alerts');

    if (errors.length) {
      throw new Error(`page errors: ${errors.join('; ')}`);
    }
  } finally {
    await browser.close();
    await server.close();
    await exporter.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
