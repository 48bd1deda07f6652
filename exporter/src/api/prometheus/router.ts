/**
 * createPrometheusApiRouter serves the Prometheus HTTP API v1 (the subset Grafana's Prometheus data source,
 * promtool and API clients use) over any Queryable, after Prometheus's `web/api/v1/api.go`. The app mounts it
 * at `/api/prometheus/api/v1`. Every handler parses its parameters through `Params`, answers through
 * `respond`/`respondError`, and so shares one envelope and one errorType → status mapping.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RuleFilters } from '../../rules/api-data.js';
import type { Matcher, Queryable } from '../../tsdb/storage.js';
import { seriesKey, type Labels } from '../../util/labels.js';
import { Pacer } from '../../util/pacer.js';
import {
  QueryCache,
  type QueryCacheOptions,
  Engine,
  type EngineOptions,
  type MatrixSeries,
  type QueryResult,
  PromQLError,
  formatSampleValue,
  sortByLabels,
  parseExprPaced,
  typeOf,
  type Expr,
  exprToString,
} from '../../promql/index.js';
import { JsonChunks, envelopeErrorHandler, respond, respondError } from './envelope.js';
import { MAX_TIME_MS, MIN_TIME_MS, Params, checkLabelName, invalidParam } from './params.js';

/** MetricMetadata is one family's HELP/TYPE/unit as `/metadata` returns it. */
export interface MetricMetadata {
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

/** MetadataProvider lists family metadata (all families, or one when `metric` is given). */
export type MetadataProvider = (
  metric?: string,
) => Promise<Record<string, MetricMetadata[]>> | Record<string, MetricMetadata[]>;

/** BuildInfo is `/status/buildinfo`'s data (Prometheus 2.x shape: no `features` field). */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildUser: string;
  readonly buildDate: string;
  readonly goVersion: string;
}

/** DEFAULT_BUILD_INFO announces a Prometheus 2.x API so Grafana picks its 2.x code paths. */
export const DEFAULT_BUILD_INFO: BuildInfo = {
  version: '2.42.0',
  revision: 'openmanager',
  branch: 'HEAD',
  buildUser: 'openmanager',
  buildDate: '20260101-00:00:00',
  goVersion: 'go1.20',
};

/** MAX_POINTS_PER_SERIES is Prometheus's API limit on steps per range query (api.go). */
export const MAX_POINTS_PER_SERIES = 11_000;

/** PrometheusApiOptions are the router's injected parts. */
export interface PrometheusApiOptions {
  readonly queryable: Queryable;
  readonly logger: Logger;
  /** engine evaluates queries; default `new Engine(engineOptions)`. */
  readonly engine?: Engine;
  readonly engineOptions?: Partial<EngineOptions>;
  /** cache serves range queries; default a QueryCache registered on `registry`; false disables it. */
  readonly cache?: QueryCache | false;
  readonly cacheOptions?: Partial<QueryCacheOptions>;
  readonly registry?: Registry;
  readonly metadata?: MetadataProvider;
  /** rules returns `/rules` data (`{groups: [...]}`) for the request's filters; default no groups. */
  readonly rules?: (filters: RuleFilters) => unknown;
  /** alerts returns `/alerts` data (`{alerts: [...]}`); default no alerts. */
  readonly alerts?: () => unknown;
  readonly buildInfo?: Partial<BuildInfo>;
  /** now is the clock for defaulted query times (ms). */
  readonly now?: () => number;
  readonly maxPointsPerSeries?: number;
  /** bodyLimitBytes bounds a form-encoded POST body (default 1 MiB); larger gets 413 in the envelope. */
  readonly bodyLimitBytes?: number;
}

/** DEFAULT_BODY_LIMIT_BYTES is the form body limit when none is given (the exporter passes BODY_LIMIT_BYTES). */
const DEFAULT_BODY_LIMIT_BYTES = 1_048_576;

/** toApiData renders a query result in the API's JSON shape (seconds as floats, values as strings). */
export function toApiData(r: QueryResult): unknown {
  switch (r.resultType) {
    case 'scalar':
      return { resultType: 'scalar', result: [r.result.t / 1000, formatSampleValue(r.result.v)] };
    case 'string':
      return { resultType: 'string', result: [r.result.t / 1000, r.result.v] };
    case 'vector':
      return {
        resultType: 'vector',
        result: r.result.map((s) => ({ metric: s.labels, value: [s.t / 1000, formatSampleValue(s.v)] })),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: r.result.map((s) => ({
          metric: s.labels,
          values: s.timestamps.map((t, i) => [t / 1000, formatSampleValue(s.values[i] ?? NaN)]),
        })),
      };
  }
}

