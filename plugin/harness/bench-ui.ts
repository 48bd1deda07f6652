/**
 * `npm run bench:ui`: the time to apply one live update to the Fleet page with 200 servers, in Chromium, against
 * a real exporter simulating 200 servers and broadcasting every BROADCAST_S. Each update is timed in the page with
 * the User Timing API (src/utils/perf.ts): from the hub message's arrival to the commit that shows it.
 * Prints a table and, last, one JSON line: {"update_ms_p95_200": …}. Target ≤ 50 ms.
 */
import { testIds } from '../src/components/testIds';
import { FLEET_UPDATE_MEASURE } from '../src/utils/perf';
import { launchBrowser } from './browser';
import { startExporter } from './exporter';
import { startHarnessServer } from './server';

/** SERVERS is the fleet size the figure is named after. */
const SERVERS = 200;
/** BROADCAST_S, and TICK_S shorter than it, make every broadcast carry new values (the worst case: most tiles change). */
const BROADCAST_S = 0.25;
const TICK_S = 0.1;
/** WARMUP and SAMPLES: the first updates include lazy chunk and JIT warm-up, then SAMPLES are kept. */
const WARMUP = 10;
const SAMPLES = 100;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

async function main(): Promise<void> {
  const exporter = await startExporter([
    '--servers',
    String(SERVERS),
    '--tick-seconds',
    String(TICK_S),
    '--broadcast-seconds',
    String(BROADCAST_S),
    '--backfill',
    '0',
    '--scenario-rate',
    '0',
  ]);
  const server = await startHarnessServer({
    jsonData: { exporterUrl: exporter.url, liveUrl: `ws://127.0.0.1:${exporter.port}/ws` },
    secureJsonData: { apiToken: exporter.token },
  });
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/a/openmanager-fleet-app/fleet`);
    const tile = `[data-testid="${testIds.fleet.tile}"]`;
    await page.waitForFunction((s) => document.querySelectorAll(s).length === 200, tile, { timeout: 60_000 });
    await page.waitForSelector(`[data-testid="${testIds.live.indicator}"][data-state="live"]`, { timeout: 60_000 });
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
    if (errors.length) {
      throw new Error(`page errors: ${errors.join('; ')}`);
    }
    const kept = durations.slice(WARMUP, WARMUP + SAMPLES).sort((a, b) => a - b);
    const mean = kept.reduce((s, x) => s + x, 0) / kept.length;
    const rows: Array<[string, string]> = [
      ['servers', String(SERVERS)],
      ['updates timed', `${kept.length} (after ${WARMUP} warm-up)`],
      ['broadcast period', `${BROADCAST_S * 1000} ms`],
      ['mean', `${mean.toFixed(2)} ms`],
      ['p50', `${percentile(kept, 50).toFixed(2)} ms`],
      ['p95', `${percentile(kept, 95).toFixed(2)} ms`],
      ['max', `${(kept[kept.length - 1] ?? NaN).toFixed(2)} ms`],
      ['target p95', '≤ 50 ms'],
    ];
    console.log('Fleet page: one live update applied (hub message → commit), Chromium, production React build');
    for (const [k, v] of rows) {
      console.log(`${k.padEnd(18)} ${v}`);
    }
    console.log(JSON.stringify({ update_ms_p95_200: Math.round(percentile(kept, 95) * 100) / 100 }));
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
