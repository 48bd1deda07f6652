import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_TIME_MS,
  MIN_TIME_MS,
  PROMETHEUS_MAX_TIME,
  PROMETHEUS_MIN_TIME,
  clampTime,
  parseTimeMs,
} from './time-params.js';

describe('parseTimeMs', () => {
  it.each<[string, number | undefined]>([
    ['1700000000', 1_700_000_000_000],
    ['1700000000.123', 1_700_000_000_123],
    ['1700000000.1235', 1_700_000_000_124],
    ['1.7e9', 1_700_000_000_000],
    ['-1.5', -1_500],
    ['.5', 500],
    [' 42 ', 42_000],
    ['2026-12-06T01:02:03Z', Date.UTC(2026, 11, 6, 1, 2, 3)],
    ['2026-12-06T01:02:03.456789Z', Date.UTC(2026, 11, 6, 1, 2, 3, 456)],
    ['2026-12-06T02:02:03+01:00', Date.UTC(2026, 11, 6, 1, 2, 3)],
    // Far beyond any sample: clamped, so arithmetic on the result stays exact.
    ['1e20', MAX_TIME_MS],
    ['-1e20', MIN_TIME_MS],
    ['1e400', MAX_TIME_MS],
    ['-1e400', MIN_TIME_MS],
    [PROMETHEUS_MAX_TIME, MAX_TIME_MS],
    [PROMETHEUS_MIN_TIME, MIN_TIME_MS],
    // Rejected: not numbers, not RFC 3339, or dates Go's time.Parse refuses.
    ['NaN', undefined],
    ['Inf', undefined],
    ['+Inf', undefined],
    ['', undefined],
    ['now', undefined],
    ['1h', undefined],
    ['0x10', undefined],
    ['2026-02-30T00:00:00Z', undefined],
    ['2026-01-01T24:00:00Z', undefined],
    ['2026-01-01T00:00:00+25:00', undefined],
    ['2026-01-01 00:00:00Z', undefined],
    ['2026-01-01t00:00:00z', undefined],
  ])('%j → %j', (text, ms) => {
    expect(parseTimeMs(text)).toBe(ms);
  });

  it('any float second inside the range parses to that second, rounded to the ms', () => {
    fc.assert(
      fc.property(fc.double({ min: -8e12, max: 8e12, noNaN: true }), (sec) => {
        const ms = parseTimeMs(String(sec));
        expect(ms).toBeDefined();
        expect(Math.abs((ms as number) - sec * 1000)).toBeLessThanOrEqual(0.5 + Math.abs(sec) * 1e-12);
      }),
    );
  });

  it('every accepted time lies within the clamps and is a safe integer', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double().map(String)), (text) => {
        const ms = parseTimeMs(text);
        if (ms === undefined) return;
        expect(Number.isSafeInteger(ms)).toBe(true);
        expect(ms).toBe(clampTime(ms));
      }),
    );
  });
});
