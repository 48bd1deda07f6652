/**
 * sortByLabels orders label sets exactly as a stable sort with compareLabels (Prometheus's labels.Compare)
 * would, across its sorted runs and merges, while handing the caller a turn every SORT_RUN items.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Labels } from '../util/labels.js';
import { compareLabels, SORT_RUN, sortByLabels } from './labels-util.js';

// Few names and values, some prefixes of others ("a"/"ab", ""/"x"), so ties and near-ties are common.
const labelSet: fc.Arbitrary<Labels> = fc.dictionary(
  fc.constantFrom('a', 'ab', 'b', '__name__'),
  fc.constantFrom('', 'x', 'xy', 'y'),
  { maxKeys: 4 },
);

describe('sortByLabels', () => {
  it('orders as a stable sort with compareLabels, and breathes every SORT_RUN items', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(labelSet, { maxLength: 3 * SORT_RUN + 7, size: 'max' }), async (sets) => {
        // Items carry their index, so stability shows: equal label sets keep their input order.
        const items = sets.map((labels, i) => ({ labels, i }));
        let breaths = 0;
        const sorted = await sortByLabels(
          items,
          (x) => x.labels,
          () => {
            breaths++;
            return Promise.resolve();
          },
        );
        expect(sorted).toEqual([...items].sort((x, y) => compareLabels(x.labels, y.labels)));
        expect(breaths).toBeGreaterThanOrEqual(Math.floor(items.length / SORT_RUN));
      }),
      // No shrinking: a counterexample of thousands of items would take minutes to shrink.
      { numRuns: 40, endOnFailure: true },
    );
  });
});
