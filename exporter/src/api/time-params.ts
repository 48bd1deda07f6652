/**
 * Time parameters as Prometheus parses them (`web/api/v1/api.go` parseTime), the one parser every endpoint
 * uses — the Prometheus API's query, query_range, series, labels and label values, and the JSON API's time
 * parameters:
 *
 * - float Unix seconds (`1700000000`, `1.7e9`, `1700000000.123`; fractions rounded to the millisecond), or
 *   RFC 3339 (`2026-12-06T01:02:03.456Z`, `+01:00` offsets), or Prometheus's own boundary strings;
 * - NaN, Inf and anything else rejected (Go's ParseFloat would accept "NaN" and "Inf"; Prometheus then
 *   computes with garbage times, so they are refused here);
 * - clamped to [MIN_TIME_MS, MAX_TIME_MS]. Prometheus clamps to ±292 million years (int64 ms); a JS number
 *   holds ms exactly only up to 2^53, so the bounds here are JavaScript's own date range (±8.64e15 ms, about
 *   ±273,790 years): far beyond any sample, and every time inside it still formats, steps and subtracts
 *   exactly. `start=1e20` is therefore the maximum time, not a number whose `+ step` equals itself.
 */

/** MIN_TIME_MS and MAX_TIME_MS are the earliest and latest instants any endpoint works with (JS Date's range). */
export const MIN_TIME_MS = -8_640_000_000_000_000;
export const MAX_TIME_MS = 8_640_000_000_000_000;

/** PROMETHEUS_MIN_TIME and PROMETHEUS_MAX_TIME are Prometheus's boundary times as its API formats them. */
export const PROMETHEUS_MIN_TIME = '-292273086-05-16T16:47:06Z';
export const PROMETHEUS_MAX_TIME = '292277025-08-18T07:12:54.999999999Z';

const FLOAT_SECONDS = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

/** validFields checks what Date.parse lets through and Go's time.Parse does not (Feb 30, 24:00, +25:00). */
function validFields(m: RegExpExecArray): boolean {
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const daysInMonth = new Date(Date.UTC(y ?? 0, mo ?? 0, 0)).getUTCDate();
  if (mo === undefined || mo < 1 || mo > 12 || d === undefined || d < 1 || d > daysInMonth) return false;
  if ((h ?? 99) > 23 || (mi ?? 99) > 59 || (sec ?? 99) > 59) return false;
  return m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
}

/** clampTime bounds a time in ms to [MIN_TIME_MS, MAX_TIME_MS]. */
export function clampTime(ms: number): number {
  return ms < MIN_TIME_MS ? MIN_TIME_MS : ms > MAX_TIME_MS ? MAX_TIME_MS : ms;
}

/**
 * parseTimeMs parses a time parameter into ms (see the module comment for the grammar), or returns undefined
 * when the text is not a time.
 */
export function parseTimeMs(text: string): number | undefined {
  const s = text.trim();
  if (FLOAT_SECONDS.test(s)) {
    const seconds = Number(s);
    if (!Number.isFinite(seconds)) return seconds > 0 ? MAX_TIME_MS : MIN_TIME_MS; // "1e400" overflows to ±Inf
    if (seconds * 1000 >= MAX_TIME_MS) return MAX_TIME_MS;
    if (seconds * 1000 <= MIN_TIME_MS) return MIN_TIME_MS;
    // Whole seconds and the fraction separately, the fraction rounded to ms, as Prometheus does (math.Modf).
    const whole = Math.trunc(seconds);
    return clampTime(whole * 1000 + Math.round((seconds - whole) * 1000));
  }
  const m = RFC3339.exec(s);
  if (m) {
    if (!validFields(m)) return undefined;
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? undefined : clampTime(ms);
  }
  if (s === PROMETHEUS_MIN_TIME) return MIN_TIME_MS;
  if (s === PROMETHEUS_MAX_TIME) return MAX_TIME_MS;
  return undefined;
}
