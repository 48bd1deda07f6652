/**
 * The PromQL evaluator, after Prometheus's `promql/engine.go` (2.x semantics). Every node is evaluated for
 * all steps of the query at once: an instant vector is a set of series with one value slot and a presence
 * flag per step (see value.ts), which makes range queries one pass per node instead of one pass per step.
 * The engine sees storage only through `Queryable` (tsdb/storage.ts) and never imports a backend.
 *
 * This file holds the Engine (limits, concurrency), the dispatch over node types, selectors, subqueries and
 * the drivers of the function table's range/elementwise/date kinds; aggregations (aggregation.ts), binary
 * operators (binary.ts) and the functions that reshape vectors (call-functions.ts, histogram.ts) are
 * their own files, given the evaluator as an EvalContext (eval-context.ts).
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { TsdbError } from '../tsdb/errors.js';
import type { Matcher, Querier, Queryable, SelectHints, SeriesData } from '../tsdb/storage.js';
import { METRIC_NAME, seriesKey, type Labels } from '../util/labels.js';
import { Pacer } from '../util/pacer.js';
import { isStaleNaN } from '../util/stale-marker.js';
import { evalAggregate } from './aggregation.js';
import type { AtModifier, Call, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from './ast.js';
import { evalBinary } from './binary.js';
import {
  PromQLError,
  executionError,
  queryTimeout,
  tooManySamples,
  tooManyResultPoints,
  tooManySamplesInFlight,
} from './errors.js';
import {
  distinctVector,
  mergeSameLabels,
  namesOne,
  sameName,
  unwrapParens,
  type EvalContext,
  type Frame,
  type InstantVisitor,
} from './eval-context.js';
import { FUNCTIONS, type RangeFn, type SlidingWindow } from './functions.js';
import { DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUED, QueryGate, createGateMetrics } from './gate.js';
import { dropName, sortByLabels } from './labels-util.js';
import { parseExpr, typeOf } from './parser.js';
import { chooseTier, DEFAULT_TIER_OPTIONS, type TierOptions, type TierPlan } from './tiers.js';
import {
  DEFAULT_WINDOW_CACHE_SAMPLES,
  MIN_KEPT_SAMPLES,
  SeriesWindow,
  WindowCache,
  type NodeWindows,
} from './window-cache.js';
import {
  newStepSeries,
  type MatrixValue,
  type RawSeries,
  type StepSeries,
  type Value,
  type VectorValue,
} from './value.js';

/** EngineOptions configures limits and defaults; every field has a default in DEFAULT_ENGINE_OPTIONS. */
export interface EngineOptions {
  /** lookbackDeltaMs is how far back an instant selector looks for a sample. */
  readonly lookbackDeltaMs: number;
  /** maxSamples bounds the samples a query may hold in memory (→ 422 `execution`). */
  readonly maxSamples: number;
  /**
   * maxSamplesInFlight bounds the samples all running queries hold together (→ 503 `unavailable`, retry
   * later): `maxConcurrent` queries of `maxSamples` each would need gigabytes at once.
   */
  readonly maxSamplesInFlight: number;
  /**
   * maxResultPoints bounds the points (a vector's samples, a matrix's points) one result may hold (→ 422
   * `execution`). A range result is copied into the API's JSON at tens of bytes a point; the sample budget
   * alone lets one answer grow to gigabytes.
   */
  readonly maxResultPoints: number;
  /**
   * maxSubquerySteps bounds the steps a subquery evaluates its expression at (→ 422 `execution`). The engine
   * evaluates a node for all steps at once, one series at a time, so a single series over millions of steps
   * (`x[1h30m:1ms]`) would hold the event loop for hundreds of milliseconds between turns; Prometheus has no
   * such bound.
   */
  readonly maxSubquerySteps: number;
  /** timeoutMs bounds a query's run time (→ 503 `timeout`). */
  readonly timeoutMs: number;
  /** noStepSubqueryIntervalMs is the step of a subquery written without one (`x[1h:]`). */
  readonly noStepSubqueryIntervalMs: number;
  /** tiers configures the rollup-tier rule of tiers.ts. */
  readonly tiers: TierOptions;
  /** maxConcurrent queries evaluate at once; the rest wait (gate.ts). */
  readonly maxConcurrent: number;
  /** maxQueued queries may wait; beyond, a query is refused with `unavailable`. */
  readonly maxQueued: number;
  /**
   * windowCacheSamples bounds the samples the engine keeps of range functions' windows between instant
   * evaluations of the same expression (window-cache.ts); 0 turns the cache off.
   */
  readonly windowCacheSamples: number;
  /**
   * windowCacheMinSamples is the fewest samples per series (on average over a node's series) for which a
   * node's windows are kept (window-cache.ts: smaller windows read again as cheaply as they move).
   */
  readonly windowCacheMinSamples: number;
  readonly logger?: Logger;
}

/** QueryOptions tune one query. */
export interface QueryOptions {
  /**
   * deadline is the absolute time (performance.now() ms) the query must finish by, waiting for a slot
   * included; the engine's `timeoutMs` from the query's start bounds it too. A caller that splits one request
   * into several evaluations (the query cache) passes the same deadline to each.
   */
  readonly deadline?: number;
}

/**
 * DEFAULT_ENGINE_OPTIONS are Prometheus's defaults (5 m lookback, 50 M samples, 2 m timeout, 1 m eval interval,
 * 20 concurrent queries), and two bounds Prometheus does not have: 10 M points a result, 250,000 steps a
 * subquery (three days at 1 s).
 */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  lookbackDeltaMs: 5 * 60_000,
  maxSamples: 50_000_000,
  maxSamplesInFlight: 50_000_000,
  maxResultPoints: 10_000_000,
  maxSubquerySteps: 250_000,
  timeoutMs: 2 * 60_000,
  noStepSubqueryIntervalMs: 60_000,
  tiers: DEFAULT_TIER_OPTIONS,
  maxConcurrent: DEFAULT_MAX_CONCURRENT,
  maxQueued: DEFAULT_MAX_QUEUED,
  windowCacheSamples: DEFAULT_WINDOW_CACHE_SAMPLES,
  windowCacheMinSamples: MIN_KEPT_SAMPLES,
};

