/**
 * fast-check arbitraries of the API's time, duration and step parameters: ordinary values near `now` (so
 * queries touch the stored history), Prometheus's boundary strings, and everything a client can get wrong —
 * ±1e20, overflow to infinity, NaN/Inf spelled every way, invalid RFC 3339 dates, negative and tiny steps.
 * Times are relative to a `now` fixed when the generators are built, so a seed plus `now` reproduces a run.
 */
import fc from 'fast-check';
import { PROMETHEUS_MAX_TIME, PROMETHEUS_MIN_TIME } from '../../src/api/time-params.js';

/** HOSTILE_TIMES are time parameters no client should send. */
const HOSTILE_TIMES: readonly string[] = [
  '1e20',
  '-1e20',
  '1e400',
  '-1e400',
  '1e-400',
  'NaN',
  'nan',
  'Inf',
  '+Inf',
  '-Inf',
  'Infinity',
  '',
  ' ',
  'abc',
  '0x10',
  '1_000',
  '0',
  '-1',
  '9007199254740993',
  '8640000000000',
  '8640000000000.001',
  '-8640000000000',
  '1700000000.123456789',
  '2026-02-30T00:00:00Z',
  '2026-12-06T24:00:00Z',
  '2026-12-06T01:02:03+25:00',
  '2026-12-06T01:02:03.999999999Z',
  '+275760-09-13T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-12-06',
  PROMETHEUS_MIN_TIME,
  PROMETHEUS_MAX_TIME,
];

/** HOSTILE_DURATIONS are step/timeout/duration parameters no client should send. */
const HOSTILE_DURATIONS: readonly string[] = [
  '0',
  '-1',
  '-15s',
  '1e-9',
  '0.0001',
  '1e20',
  '1e400',
  'NaN',
  'Inf',
  '-Inf',
  '',
  'abc',
  '1ms',
  '1y',
  '10000y',
  '99999999999y',
  '1h30m',
  '5m5m',
  '9007199254740993',
];

/** TimeArbitraries are the parameter generators for one `now`. */
export interface TimeArbitraries {
  /** time is one time parameter (`time`, `start`, `end`, `since`). */
  readonly time: fc.Arbitrary<string>;
  /** duration is a step or a timeout. */
  readonly duration: fc.Arbitrary<string>;
  /** range is a query_range `[start, end, step]`, often near the point limit, sometimes hostile. */
  readonly range: fc.Arbitrary<readonly [string, string, string]>;
}

/** timeArbitraries builds the parameter generators around `nowSeconds` (Unix seconds). */
export function timeArbitraries(nowSeconds: number): TimeArbitraries {
  const now = Math.floor(nowSeconds);
  const recent = fc.integer({ min: now - 7 * 86_400, max: now + 3_600 });
  const rfc3339 = recent.map((s) => new Date(s * 1000).toISOString());
  const time = fc.oneof(
    { weight: 5, arbitrary: recent.map(String) },
    { weight: 1, arbitrary: fc.double({ min: now - 86_400, max: now, noNaN: true }).map(String) },
    { weight: 2, arbitrary: rfc3339 },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_TIMES) },
  );
  const duration = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('1', '15', '15s', '60', '1m', '5m', '1h', '0.5', '30s') },
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_DURATIONS) },
    { weight: 1, arbitrary: fc.double().map(String) },
  );
  // Ranges that stay under Prometheus's 11,000-point limit but make the engine do as much as it allows.
  const spanSeconds = fc.constantFrom(
    60,
    3_600,
    6 * 3_600,
    86_400,
    7 * 86_400,
    365 * 86_400,
    100 * 365 * 86_400,
  );
  const maxPoints = spanSeconds.chain((span) =>
    fc
      .tuple(fc.integer({ min: 1, max: 11_000 }), fc.integer({ min: now - 3_600, max: now }))
      .map(([points, end]) => [String(end - span), String(end), String(span / points)] as const),
  );
  const ordinary = fc
    .tuple(fc.constantFrom(300, 3_600, 6 * 3_600, 86_400), fc.constantFrom('15', '60', '15s', '1m', '5m'))
    .map(([span, step]) => [String(now - span), String(now), step] as const);
  const range = fc.oneof(
    { weight: 5, arbitrary: ordinary },
    { weight: 3, arbitrary: maxPoints },
    { weight: 3, arbitrary: fc.tuple(time, time, duration) },
  );
  return { time, duration, range };
}
