/**
 * Aggregation operators, after Prometheus's `aggregation()` in `promql/engine.go`: series are grouped once (label
 * sets do not change across steps), then each group is folded per step. Sums use Kahan compensation as
 * Prometheus does; avg falls back to an incremental mean when the plain sum overflows.
 */
import { LABEL_NAME_RE, METRIC_NAME, seriesKey, type Labels } from '../util/labels.js';
import type { AggregateExpr } from './ast.js';
import { executionError } from './errors.js';
import type { EvalContext, Frame } from './eval-context.js';
import { formatSampleValue } from './format.js';
import { incrementalMean } from './float-math.js';
import { quantileOf } from './functions.js';
import { newStepSeries, type StepSeries, type VectorValue } from './value.js';

/** Group is the input series that share one output label set. */
interface Group {
  readonly labels: Labels;
  readonly members: StepSeries[];
}

/** evalAggregate evaluates an aggregation (`sum by (x) (…)`, `topk`, `quantile`, `count_values` …). */
export async function evalAggregate(ctx: EvalContext, a: AggregateExpr, f: Frame): Promise<VectorValue> {
  const groupLabels = grouper(a);
  // At one step the usual operand (a selector, a range function of one) is folded as it streams in. Its
  // labels come with the metric name, which only a `by (__name__)` grouping would see.
  if (f.ts.length === 1 && INSTANT_FOLDS.has(a.op) && (a.without || !a.grouping.includes(METRIC_NAME))) {
    const col = new InstantColumn();
    if (await ctx.streamInstant(a.expr, f, (l, v) => col.push(l, v)))
      return foldInstant(a.op, col, groupingOf(col.labels, a, groupLabels));
  }
  const vec = await ctx.evalVector(a.expr, f);
  if (a.op === 'count_values') {
    const valueLabel = await ctx.evalString(a.param as AggregateExpr['expr'], f);
    if (!LABEL_NAME_RE.test(valueLabel))
      throw executionError(`invalid label name ${JSON.stringify(valueLabel)}`);
    return countValues(ctx, a, vec, valueLabel, groupLabels, f.ts.length);
  }
  const param = a.param ? await ctx.evalScalar(a.param, f) : undefined;
  if (f.ts.length === 1 && INSTANT_FOLDS.has(a.op)) {
    const col = new InstantColumn();
    for (const s of vec.series) if (s.present[0]) col.push(s.labels, s.values[0] as number);
    return foldInstant(a.op, col, groupingOf(col.labels, a, groupLabels));
  }
  const groups = groupSeries(vec, a, groupLabels);
  if (a.op === 'topk' || a.op === 'bottomk') return selectK(ctx, a.op === 'topk', groups, param, f.ts.length);
  return fold(ctx, a.op, groups, param, f.ts.length);
}