/**
 * toApiChunks renders a query result as toApiData does, series by series, for streaming: the JSON of a
 * 2,000-series, 11,000-step range result is hundreds of MB. A `deadline` (the query's) bounds the writing
 * of a vector or matrix answer (AnswerBudget).
 */
export function toApiChunks(r: QueryResult, deadline?: number): JsonChunks {
  if (r.resultType !== 'vector' && r.resultType !== 'matrix')
    return new JsonChunks(() => [JSON.stringify(toApiData(r))]);
  const points =
    r.resultType === 'vector' ? r.result.length : r.result.reduce((n, s) => n + s.timestamps.length, 0);
  const chunks: JsonChunks = new JsonChunks(
    function* () {
      yield `{"resultType":"${r.resultType}","result":[`;
      if (r.resultType === 'vector')
        for (let i = 0; i < r.result.length; i++) {
          const s = r.result[i];
          if (!s) continue;
          chunks.rendered++;
          yield (
            (i > 0 ? ',' : '') +
            JSON.stringify({ metric: s.labels, value: [s.t / 1000, formatSampleValue(s.v)] })
          );
        }
      else {
        const writer = new MatrixPointWriter();
        for (let i = 0; i < r.result.length; i++) {
          const s = r.result[i];
          if (!s) continue;
          yield `${i > 0 ? ',' : ''}{"metric":${JSON.stringify(s.labels)},"values":[`;
          yield* writer.write(s, chunks);
          yield ']}';
        }
      }
      yield ']}';
    },
    deadline === undefined ? undefined : { points, deadline },
  );
  return chunks;
}

/** POINTS_PER_FRAGMENT bounds the points written in one piece (~0.5 MB of JSON), so a long series yields too. */
const POINTS_PER_FRAGMENT = 16_384;

