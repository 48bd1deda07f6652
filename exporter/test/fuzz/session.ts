/**
 * FuzzSession drives one fuzzing session against a spawned exporter: it draws the seed's requests, sends
 * them with bounded concurrency, runs the oracle on every answer, watches the exporter's event-loop lag
 * histogram between requests (a block of more than 250 ms is a failure, blamed on the requests that were in
 * flight), and notices a crash (the process exited) or a stall (it stopped answering /healthz). After a crash
 * or stall it either stops (the test) or records the last requests, restarts the exporter and goes on (the
 * long run). `checkExporterHealthy` is the after-session check that the exporter still answers correctly.
 */
import { Agent } from 'node:http';
import type fc from 'fast-check';
import WebSocket from 'ws';
import { LAG_BUCKETS_SECONDS } from '../../src/metrics/event-loop-lag.js';
import type { ParsedFamily } from '../exposition-parser.js';
import type { ExporterProcess } from '../exporter-process.js';
import { DEFAULT_BODY_LIMIT, rawDataBuffer, send } from './client.js';
import { summarizeResponse, type Endpoint, type FuzzRequest, type FuzzResponse } from './model.js';
import { check, type Violation, type ViolationKind } from './oracle.js';
import { generateRequests, REQUESTS_PER_BLOCK } from './requests.js';

/** LAG_HISTOGRAM and LAG_MAX are the exporter's event-loop lag metrics (src/metrics/event-loop-lag.ts). */
const LAG_HISTOGRAM = 'openmanager_exporter_event_loop_lag_seconds';
const LAG_MAX = 'openmanager_exporter_event_loop_lag_max_seconds';
/** JOB_BLOCK_MAX is the scheduler's per-job longest block (lag while on CPU) seen while a run was in flight. */
const JOB_BLOCK_MAX = 'openmanager_exporter_scheduler_job_loop_block_max_seconds';

/** DEFAULT_STALL_PROBE_MS is how long /healthz may stay silent after a timeout before the exporter counts as stalled. */
const DEFAULT_STALL_PROBE_MS = 30_000;

/** EXIT_REPORT_MS bounds the wait for a child's exit to be reported after /healthz was refused. */
const EXIT_REPORT_MS = 5_000;

/** RECENT_KEPT is how many of the latest requests a crash or stall record keeps for replay. */
const RECENT_KEPT = 50;

/** EXAMPLES_PER_FAILURE bounds the examples kept per distinct failure (the rest are only counted). */
const EXAMPLES_PER_FAILURE = 3;

/** SessionOptions configures a session. */
export interface SessionOptions {
  readonly seed: number;
  /** from is the index of the first request of the seed's sequence to send (default 0). */
  readonly from?: number;
  readonly requests: number;
  readonly concurrency: number;
  /** arbitrary draws the requests (requestArbitraries(…).any). */
  readonly arbitrary: fc.Arbitrary<FuzzRequest>;
  /** nowMs is the instant the generators were anchored at (bodies built at send time use it too). */
  readonly nowMs: number;
  /** queryTimeoutMs is the exporter's --query-timeout; answers may take it plus slackMs. */
  readonly queryTimeoutMs: number;
  readonly slackMs: number;
  /** loopBudgetMs is the longest allowed event-loop block; it must be a bucket bound of the lag histogram. */
  readonly loopBudgetMs: number;
  /** monitorEveryMs is the period of the lag checks. */
  readonly monitorEveryMs: number;
  /** stallProbeMs is how long /healthz may stay silent after a timeout (default 30 s) before it is a stall. */
  readonly stallProbeMs?: number;
  /** budgetMs stops drawing new requests after this much wall time (the test's bound). */
  readonly budgetMs?: number;
  /** restart, when given, replaces a crashed or stalled exporter and the session goes on; else it stops. */
  readonly restart?: () => Promise<ExporterProcess>;
  /** onFatal is told about each crash or stall (run.ts saves the recent requests for replay). */
  readonly onFatal?: (event: FatalEvent) => void;
  /** onProgress is called every progressEveryMs with the running totals. */
  readonly onProgress?: (p: Progress) => void;
  readonly progressEveryMs?: number;
}

/** EndpointStats are one endpoint's totals. */
export interface EndpointStats {
  requests: number;
  /** statuses counts answers by HTTP status or by error (`timeout`, `ECONNRESET`, `ws-1008` …). */
  readonly statuses: Map<string, number>;
  maxMs: number;
  totalMs: number;
  violations: number;
}

