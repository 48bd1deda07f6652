/**
 * The PromQL evaluator, after Prometheus's `promql/engine.go` (2.x semantics). Every node is evaluated for
 * all steps of the query at once: an instant vector is a set of series with one value slot and a presence
 * flag per step (see value.ts), which makes range queries one pass per node instead of one pass per step.
 * The engine sees storage only through `Queryable` (tsdb/storage.ts) and never imports a backend.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { TsdbError } from '../tsdb/errors.js';
import type { Matcher, Queryable, SelectHints, SeriesData } from '../tsdb/storage.js';
import { Pacer } from '../util/pacer.js';
import { METRIC_NAME, seriesKey, type Labels } from '../util/labels.js';
import { compileRegex, type Regex, type RegexMatch } from '../util/re2.js';
import type {
  AggregateExpr,
  AtModifier,
  BinaryExpr,
  BinaryOp,
  Call,
  Expr,
  MatrixSelector,
  SubqueryExpr,
  VectorSelector,
} from './ast.js';
import { PromQLError, executionError, queryTimeout, tooManySamples } from './errors.js';
import { FUNCTIONS, goPow, quantileOf, type RangeFn } from './functions.js';
import { DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUED, QueryGate, createGateMetrics } from './gate.js';
import {
  LABEL_NAME_RE,
  compareLabels,
  dropName,
  labelsToString,
  matchedLabels,
  signatureOf,
} from './labels-util.js';
import { COMPARISON_OPS, parseExpr, typeOf } from './parser.js';
import { formatSampleValue } from './format.js';
import { chooseTier, DEFAULT_TIER_OPTIONS, type TierOptions, type TierPlan } from './tiers.js';
import {
  isStaleNaN,
  newStepSeries,
  type MatrixValue,
  type RawSeries,
  type ScalarValue,
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
 * 20 concurrent queries).
 */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  lookbackDeltaMs: 5 * 60_000,
  maxSamples: 50_000_000,
  timeoutMs: 2 * 60_000,
  noStepSubqueryIntervalMs: 60_000,
  tiers: DEFAULT_TIER_OPTIONS,
  maxConcurrent: DEFAULT_MAX_CONCURRENT,
  maxQueued: DEFAULT_MAX_QUEUED,
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
    try {
      return await new Evaluator(this.options, queryable, start, end, step, deadline).run(expr, isRange);
    } finally {
      release();
    }
  }
}

/** stepCount is the number of steps of start, start + step, … ≤ end (0 when end < start). */
function stepCount(start: number, end: number, step: number): number {
  if (end < start) return 0;
  return step > 0 ? Math.floor((end - start) / step) + 1 : 1;
}

/** stepTimes returns start, start + step, … ≤ end (callers check stepCount against the budget first). */
function stepTimes(start: number, end: number, step: number): Float64Array {
  const n = stepCount(start, end, step);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return out;
}

/** unwrapParens strips parentheses. */
function unwrapParens(e: Expr): Expr {
  while (e.type === 'ParenExpr') e = e.expr;
  return e;
}

/** Frame is the step grid a node is evaluated on (the query's, or a subquery's). */
interface Frame {
  readonly ts: Float64Array;
  readonly stepMs: number;
}

class Evaluator {
  private samples = 0;
  private readonly stats: QueryStats = { samplesLoaded: 0, tiersUsed: [] };
  private readonly pacer = new Pacer();

  constructor(
    private readonly opts: EngineOptions,
    private readonly queryable: Queryable,
    private readonly start: number,
    private readonly end: number,
    private readonly step: number,
    /** deadline is the performance.now() time past which the query fails with `timeout` (storage reads too). */
    private readonly deadline: number,
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
        const series = mergeSameLabels(v.series);
        if (!isRange) {
          const out: InstantSample[] = [];
          for (const s of series)
            if (s.present[0]) out.push({ labels: s.labels, t: t0, v: s.values[0] ?? NaN });
          return { resultType: 'vector', result: out };
        }
        const out: MatrixSeries[] = [];
        for (const s of series) {
          if (this.pacer.due()) await this.turn();
          const timestamps: number[] = [];
          const values: number[] = [];
          for (let i = 0; i < frame.ts.length; i++) {
            if (!s.present[i]) continue;
            timestamps.push(frame.ts[i] ?? 0);
            values.push(s.values[i] ?? NaN);
          }
          if (timestamps.length > 0) out.push({ labels: s.labels, timestamps, values });
        }
        out.sort((a, b) => compareLabels(a.labels, b.labels));
        return { resultType: 'matrix', result: out };
      }
      case 'matrix': {
        const end = v.ends[0] ?? t0;
        const start = end - v.rangeMs;
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

  /** check enforces the timeout and the sample limit; called at every node and at every turn. */
  private check(): void {
    if (performance.now() > this.deadline) throw queryTimeout();
    if (this.samples > this.opts.maxSamples) throw tooManySamples();
  }

  /**
   * turn gives the event loop a turn, then checks the deadline. Loops call it when `pacer.due()`:
   * `if (this.pacer.due()) await this.turn();` costs one clock read per iteration otherwise.
   */
  private async turn(): Promise<void> {
    await this.pacer.yield();
    this.check();
  }

  private addSamples(n: number): void {
    this.samples += n;
    if (this.samples > this.opts.maxSamples) throw tooManySamples();
  }

  private async eval(e: Expr, f: Frame): Promise<Value> {
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
        if (v.kind === 'scalar') return { kind: 'scalar', values: v.values.map((x) => -x) };
        if (v.kind !== 'vector')
          throw executionError('unary expression only allowed on scalar or instant vector');
        const out = v.series.map((s) => ({
          labels: dropName(s.labels),
          values: s.values.map((x) => -x),
          present: s.present,
        }));
        return { kind: 'vector', series: mergeSameLabels(out) };
      }
      case 'VectorSelector':
        return this.evalVectorSelector(e, f, undefined);
      case 'MatrixSelector':
        return this.evalMatrixSelector(e, f, undefined);
      case 'SubqueryExpr':
        return this.evalSubquery(e, f);
      case 'BinaryExpr':
        return this.evalBinary(e, f);
      case 'AggregateExpr':
        return this.evalAggregate(e, f);
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
    this.samples -= n;
  }

