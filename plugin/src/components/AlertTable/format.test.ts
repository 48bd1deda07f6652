import { activeText, formatAlertValue, humanDuration } from './format';

describe('alert formatting', () => {
  test.each([
    [0, '0s'],
    [45_000, '45s'],
    [12 * 60_000 + 5_000, '12m'],
    [3 * 3_600_000, '3h'],
    [3 * 3_600_000 + 5 * 60_000, '3h 5m'],
    [2 * 86_400_000 + 4 * 3_600_000, '2d 4h'],
    [-5_000, '0s'],
  ])('humanDuration(%i) = %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  test.each([
    [null, '—'],
    [95, '95'],
    [85.123456, '85.12'],
    [0.000123456, '0.0001235'],
  ])('formatAlertValue(%s) = %s', (v, text) => {
    expect(formatAlertValue(v)).toBe(text);
  });

  test.each([
    [{ state: 'firing' as const, activeAt: 0, resolvedAt: null }, '2m'],
    [{ state: 'pending' as const, activeAt: null, resolvedAt: null }, '—'],
    [{ state: 'resolved' as const, activeAt: 0, resolvedAt: 60_000 }, 'resolved 1m ago'],
  ])('activeText(%o) = %s', (row, text) => {
    expect(activeText(row, 120_000)).toBe(text);
  });
});