/** InstantSample is one element of a vector result. */
export interface InstantSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

/** MatrixSeries is one series of a matrix result; points in time order. */
export interface MatrixSeries {
  readonly labels: Labels;
  readonly timestamps: number[];
  readonly values: number[];
}

/** QueryResult is what a query returns, shaped like the Prometheus API's `data`. */
export type QueryResult =
  | { readonly resultType: 'vector'; readonly result: InstantSample[] }
  | { readonly resultType: 'matrix'; readonly result: MatrixSeries[] }
  | { readonly resultType: 'scalar'; readonly result: { readonly t: number; readonly v: number } }
  | { readonly resultType: 'string'; readonly result: { readonly t: number; readonly v: string } };

/** QueryStats reports what a query read, for logs and benchmarks. */
export interface QueryStats {
  samplesLoaded: number;
  tiersUsed: string[];
}

/** QueryOutcome is a result plus its stats. */
export interface QueryOutcome {
  readonly result: QueryResult;
  readonly stats: QueryStats;
}

/**
 * Engine evaluates PromQL queries against a Queryable. Every query runs under a deadline and a sample budget
 * that the evaluator checks inside its loops (not only between nodes), gives the event loop a turn every few
 * milliseconds (util/pacer.ts), and holds one of `maxConcurrent` slots while it runs.
 */
export class Engine {
  /** options are the effective options (defaults merged). */
  readonly options: EngineOptions;
  /** gate bounds concurrent evaluations; shared by every query of this engine. */
  readonly gate: QueryGate;
  /** inFlight counts the samples the running queries hold together (maxSamplesInFlight). */
  readonly inFlight = { samples: 0 };
  /** windows keeps range functions' windows between instant evaluations of one expression (window-cache.ts). */
  readonly windows: WindowCache;

  constructor(options: Partial<EngineOptions> = {}, deps: { readonly registry?: Registry } = {}) {
    this.options = {
      ...DEFAULT_ENGINE_OPTIONS,
      ...options,
      tiers: { ...DEFAULT_TIER_OPTIONS, ...options.tiers },
    };
    this.gate = new QueryGate(
      this.options.maxConcurrent,
      this.options.maxQueued,
      deps.registry ? createGateMetrics(deps.registry) : undefined,
    );
    this.windows = new WindowCache(this.options.windowCacheSamples, this.options.windowCacheMinSamples);
  }

  /** instantQuery evaluates `query` at `timeMs`. */
  async instantQuery(
    queryable: Queryable,
    query: string | Expr,
    timeMs: number,
    opts: QueryOptions = {},
  ): Promise<QueryOutcome> {
    const expr = typeof query === 'string' ? parseExpr(query) : query;
    return this.evaluate(queryable, expr, timeMs, timeMs, 0, false, opts);
  }

  /** rangeQuery evaluates `query` at start, start + step, … ≤ end; the expression must be a scalar or vector. */
  async rangeQuery(
    queryable: Queryable,
    query: string | Expr,
    startMs: number,
    endMs: number,
    stepMs: number,
    opts: QueryOptions = {},
  ): Promise<QueryOutcome> {
    const expr = typeof query === 'string' ? parseExpr(query) : query;
    const t = typeOf(expr);
    if (t !== 'scalar' && t !== 'vector')
      throw new PromQLError(
        'bad_data',
        `invalid expression type "${t === 'matrix' ? 'range vector' : t}" for range query, must be Scalar or instant Vector`,
      );
    if (stepMs <= 0)
      throw new PromQLError(
        'bad_data',
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    return this.evaluate(queryable, expr, startMs, endMs, stepMs, true, opts);
  }

  /** evaluate waits for a slot (within the deadline), then runs the evaluator. */
  private async evaluate(
    queryable: Queryable,
    expr: Expr,
    start: number,
    end: number,
    step: number,
    isRange: boolean,
    opts: QueryOptions,
  ): Promise<QueryOutcome> {
    const deadline = Math.min(opts.deadline ?? Infinity, performance.now() + this.options.timeoutMs);
    const release = await this.gate.acquire(deadline);
    const evaluator = new Evaluator(
      this.options,
      queryable,
      start,
      end,
      step,
      deadline,
      this.inFlight,
      this.windows,
    );
    try {
      return await evaluator.run(expr, isRange);
    } finally {
      this.inFlight.samples -= evaluator.samplesHeld;
      release();
    }
  }
}

/** stepCount is the number of steps of start, start + step, … ≤ end (0 when end < start). */
function stepCount(start: number, end: number, step: number): number {
  if (end < start) return 0;
  return step > 0 ? Math.floor((end - start) / step) + 1 : 1;
}

/** WINDOW_WORK_PER_CHECK is how many window samples a range function goes through between two clock reads. */
const WINDOW_WORK_PER_CHECK = 65_536;

/** negated is -x for every x, as a plain loop (TypedArray.map with a callback is several times slower). */
function negated(xs: Float64Array): Float64Array {
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = -(xs[i] as number);
  return out;
}

/** stepTimes returns start, start + step, … ≤ end (callers check stepCount against the budget first). */
function stepTimes(start: number, end: number, step: number): Float64Array {
  const n = stepCount(start, end, step);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return out;
}

class Evaluator implements EvalContext {
  /** samplesHeld is what this query counted against the budgets; given back to `inFlight` at its end. */
  samplesHeld = 0;
  private readonly stats: QueryStats = { samplesLoaded: 0, tiersUsed: [] };
  readonly pacer = new Pacer();

  constructor(
    private readonly opts: EngineOptions,
    private readonly queryable: Queryable,
    private readonly start: number,
    private readonly end: number,
    private readonly step: number,
    /** deadline is the performance.now() time past which the query fails with `timeout` (storage reads too). */
    private readonly deadline: number,
    private readonly inFlight: { samples: number },
    private readonly windows: WindowCache,
  ) {}

