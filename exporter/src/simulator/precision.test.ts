import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { floorMilli, roundCenti } from './precision.js';

describe('roundCenti', () => {
  it.each([
    [0, 0],
    [100, 100],
    [0.1 + 0.2, 0.3],
    [57.123456789, 57.12],
    [57.125000001, 57.13],
    [99.999, 100],
    [0.004999, 0],
    [1.005, 1], // 1.005 is stored as 1.00499999999999989…: rounds down, as printf would
  ])('%s → %s', (x, want) => {
    expect(roundCenti(x)).toBe(want);
  });

  it('yields values that print with at most 2 decimals and parse back to themselves', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), (x) => {
        const y = roundCenti(x);
        expect(String(y)).toMatch(/^\d+(\.\d{1,2})?$/);
        expect(Number(y.toFixed(2))).toBe(y);
        expect(Math.abs(y - x)).toBeLessThanOrEqual(0.005 + 1e-9 * x);
      }),
    );
  });
});

describe('floorMilli', () => {
  it.each([
    [0, 0],
    [1.2345, 1.234],
    [0.0009, 0],
    [12345.6789, 12345.678],
  ])('%s → %s', (x, want) => {
    expect(floorMilli(x)).toBe(want);
  });

  it('is non-decreasing and prints with at most 3 decimals (a floored counter stays monotone)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        (x, dx) => {
          expect(floorMilli(x + dx)).toBeGreaterThanOrEqual(floorMilli(x));
          expect(String(floorMilli(x))).toMatch(/^\d+(\.\d{1,3})?$/);
          expect(Math.abs(floorMilli(x) - x)).toBeLessThan(0.001 + 1e-9 * x);
        },
      ),
    );
  });
});
