/**
 * Helpers for tests of the exporter composed in this process. startInProcess composes the exporter on the embedded store, with a fresh self-metrics
 * registry, a silent logger and a scenario-free fleet of the options' seed, and starts it without its
 * scheduler: the test drives time (a ManualClock, and the timer it passes) and calls `app.tick()` itself.
 */
import { composeExporter, type ComposeParts, type Exporter } from '../src/compose.js';
import { createSelfRegistry } from '../src/metrics/self-metrics.js';
import { DEFAULT_OPTIONS, type ExporterOptions } from '../src/options.js';
import { Fleet } from '../src/simulator/index.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import { silentLogger } from '../src/util/logger.js';
import WebSocket from 'ws';
import { pollUntil } from './poll.js';

/**
 * testOptions are the defaults with what an in-process test wants: an ephemeral port on 127.0.0.1, no
 * backfill, no scheduled scenarios, no analysis, the bearer token `token`; `over` changes any of them.
 */
export function testOptions(
  dataDir: string,
  token: string,
  over: Partial<ExporterOptions> = {},
): ExporterOptions {
  return {
    ...DEFAULT_OPTIONS,
    dataDir,
    port: 0,
    host: '127.0.0.1',
    backfill: 0,
    apiToken: token,
    scenarioRate: 0,
    analysisInterval: 0,
    ...over,
  };
}

/** startInProcess builds and starts the exporter; `parts` adds the clock, timer, env (and may replace the fleet). */
export async function startInProcess(
  options: ExporterOptions,
  parts: Partial<Omit<ComposeParts, 'options' | 'logger' | 'registry' | 'storage'>> = {},
): Promise<Exporter> {
  const logger = silentLogger();
  const registry = createSelfRegistry({ defaultMetrics: false });
  const fleet = parts.fleet ?? new Fleet({ seed: options.seed, scenarioRatePerHour: 0 });
  const storage = await EmbeddedStorage.open({ registry, logger });
  const ex = await composeExporter({ ...parts, options, logger, registry, fleet, storage });
  await ex.app.start({ schedule: false });
  return ex;
}

/** postJson POSTs `body` as JSON to `url`, with `Authorization: Bearer <token>` unless `token` is null. */
export function postJson(url: string, body: unknown, token: string | null): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
}

/**
 * subscribeHub opens a WebSocket to the exporter's hub, subscribes to `channels` and resolves once the hub
 * counts the connection; `onData` gets each data message's channel and payload.
 */
export async function subscribeHub(
  ex: Exporter,
  channels: readonly string[],
  onData: (channel: string, data: unknown) => void,
): Promise<WebSocket> {
  const before = ex.hub.connectionCounts().total;
  const ws = new WebSocket(`${ex.app.url.replace('http', 'ws')}/ws`);
  ws.on('message', (raw: Buffer) => {
    const m = JSON.parse(raw.toString('utf8')) as { type: string; channel?: string; data?: unknown };
    if (m.type === 'data' && m.channel !== undefined) onData(m.channel, m.data);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'subscribe', channels }));
  await pollUntil('the hub subscription', () => ex.hub.connectionCounts().total > before);
  return ws;
}