  async run(expr: Expr, isRange: boolean): Promise<QueryOutcome> {
    let v: Value;
    let frame: Frame;
    try {
      frame = { ts: this.steps(this.start, this.end, this.step), stepMs: this.step };
      v = await this.eval(expr, frame);
      return { result: await this.toResult(v, frame, isRange), stats: this.stats };
    } catch (e) {
      if (e instanceof PromQLError) throw e;
      if (e instanceof TsdbError && e.code === 'TSDB_TOO_MANY_SAMPLES') throw tooManySamples();
      if (e instanceof TsdbError && e.code === 'TSDB_ABORTED') throw queryTimeout();
      if (e instanceof RangeError || e instanceof SyntaxError) throw executionError(e.message);
      throw e;
    }
  }

  /** steps builds a step grid after checking that its length fits the sample budget (no huge allocation). */
  private steps(start: number, end: number, step: number): Float64Array {
    // The grid is held memory too: counted, and checked before it is allocated.
    this.addSamples(stepCount(start, end, step));
    return stepTimes(start, end, step);
  }

  private async toResult(v: Value, frame: Frame, isRange: boolean): Promise<QueryResult> {
    const t0 = frame.ts[0] ?? this.start;
    switch (v.kind) {
      case 'string':
        return { resultType: 'string', result: { t: t0, v: v.value } };
      case 'scalar':
        if (!isRange) return { resultType: 'scalar', result: { t: t0, v: v.values[0] ?? NaN } };
        return {
          resultType: 'matrix',
          result: [{ labels: {}, timestamps: Array.from(frame.ts), values: Array.from(v.values) }],
        };
      case 'vector': {
        const series = v.distinct ? v.series : mergeSameLabels(v.series);
        if (!isRange) {
          const out: InstantSample[] = [];
          for (const s of series)
            if (s.present[0]) out.push({ labels: s.labels, t: t0, v: s.values[0] ?? NaN });
          this.checkResultPoints(out.length);
          return { resultType: 'vector', result: out };
        }
        // Counted before anything is copied: a result over the bound fails without allocating it.
        let points = 0;
        for (const s of series) {
          if (this.pacer.due()) await this.turn();
          for (let i = 0; i < frame.ts.length; i++) points += s.present[i] ?? 0;
        }
        this.checkResultPoints(points);
        const out: MatrixSeries[] = [];
        for (const s of series) {
          if (this.pacer.due()) await this.turn();
          // Sized exactly before filling: arrays grown by push keep spare capacity, and a range result may
          // hold millions of points.
          let n = 0;
          for (let i = 0; i < frame.ts.length; i++) n += s.present[i] ?? 0;
          if (n === 0) continue;
          const timestamps = new Array<number>(n);
          const values = new Array<number>(n);
          for (let i = 0, k = 0; i < frame.ts.length; i++) {
            if (!s.present[i]) continue;
            timestamps[k] = frame.ts[i] ?? 0;
            values[k++] = s.values[i] ?? NaN;
          }
          out.push({ labels: s.labels, timestamps, values });
        }
        const result = await sortByLabels(
          out,
          (s) => s.labels,
          async () => {
            if (this.pacer.due()) await this.turn();
          },
        );
        return { resultType: 'matrix', result };
      }
      case 'matrix': {
        const end = v.ends[0] ?? t0;
        const start = end - v.rangeMs;
        let points = 0;
        for (const s of v.series) points += s.timestamps.length;
        this.checkResultPoints(points);
        const out: MatrixSeries[] = [];
        for (const s of v.series) {
          if (this.pacer.due()) await this.turn();
          const timestamps: number[] = [];
          const values: number[] = [];
          for (let i = 0; i < s.timestamps.length; i++) {
            const t = s.timestamps[i] ?? 0;
            if (t < start || t > end) continue;
            timestamps.push(t);
            values.push(s.values[i] ?? NaN);
          }
          if (timestamps.length > 0) out.push({ labels: s.labels, timestamps, values });
        }
        return { resultType: 'matrix', result: out };
      }
    }
  }

  private checkResultPoints(points: number): void {
    if (points > this.opts.maxResultPoints) throw tooManyResultPoints(points, this.opts.maxResultPoints);
  }

  /** check enforces the timeout and the sample limit; called at every node and at every turn. */
  private check(): void {
    if (performance.now() > this.deadline) throw queryTimeout();
    if (this.samplesHeld > this.opts.maxSamples) throw tooManySamples();
  }

  /**
   * turn gives the event loop a turn, then checks the deadline. Loops call it when `pacer.due()`:
   * `if (this.pacer.due()) await this.turn();` costs one clock read per iteration otherwise.
   */
  async turn(): Promise<void> {
    await this.pacer.yield();
    this.check();
  }

  addSamples(n: number): void {
    this.samplesHeld += n;
    this.inFlight.samples += n;
    if (this.samplesHeld > this.opts.maxSamples) throw tooManySamples();
    if (this.inFlight.samples > this.opts.maxSamplesInFlight) throw tooManySamplesInFlight();
  }

  async eval(e: Expr, f: Frame): Promise<Value> {
    this.check();
    if (this.pacer.due()) await this.turn();
    switch (e.type) {
      case 'NumberLiteral':
        return { kind: 'scalar', values: new Float64Array(f.ts.length).fill(e.value) };
      case 'StringLiteral':
        return { kind: 'string', value: e.value };
      case 'ParenExpr':
        return this.eval(e.expr, f);
      case 'UnaryExpr': {
        const v = await this.eval(e.expr, f);
        if (e.op === '+') return v;
        if (v.kind === 'scalar') return { kind: 'scalar', values: negated(v.values) };
        if (v.kind !== 'vector')
          throw executionError('unary expression only allowed on scalar or instant vector');
        // Series by series with turns between them, counted like any node's output: a subquery's series
        // may span hundreds of thousands of steps.
        const out: StepSeries[] = [];
        for (const s of v.series) {
          if (this.pacer.due()) await this.turn();
          this.addSamples(s.values.length);
          out.push({ labels: dropName(s.labels), values: negated(s.values), present: s.present });
        }
        return distinctVector(out);
      }
      case 'VectorSelector':
        return this.evalVectorSelector(e, f, undefined);
      case 'MatrixSelector':
        return this.evalMatrixSelector(e, f, undefined);
      case 'SubqueryExpr':
        return this.evalSubquery(e, f);
      case 'BinaryExpr':
        return evalBinary(this, e, f);
      case 'AggregateExpr':
        return evalAggregate(this, e, f);
      case 'Call':
        return this.evalCall(e, f);
    }
  }

