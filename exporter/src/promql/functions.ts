/**
 * The PromQL function table: name → signature (checked by the parser) and implementation (run by the
 * engine), after Prometheus's `promql/parser/functions.go` and `promql/functions.go`. Implementations come
 * in a few shapes so the engine can drive them column-wise over all steps:
 *  - `range`: one value from the samples of one series inside one window (rate, *_over_time, …);
 *  - `elementwise`: one value from one instant value and the scalar arguments (abs, clamp, round, …);
 *  - `date`: a calendar field of a Unix time (hour, month, …), whose vector argument defaults to `time()`;
 *  - `call`: functions that reshape vectors or labels, each with its own evaluation (call-functions.ts,
 *    histogram.ts), handed the evaluator as an EvalContext.
 * Every function is one entry of FUNCTIONS: its signature and its implementation, in one place.
 * Semantics follow Prometheus 2.x (the version Grafana and promtool in this project are checked against).
 */
import type { ValueType } from './ast.js';
import { CALL_FUNCTIONS } from './call-functions.js';
import type { CallFn } from './eval-context.js';
import { incrementalMean, kahanInc } from './float-math.js';
import { lowerBound, upperBound } from '../util/lower-bound.js';

/**
 * RangeFn computes one output value from the samples `[lo, hi)` of a series that fall in the window
 * [windowStart, windowEnd] (ms); `evalT` is the step's evaluation time (ms); `params` are the scalar
 * arguments at this step. It returns undefined when the window yields no output.
 */
export type RangeFn = (
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  windowStart: number,
  windowEnd: number,
  evalT: number,
  params: readonly number[],
) => number | undefined;

/**
 * SlidingWindow is an incremental form of a range function over the windows of one series as they move
 * forward: samples enter on the right (`add`) and leave on the left (`remove`), each in time order, and
 * `value` is what the range function returns for the samples now inside (undefined when it returns none).
 * The engine uses it for a range query whose windows overlap (step shorter than the range), where
 * recomputing each window costs O(window) per step: a [1d] quantile every 15 s re-reads 5,760 samples per
 * step, the window moves by one.
 */
export interface SlidingWindow {
  add(v: number): void;
  remove(v: number): void;
  clear(): void;
  value(params: readonly number[]): number | undefined;
}

/** ElementwiseFn maps one instant value (and the step's scalar arguments) to a value, or undefined to drop it. */
export type ElementwiseFn = (v: number, params: readonly number[]) => number | undefined;

/** FunctionImpl is the evaluation shape of a function (see the file comment). */
export type FunctionImpl =
  | {
      readonly kind: 'range';
      readonly fn: RangeFn;
      readonly keepName?: boolean;
      /** sliding, when present, computes the same values incrementally (see SlidingWindow). */
      readonly sliding?: () => SlidingWindow;
    }
  | { readonly kind: 'elementwise'; readonly fn: ElementwiseFn }
  | { readonly kind: 'date'; readonly fn: (d: Date) => number }
  | { readonly kind: 'call'; readonly fn: CallFn };

/** FunctionDef is one entry of the table. */
export interface FunctionDef {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  /** variadic: 0 = exactly argTypes; n > 0 = the last n args are optional; -1 = the last type repeats. */
  readonly variadic: number;
  readonly returnType: ValueType;
  readonly impl: FunctionImpl;
}

/**
 * extrapolatedRate is Prometheus's rate/increase/delta: the change over the window, extrapolated to the
 * window edges unless the first/last sample is further than 1.1 average intervals from the edge (then by
 * half an interval), and never extrapolating a counter below zero.
 */
function extrapolatedRate(isCounter: boolean, isRate: boolean): RangeFn {
  return (ts, vs, lo, hi, windowStart, windowEnd) => {
    const n = hi - lo;
    if (n < 2) return undefined;
    const first = vs[lo] ?? 0;
    const last = vs[hi - 1] ?? 0;
    let result = last - first;
    if (isCounter) {
      let prev = 0;
      for (let i = lo; i < hi; i++) {
        const v = vs[i] ?? 0;
        if (v < prev) result += prev;
        prev = v;
      }
    }
    const firstT = ts[lo] ?? 0;
    const lastT = ts[hi - 1] ?? 0;
    let durationToStart = (firstT - windowStart) / 1000;
    const durationToEnd = (windowEnd - lastT) / 1000;
    const sampledInterval = (lastT - firstT) / 1000;
    const avgBetween = sampledInterval / (n - 1);
    if (isCounter && result > 0 && first >= 0) {
      const durationToZero = sampledInterval * (first / result);
      if (durationToZero < durationToStart) durationToStart = durationToZero;
    }
    // EXTRAPOLATION_THRESHOLD_FACTOR 1.1 is Prometheus's: gaps up to 110 % of the average interval count as "data reaches the edge".
    const threshold = avgBetween * 1.1;
    let extrapolateTo = sampledInterval;
    extrapolateTo += durationToStart < threshold ? durationToStart : avgBetween / 2;
    extrapolateTo += durationToEnd < threshold ? durationToEnd : avgBetween / 2;
    // One factor, computed first, as Prometheus does: multiplying by each part in turn rounds differently.
    let factor = extrapolateTo / sampledInterval;
    if (isRate) factor /= (windowEnd - windowStart) / 1000;
    return result * factor;
  };
}

