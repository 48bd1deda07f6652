import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MatrixSeries, QueryResult } from '../../promql/index.js';
import { secondsText, toApiChunks, toApiData } from './router.js';

const GRID = Array.from({ length: 12 }, (_, i) => 1_700_000_000_000 + i * 15_500);

/** A value drawn so that runs of equal values, -0 next to 0, NaN and infinities all occur. */
const sampleValue = fc.oneof(
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1, 1e21, 1e-7, 0.1 + 0.2),
  fc.double(),
);

/** A series on the shared grid with some steps absent, or on times of its own. */
const matrixSeries: fc.Arbitrary<MatrixSeries> = fc
  .record({
    server: fc.string({ maxLength: 4 }),
    present: fc.array(fc.boolean(), { minLength: GRID.length, maxLength: GRID.length }),
    values: fc.array(sampleValue, { minLength: GRID.length, maxLength: GRID.length }),
    ownTimes: fc.option(fc.array(fc.integer({ min: 0, max: 2e12 }), { minLength: 1, maxLength: 5 })),
  })
  .map(({ server, present, values, ownTimes }) => {
    const times = ownTimes ?? GRID.filter((_, i) => present[i]);
    return { labels: { server }, timestamps: times, values: times.map((_, i) => values[i] ?? NaN) };
  });

function streamed(r: QueryResult): string {
  return [...toApiChunks(r).fragments()].join('');
}

describe('toApiChunks', () => {
  it('writes the same JSON as toApiData for any matrix, whatever the series share', () => {
    fc.assert(
      fc.property(fc.array(matrixSeries, { maxLength: 6 }), (result) => {
        const r: QueryResult = { resultType: 'matrix', result };
        expect(streamed(r)).toBe(JSON.stringify(toApiData(r)));
      }),
      { numRuns: 300 },
    );
  });

  it('prints a time in seconds as String(t / 1000) does, for whole and fractional milliseconds', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.maxSafeNat(), fc.integer({ min: 0, max: 4e12 }), fc.double(), fc.integer()),
        (t) => {
          expect(secondsText(t)).toBe(String(t / 1000));
        },
      ),
      { numRuns: 5_000 },
    );
    expect([0, 1, 10, 100, 1_010, 1_796_179_881_013].map(secondsText)).toEqual([
      '0',
      '0.001',
      '0.01',
      '0.1',
      '1.01',
      '1796179881.013',
    ]);
  });

  it('writes vectors, scalars and strings as toApiData does', () => {
    const results: QueryResult[] = [
      { resultType: 'vector', result: [{ labels: { a: '"x"' }, t: 1_500, v: -0 }] },
      { resultType: 'scalar', result: { t: 2_000, v: NaN } },
      { resultType: 'string', result: { t: 2_000, v: 'a\nb' } },
    ];
    for (const r of results) expect(streamed(r)).toBe(JSON.stringify(toApiData(r)));
  });
});
