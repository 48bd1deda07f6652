/**
 * Durations in Prometheus's grammar (`model.ParseDuration` / `Duration.String()`), the one parser and formatter
 * of the exporter: PromQL ranges, offsets and subquery steps, the API's duration parameters and every
 * duration option (`BACKFILL=7d`, `QUERY_TIMEOUT=2m`). Units y, w, d, h, m, s, ms, each at most once and
 * in that order (`1h30m`, not `30m1h`); `0` alone is zero; no fractions or signs.
 */

/** DURATION_UNITS are Prometheus's duration units in ms, largest first (model.Duration). */
const DURATION_UNITS: readonly [string, number][] = [
  ['y', 365 * 24 * 3_600_000],
  ['w', 7 * 24 * 3_600_000],
  ['d', 24 * 3_600_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** formatDuration prints ms as Prometheus's `model.Duration.String()` does (`1h30m`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, width] of DURATION_UNITS) {
    const n = Math.floor(rest / width);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * width;
    }
  }
  return out;
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** parseDuration parses a Prometheus duration (`1h30m`, `15s`, `500ms`) into ms, or undefined. */
export function parseDuration(s: string): number | undefined {
  if (s === '' || s === '0') return s === '0' ? 0 : undefined;
  const m = DURATION_RE.exec(s);
  if (!m) return undefined;
  let ms = 0;
  for (let i = 0; i < DURATION_UNITS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * (DURATION_UNITS[i]?.[1] ?? 0);
  }
  return ms;
}
