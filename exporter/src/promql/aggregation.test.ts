/**
 * An aggregation evaluated again from the same parsed expression (a rule, every interval) takes its grouping
 * from the previous evaluation when its input series are the same; these check it answers exactly what a
 * fresh parse answers while the values, the set of series and their order change between evaluations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { parseExpr } from './parser.js';
import { MemoryQueryable } from './promqltest/memory-queryable.js';

const STEP = 15_000;

describe('aggregations evaluated again from one parsed expression', () => {
  it.each([
    'sum by (a) (rate(c[1m]))',
    'max by (a, b) (c)',
    'sum by (a) (c > 5)',
    'count without (b) (c)',
    'sum by (a) (max by (a, b) (rate(c[1m])))',
    'topk(1, c)',
  ])('%s gives what a fresh parse gives at every instant', async (query) => {
    const db = new MemoryQueryable();
    // Series come and go, and values cross the filter's threshold, so the input set changes in content
    // while keeping its size (a="1" passes `> 5` first, a="4" later: another group), and grows (a="3" from
    // 30 steps on).
    for (let k = 1; k <= 40; k++) {
      const t = k * STEP;
      db.add({ __name__: 'c', a: '1', b: 'x' }, t, k < 20 ? 10 + k : 1);
      db.add({ __name__: 'c', a: '4', b: 'y' }, t, k < 20 ? 1 : 10 + k);
      db.add({ __name__: 'c', a: '2', b: 'x' }, t, 3 * k);
      if (k >= 30) db.add({ __name__: 'c', a: '3', b: 'z' }, t, 100 + k);
    }
    const engine = new Engine();
    const kept = parseExpr(query);
    for (let k = 5; k <= 40; k += 3) {
      const again = await engine.instantQuery(db, kept, k * STEP);
      const fresh = await engine.instantQuery(db, parseExpr(query), k * STEP);
      expect(again.result, `at step ${k}`).toEqual(fresh.result);
    }
  });
});

describe('aggregations at one step', () => {
  // An instant query folds each group in one pass over the input (foldInstant); a range query folds group by
  // group (fold). Both must give the same numbers, overflow, NaN, infinities and signed zeros included.
  const value = fc.oneof(
    fc.double(),
    fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1.7976931348623157e308, -1.7976931348623157e308),
  );
  it.each(['sum', 'avg', 'min', 'max', 'count', 'group'])(
    '%s by (a) at an instant equals the range query at that step',
    async (op) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ a: fc.constantFrom('1', '2', '3'), v: value, present: fc.boolean() }), {
            maxLength: 12,
          }),
          async (rows) => {
            const db = new MemoryQueryable();
            rows.forEach((r, i) => {
              if (r.present) db.add({ __name__: 'c', a: r.a, i: String(i) }, 2 * STEP, r.v);
              db.add({ __name__: 'c', a: r.a, i: String(i) }, STEP, 1);
            });
            const engine = new Engine();
            const e = parseExpr(`${op} by (a) (c)`);
            const instant = await engine.instantQuery(db, e, 2 * STEP);
            const range = await engine.rangeQuery(db, e, STEP, 2 * STEP, STEP);
            const atStep =
              range.result.resultType === 'matrix'
                ? range.result.result
                    .filter((m) => m.timestamps.at(-1) === 2 * STEP)
                    .map((m) => ({ labels: m.labels, t: 2 * STEP, v: m.values.at(-1) }))
                : [];
            const got = instant.result.resultType === 'vector' ? instant.result.result : [];
            expect([...got].sort((x, y) => (x.labels.a ?? '').localeCompare(y.labels.a ?? ''))).toEqual(
              atStep,
            );
          },
        ),
        { numRuns: 200 },
      );
    },
  );
});
