/**
 * What the evaluator offers the parts of PromQL that live in their own files (aggregation.ts, binary.ts,
 * histogram.ts, call-functions.ts): evaluation of sub-expressions, the sample budget and the turn-taking
 * that keeps one query from holding the event loop. Those parts receive an EvalContext and never see the
 * Evaluator itself.
 */
import type { Pacer } from '../util/pacer.js';
import { METRIC_NAME, seriesKey, type Labels } from '../util/labels.js';
import type { Call, Expr, VectorSelector } from './ast.js';
import { executionError } from './errors.js';
import type { MatrixValue, StepSeries, Value, VectorValue } from './value.js';

/** Frame is the step grid a node is evaluated on (the query's, or a subquery's). */
export interface Frame {
  readonly ts: Float64Array;
  readonly stepMs: number;
}

/** InstantVisitor receives one series' value at a single-step frame, with the series' labels. */
export type InstantVisitor = (labels: Labels, v: number) => void;

/** EvalContext is one running query's evaluator as its parts see it. */
export interface EvalContext {
  /**
   * pacer tells when the current slice of work is used up; loops over series or steps then await `turn()`:
   * `if (ctx.pacer.due()) await ctx.turn();` (one clock read per iteration otherwise).
   */
  readonly pacer: Pacer;
  /** turn gives the event loop a turn and checks the deadline (throws `timeout`) and the budget. */
  turn(): Promise<void>;
  /** addSamples counts `n` samples held against the budget (throws `execution` past it). */
  addSamples(n: number): void;
  eval(e: Expr, f: Frame): Promise<Value>;
  evalVector(e: Expr, f: Frame): Promise<VectorValue>;
  evalScalar(e: Expr, f: Frame): Promise<Float64Array>;
  evalString(e: Expr, f: Frame): Promise<string>;
  /** evalMatrixArg evaluates a range-vector argument (a matrix selector or a subquery). */
  evalMatrixArg(e: Expr, f: Frame): Promise<MatrixValue>;
  /**
   * streamInstant evaluates a selector, or a range function over one naming a single metric, at a frame's
   * single step without building the vector: `visit` gets each value with its series' labels as stored (the
   * metric name included even where the expression drops it). False, having visited nothing, for any other
   * expression or frame.
   */
  streamInstant(e: Expr, f: Frame, visit: InstantVisitor): Promise<boolean>;
  /** evalSelectorTimes evaluates a vector selector and returns, per kept series, each step's sample time. */
  evalSelectorTimes(vs: VectorSelector, f: Frame): Promise<{ vector: VectorValue; times: Float64Array[] }>;
}

/** CallFn implements a function that reshapes vectors or labels (the table's `call` kind). */
export type CallFn = (ctx: EvalContext, call: Call, f: Frame) => Promise<Value>;

/** namesOne says whether a selector can match one metric name only (it has a `__name__="…"` matcher). */
export function namesOne(vs: VectorSelector): boolean {
  return vs.matchers.some((m) => m.name === METRIC_NAME && m.type === '=');
}

/** unwrapParens strips parentheses. */
export function unwrapParens(e: Expr): Expr {
  while (e.type === 'ParenExpr') e = e.expr;
  return e;
}

/** distinctVector is `series` merged by label set (mergeSameLabels), marked distinct. */
export function distinctVector(series: StepSeries[]): VectorValue {
  return { kind: 'vector', series: mergeSameLabels(series), distinct: true };
}

/**
 * sameName says whether every series has the same `__name__` (or none has one): dropping the name then
 * leaves distinct label sets distinct.
 */
export function sameName(series: readonly { readonly labels: Labels }[]): boolean {
  const first = series[0]?.labels[METRIC_NAME];
  for (const s of series) if (s.labels[METRIC_NAME] !== first) return false;
  return true;
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