/** Failure is one distinct broken rule with its first examples. */
export interface Failure {
  readonly key: string;
  readonly kind: ViolationKind | 'loop-block' | 'crash' | 'stall';
  readonly endpoint: Endpoint | 'exporter';
  count: number;
  readonly examples: { index: number; request?: FuzzRequest; response?: string; detail: string }[];
}

/** FatalEvent is a crash (the exporter exited) or a stall (it stopped answering). */
export interface FatalEvent {
  readonly kind: 'crash' | 'stall';
  readonly atMs: number;
  readonly exporter: string;
  /** recent are the last requests started before it, oldest first, with their sequence index. */
  readonly recent: readonly { index: number; request: FuzzRequest }[];
}

/** LoopBlock is a monitoring window in which the event loop was blocked beyond the budget. */
export interface LoopBlock {
  readonly fromMs: number;
  readonly toMs: number;
  readonly blocks: number;
  /** maxMs is the longest block in the window as far as it is known (the max gauge or a bucket bound). */
  readonly maxMs: number;
  /** suspects are the slowest requests in flight during the window. */
  readonly suspects: readonly { index: number; ms: number; request: FuzzRequest }[];
  /**
   * jobs are the periodic jobs whose longest block rose over the budget in the window, with that block: a
   * block no request explains is then told apart as a job's (or neither, when this is empty).
   */
  readonly jobs: readonly { job: string; ms: number }[];
}

/** Progress is what onProgress reports. */
export interface Progress {
  readonly elapsedMs: number;
  readonly sent: number;
  readonly total: number;
  /** fiveXx counts 5xx answers other than the 503s Prometheus would give (overload, timeout, not ready). */
  readonly fiveXx: number;
  readonly allowed503: number;
  readonly violations: number;
  readonly crashes: number;
  readonly stalls: number;
}

/** SessionResult is everything a session found. */
export interface SessionResult {
  readonly seed: number;
  readonly sent: number;
  readonly elapsedMs: number;
  readonly stats: ReadonlyMap<Endpoint, EndpointStats>;
  readonly failures: readonly Failure[];
  readonly fatal: readonly FatalEvent[];
  readonly loopBlocks: readonly LoopBlock[];
  /** maxLoopBlockMs is the longest block seen during the session (an upper bucket bound when not exact). */
  readonly maxLoopBlockMs: number;
  /** fiveXx counts 5xx answers other than the 503s Prometheus would give (overload, timeout, not ready). */
  readonly fiveXx: number;
  readonly allowed503: number;
  readonly violations: number;
  /** exporter is the exporter the session ended with (a restarted one after a crash). */
  readonly exporter: ExporterProcess;
}

interface Tracked {
  readonly index: number;
  readonly request: FuzzRequest;
  readonly startMs: number;
  endMs: number | undefined;
}

/** LagSnapshot is the exporter's event-loop lag histogram and max gauge at one moment. */
export interface LagSnapshot {
  readonly atMs: number;
  /** buckets maps each bucket bound (seconds) to its cumulative count. */
  readonly buckets: ReadonlyMap<number, number>;
  readonly count: number;
  /** max is the largest lag since the exporter started, in seconds. */
  readonly max: number;
  /** jobBlocks maps each scheduler job to its longest block so far, in seconds. */
  readonly jobBlocks: ReadonlyMap<string, number>;
}

/** lagSnapshot reads the lag metrics out of a parsed /metrics. */
export function lagSnapshot(families: ReadonlyMap<string, ParsedFamily>, atMs: number): LagSnapshot {
  const h = families.get(LAG_HISTOGRAM);
  const buckets = new Map<number, number>();
  let count = 0;
  for (const s of h?.samples ?? []) {
    if (s.name === `${LAG_HISTOGRAM}_bucket` && s.labels.le !== undefined)
      buckets.set(Number(s.labels.le), s.value);
    if (s.name === `${LAG_HISTOGRAM}_count`) count = s.value;
  }
  const max = families.get(LAG_MAX)?.samples[0]?.value ?? 0;
  const jobBlocks = new Map<string, number>();
  for (const s of families.get(JOB_BLOCK_MAX)?.samples ?? [])
    if (s.labels.job !== undefined) jobBlocks.set(s.labels.job, s.value);
  return { atMs, buckets, count, max, jobBlocks };
}