  // ---------------------------------------------------------------- selectors

  private atMs(at: AtModifier | undefined): number | undefined {
    if (!at) return undefined;
    if (at.kind === 'time') return at.ms;
    return at.kind === 'start' ? this.start : this.end;
  }

  /** refTimes are the per-step times a selector reads at: eval time (or the @ time) minus offset. */
  private refTimes(f: Frame, at: AtModifier | undefined, offsetMs: number): Float64Array {
    const fixed = this.atMs(at);
    const out = new Float64Array(f.ts.length);
    for (let i = 0; i < out.length; i++) out[i] = (fixed ?? f.ts[i] ?? 0) - offsetMs;
    return out;
  }

  /** releaseSamples returns budget for samples no longer held (a selector's raw samples once stepped). */
  private releaseSamples(n: number): void {
    this.samplesHeld -= n;
    this.inFlight.samples -= n;
  }

  private async select(matchers: readonly Matcher[], hints: SelectHints): Promise<SeriesData[]> {
    const q = await this.queryable.querier(hints.start, hints.end);
    const res = await q.select(matchers, {
      ...hints,
      maxSamples: this.opts.maxSamples - this.samplesHeld,
      deadline: this.deadline,
    });
    let n = 0;
    for (const s of res) n += s.timestamps.length;
    this.stats.samplesLoaded += n;
    this.addSamples(n);
    return res;
  }

  /**
   * selectEach streams the matching series through `visit` (buffers valid during the call only), with the
   * budget and stats select keeps: each series' samples count while it is visited. Backends without
   * Querier.selectEach are read through select.
   */
  private async selectEach(
    matchers: readonly Matcher[],
    hints: SelectHints,
    visit: (labels: Labels, ts: Float64Array, vs: Float64Array, n: number) => void,
    querier?: Querier,
  ): Promise<void> {
    const q = querier ?? (await this.queryable.querier(hints.start, hints.end));
    if (!q.selectEach) {
      const data = await this.select(matchers, hints);
      let loaded = 0;
      for (const s of data) {
        loaded += s.timestamps.length;
        visit(s.labels, s.timestamps, s.values, s.timestamps.length);
      }
      this.releaseSamples(loaded);
      return;
    }
    await q.selectEach(
      matchers,
      { ...hints, maxSamples: this.opts.maxSamples - this.samplesHeld, deadline: this.deadline },
      (labels, ts, vs, n) => {
        this.stats.samplesLoaded += n;
        this.addSamples(n);
        visit(labels, ts, vs, n);
        this.releaseSamples(n);
      },
    );
  }

  private async evalVectorSelector(
    vs: VectorSelector,
    f: Frame,
    sampleTimes: Float64Array[] | undefined,
  ): Promise<VectorValue> {
    // Each step reads at its eval time (or the @ time) minus the offset, computed in the loop rather than
    // allocated as an array: a subquery's step grid can be tens of millions long.
    const fixed = this.atMs(vs.at);
    const off = vs.offsetMs;
    const ts0 = f.ts;
    const n = ts0.length;
    if (n === 0) return { kind: 'vector', series: [] };
    const lb = this.opts.lookbackDeltaMs;
    const out: StepSeries[] = [];
    if (n === 1 && !sampleTimes) {
      await this.selectorAt(vs, f, (labels, v) => {
        const series = newStepSeries(labels, 1);
        series.values[0] = v;
        series.present[0] = 1;
        out.push(series);
      });
      return { kind: 'vector', series: out, distinct: true };
    }
    await this.selectEach(
      vs.matchers,
      {
        start: (fixed ?? ts0[0] ?? 0) - off - lb,
        end: (fixed ?? ts0[n - 1] ?? 0) - off,
        step: f.stepMs,
        // At one step only the newest sample in the lookback window counts (below: the last one ≤ ref).
        newest: n === 1,
      },
      (labels, ts, vals, len) => {
        // The series holds one slot per step: that is what the sample budget bounds (as Prometheus counts
        // the points a selector yields over a range query's steps), reserved before the slots are allocated.
        this.addSamples(n);
        const series = newStepSeries(labels, n);
        const st = sampleTimes ? new Float64Array(n) : undefined;
        let j = 0;
        let any = false;
        for (let i = 0; i < n; i++) {
          const ref = (fixed ?? ts0[i] ?? 0) - off;
          while (j < len && (ts[j] as number) <= ref) j++;
          const k = j - 1;
          if (k < 0) continue;
          const t = ts[k] as number;
          if (t < ref - lb) continue;
          const v = vals[k] as number;
          if (v !== v && isStaleNaN(v)) continue;
          series.values[i] = v;
          series.present[i] = 1;
          if (st) st[i] = t;
          any = true;
        }
        if (any) {
          out.push(series);
          if (sampleTimes && st) sampleTimes.push(st);
        } else this.releaseSamples(n);
      },
    );
    return { kind: 'vector', series: out, distinct: true };
  }

  /**
   * selectorAt is a vector selector at a frame's single step: `visit` gets each series' newest sample in
   * the lookback window (not a staleness marker), each counted against the sample budget.
   */
  private async selectorAt(vs: VectorSelector, f: Frame, visit: InstantVisitor): Promise<void> {
    const ref = (this.atMs(vs.at) ?? f.ts[0] ?? 0) - vs.offsetMs;
    const lb = this.opts.lookbackDeltaMs;
    await this.selectEach(
      vs.matchers,
      // Only the newest sample in the lookback window counts: the last one ≤ ref.
      { start: ref - lb, end: ref, step: f.stepMs, newest: true },
      (labels, ts, vals, len) => {
        let k = len - 1;
        while (k >= 0 && (ts[k] as number) > ref) k--;
        if (k < 0 || (ts[k] as number) < ref - lb) return;
        const v = vals[k] as number;
        if (v !== v && isStaleNaN(v)) return;
        this.addSamples(1);
        visit(labels, v);
      },
    );
  }

