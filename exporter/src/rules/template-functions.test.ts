import { describe, expect, it } from 'vitest';
import {
  FUNCTIONS,
  humanize,
  humanize1024,
  humanizeDuration,
  humanizePercentage,
  humanizeTimestamp,
  queryEscape,
} from './template-functions.js';

// The values are Prometheus 2.42's (template-promtool.test.ts checks them against promtool).

describe('humanize', () => {
  it.each([
    [0, '0'],
    [1e-7, '100n'],
    [0.000123, '123u'],
    [0.5, '500m'],
    [1, '1'],
    [85.5, '85.5'],
    [999999, '1000k'],
    [1234567, '1.235M'],
    [-1234567, '-1.235M'],
    [1e30, '1e+06Y'],
    [1e-30, '1e-06y'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('%s → %s', (v, want) => {
    expect(humanize(v)).toBe(want);
  });
});

describe('humanize1024', () => {
  it.each([
    [0, '0'],
    [0.5, '0.5'],
    [1, '1'],
    [1023, '1023'],
    [1024, '1ki'],
    [1536, '1.5ki'],
    [1073741824, '1Gi'],
    [-2048, '-2ki'],
    [1e30, '8.272e+05Yi'],
    [NaN, 'NaN'],
  ])('%s → %s', (v, want) => {
    expect(humanize1024(v)).toBe(want);
  });
});

describe('humanizeDuration', () => {
  it.each([
    [0, '0s'],
    [0.5, '500ms'],
    [0.001, '1ms'],
    [1e-9, '1ns'],
    [1, '1s'],
    [1.5, '1.5s'],
    [59.99, '59.99s'],
    [61, '1m 1s'],
    [3600, '1h 0m 0s'],
    [3661, '1h 1m 1s'],
    [3600 * 25, '1d 1h 0m 0s'],
    [86400 * 400, '400d 0h 0m 0s'],
    [-61, '-1m 1s'],
    [-0.5, '-500ms'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [1e20, '-106751991167300d -15h -30m -8s'], // Go's int64 conversion overflows the same way
  ])('%s → %s', (v, want) => {
    expect(humanizeDuration(v)).toBe(want);
  });
});

describe('humanizePercentage', () => {
  it.each([
    [0, '0%'],
    [0.5, '50%'],
    [0.12345, '12.35%'],
    [1, '100%'],
    [1.5, '150%'],
    [-0.001, '-0.1%'],
    [1e-9, '1e-07%'],
  ])('%s → %s', (v, want) => {
    expect(humanizePercentage(v)).toBe(want);
  });
});

describe('humanizeTimestamp', () => {
  it.each([
    [0, '1970-01-01 00:00:00 +0000 UTC'],
    [1435065584.128, '2015-06-23 13:19:44.128 +0000 UTC'],
    [1435065584, '2015-06-23 13:19:44 +0000 UTC'],
    [-1, '1969-12-31 23:59:59 +0000 UTC'],
    [4102444800, '2100-01-01 00:00:00 +0000 UTC'],
    [NaN, 'NaN'],
  ])('%s → %s', (v, want) => {
    expect(humanizeTimestamp(v)).toBe(want);
  });

  it('refuses times beyond int64 nanoseconds, with Prometheus’s message', () => {
    expect(() => humanizeTimestamp(1e12)).toThrow(
      '1e+12 cannot be represented as a nanoseconds timestamp since it overflows int64',
    );
  });
});

describe('queryEscape (url.QueryEscape)', () => {
  it.each([
    ['a b&c=d/é~*', 'a+b%26c%3Dd%2F%C3%A9~%2A'],
    ['rate(x[5m]) > 0', 'rate%28x%5B5m%5D%29+%3E+0'],
    ['AZaz09-_.~', 'AZaz09-_.~'],
  ])('%j → %s', (s, want) => {
    expect(queryEscape(s)).toBe(want);
  });
});

describe('FUNCTIONS', () => {
  it('is exactly Go 1.19’s builtins plus Prometheus 2.42’s functions', () => {
    expect([...FUNCTIONS.keys()].sort()).toEqual(
      [
        // text/template
        'and',
        'call',
        'eq',
        'ge',
        'gt',
        'html',
        'index',
        'js',
        'le',
        'len',
        'lt',
        'ne',
        'not',
        'or',
        'print',
        'printf',
        'println',
        'slice',
        'urlquery',
        // Prometheus
        'args',
        'externalURL',
        'first',
        'graphLink',
        'humanize',
        'humanize1024',
        'humanizeDuration',
        'humanizePercentage',
        'humanizeTimestamp',
        'label',
        'match',
        'parseDuration',
        'pathPrefix',
        'query',
        'reReplaceAll',
        'safeHtml',
        'sortByLabel',
        'strvalue',
        'stripPort',
        'tableLink',
        'title',
        'toLower',
        'toTime',
        'toUpper',
        'value',
      ].sort(),
    );
  });
});