/** blocksOver counts the lag observations above `budgetMs` (a bucket bound) in a snapshot. */
export function blocksOver(s: LagSnapshot, budgetMs: number): number {
  return s.count - (s.buckets.get(budgetMs / 1000) ?? 0);
}

/** statusKey names an answer for the status table. */
function statusKey(res: FuzzResponse): string {
  if (res.error !== undefined && res.status === 0)
    return res.error.startsWith('client-refused') ? 'refused' : res.error;
  if (res.closeCode !== undefined) return `ws-${res.closeCode}`;
  return String(res.status);
}

/** failureKey groups violations that are the same problem (numbers stripped from the detail). */
function failureKey(kind: string, endpoint: string, detail: string): string {
  return `${kind} | ${endpoint} | ${detail.replace(/\d+(\.\d+)?/g, '#').slice(0, 90)}`;
}

/** FuzzSession runs one session; construct, then `run()` once. */
export class FuzzSession {
  private proc: ExporterProcess;
  private agent: Agent;
  private next: number;
  private sent = 0;
  private stopped = false;
  private epoch = 0;
  private fatalInFlight: Promise<void> | undefined;
  private readonly started = performance.now();
  private readonly stats = new Map<Endpoint, EndpointStats>();
  private readonly failures = new Map<string, Failure>();
  private readonly fatal: FatalEvent[] = [];
  private readonly loopBlocks: LoopBlock[] = [];
  private readonly tracked: Tracked[] = [];
  private blocks: { from: number; items: FuzzRequest[] } | undefined;
  private lastLag: LagSnapshot | undefined;
  private maxLoopBlockMs = 0;
  private fiveXx = 0;
  private allowed503 = 0;
  private violations = 0;

  constructor(
    proc: ExporterProcess,
    private readonly o: SessionOptions,
  ) {
    this.proc = proc;
    this.next = o.from ?? 0;
    this.agent = new Agent({ keepAlive: true, maxSockets: o.concurrency * 2 });
    const budget = o.loopBudgetMs / 1000;
    if (!LAG_BUCKETS_SECONDS.includes(budget))
      throw new Error(`loopBudgetMs ${o.loopBudgetMs} is not a bucket bound of ${LAG_HISTOGRAM}`);
  }

  private now(): number {
    return performance.now() - this.started;
  }

  private requestAt(i: number): FuzzRequest {
    const from = Math.floor(i / REQUESTS_PER_BLOCK) * REQUESTS_PER_BLOCK;
    if (this.blocks?.from !== from) {
      this.blocks = {
        from,
        items: generateRequests(this.o.arbitrary, this.o.seed, from, REQUESTS_PER_BLOCK),
      };
    }
    const r = this.blocks.items[i - from];
    if (r === undefined) throw new Error(`no request ${i}`);
    return r;
  }

  private record(
    kind: Failure['kind'],
    endpoint: Failure['endpoint'],
    detail: string,
    example: Failure['examples'][number],
  ): void {
    const key = failureKey(kind, endpoint, detail);
    let f = this.failures.get(key);
    if (f === undefined) this.failures.set(key, (f = { key, kind, endpoint, count: 0, examples: [] }));
    f.count++;
    if (f.examples.length < EXAMPLES_PER_FAILURE) f.examples.push(example);
  }

  private statsFor(e: Endpoint): EndpointStats {
    let s = this.stats.get(e);
    if (s === undefined)
      this.stats.set(e, (s = { requests: 0, statuses: new Map(), maxMs: 0, totalMs: 0, violations: 0 }));
    return s;
  }

