import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmbeddedStorage } from '../tsdb/embedded/embedded-storage.js';
import type { Querier, Queryable } from '../tsdb/storage.js';
import { STALE_NAN } from '../util/stale-marker.js';
import type { Call, Expr } from './ast.js';
import { Engine } from './engine.js';
import { parseExpr } from './parser.js';
import { WindowCache, type NodeWindows } from './window-cache.js';

const S = 1_000;
const T0 = Date.UTC(2026, 0, 5);

/**
 * QUERIES are range functions over windows from 45 s to 10 min, with and without an incremental form
 * (quantile_over_time) or an offset; the store below cuts a chunk every 4 samples and keeps 150 s of raw
 * data, so windows span stored chunks, the head and retention.
 */
const QUERIES = [
  'quantile_over_time(0.25, x[2m])',
  'quantile_over_time(0.9, x[10m])',
  'rate(x[1m])',
  'predict_linear(x[2m], 60)',
  'count_over_time(x[45s])',
  'max_over_time(x[1m] offset 20s)',
  'sum_over_time(x[3m])',
  'delta(x[90s])',
  'last_over_time(x[1m])',
];

/** Op is one step of a history: samples arriving, the store changing, or an evaluation. */
type Op =
  | { kind: 'tick'; present: boolean[]; values: number[] }
  | { kind: 'late'; series: number; backS: number; value: number }
  | { kind: 'outOfOrder'; series: number }
  | { kind: 'backfill'; backS: number }
  | { kind: 'retention' }
  | { kind: 'evalBack'; backS: number };

const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e3, max: 1e3, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(NaN) },
  { weight: 1, arbitrary: fc.constant(STALE_NAN) },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      present: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      values: fc.array(value, { minLength: 3, maxLength: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('late' as const),
      series: fc.integer({ min: 0, max: 2 }),
      backS: fc.integer({ min: 1, max: 40 }),
      value,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('outOfOrder' as const),
      series: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('backfill' as const),
      backS: fc.integer({ min: 10, max: 300 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'retention' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('evalBack' as const), backS: fc.integer({ min: 1, max: 120 }) }),
  },
);

type Outcome = { ok: true; result: unknown } | { ok: false; error: string };

