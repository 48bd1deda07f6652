/**
 * The fuzzer's request generators, one per endpoint family of the README's endpoint table, and the weighted
 * mix of all of them a session draws from. Each generator produces mostly plausible requests (so they get
 * past parameter parsing into the code behind it) and a share of hostile ones: odd ids and encodings, wrong
 * methods, content types and tokens, oversized bodies, malformed HTTP on a raw socket.
 */
import fc from 'fast-check';
import { CHANNELS } from '../../src/contract/hub-protocol.js';
import { SCENARIO_KINDS } from '../../src/simulator/index.js';
import type { BodySpec, Endpoint, FuzzRequest, HttpRequest, WsFrame } from './model.js';
import { timeArbitraries } from './params.js';
import { promqlArbitraries } from './promql.js';
import { remoteWriteArbitraries } from './remote-write.js';
import type { Vocabulary } from './vocabulary.js';

/** PROM_API is where the Prometheus HTTP API is mounted. */
export const PROM_API = '/api/prometheus/api/v1';

/** GeneratorContext is what the generators are built from. */
export interface GeneratorContext {
  readonly vocabulary: Vocabulary;
  /** nowMs anchors generated times (a seed plus nowMs reproduces a session). */
  readonly nowMs: number;
  /** token is the exporter's API token (null: started without one). */
  readonly token: string | null;
}

/** ENDPOINT_WEIGHTS is how often a session picks each endpoint family (query-heavy: that is where stalls hide). */
export const ENDPOINT_WEIGHTS: Readonly<Record<Endpoint, number>> = {
  query: 20,
  query_range: 20,
  series: 4,
  labels: 3,
  label_values: 3,
  prom_other: 3,
  remote_write: 10,
  unified_metrics: 2,
  servers: 3,
  scenarios_get: 3,
  scenarios_post: 3,
  scenarios_delete: 2,
  drills: 2,
  coverage: 2,
  probe: 2,
  sd: 1,
  metrics: 1,
  ws: 4,
  sse: 2,
  random: 5,
  raw: 4,
};

type Params = readonly (readonly [string, string])[];

const query = (params: Params): string => new URLSearchParams(params.map(([k, v]) => [k, v])).toString();

/** ODD_IDS are path segments that trip decoders, prototype lookups and path normalisation. */
const ODD_IDS: readonly string[] = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '..',
  '%2e%2e',
  '%2F',
  '%00',
  '%',
  '%ZZ',
  '%E0%A4%A',
  '%C0%AE',
  'web-01%20',
  'WEB-01',
  'web-01.',
  '😀',
  '%F0%9F%98%80',
  '-1',
  '0',
  'NaN',
  'inj-1',
  'inj-999999999999999999999',
  'sched-0-0',
  'sched-999999999999-0',
  'sched--5-0',
  'sched-1e30-0',
];

/** ACCEPT_HEADERS are exposition Accept values, from what Prometheus sends to nonsense. */
const ACCEPT_HEADERS: readonly string[] = [
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
  'application/openmetrics-text; version=1.0.0',
  'application/openmetrics-text;version=0.0.1',
  'application/openmetrics-text;version=2.0.0',
  'text/plain;version=0.0.4',
  'text/plain;version=1.0.0;escaping=allow-utf-8',
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
  'application/json',
  '*/*',
  '',
  ';;;,,,',
  'text/plain;q=abc',
  'application/openmetrics-text;q=0',
  `${'x'.repeat(8_000)}/y`,
];

const ACCEPT_ENCODINGS: readonly string[] = [
  'gzip',
  'gzip;q=0',
  'br',
  'identity',
  '*',
  'deflate, gzip;q=1.0, *;q=0.5',
  'x',
];

/** segment picks a path segment: a real id or an odd one (percent-encoded when not already). */
function segment(real: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real) },
    { weight: 3, arbitrary: fc.constantFrom(...ODD_IDS) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.integer({ min: 256, max: 20_000 }).map((n) => 'a'.repeat(n)) },
  );
}