/** instantDelta is irate/idelta: the change between the last two samples. */
function instantDelta(isRate: boolean): RangeFn {
  return (ts, vs, lo, hi) => {
    if (hi - lo < 2) return undefined;
    const last = vs[hi - 1] ?? 0;
    const prev = vs[hi - 2] ?? 0;
    let result = isRate && last < prev ? last : last - prev;
    const interval = (ts[hi - 1] ?? 0) - (ts[hi - 2] ?? 0);
    if (interval === 0) return undefined;
    if (isRate) result /= interval / 1000;
    return result;
  };
}

/** linearRegression returns the least-squares slope and intercept with x in seconds since `interceptT`. */
export function linearRegression(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  interceptT: number,
): [number, number] {
  let n = 0;
  let sumX = 0,
    cX = 0,
    sumY = 0,
    cY = 0,
    sumXY = 0,
    cXY = 0,
    sumX2 = 0,
    cX2 = 0;
  const initY = vs[lo] ?? 0;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const v = vs[i] ?? 0;
    if (constY && i > lo && v !== initY) constY = false;
    n++;
    const x = ((ts[i] ?? 0) - interceptT) / 1000;
    [sumX, cX] = kahanInc(x, sumX, cX);
    [sumY, cY] = kahanInc(v, sumY, cY);
    [sumXY, cXY] = kahanInc(x * v, sumXY, cXY);
    [sumX2, cX2] = kahanInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/** quantileOf is Prometheus's `quantile`: linear interpolation between the closest ranks (`values` untouched). */
export function quantileOf(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  return quantileOfRange(q, values, 0, values.length);
}

/** quantileScratch is quantileOfRange's reused buffer (evaluation is single-threaded). */
let quantileScratch = new Float64Array(256);

/**
 * quantileOfRange is quantileOf over `vs[lo..hi)` (hi > lo), leaving `vs` as it was. Prometheus sorts and
 * reads two neighbouring ranks; selecting them instead (selectRank: linear time, no comparator call) gives
 * the same two numbers several times faster over a day of samples. Prometheus orders NaN before every
 * number, so NaNs are counted apart and ranks below their count are NaN.
 */
function quantileOfRange(q: number, vs: ArrayLike<number>, lo: number, hi: number): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const n = hi - lo;
  if (quantileScratch.length < n) quantileScratch = new Float64Array(Math.max(n, 2 * quantileScratch.length));
  const a = quantileScratch;
  let nan = 0;
  let m = 0;
  for (let i = lo; i < hi; i++) {
    const v = vs[i] as number;
    if (v !== v) nan++;
    else a[m++] = v;
  }
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  let lower = NaN;
  let upper = NaN;
  if (lowerIndex >= nan) {
    lower = selectRank(a, m, lowerIndex - nan);
    // Everything after the selected rank is at least as large: the next rank is their minimum.
    upper = lower;
    if (upperIndex > lowerIndex) {
      upper = Infinity;
      for (let i = lowerIndex - nan + 1; i < m; i++) if ((a[i] as number) < upper) upper = a[i] as number;
    }
  } else if (upperIndex >= nan) {
    upper = selectRank(a, m, upperIndex - nan);
  }
  return lower * (1 - weight) + upper * weight;
}

/**
 * quantileOfSorted is quantileOfRange over a window held as its `nan` NaNs and its other values sorted
 * ascending in a[0..m): the same ranks read directly (Prometheus orders NaN before every number).
 */
function quantileOfSorted(q: number, a: Float64Array, m: number, nan: number): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const n = m + nan;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  let lower = NaN;
  let upper = NaN;
  if (lowerIndex >= nan) {
    lower = a[lowerIndex - nan] as number;
    upper = upperIndex > lowerIndex ? (a[upperIndex - nan] as number) : lower;
  } else if (upperIndex >= nan) {
    upper = a[upperIndex - nan] as number;
  }
  return lower * (1 - weight) + upper * weight;
}