/** grouper returns the function mapping a series' labels to its group's (`by` keeps, `without` drops). */
function grouper(a: AggregateExpr): (l: Labels) => Labels {
  const grouping = a.grouping;
  return (l) => {
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
}

/**
 * groupKeyer returns the function giving a series' group key, seriesKey of its group labels: for `by`, built
 * straight from the grouping labels' values (no label object, no sort per series); for `without`, through
 * the group labels.
 */
function groupKeyer(a: AggregateExpr, groupLabels: (l: Labels) => Labels): (l: Labels) => string {
  if (a.without) return (l) => seriesKey(groupLabels(l));
  const names = [...new Set(a.grouping)].sort();
  return (l) => {
    let key = '';
    for (const name of names) {
      const v = l[name];
      if (v !== undefined && v !== '') key += `${name}\xff${v}\xfe`;
    }
    return key;
  };
}

/**
 * Grouping is how one evaluation of an aggregation grouped its input: the input label sets in order, each
 * one's group, and the groups' label sets.
 */
interface Grouping {
  readonly inputs: readonly Labels[];
  readonly groupOf: Uint32Array;
  readonly labels: readonly Labels[];
}

/**
 * lastGrouping keeps each aggregation node's latest grouping. A rule evaluates the same parsed expression
 * every interval over the same series, whose label sets are the same objects each time (the store's, and
 * the engine keeps what it derives from them: names dropped, groups' label sets): when every input is the
 * object it was last time, in the same place, the grouping is taken as it was instead of keying each series
 * again. Weak: it goes with the expression.
 */
const lastGrouping = new WeakMap<AggregateExpr, Grouping>();

/** sameInputs tells whether `now` holds exactly the label set objects of `inputs`, in order. */
function sameInputs(now: readonly Labels[], inputs: readonly Labels[]): boolean {
  if (now.length !== inputs.length) return false;
  for (let i = 0; i < now.length; i++) if (now[i] !== inputs[i]) return false;
  return true;
}

/**
 * groupingOf groups the input series, given by their label sets, once (label sets are constant across
 * steps): the previous evaluation's grouping when the inputs are the same objects (lastGrouping), else a
 * new one.
 */
function groupingOf(
  inputs: readonly Labels[],
  a: AggregateExpr,
  groupLabels: (l: Labels) => Labels,
): Grouping {
  const last = lastGrouping.get(a);
  if (last && sameInputs(inputs, last.inputs)) return last;
  const keyOf = groupKeyer(a, groupLabels);
  const groupIdx = new Map<string, number>();
  const labels: Labels[] = [];
  const groupOf = new Uint32Array(inputs.length);
  inputs.forEach((l, i) => {
    const key = keyOf(l);
    let gi = groupIdx.get(key);
    if (gi === undefined) {
      gi = labels.length;
      groupIdx.set(key, gi);
      labels.push(groupLabels(l));
    }
    groupOf[i] = gi;
  });
  const grouping: Grouping = { inputs, groupOf, labels };
  lastGrouping.set(a, grouping);
  return grouping;
}

/** groupSeries is groupingOf with each group's member series listed. */
function groupSeries(vec: VectorValue, a: AggregateExpr, groupLabels: (l: Labels) => Labels): Group[] {
  const grouping = groupingOf(
    vec.series.map((s) => s.labels),
    a,
    groupLabels,
  );
  const groups: Group[] = grouping.labels.map((labels) => ({ labels, members: [] }));
  vec.series.forEach((s, i) => groups[grouping.groupOf[i] ?? 0]?.members.push(s));
  return groups;
}

/** INSTANT_FOLDS are the operators foldInstant computes. */
const INSTANT_FOLDS: ReadonlySet<AggregateExpr['op']> = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
]);

/**
 * InstantColumn is an instant vector at one step as an aggregation reads it: label sets and values, without
 * a series object per entry.
 */
class InstantColumn {
  readonly labels: Labels[] = [];
  readonly values: number[] = [];

  push(l: Labels, v: number): void {
    this.labels.push(l);
    this.values.push(v);
  }
}

/**
 * foldInstant is fold at a single step (an instant query, a rule) for the operators of INSTANT_FOLDS: one
 * pass over the input values, each folded into its group's accumulator, instead of listing every group's
 * members first. Each group sees its members in the same order as in fold, through the same arithmetic, so
 * the results are the same numbers; the groups come out in the same order.
 */
function foldInstant(op: AggregateExpr['op'], col: InstantColumn, grouping: Grouping): VectorValue {
  const values = col.values;
  const m = col.labels.length;
  const groupOf = grouping.groupOf;
  const n = grouping.labels.length;
  const count = new Float64Array(n);
  const acc = new Float64Array(n);
  const comp = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    const g = groupOf[i] as number;
    const v = values[i] as number;
    const c = (count[g] as number) + 1;
    count[g] = c;
    const a = acc[g] as number;
    switch (op) {
      case 'sum':
      case 'avg': {
        const t = a + v;
        if (Number.isFinite(t))
          comp[g] = (comp[g] as number) + (Math.abs(a) >= Math.abs(v) ? a - t + v : v - t + a);
        acc[g] = t;
        break;
      }
      case 'min':
        if (c === 1 || v < a || Number.isNaN(a)) acc[g] = v;
        break;
      case 'max':
        if (c === 1 || v > a || Number.isNaN(a)) acc[g] = v;
        break;
      default:
        break;
    }
  }
  const out: StepSeries[] = [];
  for (let g = 0; g < n; g++) {
    const c = count[g] as number;
    if (c === 0) continue;
    const a = acc[g] as number;
    let res: number;
    switch (op) {
      case 'sum':
        res = Number.isFinite(a) ? a + (comp[g] as number) : a;
        break;
      case 'avg':
        res = Number.isFinite(a) ? (a + (comp[g] as number)) / c : meanOfGroup(values, m, groupOf, g);
        break;
      case 'count':
        res = c;
        break;
      case 'group':
        res = 1;
        break;
      default:
        res = a;
    }
    const r = newStepSeries(grouping.labels[g] as Labels, 1);
    r.values[0] = res;
    r.present[0] = 1;
    out.push(r);
  }
  // One series per group, keyed by its labels: distinct.
  return { kind: 'vector', series: out, distinct: true };
}

