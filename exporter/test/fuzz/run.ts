/**
 * The long fuzzing run: `npm run fuzz -w exporter -- [--requests N] [--seed S] [--concurrency C] [--now MS]
 * [--from I]` (`--from` starts at request I of the seed's sequence, to rerun the window of a failure).
 * It spawns an exporter, sends N seeded hostile requests (default 100,000), prints progress on stderr, and
 * on a crash or stall saves the last requests to artifacts/fuzz/ for replay, restarts the exporter and goes
 * on. At the end it prints the table by endpoint, every distinct failure with an example, and as its last
 * line one JSON object (requests, five_xx, crashes, max_loop_block_ms, …). Exit status 1 when anything failed.
 *
 * `--replay FILE` sends the requests saved in FILE (a crash file, a failures file, a JSON array of requests, or
 * one request) one by one to a fresh exporter (or to `--url`), printing each answer, what the oracle says of it
 * and whether it blocked the event loop; `--replay-range FROM:TO --seed S --now MS` does the same with requests
 * FROM … TO-1 of a seeded session (to find which request of a window blocked the loop); `--settle-ms N` waits
 * N ms after each answer before reading the loop lag (for effects that come with the next tick).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseExposition, type ParsedFamily } from '../exposition-parser.js';
import { EXPORTER_DIR, type ExporterProcess } from '../exporter-process.js';
import { DEFAULT_BODY_LIMIT, send } from './client.js';
import { summarizeRequest, summarizeResponse, type FuzzRequest } from './model.js';
import { check } from './oracle.js';
import { endpointTable, failureReport, summaryJson, writeFailures } from './report.js';
import { generateRequests } from './requests.js';
import { blocksOver, checkExporterHealthy, FuzzSession, lagSnapshot, type FatalEvent } from './session.js';
import {
  FUZZ_SERVERS,
  LOOP_BUDGET_MS,
  QUERY_TIMEOUT_MS,
  SLACK_MS,
  startTarget,
  targetArbitrary,
} from './target.js';

/** ARTIFACTS_DIR is where crash and stall files go (ignored by git: `artifacts/`). */
const ARTIFACTS_DIR = join(EXPORTER_DIR, 'artifacts/fuzz');

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    from: { type: 'string', default: '0' },
    seed: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    now: { type: 'string' },
    replay: { type: 'string' },
    'replay-range': { type: 'string' },
    'settle-ms': { type: 'string' },
    url: { type: 'string' },
  },
  strict: true,
});

function positiveInt(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative integer, got ${String(text)}\n`);
    process.exit(2);
  }
  return n;
}

/** saveFatal writes a crash or stall with the requests before it, in the format `--replay` reads. */
function saveFatal(seed: number, nowMs: number, e: FatalEvent, n: number): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = join(ARTIFACTS_DIR, `${e.kind}-seed${seed}-${n}.json`);
  writeFileSync(
    file,
    JSON.stringify({ seed, nowMs, kind: e.kind, exporter: e.exporter, recent: e.recent }, null, 1),
  );
  return file;
}

/** readReplay reads the requests of a replay file in any of the three shapes. */
function readReplay(file: string): FuzzRequest[] {
  const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (Array.isArray(json)) return json as FuzzRequest[];
  if (typeof json === 'object' && json !== null && 'requests' in json)
    return (json as { requests: FuzzRequest[] }).requests;
  if (typeof json === 'object' && json !== null && 'recent' in json)
    return (json as { recent: { request: FuzzRequest }[] }).recent.map((r) => r.request);
  return [json as FuzzRequest];
}

/** lagOver reads how many event-loop lag observations exceeded the budget so far, and the max gauge. */
async function lagOver(exporter: {
  metrics(): Promise<ReadonlyMap<string, ParsedFamily>>;
}): Promise<{ over: number; maxMs: number }> {
  const snap = lagSnapshot(await exporter.metrics(), 0);
  return { over: blocksOver(snap, LOOP_BUDGET_MS), maxMs: snap.max * 1000 };
}

/**
 * replay sends requests one at a time to a fresh exporter (or to --url), printing each answer, what the
 * oracle says of it and whether the event loop was blocked beyond the budget while it ran (read from the
 * exporter's lag histogram after the answer, and after --settle-ms more for effects that come later, such
 * as the next tick after a scenario change). A crashed or stalled exporter of its own is restarted.
 */
async function replay(requests: readonly { index: number; request: FuzzRequest }[]): Promise<void> {
  let own = values.url === undefined ? await startTarget() : undefined;
  const urlOf = (): string => values.url ?? own?.url ?? '';
  const probe = (): Promise<{ over: number; maxMs: number }> =>
    lagOver(own ?? { metrics: () => fetchMetrics(urlOf()) });
  const settleMs = values['settle-ms'] === undefined ? 0 : positiveInt('settle-ms', values['settle-ms']);
  const agent = new Agent({ keepAlive: true });
  const totals = { violations: 0, blocks: 0, crashes: 0, stalls: 0 };
  const restart = async (): Promise<boolean> => {
    if (own === undefined) return false;
    await own.kill();
    own = await startTarget();
    return true;
  };
  try {
    let lag = await probe();
    for (const { index, request } of requests) {
      const res = await send(request, {
        baseUrl: urlOf(),
        deadlineMs: QUERY_TIMEOUT_MS + SLACK_MS + 5_000,
        rawIdleMs: 2_000,
        bodyLimit: DEFAULT_BODY_LIMIT,
        agent,
        nowMs: Date.now(),
      });
      const found = check(request, res, { answerWithinMs: QUERY_TIMEOUT_MS + SLACK_MS });
      totals.violations += found.length;
      console.log(
        `#${index} ${summarizeRequest(request, 300)}\n  -> ${summarizeResponse(res, 400).replace(/\n/g, '\n     ')}`,
      );
      for (const v of found) console.log(`  !! ${v.kind}: ${v.detail}`);
      if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
      let now: { over: number; maxMs: number };
      try {
        now = await probe();
      } catch {
        // A dead exporter refuses at once, maybe before its exit is reported: wait for that, bounded.
        if (own !== undefined) await Promise.race([own.exited, new Promise((r) => setTimeout(r, 5_000))]);
        const crashed = own !== undefined && !own.alive();
        totals[crashed ? 'crashes' : 'stalls']++;
        console.log(`  !! the exporter ${crashed ? 'died' : 'stopped answering'}\n${own?.describe() ?? ''}`);
        if (!(await restart())) break;
        lag = await probe();
        continue;
      }
      if (now.over > lag.over) {
        totals.blocks += now.over - lag.over;
        console.log(
          `  !! event loop blocked > ${LOOP_BUDGET_MS} ms (${now.over - lag.over}×; max since start ${Math.round(now.maxMs)} ms)`,
        );
      }
      lag = now;
    }
  } finally {
    agent.destroy();
    await own?.stop();
  }
  console.log(
    JSON.stringify({
      replayed: requests.length,
      violations: totals.violations,
      loop_blocks_over_budget: totals.blocks,
      crashes: totals.crashes,
      stalls: totals.stalls,
    }),
  );
  process.exitCode = Object.values(totals).some((n) => n > 0) ? 1 : 0;
}