  /**
   * streamInstant evaluates `e` at a frame's single step series by series, handing `visit` each value with
   * its series' labels as stored — the metric name included even where `e` drops it, so the caller must not
   * read it — without building the vector: an aggregation over a selector or over a range function of one (a
   * rule's usual shape) then allocates nothing per input series. It returns false, having visited nothing,
   * for other expressions and for a range function over a selector that may match several metric names
   * (with the names dropped their label sets could collide: an error only the vector's merge raises).
   */
  async streamInstant(e: Expr, f: Frame, visit: InstantVisitor): Promise<boolean> {
    if (f.ts.length !== 1) return false;
    const u = unwrapParens(e);
    if (u.type === 'VectorSelector') {
      this.check();
      await this.selectorAt(u, f, visit);
      return true;
    }
    if (u.type !== 'Call') return false;
    const impl = FUNCTIONS.get(u.name)?.impl;
    if (impl?.kind !== 'range') return false;
    const matrixIdx = u.args.findIndex((a) => typeOf(a) === 'matrix');
    const ms = u.args[matrixIdx] ? unwrapParens(u.args[matrixIdx]) : undefined;
    if (ms?.type !== 'MatrixSelector' || !namesOne(ms.selector)) return false;
    this.check();
    const keepName = impl.keepName === true;
    const tiered = await this.tryTiers(u, ms, f, keepName);
    if (tiered) {
      for (const s of tiered.series) if (s.present[0]) visit(s.labels, s.values[0] as number);
      return true;
    }
    const params = await this.rangeParams(u, matrixIdx, f);
    await this.rangeFunctionAt(u, ms, f, impl.fn, params, impl.sliding, visit);
    return true;
  }

  async evalSelectorTimes(
    vs: VectorSelector,
    f: Frame,
  ): Promise<{ vector: VectorValue; times: Float64Array[] }> {
    const times: Float64Array[] = [];
    const vector = await this.evalVectorSelector(vs, f, times);
    return { vector, times };
  }

  private async evalMatrixSelector(
    ms: MatrixSelector,
    f: Frame,
    hints: Partial<SelectHints> | undefined,
  ): Promise<MatrixValue> {
    const vs = ms.selector;
    const ends = this.refTimes(f, vs.at, vs.offsetMs);
    const n = ends.length;
    if (n === 0) return { kind: 'matrix', series: [], rangeMs: ms.rangeMs, ends };
    const data = await this.select(vs.matchers, {
      start: (ends[0] ?? 0) - ms.rangeMs,
      end: ends[n - 1] ?? 0,
      step: f.stepMs,
      range: ms.rangeMs,
      ...hints,
    });
    const series: RawSeries[] = [];
    for (const s of data) {
      if (this.pacer.due()) await this.turn();
      series.push(dropStale(s));
    }
    return { kind: 'matrix', series, rangeMs: ms.rangeMs, ends };
  }

  private async evalSubquery(sq: SubqueryExpr, f: Frame): Promise<MatrixValue> {
    const ends = this.refTimes(f, sq.at, sq.offsetMs);
    const n = ends.length;
    if (n === 0) return { kind: 'matrix', series: [], rangeMs: sq.rangeMs, ends };
    const step = sq.stepMs > 0 ? sq.stepMs : this.opts.noStepSubqueryIntervalMs;
    const lo = (ends[0] ?? 0) - sq.rangeMs;
    let start = step * Math.trunc(lo / step);
    if (start < lo) start += step;
    // A subquery like x[10y:1s] has billions of steps: refused before anything is allocated.
    const innerSteps = stepCount(start, ends[n - 1] ?? 0, step);
    if (innerSteps > this.opts.maxSubquerySteps)
      throw executionError(
        `subquery would evaluate its expression at ${innerSteps} steps, more than the limit of ${this.opts.maxSubquerySteps}: use a larger subquery step or a shorter range`,
      );
    const innerFrame: Frame = { ts: this.steps(start, ends[n - 1] ?? 0, step), stepMs: step };
    const inner = await this.eval(sq.expr, innerFrame);
    if (inner.kind !== 'vector') throw executionError('subquery is only allowed on instant vector');
    const series: RawSeries[] = [];
    for (const s of inner.series) {
      if (this.pacer.due()) await this.turn();
      // Counted, then copied into arrays of that size: a subquery's series may span a million steps.
      let count = 0;
      for (let i = 0; i < innerFrame.ts.length; i++) count += s.present[i] ?? 0;
      if (count === 0) continue;
      const timestamps = new Float64Array(count);
      const values = new Float64Array(count);
      for (let i = 0, k = 0; i < innerFrame.ts.length; i++) {
        if (!s.present[i]) continue;
        timestamps[k] = innerFrame.ts[i] ?? 0;
        values[k++] = s.values[i] ?? NaN;
      }
      series.push({ labels: s.labels, timestamps, values });
    }
    return { kind: 'matrix', series, rangeMs: sq.rangeMs, ends };
  }

  // ---------------------------------------------------------------- functions

  private async evalCall(call: Call, f: Frame): Promise<Value> {
    const def = FUNCTIONS.get(call.name);
    if (!def) throw executionError(`unknown function ${call.name}`);
    const n = f.ts.length;
    const impl = def.impl;
    if (impl.kind === 'range')
      return this.evalRangeFunction(call, f, impl.fn, impl.keepName === true, impl.sliding);
    if (impl.kind === 'elementwise') {
      const arg0 = call.args[0];
      if (!arg0) throw executionError(`missing argument to ${call.name}`);
      const vec = await this.evalVector(arg0, f);
      const params = await Promise.all(call.args.slice(1).map((a) => this.evalScalar(a, f)));
      const p: number[] = new Array<number>(params.length).fill(0);
      const out: StepSeries[] = [];
      for (const s of vec.series) {
        if (this.pacer.due()) await this.turn();
        const r = newStepSeries(dropName(s.labels), n);
        let any = false;
        for (let i = 0; i < n; i++) {
          if (!s.present[i]) continue;
          for (let k = 0; k < params.length; k++) p[k] = params[k]?.[i] ?? NaN;
          const v = impl.fn(s.values[i] as number, p);
          if (v === undefined) continue;
          r.values[i] = v;
          r.present[i] = 1;
          any = true;
        }
        if (any) out.push(r);
      }
      // Dropping one shared name leaves distinct label sets distinct: nothing to merge.
      if (vec.distinct && sameName(vec.series)) return { kind: 'vector', series: out, distinct: true };
      return distinctVector(out);
    }
    if (impl.kind === 'date') {
      const arg0 = call.args[0];
      let vec: VectorValue;
      if (arg0) vec = await this.evalVector(arg0, f);
      else {
        const s = newStepSeries({}, n);
        for (let i = 0; i < n; i++) {
          s.values[i] = (f.ts[i] ?? 0) / 1000;
          s.present[i] = 1;
        }
        vec = { kind: 'vector', series: [s] };
      }
      const out: StepSeries[] = [];
      for (const s of vec.series) {
        if (this.pacer.due()) await this.turn();
        const r = newStepSeries(dropName(s.labels), n);
        for (let i = 0; i < n; i++) {
          if (!s.present[i]) continue;
          const v = s.values[i] as number;
          r.values[i] = Number.isFinite(v) ? impl.fn(new Date(Math.trunc(v) * 1000)) : NaN;
          r.present[i] = 1;
        }
        out.push(r);
      }
      return distinctVector(out);
    }
    return impl.fn(this, call, f);
  }