  private async select(matchers: readonly Matcher[], hints: SelectHints): Promise<SeriesData[]> {
    const q = await this.queryable.querier(hints.start, hints.end);
    const res = await q.select(matchers, {
      ...hints,
      maxSamples: this.opts.maxSamples - this.samples,
      deadline: this.deadline,
    });
    let n = 0;
    for (const s of res) n += s.timestamps.length;
    this.stats.samplesLoaded += n;
    this.addSamples(n);
    return res;
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
    const data = await this.select(vs.matchers, {
      start: (fixed ?? ts0[0] ?? 0) - off - lb,
      end: (fixed ?? ts0[n - 1] ?? 0) - off,
      step: f.stepMs,
    });
    const out: StepSeries[] = [];
    let loaded = 0;
    for (const s of data) loaded += s.timestamps.length;
    for (const s of data) {
      if (this.pacer.due()) await this.turn();
      // The series holds one slot per step: that is what the sample budget bounds (as Prometheus counts the
      // points a selector yields over a range query's steps), reserved before the slots are allocated.
      this.addSamples(n);
      const series = newStepSeries(s.labels, n);
      const st = sampleTimes ? new Float64Array(n) : undefined;
      const ts = s.timestamps;
      const vals = s.values;
      let j = 0;
      let any = false;
      for (let i = 0; i < n; i++) {
        const ref = (fixed ?? ts0[i] ?? 0) - off;
        while (j < ts.length && (ts[j] as number) <= ref) j++;
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
    }
    this.releaseSamples(loaded);
    return { kind: 'vector', series: out };
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
    // A subquery like x[10y:1s] has billions of steps: refused by the budget before anything is allocated.
    const innerFrame: Frame = { ts: this.steps(start, ends[n - 1] ?? 0, step), stepMs: step };
    const inner = await this.eval(sq.expr, innerFrame);
    if (inner.kind !== 'vector') throw executionError('subquery is only allowed on instant vector');
    const series: RawSeries[] = [];
    for (const s of inner.series) {
      if (this.pacer.due()) await this.turn();
      const ts: number[] = [];
      const vs: number[] = [];
      for (let i = 0; i < innerFrame.ts.length; i++) {
        if (!s.present[i]) continue;
        ts.push(innerFrame.ts[i] ?? 0);
        vs.push(s.values[i] ?? NaN);
      }
      if (ts.length > 0)
        series.push({ labels: s.labels, timestamps: Float64Array.from(ts), values: Float64Array.from(vs) });
    }
    return { kind: 'matrix', series, rangeMs: sq.rangeMs, ends };
  }

  // ---------------------------------------------------------------- functions

  private async evalCall(call: Call, f: Frame): Promise<Value> {
    const def = FUNCTIONS.get(call.name);
    if (!def) throw executionError(`unknown function ${call.name}`);
    const n = f.ts.length;
    const impl = def.impl;
    if (impl.kind === 'range') return this.evalRangeFunction(call, f, impl.fn, impl.keepName === true);
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
      return { kind: 'vector', series: mergeSameLabels(out) };
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
      return { kind: 'vector', series: mergeSameLabels(out) };
    }
    return this.evalSpecial(call, f);
  }

  private async evalVector(e: Expr, f: Frame): Promise<VectorValue> {
    const v = await this.eval(e, f);
    if (v.kind !== 'vector') throw executionError(`expected instant vector, got ${v.kind}`);
    return v;
  }

  private async evalScalar(e: Expr, f: Frame): Promise<Float64Array> {
    const v = await this.eval(e, f);
    if (v.kind !== 'scalar') throw executionError(`expected scalar, got ${v.kind}`);
    return v.values;
  }

  private async evalString(e: Expr, f: Frame): Promise<string> {
    const v = await this.eval(e, f);
    if (v.kind !== 'string') throw executionError(`expected string, got ${v.kind}`);
    return v.value;
  }

