/**
 * Reports of a fuzzing session: the table by endpoint (requests, answers by status class, the slowest
 * answer), the distinct failures with an example request and response each, and the summary object the long
 * run prints as its last line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeRequest } from './model.js';
import type { SessionResult } from './session.js';

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const num = (n: number): string => Math.round(n).toLocaleString('en-US');

/** endpointTable renders the per-endpoint table. */
export function endpointTable(r: SessionResult): string {
  const header = [
    'endpoint',
    'requests',
    '2xx',
    '3xx/1xx',
    '4xx',
    '5xx',
    'no answer',
    'max ms',
    'mean ms',
    'violating',
    'statuses',
  ];
  const widths = [17, 9, 7, 8, 7, 5, 10, 8, 8, 10, 0];
  const rows: string[][] = [];
  const totals = { requests: 0, c2: 0, c3: 0, c4: 0, c5: 0, other: 0, max: 0, total: 0, violating: 0 };
  const entries = [...r.stats.entries()].sort((a, b) => b[1].requests - a[1].requests);
  for (const [endpoint, s] of entries) {
    let c2 = 0;
    let c3 = 0;
    let c4 = 0;
    let c5 = 0;
    let other = 0;
    for (const [k, n] of s.statuses) {
      const code = Number(k);
      if (!Number.isInteger(code)) other += n;
      else if (code >= 500) c5 += n;
      else if (code >= 400) c4 += n;
      else if (code >= 200 && code < 300) c2 += n;
      else c3 += n;
    }
    const statuses = [...s.statuses.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, n]) => `${k}:${n}`)
      .join(' ');
    rows.push([
      endpoint,
      num(s.requests),
      num(c2),
      num(c3),
      num(c4),
      num(c5),
      num(other),
      num(s.maxMs),
      (s.totalMs / Math.max(1, s.requests)).toFixed(1),
      num(s.violations),
      statuses,
    ]);
    totals.requests += s.requests;
    totals.c2 += c2;
    totals.c3 += c3;
    totals.c4 += c4;
    totals.c5 += c5;
    totals.other += other;
    totals.max = Math.max(totals.max, s.maxMs);
    totals.total += s.totalMs;
    totals.violating += s.violations;
  }
  rows.push([
    'total',
    num(totals.requests),
    num(totals.c2),
    num(totals.c3),
    num(totals.c4),
    num(totals.c5),
    num(totals.other),
    num(totals.max),
    (totals.total / Math.max(1, totals.requests)).toFixed(1),
    num(totals.violating),
    '',
  ]);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? pad(c, widths[i] ?? 0) : lpad(c, widths[i] ?? 0)))
      .join(' ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** REPLAY_PRINT_MAX is the longest request printed as replayable JSON; longer ones are only in the artifact. */
const REPLAY_PRINT_MAX = 3_000;

/**
 * failureReport renders every distinct failure with its first example: the request (summary, and as JSON to
 * replay when short enough) and the response. `artifact` names the file writeFailures wrote, if any.
 */
export function failureReport(r: SessionResult, artifact?: string): string {
  if (r.failures.length === 0) return 'no failures';
  const out: string[] = [`${r.failures.length} distinct failure(s), seed ${r.seed}:`];
  if (artifact !== undefined)
    out.push(
      `every example request is saved in ${artifact} (replay: npm run fuzz -w exporter -- --replay <file>)`,
    );
  const sorted = [...r.failures].sort((a, b) => a.kind.localeCompare(b.kind) || b.count - a.count);
  for (const f of sorted) {
    out.push(`\n* ${f.key}  (×${f.count})`);
    const e = f.examples[0];
    if (e === undefined) continue;
    out.push(`  example #${e.index}: ${e.detail.slice(0, 1_500)}`);
    if (e.request) {
      out.push(`  request: ${summarizeRequest(e.request, 300)}`);
      const json = JSON.stringify(e.request);
      if (json.length <= REPLAY_PRINT_MAX) out.push(`  replay:  ${json}`);
    }
    if (e.response) out.push(`  response: ${e.response.replace(/\n/g, '\n            ').slice(0, 1_200)}`);
  }
  return out.join('\n');
}

/** writeFailures saves every failure example (full requests) as JSON for replay, and returns the file. */
export function writeFailures(r: SessionResult, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `failures-seed${r.seed}.json`);
  const requests = r.failures.flatMap((f) => f.examples.flatMap((e) => (e.request ? [e.request] : [])));
  writeFileSync(file, JSON.stringify({ seed: r.seed, failures: r.failures, requests }, null, 1));
  return file;
}

/** SummaryJson is the long run's last line. */
export interface SummaryJson {
  readonly seed: number;
  readonly requests: number;
  /** five_xx counts 5xx answers other than the 503s Prometheus would give; those are allowed_503. */
  readonly five_xx: number;
  readonly allowed_503: number;
  readonly crashes: number;
  readonly stalls: number;
  readonly violations: number;
  readonly distinct_failures: number;
  readonly timeouts: number;
  readonly max_loop_block_ms: number;
  readonly loop_blocks_over_budget: number;
  readonly max_latency_ms: number;
  readonly elapsed_s: number;
  readonly requests_per_s: number;
  readonly healthy_after: boolean;
}

/** summaryJson condenses a session (and the after-session health check) into the last-line object. */
export function summaryJson(r: SessionResult, healthy: boolean): SummaryJson {
  let timeouts = 0;
  let maxMs = 0;
  for (const s of r.stats.values()) {
    timeouts += s.statuses.get('timeout') ?? 0;
    maxMs = Math.max(maxMs, s.maxMs);
  }
  return {
    seed: r.seed,
    requests: r.sent,
    five_xx: r.fiveXx,
    allowed_503: r.allowed503,
    crashes: r.fatal.filter((f) => f.kind === 'crash').length,
    stalls: r.fatal.filter((f) => f.kind === 'stall').length,
    violations: r.violations,
    distinct_failures: r.failures.length,
    timeouts,
    max_loop_block_ms: Math.round(r.maxLoopBlockMs),
    loop_blocks_over_budget: r.loopBlocks.reduce((n, b) => n + b.blocks, 0),
    max_latency_ms: Math.round(maxMs),
    elapsed_s: Math.round(r.elapsedMs / 100) / 10,
    requests_per_s: Math.round((r.sent / Math.max(1, r.elapsedMs)) * 10_000) / 10,
    healthy_after: healthy,
  };
}