  async evalVector(e: Expr, f: Frame): Promise<VectorValue> {
    const v = await this.eval(e, f);
    if (v.kind !== 'vector') throw executionError(`expected instant vector, got ${v.kind}`);
    return v;
  }

  async evalScalar(e: Expr, f: Frame): Promise<Float64Array> {
    const v = await this.eval(e, f);
    if (v.kind !== 'scalar') throw executionError(`expected scalar, got ${v.kind}`);
    return v.values;
  }

  async evalString(e: Expr, f: Frame): Promise<string> {
    const v = await this.eval(e, f);
    if (v.kind !== 'string') throw executionError(`expected string, got ${v.kind}`);
    return v.value;
  }

  async evalMatrixArg(e: Expr, f: Frame): Promise<MatrixValue> {
    const inner = unwrapParens(e);
    if (inner.type === 'MatrixSelector') return this.evalMatrixSelector(inner, f, undefined);
    if (inner.type === 'SubqueryExpr') return this.evalSubquery(inner, f);
    throw executionError('expected range vector');
  }

  private async evalRangeFunction(
    call: Call,
    f: Frame,
    fn: RangeFn,
    keepName: boolean,
    sliding?: () => SlidingWindow,
  ): Promise<VectorValue> {
    const n = f.ts.length;
    const matrixIdx = call.args.findIndex((a) => typeOf(a) === 'matrix');
    const matrixExpr = call.args[matrixIdx];
    if (!matrixExpr) throw executionError(`missing range vector argument to ${call.name}`);
    const params = await this.rangeParams(call, matrixIdx, f);

    const unwrapped = unwrapParens(matrixExpr);
    if (unwrapped.type === 'MatrixSelector') {
      const tiered = await this.tryTiers(call, unwrapped, f, keepName);
      if (tiered) return tiered;
      // One step (an instant query, a rule) is computed per series as the samples stream in.
      if (n === 1) {
        const out: StepSeries[] = [];
        let first: string | undefined | null = null;
        let oneName = true;
        await this.rangeFunctionAt(call, unwrapped, f, fn, params, sliding, (labels, v) => {
          const name = labels[METRIC_NAME];
          if (first === null) first = name;
          else if (name !== first) oneName = false;
          const r = newStepSeries(keepName ? labels : dropName(labels), 1);
          r.values[0] = v;
          r.present[0] = 1;
          out.push(r);
        });
        if (keepName || oneName) return { kind: 'vector', series: out, distinct: true };
        return distinctVector(out);
      }
    }
    const m = await this.evalMatrixArg(matrixExpr, f);
    const p: number[] = new Array<number>(params.length).fill(0);
    const out: StepSeries[] = [];
    const ends = m.ends;
    const range = m.rangeMs;
    // Windows overlap when the step is shorter than the range: then an incremental form, if the function
    // has one, moves the window instead of recomputing it (same values).
    const win = sliding && n > 1 && (ends[1] as number) - (ends[0] as number) < range ? sliding() : undefined;
    for (const s of m.series) {
      const ts = s.timestamps;
      const vs = s.values;
      const r = newStepSeries(keepName ? s.labels : dropName(s.labels), n);
      let lo = 0;
      let hi = 0;
      // [inLo, inHi) are the samples inside `win`.
      let inLo = 0;
      let inHi = 0;
      win?.clear();
      let any = false;
      // work counts the window samples looked at since the clock was last read.
      let work = 0;
      for (let i = 0; i < n; i++) {
        // A window function over long windows (quantile_over_time over a day of 1 s subquery steps, at every
        // step of a range query) costs up to milliseconds per step: the clock is read every 64 steps, or
        // sooner once 64 K window samples went by, so turns and the deadline come every slice either way.
        if ((i & 63) === 0 || work > WINDOW_WORK_PER_CHECK) {
          work = 0;
          if (this.pacer.due()) await this.turn();
        }
        const wEnd = ends[i] as number;
        const wStart = wEnd - range;
        while (lo < ts.length && (ts[lo] as number) < wStart) lo++;
        if (hi < lo) hi = lo;
        while (hi < ts.length && (ts[hi] as number) <= wEnd) hi++;
        work += hi - lo;
        for (let k = 0; k < params.length; k++) p[k] = params[k]?.[i] ?? NaN;
        let v: number | undefined;
        if (win) {
          if (lo >= inHi) {
            win.clear();
            inLo = inHi = lo;
          }
          while (inLo < lo) win.remove(vs[inLo++] as number);
          // A first window may hold a day of samples, each added in O(window): turns in between.
          while (inHi < hi) {
            win.add(vs[inHi++] as number);
            if ((inHi & 4095) === 0 && this.pacer.due()) await this.turn();
          }
          v = hi > lo ? win.value(p) : undefined;
        } else v = fn(ts, vs, lo, hi, wStart, wEnd, f.ts[i] as number, p);
        if (v === undefined) continue;
        r.values[i] = v;
        r.present[i] = 1;
        any = true;
      }
      if (any) out.push(r);
    }
    this.addSamples(out.length * n);
    // A matrix's series are distinct; without their names still so when they all had the same one.
    if (keepName || sameName(m.series)) return { kind: 'vector', series: out, distinct: true };
    return distinctVector(out);
  }