  /** readLag reads the lag histogram and turns any growth of its over-budget count into a LoopBlock. */
  private async readLag(): Promise<void> {
    const epoch = this.epoch;
    let families: ReadonlyMap<string, ParsedFamily>;
    try {
      families = await this.proc.metrics(this.o.queryTimeoutMs + this.o.slackMs);
    } catch {
      return; // a crash or stall is noticed by the requests; the next read compares against the last good one
    }
    if (epoch !== this.epoch) return;
    const snap = lagSnapshot(families, this.now());
    const prev = this.lastLag;
    this.lastLag = snap;
    if (prev === undefined) return;
    const blocks = blocksOver(snap, this.o.loopBudgetMs) - blocksOver(prev, this.o.loopBudgetMs);
    // The longest new observation: the max gauge when it rose, else the smallest bucket bound holding all new ones.
    let maxMs = 0;
    if (snap.max > prev.max) maxMs = snap.max * 1000;
    else if (snap.count > prev.count) {
      const newCount = snap.count - prev.count;
      const bound = LAG_BUCKETS_SECONDS.find(
        (le) => (snap.buckets.get(le) ?? 0) - (prev.buckets.get(le) ?? 0) >= newCount,
      );
      maxMs = (bound ?? prev.max) * 1000;
    }
    this.maxLoopBlockMs = Math.max(this.maxLoopBlockMs, maxMs);
    if (blocks <= 0) return;
    const suspects = this.tracked
      .filter((t) => t.startMs <= snap.atMs && (t.endMs ?? Infinity) >= prev.atMs)
      .map((t) => ({ index: t.index, ms: (t.endMs ?? snap.atMs) - t.startMs, request: t.request }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5);
    const jobs = [...snap.jobBlocks]
      .filter(([job, v]) => v > (prev.jobBlocks.get(job) ?? 0) && v * 1000 > this.o.loopBudgetMs)
      .map(([job, v]) => ({ job, ms: v * 1000 }));
    const block: LoopBlock = { fromMs: prev.atMs, toMs: snap.atMs, blocks, maxMs, suspects, jobs };
    this.loopBlocks.push(block);
    const top = suspects[0];
    // One key for every block: the suspects are whoever was in flight, the culprit needs a replay to tell.
    this.record('loop-block', 'exporter', `event loop blocked > ${this.o.loopBudgetMs} ms`, {
      index: top?.index ?? -1,
      ...(top ? { request: top.request } : {}),
      detail: `${blocks} block(s) over ${this.o.loopBudgetMs} ms, longest ~${Math.round(maxMs)} ms, between ${Math.round(prev.atMs)} and ${Math.round(snap.atMs)} ms; slowest in flight: ${suspects.map((s) => `#${s.index} ${Math.round(s.ms)} ms`).join(', ')}; jobs over budget meanwhile: ${jobs.map((j) => `${j.job} ${Math.round(j.ms)} ms`).join(', ') || 'none'}`,
    });
  }

  /** answersHealthz tells whether /healthz answers within the stall probe's bound. */
  private async answersHealthz(): Promise<boolean> {
    try {
      const res = await fetch(`${this.proc.url}/healthz`, {
        signal: AbortSignal.timeout(this.o.stallProbeMs ?? DEFAULT_STALL_PROBE_MS),
      });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** onTrouble decides, after a failed or timed-out request, whether the exporter crashed or stalled. */
  private async onTrouble(epoch: number): Promise<boolean> {
    if (epoch !== this.epoch) return true;
    if (this.fatalInFlight) {
      await this.fatalInFlight;
      return true;
    }
    let kind: FatalEvent['kind'] | undefined;
    if (!this.proc.alive()) kind = 'crash';
    else if (!(await this.answersHealthz())) {
      // A dead exporter refuses /healthz at once, maybe before its exit is reported: wait for that, bounded.
      await Promise.race([this.proc.exited, new Promise((r) => setTimeout(r, EXIT_REPORT_MS))]);
      kind = this.proc.alive() ? 'stall' : 'crash';
    }
    if (kind === undefined || epoch !== this.epoch) return epoch !== this.epoch;
    // Another worker may have noticed the same crash while this one probed /healthz.
    const other = this.pendingFatal();
    if (other) {
      await other;
      return true;
    }
    this.fatalInFlight = this.handleFatal(kind);
    await this.fatalInFlight;
    this.fatalInFlight = undefined;
    return true;
  }

  private pendingFatal(): Promise<void> | undefined {
    return this.fatalInFlight;
  }

  private async handleFatal(kind: FatalEvent['kind']): Promise<void> {
    this.epoch++;
    if (this.o.restart === undefined) this.stopped = true;
    const event: FatalEvent = {
      kind,
      atMs: this.now(),
      exporter: this.proc.describe(),
      recent: this.tracked.slice(-RECENT_KEPT).map((t) => ({ index: t.index, request: t.request })),
    };
    this.fatal.push(event);
    const what =
      kind === 'stall'
        ? 'the exporter stopped answering /healthz'
        : this.proc.killedForMemory
          ? 'the exporter exceeded its memory limit and was killed'
          : 'the exporter exited';
    this.record(kind, 'exporter', what, {
      index: event.recent[event.recent.length - 1]?.index ?? -1,
      detail: event.exporter.slice(0, 4_000),
    });
    this.o.onFatal?.(event);
    await this.proc.kill();
    this.agent.destroy();
    this.agent = new Agent({ keepAlive: true, maxSockets: this.o.concurrency * 2 });
    if (this.o.restart === undefined) return;
    this.proc = await this.o.restart();
    this.lastLag = undefined;
    await this.readLag();
  }

  private async one(index: number): Promise<void> {
    const request = this.requestAt(index);
    const epoch = this.epoch;
    const t: Tracked = { index, request, startMs: this.now(), endMs: undefined };
    this.tracked.push(t);
    if (this.tracked.length > 4 * RECENT_KEPT + this.o.concurrency) this.tracked.splice(0, RECENT_KEPT);
    const answerWithinMs = this.o.queryTimeoutMs + this.o.slackMs;
    const res = await send(request, {
      baseUrl: this.proc.url,
      // Wait a little past the limit, so a slow answer is measured rather than cut off.
      deadlineMs: answerWithinMs + 1_000,
      rawIdleMs: 2_000,
      bodyLimit: DEFAULT_BODY_LIMIT,
      agent: this.agent,
      nowMs: this.o.nowMs,
    });
    t.endMs = this.now();
    this.sent++;
    if ((res.status === 0 && !res.error?.startsWith('client-refused')) || res.error === 'timeout') {
      // A crash or stall is one failure of the exporter, not one per request that was in flight.
      if (await this.onTrouble(epoch)) return;
    }
    // Answers cut short by a crash or stall noticed meanwhile (a WebSocket closed 1006 …) are its victims.
    if (epoch !== this.epoch) return;
    const s = this.statsFor(request.endpoint);
    s.requests++;
    const key = statusKey(res);
    s.statuses.set(key, (s.statuses.get(key) ?? 0) + 1);
    s.maxMs = Math.max(s.maxMs, res.ms);
    s.totalMs += res.ms;
    const found: Violation[] = check(request, res, { answerWithinMs });
    if (res.status >= 500) {
      if (found.some((v) => v.kind === 'server-error')) this.fiveXx++;
      else this.allowed503++;
    }
    if (found.length === 0) return;
    s.violations++;
    this.violations++;
    for (const v of found)
      this.record(v.kind, request.endpoint, v.detail, {
        index,
        request,
        response: summarizeResponse(res),
        detail: v.detail,
      });
  }

  /** run sends the session's requests and returns what it found. */
  async run(): Promise<SessionResult> {
    await this.readLag();
    let monitorTimer: NodeJS.Timeout | undefined;
    let monitoring = Promise.resolve();
    const monitor = (): void => {
      monitoring = this.readLag().finally(() => {
        if (!this.stopped) monitorTimer = setTimeout(monitor, this.o.monitorEveryMs);
      });
    };
    monitorTimer = setTimeout(monitor, this.o.monitorEveryMs);
    const progress = this.o.onProgress
      ? setInterval(() => this.o.onProgress?.(this.progress()), this.o.progressEveryMs ?? 10_000)
      : undefined;
    const worker = async (): Promise<void> => {
      const end = (this.o.from ?? 0) + this.o.requests;
      while (!this.stopped && this.next < end) {
        if (this.o.budgetMs !== undefined && this.now() > this.o.budgetMs) break;
        // While a crashed or stalled exporter is replaced, wait for the new one.
        const pending = this.pendingFatal();
        if (pending) {
          await pending;
          continue;
        }
        await this.one(this.next++);
      }
    };
    try {
      await Promise.all(Array.from({ length: this.o.concurrency }, worker));
    } finally {
      this.stopped = true;
      clearTimeout(monitorTimer);
      if (progress) clearInterval(progress);
      await monitoring;
    }
    if (this.proc.alive()) await this.readLag();
    this.agent.destroy();
    return {
      seed: this.o.seed,
      sent: this.sent,
      elapsedMs: this.now(),
      stats: this.stats,
      failures: [...this.failures.values()],
      fatal: this.fatal,
      loopBlocks: this.loopBlocks,
      maxLoopBlockMs: this.maxLoopBlockMs,
      fiveXx: this.fiveXx,
      allowed503: this.allowed503,
      violations: this.violations,
      exporter: this.proc,
    };
  }

  private progress(): Progress {
    return {
      elapsedMs: this.now(),
      sent: this.sent,
      total: this.o.requests,
      fiveXx: this.fiveXx,
      allowed503: this.allowed503,
      violations: this.violations,
      crashes: this.fatal.filter((f) => f.kind === 'crash').length,
      stalls: this.fatal.filter((f) => f.kind === 'stall').length,
    };
  }
}

/** HealthExpectations are what a healthy exporter answers after a session. */
export interface HealthExpectations {
  /** servers is the fleet size: the known query counts one series per server. */
  readonly servers: number;
  /** withinMs bounds each check. */
  readonly withinMs: number;
}

/** KNOWN_QUERY counts the fleet's memory series over the history (one per server, whatever is down now). */
export const KNOWN_QUERY = 'count(last_over_time(openmanager_memory_usage_percent[30d]))';

/**
 * checkExporterHealthy checks that an exporter still serves correct answers: alive, /readyz ready, the known
 * query counting every server, `series` finding one memory series per server, and a WebSocket client
 * receiving a `server-metrics` broadcast after its snapshot. Returns the problems found (empty: healthy).
 */
export async function checkExporterHealthy(proc: ExporterProcess, e: HealthExpectations): Promise<string[]> {
  const problems: string[] = [];
  if (!proc.alive()) return [`the exporter is not running: ${proc.describe(1_000)}`];
  const get = async (path: string): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(proc.url + path, { signal: AbortSignal.timeout(e.withinMs) });
    return { status: res.status, json: (await res.json()) as unknown };
  };
  try {
    const ready = await get('/readyz');
    if (ready.status !== 200)
      problems.push(`/readyz answered ${ready.status}: ${JSON.stringify(ready.json)}`);
    const q = await get(`/api/prometheus/api/v1/query?query=${encodeURIComponent(KNOWN_QUERY)}`);
    const value = (q.json as { data?: { result?: { value?: [number, string] }[] } }).data?.result?.[0]
      ?.value?.[1];
    if (q.status !== 200 || value !== String(e.servers))
      problems.push(
        `${KNOWN_QUERY} answered ${q.status} ${JSON.stringify(q.json).slice(0, 300)}; expected ${e.servers}`,
      );
    const s = await get(`/api/prometheus/api/v1/series?match[]=openmanager_memory_usage_percent`);
    const n = (s.json as { data?: unknown[] }).data?.length;
    if (s.status !== 200 || n !== e.servers)
      problems.push(`series answered ${s.status} with ${String(n)} series; expected ${e.servers}`);
  } catch (err) {
    problems.push(`a health request failed: ${(err as Error).message}`);
  }
  const ws = await serverMetricsBroadcast(proc.url, e.withinMs);
  if (ws !== undefined) problems.push(ws);
  return problems;
}

/**
 * serverMetricsBroadcast subscribes a WebSocket client to `server-metrics` and waits for two data messages: the
 * snapshot and a later broadcast. Returns a problem, or undefined when both arrived in time.
 */
function serverMetricsBroadcast(url: string, withinMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
    let data = 0;
    const timer = setTimeout(
      () => done(`no server-metrics broadcast within ${withinMs} ms (got ${data} data messages)`),
      withinMs,
    );
    const done = (problem: string | undefined): void => {
      clearTimeout(timer);
      ws.terminate();
      resolve(problem);
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', channels: ['server-metrics'] })));
    ws.on('message', (raw) => {
      const m = JSON.parse(rawDataBuffer(raw).toString('utf8')) as {
        type?: string;
        channel?: string;
        data?: { servers?: unknown[] };
      };
      if (m.type !== 'data' || m.channel !== 'server-metrics') return;
      if (!Array.isArray(m.data?.servers) || m.data.servers.length === 0) {
        done(`server-metrics without servers: ${JSON.stringify(m).slice(0, 200)}`);
        return;
      }
      if (++data >= 2) done(undefined);
    });
    ws.on('error', (err) => done(`WebSocket error: ${err.message}`));
    ws.on('close', (code) => done(`WebSocket closed with ${code} before a broadcast`));
  });
}