  private async evalMatrixArg(e: Expr, f: Frame): Promise<MatrixValue> {
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
  ): Promise<VectorValue> {
    const n = f.ts.length;
    const matrixIdx = call.args.findIndex((a) => {
      const t = typeOf(a);
      return t === 'matrix';
    });
    const matrixExpr = call.args[matrixIdx];
    if (!matrixExpr) throw executionError(`missing range vector argument to ${call.name}`);
    const scalarArgs = await Promise.all(
      call.args.map((a, i) => (i === matrixIdx ? Promise.resolve(undefined) : this.evalScalar(a, f))),
    );
    const params = scalarArgs.filter((x): x is Float64Array => x !== undefined);

    const unwrapped = unwrapParens(matrixExpr);
    if (unwrapped.type === 'MatrixSelector') {
      const tiered = await this.tryTiers(call, unwrapped, f, keepName);
      if (tiered) return tiered;
    }
    const m = await this.evalMatrixArg(matrixExpr, f);
    const p: number[] = new Array<number>(params.length).fill(0);
    const out: StepSeries[] = [];
    const ends = m.ends;
    const range = m.rangeMs;
    for (const s of m.series) {
      const ts = s.timestamps;
      const vs = s.values;
      const r = newStepSeries(keepName ? s.labels : dropName(s.labels), n);
      let lo = 0;
      let hi = 0;
      let any = false;
      for (let i = 0; i < n; i++) {
        // A window function over long windows (quantile_over_time over [7d]) is costly per step.
        if ((i & 63) === 0 && this.pacer.due()) await this.turn();
        const wEnd = ends[i] as number;
        const wStart = wEnd - range;
        while (lo < ts.length && (ts[lo] as number) < wStart) lo++;
        if (hi < lo) hi = lo;
        while (hi < ts.length && (ts[hi] as number) <= wEnd) hi++;
        for (let k = 0; k < params.length; k++) p[k] = params[k]?.[i] ?? NaN;
        const v = fn(ts, vs, lo, hi, wStart, wEnd, f.ts[i] as number, p);
        if (v === undefined) continue;
        r.values[i] = v;
        r.present[i] = 1;
        any = true;
      }
      if (any) out.push(r);
    }
    this.addSamples(out.length * n);
    return { kind: 'vector', series: mergeSameLabels(out) };
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
    return { kind: 'vector', series: mergeSameLabels(out) };
  }

