/**
 * The bounded, seeded fuzzing run of `npm test`: a few thousand hostile requests against every endpoint of
 * one spawned exporter, then a check that it still answers correctly. On failure it prints the seed, each
 * distinct failure with the request (as JSON, for `npm run fuzz -w exporter -- --replay <file>`) and the
 * response. FUZZ_SEED and FUZZ_REQUESTS change the seed and the count; the long run is `npm run fuzz`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { EXPORTER_DIR, type ExporterProcess } from './exporter-process.js';
import { endpointTable, failureReport, writeFailures } from './fuzz/report.js';
import { checkExporterHealthy, FuzzSession } from './fuzz/session.js';
import {
  FUZZ_SERVERS,
  LOOP_BUDGET_MS,
  QUERY_TIMEOUT_MS,
  SLACK_MS,
  startTarget,
  targetArbitrary,
} from './fuzz/target.js';

/** SEED and REQUESTS: a fixed default seed keeps `npm test` reproducible; the env vars explore further. */
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2_000);

/**
 * BUDGET_MS bounds the session's wall time on a shared 2-core machine: a healthy exporter answers the
 * default 2,000 requests in well under it; a stalling one stops the session instead of the test timing out.
 */
const BUDGET_MS = 40_000;

/** ARTIFACTS_DIR receives the failing requests of a failed run (ignored by git: `artifacts/`). */
const ARTIFACTS_DIR = join(EXPORTER_DIR, 'artifacts/fuzz');

describe('fuzzing every endpoint', () => {
  let exporter: ExporterProcess;

  beforeAll(async () => {
    exporter = await startTarget();
  });

  afterAll(async () => {
    await exporter?.stop();
  });

  it(`answers ${REQUESTS} seeded hostile requests within the rules (seed ${SEED})`, async () => {
    const nowMs = Date.now();
    const session = new FuzzSession(exporter, {
      seed: SEED,
      requests: REQUESTS,
      concurrency: 4,
      arbitrary: targetArbitrary(nowMs),
      nowMs,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
      slackMs: SLACK_MS,
      loopBudgetMs: LOOP_BUDGET_MS,
      monitorEveryMs: 1_000,
      budgetMs: BUDGET_MS,
      stallProbeMs: 10_000,
    });
    const result = await session.run();
    const artifact = result.failures.length > 0 ? writeFailures(result, ARTIFACTS_DIR) : undefined;
    const report = `seed ${SEED}, now ${nowMs}, ${result.sent} requests\n${endpointTable(result)}\n\n${failureReport(result, artifact)}`;
    // The report (seed, table, each failure's request and answer) is printed once; the assertion lists the keys.
    if (result.failures.length > 0) console.log(report);
    expect(result.failures.map((f) => `${f.key} (×${f.count})`)).toEqual([]);
  }, 120_000);

  it('still serves correct answers afterwards (ready, known query, series, a WebSocket broadcast)', async () => {
    const problems = await checkExporterHealthy(exporter, { servers: FUZZ_SERVERS, withinMs: 10_000 });
    expect(problems).toEqual([]);
  }, 60_000);
});
