/**
 * Request parameter parsing for the Prometheus API, in one place and with Prometheus's own messages:
 * times as float Unix seconds or RFC 3339 (time-params.ts: NaN/Inf rejected, clamped), durations as float seconds or Prometheus durations (`15s`),
 * `match[]` selectors, label names. GET query strings and form-encoded POST bodies are merged as Go's
 * `r.FormValue` does (body first).
 */
import type { Request } from 'express';
import type { Matcher } from '../../tsdb/storage.js';
import { PromQLError, parseExpr } from '../../promql/index.js';
import { parseDuration as parsePromDuration } from '../../util/duration.js';
import { LABEL_NAME_RE } from '../../util/labels.js';
import { parseTimeMs } from '../time-params.js';

export { MAX_TIME_MS, MIN_TIME_MS } from '../time-params.js';

/** Params reads one request's parameters from the body and the query string. */
export class Params {
  constructor(private readonly req: Request) {}

  private values(name: string): string[] {
    const out: string[] = [];
    for (const src of [this.req.body as unknown, this.req.query as unknown]) {
      if (!src || typeof src !== 'object') continue;
      const v = (src as Record<string, unknown>)[name];
      if (typeof v === 'string') out.push(v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.push(x);
    }
    return out;
  }

  /** get returns the first value of a parameter, or undefined when absent. */
  get(name: string): string | undefined {
    return this.values(name)[0];
  }

  /** all returns every value of a repeated parameter (`match[]`). */
  all(name: string): string[] {
    return this.values(name);
  }

  /** time parses a timestamp parameter into ms, or returns `fallback` when absent. */
  time(name: string, fallback: number | undefined): number {
    const s = this.get(name);
    if (s === undefined || s === '') {
      if (fallback !== undefined) return fallback;
      throw invalidParam(name, `cannot parse "" to a valid timestamp`);
    }
    const ms = parseTimeMs(s);
    if (ms === undefined) throw invalidParam(name, `cannot parse ${JSON.stringify(s)} to a valid timestamp`);
    return ms;
  }

  /** duration parses a duration parameter into ms (undefined when absent and optional). */
  duration(name: string, required: boolean): number | undefined {
    const s = this.get(name);
    if (s === undefined || s === '') {
      if (!required) return undefined;
      throw invalidParam(name, `cannot parse "" to a valid duration`);
    }
    const ms = parseDurationMs(s);
    if (ms === undefined) throw invalidParam(name, `cannot parse ${JSON.stringify(s)} to a valid duration`);
    return ms;
  }

  /** matchers parses every `match[]` into matcher lists (each must be a plain vector selector). */
  matchers(): Matcher[][] {
    // The same selector sent twice selects the same series: parse and read it once.
    return [...new Set(this.all('match[]'))].map((m) => {
      let e;
      try {
        e = parseExpr(m);
      } catch (err) {
        throw new PromQLError('bad_data', (err as Error).message);
      }
      if (e.type !== 'VectorSelector') throw new PromQLError('bad_data', 'match[] must be a vector selector');
      return [...e.matchers];
    });
  }
}

/** invalidParam builds Prometheus's `invalid parameter "x": …` bad_data error. */
export function invalidParam(name: string, detail: string): PromQLError {
  return new PromQLError('bad_data', `invalid parameter ${JSON.stringify(name)}: ${detail}`);
}

/** parseDurationMs parses float seconds or a Prometheus duration into ms (truncated like Go's durations). */
export function parseDurationMs(s: string): number | undefined {
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s.trim())) {
    const ms = Math.trunc(Number(s) * 1e6) / 1e3;
    return Number.isFinite(ms) ? Math.trunc(ms) : undefined;
  }
  return parsePromDuration(s);
}

/** checkLabelName validates a label name path parameter. */
export function checkLabelName(name: string): void {
  if (!LABEL_NAME_RE.test(name))
    throw new PromQLError('bad_data', `invalid label name: ${JSON.stringify(name)}`);
}