/**
 * QuantileWindow is quantile_over_time's SlidingWindow: the window's numbers kept sorted (binary search and
 * one block move per sample in or out), its NaNs counted apart. Equal numbers are interchangeable but for
 * the sign of zero, so removal picks the zero of the sign that leaves.
 */
class QuantileWindow implements SlidingWindow {
  private a = new Float64Array(256);
  private m = 0;
  private nan = 0;

  add(v: number): void {
    if (v !== v) {
      this.nan++;
      return;
    }
    if (this.m === this.a.length) {
      const grown = new Float64Array(this.a.length * 2);
      grown.set(this.a);
      this.a = grown;
    }
    // After every equal value, so equal values keep their arrival order (it does not matter but for zeros);
    // found by bisection, as a window of one repeated value (a day of a constant) is common.
    const i = upperBound(this.a, v, this.m);
    this.a.copyWithin(i + 1, i, this.m);
    this.a[i] = v;
    this.m++;
  }

  remove(v: number): void {
    if (v !== v) {
      this.nan--;
      return;
    }
    let i = lowerBound(this.a, v, this.m);
    if (v === 0) {
      let j = i;
      while (j < this.m && this.a[j] === 0 && !Object.is(this.a[j], v)) j++;
      if (j < this.m && Object.is(this.a[j], v)) i = j;
    }
    this.a.copyWithin(i, i + 1, this.m);
    this.m--;
  }

  clear(): void {
    this.m = 0;
    this.nan = 0;
  }

  value(params: readonly number[]): number | undefined {
    if (this.m + this.nan === 0) return undefined;
    return quantileOfSorted(params[0] ?? NaN, this.a, this.m, this.nan);
  }
}

/**
 * selectRank reorders a[0..n) (no NaN) so that a[k] is its k-th smallest, everything before it no larger
 * and everything after it no smaller, and returns a[k]: quickselect with a median-of-three pivot, which
 * sorts what is left if it has not converged after 64 rounds (no quadratic worst case).
 */
function selectRank(a: Float64Array, n: number, k: number): number {
  let left = 0;
  let right = n - 1;
  for (let round = 0; right > left; round++) {
    if (round === 64) {
      a.subarray(left, right + 1).sort();
      break;
    }
    const mid = (left + right) >>> 1;
    // Order a[left], a[mid], a[right]; the median (at mid) is the pivot.
    if ((a[mid] as number) < (a[left] as number)) swap(a, mid, left);
    if ((a[right] as number) < (a[left] as number)) swap(a, right, left);
    if ((a[right] as number) < (a[mid] as number)) swap(a, right, mid);
    const pivot = a[mid] as number;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) swap(a, i++, j--);
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k] as number;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}

