/**
 * runCoverage: a set of Prometheus rule files against every failure scenario kind, in virtual time.
 *
 * The plan (plan.ts) puts every kind × intensity × role cell on the fleet; segment.ts simulates and evaluates
 * a range of simulated time with the real simulator, store and rule manager; scoring (score.ts) compares the
 * firing episodes with the scenarios' ground truth.
 *
 * Segments: the simulated time [start, end] is cut at boundaries b₁ < … into consecutive parts, and part k
 * is simulated and evaluated from b_k − lead-in, where the lead-in is how far back an alert's state can
 * depend on data (the longest window a rule reads, plus `for`, `keep_firing_for` and an hour: a day and an
 * hour for the shipped rules, whose HighHTTPLatency reads a day of a recording). Values are a function of
 * (seed, scenarios, instant) and every rule result at t is a function of the data in that lead-in, so each
 * part sees at and after b_k what one long run would. Episodes that begin in [b_k, b_k+1) are taken from
 * part k; one still firing at b_k+1 takes its end from part k+1. Parts run on worker threads side by side
 * (or one after the other in-thread), so the report does not depend on how many run at once.
 *
 * Options in, report out, progress through a callback: a CLI, a worker thread or an HTTP handler can run it.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CoverageProgress, CoverageReport, CoverageSettings } from '../contract/coverage.js';
import { exporterRoot } from '../util/package-root.js';
import { workerEntry } from '../util/worker-entry.js';
import { CoverageError, resolveCoverageOptions, type CoverageOptions } from './options.js';
import { planScenarios } from './plan.js';
import { scoreCoverage, type Episode } from './score.js';
import { SIGNAL_READ_BACK_MS, signalWindow } from './signals.js';
import {
  fleetOf,
  loadRuleInfo,
  runSegment,
  type SegmentEpisode,
  type SegmentMessage,
  type SegmentRequest,
  type SegmentResult,
} from './segment.js';

/** MAX_AUTO_SEGMENTS caps automatic segments: two, for the two cores the exporter is sized for. */
const MAX_AUTO_SEGMENTS = 2;

/** CoverageProgressListener hears how far a run got (after every stretch of every segment, and when scoring). */
export type CoverageProgressListener = (p: CoverageProgress) => void;

/** defaultRuleFiles are the repository's shipped rule files, `rules/*.yml` beside the exporter package. */
function defaultRuleFiles(): string[] {
  const root = exporterRoot();
  if (!root)
    throw new CoverageError(
      'COVERAGE_RULES_INVALID',
      'no rule files given and the shipped rules/ folder cannot be found: pass ruleFiles',
      'ruleFiles',
    );
  return [join(root, '..', 'rules', '*.yml')];
}

/**
 * displayPath shows a rule file glob relative to the working directory, or else to the repository, when it
 * lies inside one of them, so a report names `rules/*.yml` rather than a machine's absolute path.
 */
function displayPath(file: string, cwd: string): string {
  if (!isAbsolute(file)) return file;
  const root = exporterRoot();
  for (const base of [cwd, ...(root ? [join(root, '..')] : [])]) {
    const rel = relative(base, file);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel;
  }
  return file;
}

/**
 * segmentBounds cuts [start, end] into `segments` parts on the tick grid (automatic: two when the run is at
 * least three lead-ins long) and returns b₀ = start < b₁ < … < b_K = end. Every part but the first also
 * simulates its lead-in, so the first part is a lead-in longer than the others and all take as long (when
 * the run is too short for that, the parts are equal).
 */
export function segmentBounds(
  start: number,
  end: number,
  leadInMs: number,
  segments: number,
  tickMs: number,
): number[] {
  const span = end - start;
  const k =
    segments > 0 ? segments : Math.max(1, Math.min(MAX_AUTO_SEGMENTS, Math.floor(span / (3 * leadInMs))));
  const first = (span + (k - 1) * leadInMs) / k;
  const rest = first - leadInMs;
  const balanced = rest > 0;
  const bounds = [start];
  for (let i = 1; i < k; i++) {
    const at = balanced ? first + (i - 1) * rest : (span * i) / k;
    bounds.push(start + Math.round(at / tickMs) * tickMs);
  }
  bounds.push(end);
  return bounds.filter((b, i) => i === 0 || b > (bounds[i - 1] ?? -Infinity));
}

/**
 * mergeSegments joins the parts' episodes (see the file comment): part k contributes the episodes that begin
 * in [b_k, b_k+1) (part 0 everything before b₁, the last part everything after its start), and an episode
 * still firing at the end of its part ends where the next part's episode of the same alert covering that
 * boundary ends.
 */
export function mergeSegments(
  bounds: readonly number[],
  parts: readonly (readonly SegmentEpisode[])[],
): Episode[] {
  const out: Episode[] = [];
  // carry: for the boundary at the start of the part after the current one, each alert's resolved end.
  let carry = new Map<string, number>();
  for (let k = parts.length - 1; k >= 0; k--) {
    const lo = bounds[k] ?? -Infinity;
    const hi = bounds[k + 1] ?? Infinity;
    const last = k === parts.length - 1;
    const next = new Map<string, number>();
    for (const e of parts[k] ?? []) {
      const end = e.open ? (carry.get(e.key) ?? e.end) : e.end;
      if (k > 0 && e.start <= lo && (e.open || e.end > lo)) next.set(e.key, end);
      if ((k === 0 || e.start >= lo) && (last || e.start < hi))
        out.push({ key: e.key, alertname: e.alertname, server: e.server, start: e.start, end });
    }
    carry = next;
  }
  return out;
}

