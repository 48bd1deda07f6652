/**
 * An aggregation evaluated again from the same parsed expression (a rule, every interval) takes its grouping
 * from the previous evaluation when its input series are the same; these check it answers exactly what a
 * fresh parse answers while the values, the set of series and their order change between evaluations.
 */
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
