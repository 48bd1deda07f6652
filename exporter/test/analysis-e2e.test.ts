/**
 * The anomaly analysis end to end, in-process: a scenario injected over HTTP reaches the store through the
 * generation loop, and the analysis — reading the store only — names the server on the hub's `ai-analysis`
 * channel within two analysis runs; `GET /api/analysis`, its annotations and the stored anomaly series agree.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { composeExporter, type Exporter } from '../src/compose.js';
import {
  aiAnalysisSchema,
  analysisStateSchema,
  annotationSchema,
  type AiAnalysis,
} from '../src/contract/index.js';
import { createSelfRegistry } from '../src/metrics/self-metrics.js';
import { DEFAULT_OPTIONS, type ExporterOptions } from '../src/options.js';
import { Fleet } from '../src/simulator/index.js';
import { EmbeddedStorage } from '../src/tsdb/embedded/embedded-storage.js';
import { ManualClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/logger.js';
import { pollUntil } from './poll.js';

const TICK_MS = 15_000;
const ANALYSIS_MS = 30_000;
/** T0 is a tick-aligned afternoon instant (2026-11-03T14:00:00Z) so runs are reproducible. */
const T0 = Date.UTC(2026, 10, 3, 14);
const TOKEN = 'test-token';
const SERVER = 'api-02';

let ex: Exporter;
let base: string;
const clock = new ManualClock(T0);
const messages: AiAnalysis[] = [];
let ws: WebSocket;

/** step advances the simulated clock by one tick and runs the generation pipeline (frame → store → rules). */
async function step(): Promise<void> {
  clock.advance(TICK_MS);
  await ex.app.tick();
}

beforeAll(async () => {
  const options: ExporterOptions = {
    ...DEFAULT_OPTIONS,
    dataDir: mkdtempSync(join(tmpdir(), 'om-analysis-')),
    port: 0,
    host: '127.0.0.1',
    // Three hours of history: the reference window of every series is full from the first run.
    backfill: 3 * 3_600_000,
    apiToken: TOKEN,
    scenarioRate: 0,
    ruleFiles: ['/nonexistent/*.yml'],
  };
  const logger = silentLogger();
  const registry = createSelfRegistry({ defaultMetrics: false });
  const fleet = new Fleet({ seed: options.seed, scenarioRatePerHour: 0 });
  const storage = await EmbeddedStorage.open({ registry, logger });
  ex = await composeExporter({ options, logger, registry, fleet, clock, storage });
  await ex.app.start({ schedule: false });
  base = ex.app.url;
  ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
  ws.on('message', (raw: Buffer) => {
    const m = JSON.parse(raw.toString('utf8')) as { type: string; channel?: string; data?: unknown };
    if (m.type === 'data' && m.channel === 'ai-analysis') messages.push(aiAnalysisSchema.parse(m.data));
  });
  await new Promise<void>((resolve) => ws.once('open', () => resolve()));
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['ai-analysis'] }));
  await pollUntil('the subscription', () => ex.hub.connectionCounts().total === 1);
  // A quiet first run over the backfilled history.
  await step();
  await step();
  await ex.analysis!.run(clock.now());
}, 180_000);

afterAll(async () => {
  ws?.close();
  await ex?.app.stop();
});

describe('analysis end to end', () => {
  it('runs quietly over a healthy fleet and publishes each run on ai-analysis', async () => {
    const first = await pollUntil('the first ai-analysis message', () => messages[0]);
    expect(first.generatedAt).toBe(clock.now());
    expect(first.scores).toHaveLength(20);
    expect(first.findings.filter((f) => f.server === SERVER)).toEqual([]);
    // Three hours of history hold no daily profile yet: an afternoon's memory rise is the day, not a leak,
    // and no healthy server is forecast to run out of memory.
    const state = analysisStateSchema.parse(await (await fetch(`${base}/api/analysis`)).json());
    expect(state.forecasts.filter((f) => f.memory !== null).map((f) => f.server)).toEqual([]);
  });

  it('names the server of a scenario injected over HTTP within two analysis runs', async () => {
    const res = await fetch(`${base}/api/scenarios`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'cpu_spike', server: SERVER, intensity: 0.8, durationSeconds: 600 }),
    });
    expect(res.status).toBe(201);
    const before = messages.length;
    let found: AiAnalysis['findings'][number] | undefined;
    for (let run = 0; run < 2 && !found; run++) {
      await step();
      await step();
      await ex.analysis!.run(clock.now());
      const msg = await pollUntil('an ai-analysis message for the run', () => messages[before + run]);
      found = msg.findings.find((f) => f.server === SERVER && f.state === 'open');
    }
    expect(found).toMatchObject({ server: SERVER, signal: 'cpu', kind: 'anomaly', state: 'open' });
    expect(found!.summary).toMatch(/^api-02 CPU spike since \d\d:\d\d UTC/);
  });

  it('serves the state on GET /api/analysis and the findings as annotations', async () => {
    const res = await fetch(`${base}/api/analysis`);
    expect(res.status).toBe(200);
    const state = analysisStateSchema.parse(await res.json());
    expect(state.generatedAt).toBe(clock.now());
    expect(state.findings.some((f) => f.server === SERVER)).toBe(true);
    expect(state.scores.find((s) => s.server === SERVER)?.score).toBeGreaterThanOrEqual(0.5);
    expect(state.forecasts.find((f) => f.server === SERVER)?.cpu).toHaveLength(12);
    const ann = await fetch(`${base}/api/analysis/annotations?from=${T0}&to=${clock.now()}`);
    const list = annotationSchema.array().parse(await ann.json());
    expect(list.some((a) => a.tags.includes(SERVER) && a.title === `${SERVER}: CPU spike`)).toBe(true);
    const bad = await fetch(`${base}/api/analysis/annotations?from=yesterday`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: {
        code: 'OM_BAD_PARAM',
        message: 'invalid query parameter "from": must be a time in Unix milliseconds',
      },
    });
  });

  it('stores its scores as series that PromQL reads', async () => {
    const q = encodeURIComponent(`openmanager_anomaly_score{server="${SERVER}",signal="cpu"}`);
    const res = await fetch(`${base}/api/prometheus/api/v1/query?query=${q}&time=${clock.now() / 1000}`);
    const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
    expect(Number(body.data.result[0]?.value[1])).toBeGreaterThanOrEqual(0.5);
    expect(ANALYSIS_MS).toBe(DEFAULT_OPTIONS.analysisInterval);
  });
});
