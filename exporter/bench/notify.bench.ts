/**
 * Benchmark of the notifiers: `npm run bench:notify -w exporter`.
 *
 * 1,000 alerts fire at once, one on each of 1,000 servers, into the notifier pipeline as the rule manager
 * hands them over (Notifier.alertsChanged): the dispatcher groups them (alertname, server → 1,000 groups),
 * waits group_wait, writes 1,000 notifications to the data-dir outbox (fdatasync'd), and the deliverer posts
 * them to a local webhook — a stand-in HTTP server on 127.0.0.1 in a child process (bench/notify-receiver.ts),
 * as a real receiver runs in its own process — which stamps each receipt with the wall-clock-based
 * `performance.timeOrigin + performance.now()`, comparable with this process's stamp of the firing. Real clock
 * and timers, real disk, real HTTP.
 *
 * Figures: time from firing to the last receipt (all delivered), the p50/p99/max of firing → receipt per
 * alert, and the same beyond group_wait; this process's RSS growth (peak during the run − before firing).
 * Prints a table, then as the last line one JSON object with deliver_all_s_1000, p99_ms_firing_to_receipt,
 * rss_growth_mb (and group_wait_ms, p99_ms_beyond_group_wait). Targets: all delivered; p99 ≤ 1,000 ms
 * beyond group_wait. BENCH_GROUP_WAIT (a duration, default 1s) sets group_wait.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import {
  DEFAULT_OUTBOX,
  DEFAULT_ROUTE,
  type NotifyConfig,
  type WebhookReceiverConfig,
} from '../src/notify/config.js';
import type { AlertUpdate } from '../src/notify/dispatcher.js';
import { Notifier } from '../src/notify/notifier.js';
import { Secret } from '../src/notify/secret.js';
import { parseDuration } from '../src/util/duration.js';
import { silentLogger } from '../src/util/logger.js';
import { systemClock } from '../src/util/clock.js';
import { systemTimer } from '../src/util/timer.js';
import { pollUntil } from '../test/poll.js';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** ALERTS is the load: 1,000 alerts on 1,000 servers, firing at once. */
const ALERTS = 1_000;
const GROUP_WAIT_MS = parseDuration(process.env.BENCH_GROUP_WAIT ?? '1s') ?? 1_000;
/** RSS_SAMPLE_MS is how often RSS is sampled for the peak (process.memoryUsage.rss(), a cheap read). */
const RSS_SAMPLE_MS = 100;
/** DELIVERY_TIMEOUT_MS bounds the whole run (a broken pipeline fails instead of hanging). */
const DELIVERY_TIMEOUT_MS = 120_000;