  /** rangeParams evaluates a range function's scalar arguments (all but the range vector at `matrixIdx`). */
  private async rangeParams(call: Call, matrixIdx: number, f: Frame): Promise<Float64Array[]> {
    const args = await Promise.all(
      call.args.map((a, i) => (i === matrixIdx ? Promise.resolve(undefined) : this.evalScalar(a, f))),
    );
    return args.filter((x): x is Float64Array => x !== undefined);
  }

  /**
   * rangeFunctionAt is evalRangeFunction at a single step over a matrix selector, without holding the
   * matrix: each series' window is streamed from the store (selectEach), its staleness markers dropped
   * into a reused buffer, and the function applied at once; `visit` gets each series' value with its labels
   * as stored (the name not dropped). A day-long window of a thousand series is then never copied out of
   * the store. The values are counted against the sample budget once every window is read and released, as
   * a vector built from them would be: counted while a window is held, a read near the budget would fail
   * where the same read through the window cache does not.
   */
  private async rangeFunctionAt(
    call: Call,
    ms: MatrixSelector,
    f: Frame,
    fn: RangeFn,
    params: readonly Float64Array[],
    sliding: (() => SlidingWindow) | undefined,
    visit: InstantVisitor,
  ): Promise<void> {
    const wEnd = this.refTimes(f, ms.selector.at, ms.selector.offsetMs)[0] ?? 0;
    const wStart = wEnd - ms.rangeMs;
    const p = params.map((x) => x[0] ?? NaN);
    const evalT = f.ts[0] as number;
    let values = 0;
    const emit = (labels: Labels, v: number | undefined): void => {
      if (v === undefined) return;
      values++;
      visit(labels, v);
    };
    const hints: SelectHints = { start: wStart, end: wEnd, step: f.stepMs, range: ms.rangeMs };
    // The select window is the function's: every sample is in [wStart, wEnd].
    const apply = (ts: Float64Array, vs: Float64Array, len: number): number | undefined => {
      const live = withoutStale(ts, vs, len);
      return fn(live.ts, live.vs, 0, live.n, wStart, wEnd, evalT, p);
    };
    const windows = this.windows;
    const q = windows.enabled ? await this.queryable.querier(wStart, wEnd) : undefined;
    const generation = q?.historyGeneration;
    if (!q || generation === undefined || !q.selectEach || !windows.worthKeeping(call)) {
      let samples = 0;
      let series = 0;
      await this.selectEach(
        ms.selector.matchers,
        hints,
        (labels, ts, vs, len) => {
          samples += len;
          series++;
          emit(labels, apply(ts, vs, len));
        },
        q,
      );
      if (q) windows.note(call, samples, series);
    } else {
      const kept = windows.take(call);
      const usable =
        kept !== undefined &&
        kept.source === this.queryable &&
        kept.generation === generation &&
        kept.rangeMs === ms.rangeMs &&
        wEnd >= kept.end;
      const moved = usable && (await this.moveWindows(kept, ms, hints, q, generation));
      const node = moved ? kept : await this.readWindows(ms, hints, q, generation, sliding);
      for (const [labels, w] of node.series) {
        if (!moved) {
          emit(labels, apply(w.ts, w.vs, w.n));
          continue;
        }
        // Each series' window counts while the function runs over it, as selectEach counts a fresh read's.
        this.stats.samplesLoaded += w.n;
        this.addSamples(w.n);
        emit(labels, w.sliding ? w.sliding.value(p) : apply(w.ts, w.vs, w.n));
        this.releaseSamples(w.n);
      }
      windows.note(call, node.samples, node.series.size);
      // A retention (or another change of history) that ran during the reads leaves nothing to keep.
      if (q.historyGeneration === generation && windows.worthKeeping(call)) windows.put(call, node);
    }
    this.addSamples(values);
  }

  /**
   * readWindows reads a range function's window of every series afresh, as the windows to keep
   * (window-cache.ts).
   */
  private async readWindows(
    ms: MatrixSelector,
    hints: SelectHints,
    q: Querier,
    generation: number,
    sliding: (() => SlidingWindow) | undefined,
  ): Promise<NodeWindows> {
    const node: NodeWindows = {
      source: this.queryable,
      generation,
      rangeMs: ms.rangeMs,
      end: hints.end,
      series: new Map(),
      samples: 0,
    };
    await this.selectEach(
      ms.selector.matchers,
      hints,
      (labels, ts, vs, len) => {
        // Room for an eighth more: windows that move by a sample or two do not grow their arrays.
        const w = new SeriesWindow(len + (len >> 3) + 4, sliding?.());
        w.push(ts, vs, len);
        node.series.set(labels, w);
        node.samples += len;
      },
      q,
    );
    return node;
  }

  /**
   * moveWindows moves kept windows to `hints`' window: it reads only each series' samples since its newest
   * kept one and drops those before the window. False when that cannot be exact (a series it does not know
   * has samples in the window, or history changed meanwhile): the caller then reads afresh. Throws the
   * sample-budget error a fresh read of the whole windows would throw.
   */
  private async moveWindows(
    node: NodeWindows,
    ms: MatrixSelector,
    hints: SelectHints,
    q: Querier,
    generation: number,
  ): Promise<boolean> {
    let unknown = false;
    const series = node.series;
    await this.selectEach(
      ms.selector.matchers,
      { ...hints, from: (labels) => series.get(labels)?.newest ?? -Infinity },
      (labels, ts, vs, len) => {
        const w = series.get(labels);
        if (!w) {
          unknown = true;
          return;
        }
        const before = w.n;
        w.push(ts, vs, len);
        node.samples += w.n - before;
      },
      q,
    );
    if (unknown || q.historyGeneration !== generation) return false;
    let total = 0;
    for (const [labels, w] of series) {
      const before = w.n;
      w.trim(hints.start);
      node.samples += w.n - before;
      // Not in a fresh read any more; should it come back, it is a series the windows do not know.
      if (w.n === 0) series.delete(labels);
      total += w.n;
    }
    // A fresh read of these windows would have stopped here (Querier.select's maxSamples).
    if (total > this.opts.maxSamples - this.samplesHeld) throw tooManySamples();
    node.end = hints.end;
    return true;
  }