  private async evalSpecial(call: Call, f: Frame): Promise<Value> {
    const n = f.ts.length;
    const args = call.args;
    switch (call.name) {
      case 'time':
        return { kind: 'scalar', values: f.ts.map((t) => t / 1000) };
      case 'pi':
        return { kind: 'scalar', values: new Float64Array(n).fill(Math.PI) };
      case 'vector': {
        const v = await this.evalScalar(args[0] as Expr, f);
        return {
          kind: 'vector',
          series: [{ labels: {}, values: Float64Array.from(v), present: new Uint8Array(n).fill(1) }],
        };
      }
      case 'scalar': {
        const vec = await this.evalVector(args[0] as Expr, f);
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          let count = 0;
          let val = NaN;
          for (const s of vec.series)
            if (s.present[i]) {
              count++;
              val = s.values[i] as number;
            }
          out[i] = count === 1 ? val : NaN;
        }
        return { kind: 'scalar', values: out };
      }
      case 'timestamp': {
        const arg = args[0] as Expr;
        if (arg.type === 'VectorSelector') {
          const times: Float64Array[] = [];
          const vec = await this.evalVectorSelector(arg, f, times);
          const out = vec.series.map((s, k) => ({
            labels: dropName(s.labels),
            values: (times[k] ?? new Float64Array(n)).map((t) => t / 1000),
            present: s.present,
          }));
          return { kind: 'vector', series: mergeSameLabels(out) };
        }
        const vec = await this.evalVector(arg, f);
        const out = vec.series.map((s) => ({
          labels: dropName(s.labels),
          values: f.ts.map((t) => t / 1000),
          present: s.present,
        }));
        return { kind: 'vector', series: mergeSameLabels(out) };
      }
      case 'sort':
      case 'sort_desc': {
        const vec = await this.evalVector(args[0] as Expr, f);
        if (n !== 1) return vec;
        const desc = call.name === 'sort_desc';
        const sorted = [...vec.series].sort((a, b) => {
          const x = a.values[0] as number;
          const y = b.values[0] as number;
          if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
          if (Number.isNaN(y)) return 1;
          return desc ? y - x : x - y;
        });
        return { kind: 'vector', series: sorted };
      }
      case 'absent': {
        const vec = await this.evalVector(args[0] as Expr, f);
        return this.absentResult(args[0] as Expr, n, (i) => vec.series.some((s) => s.present[i] === 1));
      }
      case 'absent_over_time': {
        const m = await this.evalMatrixArg(args[0] as Expr, f);
        const has = new Uint8Array(n);
        for (const s of m.series) {
          let lo = 0;
          for (let i = 0; i < n; i++) {
            const wEnd = m.ends[i] as number;
            const wStart = wEnd - m.rangeMs;
            while (lo < s.timestamps.length && (s.timestamps[lo] as number) < wStart) lo++;
            if (lo < s.timestamps.length && (s.timestamps[lo] as number) <= wEnd) has[i] = 1;
          }
        }
        return this.absentResult(args[0] as Expr, n, (i) => has[i] === 1);
      }
      case 'label_replace':
        return this.labelReplace(call, f);
      case 'label_join':
        return this.labelJoin(call, f);
      case 'histogram_quantile':
        return this.histogramQuantile(call, f);
      default:
        throw executionError(`function ${call.name} is not implemented`);
    }
  }

  private absentResult(arg: Expr, n: number, present: (i: number) => boolean): VectorValue {
    const labels: Record<string, string> = {};
    const a = arg.type === 'MatrixSelector' ? arg.selector : arg;
    if (a.type === 'VectorSelector') {
      const has = new Set<string>();
      for (const m of a.matchers) {
        if (m.name === METRIC_NAME) continue;
        if (m.type === '=' && !has.has(m.name)) {
          if (m.value !== '') labels[m.name] = m.value;
          has.add(m.name);
        } else {
          delete labels[m.name];
        }
      }
    }
    const s = newStepSeries(labels, n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (present(i)) continue;
      s.values[i] = 1;
      s.present[i] = 1;
      any = true;
    }
    return { kind: 'vector', series: any ? [s] : [] };
  }

  private async labelReplace(call: Call, f: Frame): Promise<VectorValue> {
    const [vecE, dstE, replE, srcE, reE] = call.args;
    const vec = await this.evalVector(vecE as Expr, f);
    const dst = await this.evalString(dstE as Expr, f);
    const repl = await this.evalString(replE as Expr, f);
    const src = await this.evalString(srcE as Expr, f);
    const reStr = await this.evalString(reE as Expr, f);
    let re: Regex;
    try {
      re = compileRegex(reStr);
    } catch (e) {
      throw executionError(
        `invalid regular expression in label_replace(): ${reStr}: ${(e as Error).message}`,
      );
    }
    if (!LABEL_NAME_RE.test(dst))
      throw executionError(`invalid destination label name in label_replace(): ${dst}`);
    const out = vec.series.map((s) => {
      const m = re.match(s.labels[src] ?? '');
      if (!m) return s;
      const value = expandTemplate(repl, m);
      const labels: Record<string, string> = { ...s.labels };
      if (value === '') delete labels[dst];
      else labels[dst] = value;
      return { labels, values: s.values, present: s.present };
    });
    return { kind: 'vector', series: mergeSameLabels(out) };
  }

  private async labelJoin(call: Call, f: Frame): Promise<VectorValue> {
    const [vecE, dstE, sepE, ...srcEs] = call.args;
    const vec = await this.evalVector(vecE as Expr, f);
    const dst = await this.evalString(dstE as Expr, f);
    const sep = await this.evalString(sepE as Expr, f);
    const srcs: string[] = [];
    for (const e of srcEs) srcs.push(await this.evalString(e, f));
    if (!LABEL_NAME_RE.test(dst))
      throw executionError(`invalid destination label name in label_join(): ${dst}`);
    for (const s of srcs)
      if (!LABEL_NAME_RE.test(s)) throw executionError(`invalid source label name in label_join(): ${s}`);
    const out = vec.series.map((s) => {
      const value = srcs.map((l) => s.labels[l] ?? '').join(sep);
      const labels: Record<string, string> = { ...s.labels };
      if (value === '') delete labels[dst];
      else labels[dst] = value;
      return { labels, values: s.values, present: s.present };
    });
    return { kind: 'vector', series: mergeSameLabels(out) };
  }

  private async histogramQuantile(call: Call, f: Frame): Promise<VectorValue> {
    const n = f.ts.length;
    const q = await this.evalScalar(call.args[0] as Expr, f);
    const vec = await this.evalVector(call.args[1] as Expr, f);
    const groups = new Map<string, { labels: Labels; buckets: { le: number; s: StepSeries }[] }>();
    for (const s of vec.series) {
      const leStr = s.labels.le;
      if (leStr === undefined) continue;
      const le = parseLe(leStr);
      if (le === undefined) continue;
      const { le: _le, ...rest } = dropName(s.labels);
      const key = seriesKey(rest);
      let g = groups.get(key);
      if (!g) {
        g = { labels: rest, buckets: [] };
        groups.set(key, g);
      }
      g.buckets.push({ le, s });
    }
    const out: StepSeries[] = [];
    for (const g of groups.values()) {
      if (this.pacer.due()) await this.turn();
      g.buckets.sort((a, b) => a.le - b.le);
      const r = newStepSeries(g.labels, n);
      let any = false;
      for (let i = 0; i < n; i++) {
        const bs: { upperBound: number; count: number }[] = [];
        for (const b of g.buckets)
          if (b.s.present[i]) bs.push({ upperBound: b.le, count: b.s.values[i] as number });
        if (bs.length === 0) continue;
        r.values[i] = bucketQuantile(q[i] ?? NaN, bs);
        r.present[i] = 1;
        any = true;
      }
      if (any) out.push(r);
    }
    return { kind: 'vector', series: out };
  }

  // ---------------------------------------------------------------- aggregation

  private async evalAggregate(a: AggregateExpr, f: Frame): Promise<VectorValue> {
    const n = f.ts.length;
    const vec = await this.evalVector(a.expr, f);
    let param: Float64Array | undefined;
    let valueLabel = '';
    if (a.param) {
      if (a.op === 'count_values') {
        valueLabel = await this.evalString(a.param, f);
        if (!LABEL_NAME_RE.test(valueLabel))
          throw executionError(`invalid label name ${JSON.stringify(valueLabel)}`);
      } else param = await this.evalScalar(a.param, f);
    }
    const grouping = a.grouping;
    const groupLabels = (l: Labels): Labels => {
      const out: Record<string, string> = {};
      if (a.without) {
        for (const [k, v] of Object.entries(l)) if (k !== METRIC_NAME && !grouping.includes(k)) out[k] = v;
      } else {
        for (const k of grouping) {
          const v = l[k];
          if (v !== undefined && v !== '') out[k] = v;
        }
      }
      return out;
    };

    if (a.op === 'count_values') {
      const outMap = new Map<string, StepSeries>();
      const order: StepSeries[] = [];
      for (const s of vec.series) {
        if (this.pacer.due()) await this.turn();
        for (let i = 0; i < n; i++) {
          if (!s.present[i]) continue;
          const withValue = { ...s.labels, [valueLabel]: formatCountValue(s.values[i] as number) };
          const gl = a.without ? groupLabels(withValue) : groupLabels(withValue);
          if (!a.without) (gl as Record<string, string>)[valueLabel] = withValue[valueLabel] ?? '';
          const key = seriesKey(gl);
          let r = outMap.get(key);
          if (!r) {
            r = newStepSeries(gl, n);
            outMap.set(key, r);
            order.push(r);
          }
          r.values[i] = (r.present[i] ? (r.values[i] as number) : 0) + 1;
          r.present[i] = 1;
        }
      }
      return { kind: 'vector', series: order };
    }

    // Group the input series once; label sets are constant across steps.
    const groupIdx = new Map<string, number>();
    const groups: { labels: Labels; members: StepSeries[] }[] = [];
    for (const s of vec.series) {
      const gl = groupLabels(s.labels);
      const key = seriesKey(gl);
      let gi = groupIdx.get(key);
      if (gi === undefined) {
        gi = groups.length;
        groupIdx.set(key, gi);
        groups.push({ labels: gl, members: [] });
      }
      groups[gi]?.members.push(s);
    }

    if (a.op === 'topk' || a.op === 'bottomk') {
      const top = a.op === 'topk';
      const selected = new Map<StepSeries, StepSeries>();
      const order: StepSeries[] = [];
      for (const g of groups) {
        for (let i = 0; i < n; i++) {
          if (this.pacer.due()) await this.turn();
          const kRaw = param?.[i] ?? NaN;
          if (!(kRaw <= 9.223372036854776e18 && kRaw >= -9.223372036854776e18))
            throw executionError(`Scalar value ${formatSampleValue(kRaw)} overflows int64`);
          const k = Math.trunc(kRaw);
          if (k < 1) continue;
          const cands = g.members.filter((s) => s.present[i] === 1);
          cands.sort((x, y) => {
            const xv = x.values[i] as number;
            const yv = y.values[i] as number;
            // NaN ranks last for both topk and bottomk, as in Prometheus.
            if (Number.isNaN(xv)) return Number.isNaN(yv) ? 0 : 1;
            if (Number.isNaN(yv)) return -1;
            return top ? yv - xv : xv - yv;
          });
          for (const s of cands.slice(0, k)) {
            let r = selected.get(s);
            if (!r) {
              r = newStepSeries(s.labels, n);
              selected.set(s, r);
              order.push(r);
            }
            r.values[i] = s.values[i] as number;
            r.present[i] = 1;
          }
          if (n === 1) {
            // Instant queries list each group's selection best-first.
            const picked = cands.slice(0, k).map((s) => selected.get(s));
            const rest = order.filter((r) => !picked.includes(r));
            order.length = 0;
            order.push(...rest, ...picked.filter((r): r is StepSeries => r !== undefined));
          }
        }
      }
      return { kind: 'vector', series: order };
    }

    const out: StepSeries[] = [];
    for (const g of groups) {
      const r = newStepSeries(g.labels, n);
      let any = false;
      for (let i = 0; i < n; i++) {
        if ((i & 63) === 0 && this.pacer.due()) await this.turn();
        let count = 0;
        let acc = 0;
        let comp = 0;
        let mean = 0;
        let m2 = 0;
        let vals: number[] | undefined;
        for (const s of g.members) {
          if (!s.present[i]) continue;
          const v = s.values[i] as number;
          count++;
          switch (a.op) {
            case 'sum':
            case 'avg': {
              const t = acc + v;
              if (Number.isFinite(t)) comp += Math.abs(acc) >= Math.abs(v) ? acc - t + v : v - t + acc;
              acc = t;
              break;
            }
            case 'min':
              if (count === 1 || v < acc || Number.isNaN(acc)) acc = v;
              break;
            case 'max':
              if (count === 1 || v > acc || Number.isNaN(acc)) acc = v;
              break;
            case 'stddev':
            case 'stdvar': {
              const d = v - mean;
              mean += d / count;
              m2 += d * (v - mean);
              break;
            }
            case 'quantile':
              (vals ??= []).push(v);
              break;
            default:
              break;
          }
        }
        if (count === 0) continue;
        let res: number;
        switch (a.op) {
          case 'sum':
            res = Number.isFinite(acc) ? acc + comp : acc;
            break;
          case 'avg':
            res = Number.isFinite(acc) ? (acc + comp) / count : this.incrementalMean(g.members, i);
            break;
          case 'min':
          case 'max':
            res = acc;
            break;
          case 'count':
            res = count;
            break;
          case 'group':
            res = 1;
            break;
          case 'stddev':
            res = Math.sqrt(m2 / count);
            break;
          case 'stdvar':
            res = m2 / count;
            break;
          case 'quantile':
            res = quantileOf(param?.[i] ?? NaN, vals ?? []);
            break;
          default:
            res = NaN;
        }
        r.values[i] = res;
        r.present[i] = 1;
        any = true;
      }
      if (any) out.push(r);
    }
    return { kind: 'vector', series: out };
  }

  /** incrementalMean is avg's fallback when the plain sum overflows (Prometheus's incremental mean). */
  private incrementalMean(members: StepSeries[], i: number): number {
    let mean = 0;
    let count = 0;
    for (const s of members) {
      if (!s.present[i]) continue;
      const v = s.values[i] as number;
      count++;
      if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
        if (!Number.isFinite(v) && !Number.isNaN(v) && mean > 0 === v > 0) continue;
        if (Number.isFinite(v)) continue;
      }
      mean += v / count - mean / count;
    }
    return mean;
  }

  // ---------------------------------------------------------------- binary operators

  private async evalBinary(b: BinaryExpr, f: Frame): Promise<Value> {
    const n = f.ts.length;
    const [lhs, rhs] = await Promise.all([this.eval(b.lhs, f), this.eval(b.rhs, f)]);
    const op = b.op;
    const isCmp = COMPARISON_OPS.has(op);
    if (lhs.kind === 'scalar' && rhs.kind === 'scalar') {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const [v, keep] = scalarBinop(op, lhs.values[i] as number, rhs.values[i] as number);
        out[i] = isCmp ? (keep ? 1 : 0) : v;
      }
      return { kind: 'scalar', values: out };
    }
    if (lhs.kind === 'vector' && rhs.kind === 'vector') return this.vectorVector(b, lhs, rhs, n);
    if (this.pacer.due()) await this.turn();
    if (lhs.kind === 'vector' && rhs.kind === 'scalar') return vectorScalar(b, lhs, rhs, false, n);
    if (lhs.kind === 'scalar' && rhs.kind === 'vector') return vectorScalar(b, rhs, lhs, true, n);
    throw executionError('binary expression must contain only scalar and instant vector types');
  }

  private async vectorVector(
    b: BinaryExpr,
    lhs: VectorValue,
    rhs: VectorValue,
    n: number,
  ): Promise<VectorValue> {
    const m = b.matching ?? { card: 'one-to-one' as const, on: false, labels: [], include: [] };
    const sig = (l: Labels): string => signatureOf(l, m.on, m.labels);
    if (b.op === 'and' || b.op === 'unless') {
      const rightPresent = new Map<string, Uint8Array>();
      for (const s of rhs.series) {
        const k = sig(s.labels);
        let p = rightPresent.get(k);
        if (!p) {
          p = new Uint8Array(n);
          rightPresent.set(k, p);
        }
        for (let i = 0; i < n; i++) if (s.present[i]) p[i] = 1;
      }
      const out: StepSeries[] = [];
      const wantMatch = b.op === 'and';
      for (const s of lhs.series) {
        const p = rightPresent.get(sig(s.labels));
        const present = new Uint8Array(n);
        let any = false;
        for (let i = 0; i < n; i++) {
          if (!s.present[i]) continue;
          const matched = p !== undefined && p[i] === 1;
          if (matched === wantMatch) {
            present[i] = 1;
            any = true;
          }
        }
        if (any) out.push({ labels: s.labels, values: s.values, present });
      }
      return { kind: 'vector', series: out };
    }
    if (b.op === 'or') {
      const leftPresent = new Map<string, Uint8Array>();
      for (const s of lhs.series) {
        const k = sig(s.labels);
        let p = leftPresent.get(k);
        if (!p) {
          p = new Uint8Array(n);
          leftPresent.set(k, p);
        }
        for (let i = 0; i < n; i++) if (s.present[i]) p[i] = 1;
      }
      const out: StepSeries[] = [...lhs.series];
      for (const s of rhs.series) {
        const p = leftPresent.get(sig(s.labels));
        if (!p) {
          out.push(s);
          continue;
        }
        const present = new Uint8Array(n);
        let any = false;
        for (let i = 0; i < n; i++)
          if (s.present[i] && !p[i]) {
            present[i] = 1;
            any = true;
          }
        if (any) out.push({ labels: s.labels, values: s.values, present });
      }
      return { kind: 'vector', series: mergeSameLabels(out) };
    }

    // Arithmetic and comparison: one-to-one, many-to-one (group_left) or one-to-many (group_right).
    const oneToMany = m.card === 'one-to-many';
    const manySide = oneToMany ? rhs : lhs;
    const oneSide = oneToMany ? lhs : rhs;
    const isCmp = COMPARISON_OPS.has(b.op);
    // Prometheus 2.x keeps the name for comparisons and for atan2 (shouldDropMetricName covers + - * / % ^).
    const dropsName = (!isCmp && b.op !== 'atan2') || b.returnBool;
    const oneBySig = new Map<string, StepSeries[]>();
    for (const s of oneSide.series) {
      const k = sig(s.labels);
      const list = oneBySig.get(k);
      if (list) list.push(s);
      else oneBySig.set(k, [s]);
    }
    // Duplicate series on the "one" side at the same step make the matching many-to-many: an error.
    for (const list of oneBySig.values()) {
      if (list.length < 2) continue;
      if (this.pacer.due()) await this.turn();
      for (let i = 0; i < n; i++) {
        const at = list.filter((s) => s.present[i] === 1);
        if (at.length > 1) {
          // Prometheus names the later series first: [current, earlier duplicate].
          const [x, y] = at as [StepSeries, StepSeries];
          throw executionError(
            `found duplicate series for the match group ${labelsToString(matchedLabels(y.labels, m.on, m.labels))} on the ${oneToMany ? 'left' : 'right'} hand-side of the operation: [${labelsToString(y.labels)}, ${labelsToString(x.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
          );
        }
      }
    }
    const out: StepSeries[] = [];
    // matched tracks, per signature and step, which result label sets were produced (duplicate detection).
    const matched = new Map<string, Map<string, Uint8Array>>();
    for (const ms of manySide.series) {
      if (this.pacer.due()) await this.turn();
      const k = sig(ms.labels);
      const ones = oneBySig.get(k);
      if (!ones) continue;
      for (const os of ones) {
        let labels: Labels | undefined;
        let r: StepSeries | undefined;
        for (let i = 0; i < n; i++) {
          if (!ms.present[i] || !os.present[i]) continue;
          let vl = ms.values[i] as number;
          let vr = os.values[i] as number;
          if (oneToMany) [vl, vr] = [vr, vl];
          const [v, keep] = scalarBinop(b.op, vl, vr);
          let value = v;
          if (b.returnBool) value = keep ? 1 : 0;
          else if (!keep) continue;
          if (!labels) {
            labels = resultLabels(ms.labels, os.labels, m, dropsName);
            r = newStepSeries(labels, n);
            out.push(r);
          }
          const rk = m.card === 'one-to-one' ? '' : seriesKey(labels);
          let bySig = matched.get(k);
          if (!bySig) {
            bySig = new Map();
            matched.set(k, bySig);
          }
          let steps = bySig.get(rk);
          if (!steps) {
            steps = new Uint8Array(n);
            bySig.set(rk, steps);
          }
          if (steps[i]) {
            throw executionError(
              m.card === 'one-to-one'
                ? 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)'
                : 'multiple matches for labels: grouping labels must ensure unique matches',
            );
          }
          steps[i] = 1;
          if (r) {
            r.values[i] = value;
            r.present[i] = 1;
          }
        }
      }
    }
    return { kind: 'vector', series: mergeSameLabels(out) };
  }
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

/** scalarBinop applies an operator to two floats; for comparisons it returns (lhs, holds). */
function scalarBinop(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case '+':
      return [l + r, true];
    case '-':
      return [l - r, true];
    case '*':
      return [l * r, true];
    case '/':
      return [l / r, true];
    case '%':
      return [l % r, true];
    case '^':
      return [goPow(l, r), true];
    case 'atan2':
      return [Math.atan2(l, r), true];
    case '==':
      return [l, l === r];
    case '!=':
      return [l, l !== r];
    case '>':
      return [l, l > r];
    case '<':
      return [l, l < r];
    case '>=':
      return [l, l >= r];
    case '<=':
      return [l, l <= r];
    default:
      throw executionError(`operator "${op}" not allowed for scalar operations`);
  }
}

function vectorScalar(
  b: BinaryExpr,
  vec: VectorValue,
  sc: ScalarValue,
  swap: boolean,
  n: number,
): VectorValue {
  const isCmp = COMPARISON_OPS.has(b.op);
  // Prometheus 2.x keeps the name for comparisons and for atan2 (shouldDropMetricName covers + - * / % ^).
  const dropsName = (!isCmp && b.op !== 'atan2') || b.returnBool;
  const out: StepSeries[] = [];
  for (const s of vec.series) {
    const r = newStepSeries(dropsName ? dropName(s.labels) : s.labels, n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      const sv = s.values[i] as number;
      const cv = sc.values[i] as number;
      const [v, keep] = swap ? scalarBinop(b.op, cv, sv) : scalarBinop(b.op, sv, cv);
      let value = isCmp && swap ? sv : v;
      if (b.returnBool) value = keep ? 1 : 0;
      else if (!keep) continue;
      r.values[i] = value;
      r.present[i] = 1;
      any = true;
    }
    if (any) out.push(r);
  }
  return { kind: 'vector', series: dropsName ? mergeSameLabels(out) : out };
}

/** resultLabels computes a vector-vector result's labels as Prometheus's `resultMetric`. */
function resultLabels(
  many: Labels,
  one: Labels,
  m: { card: string; on: boolean; labels: readonly string[]; include: readonly string[] },
  dropsName: boolean,
): Labels {
  const out: Record<string, string> = { ...many };
  if (dropsName) delete out[METRIC_NAME];
  if (m.card === 'one-to-one') {
    if (m.on) {
      for (const k of Object.keys(out)) if (!m.labels.includes(k)) delete out[k];
    } else {
      for (const k of m.labels) delete out[k];
    }
  }
  for (const k of m.include) {
    const v = one[k];
    if (v !== undefined && v !== '') out[k] = v;
    else delete out[k];
  }
  return out;
}

/**
 * mergeSameLabels merges series that share a label set (as Prometheus does across steps) and raises
 * Prometheus's error when two of them have a value at the same step.
 */
export function mergeSameLabels(series: StepSeries[]): StepSeries[] {
  if (series.length < 2) return series;
  const byKey = new Map<string, StepSeries>();
  const out: StepSeries[] = [];
  for (const s of series) {
    const k = seriesKey(s.labels);
    const prev = byKey.get(k);
    if (!prev) {
      byKey.set(k, s);
      out.push(s);
      continue;
    }
    const merged = {
      labels: prev.labels,
      values: Float64Array.from(prev.values),
      present: Uint8Array.from(prev.present),
    };
    for (let i = 0; i < s.present.length; i++) {
      if (!s.present[i]) continue;
      if (merged.present[i]) throw executionError('vector cannot contain metrics with the same labelset');
      merged.values[i] = s.values[i] as number;
      merged.present[i] = 1;
    }
    byKey.set(k, merged);
    out[out.indexOf(prev)] = merged;
  }
  return out;
}

/** parseLe parses a bucket bound as Go's ParseFloat (accepting +Inf). */
function parseLe(s: string): number | undefined {
  const t = s.trim();
  if (/^\+?inf(inity)?$/i.test(t)) return Infinity;
  if (/^-inf(inity)?$/i.test(t)) return -Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** bucketQuantile is Prometheus's classic-histogram quantile (linear interpolation inside the bucket). */
function bucketQuantile(q: number, buckets: { upperBound: number; count: number }[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  buckets.sort((a, b) => a.upperBound - b.upperBound);
  const last = buckets[buckets.length - 1];
  if (!last || last.upperBound !== Infinity) return NaN;
  // Coalesce buckets with the same bound, then force counts to be monotonic.
  const bs: { upperBound: number; count: number }[] = [];
  for (const b of buckets) {
    const prev = bs[bs.length - 1];
    if (prev && prev.upperBound === b.upperBound) prev.count += b.count;
    else bs.push({ ...b });
  }
  let max = -Infinity;
  for (const b of bs) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (bs.length < 2) return NaN;
  const observations = bs[bs.length - 1]?.count ?? 0;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let idx = bs.length - 1;
  for (let i = 0; i < bs.length - 1; i++) {
    if ((bs[i]?.count ?? 0) >= rank) {
      idx = i;
      break;
    }
  }
  if (idx === bs.length - 1) return bs[bs.length - 2]?.upperBound ?? NaN;
  const b = bs[idx] as { upperBound: number; count: number };
  if (idx === 0 && b.upperBound <= 0) return b.upperBound;
  let bucketStart = 0;
  let count = b.count;
  if (idx > 0) {
    const p = bs[idx - 1] as { upperBound: number; count: number };
    bucketStart = p.upperBound;
    count -= p.count;
    rank -= p.count;
  }
  return bucketStart + (b.upperBound - bucketStart) * (rank / count);
}

/** formatCountValue prints a value as count_values labels it (Go's FormatFloat 'f', -1). */
function formatCountValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!s.includes('e')) return s;
  return v.toFixed(20).replace(/\.?0+$/, '');
}

/**
 * expandTemplate expands `$1`, `${1}`, `$name` and `${name}` in a replacement as Go's regexp.Expand does
 * (`$name` takes the longest run of letters, digits and underscores; unknown groups expand to "").
 */
function expandTemplate(template: string, m: RegexMatch): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== '$') {
      out += ch;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      if (close < 0) {
        out += '$';
        continue;
      }
      name = template.slice(i + 2, close);
      i = close;
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (!mm) {
        out += '$';
        continue;
      }
      name = mm[0];
      i += name.length;
    }
    out += m.group(/^\d+$/.test(name) ? Number(name) : name);
  }
  return out;
}