/** promPath picks the spelling of a Prometheus API path (express matches case-insensitively, with a trailing slash). */
function promPath(rest: string): fc.Arbitrary<string> {
  return fc
    .constantFrom('', '', '', '', '/', 'upper')
    .map((v) => (v === 'upper' ? `${PROM_API}${rest}`.toUpperCase() : `${PROM_API}${rest}${v}`));
}

/** LONG_QUERY_STRING is a query string long enough to risk node's 16 KiB limit on a request's head. */
const LONG_QUERY_STRING = 8_000;

/** formOrQuery sends parameters as a GET query string or a form-encoded POST body (or both halves). */
function formOrQuery(
  endpoint: Endpoint,
  pathArb: fc.Arbitrary<string>,
  params: fc.Arbitrary<Params>,
): fc.Arbitrary<HttpRequest> {
  return fc
    .tuple(
      pathArb,
      params,
      fc.constantFrom('get', 'get', 'post', 'post', 'split', 'json'),
      fc.nat({ max: 9 }),
    )
    .map(([path, ps, chosen, dice]): HttpRequest => {
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      // node refuses request heads over 16 KiB (431) before the exporter sees them: send most long ones as forms.
      const how = chosen === 'get' && query(ps).length > LONG_QUERY_STRING && dice > 0 ? 'post' : chosen;
      switch (how) {
        case 'get':
          return { kind: 'http', endpoint, method: 'GET', path: `${path}?${query(ps)}`, headers: {} };
        case 'post':
          return { kind: 'http', endpoint, method: 'POST', path, headers: form, body: { text: query(ps) } };
        case 'split': {
          const half = Math.floor(ps.length / 2);
          return {
            kind: 'http',
            endpoint,
            method: 'POST',
            path: `${path}?${query(ps.slice(0, half))}`,
            headers: form,
            body: { text: query(ps.slice(half)) },
          };
        }
        default:
          // Prometheus takes forms only; a JSON body must still get the Prometheus envelope back.
          return {
            kind: 'http',
            endpoint,
            method: 'POST',
            path,
            headers: { 'Content-Type': 'application/json' },
            body: { text: JSON.stringify(Object.fromEntries(ps)) },
          };
      }
    });
}

/** optionalParam is `[[name, value]]` or `[]`. */
const optionalParam = (name: string, value: fc.Arbitrary<string>, freq = 2): fc.Arbitrary<Params> =>
  fc.option(value, { freq }).map((v) => (v === null ? [] : [[name, v] as const]));

