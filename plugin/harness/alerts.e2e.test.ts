/**
 * The Alerts page and the live connection with the hub token set, in Chromium against a real exporter started
 * here (HUB_TOKEN set, simulated time 10× faster so a rule's `for` passes in seconds): the page opens the hub
 * with a single-use ticket bought through the plugin proxy, never the token; an alert appears, pending then
 * firing, when a scenario trips its rule, and an editor silences it; without the hub token in the app's settings the page polls through the
 * proxy and says why. Screenshots go to test-artifacts/ (gitignored).
 */
import fs from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';

import { testIds } from '../src/components/testIds';
import { launchBrowser, watchErrors } from './browser';
import { startExporter, type RunningExporter } from './exporter';
import { startHarnessServer, type HarnessServer } from './server';

const ARTIFACTS = path.resolve(__dirname, '../test-artifacts');
const APP = '/a/openmanager-fleet-app';
const HUB_TOKEN = 'hub-s3cret';
/** SPEED runs simulated time 10× faster: ServerDown's `for: 1m` passes in 6 s, an evaluation every 1.5 s. */
const SPEED = 10;
const sel = (id: string) => `[data-testid="${id}"]`;

describe('alerts and the hub ticket flow in Chromium against a real exporter with HUB_TOKEN', () => {
  let exporter: RunningExporter;
  let withToken: HarnessServer;
  let withoutToken: HarnessServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    exporter = await startExporter([
      '--backfill',
      '0',
      '--speed',
      String(SPEED),
      '--broadcast-seconds',
      '1',
      '--scenario-rate',
      '0',
      '--hub-token',
      HUB_TOKEN,
    ]);
    const jsonData = { exporterUrl: exporter.url, liveUrl: `ws://127.0.0.1:${exporter.port}/ws` };
    withToken = await startHarnessServer({
      jsonData,
      secureJsonData: { apiToken: exporter.token, hubToken: HUB_TOKEN },
    });
    withoutToken = await startHarnessServer({ jsonData, secureJsonData: { apiToken: exporter.token } });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await withToken?.close();
    await withoutToken?.close();
    await exporter?.stop();
  });

  async function open(server: HarnessServer, route: string): Promise<{ page: Page; sockets: string[] }> {
    const page = await browser.context.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    watchErrors(page, route, pageErrors);
    await page.goto(`${server.url}${APP}/${route}`);
    return { page, sockets };
  }

  async function inject(kind: string, server: string, durationSeconds: number): Promise<void> {
    const res = await fetch(`${exporter.url}/api/scenarios`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${exporter.token}` },
      body: JSON.stringify({ kind, server, durationSeconds, intensity: 1 }),
    });
    expect(res.status).toBe(201);
  }

  test('a scenario that trips a rule shows up live, pending then firing, with links, and can be silenced', async () => {
    const { page, sockets } = await open(withToken, 'alerts');
    // The page loads quiet, or — on busy shared cores, where a tick at 10x speed can stall — with the exporter's
    // own alerts (ExporterTicksStalled), or with an alert the fleet raises on its own (one row about web-05 was
    // seen once in CI, not identified since): either way it has loaded, and web-05 is not down yet.
    await page.waitForSelector(`${sel(testIds.alerts.empty)}, ${sel(testIds.alerts.table)}`, { timeout: 30_000 });
    const empty = page.locator(sel(testIds.alerts.empty));
    const reasons = (await empty.count()) > 0 ? [await empty.getAttribute('data-reason')] : [];
    expect(reasons.filter((r) => r !== 'quiet')).toEqual([]);
    const row = `${sel(testIds.alerts.row)}[data-alertname="ServerDown"][data-server="web-05"]`;
    await expect(page.locator(row).count()).resolves.toBe(0);

    await inject('server_down', 'web-05', 600);
    await page.waitForSelector(`${row}[data-state="pending"]`, { timeout: 30_000 });
    await page.waitForSelector(`${row}[data-state="firing"]`, { timeout: 30_000 });
    await page.waitForSelector(`${sel(testIds.live.indicator)}[data-state="live"]`, { timeout: 10_000 });
    await expect(page.locator(`${row} ${sel(testIds.alerts.serverLink)}`).getAttribute('href')).resolves.toBe(
      `${APP}/server/web-05`
    );

    // An editor silences it through the proxy (the route adds the API token): listed, and the row marked.
    await page.getByRole('button', { name: 'Silence ServerDown on web-05' }).click();
    await page.locator(sel(testIds.silences.modal)).getByRole('radio', { name: '4h' }).click({ force: true });
    await page.locator(sel(testIds.silences.submit)).click();
    await page
      .locator(`${sel(testIds.silences.row)}[data-state="active"]`)
      .getByText('alertname="ServerDown", server="web-05"')
      .waitFor({ timeout: 15_000 });
    await page.waitForSelector(`${row}[data-silenced="true"]`, { timeout: 15_000 });
    const listed = (await (await fetch(`${exporter.url}/api/silences`)).json()) as {
      silences: Array<{ createdBy: string; endsAt: string; startsAt: string }>;
    };
    expect(listed.silences).toHaveLength(1);
    expect(Date.parse(listed.silences[0]!.endsAt) - Date.parse(listed.silences[0]!.startsAt)).toBe(4 * 3_600_000);

    // The hub was opened with a ticket bought through the proxy; the browser never held the hub token.
    expect(sockets.length).toBeGreaterThan(0);
    for (const url of sockets) {
      expect(new URL(url).searchParams.get('ticket')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(url).not.toContain(HUB_TOKEN);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'alerts.png'), fullPage: true });
    await page.close();
  });

  test('the hub refuses the token-less WebSocket, and a ticket is single-use', async () => {
    const plain = await fetch(`${exporter.url}/api/stream?channels=alerts`);
    expect(plain.status).toBe(401);
    const res = await fetch(`${withToken.url}/api/plugin-proxy/openmanager-fleet-app/api/hub/ticket`, {
      method: 'POST',
    });
    expect(res.status).toBe(200);
    const { ticket } = (await res.json()) as { ticket: string };
    const ac = new AbortController();
    const first = await fetch(`${exporter.url}/api/stream?channels=alerts&ticket=${ticket}`, { signal: ac.signal });
    expect(first.status).toBe(200);
    ac.abort();
    const again = await fetch(`${exporter.url}/api/stream?channels=alerts&ticket=${ticket}`);
    expect(again.status).toBe(401);
  });

  test('without the hub token in the settings, the page polls through the proxy and says why', async () => {
    const { page, sockets } = await open(withoutToken, 'fleet');
    await page.waitForFunction((s) => document.querySelectorAll(s).length === 20, sel(testIds.fleet.tile), {
      timeout: 30_000,
    });
    await page.waitForSelector(`${sel(testIds.live.indicator)}[data-state="polling"]`, { timeout: 30_000 });
    await expect(page.locator(sel(testIds.live.reason)).innerText()).resolves.toMatch(/Hub token/);
    expect(sockets).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'fleet-polling.png'), fullPage: true });
    await page.close();
  });

  test('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