  /** tryTiers serves a range function from a rollup tier when tiers.ts's rule allows; undefined = use raw. */
  private async tryTiers(
    call: Call,
    ms: MatrixSelector,
    f: Frame,
    keepName: boolean,
  ): Promise<VectorValue | undefined> {
    const ends = this.refTimes(f, ms.selector.at, ms.selector.offsetMs);
    const n = ends.length;
    if (n === 0) return undefined;
    const span = (ends[n - 1] ?? 0) - (ends[0] ?? 0) + ms.rangeMs;
    const plan = chooseTier(call.name, ms.rangeMs, f.stepMs, ends, span, this.opts.tiers);
    if (!plan) return undefined;
    const base: SelectHints = {
      start: (ends[0] ?? 0) - ms.rangeMs,
      end: (ends[n - 1] ?? 0) - 1,
      step: f.stepMs,
      range: ms.rangeMs,
      func: call.name,
      tier: plan.tier,
    };
    const selections = await Promise.all(
      plan.aggregates.map((aggregate) => this.select(ms.selector.matchers, { ...base, aggregate })),
    );
    const primary = selections[0];
    if (!primary || primary.length === 0) return undefined;
    this.stats.tiersUsed.push(`${call.name}:${plan.tier}`);
    const counts = new Map<string, SeriesData>();
    if (plan.combine === 'avg') for (const s of selections[1] ?? []) counts.set(seriesKey(s.labels), s);
    const out: StepSeries[] = [];
    for (const s of primary) {
      if (this.pacer.due()) await this.turn();
      const r = newStepSeries(keepName ? s.labels : dropName(s.labels), n);
      const cnt = plan.combine === 'avg' ? counts.get(seriesKey(s.labels)) : undefined;
      if (combineBuckets(plan, s, cnt, ends, ms.rangeMs, r)) out.push(r);
    }
    this.addSamples(out.length * n);
    return distinctVector(out);
  }

  // ---------------------------------------------------------------- aggregation

  // ---------------------------------------------------------------- binary operators
}

/** staleScratch holds withoutStale's copies (evaluation is single-threaded; each use ends before the next). */
let staleScratch = { ts: new Float64Array(256), vs: new Float64Array(256) };

/**
 * withoutStale returns the first `n` samples of `ts`/`vs` minus staleness markers: the arrays themselves
 * when there are none, else a copy in a reused buffer valid until the next call.
 */
function withoutStale(
  ts: Float64Array,
  vs: Float64Array,
  n: number,
): { ts: Float64Array; vs: Float64Array; n: number } {
  let i = 0;
  for (; i < n; i++) {
    const v = vs[i] as number;
    if (v !== v && isStaleNaN(v)) break;
  }
  if (i === n) return { ts, vs, n };
  if (staleScratch.ts.length < n) staleScratch = { ts: new Float64Array(n), vs: new Float64Array(n) };
  const out = staleScratch;
  let m = 0;
  for (let k = 0; k < n; k++) {
    const v = vs[k] as number;
    if (v !== v && isStaleNaN(v)) continue;
    out.ts[m] = ts[k] as number;
    out.vs[m++] = v;
  }
  return { ts: out.ts, vs: out.vs, n: m };
}

/** dropStale removes staleness markers from raw samples (range vectors never contain them). */
function dropStale(s: SeriesData): RawSeries {
  let stale = 0;
  const vs = s.values;
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i] as number;
    if (v !== v && isStaleNaN(v)) stale++;
  }
  if (stale === 0) return s;
  const ts = new Float64Array(vs.length - stale);
  const out = new Float64Array(vs.length - stale);
  let j = 0;
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i] as number;
    if (v !== v && isStaleNaN(v)) continue;
    ts[j] = s.timestamps[i] as number;
    out[j++] = v;
  }
  return { labels: s.labels, timestamps: ts, values: out };
}

/** combineBuckets folds the rollup buckets of each window into the function's value; false if none. */
function combineBuckets(
  plan: TierPlan,
  s: SeriesData,
  count: SeriesData | undefined,
  ends: Float64Array,
  rangeMs: number,
  r: StepSeries,
): boolean {
  const ts = s.timestamps;
  const vs = s.values;
  let lo = 0;
  let hi = 0;
  let any = false;
  let clo = 0;
  let chi = 0;
  for (let i = 0; i < ends.length; i++) {
    const wEnd = ends[i] as number;
    const wStart = wEnd - rangeMs;
    while (lo < ts.length && (ts[lo] as number) < wStart) lo++;
    if (hi < lo) hi = lo;
    while (hi < ts.length && (ts[hi] as number) < wEnd) hi++;
    if (hi <= lo) continue;
    let v: number;
    switch (plan.combine) {
      case 'min':
        v = vs[lo] as number;
        for (let k = lo + 1; k < hi; k++) if ((vs[k] as number) < v || Number.isNaN(v)) v = vs[k] as number;
        break;
      case 'max':
        v = vs[lo] as number;
        for (let k = lo + 1; k < hi; k++) if ((vs[k] as number) > v || Number.isNaN(v)) v = vs[k] as number;
        break;
      case 'last':
        v = vs[hi - 1] as number;
        break;
      case 'present':
        v = 1;
        break;
      default: {
        v = 0;
        for (let k = lo; k < hi; k++) v += vs[k] as number;
        if (plan.combine === 'rate') v /= rangeMs / 1000;
        if (plan.combine === 'avg') {
          if (!count) continue;
          const cts = count.timestamps;
          while (clo < cts.length && (cts[clo] as number) < wStart) clo++;
          if (chi < clo) chi = clo;
          while (chi < cts.length && (cts[chi] as number) < wEnd) chi++;
          let c = 0;
          for (let k = clo; k < chi; k++) c += count.values[k] as number;
          if (c === 0) continue;
          v /= c;
        }
      }
    }
    r.values[i] = v;
    r.present[i] = 1;
    any = true;
  }
  return any;
}