/** FRACTIONS[ms] is the fractional part `.ddd` (trailing zeros dropped) of a time with `ms` milliseconds. */
const FRACTIONS: readonly string[] = Array.from({ length: 1000 }, (_, ms) =>
  ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`,
);

/**
 * secondsText prints Unix ms as seconds exactly as `String(t / 1000)` does. Whole milliseconds below 10^15
 * are printed from integers (the seconds part and a table of fractions), several times faster than
 * formatting a fractional double: distinct decimals of at most 15 significant digits are distinct doubles,
 * so such a decimal is the shortest text that reads back as `t / 1000`. Other times take the general path.
 */
export function secondsText(t: number): string {
  if (!(Number.isInteger(t) && t >= 0 && t < 1e15)) return String(t / 1000);
  const ms = t % 1000;
  return `${(t - ms) / 1000}${FRACTIONS[ms] ?? ''}`;
}

/**
 * MatrixPointWriter writes a range result's points, `[t,"v"]` joined by commas, in fragments of at most
 * POINTS_PER_FRAGMENT points. Points are numbers and formatted numbers (no character needs escaping), so
 * they are written directly: several times faster than building `[t, "v"]` arrays for JSON.stringify. The
 * series of a range result share one step grid, so each step's `[t,"` prefix is formatted once per query, not
 * once per series; a value equal to the point before reuses its text (a step-invariant `@` result repeats
 * one sample at every step).
 */
class MatrixPointWriter {
  private readonly gridTimes: number[] = [];
  private readonly gridPrefixes: string[] = [];

  /** write yields `s`'s points, adding each fragment's count to `progress.rendered`. */
  *write(s: MatrixSeries, progress: { rendered: number }): Generator<string> {
    const { timestamps, values } = s;
    let lastV = NaN;
    let lastText = '';
    for (let from = 0; from < timestamps.length; from += POINTS_PER_FRAGMENT) {
      const to = Math.min(timestamps.length, from + POINTS_PER_FRAGMENT);
      const parts = new Array<string>(to - from);
      for (let k = from; k < to; k++) {
        const v = values[k] ?? NaN;
        // Object.is keeps -0 and NaN apart from their look-alikes, which format differently.
        if (k === 0 || !Object.is(v, lastV)) {
          lastV = v;
          lastText = formatSampleValue(v);
        }
        parts[k - from] = `${this.prefix(k, timestamps[k] ?? 0)}${lastText}"]`;
      }
      progress.rendered += to - from;
      yield (from > 0 ? ',' : '') + parts.join(',');
    }
  }

  /**
   * prefix is `[t,"` for step k at time t, remembered by position while series share the grid. Only the first
   * MAX_POINTS_PER_SERIES positions are remembered (a range query's steps): longer series are raw samples of
   * an instant query, whose times series do not share.
   */
  private prefix(k: number, t: number): string {
    if (this.gridTimes[k] === t) return this.gridPrefixes[k] ?? '';
    const text = `[${secondsText(t)},"`;
    if (k >= MAX_POINTS_PER_SERIES) return text;
    this.gridTimes[k] = t;
    this.gridPrefixes[k] = text;
    return text;
  }
}

/** ruleFilters reads `/rules`' filters as Prometheus does (an unknown `type` is a bad_data error). */
function ruleFilters(p: Params): RuleFilters {
  const type = p.get('type');
  if (type !== undefined && type !== '' && type !== 'alert' && type !== 'record')
    throw invalidParam('type', `unsupported type ${JSON.stringify(type)}, expected "alert" or "record"`);
  const excludeAlerts = p.get('exclude_alerts');
  if (excludeAlerts !== undefined && !['', 'true', 'false', '1', '0'].includes(excludeAlerts))
    throw invalidParam('exclude_alerts', `cannot parse ${JSON.stringify(excludeAlerts)} as a boolean`);
  return {
    ...(type === 'alert' || type === 'record' ? { type } : {}),
    ruleNames: p.all('rule_name[]'),
    groupNames: p.all('rule_group[]'),
    files: p.all('file[]'),
    excludeAlerts: excludeAlerts === 'true' || excludeAlerts === '1',
  };
}

/** createPrometheusApiRouter builds the `/api/v1` router. */
export function createPrometheusApiRouter(opts: PrometheusApiOptions): Router {
  const engine = opts.engine ?? new Engine(opts.engineOptions, { registry: opts.registry });
  const cache =
    opts.cache === false ? undefined : (opts.cache ?? new QueryCache(opts.cacheOptions, opts.registry));
  const now = opts.now ?? (() => Date.now());
  const maxPoints = opts.maxPointsPerSeries ?? MAX_POINTS_PER_SERIES;
  const buildInfo = { ...DEFAULT_BUILD_INFO, ...opts.buildInfo };
  const log = opts.logger;
  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES }));

  /** handle wraps a handler so every failure ends in the error envelope. */
  const handle =
    (fn: (p: Params, req: Request) => Promise<unknown>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        await respond(res, await fn(new Params(req), req));
      } catch (err) {
        respondError(res, err, log);
      }
    };

  /**
   * deadlineOf is when a request's query must be done (performance.now() ms): the engine's timeout, or the
   * request's shorter `timeout` parameter, from now — parsing, waiting for a slot and evaluating included.
   */
  const deadlineOf = (p: Params): number => {
    const t = p.duration('timeout', false);
    const ms = t === undefined || t <= 0 ? engine.options.timeoutMs : Math.min(t, engine.options.timeoutMs);
    return performance.now() + ms;
  };

  const parseQuery = async (p: Params, deadline = Infinity): Promise<Expr> => {
    const q = p.get('query');
    if (q === undefined) throw invalidParam('query', 'no query provided');
    try {
      return await parseExprPaced(q, deadline);
    } catch (err) {
      if (err instanceof PromQLError && err.errorType === 'bad_data')
        throw invalidParam('query', err.message);
      throw err;
    }
  };

  const instant = handle(async (p) => {
    const t = p.time('time', now());
    const deadline = deadlineOf(p);
    const expr = await parseQuery(p, deadline);
    const out = await engine.instantQuery(opts.queryable, expr, t, { deadline });
    return toApiChunks(out.result, deadline);
  });

  const range = handle(async (p) => {
    const start = p.time('start', undefined);
    const end = p.time('end', undefined);
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    const step = p.duration('step', true) ?? 0;
    if (step <= 0)
      throw invalidParam(
        'step',
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    if ((end - start) / step > maxPoints)
      throw new PromQLError(
        'bad_data',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    const deadline = deadlineOf(p);
    const expr = await parseQuery(p, deadline);
    const t = typeOf(expr);
    if (t !== 'scalar' && t !== 'vector')
      throw invalidParam(
        'query',
        `invalid expression type "${t === 'matrix' ? 'range vector' : t}" for range query, must be Scalar or instant Vector`,
      );
    const out = cache
      ? await cache.rangeQuery(engine, opts.queryable, expr, start, end, step, { deadline })
      : await engine.rangeQuery(opts.queryable, expr, start, end, step, { deadline });
    return toApiChunks(out.result, deadline);
  });

  /** seriesFor returns the label sets matching any of the `match[]` selectors in [start, end]. */
  const seriesFor = (p: Params, required: boolean): { sets: Matcher[][]; start: number; end: number } => {
    const sets = p.matchers();
    if (required && sets.length === 0) throw new PromQLError('bad_data', 'no match[] parameter provided');
    const start = p.time('start', MIN_TIME_MS);
    const end = p.time('end', MAX_TIME_MS);
    return { sets, start, end };
  };

  router.get('/query', instant);
  router.post('/query', instant);
  router.get('/query_range', range);
  router.post('/query_range', range);

  // Many match[] selectors over many series take a while: each selector is one slice of work at most.
  const series = handle(async (p) => {
    const { sets, start, end } = seriesFor(p, true);
    const q = await opts.queryable.querier(start, end);
    const seen = new Map<string, Labels>();
    const pacer = new Pacer();
    for (const m of sets) {
      for (const l of await q.series(m)) seen.set(seriesKey(l), l);
      await pacer.pace();
    }
    const sorted = await sortByLabels(
      [...seen.values()],
      (l) => l,
      () => pacer.pace(),
    );
    return new JsonChunks(function* () {
      yield '[';
      for (let i = 0; i < sorted.length; i++) yield (i > 0 ? ',' : '') + JSON.stringify(sorted[i]);
      yield ']';
    });
  });
  router.get('/series', series);
  router.post('/series', series);

  const labels = handle(async (p) => {
    const { sets, start, end } = seriesFor(p, false);
    const q = await opts.queryable.querier(start, end);
    if (sets.length === 0) return q.labelNames();
    const names = new Set<string>();
    const pacer = new Pacer();
    for (const m of sets) {
      for (const n of await q.labelNames(m)) names.add(n);
      await pacer.pace();
    }
    return [...names].sort();
  });
  router.get('/labels', labels);
  router.post('/labels', labels);

  router.get(
    '/label/:name/values',
    handle(async (p, req) => {
      const name = String(req.params.name);
      checkLabelName(name);
      const { sets, start, end } = seriesFor(p, false);
      const q = await opts.queryable.querier(start, end);
      if (sets.length === 0) return q.labelValues(name);
      const values = new Set<string>();
      const pacer = new Pacer();
      for (const m of sets) {
        for (const v of await q.labelValues(name, m)) values.add(v);
        await pacer.pace();
      }
      return [...values].sort();
    }),
  );

  router.get(
    '/metadata',
    handle(async (p) => {
      const metric = p.get('metric');
      const all = opts.metadata ? await opts.metadata(metric === '' ? undefined : metric) : {};
      const limit = Number(p.get('limit') ?? '-1');
      const out: Record<string, MetricMetadata[]> = {};
      let n = 0;
      for (const [name, md] of Object.entries(all)) {
        if (metric && name !== metric) continue;
        if (limit >= 0 && n >= limit) break;
        out[name] = md;
        n++;
      }
      return out;
    }),
  );

  router.get(
    '/status/buildinfo',
    handle(() => Promise.resolve(buildInfo)),
  );
  const exemplars = handle(async (p) => {
    await parseQuery(p, deadlineOf(p));
    return [];
  });
  router.get('/query_exemplars', exemplars);
  router.post('/query_exemplars', exemplars);
  router.get(
    '/rules',
    handle((p) => Promise.resolve(opts.rules ? opts.rules(ruleFilters(p)) : { groups: [] })),
  );
  router.get(
    '/alerts',
    handle(() => Promise.resolve(opts.alerts ? opts.alerts() : { alerts: [] })),
  );
  const format = handle(async (p) => exprToString(await parseQuery(p, deadlineOf(p))));
  router.get('/format_query', format);
  router.post('/format_query', format);

  router.use((_req: Request, res: Response) => {
    respondError(res, new PromQLError('not_found', 'not found'));
  });
  router.use(envelopeErrorHandler(log));
  return router;
}