/**
 * assignSignals picks, for every planned scenario, the segment that evaluates its key signal: the first whose
 * range holds the whole window and what it reads before it, else the one its start belongs to (the window is
 * then cut at that segment's end). Returns each segment's scenario indexes.
 */
export function assignSignals(
  scenarios: readonly { readonly start: number; readonly durationMs: number }[],
  bounds: readonly number[],
  ranges: readonly { readonly from: number; readonly to: number }[],
  graceMs: number,
  tickMs: number,
): number[][] {
  const out = ranges.map((): number[] => []);
  scenarios.forEach((p, i) => {
    const w = signalWindow({ start: p.start, end: p.start + p.durationMs }, graceMs, tickMs);
    let k = ranges.findIndex((r) => r.from <= w.start - SIGNAL_READ_BACK_MS && w.end <= r.to);
    if (k < 0) {
      k = 0;
      while (k + 1 < ranges.length && (bounds[k + 1] ?? Infinity) <= p.start) k++;
    }
    out[k]?.push(i);
  });
  return out;
}

/** inWorker runs one segment on a worker thread; undefined when no worker entry can be found. */
function inWorker(
  req: SegmentRequest,
  onProgress: (doneMs: number) => void,
): Promise<SegmentResult> | undefined {
  const spec = workerEntry(import.meta.url, 'segment-worker', './coverage/segment-worker.js');
  if (!spec) return undefined;
  return new Promise((resolve, reject) => {
    const w = new Worker(spec.entry, { eval: spec.eval, workerData: req });
    let settled = false;
    w.on('message', (m: SegmentMessage) => {
      if (m.type === 'progress') onProgress(m.doneMs);
      else if (m.type === 'result') {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(
          m.error.code
            ? new CoverageError(m.error.code, m.error.message, m.error.field)
            : new Error(m.error.message),
        );
      }
    });
    w.on('error', (err) => {
      settled = true;
      reject(err);
    });
    w.on('exit', (code) => {
      if (!settled) reject(new Error(`coverage segment worker exited with code ${code} before answering`));
    });
  });
}

/** pool runs `tasks` with at most `width` at once, keeping their order in the result. */
async function pool<T>(tasks: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      const task = tasks[i];
      if (task) out[i] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, width) }, lane));
  return out;
}

/**
 * runCoverage runs the rule files of `options` against every planned scenario in virtual time and returns
 * the report (contract/coverage.ts). Throws CoverageError for bad options or rule files that do not load.
 */
export async function runCoverage(
  options: Partial<CoverageOptions> = {},
  onProgress: CoverageProgressListener = () => undefined,
): Promise<CoverageReport> {
  const resolved = resolveCoverageOptions(options);
  const opts: CoverageOptions = {
    ...resolved,
    ruleFiles: resolved.ruleFiles.length > 0 ? resolved.ruleFiles : defaultRuleFiles(),
  };
  const servers = fleetOf(opts);
  const plan = planScenarios(servers, opts);
  // Loading the rules here first reports bad rule files before any worker starts.
  const info = await loadRuleInfo(opts);
  const start = opts.start;
  const end = plan.end;
  const bounds = segmentBounds(start, end, info.reachMs, opts.segments, opts.tickMs);
  const ranges = bounds.slice(0, -1).map((b, k) => ({
    from: k === 0 ? b : Math.max(start, Math.floor((b - info.reachMs) / opts.tickMs) * opts.tickMs),
    to: bounds[k + 1] ?? end,
  }));
  const work = ranges.reduce((n, r) => n + (r.to - r.from), 0);
  const done = ranges.map(() => 0);
  const progress = (k: number, ms: number): void => {
    done[k] = ms;
    const sum = done.reduce((a, b) => a + b, 0);
    onProgress({
      simulatedMs: Math.round(((end - start) * sum) / work),
      totalMs: end - start,
      phase: 'simulating',
    });
  };
  const width =
    ranges.length === 1
      ? 1
      : Math.min(ranges.length, opts.workers > 0 ? opts.workers : availableParallelism());
  const signals = assignSignals(plan.scenarios, bounds, ranges, opts.graceMs, opts.tickMs);
  const tasks = ranges.map((r, k) => () => {
    const report = (ms: number): void => progress(k, ms);
    const mine = signals[k] ?? [];
    const viaWorker =
      width > 1 ? inWorker({ options: opts, from: r.from, to: r.to, signals: mine }, report) : undefined;
    return viaWorker ?? runSegment(opts, r.from, r.to, report, mine);
  });
  const results = await pool(tasks, width);
  onProgress({ simulatedMs: end - start, totalMs: end - start, phase: 'scoring' });

  const settings: CoverageSettings = {
    rules: opts.ruleFiles.map((f) => displayPath(f, opts.cwd)).sort(),
    seed: opts.seed,
    servers: servers.length,
    kinds: [...opts.kinds],
    intensities: [...opts.intensities],
    repetitions: opts.repetitions,
    start,
    end,
    warmupMs: opts.warmupMs,
    quietMs: plan.quietMs,
    graceMs: opts.graceMs,
    flapWindowMs: opts.flapWindowMs,
    evaluationIntervalMs: opts.evaluationIntervalMs,
    tickMs: opts.tickMs,
    segments: ranges.length,
  };
  return scoreCoverage({
    settings,
    scenarios: results[0]?.truths ?? [],
    episodes: mergeSegments(
      bounds,
      results.map((r) => r.episodes),
    ),
    alertNames: info.alertNames,
    signals: new Map(results.flatMap((r) => r.signals)),
  });
}
