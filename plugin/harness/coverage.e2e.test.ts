/**
 * The Coverage and Drills pages in Chromium against a real exporter started here: a small coverage job (2
 * servers, disk_fill and cpu_spike at intensities 0.4 and 1, one repetition: a few seconds of work) started from the
 * page's form runs in the exporter's worker thread and its matrix and timelines render; a shipped drill started
 * from the Drills page injects its first step, and aborting it produces its report. No page errors on either.
 * Screenshots go to test-artifacts/ (gitignored); coverage.png there is the README's screenshot.
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
const sel = (id: string) => `[data-testid="${id}"]`;
/** KINDS are the two kinds the small job runs; the form starts with all eight ticked. */
const KINDS = ['disk_fill', 'cpu_spike'];
const ALL_KINDS = [
  'cpu_spike',
  'memory_leak',
  'disk_fill',
  'network_saturation',
  'service_crash',
  'latency_degradation',
  'cascading_failure',
  'server_down',
];
/**
 * INTENSITIES adds a mild run to the severe one: at 0.4 a CPU spike stays under the shipped rules' 80 % threshold
 * (their README says so), so the report has misses to highlight and link.
 */
const INTENSITIES = '0.4, 1';
/** JOB_TIMEOUT_MS bounds the small job (≈2 s alone) on 2 cores shared with other test runs. */
const JOB_TIMEOUT_MS = 120_000;

describe('Coverage and Drills pages in Chromium against a real exporter', () => {
  let exporter: RunningExporter;
  let server: HarnessServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    exporter = await startExporter(['--backfill', '10m', '--tick-seconds', '1', '--scenario-rate', '0']);
    server = await startHarnessServer(exporterSettings(exporter));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await exporter?.stop();
  });

  async function open(route: string): Promise<Page> {
    const page = await browser.context.newPage();
    watchErrors(page, route, pageErrors, consoleErrors);
    await page.goto(`${server.url}${APP}/${route}`);
    return page;
  }

  test('a small coverage job started from the page renders its matrix, timelines and per-rule table', async () => {
    const page = await open('coverage');
    const form = page.locator(sel(testIds.coverage.form));
    await form.waitFor({ timeout: 30_000 });
    await form.getByLabel('Servers').fill('2');
    await form.getByLabel('Repetitions').fill('1');
    await form.getByLabel('Intensities').fill(INTENSITIES);
    const kinds = form.getByRole('group', { name: 'Scenario kinds' });
    for (const k of ALL_KINDS.filter((x) => !KINDS.includes(x))) {
      await kinds.getByLabel(k, { exact: true }).setChecked(false, { force: true });
    }
    await form.getByRole('button', { name: /run coverage/i }).click();

    const matrix = page.locator(sel(testIds.coverage.matrix));
    await matrix.waitFor({ timeout: JOB_TIMEOUT_MS });
    const rows = await matrix.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kind')));
    expect(rows.sort()).toEqual([...KINDS].sort());
    // The shipped rules have a CPU and a disk rule: some cell counts a fire.
    const counts = await matrix
      .locator(sel(testIds.coverage.matrixCell))
      .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-count'))));
    expect(counts.some((n) => n > 0)).toBe(true);
    await expect(page.locator(sel(testIds.coverage.timeline)).count()).resolves.toBe(2);
    // A mild CPU spike is missed: its row is marked and its miss links Explore to its server's series.
    const cpuMisses = Number(await matrix.locator('tr[data-kind="cpu_spike"]').getAttribute('data-misses'));
    expect(cpuMisses).toBeGreaterThan(0);
    const missLink = await page.locator(sel(testIds.coverage.missLink)).first().getAttribute('href');
    const panes = JSON.parse(new URLSearchParams((missLink ?? '').split('?')[1]).get('panes') ?? '{}');
    expect(panes.om.datasource).toBe('openmanager');
    expect(panes.om.queries[0].expr).toMatch(/^openmanager_scenario_active\{server="[a-z]+-\d+"\}$/);
    expect(panes.om.queries[1].expr).toMatch(/openmanager_cpu_usage_percent\{server="[a-z]+-\d+"\}/);
    // "Series" draws the CPU the run computed over the missed spike's window, from the report.
    await page.locator(sel(testIds.coverage.signalToggle)).first().click();
    const line = await page
      .locator(`${sel(testIds.coverage.signal)} path[data-series]`)
      .first()
      .getAttribute('d');
    expect((line ?? '').match(/L/g)?.length ?? 0).toBeGreaterThan(50);
    await expect(page.locator(`${sel(testIds.coverage.timeline)} rect`).count()).resolves.toBeGreaterThan(2);
    await expect(page.locator(sel(testIds.coverage.summary)).innerText()).resolves.toMatch(/Detection rate/);
    await expect(page.locator(sel(testIds.coverage.rules)).innerText()).resolves.toMatch(/HighDiskUsage/);

    // The HTML report link goes through the plugin proxy's read-only route and answers the report.
    const href = await page.locator(sel(testIds.coverage.htmlLink)).getAttribute('href');
    const html = await fetch(`${server.url}${href}`);
    expect(html.status).toBe(200);
    await expect(html.text()).resolves.toContain('Alert coverage report');

    await page.screenshot({ path: path.join(ARTIFACTS, 'coverage.png'), fullPage: true });
    await page.close();
  });

  test('a drill started from the Drills page injects its first step; Abort ends it with a report', async () => {
    const page = await open('drills');
    const card = page.locator(`${sel(testIds.drills.definition)}[data-drill="database-memory-leak"]`);
    await card.waitFor({ timeout: 30_000 });
    await expect(card.innerText()).resolves.toMatch(/memory_leak/);
    await card.getByLabel('Speed for Database memory leak').fill('10');
    await card.getByRole('button', { name: 'Start Database memory leak' }).click();

    const run = page.locator(`${sel(testIds.drills.run)}[data-status="running"]`);
    await run.waitFor({ timeout: 30_000 });
    await run
      .locator(`${sel(testIds.drills.step)}[data-state="injected"]`)
      .first()
      .waitFor({ timeout: 30_000 });
    // The step is ground truth: the exporter lists its scenario as active.
    const scenarios = await (await fetch(`${exporter.url}/api/scenarios`)).json();
    expect(scenarios.active.map((s: { kind: string }) => s.kind)).toContain('memory_leak');

    await run.getByRole('button', { name: /abort/i }).click();
    await page.locator(`${sel(testIds.drills.run)}[data-status="aborted"]`).waitFor({ timeout: 30_000 });
    await expect(page.locator(sel(testIds.drills.report)).innerText()).resolves.toMatch(/Detected \d+ %/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'drills.png'), fullPage: true });
    await page.close();
  });

  test('no page errors on either page', () => {
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