/** meanOfGroup is the incremental mean of group `g`'s values among the first `m`, in input order. */
function meanOfGroup(values: readonly number[], m: number, groupOf: Uint32Array, g: number): number {
  const members: number[] = [];
  for (let i = 0; i < m; i++) if (groupOf[i] === g) members.push(values[i] as number);
  return incrementalMean(members.length, (k) => members[k] as number);
}

/** countValues is `count_values("label", v)`: one output series per distinct value (and group). */
async function countValues(
  ctx: EvalContext,
  a: AggregateExpr,
  vec: VectorValue,
  valueLabel: string,
  groupLabels: (l: Labels) => Labels,
  n: number,
): Promise<VectorValue> {
  const outMap = new Map<string, StepSeries>();
  const order: StepSeries[] = [];
  for (const s of vec.series) {
    if (ctx.pacer.due()) await ctx.turn();
    for (let i = 0; i < n; i++) {
      if (!s.present[i]) continue;
      const withValue = { ...s.labels, [valueLabel]: formatCountValue(s.values[i] as number) };
      const gl = groupLabels(withValue);
      if (!a.without) (gl as Record<string, string>)[valueLabel] = withValue[valueLabel] ?? '';
      const key = seriesKey(gl);
      let r = outMap.get(key);
      if (!r) {
        // Every distinct value is a series over all steps: `count_values("v", vector(time()))` over n steps
        // makes n of them. Each counts against the budget and is a point to give the loop a turn.
        ctx.addSamples(n);
        if (ctx.pacer.due()) await ctx.turn();
        r = newStepSeries(gl, n);
        outMap.set(key, r);
        order.push(r);
      }
      r.values[i] = (r.present[i] ? (r.values[i] as number) : 0) + 1;
      r.present[i] = 1;
    }
  }
  return { kind: 'vector', series: order, distinct: true };
}

/** selectK is topk/bottomk: per group and step, the k best series keep their value and labels. */
async function selectK(
  ctx: EvalContext,
  top: boolean,
  groups: readonly Group[],
  param: Float64Array | undefined,
  n: number,
): Promise<VectorValue> {
  const selected = new Map<StepSeries, StepSeries>();
  const order: StepSeries[] = [];
  for (const g of groups) {
    for (let i = 0; i < n; i++) {
      if (ctx.pacer.due()) await ctx.turn();
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
          // Each selected series gets an output over all steps: at the first step a large k selects every
          // series at once (`topk(time(), …)` over 11,000 steps allocated 150 MB in one go), so a turn here.
          if (ctx.pacer.due()) await ctx.turn();
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

/** fold is every other aggregation: per group and step, the members' values folded into one. */
async function fold(
  ctx: EvalContext,
  op: AggregateExpr['op'],
  groups: readonly Group[],
  param: Float64Array | undefined,
  n: number,
): Promise<VectorValue> {
  const out: StepSeries[] = [];
  for (const g of groups) {
    const r = newStepSeries(g.labels, n);
    let any = false;
    for (let i = 0; i < n; i++) {
      if ((i & 63) === 0 && ctx.pacer.due()) await ctx.turn();
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
        switch (op) {
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
      switch (op) {
        case 'sum':
          res = Number.isFinite(acc) ? acc + comp : acc;
          break;
        case 'avg':
          res = Number.isFinite(acc) ? (acc + comp) / count : meanOfPresent(g.members, i);
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
  // One series per group, keyed by its labels: distinct.
  return { kind: 'vector', series: out, distinct: true };
}

/** meanOfPresent is avg's fallback when the plain sum overflows: the incremental mean of the values at step i. */
function meanOfPresent(members: StepSeries[], i: number): number {
  const values: number[] = [];
  for (const s of members) if (s.present[i]) values.push(s.values[i] as number);
  return incrementalMean(values.length, (k) => values[k] as number);
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
