/**
 * Binary operators, after Prometheus's `VectorBinop`/`VectorAnd|Or|Unless` in `promql/engine.go`: arithmetic
 * and comparisons between scalars and vectors (with `bool`), the set operators, and vector matching
 * (`on`/`ignoring`, `group_left`/`group_right`) with Prometheus's error messages for ambiguous matches.
 */
import { METRIC_NAME, seriesKey, type Labels } from '../util/labels.js';
import type { BinaryExpr, BinaryOp } from './ast.js';
import { executionError } from './errors.js';
import { distinctVector, sameName, type EvalContext, type Frame } from './eval-context.js';
import { goPow } from './float-math.js';
import { labelsToString, matchedLabels, signatureOf, dropName } from './labels-util.js';
import { COMPARISON_OPS } from './parser.js';
import { newStepSeries, type ScalarValue, type StepSeries, type Value, type VectorValue } from './value.js';

/** evalBinary evaluates a binary operator over scalars and instant vectors (arithmetic, comparison, set). */
export async function evalBinary(ctx: EvalContext, b: BinaryExpr, f: Frame): Promise<Value> {
  const n = f.ts.length;
  const [lhs, rhs] = await Promise.all([ctx.eval(b.lhs, f), ctx.eval(b.rhs, f)]);
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
  if (lhs.kind === 'vector' && rhs.kind === 'vector') return vectorVector(ctx, b, lhs, rhs, n);
  if (lhs.kind === 'vector' && rhs.kind === 'scalar') return vectorScalar(ctx, b, lhs, rhs, false, n);
  if (lhs.kind === 'scalar' && rhs.kind === 'vector') return vectorScalar(ctx, b, rhs, lhs, true, n);
  throw executionError('binary expression must contain only scalar and instant vector types');
}

/** vectorVector applies an operator between two instant vectors with Prometheus's vector matching. */
async function vectorVector(
  ctx: EvalContext,
  b: BinaryExpr,
  lhs: VectorValue,
  rhs: VectorValue,
  n: number,
): Promise<VectorValue> {
  const m = b.matching ?? { card: 'one-to-one' as const, on: false, labels: [], include: [] };
  const sig = (l: Labels): string => signatureOf(l, m.on, m.labels);
  if (b.op === 'and' || b.op === 'unless') return andUnless(ctx, b.op, lhs, rhs, sig, n);
  if (b.op === 'or') return or(ctx, lhs, rhs, sig, n);
  return matchOneToOneOrMany(ctx, b, m, lhs, rhs, sig, n);
}

/**
 * presenceBySignature marks, per matching signature, the steps at which any series of `v` has a value.
 * Like every loop over series × steps here, it gives the loop a turn when its slice is used up: a range
 * query's operands may hold thousands of series over thousands of steps.
 */
async function presenceBySignature(
  ctx: EvalContext,
  v: VectorValue,
  sig: (l: Labels) => string,
  n: number,
): Promise<Map<string, Uint8Array>> {
  const bySig = new Map<string, Uint8Array>();
  for (const s of v.series) {
    if (ctx.pacer.due()) await ctx.turn();
    const k = sig(s.labels);
    let p = bySig.get(k);
    if (!p) {
      p = new Uint8Array(n);
      bySig.set(k, p);
    }
    for (let i = 0; i < n; i++) if (s.present[i]) p[i] = 1;
  }
  return bySig;
}

