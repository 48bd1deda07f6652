/**
 * Operators and functions that loop over series × steps give the event loop a turn whenever the query's
 * slice of work is used up, so that one range query over thousands of series cannot hold the loop: a fuzzed
 * `x * 2` over a wide range held it for ~200 ms in one go, most of that collecting its output. Each case
 * runs with a pacer that is always due and counts the turns taken: at least one per input series.
 */
import { describe, expect, it } from 'vitest';
import type { Pacer } from '../util/pacer.js';
import type { Expr } from './ast.js';
import { evalAggregate } from './aggregation.js';
import { evalBinary } from './binary.js';
import { CALL_FUNCTIONS } from './call-functions.js';
import type { EvalContext, Frame } from './eval-context.js';
import { parseExpr } from './parser.js';
import type { Value, VectorValue } from './value.js';

const STEPS = 50;
const SERIES = 40;
const frame: Frame = { ts: Float64Array.from({ length: STEPS }, (_, i) => i * 15_000), stepMs: 15_000 };

/** vector makes `series` series named `name`, present at every step but the odd ones of the odd series. */
function vector(name: string, series = SERIES, steps = STEPS): VectorValue {
  return {
    kind: 'vector',
    series: Array.from({ length: series }, (_, k) => ({
      labels: { __name__: name, k: String(k) },
      values: Float64Array.from({ length: steps }, (_, i) => k * 100 + i),
      present: Uint8Array.from({ length: steps }, (_, i) => (k % 2 === 1 && i % 2 === 1 ? 0 : 1)),
    })),
    distinct: true,
  };
}

/**
 * countingContext evaluates selectors to `vector(name, series, steps)` and numbers to scalars, counting
 * turns.
 */
function countingContext(series = SERIES, steps = STEPS): { ctx: EvalContext; turns: () => number } {
  let turns = 0;
  const evaluate = (e: Expr): Promise<Value> => {
    if (e.type === 'VectorSelector') return Promise.resolve(vector(e.name ?? '', series, steps));
    if (e.type === 'NumberLiteral')
      return Promise.resolve({ kind: 'scalar', values: new Float64Array(steps).fill(e.value) });
    throw new Error(`unexpected ${e.type}`);
  };
  const ctx: EvalContext = {
    pacer: { due: () => true } as unknown as Pacer,
    turn: () => {
      turns++;
      return Promise.resolve();
    },
    addSamples: () => undefined,
    eval: (e) => evaluate(e),
    evalVector: async (e) => (await evaluate(e)) as VectorValue,
    evalScalar: async (e) => {
      const v = await evaluate(e);
      if (v.kind !== 'scalar') throw new Error('not a scalar');
      return v.values;
    },
    evalString: () => Promise.reject(new Error('no strings here')),
    evalMatrixArg: () => Promise.reject(new Error('no matrices here')),
    streamInstant: () => Promise.resolve(false),
    evalSelectorTimes: (vs) =>
      Promise.resolve({
        vector: vector(vs.name ?? ''),
        times: Array.from({ length: SERIES }, () => frame.ts),
      }),
  };
  return { ctx, turns: () => turns };
}

describe('turns inside loops over series and steps', () => {
  it.each(['a * 2', '2 - a', 'a > bool 10', 'a and b', 'a unless b', 'a or b'])(
    '%s takes a turn per input series',
    async (query) => {
      const e = parseExpr(query);
      if (e.type !== 'BinaryExpr') throw new Error('not a binary expression');
      const { ctx, turns } = countingContext();
      const out = await evalBinary(ctx, e, frame);
      expect(out.kind).toBe('vector');
      expect(turns()).toBeGreaterThanOrEqual(SERIES);
    },
  );

  it('a / b over a long range takes turns within each matched pair', async () => {
    // Two series over a week of 15 s steps: a pair's steps alone are milliseconds of work.
    const steps = 40_320;
    const e = parseExpr('a / b');
    if (e.type !== 'BinaryExpr') throw new Error('not a binary expression');
    const { ctx, turns } = countingContext(2, steps);
    const f: Frame = { ts: Float64Array.from({ length: steps }, (_, i) => i * 15_000), stepMs: 15_000 };
    const out = await evalBinary(ctx, e, f);
    expect(out.kind === 'vector' ? out.series.length : 0).toBe(2);
    expect(turns()).toBeGreaterThanOrEqual(2 * Math.floor(steps / 1024));
  });

  it('topk with a k past the series count takes a turn per step and per series it selects', async () => {
    const e = parseExpr('topk(1000, a)');
    if (e.type !== 'AggregateExpr') throw new Error('not an aggregation');
    const { ctx, turns } = countingContext();
    const out = await evalAggregate(ctx, e, frame);
    expect(out.series).toHaveLength(SERIES);
    expect(turns()).toBeGreaterThanOrEqual(STEPS + SERIES);
  });

  it.each(['scalar', 'timestamp'])('%s() takes turns over its steps or series', async (name) => {
    const e = parseExpr(`${name}(a)`);
    if (e.type !== 'Call') throw new Error('not a call');
    const fn = CALL_FUNCTIONS[name];
    if (!fn) throw new Error(`no ${name}`);
    const { ctx, turns } = countingContext();
    await fn(ctx, e, frame);
    expect(turns()).toBeGreaterThanOrEqual(Math.min(STEPS, SERIES));
  });
});