/** varianceOf is the population variance of `vs[lo..hi)` by Welford's method with compensation. */
function varianceOf(vs: Float64Array, lo: number, hi: number): number {
  let count = 0;
  let mean = 0,
    cMean = 0,
    aux = 0,
    cAux = 0;
  for (let i = lo; i < hi; i++) {
    const v = vs[i] ?? 0;
    count++;
    const delta = v - (mean + cMean);
    [mean, cMean] = kahanInc(delta / count, mean, cMean);
    [aux, cAux] = kahanInc(delta * (v - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/** meanOf averages `vs[lo..hi)`, falling back to an incremental mean when the plain sum overflows. */
function meanOf(vs: Float64Array, lo: number, hi: number): number {
  let sum = 0,
    c = 0;
  for (let i = lo; i < hi; i++) [sum, c] = kahanInc(vs[i] ?? 0, sum, c);
  const n = hi - lo;
  if (Number.isFinite(sum)) return (sum + c) / n;
  return incrementalMean(n, (k) => vs[lo + k] ?? 0);
}

/** holtWinters is Prometheus 2.x's double exponential smoothing (`holt_winters`). */
const holtWinters: RangeFn = (_ts, vs, lo, hi, _ws, _we, _t, params) => {
  const sf = params[0] ?? NaN;
  const tf = params[1] ?? NaN;
  if (!(sf > 0 && sf < 1))
    throw new RangeError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${goFloat(sf)}`);
  if (!(tf > 0 && tf < 1))
    throw new RangeError(`invalid trend factor. Expected: 0 < tf < 1, got: ${goFloat(tf)}`);
  if (hi - lo < 2) return undefined;
  let s0 = 0;
  let s1 = vs[lo] ?? 0;
  let b = (vs[lo + 1] ?? 0) - s1;
  for (let i = 1; i < hi - lo; i++) {
    const x = sf * (vs[lo + i] ?? 0);
    if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
};

/** goFloat prints a float as Go's `%f` does (6 decimals), for messages copied from Prometheus. */
function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return v.toFixed(6);
}

/** goRoundHalfUp is `math.Floor(v*inv+0.5)/inv`, Prometheus's round(). */
function roundTo(v: number, toNearest: number): number {
  const inv = 1 / toNearest;
  return Math.floor(v * inv + 0.5) / inv;
}

const rangeFns: Record<string, RangeFn> = {
  rate: extrapolatedRate(true, true),
  increase: extrapolatedRate(true, false),
  delta: extrapolatedRate(false, false),
  irate: instantDelta(true),
  idelta: instantDelta(false),
  avg_over_time: (_t, vs, lo, hi) => (hi > lo ? meanOf(vs, lo, hi) : undefined),
  count_over_time: (_t, _v, lo, hi) => (hi > lo ? hi - lo : undefined),
  sum_over_time: (_t, vs, lo, hi) => {
    if (hi <= lo) return undefined;
    let sum = 0,
      c = 0;
    for (let i = lo; i < hi; i++) [sum, c] = kahanInc(vs[i] ?? 0, sum, c);
    return Number.isFinite(sum) ? sum + c : sum;
  },
  min_over_time: (_t, vs, lo, hi) => {
    if (hi <= lo) return undefined;
    let m = vs[lo] ?? NaN;
    for (let i = lo + 1; i < hi; i++) {
      const v = vs[i] ?? NaN;
      if (v < m || Number.isNaN(m)) m = v;
    }
    return m;
  },
  max_over_time: (_t, vs, lo, hi) => {
    if (hi <= lo) return undefined;
    let m = vs[lo] ?? NaN;
    for (let i = lo + 1; i < hi; i++) {
      const v = vs[i] ?? NaN;
      if (v > m || Number.isNaN(m)) m = v;
    }
    return m;
  },
  stddev_over_time: (_t, vs, lo, hi) => (hi > lo ? Math.sqrt(varianceOf(vs, lo, hi)) : undefined),
  stdvar_over_time: (_t, vs, lo, hi) => (hi > lo ? varianceOf(vs, lo, hi) : undefined),
  last_over_time: (_t, vs, lo, hi) => (hi > lo ? vs[hi - 1] : undefined),
  present_over_time: (_t, _v, lo, hi) => (hi > lo ? 1 : undefined),
  quantile_over_time: (_t, vs, lo, hi, _ws, _we, _e, params) => {
    if (hi <= lo) return undefined;
    return quantileOfRange(params[0] ?? NaN, vs, lo, hi);
  },
  changes: (_t, vs, lo, hi) => {
    if (hi <= lo) return undefined;
    let changes = 0;
    let prev = vs[lo] ?? 0;
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i] ?? 0;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
      prev = cur;
    }
    return changes;
  },
  resets: (_t, vs, lo, hi) => {
    if (hi <= lo) return undefined;
    let resets = 0;
    let prev = vs[lo] ?? 0;
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i] ?? 0;
      if (cur < prev) resets++;
      prev = cur;
    }
    return resets;
  },
  deriv: (ts, vs, lo, hi) => {
    if (hi - lo < 2) return undefined;
    return linearRegression(ts, vs, lo, hi, ts[lo] ?? 0)[0];
  },
  predict_linear: (ts, vs, lo, hi, _ws, _we, evalT, params) => {
    if (hi - lo < 2) return undefined;
    const [slope, intercept] = linearRegression(ts, vs, lo, hi, evalT);
    return intercept + slope * (params[0] ?? NaN);
  },
  holt_winters: holtWinters,
};

const elementwiseFns: Record<string, ElementwiseFn> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sqrt: Math.sqrt,
  sgn: (v) => (v < 0 ? -1 : v > 0 ? 1 : v),
  acos: Math.acos,
  acosh: Math.acosh,
  asin: Math.asin,
  asinh: Math.asinh,
  atan: Math.atan,
  atanh: Math.atanh,
  cos: Math.cos,
  cosh: Math.cosh,
  sin: Math.sin,
  sinh: Math.sinh,
  tan: Math.tan,
  tanh: Math.tanh,
  deg: (v) => (v * 180) / Math.PI,
  rad: (v) => (v * Math.PI) / 180,
  round: (v, p) => roundTo(v, p.length > 0 ? (p[0] ?? 1) : 1),
  clamp: (v, p) => {
    const min = p[0] ?? NaN;
    const max = p[1] ?? NaN;
    if (max < min) return undefined;
    return Math.max(min, Math.min(max, v));
  },
  clamp_min: (v, p) => Math.max(p[0] ?? NaN, v),
  clamp_max: (v, p) => Math.min(p[0] ?? NaN, v),
};

/** DAYS_BEFORE_MONTH is the cumulative day count at the start of each month of a common year. */
const dateFns: Record<string, (d: Date) => number> = {
  day_of_month: (d) => d.getUTCDate(),
  day_of_week: (d) => d.getUTCDay(),
  day_of_year: (d) => {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return Math.floor((d.getTime() - start) / 86_400_000) + 1;
  },
  days_in_month: (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate(),
  hour: (d) => d.getUTCHours(),
  minute: (d) => d.getUTCMinutes(),
  month: (d) => d.getUTCMonth() + 1,
  year: (d) => d.getUTCFullYear(),
};

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

/** SIGNATURES lists every function's argument types, optional-argument count and return type. */
const SIGNATURES: Record<string, [readonly ValueType[], number, ValueType]> = {
  abs: [[V], 0, V],
  absent: [[V], 0, V],
  absent_over_time: [[M], 0, V],
  acos: [[V], 0, V],
  acosh: [[V], 0, V],
  asin: [[V], 0, V],
  asinh: [[V], 0, V],
  atan: [[V], 0, V],
  atanh: [[V], 0, V],
  avg_over_time: [[M], 0, V],
  ceil: [[V], 0, V],
  changes: [[M], 0, V],
  clamp: [[V, S, S], 0, V],
  clamp_max: [[V, S], 0, V],
  clamp_min: [[V, S], 0, V],
  cos: [[V], 0, V],
  cosh: [[V], 0, V],
  count_over_time: [[M], 0, V],
  days_in_month: [[V], 1, V],
  day_of_month: [[V], 1, V],
  day_of_week: [[V], 1, V],
  day_of_year: [[V], 1, V],
  deg: [[V], 0, V],
  delta: [[M], 0, V],
  deriv: [[M], 0, V],
  exp: [[V], 0, V],
  floor: [[V], 0, V],
  histogram_quantile: [[S, V], 0, V],
  holt_winters: [[M, S, S], 0, V],
  hour: [[V], 1, V],
  idelta: [[M], 0, V],
  increase: [[M], 0, V],
  irate: [[M], 0, V],
  label_replace: [[V, STR, STR, STR, STR], 0, V],
  label_join: [[V, STR, STR, STR], -1, V],
  last_over_time: [[M], 0, V],
  ln: [[V], 0, V],
  log10: [[V], 0, V],
  log2: [[V], 0, V],
  max_over_time: [[M], 0, V],
  min_over_time: [[M], 0, V],
  minute: [[V], 1, V],
  month: [[V], 1, V],
  pi: [[], 0, S],
  predict_linear: [[M, S], 0, V],
  present_over_time: [[M], 0, V],
  quantile_over_time: [[S, M], 0, V],
  rad: [[V], 0, V],
  rate: [[M], 0, V],
  resets: [[M], 0, V],
  round: [[V, S], 1, V],
  scalar: [[V], 0, S],
  sgn: [[V], 0, V],
  sin: [[V], 0, V],
  sinh: [[V], 0, V],
  sort: [[V], 0, V],
  sort_desc: [[V], 0, V],
  sqrt: [[V], 0, V],
  stddev_over_time: [[M], 0, V],
  stdvar_over_time: [[M], 0, V],
  sum_over_time: [[M], 0, V],
  tan: [[V], 0, V],
  tanh: [[V], 0, V],
  time: [[], 0, S],
  timestamp: [[V], 0, V],
  vector: [[S], 0, V],
  year: [[V], 1, V],
};

/** slidingFns are the range functions with an incremental form for overlapping windows (SlidingWindow). */
const slidingFns: Record<string, () => SlidingWindow> = {
  quantile_over_time: () => new QuantileWindow(),
};

function implFor(name: string): FunctionImpl {
  const r = rangeFns[name];
  const sliding = slidingFns[name];
  if (r) return { kind: 'range', fn: r, keepName: name === 'last_over_time', ...(sliding && { sliding }) };
  const e = elementwiseFns[name];
  if (e) return { kind: 'elementwise', fn: e };
  const d = dateFns[name];
  if (d) return { kind: 'date', fn: d };
  const c = CALL_FUNCTIONS[name];
  if (c) return { kind: 'call', fn: c };
  throw new Error(`function ${name} has a signature but no implementation`);
}

/** FUNCTIONS is the table the parser checks calls against and the engine dispatches on. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(
  Object.entries(SIGNATURES).map(([name, [argTypes, variadic, returnType]]) => [
    name,
    { name, argTypes, variadic, returnType, impl: implFor(name) },
  ]),
);