/** andUnless keeps the left series' steps that have (and) or lack (unless) a match on the right. */
async function andUnless(
  ctx: EvalContext,
  op: 'and' | 'unless',
  lhs: VectorValue,
  rhs: VectorValue,
  sig: (l: Labels) => string,
  n: number,
): Promise<VectorValue> {
  const rightPresent = await presenceBySignature(ctx, rhs, sig, n);
  const out: StepSeries[] = [];
  const wantMatch = op === 'and';
  for (const s of lhs.series) {
    if (ctx.pacer.due()) await ctx.turn();
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
  return { kind: 'vector', series: out, distinct: lhs.distinct };
}

/** or keeps every left series and adds the right series' steps that have no left match. */
async function or(
  ctx: EvalContext,
  lhs: VectorValue,
  rhs: VectorValue,
  sig: (l: Labels) => string,
  n: number,
): Promise<VectorValue> {
  const leftPresent = await presenceBySignature(ctx, lhs, sig, n);
  const out: StepSeries[] = [...lhs.series];
  for (const s of rhs.series) {
    if (ctx.pacer.due()) await ctx.turn();
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
  return distinctVector(out);
}

/** Matching is a binary expression's matching clause (defaulted to one-to-one on all labels). */
type Matching = NonNullable<BinaryExpr['matching']>;

/**
 * matchOneToOneOrMany applies arithmetic and comparisons: one-to-one, many-to-one (group_left) or one-to-many
 * (group_right), with Prometheus's errors for duplicate series on the "one" side and for multiple matches.
 */
async function matchOneToOneOrMany(
  ctx: EvalContext,
  b: BinaryExpr,
  m: Matching,
  lhs: VectorValue,
  rhs: VectorValue,
  sig: (l: Labels) => string,
  n: number,
): Promise<VectorValue> {
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
    for (let i = 0; i < n; i++) {
      if ((i & 255) === 0 && ctx.pacer.due()) await ctx.turn();
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
    if (ctx.pacer.due()) await ctx.turn();
    const k = sig(ms.labels);
    const ones = oneBySig.get(k);
    if (!ones) continue;
    for (const os of ones) {
      let r: StepSeries | undefined;
      // steps are the steps at which this pair's result label set was produced (for this signature).
      let steps: Uint8Array | undefined;
      for (let i = 0; i < n; i++) {
        // A pair spans every step of a range query (a week at 15 s is 40,320): turns within it too.
        if ((i & 1023) === 1023 && ctx.pacer.due()) await ctx.turn();
        if (!ms.present[i] || !os.present[i]) continue;
        let vl = ms.values[i] as number;
        let vr = os.values[i] as number;
        if (oneToMany) [vl, vr] = [vr, vl];
        const [v, keep] = scalarBinop(b.op, vl, vr);
        let value = v;
        if (b.returnBool) value = keep ? 1 : 0;
        else if (!keep) continue;
        if (!r || !steps) {
          const labels = resultLabels(ms.labels, os.labels, m, dropsName);
          r = newStepSeries(labels, n);
          out.push(r);
          const rk = m.card === 'one-to-one' ? '' : seriesKey(labels);
          let bySig = matched.get(k);
          if (!bySig) {
            bySig = new Map();
            matched.set(k, bySig);
          }
          steps = bySig.get(rk);
          if (!steps) {
            steps = new Uint8Array(n);
            bySig.set(rk, steps);
          }
        }
        if (steps[i]) {
          throw executionError(
            m.card === 'one-to-one'
              ? 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)'
              : 'multiple matches for labels: grouping labels must ensure unique matches',
          );
        }
        steps[i] = 1;
        r.values[i] = value;
        r.present[i] = 1;
      }
    }
  }
  return distinctVector(out);
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

async function vectorScalar(
  ctx: EvalContext,
  b: BinaryExpr,
  vec: VectorValue,
  sc: ScalarValue,
  swap: boolean,
  n: number,
): Promise<VectorValue> {
  const isCmp = COMPARISON_OPS.has(b.op);
  // Prometheus 2.x keeps the name for comparisons and for atan2 (shouldDropMetricName covers + - * / % ^).
  const dropsName = (!isCmp && b.op !== 'atan2') || b.returnBool;
  const out: StepSeries[] = [];
  for (const s of vec.series) {
    if (ctx.pacer.due()) await ctx.turn();
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
  // Kept names keep each series' labels, and dropping one shared name keeps them apart: as distinct as the
  // operand's.
  if (dropsName && !(vec.distinct && sameName(vec.series))) return distinctVector(out);
  return { kind: 'vector', series: out, distinct: vec.distinct };
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