/** ChildMessage is what bench/notify-receiver.ts sends. */
interface ChildMessage {
  readonly event: string;
  readonly url?: string;
  readonly requests?: number;
  readonly receipts?: [string, number][];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'om-notify-bench-'));
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./notify-receiver.ts', import.meta.url)),
    [String(ALERTS)],
    {
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
    },
  );
  let allReceived = false;
  const messages: ((m: ChildMessage) => void)[] = [];
  child.on('message', (m: ChildMessage) => {
    if (m.event === 'done') allReceived = true;
    for (const l of messages) l(m);
  });
  const next = (event: string): Promise<ChildMessage> =>
    new Promise((resolve) => {
      const l = (m: ChildMessage): void => {
        if (m.event !== event) return;
        messages.splice(messages.indexOf(l), 1);
        resolve(m);
      };
      messages.push(l);
    });
  const { url } = await next('ready');
  const receiver: WebhookReceiverConfig = {
    type: 'webhook',
    name: 'bench',
    url: new Secret(`${url ?? ''}/hook`, 'WEBHOOK_URL'),
    matchers: [],
    sendResolved: true,
    timeoutMs: 10_000,
    maxAlerts: 0,
    ...DEFAULT_ROUTE,
    groupWaitMs: GROUP_WAIT_MS,
  };
  const config: NotifyConfig = {
    receivers: [receiver],
    outbox: DEFAULT_OUTBOX,
    datadog: undefined,
    source: 'bench',
  };
  const notifier = await Notifier.open({
    config,
    dir,
    wallClock: systemClock,
    timer: systemTimer,
    logger: silentLogger(),
    registry: new Registry(),
    externalURL: () => 'http://127.0.0.1:3001',
    grafanaUrl: undefined,
    evaluationIntervalMs: 15_000,
  });
  notifier.start();
  const now = Date.now();
  const alerts: AlertUpdate[] = Array.from({ length: ALERTS }, (_, i) => ({
    labels: { alertname: 'HighCPUUsage', server: `srv-${String(i).padStart(4, '0')}`, severity: 'warning' },
    annotations: {
      summary: `High CPU usage on srv-${i}`,
      description: 'CPU usage is above 80% (current value: 91.5%)',
    },
    status: 'firing',
    startsAt: now,
    endsAt: undefined,
    value: 91.5,
    generatorURL: 'http://127.0.0.1:3001/graph?g0.expr=cpu&g0.tab=1',
  }));

  global.gc?.();
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);

  const cpuBefore = process.cpuUsage();
  const fired = performance.timeOrigin + performance.now();
  notifier.alertsChanged(alerts);
  await pollUntil('every alert received', () => allReceived, {
    timeoutMs: DELIVERY_TIMEOUT_MS,
    intervalMs: 5,
  });
  child.send({ cmd: 'report' });
  const report = await next('report');
  const receipts = new Map(report.receipts ?? []);
  const lastReceipt = Math.max(...receipts.values());
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await notifier.deliverer.idle();
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  const status = notifier.deliverer.status()[0];

  const latencies = [...receipts.values()].map((at) => at - fired).sort((a, b) => a - b);
  const beyond = latencies.map((l) => l - GROUP_WAIT_MS);
  const deliverAllS = (lastReceipt - fired) / 1000;
  const p99 = quantile(latencies, 0.99);
  const rssGrowthMb = (rssPeak - rssBefore) / 2 ** 20;

  const rows: [string, string][] = [
    ['alerts fired at once (servers)', `${ALERTS} (${ALERTS})`],
    ['notifications received', `${report.requests ?? 0}`],
    ['group_wait', `${GROUP_WAIT_MS} ms`],
    ['firing → all delivered', `${deliverAllS.toFixed(3)} s`],
    ['firing → first receipt', `${(latencies[0] ?? NaN).toFixed(1)} ms`],
    ['firing → receipt p50', `${quantile(latencies, 0.5).toFixed(1)} ms`],
    ['firing → receipt p99', `${p99.toFixed(1)} ms`],
    ['firing → receipt max', `${(latencies.at(-1) ?? NaN).toFixed(1)} ms`],
    ['beyond group_wait p99', `${quantile(beyond, 0.99).toFixed(1)} ms (target ≤ 1000 ms)`],
    [
      'CPU of the exporter side',
      `${cpuMs.toFixed(0)} ms, ${(cpuMs / ALERTS).toFixed(2)} ms per notification`,
    ],
    ['load average (1 min, 2 cores)', loadavg()[0]?.toFixed(1) ?? '?'],
    ['outbox left / dead letters', `${notifier.outbox.size} / ${notifier.outbox.deadLettersTotal}`],
    ['receiver failures', `${status?.consecutiveFailures ?? 0}`],
    ['RSS before / peak', `${(rssBefore / 2 ** 20).toFixed(1)} MB / ${(rssPeak / 2 ** 20).toFixed(1)} MB`],
    ['RSS growth', `${rssGrowthMb.toFixed(1)} MB`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('notify benchmark: 1,000 alerts on 1,000 servers → local webhook (outbox in the data dir)');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);

  await notifier.stop();
  child.send({ cmd: 'stop' });
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  if (receipts.size !== ALERTS) process.exitCode = 1;
  console.log(
    JSON.stringify({
      deliver_all_s_1000: Number(deliverAllS.toFixed(3)),
      p99_ms_firing_to_receipt: Number(p99.toFixed(1)),
      rss_growth_mb: Number(rssGrowthMb.toFixed(1)),
      group_wait_ms: GROUP_WAIT_MS,
      p99_ms_beyond_group_wait: Number(quantile(beyond, 0.99).toFixed(1)),
      delivered: receipts.size,
    }),
  );
}

await main();