/** requestArbitraries builds one generator per endpoint family and their weighted mix (`any`). */
export function requestArbitraries(ctx: GeneratorContext): {
  readonly byEndpoint: Readonly<Record<Endpoint, fc.Arbitrary<FuzzRequest>>>;
  readonly any: fc.Arbitrary<FuzzRequest>;
} {
  const v = ctx.vocabulary;
  const promql = promqlArbitraries(v);
  const times = timeArbitraries(ctx.nowMs / 1000);
  const rw = remoteWriteArbitraries(v, ctx.nowMs);
  const junk = fc.array(
    fc.tuple(fc.constantFrom('foo', 'query', 'match[]', 'time', 'x'), fc.string({ maxLength: 10 })),
    { maxLength: 2 },
  );
  const matchParams = fc
    .oneof(
      { weight: 6, arbitrary: fc.array(promql.selector, { maxLength: 4 }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(promql.selector, fc.integer({ min: 50, max: 500 }))
          .map(([s, n]) => Array<string>(n).fill(s)),
      },
    )
    .map((ms): Params => ms.map((m) => ['match[]', m] as const));

  const queryReq = formOrQuery(
    'query',
    promPath('/query'),
    fc
      .tuple(
        fc.option(promql.query, { freq: 20 }),
        optionalParam('time', times.time),
        optionalParam('timeout', times.duration, 4),
        junk,
      )
      .map(([q, t, to, j]): Params => [...(q === null ? [] : [['query', q] as const]), ...t, ...to, ...j]),
  );
  const rangeReq = formOrQuery(
    'query_range',
    promPath('/query_range'),
    fc
      .tuple(
        fc.oneof({ weight: 6, arbitrary: promql.instant }, { weight: 1, arbitrary: promql.query }),
        times.range,
        optionalParam('timeout', times.duration, 4),
        fc.constantFrom('all', 'all', 'all', 'all', 'no-start', 'no-step'),
      )
      .map(([q, [start, end, step], to, drop]): Params => [
        ['query', q],
        ...(drop === 'no-start' ? [] : [['start', start] as const]),
        ['end', end],
        ...(drop === 'no-step' ? [] : [['step', step] as const]),
        ...to,
      ]),
  );
  const window = fc
    .tuple(optionalParam('start', times.time), optionalParam('end', times.time))
    .map(([s, e]): Params => [...s, ...e]);
  const seriesReq = formOrQuery(
    'series',
    promPath('/series'),
    fc.tuple(matchParams, window).map(([m, w]) => [...m, ...w]),
  );
  const labelsReq = formOrQuery(
    'labels',
    promPath('/labels'),
    fc.tuple(matchParams, window).map(([m, w]) => [...m, ...w]),
  );
  const labelValuesReq = fc
    .tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...v.labelNames, '__name__') },
        {
          weight: 1,
          arbitrary: fc.constantFrom('', 'a-b', '%2F', '%ZZ', '1abc', 'nonexistent', 'x'.repeat(5_000)),
        },
      ),
      matchParams,
      window,
    )
    .map(([name, m, w]): HttpRequest => ({
      kind: 'http',
      endpoint: 'label_values',
      method: 'GET',
      path: `${PROM_API}/label/${name}/values?${query([...m, ...w])}`,
      headers: {},
    }));
  const promOther = fc.oneof(
    fc
      .tuple(
        optionalParam('metric', fc.constantFrom(...v.metrics, '', 'nope')),
        optionalParam('limit', fc.constantFrom('-1', '0', '1', '1e309', 'NaN', '99999999999', 'x')),
      )
      .map(([m, l]): HttpRequest => ({
        kind: 'http',
        endpoint: 'prom_other',
        method: 'GET',
        path: `${PROM_API}/metadata?${query([...m, ...l])}`,
        headers: {},
      })),
    formOrQuery(
      'prom_other',
      fc.constantFrom(`${PROM_API}/format_query`, `${PROM_API}/query_exemplars`),
      fc.tuple(promql.query, window).map(([q, w]): Params => [['query', q], ...w]),
    ),
    fc
      .tuple(
        fc.constantFrom(
          '/status/buildinfo',
          '/rules',
          '/alerts',
          '/status/config',
          '/status/flags',
          '/targets',
          '/admin/tsdb/delete_series',
          '/admin/tsdb/snapshot',
          '/query/x',
          '',
          '/',
          '/write',
          '/read',
        ),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
      )
      .map(([p, method]): HttpRequest => ({
        kind: 'http',
        endpoint: 'prom_other',
        method,
        path: PROM_API + p,
        headers: {},
      })),
  );
  const remoteWrite = fc
    .tuple(
      rw.body,
      rw.headers,
      fc.constantFrom('POST', 'POST', 'POST', 'POST', 'POST', 'PUT', 'GET'),
      promPath('/write'),
    )
    .map(([body, headers, method, path]): HttpRequest => ({
      kind: 'http',
      endpoint: 'remote_write',
      method,
      path,
      headers,
      body,
    }));
  const methodMostlyGet = fc.constantFrom(
    'GET',
    'GET',
    'GET',
    'GET',
    'HEAD',
    'POST',
    'PUT',
    'DELETE',
    'OPTIONS',
  );
  const unifiedMetrics = fc.tuple(methodMostlyGet, junk).map(([method, j]): HttpRequest => ({
    kind: 'http',
    endpoint: 'unified_metrics',
    method,
    path: `/api/unified-metrics${j.length ? `?${query(j)}` : ''}`,
    headers: {},
  }));
  const servers = fc
    .tuple(methodMostlyGet, fc.option(segment(v.servers), { freq: 4 }), fc.constantFrom('', '', '/', '/x'))
    .map(([method, id, tail]): HttpRequest => ({
      kind: 'http',
      endpoint: 'servers',
      method,
      path: id === null ? '/api/servers' : `/api/servers/${id}${tail}`,
      headers: {},
    }));
  const scenariosGet = fc
    .tuple(fc.array(times.time, { maxLength: 2 }), fc.boolean())
    .map(([since, bracket]): HttpRequest => ({
      kind: 'http',
      endpoint: 'scenarios_get',
      method: 'GET',
      path: `/api/scenarios${since.length ? `?${query(since.map((s) => [bracket ? 'since[]' : 'since', s] as const))}` : ''}`,
      headers: {},
    }));
  const valid: Record<string, string> = ctx.token === null ? {} : { Authorization: `Bearer ${ctx.token}` };
  const auth = fc.oneof(
    { weight: 6, arbitrary: fc.constant(valid) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<Record<string, string>>(
        {},
        { Authorization: 'Bearer wrong' },
        { Authorization: 'Bearer ' },
        { Authorization: 'Basic dXNlcjpwYXNz' },
        { Authorization: `bearer ${ctx.token ?? ''}  ` },
        { Authorization: `Bearer ${'x'.repeat(10_000)}` },
      ),
    },
  );
  const specValue = fc.oneof(
    fc.constantFrom(1, 0, -1, 0.5, 1e308, -1e308, 7 * 86_400, 7 * 86_400 + 1, 1e-300),
    fc.constantFrom<unknown>('60', null, true, [], {}, 'NaN'),
  );
  const spec = fc.record(
    {
      kind: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...SCENARIO_KINDS) },
        { weight: 1, arbitrary: fc.constantFrom('nope', '', '__proto__') },
      ),
      server: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...v.servers) },
        { weight: 1, arbitrary: fc.constantFrom(...ODD_IDS) },
      ),
      durationSeconds: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 600 }) },
        { weight: 1, arbitrary: specValue },
      ),
      intensity: fc.oneof(
        { weight: 3, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
        { weight: 1, arbitrary: specValue },
      ),
      extra: specValue,
    },
    { requiredKeys: ['kind', 'server'] },
  );
  const scenarioBody: fc.Arbitrary<BodySpec> = fc.oneof(
    { weight: 8, arbitrary: spec.map((s) => ({ text: JSON.stringify(s) })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '',
          '{',
          'null',
          '[]',
          '"x"',
          '{"__proto__":{"kind":"cpu_spike"},"server":"web-01"}',
          '{"kind":"cpu_spike","server":"web-01","kind":"server_down"}',
        )
        .map((text) => ({ text })),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 1_000, max: 200_000 })
        .map((n) => ({ text: '['.repeat(n) + ']'.repeat(n) })),
    },
    { weight: 1, arbitrary: fc.constant({ fill: { byte: 0x20, length: 1_100_000 } }) },
  );
  const scenariosPost = fc
    .tuple(
      scenarioBody,
      auth,
      fc.constantFrom(
        'application/json',
        'application/json',
        'application/json',
        'text/plain',
        'application/json; charset=latin1',
        'application/x-www-form-urlencoded',
      ),
    )
    .map(([body, a, type]): HttpRequest => ({
      kind: 'http',
      endpoint: 'scenarios_post',
      method: 'POST',
      path: '/api/scenarios',
      headers: { 'Content-Type': type, ...a },
      body,
    }));
  const scenariosDelete = fc
    .tuple(
      fc.oneof(
        fc.integer({ min: 1, max: 50 }).map((n) => `inj-${n}`),
        fc.constantFrom(...ODD_IDS),
        fc.string({ maxLength: 20 }).map(encodeURIComponent),
      ),
      auth,
    )
    .map(([id, a]): HttpRequest => ({
      kind: 'http',
      endpoint: 'scenarios_delete',
      method: 'DELETE',
      path: `/api/scenarios/${id}`,
      headers: a,
    }));
  // Drills: the shipped names or odd ones, speeds in and out of range, either clock; runs by plausible or odd ids.
  const drillId = fc.oneof(
    fc.integer({ min: 1, max: 5 }).map((n) => `drill-${n}-${ctx.nowMs}`),
    fc.constantFrom(...ODD_IDS),
  );
  const drillBody = fc
    .record(
      {
        name: fc.oneof(
          fc.constantFrom('database-memory-leak', 'cascading-lb-failure', 'disk-fills-overnight'),
          fc.constantFrom(...ODD_IDS),
          specValue,
        ),
        speed: fc.oneof(fc.double({ min: -10, max: 2_000, noNaN: true }), specValue),
        clock: fc.oneof(fc.constantFrom('live', 'separate'), specValue),
        extra: specValue,
      },
      { requiredKeys: ['name'] },
    )
    .map((b): BodySpec => ({ text: JSON.stringify(b) }));
  const drills = fc.oneof(
    fc.constant<HttpRequest>({
      kind: 'http',
      endpoint: 'drills',
      method: 'GET',
      path: '/api/drills',
      headers: {},
    }),
    drillId.map((id): HttpRequest => ({
      kind: 'http',
      endpoint: 'drills',
      method: 'GET',
      path: `/api/drills/${id}`,
      headers: {},
    })),
    fc.tuple(drillBody, auth).map(([body, a]): HttpRequest => ({
      kind: 'http',
      endpoint: 'drills',
      method: 'POST',
      path: '/api/drills',
      headers: { 'Content-Type': 'application/json', ...a },
      body,
    })),
    fc.tuple(drillId, auth).map(([id, a]): HttpRequest => ({
      kind: 'http',
      endpoint: 'drills',
      method: 'DELETE',
      path: `/api/drills/${id}`,
      headers: a,
    })),
  );
  // Coverage: a valid job is kept tiny (one server, one kind, once), since one runs at a time and takes a
  // core while it does; the rest are hostile bodies and rule files.
  const coverageBody = fc
    .record(
      {
        rules: fc.oneof(
          fc.array(
            fc.record({
              name: fc.oneof(fc.constant('x.yml'), fc.constantFrom(...ODD_IDS), fc.string({ maxLength: 20 })),
              yaml: fc.oneof(
                fc.constant('groups: []\n'),
                fc.constant('groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n'),
                fc.string({ maxLength: 200 }),
              ),
            }),
            { maxLength: 3 },
          ),
          specValue,
        ),
        servers: fc.oneof(fc.constant(1), fc.integer({ min: -5, max: 100_000 }), specValue),
        kinds: fc.oneof(
          fc.constant(['server_down']),
          fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
        ),
        intensities: fc.oneof(fc.constant([1]), fc.array(fc.double({ noNaN: true }), { maxLength: 3 })),
        repetitions: fc.oneof(fc.constant(1), fc.integer({ min: -1, max: 10_000 })),
        extra: specValue,
      },
      { requiredKeys: ['servers', 'kinds', 'intensities', 'repetitions'] },
    )
    .map((b): BodySpec => ({ text: JSON.stringify(b) }));
  const coverageId = fc.oneof(
    fc.integer({ min: 1, max: 5 }).map((n) => `cov-${n}`),
    fc.constantFrom(...ODD_IDS),
  );
  const coverage = fc.oneof(
    fc.constant<HttpRequest>({
      kind: 'http',
      endpoint: 'coverage',
      method: 'GET',
      path: '/api/coverage',
      headers: {},
    }),
    fc.tuple(coverageId, fc.boolean()).map(([id, html]): HttpRequest => ({
      kind: 'http',
      endpoint: 'coverage',
      method: 'GET',
      path: `/api/coverage/${id}${html ? '/report.html' : ''}`,
      headers: {},
    })),
    fc.tuple(coverageBody, auth).map(([body, a]): HttpRequest => ({
      kind: 'http',
      endpoint: 'coverage',
      method: 'POST',
      path: '/api/coverage',
      headers: { 'Content-Type': 'application/json', ...a },
      body,
    })),
  );
  const expositionHeaders = fc.record(
    { Accept: fc.constantFrom(...ACCEPT_HEADERS), 'Accept-Encoding': fc.constantFrom(...ACCEPT_ENCODINGS) },
    { requiredKeys: [] },
  );
  const probe = fc
    .tuple(fc.option(segment(v.servers), { freq: 6 }), expositionHeaders, fc.boolean())
    .map(([target, headers, twice]): HttpRequest => ({
      kind: 'http',
      endpoint: 'probe',
      method: 'GET',
      path: target === null ? '/probe' : `/probe?target=${target}${twice ? `&target=${target}` : ''}`,
      headers,
    }));
  const sd = fc
    .option(fc.constantFrom('', 'evil.example:80', 'x'.repeat(1_000), '[::1]:3001', 'a b'), { freq: 2 })
    .map((host): HttpRequest => ({
      kind: 'http',
      endpoint: 'sd',
      method: 'GET',
      path: '/api/sd',
      headers: host === null ? {} : { Host: host },
    }));
  const metrics = fc
    .tuple(fc.constantFrom('/metrics', '/api/prometheus/metrics'), expositionHeaders)
    .map(([path, headers]): HttpRequest => ({
      kind: 'http',
      endpoint: 'metrics',
      method: 'GET',
      path,
      headers,
    }));

  const channel = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...CHANNELS) },
    { weight: 1, arbitrary: fc.constantFrom('weather', '', 'SERVER-METRICS', '__proto__') },
  );
  const serverFilter = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.array(fc.constantFrom(...v.servers), { maxLength: 5 }),
    fc.array(fc.string({ maxLength: 300 }), { maxLength: 3 }),
    fc.integer({ min: 10_000, max: 10_050 }).map((n) => Array.from({ length: n }, (_, i) => `s${i}`)),
  );
  const messageId = fc.oneof(
    fc.integer(),
    fc.string({ maxLength: 300 }),
    fc.constant(undefined),
    fc.constant(null),
  );
  const clientMessage = fc.oneof(
    fc
      .tuple(fc.constantFrom('subscribe', 'unsubscribe'), fc.array(channel, { maxLength: 5 }), serverFilter)
      .map(([type, channels, servers]) => JSON.stringify({ type, channels, servers })),
    messageId.map((id) => JSON.stringify({ type: 'ping', id })),
    fc.constantFrom(
      '',
      '{',
      'null',
      '[]',
      '42',
      '"subscribe"',
      '{"type":7}',
      '{"type":"hello"}',
      '{"type":"subscribe"}',
    ),
    fc.string({ maxLength: 100 }),
    fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
  );
  const frame: fc.Arbitrary<WsFrame> = fc.oneof(
    { weight: 10, arbitrary: clientMessage.map((text) => ({ text })) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 100 })
        .map((b) => ({ binary: Buffer.from(b).toString('base64') })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(300 * 1024, 1024 * 1024 + 1), fc.boolean())
        .map(([length, binary]) => ({ fill: { byte: 0x61, length, binary } })),
    },
  );
  const burst = fc
    .tuple(fc.integer({ min: 20, max: 150 }), fc.array(channel, { minLength: 1, maxLength: 4 }))
    .map(([n, channels]): WsFrame[] =>
      Array.from({ length: n }, (_, i) => ({
        text: JSON.stringify({ type: i % 2 === 0 ? 'subscribe' : 'unsubscribe', channels }),
      })),
    );
  const ws = fc
    .tuple(
      fc.constantFrom('/ws', '/ws', '/ws', '/ws?token=x', '/ws/', '/WS', '/ws?%ZZ', '/wss', '/ws?a=1&a=2'),
      fc.record(
        { Origin: fc.constantFrom('http://evil.example', 'null', 'http://127.0.0.1:3000') },
        { requiredKeys: [] },
      ),
      fc.oneof({ weight: 4, arbitrary: fc.array(frame, { maxLength: 12 }) }, { weight: 1, arbitrary: burst }),
    )
    .map(([path, headers, frames]): FuzzRequest => ({ kind: 'ws', endpoint: 'ws', path, headers, frames }));
  const list = (items: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.array(items, { maxLength: 5 }).map((xs) => xs.join(','));
  const sse = fc
    .tuple(
      fc.option(list(channel), { freq: 3 }),
      fc.option(
        fc.oneof(
          list(fc.constantFrom(...v.servers)),
          fc.string({ maxLength: 300 }),
          fc
            .integer({ min: 10_001, max: 10_010 })
            .map((n) => Array.from({ length: n }, (_, i) => `s${i}`).join(',')),
        ),
        { freq: 3 },
      ),
      fc.boolean(),
      fc.record(
        {
          Origin: fc.constantFrom('http://evil.example', 'null'),
          'Last-Event-ID': fc.constantFrom('1', 'x'),
        },
        { requiredKeys: [] },
      ),
    )
    .map(([channels, serverIds, repeat, headers]): FuzzRequest => {
      const ps: [string, string][] = [];
      if (channels !== null) ps.push(['channels', channels]);
      if (serverIds !== null) ps.push(['servers', serverIds]);
      if (repeat && channels !== null) ps.push(['channels', channels]);
      return {
        kind: 'sse',
        endpoint: 'sse',
        path: `/api/stream${ps.length ? `?${query(ps)}` : ''}`,
        headers,
      };
    });

  const knownPaths = [
    '/',
    '/healthz',
    '/readyz',
    '/metrics',
    '/api',
    '/api/',
    '/api/prometheus',
    '/api/prometheus/api',
    PROM_API,
    `${PROM_API}/query`,
    '/api/servers',
    '/api/scenarios',
    '/api/drills',
    '/api/coverage',
    '/api/stream',
    '/ws',
    '/probe',
    '/api/sd',
    '/api/unified-metrics',
  ];
  const randomPath = fc.oneof(
    fc.constantFrom(...knownPaths),
    fc
      .tuple(fc.constantFrom(...knownPaths), fc.string({ maxLength: 20 }))
      .map(([p, s]) => p + encodeURIComponent(s)),
    fc.constantFrom(
      '//',
      '/./metrics',
      '/../metrics',
      '/%2e%2e/metrics',
      '/metrics%00',
      '/%ZZ',
      '/api/servers/%',
      '/?a=%ZZ',
      '/*',
      '/;x',
    ),
    fc
      .array(fc.string({ maxLength: 8 }).map(encodeURIComponent), { maxLength: 6 })
      .map((ss) => `/${ss.join('/')}`),
  );
  const headerName = fc.constantFrom(
    'X-Forwarded-For',
    'Content-Type',
    'Accept',
    'Origin',
    'Authorization',
    'If-None-Match',
    'Range',
    'Expect',
    'X-HTTP-Method-Override',
    'Accept-Encoding',
    'Cookie',
  );
  const headerValue = fc.oneof(
    fc.constantFrom(
      'application/json',
      'text/html',
      '*/*',
      'bytes=0-10',
      'bytes=-1',
      '100-continue',
      'DELETE',
      'gzip',
      '',
    ),
    fc.string({ unit: fc.constantFrom(...'abcdef;=,/ -*'.split('')), maxLength: 40 }),
  );
  const random = fc
    .tuple(
      fc.constantFrom(
        'GET',
        'POST',
        'PUT',
        'DELETE',
        'PATCH',
        'OPTIONS',
        'HEAD',
        'TRACE',
        'PROPFIND',
        'FOO',
        'M-SEARCH',
      ),
      randomPath,
      fc.dictionary(headerName, headerValue, { maxKeys: 3 }),
      fc.option(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.jsonValue().map((j) => JSON.stringify(j)),
        ),
        { freq: 3 },
      ),
    )
    .map(([method, path, headers, body]): HttpRequest => ({
      kind: 'http',
      endpoint: 'random',
      method,
      path,
      headers,
      ...(body === null || method === 'GET' || method === 'HEAD' ? {} : { body: { text: body } }),
    }));
  const rawLine = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'G\u0000T', 'GET GET', ''),
        randomPath,
        fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', ''),
      )
      .map(([m, p, ver]) => `${m} ${p} ${ver}`),
    fc.string({ unit: 'binary-ascii', maxLength: 60 }),
  );
  const rawHeaders = fc.array(
    fc.oneof(
      fc.tuple(headerName, headerValue).map(([k, val]) => `${k}: ${val}`),
      fc.constantFrom(
        'Content-Length: -1',
        'Content-Length: 99999999999999999999',
        'Content-Length: 5',
        'Content-Length: 1, 2',
        'Transfer-Encoding: chunked',
        'Transfer-Encoding: gzip, chunked',
        'Transfer-Encoding: chunked\r\nContent-Length: 3',
        'Host:',
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13',
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'X: \u0001\u007f',
        ' folded: header',
        'NoColon',
        `X-Big: ${'a'.repeat(20_000)}`,
      ),
    ),
    { maxLength: 6 },
  );
  const raw = fc
    .tuple(
      rawLine,
      rawHeaders,
      fc.option(fc.constantFrom('0\r\n\r\n', 'zz\r\nhello\r\n0\r\n\r\n', '5\r\nab', 'hello', '{"a":1}'), {
        freq: 2,
      }),
    )
    .map(([line, hs, body]): FuzzRequest => ({
      kind: 'raw',
      endpoint: 'raw',
      latin1: `${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${hs.map((h) => `${h}\r\n`).join('')}\r\n${body ?? ''}`,
    }));

  const byEndpoint: Record<Endpoint, fc.Arbitrary<FuzzRequest>> = {
    query: queryReq,
    query_range: rangeReq,
    series: seriesReq,
    labels: labelsReq,
    label_values: labelValuesReq,
    prom_other: promOther,
    remote_write: remoteWrite,
    unified_metrics: unifiedMetrics,
    servers,
    scenarios_get: scenariosGet,
    scenarios_post: scenariosPost,
    scenarios_delete: scenariosDelete,
    drills,
    coverage,
    probe,
    sd,
    metrics,
    ws,
    sse,
    random,
    raw,
  };
  const any = fc.oneof(
    ...(Object.keys(byEndpoint) as Endpoint[]).map((e) => ({
      weight: ENDPOINT_WEIGHTS[e],
      arbitrary: byEndpoint[e],
    })),
  );
  return { byEndpoint, any };
}

/**
 * generateRequests returns requests `from` … `from + count - 1` of the sequence a seed defines. The sequence
 * is cut into blocks of REQUESTS_PER_BLOCK, each sampled with its own derived seed, so any request can be
 * regenerated without the ones before it and a long session never holds all of them.
 */
export function generateRequests(
  arbitrary: fc.Arbitrary<FuzzRequest>,
  seed: number,
  from: number,
  count: number,
): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  let i = from;
  while (i < from + count) {
    const block = Math.floor(i / REQUESTS_PER_BLOCK);
    const offset = i - block * REQUESTS_PER_BLOCK;
    const take = Math.min(REQUESTS_PER_BLOCK - offset, from + count - i);
    const sample = fc.sample(arbitrary, { seed: blockSeed(seed, block), numRuns: offset + take });
    out.push(...sample.slice(offset));
    i += take;
  }
  return out;
}

/** REQUESTS_PER_BLOCK is how many requests one fast-check sample call yields (see generateRequests). */
export const REQUESTS_PER_BLOCK = 500;

/** blockSeed derives a 32-bit seed for one block of a session (a multiplicative hash, any fixed mix will do). */
function blockSeed(seed: number, block: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(block + 1, 0xc2b2ae35)) | 0;
}