async function fetchMetrics(url: string): Promise<ReadonlyMap<string, ParsedFamily>> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return parseExposition(await res.text(), 'text');
}

async function main(): Promise<void> {
  if (values.replay !== undefined)
    return replay(readReplay(values.replay).map((request, index) => ({ index, request })));
  if (values['replay-range'] !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(values['replay-range']);
    if (!m || values.seed === undefined || values.now === undefined) {
      process.stderr.write(
        '--replay-range FROM:TO needs --seed and --now (both printed by the run that failed)\n',
      );
      process.exit(2);
    }
    const from = Number(m[1]);
    const arbitrary = targetArbitrary(positiveInt('now', values.now));
    const requests = generateRequests(arbitrary, positiveInt('seed', values.seed), from, Number(m[2]) - from);
    return replay(requests.map((request, i) => ({ index: from + i, request })));
  }
  const requests = positiveInt('requests', values.requests);
  const concurrency = Math.max(1, positiveInt('concurrency', values.concurrency));
  const seed =
    values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positiveInt('seed', values.seed);
  const nowMs = values.now === undefined ? Date.now() : positiveInt('now', values.now);
  process.stderr.write(
    `fuzz: seed ${seed}, now ${nowMs}, ${requests} requests, concurrency ${concurrency}\n`,
  );
  const exporter: ExporterProcess = await startTarget();
  let fatalCount = 0;
  const session = new FuzzSession(exporter, {
    seed,
    from: positiveInt('from', values.from),
    requests,
    concurrency,
    arbitrary: targetArbitrary(nowMs),
    nowMs,
    queryTimeoutMs: QUERY_TIMEOUT_MS,
    slackMs: SLACK_MS,
    loopBudgetMs: LOOP_BUDGET_MS,
    monitorEveryMs: 2_000,
    restart: () => {
      process.stderr.write('fuzz: restarting the exporter\n');
      return startTarget();
    },
    onFatal: (e) => {
      const file = saveFatal(seed, nowMs, e, ++fatalCount);
      process.stderr.write(
        `fuzz: ${e.kind} at ${(e.atMs / 1000).toFixed(1)} s; last requests saved to ${file}\n`,
      );
    },
    onProgress: (p) =>
      process.stderr.write(
        `fuzz: ${(p.elapsedMs / 1000).toFixed(0)} s  ${p.sent.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} requests  ` +
          `${Math.round((p.sent / p.elapsedMs) * 1000)}/s  5xx ${p.fiveXx} (+${p.allowed503} allowed 503)  violating ${p.violations}  crashes ${p.crashes}  stalls ${p.stalls}\n`,
      ),
    progressEveryMs: 10_000,
  });
  const result = await session.run();
  const problems = await checkExporterHealthy(result.exporter, { servers: FUZZ_SERVERS, withinMs: 10_000 });
  await result.exporter.stop();
  console.log(`seed ${seed}, now ${nowMs}\n`);
  console.log(endpointTable(result));
  const artifact = result.failures.length > 0 ? writeFailures(result, ARTIFACTS_DIR) : undefined;
  console.log(`\n${failureReport(result, artifact)}`);
  console.log(
    problems.length === 0
      ? '\nafter the session: healthy'
      : `\nafter the session:\n- ${problems.join('\n- ')}`,
  );
  const summary = summaryJson(result, problems.length === 0);
  process.exitCode = result.failures.length > 0 || problems.length > 0 ? 1 : 0;
  console.log(JSON.stringify(summary));
}

main().catch((err: unknown) => {
  process.stderr.write(`fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