async function outcome(engine: Engine, store: Queryable, e: Expr, t: number): Promise<Outcome> {
  try {
    return { ok: true, result: (await engine.instantQuery(store, e, t)).result };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/**
 * check replays `ops` into a fresh store, evaluating every query after each step with an engine that keeps
 * windows and with one that reads afresh (also both under a small sample budget), and expects the same
 * outcome from both at every step.
 */
async function check(ops: readonly Op[]): Promise<void> {
  const store = await EmbeddedStorage.open({
    chunkSpanMs: 60 * S,
    maxSamplesPerChunk: 4,
    retention: { raw: 150 * S },
  });
  try {
    const exprs = QUERIES.map((q) => parseExpr(q));
    // Windows of a sample or two are kept too (the default keeps an hour's, not these minutes').
    const pairs = [
      [new Engine({ windowCacheMinSamples: 1 }), new Engine({ windowCacheSamples: 0 })],
      [
        new Engine({ maxSamples: 30, windowCacheMinSamples: 1 }),
        new Engine({ maxSamples: 30, windowCacheSamples: 0 }),
      ],
    ] as const;
    let now = T0;
    let backfills = 0;
    const lastT = [-Infinity, -Infinity, -Infinity];
    const append = async (labels: Record<string, string>, samples: [number, number][]): Promise<void> => {
      const app = store.appender();
      for (const [t, v] of samples) app.append(0, labels, t, v);
      await app.commit();
    };
    const evaluate = async (t: number, step: number): Promise<void> => {
      for (const [cached, fresh] of pairs)
        for (const [i, e] of exprs.entries()) {
          const want = await outcome(fresh, store, e, t);
          const got = await outcome(cached, store, e, t);
          expect(got, `step ${step}: ${QUERIES[i]} at ${(t - T0) / S} s`).toEqual(want);
        }
    };
    for (const [step, o] of ops.entries()) {
      switch (o.kind) {
        case 'tick':
          now += 15 * S;
          for (let s = 0; s < 3; s++)
            if (o.present[s]) {
              await append({ __name__: 'x', s: String(s) }, [[now, o.values[s] ?? 0]]);
              lastT[s] = now;
            }
          break;
        case 'late': {
          // In order for its series, but at or before the last evaluation: inside windows already read.
          const t = Math.max((lastT[o.series] ?? -Infinity) + 1, now - o.backS * S);
          if (t <= now) {
            await append({ __name__: 'x', s: String(o.series) }, [[t, o.value]]);
            lastT[o.series] = t;
          }
          break;
        }
        case 'outOfOrder':
          // Rejected by the store: must change nothing.
          await append({ __name__: 'x', s: String(o.series) }, [[(lastT[o.series] ?? now) - 500, 1]]);
          break;
        case 'backfill': {
          // A new series whose samples all precede the last evaluation.
          const samples: [number, number][] = [];
          for (let t = now - o.backS * S; t <= now; t += 10 * S) samples.push([t, t / S]);
          await append({ __name__: 'x', s: `new${backfills++}` }, samples);
          break;
        }
        case 'retention':
          await store.applyRetention(now);
          break;
        case 'evalBack':
          await evaluate(now - o.backS * S, step);
          break;
      }
      await evaluate(now, step);
    }
  } finally {
    await store.close();
  }
}

describe('WindowCache', () => {
  it('gives the results of a fresh read at every evaluation, whatever arrives or leaves in between', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => check(ops)),
      { numRuns: 60 },
    );
  }, 120_000);

  it('keeps an hour of 15 s samples, reading only what arrived since, and not five minutes', async () => {
    const store = await EmbeddedStorage.open();
    try {
      const app = store.appender();
      for (let t = T0; t <= T0 + 3_600 * S; t += 15 * S)
        for (const s of ['a', 'b']) app.append(0, { __name__: 'x', s }, t, t / S);
      await app.commit();
      // Counts what the store hands out, per select.
      let read = 0;
      const counting: Queryable = {
        async querier(mint: number, maxt: number): Promise<Querier> {
          const q = await store.querier(mint, maxt);
          return {
            historyGeneration: q.historyGeneration,
            select: (m, h) => q.select(m, h),
            selectEach: (m, h, visit) =>
              q.selectEach
                ? q.selectEach(m, h, (labels, ts, vs, n) => {
                    read += n;
                    visit(labels, ts, vs, n);
                  })
                : Promise.resolve(),
            series: (m) => q.series(m),
            labelNames: (m) => q.labelNames(m),
            labelValues: (n, m) => q.labelValues(n, m),
          };
        },
      };
      const engine = new Engine();
      const hour = parseExpr('quantile_over_time(0.5, x[1h])');
      const fiveMinutes = parseExpr('quantile_over_time(0.5, x[5m])');
      const fresh = new Engine({ windowCacheSamples: 0 });
      const reads: number[] = [];
      for (let k = 0; k < 3; k++) {
        const t = T0 + (3_600 + 15 * k) * S;
        if (k > 0) {
          const more = store.appender();
          for (const s of ['a', 'b']) more.append(0, { __name__: 'x', s }, t, -k);
          await more.commit();
        }
        for (const e of [hour, fiveMinutes]) {
          read = 0;
          const got = await engine.instantQuery(counting, e, t);
          reads.push(read);
          expect(got.result).toEqual((await fresh.instantQuery(store, e, t)).result);
        }
      }
      // The hour: read whole (nothing known of it yet), read whole and kept (it was found wide), then
      // each series' newest kept sample (the store's bound is inclusive) and the new one. Five minutes
      // (21 samples a series): read whole every time.
      expect(reads).toEqual([2 * 241, 2 * 21, 2 * 241, 2 * 21, 2 * 2, 2 * 21]);
      expect(engine.windows.heldSamples).toBe(2 * 241);
    } finally {
      await store.close();
    }
  });
});

describe('WindowCache budget', () => {
  const MIN = 60_000;
  const node = (samples: number, end: number): NodeWindows => ({
    source: {},
    generation: 0,
    rangeMs: MIN,
    end,
    series: new Map(),
    samples,
  });
  const call = (q: string): Call => parseExpr(q) as Call;

  it('keeps what fits, reads the rest plainly, and lets an idle node make room', () => {
    const cache = new WindowCache(100, 10);
    const [a, b, c] = [call('rate(a[1h])'), call('rate(b[1h])'), call('rate(c[1h])')];
    // Wide enough (10 a series) and within the budget: worth keeping.
    cache.note(a, 60, 2);
    expect(cache.worthKeeping(a)).toBe(true);
    cache.put(a, node(60, 10 * MIN));
    // Too narrow, then too big for what is left: read plainly.
    cache.note(b, 15, 2);
    expect(cache.worthKeeping(b)).toBe(false);
    cache.note(b, 50, 2);
    expect(cache.worthKeeping(b)).toBe(false);
    // Put anyway (it grew since it was noted): a is in use, so b is not kept and is read plainly.
    cache.put(b, node(50, 11 * MIN));
    expect([cache.heldSamples, cache.worthKeeping(b)]).toEqual([60, false]);
    // Ten minutes of evaluations without a: it makes room.
    cache.put(c, node(50, 20 * MIN + 1));
    expect(cache.heldSamples).toBe(50);
    expect(cache.take(a)).toBeUndefined();
    // Put twice (two evaluations at once): counted once.
    cache.put(c, node(40, 21 * MIN));
    expect(cache.heldSamples).toBe(40);
    expect(cache.take(c)?.samples).toBe(40);
    expect(cache.heldSamples).toBe(0);
  });
});
