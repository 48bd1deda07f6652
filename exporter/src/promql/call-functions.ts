/**
 * The functions that reshape vectors or labels rather than mapping values (the function table's `call` kind),
 * after Prometheus's `promql/functions.go`: time(), pi(), vector(), scalar(), timestamp(), sort(),
 * sort_desc(), absent(), absent_over_time(), label_replace(), label_join(); histogram_quantile() lives in
 * histogram.ts. Each receives the evaluator as an EvalContext and its call node.
 */
import { LABEL_NAME_RE, METRIC_NAME } from '../util/labels.js';
import { compileRegex, type Regex, type RegexMatch } from '../util/re2.js';
import type { Expr } from './ast.js';
import { executionError } from './errors.js';
import { distinctVector, type CallFn } from './eval-context.js';
import { histogramQuantile } from './histogram.js';
import { dropName } from './labels-util.js';
import { newStepSeries, type StepSeries, type VectorValue } from './value.js';

/** sortBy orders an instant query's vector by value (NaN first ascending, as Prometheus); ranges keep order. */
const sortBy =
  (desc: boolean): CallFn =>
  async (ctx, call, f) => {
    const vec = await ctx.evalVector(call.args[0] as Expr, f);
    if (f.ts.length !== 1) return vec;
    const sorted = [...vec.series].sort((a, b) => {
      const x = a.values[0] as number;
      const y = b.values[0] as number;
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return desc ? y - x : x - y;
    });
    return { kind: 'vector', series: sorted };
  };

/** CALL_FUNCTIONS maps each `call`-kind function name to its implementation. */
export const CALL_FUNCTIONS: Readonly<Record<string, CallFn>> = {
  time: (_ctx, _call, f) => Promise.resolve({ kind: 'scalar', values: f.ts.map((t) => t / 1000) }),
  pi: (_ctx, _call, f) =>
    Promise.resolve({ kind: 'scalar', values: new Float64Array(f.ts.length).fill(Math.PI) }),
  vector: async (ctx, call, f) => {
    const n = f.ts.length;
    const v = await ctx.evalScalar(call.args[0] as Expr, f);
    return {
      kind: 'vector',
      series: [{ labels: {}, values: Float64Array.from(v), present: new Uint8Array(n).fill(1) }],
    };
  },
  scalar: async (ctx, call, f) => {
    const n = f.ts.length;
    const vec = await ctx.evalVector(call.args[0] as Expr, f);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // Every step looks at every series: turns between steps.
      if (ctx.pacer.due()) await ctx.turn();
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
  },
  timestamp: async (ctx, call, f) => {
    const arg = call.args[0] as Expr;
    if (arg.type === 'VectorSelector') {
      // A selector's own sample times, not the step times: the one place a sample's timestamp is visible.
      const { vector, times } = await ctx.evalSelectorTimes(arg, f);
      const out: StepSeries[] = [];
      for (const [k, s] of vector.series.entries()) {
        if (ctx.pacer.due()) await ctx.turn();
        const values = (times[k] ?? new Float64Array(f.ts.length)).map((t) => t / 1000);
        out.push({ labels: dropName(s.labels), values, present: s.present });
      }
      return distinctVector(out);
    }
    const vec = await ctx.evalVector(arg, f);
    const out: StepSeries[] = [];
    for (const s of vec.series) {
      if (ctx.pacer.due()) await ctx.turn();
      out.push({ labels: dropName(s.labels), values: f.ts.map((t) => t / 1000), present: s.present });
    }
    return distinctVector(out);
  },
  sort: sortBy(false),
  sort_desc: sortBy(true),
  absent: async (ctx, call, f) => {
    const vec = await ctx.evalVector(call.args[0] as Expr, f);
    return absentResult(call.args[0] as Expr, f.ts.length, (i) => vec.series.some((s) => s.present[i] === 1));
  },
  absent_over_time: async (ctx, call, f) => {
    const n = f.ts.length;
    const m = await ctx.evalMatrixArg(call.args[0] as Expr, f);
    const has = new Uint8Array(n);
    for (const s of m.series) {
      if (ctx.pacer.due()) await ctx.turn();
      let lo = 0;
      for (let i = 0; i < n; i++) {
        const wEnd = m.ends[i] as number;
        const wStart = wEnd - m.rangeMs;
        while (lo < s.timestamps.length && (s.timestamps[lo] as number) < wStart) lo++;
        if (lo < s.timestamps.length && (s.timestamps[lo] as number) <= wEnd) has[i] = 1;
      }
    }
    return absentResult(call.args[0] as Expr, n, (i) => has[i] === 1);
  },
  label_replace: (ctx, call, f) => labelReplace(ctx, call, f),
  label_join: (ctx, call, f) => labelJoin(ctx, call, f),
  histogram_quantile: histogramQuantile,
};

function absentResult(arg: Expr, n: number, present: (i: number) => boolean): VectorValue {
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

/** labelReplace is `label_replace(v, dst, replacement, src, regex)` (RE2, fully anchored, Go's $-expansion). */
const labelReplace: CallFn = async (ctx, call, f) => {
  const [vecE, dstE, replE, srcE, reE] = call.args;
  const vec = await ctx.evalVector(vecE as Expr, f);
  const dst = await ctx.evalString(dstE as Expr, f);
  const repl = await ctx.evalString(replE as Expr, f);
  const src = await ctx.evalString(srcE as Expr, f);
  const reStr = await ctx.evalString(reE as Expr, f);
  let re: Regex;
  try {
    re = compileRegex(reStr);
  } catch (e) {
    throw executionError(`invalid regular expression in label_replace(): ${reStr}: ${(e as Error).message}`);
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
  return distinctVector(out);
};

/** labelJoin is `label_join(v, dst, separator, src…)`. */
const labelJoin: CallFn = async (ctx, call, f) => {
  const [vecE, dstE, sepE, ...srcEs] = call.args;
  const vec = await ctx.evalVector(vecE as Expr, f);
  const dst = await ctx.evalString(dstE as Expr, f);
  const sep = await ctx.evalString(sepE as Expr, f);
  const srcs: string[] = [];
  for (const e of srcEs) srcs.push(await ctx.evalString(e, f));
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
  return distinctVector(out);
};

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
